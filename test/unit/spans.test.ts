import assert from 'node:assert/strict';
import { test } from 'node:test';
import { gapsBetween, recordingSpans } from '../../src/storage/spans.js';

test('abutting segments form one recording; a real gap splits them', () => {
  const segments = [
    { startTimeMs: 0, endTimeMs: 60_000 },
    { startTimeMs: 60_000, endTimeMs: 120_000 },
    { startTimeMs: 120_400, endTimeMs: 180_000 },
    { startTimeMs: 200_000, endTimeMs: 260_000 },
  ];
  assert.deepEqual(recordingSpans(segments, 0, 1_000_000), [
    { startTimeMs: 0, endTimeMs: 180_000 },
    { startTimeMs: 200_000, endTimeMs: 260_000 },
  ]);
});

test('spans are clipped to the requested range', () => {
  const segments = [{ startTimeMs: 0, endTimeMs: 60_000 }];
  assert.deepEqual(recordingSpans(segments, 10_000, 20_000), [{ startTimeMs: 10_000, endTimeMs: 20_000 }]);
  assert.deepEqual(recordingSpans(segments, 70_000, 80_000), []);
});

test('gaps are the complement of the spans within the range', () => {
  const spans = [
    { startTimeMs: 10, endTimeMs: 20 },
    { startTimeMs: 30, endTimeMs: 40 },
  ];
  assert.deepEqual(gapsBetween(spans, 0, 50), [
    { startTimeMs: 0, endTimeMs: 10 },
    { startTimeMs: 20, endTimeMs: 30 },
    { startTimeMs: 40, endTimeMs: 50 },
  ]);
  assert.deepEqual(gapsBetween([], 0, 50), [{ startTimeMs: 0, endTimeMs: 50 }]);
});
