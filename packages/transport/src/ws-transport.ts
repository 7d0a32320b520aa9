import { createServer } from 'node:http';
import type { Server } from 'node:http';
import { WebSocket, WebSocketServer } from 'ws';
import { TransportError } from './errors';
import type { ListenAddress } from './connection';
import type { FrameSocket } from './frame-socket';
import { TransportHub } from './hub';
import type { HubOptions } from './hub';
import { WsFrameSocket } from './ws-socket';

export interface WsTransportOptions extends HubOptions {
  /** Where to accept peers; null: dial only. Port 0 picks a free port. */
  listen: ListenAddress | null;
  pingIntervalMs?: number;
  sendHighWaterMarkBytes?: number;
}

/**
 * Peers over WebSockets (`ws`). Frames are not compressed (file data rarely compresses, and
 * deflate costs more CPU than the wire saves on a LAN) and client frames use an all-zero mask,
 * which skips the masking pass: the mask protects browser proxies, and peers are not browsers.
 */
export class WsTransport extends TransportHub {
  private server: Server | null = null;
  private wss: WebSocketServer | null = null;

  constructor(private readonly options: WsTransportOptions) {
    super(options);
  }

  async listen(): Promise<ListenAddress | null> {
    const where = this.options.listen;
    if (!where || this.server) return this.address();
    const server = createServer((_request, response) => {
      response.writeHead(426, { 'content-type': 'text/plain' }).end('this port speaks the sync WebSocket protocol\n');
    });
    const wss = new WebSocketServer({ server, maxPayload: this.limits.frameBytesMax, perMessageDeflate: false, clientTracking: false });
    wss.on('connection', (ws, request) => {
      const address = `${request.socket.remoteAddress ?? '?'}:${request.socket.remotePort ?? '?'}`;
      this.accept(this.wrap(ws), 'inbound', address);
    });
    wss.on('error', () => {});
    await new Promise<void>((resolve, reject) => {
      server.once('error', (cause: Error) => reject(new TransportError('LISTEN_FAILED', `cannot listen on ${where.host}:${where.port}: ${cause.message}`, { cause })));
      server.listen(where.port, where.host, () => resolve());
    });
    server.on('error', () => {});
    this.server = server;
    this.wss = wss;
    return this.address();
  }

  address(): ListenAddress | null {
    const address = this.server?.address();
    if (!address || typeof address === 'string') return null;
    return { host: address.address, port: address.port };
  }

  protected openSocket(url: string): Promise<FrameSocket> {
    let parsed: URL;
    try {
      parsed = new URL(url);
    } catch {
      return Promise.reject(new TransportError('BAD_URL', `not a URL: ${url}`, { peer: url }));
    }
    if (parsed.protocol !== 'ws:' && parsed.protocol !== 'wss:') {
      return Promise.reject(new TransportError('BAD_URL', `peer URL must start with ws:// or wss://: ${url}`, { peer: url }));
    }
    return new Promise((resolve, reject) => {
      const ws = new WebSocket(url, {
        maxPayload: this.limits.frameBytesMax,
        perMessageDeflate: false,
        handshakeTimeout: this.options.handshakeTimeoutMs ?? 5_000,
        generateMask: (mask: Buffer) => void mask.fill(0),
      });
      const fail = (detail: string): void => {
        ws.removeAllListeners();
        ws.on('error', () => {});
        ws.terminate();
        reject(new TransportError('DIAL_FAILED', `${url}: ${detail}`, { peer: url }));
      };
      ws.once('error', (error: Error) => fail(error.message || 'connection failed'));
      ws.once('unexpected-response', (_request, response) => fail(`HTTP ${response.statusCode}`));
      ws.once('open', () => {
        ws.removeAllListeners();
        resolve(this.wrap(ws));
      });
    });
  }

  protected async stopListening(): Promise<void> {
    const server = this.server;
    this.wss?.close();
    this.server = null;
    this.wss = null;
    if (!server) return;
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  }

  private wrap(ws: WebSocket): WsFrameSocket {
    return new WsFrameSocket(ws, {
      highWaterMarkBytes: this.options.sendHighWaterMarkBytes ?? 4 * 1024 * 1024,
      pingIntervalMs: this.options.pingIntervalMs ?? 5_000,
    });
  }
}
