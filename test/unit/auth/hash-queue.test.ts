import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import {
  HashQueue,
  MAX_CONCURRENT_HASHES,
  MAX_WAITING_HASHES,
  passwordHashQueue,
} from '../../../src/auth/passwords.js';
import { VigilError } from '../../../src/errors/catalogue.js';

/** A job the test finishes when it wants: the queue's state is then known, not raced. */
function gate(): { promise: Promise<void>; open: () => void } {
  let open!: () => void;
  const promise = new Promise<void>((resolve) => (open = resolve));
  return { promise, open };
}

describe('password hash queue', () => {
  test('the product queue: 2 at once, 16 waiting (as documented)', () => {
    assert.equal(passwordHashQueue.concurrent, MAX_CONCURRENT_HASHES);
    assert.equal(MAX_CONCURRENT_HASHES, 2);
    assert.equal(passwordHashQueue.maxWaiting, MAX_WAITING_HASHES);
    assert.equal(MAX_WAITING_HASHES, 16);
  });

  test('runs at most `concurrent`, queues up to `maxWaiting`, refuses the next with AUTH_BUSY', async () => {
    const queue = new HashQueue(2, 3);
    const g = gate();
    let peak = 0;
    let running = 0;
    const job = async () => {
      running += 1;
      peak = Math.max(peak, running);
      await g.promise;
      running -= 1;
      return 'done';
    };
    const accepted = Array.from({ length: 5 }, () => queue.run(job));
    assert.deepEqual(queue.load, { running: 2, waiting: 3 });
    await assert.rejects(queue.run(job), (err: unknown) => {
      assert.ok(err instanceof VigilError);
      assert.equal(err.code, 'AUTH_BUSY');
      assert.equal(err.httpStatus, 503);
      assert.deepEqual(err.details, { retryAfterMs: 1000 });
      return true;
    });
    g.open();
    assert.deepEqual(await Promise.all(accepted), ['done', 'done', 'done', 'done', 'done']);
    assert.equal(peak, 2);
    assert.deepEqual(queue.load, { running: 0, waiting: 0 });
    // A failing job frees its place too.
    await assert.rejects(
      queue.run(() => Promise.reject(new Error('boom'))),
      /boom/,
    );
    assert.deepEqual(queue.load, { running: 0, waiting: 0 });
  });
});
