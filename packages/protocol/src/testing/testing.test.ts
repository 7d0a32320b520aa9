import { describe, expect, it } from 'vitest';
import { blockSizeFor, MiB } from '../limits';
import { validatePath } from '../paths';
import { FileRecordSchema } from '../schemas';
import { dirFixture, hostilePaths, recordFixture, tombstoneFixture } from './index';

describe('record fixtures', () => {
  // Goal: every fixture is a record a receiver accepts, so other packages can build on them.
  const fixtures = {
    'default file': recordFixture(),
    'empty file': recordFixture({ size: 0 }),
    'one-byte file': recordFixture({ size: 1 }),
    'large file (bigger blocks)': recordFixture({ size: 300 * MiB + 7 }),
    'file with overrides': recordFixture({ path: 'a/b.bin', mode: 0o755, version: { 'node-b': 3 }, modifiedBy: 'node-b', sequence: 9 }),
    tombstone: tombstoneFixture('gone.txt'),
    'tombstone of a dir': tombstoneFixture('gone-dir', { type: 'dir' }),
    dir: dirFixture('docs'),
    'nested dir': dirFixture('docs/sub', { sequence: 4 }),
  };

  it.each(Object.entries(fixtures))('%s passes FileRecordSchema unchanged', (_name, record) => {
    expect(FileRecordSchema.parse(record)).toEqual(record);
  });

  it('a file fixture tiles its size at blockSizeFor(size)', () => {
    const record = recordFixture({ size: 300 * MiB + 7 });
    const blockSize = blockSizeFor(record.size);
    expect(blockSize).toBe(256 * 1024);
    expect(record.blocks.reduce((sum, b) => sum + b.size, 0)).toBe(record.size);
    expect(record.blocks.slice(0, -1).every((b) => b.size === blockSize)).toBe(true);
  });

  it('tombstones and dirs carry their path and no content', () => {
    expect(tombstoneFixture('x', { path: 'ignored' })).toMatchObject({ path: 'x', deleted: true, hash: '', blocks: [] });
    expect(dirFixture('d')).toMatchObject({ path: 'd', type: 'dir', deleted: false, hash: '', blocks: [] });
  });

  it('does not share state between calls', () => {
    const a = recordFixture();
    a.blocks.pop();
    (a.version as Record<string, number>)['node-z'] = 1;
    expect(FileRecordSchema.safeParse(recordFixture()).success).toBe(true);
    expect(recordFixture().version).toEqual({ 'node-a': 1 });
  });
});

describe('hostilePaths', () => {
  // Goal: the shared list really is hostile; each entry fails the path rules.
  it.each(hostilePaths.map((path) => [path]))('%j fails validatePath', (path) => {
    expect(validatePath(path).ok).toBe(false);
  });

  it('fails FileRecordSchema inside a record', () => {
    for (const path of hostilePaths) expect(FileRecordSchema.safeParse(recordFixture({ path })).success, JSON.stringify(path)).toBe(false);
  });

  it('is frozen and covers every path rule', () => {
    expect(Object.isFrozen(hostilePaths)).toBe(true);
    const codes = new Set<string>(
      hostilePaths.map((path) => {
        const result = validatePath(path);
        return result.ok ? 'ok' : result.error.code;
      }),
    );
    for (const code of [
      'PATH_EMPTY',
      'PATH_ABSOLUTE',
      'PATH_TRAVERSAL',
      'PATH_DOT_SEGMENT',
      'PATH_BACKSLASH',
      'PATH_NUL',
      'PATH_CONTROL_CHAR',
      'PATH_INVALID_UNICODE',
      'PATH_EMPTY_SEGMENT',
      'PATH_STATE_DIR',
      'PATH_SEGMENT_TOO_LONG',
      'PATH_TOO_LONG',
    ]) {
      expect(codes.has(code), code).toBe(true);
    }
  });
});
