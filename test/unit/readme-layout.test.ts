import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { REPO_ROOT } from '../helpers/vigil.js';

test("the README's layout table names every folder under src/", () => {
  const readme = readFileSync(join(REPO_ROOT, 'README.md'), 'utf8');
  const folders = readdirSync(join(REPO_ROOT, 'src'), { withFileTypes: true })
    .filter((entry) => entry.isDirectory())
    .map((entry) => entry.name);
  const missing = folders.filter((name) => !readme.includes(`| \`src/${name}`));
  assert.deepEqual(missing, [], 'add a row to the Layout table in README.md');
});
