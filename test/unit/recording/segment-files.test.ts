import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { afterBytes, nodeSegmentFiles } from '../../../src/recording/segment-files.js';

test('afterBytes: what a short write leaves, cut inside a chunk or at its edge', () => {
  const chunks = [Buffer.from('abc'), Buffer.from('de'), Buffer.from('fghi')];
  const text = (rest: Buffer[]) => Buffer.concat(rest).toString();
  assert.equal(text(afterBytes(chunks, 0)), 'abcdefghi');
  assert.equal(text(afterBytes(chunks, 2)), 'cdefghi');
  assert.equal(text(afterBytes(chunks, 3)), 'defghi');
  assert.equal(afterBytes(chunks, 3)[0], chunks[1], 'a whole chunk is passed on, not copied');
  assert.equal(text(afterBytes(chunks, 6)), 'ghi');
  assert.deepEqual(afterBytes(chunks, 9), []);
});

test('nodeSegmentFiles.write puts the chunks one after the other at the position', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'vigil-segment-files-'));
  try {
    const path = join(dir, 'a', 'segment.mp4');
    const fd = await nodeSegmentFiles.create(path);
    await nodeSegmentFiles.write(fd, [Buffer.from('init')], 0);
    await nodeSegmentFiles.write(fd, [Buffer.from('-one'), Buffer.alloc(0), Buffer.from('-two')], 4);
    await nodeSegmentFiles.close(fd);
    assert.equal(readFileSync(path, 'utf8'), 'init-one-two');
    await assert.rejects(nodeSegmentFiles.create(path), /EEXIST/, 'an existing file is never overwritten');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
