import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { promisify } from 'node:util';
import { startCameras, type TestCameras } from '../helpers/cameras.js';
import { apiFetch, REPO_ROOT, startTestVigil, tempDir, type TestVigil, waitFor } from '../helpers/vigil.js';

const execFileAsync = promisify(execFile);
const PASSWORD = 'Sup3r-s3cret!';

interface ApiError {
  error: { code: string; message: string };
}

function withoutCredentials(url: string): string {
  const u = new URL(url);
  u.username = '';
  u.password = '';
  return u.toString();
}

describe('camera API, credentials and malformed input', { timeout: 180_000 }, () => {
  let cameras: TestCameras;
  let vigil: TestVigil;

  async function call(method: string, path: string, body?: unknown, raw?: string) {
    const res = await apiFetch(`${vigil.url}${path}`, {
      method,
      headers: body !== undefined || raw !== undefined ? { 'content-type': 'application/json' } : {},
      body: raw ?? (body === undefined ? undefined : JSON.stringify(body)),
    });
    const text = await res.text();
    return { status: res.status, text, json: text ? (JSON.parse(text) as Record<string, unknown>) : {} };
  }

  async function mainStatus(id: string) {
    const { json } = await call('GET', `/api/cameras/${id}/status`);
    return (json.streams as Record<string, { state: string; lastError: { message: string } | null }>).main!;
  }

  before(async () => {
    cameras = await startCameras({ count: 2, user: 'admin', password: PASSWORD });
    process.env.VIGIL_TEST_CAM_PASSWORD = PASSWORD;
    vigil = await startTestVigil(`
storage: { path: ./data, minFreeBytes: 1MB }
cameras:
  - id: from-file
    streams:
      main:
        url: "${withoutCredentials(cameras.urls(1).main)}"
        user: admin
        password: "\${VIGIL_TEST_CAM_PASSWORD}"
`);
  });

  after(async () => {
    await vigil?.close();
    await cameras?.stop();
  });

  test('a camera with the wrong password reports the camera’s 401 in words', async () => {
    const created = await call('POST', '/api/cameras', {
      id: 'api-cam',
      name: 'Added at run time',
      streams: { main: { url: withoutCredentials(cameras.urls(2).main), user: 'admin', password: 'wrong' } },
    });
    assert.equal(created.status, 201, created.text);
    const status = await waitFor(
      'the 401',
      async () => {
        const s = await mainStatus('api-cam');
        return s.lastError ? s : undefined;
      },
      20_000,
    );
    assert.equal(status.lastError!.message, "401 Unauthorized: check the camera's user name and password");
    assert.equal(status.state, 'error');
  });

  test('fixing the password through PUT starts recording without a restart', async () => {
    const updated = await call('PUT', '/api/cameras/api-cam', {
      name: 'Added at run time',
      streams: { main: { url: withoutCredentials(cameras.urls(2).main), user: 'admin', password: PASSWORD } },
    });
    assert.equal(updated.status, 200, updated.text);
    await waitFor(
      'api-cam recording',
      async () => {
        const { json } = await call('GET', '/api/cameras/api-cam/recordings');
        return (json.recordings as unknown[]).length > 0;
      },
      15_000,
    );
    assert.equal((await mainStatus('from-file')).state, 'online');
  });

  test('no response carries a camera password', async () => {
    for (const path of [
      '/api/cameras',
      '/api/cameras/api-cam',
      '/api/cameras/from-file/status',
      '/api/health',
    ]) {
      const { text } = await call('GET', path);
      assert.equal(text.includes(PASSWORD), false, path);
      assert.equal(text.includes(encodeURIComponent(PASSWORD)), false, path);
    }
  });

  test('cameras from the config file are read-only through the API', async () => {
    const put = await call('PUT', '/api/cameras/from-file', {
      streams: { main: { url: 'rtsp://127.0.0.1/x' } },
    });
    assert.equal(put.status, 409);
    assert.equal((put.json as unknown as ApiError).error.code, 'CAMERA_FROM_CONFIG');
    const del = await call('DELETE', '/api/cameras/from-file');
    assert.equal((del.json as unknown as ApiError).error.code, 'CAMERA_FROM_CONFIG');
    const dup = await call('POST', '/api/cameras', {
      id: 'from-file',
      streams: { main: { url: 'rtsp://127.0.0.1/x' } },
    });
    assert.equal((dup.json as unknown as ApiError).error.code, 'CAMERA_EXISTS');
  });

  test('malformed requests get 4xx with a stable code and a message naming the problem', async () => {
    const cases: Array<[string, string, string | undefined, number, string, RegExp?]> = [
      ['POST', '/api/cameras', '{"id": "x", ', 400, 'REQUEST_INVALID'],
      ['POST', '/api/cameras', '[1,2]', 400, 'REQUEST_INVALID'],
      [
        'POST',
        '/api/cameras',
        '{"id":"x","streams":{"main":{"url":"rtsp://h/x"}},"colour":1}',
        400,
        'REQUEST_INVALID',
        /colour/,
      ],
      [
        'POST',
        '/api/cameras',
        '{"id":"x","streams":{"main":{"url":"ftp://h/x"}}}',
        400,
        'REQUEST_INVALID',
        /body\.streams\.main\.url/,
      ],
      [
        'POST',
        '/api/cameras',
        '{"id":"Bad Id","streams":{"main":{"url":"rtsp://h/x"}}}',
        400,
        'REQUEST_INVALID',
        /body\.id/,
      ],
      ['POST', '/api/cameras', `{"id":"x","pad":"${'a'.repeat(100_000)}"}`, 413, 'BODY_TOO_LARGE'],
      ['GET', '/api/cameras/from-file/recordings?from=yesterday', undefined, 400, 'TIME_INVALID', /'from'/],
      ['GET', '/api/cameras/from-file/recordings?from=2000&to=1000', undefined, 400, 'RANGE_INVALID'],
      ['GET', '/api/cameras/from-file/recordings?stream=third', undefined, 400, 'REQUEST_INVALID'],
      ['GET', '/api/cameras/from-file/export.mp4?from=0', undefined, 400, 'REQUEST_INVALID'],
      ['GET', '/api/cameras/nope/status', undefined, 404, 'CAMERA_NOT_FOUND'],
      ['GET', '/api/cameras/NOPE/status', undefined, 400, 'PATH_NOT_CANONICAL', /lower case/],
      ['GET', '/api/cameras/Nope/status', undefined, 400, 'PATH_NOT_CANONICAL'],
      [
        'GET',
        '/api/cameras/from-file/segments/1/..%2F..%2F..%2Fetc%2Fpasswd',
        undefined,
        400,
        'PATH_NOT_CANONICAL',
      ],
      ['GET', '/api/cameras/from-file/segments/999999/0-10.m4s', undefined, 404, 'SEGMENT_NOT_FOUND'],
      ['GET', '/api/cameras/from-file/vod.m3u8?from=0&to=1000', undefined, 404, 'NO_RECORDINGS'],
      ['GET', '/api/nothing-here', undefined, 404, 'NOT_FOUND'],
    ];
    for (const [method, path, raw, status, code, message] of cases) {
      const res = await call(method, path, undefined, raw);
      assert.equal(res.status, status, `${method} ${path}: ${res.text}`);
      const error = (res.json as unknown as ApiError).error;
      assert.equal(error.code, code, `${method} ${path}`);
      assert.ok(error.message.length > 10, `${method} ${path}: message '${error.message}'`);
      if (message) assert.match(error.message, message, `${method} ${path}`);
    }
    const health = await call('GET', '/api/health');
    assert.equal(health.status, 200);
  });

  test('removing a camera stops it and keeps the others recording', async () => {
    const del = await call('DELETE', '/api/cameras/api-cam');
    assert.equal(del.status, 204);
    assert.equal((await call('GET', '/api/cameras/api-cam')).status, 404);
    assert.equal((await mainStatus('from-file')).state, 'online');
  });
});

test('check-config lists every problem with its key path and exits 2', { timeout: 30_000 }, async () => {
  const file = join(tempDir(), 'bad.yaml');
  writeFileSync(
    file,
    'server: { listen: "nowhere" }\nrecordng: {}\ncameras:\n  - id: a\n    streams: { main: { url: "ftp://x" } }\n',
  );
  const result = await execFileAsync(
    process.execPath,
    ['--import', 'tsx', join(REPO_ROOT, 'src', 'cli', 'main.ts'), 'check-config', file],
    { cwd: REPO_ROOT },
  ).then(
    () => ({ code: 0, output: '' }),
    (err: { code: number; stdout: string; stderr: string }) => ({
      code: err.code,
      output: err.stdout + err.stderr,
    }),
  );
  assert.equal(result.code, 2);
  assert.match(result.output, /server\.listen/);
  assert.match(result.output, /recordng.*recording/);
  assert.match(result.output, /cameras\[0\]\.streams\.main\.url/);
});
