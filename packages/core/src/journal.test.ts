import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { appendFile, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { IndexJournal } from './journal';
import { fileHashOf } from './hashing';
import { LocalIndex } from './local-index';
import { NodeFileSystem } from './node-file-system';
import type { LocalRecord } from './record';

const fs = new NodeFileSystem();
const file = (path: string, hash: string): Omit<LocalRecord, 'sequence'> => ({
  path,
  type: 'file',
  size: 3,
  mtimeMs: 1,
  mode: 0o644,
  hash,
  blocks: [{ offset: 0, size: 3, hash }],
  deleted: false,
  version: { n: 1 },
  modifiedBy: 'n',
  disk: { size: 3, mtimeMs: 1, ino: 7 },
});

describe('IndexJournal + LocalIndex', () => {
  let dir: string;
  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'journal-'));
  });
  afterEach(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('survives a reopen with every record, the latest version of each, and the sequence counter', async () => {
    const { journal, records } = await IndexJournal.open(fs, dir);
    const index = new LocalIndex(records, journal, 'idx-00000001');
    index.publish(file('a', 'a'.repeat(64)));
    index.publish(file('b', 'b'.repeat(64)));
    index.publish({ ...file('a', 'c'.repeat(64)), version: { n: 2 } });
    index.updateFingerprint('b', { size: 3, mtimeMs: 99, ino: 8 });
    await journal.close();

    const reopened = await IndexJournal.open(fs, dir);
    const again = new LocalIndex(reopened.records, reopened.journal, 'idx-00000001');
    expect(again.get('a')?.hash).toBe('c'.repeat(64));
    expect(again.get('b')?.disk).toEqual({ size: 3, mtimeMs: 99, ino: 8 });
    expect(again.sequence).toBe(3);
    expect(again.since(1).map((r) => r.path)).toEqual(['b', 'a']);
    await reopened.journal.close();
  });

  it('ignores a torn last line, as left by a crash mid-write', async () => {
    const { journal, records } = await IndexJournal.open(fs, dir);
    const index = new LocalIndex(records, journal, 'idx-00000001');
    index.publish(file('kept', 'a'.repeat(64)));
    await journal.close();
    await appendFile(join(dir, 'index.journal'), '{"path":"torn","ty');
    const reopened = await IndexJournal.open(fs, dir);
    expect([...reopened.records.keys()]).toEqual(['kept']);
    await reopened.journal.close();
  });

  it('cuts a torn line off at its first byte, so the next line starts clean (multi-byte names before it)', async () => {
    const { journal, records } = await IndexJournal.open(fs, dir);
    const index = new LocalIndex(records, journal, 'idx-00000001');
    index.publish(file('café/ünï.txt', 'a'.repeat(64)));
    await journal.close();
    await appendFile(join(dir, 'index.journal'), '{"path":"torn","ty');
    const reopened = await IndexJournal.open(fs, dir);
    new LocalIndex(reopened.records, reopened.journal, 'idx-00000001').publish(file('next', 'b'.repeat(64)));
    await reopened.journal.close();
    const again = await IndexJournal.open(fs, dir);
    expect([...again.records.keys()]).toEqual(['café/ünï.txt', 'next']);
    await again.journal.close();
  });

  it('reads lines that straddle its reads and lines longer than its buffer, and still cuts a torn line at its first byte', async () => {
    const { journal, records } = await IndexJournal.open(fs, dir);
    const index = new LocalIndex(records, journal, 'idx-00000001');
    // Longest first: the buffer grows early, then holds several shorter lines per read.
    const paths = Array.from({ length: 40 }, (_, i) => `dir-${i}/${'é'.repeat(i % 7)}${'x'.repeat((39 - i) * 13)}.txt`);
    for (const [i, path] of paths.entries()) index.publish(file(path, String(i % 10).repeat(64)));
    await journal.close();
    await appendFile(join(dir, 'index.journal'), '{"path":"torn","ty');
    // 64 bytes: every line (~250 bytes and more) straddles reads and is longer than a decoded piece.
    const reopened = await IndexJournal.open(fs, dir, { readChunkBytes: 64 });
    expect([...reopened.records.keys()]).toEqual(paths);
    expect(reopened.records.get(paths[39]!)?.hash).toBe('9'.repeat(64));
    new LocalIndex(reopened.records, reopened.journal, 'idx-00000001').publish(file('next', 'b'.repeat(64)));
    await reopened.journal.close();
    const again = await IndexJournal.open(fs, dir, { readChunkBytes: 7 });
    expect([...again.records.keys()]).toEqual([...paths, 'next']);
    await again.journal.close();
  });

  it('compacts into a snapshot without losing or regressing records', async () => {
    const { journal, records } = await IndexJournal.open(fs, dir);
    const index = new LocalIndex(records, journal, 'idx-00000001');
    for (let i = 0; i < 50; i++) index.publish({ ...file('same', 'a'.repeat(64)), version: { n: i + 1 } });
    await journal.compact([...index.values()]);
    index.publish(file('after', 'b'.repeat(64)));
    await journal.close();
    const reopened = await IndexJournal.open(fs, dir);
    expect(reopened.records.get('same')?.version).toEqual({ n: 50 });
    expect(reopened.records.get('after')?.sequence).toBe(51);
    await reopened.journal.close();
  });

  it('keeps a record published while a compaction is under way, whose line reached the journal before the journal was emptied', async () => {
    const { journal, records } = await IndexJournal.open(fs, dir);
    const index = new LocalIndex(records, journal, 'idx-00000001');
    index.publish(file('before', 'a'.repeat(64)));
    const compaction = journal.compact([...index.values()]);
    index.publish(file('during', 'b'.repeat(64)));
    const flushed = journal.flush();
    await Promise.all([compaction, flushed]);
    await journal.close();
    const reopened = await IndexJournal.open(fs, dir);
    expect([...reopened.records.keys()].sort()).toEqual(['before', 'during']);
    expect(reopened.records.get('during')?.sequence).toBe(2);
    await reopened.journal.close();
  });

  it('writes a snapshot larger than one write, and a journal that outgrew its pending lines before any flush, back whole', async () => {
    const { journal, records } = await IndexJournal.open(fs, dir);
    const index = new LocalIndex(records, journal, 'idx-00000001');
    // ~250 characters a line: 6,000 lines pass the point where pending lines go out unasked.
    for (let i = 0; i < 6_000; i++) index.publish(file(`dir-${i % 40}/file-${i}-${'x'.repeat(60)}`, `${i}`.padStart(64, '0')));
    await journal.compact([...index.values()]);
    for (let i = 0; i < 6_000; i += 2) index.publish({ ...file(`dir-${i % 40}/file-${i}-${'x'.repeat(60)}`, 'c'.repeat(64)), version: { n: 2 } });
    await journal.close();
    const reopened = await IndexJournal.open(fs, dir);
    expect(reopened.records.size).toBe(6_000);
    expect(reopened.records.get(`dir-2/file-2-${'x'.repeat(60)}`)?.hash).toBe('c'.repeat(64));
    expect(reopened.records.get(`dir-3/file-3-${'x'.repeat(60)}`)?.sequence).toBe(4);
    expect(Math.max(...[...reopened.records.values()].map((r) => r.sequence))).toBe(9_000);
    await reopened.journal.close();
  });

  it('writes lines that fill their chunk, that outgrow a chunk, and multi-byte names across chunk ends, in order', async () => {
    const { journal, records } = await IndexJournal.open(fs, dir, { writeChunkBytes: 600 });
    const index = new LocalIndex(records, journal, 'idx-00000001');
    const names = Array.from({ length: 40 }, (_, i) => `${'é'.repeat(i % 7)}dir/${i % 3 === 0 ? 'n'.repeat(700) : 'ü'}-${i}`);
    for (const name of names) index.publish(file(name, 'a'.repeat(64)));
    for (const name of names.slice(0, 10)) index.publish({ ...file(name, 'b'.repeat(64)), version: { n: 2 } });
    await journal.close();
    const reopened = await IndexJournal.open(fs, dir);
    expect([...reopened.records.keys()].sort()).toEqual([...names].sort());
    expect(names.map((name) => reopened.records.get(name)?.hash)).toEqual(names.map((_, i) => (i < 10 ? 'b' : 'a').repeat(64)));
    expect(reopened.records.get(names[9]!)?.sequence).toBe(50);
    await reopened.journal.close();
  });

  it('keeps the live totals as records are added, changed, deleted and replayed', async () => {
    const { journal, records } = await IndexJournal.open(fs, dir);
    const index = new LocalIndex(records, journal, 'idx-00000001');
    const recount = () => {
      const live = [...index.values()].filter((r) => !r.deleted);
      const files = live.filter((r) => r.type === 'file');
      return {
        files: files.length,
        directories: live.filter((r) => r.type === 'dir').length,
        symlinks: live.filter((r) => r.type === 'symlink').length,
        bytes: files.reduce((sum, r) => sum + r.size, 0),
      };
    };
    index.publish(file('a', 'a'.repeat(64)));
    index.publish({ ...file('b', 'b'.repeat(64)), size: 10 });
    index.publish({ ...file('d', ''), type: 'dir', size: 0, hash: '', blocks: [] });
    index.publish({ ...file('l', ''), type: 'symlink', size: 0, hash: '', blocks: [], target: 'a' });
    expect(index.totals()).toEqual({ files: 2, directories: 1, symlinks: 1, bytes: 13 });
    index.publish({ ...file('b', 'c'.repeat(64)), size: 4, version: { n: 2 } });
    index.publish({ ...file('a', ''), deleted: true, size: 0, blocks: [], version: { n: 2 } });
    index.publish({ ...file('l', ''), type: 'symlink', size: 0, hash: '', blocks: [], target: 'a', deleted: true, version: { n: 2 } });
    index.updateFingerprint('b', { size: 4, mtimeMs: 2, ino: 8 });
    expect(index.totals()).toEqual({ files: 1, directories: 1, symlinks: 0, bytes: 4 });
    expect(index.totals()).toEqual(recount());
    await journal.close();
    const reopened = await IndexJournal.open(fs, dir);
    const again = new LocalIndex(reopened.records, reopened.journal, 'idx-00000001');
    expect(again.totals()).toEqual({ files: 1, directories: 1, symlinks: 0, bytes: 4 });
    await reopened.journal.close();
  });

  it('finds local copies of a block by hash and forgets them when the file changes', async () => {
    const { journal, records } = await IndexJournal.open(fs, dir);
    const index = new LocalIndex(records, journal, 'idx-00000001');
    index.publish(file('x', 'a'.repeat(64)));
    expect(index.blockLocations('a'.repeat(64))).toEqual([{ path: 'x', offset: 0, size: 3 }]);
    index.publish({ ...file('x', 'b'.repeat(64)), version: { n: 2 } });
    expect(index.blockLocations('a'.repeat(64))).toEqual([]);
    await journal.close();
  });

  it('keeps every copy of a block that several files hold, down to the last', async () => {
    const { journal, records } = await IndexJournal.open(fs, dir);
    const index = new LocalIndex(records, journal, 'idx-00000001');
    for (const path of ['x', 'y', 'z']) index.publish(file(path, 'a'.repeat(64)));
    expect(index.blockLocations('a'.repeat(64)).map((location) => location.path)).toEqual(['x', 'y', 'z']);
    index.publish({ ...file('y', 'b'.repeat(64)), version: { n: 2 } });
    expect(index.blockLocations('a'.repeat(64)).map((location) => location.path)).toEqual(['x', 'z']);
    index.publish({ ...file('x', 'b'.repeat(64)), version: { n: 2 } });
    expect(index.blockLocations('a'.repeat(64))).toEqual([{ path: 'z', offset: 0, size: 3 }]);
    expect(index.blockLocations('b'.repeat(64)).map((location) => location.path)).toEqual(['y', 'x']);
    index.publish({ ...file('z', 'b'.repeat(64)), version: { n: 2 } });
    expect(index.blockLocations('a'.repeat(64))).toEqual([]);
    await journal.close();
  });

  it('finds local copies after a restart in publish order, with changes made before the first lookup', async () => {
    const first = await IndexJournal.open(fs, dir);
    const before = new LocalIndex(first.records, first.journal, 'idx-00000001');
    for (const path of ['x', 'y', 'z']) before.publish(file(path, 'a'.repeat(64)));
    before.publish({ ...file('x', 'a'.repeat(64)), version: { n: 2 } });
    before.publish(file('gone', 'c'.repeat(64)));
    await first.journal.close();

    const { journal, records } = await IndexJournal.open(fs, dir);
    const index = new LocalIndex(records, journal, 'idx-00000001');
    index.publish({ ...file('y', 'b'.repeat(64)), version: { n: 2 } });
    index.publish({ ...file('gone', 'c'.repeat(64)), deleted: true, version: { n: 2 } });
    // x was published again after z: it comes last, as it did before the restart.
    expect(index.blockLocations('a'.repeat(64)).map((location) => location.path)).toEqual(['z', 'x']);
    expect(index.blockLocations('b'.repeat(64))).toEqual([{ path: 'y', offset: 0, size: 3 }]);
    expect(index.blockLocations('c'.repeat(64))).toEqual([]);
    index.publish({ ...file('z', 'b'.repeat(64)), version: { n: 2 } });
    expect(index.blockLocations('a'.repeat(64))).toEqual([{ path: 'x', offset: 0, size: 3 }]);
    expect(index.blockLocations('b'.repeat(64)).map((location) => location.path)).toEqual(['y', 'z']);
    await journal.close();
  });

  it('keeps block lookups prepared ahead of use current with later changes', async () => {
    const { journal, records } = await IndexJournal.open(fs, dir);
    const index = new LocalIndex(records, journal, 'idx-00000001');
    index.publish(file('x', 'a'.repeat(64)));
    index.prepareBlockLookups();
    index.publish(file('y', 'a'.repeat(64)));
    index.publish({ ...file('x', 'b'.repeat(64)), version: { n: 2 } });
    expect(index.blockLocations('a'.repeat(64))).toEqual([{ path: 'y', offset: 0, size: 3 }]);
    expect(index.blockLocations('b'.repeat(64))).toEqual([{ path: 'x', offset: 0, size: 3 }]);
    await journal.close();
  });

  it('answers "everything after N" with the latest records once superseded log entries are dropped', async () => {
    const { journal, records } = await IndexJournal.open(fs, dir);
    const index = new LocalIndex(records, journal, 'idx-00000001');
    index.publish(file('kept', 'a'.repeat(64)));
    for (let i = 2; i <= 3000; i++) index.publish({ ...file(`f${i % 10}`, 'a'.repeat(64)), version: { n: i } });
    expect(index.sequence).toBe(3000);
    expect(index.since(0).map((record) => record.sequence)).toEqual([1, 2991, 2992, 2993, 2994, 2995, 2996, 2997, 2998, 2999, 3000]);
    expect(index.since(0)[0]?.path).toBe('kept');
    expect(index.since(2995).map((record) => record.path)).toEqual(['f6', 'f7', 'f8', 'f9', 'f0']);
    await journal.close();
  });

  it('derives the hash of a file of several blocks from its blocks when the journal holds an older hash of the bytes', async () => {
    const blocks = [
      { offset: 0, size: 131_072, hash: 'a'.repeat(64) },
      { offset: 131_072, size: 10, hash: 'b'.repeat(64) },
    ];
    const line = { ...file('big', 'c'.repeat(64)), size: 131_082, blocks, sequence: 1 };
    await appendFile(join(dir, 'index.journal'), `${JSON.stringify(line)}\n`);
    const { journal, records } = await IndexJournal.open(fs, dir);
    expect(records.get('big')?.hash).toBe(fileHashOf(blocks));
    expect(records.get('big')?.hash).not.toBe('c'.repeat(64));
    await journal.close();
  });
});
