import { chmod, mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { IgnoreRules } from '../src/index';
import { makeTempDir, removeTempDir } from './helpers';

const dirs: string[] = [];
afterEach(async () => {
  for (const dir of dirs.splice(0)) await removeTempDir(dir);
});

async function root(): Promise<string> {
  const dir = await makeTempDir();
  dirs.push(dir);
  return dir;
}

describe('IgnoreRules.load', () => {
  it('reads .syncignore from the root', async () => {
    const dir = await root();
    await writeFile(path.join(dir, '.syncignore'), '*.tmp\n');
    const rules = await IgnoreRules.load(dir);
    expect(rules.isIgnored('a.tmp', false)).toBe(true);
    expect(rules.text).toBe('*.tmp\n');
  });

  it('reads a custom file name', async () => {
    const dir = await root();
    await writeFile(path.join(dir, '.other'), 'x\n');
    expect((await IgnoreRules.load(dir, '.other')).isIgnored('x', false)).toBe(true);
  });

  it('treats a missing file as no rules', async () => {
    const rules = await IgnoreRules.load(await root());
    expect(rules.isIgnored('anything', false)).toBe(false);
  });

  it('fails with IGNORE_FILE_UNREADABLE for a directory or an unreadable file', async () => {
    const dir = await root();
    await mkdir(path.join(dir, '.syncignore'));
    await expect(IgnoreRules.load(dir)).rejects.toMatchObject({ name: 'WatcherError', code: 'IGNORE_FILE_UNREADABLE' });

    // root ignores file permissions, so only check this as an ordinary user.
    if (process.getuid?.() === 0) return;
    await writeFile(path.join(dir, '.locked'), 'x');
    await chmod(path.join(dir, '.locked'), 0o000);
    await expect(IgnoreRules.load(dir, '.locked')).rejects.toMatchObject({ code: 'IGNORE_FILE_UNREADABLE' });
  });
});
