import { ChokidarWatcher } from './chokidar-watcher';
import { NativeWatcher } from './native-watcher';
import type { Watcher } from './watch-event';
import type { WatcherOptions } from './watcher-options';

/**
 * The watcher for these options: `NativeWatcher` on Linux with native events; `ChokidarWatcher`
 * when polling (bind mounts that deliver no events) and on other platforms, whose `fs.watch`
 * reports moves and deletions differently from inotify.
 */
export function createWatcher(options: WatcherOptions, platform: NodeJS.Platform = process.platform, env: NodeJS.ProcessEnv = process.env): Watcher {
  const polling = (options.pollIntervalMs ?? false) !== false || pollingForcedByEnvironment(env);
  return !polling && platform === 'linux' ? new NativeWatcher(options) : new ChokidarWatcher(options);
}

/**
 * chokidar's own switch, `CHOKIDAR_USEPOLLING` (parsed as chokidar does), still means polling:
 * deployments that set it for a bind mount must not silently lose their events.
 */
export function pollingForcedByEnvironment(env: NodeJS.ProcessEnv): boolean {
  const value = env.CHOKIDAR_USEPOLLING?.toLowerCase();
  return value !== undefined && value !== '' && value !== 'false' && value !== '0';
}
