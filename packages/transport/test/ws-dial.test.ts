import { createHash } from 'node:crypto';
import { once } from 'node:events';
import { createServer as createHttpServer } from 'node:http';
import { createServer } from 'node:net';
import type { AddressInfo, Server, Socket } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { WebSocketServer } from 'ws';
import type { WebSocket } from 'ws';
import { createPeerLookup } from '../src/lookup';
import { dialWebSocket } from '../src/ws-dial';
import type { ClientFrameSocket } from '../src/ws-client-socket';
import { until } from './until';

const cleanups: (() => void)[] = [];
afterEach(() => cleanups.splice(0).forEach((cleanup) => cleanup()));

function dial(port: number, options: { payloadBytesMax?: number; handshakeTimeoutMs?: number } = {}): Promise<ClientFrameSocket> {
  return dialWebSocket(new URL(`ws://127.0.0.1:${port}/`), {
    handshakeTimeoutMs: options.handshakeTimeoutMs ?? 5_000,
    reading: { payloadBytesMax: options.payloadBytesMax ?? 64 * 1024 * 1024 },
    lookup: createPeerLookup(),
    socket: { highWaterMarkBytes: 1024 * 1024, pingIntervalMs: 60_000 },
  });
}

/** A ws server and the server side of the one connection our client makes to it. */
async function wsServer(options: { maxPayload?: number } = {}): Promise<{ port: number; accepted: Promise<WebSocket> }> {
  const server = new WebSocketServer({ host: '127.0.0.1', port: 0, perMessageDeflate: false, ...options });
  await once(server, 'listening');
  cleanups.push(() => server.close());
  const accepted = (once(server, 'connection') as Promise<[WebSocket]>).then(([ws]) => {
    ws.on('error', () => {});
    cleanups.push(() => ws.terminate());
    return ws;
  });
  return { port: (server.address() as AddressInfo).port, accepted };
}

/** A TCP server that answers each connection with `answer` (the handshake done by hand). */
async function rawServer(answer: (socket: Socket, request: string) => void): Promise<number> {
  const sockets: Socket[] = [];
  const server: Server = createServer((socket) => {
    sockets.push(socket);
    socket.on('error', () => {});
    socket.once('data', (data) => answer(socket, data.toString('latin1')));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  cleanups.push(() => {
    sockets.forEach((socket) => socket.destroy());
    server.close();
  });
  return (server.address() as AddressInfo).port;
}

function acceptFor(request: string): string {
  const key = /Sec-WebSocket-Key: (\S+)/.exec(request)?.[1] ?? '';
  return createHash('sha1').update(`${key}258EAFA5-E914-47DA-95CA-C5AB0DC85B11`).digest('base64');
}

function events(socket: ClientFrameSocket): { log: string[]; binaries: Uint8Array[] } {
  const log: string[] = [];
  const binaries: Uint8Array[] = [];
  socket.attach({
    text: (text) => log.push(`text ${text}`),
    binary: (data) => {
      binaries.push(data);
      log.push(`binary ${data.byteLength}`);
    },
    closed: (reason) => log.push(`closed ${reason}`),
  });
  return { log, binaries };
}

const sizes = [0, 1, 125, 126, 65_535, 65_536, 300_000];
const pattern = (size: number): Buffer => Buffer.from(Array.from({ length: size }, (_, i) => (i * 13 + size) & 0xff));

describe('dialWebSocket against ws', () => {
  it('carries text and binary messages of every header length intact both ways', async () => {
    const { port, accepted } = await wsServer();
    const client = await dial(port);
    const server = await accepted;
    const atServer: { binary: boolean; data: Buffer }[] = [];
    server.on('message', (data: Buffer, binary: boolean) => atServer.push({ binary, data }));
    const { log, binaries } = events(client);

    for (const size of sizes) {
      await client.sendBinary(pattern(size));
      server.send(pattern(size));
    }
    await client.sendText('ünïcode text');
    server.send('ünïcode text');
    await until(() => atServer.length === sizes.length + 1 && log.length === sizes.length + 1, 'every message on both sides');

    expect(atServer.map((m) => (m.binary ? m.data.length : m.data.toString('utf8')))).toEqual([...sizes, 'ünïcode text']);
    expect(log).toEqual([...sizes.map((size) => `binary ${size}`), 'text ünïcode text']);
    sizes.forEach((size, n) => {
      expect(Buffer.compare(atServer[n]!.data, pattern(size))).toBe(0);
      expect(Buffer.compare(Buffer.from(binaries[n]!), pattern(size))).toBe(0);
    });
  });

  it('answers the server’s ping with its payload', async () => {
    const { port, accepted } = await wsServer();
    await dial(port);
    const server = await accepted;
    const pong = once(server, 'pong') as Promise<[Buffer]>;
    server.ping('still there?');
    expect((await pong)[0].toString()).toBe('still there?');
  });

  it('reports the reason of the server’s close, and echoes its code', async () => {
    const { port, accepted } = await wsServer();
    const { log } = events(await dial(port));
    const server = await accepted;
    const closed = once(server, 'close') as Promise<[number, Buffer]>;
    server.close(4000, 'server shutting down');
    const [code] = await closed;
    expect(code).toBe(4000);
    await until(() => log.length > 0, 'the client to see the close');
    expect(log).toEqual(['closed server shutting down']);
  });

  it('sends its own reason when it closes, and the server reads it', async () => {
    const { port, accepted } = await wsServer();
    const client = await dial(port);
    const { log } = events(client);
    const server = await accepted;
    const closed = once(server, 'close') as Promise<[number, Buffer]>;
    client.close('leaving the cluster');
    const [code, reason] = await closed;
    expect([code, reason.toString()]).toEqual([4000, 'leaving the cluster']);
    await until(() => log.length > 0, 'the client to report the close');
    expect(log).toEqual(['closed leaving the cluster']);
  });

  it('reports a connection dropped without a close frame', async () => {
    const { port, accepted } = await wsServer();
    const { log } = events(await dial(port));
    (await accepted).terminate();
    await until(() => log.length > 0, 'the drop');
    expect(log).toEqual(['closed socket closed (1006)']);
  });

  it('refuses a message over its limit, tells the server with 1009, and says why', async () => {
    const { port, accepted } = await wsServer();
    const { log } = events(await dial(port, { payloadBytesMax: 1000 }));
    const server = await accepted;
    const closed = once(server, 'close') as Promise<[number, Buffer]>;
    server.send(Buffer.alloc(1001));
    const [code] = await closed;
    expect(code).toBe(1009);
    expect(log).toEqual(['closed invalid frame from the peer: message of more than 1000 bytes']);
  });
});

describe('dialWebSocket handshake', () => {
  it('reads frames the server sent in the same packet as its answer', async () => {
    const port = await rawServer((socket, request) => {
      const frame = Buffer.concat([Buffer.from([0x81, 5]), Buffer.from('hello')]);
      socket.write(Buffer.concat([Buffer.from(`HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: ${acceptFor(request)}\r\n\r\n`), frame]));
    });
    const { log } = events(await dial(port));
    await until(() => log.length > 0, 'the early frame');
    expect(log).toEqual(['text hello']);
  });

  it.each([
    ['a refusal', 'HTTP/1.1 403 Forbidden\r\nContent-Length: 0\r\n\r\n', /DIAL_FAILED: .*HTTP 403/],
    ['a wrong accept key', 'HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: bm9wZQ==\r\n\r\n', /Sec-WebSocket-Accept does not match/],
    ['an extension not offered', null, /chose an extension that was not offered/],
    ['something that is not HTTP', 'SSH-2.0-OpenSSH_9.2\r\n\r\n', /not an HTTP response/],
  ])('fails on %s', async (_what, answer, message) => {
    const port = await rawServer((socket, request) =>
      socket.write(
        answer ??
          `HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: ${acceptFor(request)}\r\nSec-WebSocket-Extensions: permessage-deflate\r\n\r\n`,
      ),
    );
    await expect(dial(port)).rejects.toMatchObject({ code: 'DIAL_FAILED', message: expect.stringMatching(message) });
  });

  it('fails on a server that never answers, after the handshake time-out', async () => {
    const port = await rawServer(() => {});
    await expect(dial(port, { handshakeTimeoutMs: 200 })).rejects.toMatchObject({ code: 'DIAL_FAILED', message: expect.stringMatching(/no WebSocket handshake within 200 ms/) });
  });

  it('fails on a server that hangs up during the handshake, and on a closed port', async () => {
    const port = await rawServer((socket) => socket.end());
    await expect(dial(port)).rejects.toMatchObject({ code: 'DIAL_FAILED', message: expect.stringMatching(/closed the connection during the WebSocket handshake/) });
    const http = createHttpServer();
    await new Promise<void>((resolve) => http.listen(0, '127.0.0.1', resolve));
    const closedPort = (http.address() as AddressInfo).port;
    await new Promise((resolve) => http.close(resolve));
    await expect(dial(closedPort)).rejects.toMatchObject({ code: 'DIAL_FAILED', message: expect.stringMatching(/ECONNREFUSED/) });
  });
});
