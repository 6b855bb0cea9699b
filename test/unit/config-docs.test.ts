import { readFile, readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { CONFIG_DOC_PATHS, renderConfigDocs } from '../../scripts/gen-config-docs.js';
import { loadConfigFile } from '../../src/config/index.js';

async function readOrEmpty(path: string): Promise<string> {
  try {
    return await readFile(path, 'utf8');
  } catch {
    return '';
  }
}

test('docs/ref/config.md and config.schema.json match the schema', async () => {
  const expected = await renderConfigDocs();
  const stale = 'is out of date with src/config/schema.ts: run `npm run docs:config` and commit the result';
  assert.ok(
    (await readOrEmpty(CONFIG_DOC_PATHS.schema)) === expected.schema,
    `docs/ref/config.schema.json ${stale}`,
  );
  assert.ok(
    (await readOrEmpty(CONFIG_DOC_PATHS.markdown)) === expected.markdown,
    `docs/ref/config.md ${stale}`,
  );
});

test('the docs have a row for every key, with its default', async () => {
  const { markdown } = await renderConfigDocs();
  for (const key of [
    'server.listen',
    'storage.path',
    'storage.maxBytes',
    'storage.minFreeBytes',
    'recording.segmentDurationMs',
    'retention.continuousDays',
    'retention.checkIntervalMs',
    'ingest.ffmpegPath',
    'ingest.retryInitialMs',
    'ingest.retryMaxMs',
    'ingest.stallTimeoutMs',
    'streams.main',
    'url',
    'transport',
  ]) {
    assert.match(markdown, new RegExp(`\\| \`${key.replace(/\./g, '\\.')}\` \\|`), key);
  }
  assert.match(markdown, /\| `server\.listen` \| string \| `127\.0\.0\.1:8080` \|/);
  assert.match(markdown, /\| `recording\.segmentDurationMs` \| integer, 2000 to 600000 \| `60000` \|/);
});

test('every example config loads', async () => {
  const dir = fileURLToPath(new URL('../../examples/', import.meta.url));
  const files = (await readdir(dir)).filter((f) => f.endsWith('.yaml'));
  assert.ok(files.length > 0);
  for (const file of files) {
    const { config } = await loadConfigFile(join(dir, file), {
      VIGIL_FRONT_PASSWORD: 'example',
      VIGIL_CAM_PASSWORD: 'example',
    });
    assert.ok(config.cameras.length > 0, file);
  }
});
