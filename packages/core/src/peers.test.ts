import { createHash } from 'node:crypto';
import type { FileRecord, RequestMessage } from '@sync/protocol';
import { dirFixture, recordFixture } from '@sync/protocol/testing';
import type { AppMessage, Connection } from '@sync/transport';
import { describe, expect, it } from 'vitest';
import { Peers, firstUpdateRecordsMax } from './peers';
import { StoredRecord } from './record';
import type { PeersOptions } from './peers';
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

/** Options for a `Peers` under test: no pushes, blocks served as zeros, unless `overrides` say otherwise. */
function peersOptions(overrides: Partial<PeersOptions>): PeersOptions {
  return {
    requestTimeoutMs: 30_000,
    servedRequestsMax: 256,
    servedBytesInFlightMax: 1 << 20,
    peerRecordsMax: 1000,
    pushFileBytesMax: 0,
    pushBatchBytesMax: 1 << 20,
    onRecords() {},
    onConnected() {},
    serveBlock: (request) => Promise.resolve(new Uint8Array(request.size)),
    ...overrides,
  };
}

/** Peers serving `n2` with a window of `windowBlocks` blocks; `missing` request ids are answered NOT_FOUND. */
function servingPeers(windowBlocks: number, missing: ReadonlySet<number> = new Set()): { connection: HoldingConnection; served: number[]; request(id: number): void } {
  const ctx = engineContextOn(new MemoryFileSystem().mount(), new ManualClock());
  const served: number[] = [];
  const peers = new Peers(
    ctx,
    peersOptions({
      servedBytesInFlightMax: windowBlocks * blockBytes,
      serveBlock: (request) => {
        served.push(request.id);
        return Promise.resolve(missing.has(request.id) ? { code: 'NOT_FOUND', message: 'gone' } : new Uint8Array(request.size));
      },
    }),
  );
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

/** A connection that keeps what it is sent, with the journal's durable sequence at each send. */
class RecordingConnection extends HoldingConnection {
  readonly announced: { sequences: number[]; durableUpTo: number }[] = [];

  constructor(private readonly durableUpTo: () => number) {
    super();
  }

  override send(message: AppMessage): Promise<void> {
    if (message.type === 'index' || message.type === 'index-update') {
      this.announced.push({ sequences: message.records.map((record) => record.sequence), durableUpTo: this.durableUpTo() });
    }
    return super.send(message);
  }
}

/** Peers over a journal that syncs when the test says, announcing to `n2` over a recording connection. */
function announcingPeers(pushFileBytesMax: number) {
  const clock = new ManualClock();
  const base = engineContextOn(new MemoryFileSystem().mount(), clock);
  // What was appended when a sync began is durable once it ends.
  let durableUpTo = 0;
  const syncs: (() => void)[] = [];
  const ctx = {
    ...base,
    journalFlush: (): Promise<void> => {
      const upTo = base.index.sequence;
      return new Promise<void>((resolve) => syncs.push(() => ((durableUpTo = Math.max(durableUpTo, upTo)), resolve())));
    },
  };
  const peers = new Peers(ctx, peersOptions({ pushFileBytesMax }));
  const connection = new RecordingConnection(() => durableUpTo);
  peers.handleConnection(connection);
  // A small file of its own content: one block, whose hash is the file's.
  const publish = (path: string): void => {
    const hash = createHash('sha256').update(path).digest('hex');
    const { sequence: _sequence, ...record }: FileRecord = recordFixture({ path, size: 1000, hash, blocks: [{ offset: 0, size: 1000, hash }], modifiedBy: base.nodeId, version: { [base.nodeId]: base.index.sequence + 1 } });
    base.index.publish({ ...record, disk: undefined });
  };
  const settle = async (): Promise<void> => {
    await nextTurn();
    while (syncs.length > 0) {
      syncs.shift()!();
      await nextTurn();
    }
  };
  const caughtUp = async (): Promise<void> => {
    peers.handleMessage(connection, { type: 'index-request', indexId: base.index.indexId, since: 0 });
    await settle();
  };
  return { clock, syncs, connection, publish, settle, caughtUp };
}

describe('Peers announcing records', () => {
  it('announces only records the journal had when it was synced, never one published while the sync ran', async () => {
    const { clock, syncs, connection, publish, settle, caughtUp } = announcingPeers(0);
    publish('a.txt');
    await caughtUp();
    publish('b.txt');
    clock.advance(10);
    await nextTurn();
    expect(syncs).toHaveLength(1);
    // b.txt's flush waits for its sync; c.txt comes meanwhile.
    publish('c.txt');
    clock.advance(10);
    await settle();

    expect(connection.announced.flatMap((frame) => frame.sequences)).toEqual([1, 2, 3]);
    for (const frame of connection.announced) for (const sequence of frame.sequences) expect(sequence).toBeLessThanOrEqual(frame.durableUpTo);
  });

  it('announces a burst\'s first records in a small batch of their own, each announced once durable', async () => {
    const { clock, syncs, connection, publish, settle, caughtUp } = announcingPeers(64 * 1024);
    await caughtUp();
    const announcedBefore = connection.announced.length;
    for (let i = 0; i < 100; i++) publish(`burst/f${i}`);
    clock.advance(10);
    await nextTurn();
    expect(syncs).toHaveLength(1);
    expect(connection.announced).toHaveLength(announcedBefore);
    syncs.shift()!();
    await nextTurn();
    // The first announcement went out once its own files were pushed, not all hundred.
    expect(connection.announced.slice(announcedBefore).map((frame) => frame.sequences.length)[0]).toBe(firstUpdateRecordsMax);
    await settle();

    const frames = connection.announced.slice(announcedBefore);
    expect(frames.map((frame) => frame.sequences.length)).toEqual([firstUpdateRecordsMax, 100 - firstUpdateRecordsMax]);
    for (const frame of frames) for (const sequence of frame.sequences) expect(sequence).toBeLessThanOrEqual(frame.durableUpTo);
    expect(connection.blocks).toHaveLength(100);
  });
});

describe('Peers keeping what each peer holds', () => {
  it('gives back a peer\'s records as received, those equal to ours and the others, and knows which paths it has', () => {
    const ctx = engineContextOn(new MemoryFileSystem().mount(), new ManualClock());
    ctx.index.publish({ ...dirFixture('same'), disk: undefined });
    const peers = new Peers(ctx, peersOptions({}));
    const connection = new HoldingConnection();
    peers.handleConnection(connection);
    const received = [dirFixture('same', { sequence: 40 }), dirFixture('theirs', { sequence: 41 }), dirFixture('newer', { sequence: 42, version: { 'node-a': 2 } })];
    peers.handleMessage(connection, { type: 'index', indexId: 'peer-index', records: received.map((record) => ({ ...record })), done: true });

    for (const record of received) expect(peers.recordsFor(record.path)).toEqual([{ peerId: 'n2', record }]);
    expect(peers.hasRecordFor('theirs')).toBe(true);
    expect(peers.hasRecordFor('nowhere')).toBe(false);
    expect([...peers.remotePaths()].sort()).toEqual(['newer', 'same', 'theirs']);
  });

  it('shares the values of a peer\'s record once a pull adopts it as ours', () => {
    const ctx = engineContextOn(new MemoryFileSystem().mount(), new ManualClock());
    const peers = new Peers(ctx, peersOptions({}));
    const connection = new HoldingConnection();
    peers.handleConnection(connection);
    peers.handleMessage(connection, { type: 'index', indexId: 'peer-index', records: [dirFixture('theirs', { sequence: 41 })], done: true });
    const adopted = ctx.index.publish({ ...dirFixture('theirs'), disk: undefined });
    expect(peers.recordsFor('theirs')[0]!.record.version).not.toBe(adopted.version);

    peers.localAdopted('theirs');
    const held = peers.recordsFor('theirs')[0]!.record;
    expect(held.version).toBe(adopted.version);
    expect(held).toEqual(dirFixture('theirs', { sequence: 41 }));
  });
});

/** A connection that keeps the messages sent on it. */
class MessageKeepingConnection extends HoldingConnection {
  readonly sent: AppMessage[] = [];

  override send(message: AppMessage): Promise<void> {
    this.sent.push(message);
    return super.send(message);
  }

  indexRequests(): AppMessage[] {
    return this.sent.filter((message) => message.type === 'index-request');
  }
}

describe('Peers restoring the index of a peer saved at the last stop', () => {
  const stored = (record: FileRecord): StoredRecord => new StoredRecord(record, record.sequence, undefined);
  const header = { peerId: 'n2', indexId: 'peer-index-1', maxSequence: 41 };

  it('restores it when the peer first connects, asks the peer only for what is newer, and plans each restored path whose record is not ours', async () => {
    const ctx = engineContextOn(new MemoryFileSystem().mount(), new ManualClock());
    ctx.index.publish({ ...dirFixture('same'), disk: undefined });
    const asked: string[] = [];
    const planned: string[] = [];
    const peers = new Peers(
      ctx,
      peersOptions({
        onRecords: (paths) => planned.push(...paths),
        restoreIndex: async (peerId, into) => {
          asked.push(peerId);
          await nextTurn();
          into.restore(stored(dirFixture('same', { sequence: 40 })));
          into.restore(stored(dirFixture('theirs', { sequence: 41 })));
          return header;
        },
      }),
    );
    const first = new MessageKeepingConnection();
    peers.handleConnection(first);
    expect(first.indexRequests()).toEqual([]);
    await waitUntil(() => first.indexRequests().length === 1);
    expect(first.indexRequests()).toEqual([{ type: 'index-request', indexId: 'peer-index-1', since: 41 }]);
    expect(peers.recordsFor('same')).toEqual([{ peerId: 'n2', record: dirFixture('same', { sequence: 40 }) }]);
    expect(peers.recordsFor('theirs')).toEqual([{ peerId: 'n2', record: dirFixture('theirs', { sequence: 41 }) }]);
    // 'same' equals our record: nothing to plan for it.
    expect(planned).toEqual(['theirs']);

    peers.handleDisconnect(first);
    const second = new MessageKeepingConnection();
    peers.handleConnection(second);
    await waitUntil(() => second.indexRequests().length === 1);
    expect(second.indexRequests()).toEqual([{ type: 'index-request', indexId: 'peer-index-1', since: 41 }]);
    expect(asked).toEqual(['n2']);
  });

  it('keeps what the peer said for a path whose record we replace while its saved index is being read', async () => {
    const ctx = engineContextOn(new MemoryFileSystem().mount(), new ManualClock());
    ctx.index.publish({ ...dirFixture('same'), disk: undefined });
    let finish = (): void => {};
    const peers = new Peers(
      ctx,
      peersOptions({
        restoreIndex: async (_peerId, into) => {
          into.restore(stored(dirFixture('same', { sequence: 40 })));
          await new Promise<void>((resolve) => (finish = resolve));
          return header;
        },
      }),
    );
    const connection = new MessageKeepingConnection();
    peers.handleConnection(connection);
    await nextTurn();
    const ours = ctx.index.publish({ ...dirFixture('same', { version: { 'node-a': 1, n1: 1 } }), disk: undefined });
    finish();
    await waitUntil(() => connection.indexRequests().length === 1);
    const held = peers.recordsFor('same')[0]!.record;
    expect(held).toEqual(dirFixture('same', { sequence: 40 }));
    expect(held.version).not.toEqual(ours.version);
  });

  it('asks for the whole index when the saved one cannot be read, and does not read it again', async () => {
    const ctx = engineContextOn(new MemoryFileSystem().mount(), new ManualClock());
    let reads = 0;
    const peers = new Peers(
      ctx,
      peersOptions({
        restoreIndex: (_peerId, into) => {
          reads++;
          into.restore(stored(dirFixture('half-read', { sequence: 3 })));
          return Promise.reject(new Error('unreadable line'));
        },
      }),
    );
    for (let i = 0; i < 2; i++) {
      const connection = new MessageKeepingConnection();
      peers.handleConnection(connection);
      await waitUntil(() => connection.indexRequests().length === 1);
      expect(connection.indexRequests()).toEqual([{ type: 'index-request', indexId: null, since: 0 }]);
      peers.handleDisconnect(connection);
    }
    expect(reads).toBe(1);
    expect(peers.hasRecordFor('half-read')).toBe(false);
  });
});

/** Resolves once `condition` holds, checking after each turn of the event loop (at most 100). */
async function waitUntil(condition: () => boolean): Promise<void> {
  for (let turn = 0; turn < 100 && !condition(); turn++) await nextTurn();
  expect(condition()).toBe(true);
}

/** Peers with `n2` connected over a connection that never answers, on a clock the test moves. */
function requestingPeers(requestTimeoutMs: number) {
  const clock = new ManualClock();
  const ctx = engineContextOn(new MemoryFileSystem().mount(), clock);
  const peers = new Peers(ctx, peersOptions({ requestTimeoutMs }));
  const connection = new HoldingConnection();
  peers.handleConnection(connection);
  const outcomes = new Map<string, string>();
  const request = (path: string, offset = 0): Promise<Uint8Array> => {
    const asked = peers.request('n2', path, { offset, size: blockBytes, hash: 'b'.repeat(64) });
    asked.then(
      () => outcomes.set(path, 'answered'),
      (error: Error) => outcomes.set(path, error.message),
    );
    return asked;
  };
  return { clock, peers, connection, outcomes, request };
}

describe('Peers requesting blocks', () => {
  it('fails each unanswered request once its own time-out has passed, not before', async () => {
    const { clock, outcomes, request } = requestingPeers(1000);
    void request('a.bin').catch(() => {});
    clock.advance(400);
    void request('b.bin').catch(() => {});
    clock.advance(599);
    await nextTurn();
    expect(outcomes.size).toBe(0);
    clock.advance(1);
    await nextTurn();
    expect(outcomes.get('a.bin')).toBe('PEER_ERROR: n2 did not answer a block request in time');
    expect(outcomes.has('b.bin')).toBe(false);
    clock.advance(400);
    await nextTurn();
    expect(outcomes.get('b.bin')).toBe('PEER_ERROR: n2 did not answer a block request in time');
  });

  it('keeps a request that was answered from timing out, and leaves no timer once none is pending', async () => {
    const { clock, peers, connection, outcomes, request } = requestingPeers(1000);
    const answered = request('a.bin');
    void request('b.bin').catch(() => {});
    // Request ids are handed out from 1, in order.
    peers.handleBlock(connection, { id: 1, data: new Uint8Array(blockBytes) });
    expect((await answered).byteLength).toBe(blockBytes);
    clock.advance(1000);
    await nextTurn();
    expect(outcomes.get('a.bin')).toBe('answered');
    expect(outcomes.get('b.bin')).toBe('PEER_ERROR: n2 did not answer a block request in time');
    expect(clock.pendingTimers).toBe(0);
  });

  it('fails pending requests at once when the peer disconnects, and times out none of them later', async () => {
    const { clock, peers, connection, outcomes, request } = requestingPeers(1000);
    void request('a.bin').catch(() => {});
    peers.handleDisconnect(connection);
    await nextTurn();
    expect(outcomes.get('a.bin')).toBe('PEER_ERROR: n2: peer disconnected');
    clock.advance(1000);
    await nextTurn();
    expect(outcomes.get('a.bin')).toBe('PEER_ERROR: n2: peer disconnected');
  });
});
