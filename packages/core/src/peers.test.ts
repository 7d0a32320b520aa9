import type { RequestMessage } from '@sync/protocol';
import type { AppMessage, Connection } from '@sync/transport';
import { describe, expect, it } from 'vitest';
import { Peers } from './peers';
import { engineContextOn } from './testing/engine-context';
import { ManualClock, MemoryFileSystem } from './testing/index';

const blockBytes = 1024;
const nextTurn = (): Promise<unknown> => new Promise((resolve) => setImmediate(resolve));

/** A connection that keeps every block it is given until the test says it was written out. */
class HoldingConnection implements Connection {
  readonly peerId = 'n2';
  readonly direction = 'inbound';
  readonly remoteAddress = 'test://n2';
  closed = false;
  readonly blocks: { id: number; written: () => void }[] = [];
  readonly errors: number[] = [];

  send(message: AppMessage): Promise<void> {
    if (message.type === 'error') this.errors.push(message.id);
    return Promise.resolve();
  }

  sendBlock(id: number, _data: Uint8Array, released?: () => void): Promise<void> {
    this.blocks.push({ id, written: () => released?.() });
    return Promise.resolve();
  }

  close(): void {}
}

/** Peers serving `n2` with a window of `windowBlocks` blocks; `missing` request ids are answered NOT_FOUND. */
function servingPeers(windowBlocks: number, missing: ReadonlySet<number> = new Set()): { connection: HoldingConnection; served: number[]; request(id: number): void } {
  const ctx = engineContextOn(new MemoryFileSystem().mount(), new ManualClock());
  const served: number[] = [];
  const peers = new Peers(ctx, {
    requestTimeoutMs: 30_000,
    servedRequestsMax: 256,
    servedBytesInFlightMax: windowBlocks * blockBytes,
    peerRecordsMax: 1000,
    pushFileBytesMax: 0,
    pushBatchBytesMax: 0,
    onRecords() {},
    onConnected() {},
    serveBlock: (request) => {
      served.push(request.id);
      return Promise.resolve(missing.has(request.id) ? { code: 'NOT_FOUND', message: 'gone' } : new Uint8Array(request.size));
    },
  });
  const connection = new HoldingConnection();
  peers.handleConnection(connection);
  const request = (id: number): void => {
    const message: RequestMessage = { type: 'request', id, path: 'big.bin', hash: 'a'.repeat(64), offset: (id - 1) * blockBytes, size: blockBytes };
    peers.handleMessage(connection, message);
  };
  return { connection, served, request };
}

describe('Peers serving blocks', () => {
  it('reads no more of a peer\'s requests than its window holds until earlier blocks are written out', async () => {
    const { connection, served, request } = servingPeers(2);
    for (let id = 1; id <= 5; id++) request(id);
    await nextTurn();
    expect(served).toEqual([1, 2]);
    connection.blocks[0]!.written();
    await nextTurn();
    expect(served).toEqual([1, 2, 3]);
    for (let i = 1; i < 5; i++) {
      connection.blocks[i]!.written();
      await nextTurn();
    }
    expect(served).toEqual([1, 2, 3, 4, 5]);
    expect(connection.blocks.map((block) => block.id)).toEqual([1, 2, 3, 4, 5]);
  });

  it('frees the room of a request it answers with an error at once', async () => {
    const { connection, served, request } = servingPeers(1, new Set([1, 2]));
    for (let id = 1; id <= 3; id++) request(id);
    await nextTurn();
    expect(served).toEqual([1, 2, 3]);
    expect(connection.errors).toEqual([1, 2]);
    expect(connection.blocks.map((block) => block.id)).toEqual([3]);
  });
});
