import { dirname, join } from 'node:path';
import { NodeIdSchema } from '@sync/protocol';
import type { FileSystem, Random } from './ports';
import { SyncError } from './errors';
import { tempShardDirs } from './folder';

const utf8 = new TextEncoder();
const decoder = new TextDecoder();

/** Reads a small identity file from the state dir, creating it once with `create()` if missing. */
async function readOrCreate(fs: FileSystem, path: string, create: () => string, valid: (value: string) => boolean): Promise<string> {
  const existing = await fs.readFile(path);
  if (existing) {
    const value = decoder.decode(existing).trim();
    if (valid(value)) return value;
    throw new SyncError('STATE_DIR', `${path} holds an invalid value`);
  }
  const value = create();
  await fs.writeFileAtomic(path, utf8.encode(`${value}\n`));
  return value;
}

export async function prepareStateDir(fs: FileSystem, stateDir: string): Promise<void> {
  try {
    const existed = (await fs.lstat(stateDir))?.type === 'dir';
    await fs.mkdir(stateDir, 0o700);
    // A new state dir's own entry must be durable too, or a power loss takes the whole index with it.
    if (!existed) await fs.syncDir(dirname(stateDir));
    // Partial transfers of a previous run are never resumed blindly: their blocks are re-verified anyway.
    await fs.removeTree(join(stateDir, 'tmp'));
    await fs.mkdir(join(stateDir, 'tmp'), 0o700);
    for (const dir of tempShardDirs(stateDir)) await fs.mkdir(dir, 0o700);
  } catch (cause) {
    throw new SyncError('STATE_DIR', `cannot prepare the state dir ${stateDir}`, { cause });
  }
}

export async function loadNodeId(fs: FileSystem, stateDir: string, wanted: string | undefined, random: Random): Promise<string> {
  const path = join(stateDir, 'node-id');
  if (wanted !== undefined) {
    if (!NodeIdSchema.safeParse(wanted).success) throw new SyncError('INVALID_OPTIONS', `node id ${JSON.stringify(wanted)} must match [A-Za-z0-9_-]{1,64}`);
    const existing = await fs.readFile(path);
    if (!existing || decoder.decode(existing).trim() !== wanted) await fs.writeFileAtomic(path, utf8.encode(`${wanted}\n`));
    return wanted;
  }
  return readOrCreate(fs, path, () => random.id(9), (value) => NodeIdSchema.safeParse(value).success);
}

/** An index id as the protocol allows it. */
export function isIndexId(value: string): boolean {
  return /^[A-Za-z0-9_-]{8,64}$/.test(value);
}

/** The index id changes whenever the index starts over, so peers know our old sequences mean nothing. */
export async function loadIndexId(fs: FileSystem, stateDir: string, indexIsEmpty: boolean, random: Random): Promise<string> {
  const path = join(stateDir, 'index-id');
  if (indexIsEmpty) {
    const fresh = random.id(12);
    await fs.writeFileAtomic(path, utf8.encode(`${fresh}\n`));
    return fresh;
  }
  return readOrCreate(fs, path, () => random.id(12), isIndexId);
}
