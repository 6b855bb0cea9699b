import assert from 'node:assert/strict';
import { createHash, generateKeyPairSync } from 'node:crypto';
import { readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test, type TestContext } from 'node:test';
import type { AuditEntry } from '../../src/audit/entry.js';
import type {
  CreatedShare,
  ExportList,
  ExportView,
  SigningKeyResponse,
  VerifyResponse,
} from '../../src/contract/exports.js';
import { BUNDLE_FILES } from '../../src/export/manifest.js';
import { readStoredZip } from '../../src/export/zip.js';
import { startCameras, type TestCameras } from '../helpers/cameras.js';
import { runCli, startTestVigil, tempDir, waitFor, type TestVigil } from '../helpers/vigil.js';

/**
 * Signed export bundles end to end: record from an emulated camera, build a bundle through the
 * API, download it, verify it offline with `vigil verify` in its own process, then change one
 * byte of each part and see the verdict name it. Share links work without an account, are
 * audited, expire, and are refused after revocation and for a wrong token.
 */

const PASSWORD = 'a long enough passphrase 7';

describe('signed export bundles', { timeout: 240_000 }, () => {
  let cameras: TestCameras;
  let vigil: TestVigil;
  let operator: string;
  let viewer: string;
  let guard: string;
  let bundle: ExportView;
  let zipPath: string;
  let zipBytes: Buffer;
  const work = tempDir('vigil-bundles-');

  function call(
    method: string,
    path: string,
    token: string | null,
    body?: unknown,
    type = 'application/json',
  ) {
    return fetch(`${vigil.url}${path}`, {
      method,
      headers: {
        ...(token ? { authorization: `Bearer ${token}` } : {}),
        ...(body !== undefined ? { 'content-type': type } : {}),
      },
      ...(body !== undefined ? { body: body instanceof Buffer ? body : JSON.stringify(body) } : {}),
    });
  }

  async function entries(action: string): Promise<AuditEntry[]> {
    // Appends are queued: a marker appended now lands after every entry the requests queued.
    await vigil.auth.audit.append({
      actor: { kind: 'system' },
      action: 'config.change',
      target: 'test:marker',
    });
    // The filter takes 'export.share' to mean its sub-actions too: exactly this action is kept.
    return (await vigil.auth.audit.query({ action, limit: 100 })).entries.filter((e) => e.action === action);
  }

  before(async () => {
    cameras = await startCameras({ count: 1 });
    vigil = await startTestVigil(
      `
storage: { path: ./data, minFreeBytes: 1MB }
recording: { segmentDurationMs: 3000 }
cameras:
  - id: cam1
    name: Camera one
    streams:
      main: { url: "${cameras.urls(1).main}" }
  - id: other
    streams:
      main: { url: "testsrc:?size=320x240&fps=5" }
`,
      work,
    );
    const token = async (name: string, role: 'operator' | 'viewer', grants?: string[]) => {
      const user = await vigil.auth.store.createUser({
        name,
        role,
        password: PASSWORD,
        ...(grants ? { cameras: grants } : {}),
      });
      return (await vigil.auth.store.createToken(user.id, { label: 't' })).token;
    };
    operator = await token('olga', 'operator');
    viewer = await token('vic', 'viewer');
    guard = await token('guard', 'operator', ['other']);
    await waitFor(
      'two closed segments of cam1',
      async () => {
        const rows = await vigil.index.inRange('cam1', 'main', 0, Date.now() + 60_000);
        return rows.filter((r) => r.state !== 'open').length >= 2 ? true : undefined;
      },
      60_000,
    );
  });

  after(async () => {
    await vigil?.close();
    await cameras?.stop();
  });

  test('an operator builds a bundle (reason required); others are refused', async (t: TestContext) => {
    const rows = await vigil.index.inRange('cam1', 'main', 0, Date.now() + 60_000);
    const closed = rows.filter((r) => r.state !== 'open');
    const range = { from: String(closed[0]?.start_time_ms), to: String(closed[1]?.end_time_ms) };
    assert.equal((await call('POST', '/api/cameras/cam1/exports', operator, range)).status, 400, 'no reason');
    assert.equal(
      (await call('POST', '/api/cameras/cam1/exports', operator, { ...range, reason: '   ' })).status,
      400,
      'a blank reason',
    );
    const request = { ...range, reason: 'insurance claim 4411' };
    assert.equal((await call('POST', '/api/cameras/cam1/exports', viewer, request)).status, 403);
    assert.equal((await call('POST', '/api/cameras/cam1/exports', guard, request)).status, 403);
    assert.equal((await call('POST', '/api/cameras/cam1/exports', null, request)).status, 401);
    const startedMs = Date.now();
    const res = await call('POST', '/api/cameras/cam1/exports', operator, request);
    assert.equal(res.status, 201, await res.clone().text());
    t.diagnostic(
      `bundle of ${Number(range.to) - Number(range.from)} ms of video built in ${Date.now() - startedMs} ms`,
    );
    bundle = (await res.json()) as ExportView;
    assert.equal(bundle.userName, 'olga');
    assert.equal(bundle.reason, 'insurance claim 4411');
    const created = await entries('export.bundle');
    assert.equal(created.length, 1);
    assert.equal(created[0]?.target, `export:${bundle.id}`);
    assert.equal(created[0]?.details.reason, 'insurance claim 4411');
  });

  test('the exporter and admins download it; a user without the camera cannot; downloads are audited', async () => {
    assert.equal((await call('GET', bundle.downloadPath, guard)).status, 403);
    assert.equal((await call('GET', bundle.downloadPath, viewer)).status, 403);
    assert.equal((await call('GET', bundle.downloadPath, null)).status, 401);
    const res = await call('GET', bundle.downloadPath, operator);
    assert.equal(res.status, 200);
    assert.equal(res.headers.get('content-type'), 'application/zip');
    zipBytes = Buffer.from(await res.arrayBuffer());
    assert.equal(createHash('sha256').update(zipBytes).digest('hex'), bundle.sha256);
    zipPath = join(work, 'bundle.zip');
    writeFileSync(zipPath, zipBytes);
    const downloads = await entries('export.download');
    assert.equal(downloads.length, 1);
    assert.deepEqual(downloads[0]?.actor, {
      kind: 'token',
      name: 'olga',
      tokenId: downloads[0]?.actor.kind === 'token' ? downloads[0].actor.tokenId : -1,
    });
    const listed = (await (await call('GET', '/api/exports', operator)).json()) as ExportList;
    assert.deepEqual(
      listed.exports.map((e) => e.id),
      [bundle.id],
    );
    const guarded = (await (await call('GET', '/api/exports', guard)).json()) as ExportList;
    assert.deepEqual(guarded.exports, [], 'a bundle of a camera not granted is not listed');
  });

  test('vigil verify passes offline, names who and why, and knows the installation key and segments', async () => {
    const offline = await runCli(['verify', zipPath]);
    assert.equal(offline.code, 0, offline.stdout + offline.stderr);
    assert.match(offline.stdout, /VERIFIED/);
    assert.match(offline.stdout, /Exported by: olga/);
    assert.match(offline.stdout, /Reason: +insurance claim 4411/);
    assert.match(offline.stdout, /exactly the recorded segments \(copy of \d+ segments\)/);
    assert.match(offline.stdout, /Camera: +Camera one \(cam1\)/);
    const config = join(work, 'vigil.yaml');
    writeFileSync(config, `storage: { path: ${join(work, 'data')}, minFreeBytes: 1MB }\ncameras: []\n`);
    const onServer = await runCli(['verify', zipPath, '--config', config]);
    assert.equal(onServer.code, 0, onServer.stdout + onServer.stderr);
    assert.match(onServer.stdout, /this installation's key/);
    assert.match(onServer.stdout, /Stored: +(\d+) of \1 source segments match/);

    const admin = vigil.token as string;
    const key = (await (await call('GET', '/api/system/signing-key', admin)).json()) as SigningKeyResponse;
    assert.equal((await call('GET', '/api/system/signing-key', operator)).status, 403);
    const pemPath = join(work, 'key.pem');
    writeFileSync(pemPath, await (await call('GET', '/api/system/signing-key.pem', admin)).text());
    assert.equal((await runCli(['verify', zipPath, '--key', pemPath])).code, 0);
    assert.equal((await runCli(['verify', zipPath, '--key', key.rawBase64])).code, 0);
    const stranger = generateKeyPairSync('ed25519').publicKey.export({ type: 'spki', format: 'pem' });
    writeFileSync(join(work, 'stranger.pem'), stranger);
    const foreign = await runCli(['verify', zipPath, '--key', join(work, 'stranger.pem')]);
    assert.equal(foreign.code, 1);
    assert.match(foreign.stdout, /public-key\.pem: the bundle is signed by another key than the one given/);
    const notBundle = await runCli(['verify', join(work, 'nothing-here.zip')]);
    assert.equal(notBundle.code, 2);
  });

  test('one flipped byte in any part fails vigil verify, naming the part', async () => {
    const { entries: zipEntries } = await readStoredZip(zipPath);
    const dataOf = (name: string) =>
      zipEntries.find((e) => e.name === name) as { dataOffset: number; byteLength: number };
    const targets: Array<[string, number]> = [
      [
        BUNDLE_FILES.video,
        dataOf(BUNDLE_FILES.video).dataOffset + Math.floor(dataOf(BUNDLE_FILES.video).byteLength / 2),
      ],
      [BUNDLE_FILES.manifest, dataOf(BUNDLE_FILES.manifest).dataOffset + 30],
      [BUNDLE_FILES.signature, dataOf(BUNDLE_FILES.signature).dataOffset + 5],
      [BUNDLE_FILES.publicKey, dataOf(BUNDLE_FILES.publicKey).dataOffset + 40],
      ['zip', 8],
      ['zip', zipBytes.length - 3],
    ];
    for (const [part, index] of targets) {
      const changed = Buffer.from(zipBytes);
      changed[index] = (changed[index] as number) ^ 0x01;
      const path = join(work, `flipped-${index}.zip`);
      writeFileSync(path, changed);
      const result = await runCli(['verify', path]);
      assert.equal(result.code, 1, `${part} byte ${index}: ${result.stdout}`);
      assert.match(result.stdout, /^FAILED/);
      assert.ok(result.stdout.includes(`\n  ${part}: `), `${part} byte ${index} is named:\n${result.stdout}`);
    }
  });

  test('POST /api/verify gives the same verdict to a signed-in user', async () => {
    const good = (await (
      await call('POST', '/api/verify', operator, zipBytes, 'application/zip')
    ).json()) as VerifyResponse;
    assert.equal(good.ok, true);
    assert.equal(good.keyTrust, 'installation');
    assert.equal(good.content, 'copy');
    assert.equal(good.manifest?.reason, 'insurance claim 4411');
    const changed = Buffer.from(zipBytes);
    changed[changed.length - 5000] = (changed[changed.length - 5000] as number) ^ 0x80;
    const bad = (await (
      await call('POST', '/api/verify', viewer, changed, 'application/zip')
    ).json()) as VerifyResponse;
    assert.equal(bad.ok, false);
    assert.equal(bad.failures[0]?.part, 'video.mp4');
    assert.equal((await call('POST', '/api/verify', null, zipBytes, 'application/zip')).status, 401);
    assert.equal((await call('POST', '/api/verify', operator, { not: 'a zip' })).status, 400);
  });

  test('a share link works without an account, is audited, and is refused when wrong, revoked or expired', async () => {
    const share = async (expiresInMs: number) => {
      const res = await call('POST', `/api/exports/${bundle.id}/shares`, operator, {
        recipient: 'detective@police.example',
        expiresInMs,
      });
      assert.equal(res.status, 201, await res.clone().text());
      return (await res.json()) as CreatedShare;
    };
    assert.equal(
      (await call('POST', `/api/exports/${bundle.id}/shares`, guard, { recipient: 'x', expiresInMs: 60_000 }))
        .status,
      403,
    );
    const link = await share(600_000);
    const fetched = await fetch(`${vigil.url}${link.path}`);
    assert.equal(fetched.status, 200, await fetched.clone().text());
    assert.ok(Buffer.from(await fetched.arrayBuffer()).equals(zipBytes));
    const downloads = await entries('export.share.download');
    assert.equal(downloads.length, 1);
    assert.equal(downloads[0]?.details.recipient, 'detective@police.example');
    assert.ok(downloads[0]?.ip, 'the address is recorded');
    assert.deepEqual(downloads[0]?.actor, { kind: 'anonymous' });

    const last = link.token.at(-1) === 'a' ? 'b' : 'a';
    const wrong = await fetch(`${vigil.url}/api/shares/${link.token.slice(0, -1)}${last}/bundle.zip`);
    assert.equal(wrong.status, 404);
    assert.equal(((await wrong.json()) as { error: { code: string } }).error.code, 'SHARE_NOT_FOUND');

    const revoked = await call('DELETE', `/api/exports/${bundle.id}/shares/${link.share.id}`, operator);
    assert.equal(revoked.status, 200, await revoked.clone().text());
    const afterRevoke = await fetch(`${vigil.url}${link.path}`);
    assert.equal(afterRevoke.status, 410);
    assert.equal(((await afterRevoke.json()) as { error: { code: string } }).error.code, 'SHARE_REVOKED');

    const brief = await share(1);
    await waitFor(
      'the link to expire',
      () => (Date.now() > brief.share.expiresAtMs ? true : undefined),
      5_000,
      5,
    );
    const expired = await fetch(`${vigil.url}${brief.path}`);
    assert.equal(expired.status, 410);
    const body = (await expired.json()) as { error: { code: string; message: string } };
    assert.equal(body.error.code, 'SHARE_EXPIRED');
    assert.match(body.error.message, /expired at .*ask its sender for a new one/);
    assert.equal((await entries('export.share.download')).length, 1, 'refused downloads fetch nothing');
    assert.equal((await entries('export.share')).length, 2);
    assert.equal((await entries('export.share.revoke')).length, 1);
    const tooLong = await call('POST', `/api/exports/${bundle.id}/shares`, operator, {
      recipient: 'x',
      expiresInMs: 365 * 24 * 3_600_000,
    });
    assert.equal(tooLong.status, 400);
  });

  test('the exporter still reaches their own bundle when no longer granted its camera', async () => {
    const olga = await vigil.auth.store.findUser('olga');
    assert.ok(olga);
    await vigil.auth.store.updateUser(olga.id, { cameras: ['other'] });
    assert.equal(
      (await call('POST', '/api/cameras/cam1/exports', operator, { from: '0', to: '1000', reason: 'x' }))
        .status,
      403,
    );
    assert.equal((await call('GET', bundle.downloadPath, operator)).status, 200);
    assert.equal((await call('GET', `/api/exports/${bundle.id}/shares`, operator)).status, 200);
    const listed = (await (await call('GET', '/api/exports', operator)).json()) as ExportList;
    assert.deepEqual(
      listed.exports.map((e) => e.id),
      [bundle.id],
    );
    assert.equal(
      (await call('GET', bundle.downloadPath, guard)).status,
      403,
      'another user of that grant is not',
    );
  });

  test('a bundle with faces blurred declares the redaction, and verify names it', async () => {
    // An administrator: the test before took olga's grants away.
    const admin = vigil.token as string;
    const rows = await vigil.index.inRange('cam1', 'main', 0, Date.now() + 60_000);
    const closed = rows.filter((r) => r.state !== 'open');
    const range = { from: String(closed[0]?.start_time_ms), to: String(closed[0]?.end_time_ms) };
    const res = await call('POST', '/api/cameras/cam1/exports', admin, {
      ...range,
      reason: 'subject access request 12',
      redact: 'faces',
    });
    assert.equal(res.status, 201, await res.clone().text());
    const redacted = (await res.json()) as ExportView;
    const path = join(work, 'redacted.zip');
    writeFileSync(path, Buffer.from(await (await call('GET', redacted.downloadPath, admin)).arrayBuffer()));
    const verdict = await runCli(['verify', path]);
    assert.equal(verdict.code, 0, verdict.stdout + verdict.stderr);
    assert.match(verdict.stdout, /the declared transforms of the recorded segments: redaction/);
    const { entries: zipEntries } = await readStoredZip(path);
    const manifestEntry = zipEntries.find((e) => e.name === BUNDLE_FILES.manifest)!;
    const manifest = JSON.parse(
      readFileSync(path)
        .subarray(manifestEntry.dataOffset, manifestEntry.dataOffset + manifestEntry.byteLength)
        .toString('utf8'),
    ) as { transforms: Array<{ name: string; mode: string; description: string }> };
    assert.deepEqual(
      manifest.transforms.map((t) => [t.name, t.mode]),
      [['redaction', 'faces']],
    );
    assert.match(manifest.transforms[0]!.description, /face/);
    const refused = await call('POST', '/api/cameras/cam1/exports', admin, {
      ...range,
      reason: 'x',
      redact: 'everyone',
    });
    assert.equal(refused.status, 400, 'only the redactions the API names');
  });

  test('the signing key is private to Vigil (mode 0600) next to the secret key', () => {
    const path = join(work, 'data', 'signing.key');
    assert.equal(statSync(path).mode & 0o777, 0o600);
    assert.match(readFileSync(path, 'utf8'), /BEGIN PRIVATE KEY/);
  });
});
