import { describe, expect, it } from 'vitest';
import { conflictName, isConflictName } from './conflict-name';

// 2024-03-05T07:08:09.456Z
const t = Date.UTC(2024, 2, 5, 7, 8, 9, 456);
const utf8Bytes = (text: string): number => new TextEncoder().encode(text).length;

describe('conflictName', () => {
  it.each([
    ['report.txt', 'report.sync-conflict-20240305-070809-n1.txt'],
    ['Makefile', 'Makefile.sync-conflict-20240305-070809-n1'],
    ['.bashrc', '.bashrc.sync-conflict-20240305-070809-n1'],
    ['.config.json', '.config.sync-conflict-20240305-070809-n1.json'],
    ['a.tar.gz', 'a.tar.sync-conflict-20240305-070809-n1.gz'],
    ['dir.d/file', 'dir.d/file.sync-conflict-20240305-070809-n1'],
    ['x/y/z.md', 'x/y/z.sync-conflict-20240305-070809-n1.md'],
    ['x/.hidden', 'x/.hidden.sync-conflict-20240305-070809-n1'],
    // A trailing dot is an empty extension, as Syncthing's filepath.Ext has it: the dot stays last.
    ['x.', 'x.sync-conflict-20240305-070809-n1.'],
    ['notes.sync-conflict-20240101-000000-n2.txt', 'notes.sync-conflict-20240101-000000-n2.sync-conflict-20240305-070809-n1.txt'],
  ])('%s -> %s', (path, expected) => {
    expect(conflictName(path, t, 'n1')).toBe(expected);
    expect(isConflictName(expected)).toBe(true);
  });

  it('formats the time in UTC with zero padding and whole seconds', () => {
    expect(conflictName('f', 0, 'n')).toBe('f.sync-conflict-19700101-000000-n');
    expect(conflictName('f', Date.UTC(2001, 0, 2, 3, 4, 5, 999.9), 'n')).toBe('f.sync-conflict-20010102-030405-n');
    expect(conflictName('f', Date.UTC(2099, 11, 31, 23, 59, 59), 'n')).toBe('f.sync-conflict-20991231-235959-n');
    // Fractions are floored, also before 1970.
    expect(conflictName('f', -0.5, 'n')).toBe('f.sync-conflict-19691231-235959-n');
    expect(conflictName('f', 1_700_000_000_123.75, 'n')).toBe('f.sync-conflict-20231114-221320-n');
  });

  it('keeps node ids with dashes and underscores whole', () => {
    const name = conflictName('a.txt', t, 'node_A-9');
    expect(name).toBe('a.sync-conflict-20240305-070809-node_A-9.txt');
    expect(isConflictName(name)).toBe(true);
  });

  it('shortens long names so the segment stays within 255 bytes and keeps the suffix whole', () => {
    const longStem = 'é'.repeat(200); // 400 bytes
    const name = conflictName(`d/${longStem}.txt`, t, 'n'.repeat(64));
    const segment = name.slice(2);
    expect(utf8Bytes(segment)).toBeLessThanOrEqual(255);
    expect(segment.endsWith(`.sync-conflict-20240305-070809-${'n'.repeat(64)}.txt`)).toBe(true);
    expect(segment.startsWith('éé')).toBe(true);
    expect(segment).not.toContain('\uFFFD');
    expect(isConflictName(name)).toBe(true);

    const longExtension = `a.${'x'.repeat(250)}`;
    const folded = conflictName(longExtension, t, 'n');
    expect(utf8Bytes(folded)).toBeLessThanOrEqual(255);
    expect(folded.startsWith('a.xxx')).toBe(true);
    expect(folded.endsWith('.sync-conflict-20240305-070809-n')).toBe(true);
  });

  it('leaves names that fit untouched at exactly 255 bytes', () => {
    const suffix = '.sync-conflict-20240305-070809-n1.txt';
    const stem = 'a'.repeat(255 - suffix.length);
    expect(conflictName(`${stem}.txt`, t, 'n1')).toBe(`${stem}${suffix}`);
  });

  it('rejects bad node ids, bad times and paths without a file name', () => {
    const failsWith = (code: string, run: () => unknown): void => {
      expect(run).toThrow(expect.objectContaining({ name: 'ConflictError', code }));
    };
    failsWith('INVALID_NODE_ID', () => conflictName('a', t, 'a.b'));
    failsWith('INVALID_NODE_ID', () => conflictName('a', t, ''));
    failsWith('INVALID_TIME', () => conflictName('a', Number.NaN, 'n'));
    failsWith('INVALID_TIME', () => conflictName('a', Number.POSITIVE_INFINITY, 'n'));
    failsWith('INVALID_TIME', () => conflictName('a', Date.UTC(10000, 0, 1), 'n'));
    failsWith('INVALID_PATH', () => conflictName('', t, 'n'));
    failsWith('INVALID_PATH', () => conflictName('dir/', t, 'n'));
  });
});

describe('isConflictName', () => {
  it.each([
    ['a.txt', false],
    ['a.sync-conflict-2024-n.txt', false],
    ['a.sync-conflict-20240305-070809-.txt', false],
    ['a.sync-conflict-20240305-070809-n.txt/child', false],
    ['dir/a.sync-conflict-20240305-070809-n', true],
    ['a.sync-conflict-20240305-070809-n.tar.gz', false],
  ])('%s -> %s', (path, expected) => {
    expect(isConflictName(path)).toBe(expected);
  });
});
