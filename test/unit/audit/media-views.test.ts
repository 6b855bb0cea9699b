import assert from 'node:assert/strict';
import { test } from 'node:test';
import { MEDIA_VIEW_WINDOW_MS, MediaViewWindow, mediaBucketStartMs } from '../../../src/audit/media-views.js';

test('the first request of a key is recorded, repeats within the window are merged', () => {
  const window = new MediaViewWindow();
  assert.equal(window.shouldRecord('alice|cam|10', 1_000), true);
  assert.equal(window.shouldRecord('alice|cam|10', 2_000), false);
  assert.equal(window.shouldRecord('alice|cam|10', 1_000 + MEDIA_VIEW_WINDOW_MS - 1), false);
  assert.equal(window.shouldRecord('alice|cam|10', 1_000 + MEDIA_VIEW_WINDOW_MS), true);
});

test('another person, camera or hour is another entry', () => {
  const window = new MediaViewWindow();
  assert.equal(window.shouldRecord('alice|cam|10', 0), true);
  assert.equal(window.shouldRecord('bob|cam|10', 1), true);
  assert.equal(window.shouldRecord('alice|yard|10', 2), true);
  assert.equal(window.shouldRecord('alice|cam|11', 3), true);
  assert.equal(window.shouldRecord('alice|cam|10', 4), false);
});

test('a clock that steps back records again rather than hiding a view', () => {
  const window = new MediaViewWindow();
  assert.equal(window.shouldRecord('k', 10 * 60_000), true);
  assert.equal(window.shouldRecord('k', 60_000), true);
});

test('recorded time is bucketed by the hour', () => {
  assert.equal(mediaBucketStartMs(3_600_000 * 5 + 123), 3_600_000 * 5);
  assert.equal(mediaBucketStartMs(3_600_000 * 5), 3_600_000 * 5);
});
