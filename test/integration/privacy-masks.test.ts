import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import sharp from 'sharp';
import type { AuditEntry } from '../../src/audit/entry.js';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { renderSnapshots, writeFileAtomic } from '../../src/events/snapshot.js';
import { readStoredZip, readZipEntry } from '../../src/export/zip.js';
import { snapshotPaths } from '../../src/events/store.js';
import { startCameras, type TestCameras } from '../helpers/cameras.js';
import { FFMPEG } from '../helpers/media-tools.js';
import { rawRequest } from '../helpers/raw-http.js';
import { BLACK_MAX, firstFrame, meanLuma, polygon, type Rect } from '../helpers/mask-pixels.js';
import { startTestVigil, tempDir, waitFor, type TestVigil } from '../helpers/vigil.js';

/**
 * Privacy masks end to end: real camera (the emulator, or the mini RTSP server), real ffmpeg
 * decoding the snapshot, real event snapshots rendered by the event code, the real API. Every
 * picture is checked pixel by pixel: black inside a mask for whoever must not see through it,
 * not black for an administrator during a lift, black again once the lift is over.
 */

const PASSWORD = 'a long enough passphrase 7';
const PERMANENT: Rect = [0.02, 0.02, 0.3, 0.3];
const LIFTABLE: Rect = [0.55, 0.55, 0.95, 0.95];
/** Inside each mask, away from its edges and from the event box drawn at 0.5..0.6. */
const PERMANENT_SAMPLE: Rect = [0.05, 0.05, 0.27, 0.27];
const LIFTABLE_SAMPLE: Rect = [0.63, 0.63, 0.92, 0.92];

describe('privacy masks on every picture and every export', { timeout: 180_000 }, () => {
  let cameras: TestCameras;
  let vigil: TestVigil;
  let port: number;
  const tokens = { viewer: '', operator: '', admin: '', adminNoUnmask: '', otherAdmin: '' };
  let eventId = 0;

  const get = (path: string, token: string) =>
    rawRequest(port, 'GET', path, { authorization: `Bearer ${token}` });
  const getJpeg = async (path: string, token: string): Promise<Buffer> => {
    const res = await fetch(`${vigil.url}${path}`, { headers: { authorization: `Bearer ${token}` } });
    assert.equal(res.status, 200, `${path}: ${res.status}`);
    assert.equal(res.headers.get('content-type'), 'image/jpeg');
    return Buffer.from(await res.arrayBuffer());
  };
  // fetch, not rawRequest: building a bundle may take longer than rawRequest waits on a busy machine.
  const post = async (path: string, token: string, body: unknown) => {
    const res = await fetch(`${vigil.url}${path}`, {
      method: 'POST',
      headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
      body: JSON.stringify(body),
    });
    return { statusCode: res.status, body: await res.text() };
  };

  async function auditEntries(action: string): Promise<AuditEntry[]> {
    return (await vigil.auth.audit.query({ action, limit: 100 })).entries;
  }

  /** The three pictures a caller can get of camera cam: live snapshot, event frame, event crop. */
  async function pictures(token: string) {
    return {
      snapshot: await getJpeg('/api/cameras/cam/snapshot.jpg', token),
      frame: await getJpeg(`/api/events/${eventId}/snapshot.jpg`, token),
      crop: await getJpeg(`/api/events/${eventId}/snapshot.jpg?crop=1`, token),
    };
  }

  /** The crop of the event covers frame 0.475..0.625 both ways; the liftable mask starts at 0.55. */
  const CROP_IN_MASK: Rect = [0.6, 0.6, 0.95, 0.95];
  const CROP_OUT_OF_MASK: Rect = [0.05, 0.05, 0.4, 0.4];

  async function assertHidden(token: string, who: string): Promise<void> {
    const { snapshot, frame, crop } = await pictures(token);
    for (const [name, jpeg] of [
      ['snapshot', snapshot],
      ['event frame', frame],
    ] as const) {
      assert.ok((await meanLuma(jpeg, PERMANENT_SAMPLE)) <= BLACK_MAX, `${who}: ${name} permanent mask`);
      assert.ok((await meanLuma(jpeg, LIFTABLE_SAMPLE)) <= BLACK_MAX, `${who}: ${name} liftable mask`);
    }
    assert.ok((await meanLuma(crop, CROP_IN_MASK)) <= BLACK_MAX, `${who}: crop's masked part`);
    assert.ok((await meanLuma(crop, CROP_OUT_OF_MASK)) > 30, `${who}: crop's unmasked part shows`);
  }

  async function assertLifted(token: string, who: string): Promise<void> {
    const { snapshot, frame, crop } = await pictures(token);
    for (const [name, jpeg] of [
      ['snapshot', snapshot],
      ['event frame', frame],
    ] as const) {
      assert.ok(
        (await meanLuma(jpeg, PERMANENT_SAMPLE)) <= BLACK_MAX,
        `${who}: ${name} permanent mask stays`,
      );
      const luma = await meanLuma(jpeg, LIFTABLE_SAMPLE);
      assert.ok(luma > 30, `${who}: ${name} liftable mask lifted (luma ${luma.toFixed(1)})`);
    }
    assert.ok((await meanLuma(crop, CROP_IN_MASK)) > 30, `${who}: crop lifted`);
  }

  before(async () => {
    cameras = await startCameras({ count: 1 });
    vigil = await startTestVigil(
      `
storage: { path: ./data, minFreeBytes: 1MB }
cameras:
  - id: cam
    streams:
      main: { url: "${cameras.urls(1).main}" }
    detect: { enabled: false }
    privacy:
      masks:
        - { id: window, name: "Neighbour's window", kind: permanent, polygon: ${JSON.stringify(polygon(PERMANENT))} }
        - { id: gate, kind: liftable, polygon: ${JSON.stringify(polygon(LIFTABLE))} }
  - id: other
    streams:
      main: { url: "testsrc:?size=320x240&fps=5" }
`,
      tempDir(),
    );
    port = Number(new URL(vigil.url).port);
    tokens.admin = vigil.token ?? '';
    const admin = await vigil.auth.store.findUser('admin');
    assert.ok(admin);
    tokens.adminNoUnmask = (
      await vigil.auth.store.createToken(admin.id, { label: 'wall', scopes: ['live.view', 'events.view'] })
    ).token;
    for (const role of ['viewer', 'operator'] as const) {
      const user = await vigil.auth.store.createUser({ name: role, role, password: PASSWORD });
      tokens[role] = (await vigil.auth.store.createToken(user.id, { label: 't' })).token;
    }
    const other = await vigil.auth.store.createUser({ name: 'admin2', role: 'admin', password: PASSWORD });
    tokens.otherAdmin = (await vigil.auth.store.createToken(other.id, { label: 't' })).token;

    // A frame of the camera as it is, unmasked, straight from the stream.
    const raw = await waitFor(
      'a frame from the camera',
      () => vigil.cameras.stream('cam', 'main').gop.snapshot(FFMPEG),
      30_000,
      500,
    );
    for (const rect of [PERMANENT_SAMPLE, LIFTABLE_SAMPLE]) {
      assert.ok((await meanLuma(raw, rect)) > 30, 'the footage itself is not dark where the masks are');
    }
    // An event with snapshots rendered by the event code from that frame.
    const { data, info } = await sharp(raw).removeAlpha().raw().toBuffer({ resolveWithObject: true });
    const image = { data, width: info.width, height: info.height };
    const box = {
      x: 0.5 * info.width,
      y: 0.5 * info.height,
      width: 0.1 * info.width,
      height: 0.1 * info.height,
    };
    const jpegs = await renderSnapshots(image, box);
    const nowMs = Date.now();
    const event = await vigil.events.store.insert({
      cameraId: 'cam',
      label: 'person',
      trackId: 1,
      startTimeMs: nowMs - 2000,
      endTimeMs: nowMs,
      maxScore: 0.9,
      box: { x: 0.5, y: 0.5, width: 0.1, height: 0.1 },
      path: [],
      zones: [],
      snapshotPath: null,
      cropPath: null,
      snapshotTimeMs: null,
      clipStartMs: nowMs - 7000,
      clipEndMs: nowMs + 5000,
      createdAtMs: nowMs,
      updatedAtMs: nowMs,
    });
    const paths = snapshotPaths(event);
    await writeFileAtomic(vigil.events.store.absolute(paths.frame), jpegs.frame);
    await writeFileAtomic(vigil.events.store.absolute(paths.crop), jpegs.crop);
    await vigil.events.store.save({
      ...event,
      snapshotPath: paths.frame,
      cropPath: paths.crop,
      snapshotTimeMs: nowMs - 1000,
      cropRegion: {
        x: jpegs.cropRegion.x / info.width,
        y: jpegs.cropRegion.y / info.height,
        width: jpegs.cropRegion.width / info.width,
        height: jpegs.cropRegion.height / info.height,
      },
    });
    eventId = event.id;
  });

  after(async () => {
    await vigil?.close();
    await cameras?.stop();
  });

  test('a viewer, an operator and an administrator without a lift get every mask blacked out', async () => {
    await assertHidden(tokens.viewer, 'viewer');
    await assertHidden(tokens.operator, 'operator');
    await assertHidden(tokens.admin, 'admin without a lift');
  });

  test('an administrator sees through the liftable mask during a lift, and only they do', async () => {
    const started = await post('/api/cameras/cam/privacy/lifts', tokens.admin, {
      reason: 'incident 17: gate',
      durationMs: 600_000,
    });
    assert.equal(started.statusCode, 201, started.body);
    const lift = JSON.parse(started.body) as { id: number; expiresAtMs: number; mine: boolean };
    assert.equal(lift.mine, true);
    await assertLifted(tokens.admin, 'admin with a lift');
    await assertHidden(tokens.viewer, 'viewer during the lift');
    await assertHidden(tokens.otherAdmin, 'another admin during the lift');
    await assertHidden(tokens.adminNoUnmask, "the admin's token without unmask");

    const listed = await get('/api/cameras/cam/privacy/lifts', tokens.otherAdmin);
    assert.equal(listed.statusCode, 200);
    assert.deepEqual(
      (
        JSON.parse(listed.body) as { lifts: Array<{ id: number; userName: string; mine: boolean }> }
      ).lifts.map((l) => [l.id, l.userName, l.mine]),
      [[lift.id, 'admin', false]],
    );

    const ended = await rawRequest(port, 'DELETE', `/api/cameras/cam/privacy/lifts/${lift.id}`, {
      authorization: `Bearer ${tokens.admin}`,
    });
    assert.equal(ended.statusCode, 204, ended.body);
    await assertHidden(tokens.admin, 'admin after ending the lift');

    const starts = await auditEntries('privacy.lift.start');
    assert.equal(starts.length, 1);
    assert.equal(starts[0]!.target, 'camera:cam');
    assert.equal(starts[0]!.details['reason'], 'incident 17: gate');
    assert.deepEqual(starts[0]!.actor, {
      kind: 'token',
      name: 'admin',
      tokenId: starts[0]!.actor.kind === 'token' ? starts[0]!.actor.tokenId : -1,
    });
    const ends = await auditEntries('privacy.lift.end');
    assert.equal(ends.length, 1);
    assert.equal(ends[0]!.details['liftId'], lift.id);
  });

  test('a lift that runs out hides the mask again and is audited as expired', async () => {
    const started = await post('/api/cameras/cam/privacy/lifts', tokens.admin, {
      reason: 'short look',
      durationMs: 2000,
    });
    assert.equal(started.statusCode, 201, started.body);
    const lift = JSON.parse(started.body) as { id: number; expiresAtMs: number };
    const snapshot = await getJpeg('/api/cameras/cam/snapshot.jpg', tokens.admin);
    assert.ok((await meanLuma(snapshot, LIFTABLE_SAMPLE)) > 30, 'lifted at first');
    await waitFor(
      'the expiry in the audit log',
      async () =>
        (await auditEntries('privacy.lift.expire')).some((e) => e.details['liftId'] === lift.id)
          ? true
          : undefined,
      10_000,
    );
    await assertHidden(tokens.admin, 'admin after the lift expired');
  });

  test('nobody else can lift: viewer, operator, a token without unmask; nor on a camera without liftable masks', async () => {
    const body = { reason: 'curious', durationMs: 60_000 };
    for (const [who, token] of [
      ['viewer', tokens.viewer],
      ['operator', tokens.operator],
      ['token without unmask', tokens.adminNoUnmask],
    ] as const) {
      const res = await post('/api/cameras/cam/privacy/lifts', token, body);
      assert.equal(res.statusCode, 403, `${who}: ${res.body}`);
      assert.equal((await get('/api/cameras/cam/privacy/lifts', token)).statusCode, 403, `${who} lists`);
    }
    const other = await post('/api/cameras/other/privacy/lifts', tokens.admin, body);
    assert.equal(other.statusCode, 409, other.body);
    assert.match(other.body, /NO_LIFTABLE_MASKS/);
    // Spellings that an access check and the router could read differently.
    for (const path of [
      '/api/cameras/cam/privacy/%6cifts',
      '/api/cameras/cam/privacy/./lifts',
      '/api/cameras/other/../cam/privacy/lifts',
      '/api/cameras/%63am/privacy/lifts',
    ]) {
      // Raw, as sent: fetch would resolve the dot segments before the server sees them.
      const res = await rawRequest(
        port,
        'POST',
        path,
        { authorization: `Bearer ${tokens.viewer}`, 'content-type': 'application/json' },
        JSON.stringify(body),
      );
      assert.ok(res.statusCode === 400 || res.statusCode === 404, `${path}: ${res.statusCode}`);
    }
    // Too long, no reason, unknown keys.
    for (const bad of [
      { reason: 'x', durationMs: 3_600_001 },
      { durationMs: 60_000 },
      { reason: '', durationMs: 60_000 },
      { reason: 'x', durationMs: 60_000, userId: 2 },
    ]) {
      assert.equal(
        (await post('/api/cameras/cam/privacy/lifts', tokens.admin, bad)).statusCode,
        400,
        JSON.stringify(bad),
      );
    }
    assert.equal(
      (await auditEntries('privacy.lift.start')).length,
      2,
      'only the two lifts above were started',
    );
  });

  test('the masks are part of the camera as the API shows it', async () => {
    const res = await get('/api/cameras/cam', tokens.viewer);
    const camera = JSON.parse(res.body) as { privacy: { masks: Array<{ id: string; kind: string }> } };
    assert.deepEqual(
      camera.privacy.masks.map((m) => [m.id, m.kind]),
      [
        ['window', 'permanent'],
        ['gate', 'liftable'],
      ],
    );
  });

  test('video taken away is masked too: the MP4 export and the signed bundle, whose manifest says so', async () => {
    const range = { from: String(Date.now() - 8000), to: String(Date.now()) };
    const mp4 = await fetch(`${vigil.url}/api/cameras/cam/export.mp4?from=${range.from}&to=${range.to}`, {
      headers: { authorization: `Bearer ${tokens.operator}` },
    });
    assert.equal(mp4.status, 200);
    const exported = await firstFrame(Buffer.from(await mp4.arrayBuffer()));
    assert.ok((await meanLuma(exported, PERMANENT_SAMPLE)) <= BLACK_MAX, 'export: permanent mask');
    assert.ok((await meanLuma(exported, LIFTABLE_SAMPLE)) <= BLACK_MAX, 'export: liftable mask');

    const created = await post('/api/cameras/cam/exports', tokens.operator, { ...range, reason: 'case 4' });
    assert.equal(created.statusCode, 201, created.body);
    const view = JSON.parse(created.body) as { id: number; downloadPath: string };
    const zip = await fetch(`${vigil.url}${view.downloadPath}`, {
      headers: { authorization: `Bearer ${tokens.operator}` },
    });
    assert.equal(zip.status, 200);
    const dir = await mkdtemp(join(tmpdir(), 'vigil-mask-bundle-'));
    try {
      const path = join(dir, 'bundle.zip');
      await writeFile(path, Buffer.from(await zip.arrayBuffer()));
      const { entries } = await readStoredZip(path);
      const entry = (name: string) => entries.find((e) => e.name === name)!;
      const video = (await readZipEntry(path, entry('video.mp4'))).bytes;
      const frame = await firstFrame(video);
      assert.ok((await meanLuma(frame, PERMANENT_SAMPLE)) <= BLACK_MAX, 'bundle: permanent mask');
      assert.ok((await meanLuma(frame, LIFTABLE_SAMPLE)) <= BLACK_MAX, 'bundle: liftable mask');
      const manifest = JSON.parse(
        (await readZipEntry(path, entry('manifest.json'))).bytes.toString('utf8'),
      ) as {
        transforms: Array<{ name: string; polygons: unknown[] }>;
      };
      assert.deepEqual(
        manifest.transforms.map((t) => [t.name, t.polygons.length]),
        [['privacy-masks', 2]],
        'the manifest declares the masks burnt in',
      );
    } finally {
      await rm(dir, { recursive: true, force: true });
    }

    // An administrator's bundle made during a lift shows the liftable area: nobody who may not see
    // it gets that bundle, whatever their export permission.
    const lift = await post('/api/cameras/cam/privacy/lifts', tokens.admin, {
      reason: 'case 4',
      durationMs: 60_000,
    });
    assert.equal(lift.statusCode, 201, lift.body);
    const adminBundle = await post('/api/cameras/cam/exports', tokens.admin, {
      ...range,
      reason: 'case 4, unmasked',
    });
    assert.equal(adminBundle.statusCode, 201, adminBundle.body);
    const adminView = JSON.parse(adminBundle.body) as { downloadPath: string };
    await rawRequest(
      port,
      'DELETE',
      `/api/cameras/cam/privacy/lifts/${(JSON.parse(lift.body) as { id: number }).id}`,
      {
        authorization: `Bearer ${tokens.admin}`,
      },
    );
    const refused = await get(adminView.downloadPath, tokens.operator);
    assert.equal(refused.statusCode, 403, refused.body);
    assert.match(refused.body, /privacy masks hidden from you/);
    assert.equal((await get(adminView.downloadPath, tokens.admin)).statusCode, 200, 'its exporter still may');
  });
});
