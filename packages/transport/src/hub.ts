import { defaultLimits } from '@sync/protocol';
import type { BlockFrame, ProtocolLimits } from '@sync/protocol';
import { backoffDelay, defaultBackoff } from './backoff';
import type { BackoffOptions } from './backoff';
import type { AppMessage, Connection, Direction, ListenAddress, Transport, TransportEvents } from './connection';
import { TransportError, isTransportError } from './errors';
import type { FrameSocket } from './frame-socket';
import { PeerSession } from './session';

export interface HubOptions {
  nodeId: string;
  /** Cluster secret both sides prove they hold; '' only on a trusted network. */
  secret: string;
  software?: string;
  limits?: Partial<ProtocolLimits>;
  handshakeTimeoutMs?: number;
  backoff?: Partial<BackoffOptions>;
  /** Connections (authenticated or not) this node holds at most; more are refused. */
  maxConnections?: number;
  /** [0, 1) source for backoff jitter; inject for deterministic tests. */
  random?: () => number;
}

/** A connection that lived this long was healthy: its loss redials from the shortest delay. */
const healthyConnectionMs = 1_000;

interface Dialer {
  url: string;
  attempt: number;
  timer: ReturnType<typeof setTimeout> | null;
  session: PeerSession | null;
  /** Learned from the first successful handshake; lets the dialer wait while that peer is connected another way. */
  peerId: string | null;
}

type Listeners = { [E in keyof TransportEvents]: Set<TransportEvents[E]> };

/**
 * What every transport shares: sessions, one connection per peer, redialing, events. Subclasses
 * only open sockets (`openSocket`) and accept them (`accept`).
 */
export abstract class TransportHub implements Transport {
  readonly nodeId: string;
  protected readonly limits: ProtocolLimits;
  protected closing = false;
  private readonly sessions = new Set<PeerSession>();
  private readonly byPeer = new Map<string, PeerSession>();
  private readonly dialers = new Map<string, Dialer>();
  private readonly backoff: BackoffOptions;
  private readonly random: () => number;
  private readonly listeners: Listeners = {
    connection: new Set(),
    message: new Set(),
    block: new Set(),
    disconnect: new Set(),
    error: new Set(),
  };

  constructor(protected readonly hubOptions: HubOptions) {
    this.nodeId = hubOptions.nodeId;
    this.limits = { ...defaultLimits, ...hubOptions.limits };
    this.backoff = { ...defaultBackoff, ...hubOptions.backoff };
    this.random = hubOptions.random ?? Math.random;
  }

  abstract listen(): Promise<ListenAddress | null>;
  /** Opens a socket to `url`; rejects with a `TransportError` when it cannot. */
  protected abstract openSocket(url: string): Promise<FrameSocket>;
  /** Stops accepting; called once by `close()`. */
  protected abstract stopListening(): Promise<void>;

  on<E extends keyof TransportEvents>(event: E, listener: TransportEvents[E]): () => void {
    this.listeners[event].add(listener);
    return () => this.listeners[event].delete(listener);
  }

  connections(): Connection[] {
    return [...this.byPeer.values()];
  }

  dial(url: string): void {
    if (this.closing || this.dialers.has(url)) return;
    const dialer: Dialer = { url, attempt: 0, timer: null, session: null, peerId: null };
    this.dialers.set(url, dialer);
    void this.connect(dialer);
  }

  async close(): Promise<void> {
    if (this.closing) return;
    this.closing = true;
    for (const dialer of this.dialers.values()) if (dialer.timer) clearTimeout(dialer.timer);
    this.dialers.clear();
    for (const session of [...this.sessions]) session.close('node shutting down');
    await this.stopListening();
  }

  /** Hands a freshly opened socket to a session; it joins `connections()` once authenticated. */
  protected accept(socket: FrameSocket, direction: Direction, remoteAddress: string): PeerSession | null {
    if (this.closing) {
      socket.close('node shutting down');
      return null;
    }
    const max = this.hubOptions.maxConnections ?? 256;
    if (this.sessions.size >= max) {
      this.emit('error', new TransportError('TOO_MANY_CONNECTIONS', `refused ${remoteAddress}: already ${max} connections`, { peer: remoteAddress }));
      socket.close(`too many connections (${max})`);
      return null;
    }
    const session = new PeerSession(
      socket,
      {
        nodeId: this.nodeId,
        secret: this.hubOptions.secret,
        software: this.hubOptions.software ?? 'sync',
        limits: this.limits,
        handshakeTimeoutMs: this.hubOptions.handshakeTimeoutMs ?? 5_000,
        direction,
        remoteAddress,
      },
      {
        established: (s) => this.onEstablished(s),
        message: (s, message: AppMessage) => {
          if (this.byPeer.get(s.peerId) === s) this.emit('message', s, message);
        },
        block: (s, frame: BlockFrame) => {
          if (this.byPeer.get(s.peerId) === s) this.emit('block', s, frame);
        },
        closed: (s, reason) => this.onClosed(s, reason),
        error: (error) => this.emit('error', error),
      },
    );
    this.sessions.add(session);
    return session;
  }

  private onEstablished(session: PeerSession): void {
    for (const dialer of this.dialers.values()) if (dialer.session === session) dialer.peerId = session.peerId;
    const existing = this.byPeer.get(session.peerId);
    if (existing && !existing.closed && this.preferred(existing, session) === existing) {
      session.close('duplicate connection');
      return;
    }
    // The replacement is announced before the old one closes, so users see no flap: a listener
    // that gets a second `connection` for a peer drops the first.
    this.byPeer.set(session.peerId, session);
    this.emit('connection', session);
    if (existing && !existing.closed) existing.close('duplicate connection');
  }

  /**
   * Both ends must keep the same one of two connections, or each would close a different one.
   * The rule: keep the connection dialed by the smaller node id; if one side dialed both, it
   * redialed because it believes the older one dead, so keep the newer.
   */
  private preferred(existing: PeerSession, incoming: PeerSession): PeerSession {
    const dialerOf = (s: PeerSession): string => (s.direction === 'outbound' ? this.nodeId : s.peerId);
    const a = dialerOf(existing);
    const b = dialerOf(incoming);
    if (a === b) return incoming;
    const smaller = this.nodeId < incoming.peerId ? this.nodeId : incoming.peerId;
    return a === smaller ? existing : incoming;
  }

  private onClosed(session: PeerSession, reason: string): void {
    this.sessions.delete(session);
    const announced = this.byPeer.get(session.peerId) === session;
    if (announced) {
      this.byPeer.delete(session.peerId);
      this.emit('disconnect', session, reason);
    }
    for (const dialer of this.dialers.values()) {
      if (dialer.session === session) {
        dialer.session = null;
        if (session.openedAtMs && Date.now() - session.openedAtMs >= healthyConnectionMs) dialer.attempt = 0;
        this.scheduleRedial(dialer);
      } else if (announced && dialer.peerId === session.peerId) {
        this.scheduleRedial(dialer);
      }
    }
  }

  private scheduleRedial(dialer: Dialer): void {
    if (this.closing || dialer.timer || dialer.session) return;
    // Connected to that peer another way (it dialed us): wait until that link drops.
    if (dialer.peerId && this.byPeer.has(dialer.peerId)) return;
    const delay = backoffDelay(dialer.attempt++, this.backoff, this.random);
    dialer.timer = setTimeout(() => {
      dialer.timer = null;
      void this.connect(dialer);
    }, delay);
  }

  private async connect(dialer: Dialer): Promise<void> {
    if (this.closing || this.dialers.get(dialer.url) !== dialer) return;
    if (dialer.peerId && this.byPeer.has(dialer.peerId)) return;
    try {
      const socket = await this.openSocket(dialer.url);
      if (this.closing || this.dialers.get(dialer.url) !== dialer) {
        socket.close('node shutting down');
        return;
      }
      dialer.session = this.accept(socket, 'outbound', dialer.url);
      if (!dialer.session) this.scheduleRedial(dialer);
    } catch (error) {
      if (isTransportError(error) && error.code === 'BAD_URL') {
        // Retrying cannot fix a malformed address.
        this.dialers.delete(dialer.url);
        this.emit('error', error);
        return;
      }
      // A peer that is down is normal while it restarts: report only the first failure in a row.
      if (dialer.attempt === 0) {
        this.emit('error', isTransportError(error) ? error : new TransportError('DIAL_FAILED', `${dialer.url}: ${String(error)}`, { peer: dialer.url }));
      }
      this.scheduleRedial(dialer);
    }
  }

  private emit<E extends keyof TransportEvents>(event: E, ...args: Parameters<TransportEvents[E]>): void {
    for (const listener of this.listeners[event]) {
      (listener as (...a: Parameters<TransportEvents[E]>) => void)(...args);
    }
  }
}
