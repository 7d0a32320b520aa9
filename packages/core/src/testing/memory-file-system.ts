import { createHash } from 'node:crypto';
import type { EntryType, FileStat, FileSystem, ReadHandle, WriteHandle } from '../ports';

/** An errno-style error, recognised by the engine through its `code` like a Node error. */
export class MemoryFsError extends Error {
  override readonly name = 'MemoryFsError';
  constructor(
    readonly code: string,
    operation: string,
    path: string,
  ) {
    super(`${code}: ${operation} ${path}`);
  }
}

type InodeType = 'file' | 'dir' | 'symlink';

interface Inode {
  readonly id: number;
  readonly type: InodeType;
  mode: number;
  mtimeMs: number;
  data: Uint8Array;
  target: string;
  entries: Map<string, Inode>;
  /** What survives a crash: file data and metadata as of the last fsync, a directory's entries as of its last syncDir. */
  durable: { data: Uint8Array; mode: number; mtimeMs: number; entries: Map<string, Inode> };
}

/** Who made a file's content visible at a path: the test's user, the engine (through the port), or a crash. */
export type VisibilityActor = 'user' | 'engine' | 'crash';

export interface VisibleContent {
  path: string;
  /** SHA-256 of the bytes that became readable at `path`. */
  hash: string;
  size: number;
  actor: VisibilityActor;
  operation: string;
}

export interface TreeEntry {
  type: InodeType;
  /** SHA-256 of a file's bytes. */
  hash?: string;
  size?: number;
  mode?: number;
  /** A file's mtime (directories' change with their children and are not synced). */
  mtimeMs?: number;
  target?: string;
}

export type MemoryFsChange = { kind: 'add' | 'change' | 'unlink' | 'addDir' | 'unlinkDir'; path: string };

export interface MemoryFileSystemOptions {
  /** Source of mtimes (a node's skewed clock in the simulator). */
  now?: () => number;
  /** Which absolute paths count as user-visible synced places for `visible` (default: every path). */
  isSynced?: (path: string) => boolean;
}

const emptyBytes = new Uint8Array(0);

export function hashBytes(data: Uint8Array): string {
  return createHash('sha256').update(data).digest('hex');
}

function split(path: string): string[] {
  if (!path.startsWith('/')) throw new MemoryFsError('EINVAL', 'resolve (paths must be absolute)', path);
  return path.split('/').filter((segment) => segment !== '' && segment !== '.');
}

function parentOf(path: string): string {
  const segments = split(path);
  return `/${segments.slice(0, -1).join('/')}`;
}

function nameOf(path: string): string {
  const segments = split(path);
  return segments[segments.length - 1] ?? '';
}

function isUnder(path: string, dir: string): boolean {
  return dir === '/' ? true : path === dir || path.startsWith(`${dir}/`);
}

/**
 * An in-memory POSIX-like filesystem that models durability. Every change lands in a volatile
 * view; `sync()` of a handle makes that file's bytes and metadata durable, `syncDir()` makes a
 * directory's entries durable, `writeFileAtomic` is durable on return. `crash()` throws the
 * volatile view away, so a missing fsync in the engine shows up as lost or partial data.
 *
 * The `user*` helpers act like a user who saves and syncs: they change both views at once.
 * Every path written and every content made visible is recorded for the simulator's invariants.
 */
export class MemoryFileSystem implements FileSystem {
  private nextIno = 1;
  private readonly root: Inode;
  private readonly now: () => number;
  private readonly isSynced: (path: string) => boolean;
  private epochCounter = 0;
  private mtimeTick = 0;
  private readonly changeListeners = new Set<(change: MemoryFsChange) => void>();
  /** Every absolute path an operation created, changed, renamed or removed. */
  readonly writtenPaths = new Set<string>();
  /** Every file content made readable at a path, in order. */
  readonly visible: VisibleContent[] = [];
  /** Mutating operations so far (the simulator watches it for quiescence). */
  mutations = 0;
  /** Every operation so far, reads included (the simulator watches it to know when the engine settled). */
  operations = 0;

  constructor(options: MemoryFileSystemOptions = {}) {
    this.now = options.now ?? (() => 0);
    this.isSynced = options.isSynced ?? (() => true);
    this.root = this.newInode('dir', 0o755);
    this.root.durable.entries = new Map();
  }

  /** Increments at every crash; views mounted before it stop working. */
  get epoch(): number {
    return this.epochCounter;
  }

  /** A FileSystem for one process lifetime: after `crash()` its operations fail with EIO and change nothing. */
  mount(): FileSystem {
    const epoch = this.epochCounter;
    const guard = <T>(run: () => Promise<T>): Promise<T> =>
      this.epochCounter === epoch ? run() : Promise.reject(new MemoryFsError('EIO', 'use after crash', ''));
    const guardHandle = <H extends ReadHandle | WriteHandle>(handle: H): H => {
      const wrapped: Record<string, unknown> = {};
      for (const key of Object.keys(handle) as (keyof H)[]) {
        const fn = handle[key] as unknown as (...args: unknown[]) => Promise<unknown>;
        wrapped[key as string] = (...args: unknown[]) => guard(() => fn(...args));
      }
      return wrapped as H;
    };
    return {
      lstat: (p) => guard(() => this.lstat(p)),
      readdir: (p) => guard(() => this.readdir(p)),
      mkdir: (p, m) => guard(() => this.mkdir(p, m)),
      rmdir: (p) => guard(() => this.rmdir(p)),
      unlink: (p) => guard(() => this.unlink(p)),
      rename: (a, b) => guard(() => this.rename(a, b)),
      link: (a, b) => guard(() => this.link(a, b)),
      copyFile: (a, b) => guard(() => this.copyFile(a, b)),
      symlink: (t, p) => guard(() => this.symlink(t, p)),
      readlink: (p) => guard(() => this.readlink(p)),
      chmod: (p, m) => guard(() => this.chmod(p, m)),
      utimes: (p, t) => guard(() => this.utimes(p, t)),
      openRead: (p) => guard(async () => guardHandle(await this.openRead(p))),
      openWrite: (p) => guard(async () => guardHandle(await this.openWrite(p))),
      openUpdate: (p) => guard(async () => guardHandle(await this.openUpdate(p))),
      openAppend: (p) => guard(async () => guardHandle(await this.openAppend(p))),
      truncate: (p, l) => guard(() => this.truncate(p, l)),
      readFile: (p) => guard(() => this.readFile(p)),
      writeFileAtomic: (p, d) => guard(() => this.writeFileAtomic(p, d)),
      syncDir: (p) => guard(() => this.syncDir(p)),
      removeTree: (p) => guard(() => this.removeTree(p)),
    };
  }

  /** Called synchronously for every change of an entry (as a watcher would report it). */
  onChange(listener: (change: MemoryFsChange) => void): () => void {
    this.changeListeners.add(listener);
    return () => this.changeListeners.delete(listener);
  }

  // ---- the FileSystem port (acts as 'engine') ----

  lstat(path: string): Promise<FileStat | null> {
    return this.op(() => {
      const found = this.lookup(path);
      return found ? this.statOf(found) : null;
    });
  }

  readdir(path: string): Promise<{ name: string; type: EntryType }[]> {
    return this.op(() => {
      const dir = this.dirAt(path, 'readdir');
      return [...dir.entries].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)).map(([name, inode]) => ({ name, type: inode.type }));
    });
  }

  mkdir(path: string, mode = 0o755): Promise<void> {
    return this.op(() => {
      const existing = this.lookup(path);
      if (existing) {
        if (existing.type === 'dir') return;
        throw new MemoryFsError('EEXIST', 'mkdir', path);
      }
      this.attach(path, this.newInode('dir', mode & 0o7777), 'mkdir', 'engine');
    });
  }

  rmdir(path: string): Promise<void> {
    return this.op(() => {
      const found = this.mustExist(path, 'rmdir');
      if (found.type !== 'dir') throw new MemoryFsError('ENOTDIR', 'rmdir', path);
      if (found.entries.size > 0) throw new MemoryFsError('ENOTEMPTY', 'rmdir', path);
      if (found === this.root) throw new MemoryFsError('EBUSY', 'rmdir', path);
      this.detach(path);
    });
  }

  unlink(path: string): Promise<void> {
    return this.op(() => {
      const found = this.mustExist(path, 'unlink');
      if (found.type === 'dir') throw new MemoryFsError('EISDIR', 'unlink', path);
      this.detach(path);
    });
  }

  rename(from: string, to: string): Promise<void> {
    return this.op(() => this.renameAs(from, to, 'engine'));
  }

  link(existing: string, newPath: string): Promise<void> {
    return this.op(() => {
      const found = this.mustExist(existing, 'link');
      if (found.type === 'dir') throw new MemoryFsError('EPERM', 'link', existing);
      if (this.lookup(newPath)) throw new MemoryFsError('EEXIST', 'link', newPath);
      this.attach(newPath, found, 'link', 'engine');
    });
  }

  copyFile(from: string, to: string): Promise<void> {
    return this.op(() => {
      const source = this.mustExist(from, 'copyFile');
      if (source.type !== 'file') throw new MemoryFsError('EISDIR', 'copyFile', from);
      const existing = this.lookup(to);
      if (existing) {
        if (existing.type !== 'file') throw new MemoryFsError('EISDIR', 'copyFile', to);
        existing.data = source.data.slice();
        existing.mtimeMs = this.stamp();
        this.touched(to, 'change', 'copyFile', 'engine', existing);
        return;
      }
      const copy = this.newInode('file', source.mode);
      copy.data = source.data.slice();
      this.attach(to, copy, 'copyFile', 'engine');
    });
  }

  symlink(target: string, path: string): Promise<void> {
    return this.op(() => {
      if (this.lookup(path)) throw new MemoryFsError('EEXIST', 'symlink', path);
      const link = this.newInode('symlink', 0o777);
      link.target = target;
      this.attach(path, link, 'symlink', 'engine');
    });
  }

  readlink(path: string): Promise<string> {
    return this.op(() => {
      const found = this.mustExist(path, 'readlink');
      if (found.type !== 'symlink') throw new MemoryFsError('EINVAL', 'readlink', path);
      return found.target;
    });
  }

  chmod(path: string, mode: number): Promise<void> {
    return this.op(() => {
      const found = this.mustExist(path, 'chmod');
      found.mode = mode & 0o7777;
      this.wrote(path);
    });
  }

  utimes(path: string, mtimeMs: number): Promise<void> {
    return this.op(() => {
      const found = this.mustExist(path, 'utimes');
      found.mtimeMs = mtimeMs;
      this.wrote(path);
    });
  }

  openRead(path: string): Promise<ReadHandle> {
    return this.op(() => {
      const inode = this.mustExist(path, 'open');
      if (inode.type === 'symlink') throw new MemoryFsError('ELOOP', 'open', path);
      if (inode.type === 'dir') throw new MemoryFsError('EISDIR', 'open', path);
      let closed = false;
      return {
        read: (buffer: Uint8Array, position: number) =>
          this.op(() => {
            if (closed) throw new MemoryFsError('EBADF', 'read', path);
            const chunk = inode.data.subarray(Math.min(position, inode.data.byteLength), Math.min(position + buffer.byteLength, inode.data.byteLength));
            buffer.set(chunk);
            return chunk.byteLength;
          }),
        close: () =>
          this.op(() => {
            closed = true;
          }),
      };
    });
  }

  openWrite(path: string): Promise<WriteHandle> {
    return this.op(() => {
      const inode = this.openForWriting(path, 'open');
      inode.data = emptyBytes;
      inode.mtimeMs = this.stamp();
      this.touched(path, 'change', 'truncate', 'engine', inode);
      return this.writeHandle(path, inode, false);
    });
  }

  openUpdate(path: string): Promise<WriteHandle> {
    return this.op(() => {
      const inode = this.mustExist(path, 'open');
      if (inode.type !== 'file') throw new MemoryFsError('EISDIR', 'open', path);
      return this.writeHandle(path, inode, false);
    });
  }

  openAppend(path: string): Promise<WriteHandle> {
    return this.op(() => this.writeHandle(path, this.openForWriting(path, 'open'), true));
  }

  truncate(path: string, length: number): Promise<void> {
    return this.op(() => {
      const inode = this.mustExist(path, 'truncate');
      if (inode.type !== 'file') throw new MemoryFsError('EISDIR', 'truncate', path);
      const data = new Uint8Array(length);
      data.set(inode.data.subarray(0, length));
      inode.data = data;
      inode.mtimeMs = this.stamp();
      this.touched(path, 'change', 'truncate', 'engine', inode);
    });
  }

  readFile(path: string): Promise<Uint8Array | null> {
    return this.op(() => {
      const found = this.lookup(path);
      if (!found) return null;
      if (found.type !== 'file') throw new MemoryFsError('EISDIR', 'read', path);
      return found.data.slice();
    });
  }

  writeFileAtomic(path: string, data: Uint8Array): Promise<void> {
    return this.op(() => {
      const inode = this.newInode('file', 0o600);
      inode.data = data.slice();
      this.makeFileDurable(inode);
      this.replace(path, inode, 'writeFileAtomic', 'engine');
      this.syncDirNow(parentOf(path));
    });
  }

  syncDir(path: string): Promise<void> {
    return this.op(() => this.syncDirNow(path));
  }

  removeTree(path: string): Promise<void> {
    return this.op(() => {
      if (!this.lookup(path)) return;
      this.detach(path);
    });
  }

  // ---- durability ----

  /** Power loss: every directory and file goes back to what was made durable. Mounted views die. */
  crash(): void {
    this.epochCounter++;
    this.mutations++;
    const seen = new Set<Inode>();
    const restore = (inode: Inode): void => {
      if (seen.has(inode)) return;
      seen.add(inode);
      inode.mode = inode.durable.mode;
      inode.mtimeMs = inode.durable.mtimeMs;
      if (inode.type === 'file') inode.data = inode.durable.data;
      if (inode.type === 'dir') {
        inode.entries = new Map(inode.durable.entries);
        for (const child of inode.entries.values()) restore(child);
      }
    };
    restore(this.root);
    // What a crash leaves readable counts as made visible by it.
    this.walkFiles('/', (path, inode) => this.recordVisible(path, inode, 'crash', 'crash'));
  }

  // ---- the test's user: durable at once, reported to watchers ----

  /** Creates or overwrites a file in place (parents created), as a user who saves and syncs. */
  userWrite(path: string, data: Uint8Array, mode?: number): void {
    this.userMkdirp(parentOf(path));
    let inode = this.lookup(path);
    if (inode && inode.type !== 'file') throw new MemoryFsError('EISDIR', 'write', path);
    if (!inode) {
      inode = this.newInode('file', mode ?? 0o644);
      inode.data = data.slice();
      this.makeFileDurable(inode);
      this.attach(path, inode, 'write', 'user');
      this.makePathDurable(path);
      return;
    }
    if (mode !== undefined) inode.mode = mode;
    inode.data = data.slice();
    inode.mtimeMs = this.stamp();
    this.makeFileDurable(inode);
    this.makePathDurable(path);
    this.touched(path, 'change', 'write', 'user', inode);
  }

  userAppend(path: string, data: Uint8Array): void {
    const inode = this.mustExist(path, 'append');
    if (inode.type !== 'file') throw new MemoryFsError('EISDIR', 'append', path);
    const joined = new Uint8Array(inode.data.byteLength + data.byteLength);
    joined.set(inode.data);
    joined.set(data, inode.data.byteLength);
    inode.data = joined;
    inode.mtimeMs = this.stamp();
    this.makeFileDurable(inode);
    this.touched(path, 'change', 'append', 'user', inode);
  }

  userChmod(path: string, mode: number): void {
    const inode = this.mustExist(path, 'chmod');
    inode.mode = mode;
    if (inode.type === 'file') this.makeFileDurable(inode);
    else inode.durable.mode = mode;
    this.wrote(path);
    this.emit({ kind: inode.type === 'dir' ? 'addDir' : 'change', path });
  }

  /** `touch -d`: a new mtime on the same bytes. */
  userTouch(path: string, mtimeMs: number): void {
    const inode = this.mustExist(path, 'utimes');
    inode.mtimeMs = mtimeMs;
    if (inode.type === 'file') this.makeFileDurable(inode);
    this.wrote(path);
    this.emit({ kind: inode.type === 'dir' ? 'addDir' : 'change', path });
  }

  /** `ln -sfn target path`: a new link, or an existing link pointed elsewhere (parents created). */
  userSymlink(path: string, target: string): void {
    this.userMkdirp(parentOf(path));
    const existing = this.lookup(path);
    if (existing && existing.type !== 'symlink') throw new MemoryFsError('EEXIST', 'symlink', path);
    if (existing) this.detach(path);
    const link = this.newInode('symlink', 0o777);
    link.target = target;
    this.attach(path, link, 'symlink', 'user');
    this.makePathDurable(path);
  }

  userMkdirp(path: string): void {
    let current = '';
    for (const segment of split(path)) {
      current = `${current}/${segment}`;
      const existing = this.lookup(current);
      if (existing?.type === 'dir') continue;
      if (existing) throw new MemoryFsError('ENOTDIR', 'mkdir', current);
      this.attach(current, this.newInode('dir', 0o755), 'mkdir', 'user');
    }
    this.makePathDurable(path);
  }

  /** Removes a file or a whole directory tree. */
  userRemove(path: string): void {
    if (!this.lookup(path)) throw new MemoryFsError('ENOENT', 'remove', path);
    this.detach(path);
    this.syncDirNow(parentOf(path));
  }

  userRename(from: string, to: string): void {
    this.userMkdirp(parentOf(to));
    this.renameAs(from, to, 'user');
    this.syncDirNow(parentOf(from));
    this.makePathDurable(to);
  }

  /** Reads the volatile view (what a process would see now). */
  peek(path: string): Uint8Array | null {
    const found = this.lookup(path);
    return found?.type === 'file' ? found.data : null;
  }

  entryType(path: string): InodeType | null {
    return this.lookup(path)?.type ?? null;
  }

  /** The tree under `dir` as relative POSIX path → entry, skipping the relative paths in `exclude`. */
  tree(dir: string, exclude: readonly string[] = []): Record<string, TreeEntry> {
    const result: Record<string, TreeEntry> = {};
    const start = this.lookup(dir);
    if (!start || start.type !== 'dir') return result;
    const walk = (inode: Inode, prefix: string): void => {
      for (const [name, child] of [...inode.entries].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))) {
        const rel = prefix ? `${prefix}/${name}` : name;
        if (exclude.includes(rel)) continue;
        if (child.type === 'file') result[rel] = { type: 'file', hash: hashBytes(child.data), size: child.data.byteLength, mode: child.mode, mtimeMs: child.mtimeMs };
        else if (child.type === 'symlink') result[rel] = { type: 'symlink', target: child.target };
        else {
          result[rel] = { type: 'dir', mode: child.mode };
          walk(child, rel);
        }
      }
    };
    walk(start, '');
    return result;
  }

  // ---- internals ----

  private op<T>(run: () => T): Promise<T> {
    this.operations++;
    try {
      return Promise.resolve(run());
    } catch (error) {
      return Promise.reject(error as Error);
    }
  }

  private newInode(type: InodeType, mode: number): Inode {
    const mtimeMs = this.stamp();
    return {
      id: this.nextIno++,
      type,
      mode,
      mtimeMs,
      data: emptyBytes,
      target: '',
      entries: new Map(),
      durable: { data: emptyBytes, mode, mtimeMs, entries: new Map() },
    };
  }

  /** Sub-millisecond mtimes, as real filesystems have: two writes in one millisecond still differ. */
  private stamp(): number {
    this.mtimeTick = (this.mtimeTick % 999) + 1;
    return Math.floor(this.now()) + this.mtimeTick / 1000;
  }

  private lookup(path: string): Inode | null {
    let current: Inode = this.root;
    for (const segment of split(path)) {
      if (current.type !== 'dir') return null;
      const next = current.entries.get(segment);
      if (!next) return null;
      current = next;
    }
    return current;
  }

  private mustExist(path: string, operation: string): Inode {
    const segments = split(path);
    let current: Inode = this.root;
    for (const segment of segments) {
      if (current.type !== 'dir') throw new MemoryFsError('ENOTDIR', operation, path);
      const next = current.entries.get(segment);
      if (!next) throw new MemoryFsError('ENOENT', operation, path);
      current = next;
    }
    return current;
  }

  private dirAt(path: string, operation: string): Inode {
    const found = this.mustExist(path, operation);
    if (found.type !== 'dir') throw new MemoryFsError('ENOTDIR', operation, path);
    return found;
  }

  private statOf(inode: Inode): FileStat {
    return { type: inode.type, size: inode.type === 'file' ? inode.data.byteLength : inode.type === 'symlink' ? inode.target.length : 4096, mtimeMs: inode.mtimeMs, mode: inode.mode, ino: inode.id };
  }

  private openForWriting(path: string, operation: string): Inode {
    const existing = this.lookup(path);
    if (existing) {
      if (existing.type !== 'file') throw new MemoryFsError(existing.type === 'dir' ? 'EISDIR' : 'ELOOP', operation, path);
      return existing;
    }
    const inode = this.newInode('file', 0o600);
    this.attach(path, inode, 'create', 'engine');
    return inode;
  }

  private writeHandle(path: string, inode: Inode, append: boolean): WriteHandle {
    let closed = false;
    return {
      write: (data, position) =>
        this.op(() => {
          if (closed) throw new MemoryFsError('EBADF', 'write', path);
          const at = append ? inode.data.byteLength : position;
          const end = Math.max(inode.data.byteLength, at + data.byteLength);
          const next = new Uint8Array(end);
          next.set(inode.data);
          next.set(data, at);
          inode.data = next;
          inode.mtimeMs = this.stamp();
          this.touched(path, 'change', 'write', 'engine', inode);
        }),
      sync: () =>
        this.op(() => {
          if (closed) throw new MemoryFsError('EBADF', 'fsync', path);
          this.makeFileDurable(inode);
        }),
      close: () =>
        this.op(() => {
          closed = true;
        }),
    };
  }

  private makeFileDurable(inode: Inode): void {
    inode.durable = { data: inode.data, mode: inode.mode, mtimeMs: inode.mtimeMs, entries: inode.durable.entries };
  }

  private syncDirNow(path: string): void {
    const dir = this.dirAt(path, 'fsync');
    dir.durable = { ...dir.durable, mode: dir.mode, mtimeMs: dir.mtimeMs, entries: new Map(dir.entries) };
  }

  /** Makes every entry on the way to `path` (and `path` itself) durable, leaving other entries as they are. */
  private makePathDurable(path: string): void {
    let current = this.root;
    for (const segment of split(path)) {
      const next = current.entries.get(segment);
      if (!next) return;
      current.durable.entries = new Map(current.durable.entries).set(segment, next);
      if (next.type === 'dir') next.durable = { ...next.durable, mode: next.mode };
      current = next;
    }
  }

  private parentDir(path: string, operation: string): Inode {
    const parent = this.lookup(parentOf(path));
    if (!parent) throw new MemoryFsError('ENOENT', operation, path);
    if (parent.type !== 'dir') throw new MemoryFsError('ENOTDIR', operation, path);
    return parent;
  }

  private attach(path: string, inode: Inode, operation: string, actor: VisibilityActor): void {
    const parent = this.parentDir(path, operation);
    const name = nameOf(path);
    if (!name) throw new MemoryFsError('EEXIST', operation, path);
    if (parent.entries.has(name)) throw new MemoryFsError('EEXIST', operation, path);
    parent.entries.set(name, inode);
    this.wrote(path);
    this.emit({ kind: inode.type === 'dir' ? 'addDir' : 'add', path });
    if (inode.type === 'file') this.recordVisible(path, inode, actor, operation);
  }

  private detach(path: string): void {
    const parent = this.parentDir(path, 'unlink');
    const name = nameOf(path);
    const inode = parent.entries.get(name);
    if (!inode) throw new MemoryFsError('ENOENT', 'unlink', path);
    parent.entries.delete(name);
    this.wrote(path);
    this.emitTree(path, inode, 'unlink');
  }

  /** Like chokidar: an event for every entry of a directory that appears or goes, deepest first on removal. */
  private emitTree(path: string, inode: Inode, kind: 'add' | 'unlink'): void {
    if (kind === 'add') this.emit({ kind: inode.type === 'dir' ? 'addDir' : 'add', path });
    if (inode.type === 'dir') for (const [name, child] of inode.entries) this.emitTree(`${path}/${name}`, child, kind);
    if (kind === 'unlink') this.emit({ kind: inode.type === 'dir' ? 'unlinkDir' : 'unlink', path });
  }

  /** Puts `inode` at `path`, replacing a file or empty directory there (rename semantics). */
  private replace(path: string, inode: Inode, operation: string, actor: VisibilityActor): void {
    const parent = this.parentDir(path, operation);
    const name = nameOf(path);
    const existing = parent.entries.get(name);
    if (existing === inode) return;
    if (existing) {
      if (existing.type === 'dir' && inode.type !== 'dir') throw new MemoryFsError('EISDIR', operation, path);
      if (existing.type !== 'dir' && inode.type === 'dir') throw new MemoryFsError('ENOTDIR', operation, path);
      if (existing.type === 'dir' && existing.entries.size > 0) throw new MemoryFsError('ENOTEMPTY', operation, path);
    }
    parent.entries.set(name, inode);
    this.wrote(path);
    if (inode.type === 'dir') this.emitTree(path, inode, 'add');
    else this.emit({ kind: existing ? 'change' : 'add', path });
    if (inode.type === 'file') this.recordVisible(path, inode, actor, operation);
    if (inode.type === 'dir') this.walkFiles(path, (child, file) => this.recordVisible(child, file, actor, operation));
  }

  private renameAs(from: string, to: string, actor: VisibilityActor): void {
    const inode = this.mustExist(from, 'rename');
    if (inode === this.root) throw new MemoryFsError('EBUSY', 'rename', from);
    this.parentDir(to, 'rename');
    if (inode.type === 'dir' && isUnder(to, from) && to !== from) throw new MemoryFsError('EINVAL', 'rename', to);
    if (this.lookup(to) === inode) return;
    this.replace(to, inode, 'rename', actor);
    const parent = this.parentDir(from, 'rename');
    parent.entries.delete(nameOf(from));
    this.wrote(from);
    this.emitTree(from, inode, 'unlink');
  }

  private touched(path: string, kind: MemoryFsChange['kind'], operation: string, actor: VisibilityActor, inode: Inode): void {
    this.wrote(path);
    this.emit({ kind, path });
    this.recordVisible(path, inode, actor, operation);
  }

  private recordVisible(path: string, inode: Inode, actor: VisibilityActor, operation: string): void {
    // Only places a user can see: an inode reachable at `path` right now.
    if (!this.isSynced(path) || this.lookup(path) !== inode) return;
    this.visible.push({ path, hash: hashBytes(inode.data), size: inode.data.byteLength, actor, operation });
  }

  private walkFiles(dir: string, visit: (path: string, inode: Inode) => void): void {
    const start = this.lookup(dir);
    if (!start || start.type !== 'dir') return;
    const walk = (inode: Inode, prefix: string): void => {
      for (const [name, child] of inode.entries) {
        const path = prefix === '/' ? `/${name}` : `${prefix}/${name}`;
        if (child.type === 'file') visit(path, child);
        else if (child.type === 'dir') walk(child, path);
      }
    };
    walk(start, dir === '/' ? '/' : `/${split(dir).join('/')}`);
  }

  private wrote(path: string): void {
    this.mutations++;
    this.writtenPaths.add(path);
  }

  private emit(change: MemoryFsChange): void {
    for (const listener of this.changeListeners) listener(change);
  }
}
