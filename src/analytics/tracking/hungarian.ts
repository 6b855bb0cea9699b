/**
 * Minimum-cost assignment (the Hungarian / Kuhn–Munkres algorithm, in its O(n²·m) form with row
 * and column potentials and shortest augmenting paths).
 *
 * `cost[r][c]` is the cost of giving row r column c; the matrix may be rectangular. Every row is
 * assigned when rows ≤ columns, every column otherwise. Forbidden pairs are expressed by the
 * caller as a large finite cost and filtered out after (Infinity would break the potentials).
 *
 * Returns `rowToColumn[r]` = the column of row r, or −1 for a row left unassigned.
 */
export function assignMinCost(cost: readonly (readonly number[])[]): Int32Array {
  const rows = cost.length;
  const columns = rows === 0 ? 0 : cost[0]!.length;
  const result = new Int32Array(rows).fill(-1);
  if (rows === 0 || columns === 0) return result;
  if (rows <= columns) {
    const columnToRow = solve(rows, columns, (r, c) => cost[r]![c]!);
    for (let c = 0; c < columns; c++) if (columnToRow[c]! >= 0) result[columnToRow[c]!] = c;
    return result;
  }
  // More rows than columns: solve the transpose, where every (original) column gets a row.
  const columnToRow = solve(columns, rows, (r, c) => cost[c]![r]!);
  for (let r = 0; r < rows; r++) if (columnToRow[r]! >= 0) result[r] = columnToRow[r]!;
  return result;
}

/**
 * The algorithm proper for n ≤ m, 1-based internally (index 0 is the virtual start column).
 * Returns, per column (0-based), its row (0-based) or −1.
 */
function solve(n: number, m: number, at: (row: number, column: number) => number): Int32Array {
  const u = new Float64Array(n + 1);
  const v = new Float64Array(m + 1);
  const rowOfColumn = new Int32Array(m + 1);
  const way = new Int32Array(m + 1);
  const minSlack = new Float64Array(m + 1);
  const used = new Uint8Array(m + 1);
  for (let row = 1; row <= n; row++) {
    rowOfColumn[0] = row;
    let column0 = 0;
    minSlack.fill(Infinity);
    used.fill(0);
    // Grow a tree of tight edges from `row` until it reaches a free column.
    do {
      used[column0] = 1;
      const row0 = rowOfColumn[column0]!;
      let delta = Infinity;
      let column1 = 0;
      for (let column = 1; column <= m; column++) {
        if (used[column]) continue;
        const slack = at(row0 - 1, column - 1) - u[row0]! - v[column]!;
        if (slack < minSlack[column]!) {
          minSlack[column] = slack;
          way[column] = column0;
        }
        if (minSlack[column]! < delta) {
          delta = minSlack[column]!;
          column1 = column;
        }
      }
      for (let column = 0; column <= m; column++) {
        if (used[column]) {
          u[rowOfColumn[column]!]! += delta;
          v[column]! -= delta;
        } else {
          minSlack[column]! -= delta;
        }
      }
      column0 = column1;
    } while (rowOfColumn[column0] !== 0);
    // Flip the augmenting path.
    do {
      const column1 = way[column0]!;
      rowOfColumn[column0] = rowOfColumn[column1]!;
      column0 = column1;
    } while (column0 !== 0);
  }
  const result = new Int32Array(m).fill(-1);
  for (let column = 1; column <= m; column++)
    if (rowOfColumn[column]! > 0) result[column - 1] = rowOfColumn[column]! - 1;
  return result;
}
