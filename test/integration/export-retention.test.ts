import assert from 'node:assert/strict';
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import type { AuditEntry } from '../../src/audit/entry.js';
import type { CreatedShare, ExportList, ExportView } from '../../src/contract/exports.js';
import { startTestVigil, tempDir, waitFor, type TestVigil } from '../helpers/vigil.js';

/**
 * Export bundles do not pile up: their exporter (or whoever may delete the camera's recordings)
 * deletes one, and retention removes those past retention.exportsDays unless a share link is still
 * valid. The record of the export stays; every removal is audited; a removed bundle's download and
 * links answer that it is gone.
 */

const PASSWORD = 'a long enough passphrase 7';
/** retention.exportsDays of 3 s. */
const KEEP_MS = 3000;

describe('deleting export bundles, by hand and by retention', { timeout: 120_000 }, () => {
  let vigil: TestVigil;
  let olga: string;
  let vic: string;
  const work = tempDir('vigil-export-retention-');

  function call(method: string, path: string, token: string | null, body?: unknown) {
    return fetch(`${vigil.url}${path}`, {
      method,
      headers: {
        ...(token ? { authorization: `Bearer ${token}` } : {}),
        ...(body !== undefined ? { 'content-type': 'application/json' } : {}),
      },
      ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
    });
  }

  async function bundle(token: string, reason: string): Promise<ExportView> {
    const rows = (await vigil.index.inRange('cam', 'main', 0, Date.now() + 60_000)).filter(
      (r) => r.state !== 'open',
    );
    const last = rows.at(-1)!;
    const res = await call('POST', '/api/cameras/cam/exports', token, {
      from: String(last.start_time_ms),
      to: String(last.end_time_ms),
      reason,
    });
    assert.equal(res.status, 201, await res.clone().text());
    return (await res.json()) as ExportView;
  }

  function zips(): string[] {
    return readdirSync(join(work, 'data', 'exports'), { recursive: true })
      .map(String)
      .filter((name) => name.endsWith('.zip'));
  }

  async function listed(id: number): Promise<ExportView | undefined> {
    const list = (await (await call('GET', '/api/exports', vigil.token)).json()) as ExportList;
    return list.exports.find((e) => e.id === id);
  }

  async function deletions(): Promise<AuditEntry[]> {
    await vigil.auth.audit.append({
      actor: { kind: 'system' },
      action: 'config.change',
      target: 'test:marker',
    });
    return (await vigil.auth.audit.query({ action: 'export.delete', limit: 100 })).entries;
  }

  before(async () => {
    vigil = await startTestVigil(
      `
storage: { path: ./data, minFreeBytes: 1MB }
recording: { segmentDurationMs: 2000 }
retention: { exportsDays: ${KEEP_MS / 86_400_000}, checkIntervalMs: 300 }
cameras:
  - id: cam
    streams:
      main: { url: "testsrc:?size=320x240&fps=5" }
`,
      work,
    );
    const token = async (name: string) => {
      const user = await vigil.auth.store.createUser({ name, role: 'operator', password: PASSWORD });
      return (await vigil.auth.store.createToken(user.id, { label: 't' })).token;
    };
    olga = await token('olga');
    vic = await token('vic');
    await waitFor(
      'a closed segment',
      async () =>
        (await vigil.index.inRange('cam', 'main', 0, Date.now() + 60_000)).some((r) => r.state !== 'open') ||
        undefined,
      30_000,
    );
  });

  after(async () => {
    await vigil?.close();
  });

  test('the exporter or an administrator deletes a bundle; another operator cannot; then it is gone', async () => {
    const made = await bundle(olga, 'handed to the insurer');
    const shared = await call('POST', `/api/exports/${made.id}/shares`, olga, {
      recipient: 'insurer@example.com',
      expiresInMs: 600_000,
    });
    const link = (await shared.json()) as CreatedShare;

    // Another operator may export the camera, but not delete someone else's bundle, however asked.
    const encodedId = [...String(made.id)].map((c) => `%${c.charCodeAt(0).toString(16)}`).join('');
    for (const path of [
      `/api/exports/${made.id}`,
      `/api/exports/${made.id}/`,
      `/api/exports/0${made.id}`,
      `/api/exports/${encodedId}`,
      `/API/exports/${made.id}`,
      `/api/cameras/../exports/${made.id}`,
      `/api/exports/./${made.id}`,
    ]) {
      const res = await call('DELETE', path, vic);
      assert.ok([400, 403, 404].includes(res.status), `${path}: ${res.status}`);
    }
    assert.equal((await call('GET', made.downloadPath, olga)).status, 200, 'still there');
    assert.equal((await call('DELETE', `/api/exports/${made.id}`, null)).status, 401);

    const filesBefore = zips();
    assert.equal((await call('DELETE', `/api/exports/${made.id}`, olga)).status, 204);
    const gone = await call('GET', made.downloadPath, olga);
    assert.equal(gone.status, 404);
    assert.match(((await gone.json()) as { error: { message: string } }).error.message, /was deleted at/);
    assert.equal((await fetch(`${vigil.url}${link.path}`)).status, 410, 'its share link ended');
    assert.equal((await call('DELETE', `/api/exports/${made.id}`, olga)).status, 404, 'once');
    const row = await listed(made.id);
    assert.ok(row?.deletedAtMs, 'the record stays, marked deleted');
    assert.equal(row.sha256, made.sha256);
    assert.equal(zips().length, filesBefore.length - 1, 'its file is removed');
    const byAdmin = await bundle(olga, 'second copy');
    assert.equal((await call('DELETE', `/api/exports/${byAdmin.id}`, vigil.token)).status, 204);
    const audited = (await deletions()).filter((e) => e.details.cause === 'user');
    assert.deepEqual(
      audited.map((e) => [e.target, 'name' in e.actor ? e.actor.name : e.actor.kind]).sort(),
      [
        [`export:${made.id}`, 'olga'],
        [`export:${byAdmin.id}`, 'admin'],
      ].sort(),
    );
  });

  test('retention removes bundles past exportsDays, but not while a share link is valid', async () => {
    const plain = await bundle(olga, 'kept for a while');
    const shared = await bundle(olga, 'sent to the police');
    const res = await call('POST', `/api/exports/${shared.id}/shares`, olga, {
      recipient: 'police@example.org',
      expiresInMs: 600_000,
    });
    const link = (await res.json()) as CreatedShare;
    await waitFor(
      'the plain bundle removed',
      async () => ((await listed(plain.id))?.deletedAtMs ? true : undefined),
      20_000,
    );
    assert.equal((await call('GET', plain.downloadPath, olga)).status, 404);
    await new Promise((r) => setTimeout(r, 1000));
    assert.equal((await listed(shared.id))?.deletedAtMs, null, 'the shared one stays');
    assert.equal((await fetch(`${vigil.url}${link.path}`)).status, 200, 'and its link works');

    assert.equal(
      (await call('DELETE', `/api/exports/${shared.id}/shares/${link.share.id}`, olga)).status,
      200,
    );
    await waitFor(
      'the shared bundle removed once its link ended',
      async () => ((await listed(shared.id))?.deletedAtMs ? true : undefined),
      20_000,
    );
    const byRetention = (await deletions()).filter((e) => e.details.cause === 'retention');
    assert.deepEqual(
      byRetention.map((e) => e.target).sort(),
      [`export:${plain.id}`, `export:${shared.id}`].sort(),
    );
    assert.ok(byRetention.every((e) => e.actor.kind === 'system'));
  });
});
