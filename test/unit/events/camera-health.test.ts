import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { CameraStatusChange } from '../../../src/contract/push.js';
import type { SceneFact } from '../../../src/contract/scene.js';
import { EventBus } from '../../../src/events/bus.js';
import { CameraHealthMonitor } from '../../../src/events/camera-health.js';

/** A monitor on a bus, with timers the test fires by hand. */
function setUp() {
  const bus = new EventBus();
  const facts: SceneFact[] = [];
  bus.on('scene', (fact) => facts.push(fact));
  const timers = new Set<() => void>();
  const monitor = new CameraHealthMonitor({
    bus,
    lostAfterMs: 5000,
    schedule: (fn) => {
      timers.add(fn);
      return () => timers.delete(fn);
    },
  });
  monitor.start();
  const status = (state: string, timeMs: number, reason: string | null = null): void =>
    bus.cameraStatus({ cameraId: 'yard', stream: 'sub', state, reason, timeMs } satisfies CameraStatusChange);
  const fireTimers = (): void => {
    for (const fn of [...timers]) {
      timers.delete(fn);
      fn();
    }
  };
  return { bus, facts, status, fireTimers, monitor, timers };
}

test('a stream down past the debounce is lost (at the time it went down), then restored', () => {
  const { facts, status, fireTimers } = setUp();
  status('online', 1000);
  status('connecting', 2000, 'connection refused');
  assert.equal(facts.length, 0, 'not before the debounce');
  fireTimers();
  status('online', 9000);
  assert.deepEqual(
    facts.map((f) => f.type === 'camera-health' && [f.state, f.timeMs]),
    [
      ['stream-lost', 2000],
      ['stream-restored', 9000],
    ],
  );
  assert.match(facts[0]!.type === 'camera-health' ? facts[0]!.detail : '', /sub is down: connection refused/);
  assert.match(facts[1]!.type === 'camera-health' ? facts[1]!.detail : '', /back after 7 s/);
});

test('a flap shorter than the debounce raises nothing, and a stream never online is not lost', () => {
  const { facts, status, fireTimers, timers } = setUp();
  status('connecting', 0);
  assert.equal(timers.size, 0);
  status('online', 1000);
  status('error', 2000, 'stalled');
  status('connecting', 2500);
  status('online', 3000);
  fireTimers();
  assert.deepEqual(facts, []);
});

test('a camera removed or changed (its streams stopped on purpose) is not lost', () => {
  const { facts, status, fireTimers, monitor } = setUp();
  status('online', 1000);
  monitor.forget('yard');
  status('offline', 2000);
  fireTimers();
  assert.deepEqual(facts, []);
});

test('tamper reports go out as camera-health facts; stop unsubscribes', () => {
  const { bus, facts, monitor } = setUp();
  monitor.tamper('yard', { state: 'tamper-covered', detail: 'the view is covered', timeMs: 5 });
  assert.deepEqual(facts, [
    {
      type: 'camera-health',
      cameraId: 'yard',
      state: 'tamper-covered',
      detail: 'the view is covered',
      timeMs: 5,
    },
  ]);
  monitor.stop();
  assert.equal(bus.listenerCount('camera'), 0);
});
