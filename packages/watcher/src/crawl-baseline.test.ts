import { lstatSync } from 'node:fs';
import { chmod, mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { CrawlBaseline } from './crawl-baseline';
import type { BaselineDrift } from './crawl-baseline';

let root: string;
beforeEach(async () => {
  root = await mkdtemp(path.join(tmpdir(), 'crawl-baseline-'));
});
afterEach(() => rm(root, { recursive: true, force: true }));

async function noted(baseline: CrawlBaseline, name: string, content = 'x'): Promise<string> {
  const absolutePath = path.join(root, name);
  await writeFile(absolutePath, content);
  baseline.note(absolutePath, lstatSync(absolutePath));
  return absolutePath;
}

async function drifts(baseline: CrawlBaseline): Promise<string[]> {
  const seen: BaselineDrift[] = [];
  await baseline.recheck((drift) => seen.push(drift), () => false);
  return seen.map((drift) => `${drift.type} ${path.basename(drift.absolutePath)}`).sort();
}

describe('CrawlBaseline', () => {
  it('reports what changed, was chmod-ed, was removed or became a directory, and nothing else', async () => {
    const baseline = new CrawlBaseline();
    await noted(baseline, 'same');
    const grown = await noted(baseline, 'grown');
    const mode = await noted(baseline, 'mode');
    const gone = await noted(baseline, 'gone');
    const replaced = await noted(baseline, 'replaced');
    baseline.seal();
    await writeFile(grown, 'longer');
    await chmod(mode, 0o600);
    await rm(gone);
    await rm(replaced);
    await mkdir(replaced);
    expect(await drifts(baseline)).toEqual(['change grown', 'change mode', 'change replaced', 'unlink gone']);
    // Forgotten once checked.
    expect(baseline.size).toBe(0);
  });

  it('keeps only files, and nothing noted once sealed', async () => {
    const baseline = new CrawlBaseline();
    const dir = path.join(root, 'dir');
    await mkdir(dir);
    baseline.note(dir, lstatSync(dir));
    baseline.note(path.join(root, 'unstatted'), undefined);
    baseline.seal();
    const late = await noted(baseline, 'late');
    await writeFile(late, 'changed after');
    expect(baseline.size).toBe(0);
    expect(await drifts(baseline)).toEqual([]);
  });
});
