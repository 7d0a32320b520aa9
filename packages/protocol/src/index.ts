export { ProtocolError, isProtocolError } from './errors';
export type { ProtocolErrorCode, PathErrorCode, Result } from './errors';
export { defaultLimits, blockSizeFor, blockSizeMinBytes, blockSizeMaxBytes, KiB, MiB } from './limits';
export type { ProtocolLimits } from './limits';
export { validatePath, isCanonicalPath, defaultStateDirName } from './paths';
export type { PathRuleOptions } from './paths';
export {
  PROTOCOL_VERSION,
  NodeIdSchema,
  Sha256HexSchema,
  WirePathSchema,
  VersionVectorSchema,
  BlockInfoSchema,
  FileTypeSchema,
  FileRecordSchema,
  HelloSchema,
  AuthSchema,
  IndexRequestSchema,
  IndexSchema,
  IndexUpdateSchema,
  RequestSchema,
  RequestErrorCodeSchema,
  ErrorMessageSchema,
  CloseSchema,
  MessageSchema,
  authPayload,
} from './schemas';
export type {
  NodeId,
  WireVersionVector,
  BlockInfo,
  FileType,
  FileRecord,
  HelloMessage,
  AuthMessage,
  IndexRequestMessage,
  IndexMessage,
  IndexUpdateMessage,
  RequestMessage,
  RequestErrorCode,
  ErrorMessage,
  CloseMessage,
  Message,
  MessageType,
  BlockFrame,
} from './schemas';
export { packBlocks, unpackBlocks } from './packed-blocks';
export { encodeMessage, encodeFrame, decodeMessage, encodeBlock, decodeBlock, allocBlockPayload, blockFrameOf, batchRecords, recordBatches, BLOCK_FRAME_KIND, BLOCK_HEADER_BYTES, PUSHED_BLOCK_ID } from './codec';
