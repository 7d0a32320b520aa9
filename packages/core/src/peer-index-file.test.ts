import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { appendFile, mkdtemp, readFile, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { FileRecord } from '@sync/protocol';
import { NodeFileSystem } from './node-file-system';
import { StoredRecord } from './record';
import { isSyncError } from './errors';
import { loadPeerIndex, peerIndexDir, savePeerIndex } from './peer-index-file';

const fs = new NodeFileSystem();
const hashOf = (char: string): string => char.repeat(64);
const record = (path: string, sequence: number, overrides: Partial<FileRecord> = {}): StoredRecord => {
  const hash = overrides.hash ?? hashOf('a');
  return new StoredRecord(
    { path, type: 'file', size: 3, mtimeMs: 1.5, mode: 0o644, hash, blocks: [{ offset: 0, size: 3, hash }], target: undefined, deleted: false, version: { a: 1 }, modifiedBy: 'a', ...overrides },
    sequence,
    undefined,
  );
};
const header = { peerId: 'peer-a', indexId: 'index-0001', maxSequence: 12 };

describe('a peer index saved across a restart', () => {
  let dir: string;
  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'peer-index-'));
  });
  afterEach(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  const load = async (peerId = 'peer-a'): Promise<{ header: Awaited<ReturnType<typeof loadPeerIndex>>; records: StoredRecord[] }> => {
    const records: StoredRecord[] = [];
    const loaded = await loadPeerIndex(fs, dir, peerId, (r) => records.push(r));
    return { header: loaded, records };
  };
  const corruptCode = async (peerId = 'peer-a'): Promise<string> => {
    const error: unknown = await load(peerId).then(
      () => null,
      (e: unknown) => e,
    );
    return isSyncError(error) ? error.code : `not a SyncError: ${String(error)}`;
  };

  it('reads back the header and every record, as saved', async () => {
    const saved = [record('a.txt', 3), record('dir/b.txt', 12, { deleted: true, hash: '', blocks: [], size: 0 }), record('c', 7, { type: 'dir', hash: '', blocks: [], size: 0 })];
    await savePeerIndex(fs, dir, header, saved);
    const { header: loaded, records } = await load();
    expect(loaded).toEqual(header);
    expect(records.map((r) => r.toLocal())).toEqual(saved.map((r) => r.toLocal()));
  });

  it('replaces the previous save whole and leaves no temp file', async () => {
    await savePeerIndex(fs, dir, header, [record('old', 1), record('older', 2)]);
    await savePeerIndex(fs, dir, { ...header, maxSequence: 20 }, [record('new', 20)]);
    const { header: loaded, records } = await load();
    expect(loaded?.maxSequence).toBe(20);
    expect(records.map((r) => r.path)).toEqual(['new']);
    expect(await readdir(peerIndexDir(dir))).toEqual(['peer-a.index']);
  });

  it('has nothing for a peer never saved', async () => {
    expect(await load('nobody')).toEqual({ header: null, records: [] });
    await savePeerIndex(fs, dir, header, []);
    expect(await load('nobody')).toEqual({ header: null, records: [] });
    expect(await load()).toEqual({ header, records: [] });
  });

  it('refuses a file cut short, one with a torn line, one of another peer, and one without a valid header', async () => {
    await savePeerIndex(fs, dir, header, [record('a', 1), record('b', 2)]);
    const path = join(peerIndexDir(dir), 'peer-a.index');
    const whole = await readFile(path, 'utf8');
    await writeFile(path, whole.split('\n').slice(0, 2).join('\n') + '\n');
    expect(await corruptCode()).toBe('INDEX_CORRUPT');

    await writeFile(path, whole);
    await appendFile(path, '{"path":"torn","ty');
    expect(await corruptCode()).toBe('INDEX_CORRUPT');

    await writeFile(path, whole.replace('"peer":"peer-a"', '"peer":"peer-b"'));
    expect(await corruptCode()).toBe('INDEX_CORRUPT');

    for (const bad of ['not json', '{"peer":"peer-a","indexId":"short","maxSequence":1,"records":2}', '{"peer":"peer-a","indexId":"index-0001","maxSequence":-1,"records":2}']) {
      await writeFile(path, [bad, ...whole.split('\n').slice(1)].join('\n'));
      expect(await corruptCode()).toBe('INDEX_CORRUPT');
    }

    await writeFile(path, whole.replace('"path":"b"', '"pth":"b"'));
    expect(await corruptCode()).toBe('INDEX_CORRUPT');
  });
});
