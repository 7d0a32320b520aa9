import path from 'node:path';
import { WatcherError } from './errors';

/** The engine's state directory; never reported, whatever the options say. */
export const stateDirName = '.sync';

/**
 * `absolutePath` as a POSIX path relative to `root`, NFC; null for the root itself and for
 * anything outside it.
 */
export function toRelativePosix(root: string, absolutePath: string): string | null {
  const relative = path.relative(root, absolutePath);
  if (relative === '' || relative === '..' || relative.startsWith(`..${path.sep}`) || path.isAbsolute(relative)) {
    return null;
  }
  return relative.split(path.sep).join('/').normalize('NFC');
}

/** Validates and normalises the `ignoredPaths` option: relative POSIX, no './', no trailing '/'. */
export function normaliseIgnoredPaths(ignoredPaths: readonly string[]): string[] {
  const normalised = new Set<string>([stateDirName]);
  for (const ignoredPath of ignoredPaths) {
    const candidate = path.posix.normalize(ignoredPath.normalize('NFC')).replace(/\/+$/, '');
    if (candidate === '.' || candidate === '' || candidate.startsWith('/') || candidate === '..' || candidate.startsWith('../')) {
      throw new WatcherError('INVALID_OPTIONS', `ignoredPaths entry '${ignoredPath}' must be a relative path inside the root`);
    }
    normalised.add(candidate);
  }
  return [...normalised];
}

/** True for each of `ignoredPaths` and everything beneath them. */
export function isUnderAny(relativePath: string, ignoredPaths: readonly string[]): boolean {
  return ignoredPaths.some((ignored) => relativePath === ignored || relativePath.startsWith(`${ignored}/`));
}
