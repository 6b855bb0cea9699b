import assert from 'node:assert/strict';
import { test } from 'node:test';
import {
  decodeFramesArgs,
  fileSourceArgs,
  ingestArgs,
  testPatternArgs,
} from '../../src/ingest/ffmpeg-args.js';
import { parseMajorVersion } from '../../src/ingest/ffmpeg-binary.js';

const OUT =
  '-f mp4 -movflags +frag_keyframe+empty_moov+default_base_moof -frag_duration 100000 -flush_packets 1 pipe:1';
const GLOBAL = '-hide_banner -nostdin -loglevel level+warning';

test('RTSP over TCP on ffmpeg 5 copies video and audio into fragmented MP4', () => {
  const args = ingestArgs(
    { url: 'rtsp://u:p@10.0.0.5:554/main', transport: 'tcp', audio: 'auto' },
    { ffmpegMajor: 5, ioTimeoutMs: 10_000, audioNeedsTranscode: false },
  );
  assert.equal(
    args.join(' '),
    `${GLOBAL} -rtsp_transport tcp -timeout 10000000 -protocol_whitelist rtsp,rtp,udp,tcp ` +
      `-i rtsp://u:p@10.0.0.5:554/main ` +
      `-map 0:v:0 -map 0:a:0? -c:v copy -c:a copy ${OUT}`,
  );
});

test('ffmpeg 4 names the RTSP socket timeout -stimeout; UDP is selectable', () => {
  const args = ingestArgs(
    { url: 'rtsp://cam/main', transport: 'udp', audio: 'auto' },
    { ffmpegMajor: 4, ioTimeoutMs: 5000, audioNeedsTranscode: false },
  );
  assert.equal(
    args.slice(4, 12).join(' '),
    '-rtsp_transport udp -stimeout 5000000 -protocol_whitelist rtsp,rtp,udp,tcp -i rtsp://cam/main',
  );
});

test('audio: transcoded when MP4 cannot hold it, dropped when off', () => {
  const source = { url: 'rtsp://cam/main', transport: 'tcp' as const, audio: 'auto' as const };
  const learnt = ingestArgs(source, { ffmpegMajor: 5, ioTimeoutMs: 1000, audioNeedsTranscode: true }).join(
    ' ',
  );
  assert.match(learnt, /-c:a aac -b:a 64k/);
  const off = ingestArgs(
    { ...source, audio: 'off' },
    { ffmpegMajor: 5, ioTimeoutMs: 1000, audioNeedsTranscode: false },
  );
  assert.equal(off.includes('0:a:0?'), false);
});

test('file and test-pattern sources play in real time into the same output', () => {
  assert.equal(
    fileSourceArgs('/f.mp4', { copyVideo: true }).join(' '),
    `${GLOBAL} -re -stream_loop -1 -protocol_whitelist file -i /f.mp4 -map 0:v:0 -c:v copy -an ${OUT}`,
  );
  assert.match(fileSourceArgs('/f.avi', { copyVideo: false }).join(' '), /-c:v libx264 .* -g 20/);
  assert.equal(
    testPatternArgs({ width: 640, height: 360, fps: 10 }).join(' '),
    `${GLOBAL} -re -f lavfi -i testsrc2=size=640x360:rate=10 -c:v libx264 -preset ultrafast -tune zerolatency ` +
      `-g 20 -pix_fmt yuv420p ${OUT}`,
  );
});

test('ffmpeg major versions from Debian, release and git-snapshot strings', () => {
  assert.equal(parseMajorVersion('5.1.9-0+deb12u1'), 5);
  assert.equal(parseMajorVersion('n6.1'), 6);
  assert.equal(parseMajorVersion('N-47683-g0e8eb07980-static'), 4);
});

test('analytics decoding: fragments on stdin, frames by time, absolute timestamps, raw RGB out', () => {
  assert.equal(
    decodeFramesArgs({ ffmpegMajor: 5, fps: 5, width: 640, height: 480 }).join(' '),
    '-hide_banner -nostdin -loglevel info -threads 1 -copyts -f mp4 -protocol_whitelist pipe -i pipe:0 -an ' +
      "-vf select='isnan(prev_selected_t)+gte(t-prev_selected_t,0.1900)',scale=640:480:flags=area,showinfo " +
      '-fps_mode passthrough -f rawvideo -pix_fmt rgb24 pipe:1',
  );
  // ffmpeg 4 (the npm-shipped one) names the frame-rate mode -vsync.
  assert.match(
    decodeFramesArgs({ ffmpegMajor: 4, fps: 2, width: 320, height: 240 }).join(' '),
    /-vsync passthrough/,
  );
});
