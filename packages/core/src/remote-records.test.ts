import { describe, expect, it } from 'vitest';
import type { FileRecord } from '@sync/protocol';
import { StoredRecord } from './record';
import { RemoteRecords } from './remote-records';

const hashOf = (char: string): string => Array.from({ length: 64 }, () => char).join('');
const remote = (overrides: Partial<FileRecord> = {}): FileRecord => {
  const hash = overrides.hash ?? hashOf('a');
  return {
    path: 'docs/note.txt',
    type: 'file',
    size: 3,
    mtimeMs: 1.5,
    mode: 0o644,
    hash,
    blocks: [{ offset: 0, size: 3, hash }],
    target: undefined,
    deleted: false,
    version: { a: 1, b: 2 },
    modifiedBy: 'a',
    sequence: 70,
    ...overrides,
  };
};
// Our records by path, as the local index would hold them; `local` stores one there.
let ours = new Map<string, StoredRecord>();
const local = (overrides: Partial<FileRecord> = {}): StoredRecord => {
  const record = new StoredRecord(remote(overrides), 3, { size: 3, mtimeMs: 1.5, ino: 9 });
  ours.set(record.path, record);
  return record;
};
const fresh = (): RemoteRecords => {
  ours = new Map();
  return new RemoteRecords((path) => ours.get(path));
};

describe('RemoteRecords', () => {
  it('gives back a record equal to the one received, with its own sequence and no disk fingerprint', () => {
    const records = fresh();
    records.set(remote(), local());
    expect(records.get('docs/note.txt')).toEqual({ ...remote(), disk: undefined });
    expect(records.get('docs/note.txt')?.sequence).toBe(70);
    expect(records.get('docs/note.txt')).not.toBe(records.get('docs/note.txt'));
  });

  it('keeps what the peer said when the local record is replaced afterwards', () => {
    const records = fresh();
    const before = local();
    records.set(remote(), before);
    records.localReplaced(before);
    const after = local({ hash: hashOf('b'), version: { a: 2, b: 2 } });
    expect(after.toLocal()).not.toEqual(before.toLocal());
    expect(records.get('docs/note.txt')).toEqual({ ...remote(), disk: undefined });
  });

  it('leaves entries that differ from ours, and other paths, as they are when a local record is replaced', () => {
    const records = fresh();
    const before = local();
    records.set(remote({ mode: 0o600 }), before);
    records.localReplaced(new StoredRecord(remote({ path: 'other' }), 1, undefined));
    records.localReplaced(before);
    local({ hash: hashOf('b') });
    expect(records.get('docs/note.txt')).toEqual({ ...remote({ mode: 0o600 }), disk: undefined });
  });

  it.each<[string, Partial<FileRecord>]>([
    ['content', { hash: hashOf('c') }],
    ['version', { version: { a: 1, b: 3 } }],
    ['mtime', { mtimeMs: 2 }],
    ['mode', { mode: 0o600 }],
    ['deletion', { deleted: true, hash: '', blocks: [] }],
    ['author', { modifiedBy: 'b' }],
  ])('stores a record that differs from ours in its %s as received', (_name, overrides) => {
    const records = fresh();
    records.set(remote(overrides), local());
    expect(records.get('docs/note.txt')).toEqual({ ...remote(overrides), disk: undefined });
  });

  it('stores a record with no local counterpart as received', () => {
    const records = fresh();
    records.set(remote(), undefined);
    expect(records.get('docs/note.txt')).toEqual({ ...remote(), disk: undefined });
    expect([...records.keys()]).toEqual(['docs/note.txt']);
    expect(records.has('docs/note.txt')).toBe(true);
    expect(records.size).toBe(1);
  });

  it('compacts an entry once a local record matches it, and leaves it when none does', () => {
    const records = fresh();
    records.set(remote(), undefined);
    records.matchLocal('docs/note.txt', local({ version: { a: 9 } }));
    expect(records.get('docs/note.txt')?.version).toEqual({ a: 1, b: 2 });
    const adopted = local();
    records.matchLocal('docs/note.txt', adopted);
    const got = records.get('docs/note.txt');
    expect(got).toEqual({ ...remote(), disk: undefined });
    // Values are shared with the local record (the point of compacting); the object is the caller's own.
    expect(got?.version).toBe(adopted.version);
  });

  it('gives every entry as a stored record to save, and restores each one as it was', () => {
    const records = fresh();
    records.set(remote(), local());
    records.set(remote({ path: 'only-theirs', sequence: 71 }), undefined);
    records.set(remote({ path: 'differs', mode: 0o600, sequence: 72 }), local({ path: 'differs' }));
    const saved = records.stored();
    expect(saved.map((record) => [record.path, record.sequence])).toEqual([
      ['docs/note.txt', 70],
      ['only-theirs', 71],
      ['differs', 72],
    ]);
    expect(saved.every((record) => record.diskFingerprint() === undefined)).toBe(true);

    const restored = new RemoteRecords((path) => ours.get(path));
    for (const record of saved) restored.restore(record);
    for (const path of ['docs/note.txt', 'only-theirs', 'differs']) expect(restored.get(path)).toEqual(records.get(path));
    expect(restored.get('differs')?.mode).toBe(0o600);
    expect(restored.differingFromLocal().sort()).toEqual(['differs', 'only-theirs']);
  });

  it('restores a saved entry against our record as it is now: one we changed since keeps what the peer said', () => {
    const records = fresh();
    records.set(remote(), local());
    const [saved] = records.stored();
    const changed = local({ hash: hashOf('b'), version: { a: 2, b: 2 } });
    const restored = new RemoteRecords((path) => ours.get(path));
    restored.restore(saved!);
    expect(restored.get('docs/note.txt')).toEqual({ ...remote(), disk: undefined });
    expect(restored.get('docs/note.txt')?.hash).not.toBe(changed.hash);
  });

  it('forgets everything on clear', () => {
    const records = fresh();
    records.set(remote(), local());
    records.clear();
    expect(records.get('docs/note.txt')).toBeUndefined();
    expect(records.size).toBe(0);
  });
});
