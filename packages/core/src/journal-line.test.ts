import { describe, expect, it } from 'vitest';
import { blockSizeFor, packBlocks } from '@sync/protocol';
import { decodeJournalLine, encodeJournalLine } from './journal-line';
import { fileHashOf } from './hashing';
import type { LocalRecord } from './record';
import { StoredRecord } from './record';
import { sameHiddenClass } from './testing/v8-internals';

const hash = (char: string): string => char.repeat(64);

const small: LocalRecord = {
  path: 'docs/a.txt',
  type: 'file',
  size: 1024,
  mtimeMs: 1795640254456.4849,
  mode: 0o644,
  hash: hash('a'),
  blocks: [{ offset: 0, size: 1024, hash: hash('a') }],
  deleted: false,
  version: { n0: 1 },
  modifiedBy: 'n0',
  disk: { size: 1024, mtimeMs: 1795640254456.4849, ino: 3227786 },
  sequence: 7,
};

function largeFile(): LocalRecord {
  const blockSize = blockSizeFor(3_000_000);
  const blocks = [0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18, 19, 20, 21, 22]
    .map((i) => ({ offset: i * blockSize, size: Math.min(blockSize, 3_000_000 - i * blockSize), hash: (i % 16).toString(16).repeat(64) }))
    .filter((block) => block.size > 0);
  return { ...small, path: 'big.bin', size: 3_000_000, blocks, hash: fileHashOf(blocks), disk: { size: 3_000_000, mtimeMs: 5, ino: 9 } };
}

const encode = (record: LocalRecord): string => encodeJournalLine(new StoredRecord(record, record.sequence, record.disk));
const roundTrip = (record: LocalRecord): LocalRecord | undefined => decodeJournalLine(encode(record))?.toLocal();

describe('journal lines', () => {
  it('store a small file without its block list or repeated fingerprint, and read it back whole', () => {
    const line = encode(small);
    expect(line).not.toContain('"blocks"');
    expect(line).not.toContain('"deleted"');
    expect(line.split(hash('a')).length - 1).toBe(1);
    expect(line.length).toBeLessThan(JSON.stringify(small).length * 0.65);
    expect(decodeJournalLine(line)?.toLocal()).toEqual(small);
  });

  it('pack the block list of a large file and keep a fingerprint that differs from the record', () => {
    const record = largeFile();
    const line = encode(record);
    expect(JSON.parse(line).blocks).toBe(packBlocks(record.blocks));
    expect(JSON.parse(line).disk).toEqual({ ino: 9, mtimeMs: 5 });
    expect(roundTrip(record)).toEqual(record);
  });

  it('keep block lists that do not tile as packing assumes, and every kind of record, unchanged', () => {
    const odd = { ...small, size: 10, blocks: [{ offset: 0, size: 4, hash: hash('b') }, { offset: 4, size: 6, hash: hash('c') }] };
    const records: LocalRecord[] = [
      { ...odd, hash: fileHashOf(odd.blocks) },
      { ...small, deleted: true, blocks: [], disk: undefined },
      { ...small, path: 'dir', type: 'dir', size: 0, blocks: [], hash: '' },
      { ...small, path: 'link', type: 'symlink', size: 0, blocks: [], target: 'docs/a.txt' },
      { ...small, path: 'empty', size: 0, blocks: [], disk: { size: 0, mtimeMs: small.mtimeMs, ino: 1 } },
    ];
    for (const record of records) {
      const expected: Partial<LocalRecord> = { ...record };
      if (expected.disk === undefined) delete expected.disk;
      expect(roundTrip(record)).toEqual(expected);
    }
  });

  it('read lines in the full form older journals hold', () => {
    expect(decodeJournalLine(JSON.stringify(small))?.toLocal()).toEqual(small);
    expect(decodeJournalLine(JSON.stringify(largeFile()))?.toLocal()).toEqual(largeFile());
  });

  it('reject a packed block list that does not fit the size, and lines that are not records', () => {
    const line = JSON.parse(encode(largeFile()));
    expect(decodeJournalLine(JSON.stringify({ ...line, size: 10_000_000 }))).toBeNull();
    expect(decodeJournalLine('[1,2]')).toBeNull();
    expect(decodeJournalLine('null')).toBeNull();
    expect(() => decodeJournalLine('{"path":')).toThrow();
  });
});

describe('decodeJournalLine, the shape of what it builds', () => {
  it('gives replayed records the hidden class of the records the index publishes (one class for all)', () => {
    const replayed = [small, largeFile()].map((record) => decodeJournalLine(encode(record))!);
    const published = new StoredRecord(small, small.sequence, small.disk);
    for (const record of replayed) expect(sameHiddenClass(record, published)).toBe(true);
  });

  it('shares one object among the equal one-entry version vectors it replays', () => {
    const [first, second] = [small, { ...small, path: 'docs/b.txt' }].map((record) => decodeJournalLine(encode(record))!);
    expect(first!.version).toEqual({ n0: 1 });
    expect(second!.version).toBe(first!.version);
  });
});
