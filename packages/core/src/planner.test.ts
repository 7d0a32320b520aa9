import { describe, expect, it } from 'vitest';
import type { FileRecord } from '@sync/protocol';
import { planPath } from './planner';
import type { LocalRecord } from './record';

const file = (modifiedBy: string, mtimeMs: number, version: Record<string, number>): FileRecord => ({
  path: 'a.txt',
  type: 'file',
  size: 5,
  mtimeMs,
  mode: 0o644,
  hash: 'h'.repeat(64),
  blocks: [{ offset: 0, size: 5, hash: 'h'.repeat(64) }],
  deleted: false,
  version,
  modifiedBy,
  sequence: 1,
});

const local = (record: FileRecord): LocalRecord => ({ ...record, disk: { size: record.size, mtimeMs: record.mtimeMs, ino: 1 } });

describe('planPath', () => {
  it('settles equal vectors with the same bytes but different mtimes on the later mtime, from either side', () => {
    // Two nodes that folded the same concurrent records in different orders.
    const version = { n0: 1, n1: 1, n2: 1 };
    const earlier = file('n1', 1_700_000_000_000, version);
    const later = file('n0', 1_700_000_050_000, version);
    const onEarlier = planPath('a.txt', local(earlier), [{ peerId: 'n0', record: later }], 'keep-both');
    expect(onEarlier?.target.mtimeMs).toBe(later.mtimeMs);
    expect(onEarlier?.copies).toEqual([]);
    // The node that already holds the later mtime has nothing to do.
    expect(planPath('a.txt', local(later), [{ peerId: 'n1', record: earlier }], 'keep-both')).toBeNull();
  });

  it('leaves alone equal records whose mtimes differ by less than a millisecond (utimes rounding)', () => {
    const version = { n0: 2 };
    const record = file('n0', 1_700_000_000_000.5, version);
    const rounded = { ...record, mtimeMs: record.mtimeMs - 0.0002 };
    expect(planPath('a.txt', local(rounded), [{ peerId: 'n0', record }], 'keep-both')).toBeNull();
  });

  it('gives plans without conflicts one shared, frozen empty list each, and a plan with one its own', () => {
    const pulled = (path: string) => planPath(path, undefined, [{ peerId: 'n0', record: { ...file('n0', 1_700_000_000_000, { n0: 1 }), path } }], 'keep-both');
    const [a, b] = [pulled('a.txt'), pulled('b.txt')];
    expect(a?.copies).toEqual([]);
    expect(a?.copies).toBe(b?.copies);
    expect(a?.conflicts).toBe(b?.conflicts);
    expect(Object.isFrozen(a?.copies) && Object.isFrozen(a?.conflicts)).toBe(true);
    // Concurrent versions from two nodes: the loser's content is kept as a conflict copy.
    const ours = local(file('n1', 1_700_000_000_000, { n1: 1 }));
    const conflicted = planPath('a.txt', { ...ours, hash: 'k'.repeat(64), blocks: [{ offset: 0, size: 5, hash: 'k'.repeat(64) }] }, [{ peerId: 'n0', record: file('n0', 1_700_000_050_000, { n0: 1 }) }], 'keep-both');
    expect(conflicted?.copies).toHaveLength(1);
    expect(conflicted?.conflicts).toHaveLength(1);
    expect(conflicted?.copies).not.toBe(a?.copies);
  });
});
