import type { Dirent } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { NewDirectorySweep } from './new-directory-sweep';
import type { SweepPorts } from './new-directory-sweep';

const dir = '/root/a';

function entry(name: string, isDirectory: boolean): Dirent {
  return { name, isDirectory: () => isDirectory } as Dirent;
}

function ports(entries: Dirent[], known: string[], pruned: string[] = []): SweepPorts & { adopted: string[]; prunedAsked: Array<[string, boolean]> } {
  const adopted: string[] = [];
  const prunedAsked: Array<[string, boolean]> = [];
  return {
    adopted,
    prunedAsked,
    list: (absoluteDir) => {
      if (absoluteDir !== dir) throw Object.assign(new Error('ENOENT'), { code: 'ENOENT' });
      return entries;
    },
    isKnown: (absoluteDir, name) => absoluteDir === dir && known.includes(name),
    isPruned: (absolutePath, isDirectory) => {
      prunedAsked.push([absolutePath, isDirectory]);
      return pruned.includes(path.basename(absolutePath));
    },
    adopt: (absolutePath) => adopted.push(absolutePath),
  };
}

describe('NewDirectorySweep', () => {
  it('hands back only the entries chokidar does not know and would not ignore', () => {
    const fake = ports([entry('known.txt', false), entry('b', true), entry('late.txt', false), entry('build', true)], ['known.txt'], ['build']);
    const sweep = new NewDirectorySweep(fake);
    expect(sweep.sweep(dir)).toEqual(['/root/a/b', '/root/a/late.txt']);
    expect(fake.adopted).toEqual(['/root/a/b', '/root/a/late.txt']);
    // Directory-ness reaches the rules: a `build/` rule must not prune a file named build.
    expect(fake.prunedAsked).toContainEqual(['/root/a/build', true]);
    expect(fake.prunedAsked).toContainEqual(['/root/a/late.txt', false]);
  });

  it('does nothing for a directory that is gone by the time it is swept', () => {
    const fake = ports([entry('b', true)], []);
    expect(new NewDirectorySweep(fake).sweep('/root/gone')).toEqual([]);
    expect(fake.adopted).toEqual([]);
  });

  it('sweeps a scheduled directory after its delay, and never once stopped', async () => {
    const fake = ports([entry('b', true)], []);
    const sweep = new NewDirectorySweep(fake, 5);
    sweep.schedule(dir);
    expect(sweep.pending).toBe(1);
    expect(fake.adopted).toEqual([]);
    await expect.poll(() => fake.adopted, { timeout: 5_000 }).toEqual(['/root/a/b']);
    expect(sweep.pending).toBe(0);

    const stopped = new NewDirectorySweep(ports([entry('b', true)], []), 5);
    stopped.schedule(dir);
    stopped.stop();
    expect(stopped.pending).toBe(0);
    expect(stopped.sweep(dir)).toEqual([]);
  });

  it('sweeps a whole tree, counting what it hands back, and stops when stopped', async () => {
    const fake = ports([entry('b', true), entry('known.txt', false)], ['known.txt']);
    const sweep = new NewDirectorySweep(fake);
    const dirs = Array.from({ length: 200 }, () => dir);
    expect(await sweep.sweepAll(dirs)).toBe(200);
    expect(fake.adopted).toHaveLength(200);

    const stopping = new NewDirectorySweep(fake);
    const run = stopping.sweepAll(dirs);
    stopping.stop();
    // The first batch runs before the first yield; nothing after it.
    expect(await run).toBeLessThan(200);
  });
});
