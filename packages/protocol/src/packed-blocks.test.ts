import { randomBytes } from 'node:crypto';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { describe, expect, it } from 'vitest';
import { decodeMessage, encodeMessage } from './codec';
import { blockSizeFor } from './limits';
import { packBlocks, unpackBlocks } from './packed-blocks';
import type { BlockInfo, FileRecord } from './schemas';
import { recordFixture } from './testing';

// Goal: block lists travel as packed hashes, decode to exactly the objects that were sent, and a
// packed list that does not fit the file size is a coded error like any other bad record.

function blocksOf(size: number): BlockInfo[] {
  const blockSize = blockSizeFor(size);
  const blocks: BlockInfo[] = [];
  for (let offset = 0; offset < size; offset += blockSize) {
    blocks.push({ offset, size: Math.min(blockSize, size - offset), hash: randomBytes(32).toString('hex') });
  }
  return blocks;
}

const indexUpdate = (records: FileRecord[]): string => encodeMessage({ type: 'index-update', indexId: 'idx-00000001', records });

describe('packed block lists', () => {
  it.each([1, 131_072, 131_073, 256 * 1024 * 1024 + 1])('round-trip the blocks of a %i-byte file', (size) => {
    const blocks = blocksOf(size);
    expect(unpackBlocks(packBlocks(blocks), size)).toEqual(blocks);
  });

  it('are what an index message carries, and decode back to the same records', () => {
    const record = recordFixture({ size: 1024 ** 3, blocks: blocksOf(1024 ** 3) });
    const wire = indexUpdate([record]);
    expect(JSON.parse(wire).records[0].blocks).toBe(packBlocks(record.blocks));
    const decoded = decodeMessage(wire);
    expect(decoded.ok && decoded.value).toEqual({ type: 'index-update', indexId: 'idx-00000001', records: [record] });
    // 2,048 blocks: 32 bytes of hash each in base64, not ~95 bytes of JSON object each.
    expect(wire.length).toBeLessThan(2048 * 45);
    expect(JSON.stringify(record).length).toBeGreaterThan(2048 * 90);
  });

  it('reject a packed list with the wrong number of hashes for the size, or one that is not base64', () => {
    const record = recordFixture({ size: 300_000, blocks: blocksOf(300_000) });
    const wire = JSON.parse(indexUpdate([record]));
    wire.records[0].blocks = packBlocks(record.blocks.slice(0, 2));
    expect(decodeMessage(JSON.stringify(wire))).toMatchObject({ ok: false, error: { code: 'INVALID_MESSAGE' } });
    wire.records[0].blocks = '!!!!';
    expect(decodeMessage(JSON.stringify(wire))).toMatchObject({ ok: false, error: { code: 'INVALID_MESSAGE' } });
    expect(unpackBlocks('abc', 10)).toMatch(/base64/);
  });

  it('unpack to lists no larger than a literal of the same blocks', () => {
    // A receiver keeps one list per file of each peer's index: a list grown by push from empty
    // held room for 16 entries, ~128 B more than a one-block list needs.
    setFlagsFromString('--expose-gc');
    const collect = runInNewContext('gc') as () => void;
    const heapPerList = (make: () => BlockInfo[]): number => {
      collect();
      const before = process.memoryUsage().heapUsed;
      const kept = Array.from({ length: 20_000 }, make);
      collect();
      return (process.memoryUsage().heapUsed - before) / kept.length;
    };
    const hash = randomBytes(32);
    const packed = packBlocks([{ offset: 0, size: 1000, hash: hash.toString('hex') }]);
    const unpacked = heapPerList(() => unpackBlocks(packed, 1000) as BlockInfo[]);
    const literal = heapPerList(() => [{ offset: 0, size: 1000, hash: hash.toString('hex') }]);
    expect(unpacked).toBeLessThan(literal + 32);
  });

  it('still accept block objects from a peer that sends them', () => {
    const record = recordFixture();
    const decoded = decodeMessage(JSON.stringify({ type: 'index-update', indexId: 'idx-00000001', records: [record] }));
    expect(decoded.ok && decoded.value).toEqual({ type: 'index-update', indexId: 'idx-00000001', records: [record] });
  });
});
