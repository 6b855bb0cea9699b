import type { TSchema } from '@sinclair/typebox';
import { ValueErrorType, type ValueError } from '@sinclair/typebox/errors';
import { Value } from '@sinclair/typebox/value';
import { VigilError } from '../errors/catalogue.js';
import { errorHintFor, quoteValue } from './schema.js';

/** One thing wrong in a config, at a key path such as `cameras[0].streams.main.url`. */
export interface ConfigProblem {
  path: string;
  message: string;
}

/** Appends a key to a path: `cameras[0]` + `id`, `cameras` + 0, '' + `server`. */
export function joinPath(base: string, key: string | number): string {
  if (typeof key === 'number') return `${base}[${key}]`;
  const part = /^[A-Za-z_][A-Za-z0-9_-]*$/.test(key) ? key : JSON.stringify(key);
  if (base === '') return part;
  return part.startsWith('"') ? `${base}[${part}]` : `${base}.${part}`;
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** A JSON pointer from TypeBox (`/cameras/0/id`) as a config path, read against the value. */
function pointerToPath(pointer: string, root: unknown, prefix: string): string {
  let path = prefix;
  let node: unknown = root;
  for (const raw of pointer.split('/').slice(1)) {
    const key = raw.replace(/~1/g, '/').replace(/~0/g, '~');
    if (Array.isArray(node) && /^\d+$/.test(key)) {
      path = joinPath(path, Number(key));
      node = node[Number(key)];
    } else {
      path = joinPath(path, key);
      node = isRecord(node) ? node[key] : undefined;
    }
  }
  return path;
}

function levenshtein(a: string, b: string): number {
  const row = Array.from({ length: b.length + 1 }, (_, i) => i);
  for (let i = 1; i <= a.length; i += 1) {
    let diagonal = row[0] ?? 0;
    row[0] = i;
    for (let j = 1; j <= b.length; j += 1) {
      const above = row[j] ?? 0;
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      row[j] = Math.min(above + 1, (row[j - 1] ?? 0) + 1, diagonal + cost);
      diagonal = above;
    }
  }
  return row[b.length] ?? 0;
}

/** The known key a typo most likely meant, if any is close enough to be a fair guess. */
export function closestKey(key: string, known: readonly string[]): string | undefined {
  const lower = key.toLowerCase();
  let best: { name: string; distance: number } | undefined;
  for (const name of known) {
    const candidate = name.toLowerCase();
    // "segmentDuration" for "segmentDurationMs": a missing unit suffix is the commonest slip.
    const distance =
      candidate === lower
        ? 0
        : candidate.startsWith(lower) && lower.length >= 4
          ? 1
          : levenshtein(lower, candidate);
    if (distance <= Math.max(1, Math.floor(candidate.length / 4)) && (!best || distance < best.distance)) {
      best = { name, distance };
    }
  }
  return best?.name;
}

function describe(value: unknown): string {
  if (value === null) return 'nothing (null)';
  if (Array.isArray(value)) return 'a list';
  if (typeof value === 'object') return 'a section of keys';
  if (typeof value === 'string') return `text ${quoteValue(value)}`;
  return String(value);
}

function literalValues(schema: TSchema): string[] | undefined {
  const variants: unknown = schema['anyOf'];
  if (!Array.isArray(variants)) return undefined;
  const values = variants.map((v: unknown) =>
    isRecord(v) && typeof v['const'] === 'string' ? v['const'] : undefined,
  );
  return values.every((v): v is string => v !== undefined) ? values : undefined;
}

function numberOption(schema: TSchema, name: string): string {
  const value: unknown = schema[name];
  return String(value);
}

/**
 * What a user needs to read for one schema error. Values are only echoed where that helps, and
 * never for keys that may hold credentials.
 */
function messageFor(error: ValueError, echo: boolean): string {
  const { schema, value } = error;
  const got = echo ? `, got ${describe(value)}` : '';
  const hint = errorHintFor(schema);
  switch (error.type) {
    case ValueErrorType.ObjectRequiredProperty:
      return 'is required';
    case ValueErrorType.ObjectAdditionalProperties: {
      const key = error.path.split('/').at(-1)?.replace(/~1/g, '/').replace(/~0/g, '~') ?? '';
      const known = isRecord(schema['properties']) ? Object.keys(schema['properties']) : [];
      const guess = closestKey(key, known);
      return guess
        ? `unknown key '${key}' (did you mean '${guess}'?)`
        : `unknown key '${key}': allowed here are ${known.join(', ')}`;
    }
    case ValueErrorType.Union: {
      const values = literalValues(schema);
      if (values) return `must be one of ${values.join(', ')}${got}`;
      return hint && echo ? hint(value) : `has the wrong type${got}`;
    }
    case ValueErrorType.StringPattern:
      return hint && echo ? hint(value) : 'has the wrong form';
    case ValueErrorType.String:
      if (hint && echo) return hint(value);
      // YAML reads `password: 123456` as a number; quoting keeps leading zeros and the like.
      return typeof value === 'number' || typeof value === 'boolean'
        ? 'must be text: put it in quotes'
        : `must be text${got}`;
    case ValueErrorType.StringMinLength:
      return 'must not be empty';
    case ValueErrorType.StringMaxLength:
      return `must be at most ${numberOption(schema, 'maxLength')} characters long`;
    case ValueErrorType.Number:
      return `must be a number${got}`;
    case ValueErrorType.Integer:
      return `must be a whole number${got}`;
    case ValueErrorType.NumberMinimum:
    case ValueErrorType.IntegerMinimum:
      return `must be at least ${numberOption(schema, 'minimum')}${got}`;
    case ValueErrorType.NumberMaximum:
    case ValueErrorType.IntegerMaximum:
      return `must be at most ${numberOption(schema, 'maximum')}${got}`;
    case ValueErrorType.NumberExclusiveMinimum:
    case ValueErrorType.IntegerExclusiveMinimum:
      return `must be more than ${numberOption(schema, 'exclusiveMinimum')}${got}`;
    case ValueErrorType.Boolean:
      return `must be true or false${got}`;
    case ValueErrorType.Array:
      return `must be a list (lines starting with '- ')${got}`;
    case ValueErrorType.Object:
      return `must be a section of keys (key: value lines)${got}`;
    default:
      return hint && echo ? hint(value) : error.message;
  }
}

/**
 * Every schema problem of a value, with defaults already applied. `hidden` paths had a missing
 * environment variable (reported already).
 */
export function schemaProblems(
  schema: TSchema,
  value: unknown,
  prefix: string,
  opts: { hidden?: ReadonlySet<string> } = {},
): ConfigProblem[] {
  const problems: ConfigProblem[] = [];
  const required = new Set<string>();
  for (const error of Value.Errors(schema, value)) {
    const path = pointerToPath(error.path, value, prefix);
    if (opts.hidden?.has(path)) continue;
    // TypeBox also reports the missing value's type; "is required" says it all.
    if (required.has(path)) continue;
    if (error.type === ValueErrorType.ObjectRequiredProperty) required.add(path);
    // Credentials may sit in these keys; a message must not carry them into a log.
    const echo = !/(^|\.)(password|user|url)$/.test(path);
    problems.push({ path, message: messageFor(error, echo) });
  }
  return problems;
}

/**
 * Problems in the order their keys appear in the file, so the list reads top to bottom. A path
 * missing from the value (a required key) sorts right after its parent.
 */
export function sortProblems(problems: ConfigProblem[], value: unknown, prefix = ''): ConfigProblem[] {
  const order = new Map<string, number>();
  const visit = (node: unknown, path: string): void => {
    order.set(path, order.size);
    if (Array.isArray(node)) node.forEach((item: unknown, i) => visit(item, joinPath(path, i)));
    else if (isRecord(node)) for (const [key, item] of Object.entries(node)) visit(item, joinPath(path, key));
  };
  visit(value, prefix);
  const rank = (path: string): number => {
    for (let p = path; ; p = p.replace(/(\.[^.[]+|\[[^\]]*\])$/, '')) {
      const index = order.get(p);
      if (index !== undefined) return index + (p === path ? 0 : 0.5);
      if (p === '' || !/[.[]/.test(p)) return order.size;
    }
  };
  return problems
    .map((problem, i) => ({ problem, i, rank: rank(problem.path) }))
    .sort((a, b) => a.rank - b.rank || a.i - b.i)
    .map((entry) => entry.problem);
}

/** The CONFIG_INVALID error for a list of problems, or CONFIG_ENV_MISSING if a variable is missing. */
export function problemsError(
  sourceName: string,
  problems: ConfigProblem[],
  missingVariables: string[],
): VigilError {
  const count = `${problems.length} problem${problems.length === 1 ? '' : 's'}`;
  const details = { problems, ...(missingVariables.length ? { variables: missingVariables } : {}) };
  return new VigilError(
    missingVariables.length ? 'CONFIG_ENV_MISSING' : 'CONFIG_INVALID',
    `${sourceName}: ${count}`,
    details,
  );
}

function problemsOf(error: VigilError): ConfigProblem[] {
  const problems = error.details?.['problems'];
  if (!Array.isArray(problems)) return [];
  return problems.filter(
    (p: unknown): p is ConfigProblem =>
      isRecord(p) && typeof p['path'] === 'string' && typeof p['message'] === 'string',
  );
}

/** Lines for a terminal (`vigil check-config`): the summary, then one line per problem. */
export function formatProblems(error: unknown): string[] {
  if (!(error instanceof VigilError)) return [error instanceof Error ? error.message : String(error)];
  const problems = problemsOf(error);
  return [error.message, ...problems.map((p) => `  ${p.path === '' ? '(top level)' : p.path}: ${p.message}`)];
}
