import { join } from 'node:path';
import { NodeIdSchema } from '@sync/protocol';
import type { FileSystem } from './ports';
import type { StoredRecord } from './record';
import { SyncError } from './errors';
import { journalLinesOf, recordOfLine } from './journal-line';
import { readLines, writeLinesAtomic } from './line-file';
import { isIndexId } from './state-dir';

/** Where each peer's index is kept across a restart: `<state dir>/peers/<peer id>.index`. */
const dirName = 'peers';
const suffix = '.index';

/** Which of a peer's indexes a saved one is, and how far it goes. */
export interface PeerIndexHeader {
  peerId: string;
  indexId: string;
  /** Every record of the peer's up to this sequence is in the file (or superseded by one that is). */
  maxSequence: number;
}

export function peerIndexDir(stateDir: string): string {
  return join(stateDir, dirName);
}

/**
 * Replaces the saved index of one peer: a header line, then each record as a journal line (a
 * peer's records carry no disk fingerprint, so none is written). Temp file and rename: a crash
 * leaves the previous file or this one, whole.
 */
export async function savePeerIndex(fs: FileSystem, stateDir: string, header: PeerIndexHeader, records: readonly StoredRecord[]): Promise<void> {
  const dir = peerIndexDir(stateDir);
  await fs.mkdir(dir, 0o700);
  const first = JSON.stringify({ peer: header.peerId, indexId: header.indexId, maxSequence: header.maxSequence, records: records.length });
  await writeLinesAtomic(fs, dir, `${header.peerId}${suffix}`, linesOf(first, records));
}

function* linesOf(header: string, records: readonly StoredRecord[]): Generator<string, void, undefined> {
  yield header;
  yield* journalLinesOf(records);
}

/**
 * Reads a peer's saved index, handing each record to `onRecord` as it is read; null when there is
 * none. Throws `SyncError('INDEX_CORRUPT')` for a file that is not a whole saved index of that peer
 * (records already handed over are then to be dropped).
 */
export async function loadPeerIndex(fs: FileSystem, stateDir: string, peerId: string, onRecord: (record: StoredRecord) => void): Promise<PeerIndexHeader | null> {
  const path = join(peerIndexDir(stateDir), `${peerId}${suffix}`);
  let header: (PeerIndexHeader & { records: number }) | null = null;
  let records = 0;
  const read = await readLines(fs, path, (line) => {
    if (header === null) {
      header = decodeHeader(line, path);
      if (header.peerId !== peerId) throw new SyncError('INDEX_CORRUPT', `${path} holds the index of ${header.peerId}`);
      return;
    }
    onRecord(recordOfLine(line, path));
    records++;
  });
  if (read === null) return null;
  const found = header as (PeerIndexHeader & { records: number }) | null;
  if (found === null || read.torn || records !== found.records) throw new SyncError('INDEX_CORRUPT', `${path} is incomplete`);
  return { peerId: found.peerId, indexId: found.indexId, maxSequence: found.maxSequence };
}

function decodeHeader(line: string, path: string): PeerIndexHeader & { records: number } {
  let raw: unknown;
  try {
    raw = JSON.parse(line);
  } catch (cause) {
    throw new SyncError('INDEX_CORRUPT', `unreadable header in ${path}`, { cause });
  }
  const { peer, indexId, maxSequence, records } = (typeof raw === 'object' && raw !== null ? raw : {}) as Record<string, unknown>;
  if (
    typeof peer !== 'string' ||
    !NodeIdSchema.safeParse(peer).success ||
    typeof indexId !== 'string' ||
    !isIndexId(indexId) ||
    !Number.isSafeInteger(maxSequence) ||
    (maxSequence as number) < 0 ||
    !Number.isSafeInteger(records) ||
    (records as number) < 0
  ) {
    throw new SyncError('INDEX_CORRUPT', `${path} has no valid header`);
  }
  return { peerId: peer, indexId, maxSequence: maxSequence as number, records: records as number };
}
