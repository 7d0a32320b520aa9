import { PROTOCOL_VERSION, decodeBlock, decodeMessage, encodeBlock, encodeFrame, encodeMessage } from '@sync/protocol';
import type { BlockFrame, HelloMessage, Message, ProtocolLimits } from '@sync/protocol';
import { newNonce, proofMatches, proveIdentity } from './auth';
import type { AppMessage, Connection, Direction } from './connection';
import { TransportError } from './errors';
import type { TransportErrorCode } from './errors';
import type { FrameSocket } from './frame-socket';

export interface SessionOptions {
  nodeId: string;
  secret: string;
  software: string;
  limits: ProtocolLimits;
  handshakeTimeoutMs: number;
  direction: Direction;
  remoteAddress: string;
}

export interface SessionHandlers {
  established(session: PeerSession): void;
  message(session: PeerSession, message: AppMessage): void;
  block(session: PeerSession, frame: BlockFrame): void;
  closed(session: PeerSession, reason: string): void;
  error(error: TransportError): void;
}

type State = 'hello' | 'auth' | 'open' | 'closed';

/**
 * One connection's life: hello, mutual HMAC proof, then validated application frames. Anything
 * unexpected closes the connection with a reason; nothing from an unauthenticated peer reaches the
 * engine.
 */
export class PeerSession implements Connection {
  peerId = '';
  readonly direction: Direction;
  readonly remoteAddress: string;
  openedAtMs = 0;
  private state: State = 'hello';
  private readonly nonce = newNonce();
  private closeReason: string | null = null;
  private readonly handshakeTimer: ReturnType<typeof setTimeout>;

  constructor(
    private readonly socket: FrameSocket,
    private readonly options: SessionOptions,
    private readonly handlers: SessionHandlers,
  ) {
    this.direction = options.direction;
    this.remoteAddress = options.remoteAddress;
    this.handshakeTimer = setTimeout(
      () => this.reject('HANDSHAKE_TIMEOUT', `no authenticated handshake within ${options.handshakeTimeoutMs} ms`),
      options.handshakeTimeoutMs,
    );
    const hello: HelloMessage = {
      type: 'hello',
      protocol: PROTOCOL_VERSION,
      nodeId: options.nodeId,
      nonce: this.nonce,
      software: options.software.slice(0, 128),
    };
    void socket.sendText(encodeMessage(hello));
    socket.attach({
      text: (text) => this.onText(text),
      binary: (data) => this.onBinary(data),
      closed: (reason) => this.onSocketClosed(reason),
    });
  }

  get closed(): boolean {
    return this.state === 'closed';
  }

  get established(): boolean {
    return this.state === 'open';
  }

  send(message: AppMessage): Promise<void> {
    if (this.state !== 'open') return Promise.reject(this.closedError());
    return this.socket.sendText(encodeFrame(message));
  }

  sendBlock(id: number, data: Uint8Array, released?: () => void): Promise<void> {
    if (this.state !== 'open') {
      released?.();
      return Promise.reject(this.closedError());
    }
    return this.socket.sendBinary(encodeBlock(id, data), released);
  }

  close(reason: string): void {
    if (this.state === 'closed') return;
    if (this.state === 'open') void this.socket.sendText(encodeMessage({ type: 'close', reason: reason.slice(0, 1024) }));
    this.closeReason ??= reason;
    this.finish();
    this.socket.close(reason);
  }

  private onText(text: string): void {
    if (this.state === 'closed') return;
    const decoded = decodeMessage(text, this.options.limits);
    if (!decoded.ok) return this.reject('BAD_FRAME', `invalid frame: ${decoded.error.message}`);
    const message = decoded.value;
    switch (this.state) {
      case 'hello':
        return this.onHello(message);
      case 'auth':
        return this.onAuth(message);
      case 'open':
        return this.onAppMessage(message);
    }
  }

  private onHello(message: Message): void {
    if (message.type !== 'hello') return this.reject('BAD_FRAME', `expected hello, got ${message.type}`);
    if (message.protocol !== PROTOCOL_VERSION) {
      return this.reject('PROTOCOL_MISMATCH', `peer speaks protocol ${message.protocol}, this node ${PROTOCOL_VERSION}`);
    }
    if (message.nodeId === this.options.nodeId) return this.reject('SELF_CONNECTION', 'connected to itself (same node id)');
    this.peerId = message.nodeId;
    this.state = 'auth';
    const proof = proveIdentity(this.options.secret, message.nonce, this.options.nodeId, message.nodeId);
    void this.socket.sendText(encodeMessage({ type: 'auth', proof }));
  }

  private onAuth(message: Message): void {
    if (message.type !== 'auth') return this.reject('BAD_FRAME', `expected auth, got ${message.type}`);
    const expected = proveIdentity(this.options.secret, this.nonce, this.peerId, this.options.nodeId);
    if (!proofMatches(expected, message.proof)) return this.reject('AUTH_FAILED', 'authentication failed: wrong cluster secret');
    clearTimeout(this.handshakeTimer);
    this.state = 'open';
    this.openedAtMs = Date.now();
    this.handlers.established(this);
  }

  private onAppMessage(message: Message): void {
    if (message.type === 'hello' || message.type === 'auth') return this.reject('BAD_FRAME', `unexpected ${message.type} after the handshake`);
    if (message.type === 'close') {
      this.closeReason = `peer closed: ${message.reason}`;
      this.finish();
      this.socket.close(this.closeReason);
      return;
    }
    this.handlers.message(this, message);
  }

  private onBinary(data: Uint8Array): void {
    if (this.state === 'closed') return;
    if (this.state !== 'open') return this.reject('BAD_FRAME', 'binary frame before authentication');
    const decoded = decodeBlock(data, this.options.limits);
    if (!decoded.ok) return this.reject('BAD_FRAME', `invalid block frame: ${decoded.error.message}`);
    this.handlers.block(this, decoded.value);
  }

  /** Closes because of the peer and reports why, once. */
  private reject(code: TransportErrorCode, reason: string): void {
    if (this.state === 'closed') return;
    this.handlers.error(new TransportError(code, `${this.describePeer()}: ${reason}`, { peer: this.peerId || this.remoteAddress }));
    this.close(reason);
  }

  private onSocketClosed(reason: string): void {
    this.closeReason ??= reason || 'connection closed';
    this.finish();
  }

  private finish(): void {
    if (this.state === 'closed') return;
    this.state = 'closed';
    clearTimeout(this.handshakeTimer);
    this.handlers.closed(this, this.closeReason ?? 'closed');
  }

  private closedError(): TransportError {
    return new TransportError('CLOSED', `connection to ${this.describePeer()} is closed`, { peer: this.peerId });
  }

  private describePeer(): string {
    return this.peerId ? `${this.peerId} (${this.remoteAddress})` : this.remoteAddress;
  }
}
