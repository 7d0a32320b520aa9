import { describe, expect, it } from 'vitest';
import { describeWatchFailure, errorCode, isVanished } from './watch-failure';

function systemError(code: string): Error {
  return Object.assign(new Error(`${code}: something, watch '/r/d'`), { code });
}

describe('describeWatchFailure', () => {
  it('tells the operator which inotify limit to raise', () => {
    expect(describeWatchFailure('/r/d', systemError('ENOSPC'))).toContain('fs.inotify.max_user_watches');
    expect(describeWatchFailure('/r/d', systemError('EMFILE'))).toContain('fs.inotify.max_user_instances');
    expect(describeWatchFailure('/r/d', systemError('EACCES'))).toContain('EACCES: something');
  });
});

describe('errorCode and isVanished', () => {
  it('reads the code of system errors and treats a vanished path as no failure', () => {
    expect(errorCode(systemError('ENOSPC'))).toBe('ENOSPC');
    expect(errorCode('not an error')).toBe('unknown');
    expect(isVanished(systemError('ENOENT'))).toBe(true);
    expect(isVanished(systemError('ENOTDIR'))).toBe(true);
    expect(isVanished(systemError('ENOSPC'))).toBe(false);
  });
});
