import { describe, expect, it } from 'vitest';
import { mkdir, mkdtemp, readdir, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { Folder, tempShardDirs } from './folder';
import { NodeFileSystem } from './node-file-system';
import { prepareStateDir } from './state-dir';

describe('Folder', () => {
  it('refuses paths that could leave the folder or touch the state dir', () => {
    const folder = new Folder(new NodeFileSystem(), '/data', '/data/.sync');
    for (const bad of ['../x', '/etc/passwd', 'a/../../b', '.sync/node-id', 'a\\b', '']) {
      expect(folder.isForbidden(bad), bad).toBe(true);
      expect(() => folder.abs(bad)).toThrow(/UNSAFE_PATH/);
    }
    expect(folder.abs('a/b.txt')).toBe('/data/a/b.txt');
  });

  it('makes the same absolute paths as joining the root and the path, whatever form the root is given in', () => {
    for (const root of ['/data', '/data/', '/data//x/..', '/', 'rel/dir', './rel/', 'rel/../other']) {
      const folder = new Folder(new NodeFileSystem(), root, '/state');
      for (const path of ['a', 'a/b.txt', 'dir/sub/ü file', '..x/y..', 'a/.hidden/b']) expect(folder.abs(path), `${root} + ${path}`).toBe(join(root, path));
    }
  });

  it('treats a custom state dir inside the folder as off limits', () => {
    const folder = new Folder(new NodeFileSystem(), '/data', '/data/meta/state');
    expect(folder.isForbidden('meta/state/index.journal')).toBe(true);
    expect(folder.isForbidden('meta/other')).toBe(false);
    expect(new Folder(new NodeFileSystem(), '/data', '/var/state').stateDirRelative).toBeNull();
  });

  it('spreads temp files over the tmp dir\'s subdirectories, which a fresh start empties and makes', async () => {
    const root = await mkdtemp(join(tmpdir(), 'folder-temp-'));
    try {
      const stateDir = join(root, '.sync');
      const fs = new NodeFileSystem();
      await prepareStateDir(fs, stateDir);
      const folder = new Folder(fs, root, stateDir);
      const shards = tempShardDirs(stateDir);
      const used = Array.from({ length: shards.length * 2 }, (_, i) => dirname(folder.tempPath(`t${i}`)));
      // In turn, so files created at once never share a directory's lock while a shard is free.
      expect(used).toEqual([...shards, ...shards]);

      const stale = folder.tempPath('left-by-a-crash');
      await writeFile(stale, 'partial');
      await prepareStateDir(fs, stateDir);
      expect((await readdir(join(stateDir, 'tmp'))).sort()).toEqual(shards.map((dir) => dir.slice(dir.lastIndexOf('/') + 1)).sort());
      expect(await readdir(dirname(stale))).toEqual([]);
    } finally {
      await rm(root, { recursive: true, force: true });
    }
  });

  it('makes missing parents, and refuses a path under a symlink at any level, even where it resolves to a directory', async () => {
    const root = await mkdtemp(join(tmpdir(), 'folder-parents-'));
    try {
      const outside = join(root, 'outside');
      await mkdir(join(outside, 'b'), { recursive: true });
      const folder = new Folder(new NodeFileSystem(), join(root, 'data'), join(root, 'data', '.sync'));
      await mkdir(folder.root);
      await folder.ensureParents('x/y/z/file');
      expect(await readdir(join(folder.root, 'x', 'y'))).toEqual(['z']);

      await symlink(outside, join(folder.root, 'link'));
      await expect(folder.ensureParents('link/new/file')).rejects.toThrow(/UNSAFE_PATH/);
      // "link/b" is a directory as far as an lstat of it can tell. A pull's commit then finds no
      // file at "link/b/file" (its stat is null: unreachable), so this refusal is what keeps the
      // file out of "outside". An ensureParents that stopped at a parent found to be a directory
      // would let it through.
      await expect(folder.ensureParents('link/b/file')).rejects.toThrow(/UNSAFE_PATH/);
      expect(await folder.stat('link/b/file')).toBeNull();
      expect(await readdir(outside)).toEqual(['b']);
      expect(await readdir(join(outside, 'b'))).toEqual([]);
    } finally {
      await rm(root, { recursive: true, force: true });
    }
  });
});
