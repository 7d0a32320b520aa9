import { mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { NodeFileSystem } from './node-file-system';
import { isUnboxed } from './testing/v8-internals';

describe('NodeFileSystem.lstat', () => {
  const dirs: string[] = [];
  afterEach(() => {
    for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
  });

  it('gives size and inode as the disk has them, unboxed (records hold them by the 100,000)', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'nfs-'));
    dirs.push(dir);
    const path = join(dir, 'a.txt');
    writeFileSync(path, 'x'.repeat(1234));
    const stat = (await new NodeFileSystem().lstat(path))!;
    expect(stat.size).toBe(1234);
    expect(stat.ino).toBe(statSync(path).ino);
    expect(isUnboxed(stat.size)).toBe(true);
    // An inode past 2^31 (XFS may give one) stays a heap number, and only that is allowed.
    expect(isUnboxed(stat.ino) || stat.ino >= 2 ** 31).toBe(true);
  });
});
