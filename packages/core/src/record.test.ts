import { describe, expect, it } from 'vitest';
import type { FileRecord } from '@sync/protocol';
import { sharingLocal } from './record';
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

describe('sharingLocal', () => {
  const local: LocalRecord = { ...record(), sequence: 3, disk: { size: 3, mtimeMs: 1, ino: 9 } };

  it('gives a peer record of the same content the local path, hash, block list and version, keeping its own sequence', () => {
    const remote = record();
    const shared = sharingLocal(remote, local);
    // (Strings cannot be told apart by identity in JavaScript: the path and hash are shared unobservably.)
    expect(shared).toEqual(remote);
    expect(shared.blocks).toBe(local.blocks);
    expect(shared.version).toBe(local.version);
    expect(shared.sequence).toBe(7);
    expect(shared).not.toHaveProperty('disk');
  });

  it('keeps the peer its own content when it differs, and shares only what is equal', () => {
    const remote = record({ hash: hashOf('b'), version: { a: 1, b: 3 } });
    const shared = sharingLocal(remote, local);
    expect(shared).toEqual(remote);
    expect(shared.blocks).toBe(remote.blocks);
    expect(shared.version).toBe(remote.version);

    const sameVersion = sharingLocal(record({ hash: hashOf('b') }), local);
    expect(sameVersion.version).toBe(local.version);
    expect(sameVersion.blocks).not.toBe(local.blocks);
  });

  it('tells versions apart by every counter, not by their number of entries', () => {
    expect(sharingLocal(record({ version: { a: 1, c: 2 } }), local).version).not.toBe(local.version);
    expect(sharingLocal(record({ version: { a: 1 } }), local).version).not.toBe(local.version);
    expect(sharingLocal(record({ version: { a: 1, b: 2, c: 1 } }), local).version).not.toBe(local.version);
    expect(sharingLocal(record({ version: { b: 2, a: 1 } }), local).version).toBe(local.version);
  });

  it('keeps a block list of the same hash but other blocks (the hash is the peer\'s claim)', () => {
    const remote = record({ blocks: [{ offset: 0, size: 2, hash: hashOf('a') }] });
    expect(sharingLocal(remote, local).blocks).toBe(remote.blocks);
  });

  it('returns the peer record itself when this node has no record of the path', () => {
    const remote = record();
    expect(sharingLocal(remote, undefined)).toBe(remote);
  });
});
