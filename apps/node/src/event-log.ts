import type { SyncEvents, SyncNode } from '@sync/core';
import type { AppLogger } from './logger';
import { ProgressLog } from './progress-log';
import { formatBytes, formatDuration } from './units';

export interface EventLogOptions {
  logger: AppLogger;
  /** Called with every 'file-synced' event, e.g. to feed the propagation histogram. */
  onSynced?: (event: Parameters<SyncEvents['file-synced']>[0]) => void;
  progress?: ProgressLog;
  /** For large local files being hashed before peers can hear of them. */
  hashing?: ProgressLog;
}

/** Subscribes to a node's events and logs one line per event. Returns the unsubscribe function. */
export function attachEventLog(node: Pick<SyncNode, 'on'>, options: EventLogOptions): () => void {
  const { logger } = options;
  const progress = options.progress ?? new ProgressLog(logger);
  const hashing = options.hashing ?? new ProgressLog(logger, { message: 'hashing progress' });
  const unsubscribe = [
    node.on('peer-connected', (event) => logger.info('peer up', { peer: event.peerId, address: event.address, direction: event.direction })),
    node.on('peer-disconnected', (event) => logger.info('peer down', { peer: event.peerId, reason: event.reason })),
    node.on('file-synced', (event) => {
      progress.onDone(event.path);
      options.onSynced?.(event);
      logger.info(event.op === 'remove' ? 'removed' : 'synced', {
        path: event.path,
        op: event.op,
        type: event.type,
        size: event.type === 'file' && event.op !== 'remove' ? formatBytes(event.bytes) : undefined,
        from: event.fromPeer,
        took: formatDuration(event.durationMs),
      });
    }),
    node.on('conflict', (event) =>
      logger.warn('conflict', { path: event.path, kept: event.copyPath ?? 'none (newest-wins)', winner: event.winner, loser: event.loser, kind: event.kind }),
    ),
    node.on('error', (error) => logger.error('sync error', { code: error.code, path: error.path, error: error.message })),
    node.on('progress', (event) => progress.onProgress(event)),
    node.on('hash-progress', (event) => hashing.onProgress(event)),
    node.on('local-change', (event) => logger.debug('local change', { path: event.path, op: event.op, type: event.type })),
    node.on('step', (step) => logger.debug('step', { op: step.op, path: step.path, type: step.type, size: step.size, copy: step.copyPath })),
  ];
  return () => {
    for (const off of unsubscribe) off();
  };
}
