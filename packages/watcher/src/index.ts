export { ChokidarWatcher, bufferedEventsMax } from './chokidar-watcher';
export type { ChokidarWatcherOptions } from './chokidar-watcher';
export { IgnoreRules, defaultIgnoreFileName } from './ignore-rules';
export { WatcherError, isWatcherError } from './errors';
export type { WatcherErrorCode } from './errors';
export { stateDirName } from './relative-path';
export type { Watcher, WatchEvent, WatchEventType, WatchListener } from './watch-event';
