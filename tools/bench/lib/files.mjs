// Payloads, temp directories and the hash check that decides a receiver holds the exact bytes.
import { createHash, randomFillSync } from 'node:crypto';
import { mkdirSync, mkdtempSync, openSync, readFileSync, rmSync, statSync, writeSync, closeSync, fsyncSync, statfsSync } from 'node:fs';
import { open } from 'node:fs/promises';
import { join } from 'node:path';
import { execFileSync } from 'node:child_process';

export const MiB = 1024 * 1024;
export const GiB = 1024 * MiB;

/** A fresh directory under `base` (default /var/tmp), removed by the caller with removeDir. */
export function tempDir(base, prefix) {
  mkdirSync(base, { recursive: true });
  return mkdtempSync(join(base, `${prefix}-`));
}

export function removeDir(path) {
  rmSync(path, { recursive: true, force: true, maxRetries: 3 });
}

export function freeBytes(path) {
  const stats = statfsSync(path);
  return stats.bavail * stats.bsize;
}

/** Writes `size` random bytes to `path` (fsynced, so later timings do not pay for it); returns the sha256. */
export function writeRandomFile(path, size) {
  const chunk = Buffer.allocUnsafe(Math.min(size, 16 * MiB));
  const hash = createHash('sha256');
  const fd = openSync(path, 'w');
  try {
    for (let done = 0; done < size; ) {
      const length = Math.min(chunk.length, size - done);
      const part = chunk.subarray(0, length);
      randomFillSync(part);
      hash.update(part);
      writeSync(fd, part, 0, length, done);
      done += length;
    }
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
  return hash.digest('hex');
}

/**
 * A tree of `count` small random files spread over `dirs` directories, written under `root`.
 * Returns the manifest { relPath: sha256 }.
 */
export function writeTree(root, { count, dirs, size, prefix = 'f' }) {
  const manifest = {};
  const data = Buffer.allocUnsafe(size);
  for (let d = 0; d < dirs; d++) mkdirSync(join(root, `d${String(d).padStart(4, '0')}`), { recursive: true });
  for (let i = 0; i < count; i++) {
    const rel = `d${String(i % dirs).padStart(4, '0')}/${prefix}${String(i).padStart(6, '0')}.bin`;
    randomFillSync(data);
    const fd = openSync(join(root, rel), 'w');
    writeSync(fd, data);
    closeSync(fd);
    manifest[rel] = createHash('sha256').update(data).digest('hex');
  }
  // Written back before anything is timed, as the big payload is.
  execFileSync('sync');
  return manifest;
}

export async function hashFile(path) {
  const handle = await open(path, 'r');
  try {
    const hash = createHash('sha256');
    const buffer = Buffer.allocUnsafe(4 * MiB);
    for (let position = 0; ; ) {
      const { bytesRead } = await handle.read(buffer, 0, buffer.length, position);
      if (bytesRead === 0) break;
      hash.update(buffer.subarray(0, bytesRead));
      position += bytesRead;
    }
    return hash.digest('hex');
  } finally {
    await handle.close();
  }
}

/** Every file of the manifest present under `root` with the exact bytes; returns the first difference or null. */
export async function verifyManifest(root, manifest) {
  for (const [rel, expected] of Object.entries(manifest)) {
    const path = join(root, rel);
    let actual;
    try {
      const stat = statSync(path);
      actual = stat.size < MiB ? createHash('sha256').update(readFileSync(path)).digest('hex') : await hashFile(path);
    } catch {
      return `${rel} missing`;
    }
    if (actual !== expected) return `${rel} differs`;
  }
  return null;
}

/** Has `path` the wanted size and an identity (inode, mtime) other than `not`? Cheap; no hashing. */
export function statProbe(path, size, not) {
  try {
    const stat = statSync(path);
    if (stat.size !== size) return null;
    if (not && stat.ino === not.ino && stat.mtimeMs === not.mtimeMs) return null;
    return { ino: stat.ino, mtimeMs: stat.mtimeMs };
  } catch {
    return null;
  }
}

export function identity(path) {
  const stat = statSync(path);
  return { ino: stat.ino, mtimeMs: stat.mtimeMs };
}
