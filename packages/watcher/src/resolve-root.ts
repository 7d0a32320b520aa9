import { realpath, stat } from 'node:fs/promises';
import { WatcherError } from './errors';

/** The root's real path: no watcher here follows symlinks, so a symlinked root must be resolved. */
export async function resolveRoot(root: string): Promise<string> {
  let real: string;
  try {
    real = await realpath(root);
  } catch (error) {
    throw new WatcherError('ROOT_MISSING', `cannot resolve the watched folder ${root}`, { cause: error });
  }
  const stats = await stat(real).catch((error: unknown) => {
    throw new WatcherError('ROOT_MISSING', `cannot stat the watched folder ${real}`, { cause: error });
  });
  if (!stats.isDirectory()) throw new WatcherError('ROOT_NOT_DIRECTORY', `${root} is not a directory`);
  return real;
}
