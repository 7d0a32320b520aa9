// What every scenario needs: a fresh cluster of one system in a fresh directory, staging on the
// same filesystem (so a payload appears in a synced folder by one atomic rename), waiting for
// arrival by cheap probes, and the hash check after the clock has stopped.
import { closeSync, copyFileSync, constants as fsConstants, fsyncSync, mkdirSync, openSync, renameSync, unlinkSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { removeDir, statProbe, tempDir, hashFile } from './files.mjs';
import { round, waitFor } from './proc.mjs';

export async function withCluster(env, system, n, body, options = {}) {
  const root = tempDir(env.tmpBase, `${env.scenario}-${system.name}`);
  const staging = join(root, 'staging');
  mkdirSync(staging);
  let cluster;
  try {
    if (options.prepare) await options.prepare(root);
    const startedAt = performance.now();
    cluster = await system.start(root, n, options);
    return await body(cluster, { root, staging, startedAt });
  } finally {
    if (cluster) await cluster.stop().catch((error) => env.log(`stop failed: ${error.message}`));
    if (!env.keep) removeDir(root);
  }
}

/**
 * Copies a prepared payload next to the folder (reflink where possible); not timed. Fsynced, so
 * no system pays for writing back the copy's dirty pages while it is being measured.
 */
export function stageCopy(source, staging, name) {
  const path = join(staging, name);
  copyFileSync(source, path, fsConstants.COPYFILE_FICLONE);
  const fd = openSync(path, 'r');
  try {
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
  return path;
}

/**
 * Writes `bytes` to a scratch file in `dir` and deletes it; not timed. This VM's host backs guest
 * memory lazily and takes back what stays free: a page-cache page the guest has not used lately
 * costs ~1-2 CPU s per GiB on first touch (a 1 GiB write took 0.2-2.6 s of system time with `dd`),
 * and whichever system ran first after the payload was written paid it while the next one reused
 * the pages the first had freed (ours, first: A→B 4.07 s; last: 2.08 s; rsync `--fsync` 1.0 s
 * either way). Called right before the clock starts, with what the timed part will write, so
 * every system starts from the same recently freed pages.
 */
export function warmPageCache(dir, bytes) {
  const path = join(dir, 'warm.scratch');
  const chunk = Buffer.alloc(8 * 1024 * 1024);
  const fd = openSync(path, 'w');
  try {
    for (let done = 0; done < bytes; done += chunk.length) writeSync(fd, chunk, 0, Math.min(chunk.length, bytes - done));
  } finally {
    closeSync(fd);
    unlinkSync(path);
  }
}

export function place(stagedPath, finalPath) {
  renameSync(stagedPath, finalPath);
}

/** Resolves with the seconds since `t0` at which every path had `size` bytes and a new identity. */
export async function waitArrival(paths, size, t0, { not = [], everyMs = 5, timeoutMs = 600_000 } = {}) {
  const arrived = new Array(paths.length).fill(null);
  await waitFor(
    `arrival of ${paths.join(', ')}`,
    () => {
      const now = performance.now();
      paths.forEach((path, i) => {
        if (arrived[i] === null && statProbe(path, size, not[i])) arrived[i] = now;
      });
      return arrived.every((value) => value !== null);
    },
    { everyMs, timeoutMs },
  );
  return round((Math.max(...arrived) - t0) / 1000, 4);
}

/** Resolves once every receiver's engine reports `count` files and nothing pending. */
export async function waitCount(cluster, receivers, count, t0, { everyMs = 20, timeoutMs = 900_000 } = {}) {
  const arrived = new Map();
  await waitFor(
    `${count} files on ${receivers.join(', ')}`,
    async () => {
      for (const i of receivers) {
        if (arrived.has(i)) continue;
        if ((await cluster.fileCount(i)) === count) arrived.set(i, performance.now());
      }
      return arrived.size === receivers.length;
    },
    { everyMs, timeoutMs },
  );
  return round((Math.max(...arrived.values()) - t0) / 1000, 4);
}

/** After the clock stopped: the receivers hold exactly the sender's bytes. */
export async function verifySame(senderPath, receiverPaths) {
  const expected = await hashFile(senderPath);
  for (const path of receiverPaths) {
    const actual = await hashFile(path);
    if (actual !== expected) throw new Error(`${path} does not match ${senderPath}`);
  }
  return expected;
}

export function mib(bytes) {
  return round(bytes / (1024 * 1024), 3);
}
