import { createConnection, createServer } from 'node:net';
import type { Server, Socket } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { WebSocket } from 'ws';
import { allocBlockPayload } from '@sync/protocol';
import { WsTransport } from '../src/index';
import type { TransportError } from '../src/index';
import { until } from './until';

const open: WsTransport[] = [];
const servers: Server[] = [];
afterEach(async () => {
  await Promise.all(open.splice(0).map((t) => t.close()));
  for (const server of servers.splice(0)) server.close();
});

async function listening(nodeId: string, options: Partial<ConstructorParameters<typeof WsTransport>[0]> = {}): Promise<{ transport: WsTransport; url: string; errors: TransportError[] }> {
  const transport = new WsTransport({ nodeId, secret: 'secret', listen: { host: '127.0.0.1', port: 0 }, ...options });
  open.push(transport);
  const errors: TransportError[] = [];
  transport.on('error', (error) => errors.push(error));
  const address = await transport.listen();
  return { transport, url: `ws://127.0.0.1:${address?.port}`, errors };
}

function rawClient(url: string): Promise<{ ws: WebSocket; closed: Promise<string> }> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(url);
    const closed = new Promise<string>((done) => ws.on('close', (_code, reason) => done(reason.toString())));
    ws.on('error', () => {});
    ws.once('open', () => resolve({ ws, closed }));
    ws.once('unexpected-response', () => reject(new Error('unexpected response')));
  });
}

describe('WsTransport against hostile or broken clients', () => {
  it('closes a client that sends garbage and keeps serving real peers', async () => {
    const server = await listening('server');
    const raw = await rawClient(server.url);
    raw.ws.send('definitely not json');
    expect(await raw.closed).toMatch(/invalid frame/);
    expect(server.errors.map((e) => e.code)).toContain('BAD_FRAME');

    const peer = new WsTransport({ nodeId: 'peer', secret: 'secret', listen: null });
    open.push(peer);
    peer.dial(server.url);
    await until(() => server.transport.connections().length === 1, 'a real peer still connects');
  });

  it('drops a frame larger than the protocol limit at the socket', async () => {
    const server = await listening('server', { limits: { frameBytesMax: 64 * 1024 } });
    const raw = await rawClient(server.url);
    raw.ws.send(Buffer.alloc(65 * 1024));
    await raw.closed;
    expect(server.transport.connections()).toEqual([]);
  });

  it('times out a client that opens a socket and never speaks', async () => {
    const server = await listening('server', { handshakeTimeoutMs: 100 });
    const raw = await rawClient(server.url);
    expect(await raw.closed).toMatch(/no authenticated handshake/);
    expect(server.errors.map((e) => e.code)).toContain('HANDSHAKE_TIMEOUT');
  });

  it('refuses connections beyond maxConnections', async () => {
    const server = await listening('server', { maxConnections: 1 });
    await rawClient(server.url);
    const second = await rawClient(server.url);
    expect(await second.closed).toMatch(/too many connections/);
  });

  it('answers a plain HTTP request with 426 instead of hanging', async () => {
    const server = await listening('server');
    const response = await fetch(server.url.replace('ws://', 'http://'));
    expect(response.status).toBe(426);
  });

  it('reports a clear error for a port already in use', async () => {
    const first = await listening('one');
    const port = Number(new URL(first.url).port);
    const second = new WsTransport({ nodeId: 'two', secret: 'secret', listen: { host: '127.0.0.1', port } });
    open.push(second);
    await expect(second.listen()).rejects.toMatchObject({ code: 'LISTEN_FAILED' });
  });

  it('rejects a peer URL that is not ws:// or wss://', async () => {
    const client = new WsTransport({ nodeId: 'client', secret: 'secret', listen: null });
    open.push(client);
    const errors: TransportError[] = [];
    client.on('error', (error) => errors.push(error));
    client.dial('http://127.0.0.1:1');
    await until(() => errors.length > 0, 'an error');
    expect(errors[0]?.code).toBe('BAD_URL');
  });
});

/** A TCP proxy whose `stall()` stops both directions without closing anything, as a blackhole does. */
async function stallingProxy(targetPort: number): Promise<{ port: number; stall: () => void }> {
  const sockets: Socket[] = [];
  const server = createServer((client) => {
    const upstream = createConnection({ host: '127.0.0.1', port: targetPort });
    for (const socket of [client, upstream]) {
      sockets.push(socket);
      socket.on('error', () => {});
      socket.on('close', () => [client, upstream].forEach((s) => s.destroy()));
    }
    client.pipe(upstream);
    upstream.pipe(client);
  });
  servers.push(server);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  if (address === null || typeof address === 'string') throw new Error('proxy has no port');
  return {
    port: address.port,
    stall: () => sockets.forEach((socket) => {
      socket.unpipe();
      socket.pause();
    }),
  };
}

describe('WsTransport liveness', () => {
  it('drops a peer whose link goes silent without closing, names why on both sides, and dials again', async () => {
    const server = await listening('server', { pingIntervalMs: 250 });
    const proxy = await stallingProxy(Number(new URL(server.url).port));
    const client = new WsTransport({ nodeId: 'client', secret: 'secret', listen: null, pingIntervalMs: 250 });
    open.push(client);
    const reasons: string[] = [];
    for (const side of [server.transport, client]) side.on('disconnect', (_session, reason) => reasons.push(reason));
    client.dial(`ws://127.0.0.1:${proxy.port}`);
    await until(() => client.connections().length === 1 && server.transport.connections().length === 1, 'connected through the proxy');

    proxy.stall();
    await until(() => reasons.length === 2, 'both sides drop the stalled link');
    expect(reasons).toEqual(['no frame or pong from the peer in 500 ms', 'no frame or pong from the peer in 500 ms']);
    await until(() => client.connections().length === 1 && server.transport.connections().length === 1, 'the dialer connects again through a fresh proxy connection');
  });
});

describe('WsTransport block buffers', () => {
  it('reads blocks a dialer receives into the buffers blockBuffers gives it', async () => {
    const server = await listening('server');
    const given: Uint8Array[] = [];
    const client = new WsTransport({
      nodeId: 'client',
      secret: 'secret',
      listen: null,
      blockBuffers: (bytes) => {
        const payload = allocBlockPayload(bytes);
        given.push(payload);
        return payload;
      },
    });
    open.push(client);
    const received: Uint8Array[] = [];
    client.on('block', (_connection, frame) => received.push(frame.data));
    client.dial(server.url);
    await until(() => server.transport.connections().length === 1, 'connected');
    const blocks = [128 * 1024, 1, 3 * 1024 * 1024].map((size) => new Uint8Array(size).map((_, i) => (i * 11 + size) & 0xff));
    for (const block of blocks) await server.transport.connections()[0]!.sendBlock(7, block);
    await until(() => received.length === blocks.length, 'every block');
    expect(given.map((payload) => payload.byteLength)).toEqual(blocks.map((block) => block.byteLength));
    received.forEach((data, n) => {
      expect(data.buffer).toBe(given[n]!.buffer);
      expect(Buffer.compare(Buffer.from(data), Buffer.from(blocks[n]!))).toBe(0);
    });
  });

  it('releases a block buffer only once its bytes are written: overwriting it then does not change what arrives', async () => {
    const server = await listening('server');
    const received: Uint8Array[] = [];
    server.transport.on('block', (_connection, frame) => received.push(Uint8Array.from(frame.data)));
    const client = new WsTransport({ nodeId: 'client', secret: 'secret', listen: null });
    open.push(client);
    client.dial(server.url);
    await until(() => client.connections().length === 1, 'connected');
    const sizes = [8 * 1024 * 1024, 128 * 1024, 4 * 1024 * 1024];
    const originals = sizes.map((size, n) => new Uint8Array(size).map((_, i) => (i * 7 + n) & 0xff));
    let releases = 0;
    for (const original of originals) {
      // Framed in place, as the engine serves blocks: the socket sends this very buffer.
      const buffer = allocBlockPayload(original.byteLength);
      buffer.set(original);
      await client.connections()[0]!.sendBlock(1, buffer, () => {
        releases++;
        buffer.fill(0); // what a pool's next block read would do
      });
    }
    await until(() => received.length === sizes.length && releases === sizes.length, 'all blocks delivered and released');
    received.forEach((data, n) => expect(Buffer.compare(Buffer.from(data), Buffer.from(originals[n]!))).toBe(0));
  });
});
