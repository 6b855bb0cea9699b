import assert from 'node:assert/strict';
import { test } from 'node:test';
import { cellsOnSegment, heatGrid } from '../../../src/events/heatmap.js';

const p = (x: number, y: number) => ({ x, y });

test('a segment walks every cell it crosses, in order, without gaps', () => {
  // A 4 × 2 grid; from the top-left cell to the bottom-right one.
  assert.deepEqual(cellsOnSegment(p(0.1, 0.2), p(0.9, 0.8), 4, 2), [0, 1, 5, 6, 7]);
  // Right to left along the top row.
  assert.deepEqual(cellsOnSegment(p(0.95, 0.1), p(0.05, 0.1), 4, 2), [3, 2, 1, 0]);
  // A point: its cell.
  assert.deepEqual(cellsOnSegment(p(0.6, 0.6), p(0.6, 0.6), 4, 2), [6]);
  // Every consecutive pair of cells shares an edge: the trail is continuous.
  const cells = cellsOnSegment(p(0.02, 0.97), p(0.97, 0.03), 48, 36);
  for (let i = 1; i < cells.length; i++) {
    const [a, b] = [cells[i - 1]!, cells[i]!];
    const step = Math.abs((a % 48) - (b % 48)) + Math.abs(Math.floor(a / 48) - Math.floor(b / 48));
    assert.equal(step, 1, `cells ${a} → ${b}`);
  }
  assert.equal(cells.at(-1), 1 * 48 + 46, 'ends in the last point’s cell (column 46, row 1)');
});

test('points on the border or outside 0..1 stay on the grid', () => {
  assert.deepEqual(cellsOnSegment(p(1, 1), p(1, 1), 4, 2), [7]);
  assert.deepEqual(cellsOnSegment(p(-0.5, 0.1), p(0.3, 0.1), 4, 2), [0, 1]);
});

test('each path counts once per cell, however long it stays', () => {
  const parked = [p(0.1, 0.1), p(0.11, 0.1), p(0.1, 0.12), p(0.1, 0.1)];
  const walker = [p(0.1, 0.1), p(0.9, 0.1)];
  const cells = heatGrid([parked, walker, [p(0.9, 0.9)], []], 4, 2);
  assert.deepEqual(cells, [2, 1, 1, 1, 0, 0, 0, 1]);
});

test('a fast mover seen twice leaves a trail across the picture', () => {
  const cells = heatGrid([[p(0.01, 0.5), p(0.99, 0.5)]], 48, 36);
  const row = cells.slice(18 * 48, 19 * 48);
  assert.deepEqual(row, new Array(48).fill(1));
  assert.equal(
    cells.reduce((a, b) => a + b, 0),
    48,
  );
});
