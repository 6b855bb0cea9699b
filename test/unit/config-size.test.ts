import { test } from 'node:test';
import assert from 'node:assert/strict';
import { formatBytes, parseSize } from '../../src/config/index.js';

test('parseSize: decimal units are powers of 1000, binary units of 1024', () => {
  assert.equal(parseSize('500GB'), 500e9);
  assert.equal(parseSize('1GiB'), 2 ** 30);
  assert.equal(parseSize('5 MB'), 5e6);
  assert.equal(parseSize('2KiB'), 2048);
  assert.equal(parseSize('3TB'), 3e12);
  assert.equal(parseSize('1TiB'), 2 ** 40);
  assert.equal(parseSize('1.5GB'), 1.5e9);
  assert.equal(parseSize('42B'), 42);
  assert.equal(parseSize('42'), 42);
  assert.equal(parseSize(1234), 1234);
});

test('parseSize: units are case-insensitive and the B is optional', () => {
  assert.equal(parseSize('5gb'), 5e9);
  assert.equal(parseSize('5G'), 5e9);
  assert.equal(parseSize('5gi'), 5 * 2 ** 30);
});

test('parseSize rejects what is not a size', () => {
  for (const text of ['5 gigs', 'GB', '-1GB', '1e9', '5 PB', '', '1,5GB'])
    assert.equal(parseSize(text), null, text);
  assert.equal(parseSize(-1), null);
  assert.equal(parseSize(1.5), null);
  assert.equal(parseSize('99999999TB'), null);
});

test('formatBytes picks the exact unit with the smallest number', () => {
  assert.equal(formatBytes(5e9), '5 GB');
  assert.equal(formatBytes(2 ** 30), '1 GiB');
  assert.equal(formatBytes(1e12), '1 TB');
  assert.equal(formatBytes(1234567), '1.23 MB');
  assert.equal(formatBytes(512), '512 B');
});
