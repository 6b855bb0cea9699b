import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseStreamUrl, parseTestPatternUrl, redactUrl, withCredentials } from '../../src/config/index.js';

test('redactUrl hides the password and keeps the rest', () => {
  assert.equal(
    redactUrl('rtsp://admin:s3cret@192.168.1.20:554/main'),
    'rtsp://admin:***@192.168.1.20:554/main',
  );
  assert.equal(redactUrl('https://u:p%40ss@cam.local/video.mjpg'), 'https://u:***@cam.local/video.mjpg');
});

test('redactUrl hides password-like query parameters, and the user name beside them', () => {
  const redacted = redactUrl('http://10.0.0.7/videostream.cgi?user=admin&pwd=s3cret&resolution=32');
  assert.doesNotMatch(redacted, /s3cret|admin/);
  assert.match(redacted, /pwd=\*\*\*/);
  assert.match(redacted, /user=\*\*\*/);
  assert.match(redacted, /resolution=32/);
});

test('redactUrl leaves URLs without secrets untouched', () => {
  for (const url of [
    'rtsp://192.168.1.20/main',
    'rtsp://admin@h/x',
    'file:///srv/a.mp4',
    'testsrc:?size=640x480&fps=5',
  ]) {
    assert.equal(redactUrl(url), url);
  }
});

test('redactUrl hides the password of a URL it cannot parse', () => {
  const redacted = redactUrl('rtsp://admin:pa/ss#word@[bad/main');
  assert.doesNotMatch(redacted, /pa\/ss|word/);
  assert.match(redacted, /^rtsp:\/\/admin:\*\*\*@/);
});

test('withCredentials puts user and password into the URL, percent-encoded', () => {
  assert.equal(
    withCredentials('rtsp://10.0.0.5:554/main', 'admin', 'p@ss:w/rd'),
    'rtsp://admin:p%40ss%3Aw%2Frd@10.0.0.5:554/main',
  );
  assert.equal(withCredentials('rtsp://10.0.0.5/main'), 'rtsp://10.0.0.5/main');
  assert.equal(
    redactUrl(withCredentials('rtsp://10.0.0.5/main', 'admin', 'secret')),
    'rtsp://admin:***@10.0.0.5/main',
  );
});

test('parseStreamUrl round-trips credentials through withCredentials', () => {
  const parsed = parseStreamUrl('rtsp://admin:p%40ss@10.0.0.5/main');
  assert.ok(parsed.ok);
  const { url, user, password } = parsed.value;
  assert.equal(url, 'rtsp://10.0.0.5/main');
  assert.equal(withCredentials(url, user, password), 'rtsp://admin:p%40ss@10.0.0.5/main');
});

test('parseStreamUrl rejects URLs without a host and never echoes a password', () => {
  const noHost = parseStreamUrl('rtsp:/main');
  assert.ok(!noHost.ok);
  assert.match(noHost.message, /has no host/);
  const bad = parseStreamUrl('rtsp://admin:s3cret@[::1/main');
  assert.ok(!bad.ok);
  assert.doesNotMatch(bad.message, /s3cret/);
});

test('parseTestPatternUrl reads size and fps with defaults', () => {
  assert.deepEqual(parseTestPatternUrl('testsrc:'), {
    ok: true,
    value: { width: 1280, height: 720, fps: 10 },
  });
  assert.deepEqual(parseTestPatternUrl('testsrc:?size=640x480&fps=25'), {
    ok: true,
    value: { width: 640, height: 480, fps: 25 },
  });
  const bad = parseTestPatternUrl('testsrc:?colour=red');
  assert.ok(!bad.ok);
  assert.match(bad.message, /unknown testsrc option 'colour'/);
});
