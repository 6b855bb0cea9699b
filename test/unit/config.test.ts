import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import {
  demoConfig,
  formatProblems,
  loadConfigFile,
  parseConfigObject,
  parseConfigText,
  retentionDaysFor,
  systemTimeZone,
  validateCamera,
  type ConfigProblem,
  type LoadedConfig,
} from '../../src/config/index.js';
import { VigilError } from '../../src/errors/catalogue.js';

const BASE = '/etc/vigil';

function parse(text: string, env: Record<string, string> = {}): LoadedConfig {
  return parseConfigText(text, { baseDir: BASE, env, sourceName: 'vigil.yaml' });
}

/** The error parse throws, checked to be a VigilError with this code. */
function parseError(text: string, code: string, env: Record<string, string> = {}): VigilError {
  try {
    parse(text, env);
  } catch (err) {
    assert.ok(err instanceof VigilError, `expected a VigilError, got ${String(err)}`);
    assert.equal(err.code, code, formatProblems(err).join('\n'));
    return err;
  }
  assert.fail('expected the config to be rejected');
}

function problems(text: string, env: Record<string, string> = {}): ConfigProblem[] {
  const error = parseError(text, 'CONFIG_INVALID', env);
  return error.details?.['problems'] as ConfigProblem[];
}

function problemAt(list: ConfigProblem[], path: string): string {
  const found = list.find((p) => p.path === path);
  assert.ok(found, `no problem at ${path}; got ${JSON.stringify(list, null, 2)}`);
  return found.message;
}

const CAMERA = `
cameras:
  - id: front-door
    streams:
      main: { url: "rtsp://192.168.1.20:554/main" }
`;

test('an empty file gives every default', () => {
  const { config } = parse('');
  assert.deepEqual(config, {
    site: { name: 'Vigil', timeZone: systemTimeZone() },
    server: { listen: '127.0.0.1:8080', host: '127.0.0.1', port: 8080, metricsAllowFrom: [] },
    storage: { path: '/etc/vigil/data', minFreeBytes: 5e9 },
    recording: { segmentDurationMs: 60000 },
    retention: { continuousDays: 3, checkIntervalMs: 10000, eventsDays: 14, exportsDays: 30 },
    ingest: { retryInitialMs: 1000, retryMaxMs: 5000, stallTimeoutMs: 10000 },
    approvals: { require: ['evidence.unlock'], expiryMs: 86_400_000 },
    analytics: { detector: { backend: 'auto', threads: 2 } },
    notify: { webhooks: [], pushContact: 'mailto:vigil@localhost.invalid' },
    cameras: [],
    rules: [],
  });
});

test("the site's time zone is an IANA name, checked; without it the machine's", () => {
  assert.equal(parse('site: { timeZone: Europe/Berlin }').config.site.timeZone, 'Europe/Berlin');
  assert.equal(parse('site: { timeZone: america/new_york }').config.site.timeZone, 'America/New_York');
  assert.match(
    problemAt(problems('site: { timeZone: Mars/Olympus }'), 'site.timeZone'),
    /unknown time zone 'Mars\/Olympus'.*IANA/,
  );
  assert.equal(parse('').config.site.timeZone, systemTimeZone());
});

test('camera and stream defaults are applied', () => {
  const { config } = parse(CAMERA);
  assert.deepEqual(config.cameras[0], {
    id: 'front-door',
    name: 'front-door',
    enabled: true,
    streams: {
      main: { url: 'rtsp://192.168.1.20:554/main', transport: 'tcp', audio: 'auto', ingest: 'auto' },
    },
    // Without a sub stream, detection is off unless asked for.
    detect: {
      enabled: false,
      fps: 5,
      labels: ['person', 'bicycle', 'car', 'motorcycle', 'bus', 'truck', 'dog', 'cat'],
      minScore: 0.5,
      filters: {},
      masks: [],
      preCaptureMs: 5000,
      postCaptureMs: 5000,
    },
    privacy: { masks: [], maskAtRecording: false },
    scene: { zones: [], lines: [], referencePoint: 'bottom-centre', objectMasks: [] },
  });
});

test('sections whose lines are all commented out count as left out', () => {
  const { config } = parse('server:\n  # listen: 0.0.0.0:80\nstorage:\ncameras:\n');
  assert.equal(config.server.port, 8080);
  assert.deepEqual(config.cameras, []);
});

test('the loaded config is frozen all the way down', () => {
  const loaded = parse(CAMERA);
  assert.ok(Object.isFrozen(loaded));
  assert.ok(Object.isFrozen(loaded.config.storage));
  assert.ok(Object.isFrozen(loaded.config.cameras));
  assert.ok(Object.isFrozen(loaded.config.cameras[0]?.streams.main));
});

test('sizes are parsed with decimal and binary units', () => {
  const { config } = parse('storage:\n  maxBytes: 500GB\n  minFreeBytes: 1GiB\n');
  assert.equal(config.storage.maxBytes, 500e9);
  assert.equal(config.storage.minFreeBytes, 2 ** 30);
  assert.equal(parse('storage: { maxBytes: 1234 }').config.storage.maxBytes, 1234);
  assert.equal(parse('storage: { maxBytes: "1.5 TB" }').config.storage.maxBytes, 1.5e12);
  assert.equal(parse('storage: { maxBytes: 2tib }').config.storage.maxBytes, 2 * 2 ** 40);
});

test('a size that is not a size says how to write one', () => {
  const list = problems('storage:\n  maxBytes: 5 gigs\n');
  assert.equal(
    problemAt(list, 'storage.maxBytes'),
    "'5 gigs' is not a size: use a number of bytes or e.g. 500GB",
  );
  assert.match(problemAt(problems('storage: { maxBytes: 0 }'), 'storage.maxBytes'), /more than 0/);
});

test('the storage path is resolved against the config folder', () => {
  assert.equal(parse('storage: { path: ./recordings }').config.storage.path, '/etc/vigil/recordings');
  assert.equal(parse('storage: { path: ../vigil-data }').config.storage.path, '/etc/vigil-data');
  assert.equal(parse('storage: { path: /srv/vigil }').config.storage.path, '/srv/vigil');
});

test('listen is split into host and port, IPv6 included', () => {
  assert.deepEqual(parse('server: { listen: "[::1]:9000" }').config.server, {
    listen: '[::1]:9000',
    host: '::1',
    port: 9000,
    metricsAllowFrom: [],
  });
  assert.match(
    problemAt(problems('server: { listen: 8080 }'), 'server.listen'),
    /not host:port.*127\.0\.0\.1:8080/,
  );
  assert.match(problemAt(problems('server: { listen: "h:70000" }'), 'server.listen'), /0 to 65535/);
});

test('metricsAllowFrom takes addresses and CIDR blocks, and names the entry that is neither', () => {
  const { config } = parse('server: { metricsAllowFrom: ["10.0.5.0/24", " 192.168.1.20 ", "fd00::/8"] }');
  assert.deepEqual(config.server.metricsAllowFrom, ['10.0.5.0/24', '192.168.1.20', 'fd00::/8']);
  const list = problems('server: { metricsAllowFrom: ["10.0.5.0/24", "prometheus.lan", "10.0.0.0/33"] }');
  assert.match(problemAt(list, 'server.metricsAllowFrom[1]'), /'prometheus.lan' is not a network/);
  assert.match(problemAt(list, 'server.metricsAllowFrom[2]'), /prefix length/);
  assert.equal(list.length, 2);
});

test('environment variables are substituted in any string, URLs included', () => {
  const { config } = parse(
    `
storage: { path: "\${DATA}/vigil" }
cameras:
  - id: cam
    name: "\${NAME}"
    streams:
      main: { url: "rtsp://admin:\${PASS}@10.0.0.5/main" }
`,
    { DATA: '/srv', NAME: 'Yard: north # 1', PASS: 'pa55' },
  );
  assert.equal(config.storage.path, '/srv/vigil');
  const camera = config.cameras[0];
  assert.equal(camera?.name, 'Yard: north # 1');
  assert.equal(camera?.streams.main.url, 'rtsp://10.0.0.5/main');
  assert.equal(camera?.streams.main.password, 'pa55');
});

test('a secret with YAML-special characters is safe because substitution follows parsing', () => {
  const secret = `p@ss: "word" # {not: yaml} 'x'\n- y`;
  const { config } = parse(
    `
cameras:
  - id: cam
    streams:
      main:
        url: rtsp://10.0.0.5/main
        user: admin
        password: \${SECRET}
`,
    { SECRET: secret },
  );
  assert.equal(config.cameras[0]?.streams.main.password, secret);
});

test('$${ escapes a literal ${', () => {
  const { config } = parse(
    'cameras:\n  - id: cam\n    name: "cost $${PRICE} and ${X}"\n    streams: { main: { url: "testsrc:" } }\n',
    {
      X: 'y',
    },
  );
  assert.equal(config.cameras[0]?.name, 'cost ${PRICE} and y');
});

test('a missing environment variable names the variable and where it is used', () => {
  const error = parseError(
    'cameras:\n  - id: cam\n    streams:\n      main: { url: "rtsp://admin:${VIGIL_FRONT_PASSWORD}@10.0.0.5/main" }\n',
    'CONFIG_ENV_MISSING',
  );
  const list = error.details?.['problems'] as ConfigProblem[];
  assert.equal(list.length, 1, 'the unsubstituted URL is not reported again');
  assert.equal(list[0]?.path, 'cameras[0].streams.main.url');
  assert.match(list[0]?.message ?? '', /VIGIL_FRONT_PASSWORD/);
  assert.deepEqual(error.details?.['variables'], ['VIGIL_FRONT_PASSWORD']);
  assert.match(
    formatProblems(error).join('\n'),
    /cameras\[0\]\.streams\.main\.url: environment variable VIGIL_FRONT_PASSWORD/,
  );
});

test('a malformed variable reference is a problem', () => {
  assert.match(problemAt(problems('storage: { path: "${oops" }'), 'storage.path'), /not closed/);
  assert.match(
    problemAt(problems('storage: { path: "${a-b}" }'), 'storage.path'),
    /not a variable reference/,
  );
});

test('unknown keys are reported with their path and a guess', () => {
  assert.equal(
    problemAt(problems('recordng: {}'), 'recordng'),
    "unknown key 'recordng' (did you mean 'recording'?)",
  );
  assert.equal(
    problemAt(problems('recording: { segmentDuration: 5000 }'), 'recording.segmentDuration'),
    "unknown key 'segmentDuration' (did you mean 'segmentDurationMs'?)",
  );
  const list = problems(`
cameras:
  - id: cam
    colour: red
    streams:
      main: { url: "rtsp://h/x", transprot: udp }
`);
  assert.match(
    problemAt(list, 'cameras[0].colour'),
    /unknown key 'colour': allowed here are id, name, enabled/,
  );
  assert.match(problemAt(list, 'cameras[0].streams.main.transprot'), /did you mean 'transport'/);
});

test('all problems are reported at once, in file order', () => {
  const error = parseError(
    `
server: { listen: nowhere }
recording: { segmentDurationMs: 100 }
retention: { continuousDays: 0 }
ingest: { retryInitialMs: 5000, retryMaxMs: 1000 }
cameras:
  - id: Front Door
    streams:
      main: { url: "rtsp://h/x", transport: TCP, audio: loud }
  - streams: {}
`,
    'CONFIG_INVALID',
  );
  assert.equal(error.message, 'vigil.yaml: 9 problems');
  const list = error.details?.['problems'] as ConfigProblem[];
  assert.deepEqual(
    list.map((p) => p.path),
    [
      'server.listen',
      'recording.segmentDurationMs',
      'retention.continuousDays',
      'ingest.retryMaxMs',
      'cameras[0].id',
      'cameras[0].streams.main.transport',
      'cameras[0].streams.main.audio',
      'cameras[1].id',
      'cameras[1].streams.main',
    ],
  );
  assert.equal(problemAt(list, 'recording.segmentDurationMs'), 'must be at least 2000, got 100');
  assert.equal(
    problemAt(list, 'cameras[0].streams.main.transport'),
    "must be one of tcp, udp, got text 'TCP'",
  );
  assert.match(problemAt(list, 'cameras[0].id'), /'Front Door' is not a valid camera id/);
  assert.equal(problemAt(list, 'cameras[1].id'), 'is required');
  assert.match(problemAt(list, 'ingest.retryMaxMs'), /at least retryInitialMs \(5000\)/);
});

test('duplicate camera ids name both paths', () => {
  const list = problems(`
cameras:
  - id: yard
    streams: { main: { url: "rtsp://h/1" } }
  - id: gate
    streams: { main: { url: "rtsp://h/2" } }
  - id: yard
    streams: { main: { url: "rtsp://h/3" } }
`);
  assert.equal(list.length, 1);
  assert.equal(list[0]?.path, 'cameras[2].id');
  assert.match(list[0]?.message ?? '', /duplicate camera id 'yard'.*cameras\[0\]\.id/);
});

test('an unsupported URL scheme names the path and the supported schemes', () => {
  const list = problems('cameras:\n  - id: cam\n    streams: { main: { url: "onvif://10.0.0.5/" } }\n');
  assert.equal(
    problemAt(list, 'cameras[0].streams.main.url'),
    "unsupported URL scheme 'onvif:': use rtsp://, rtsps://, http://, https://, file: or testsrc:",
  );
  assert.match(
    problemAt(
      problems('cameras: [{ id: c, streams: { main: { url: "10.0.0.5/main" } } }]'),
      'cameras[0].streams.main.url',
    ),
    /no URL scheme/,
  );
});

test('URL problems are found even when other keys of the stream are wrong', () => {
  const list = problems('cameras: [{ id: c, streams: { main: { url: "onvif://x", audio: loud } } }]');
  assert.ok(list.some((p) => p.path === 'cameras[0].streams.main.url'));
  assert.ok(list.some((p) => p.path === 'cameras[0].streams.main.audio'));
});

test('credentials move from the URL into user and password', () => {
  const { config } = parse(
    'cameras: [{ id: c, streams: { main: { url: "rtsp://ad%20min:p%40ss%3Aw@10.0.0.5:554/main?ch=1" } } }]',
  );
  assert.deepEqual(config.cameras[0]?.streams.main, {
    url: 'rtsp://10.0.0.5:554/main?ch=1',
    transport: 'tcp',
    audio: 'auto',
    ingest: 'auto',
    user: 'ad min',
    password: 'p@ss:w',
  });
});

test('credentials given twice, or where they mean nothing, are problems', () => {
  const twice = problems(
    'cameras: [{ id: c, streams: { main: { url: "rtsp://a:b@h/x", user: a, password: b } } }]',
  );
  assert.match(problemAt(twice, 'cameras[0].streams.main.user'), /not both/);
  assert.match(problemAt(twice, 'cameras[0].streams.main.password'), /not both/);
  const local = problems('cameras: [{ id: c, streams: { main: { url: "testsrc:", user: a } } }]');
  assert.match(problemAt(local, 'cameras[0].streams.main.user'), /no user or password/);
  const lonely = problems('cameras: [{ id: c, streams: { main: { url: "rtsp://h/x", password: b } } }]');
  assert.match(problemAt(lonely, 'cameras[0].streams.main.user'), /needs a user/);
});

test('a numeric password asks for quotes and is not echoed', () => {
  const list = problems(
    'cameras: [{ id: c, streams: { main: { url: "rtsp://h/x", user: a, password: 123456 } } }]',
  );
  const message = problemAt(list, 'cameras[0].streams.main.password');
  assert.match(message, /put it in quotes/);
  assert.doesNotMatch(message, /123456/);
});

test('transport given for a non-RTSP stream is a problem', () => {
  const list = problems(
    'cameras: [{ id: c, streams: { main: { url: "http://h/video.mjpg", transport: udp } } }]',
  );
  assert.match(problemAt(list, 'cameras[0].streams.main.transport'), /rtsp:\/\/ and rtsps:\/\/ URLs only/);
});

test('file: URLs are made absolute against the config folder; testsrc: URLs are completed', () => {
  const { config } = parse(`
cameras:
  - id: a
    streams: { main: { url: "file:clips/yard.mp4" } }
  - id: b
    streams: { main: { url: "file:///srv/clip%20one.mp4" } }
  - id: c
    streams: { main: { url: "testsrc:?fps=5" } }
`);
  assert.equal(config.cameras[0]?.streams.main.url, 'file:///etc/vigil/clips/yard.mp4');
  assert.equal(config.cameras[1]?.streams.main.url, 'file:///srv/clip%20one.mp4');
  assert.equal(config.cameras[2]?.streams.main.url, 'testsrc:?size=1280x720&fps=5');
  assert.match(
    problemAt(
      problems('cameras: [{ id: c, streams: { main: { url: "testsrc:?size=big" } } }]'),
      'cameras[0].streams.main.url',
    ),
    /WIDTHxHEIGHT/,
  );
});

test('per-camera retention overrides the global one', () => {
  const { config } = parse(`
retention: { continuousDays: 2 }
cameras:
  - id: a
    streams: { main: { url: "testsrc:" } }
    retention: { continuousDays: 0.5 }
  - id: b
    streams: { main: { url: "testsrc:" } }
`);
  const [a, b] = config.cameras;
  assert.ok(a && b);
  assert.equal(retentionDaysFor(config, a), 0.5);
  assert.equal(retentionDaysFor(config, b), 2);
});

test('ffmpegPath: bare names stay for PATH lookup, paths are resolved', () => {
  assert.equal(parse('ingest: { ffmpegPath: ffmpeg6 }').config.ingest.ffmpegPath, 'ffmpeg6');
  assert.equal(
    parse('ingest: { ffmpegPath: ./bin/ffmpeg }').config.ingest.ffmpegPath,
    '/etc/vigil/bin/ffmpeg',
  );
  assert.equal(parse('').config.ingest.ffmpegPath, undefined);
});

test('YAML syntax errors are CONFIG_UNREADABLE with line and column', () => {
  const error = parseError(
    'server:\n  listen: 127.0.0.1:8080\ncameras:\n  - id: a\n   streams: x\n',
    'CONFIG_UNREADABLE',
  );
  assert.match(error.message, /^vigil\.yaml:5:\d+: YAML syntax error: /);
  assert.equal(error.details?.['line'], 5);
  assert.equal(typeof error.details?.['column'], 'number');
  const duplicate = parseError('server: {}\nserver: {}\n', 'CONFIG_UNREADABLE');
  assert.match(duplicate.message, /^vigil\.yaml:2:1: .*unique/);
});

test('a top level that is not a mapping is a problem', () => {
  assert.match(problemAt(problems('- a\n- b\n'), ''), /section of keys/);
  assert.match(formatProblems(parseError('just text', 'CONFIG_INVALID')).join('\n'), /\(top level\): /);
});

test('YAML merge keys work', () => {
  const { config } = parse(`
cameras:
  - id: a
    streams: { main: &cam { url: "rtsp://h/a", transport: udp, audio: off } }
  - id: b
    streams: { main: { <<: *cam, url: "rtsp://h/b" } }
`);
  assert.equal(config.cameras[1]?.streams.main.transport, 'udp');
  assert.equal(config.cameras[1]?.streams.main.url, 'rtsp://h/b');
});

test('loadConfigFile reads a file and resolves paths against its folder', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'vigil-config-'));
  try {
    const file = join(dir, 'vigil.yaml');
    await writeFile(
      file,
      'storage: { path: rec }\ncameras: [{ id: a, streams: { main: { url: "file:clip.mp4" } } }]\n',
    );
    const loaded = await loadConfigFile(file, {});
    assert.equal(loaded.sourcePath, file);
    assert.equal(loaded.config.storage.path, join(dir, 'rec'));
    assert.equal(loaded.config.cameras[0]?.streams.main.url, `file://${join(dir, 'clip.mp4')}`);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

test('a missing file is CONFIG_UNREADABLE naming the path', async () => {
  await assert.rejects(loadConfigFile('/nonexistent/vigil.yaml', {}), (err: unknown) => {
    assert.ok(err instanceof VigilError);
    assert.equal(err.code, 'CONFIG_UNREADABLE');
    assert.match(err.message, /\/nonexistent\/vigil\.yaml: no such file/);
    return true;
  });
});

test('formatProblems gives a summary line and one line per problem', () => {
  const error = parseError('recordng: {}\nserver: { listen: x }\n', 'CONFIG_INVALID');
  assert.deepEqual(formatProblems(error), [
    'vigil.yaml: 2 problems',
    "  recordng: unknown key 'recordng' (did you mean 'recording'?)",
    "  server.listen: 'x' is not host:port: use e.g. 127.0.0.1:8080, 0.0.0.0:8080 or [::1]:8080",
  ]);
  assert.deepEqual(formatProblems(new Error('boom')), ['boom']);
});

test('validateCamera checks an API body with the same rules', () => {
  const ok = validateCamera({ id: 'gate', streams: { main: { url: 'rtsp://u:p@10.0.0.9/main' } } });
  assert.ok(ok.ok);
  assert.equal(ok.camera.name, 'gate');
  assert.equal(ok.camera.streams.main.url, 'rtsp://10.0.0.9/main');
  assert.equal(ok.camera.streams.main.password, 'p');

  const bad = validateCamera({ id: 'Gate!', extra: 1, streams: { main: { url: 'ftp://x' } } }, '');
  assert.ok(!bad.ok);
  assert.deepEqual(
    bad.problems.map((p) => p.path),
    ['id', 'extra', 'streams.main.url'],
  );
  const prefixed = validateCamera({ streams: { main: { url: 'rtsp://h/x' } } }, 'body');
  assert.ok(!prefixed.ok);
  assert.equal(prefixed.problems[0]?.path, 'body.id');
  const relative = validateCamera({ id: 'f', streams: { main: { url: 'file:clip.mp4' } } });
  assert.ok(!relative.ok);
  assert.match(relative.problems[0]?.message ?? '', /absolute/);
});

test('parseConfigObject takes an object shaped like the file, without substitution', () => {
  const { config } = parseConfigObject(
    { storage: { path: 'd' }, cameras: [{ id: 'a', name: '${X}', streams: { main: { url: 'testsrc:' } } }] },
    { baseDir: '/x' },
  );
  assert.equal(config.storage.path, '/x/d');
  assert.equal(config.cameras[0]?.name, '${X}');
});

test('demoConfig plays footage when given, else a test pattern', () => {
  const withFootage = demoConfig({ storagePath: '/tmp/vigil-demo', footagePath: '/srv/footage/clip.mp4' });
  assert.equal(withFootage.sourcePath, undefined);
  assert.equal(withFootage.config.storage.path, '/tmp/vigil-demo');
  assert.equal(withFootage.config.cameras.length, 1);
  assert.equal(withFootage.config.cameras[0]?.id, 'demo');
  assert.equal(withFootage.config.cameras[0]?.streams.main.url, 'file:///srv/footage/clip.mp4');
  const pattern = demoConfig({ storagePath: '/tmp/vigil-demo' });
  assert.match(pattern.config.cameras[0]?.streams.main.url ?? '', /^testsrc:/);
});

test('a __proto__ key is an unknown key, not a prototype', () => {
  assert.equal(
    problemAt(problems('server:\n  __proto__: { listen: x }\n'), 'server.__proto__'),
    "unknown key '__proto__'",
  );
  const body = JSON.parse(
    '{"id":"a","__proto__":{"enabled":false},"streams":{"main":{"url":"testsrc:"}}}',
  ) as unknown;
  const result = validateCamera(body);
  assert.ok(!result.ok);
  assert.equal(result.problems[0]?.path, '__proto__');
});

test('a loaded camera validates again unchanged, so stored cameras can be re-checked', () => {
  const { config } = parse(`
cameras:
  - id: a
    streams:
      main: { url: "rtsp://admin:p%40ss@10.0.0.5/main", transport: udp, audio: off }
      sub: { url: "http://10.0.0.5/sub.mjpg" }
    retention: { continuousDays: 1 }
  - id: b
    streams: { main: { url: "file:clip.mp4" } }
`);
  for (const camera of config.cameras) {
    const again = validateCamera(JSON.parse(JSON.stringify(camera)));
    assert.ok(again.ok, JSON.stringify(again));
    assert.deepEqual(again.camera, camera);
  }
});

test('a variable value is not scanned again for references', () => {
  const { config } = parse('cameras: [{ id: a, name: "${N}", streams: { main: { url: "testsrc:" } } }]', {
    N: 'x ${HOME} $${y}',
  });
  assert.equal(config.cameras[0]?.name, 'x ${HOME} $${y}');
});

describe('retention beyond the EDPB guidance needs a reason on record', () => {
  test('longer continuous recording or events without a justification are refused, naming both', () => {
    const message = problemAt(
      problems('retention: { continuousDays: 30, eventsDays: 60 }'),
      'retention.justification',
    );
    assert.match(message, /continuousDays 30/);
    assert.match(message, /eventsDays 60/);
  });

  test('the guidance itself and anything shorter need none', () => {
    assert.equal(
      parse('retention: { continuousDays: 3, eventsDays: 14 }').config.retention.continuousDays,
      3,
    );
    assert.equal(parse('retention: { continuousDays: 0.5, eventsDays: 2 }').config.retention.eventsDays, 2);
  });

  test('with a justification, longer retention loads and keeps the reason', () => {
    const { config } = parse(
      "retention: { eventsDays: 30, justification: 'thefts are reported up to a month later' }",
    );
    assert.equal(config.retention.justification, 'thefts are reported up to a month later');
  });

  test('a one-word excuse is not a justification', () => {
    problemAt(
      problems("retention: { continuousDays: 7, justification: 'policy' }"),
      'retention.justification',
    );
  });

  test('a camera keeping more than 72 hours needs its own reason, in the file and through the API', () => {
    const yaml = (extra: string) => `
cameras:
  - id: gate
    streams: { main: { url: rtsp://10.0.0.5/main } }
    retention: { continuousDays: 10${extra} }
`;
    assert.match(problemAt(problems(yaml('')), 'cameras[0].retention.justification'), /72 hours/);
    const accepted = parse(yaml(", justification: 'the gate is checked on the weekly round only'"));
    assert.equal(
      accepted.config.cameras[0]?.retention?.justification,
      'the gate is checked on the weekly round only',
    );
    const api = validateCamera(
      { id: 'gate', streams: { main: { url: 'rtsp://10.0.0.5/main' } }, retention: { continuousDays: 10 } },
      '',
      { origin: 'api' },
    );
    assert.equal(api.ok, false);
  });
});

test('analytics.detector: backend, threads and a cache folder resolved against the config folder', () => {
  const { config } = parse(
    'analytics:\n  detector:\n    backend: tfjs\n    threads: 1\n    cacheDir: models\n',
  );
  assert.equal(config.analytics.detector.backend, 'tfjs');
  assert.equal(config.analytics.detector.threads, 1);
  assert.equal(config.analytics.detector.cacheDir, '/etc/vigil/models');
});

test('analytics.detector.backend only takes auto, onnx or tfjs', () => {
  const found = problems('analytics:\n  detector:\n    backend: cuda\n');
  assert.ok(
    found.some((p) => p.path.startsWith('analytics.detector.backend')),
    JSON.stringify(found),
  );
});

test('ingest: native is accepted for rtsp:// over TCP or UDP and refused elsewhere, saying why', () => {
  const camera = (stream: string) => `
cameras:
  - id: cam1
    streams:
      main: ${stream}
`;
  const { config } = parse(camera('{ url: "rtsp://10.0.0.5/main", ingest: native }'));
  assert.equal(config.cameras[0]?.streams.main.ingest, 'native');
  const udp = parse(camera('{ url: "rtsp://10.0.0.5/main", ingest: native, transport: udp }'));
  assert.deepEqual(
    [udp.config.cameras[0]?.streams.main.ingest, udp.config.cameras[0]?.streams.main.transport],
    ['native', 'udp'],
  );
  assert.equal(
    parse(camera('{ url: "http://10.0.0.5/video" }')).config.cameras[0]?.streams.main.ingest,
    'auto',
  );
  assert.match(
    problemAt(
      problems(camera('{ url: "http://10.0.0.5/video", ingest: native }')),
      'cameras[0].streams.main.ingest',
    ),
    /native ingest pulls rtsp:\/\/ URLs only, not http:/,
  );
});
