import type { Writable } from 'node:stream';
import type { HttpCameraClient } from './http-source.js';
import type { StreamError } from './stream-errors.js';
import { systemTimers, type Timer, type Timers } from '../time/timers.js';

/** Feeds a running ffmpeg's stdin; stop() ends feeding (ffmpeg is ended by the supervisor). */
export interface StdinFeed {
  stop(): void;
}

/** Starts feeding stdin; onError reports a failure that should end this connection. */
export type StdinFeeder = (stdin: Writable, onError: (error: StreamError) => void) => StdinFeed;

/** JPEG files start with the SOI marker FF D8 FF, whatever the camera calls them. */
export function isJpeg(bytes: Buffer): boolean {
  return bytes.length > 3 && bytes[0] === 0xff && bytes[1] === 0xd8 && bytes[2] === 0xff;
}

/**
 * Polls a snapshot camera every intervalMs and writes each JPEG to ffmpeg's stdin (image2pipe),
 * whose wall-clock timestamps make the poll rate the recording's frame rate. Requests never
 * overlap: a camera slower than the interval sets the rate. The first failure (unreachable,
 * refused credentials, an answer that is not a JPEG) is reported once and polling stops; the
 * supervisor's retry starts a fresh feed.
 */
export function snapshotFeeder(
  client: HttpCameraClient,
  intervalMs: number,
  timers: Timers = systemTimers,
): StdinFeeder {
  return (stdin, onError) => {
    let stopped = false;
    let timer: Timer | null = null;
    stdin.on('error', () => undefined); // EPIPE once ffmpeg has gone: its exit is what counts.
    const fail = (error: StreamError) => {
      if (stopped) return;
      stopped = true;
      onError(error);
    };
    const poll = async () => {
      const startedAtMs = performance.now();
      const answer = await client.get();
      if (stopped) return;
      if ('kind' in answer) return fail(answer);
      let body: Buffer;
      try {
        body = await answer.body();
      } catch (err) {
        return fail({
          kind: 'stalled',
          message: `the snapshot download broke off: ${(err as Error).message}`,
        });
      }
      if (stopped) return;
      if (!isJpeg(body)) {
        const type = answer.contentType ?? 'no Content-Type';
        return fail({
          kind: 'invalid_data',
          message: `the snapshot URL answered ${type}, not a JPEG image: check that the URL is the camera's snapshot URL`,
        });
      }
      stdin.write(body);
      const waitMs = Math.max(0, intervalMs - (performance.now() - startedAtMs));
      timer = timers.after(waitMs, () => void poll());
    };
    void poll();
    return {
      stop: () => {
        stopped = true;
        timer?.cancel();
      },
    };
  };
}
