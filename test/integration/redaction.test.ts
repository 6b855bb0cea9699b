import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { after, before, test } from 'node:test';
import { promisify } from 'node:util';
import type { Box } from '../../src/analytics/geometry.js';
import { locateFfmpeg, type FfmpegBinary } from '../../src/ingest/ffmpeg-binary.js';
import { CenterNetDetector } from '../../src/analytics/detector/centernet.js';
import { BlazeFaceDetector } from '../../src/privacy/redaction/blazeface.js';
import { pixelateBoxes } from '../../src/privacy/redaction/pixelate.js';
import { redactMp4 } from '../../src/privacy/redaction/redact.js';
import { decodeFrames, probeVideoSize } from '../../src/privacy/redaction/video-io.js';
import { repoRoot } from '../helpers/footage.js';
import { coveredShare, loadFaceTruth, truthBoxesAt, visibleFaceFrames } from '../helpers/redaction-truth.js';

const execFileAsync = promisify(execFile);
const MEGAMIND = resolve(repoRoot, '..', 'shared', 'footage', 'Megamind.avi');
/**
 * Measured on the annotated clip (docs/design/redaction.md): no frame out of 268 with an annotated
 * face left a face less than 90% pixelated. The test fails if redaction gets worse than that.
 */
const MAX_VISIBLE_FACE_SHARE = 0;

let ffmpeg: FfmpegBinary;
let dir: string;

before(async () => {
  ffmpeg = await locateFfmpeg();
  dir = await mkdtemp(join(tmpdir(), 'vigil-redaction-'));
});
after(async () => {
  await rm(dir, { recursive: true, force: true });
});

async function readFrames(path: string): Promise<{ frames: Uint8Array[]; width: number; height: number }> {
  const size = await probeVideoSize(ffmpeg, path);
  const frames: Uint8Array[] = [];
  await decodeFrames(ffmpeg, path, size, (rgb) => void frames.push(rgb));
  return { frames, ...size };
}

/** Mean absolute difference of two frames' green channel inside the boxes (clamped to the frame). */
function meanDifference(a: Uint8Array, b: Uint8Array, width: number, boxes: readonly Box[]): number {
  const height = a.length / (width * 3);
  let sum = 0;
  let count = 0;
  for (const box of boxes) {
    for (let y = Math.max(0, Math.round(box.y)); y < Math.min(height, Math.round(box.y + box.height)); y++) {
      for (let x = Math.max(0, Math.round(box.x)); x < Math.min(width, Math.round(box.x + box.width)); x++) {
        const i = (y * width + x) * 3 + 1;
        sum += Math.abs(a[i]! - b[i]!);
        count++;
      }
    }
  }
  return count === 0 ? 0 : sum / count;
}

/** Mean absolute difference between horizontally neighbouring pixels inside a box (green channel). */
function detail(frame: Uint8Array, width: number, box: Box): number {
  let sum = 0;
  let count = 0;
  for (let y = Math.round(box.y); y < Math.round(box.y + box.height); y++) {
    for (let x = Math.round(box.x); x < Math.round(box.x + box.width) - 1; x++) {
      const i = (y * width + x) * 3 + 1;
      sum += Math.abs(frame[i]! - frame[i + 3]!);
      count++;
    }
  }
  return sum / count;
}

test('a hand-drawn box on generated video: pixelated on the frames between its keys, the rest kept, timing kept', async () => {
  const input = join(dir, 'pattern.mp4');
  await execFileAsync(ffmpeg.path, [
    ...['-hide_banner', '-nostdin', '-loglevel', 'error', '-f', 'lavfi'],
    ...[
      '-i',
      'testsrc2=size=320x240:rate=10:duration=3,noise=alls=40:allf=t',
      '-c:v',
      'libx264',
      '-preset',
      'veryfast',
    ],
    ...['-pix_fmt', 'yuv420p', '-y', input],
  ]);
  const output = join(dir, 'pattern-redacted.mp4');
  const report = await redactMp4(
    input,
    output,
    {
      mode: 'manual',
      manualBoxes: [
        {
          keys: [
            { atMs: 500, box: { x: 0.1, y: 0.2, width: 0.3, height: 0.4 } },
            { atMs: 2000, box: { x: 0.5, y: 0.2, width: 0.3, height: 0.4 } },
          ],
        },
      ],
    },
    { ffmpeg, reportBoxes: true },
  );
  assert.equal(report.frameCount, 30);
  assert.ok(Math.abs(report.outputFramesPerSecond - 10) < 0.01, `${report.outputFramesPerSecond} fps`);
  assert.ok(report.timingErrorMs < 1);
  // Frames 5..20 (0.5 s to 2 s) carry the box, and no others.
  const withBox = report.boxes!.map((boxes, frame) => (boxes.length > 0 ? frame : -1)).filter((f) => f >= 0);
  assert.deepEqual(
    withBox,
    Array.from({ length: 16 }, (_, i) => i + 5),
  );
  assert.equal(report.framesWithBlur, 16);

  const before = await readFrames(input);
  const after = await readFrames(output);
  assert.equal(after.frames.length, 30);
  assert.equal(after.width, 320);
  for (let frame = 0; frame < 30; frame++) {
    const box = report.boxes![frame]![0];
    const probe = box ?? { x: 40, y: 60, width: 90, height: 90 };
    const original = detail(before.frames[frame]!, 320, probe);
    const redacted = detail(after.frames[frame]!, 320, probe);
    if (box) assert.ok(redacted < original / 3, `frame ${frame}: detail ${redacted} vs ${original}`);
    else
      assert.ok(Math.abs(redacted - original) < original / 3, `frame ${frame}: ${redacted} vs ${original}`);
  }
  const { stdout } = await execFileAsync(ffmpeg.path, ['-hide_banner', '-i', output]).catch(
    (error: { stderr: string }) => ({ stdout: error.stderr }),
  );
  assert.match(stdout, /Video: h264/);
  assert.doesNotMatch(stdout, /Audio:/);
});

test(
  'faces on the annotated Megamind clip: no frame shows a face less than 90% pixelated',
  { skip: existsSync(MEGAMIND) ? false : 'needs real faces: ../shared/footage/Megamind.avi is not here' },
  async () => {
    const truth = loadFaceTruth();
    // Cut at test time, frame for frame (no frame dropped or duplicated), so the annotations apply.
    const input = join(dir, 'megamind.mp4');
    await execFileAsync(ffmpeg.path, [
      ...['-hide_banner', '-nostdin', '-loglevel', 'error', '-i', MEGAMIND, '-an', '-c:v', 'libx264'],
      ...['-preset', 'veryfast', '-crf', '18', '-pix_fmt', 'yuv420p'],
      ...(ffmpeg.major >= 5 ? ['-fps_mode', 'passthrough'] : ['-vsync', 'passthrough']),
      ...['-y', input],
    ]);
    const faceDetector = await BlazeFaceDetector.create();
    const output = join(dir, 'megamind-redacted.mp4');
    const report = await redactMp4(
      input,
      output,
      { mode: 'faces' },
      { ffmpeg, faceDetector, reportBoxes: true },
    );
    faceDetector.close();
    assert.equal(report.frameCount, truth.frameCount);

    const result = visibleFaceFrames(truth, report.boxes!);
    let leastCovered = 1;
    for (let frame = 0; frame < truth.frameCount; frame++)
      for (const face of truthBoxesAt(truth, frame))
        leastCovered = Math.min(leastCovered, coveredShare(face, report.boxes![frame]!, truth));
    console.log(
      `faces: ${result.framesWithVisibleFace} of ${result.framesWithFace} frames with a visible face ` +
        `(${(result.share * 100).toFixed(1)}%), least covered face ${(leastCovered * 100).toFixed(1)}%; ` +
        `${report.faceDetectionCount} detections, ${report.framesWithBlur} frames blurred, ` +
        `${report.processingFramesPerSecond.toFixed(2)} frames/s`,
    );
    assert.ok(
      result.share <= MAX_VISIBLE_FACE_SHARE,
      `visible faces on frames ${result.visibleFrames.join(', ')} (${(result.share * 100).toFixed(1)}%)`,
    );

    // The file itself is what was planned: the output matches the input pixelated with the
    // reported boxes (up to x264's loss), and differs from the input inside the faces.
    const original = await readFrames(input);
    const redacted = await readFrames(output);
    assert.equal(redacted.frames.length, truth.frameCount);
    let fromPlanned = 0;
    let fromOriginal = 0;
    for (let frame = 0; frame < truth.frameCount; frame++) {
      const faces = truthBoxesAt(truth, frame);
      if (faces.length === 0) continue;
      const planned = new Uint8Array(original.frames[frame]!);
      pixelateBoxes({ data: planned, width: truth.width, height: truth.height }, report.boxes![frame]!);
      const out = redacted.frames[frame]!;
      const vsPlanned = meanDifference(out, planned, truth.width, faces);
      assert.ok(
        vsPlanned < 4,
        `frame ${frame}: output differs from the planned pixelation by ${vsPlanned.toFixed(2)}`,
      );
      fromPlanned += vsPlanned;
      fromOriginal += meanDifference(out, original.frames[frame]!, truth.width, faces);
    }
    assert.ok(fromOriginal > 2 * fromPlanned, `faces changed by ${fromOriginal}, x264 loss ${fromPlanned}`);
  },
);

const VTEST_SUB = resolve(repoRoot, '..', 'shared', 'footage', 'vtest-sub.mp4');

test(
  'everyone but one tracked person: the others are pixelated, the kept person is not',
  { skip: existsSync(VTEST_SUB) ? false : 'needs people: ../shared/footage/vtest-sub.mp4 is not here' },
  async () => {
    const input = join(dir, 'people.mp4');
    await execFileAsync(ffmpeg.path, [
      ...['-hide_banner', '-nostdin', '-loglevel', 'error', '-ss', '20', '-t', '4', '-i', VTEST_SUB, '-an'],
      ...['-c:v', 'libx264', '-preset', 'veryfast', '-pix_fmt', 'yuv420p', '-y', input],
    ]);
    const personDetector = await CenterNetDetector.create({ minScore: 0.3 });
    const faceDetector = await BlazeFaceDetector.create();
    try {
      // The kept track, as an event would store it: the centre of one person's box every 5 frames.
      const clipStartTimeMs = 1_700_000_000_000;
      const size = await probeVideoSize(ffmpeg, input);
      const people: Array<{ frame: number; boxes: Box[] }> = [];
      const times = await decodeFrames(ffmpeg, input, size, async (rgb, frame) => {
        if (frame % 5 !== 0) return;
        const [found = []] = await personDetector.detect([{ data: rgb, ...size }]);
        people.push({
          frame,
          boxes: found.filter((d) => d.label === 'person' && d.score >= 0.5).map((d) => d.box),
        });
      });
      const firstBoxes = people[0]!.boxes;
      assert.ok(firstBoxes.length >= 2, `${firstBoxes.length} people on the first frame`);
      // The tallest (nearest) person: the easiest to follow by box centres.
      let subject = firstBoxes.reduce((a, b) => (b.height > a.height ? b : a));
      const path = [];
      for (const { frame, boxes } of people) {
        const nearest = boxes.reduce<Box | null>(
          (best, b) => (!best || centreDistance(b, subject) < centreDistance(best, subject) ? b : best),
          null,
        );
        if (!nearest || centreDistance(nearest, subject) > subject.height) continue;
        subject = nearest;
        path.push({
          timeMs: clipStartTimeMs + times[frame]! - times[0]!,
          x: (subject.x + subject.width / 2) / size.width,
          y: (subject.y + subject.height / 2) / size.height,
        });
      }
      assert.ok(path.length >= 6, `the kept person was followed on ${path.length} frames`);

      const report = await redactMp4(
        input,
        join(dir, 'people-redacted.mp4'),
        { mode: 'all-except-track', keep: { eventId: 1, path }, clipStartTimeMs },
        { ffmpeg, faceDetector, personDetector, reportBoxes: true },
      );
      assert.ok(report.personDetectionCount > 0);
      let keptVisible = 0;
      let othersTotal = 0;
      let othersBlurred = 0;
      for (const { frame, boxes } of people) {
        const blurred = report.boxes![frame]!;
        const t = clipStartTimeMs + times[frame]! - times[0]!;
        const point = path.find((p) => p.timeMs === t);
        if (point) {
          const centre = { x: point.x * size.width, y: point.y * size.height };
          if (!blurred.some((b) => inside(centre, b))) keptVisible++;
          for (const other of boxes) {
            if (inside(centre, other)) continue;
            othersTotal++;
            if (coveredShare(other, blurred, size) >= 0.9) othersBlurred++;
          }
        }
      }
      console.log(
        `all-except-track: kept person visible on ${keptVisible} of ${path.length} sampled frames; ` +
          `${othersBlurred} of ${othersTotal} other people ≥ 90% pixelated`,
      );
      assert.ok(keptVisible >= path.length - 1, `kept person visible on ${keptVisible} of ${path.length}`);
      assert.ok(othersTotal > 0 && othersBlurred / othersTotal >= 0.9, `${othersBlurred} of ${othersTotal}`);
    } finally {
      faceDetector.close();
      await personDetector.close();
    }
  },
);

function centreDistance(a: Box, b: Box): number {
  return Math.hypot(a.x + a.width / 2 - (b.x + b.width / 2), a.y + a.height / 2 - (b.y + b.height / 2));
}

function inside(point: { x: number; y: number }, box: Box): boolean {
  return (
    point.x >= box.x && point.x <= box.x + box.width && point.y >= box.y && point.y <= box.y + box.height
  );
}
