import { describe, expect, it } from 'vitest';
import type { FileRecord } from '@sync/protocol';
import { blockSizeFor } from '@sync/protocol';
import { localRecord, sameButSequence, sharingLocal, StoredRecord } from './record';
import { sameHiddenClass } from './testing/v8-internals';
import type { LocalRecord } from './record';

// Built fresh each call: equal values in distinct objects and strings, as a decoded frame holds them.
const hashOf = (char: string): string => Array.from({ length: 64 }, () => char).join('');
const record = (overrides: Partial<FileRecord> = {}): FileRecord => {
  const hash = overrides.hash ?? hashOf('a');
  return {
    path: ['docs', 'note.txt'].join('/'),
    type: 'file',
    size: 3,
    mtimeMs: 1,
    mode: 0o644,
    hash,
    blocks: [{ offset: 0, size: 3, hash }],
    deleted: false,
    version: { a: 1, b: 2 },
    modifiedBy: 'a',
    sequence: 7,
    ...overrides,
  };
};

const localOf = (): LocalRecord => ({ ...record(), sequence: 3, disk: { size: 3, mtimeMs: 1, ino: 9 } });
const stored = (local: LocalRecord): StoredRecord => new StoredRecord(local, local.sequence, local.disk);
const fields = ['path', 'type', 'size', 'mtimeMs', 'mode', 'hash', 'blocks', 'target', 'deleted', 'version', 'modifiedBy', 'sequence'];
const blockSize = blockSizeFor(3_000_000);
const threeBlocks = [0, 1, 2].map((i) => ({ offset: i * blockSize, size: Math.min(blockSize, 3_000_000 - i * blockSize), hash: hashOf(String(i)) }));

describe('StoredRecord', () => {
  it.each<[string, LocalRecord]>([
    ['a file of one block', localOf()],
    ['a file whose mtime on disk is not its own (a pulled file: utimes reads back a little off)', { ...localOf(), disk: { size: 3, mtimeMs: 1.000001, ino: 9 } }],
    ['a file of several blocks', { ...localOf(), size: 3_000_000, blocks: threeBlocks }],
    ['a file whose one block is not its whole content', { ...localOf(), blocks: [{ offset: 0, size: 2, hash: hashOf('a') }] }],
    ['an empty file', { ...localOf(), size: 0, blocks: [] }],
    ['a deletion', { ...localOf(), size: 0, hash: '', blocks: [], deleted: true, disk: undefined }],
    ['a directory', { ...localOf(), type: 'dir', size: 0, hash: '', blocks: [] }],
    ['a symlink', { ...localOf(), type: 'symlink', size: 0, hash: '', blocks: [], target: '../x' }],
  ])('gives back %s as it was stored, in an object of the caller\'s own', (_name, local) => {
    const kept = stored(local);
    expect(kept.toLocal()).toEqual(local);
    expect(kept.toLocal()).not.toBe(kept.toLocal());
    expect(kept.blockList()).toEqual(local.blocks);
    expect(kept.diskFingerprint()).toEqual(local.disk);
    expect(kept.hasDisk(local.disk)).toBe(true);
    expect(kept.toLocal(12, false)).toEqual({ ...local, sequence: 12, disk: undefined });
  });

  it('keeps no list for a file of one block, and shares a longer one', () => {
    const several = { ...localOf(), size: 3_000_000, blocks: threeBlocks };
    expect(stored(localOf()).sharedBlocks()).toBeNull();
    expect(stored(several).sharedBlocks()).toBe(threeBlocks);
    expect(stored(several).toLocal().blocks).toBe(threeBlocks);
  });

  it('tells disk fingerprints apart by each of their fields', () => {
    const kept = stored(localOf());
    for (const other of [{ size: 4, mtimeMs: 1, ino: 9 }, { size: 3, mtimeMs: 2, ino: 9 }, { size: 3, mtimeMs: 1, ino: 8 }, undefined]) expect(kept.hasDisk(other)).toBe(false);
    expect(stored({ ...localOf(), disk: undefined }).hasDisk(undefined)).toBe(true);
  });

  it('names the inode of a live file only from the given size up', () => {
    expect(stored(localOf()).largeFileIno(3)).toBe(9);
    expect(stored(localOf()).largeFileIno(4)).toBeNull();
    expect(stored({ ...localOf(), disk: undefined }).largeFileIno(0)).toBeNull();
    expect(stored({ ...localOf(), deleted: true }).largeFileIno(0)).toBeNull();
  });
});

describe('sharingLocal', () => {
  const local = stored(localOf());

  it('gives a peer record of the same content the local path, hash, block list and version, keeping its own sequence', () => {
    const remote = record();
    const shared = sharingLocal(remote, local);
    // (Strings cannot be told apart by identity in JavaScript: the path and hash are shared unobservably.)
    expect(shared.toLocal()).toEqual(remote);
    expect(shared.version).toBe(local.version);
    expect(shared.sequence).toBe(7);
    // The local disk fingerprint says nothing of the peer's disk.
    expect(shared.diskFingerprint()).toBeUndefined();
  });

  it('shares a longer block list with the local record', () => {
    const several = stored({ ...localOf(), size: 3_000_000, blocks: threeBlocks, hash: hashOf('f') });
    const shared = sharingLocal(record({ size: 3_000_000, blocks: threeBlocks.map((block) => ({ ...block })), hash: hashOf('f') }), several);
    expect(shared.sharedBlocks()).toBe(threeBlocks);
  });

  it('keeps the peer its own content when it differs, and shares only what is equal', () => {
    const remote = record({ hash: hashOf('b'), version: { a: 1, b: 3 } });
    const shared = sharingLocal(remote, local);
    expect(shared.toLocal()).toEqual(remote);
    expect(shared.version).toBe(remote.version);

    const sameVersion = sharingLocal(record({ hash: hashOf('b') }), local);
    expect(sameVersion.version).toBe(local.version);
    expect(sameVersion.hash).toBe(hashOf('b'));
  });

  it('tells versions apart by every counter, not by their number of entries', () => {
    expect(sharingLocal(record({ version: { a: 1, c: 2 } }), local).version).not.toBe(local.version);
    expect(sharingLocal(record({ version: { a: 1 } }), local).version).not.toBe(local.version);
    expect(sharingLocal(record({ version: { a: 1, b: 2, c: 1 } }), local).version).not.toBe(local.version);
    expect(sharingLocal(record({ version: { b: 2, a: 1 } }), local).version).toBe(local.version);
  });

  it('keeps a block list of the same hash but other blocks (the hash is the peer\'s claim)', () => {
    const remote = record({ blocks: [{ offset: 0, size: 2, hash: hashOf('a') }] });
    expect(sharingLocal(remote, local).sharedBlocks()).toBe(remote.blocks);
  });

  it('returns the peer record as it is when this node has no record of the path', () => {
    const remote = record();
    expect(sharingLocal(remote, undefined).toLocal()).toEqual(remote);
  });

  it('shares equal one-entry version vectors among peer records with no local counterpart', () => {
    const [first, second] = [record({ version: { b: 4 } }), record({ version: { b: 4 } })].map((remote) => sharingLocal(remote, undefined));
    expect(second!.version).toBe(first!.version);
    expect(second!.version).toEqual({ b: 4 });
  });

  it('gives every peer record one hidden class, whichever fields it shares and however it was made', () => {
    const first = sharingLocal(record(), local);
    const others = [sharingLocal(record({ hash: hashOf('b') }), local), sharingLocal({ ...record(), sequence: 8 }, undefined), sharingLocal(record({ target: 'x' }), undefined)];
    for (const other of others) expect(sameHiddenClass(first, other)).toBe(true);
  });
});

describe('sameButSequence', () => {
  const storedOf = (overrides: Partial<FileRecord>, sequence: number): StoredRecord => new StoredRecord(record(overrides), sequence, undefined);

  it('holds for stored records of one block each that differ only in their sequence, and not when their content differs', () => {
    expect(sameButSequence(storedOf({}, 1), storedOf({}, 2))).toBe(true);
    expect(sameButSequence(storedOf({}, 1), record())).toBe(true);
    const other = hashOf('b');
    expect(sameButSequence(storedOf({}, 1), storedOf({ hash: other, blocks: [{ offset: 0, size: 3, hash: other }] }, 1))).toBe(false);
    expect(sameButSequence(storedOf({}, 1), storedOf({ size: 4, blocks: [{ offset: 0, size: 4, hash: hashOf('a') }] }, 1))).toBe(false);
  });

  it('compares block lists of files of several blocks', () => {
    const size = 3_000_000;
    const a = storedOf({ size, hash: hashOf('f'), blocks: threeBlocks }, 1);
    const changed = threeBlocks.map((block, i) => (i === 1 ? { ...block, hash: hashOf('x') } : block));
    expect(sameButSequence(a, storedOf({ size, hash: hashOf('f'), blocks: threeBlocks.map((block) => ({ ...block })) }, 2))).toBe(true);
    expect(sameButSequence(a, storedOf({ size, hash: hashOf('f'), blocks: changed }, 2))).toBe(false);
  });
});

describe('localRecord', () => {
  it('keeps only a record\'s own fields and its disk fingerprint, which never reaches the wire', () => {
    const extra = { ...localOf(), extra: 1 };
    expect(Object.keys(localRecord(extra, 1, undefined)).sort()).toEqual([...fields, 'disk'].sort());
    expect(Object.keys(JSON.parse(JSON.stringify(new StoredRecord(extra, 1, extra.disk).toLocal(1, false)))).sort()).toEqual(fields.filter((field) => field !== 'target').sort());
  });

  it('gives records made from spreads with fields added (one hidden class each on Node 20) one hidden class', () => {
    const made = [0, 1, 2].map((sequence) => localRecord({ ...record(), mtimeMs: sequence + 0.5 }, sequence, { size: 3, mtimeMs: 1, ino: sequence }));
    expect(sameHiddenClass(made[0]!, made[1]!) && sameHiddenClass(made[1]!, made[2]!)).toBe(true);
  });
});
