import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createHash, randomBytes } from 'node:crypto';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { blockSizeFor } from '@sync/protocol';
import { emptyFileHash, fileHashOf, hashFile, parallelHashMinBytes } from './hashing';
import type { BlockInfo } from '@sync/protocol';
import { NodeFileSystem } from './node-file-system';
import { BlockPool } from './block-pool';

const fs = new NodeFileSystem();
const hex = (data: Uint8Array): string => createHash('sha256').update(data).digest('hex');

describe('hashFile', () => {
  let dir: string;
  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'hashing-'));
  });
  afterEach(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('gives an empty file the empty hash and no blocks', async () => {
    await writeFile(join(dir, 'empty'), '');
    expect(await hashFile(fs, join(dir, 'empty'), 0)).toEqual({ size: 0, hash: emptyFileHash, blocks: [] });
  });

  it('gives a one-block file one block whose hash is the file hash', async () => {
    const data = randomBytes(4096);
    await writeFile(join(dir, 'small'), data);
    const digest = await hashFile(fs, join(dir, 'small'), data.length);
    expect(digest).toEqual({ size: 4096, hash: hex(data), blocks: [{ offset: 0, size: 4096, hash: hex(data) }] });
  });

  it('hashes every block of a large file, and the file as the hash of its block hashes', async () => {
    const blockSize = blockSizeFor(3 * 128 * 1024 + 1000);
    const data = randomBytes(3 * blockSize + 1000);
    await writeFile(join(dir, 'large'), data);
    const progress: number[] = [];
    const digest = await hashFile(fs, join(dir, 'large'), data.length, (bytesDone) => progress.push(bytesDone));
    expect(digest.size).toBe(data.length);
    expect(progress).toEqual([blockSize, 2 * blockSize, 3 * blockSize, data.length]);
    const blockHashes = Buffer.concat(digest.blocks.map((block) => Buffer.from(block.hash, 'hex')));
    expect(digest.hash).toBe(hex(blockHashes));
    expect(digest.blocks).toEqual(
      [0, 1, 2, 3].map((i) => {
        const part = data.subarray(i * blockSize, Math.min(data.length, (i + 1) * blockSize));
        return { offset: i * blockSize, size: part.length, hash: hex(part) };
      }),
    );
  });

  it('reports the real size of a file that grew past the size hint, so the caller can look again', async () => {
    const data = randomBytes(10_000);
    await writeFile(join(dir, 'grew'), data);
    const digest = await hashFile(fs, join(dir, 'grew'), 5_000);
    expect(digest.size).toBe(10_000);
    expect(digest.hash).toBe(fileHashOf(digest.blocks));
    expect(digest.blocks.map((block) => block.hash)).toEqual([hex(data)]);
  });

  it("hands a large file to the filesystem's block hasher, and sizes it by the bytes that hasher read", async () => {
    const size = parallelHashMinBytes + 5;
    const blockSize = blockSizeFor(size);
    const asked: unknown[] = [];
    const hashing = new (class extends NodeFileSystem {
      override openRead(): never {
        throw new Error('read block by block');
      }
      override async hashBlocks(path: string, length: number, size: number): Promise<BlockInfo[]> {
        asked.push([path, length, size]);
        // As if the file shrank by 3 bytes while it was read.
        return [{ offset: 0, size: blockSize, hash: 'a'.repeat(64) }, { offset: blockSize, size: 2, hash: 'b'.repeat(64) }];
      }
    })();
    const digest = await hashFile(hashing, '/x/large', size);
    expect(asked).toEqual([['/x/large', size, blockSize]]);
    expect(digest.size).toBe(blockSize + 2);
    expect(digest.hash).toBe(fileHashOf(digest.blocks));
    // Below the threshold it reads the file itself.
    await expect(hashFile(hashing, '/x/small', parallelHashMinBytes - 1)).rejects.toThrow('read block by block');
  });

  it('reads into buffers it takes from the pool and gives every one back, also when a read fails', async () => {
    const pool = new BlockPool(16 * 1024 * 1024);
    const out = new Set<Uint8Array>();
    const taken: Uint8Array[] = [];
    const buffers = {
      take: (size: number) => {
        const buffer = pool.take(size);
        out.add(buffer);
        taken.push(buffer);
        return buffer;
      },
      give: (buffer: Uint8Array) => {
        expect(out.delete(buffer)).toBe(true);
        pool.give(buffer);
      },
    };
    const blockSize = blockSizeFor(3 * 128 * 1024);
    const files = { empty: Buffer.alloc(0), big: randomBytes(2 * blockSize + 7), small: randomBytes(4096), alsoSmall: randomBytes(6000), alsoBig: randomBytes(blockSize + 1) };
    for (const [name, data] of Object.entries(files)) {
      await writeFile(join(dir, name), data);
      const digest = await hashFile(fs, join(dir, name), data.length, undefined, buffers);
      // Each read buffer held the file before: what it still holds must never reach a hash.
      expect(digest).toEqual(await hashFile(fs, join(dir, name), data.length));
      expect(out.size).toBe(0);
    }
    // The pool's buffers went round: files of about one size share them.
    expect(new Set(taken).size).toBeLessThan(taken.length);
    await writeFile(join(dir, 'grew'), randomBytes(10_000));
    expect(await hashFile(fs, join(dir, 'grew'), 5_000, undefined, buffers)).toEqual(await hashFile(fs, join(dir, 'grew'), 5_000));
    expect(out.size).toBe(0);
    await mkdir(join(dir, 'a-dir'));
    await expect(hashFile(fs, join(dir, 'a-dir'), 4096, undefined, buffers)).rejects.toThrow();
    await expect(hashFile(fs, join(dir, 'a-dir'), 3 * blockSize, undefined, buffers)).rejects.toThrow();
    expect(out.size).toBe(0);
  });
});
