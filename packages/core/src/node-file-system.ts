import { chmodSync, closeSync, linkSync, renameSync, constants as fsConstants, fsync, lstatSync, open, openSync, promises as fsp, read, readdirSync, readSync, utimesSync, write, writeSync } from 'node:fs';
import type { Stats } from 'node:fs';
import { dirname, basename, join } from 'node:path';
import { randomBytes } from 'node:crypto';
import type { EntryType, FileStat, FileSystem, ReadHandle, WriteHandle } from './ports';
import { errnoCode } from './errors';
import { ParallelHasher } from './parallel-hasher';
import type { BlockInfo } from '@sync/protocol';

function entryType(stat: { isFile(): boolean; isDirectory(): boolean; isSymbolicLink(): boolean }): EntryType {
  if (stat.isFile()) return 'file';
  if (stat.isDirectory()) return 'dir';
  if (stat.isSymbolicLink()) return 'symlink';
  return 'other';
}

/**
 * Stats' numbers are read from a Float64Array, so V8 holds each in a heap number of its own, and a
 * record field that once held one boxes that field in every record of its shape: 16 B for each
 * of a local record's size, its disk size and inode. An integer made by `| 0` is stored unboxed
 * (a Smi, below 2^31 on 64-bit Node), so only a folder holding a file of 2 GiB or more pays for
 * the boxes again.
 */
function unboxed(value: number): number {
  return value < 0x7fffffff ? value | 0 : value;
}

/** The real filesystem, through node:fs/promises. Never follows symlinks on its own. */
export class NodeFileSystem implements FileSystem {
  private readonly hasher = new ParallelHasher();

  /**
   * Synchronous on purpose: the engine stats every path (and its parents) several times per
   * change, and a metadata lookup answered from the kernel's caches costs ~4 µs of CPU inline
   * against ~25 µs through the libuv pool and a promise (measured on the 2-core benchmark
   * machine; lstat was a fifth of the CPU profile of syncing 2,000 small files). The loop is
   * blocked no longer than the pool hop itself costs.
   */
  async lstat(path: string): Promise<FileStat | null> {
    let stat: Stats | undefined;
    try {
      stat = lstatSync(path, { throwIfNoEntry: false });
    } catch (error) {
      if (errnoCode(error) === 'ENOENT' || errnoCode(error) === 'ENOTDIR') return null;
      throw error;
    }
    if (!stat) return null;
    return { type: entryType(stat), size: unboxed(stat.size), mtimeMs: stat.mtimeMs, mode: stat.mode & 0o7777, ino: unboxed(stat.ino) };
  }

  /**
   * Synchronous too, for the same reason: a start-up walk of 1,000 directories of 100 entries
   * spent 0.17 s on the main thread around the pool's round trips and 0.06 s more in GC of their
   * promises and requests, against 0.06 s for all 1,000 listings inline. A directory of 100,000
   * entries holds the loop for ~50 ms.
   */
  async readdir(path: string): Promise<{ name: string; type: EntryType }[]> {
    const entries = readdirSync(path, { withFileTypes: true });
    return entries.map((entry) => ({ name: entry.name, type: entryType(entry) }));
  }

  async mkdir(path: string, mode = 0o755): Promise<void> {
    try {
      await fsp.mkdir(path, { mode });
    } catch (error) {
      if (errnoCode(error) !== 'EEXIST') throw error;
      const stat = await fsp.lstat(path);
      if (!stat.isDirectory()) throw error;
    }
  }

  rmdir(path: string): Promise<void> {
    return fsp.rmdir(path);
  }

  unlink(path: string): Promise<void> {
    return fsp.unlink(path);
  }

  /**
   * Inline, like lstat: a pulled small file's commit is a rename, and handing it to the pool woke a
   * pool thread that, on two cores, took the core from the loop (10,000 files: the receiver's main
   * thread was switched out ~20,000 times, ~12,000 with renames inline; the run 0.2–0.3 s faster).
   */
  async rename(from: string, to: string): Promise<void> {
    renameSync(from, to);
  }

  /** Inline, as rename: keeping a replaced file as a version is a hard link per pulled change. */
  async link(existing: string, newPath: string): Promise<void> {
    linkSync(existing, newPath);
  }

  copyFile(from: string, to: string): Promise<void> {
    // Reflink where the filesystem can; the kernel copies otherwise.
    return fsp.copyFile(from, to, fsConstants.COPYFILE_FICLONE);
  }

  symlink(target: string, path: string): Promise<void> {
    return fsp.symlink(target, path);
  }

  readlink(path: string): Promise<string> {
    return fsp.readlink(path);
  }

  /** Inline, like lstat: an inode update in the kernel's cache, cheaper than the pool hop. */
  async chmod(path: string, mode: number): Promise<void> {
    chmodSync(path, mode);
  }

  async utimes(path: string, mtimeMs: number): Promise<void> {
    const seconds = mtimeMs / 1000;
    utimesSync(path, seconds, seconds);
  }

  /**
   * Plain descriptors rather than FileHandle: opening for reading and closing are metadata
   * operations done inline (as lstat above), and reads or writes up to `inlineIoBytesMax` (a page-cache copy of
   * a few microseconds) are too; larger ones go through the libuv pool so the loop keeps
   * serving while the disk works. FileHandle's promise machinery cost more CPU than the
   * system calls themselves when syncing many small files.
   */
  async openRead(path: string): Promise<ReadHandle> {
    const fd = openSync(path, fsConstants.O_RDONLY | fsConstants.O_NOFOLLOW);
    return descriptorHandle(fd);
  }

  async openWrite(path: string): Promise<WriteHandle> {
    // Creating a file can wait long: on the journal while other transfers fsync, or (ext4 without
    // a journal) on the inode allocator skipping inodes freed in the last minute. Inline, a run of
    // 10,000 small files after a run that deleted as many spent 2.8 s of the loop's time in it.
    const fd = await new Promise<number>((resolve, reject) => open(path, 'w', 0o600, (error, opened) => (error ? reject(error) : resolve(opened))));
    return writeHandleOf(descriptorHandle(fd));
  }

  async openUpdate(path: string): Promise<WriteHandle> {
    const fd = await new Promise<number>((resolve, reject) => open(path, fsConstants.O_RDWR | fsConstants.O_NOFOLLOW, (error, opened) => (error ? reject(error) : resolve(opened))));
    return writeHandleOf(descriptorHandle(fd));
  }

  async openAppend(path: string): Promise<WriteHandle> {
    const handle = await fsp.open(path, 'a', 0o600);
    return {
      write: async (data) => {
        await handle.appendFile(data);
      },
      sync: () => handle.sync(),
      close: () => handle.close(),
    };
  }

  truncate(path: string, length: number): Promise<void> {
    return fsp.truncate(path, length);
  }

  async readFile(path: string): Promise<Uint8Array | null> {
    try {
      return await fsp.readFile(path);
    } catch (error) {
      if (errnoCode(error) === 'ENOENT') return null;
      throw error;
    }
  }

  async writeFileAtomic(path: string, data: Uint8Array): Promise<void> {
    const temp = join(dirname(path), `.${basename(path)}.${randomBytes(6).toString('hex')}.tmp`);
    const handle = await fsp.open(temp, 'w', 0o600);
    try {
      await handle.writeFile(data);
      await handle.sync();
    } finally {
      await handle.close();
    }
    await fsp.rename(temp, path);
    await this.syncDir(dirname(path));
  }

  async syncDir(path: string): Promise<void> {
    const fd = openSync(path, fsConstants.O_RDONLY | fsConstants.O_DIRECTORY);
    try {
      await new Promise<void>((resolve, reject) => fsync(fd, (error) => (error ? reject(error) : resolve())));
    } finally {
      closeSync(fd);
    }
  }

  removeTree(path: string): Promise<void> {
    return fsp.rm(path, { recursive: true, force: true });
  }

  hashBlocks(path: string, size: number, blockSize: number, onBlock?: (bytes: number) => void): Promise<BlockInfo[]> {
    return this.hasher.hashBlocks(path, size, blockSize, onBlock);
  }
}

/** Reads and writes up to this size run inline; larger ones on the libuv pool. */
const inlineIoBytesMax = 64 * 1024;

interface DescriptorHandle {
  read(buffer: Uint8Array, position: number): Promise<number>;
  write(data: Uint8Array, position: number): Promise<number>;
  sync(): Promise<void>;
  close(): Promise<void>;
}

function writeHandleOf(handle: DescriptorHandle): WriteHandle {
  return {
    write: async (data, position) => {
      let written = 0;
      while (written < data.byteLength) written += await handle.write(data.subarray(written), position + written);
    },
    sync: () => handle.sync(),
    close: () => handle.close(),
  };
}

function descriptorHandle(fd: number): DescriptorHandle {
  let closed = false;
  return {
    read: (buffer, position) => {
      if (buffer.byteLength <= inlineIoBytesMax) return Promise.resolve(readSync(fd, buffer, 0, buffer.byteLength, position));
      return new Promise((resolve, reject) => read(fd, buffer, 0, buffer.byteLength, position, (error, bytesRead) => (error ? reject(error) : resolve(bytesRead))));
    },
    write: (data, position) => {
      if (data.byteLength <= inlineIoBytesMax) return Promise.resolve(writeSync(fd, data, 0, data.byteLength, position));
      return new Promise((resolve, reject) => write(fd, data, 0, data.byteLength, position, (error, written) => (error ? reject(error) : resolve(written))));
    },
    // Waits on the disk: always on the pool.
    sync: () => new Promise((resolve, reject) => fsync(fd, (error) => (error ? reject(error) : resolve()))),
    close: async () => {
      if (closed) return;
      closed = true;
      closeSync(fd);
    },
  };
}
