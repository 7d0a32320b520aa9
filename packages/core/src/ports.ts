import type { BlockInfo } from '@sync/protocol';

/** The ports the engine needs. Real implementations are the defaults; tests inject fakes. */

export type EntryType = 'file' | 'dir' | 'symlink' | 'other';

export interface FileStat {
  type: EntryType;
  size: number;
  mtimeMs: number;
  /** Permission bits only. */
  mode: number;
  ino: number;
}

export interface ReadHandle {
  read(buffer: Uint8Array, position: number): Promise<number>;
  close(): Promise<void>;
}

export interface WriteHandle {
  write(data: Uint8Array, position: number): Promise<void>;
  sync(): Promise<void>;
  close(): Promise<void>;
}

/** Absolute paths everywhere; the engine never hands this port a path it has not checked. */
export interface FileSystem {
  lstat(path: string): Promise<FileStat | null>;
  readdir(path: string): Promise<{ name: string; type: EntryType }[]>;
  mkdir(path: string, mode?: number): Promise<void>;
  rmdir(path: string): Promise<void>;
  unlink(path: string): Promise<void>;
  rename(from: string, to: string): Promise<void>;
  link(existing: string, newPath: string): Promise<void>;
  copyFile(from: string, to: string): Promise<void>;
  symlink(target: string, path: string): Promise<void>;
  readlink(path: string): Promise<string>;
  chmod(path: string, mode: number): Promise<void>;
  utimes(path: string, mtimeMs: number): Promise<void>;
  openRead(path: string): Promise<ReadHandle>;
  /** Creates or truncates, private to this user until renamed into place. */
  openWrite(path: string): Promise<WriteHandle>;
  /** Opens an existing file for writing at positions, keeping its content. */
  openUpdate(path: string): Promise<WriteHandle>;
  /** Opens for appending; `position` is ignored by the returned handle. */
  openAppend(path: string): Promise<WriteHandle>;
  truncate(path: string, length: number): Promise<void>;
  readFile(path: string): Promise<Uint8Array | null>;
  /** Durable replace: temp file, fsync, rename, fsync of the directory. */
  writeFileAtomic(path: string, data: Uint8Array): Promise<void>;
  syncDir(path: string): Promise<void>;
  removeTree(path: string): Promise<void>;
  /**
   * Optional, for large files: the blocks of a file's first `size` bytes, hashed faster than one
   * read and hash after another (the Node port uses a second thread). A block read short, because
   * the file shrank, is returned short. Without it, the engine hashes block by block itself.
   * `onBlock` is told the size of each block as it is hashed, in any order.
   */
  hashBlocks?(path: string, size: number, blockSize: number, onBlock?: (bytes: number) => void): Promise<BlockInfo[]>;
}

export interface Clock {
  now(): number;
  setTimeout(callback: () => void, ms: number): unknown;
  clearTimeout(handle: unknown): void;
}

export interface Random {
  /** Uniform in [0, 1). */
  float(): number;
  /** URL-safe random id. */
  id(bytes: number): string;
}

export interface Logger {
  debug(message: string, fields?: Record<string, unknown>): void;
  info(message: string, fields?: Record<string, unknown>): void;
  warn(message: string, fields?: Record<string, unknown>): void;
  error(message: string, fields?: Record<string, unknown>): void;
}

export const silentLogger: Logger = { debug() {}, info() {}, warn() {}, error() {} };
