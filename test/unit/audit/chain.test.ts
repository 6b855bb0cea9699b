import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import {
  ChainWalker,
  GENESIS_HASH,
  canonicalJson,
  checkpointSignature,
  checkpointSignatureValid,
  entryHash,
  originalSeqOfMovedEntry,
} from '../../../src/audit/chain.js';
import { toCsv, csvCell } from '../../../src/audit/csv.js';
import { actorOf, entryFromRow, type AuditRow } from '../../../src/audit/entry.js';

function chain(count: number): AuditRow[] {
  const rows: AuditRow[] = [];
  let prev = GENESIS_HASH;
  for (let seq = 1; seq <= count; seq += 1) {
    const unhashed = {
      seq,
      time_ms: 1_700_000_000_000 + seq * 1000,
      actor_kind: 'user' as const,
      actor: 'alice',
      token_id: null,
      action: 'live.start',
      target: `camera:cam${seq % 3}`,
      details_json: canonicalJson({ stream: 'sub' }),
      ip: '192.0.2.1',
      prev_hash: prev,
    };
    const row = { ...unhashed, hash: entryHash(unhashed) };
    rows.push(row);
    prev = row.hash;
  }
  return rows;
}

function walk(rows: AuditRow[]) {
  const walker = new ChainWalker();
  for (const row of rows) if (walker.push(row)) break;
  return walker;
}

describe('audit hash chain (pure)', () => {
  test('canonical JSON sorts keys at every level', () => {
    assert.equal(
      canonicalJson({ b: 1, a: { d: [3, { z: 1, y: 2 }], c: null } }),
      '{"a":{"c":null,"d":[3,{"y":2,"z":1}]},"b":1}',
    );
    assert.equal(canonicalJson({}), '{}');
  });

  test('the hash covers every column, prev_hash included', () => {
    const [row] = chain(1);
    assert.match(row!.hash, /^[0-9a-f]{64}$/);
    for (const [column, value] of Object.entries({
      seq: 2,
      time_ms: 1,
      actor_kind: 'system',
      actor: 'bob',
      token_id: 4,
      action: 'export.create',
      target: null,
      details_json: '{}',
      ip: null,
      prev_hash: '1'.repeat(64),
    })) {
      assert.notEqual(entryHash({ ...row!, [column]: value }), row!.hash, column);
    }
  });

  test('an intact chain walks through; the first broken link is reported', () => {
    const rows = chain(10);
    const ok = walk(rows);
    assert.equal(ok.problem, null);
    assert.equal(ok.checkedCount, 10);
    assert.deepEqual(ok.head, { seq: 10, hash: rows[9]!.hash });

    const edited = rows.map((r) => (r.seq === 4 ? { ...r, actor: 'mallory' } : r));
    assert.deepEqual(walk(edited).problem?.kind, 'edited');
    assert.equal(walk(edited).checkedCount, 3);

    const deleted = rows.filter((r) => r.seq !== 5 && r.seq !== 6);
    const gap = walk(deleted).problem;
    assert.equal(gap?.kind, 'deleted');
    assert.ok(gap?.kind === 'deleted' && gap.fromSeq === 5 && gap.toSeq === 6);
    assert.match(gap!.message, /entries 5 to 6 were deleted/);

    // A forged entry with a valid hash of its own but linked to nothing.
    const forgedUnhashed = { ...rows[6]!, actor: 'mallory', prev_hash: 'f'.repeat(64) };
    const forged = rows.map((r) =>
      r.seq === 7 ? { ...forgedUnhashed, hash: entryHash(forgedUnhashed) } : r,
    );
    assert.equal(walk(forged).problem?.kind, 'reordered');
    assert.match(walk(forged).problem!.message, /entry 7 does not follow entry 6/);
  });

  test('a moved entry is recognised by the seq it was written at', () => {
    const rows = chain(10);
    assert.equal(originalSeqOfMovedEntry({ ...rows[5]!, seq: 5 }), 6);
    assert.equal(originalSeqOfMovedEntry({ ...rows[2]!, seq: 9 }), 3);
    assert.equal(originalSeqOfMovedEntry({ ...rows[5]!, actor: 'x' }), null);
  });

  test('checkpoint signatures', () => {
    const key = Buffer.alloc(32, 7);
    const fields = { seq: 10, hash: 'a'.repeat(64), time_ms: 5, deleted_count: 10 };
    const signature = checkpointSignature(fields, key);
    assert.ok(checkpointSignatureValid(fields, signature, key));
    assert.ok(!checkpointSignatureValid({ ...fields, seq: 11 }, signature, key));
    assert.ok(!checkpointSignatureValid(fields, signature, Buffer.alloc(32, 8)));
    assert.ok(!checkpointSignatureValid(fields, null, key));
    assert.ok(!checkpointSignatureValid(fields, 'abc', key));
  });

  test('CSV: header, quoting, formula guard, hashes kept for offline checking', () => {
    const rows = chain(2);
    const entries = rows.map(entryFromRow);
    entries[1] = { ...entries[1]!, detailsJson: '{"note":"a, \\"b\\"\\nc"}' };
    const csv = toCsv(entries);
    const lines = csv.split('\r\n');
    assert.equal(
      lines[0],
      'seq,time,time_ms,actor_kind,actor,token_id,action,target,ip,details,prev_hash,hash',
    );
    assert.equal(
      lines[1],
      `1,2023-11-14T22:13:21.000Z,1700000001000,user,alice,,live.start,camera:cam1,192.0.2.1,"{""stream"":""sub""}",${GENESIS_HASH},${rows[0]!.hash}`,
    );
    assert.ok(lines[2]!.includes('"{""note"":""a, \\""b\\""\\nc""}"'));
    assert.equal(lines.at(-1), '');
    assert.equal(toCsv([], { header: false }), '');
    assert.equal(csvCell('=HYPERLINK("x")'), `"'=HYPERLINK(""x"")"`);
    assert.equal(csvCell('-1+1'), "'-1+1");
    assert.equal(csvCell('@SUM(A1)'), "'@SUM(A1)");
    assert.equal(csvCell(-5), '-5', 'numbers are not formulas');
    assert.equal(csvCell(null), '');
  });

  test('actors of principals', () => {
    const base = { userId: 1, name: 'alice', role: 'operator' as const, cameras: null, scopes: null };
    assert.deepEqual(actorOf({ ...base, via: 'session', tokenId: null }), { kind: 'user', name: 'alice' });
    assert.deepEqual(actorOf({ ...base, via: 'token', tokenId: 9 }), {
      kind: 'token',
      name: 'alice',
      tokenId: 9,
    });
  });
});
