import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { principalFor } from '../../src/auth/store.js';
import type { ApprovalOutcome } from '../../src/contract/approvals.js';
import type { ExportView } from '../../src/contract/exports.js';
import { readStoredZip, readZipEntry } from '../../src/export/zip.js';
import { startCameras, type TestCameras } from '../helpers/cameras.js';
import { FFMPEG } from '../helpers/media-tools.js';
import { BLACK_MAX, firstFrame, meanLuma, polygon, type Rect } from '../helpers/mask-pixels.js';
import { startTestVigil, tempDir, waitFor, type TestVigil } from '../helpers/vigil.js';

/**
 * Exporting what liftable privacy masks hide, where the installation requires a second person
 * for it (`approvals.require: [export.unredacted]`): a lift is then for watching only, so every
 * export of its holder stays masked; a bundle asked for `unmasked` waits for another user with
 * `unmask`, and is built for its requester (permanent masks still burnt in) once approved, even
 * if their lift has ended meanwhile. Checked on the decoded pixels of the real camera's video.
 */

const PASSWORD = 'a long enough passphrase 7';
const PERMANENT: Rect = [0.02, 0.02, 0.3, 0.3];
const LIFTABLE: Rect = [0.55, 0.55, 0.95, 0.95];
const PERMANENT_SAMPLE: Rect = [0.05, 0.05, 0.27, 0.27];
const LIFTABLE_SAMPLE: Rect = [0.63, 0.63, 0.92, 0.92];

describe('exporting under liftable masks needs a second person', { timeout: 180_000 }, () => {
  let cameras: TestCameras;
  let vigil: TestVigil;
  const tokens = { admin: '', admin2: '', operator: '' };
  const range = { from: '', to: '' };

  function call(method: string, path: string, token: string, body?: unknown) {
    return fetch(`${vigil.url}${path}`, {
      method,
      headers: {
        authorization: `Bearer ${token}`,
        ...(body !== undefined ? { 'content-type': 'application/json' } : {}),
      },
      ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
    });
  }

  /** The first frame of a bundle's video, and the masks its manifest declares. */
  async function bundleFrame(view: ExportView, token: string): Promise<{ frame: Buffer; polygons: number }> {
    const zip = await call('GET', view.downloadPath, token);
    assert.equal(zip.status, 200);
    const dir = await mkdtemp(join(tmpdir(), 'vigil-unredacted-bundle-'));
    try {
      const path = join(dir, 'bundle.zip');
      await writeFile(path, Buffer.from(await zip.arrayBuffer()));
      const { entries } = await readStoredZip(path);
      const entry = (name: string) => entries.find((e) => e.name === name)!;
      const manifest = JSON.parse(
        (await readZipEntry(path, entry('manifest.json'))).bytes.toString('utf8'),
      ) as {
        transforms: Array<{ name: string; polygons: unknown[] }>;
      };
      const masks = manifest.transforms.find((t) => t.name === 'privacy-masks');
      return {
        frame: await firstFrame((await readZipEntry(path, entry('video.mp4'))).bytes),
        polygons: masks?.polygons.length ?? 0,
      };
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  }

  before(async () => {
    cameras = await startCameras({ count: 1 });
    vigil = await startTestVigil(
      `
storage: { path: ./data, minFreeBytes: 1MB }
recording: { segmentDurationMs: 2000 }
approvals: { require: [export.unredacted] }
cameras:
  - id: cam
    streams:
      main: { url: "${cameras.urls(1).main}" }
    detect: { enabled: false }
    privacy:
      masks:
        - { id: window, kind: permanent, polygon: ${JSON.stringify(polygon(PERMANENT))} }
        - { id: gate, kind: liftable, polygon: ${JSON.stringify(polygon(LIFTABLE))} }
  - id: plain
    streams:
      main: { url: "testsrc:?size=320x240&fps=5" }
`,
      tempDir(),
    );
    tokens.admin = vigil.token ?? '';
    const make = async (name: string, role: 'admin' | 'operator') => {
      const user = await vigil.auth.store.createUser({ name, role, password: PASSWORD });
      return (await vigil.auth.store.createToken(user.id, { label: 't' })).token;
    };
    tokens.admin2 = await make('admin2', 'admin');
    tokens.operator = await make('olga', 'operator');
    const raw = await waitFor(
      'a frame from the camera',
      () => vigil.cameras.stream('cam', 'main').gop.snapshot(FFMPEG),
      30_000,
      500,
    );
    assert.ok((await meanLuma(raw, LIFTABLE_SAMPLE)) > 30, 'the footage is not dark under the liftable mask');
    await waitFor(
      'two closed segments',
      async () =>
        (await vigil.index.inRange('cam', 'main', 0, Date.now() + 60_000)).filter((r) => r.state !== 'open')
          .length >= 2 || undefined,
      60_000,
    );
    range.from = String(Date.now() - 8000);
    range.to = String(Date.now());
  });

  after(async () => {
    await vigil?.close();
    await cameras?.stop();
  });

  test('with a lift, watching shows the liftable area but every export stays masked', async () => {
    const lift = await call('POST', '/api/cameras/cam/privacy/lifts', tokens.admin, {
      reason: 'case 9',
      durationMs: 60_000,
    });
    assert.equal(lift.status, 201);
    const snapshot = Buffer.from(
      await (await call('GET', '/api/cameras/cam/snapshot.jpg', tokens.admin)).arrayBuffer(),
    );
    assert.ok((await meanLuma(snapshot, LIFTABLE_SAMPLE)) > 30, 'the live picture is lifted');

    const mp4 = await call(
      'GET',
      `/api/cameras/cam/export.mp4?from=${range.from}&to=${range.to}`,
      tokens.admin,
    );
    assert.equal(mp4.status, 200);
    const exported = await firstFrame(Buffer.from(await mp4.arrayBuffer()));
    assert.ok((await meanLuma(exported, LIFTABLE_SAMPLE)) <= BLACK_MAX, 'the MP4 export is masked');

    const created = await call('POST', '/api/cameras/cam/exports', tokens.admin, {
      ...range,
      reason: 'case 9',
    });
    assert.equal(created.status, 201);
    const { frame, polygons } = await bundleFrame((await created.json()) as ExportView, tokens.admin);
    assert.equal(polygons, 2, 'both masks declared');
    assert.ok((await meanLuma(frame, LIFTABLE_SAMPLE)) <= BLACK_MAX, 'the bundle is masked');
    const { id } = (await lift.json()) as { id: number };
    assert.equal((await call('DELETE', `/api/cameras/cam/privacy/lifts/${id}`, tokens.admin)).status, 204);
  });

  test('an unmasked bundle waits for a second user with unmask; nobody else may ask or approve', async () => {
    const asked = { ...range, reason: 'police request 5521', unmasked: true };
    const byOperator = await call('POST', '/api/cameras/cam/exports', tokens.operator, asked);
    assert.equal(byOperator.status, 403, 'an operator has no unmask');
    const noMasks = await call('POST', '/api/cameras/plain/exports', tokens.admin, asked);
    assert.equal(noMasks.status, 409);
    assert.equal(((await noMasks.json()) as { error: { code: string } }).error.code, 'NO_LIFTABLE_MASKS');

    const pending = await call('POST', '/api/cameras/cam/exports', tokens.admin, asked);
    assert.equal(pending.status, 202, await pending.clone().text());
    const outcome = (await pending.json()) as ApprovalOutcome;
    assert.equal(outcome.status, 'pending');
    const requestId = outcome.status === 'pending' ? outcome.request.id : 0;
    const before = (
      (await (await call('GET', '/api/exports', tokens.admin)).json()) as { exports: ExportView[] }
    ).exports.length;

    // Approving needs a signed-in session (no API token); the service is what that route calls.
    const callerNamed = async (name: string) => ({
      principal: principalFor((await vigil.auth.store.findUser(name))!),
      ip: null,
    });
    await assert.rejects(vigil.approvals.approve(await callerNamed('admin'), requestId), /another user/);
    // Someone without unmask on the camera does not even see the request.
    await assert.rejects(
      vigil.approvals.approve(await callerNamed('olga'), requestId),
      /no approval request/,
    );
    const listed = (
      (await (await call('GET', '/api/exports', tokens.admin)).json()) as { exports: ExportView[] }
    ).exports;
    assert.equal(listed.length, before, 'nothing built before approval');

    await vigil.approvals.approve(await callerNamed('admin2'), requestId);
    const after = (
      (await (await call('GET', '/api/exports', tokens.admin)).json()) as { exports: ExportView[] }
    ).exports;
    const made = after.find((e) => e.reason === 'police request 5521');
    assert.ok(made, 'the bundle is built, for its requester');
    assert.equal(made.userName, 'admin');
    const { frame, polygons } = await bundleFrame(made, tokens.admin);
    assert.equal(polygons, 1, 'only the permanent mask is declared');
    assert.ok((await meanLuma(frame, PERMANENT_SAMPLE)) <= BLACK_MAX, 'the permanent mask stays');
    const luma = await meanLuma(frame, LIFTABLE_SAMPLE);
    assert.ok(luma > 30, `the liftable area shows (luma ${luma.toFixed(1)}), without a lift now`);
    const refused = await call('GET', made.downloadPath, tokens.operator);
    assert.equal(refused.status, 403, 'an operator does not get it');
  });
});
