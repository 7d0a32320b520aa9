import { X509Certificate } from 'node:crypto';
import { createServer } from 'node:http';
import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import { createServer as createTlsServer } from 'node:https';
import type { TLSSocket } from 'node:tls';
import { WebSocket, WebSocketServer } from 'ws';
import { BLOCK_HEADER_BYTES, blockFrameOf } from '@sync/protocol';
import { TransportError } from './errors';
import type { ListenAddress } from './connection';
import type { FrameSocket } from './frame-socket';
import { TransportHub } from './hub';
import type { HubOptions } from './hub';
import type { LiveSocketOptions } from './live-frame-socket';
import { WsFrameSocket } from './ws-socket';
import { dialWebSocket } from './ws-dial';
import { createPeerLookup } from './lookup';

export interface TlsOptions {
  /** PEM certificate and key this node's listener presents (wss://). */
  cert?: string;
  key?: string;
  /**
   * SHA-256 fingerprints (`AB:CD:…`, as `openssl x509 -fingerprint -sha256` prints them) that
   * wss:// peers must present. Empty: any certificate (the secret proof still authenticates).
   */
  pins?: readonly string[];
}

export interface WsTransportOptions extends HubOptions {
  /** Where to accept peers; null: dial only. Port 0 picks a free port. */
  listen: ListenAddress | null;
  tls?: TlsOptions;
  pingIntervalMs?: number;
  sendHighWaterMarkBytes?: number;
  /**
   * Where received blocks are read into (on ws:// dials): a buffer of `bytes` from
   * `allocBlockPayload`. The engine passes its block pool, and gives each buffer back once the
   * block is in its file. Fresh memory for every block if absent.
   */
  blockBuffers?: (bytes: number) => Uint8Array;
}

/**
 * Peers over WebSockets. Listeners and wss:// dials use `ws`; ws:// dials use our own client
 * (`dialWebSocket`), which reads the socket into a reused buffer. Frames are not compressed
 * (file data rarely compresses, and deflate costs more CPU than the wire saves on a LAN) and
 * client frames use an all-zero mask, which skips the masking pass: the mask protects browser
 * proxies, and peers are not browsers.
 */
export class WsTransport extends TransportHub {
  private server: Server | null = null;
  private readonly lookup = createPeerLookup();
  private wss: WebSocketServer | null = null;

  constructor(private readonly options: WsTransportOptions) {
    super(options);
  }

  async listen(): Promise<ListenAddress | null> {
    const where = this.options.listen;
    if (!where || this.server) return this.address();
    const upgradeRequired = (_request: IncomingMessage, response: ServerResponse): void => {
      response.writeHead(426, { 'content-type': 'text/plain' }).end('this port speaks the sync WebSocket protocol\n');
    };
    const tls = this.options.tls;
    const server: Server = tls?.cert && tls.key ? createTlsServer({ cert: tls.cert, key: tls.key }, upgradeRequired) : createServer(upgradeRequired);
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

  /** SHA-256 fingerprint of this node's certificate, for peers to pin; null without TLS. */
  get fingerprint(): string | null {
    const cert = this.options.tls?.cert;
    return cert ? new X509Certificate(cert).fingerprint256 : null;
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
    if (parsed.protocol === 'ws:') {
      return dialWebSocket(parsed, {
        handshakeTimeoutMs: this.options.handshakeTimeoutMs ?? 5_000,
        reading: { payloadBytesMax: this.limits.frameBytesMax, allocateBinary: this.blockFrameAllocator() },
        lookup: this.lookup,
        socket: this.socketOptions(),
      });
    }
    return new Promise((resolve, reject) => {
      const pins = (this.options.tls?.pins ?? []).map(normalizeFingerprint);
      const ws = new WebSocket(url, {
        maxPayload: this.limits.frameBytesMax,
        perMessageDeflate: false,
        handshakeTimeout: this.options.handshakeTimeoutMs ?? 5_000,
        generateMask: (mask: Buffer) => void mask.fill(0),
        // Nodes use self-signed certificates: trust comes from the pins and the secret proof, not a CA.
        rejectUnauthorized: false,
        lookup: this.lookup,
      });
      if (parsed.protocol === 'wss:' && pins.length > 0) {
        ws.once('upgrade', (response: IncomingMessage) => {
          const presented = normalizeFingerprint((response.socket as TLSSocket).getPeerCertificate().fingerprint256 ?? '');
          if (!pins.includes(presented)) fail(`certificate ${presented || '(none)'} is not one of the pinned fingerprints`);
        });
      }
      let failed = false;
      const fail = (detail: string): void => {
        if (failed) return;
        failed = true;
        ws.removeAllListeners();
        ws.on('error', () => {});
        ws.terminate();
        reject(new TransportError('DIAL_FAILED', `${url}: ${detail}`, { peer: url }));
      };
      ws.once('error', (error: Error) => fail(error.message || 'connection failed'));
      ws.once('unexpected-response', (_request, response) => fail(`HTTP ${response.statusCode}`));
      ws.once('open', () => {
        if (failed) return;
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
    return new WsFrameSocket(ws, this.socketOptions());
  }

  /** Binary frames are blocks: read each into a buffer from `blockBuffers`, framed in place. */
  private blockFrameAllocator(): ((bytes: number) => Uint8Array) | undefined {
    const take = this.options.blockBuffers;
    if (!take) return undefined;
    return (bytes) => (bytes > BLOCK_HEADER_BYTES ? blockFrameOf(take(bytes - BLOCK_HEADER_BYTES)) : undefined) ?? new Uint8Array(bytes);
  }

  private socketOptions(): LiveSocketOptions {
    return {
      highWaterMarkBytes: this.options.sendHighWaterMarkBytes ?? 4 * 1024 * 1024,
      pingIntervalMs: this.options.pingIntervalMs ?? 5_000,
    };
  }
}

function normalizeFingerprint(fingerprint: string): string {
  return fingerprint.replace(/[^0-9a-fA-F]/g, '').toUpperCase();
}
