import assert from 'node:assert/strict';
import { test } from 'node:test';
import { classifyFfmpegFailure, scrubCredentials } from '../../src/ingest/stream-errors.js';

test('ffmpeg failures become messages that say what to check', () => {
  const cases: Array<[string, string]> = [
    ['[rtsp @ 0x55] method DESCRIBE failed: 401 Unauthorized', 'unauthorized'],
    ['[rtsp @ 0x55] method DESCRIBE failed: 404 Not Found', 'not_found'],
    ['[tcp @ 0x55] Connection to tcp://127.0.0.1:1 failed: Connection refused', 'connection_refused'],
    ['[tcp @ 0x55] Connection to tcp://10.9.9.9:554 failed: Connection timed out', 'timeout'],
    ['[tcp @ 0x55] Failed to resolve hostname nope.local: Name or service not known', 'dns'],
    ['Output file #0 does not contain any stream', 'no_video'],
    [
      '[mp4 @ 0x5] Could not find tag for codec pcm_mulaw in stream #1, codec not currently supported in container',
      'unsupported_audio',
    ],
  ];
  for (const [line, kind] of cases) {
    assert.equal(classifyFfmpegFailure(['some preamble', line], 1).kind, kind, line);
  }
  assert.equal(
    classifyFfmpegFailure(['x 401 Unauthorized'], 1).message,
    "401 Unauthorized: check the camera's user name and password",
  );
});

test('an unknown failure keeps ffmpeg’s last line and exit code', () => {
  const error = classifyFfmpegFailure(['first', 'something odd happened', ''], 187);
  assert.equal(error.kind, 'exited');
  assert.equal(error.message, 'ffmpeg exited (code 187): something odd happened');
});

test('a stream the camera ends cleanly is not reported as an ffmpeg failure', () => {
  const error = classifyFfmpegFailure(['[mp4 @ 0x5] [warning] Non-monotonous DTS in output stream 0:0'], 0);
  assert.equal(error.kind, 'ended');
});

test('credentials in echoed URLs are scrubbed', () => {
  assert.equal(
    scrubCredentials('rtsp://admin:s3cret@10.0.0.5:554/main: 401 Unauthorized'),
    'rtsp://***@10.0.0.5:554/main: 401 Unauthorized',
  );
});
