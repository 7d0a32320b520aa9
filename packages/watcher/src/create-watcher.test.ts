import { describe, expect, it } from 'vitest';
import { ChokidarWatcher } from './chokidar-watcher';
import { createWatcher, pollingForcedByEnvironment } from './create-watcher';
import { NativeWatcher } from './native-watcher';

describe('createWatcher', () => {
  const root = '/srv/sync';

  it('picks NativeWatcher on Linux with native events, ChokidarWatcher when polling or elsewhere', () => {
    expect(createWatcher({ root }, 'linux', {})).toBeInstanceOf(NativeWatcher);
    expect(createWatcher({ root, pollIntervalMs: false }, 'linux', {})).toBeInstanceOf(NativeWatcher);
    expect(createWatcher({ root, pollIntervalMs: 500 }, 'linux', {})).toBeInstanceOf(ChokidarWatcher);
    expect(createWatcher({ root }, 'darwin', {})).toBeInstanceOf(ChokidarWatcher);
    expect(createWatcher({ root }, 'win32', {})).toBeInstanceOf(ChokidarWatcher);
  });

  it('keeps chokidar (which then polls) when CHOKIDAR_USEPOLLING asks for polling', () => {
    expect(createWatcher({ root }, 'linux', { CHOKIDAR_USEPOLLING: '1' })).toBeInstanceOf(ChokidarWatcher);
    for (const value of ['true', 'TRUE', '1', 'yes']) expect(pollingForcedByEnvironment({ CHOKIDAR_USEPOLLING: value })).toBe(true);
    for (const value of [undefined, '', 'false', 'False', '0']) expect(pollingForcedByEnvironment({ CHOKIDAR_USEPOLLING: value })).toBe(false);
  });

  it('validates options whichever watcher it picks', () => {
    expect(() => createWatcher({ root: 'relative' }, 'linux', {})).toThrow(expect.objectContaining({ code: 'INVALID_OPTIONS' }));
    expect(() => createWatcher({ root: 'relative' }, 'darwin', {})).toThrow(expect.objectContaining({ code: 'INVALID_OPTIONS' }));
  });
});

describe('NativeWatcher options', () => {
  it('refuses a poll interval: polling is ChokidarWatcher\'s job', () => {
    expect(() => new NativeWatcher({ root: '/srv/sync', pollIntervalMs: 100 })).toThrow(expect.objectContaining({ name: 'WatcherError', code: 'INVALID_OPTIONS' }));
  });
});
