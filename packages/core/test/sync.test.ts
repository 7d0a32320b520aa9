import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { chmod, mkdir, readFile, readdir, rename, rm, stat, symlink, readlink, writeFile, lstat, utimes } from 'node:fs/promises';
import { randomBytes } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { join, sep } from 'node:path';
import { Cluster, tempFiles, waitFor, readTree } from './cluster';
import { NodeFileSystem } from '../src/node-file-system';
import { parallelHashMinBytes } from '../src/hashing';
import type { TransportKind } from './cluster';
import type { WriteHandle } from '../src/ports';

const exists = (path: string): Promise<boolean> => lstat(path).then(() => true, () => false);
const contentOf = (path: string): Promise<string | null> => readFile(path, 'utf8').catch(() => null);
const conflictCopies = async (dir: string, sub = ''): Promise<string[]> =>
  (await readdir(join(dir, sub))).filter((name) => name.includes('.sync-conflict-'));

/** Counts the files a node opens to read (hash or send), by absolute path, and the ones it hashes on two threads. */
class CountingFileSystem extends NodeFileSystem {
  constructor(
    private readonly reads: Map<string, number>,
    private readonly hashed: string[] = [],
  ) {
    super();
  }

  override hashBlocks(path: string, size: number, blockSize: number): ReturnType<NodeFileSystem['hashBlocks']> {
    this.hashed.push(path);
    return super.hashBlocks(path, size, blockSize);
  }

  override openRead(path: string): ReturnType<NodeFileSystem['openRead']> {
    this.reads.set(path, (this.reads.get(path) ?? 0) + 1);
    return super.openRead(path);
  }
}

/**
 * A slow disk that checks no block's buffer changes while it is being written (a buffer handed
 * back to the block pool too early would take the next block's bytes), and counts the buffers.
 */
class WriteCheckingFileSystem extends NodeFileSystem {
  readonly memories = new Set<ArrayBufferLike>();
  writes = 0;
  changedWhileWriting = 0;

  override async openWrite(path: string): Promise<WriteHandle> {
    return this.checked(await super.openWrite(path));
  }

  override async openUpdate(path: string): Promise<WriteHandle> {
    return this.checked(await super.openUpdate(path));
  }

  private checked(handle: WriteHandle): WriteHandle {
    return {
      write: async (data, position) => {
        const before = Buffer.from(data);
        this.writes++;
        this.memories.add(data.buffer);
        await new Promise((resolve) => setTimeout(resolve, 2));
        await handle.write(data, position);
        if (Buffer.compare(before, Buffer.from(data)) !== 0) this.changedWhileWriting++;
      },
      sync: () => handle.sync(),
      close: () => handle.close(),
    };
  }
}

/** A disk whose directory fsyncs take a few ms, counted by directory, as a real disk's journal commits would. */
class DirSyncCountingFileSystem extends NodeFileSystem {
  readonly dirSyncs = new Map<string, number>();

  override async syncDir(path: string): Promise<void> {
    this.dirSyncs.set(path, (this.dirSyncs.get(path) ?? 0) + 1);
    await new Promise((resolve) => setTimeout(resolve, 5));
    return super.syncDir(path);
  }
}

describe.each<TransportKind>(['ws', 'memory'])('engine over %s', (kind) => {
  let cluster: Cluster;
  beforeEach(async () => {
    cluster = new Cluster(kind);
    await cluster.init();
  });
  afterEach(async () => {
    await cluster.close();
  });

  it('propagates creates, edits and deletes of files and nested and empty directories to every node', async () => {
    const [a, b, c] = await cluster.mesh(['a', 'b', 'c']);
    await mkdir(join(a!.dir, 'docs/deep/er'), { recursive: true });
    await mkdir(join(a!.dir, 'empty'));
    await writeFile(join(a!.dir, 'docs/deep/er/note.txt'), 'hello');
    await writeFile(join(a!.dir, 'top.bin'), randomBytes(300_000));
    await waitFor(() => cluster.converged(), 'creates on all nodes');
    expect(await contentOf(join(c!.dir, 'docs/deep/er/note.txt'))).toBe('hello');
    expect((await stat(join(b!.dir, 'empty'))).isDirectory()).toBe(true);

    await writeFile(join(b!.dir, 'docs/deep/er/note.txt'), 'hello, edited on b');
    await waitFor(async () => (await contentOf(join(c!.dir, 'docs/deep/er/note.txt'))) === 'hello, edited on b', 'the edit');

    await rm(join(c!.dir, 'docs'), { recursive: true });
    await rm(join(c!.dir, 'top.bin'));
    await waitFor(async () => !(await exists(join(a!.dir, 'docs'))) && !(await exists(join(b!.dir, 'top.bin'))), 'deletes');
    await waitFor(() => cluster.converged(), 'convergence after deletes');
    expect(Object.keys(await readTree(a!.dir))).toEqual(['empty']);
  });

  it('restarts over an unchanged tree of nested directories without publishing anything', async () => {
    const [a] = await cluster.mesh(['a', 'b']);
    // Distinct names in every directory: a listing handed to the wrong directory cannot pass for the right one.
    for (const dir of ['d1', 'd2/inner', 'd2/inner/deeper', 'd3', 'd4/x/y/z']) {
      await mkdir(join(a!.dir, dir), { recursive: true });
      await writeFile(join(a!.dir, dir, `${dir.replaceAll('/', '-')}.txt`), dir);
    }
    await waitFor(() => cluster.converged(), 'the tree on b');
    await a!.node.whenIdle();
    const before = a!.node.status();
    await cluster.stop('a');
    const restarted = await cluster.restart('a', []);
    await restarted.node.whenIdle();
    const after = restarted.node.status();
    expect(after.sequence).toBe(before.sequence);
    expect(after.heldDeletes).toBeNull();
    expect(after.errors).toBe(0);
    expect({ files: after.files, directories: after.directories }).toEqual({ files: 5, directories: before.directories });
  });

  it('keeps both versions of a concurrent edit: one winner everywhere and one conflict copy', async () => {
    const [a, b] = await cluster.mesh(['a', 'b']);
    await writeFile(join(a!.dir, 'shared.txt'), 'base');
    await waitFor(async () => (await contentOf(join(b!.dir, 'shared.txt'))) === 'base', 'the base version');
    await cluster.stop('b');
    await writeFile(join(a!.dir, 'shared.txt'), 'edit from a');
    await writeFile(join(b!.dir, 'shared.txt'), 'edit from b, later');
    const later = new Date(Date.now() + 60_000);
    await utimes(join(b!.dir, 'shared.txt'), later, later);
    await cluster.restart('b', ['a']);
    await waitFor(async () => (await conflictCopies(a!.dir)).length === 1 && (await cluster.converged()), 'a converged conflict');
    expect(await contentOf(join(a!.dir, 'shared.txt'))).toBe('edit from b, later');
    const [copy] = await conflictCopies(a!.dir);
    expect(copy).toMatch(/^shared\.sync-conflict-\d{8}-\d{6}-a\.txt$/);
    expect(await contentOf(join(b!.dir, copy!))).toBe('edit from a');
  });

  it('treats identical concurrent creates as one file, without a conflict copy', async () => {
    const [a, b] = await cluster.mesh(['a', 'b']);
    await cluster.stop('b');
    await writeFile(join(a!.dir, 'same.txt'), 'identical bytes');
    await writeFile(join(b!.dir, 'same.txt'), 'identical bytes');
    await writeFile(join(a!.dir, 'sentinel'), 'x');
    await cluster.restart('b', ['a']);
    await waitFor(async () => (await exists(join(b!.dir, 'sentinel'))) && (await cluster.converged()), 'convergence');
    await cluster.get('a').node.whenIdle();
    await cluster.get('b').node.whenIdle();
    expect(await conflictCopies(a!.dir)).toEqual([]);
    expect(await conflictCopies(b!.dir)).toEqual([]);
  });

  it('lets a change beat a concurrent delete', async () => {
    const [a, b] = await cluster.mesh(['a', 'b']);
    await writeFile(join(a!.dir, 'f.txt'), 'v1');
    await waitFor(async () => (await contentOf(join(b!.dir, 'f.txt'))) === 'v1', 'v1');
    await cluster.stop('b');
    await rm(join(a!.dir, 'f.txt'));
    await writeFile(join(b!.dir, 'f.txt'), 'v2 from b');
    await cluster.restart('b', ['a']);
    await waitFor(async () => (await contentOf(join(a!.dir, 'f.txt'))) === 'v2 from b', 'the change to win');
    await waitFor(() => cluster.converged(), 'convergence');
    expect(await conflictCopies(a!.dir)).toEqual([]);
  });

  it('keeps a file moved over its twin (same bytes and mtime) while a peer edited the original: both survive', async () => {
    const [a, b] = await cluster.mesh(['a', 'b']);
    const mtime = new Date('2026-01-02T03:04:05Z');
    for (const name of ['report.txt', 'report.copy.txt']) {
      await writeFile(join(a!.dir, name), 'the version b keeps');
      await utimes(join(a!.dir, name), mtime, mtime);
    }
    await waitFor(async () => (await contentOf(join(b!.dir, 'report.copy.txt'))) !== null && (await cluster.converged()), 'both files on b');
    await cluster.stop('b');
    await writeFile(join(a!.dir, 'report.txt'), 'edit from a');
    // On b, its user chose the copy: a real rename, so the original's name now has the copy's inode,
    // and the bytes and mtime its record already held.
    await rename(join(b!.dir, 'report.copy.txt'), join(b!.dir, 'report.txt'));
    await cluster.restart('b', ['a']);
    await waitFor(async () => !(await exists(join(a!.dir, 'report.copy.txt'))) && (await cluster.converged()), 'convergence');
    const live = async (dir: string): Promise<string[]> =>
      Promise.all(['report.txt', ...(await conflictCopies(dir))].map(async (name) => (await contentOf(join(dir, name))) ?? '')).then((all) => all.sort());
    expect(await live(a!.dir)).toEqual(['edit from a', 'the version b keeps']);
    expect(await live(b!.dir)).toEqual(['edit from a', 'the version b keeps']);
  });
});

describe('engine over real WebSockets', () => {
  let cluster: Cluster;
  beforeEach(async () => {
    cluster = new Cluster('ws');
    await cluster.init();
  });
  afterEach(async () => {
    await cluster.close();
  });

  it('reads received blocks into reused buffers, each reused only once its bytes are in the file', async () => {
    const a = await cluster.add('a');
    const disk = new WriteCheckingFileSystem();
    // b dials: a dialer reads blocks with our own WebSocket client, into the block pool.
    const b = await cluster.add('b', { peers: ['a'], fileSystem: disk });
    await waitFor(() => b.node.status().peers.length === 1, 'b connected to a');
    for (const name of ['one.bin', 'two.bin', 'three.bin']) {
      const data = randomBytes(3 * 1024 * 1024);
      await writeFile(join(a.dir, name), data);
      await waitFor(async () => (await readFile(join(b.dir, name)).catch(() => null))?.equals(data) === true, `${name} intact on b`);
    }
    expect(disk.changedWhileWriting).toBe(0);
    // 72 blocks of 128 KiB written from about the 24 buffers of one file: the pool took them back.
    expect(disk.writes).toBeGreaterThanOrEqual(72);
    expect(disk.memories.size).toBeLessThan(disk.writes / 2);
  });

  it('creates sibling directories at once, so they share their parent\'s fsyncs', async () => {
    const a = await cluster.add('a');
    const disk = new DirSyncCountingFileSystem();
    const b = await cluster.add('b', { peers: ['a'], fileSystem: disk });
    await waitFor(() => b.node.status().peers.length === 1, 'b connected to a');
    // Made outside the folder and moved in at once, so a announces the whole tree together.
    const staged = join(cluster.dirOf('stage'), 'tree');
    for (let i = 0; i < 40; i++) await mkdir(join(staged, `d${i}`), { recursive: true });
    await rename(staged, join(a.dir, 'tree'));
    await waitFor(() => b.node.status().directories === 41, 'the tree on b');
    expect((await readdir(join(b.dir, 'tree'))).length).toBe(40);
    // One after another, each of the 40 would have waited for its own fsync of tree/.
    const treeSyncs = disk.dirSyncs.get(join(b.dir, 'tree')) ?? 0;
    expect(treeSyncs).toBeGreaterThan(0);
    expect(treeSyncs).toBeLessThanOrEqual(10);
  });

  it('reports how far it has each peer\'s index, up to the peer\'s own sequence once caught up', async () => {
    const [a, b] = await cluster.mesh(['a', 'b']);
    for (let i = 0; i < 5; i++) await writeFile(join(a!.dir, `f${i}.txt`), `file ${i}`);
    await writeFile(join(b!.dir, 'from-b.txt'), 'b');
    await waitFor(() => cluster.converged(), 'convergence');
    const caughtUp = (from: typeof a, to: typeof a): boolean =>
      from!.node.status().peers.find((peer) => peer.nodeId === to!.name)?.indexSequence === to!.node.status().sequence;
    await waitFor(() => caughtUp(a, b) && caughtUp(b, a), 'both indexes caught up');
    expect(a!.node.status().sequence).toBeGreaterThanOrEqual(5);
    expect(b!.node.status().peers[0]!.indexSequence).toBe(a!.node.status().sequence);
  });

  it('sends a whole index larger than one frame holds (1,000 records) to a peer that joins later', async () => {
    const dirA = cluster.dirOf('a');
    for (let d = 0; d < 12; d++) {
      await mkdir(join(dirA, `d${d}`), { recursive: true });
      for (let f = 0; f < 100; f++) writeFileSync(join(dirA, `d${d}`, `f${f}.txt`), `${d}/${f}`);
    }
    const a = await cluster.add('a');
    const b = await cluster.add('b', { peers: ['a'] });
    await waitFor(() => b.node.status().peers[0]?.indexSequence === a.node.status().sequence && b.node.status().files === 1_200, 'b holds all of a', 120_000);
    expect(a.node.status().sequence).toBeGreaterThanOrEqual(1_212);
    expect(await contentOf(join(cluster.dirOf('b'), 'd11', 'f99.txt'))).toBe('11/99');
    expect(await cluster.converged()).toBe(true);
  }, 180_000);

  it('syncs permission bits, mtimes and symlinks (as links, never followed)', async () => {
    const [a, b] = await cluster.mesh(['a', 'b']);
    await writeFile(join(a!.dir, 'script.sh'), '#!/bin/sh\necho hi\n');
    await chmod(join(a!.dir, 'script.sh'), 0o751);
    const mtime = new Date('2021-03-04T05:06:07.000Z');
    await utimes(join(a!.dir, 'script.sh'), mtime, mtime);
    await symlink('script.sh', join(a!.dir, 'link-in'));
    await symlink('/etc/passwd', join(a!.dir, 'link-out'));
    await waitFor(async () => (await exists(join(b!.dir, 'link-out'))) && (await exists(join(b!.dir, 'script.sh'))), 'files and links');
    // The watcher may see the file between the chmod and the utimes, so b can first hold an
    // intermediate version: wait for the final one rather than check the mtime at the first.
    const final = async () => {
      const s = await stat(join(b!.dir, 'script.sh'));
      return (s.mode & 0o777) === 0o751 && s.mtimeMs === mtime.getTime();
    };
    await waitFor(final, 'mode and mtime');
    expect((await stat(join(b!.dir, 'script.sh'))).mode & 0o777).toBe(0o751);
    expect((await stat(join(b!.dir, 'script.sh'))).mtimeMs).toBe(mtime.getTime());
    expect(await readlink(join(b!.dir, 'link-out'))).toBe('/etc/passwd');
    expect(await readlink(join(b!.dir, 'link-in'))).toBe('script.sh');
    expect((await lstat(join(b!.dir, 'link-out'))).isSymbolicLink()).toBe(true);

    // A chmod alone, with no content change, is a change too.
    await chmod(join(b!.dir, 'script.sh'), 0o700);
    await waitFor(async () => ((await stat(join(a!.dir, 'script.sh'))).mode & 0o777) === 0o700, 'the chmod-only change');
  });

  it('syncs a new mtime on unchanged bytes (a touch) to every node, without sending the bytes', async () => {
    const [a, b, c] = await cluster.mesh(['a', 'b', 'c']);
    const data = randomBytes(200 * 1024);
    await writeFile(join(a!.dir, 'kept.bin'), data);
    await waitFor(async () => (await contentOf(join(c!.dir, 'kept.bin'))) !== null && (await contentOf(join(b!.dir, 'kept.bin'))) !== null, 'the file');
    await waitFor(() => cluster.converged(), 'the first version everywhere');
    const received = b!.node.status().bytesReceived + c!.node.status().bytesReceived;
    const sequence = a!.node.status().sequence;

    const touched = new Date('2022-05-06T07:08:09.123Z');
    await utimes(join(a!.dir, 'kept.bin'), touched, touched);
    // utimes takes seconds as a double, so a set mtime reads back within a microsecond, not exactly.
    const touchedMs = (await stat(join(a!.dir, 'kept.bin'))).mtimeMs;
    for (const node of [b!, c!]) {
      await waitFor(async () => Math.abs((await stat(join(node.dir, 'kept.bin'))).mtimeMs - touchedMs) < 0.01, `the mtime on ${node.name}`);
    }
    await waitFor(() => cluster.converged(), 'the touched version everywhere');
    expect(a!.node.status().sequence).toBeGreaterThan(sequence);
    expect(b!.node.status().bytesReceived + c!.node.status().bytesReceived).toBe(received);
    expect(await readFile(join(b!.dir, 'kept.bin'))).toEqual(data);
    expect(await conflictCopies(b!.dir)).toEqual([]);
    expect(await conflictCopies(c!.dir)).toEqual([]);
  });

  it('never writes through a symlinked directory', async () => {
    const [a, b] = await cluster.mesh(['a', 'b']);
    const outside = join(cluster.dirOf('outside'));
    await mkdir(outside);
    // On b, "sub" is a link to a folder outside; a's "sub/evil.txt" must not land there.
    await symlink(outside, join(b!.dir, 'sub'));
    await waitFor(async () => (await readlink(join(a!.dir, 'sub')).catch(() => null)) === outside, 'the link to reach a');
    await rm(join(a!.dir, 'sub'));
    await mkdir(join(a!.dir, 'sub'));
    await writeFile(join(a!.dir, 'sub/evil.txt'), 'should stay inside');
    await waitFor(async () => (await contentOf(join(b!.dir, 'sub/evil.txt'))) === 'should stay inside', 'the file inside b');
    expect(await readdir(outside)).toEqual([]);
  });

  it('moves a renamed file without sending its bytes again', async () => {
    const [a, b] = await cluster.mesh(['a', 'b']);
    const data = randomBytes(4 * 1024 * 1024);
    await writeFile(join(a!.dir, 'big.bin'), data);
    await waitFor(async () => (await exists(join(b!.dir, 'big.bin'))) && (await cluster.converged()), 'the big file');
    const before = b!.node.status().bytesReceived;
    await mkdir(join(a!.dir, 'moved'));
    await rename(join(a!.dir, 'big.bin'), join(a!.dir, 'moved/big.bin'));
    await waitFor(async () => (await exists(join(b!.dir, 'moved/big.bin'))) && !(await exists(join(b!.dir, 'big.bin'))), 'the rename');
    expect((await readFile(join(b!.dir, 'moved/big.bin'))).equals(data)).toBe(true);
    expect(b!.node.status().bytesReceived - before).toBeLessThan(64 * 1024);
  });

  it('pushes a small new file with its announcement (no request), and requests the blocks of a larger one', async () => {
    const [a, b] = await cluster.mesh(['a', 'b']);
    const small = randomBytes(20_000);
    await writeFile(join(a!.dir, 'small.bin'), small);
    await waitFor(async () => (await readFile(join(b!.dir, 'small.bin')).catch(() => null))?.equals(small) ?? false, 'the small file');
    expect(b!.node.status().blocksRequested).toBe(0);
    expect(b!.node.status().bytesReceived).toBe(small.length);
    const large = randomBytes(300_000);
    await writeFile(join(a!.dir, 'large.bin'), large);
    await waitFor(async () => (await readFile(join(b!.dir, 'large.bin')).catch(() => null))?.equals(large) ?? false, 'the larger file');
    expect(b!.node.status().blocksRequested).toBe(3);
  });

  it('pushes no more small files than a slow receiver keeps for its puller: each file crosses the wire once', async () => {
    // The receiver writes one file at a time, slowly; the sender announces in many small batches.
    class SlowDisk extends NodeFileSystem {
      private queue: Promise<unknown> = Promise.resolve();
      override openWrite(path: string): ReturnType<NodeFileSystem['openWrite']> {
        const opened = this.queue.then(() => new Promise((resolve) => setTimeout(resolve, 5))).then(() => super.openWrite(path));
        this.queue = opened.catch(() => {});
        return opened;
      }
    }
    await cluster.close();
    cluster = new Cluster('ws', { limits: { retryDelayMs: 200, pushBatchBytesMax: 64 * 1024 } });
    await cluster.init();
    const a = await cluster.add('a');
    const b = await cluster.add('b', { peers: ['a'], fileSystem: new SlowDisk() });
    await waitFor(() => b.node.status().peers.length === 1, 'the link');
    const files = 200;
    for (let i = 0; i < files; i++) {
      await writeFile(join(a.dir, `f${i}.bin`), randomBytes(4096));
      if (i % 10 === 9) await new Promise((resolve) => setTimeout(resolve, 15));
    }
    await waitFor(async () => b.node.status().files === files && (await cluster.converged()), 'every file on b', 60_000);
    const payload = files * 4096;
    expect(a.node.status().bytesSent).toBeLessThanOrEqual(payload * 1.1);
    expect(b.node.status().bytesReceived).toBeLessThanOrEqual(payload * 1.1);
    expect(b.node.status().blocksRequested).toBeLessThan(files);
  });

  it('does not read a large renamed file again on the sender, and renames it on the receiver', async () => {
    const reads = new Map<string, number>();
    const a = await cluster.add('a', { fileSystem: new CountingFileSystem(reads) });
    const b = await cluster.add('b', { peers: ['a'] });
    const data = randomBytes(4 * 1024 * 1024);
    await writeFile(join(a.dir, 'big.bin'), data);
    await waitFor(async () => (await exists(join(b.dir, 'big.bin'))) && (await cluster.converged()), 'the big file');
    const before = b.node.status();
    const inode = (await stat(join(b.dir, 'big.bin'))).ino;
    await mkdir(join(a.dir, 'moved'));
    await rename(join(a.dir, 'big.bin'), join(a.dir, 'moved/big.bin'));
    await waitFor(async () => (await exists(join(b.dir, 'moved/big.bin'))) && !(await exists(join(b.dir, 'big.bin'))), 'the rename');
    expect((await readFile(join(b.dir, 'moved/big.bin'))).equals(data)).toBe(true);
    expect(reads.get(join(a.dir, 'moved', 'big.bin')) ?? 0).toBe(0);
    // Renamed in place, not copied: the same inode, and no kept version of the "deleted" old path.
    expect((await stat(join(b.dir, 'moved/big.bin'))).ino).toBe(inode);
    expect(await readdir(join(b.dir, '.sync', 'versions')).catch(() => [])).toEqual([]);
    expect(b.node.status().bytesReceived - before.bytesReceived).toBeLessThan(64 * 1024);
    expect(b.node.status().bytesReused - before.bytesReused).toBe(data.length);
  });

  it.each([
    ['a large file', 'big.bin', 'moved/big.bin', ['big.bin']],
    ['a directory of large files', 'album', 'moved/album', ['album/one.bin', 'album/two.bin', 'album']],
  ])('does not read %s again on the sender when it scans the old name\'s delete first', async (_what, from, to, removed) => {
    // The first stat of each path under the new name is late, so the old name's delete is
    // published before the moved files are scanned: an order the watcher's two events can take
    // on a busy machine.
    class LateNewName extends CountingFileSystem {
      private readonly statted = new Set<string>();
      override async lstat(path: string): ReturnType<NodeFileSystem['lstat']> {
        const newName = join(cluster.dirOf('a'), ...to.split('/'));
        if ((path === newName || path.startsWith(newName + sep)) && !this.statted.has(path)) {
          this.statted.add(path);
          await new Promise((resolve) => setTimeout(resolve, 300));
        }
        return super.lstat(path);
      }
    }
    const reads = new Map<string, number>();
    const a = await cluster.add('a', { fileSystem: new LateNewName(reads) });
    const b = await cluster.add('b', { peers: ['a'] });
    const files = from === 'album' ? ['one.bin', 'two.bin'].map((name) => `album/${name}`) : [from];
    await mkdir(join(a.dir, 'album'));
    await mkdir(join(a.dir, 'moved'));
    const data = new Map(files.map((file) => [file, randomBytes(2 * 1024 * 1024)]));
    for (const [file, bytes] of data) await writeFile(join(a.dir, file), bytes);
    await waitFor(async () => (await cluster.converged()) && b.node.status().files === files.length, 'the large files');
    const before = b.node.status();
    const deletes: string[] = [];
    a.node.on('local-change', (event) => {
      if (event.op === 'remove') deletes.push(event.path);
    });
    await rename(join(a.dir, from), join(a.dir, to));
    const moved = (file: string): string => file.replace(from, to);
    await waitFor(async () => (await Promise.all(files.map((file) => exists(join(b.dir, moved(file)))))).every(Boolean) && !(await exists(join(b.dir, from))), 'the rename');
    // Children before their directory, in any order among themselves.
    expect([...deletes].sort()).toEqual([...removed].sort());
    expect(deletes.at(-1)).toBe(removed.at(-1));
    for (const [file, bytes] of data) {
      expect((await readFile(join(b.dir, moved(file)))).equals(bytes)).toBe(true);
      expect(reads.get(join(a.dir, ...moved(file).split('/'))) ?? 0).toBe(0);
    }
    expect(b.node.status().bytesReceived - before.bytesReceived).toBeLessThan(64 * 1024);
  });

  it('does not hash a renamed large file again on the receiver, even when the mtime it set reads back rounded', async () => {
    const reads = new Map<string, number>();
    const a = await cluster.add('a');
    const b = await cluster.add('b', { peers: ['a'], fileSystem: new CountingFileSystem(reads) });
    const data = randomBytes(2 * 1024 * 1024);
    await writeFile(join(a.dir, 'big.bin'), data);
    // An mtime that utimes rounds down by a nanosecond on each round trip through a double.
    const mtime = new Date('2022-05-06T07:08:09.123Z');
    await utimes(join(a.dir, 'big.bin'), mtime, mtime);
    await waitFor(async () => (await exists(join(b.dir, 'big.bin'))) && (await cluster.converged()), 'the big file');
    await rename(join(a.dir, 'big.bin'), join(a.dir, 'moved.bin'));
    await waitFor(async () => (await exists(join(b.dir, 'moved.bin'))) && !(await exists(join(b.dir, 'big.bin'))), 'the rename');
    await b.node.whenIdle();
    // A restart scans every file: one whose fingerprint is off would be read and hashed here.
    await cluster.stop('b');
    const restarted = await cluster.restart('b', [], { fileSystem: new CountingFileSystem(reads) });
    await restarted.node.whenIdle();
    expect(reads.get(join(b.dir, 'moved.bin')) ?? 0).toBe(0);
    expect((await readFile(join(b.dir, 'moved.bin'))).equals(data)).toBe(true);
  });

  it('takes a deleted large file back from the versions dir when its content reappears at another path (the delete of a rename came first)', async () => {
    const a = await cluster.add('a');
    const b = await cluster.add('b', { peers: ['a'] });
    const data = randomBytes(2 * 1024 * 1024);
    await writeFile(join(a.dir, 'big.bin'), data);
    await waitFor(async () => (await exists(join(b.dir, 'big.bin'))) && (await cluster.converged()), 'the big file');
    const inode = (await stat(join(b.dir, 'big.bin'))).ino;
    await rm(join(a.dir, 'big.bin'));
    await waitFor(async () => (await readdir(join(b.dir, '.sync', 'versions')).catch(() => [])).length === 1, 'the delete kept as a version on b');
    const before = b.node.status();
    await writeFile(join(a.dir, 'again.bin'), data);
    await waitFor(async () => (await readFile(join(b.dir, 'again.bin')).catch(() => null))?.equals(data) ?? false, 'the same content at a new path');
    expect((await stat(join(b.dir, 'again.bin'))).ino).toBe(inode);
    expect(await readdir(join(b.dir, '.sync', 'versions'))).toEqual([]);
    expect(b.node.status().bytesReceived - before.bytesReceived).toBe(0);
  });

  it('does not replace a file the user writes while the replaced version is being kept', async () => {
    let armed = false;
    // Stands for a user who saves the file just as the puller, about to replace it, keeps its old version.
    class RacingFileSystem extends NodeFileSystem {
      override async link(existing: string, newPath: string): Promise<void> {
        await super.link(existing, newPath);
        if (armed && existing.endsWith('/notes.txt')) {
          armed = false;
          writeFileSync(existing, 'written on b while the pull committed');
        }
      }
    }
    const a = await cluster.add('a');
    const b = await cluster.add('b', { peers: ['a'], fileSystem: new RacingFileSystem() });
    await writeFile(join(a.dir, 'notes.txt'), 'first');
    await waitFor(async () => (await contentOf(join(b.dir, 'notes.txt'))) === 'first' && (await cluster.converged()), 'the first version');
    armed = true;
    await writeFile(join(a.dir, 'notes.txt'), 'edited on a');
    await waitFor(() => cluster.converged(), 'convergence');
    expect(armed).toBe(false);
    const contents = await Promise.all((await readdir(b.dir)).filter((name) => name.startsWith('notes')).map((name) => contentOf(join(b.dir, name))));
    expect(contents).toContain('written on b while the pull committed');
    expect(contents).toContain('edited on a');
  });

  it('keeps a local edit that lands while a rename arrives: the old file is not moved, the edit survives', async () => {
    let armed = false;
    const edit = randomBytes(3000);
    // Stands for a user who saves the old path just as the puller checks it before moving it.
    class RacingFileSystem extends NodeFileSystem {
      override lstat(path: string): ReturnType<NodeFileSystem['lstat']> {
        if (armed && path.endsWith(`${'/'}big.bin`) && !path.includes('moved')) {
          armed = false;
          writeFileSync(path, edit);
        }
        return super.lstat(path);
      }
    }
    const a = await cluster.add('a');
    const b = await cluster.add('b', { peers: ['a'], fileSystem: new RacingFileSystem() });
    const data = randomBytes(2 * 1024 * 1024);
    await writeFile(join(a.dir, 'big.bin'), data);
    await waitFor(async () => (await exists(join(b.dir, 'big.bin'))) && (await cluster.converged()), 'the big file');
    await mkdir(join(a.dir, 'moved'));
    armed = true;
    await rename(join(a.dir, 'big.bin'), join(a.dir, 'moved/big.bin'));
    await waitFor(async () => (await readFile(join(b.dir, 'moved/big.bin')).catch(() => null))?.equals(data) ?? false, 'the renamed file on b');
    await waitFor(() => cluster.converged(), 'convergence');
    expect(armed).toBe(false);
    // The edit made on b is on both nodes, at its own path (a change beats the delete).
    expect((await readFile(join(b.dir, 'big.bin'))).equals(edit)).toBe(true);
    expect((await readFile(join(a.dir, 'big.bin'))).equals(edit)).toBe(true);
    expect((await readFile(join(a.dir, 'moved/big.bin'))).equals(data)).toBe(true);
  });

  it('shrinks a large file from its local copy: the kept blocks are not sent again', async () => {
    const [a, b] = await cluster.mesh(['a', 'b']);
    const data = randomBytes(8 * 1024 * 1024);
    await writeFile(join(a!.dir, 'big.bin'), data);
    await waitFor(() => cluster.converged(), 'the big file');
    const before = b!.node.status().bytesReceived;
    const shorter = Buffer.concat([data.subarray(0, 6 * 1024 * 1024 - 100), randomBytes(50)]);
    await writeFile(join(a!.dir, 'big.bin'), shorter);
    await waitFor(async () => (await readFile(join(b!.dir, 'big.bin'))).equals(shorter), 'the shorter file');
    expect(b!.node.status().bytesReceived - before).toBeLessThanOrEqual(128 * 1024);
  });

  it('sends only the changed blocks of a large file', async () => {
    const [a, b] = await cluster.mesh(['a', 'b']);
    const data = randomBytes(8 * 1024 * 1024);
    await writeFile(join(a!.dir, 'big.bin'), data);
    await waitFor(() => cluster.converged(), 'the big file');
    const before = b!.node.status().bytesReceived;
    randomBytes(1000).copy(data, 3 * 1024 * 1024);
    await writeFile(join(a!.dir, 'big.bin'), data);
    await waitFor(async () => (await readFile(join(b!.dir, 'big.bin'))).equals(data), 'the edit');
    expect(b!.node.status().bytesReceived - before).toBeLessThanOrEqual(2 * 128 * 1024);
  });

  it('hashes a file of 64 MiB or more through the two-thread hasher, and it arrives intact; an edit sends only its blocks', async () => {
    const hashed: string[] = [];
    const a = await cluster.add('a', { fileSystem: new CountingFileSystem(new Map(), hashed) });
    const b = await cluster.add('b', { peers: ['a'] });
    const data = randomBytes(parallelHashMinBytes + 1000);
    await writeFile(join(a.dir, 'huge.bin'), data);
    await waitFor(async () => (await readFile(join(b.dir, 'huge.bin')).catch(() => null))?.equals(data) ?? false, 'the huge file', 60_000);
    expect(hashed).toEqual([join(a.dir, 'huge.bin')]);
    const before = b.node.status().bytesReceived;
    randomBytes(1000).copy(data, 40 * 1024 * 1024);
    await writeFile(join(a.dir, 'huge.bin'), data);
    await waitFor(async () => (await readFile(join(b.dir, 'huge.bin'))).equals(data), 'the edit', 60_000);
    expect(hashed.length).toBeGreaterThanOrEqual(2);
    // 64 MiB files have 128 KiB blocks: the edit spans at most two.
    expect(b.node.status().bytesReceived - before).toBeLessThanOrEqual(2 * 128 * 1024);
  });

  it('crosses a chain: a–b–c with no a–c link', async () => {
    const a = await cluster.add('a');
    const b = await cluster.add('b', { peers: ['a'] });
    const c = await cluster.add('c', { peers: ['b'] });
    await waitFor(() => b.node.status().peers.length === 2, 'b linked to both');
    await writeFile(join(a.dir, 'from-a.txt'), 'hop hop');
    await writeFile(join(c.dir, 'from-c.txt'), 'back');
    await waitFor(async () => (await contentOf(join(c.dir, 'from-a.txt'))) === 'hop hop' && (await contentOf(join(a.dir, 'from-c.txt'))) === 'back', 'two hops');
    await rm(join(a.dir, 'from-a.txt'));
    await waitFor(async () => !(await exists(join(c.dir, 'from-a.txt'))), 'the delete over two hops');
    expect(a.node.status().peers.map((p) => p.nodeId)).toEqual(['b']);
  });

  it('catches up after being offline, and does not resurrect files deleted meanwhile', async () => {
    const [a, b] = await cluster.mesh(['a', 'b']);
    await writeFile(join(a!.dir, 'keep.txt'), 'keep');
    await writeFile(join(a!.dir, 'doomed.txt'), 'doomed');
    await waitFor(() => cluster.converged(), 'initial sync');
    await cluster.stop('b');
    await rm(join(a!.dir, 'doomed.txt'));
    await writeFile(join(a!.dir, 'new.txt'), 'made while b was away');
    await rm(join(b!.dir, 'keep.txt')); // deleted on b while its node was down
    await cluster.restart('b', ['a']);
    await waitFor(async () => (await contentOf(join(b!.dir, 'new.txt'))) === 'made while b was away', 'catch-up');
    await waitFor(async () => !(await exists(join(a!.dir, 'keep.txt'))), 'the offline delete to propagate');
    await waitFor(() => cluster.converged(), 'convergence');
    expect(await exists(join(b!.dir, 'doomed.txt'))).toBe(false);
    expect(await exists(join(a!.dir, 'doomed.txt'))).toBe(false);
  });

  it('resolves a three-way concurrent edit the same way on every node', async () => {
    const [a, b, c] = await cluster.mesh(['a', 'b', 'c']);
    await writeFile(join(a!.dir, 'doc.txt'), 'base');
    await waitFor(() => cluster.converged(), 'base');
    await Promise.all(['a', 'b', 'c'].map((n) => cluster.stop(n)));
    for (const [i, node] of [a!, b!, c!].entries()) {
      await writeFile(join(node.dir, 'doc.txt'), `edit ${node.name}`);
      const t = new Date(Date.UTC(2030, 0, 1, 0, 0, i));
      await utimes(join(node.dir, 'doc.txt'), t, t);
    }
    await cluster.restart('a', []);
    await cluster.restart('b', ['a']);
    await cluster.restart('c', ['a', 'b']);
    await waitFor(async () => (await conflictCopies(a!.dir)).length === 2 && (await cluster.converged()), 'convergence with two copies', 30_000);
    expect(await contentOf(join(b!.dir, 'doc.txt'))).toBe('edit c');
    const copies = (await conflictCopies(c!.dir)).sort();
    expect(copies.map((name) => name.replace(/\d{8}-\d{6}/, 'T'))).toEqual(['doc.sync-conflict-T-a.txt', 'doc.sync-conflict-T-b.txt']);
  });

  it('merges folders that already hold files when nodes first meet', async () => {
    const dirA = cluster.dirOf('a');
    const dirB = cluster.dirOf('b');
    await mkdir(join(dirA, 'sub'), { recursive: true });
    await mkdir(join(dirB, 'sub'), { recursive: true });
    await writeFile(join(dirA, 'sub/same.txt'), 'same');
    await writeFile(join(dirB, 'sub/same.txt'), 'same');
    await writeFile(join(dirA, 'only-a.txt'), 'a');
    await writeFile(join(dirB, 'only-b.txt'), 'b');
    await writeFile(join(dirA, 'differs.txt'), 'version a');
    await writeFile(join(dirB, 'differs.txt'), 'version b');
    await cluster.add('a');
    await cluster.add('b', { peers: ['a'] });
    await waitFor(async () => (await conflictCopies(dirA)).length === 1 && (await cluster.converged()), 'merged folders');
    const tree = await readTree(dirA);
    expect(Object.keys(tree).filter((p) => !p.includes('sync-conflict')).sort()).toEqual(['differs.txt', 'only-a.txt', 'only-b.txt', 'sub', 'sub/same.txt']);
    expect(await conflictCopies(join(dirA, 'sub'))).toEqual([]);
  });

  it('rejoins after its state dir was wiped without deleting or duplicating anything', async () => {
    const [a, b] = await cluster.mesh(['a', 'b']);
    await writeFile(join(a!.dir, 'one.txt'), '1');
    await writeFile(join(b!.dir, 'two.txt'), '2');
    await waitFor(() => cluster.converged(), 'initial sync');
    await cluster.stop('b');
    await rm(join(b!.dir, '.sync'), { recursive: true });
    await cluster.restart('b', ['a']);
    await writeFile(join(a!.dir, 'three.txt'), '3');
    await waitFor(async () => (await contentOf(join(b!.dir, 'three.txt'))) === '3', 'sync after rejoin');
    await waitFor(() => cluster.converged(), 'convergence');
    expect(Object.keys(await readTree(a!.dir)).sort()).toEqual(['one.txt', 'three.txt', 'two.txt']);
  });

  it('keeps files matched by .syncignore local, and syncs them once the rule is removed', async () => {
    const [a, b] = await cluster.mesh(['a', 'b']);
    await writeFile(join(a!.dir, '.syncignore'), '*.log\n');
    await waitFor(() => exists(join(b!.dir, '.syncignore')), 'the rules file itself to sync');
    await writeFile(join(a!.dir, 'debug.log'), 'local only');
    await writeFile(join(a!.dir, 'notes.txt'), 'shared');
    await waitFor(() => exists(join(b!.dir, 'notes.txt')), 'the shared file');
    await a!.node.whenIdle();
    expect(await exists(join(b!.dir, 'debug.log'))).toBe(false);

    await writeFile(join(a!.dir, '.syncignore'), '');
    await waitFor(async () => (await contentOf(join(b!.dir, 'debug.log'))) === 'local only', 'the formerly ignored file');
  });

  it('does not echo files it wrote itself back as new local changes', async () => {
    const [a, b] = await cluster.mesh(['a', 'b']);
    const localChanges: string[] = [];
    b!.node.on('local-change', (event) => localChanges.push(event.path));
    for (let i = 0; i < 20; i++) await writeFile(join(a!.dir, `f${i}.txt`), `content ${i}`);
    await waitFor(() => cluster.converged(), 'sync');
    await writeFile(join(b!.dir, 'sentinel.txt'), 'from b');
    await waitFor(() => localChanges.includes('sentinel.txt'), 'the sentinel scan');
    expect(localChanges).toEqual(['sentinel.txt']);
  });

  it('asks a peer only for what changed while it was down, from the index of that peer it saved at its stop', async () => {
    const [a, b] = await cluster.mesh(['a', 'b']);
    const count = 40;
    for (let i = 0; i < count; i++) await writeFile(join(a!.dir, `f${i}.txt`), `file ${i}`);
    await waitFor(() => cluster.converged(), 'initial sync');
    expect(b!.node.status().recordsReceived).toBeGreaterThanOrEqual(count);
    await cluster.stop('b');
    expect(await exists(join(b!.dir, '.sync', 'peers', 'a.index'))).toBe(true);
    await writeFile(join(a!.dir, 'f0.txt'), 'changed while b was down');
    await rm(join(a!.dir, 'f1.txt'));
    await writeFile(join(a!.dir, 'new.txt'), 'made while b was down');
    await waitFor(() => a!.node.status().files === count, 'a to index its changes');
    const restarted = await cluster.restart('b', ['a']);
    await waitFor(() => cluster.converged(), 'catch-up');
    expect(await contentOf(join(b!.dir, 'f0.txt'))).toBe('changed while b was down');
    expect(await exists(join(b!.dir, 'f1.txt'))).toBe(false);
    // The three changes, not a's whole index of 41 records.
    expect(restarted.node.status().recordsReceived).toBeGreaterThanOrEqual(3);
    expect(restarted.node.status().recordsReceived).toBeLessThan(10);
  });

  it('writes a peer\'s saved index again at a stop only when that peer sent something since it was restored', async () => {
    const [a, b] = await cluster.mesh(['a', 'b']);
    await writeFile(join(a!.dir, 'one.txt'), '1');
    await waitFor(() => cluster.converged(), 'initial sync');
    const saved = join(b!.dir, '.sync', 'peers', 'a.index');
    const inodeOf = async (): Promise<number> => (await stat(saved)).ino;
    await cluster.stop('b');
    const first = await inodeOf();

    let restarted = await cluster.restart('b', ['a']);
    await waitFor(() => restarted.node.status().peers.length === 1 && restarted.node.status().pendingPaths === 0, 'b caught up');
    await cluster.stop('b');
    expect(await inodeOf()).toBe(first);

    restarted = await cluster.restart('b', ['a']);
    await writeFile(join(a!.dir, 'two.txt'), '2');
    await waitFor(async () => (await contentOf(join(b!.dir, 'two.txt'))) === '2', 'two.txt on b');
    await cluster.stop('b');
    expect(await inodeOf()).not.toBe(first);
  });

  it('asks for a whole index again when the saved one does not hold: the peer\'s index started over, or the file is unreadable', async () => {
    const [a, b] = await cluster.mesh(['a', 'b']);
    const count = 20;
    for (let i = 0; i < count; i++) await writeFile(join(a!.dir, `f${i}.txt`), `file ${i}`);
    await waitFor(() => cluster.converged(), 'initial sync');
    await cluster.stop('b');
    await cluster.stop('a');
    await rm(join(a!.dir, '.sync'), { recursive: true });
    await cluster.restart('a', []);
    let restarted = await cluster.restart('b', ['a']);
    await waitFor(() => restarted.node.status().recordsReceived >= count, 'a\'s new index, whole');
    await waitFor(() => cluster.converged(), 'convergence');
    expect(Object.keys(await readTree(b!.dir)).length).toBe(count);
    expect(await conflictCopies(b!.dir)).toEqual([]);

    await cluster.stop('b');
    await writeFile(join(b!.dir, '.sync', 'peers', 'a.index'), 'not an index\n');
    await writeFile(join(a!.dir, 'late.txt'), 'late');
    restarted = await cluster.restart('b', ['a']);
    await waitFor(async () => (await contentOf(join(b!.dir, 'late.txt'))) === 'late' && (await cluster.converged()), 'catch-up');
    expect(restarted.node.status().recordsReceived).toBeGreaterThanOrEqual(count + 1);
  });

  it('never shows a partial file, and finishes an interrupted transfer after a restart', async () => {
    const [a, b] = await cluster.mesh(['a', 'b']);
    const data = randomBytes(24 * 1024 * 1024);
    let sawPartial = false;
    const watch = setInterval(() => {
      void stat(join(b!.dir, 'huge.bin')).then(
        (s) => {
          if (s.size !== data.length) sawPartial = true;
        },
        () => {},
      );
    }, 5);
    try {
      let progressSeen = false;
      b!.node.on('progress', () => (progressSeen = true));
      b!.node.on('file-synced', () => {});
      await writeFile(join(a!.dir, 'huge.bin'), data);
      await waitFor(() => b!.node.status().transfersInFlight > 0 || progressSeen, 'the transfer to start');
      await cluster.stop('b');
      // Stopped mid-transfer (or just after it finished): either no file or the whole file.
      const afterStop = await stat(join(b!.dir, 'huge.bin')).catch(() => null);
      expect(afterStop === null || afterStop.size === data.length).toBe(true);
      await cluster.restart('b', ['a']);
      await waitFor(async () => (await stat(join(b!.dir, 'huge.bin')).catch(() => null))?.size === data.length, 'the resumed transfer');
      expect((await readFile(join(b!.dir, 'huge.bin'))).equals(data)).toBe(true);
      expect(await tempFiles(b!.dir)).toEqual([]);
    } finally {
      clearInterval(watch);
    }
    expect(sawPartial).toBe(false);
  });
});
