import { join } from 'node:path';
import type { EngineContext } from './context';
import { errnoCode } from './errors';
import { fingerprint, sameFingerprint } from './record';
import type { DiskFingerprint } from './record';

interface KeptFile {
  abs: string;
  keptAt: number;
  size: number;
  mtimeMs: number;
}

export interface VersionsOptions {
  retentionMs: number;
  /** Kept versions take at most this many bytes; the oldest go first. */
  bytesMax: number;
}

/**
 * Keeps what a remote change replaced or deleted in `<state>/versions/`, so an unwanted remote
 * change can be undone and a rename whose delete arrives first still finds its blocks locally.
 */
export class Versions {
  /** Block hash → a kept copy that holds it (reused by the puller before asking peers). */
  private readonly blocks = new Map<string, { abs: string; offset: number; size: number }>();
  /** What each kept copy looked like when kept: a copy still like that can be taken back whole. */
  private readonly fingerprints = new Map<string, DiskFingerprint>();

  constructor(
    private readonly ctx: EngineContext,
    private readonly options: VersionsOptions,
  ) {}

  /** Moves (or, when `keepOriginal`, hard-links) the file at `path` into the versions dir. */
  async keep(path: string, blocks: readonly { offset: number; size: number; hash: string }[], keepOriginal: boolean): Promise<boolean> {
    const stamp = new Date(this.ctx.clock.now()).toISOString().replace(/[-:]/g, '').replace(/\..*/, '');
    const destination = join(this.ctx.folder.versionsDir, ...`${path}~${stamp}-${this.ctx.random.id(3)}`.split('/'));
    try {
      const source = this.ctx.folder.abs(path);
      const place = (): Promise<void> => (keepOriginal ? this.ctx.fs.link(source, destination) : this.ctx.fs.rename(source, destination));
      // Directories made only when missing: made up front, each kept file cost a mkdir, an EEXIST
      // and an lstat per level, most of a delete's time when a peer deleted a large tree.
      await place().catch(async (error: unknown) => {
        if (errnoCode(error) !== 'ENOENT') throw error;
        await this.mkdirs(destination);
        await place();
      });
    } catch (error) {
      // A state dir on another filesystem (EXDEV) cannot hold versions cheaply; the caller carries on.
      this.ctx.logger.debug('could not keep a version', { path, error: errnoCode(error) ?? String(error) });
      return false;
    }
    for (const block of blocks) this.blocks.set(block.hash, { abs: destination, offset: block.offset, size: block.size });
    const stat = await this.ctx.fs.lstat(destination).catch(() => null);
    if (stat) this.fingerprints.set(destination, fingerprint(stat));
    return true;
  }

  /**
   * A kept copy holding exactly this content (every block at its offset, the same size) and
   * unchanged since it was kept: the delete of a rename arrived before its create. It is handed
   * over to be renamed back into place, and is no longer a kept version. Null if there is none.
   */
  async takeWhole(blocks: readonly { offset: number; size: number; hash: string }[], size: number): Promise<string | null> {
    const abs = blocks.length > 0 ? this.blocks.get(blocks[0]!.hash)?.abs : undefined;
    if (abs === undefined) return null;
    const holdsAll = blocks.every((block) => {
      const source = this.blocks.get(block.hash);
      return source !== undefined && source.abs === abs && source.offset === block.offset;
    });
    const stat = holdsAll ? await this.ctx.fs.lstat(abs).catch(() => null) : null;
    if (!stat || stat.size !== size || !sameFingerprint(this.fingerprints.get(abs), stat)) return null;
    this.forget(abs);
    return abs;
  }

  private forget(abs: string): void {
    this.fingerprints.delete(abs);
    for (const [hash, source] of this.blocks) if (source.abs === abs) this.blocks.delete(hash);
  }

  blockSource(hash: string): { abs: string; offset: number; size: number } | undefined {
    return this.blocks.get(hash);
  }

  /** Removes kept versions older than the retention period, then the oldest while over the size bound. */
  async prune(): Promise<void> {
    const cutoff = this.ctx.clock.now() - this.options.retentionMs;
    const kept: KeptFile[] = [];
    await this.collect(this.ctx.folder.versionsDir, kept);
    // Stamps have one-second resolution; within a second the content's own mtime orders them.
    kept.sort((a, b) => a.keptAt - b.keptAt || a.mtimeMs - b.mtimeMs);
    let total = kept.reduce((sum, file) => sum + file.size, 0);
    for (const file of kept) {
      if (file.keptAt >= cutoff && total <= this.options.bytesMax) break;
      await this.ctx.fs.unlink(file.abs).catch(() => {});
      total -= file.size;
      this.forget(file.abs);
    }
  }

  private async collect(dir: string, into: KeptFile[]): Promise<void> {
    let entries: { name: string; type: string }[];
    try {
      entries = await this.ctx.fs.readdir(dir);
    } catch {
      return;
    }
    for (const entry of entries) {
      const abs = join(dir, entry.name);
      if (entry.type === 'dir') {
        await this.collect(abs, into);
        continue;
      }
      // Age comes from the name: a moved file keeps its old mtime.
      const keptAt = keptAtMs(entry.name);
      const stat = await this.ctx.fs.lstat(abs).catch(() => null);
      if (keptAt !== null && stat) into.push({ abs, keptAt, size: stat.size, mtimeMs: stat.mtimeMs });
    }
  }

  private async mkdirs(file: string): Promise<void> {
    const base = this.ctx.folder.versionsDir;
    const rel = file.slice(base.length + 1).split('/').slice(0, -1);
    let current = base;
    await this.ctx.fs.mkdir(current);
    for (const segment of rel) {
      current = join(current, segment);
      await this.ctx.fs.mkdir(current);
    }
  }
}

function keptAtMs(name: string): number | null {
  const match = /~(\d{4})(\d{2})(\d{2})T(\d{2})(\d{2})(\d{2})-[A-Za-z0-9_-]+$/.exec(name);
  if (!match) return null;
  const [, y, mo, d, h, mi, s] = match.map(Number) as [number, number, number, number, number, number, number];
  return Date.UTC(y, mo - 1, d, h, mi, s);
}
