import { describe, expect, it } from 'vitest';
import type { Emitter } from './emitter';
import type { SyncEvents } from './events';
import type { LocalIndex } from './local-index';
import { Scanner, scanChainMsMax, walkEntriesPerTurn } from './scanner';
import { engineContextOn } from './testing/engine-context';
import { ManualClock, MemoryFileSystem } from './testing/index';

// The scanner with a filesystem whose every call resolves at once, as small files' I/O does inline.
function scannerOn(memory: MemoryFileSystem, clock = new ManualClock()): { scanner: Scanner; index: LocalIndex; events: Emitter<SyncEvents> } {
  const ctx = engineContextOn(memory.mount(), clock);
  return { scanner: new Scanner(ctx, { quietPeriodMs: 0, scansInFlightMax: 4, progressIntervalMs: 250 }), index: ctx.index, events: ctx.events };
}

/** `files` files, 64 to a directory (the memory filesystem slows down on huge directories). */
function folderOf(files: number): MemoryFileSystem {
  const memory = new MemoryFileSystem();
  memory.userMkdirp('/state');
  for (let i = 0; i < files; i++) {
    const dir = `/data/d${Math.floor(i / 64)}`;
    if (i % 64 === 0) memory.userMkdirp(dir);
    memory.userWrite(`${dir}/f${i}`, new TextEncoder().encode(`file ${i}`));
  }
  return memory;
}

const nextTurn = (): Promise<unknown> => new Promise((resolve) => setImmediate(resolve));

describe('Scanner', () => {
  it('scans a path the engine is writing once it is released, with no timer armed meanwhile', async () => {
    const memory = folderOf(1);
    const clock = new ManualClock();
    const ctx = engineContextOn(memory.mount(), clock);
    const scanner = new Scanner(ctx, { quietPeriodMs: 10, scansInFlightMax: 4, progressIntervalMs: 250 });
    ctx.busy.add('d0/f0');
    // The watcher's report of the engine's own write comes while the write is still busy.
    scanner.schedule('d0/f0');
    expect(clock.pendingTimers).toBe(0);
    clock.advance(10);
    await nextTurn();
    expect(clock.pendingTimers).toBe(0);
    clock.advance(1000);
    await nextTurn();
    expect(ctx.index.get('d0/f0')).toBeUndefined();
    let idle = false;
    void scanner.whenIdle().then(() => (idle = true));
    await nextTurn();
    expect(idle).toBe(false);
    ctx.busy.delete('d0/f0');
    await scanner.whenIdle();
    expect(idle).toBe(true);
    expect(ctx.index.get('d0/f0')).toMatchObject({ type: 'file', size: 'file 0'.length });
  });

  it('lets the event loop turn during a burst of files whose I/O completes at once', async () => {
    const files = 10 * scanChainMsMax;
    // Each look at the clock takes a millisecond, as if every scan did.
    const clock = new ManualClock();
    let elapsedMs = 0;
    clock.now = () => ++elapsedMs;
    const { scanner, index } = scannerOn(folderOf(files), clock);
    for (let i = 0; i < files; i++) scanner.enqueue(`d${Math.floor(i / 64)}/f${i}`);
    // One turn later: before, every scan had run as one chain of microtasks, with timers, sockets
    // and announcements waiting for the last.
    await nextTurn();
    const afterOneTurn = index.totals().files;
    expect(afterOneTurn).toBeGreaterThan(0);
    expect(afterOneTurn).toBeLessThan(files);
    await scanner.whenIdle();
    expect(index.totals().files).toBe(files);
  });

  it('lets the event loop turn while it walks a large tree of unchanged files', async () => {
    const files = 4 * walkEntriesPerTurn;
    const { scanner, index } = scannerOn(folderOf(files));
    await scanner.scanFolder();
    await scanner.whenIdle();
    expect(index.totals().files).toBe(files);
    const sequence = index.sequence;
    let walked = false;
    const walk = scanner.scanFolder().then(() => {
      walked = true;
    });
    await nextTurn();
    expect(walked).toBe(false);
    await walk;
    // Nothing changed, so nothing was published.
    expect(index.sequence).toBe(sequence);
  });

  it('lists each directory once in a cold walk, though scanning a new directory walks it when no folder walk will', async () => {
    const memory = folderOf(640);
    memory.userMkdirp('/data/d3/deeper/deepest');
    memory.userWrite('/data/d3/deeper/deepest/f', new TextEncoder().encode('deep'));
    const mounted = memory.mount();
    const listed: string[] = [];
    const fs = { ...mounted, readdir: (path: string) => (listed.push(path), mounted.readdir(path)) };
    const ctx = engineContextOn(fs, new ManualClock());
    const scanner = new Scanner(ctx, { quietPeriodMs: 0, scansInFlightMax: 4, progressIntervalMs: 250 });
    await scanner.scanFolder();
    expect(ctx.index.totals()).toMatchObject({ files: 641, directories: 12 });
    expect(listed.length).toBe(13);
    expect(new Set(listed).size).toBe(13);

    // Moved in whole while no folder walk runs: its scan walks it, or its file would go unseen.
    memory.userMkdirp('/elsewhere/moved/sub');
    memory.userWrite('/elsewhere/moved/sub/g', new TextEncoder().encode('moved'));
    memory.userRename('/elsewhere/moved', '/data/moved');
    scanner.enqueue('moved');
    await scanner.whenIdle();
    expect(ctx.index.get('moved/sub/g')?.type).toBe('file');
  });

  it('reports a hash that outlasts the progress interval as it goes and when it ends, and a quick one not at all', async () => {
    const memory = new MemoryFileSystem();
    memory.userMkdirp('/state');
    memory.userMkdirp('/data');
    const bigBytes = 5 * 128 * 1024;
    memory.userWrite('/data/big', new Uint8Array(bigBytes).fill(7));
    memory.userWrite('/data/small', new TextEncoder().encode('small'));
    // Every look at the clock is 100 ms later: the five blocks take longer than the 250 ms interval.
    const clock = new ManualClock();
    let elapsedMs = 0;
    clock.now = () => (elapsedMs += 100);
    const { scanner, index, events } = scannerOn(memory, clock);
    const seen: [string, number, number][] = [];
    events.on('hash-progress', (event) => seen.push([event.path, event.bytesDone, event.bytesTotal]));
    scanner.enqueue('big');
    scanner.enqueue('small');
    await scanner.whenIdle();
    expect(index.get('big')?.size).toBe(bigBytes);
    expect(index.get('small')?.size).toBe(5);
    expect(seen.every(([path, , total]) => path === 'big' && total === bigBytes)).toBe(true);
    const done = seen.map(([, bytesDone]) => bytesDone);
    expect(done.length).toBeGreaterThanOrEqual(2);
    expect(done.some((bytes) => bytes < bigBytes)).toBe(true);
    expect(done.at(-1)).toBe(bigBytes);
    expect([...done].sort((a, b) => a - b)).toEqual(done);
  });

  it('gives new files one shared first version, and an edited file a vector of its own', async () => {
    const memory = folderOf(3);
    const { scanner, index } = scannerOn(memory);
    await scanner.scanFolder();
    await scanner.whenIdle();
    const first = index.get('d0/f0')!.version;
    expect(first).toEqual({ n1: 1 });
    expect(index.get('d0/f1')!.version).toBe(first);
    expect(index.get('d0/f2')!.version).toBe(first);
    memory.userWrite('/data/d0/f1', new TextEncoder().encode('edited'));
    scanner.enqueue('d0/f1');
    await scanner.whenIdle();
    expect(index.get('d0/f1')!.version).toEqual({ n1: 2 });
    expect(index.get('d0/f0')!.version).toEqual({ n1: 1 });
  });

  describe('a file whose bytes and mtime are as indexed under a new inode', () => {
    const bytes = new TextEncoder().encode('the version the user keeps');
    const mtimeMs = 1_700_000_000_000;

    /** `f` and `f.copy` indexed with the same bytes and mtime, each its own inode. */
    async function indexedPair(): Promise<{ memory: MemoryFileSystem; scanner: Scanner; index: LocalIndex }> {
      const memory = new MemoryFileSystem();
      memory.userMkdirp('/state');
      memory.userMkdirp('/data');
      for (const name of ['f', 'f.copy']) {
        memory.userWrite(`/data/${name}`, bytes);
        memory.userTouch(`/data/${name}`, mtimeMs);
      }
      const { scanner, index } = scannerOn(memory);
      await scanner.scanFolder();
      await scanner.whenIdle();
      expect(index.get('f')!.disk!.ino).not.toBe(index.get('f.copy')!.disk!.ino);
      return { memory, scanner, index };
    }

    it('is a new version when an indexed file with those bytes was moved over it', async () => {
      const { memory, scanner, index } = await indexedPair();
      const before = index.get('f')!;
      const copyIno = index.get('f.copy')!.disk!.ino;
      memory.userRename('/data/f.copy', '/data/f');
      scanner.enqueue('f');
      await scanner.whenIdle();
      const after = index.get('f')!;
      expect(after.disk!.ino).toBe(copyIno);
      expect(after.hash).toBe(before.hash);
      // The user's choice outranks what the index held: a peer's newer version no longer does.
      expect(after.version).toEqual({ n1: 2 });
      expect(after.sequence).toBeGreaterThan(before.sequence);
    });

    it("is a new version when the moved file's delete was scanned first", async () => {
      const { memory, scanner, index } = await indexedPair();
      memory.userRename('/data/f.copy', '/data/f');
      scanner.enqueue('f.copy');
      await scanner.whenIdle();
      expect(index.get('f.copy')!.deleted).toBe(true);
      scanner.enqueue('f');
      await scanner.whenIdle();
      expect(index.get('f')!.version).toEqual({ n1: 2 });
    });

    it('is the same version when the new inode is no indexed file that vanished (a restore, another mount)', async () => {
      const { memory, scanner, index } = await indexedPair();
      const before = index.get('f')!;
      memory.userRemove('/data/f');
      memory.userWrite('/data/f', bytes);
      memory.userTouch('/data/f', mtimeMs);
      scanner.enqueue('f');
      await scanner.whenIdle();
      const after = index.get('f')!;
      expect(after.disk!.ino).not.toBe(before.disk!.ino);
      expect(after.version).toBe(before.version);
      expect(after.sequence).toBe(before.sequence);
    });
  });
});
