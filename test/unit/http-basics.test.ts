import assert from 'node:assert/strict';
import { test } from 'node:test';
import { parseRangeHeader } from '../../src/api/http-range.js';
import { VigilError } from '../../src/errors/catalogue.js';
import { parseRangeParams, parseTimeParam } from '../../src/time/parse.js';

test('HTTP Range: first-last, open-ended, suffix, and unsatisfiable', () => {
  assert.deepEqual(parseRangeHeader('bytes=0-99', 1000), { start: 0, end: 99 });
  assert.deepEqual(parseRangeHeader('bytes=900-', 1000), { start: 900, end: 999 });
  assert.deepEqual(parseRangeHeader('bytes=-100', 1000), { start: 900, end: 999 });
  assert.deepEqual(parseRangeHeader('bytes=990-5000', 1000), { start: 990, end: 999 });
  assert.equal(parseRangeHeader(undefined, 1000), null);
  assert.equal(parseRangeHeader('bytes=0-1,5-6', 1000), null);
  assert.throws(
    () => parseRangeHeader('bytes=1000-', 1000),
    (e: VigilError) => e.code === 'RANGE_NOT_SATISFIABLE',
  );
});

test('times are ISO-8601 or epoch ms, anything else names the parameter', () => {
  assert.equal(parseTimeParam('from', '1700000000000'), 1_700_000_000_000);
  assert.equal(parseTimeParam('from', '2026-11-26T10:00:00Z'), Date.UTC(2026, 10, 26, 10));
  assert.equal(parseTimeParam('from', '2026-11-26T10:00:00.500+01:00'), Date.UTC(2026, 10, 26, 9, 0, 0, 500));
  assert.throws(
    () => parseTimeParam('to', 'yesterday'),
    (e: VigilError) => e.code === 'TIME_INVALID' && e.message.includes("'to'"),
  );
});

test('ranges must be ordered and bounded', () => {
  const opts = { defaultSpanMs: 1000, maxSpanMs: 3_600_000 };
  assert.deepEqual(parseRangeParams({}, 10_000, opts), { fromMs: 9000, toMs: 10_000 });
  assert.throws(
    () => parseRangeParams({ from: '5', to: '5' }, 0, opts),
    (e: VigilError) => e.code === 'RANGE_INVALID',
  );
  assert.throws(
    () => parseRangeParams({ from: '0', to: String(7_200_000) }, 0, opts),
    (e: VigilError) => e.code === 'RANGE_INVALID',
  );
});
