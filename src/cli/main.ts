#!/usr/bin/env node
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { demoConfig, formatProblems, loadConfigFile, type LoadedConfig } from '../config/index.js';
import { VigilError } from '../errors/catalogue.js';
import { tuneHeapForVideo } from '../app/heap-tuning.js';
import { startVigil, vigilVersion } from '../app/vigil.js';
import { openDatabase } from '../storage/db.js';
import { fsck } from '../storage/fsck.js';
import { acquireStorageLock } from '../storage/lock.js';
import { SegmentIndex } from '../storage/segment-index.js';
import { runBackup, runRestore } from './backup-commands.js';
import { createLogger, type LoggerChoice } from './logger.js';
import { runVerify } from './verify-command.js';
import { EXIT_BAD_INPUT, UsageError, describeError, isInputError, runAuthCommand } from './auth-commands.js';

const USAGE = `vigil ${vigilVersion()} — network video recorder

Usage:
  vigil start [--config FILE] [--listen HOST:PORT]   run the server (default config: ./vigil.yaml)
  vigil demo [--footage FILE] [--listen HOST:PORT]   run with one virtual camera (env VIGIL_DEMO_FOOTAGE)
      start and demo also take --log-format auto|json|pretty (default auto: readable lines on a
      terminal, JSON otherwise; env VIGIL_LOG_FORMAT) and --log-level fatal|error|warn|info|debug|trace
      (default info; env VIGIL_LOG_LEVEL)
  vigil check-config FILE                            validate a config and list every problem
  vigil fsck [--config FILE] [--repair]              compare the index with the files on disk
  vigil backup [--config FILE] [--out DIR]           back up the database, secret key, config and
                                                     certificate (safe while Vigil runs; not recordings)
  vigil restore DIR [--config FILE]                  restore a backup (Vigil stopped); what was there is
                                                     moved aside; default config: the backup's own

  vigil verify BUNDLE [--key PUBKEY] [--config FILE]
                                                     check a signed export bundle (zip or unpacked folder)
                                                     offline: exit 0 exactly as signed, 1 a part was changed
                                                     (it is named) or signed by another key than --key
                                                     (a PEM file or the raw base64 key), 2 no such file;
                                                     with --config, on the server: is it this installation's
                                                     key, and do the stored segments still match

Users, API tokens and the audit log (they take --config FILE too, and work while Vigil runs):
  vigil user add NAME --role admin|operator|viewer|auditor --password-stdin [--cameras a,b]
                                                     create a user; the first one must be an admin
  vigil user list                                    list users, roles, camera grants
  vigil user passwd NAME --password-stdin            set a password (and sign the user out everywhere)
  vigil user disable NAME | vigil user enable NAME   stop or allow a user's sign-ins and tokens
  vigil user totp NAME | vigil user totp-off NAME    turn two-step sign-in (authenticator app) on or off
  vigil token create --user NAME --name LABEL [--scopes a,b] [--expires-days N]
                                                     print a new API token (only the token, on stdout)
  vigil token list [--user NAME] | vigil token revoke ID
  vigil audit verify [--anchor SEQ:HASH]             check the audit log's hash chain: exit 1 if tampered

The password is read from standard input (one line), or typed without echo on a terminal.
`;

async function loadOrExit(path: string): Promise<LoadedConfig> {
  try {
    return await loadConfigFile(path);
  } catch (err) {
    if (err instanceof VigilError) {
      console.error(formatProblems(err).join('\n'));
      process.exit(2);
    }
    throw err;
  }
}

/**
 * The config for commands that only need the storage folder (users, tokens, audit): camera
 * passwords kept in environment variables the shell running the command may lack are not needed,
 * so a config whose only missing variables are under cameras or mqtt still loads.
 */
async function loadForStorageOrExit(path: string): Promise<LoadedConfig> {
  try {
    return await loadConfigFile(path);
  } catch (err) {
    const problems = err instanceof VigilError ? err.details?.['problems'] : undefined;
    const onlyCameraSecrets =
      err instanceof VigilError &&
      err.code === 'CONFIG_ENV_MISSING' &&
      Array.isArray(problems) &&
      problems.every((p: unknown) => /^(cameras|mqtt)\b/.test(String((p as { path?: unknown }).path)));
    if (!onlyCameraSecrets) return loadOrExit(path);
    const placeholders = new Proxy(process.env, {
      get: (env, key) => (typeof key === 'string' ? (env[key] ?? 'unset') : undefined),
    });
    try {
      return await loadConfigFile(path, placeholders);
    } catch {
      return loadOrExit(path);
    }
  }
}

/** Runs the server; every line it writes goes through the logger, so JSON output is all JSON. */
async function serve(
  loaded: LoadedConfig,
  options: { listen: string | undefined; logging: LoggerChoice; notice?: string },
): Promise<void> {
  const { log } = createLogger(options.logging);
  // A rejection nobody handled is a bug, but ending the process for it would stop every camera's
  // recording over one request or one camera: it is logged loudly instead.
  process.on('unhandledRejection', (err) => log.error({ err }, 'unhandled rejection (a bug; Vigil goes on)'));
  if (options.notice) log.info(options.notice);
  tuneHeapForVideo();
  const vigil = await startVigil(loaded, { log, ...(options.listen ? { listen: options.listen } : {}) });
  let stopping = false;
  const stop = (signal: string) => {
    if (stopping) return;
    stopping = true;
    log.info(`${signal}: closing segments and stopping…`);
    void vigil.close().then(() => process.exit(0));
  };
  process.on('SIGINT', () => stop('SIGINT'));
  process.on('SIGTERM', () => stop('SIGTERM'));
  // Announced once the signals are handled: whoever waits for this line may stop Vigil at once.
  log.info({ url: vigil.url, storage: loaded.config.storage.path }, `Vigil is running at ${vigil.url}`);
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
      out: { type: 'string' },
      role: { type: 'string' },
      'password-stdin': { type: 'boolean', default: false },
      cameras: { type: 'string' },
      user: { type: 'string' },
      name: { type: 'string' },
      scopes: { type: 'string' },
      'expires-days': { type: 'string' },
      anchor: { type: 'string' },
      key: { type: 'string' },
      help: { type: 'boolean', short: 'h' },
      version: { type: 'boolean' },
      'log-format': { type: 'string' },
      'log-level': { type: 'string' },
    },
  });
  const logging = { format: values['log-format'], level: values['log-level'] };
  const [command, ...rest] = positionals;
  if (values.version) return void console.log(vigilVersion());
  if (values.help || !command) return void console.log(USAGE);
  switch (command) {
    case 'start':
      return serve(await loadOrExit(values.config ?? 'vigil.yaml'), { listen: values.listen, logging });
    case 'demo': {
      const footagePath = values.footage ?? process.env.VIGIL_DEMO_FOOTAGE;
      const loaded = demoConfig({
        storagePath: join(process.cwd(), 'data', 'demo'),
        ...(footagePath ? { footagePath } : {}),
      });
      const notice = footagePath
        ? `Demo camera plays ${footagePath} in a loop`
        : 'Demo camera shows a test pattern (give --footage FILE for real video)';
      return serve(loaded, { listen: values.listen, logging, notice });
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
    case 'backup': {
      const configPath = values.config ?? 'vigil.yaml';
      process.exitCode = await runBackup(await loadForStorageOrExit(configPath), {
        configPath,
        outDir: values.out,
        vigilVersion: vigilVersion(),
      });
      return;
    }
    case 'restore':
      process.exitCode = await runRestore(rest[0], values.config, loadForStorageOrExit);
      return;
    case 'verify': {
      const storageRoot = values.config
        ? (await loadForStorageOrExit(values.config)).config.storage.path
        : undefined;
      process.exitCode = await runVerify(rest[0], { key: values.key, storageRoot });
      return;
    }
    case 'user':
    case 'token':
    case 'audit':
      process.exitCode = await runAuthCommand(
        command,
        rest,
        () => loadForStorageOrExit(values.config ?? 'vigil.yaml'),
        {
          role: values.role,
          passwordStdin: values['password-stdin'],
          cameras: values.cameras,
          user: values.user,
          name: values.name,
          scopes: values.scopes,
          expiresDays: values['expires-days'],
          anchor: values.anchor,
        },
      );
      return;
    default:
      console.error(`unknown command '${command}'\n\n${USAGE}`);
      process.exitCode = 2;
  }
}

main(process.argv.slice(2)).catch((err: unknown) => {
  if (err instanceof UsageError || isParseArgsError(err)) {
    console.error(`vigil: ${(err as Error).message} (vigil --help lists the commands)`);
    process.exit(EXIT_BAD_INPUT);
  }
  if (err instanceof VigilError) console.error(describeError(err));
  else console.error(err);
  process.exit(isInputError(err) ? EXIT_BAD_INPUT : 1);
});

/** An unknown option or a missing option value, from parseArgs. */
function isParseArgsError(err: unknown): boolean {
  const code = (err as { code?: unknown }).code;
  return typeof code === 'string' && code.startsWith('ERR_PARSE_ARGS_');
}
