import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { conflictName } from './conflict-name';
import { resolve, sameContent } from './resolve';
import type { Resolution, Resolvable } from './resolve';
import { compare, dominates, merge } from './version-vector';
import type { VersionVector } from './version-vector';

interface TestRecord extends Resolvable {
  sequence: number;
}

const record = (fields: Partial<TestRecord>): TestRecord => ({
  path: 'docs/a.txt',
  type: 'file',
  hash: 'h1',
  deleted: false,
  mtimeMs: 1_000,
  modifiedBy: 'n1',
  version: {},
  sequence: 1,
  ...fields,
});

const contentOf = ({ type, hash, target, deleted }: Resolvable) => ({ type, hash, target, deleted });

describe('resolve: table of rules', () => {
  it('the dominating record wins as is', () => {
    const old = record({ version: { n1: 1 }, hash: 'old', mtimeMs: 9_000 });
    const next = record({ version: { n1: 2 }, hash: 'new', mtimeMs: 1_000 });
    for (const result of [resolve(old, next), resolve(next, old)]) {
      expect(result).toEqual({ kind: 'dominates', winner: next, loser: null, conflictCopyPath: null });
      expect(result.winner).toBe(next);
    }
  });

  it('equal vectors with equal content: the newer record, no loser', () => {
    const a = record({ version: { n1: 1 }, mtimeMs: 5 });
    const b = record({ version: { n1: 1, n2: 0 }, mtimeMs: 6, modifiedBy: 'n2' });
    expect(resolve(a, b)).toEqual({ kind: 'equal', winner: { ...b, version: { n1: 1, n2: 0 } }, loser: null, conflictCopyPath: null });
  });

  it('equal vectors and mtimes with different modes: every node picks the same, whatever its sequence numbers and disk fingerprint', () => {
    // Two nodes that merged concurrent chmods hold equal vectors. Each numbers its copy its own way
    // and keeps its own disk fingerprint with it, which a peer's copy does not carry.
    type Copy = TestRecord & { mode: number; disk?: { ino: number } };
    const local = (mode: number, sequence: number): Copy => ({ ...record({ version: { n0: 1, n1: 2 }, sequence }), mode, disk: { ino: sequence } });
    const fromPeer = (mode: number, sequence: number): Copy => ({ ...record({ version: { n0: 1, n1: 2 }, sequence }), mode });
    const onN0 = resolve<Copy>(local(0o755, 7), fromPeer(0o644, 3));
    const onN1 = resolve<Copy>(local(0o644, 9), fromPeer(0o755, 2));
    expect(onN0.winner.mode).toBe(onN1.winner.mode);
    expect(onN0.loser).toBeNull();
  });

  it('records that differ only in node-local fields or their own vector resolve the same in either argument order', () => {
    // Property runs found both (about 1 in 10,000 draws): the pick followed the argument order.
    const first = record({ type: 'dir', sequence: 0 });
    const second = record({ type: 'dir', sequence: 1 });
    expect(resolve(first, second)).toEqual(resolve(second, first));
    const versions: VersionVector[] = [{ only0: 1 }, { n1: 0, only1: 1 }, { only2: 1 }];
    const [x, y, z] = versions.map((version, i) =>
      record({ version, deleted: true, mtimeMs: i === 1 ? 0 : 5_000, sequence: i === 2 ? 1 : 0 }),
    ) as [TestRecord, TestRecord, TestRecord];
    expect(resolve(resolve(x, y).winner, z).winner).toEqual(resolve(resolve(y, z).winner, x).winner);
  });

  it('equal vectors with different content are a conflict, so the losing content is kept', () => {
    const a = record({ version: { n1: 2, n2: 1 }, hash: 'a', mtimeMs: 2_000 });
    const b = record({ version: { n1: 2, n2: 1 }, hash: 'b', mtimeMs: 3_000, modifiedBy: 'n2' });
    expect(resolve(a, b)).toEqual({
      kind: 'newer-wins',
      winner: b,
      loser: a,
      conflictCopyPath: conflictName(a.path, a.mtimeMs, a.modifiedBy),
    });
  });

  it('concurrent with the same content: merged vector, no conflict', () => {
    const a = record({ version: { n1: 1 }, mtimeMs: 10 });
    const b = record({ version: { n2: 1 }, mtimeMs: 20, modifiedBy: 'n2', sequence: 7 });
    expect(resolve(a, b)).toEqual({ kind: 'same-content', winner: { ...b, version: { n1: 1, n2: 1 } }, loser: null, conflictCopyPath: null });
  });

  it('concurrent deletes of different types are the same content', () => {
    const a = record({ version: { n1: 1 }, deleted: true, type: 'dir', hash: '' });
    const b = record({ version: { n2: 1 }, deleted: true, modifiedBy: 'n2' });
    expect(resolve(a, b).kind).toBe('same-content');
  });

  it('a change beats a concurrent delete even when the delete is newer', () => {
    const change = record({ version: { n1: 1 }, mtimeMs: 1 });
    const gone = record({ version: { n2: 1 }, deleted: true, mtimeMs: 99, modifiedBy: 'n2' });
    expect(resolve(gone, change)).toEqual({
      kind: 'change-beats-delete',
      winner: { ...change, version: { n1: 1, n2: 1 } },
      loser: null,
      conflictCopyPath: null,
    });
  });

  it('a directory beats a newer file, and the file is kept as a conflict copy', () => {
    const dir = record({ type: 'dir', hash: '', version: { n1: 1 }, mtimeMs: 1 });
    const file = record({ version: { n2: 1 }, mtimeMs: 99, modifiedBy: 'n2' });
    expect(resolve(file, dir)).toEqual({
      kind: 'dir-beats-file',
      winner: { ...dir, version: { n1: 1, n2: 1 } },
      loser: file,
      conflictCopyPath: 'docs/a.sync-conflict-19700101-000000-n2.txt',
    });
  });

  it('a directory beats a symlink', () => {
    const dir = record({ type: 'dir', hash: '', version: { n1: 1 } });
    const link = record({ type: 'symlink', hash: '', target: 'x', version: { n2: 1 }, modifiedBy: 'n2', mtimeMs: 5_000 });
    expect(resolve(link, dir)).toMatchObject({ kind: 'dir-beats-file', winner: { type: 'dir' }, loser: link });
  });

  it('otherwise the later mtime wins and the loser is kept under keep-both', () => {
    const older = record({ version: { n1: 1 }, hash: 'a', mtimeMs: Date.UTC(2024, 0, 2, 3, 4, 5) });
    const newer = record({ version: { n2: 1 }, hash: 'b', mtimeMs: older.mtimeMs + 1, modifiedBy: 'n2' });
    expect(resolve(older, newer)).toEqual({
      kind: 'newer-wins',
      winner: { ...newer, version: { n1: 1, n2: 1 } },
      loser: older,
      conflictCopyPath: 'docs/a.sync-conflict-20240102-030405-n1.txt',
    });
  });

  it('an mtime tie is broken by the larger modifiedBy', () => {
    const a = record({ version: { alpha: 1 }, hash: 'a', modifiedBy: 'alpha' });
    const b = record({ version: { beta: 1 }, hash: 'b', modifiedBy: 'beta' });
    expect(resolve(a, b).winner.hash).toBe('b');
    expect(resolve(b, a).winner.hash).toBe('b');
  });

  it('a file against a symlink is decided by mtime', () => {
    const file = record({ version: { n1: 1 }, mtimeMs: 50 });
    const link = record({ type: 'symlink', hash: '', target: '../b', version: { n2: 1 }, mtimeMs: 40, modifiedBy: 'n2' });
    expect(resolve(link, file)).toMatchObject({ kind: 'newer-wins', winner: { type: 'file' }, loser: link });
  });

  it('symlinks compare by target, directories are always the same content', () => {
    const link = (target: string): TestRecord => record({ type: 'symlink', hash: '', target });
    expect(sameContent(link('a'), link('a'))).toBe(true);
    expect(sameContent(link('a'), link('b'))).toBe(false);
    expect(sameContent(record({ type: 'dir', hash: '' }), record({ type: 'dir', hash: 'other', mtimeMs: 7 }))).toBe(true);
    expect(sameContent(record({}), record({ deleted: true }))).toBe(false);
  });

  it('newest-wins reports the same winner and loser but keeps no copy', () => {
    const older = record({ version: { n1: 1 }, hash: 'a', mtimeMs: 1 });
    const newer = record({ version: { n2: 1 }, hash: 'b', mtimeMs: 2, modifiedBy: 'n2' });
    const keep = resolve(older, newer, 'keep-both');
    const drop = resolve(older, newer, 'newest-wins');
    expect(drop).toEqual({ ...keep, conflictCopyPath: null });
    expect(drop.loser).toBe(older);
  });

  it('rejects records of different paths and non-finite times', () => {
    expect(() => resolve(record({}), record({ path: 'other' }))).toThrow(
      expect.objectContaining({ name: 'ConflictError', code: 'PATH_MISMATCH' }),
    );
    expect(() => resolve(record({ mtimeMs: Number.NaN }), record({}))).toThrow(
      expect.objectContaining({ name: 'ConflictError', code: 'INVALID_TIME' }),
    );
  });

  it('does not mutate its inputs', () => {
    const a = Object.freeze(record({ version: Object.freeze({ n1: 1 }), hash: 'a' }));
    const b = Object.freeze(record({ version: Object.freeze({ n2: 1 }), hash: 'b', modifiedBy: 'n2' }));
    const result = resolve(a, b);
    expect(result.winner).not.toBe(b);
    expect(a.version).toEqual({ n1: 1 });
    expect(b.version).toEqual({ n2: 1 });
  });
});

// Small pools so that ties, equal hashes and equal vectors actually happen.
const nodeIdArb = fc.constantFrom('n1', 'n2', 'n3', 'n-4');
const vectorArb: fc.Arbitrary<VersionVector> = fc
  .array(fc.tuple(nodeIdArb, fc.nat({ max: 3 })), { maxLength: 4 })
  .map((entries) => Object.fromEntries(entries));

const recordArb = (versionArb: fc.Arbitrary<VersionVector>): fc.Arbitrary<TestRecord> =>
  fc
    .record({
      type: fc.constantFrom('file', 'dir', 'symlink'),
      hash: fc.constantFrom('h1', 'h2'),
      target: fc.constantFrom('t1', 't2', undefined),
      deleted: fc.boolean(),
      mtimeMs: fc.constantFrom(0, 1_000, 1_000.5, 86_400_000),
      modifiedBy: nodeIdArb,
      version: versionArb,
      sequence: fc.nat({ max: 3 }),
    })
    .map((fields) => record(fields));

// Each record gets a counter from a node no other record has seen, so every pair is concurrent.
const concurrentTripleArb = fc
  .tuple(recordArb(vectorArb), recordArb(vectorArb), recordArb(vectorArb))
  .map((records) => records.map((r, i) => ({ ...r, version: { ...r.version, [`only-${i}`]: 1 } })));

const orders = [[0, 1, 2], [0, 2, 1], [1, 0, 2], [1, 2, 0], [2, 0, 1], [2, 1, 0]] as const;

describe('resolve: properties', () => {
  it('is symmetric: resolve(a, b) equals resolve(b, a)', () => {
    fc.assert(
      fc.property(recordArb(vectorArb), recordArb(vectorArb), fc.constantFrom('keep-both', 'newest-wins'), (a, b, policy) => {
        expect(resolve(a, b, policy)).toEqual(resolve(b, a, policy));
      }),
    );
  });

  it('the winner dominates both inputs, carries one input content, and a lost content has a copy', () => {
    fc.assert(
      fc.property(recordArb(vectorArb), recordArb(vectorArb), (a, b) => {
        const { winner, loser, conflictCopyPath } = resolve(a, b);
        expect(dominates(winner.version, a.version) && dominates(winner.version, b.version)).toBe(true);
        expect([contentOf(a), contentOf(b)]).toContainEqual(contentOf(winner));
        expect(loser === null).toBe(conflictCopyPath === null);
        if (loser !== null) {
          expect(loser.deleted).toBe(false);
          expect(sameContent(loser, winner)).toBe(false);
          expect(conflictCopyPath).toBe(conflictName(loser.path, loser.mtimeMs, loser.modifiedBy));
        }
      }),
    );
  });

  it('folding three concurrent records in any order gives one winner and keeps every content', () => {
    fc.assert(
      fc.property(concurrentTripleArb, (records) => {
        const folds = orders.map(([i, j, k]) => {
          const [x, y, z] = [records[i], records[j], records[k]] as [TestRecord, TestRecord, TestRecord];
          const first = resolve(x, y);
          const second = resolve(first.winner, z);
          return { winner: second.winner, copies: [first, second].filter((r) => r.loser !== null) };
        });
        const expected = folds[0]?.winner;
        for (const { winner, copies } of folds) {
          expect(winner).toEqual(expected);
          expect(winner.version).toEqual(records.map((r) => r.version).reduce(merge));
          const kept = [winner, ...copies.map((r: Resolution<TestRecord>) => r.loser)];
          for (const input of records.filter((r) => !r.deleted)) {
            expect(kept.some((k) => k !== null && sameContent(k, input))).toBe(true);
          }
        }
      }),
    );
  });

  it('nodes that fold mixed-history records in different orders still converge without loss', () => {
    // a supersedes b (a user restored an older file on n1), c is concurrent with both.
    const b = record({ version: { n1: 1 }, hash: 'b', mtimeMs: 3_000 });
    const a = record({ version: { n1: 2 }, hash: 'a', mtimeMs: 2_000 });
    const c = record({ version: { n2: 1 }, hash: 'c', mtimeMs: 1_000, modifiedBy: 'n2' });
    const onNodeX = [resolve(b, c), resolve(resolve(b, c).winner, a)];
    const onNodeY = [resolve(a, c), resolve(resolve(a, c).winner, b)];
    const xWinner = onNodeX[1]?.winner as TestRecord;
    const yWinner = onNodeY[1]?.winner as TestRecord;
    expect(compare(xWinner.version, yWinner.version)).toBe('equal');
    const meeting = resolve(xWinner, yWinner);
    expect(meeting).toEqual(resolve(yWinner, xWinner));
    const copies = [...onNodeX, ...onNodeY, meeting].flatMap((r) => (r.loser ? [r.loser.hash] : []));
    expect(new Set([meeting.winner.hash, ...copies])).toEqual(new Set(['a', 'b', 'c']));
  });
});
