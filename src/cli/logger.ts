import pino, { type Logger } from 'pino';
import pinoPretty from 'pino-pretty';
import { UsageError } from './auth-commands.js';

export const LOG_FORMATS = ['auto', 'json', 'pretty'] as const;
export type LogFormat = (typeof LOG_FORMATS)[number];

const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;

export interface LoggerChoice {
  /** --log-format, else VIGIL_LOG_FORMAT, else auto. */
  format?: string | undefined;
  /** --log-level, else VIGIL_LOG_LEVEL, else info. */
  level?: string | undefined;
}

function oneOf<T extends string>(what: string, value: string, allowed: readonly T[]): T {
  if ((allowed as readonly string[]).includes(value)) return value as T;
  throw new UsageError(`${what} '${value}' is not one of ${allowed.join(', ')}`);
}

/**
 * The server's logger. On a terminal, readable coloured lines (pino-pretty, written synchronously
 * on the main thread: a terminal is not a production log sink, and a worker thread would lose the
 * last lines on a crash); otherwise one JSON object per line, for journald, Docker and log
 * shippers. Either can be forced.
 */
export function createLogger(
  choice: LoggerChoice,
  stdout: NodeJS.WriteStream = process.stdout,
): { log: Logger; format: 'json' | 'pretty' } {
  const format = oneOf('log format', choice.format ?? (process.env.VIGIL_LOG_FORMAT || 'auto'), LOG_FORMATS);
  const level = oneOf('log level', choice.level ?? (process.env.VIGIL_LOG_LEVEL || 'info'), LOG_LEVELS);
  const resolved = format === 'auto' ? (stdout.isTTY ? 'pretty' : 'json') : format;
  if (resolved === 'json') return { log: pino({ level }, stdout), format: resolved };
  const pretty = pinoPretty({
    destination: stdout,
    sync: true,
    colorize: stdout.isTTY === true,
    translateTime: 'SYS:HH:MM:ss.l',
    ignore: 'pid,hostname',
    singleLine: true,
  });
  return { log: pino({ level }, pretty), format: resolved };
}
