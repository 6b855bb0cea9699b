/**
 * The rules that keep camera URLs from reaching what they should not: which schemes the API
 * accepts, the protocols ffmpeg may open, when a stored password may travel, what is redacted,
 * and security.cameraNetworks. Each rule is also attacked with the spellings that get around
 * naive checks (upper case, whitespace, credentials in the URL, IPv6, default ports).
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { parseConfigObject, redactCamera, validateCamera } from '../../src/config/index.js';
import {
  CameraNetworks,
  parseCidr,
  parseStreamUrl,
  protocolWhitelist,
  redactText,
  redactUrl,
  sameOrigin,
  urlOrigin,
} from '../../src/config/url.js';
import { decodeFramesArgs, fileSourceArgs, ingestArgs, snapshotArgs } from '../../src/ingest/ffmpeg-args.js';
import { checkCameraNetwork } from '../../src/ingest/sources.js';
import { classifyFfmpegFailure, scrubCredentials } from '../../src/ingest/stream-errors.js';

const FILE_SPELLINGS = [
  'file:///etc/passwd',
  'FILE:///etc/passwd',
  'File:/etc/passwd',
  'file:/etc/passwd',
  'file:etc/passwd',
  ' file:///etc/passwd',
  '\tfile:///etc/passwd',
  'file://localhost/etc/passwd',
];

test('the API refuses file: URLs in every spelling, naming the field and the allowed schemes', () => {
  for (const url of FILE_SPELLINGS) {
    const parsed = parseStreamUrl(url, { origin: 'api' });
    assert.ok(!parsed.ok, `${JSON.stringify(url)} must be refused`);
    assert.match(parsed.message, /rtsp:\/\/, rtsps:\/\/, http:\/\/, https:\/\/ or testsrc:/);
    assert.doesNotMatch(parsed.message, /use .*file:/, 'file: is not offered to API callers');
    const camera = validateCamera({ id: 'x', streams: { main: { url } } }, 'body', { origin: 'api' });
    assert.ok(!camera.ok);
    assert.equal(camera.problems[0]?.path, 'body.streams.main.url');
  }
  const file = parseStreamUrl('FILE:///etc/passwd', { origin: 'api' });
  assert.ok(!file.ok);
  assert.match(file.message, /file: URLs are accepted only in the configuration file/);
});

test('the config file still plays local files; ffmpeg pseudo-protocols are refused everywhere', () => {
  assert.ok(parseStreamUrl('file:///srv/clip.mp4').ok);
  assert.ok(validateCamera({ id: 'x', streams: { main: { url: 'file:///srv/clip.mp4' } } }).ok);
  for (const url of [
    'concat:/etc/passwd|/etc/shadow',
    'subfile,,start,0,end,0,,:/etc/passwd',
    'crypto:file:///etc/passwd',
    'data:text/plain,hi',
    'pipe:0',
    'gopher://127.0.0.1/',
    'hls+http://cam/x.m3u8',
    'tcp://127.0.0.1:22',
  ]) {
    for (const origin of ['api', 'config'] as const) {
      assert.ok(!parseStreamUrl(url, { origin }).ok, `${url} from ${origin}`);
    }
  }
  // testsrc: options are rebuilt from parsed numbers: nothing else survives into the filter graph.
  const pattern = parseStreamUrl('TESTSRC:?size=640x480&fps=5', { origin: 'api' });
  assert.ok(pattern.ok);
  assert.equal(pattern.value.url, 'testsrc:?size=640x480&fps=5');
  assert.ok(!parseStreamUrl("testsrc:?size=640x480,movie='/etc/passwd'", { origin: 'api' }).ok);
  assert.ok(!parseStreamUrl('testsrc:?fps=5&filename=/etc/passwd', { origin: 'api' }).ok);
});

test('every ffmpeg command that opens an input carries the protocol whitelist of its scheme', () => {
  const opts = { ffmpegMajor: 5, ioTimeoutMs: 1000, audioNeedsTranscode: false };
  const cases: Array<[string, string]> = [
    ['rtsp://u:p@10.0.0.5/main', 'rtsp,rtp,udp,tcp'],
    ['RTSP://10.0.0.5/main', 'rtsp,rtp,udp,tcp'],
    ['rtsps://10.0.0.5/main', 'rtsp,rtsps,rtp,udp,tcp,tls'],
    ['http://10.0.0.5/video.mjpg', 'http,https,tcp,tls,crypto'],
    ['https://10.0.0.5/live.m3u8', 'http,https,tcp,tls,crypto'],
  ];
  for (const [url, whitelist] of cases) {
    assert.equal(protocolWhitelist(url), whitelist);
    for (const transport of ['tcp', 'udp'] as const) {
      const args = ingestArgs({ url, transport, audio: 'auto' }, opts);
      const at = args.indexOf('-protocol_whitelist');
      assert.ok(at >= 0 && at < args.indexOf('-i'), `${url}: whitelist before the input`);
      assert.equal(args[at + 1], whitelist);
      assert.equal(args.filter((a) => a === '-i').length, 1, 'one input only');
    }
  }
  assert.equal(protocolWhitelist('file:///srv/a.mp4'), 'file');
  assert.equal(protocolWhitelist('testsrc:?size=640x480'), undefined);
  assert.equal(protocolWhitelist('concat:/etc/passwd'), undefined);
  assert.throws(() => ingestArgs({ url: 'file:///etc/passwd', transport: 'tcp', audio: 'auto' }, opts));

  // Every other command with an input: the file source, and the two that read Vigil's own pipe.
  for (const args of [
    fileSourceArgs('/srv/a.mp4', { copyVideo: true }),
    snapshotArgs(5),
    decodeFramesArgs({ ffmpegMajor: 4, fps: 5, width: 320, height: 240 }),
  ]) {
    const at = args.indexOf('-protocol_whitelist');
    assert.ok(at >= 0 && at < args.indexOf('-i'), args.join(' '));
    assert.match(args[at + 1] ?? '', /^(file|pipe)$/);
  }
});

test('scheme, host and port decide whether a stored password may travel', () => {
  const same: Array<[string, string]> = [
    ['rtsp://10.0.0.5/main', 'rtsp://10.0.0.5:554/sub'],
    ['rtsp://admin:old@10.0.0.5/main', 'rtsp://other@10.0.0.5/main'],
    ['RTSP://Cam.LAN/main', 'rtsp://cam.lan:554/x'],
    ['rtsp://[::1]/main', 'rtsp://[0:0:0:0:0:0:0:1]:554/main'],
    ['rtsps://10.0.0.5/main', 'rtsps://10.0.0.5:322/main'],
    ['http://10.0.0.5/a.mjpg', 'http://10.0.0.5:80/b.mjpg'],
    ['https://10.0.0.5/a', 'https://10.0.0.5:443/b'],
  ];
  for (const [a, b] of same) assert.ok(sameOrigin(a, b), `${a} ~ ${b}`);
  const different: Array<[string, string]> = [
    ['rtsp://10.0.0.5/main', 'rtsp://10.0.0.6/main'],
    ['rtsp://10.0.0.5/main', 'rtsp://10.0.0.5:8554/main'],
    ['rtsp://10.0.0.5/main', 'rtsps://10.0.0.5/main'],
    ['rtsp://10.0.0.5:80/main', 'http://10.0.0.5/main'],
    ['rtsp://10.0.0.5/main', 'rtsp://10.0.0.5@evil.example/main'],
    ['rtsp://10.0.0.5/main', 'rtsp://evil.example#@10.0.0.5/main'],
    ['rtsp://[::1]/main', 'rtsp://[::2]/main'],
    ['rtsp://cam.lan/main', 'rtsp://cam.lan.evil.example/main'],
    ['rtsp://10.0.0.5/main', 'file:///etc/passwd'],
    ['rtsp://10.0.0.5/main', 'testsrc:'],
    ['rtsp://10.0.0.5/main', 'not a url'],
  ];
  for (const [a, b] of different) assert.ok(!sameOrigin(a, b), `${a} !~ ${b}`);
  assert.deepEqual(urlOrigin('rtsp://u:p@[FD00::5]/x'), { scheme: 'rtsp', host: 'fd00::5', port: 554 });
});

test('credentials in URL queries are redacted, user names included, whatever their case', () => {
  const url = 'http://10.0.0.7/videostream.cgi?USER=admin&Pwd=s3cret&loginuse=admin&loginpas=s3cret&res=32';
  const redacted = redactUrl(url);
  assert.doesNotMatch(redacted, /s3cret|admin/);
  assert.match(redacted, /res=32/);
  for (const key of ['pwd', 'password', 'pass', 'passwd', 'user', 'usr', 'username', 'token']) {
    assert.doesNotMatch(redactUrl(`http://cam/x.cgi?${key}=s3cret`), /s3cret/, key);
  }
  // Text that quotes a URL, as ffmpeg's stderr does: user info and query values both go.
  const line =
    "[http @ 0x55] HTTP error 500: http://admin:s3cret@10.0.0.7/v.cgi?usr=admin&pwd=s3cret&res=1 'x'";
  for (const text of [redactText(line), scrubCredentials(line)]) {
    assert.doesNotMatch(text, /s3cret|admin/);
    assert.match(text, /res=1/);
  }
  const exited = classifyFfmpegFailure([`rtsp://10.0.0.5/live?password=s3cret: Server returned 5XX`], 1);
  assert.equal(exited.kind, 'exited');
  assert.doesNotMatch(exited.message, /s3cret/);
  // A URL that does not parse still loses its query secrets.
  assert.doesNotMatch(redactUrl('http://[bad/x?pwd=s3cret'), /s3cret/);
});

test('audit details and API answers show camera URLs without query secrets or passwords', () => {
  const camera = validateCamera({
    id: 'cgi',
    streams: { main: { url: 'http://10.0.0.7/v.cgi?user=admin&pwd=s3cret', user: 'admin', password: 'p' } },
  });
  assert.ok(camera.ok);
  const shown = JSON.stringify(redactCamera(camera.camera));
  assert.doesNotMatch(shown, /s3cret|"password":"p"/);
});

test('security.cameraNetworks takes IPv4 and IPv6 CIDR blocks and names a bad entry by its path', () => {
  const base = { storage: { path: 'd' } };
  const ok = parseConfigObject(
    { ...base, security: { cameraNetworks: ['192.168.10.0/24', 'fd00::/8', '10.0.0.7'] } },
    { baseDir: '/x' },
  );
  assert.deepEqual(ok.config.security, { cameraNetworks: ['192.168.10.0/24', 'fd00::/8', '10.0.0.7'] });
  assert.equal(parseConfigObject(base, { baseDir: '/x' }).config.security, undefined);
  const problemsOf = (cameraNetworks: unknown) => {
    try {
      parseConfigObject({ ...base, security: { cameraNetworks } }, { baseDir: '/x' });
    } catch (err) {
      return ((err as { details?: { problems?: Array<{ path: string; message: string }> } }).details
        ?.problems ?? []) as Array<{ path: string; message: string }>;
    }
    return [];
  };
  const bad = problemsOf(['10.0.0.0/8', '10.0.0.0/33', 'cameras.lan', 'fd00::/129', '1.2.3.4/x']);
  assert.deepEqual(
    bad.map((p) => p.path),
    [
      'security.cameraNetworks[1]',
      'security.cameraNetworks[2]',
      'security.cameraNetworks[3]',
      'security.cameraNetworks[4]',
    ],
  );
  assert.match(bad[1]?.message ?? '', /'cameras.lan' is not a network/);
  assert.match(problemsOf([])[0]?.message ?? '', /no camera could connect/);
  assert.ok(parseCidr('[fd00::1]/64').ok);
});

test('camera networks: inside or outside, IPv4-mapped IPv6 counted as IPv4', () => {
  const networks = new CameraNetworks(['127.0.0.0/8', 'fd00::/8']);
  for (const address of ['127.0.0.1', '127.255.0.9', '::ffff:127.0.0.1', '::ffff:7f00:1', 'fd12::1']) {
    assert.ok(networks.allows(address), address);
  }
  for (const address of ['10.0.0.1', '::1', '::ffff:10.0.0.1', '::ffff:a00:1', 'fe80::1', 'localhost', '']) {
    assert.ok(!networks.allows(address), address);
  }
});

test('checkCameraNetwork: every address a name has must be inside; literals need no lookup', async () => {
  const networks = new CameraNetworks(['127.0.0.0/8']);
  const names: Record<string, string[]> = {
    'inside.test': ['127.0.0.2'],
    'split.test': ['127.0.0.2', '192.168.1.9'],
    'v6.test': ['::1'],
  };
  const resolve = async (host: string) => {
    const found = names[host];
    if (!found) throw Object.assign(new Error('not found'), { code: 'ENOTFOUND' });
    return found;
  };
  const check = (url: string) => checkCameraNetwork(url, networks, resolve);
  assert.equal(await check('rtsp://inside.test/main'), null);
  assert.equal(await check('rtsp://user:pass@127.0.0.1:8554/main'), null);
  assert.equal(await check('rtsp://[::ffff:127.0.0.1]/main'), null);
  assert.equal(await check('testsrc:?size=640x480&fps=5'), null);
  assert.equal(await check('file:///srv/a.mp4'), null);
  assert.equal(await checkCameraNetwork('rtsp://10.0.0.1/x', undefined, resolve), null);

  const split = await check('rtsp://split.test/main');
  assert.equal(split?.kind, 'network_refused');
  assert.match(
    split?.message ?? '',
    /'split.test' resolves to 192\.168\.1\.9.*cameraNetworks: 127\.0\.0\.0\/8/,
  );
  const literal = await check('rtsp://admin:pw@10.1.2.3:554/main');
  assert.match(literal?.message ?? '', /address 10\.1\.2\.3 is outside .*127\.0\.0\.0\/8/);
  assert.doesNotMatch(literal?.message ?? '', /pw|admin/);
  assert.equal((await check('rtsp://[::1]/main'))?.kind, 'network_refused');
  assert.equal((await check('rtsp://v6.test/main'))?.kind, 'network_refused');
  assert.equal((await check('HTTP://10.9.9.9/video.mjpg'))?.kind, 'network_refused');
  const unknown = await check('rtsp://nowhere.test/main');
  assert.equal(unknown?.kind, 'dns');
  assert.match(unknown?.message ?? '', /cannot be resolved \(ENOTFOUND\)/);
});
