/** Limits are part of the protocol: a peer that exceeds one is disconnected. */
export interface ProtocolLimits {
  /** Largest text or binary frame accepted. */
  frameBytesMax: number;
  /** Records in one `index` or `index-update` message. */
  recordsPerBatchMax: number;
  /** Bytes of JSON a sender puts in one index batch (kept well under `frameBytesMax`). */
  batchBytesMax: number;
  /** Whole relative path, UTF-8. */
  pathBytesMax: number;
  /** One path segment, UTF-8 (the common filesystem limit). */
  segmentBytesMax: number;
  /** Payload of one block (the largest block size). */
  blockBytesMax: number;
  /** Blocks listed for one file. */
  blocksPerFileMax: number;
  /** Entries in one version vector. */
  vectorEntriesMax: number;
  /** Symlink target text, UTF-8. */
  symlinkTargetBytesMax: number;
}

export const KiB = 1024;
export const MiB = 1024 * KiB;

export const defaultLimits: Readonly<ProtocolLimits> = Object.freeze({
  frameBytesMax: 16 * MiB + 64 * KiB,
  recordsPerBatchMax: 1000,
  batchBytesMax: 4 * MiB,
  pathBytesMax: 4096,
  segmentBytesMax: 255,
  blockBytesMax: 16 * MiB,
  blocksPerFileMax: 1 << 20,
  vectorEntriesMax: 1000,
  symlinkTargetBytesMax: 4096,
});

export const blockSizeMinBytes = 128 * KiB;
export const blockSizeMaxBytes = 16 * MiB;
export const blocksPerFileTarget = 2048;

/** 128 KiB, doubled while the file would have more than 2,048 blocks, at most 16 MiB. */
export function blockSizeFor(fileBytes: number): number {
  let size = blockSizeMinBytes;
  while (size < blockSizeMaxBytes && fileBytes > size * blocksPerFileTarget) size *= 2;
  return size;
}
