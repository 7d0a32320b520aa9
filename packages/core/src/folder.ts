import { dirname, join, normalize, relative, sep } from 'node:path';
import { validatePath } from '@sync/protocol';
import type { FileStat, FileSystem } from './ports';
import { SyncError } from './errors';
import { parentPath } from './record';
import { GroupCommit } from './group-commit';

/**
 * Temp files are spread over this many subdirectories of the tmp dir, in turn. Creating a file
 * takes its directory's lock: with one tmp dir, a receiver's pool threads creating files at once
 * spun on that lock for a sixth of the receiver's CPU in `small` (perf), and a bare loop making
 * 10,000 small files took 4.2–5.6 s instead of 2.5–3.2 s.
 */
const tempShardCount = 16;

/** The tmp dir's subdirectories temp files are created in; `prepareStateDir` makes them. */
export function tempShardDirs(stateDir: string): string[] {
  return Array.from({ length: tempShardCount }, (_, i) => join(stateDir, 'tmp', i.toString(16)));
}

/**
 * The synced folder as the engine may touch it: relative paths only, checked by the protocol's
 * path rules, and every parent a real directory (never a symlink), so nothing resolves outside.
 */
export class Folder {
  readonly versionsDir: string;
  /** Set when the state dir lives inside the folder: paths under it are never synced. */
  readonly stateDirRelative: string | null;
  private readonly dirSyncs: GroupCommit;
  private readonly tempDirs: readonly string[];
  private nextTempDir = 0;
  /**
   * The root with its separator: a checked path (no empty, `.` or `..` segment) is appended as it
   * is. `path.join` normalised every path again, and a cold scan of 100,000 files spent ~190 MB of
   * short-lived strings on it (sampled allocations), a sixth of all it allocated.
   */
  private readonly rootPrefix: string;

  constructor(
    readonly fs: FileSystem,
    readonly root: string,
    readonly stateDir: string,
  ) {
    this.tempDirs = tempShardDirs(stateDir);
    const normalRoot = normalize(root);
    this.rootPrefix = normalRoot.endsWith(sep) ? normalRoot : `${normalRoot}${sep}`;
    this.versionsDir = join(stateDir, 'versions');
    const rel = relative(root, stateDir);
    this.stateDirRelative = rel && !rel.startsWith('..') && !rel.startsWith(sep) ? rel.split(sep).join('/') : null;
    this.dirSyncs = new GroupCommit((absDir) => fs.syncDir(absDir));
  }

  /**
   * Makes a directory's entries durable (absolute path). Transfers landing in one directory share
   * its fsyncs: a burst of small files costs two directory fsyncs, not one each.
   */
  syncDir(absDir: string): Promise<void> {
    return this.dirSyncs.run(absDir);
  }

  /** True for paths the engine must never sync: the state dir and anything the path rules reject. */
  isForbidden(path: string): boolean {
    const result = validatePath(path);
    if (!result.ok || result.value !== path) return true;
    const state = this.stateDirRelative;
    return state !== null && (path === state || path.startsWith(`${state}/`));
  }

  abs(path: string): string {
    if (this.isForbidden(path)) throw new SyncError('UNSAFE_PATH', `refusing path ${JSON.stringify(path)}`, { path });
    return this.checkedAbs(path);
  }

  /** `abs` of a path the path rules have passed. */
  private checkedAbs(path: string): string {
    return this.rootPrefix + (sep === '/' ? path : path.replaceAll('/', sep));
  }

  /** lstat of a path whose parents are all real directories; null when missing or unreachable safely. */
  async stat(path: string): Promise<FileStat | null> {
    const abs = this.abs(path);
    if (!(await this.parentsAreDirsChecked(path))) return null;
    return this.fs.lstat(abs);
  }

  async parentsAreDirs(path: string): Promise<boolean> {
    this.abs(path);
    return this.parentsAreDirsChecked(path);
  }

  /** For a path already checked by the path rules: its prefixes pass them too, so they are not checked again. */
  private async parentsAreDirsChecked(path: string): Promise<boolean> {
    const parent = parentPath(path);
    if (parent === null) return true;
    for (let at = parent.indexOf('/'); ; at = parent.indexOf('/', at + 1)) {
      const prefix = at === -1 ? parent : parent.slice(0, at);
      const stat = await this.fs.lstat(this.checkedAbs(prefix));
      if (!stat || stat.type !== 'dir') return false;
      if (at === -1) return true;
    }
  }

  /**
   * Creates missing parents; refuses when one is a symlink or a file (it could point anywhere).
   * Every level is checked, even when the parent itself is a directory: this is what keeps a
   * pull's new entry inside the folder, since a commit's own look (`stat`) reads a path it cannot
   * reach safely as missing.
   */
  async ensureParents(path: string): Promise<void> {
    const parent = parentPath(path);
    if (parent === null) return;
    let current = '';
    for (const segment of parent.split('/')) {
      current = current ? `${current}/${segment}` : segment;
      const abs = this.abs(current);
      const stat = await this.fs.lstat(abs);
      if (!stat) {
        await this.fs.mkdir(abs);
        // Made durable at once: a file committed inside must not vanish with its parent in a crash.
        await this.syncDir(dirname(abs));
      }
      else if (stat.type !== 'dir') {
        throw new SyncError('UNSAFE_PATH', `${current} is a ${stat.type}, not a directory`, { path });
      }
    }
  }

  tempPath(id: string): string {
    const dir = this.tempDirs[this.nextTempDir]!;
    this.nextTempDir = (this.nextTempDir + 1) % this.tempDirs.length;
    return join(dir, `${id}.part`);
  }
}

export function toPosixRelative(root: string, absolute: string): string {
  return relative(root, absolute).split(sep).join('/').normalize('NFC');
}
