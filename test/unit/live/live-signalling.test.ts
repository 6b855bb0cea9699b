import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { MAX_SIGNALLING_BYTES, parseSignalling } from '../../../src/live/live-signalling.js';

describe('live signalling messages', () => {
  test('an answer and candidates for the socket camera are accepted', () => {
    assert.deepEqual(parseSignalling('{"type":"webrtc.answer","cameraId":"yard","sdp":"v=0"}', 'yard'), {
      ok: true,
      message: { type: 'webrtc.answer', cameraId: 'yard', sdp: 'v=0' },
    });
    const candidate = {
      candidate: 'candidate:1 1 udp 1 192.0.2.1 5000 typ host',
      sdpMid: '0',
      sdpMLineIndex: 0,
    };
    assert.deepEqual(
      parseSignalling(JSON.stringify({ type: 'webrtc.candidate', cameraId: 'yard', candidate }), 'yard'),
      { ok: true, message: { type: 'webrtc.candidate', cameraId: 'yard', candidate } },
    );
    assert.deepEqual(
      parseSignalling('{"type":"webrtc.candidate","cameraId":"yard","candidate":null}', 'yard'),
      {
        ok: true,
        message: { type: 'webrtc.candidate', cameraId: 'yard', candidate: null },
      },
    );
  });

  test('a message for any other camera, or none, is forbidden, however the id is spelt', () => {
    for (const cameraId of [
      'gate',
      'YARD',
      'yard ',
      '%79ard',
      'yard/../gate',
      '',
      null,
      ['yard'],
      { id: 'yard' },
    ]) {
      const result = parseSignalling(JSON.stringify({ type: 'webrtc.answer', cameraId, sdp: 'v=0' }), 'yard');
      assert.equal(result.ok === false && result.code, 'FORBIDDEN', JSON.stringify(cameraId));
    }
    const missing = parseSignalling('{"type":"webrtc.answer","sdp":"v=0"}', 'yard');
    assert.equal(missing.ok === false && missing.code, 'FORBIDDEN');
  });

  test('malformed messages are invalid requests', () => {
    for (const text of [
      'not json',
      '[]',
      '{"cameraId":"yard"}',
      '{"type":"webrtc.answer","cameraId":"yard"}',
      '{"type":"webrtc.candidate","cameraId":"yard","candidate":{"candidate":5}}',
      '{"type":"webrtc.offer","cameraId":"yard","sdp":"v=0"}',
      JSON.stringify({ type: 'webrtc.answer', cameraId: 'yard', sdp: 'x'.repeat(MAX_SIGNALLING_BYTES) }),
    ]) {
      const result = parseSignalling(text, 'yard');
      assert.equal(result.ok === false && result.code, 'REQUEST_INVALID', text.slice(0, 60));
    }
  });
});
