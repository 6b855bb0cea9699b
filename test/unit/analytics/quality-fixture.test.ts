import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';

/**
 * Shape of the hand-annotated vtest fixture that bench/analytics/quality.ts measures the detector
 * and the tracker against. Pure: reads the JSON only (no footage, no model).
 */
const fixturePath = fileURLToPath(new URL('../../fixtures/vtest-annotations.json', import.meta.url));
const sumsPath = fileURLToPath(new URL('../../../../shared/footage/SHA256SUMS', import.meta.url));

const WIDTH = 1280;
const HEIGHT = 960;
/** vtest-main.mp4: 795 frames at 10 fps (79.5 s). */
const FRAME_COUNT = 795;
const FRAME_MS = 100;
const LABELS = new Set(['person', 'bicycle', 'car', 'motorcycle', 'bus', 'truck']);

interface FixtureObject {
  label: string;
  box: number[];
  difficult: boolean;
  id?: string;
}

interface FixtureFrame {
  timeMs: number;
  frameIndex: number;
  objects: FixtureObject[];
}

interface Fixture {
  description: string;
  source: string;
  sha256: string;
  width: number;
  height: number;
  frames: FixtureFrame[];
}

function loadFixture(): Fixture {
  return JSON.parse(readFileSync(fixturePath, 'utf8')) as Fixture;
}

test('the fixture names its footage, checksum and frame size, and documents itself', () => {
  const fixture = loadFixture();
  assert.equal(typeof fixture.description, 'string');
  assert.ok(fixture.description.length > 200, 'description documents the format and the rules');
  assert.equal(fixture.source, 'vtest-main.mp4');
  assert.match(fixture.sha256, /^[0-9a-f]{64}$/);
  assert.equal(fixture.width, WIDTH);
  assert.equal(fixture.height, HEIGHT);
  assert.ok(Array.isArray(fixture.frames));
});

test('the checksum matches the shared footage list, when the footage is there', (t) => {
  if (!existsSync(sumsPath)) {
    t.skip('no ../shared/footage/SHA256SUMS on this machine');
    return;
  }
  const fixture = loadFixture();
  const line = readFileSync(sumsPath, 'utf8')
    .split('\n')
    .find((l) => l.trim().endsWith(` ${fixture.source}`));
  assert.ok(line, `${fixture.source} is listed in SHA256SUMS`);
  assert.equal(line.trim().split(/\s+/)[0], fixture.sha256);
});

test('at least 20 frames, spread over the clip, times matching frame numbers at 10 fps', () => {
  const { frames } = loadFixture();
  assert.ok(frames.length >= 20, `${frames.length} frames annotated`);
  let previous = -1;
  for (const frame of frames) {
    assert.ok(Number.isInteger(frame.frameIndex), `frame index ${frame.frameIndex} is an integer`);
    assert.ok(
      frame.frameIndex >= 0 && frame.frameIndex < FRAME_COUNT,
      `frame ${frame.frameIndex} in the clip`,
    );
    assert.ok(frame.frameIndex > previous, 'frames in increasing order, no duplicates');
    assert.equal(frame.timeMs, frame.frameIndex * FRAME_MS, `frame ${frame.frameIndex}: timeMs`);
    assert.ok(
      Array.isArray(frame.objects) && frame.objects.length > 0,
      `frame ${frame.frameIndex} has objects`,
    );
    previous = frame.frameIndex;
  }
  const span = frames[frames.length - 1]!.timeMs - frames[0]!.timeMs;
  assert.ok(span >= 60_000, `annotations span ${span} ms of the 79.5 s clip`);
});

test('every object: a kept COCO label, a box inside the frame, a difficult flag', () => {
  const { frames } = loadFixture();
  for (const frame of frames) {
    for (const object of frame.objects) {
      const where = `frame ${frame.frameIndex}, ${JSON.stringify(object)}`;
      assert.ok(LABELS.has(object.label), `${where}: label`);
      assert.equal(typeof object.difficult, 'boolean', `${where}: difficult`);
      assert.equal(object.box.length, 4, `${where}: [x, y, width, height]`);
      const [x, y, width, height] = object.box as [number, number, number, number];
      for (const value of object.box) assert.ok(Number.isFinite(value), `${where}: finite numbers`);
      assert.ok(width > 0 && height > 0, `${where}: positive size`);
      assert.ok(x >= 0 && y >= 0, `${where}: top-left inside the frame`);
      assert.ok(x + width <= WIDTH && y + height <= HEIGHT, `${where}: bottom-right inside the frame`);
    }
  }
});

test('identities: one object per id and frame, people p…, vehicles v…, one label group each', () => {
  const { frames } = loadFixture();
  const groupOf = (label: string) => (label === 'person' ? 'person' : 'vehicle');
  const groups = new Map<string, string>();
  let people = 0;
  for (const frame of frames) {
    const seen = new Set<string>();
    for (const object of frame.objects) {
      if (object.id === undefined) continue;
      assert.match(object.id, /^[pv]\d+$/, `frame ${frame.frameIndex}: id ${object.id}`);
      assert.ok(!seen.has(object.id), `frame ${frame.frameIndex}: ${object.id} appears once`);
      seen.add(object.id);
      const group = groupOf(object.label);
      assert.equal(object.id.startsWith('p'), group === 'person', `${object.id} is a ${object.label}`);
      assert.equal(groups.get(object.id) ?? group, group, `${object.id} keeps its label group`);
      groups.set(object.id, group);
    }
    people += frame.objects.filter((o) => o.label === 'person' && !o.difficult).length;
  }
  assert.ok(people >= 100, `${people} people to find (not difficult)`);
  // Identities are for the id-switch count: most people must be followed over several frames.
  const appearances = new Map<string, number>();
  for (const frame of frames)
    for (const object of frame.objects)
      if (object.id?.startsWith('p') && !object.difficult)
        appearances.set(object.id, (appearances.get(object.id) ?? 0) + 1);
  const followed = [...appearances.values()].filter((n) => n >= 3).length;
  assert.ok(followed >= 10, `${followed} people annotated in 3 or more frames`);
});
