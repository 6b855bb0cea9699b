import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { SpaceReserve } from '../../../src/storage/space-reserve.js';

test('the space reserve is made with its blocks written, given back, and made again', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'vigil-reserve-'));
  try {
    const reserve = new SpaceReserve(dir, 256 * 1024);
    assert.equal(await reserve.present(), false);
    await reserve.ensure();
    const made = statSync(reserve.path);
    assert.equal(made.size, 256 * 1024);
    // Written, not sparse: the blocks are allocated (512-byte units).
    assert.ok(made.blocks * 512 >= 256 * 1024);
    assert.equal(made.mode & 0o777, 0o600);
    assert.equal(await reserve.release(), true);
    assert.equal(await reserve.present(), false);
    assert.equal(await reserve.release(), false, 'nothing to give twice');
    // A cut-short reserve (a crash while making it) is made whole again.
    writeFileSync(reserve.path, Buffer.alloc(1000));
    assert.equal(await reserve.present(), false);
    await reserve.ensure();
    assert.equal(statSync(reserve.path).size, 256 * 1024);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
