import * as z from 'zod';
import { validatePath } from './paths';
import { defaultLimits, blockSizeFor } from './limits';
import { packedBlocksCharsMax, unpackBlocks } from './packed-blocks';

export const PROTOCOL_VERSION = 1;

const limits = defaultLimits;
const utf8 = new TextEncoder();
const uint32 = z.number().int().min(0).max(0xffff_ffff);
const byteCount = z.number().int().min(0).max(Number.MAX_SAFE_INTEGER);

export const NodeIdSchema = z.string().regex(/^[A-Za-z0-9_-]{1,64}$/, 'node id must match [A-Za-z0-9_-]{1,64}');
export const Sha256HexSchema = z.string().regex(/^[0-9a-f]{64}$/, 'expected a lowercase hex SHA-256');

/** A wire path: relative, canonical, inside the folder. The path rule's code travels in `params`. */
export const WirePathSchema = z.string().superRefine((path, ctx) => {
  const result = validatePath(path);
  if (!result.ok) {
    ctx.addIssue({ code: 'custom', message: 'path rejected by the path rules', params: { protocolCode: result.error.code } });
  } else if (result.value !== path) {
    ctx.addIssue({ code: 'custom', message: 'path is not NFC', params: { protocolCode: 'PATH_NOT_NORMALIZED' } });
  }
});

const counter = z.number().int().min(0).max(Number.MAX_SAFE_INTEGER);

/**
 * `{ [nodeId]: counter }`. Parsed through its entries because `z.record` assigns keys one by one and so
 * drops a `__proto__` entry, a valid node id; `Object.fromEntries` defines it as data instead.
 */
export const VersionVectorSchema = z
  .custom<Record<string, unknown>>(
    (v) => typeof v === 'object' && v !== null && !Array.isArray(v),
    'version vector must be an object',
  )
  .transform((v) => Object.entries(v))
  .pipe(z.array(z.tuple([NodeIdSchema, counter])).max(limits.vectorEntriesMax, 'too many version vector entries'))
  .transform((entries): Record<string, number> => Object.fromEntries(entries));

export const BlockInfoSchema = z.object({
  offset: byteCount,
  size: z.number().int().min(0).max(limits.blockBytesMax),
  hash: Sha256HexSchema,
});

export const FileTypeSchema = z.enum(['file', 'dir', 'symlink']);

export const FileRecordSchema = z
  .object({
    path: WirePathSchema,
    type: FileTypeSchema,
    size: byteCount,
    mtimeMs: z.number().finite(),
    mode: z.number().int().min(0).max(0o7777),
    /** SHA-256 of the content; empty for directories, symlinks and tombstones. */
    hash: z.union([Sha256HexSchema, z.literal('')]),
    /** On the wire either objects or, as senders write them, packed hashes (`packBlocks`); parsed to objects. */
    blocks: z.union([z.array(BlockInfoSchema).max(limits.blocksPerFileMax), z.string().max(packedBlocksCharsMax(limits.blocksPerFileMax))]),
    target: z
      .string()
      .refine((t) => utf8.encode(t).byteLength <= limits.symlinkTargetBytesMax, 'symlink target too long')
      .optional(),
    deleted: z.boolean(),
    version: VersionVectorSchema,
    modifiedBy: NodeIdSchema,
    sequence: z.number().int().min(0).max(Number.MAX_SAFE_INTEGER),
  })
  .transform((record, ctx) => {
    const blocks = typeof record.blocks === 'string' ? unpackBlocks(record.blocks, record.size) : record.blocks;
    const problem = typeof blocks === 'string' ? blocks : recordShapeProblem({ ...record, blocks });
    if (problem || typeof blocks === 'string') {
      ctx.addIssue({ code: 'custom', message: problem ?? 'invalid blocks' });
      return z.NEVER;
    }
    // A one-block file's block hash is its hash: one string, not two, for each such record held.
    if (blocks.length === 1 && blocks[0]!.hash === record.hash) blocks[0]!.hash = record.hash;
    return { ...record, blocks };
  });

/** Blocks must tile the file exactly at the protocol's block size, so a peer cannot make us over-allocate or mis-assemble. */
function recordShapeProblem(record: {
  type: string;
  size: number;
  hash: string;
  blocks: { offset: number; size: number }[];
  deleted: boolean;
  target?: string | undefined;
}): string | null {
  if (record.deleted || record.type !== 'file') {
    if (record.blocks.length > 0) return 'only live files carry blocks';
    if (record.type === 'symlink' && !record.deleted && record.target === undefined) return 'symlink without target';
    return null;
  }
  if (record.hash === '') return 'a live file needs a hash';
  const blockSize = blockSizeFor(record.size);
  let offset = 0;
  for (const [index, block] of record.blocks.entries()) {
    if (block.offset !== offset) return `block ${index} does not start where the previous one ended`;
    const isLast = index === record.blocks.length - 1;
    if (isLast ? block.size > blockSize || block.size === 0 : block.size !== blockSize) {
      return `block ${index} has the wrong size for a ${record.size}-byte file`;
    }
    offset += block.size;
  }
  if (offset !== record.size) return 'blocks do not add up to the file size';
  return null;
}

// The count is checked before any record is parsed, so an oversized batch costs nothing and gets its own code.
const batchOfRecords = z
  .array(z.unknown())
  .superRefine((records, ctx) => {
    if (records.length > limits.recordsPerBatchMax) {
      ctx.addIssue({
        code: 'custom',
        message: `more than ${limits.recordsPerBatchMax} records in one batch`,
        params: { protocolCode: 'TOO_MANY_RECORDS' },
      });
    }
  })
  .pipe(z.array(FileRecordSchema));
const nonceSchema = z.string().regex(/^[A-Za-z0-9_-]{22,128}$/, 'nonce must be base64url, 16 to 96 bytes');
const indexIdSchema = z.string().regex(/^[A-Za-z0-9_-]{8,64}$/);

export const HelloSchema = z.object({
  type: z.literal('hello'),
  protocol: z.number().int().min(0).max(0xffff),
  nodeId: NodeIdSchema,
  nonce: nonceSchema,
  software: z.string().max(128),
});

export const AuthSchema = z.object({
  type: z.literal('auth'),
  /** HMAC-SHA256 (hex) over `authPayload(peerNonce, prover, verifier)` with the cluster secret. */
  proof: Sha256HexSchema,
});

/** "Send me your records above `since`": `since` counts in the sequence of index `indexId`; a different index id means start from zero. */
export const IndexRequestSchema = z.object({
  type: z.literal('index-request'),
  indexId: indexIdSchema.nullable(),
  since: z.number().int().min(0).max(Number.MAX_SAFE_INTEGER),
});

/** Catch-up batches after an `index-request`; `done` marks the last one. */
export const IndexSchema = z.object({
  type: z.literal('index'),
  indexId: indexIdSchema,
  records: batchOfRecords,
  done: z.boolean(),
});

/** Live changes after the catch-up. */
export const IndexUpdateSchema = z.object({
  type: z.literal('index-update'),
  indexId: indexIdSchema,
  records: batchOfRecords,
});

export const RequestSchema = z.object({
  type: z.literal('request'),
  id: uint32,
  path: WirePathSchema,
  hash: Sha256HexSchema,
  offset: byteCount,
  size: z.number().int().min(1).max(limits.blockBytesMax),
});

export const RequestErrorCodeSchema = z.enum(['NOT_FOUND', 'CHANGED', 'INVALID', 'BUSY', 'IO']);

export const ErrorMessageSchema = z.object({
  type: z.literal('error'),
  id: uint32,
  code: RequestErrorCodeSchema,
  message: z.string().max(1024).optional(),
});

export const CloseSchema = z.object({
  type: z.literal('close'),
  reason: z.string().max(1024),
});

export const MessageSchema = z.discriminatedUnion('type', [
  HelloSchema,
  AuthSchema,
  IndexRequestSchema,
  IndexSchema,
  IndexUpdateSchema,
  RequestSchema,
  ErrorMessageSchema,
  CloseSchema,
]);

export type NodeId = z.infer<typeof NodeIdSchema>;
export type WireVersionVector = z.infer<typeof VersionVectorSchema>;
export type BlockInfo = z.infer<typeof BlockInfoSchema>;
export type FileType = z.infer<typeof FileTypeSchema>;
export type FileRecord = z.infer<typeof FileRecordSchema>;
export type HelloMessage = z.infer<typeof HelloSchema>;
export type AuthMessage = z.infer<typeof AuthSchema>;
export type IndexRequestMessage = z.infer<typeof IndexRequestSchema>;
export type IndexMessage = z.infer<typeof IndexSchema>;
export type IndexUpdateMessage = z.infer<typeof IndexUpdateSchema>;
export type RequestMessage = z.infer<typeof RequestSchema>;
export type RequestErrorCode = z.infer<typeof RequestErrorCodeSchema>;
export type ErrorMessage = z.infer<typeof ErrorMessageSchema>;
export type CloseMessage = z.infer<typeof CloseSchema>;
export type Message = z.infer<typeof MessageSchema>;
export type MessageType = Message['type'];

/** Binary frames carry one block in answer to a `request`. */
export interface BlockFrame {
  id: number;
  data: Uint8Array;
}

/** The text both sides sign in the handshake: the verifier's fresh nonce binds the proof to this connection. */
export function authPayload(verifierNonce: string, proverNodeId: string, verifierNodeId: string): string {
  return `sync-auth-v${PROTOCOL_VERSION}\n${verifierNonce}\n${proverNodeId}\n${verifierNodeId}`;
}
