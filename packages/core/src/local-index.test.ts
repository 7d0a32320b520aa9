import { describe, expect, it } from 'vitest';
import type { IndexJournal } from './journal';
import { LocalIndex, largeFileBytesMin } from './local-index';
import type { LocalRecord } from './record';
import { sameHiddenClass } from './testing/v8-internals';

// The index's own logic only: the journal it writes to is tested in journal.test.ts.
const journal = { append() {} } as unknown as IndexJournal;

function file(path: string, size: number, ino: number, deleted = false): Omit<LocalRecord, 'sequence'> {
  return {
    path,
    type: 'file',
    size: deleted ? 0 : size,
    mtimeMs: 1_700_000_000_000,
    mode: 0o644,
    hash: deleted ? '' : 'a'.repeat(64),
    blocks: [],
    deleted,
    version: { n1: 1 },
    modifiedBy: 'n1',
    disk: deleted ? undefined : { size, mtimeMs: 1_700_000_000_000, ino },
  };
}

const pathsOf = (records: readonly LocalRecord[]): string[] => records.map((record) => record.path).sort();
const pathsWithInode = (index: LocalIndex, ino: number): string[] => pathsOf(index.largeFilesWithInode(ino));

describe('LocalIndex.largeFilesWithInode', () => {
  const large = largeFileBytesMin;

  it('finds live large files by inode, hard links included, built from what was there and kept as records change', () => {
    const index = new LocalIndex(new Map(), journal, 'idx-00000001');
    index.publish(file('a.bin', large, 7));
    index.publish(file('small.bin', large - 1, 8));
    expect(pathsWithInode(index, 7)).toEqual(['a.bin']);
    expect(pathsWithInode(index, 8)).toEqual([]);
    index.publish(file('link.bin', large, 7));
    expect(pathsWithInode(index, 7)).toEqual(['a.bin', 'link.bin']);
    index.publish(file('a.bin', large, 7, true));
    expect(pathsWithInode(index, 7)).toEqual(['link.bin']);
    index.updateFingerprint('link.bin', { size: large, mtimeMs: 1, ino: 9 });
    expect(pathsWithInode(index, 7)).toEqual([]);
    expect(pathsWithInode(index, 9)).toEqual(['link.bin']);
    index.publish(file('link.bin', large - 1, 9));
    expect(pathsWithInode(index, 9)).toEqual([]);
  });

  it('holds the records a restart replayed', () => {
    const first = new LocalIndex(new Map(), journal, 'idx-00000001');
    const a = first.publish(file('a.bin', 2 * large, 3));
    const gone = first.publish(file('gone.bin', large, 4, true));
    const index = new LocalIndex(new Map([a, gone].map((record) => [record.path, record])), journal, 'idx-00000001');
    expect(index.largeFilesWithInode(3)).toEqual([a.toLocal()]);
    expect(index.largeFilesWithInode(4)).toEqual([]);
  });
});

describe('LocalIndex.descendants', () => {
  const dir = (path: string): Omit<LocalRecord, 'sequence'> => ({ ...file(path, 0, 0), type: 'dir', disk: undefined });
  const paths = (index: LocalIndex, of: string): string[] => pathsOf(index.descendants(of));

  it('is the whole subtree, tombstones included, and nothing beside it that shares a prefix', () => {
    const index = new LocalIndex(new Map(), journal, 'idx-00000001');
    for (const path of ['a', 'a/b', 'ab']) index.publish(dir(path));
    index.publish(file('a/one', 1, 1));
    index.publish(file('a/b/two', 1, 2));
    index.publish(file('ab/three', 1, 3));
    index.publish(file('a/b/gone', 1, 4, true));
    expect(paths(index, 'a')).toEqual(['a/b', 'a/b/gone', 'a/b/two', 'a/one']);
    expect(paths(index, 'a/b')).toEqual(['a/b/gone', 'a/b/two']);
    expect(paths(index, 'a/one')).toEqual([]);
    // Kept as records arrive after the first lookup built it, even under a directory with no record.
    index.publish(file('a/b/c/d/four', 1, 5));
    index.publish(file('a/b/two', 1, 6, true));
    expect(paths(index, 'a/b')).toEqual(['a/b/c/d/four', 'a/b/gone', 'a/b/two']);
    expect(paths(index, 'a/b/c')).toEqual(['a/b/c/d/four']);
  });

  it('finds the records a restart replayed', () => {
    const first = new LocalIndex(new Map(), journal, 'idx-00000001');
    const records = [first.publish(dir('x')), first.publish(file('x/y/z', 1, 1)), first.publish(file('xy', 1, 2))];
    const index = new LocalIndex(new Map(records.map((record) => [record.path, record])), journal, 'idx-00000001');
    expect(paths(index, 'x')).toEqual(['x/y/z']);
  });
});

describe('LocalIndex.publish', () => {
  it('stores records of one hidden class, however the caller made them (a class each costs ~450 B a record on Node 20)', () => {
    const index = new LocalIndex(new Map(), journal, 'idx-00000001');
    index.publish(file('a', 1, 1));
    index.publish({ ...file('b', 1, 2), mtimeMs: 1.5 });
    const first = index.stored('a')!;
    index.updateFingerprint('a', { size: 1, mtimeMs: 2.5, ino: 1 });
    index.publish({ ...file('c', 1, 2), type: 'symlink', target: 'a', disk: undefined });
    for (const path of ['a', 'b', 'c']) expect(sameHiddenClass(first, index.stored(path)!)).toBe(true);
    expect(sameHiddenClass(index.get('a')!, index.get('c')!)).toBe(true);
  });

  it('gives each reader a record of its own, equal to what was published', () => {
    const index = new LocalIndex(new Map(), journal, 'idx-00000001');
    const published = index.publish(file('a', 1, 1)).toLocal();
    expect(index.get('a')).toEqual(published);
    expect(index.get('a')).not.toBe(index.get('a'));
    expect(index.since(0).map((record) => record.toLocal())).toEqual([published]);
    expect([...index.values()].map((record) => record.toLocal())).toEqual([published]);
  });
});

describe('LocalIndex.onReplace', () => {
  it('tells of a record about to be replaced by a new version, not of a first version or of a fingerprint update', () => {
    const index = new LocalIndex(new Map(), journal, 'idx-00000001');
    const replaced: Array<[string, number, number | undefined]> = [];
    index.onReplace((previous) => replaced.push([previous.path, previous.sequence, index.stored(previous.path)?.sequence]));
    index.publish(file('a', 1, 1));
    index.updateFingerprint('a', { size: 1, mtimeMs: 2, ino: 1 });
    expect(replaced).toEqual([]);
    index.publish(file('a', 2, 1));
    // Told while the previous version is still the one held.
    expect(replaced).toEqual([['a', 1, 1]]);
  });
});

describe('LocalIndex.holds', () => {
  it('tells whether the record at a path is still the one read, by version and disk fingerprint', () => {
    const index = new LocalIndex(new Map(), journal, 'idx-00000001');
    expect(index.holds('a', undefined)).toBe(true);
    const read = index.publish(file('a', 1, 1)).toLocal();
    expect(index.holds('a', undefined)).toBe(false);
    expect(index.holds('a', read)).toBe(true);
    expect(index.holds('a', index.get('a'))).toBe(true);
    index.updateFingerprint('a', read.disk);
    expect(index.holds('a', read)).toBe(true);
    index.updateFingerprint('a', { size: 1, mtimeMs: 2, ino: 1 });
    expect(index.holds('a', read)).toBe(false);
    const again = index.get('a');
    index.publish(file('a', 1, 1));
    expect(index.holds('a', again)).toBe(false);
    expect(index.holds('b', again)).toBe(false);
  });
});
