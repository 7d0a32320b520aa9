import { once } from 'node:events';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { WebSocket, WebSocketServer } from 'ws';
import { until } from '../test/until';
import { WsFrameSocket } from './ws-socket';

const pingIntervalMs = 100;
const cleanups: (() => void)[] = [];
afterEach(() => cleanups.splice(0).forEach((cleanup) => cleanup()));

/** A WsFrameSocket on the server side and a raw client that never answers pings by itself. */
async function pair(): Promise<{ socket: WsFrameSocket; client: WebSocket; events: string[] }> {
  const server = new WebSocketServer({ host: '127.0.0.1', port: 0 });
  await once(server, 'listening');
  const accepted = once(server, 'connection') as Promise<[WebSocket]>;
  const client = new WebSocket(`ws://127.0.0.1:${(server.address() as AddressInfo).port}`, { autoPong: false });
  client.on('error', () => {});
  cleanups.push(() => {
    client.terminate();
    server.close();
  });
  const [serverSide] = await accepted;
  const socket = new WsFrameSocket(serverSide, { highWaterMarkBytes: 1 << 20, pingIntervalMs });
  const events: string[] = [];
  socket.attach({ text: (text) => events.push(`text ${text}`), binary: () => events.push('binary'), closed: (reason) => events.push(`closed ${reason}`) });
  return { socket, client, events };
}

function blockEventLoop(ms: number): void {
  const until = Date.now() + ms;
  while (Date.now() < until) {
    // This process stalls, as under a long GC or a starved CPU.
  }
}

describe('WsFrameSocket liveness', () => {
  it('drops a peer that answers nothing within two ping intervals, and says why', async () => {
    const { events } = await pair();
    await until(() => events.length > 0, 'the drop');
    expect(events).toEqual([`closed no frame or pong from the peer in ${pingIntervalMs * 2} ms`]);
  });

  it('keeps a peer whose frame is waiting in the socket when this process resumes from a stall', async () => {
    const { client, events } = await pair();
    await once(client, 'ping'); // the socket now waits for an answer
    client.send('still here');
    blockEventLoop(pingIntervalMs * 3); // the next ping is due before the frame is read
    await until(() => events.length > 0, 'the frame or a drop');
    expect(events[0]).toBe('text still here');
    // Nothing more from the peer: it is dropped in turn, by the same rule.
    await until(() => events.length > 1, 'the drop');
    expect(events).toEqual(['text still here', `closed no frame or pong from the peer in ${pingIntervalMs * 2} ms`]);
  });

  it('counts the peer’s own pings as signs of life', async () => {
    const { client, events } = await pair();
    const pinger = setInterval(() => client.ping(), pingIntervalMs / 4);
    cleanups.push(() => clearInterval(pinger));
    let unanswered = 0;
    client.on('ping', () => unanswered++);
    await until(() => unanswered >= 5 || events.length > 0, 'five of its pings left unanswered');
    expect(events).toEqual([]);
    clearInterval(pinger);
    await until(() => events.length > 0, 'the drop once the pings stop');
    expect(events).toEqual([`closed no frame or pong from the peer in ${pingIntervalMs * 2} ms`]);
  });
});
