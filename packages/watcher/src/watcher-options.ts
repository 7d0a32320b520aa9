import path from 'node:path';
import { WatcherError } from './errors';
import { defaultIgnoreFileName } from './ignore-rules';
import { normaliseIgnoredPaths } from './relative-path';

/** What every watcher of this package takes; partial in public, normalised once in the constructor. */
export interface WatcherOptions {
  /** Absolute folder to watch. */
  root: string;
  /** Relative POSIX paths never reported, with everything beneath them; '.sync' always is. */
  ignoredPaths?: string[];
  /** gitignore-syntax file in the root; default '.syncignore'. */
  ignoreFileName?: string;
  /** false (default): native events (inotify); a number: poll at that interval (bind mounts without events). */
  pollIntervalMs?: number | false;
}

export interface NormalisedWatcherOptions {
  root: string;
  ignoredPaths: readonly string[];
  ignoreFileName: string;
  pollIntervalMs: number | false;
}

export function normaliseWatcherOptions(options: WatcherOptions): NormalisedWatcherOptions {
  if (!path.isAbsolute(options.root)) {
    throw new WatcherError('INVALID_OPTIONS', `root must be an absolute path, got '${options.root}'`);
  }
  const ignoreFileName = options.ignoreFileName ?? defaultIgnoreFileName;
  if (ignoreFileName === '' || ignoreFileName === '.' || ignoreFileName === '..' || /[/\\]/.test(ignoreFileName)) {
    throw new WatcherError('INVALID_OPTIONS', `ignoreFileName must be a plain file name, got '${ignoreFileName}'`);
  }
  const pollIntervalMs = options.pollIntervalMs ?? false;
  if (pollIntervalMs !== false && !(Number.isFinite(pollIntervalMs) && pollIntervalMs > 0)) {
    throw new WatcherError('INVALID_OPTIONS', `pollIntervalMs must be false or a positive number, got ${pollIntervalMs}`);
  }
  return {
    root: path.resolve(options.root),
    ignoredPaths: normaliseIgnoredPaths(options.ignoredPaths ?? []),
    ignoreFileName,
    pollIntervalMs,
  };
}
