import { readFile } from 'node:fs/promises';
import { dirname, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { parseDocument } from 'yaml';
import { VigilError } from '../errors/catalogue.js';
import { substituteEnv, type Env } from './env.js';
import { deepFreeze, normaliseConfig, type VigilConfig } from './normalise.js';
import { problemsError, sortProblems } from './problems.js';
import type { VigilConfigInput } from './schema.js';

export interface LoadedConfig {
  readonly config: VigilConfig;
  /** Absolute path of the file it came from; undefined for built-in configs (demo). */
  readonly sourcePath?: string;
}

export interface ParseOptions {
  /** Folder that relative paths and file: URLs are resolved against: the config file's folder. */
  baseDir: string;
  env?: Env;
  /** Names the source in messages, e.g. the path as the user typed it. */
  sourceName?: string;
}

// Anchors make a "billion laughs" file tiny on disk and huge in memory; a real config needs few.
const MAX_ALIAS_COUNT = 100;

function unreadable(message: string, details: Record<string, unknown>): VigilError {
  return new VigilError('CONFIG_UNREADABLE', message, details);
}

function parseYaml(text: string, sourceName: string): unknown {
  // merge: true allows `<<: *defaults`, handy for cameras that share settings.
  const doc = parseDocument(text.replace(/^\uFEFF/, ''), {
    merge: true,
    prettyErrors: true,
    uniqueKeys: true,
  });
  const error = doc.errors[0];
  if (error) {
    const line = error.linePos?.[0].line;
    const column = error.linePos?.[0].col;
    const reason = (error.message.split('\n')[0] ?? '').replace(/ at line \d+, column \d+:?$/, '');
    const where = line !== undefined ? `${sourceName}:${line}:${column ?? 1}` : sourceName;
    throw unreadable(`${where}: YAML syntax error: ${reason}`, {
      source: sourceName,
      line,
      column,
      reason,
      ...(doc.errors.length > 1 ? { moreErrors: doc.errors.length - 1 } : {}),
    });
  }
  try {
    return doc.toJS({ maxAliasCount: MAX_ALIAS_COUNT });
  } catch (err) {
    throw unreadable(`${sourceName}: ${err instanceof Error ? err.message : String(err)}`, {
      source: sourceName,
    });
  }
}

function fromParsed(
  parsed: unknown,
  opts: { baseDir: string; env: Env | undefined; sourceName: string },
): VigilConfig {
  const substitution = opts.env === undefined ? undefined : substituteEnv(parsed, opts.env);
  const result = normaliseConfig(substitution?.value ?? parsed, {
    baseDir: opts.baseDir,
    ...(substitution ? { hidden: substitution.failedPaths } : {}),
  });
  const problems = sortProblems([...(substitution?.problems ?? []), ...result.problems], parsed);
  if (problems.length > 0 || !result.config) {
    throw problemsError(opts.sourceName, problems, substitution?.missingVariables ?? []);
  }
  return result.config;
}

/**
 * A config from YAML text. `${NAME}` in string values is replaced from env ($${ for a literal
 * ${). Throws CONFIG_UNREADABLE for YAML syntax errors, else CONFIG_INVALID (or
 * CONFIG_ENV_MISSING when a variable is not set) listing every problem in details.problems.
 */
export function parseConfigText(text: string, opts: ParseOptions): LoadedConfig {
  const sourceName = opts.sourceName ?? 'config';
  const parsed = parseYaml(text, sourceName);
  const config = fromParsed(parsed, { baseDir: opts.baseDir, env: opts.env ?? process.env, sourceName });
  return deepFreeze({ config });
}

/** A config from an object shaped like the file, with no environment substitution. */
export function parseConfigObject(
  input: VigilConfigInput | Record<string, unknown>,
  opts: { baseDir: string; sourceName?: string },
): LoadedConfig {
  const config = fromParsed(input, {
    baseDir: opts.baseDir,
    env: undefined,
    sourceName: opts.sourceName ?? 'config',
  });
  return deepFreeze({ config });
}

function readFailure(code: unknown): string {
  switch (code) {
    case 'ENOENT':
      return 'no such file';
    case 'EACCES':
    case 'EPERM':
      return 'permission denied';
    case 'EISDIR':
      return 'it is a folder, not a file';
    default:
      return typeof code === 'string' ? code : 'unknown error';
  }
}

/** Reads, parses and validates a config file; relative paths in it are relative to its folder. */
export async function loadConfigFile(path: string, env: Env = process.env): Promise<LoadedConfig> {
  const sourcePath = resolve(path);
  let text: string;
  try {
    text = await readFile(sourcePath, 'utf8');
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    throw unreadable(`cannot read config file ${path}: ${readFailure(code)}`, { path: sourcePath, code });
  }
  const config = fromParsed(parseYaml(text, path), { baseDir: dirname(sourcePath), env, sourceName: path });
  return deepFreeze({ config, sourcePath });
}

/**
 * The config of `vigil demo`: one camera `demo` playing the footage in a loop, or a test
 * pattern without footage. A 2 GB budget keeps a forgotten demo from filling the disk.
 */
export function demoConfig(opts: { storagePath: string; footagePath?: string }): LoadedConfig {
  const url =
    opts.footagePath !== undefined
      ? pathToFileURL(resolve(opts.footagePath)).href
      : 'testsrc:?size=1280x720&fps=10';
  return parseConfigObject(
    {
      storage: { path: resolve(opts.storagePath), maxBytes: '2GB' },
      cameras: [{ id: 'demo', name: 'Demo camera', streams: { main: { url } } }],
    },
    { baseDir: process.cwd(), sourceName: 'demo config' },
  );
}
