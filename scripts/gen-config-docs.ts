/**
 * Writes docs/ref/config.schema.json and docs/ref/config.md from the config schema
 * (src/config/schema.ts). Run: npm run docs:config. test/unit/config-docs.test.ts fails when the
 * committed files differ from what this would write.
 */
import { mkdir, writeFile } from 'node:fs/promises';
import { dirname, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import * as prettier from 'prettier';
import { configJsonSchema, renderConfigMarkdown } from '../src/config/docs.js';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');

export const CONFIG_DOC_PATHS = {
  schema: resolve(root, 'docs/ref/config.schema.json'),
  markdown: resolve(root, 'docs/ref/config.md'),
} as const;

/** The generated files' contents, the JSON formatted as `prettier --check` expects it. */
export async function renderConfigDocs(): Promise<{ schema: string; markdown: string }> {
  const options = (await prettier.resolveConfig(CONFIG_DOC_PATHS.schema)) ?? {};
  const schema = await prettier.format(JSON.stringify(configJsonSchema()), { ...options, parser: 'json' });
  return { schema, markdown: renderConfigMarkdown() };
}

async function main(): Promise<void> {
  const docs = await renderConfigDocs();
  await mkdir(dirname(CONFIG_DOC_PATHS.schema), { recursive: true });
  await writeFile(CONFIG_DOC_PATHS.schema, docs.schema);
  await writeFile(CONFIG_DOC_PATHS.markdown, docs.markdown);
  console.log(`wrote ${CONFIG_DOC_PATHS.schema}\nwrote ${CONFIG_DOC_PATHS.markdown}`);
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(resolve(process.argv[1])).href) {
  await main();
}
