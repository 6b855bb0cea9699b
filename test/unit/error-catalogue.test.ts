import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import { errorCatalogue } from '../../src/errors/catalogue.js';
import { REPO_ROOT } from '../helpers/vigil.js';

test('docs/ref/errors.md lists every error code with its status, and nothing else', () => {
  const page = readFileSync(`${REPO_ROOT}/docs/ref/errors.md`, 'utf8');
  const documented = new Map(
    [...page.matchAll(/^\| `([A-Z_]+)` \| (\d{3}) \|/gm)].map((m) => [m[1]!, Number(m[2])] as const),
  );
  const catalogued = new Map(
    Object.entries(errorCatalogue).map(([code, e]) => [code, e.httpStatus] as const),
  );
  assert.deepEqual(
    [...documented.entries()].sort(),
    [...catalogued.entries()].sort(),
    'update docs/ref/errors.md to match src/errors/catalogue.ts',
  );
});
