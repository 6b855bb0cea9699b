import assert from 'node:assert/strict';
import { chmodSync, symlinkSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { describe, test } from 'node:test';
import pino from 'pino';
import { startVigil } from '../../src/app/vigil.js';
import type { SystemResponse } from '../../src/contract/system.js';
import { parseConfigText } from '../../src/config/index.js';
import { tempDir } from '../helpers/vigil.js';

/**
 * When the old ffmpeg shipped in @ffmpeg-installer runs, Vigil says so at start (warn) and on the
 * system page, with how to install the system one. The choice is steered the ways a user could:
 * ingest.ffmpegPath pointing at it, or a PATH whose `ffmpeg` is (a link to) it.
 */

const BUNDLED = (createRequire(import.meta.url)('@ffmpeg-installer/ffmpeg') as { path: string }).path;

async function startAndAsk(yaml: string): Promise<{ system: SystemResponse; warnings: string[] }> {
  const dir = tempDir('vigil-ffmpeg-');
  const warnings: string[] = [];
  const sink = new Writable({
    write(chunk: Buffer, _encoding, done) {
      for (const line of chunk.toString().split('\n').filter(Boolean)) {
        const entry = JSON.parse(line) as { level: number; msg: string };
        if (entry.level === 40) warnings.push(entry.msg);
      }
      done();
    },
  });
  const vigil = await startVigil(parseConfigText(yaml, { baseDir: dir }), {
    log: pino({ level: 'warn' }, sink),
    listen: '127.0.0.1:0',
  });
  try {
    const admin = await vigil.auth.store.createFirstAdmin('admin', 'blue kettle on the windowsill 42');
    const { token } = await vigil.auth.store.createToken(admin.id, { label: 'ffmpeg test' });
    const res = await fetch(`${vigil.url}/api/system`, { headers: { authorization: `Bearer ${token}` } });
    assert.equal(res.status, 200);
    return { system: (await res.json()) as SystemResponse, warnings };
  } finally {
    await vigil.close();
  }
}

describe('bundled ffmpeg warning', () => {
  test('ingest.ffmpegPath at the bundled binary: warned at start and in GET /api/system', async () => {
    const { system, warnings } = await startAndAsk(
      `storage: { path: ./data }\ningest: { ffmpegPath: ${JSON.stringify(BUNDLED)} }\n`,
    );
    assert.equal(system.ffmpeg.path, BUNDLED);
    assert.equal(system.ffmpeg.bundled, true);
    assert.match(system.ffmpeg.version, /^(n?4\.|N-)/, 'the bundled build is 4.x');
    assert.ok(system.ffmpeg.warning);
    assert.match(system.ffmpeg.warning, /bundled ffmpeg/);
    assert.match(system.ffmpeg.warning, /4\.x/);
    assert.match(system.ffmpeg.warning, /untrusted data from the cameras/);
    assert.match(system.ffmpeg.warning, /sudo scripts\/install-deps\.sh/);
    assert.ok(warnings.includes(system.ffmpeg.warning), `the log has it: ${warnings.join(' | ')}`);
  });

  test('a PATH whose ffmpeg is a link to the bundled one counts as bundled too', async () => {
    const bin = tempDir('vigil-ffmpeg-path-');
    symlinkSync(BUNDLED, join(bin, 'ffmpeg'));
    const savedPath = process.env.PATH;
    process.env.PATH = `${bin}:${savedPath ?? ''}`;
    try {
      const { system, warnings } = await startAndAsk('storage: { path: ./data }\n');
      assert.equal(system.ffmpeg.origin, 'system');
      assert.equal(system.ffmpeg.bundled, true);
      assert.ok(system.ffmpeg.warning && warnings.includes(system.ffmpeg.warning));
    } finally {
      process.env.PATH = savedPath;
    }
  });

  test('another ffmpeg: no warning', async (t) => {
    // A stand-in "system ffmpeg" that is not the bundled file: a tiny script printing a 6.x version.
    const bin = tempDir('vigil-ffmpeg-path-');
    const fake = join(bin, 'ffmpeg');
    writeFileSync(fake, '#!/bin/sh\necho "ffmpeg version 6.1.1 Copyright (c) the FFmpeg developers"\n');
    chmodSync(fake, 0o755);
    const { system, warnings } = await startAndAsk(
      `storage: { path: ./data }\ningest: { ffmpegPath: ${JSON.stringify(fake)} }\n`,
    );
    t.diagnostic(`ffmpeg ${system.ffmpeg.version} (${system.ffmpeg.origin})`);
    assert.equal(system.ffmpeg.bundled, false);
    assert.equal(system.ffmpeg.warning, null);
    assert.ok(!warnings.some((w) => /bundled ffmpeg/.test(w)));
  });
});
