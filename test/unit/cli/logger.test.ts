import assert from 'node:assert/strict';
import { PassThrough } from 'node:stream';
import { test } from 'node:test';
import { UsageError } from '../../../src/cli/auth-commands.js';
import { createLogger } from '../../../src/cli/logger.js';

// An escape sequence starts with ESC; a regular expression with it trips no-control-regex.
const ANSI_ESCAPE = new RegExp(String.fromCharCode(27) + '\\[');

/** A stream standing for stdout, on a terminal or not, that keeps what was written. */
function fakeStdout(isTTY: boolean): { stream: NodeJS.WriteStream; text(): string } {
  const sink = new PassThrough();
  let written = '';
  sink.on('data', (chunk: Buffer) => (written += chunk.toString()));
  // Only write() and isTTY are used by pino and pino-pretty; a PassThrough has the former.
  const stream = Object.assign(sink, { isTTY }) as unknown as NodeJS.WriteStream;
  return { stream, text: () => written };
}

test('auto: readable coloured lines on a terminal', () => {
  const out = fakeStdout(true);
  const { log, format } = createLogger({ format: 'auto', level: 'info' }, out.stream);
  log.info({ camera: 'door' }, 'stream online');
  assert.equal(format, 'pretty');
  assert.match(out.text(), /^\[\d\d:\d\d:\d\d\.\d{3}\] .*INFO.*stream online/);
  assert.match(out.text(), ANSI_ESCAPE, 'coloured');
  assert.doesNotMatch(out.text(), /^\{/m, 'not JSON');
});

test('auto: one JSON object per line when not a terminal', () => {
  const out = fakeStdout(false);
  const { log, format } = createLogger({ format: 'auto', level: 'info' }, out.stream);
  log.info({ camera: 'door' }, 'stream online');
  log.warn('disk nearly full');
  assert.equal(format, 'json');
  const lines = out
    .text()
    .trim()
    .split('\n')
    .map((l) => JSON.parse(l) as Record<string, unknown>);
  assert.deepEqual(
    lines.map((l) => [l['level'], l['msg']]),
    [
      [30, 'stream online'],
      [40, 'disk nearly full'],
    ],
  );
  assert.equal(lines[0]?.['camera'], 'door');
});

test('forced formats win over the terminal check; pretty off a terminal has no colour codes', () => {
  const tty = fakeStdout(true);
  createLogger({ format: 'json' }, tty.stream).log.info('x');
  assert.doesNotThrow(() => JSON.parse(tty.text()));
  const pipe = fakeStdout(false);
  createLogger({ format: 'pretty' }, pipe.stream).log.info('readable');
  assert.match(pipe.text(), /INFO.*readable/);
  assert.doesNotMatch(pipe.text(), ANSI_ESCAPE);
});

test('the level filters; debug lines appear only at debug', () => {
  const info = fakeStdout(false);
  createLogger({ format: 'json', level: 'info' }, info.stream).log.debug('hidden');
  assert.equal(info.text(), '');
  const debug = fakeStdout(false);
  createLogger({ format: 'json', level: 'debug' }, debug.stream).log.debug('shown');
  assert.match(debug.text(), /"msg":"shown"/);
});

test('an unknown format or level is a usage error naming the allowed values', () => {
  const out = fakeStdout(false);
  assert.throws(
    () => createLogger({ format: 'xml' }, out.stream),
    (err: unknown) => err instanceof UsageError && /log format 'xml'.*auto, json, pretty/.test(err.message),
  );
  assert.throws(
    () => createLogger({ level: 'verbose' }, out.stream),
    (err: unknown) => err instanceof UsageError && /log level 'verbose'.*debug/.test(err.message),
  );
});
