import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { promisify } from 'node:util';
import { FFPROBE } from '../helpers/media-tools.js';
import { startTestVigil, tempDir, waitFor, type TestVigil } from '../helpers/vigil.js';

const execFileAsync = promisify(execFile);
const PASSWORD = 'a long enough passphrase 7';

describe('POST /api/cameras/:id/redacted-export', { timeout: 180_000 }, () => {
  let vigil: TestVigil;
  let operatorToken: string;
  let viewerToken: string;
  let narrowToken: string;
  let grantedToken: string;
  let fromMs: number;
  let toMs: number;

  const post = (camera: string, token: string, body: unknown) =>
    vigil.server.inject({
      method: 'POST',
      url: `/api/cameras/${camera}/redacted-export`,
      headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
      payload: JSON.stringify(body),
    });

  before(async () => {
    vigil = await startTestVigil(
      `
storage: { path: ./data, minFreeBytes: 1MB }
recording: { segmentDurationMs: 4000 }
cameras:
  - id: cam
    streams:
      main: { url: "testsrc:?size=320x240&fps=5" }
  - id: other
    streams:
      main: { url: "testsrc:?size=320x240&fps=5" }
`,
      tempDir(),
    );
    const operator = await vigil.auth.store.createUser({ name: 'op', role: 'operator', password: PASSWORD });
    operatorToken = (await vigil.auth.store.createToken(operator.id, { label: 'export' })).token;
    narrowToken = (
      await vigil.auth.store.createToken(operator.id, { label: 'watch only', scopes: ['playback.view'] })
    ).token;
    const viewer = await vigil.auth.store.createUser({ name: 'viewer', role: 'viewer', password: PASSWORD });
    viewerToken = (await vigil.auth.store.createToken(viewer.id, { label: 'wall' })).token;
    const guard = await vigil.auth.store.createUser({
      name: 'guard',
      role: 'operator',
      password: PASSWORD,
      cameras: ['cam'],
    });
    grantedToken = (await vigil.auth.store.createToken(guard.id, { label: 'cam only' })).token;
    await waitFor(
      'a closed segment',
      async () => {
        const segments = await vigil.index.inRange('cam', 'main', 0, Date.now() + 60_000);
        return segments.some((s) => s.state !== 'open') ? true : undefined;
      },
      30_000,
    );
    const first = (await vigil.index.inRange('cam', 'main', 0, Date.now()))[0]!;
    fromMs = first.start_time_ms;
    toMs = first.end_time_ms!;
  });

  after(async () => {
    await vigil?.close();
  });

  test('a hand-drawn box: an H.264 MP4 without audio, what was hidden in a header and in the audit log', async () => {
    const res = await post('cam', operatorToken, {
      from: String(fromMs),
      to: String(toMs),
      redaction: {
        mode: 'manual',
        manualBoxes: [
          {
            keys: [
              { atMs: 0, box: { x: 0.25, y: 0.25, width: 0.5, height: 0.5 } },
              { atMs: 60_000, box: { x: 0.25, y: 0.25, width: 0.5, height: 0.5 } },
            ],
          },
        ],
      },
    });
    assert.equal(res.statusCode, 200, res.body.slice(0, 300));
    assert.equal(res.headers['content-type'], 'video/mp4');
    assert.match(String(res.headers['content-disposition']), /cam-.*-redacted\.mp4/);
    assert.match(decodeURIComponent(String(res.headers['vigil-redaction'])), /1 hand-drawn box/);
    const file = join(tempDir(), 'redacted.mp4');
    await writeFile(file, res.rawPayload);
    const { stdout } = await execFileAsync(FFPROBE, [
      ...[
        '-v',
        'error',
        '-show_entries',
        'stream=codec_type,codec_name,width,height',
        '-of',
        'csv=p=0',
        file,
      ],
    ]);
    assert.deepEqual(stdout.trim().split('\n'), ['h264,video,320,240']);

    const entry = await waitFor(
      'the audit entry',
      async () =>
        (await vigil.auth.audit.query({ action: 'export.create', limit: 100 })).entries.find(
          (e) => e.details?.['redaction'] !== undefined,
        ),
      5_000,
    );
    assert.equal(entry.details?.['stream'], 'main');
    assert.deepEqual((entry.details?.['redaction'] as { mode: string }).mode, 'manual');
    assert.match(String(entry.details?.['description']), /hand-drawn/);
  });

  test('refused without export.create, on another camera, and with a token narrowed to playback', async () => {
    const body = { from: String(fromMs), to: String(toMs), redaction: { mode: 'faces' } };
    for (const [token, camera, who] of [
      [viewerToken, 'cam', 'a viewer'],
      [narrowToken, 'cam', 'a token scoped to playback.view'],
      [grantedToken, 'other', 'an operator granted only cam'],
    ] as const) {
      const res = await post(camera, token, body);
      assert.equal(res.statusCode, 403, `${who}: ${res.statusCode} ${res.body.slice(0, 200)}`);
    }
    const encoded = await vigil.server.inject({
      method: 'POST',
      url: '/api/cameras/other/redacted%2Dexport',
      headers: { authorization: `Bearer ${grantedToken}`, 'content-type': 'application/json' },
      payload: JSON.stringify(body),
    });
    // The path checker refuses escaped spellings before any route runs.
    assert.equal(encoded.statusCode, 400);
    assert.equal(JSON.parse(encoded.body).error.code, 'PATH_NOT_CANONICAL');
  });

  test('options that cannot work are refused before any video is read', async () => {
    const cases: Array<[unknown, string]> = [
      [{ mode: 'all-except-track' }, 'REDACTION_INVALID'],
      [{ mode: 'all-except-track', keepEventId: 424242 }, 'EVENT_NOT_FOUND'],
      [{ mode: 'manual' }, 'REDACTION_INVALID'],
      [{ mode: 'everyone' }, 'REQUEST_INVALID'],
    ];
    for (const [redaction, code] of cases) {
      const res = await post('cam', operatorToken, { from: String(fromMs), to: String(toMs), redaction });
      assert.equal(
        JSON.parse(res.body).error?.code,
        code,
        `${JSON.stringify(redaction)}: ${res.body.slice(0, 200)}`,
      );
    }
  });
});
