import assert from 'node:assert/strict';
import { test } from 'node:test';
import sharp from 'sharp';
import { maskStill } from '../../src/privacy/mask-overlay.js';

test('a masked still is black inside the polygon and unchanged outside it', async () => {
  const white = await sharp({ create: { width: 200, height: 100, channels: 3, background: '#fff' } })
    .jpeg()
    .toBuffer();
  const masked = await maskStill(white, [
    [
      [0, 0],
      [0.5, 0],
      [0.5, 1],
      [0, 1],
    ],
  ]);
  const { data, info } = await sharp(masked).raw().toBuffer({ resolveWithObject: true });
  const at = (x: number, y: number): number => data[(y * info.width + x) * info.channels] ?? -1;
  assert.equal(info.width, 200);
  assert.ok(at(20, 50) < 16, `inside the mask is black (got ${at(20, 50)})`);
  assert.ok(at(97, 50) < 16, `the mask reaches its edge (got ${at(97, 50)})`);
  assert.ok(at(150, 50) > 240, `outside the mask is untouched (got ${at(150, 50)})`);
});

test('a still without masks comes back as it was', async () => {
  const image = await sharp({ create: { width: 8, height: 8, channels: 3, background: '#888' } })
    .jpeg()
    .toBuffer();
  assert.equal(await maskStill(image, []), image);
});
