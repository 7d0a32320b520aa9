import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createHash, randomBytes } from 'node:crypto';
import { mkdtemp, rm, symlink, truncate, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ParallelHasher } from './parallel-hasher';

const blockSize = 4096;
const hex = (data: Uint8Array): string => createHash('sha256').update(data).digest('hex');

function expectedBlocks(data: Buffer): { offset: number; size: number; hash: string }[] {
  const blocks = [];
  for (let offset = 0; offset < data.length; offset += blockSize) {
    const part = data.subarray(offset, Math.min(data.length, offset + blockSize));
    blocks.push({ offset, size: part.length, hash: hex(part) });
  }
  return blocks;
}

describe('ParallelHasher', () => {
  let dir: string;
  let hasher: ParallelHasher;
  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'parallel-hasher-'));
  });
  afterEach(async () => {
    hasher.close();
    await rm(dir, { recursive: true, force: true });
  });

  it('hashes every block, in order, on both threads', async () => {
    hasher = new ParallelHasher();
    const data = randomBytes(300 * blockSize + 123);
    await writeFile(join(dir, 'f'), data);
    expect(await hasher.hashBlocks(join(dir, 'f'), data.length, blockSize)).toEqual(expectedBlocks(data));
    // Again with the worker up: it now claims chunks from the start.
    expect(await hasher.hashBlocks(join(dir, 'f'), data.length, blockSize)).toEqual(expectedBlocks(data));
  });

  it('stops its worker once idle, and starts one again for the next file', async () => {
    hasher = new ParallelHasher({ idleMs: 50 });
    const data = randomBytes(100 * blockSize);
    await writeFile(join(dir, 'f'), data);
    await hasher.hashBlocks(join(dir, 'f'), data.length, blockSize);
    expect(hasher.workerRunning).toBe(true);
    const deadline = Date.now() + 10_000;
    while (hasher.workerRunning && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 10));
    expect(hasher.workerRunning).toBe(false);
    expect(await hasher.hashBlocks(join(dir, 'f'), data.length, blockSize)).toEqual(expectedBlocks(data));
    expect(hasher.workerRunning).toBe(true);
  });

  it('gets the same blocks when the worker hashes every chunk, and tells of each', async () => {
    hasher = new ParallelHasher({ hashOnMainThread: false });
    const data = randomBytes(77 * blockSize + 5);
    await writeFile(join(dir, 'f'), data);
    const told: number[] = [];
    expect(await hasher.hashBlocks(join(dir, 'f'), data.length, blockSize, (bytes) => told.push(bytes))).toEqual(expectedBlocks(data));
    expect(told).toHaveLength(78);
    expect(told.reduce((sum, bytes) => sum + bytes, 0)).toBe(data.length);
  });

  it('returns short blocks for a file that shrank, so the sizes no longer add up', async () => {
    hasher = new ParallelHasher({ hashOnMainThread: false });
    const data = randomBytes(40 * blockSize);
    await writeFile(join(dir, 'f'), data);
    await truncate(join(dir, 'f'), 10 * blockSize + 7);
    const blocks = await hasher.hashBlocks(join(dir, 'f'), data.length, blockSize);
    expect(blocks).toHaveLength(40);
    expect(blocks.slice(0, 10)).toEqual(expectedBlocks(data).slice(0, 10));
    expect(blocks[10]!.size).toBe(7);
    expect(blocks.reduce((sum, block) => sum + block.size, 0)).toBe(10 * blockSize + 7);
  });

  it('finishes on the main thread when the worker is stopped', async () => {
    hasher = new ParallelHasher({ hashOnMainThread: false });
    const data = randomBytes(2000 * blockSize);
    await writeFile(join(dir, 'f'), data);
    let told = 0;
    const hashing = hasher.hashBlocks(join(dir, 'f'), data.length, blockSize, (bytes) => (told += bytes));
    hasher.close();
    expect(await hashing).toEqual(expectedBlocks(data));
    expect(told).toBe(data.length);
  });

  it('rejects a file that is not there', async () => {
    hasher = new ParallelHasher();
    await expect(hasher.hashBlocks(join(dir, 'missing'), 10 * blockSize, blockSize)).rejects.toMatchObject({ code: 'ENOENT' });
  });

  it('refuses a symlink, as every read of the engine does', async () => {
    hasher = new ParallelHasher();
    await writeFile(join(dir, 'target'), randomBytes(blockSize));
    await symlink(join(dir, 'target'), join(dir, 'link'));
    await expect(hasher.hashBlocks(join(dir, 'link'), blockSize, blockSize)).rejects.toMatchObject({ code: 'ELOOP' });
  });
});
