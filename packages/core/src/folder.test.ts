import { describe, expect, it } from 'vitest';
import { Folder } from './folder';
import { NodeFileSystem } from './node-file-system';

describe('Folder', () => {
  it('refuses paths that could leave the folder or touch the state dir', () => {
    const folder = new Folder(new NodeFileSystem(), '/data', '/data/.sync');
    for (const bad of ['../x', '/etc/passwd', 'a/../../b', '.sync/node-id', 'a\\b', '']) {
      expect(folder.isForbidden(bad), bad).toBe(true);
      expect(() => folder.abs(bad)).toThrow(/UNSAFE_PATH/);
    }
    expect(folder.abs('a/b.txt')).toBe('/data/a/b.txt');
  });

  it('treats a custom state dir inside the folder as off limits', () => {
    const folder = new Folder(new NodeFileSystem(), '/data', '/data/meta/state');
    expect(folder.isForbidden('meta/state/index.journal')).toBe(true);
    expect(folder.isForbidden('meta/other')).toBe(false);
    expect(new Folder(new NodeFileSystem(), '/data', '/var/state').stateDirRelative).toBeNull();
  });
});
