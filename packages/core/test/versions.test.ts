import { afterEach, describe, expect, it } from 'vitest';
import { readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { Cluster, waitFor } from './cluster';

const kept = async (dir: string): Promise<string[]> => (await readdir(join(dir, '.sync', 'versions')).catch(() => [] as string[])).sort();

describe('versions replaced or deleted by a remote change', () => {
  let cluster: Cluster | null = null;
  afterEach(async () => {
    await cluster?.close();
  });

  it('keeps each replaced and deleted content in .sync/versions, within the size bound', async () => {
    cluster = new Cluster('memory', { limits: { versionsBytesMax: 2500, retryDelayMs: 200 } });
    await cluster.init();
    const [a, b] = await cluster.mesh(['a', 'b']);
    const v1 = 'one'.repeat(400);
    const v2 = 'two'.repeat(400);
    await writeFile(join(a!.dir, 'f.txt'), v1);
    await waitFor(async () => (await readFile(join(b!.dir, 'f.txt'), 'utf8').catch(() => '')) === v1, 'v1 on b');
    await writeFile(join(a!.dir, 'f.txt'), v2);
    await waitFor(async () => (await kept(b!.dir)).length === 1, 'v1 kept on b');
    await rm(join(a!.dir, 'f.txt'));
    await waitFor(async () => (await kept(b!.dir)).length === 2, 'v2 kept on b after the delete');
    const names = await kept(b!.dir);
    expect(names.every((name) => /^f\.txt~\d{8}T\d{6}-/.test(name))).toBe(true);
    const contents = await Promise.all(names.map((name) => readFile(join(b!.dir, '.sync', 'versions', name), 'utf8')));
    expect(contents.sort()).toEqual([v1, v2].sort());

    // 2,400 bytes kept fit in 2,500; one more version does not, and the oldest goes at the next prune.
    await writeFile(join(a!.dir, 'g.txt'), 'x'.repeat(500));
    await waitFor(async () => (await readdir(b!.dir)).includes('g.txt'), 'g.txt on b');
    await writeFile(join(a!.dir, 'g.txt'), 'y'.repeat(500));
    await waitFor(async () => (await kept(b!.dir)).length === 3, 'the g.txt version kept');
    await cluster.stop('b');
    const restarted = await cluster.restart('b', ['a']);
    await waitFor(async () => (await kept(restarted.dir)).length === 2, 'the oldest version pruned');
    const left = await Promise.all((await kept(restarted.dir)).map((name) => readFile(join(restarted.dir, '.sync', 'versions', name), 'utf8')));
    expect(left).not.toContain(v1);
  });
});
