import { afterEach, describe, expect, it } from 'vitest';
import type { AppMessage, Connection, Transport } from '../src/index';
import { WsTransport } from '../src/index';
import { createMemoryNetwork } from '../src/testing/index';
import { until } from './until';

interface Made {
  transport: Transport;
  url: string;
}

type Factory = (nodeId: string, secret?: string, port?: number) => Promise<Made>;

function wsFactory(): Factory {
  return async (nodeId, secret = 'secret', port = 0) => {
    const transport = new WsTransport({ nodeId, secret, listen: { host: '127.0.0.1', port }, backoff: { initialMs: 20, maxMs: 200 } });
    const address = await transport.listen();
    return { transport, url: `ws://127.0.0.1:${address?.port}` };
  };
}

function memoryFactory(): Factory {
  const network = createMemoryNetwork();
  return async (nodeId, secret = 'secret') => {
    const transport = network.createTransport({ nodeId, secret, backoff: { initialMs: 20, maxMs: 200 } });
    await transport.listen();
    return { transport, url: `mem://${nodeId}` };
  };
}

function record(transport: Transport): { messages: AppMessage[]; disconnects: string[]; connections: Connection[] } {
  const seen = { messages: [] as AppMessage[], disconnects: [] as string[], connections: [] as Connection[] };
  transport.on('message', (_c, message) => seen.messages.push(message));
  transport.on('disconnect', (_c, reason) => seen.disconnects.push(reason));
  transport.on('connection', (c) => seen.connections.push(c));
  return seen;
}

const open: Transport[] = [];
afterEach(async () => {
  await Promise.all(open.splice(0).map((t) => t.close()));
});

describe.each([
  ['ws', wsFactory],
  ['memory', memoryFactory],
] as const)('Transport contract over %s', (_kind, makeFactory) => {
  const start = async (factory: Factory, nodeId: string, secret?: string, port?: number): Promise<Made> => {
    const made = await factory(nodeId, secret, port);
    open.push(made.transport);
    return made;
  };

  it('connects a dialer and a listener, each seeing the other by node id, and carries messages both ways', async () => {
    const factory = makeFactory();
    const a = await start(factory, 'a');
    const b = await start(factory, 'b');
    const seenA = record(a.transport);
    const seenB = record(b.transport);
    b.transport.dial(a.url);
    await until(() => seenA.connections.length === 1 && seenB.connections.length === 1, 'connected');
    expect(seenA.connections[0]?.peerId).toBe('b');
    expect(seenA.connections[0]?.direction).toBe('inbound');
    expect(seenB.connections[0]?.peerId).toBe('a');
    expect(seenB.connections[0]?.direction).toBe('outbound');

    await seenA.connections[0]?.send({ type: 'index-request', indexId: null, since: 3 });
    await seenB.connections[0]?.send({ type: 'error', id: 9, code: 'NOT_FOUND' });
    await until(() => seenA.messages.length === 1 && seenB.messages.length === 1, 'messages');
    expect(seenB.messages[0]).toEqual({ type: 'index-request', indexId: null, since: 3 });
    expect(seenA.messages[0]).toEqual({ type: 'error', id: 9, code: 'NOT_FOUND' });
  });

  it('carries block frames intact, large ones included', async () => {
    const factory = makeFactory();
    const a = await start(factory, 'a');
    const b = await start(factory, 'b');
    const frames: { id: number; data: Uint8Array }[] = [];
    a.transport.on('block', (_c, frame) => frames.push({ id: frame.id, data: Uint8Array.from(frame.data) }));
    b.transport.dial(a.url);
    await until(() => b.transport.connections().length === 1, 'connected');
    const big = new Uint8Array(4 * 1024 * 1024).map((_, i) => (i * 31) & 0xff);
    await b.transport.connections()[0]?.sendBlock(1, big);
    await b.transport.connections()[0]?.sendBlock(0xffffffff, new Uint8Array());
    await until(() => frames.length === 2, 'blocks');
    expect(frames[0]?.id).toBe(1);
    expect(Buffer.compare(Buffer.from(frames[0]!.data), Buffer.from(big))).toBe(0);
    expect(frames[1]).toEqual({ id: 0xffffffff, data: new Uint8Array() });
  });

  it('releases every block it was given exactly once, written out or refused after a close', async () => {
    const factory = makeFactory();
    const a = await start(factory, 'a');
    const b = await start(factory, 'b');
    const seenA = record(a.transport);
    b.transport.dial(a.url);
    await until(() => seenA.connections.length === 1 && b.transport.connections().length === 1, 'connected');
    const ends = [seenA.connections[0]!, b.transport.connections()[0]!];
    const releases = [0, 0, 0, 0];
    await Promise.all(ends.map((end, i) => end.sendBlock(i, new Uint8Array(300_000), () => releases[i]!++)));
    await until(() => releases[0] === 1 && releases[1] === 1, 'sent blocks released');
    ends[0]!.close('test');
    await until(() => ends.every((end) => end.closed), 'closed');
    const refused = await Promise.allSettled(ends.map((end, i) => end.sendBlock(i, new Uint8Array(10), () => releases[i + 2]!++)));
    expect(refused.map((result) => result.status)).toEqual(['rejected', 'rejected']);
    expect(releases).toEqual([1, 1, 1, 1]);
  });

  it('never connects peers with different secrets', async () => {
    const factory = makeFactory();
    const a = await start(factory, 'a', 'one');
    const b = await start(factory, 'b', 'two');
    const errors: string[] = [];
    a.transport.on('error', (e) => errors.push(e.code));
    const seenA = record(a.transport);
    b.transport.dial(a.url);
    await until(() => errors.includes('AUTH_FAILED'), 'an auth failure');
    expect(seenA.connections).toEqual([]);
    expect(a.transport.connections()).toEqual([]);
    expect(b.transport.connections()).toEqual([]);
  });

  it('keeps exactly one connection when both sides dial each other', async () => {
    const factory = makeFactory();
    const a = await start(factory, 'a');
    const b = await start(factory, 'b');
    a.transport.dial(b.url);
    b.transport.dial(a.url);
    await until(() => a.transport.connections().length === 1 && b.transport.connections().length === 1, 'connected');
    // Give a second connection every chance to appear; the condition must hold throughout.
    const deadline = Date.now() + 300;
    while (Date.now() < deadline) {
      expect(a.transport.connections().length).toBeLessThanOrEqual(1);
      expect(b.transport.connections().length).toBeLessThanOrEqual(1);
      await new Promise((resolve) => setImmediate(resolve));
    }
    await until(() => a.transport.connections().length === 1 && b.transport.connections().length === 1, 'still connected');
    const kept = a.transport.connections()[0];
    expect(kept?.direction).toBe('outbound'); // dialed by the smaller id, "a"
  });

  it('redials a peer that went away and came back, and reports the disconnect', async () => {
    const factory = makeFactory();
    const a = await start(factory, 'a');
    const b = await start(factory, 'b');
    const seenB = record(b.transport);
    b.transport.dial(a.url);
    await until(() => seenB.connections.length === 1, 'connected');
    const port = Number(new URL(a.url.replace('mem://', 'ws://')).port) || 0;
    await a.transport.close();
    await until(() => seenB.disconnects.length === 1, 'disconnect seen');
    expect(seenB.disconnects[0]).toMatch(/shutting down/);
    await start(factory, 'a', 'secret', port);
    await until(() => seenB.connections.length === 2 && b.transport.connections().length === 1, 'reconnected');
  });

  it('close() ends every connection promptly', async () => {
    const factory = makeFactory();
    const a = await start(factory, 'a');
    const b = await start(factory, 'b');
    const c = await start(factory, 'c');
    b.transport.dial(a.url);
    c.transport.dial(a.url);
    await until(() => a.transport.connections().length === 2, 'connected');
    const began = Date.now();
    await a.transport.close();
    expect(Date.now() - began).toBeLessThan(2_000);
    expect(a.transport.connections()).toEqual([]);
    await until(() => b.transport.connections().length === 0 && c.transport.connections().length === 0, 'peers see it');
  });
});

describe('memory network faults', () => {
  it('cut drops a link and the dialer restores it; a partition holds until healed', async () => {
    const network = createMemoryNetwork({ latencyMs: 1 });
    const a = network.createTransport({ nodeId: 'a', secret: 's', backoff: { initialMs: 10, maxMs: 50 } });
    const b = network.createTransport({ nodeId: 'b', secret: 's', backoff: { initialMs: 10, maxMs: 50 } });
    open.push(a, b);
    await a.listen();
    await b.listen();
    const seenB = record(b);
    b.dial('mem://a');
    await until(() => seenB.connections.length === 1, 'connected');
    network.cut('a', 'b');
    await until(() => seenB.disconnects.length === 1, 'cut');
    expect(seenB.disconnects[0]).toBe('network cut');
    await until(() => seenB.connections.length === 2, 'redialed');

    network.partition(['a'], ['b']);
    await until(() => seenB.disconnects.length === 2, 'partitioned');
    const before = seenB.connections.length;
    const refused = network.refusedDials;
    await until(() => network.refusedDials >= refused + 3, 'several refused redials');
    expect(seenB.connections.length).toBe(before);
    network.heal();
    await until(() => seenB.connections.length === before + 1, 'healed');
  });
});
