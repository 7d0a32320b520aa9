/** The error code of a failed system call, or 'unknown'. */
export function errorCode(error: unknown): string {
  if (typeof error === 'object' && error !== null && 'code' in error && typeof error.code === 'string') return error.code;
  return 'unknown';
}

/** The path vanished (or stopped being a directory) between seeing it and using it: not a failure. */
export function isVanished(error: unknown): boolean {
  const code = errorCode(error);
  return code === 'ENOENT' || code === 'ENOTDIR';
}

/**
 * Why a directory cannot be watched, with what the operator should raise. Each watched directory
 * takes one inotify watch (ENOSPC when `max_user_watches` is reached); EMFILE comes from the
 * per-user inotify instance limit or the process's open-file limit.
 */
export function describeWatchFailure(absolutePath: string, error: unknown): string {
  const code = errorCode(error);
  const because = error instanceof Error ? error.message : String(error);
  const remedy =
    code === 'ENOSPC'
      ? 'the inotify watch limit is reached (one watch per directory); raise fs.inotify.max_user_watches, e.g. sysctl -w fs.inotify.max_user_watches=524288'
      : code === 'EMFILE'
        ? 'too many inotify instances or open files; raise fs.inotify.max_user_instances or the open-file limit (ulimit -n)'
        : because;
  return `cannot watch ${absolutePath}: ${remedy}; changes there are missed until a rescan (further ${code} failures are not reported)`;
}
