#!/usr/bin/env node
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { demoConfig, formatProblems, loadConfigFile, type LoadedConfig } from '../config/index.js';
import { VigilError } from '../errors/catalogue.js';
import { startVigil, vigilVersion } from '../app/vigil.js';
import { openDatabase } from '../storage/db.js';
import { fsck } from '../storage/fsck.js';
import { acquireStorageLock } from '../storage/lock.js';
import { SegmentIndex } from '../storage/segment-index.js';

const USAGE = `vigil ${vigilVersion()} — network video recorder

Usage:
  vigil start [--config FILE] [--listen HOST:PORT]   run the server (default config: ./vigil.yaml)
  vigil demo [--footage FILE] [--listen HOST:PORT]   run with one virtual camera (env VIGIL_DEMO_FOOTAGE)
  vigil check-config FILE                            validate a config and list every problem
  vigil fsck [--config FILE] [--repair]              compare the index with the files on disk
`;

async function loadOrExit(path: string): Promise<LoadedConfig> {
  try {
    return await loadConfigFile(path);
  } catch (err) {
    if (err instanceof VigilError) {
      console.error(formatProblems(err));
      process.exit(2);
    }
    throw err;
  }
}

async function serve(loaded: LoadedConfig, listen: string | undefined): Promise<void> {
  const vigil = await startVigil(loaded, listen ? { listen } : {});
  console.log(`Vigil is running at ${vigil.url}  (storage: ${loaded.config.storage.path})`);
  let stopping = false;
  const stop = (signal: string) => {
    if (stopping) return;
    stopping = true;
    console.log(`${signal}: closing segments and stopping…`);
    void vigil.close().then(() => process.exit(0));
  };
  process.on('SIGINT', () => stop('SIGINT'));
  process.on('SIGTERM', () => stop('SIGTERM'));
}

async function runFsck(loaded: LoadedConfig, repair: boolean): Promise<number> {
  const root = loaded.config.storage.path;
  const release = acquireStorageLock(root);
  try {
    const db = await openDatabase(join(root, 'index.sqlite'));
    const report = await fsck(new SegmentIndex(db), root, { repair, nowMs: Date.now() });
    await db.destroy();
    for (const p of report.problems) {
      console.log(`${p.repaired ? 'repaired' : 'PROBLEM '} ${p.kind.padEnd(14)} ${p.path}: ${p.message}`);
    }
    const unrepaired = report.problems.filter((p) => !p.repaired).length;
    console.log(
      `checked ${report.checkedSegmentCount} segments and ${report.checkedFileCount} files: ` +
        `${report.problems.length} problems, ${unrepaired} not repaired`,
    );
    return unrepaired === 0 ? 0 : 1;
  } finally {
    release();
  }
}

async function main(argv: string[]): Promise<void> {
  const { positionals, values } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: {
      config: { type: 'string', short: 'c' },
      listen: { type: 'string' },
      footage: { type: 'string' },
      repair: { type: 'boolean', default: false },
      help: { type: 'boolean', short: 'h' },
      version: { type: 'boolean' },
    },
  });
  const [command, ...rest] = positionals;
  if (values.version) return void console.log(vigilVersion());
  if (values.help || !command) return void console.log(USAGE);
  switch (command) {
    case 'start':
      return serve(await loadOrExit(values.config ?? 'vigil.yaml'), values.listen);
    case 'demo': {
      const footagePath = values.footage ?? process.env.VIGIL_DEMO_FOOTAGE;
      const loaded = demoConfig({
        storagePath: join(process.cwd(), 'data', 'demo'),
        ...(footagePath ? { footagePath } : {}),
      });
      console.log(
        footagePath
          ? `Demo camera plays ${footagePath} in a loop`
          : 'Demo camera shows a test pattern (give --footage FILE for real video)',
      );
      return serve(loaded, values.listen);
    }
    case 'check-config': {
      const file = rest[0] ?? values.config;
      if (!file) throw new VigilError('CONFIG_UNREADABLE', 'usage: vigil check-config FILE');
      const loaded = await loadOrExit(file);
      return void console.log(`${file}: valid (${loaded.config.cameras.length} cameras)`);
    }
    case 'fsck':
      process.exitCode = await runFsck(await loadOrExit(values.config ?? 'vigil.yaml'), values.repair);
      return;
    default:
      console.error(`unknown command '${command}'\n\n${USAGE}`);
      process.exitCode = 2;
  }
}

main(process.argv.slice(2)).catch((err: unknown) => {
  if (err instanceof VigilError) console.error(`error ${err.code}: ${err.message}`);
  else console.error(err);
  process.exit(1);
});
