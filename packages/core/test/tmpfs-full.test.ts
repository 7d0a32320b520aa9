import { execFileSync } from 'node:child_process';
import { afterEach, describe, expect, it } from 'vitest';
import { mkdir, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { randomBytes } from 'node:crypto';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Cluster, tempFiles, waitFor } from './cluster';

// A real full disk: the receiver's folder (and its state dir) on a 4 MiB tmpfs. Needs root to
// mount, which the CI machine has; the message says so where it does not.
describe('a real full disk (tmpfs)', () => {
  let cluster: Cluster | null = null;
  let mountPoint = '';
  afterEach(async () => {
    await cluster?.close();
    if (mountPoint) {
      execFileSync('umount', [mountPoint]);
      await rm(mountPoint, { recursive: true, force: true });
    }
  });

  it('fails the transfer cleanly, keeps syncing what fits, and completes once space is freed', async () => {
    mountPoint = await mkdtemp(join(tmpdir(), 'sync-tmpfs-'));
    try {
      execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=4m', 'tmpfs', mountPoint], { stdio: 'pipe' });
    } catch (error) {
      const reason = String((error as { stderr?: Buffer }).stderr ?? error);
      mountPoint = '';
      throw new Error(`this test mounts a tmpfs and needs root (or CAP_SYS_ADMIN): ${reason}`);
    }
    cluster = new Cluster('memory', { limits: { retryDelayMs: 200 } });
    await cluster.init();
    const a = await cluster.add('a');
    const bDir = join(mountPoint, 'b');
    await mkdir(bDir);
    const b = await cluster.add('b', { dir: bDir, peers: ['a'] });
    await waitFor(() => b.node.status().peers.length === 1, 'connected');
    const errors: string[] = [];
    b.node.on('error', (error) => errors.push(error.message));

    const filler = randomBytes(2 * 1024 * 1024);
    await writeFile(join(a.dir, 'filler.bin'), filler);
    await waitFor(async () => (await readFile(join(bDir, 'filler.bin')).catch(() => null))?.equals(filler) ?? false, 'the filler');

    const big = randomBytes(3 * 1024 * 1024);
    await writeFile(join(a.dir, 'big.bin'), big);
    await waitFor(() => errors.some((m) => m.includes('ENOSPC')), 'ENOSPC reported');
    expect(await readdir(bDir)).not.toContain('big.bin');
    await waitFor(async () => (await tempFiles(bDir)).length === 0, 'no temp file left on the full disk');

    await writeFile(join(a.dir, 'small.txt'), 'still syncing');
    await waitFor(async () => (await readFile(join(bDir, 'small.txt'), 'utf8').catch(() => '')) === 'still syncing', 'a small file despite the full disk');

    // The user frees space: the filler goes, and so does its kept version on b.
    await rm(join(a.dir, 'filler.bin'));
    await waitFor(async () => !(await readdir(bDir)).includes('filler.bin'), 'the delete on b');
    await rm(join(bDir, '.sync', 'versions'), { recursive: true, force: true });
    await waitFor(async () => (await readFile(join(bDir, 'big.bin')).catch(() => null))?.equals(big) ?? false, 'big.bin once space is free', 60_000);
  }, 120_000);
});
