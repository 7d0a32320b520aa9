import { describe, expect, it } from 'vitest';
import { MemoryFileSystem, hashBytes } from './memory-file-system';

const bytes = (text: string): Uint8Array => new TextEncoder().encode(text);
const text = (data: Uint8Array | null): string | null => (data ? new TextDecoder().decode(data) : null);

async function writeTemp(fs: MemoryFileSystem, path: string, content: string, sync: boolean): Promise<void> {
  const handle = await fs.openWrite(path);
  await handle.write(bytes(content), 0);
  if (sync) await handle.sync();
  await handle.close();
}

describe('MemoryFileSystem', () => {
  it('behaves like a POSIX filesystem for the operations the engine uses', async () => {
    const fs = new MemoryFileSystem({ now: () => 5000 });
    await fs.mkdir('/r');
    await fs.mkdir('/r');
    await writeTemp(fs, '/r/a', 'hello', false);
    expect(text(await fs.readFile('/r/a'))).toBe('hello');
    expect(await fs.lstat('/r/a')).toMatchObject({ type: 'file', size: 5, mode: 0o600 });
    expect(Math.floor((await fs.lstat('/r/a'))!.mtimeMs)).toBe(5000);
    expect(await fs.lstat('/r/missing')).toBeNull();
    expect(await fs.lstat('/r/a/below')).toBeNull();
    await expect(fs.mkdir('/r/a')).rejects.toMatchObject({ code: 'EEXIST' });
    await expect(fs.mkdir('/nope/x')).rejects.toMatchObject({ code: 'ENOENT' });
    await expect(fs.unlink('/r')).rejects.toMatchObject({ code: 'EISDIR' });
    await fs.mkdir('/r/d');
    await fs.rename('/r/a', '/r/d/b');
    await expect(fs.rmdir('/r/d')).rejects.toMatchObject({ code: 'ENOTEMPTY' });
    await expect(fs.rename('/r/d', '/r/d/inside')).rejects.toMatchObject({ code: 'EINVAL' });
    expect(await fs.readdir('/r')).toEqual([{ name: 'd', type: 'dir' }]);
    const append = await fs.openAppend('/r/d/b');
    await append.write(bytes(' world'), 0);
    await append.close();
    expect(text(await fs.readFile('/r/d/b'))).toBe('hello world');
    await fs.link('/r/d/b', '/r/hard');
    await fs.truncate('/r/hard', 5);
    expect(text(await fs.readFile('/r/d/b'))).toBe('hello');
    await fs.symlink('../x', '/r/link');
    expect(await fs.readlink('/r/link')).toBe('../x');
    await expect(fs.openRead('/r/link')).rejects.toMatchObject({ code: 'ELOOP' });
    await fs.chmod('/r/d/b', 0o644);
    await fs.utimes('/r/d/b', 1234);
    expect(await fs.lstat('/r/hard')).toMatchObject({ mode: 0o644, mtimeMs: 1234 });
    const reader = await fs.openRead('/r/d/b');
    const buffer = new Uint8Array(3);
    expect(await reader.read(buffer, 2)).toBe(3);
    expect(text(buffer)).toBe('llo');
    await reader.close();
    await fs.removeTree('/r/d');
    await fs.removeTree('/r/d');
    expect(Object.keys(fs.tree('/r'))).toEqual(['hard', 'link']);
    expect([...fs.writtenPaths].every((path) => path.startsWith('/r'))).toBe(true);
  });

  it('keeps across a crash only what was fsynced and whose directory entry was synced', async () => {
    const fs = new MemoryFileSystem();
    fs.userMkdirp('/r');
    await writeTemp(fs, '/r/synced', 'one', true);
    await writeTemp(fs, '/r/unsynced-data', 'two', false);
    await fs.syncDir('/r');
    await writeTemp(fs, '/r/unsynced-entry', 'three', true);
    await writeTemp(fs, '/r/renamed.tmp', 'five', true);
    await fs.writeFileAtomic('/r/atomic', bytes('four'));
    await fs.rename('/r/renamed.tmp', '/r/renamed');
    fs.crash();
    // The atomic write synced the directory, so the entry of 'unsynced-entry' became durable too.
    expect(text(fs.peek('/r/synced'))).toBe('one');
    expect(text(fs.peek('/r/unsynced-data'))).toBe('');
    expect(text(fs.peek('/r/unsynced-entry'))).toBe('three');
    expect(text(fs.peek('/r/atomic'))).toBe('four');
    expect(fs.entryType('/r/renamed')).toBeNull();
    expect(text(fs.peek('/r/renamed.tmp'))).toBe('five');
  });

  it('loses a rename whose directory was not synced, and data changed after the last fsync', async () => {
    const fs = new MemoryFileSystem();
    fs.userWrite('/r/f', bytes('old'));
    await writeTemp(fs, '/r/.tmp', 'new', true);
    await fs.syncDir('/r');
    await fs.rename('/r/.tmp', '/r/f');
    const handle = await fs.openAppend('/r/.log');
    await handle.write(bytes('line'), 0);
    fs.crash();
    expect(text(fs.peek('/r/f'))).toBe('old');
    expect(text(fs.peek('/r/.tmp'))).toBe('new');
    expect(fs.entryType('/r/.log')).toBeNull();
  });

  it('makes user writes durable at once and reports them to change listeners', () => {
    const fs = new MemoryFileSystem();
    const changes: string[] = [];
    fs.onChange((change) => changes.push(`${change.kind} ${change.path}`));
    fs.userWrite('/r/a/b.txt', bytes('x'));
    fs.userAppend('/r/a/b.txt', bytes('y'));
    fs.userRename('/r/a', '/r/c');
    fs.userChmod('/r/c/b.txt', 0o755);
    fs.userTouch('/r/c/b.txt', 1_234);
    fs.crash();
    expect(fs.tree('/r')).toEqual({ c: { type: 'dir', mode: 0o755 }, 'c/b.txt': { type: 'file', hash: hashBytes(bytes('xy')), size: 2, mode: 0o755, mtimeMs: 1_234 } });
    expect(changes).toEqual(['addDir /r', 'addDir /r/a', 'add /r/a/b.txt', 'change /r/a/b.txt', 'addDir /r/c', 'add /r/c/b.txt', 'unlink /r/a/b.txt', 'unlinkDir /r/a', 'change /r/c/b.txt', 'change /r/c/b.txt']);
    fs.userRemove('/r/c');
    fs.crash();
    expect(fs.tree('/r')).toEqual({});
  });

  it('kills a mounted view at a crash: its later operations fail and change nothing', async () => {
    const fs = new MemoryFileSystem();
    fs.userMkdirp('/r');
    const view = fs.mount();
    const handle = await view.openWrite('/r/f');
    await handle.sync();
    await view.syncDir('/r');
    fs.crash();
    await expect(handle.write(bytes('late'), 0)).rejects.toMatchObject({ code: 'EIO' });
    await expect(view.unlink('/r/f')).rejects.toMatchObject({ code: 'EIO' });
    expect(fs.entryType('/r/f')).toBe('file');
    expect(await fs.mount().lstat('/r/f')).toMatchObject({ size: 0 });
  });

  it('records every content made visible in synced places, by whom', async () => {
    const fs = new MemoryFileSystem({ isSynced: (path) => path.startsWith('/r/') && !path.startsWith('/r/.sync/') });
    fs.userMkdirp('/r/.sync');
    fs.userWrite('/r/a', bytes('user'));
    await writeTemp(fs, '/r/.sync/t', 'engine', false);
    await fs.rename('/r/.sync/t', '/r/b');
    fs.crash();
    expect(fs.visible.map((v) => `${v.actor} ${v.operation} ${v.path} ${v.size}`)).toEqual([
      'user write /r/a 4',
      'engine rename /r/b 6',
      'crash crash /r/a 4',
    ]);
  });
});
