import { decodeBlock, decodeMessage, encodeBlock, encodeMessage } from '@sync/protocol';
import { TransportError } from '@sync/transport';
import type { AppMessage, Connection, Direction, ListenAddress, Transport, TransportEvents } from '@sync/transport';
import type { SeededRandom } from './seeded-random';

type Frame = { kind: 'text'; text: string } | { kind: 'block'; bytes: Uint8Array };

type Listeners = { [E in keyof TransportEvents]: Set<TransportEvents[E]> };

interface SimLink {
  a: string;
  b: string;
  /** The end held by `a` (its peer is `b`) and the end held by `b`. */
  ends: [SimConnection, SimConnection];
}

class SimConnection implements Connection {
  closed = false;
  /** Frames sent by this end, not yet delivered to the other. FIFO, as on a TCP stream. */
  readonly outbox: Frame[] = [];
  other!: SimConnection;

  constructor(
    readonly owner: SimTransport,
    readonly peerId: string,
    readonly direction: Direction,
    private readonly network: SimNetwork,
    readonly link: SimLink,
  ) {}

  get remoteAddress(): string {
    return `sim://${this.peerId}`;
  }

  send(message: AppMessage): Promise<void> {
    if (this.closed) return Promise.reject(new TransportError('CLOSED', 'connection closed', { peer: this.peerId }));
    // Encoded now, as a socket would: later changes to the object must not travel.
    this.outbox.push({ kind: 'text', text: encodeMessage(message) });
    this.network.framesSent++;
    return Promise.resolve();
  }

  sendBlock(id: number, data: Uint8Array, released?: () => void): Promise<void> {
    // A copy, as a socket's write would be: the sender's buffer may be reused once released. Not
    // `.slice()`: on a Buffer (a pooled frame is one) that is a view, not a copy.
    const bytes = new Uint8Array(encodeBlock(id, data));
    released?.();
    if (this.closed) return Promise.reject(new TransportError('CLOSED', 'connection closed', { peer: this.peerId }));
    this.outbox.push({ kind: 'block', bytes });
    this.network.framesSent++;
    return Promise.resolve();
  }

  close(reason: string): void {
    this.network.closeLink(this.link, `closed by ${this.owner.nodeId}: ${reason}`);
  }
}

class SimTransport implements Transport {
  listening = false;
  closed = false;
  /** A killed transport (its process crashed) hears nothing more. */
  dead = false;
  private readonly listeners: Listeners = { connection: new Set(), message: new Set(), block: new Set(), disconnect: new Set(), error: new Set() };

  constructor(
    readonly nodeId: string,
    private readonly network: SimNetwork,
  ) {}

  listen(): Promise<ListenAddress | null> {
    this.listening = true;
    return Promise.resolve({ host: `sim://${this.nodeId}`, port: 0 });
  }

  /** The simulator decides who is connected; dialled URLs are ignored. */
  dial(): void {}

  connections(): Connection[] {
    return this.network.connectionsOf(this);
  }

  on<E extends keyof TransportEvents>(event: E, listener: TransportEvents[E]): () => void {
    const set = this.listeners[event] as Set<TransportEvents[E]>;
    set.add(listener);
    return () => set.delete(listener);
  }

  close(): Promise<void> {
    this.closed = true;
    this.network.down(this.nodeId, 'transport closed');
    return Promise.resolve();
  }

  emit<E extends keyof TransportEvents>(event: E, ...args: Parameters<TransportEvents[E]>): void {
    if (this.dead) return;
    for (const listener of [...(this.listeners[event] as Set<(...a: Parameters<TransportEvents[E]>) => void>)]) listener(...args);
  }
}

/**
 * A network the simulator drives by hand: one connection per pair of nodes, frames delivered
 * one at a time in an order drawn from the seed (FIFO per direction, like TCP), cuts and
 * partitions. A lost frame is modelled as a cut: the engine relies on a stream that either
 * delivers in order or breaks, as a WebSocket does. Frames go through the protocol codec, so an
 * engine message that fails its schema is caught here.
 */
export class SimNetwork {
  private readonly transports = new Map<string, SimTransport>();
  private links: SimLink[] = [];
  private groupOf = new Map<string, number>();
  framesSent = 0;
  framesDelivered = 0;
  /** The last few frames delivered, oldest first, for a failure report. */
  readonly recentFrames: string[] = [];
  /** Frames that failed to decode: an engine bug. */
  readonly protocolErrors: string[] = [];

  constructor(private readonly random: SeededRandom) {}

  /** A fresh transport for a node (its previous one, if any, is killed). */
  createTransport(nodeId: string): Transport {
    this.kill(nodeId);
    const transport = new SimTransport(nodeId, this);
    this.transports.set(nodeId, transport);
    return transport;
  }

  isUp(nodeId: string): boolean {
    const transport = this.transports.get(nodeId);
    return transport !== undefined && transport.listening && !transport.closed && !transport.dead;
  }

  reachable(a: string, b: string): boolean {
    const ga = this.groupOf.get(a);
    const gb = this.groupOf.get(b);
    return ga === undefined || gb === undefined || ga === gb;
  }

  connected(a: string, b: string): boolean {
    return this.links.some((link) => (link.a === a && link.b === b) || (link.a === b && link.b === a));
  }

  /** Connects every pair that is up, reachable and not yet connected. */
  connectAll(): void {
    const ids = [...this.transports.keys()].sort();
    for (let i = 0; i < ids.length; i++) {
      for (let j = i + 1; j < ids.length; j++) this.connect(ids[i]!, ids[j]!);
    }
  }

  connect(a: string, b: string): boolean {
    if (!this.isUp(a) || !this.isUp(b) || !this.reachable(a, b) || this.connected(a, b)) return false;
    const [dialer, listener] = this.random.float() < 0.5 ? [a, b] : [b, a];
    const ta = this.transports.get(dialer)!;
    const tb = this.transports.get(listener)!;
    const link = { a: dialer, b: listener } as SimLink;
    const ca = new SimConnection(ta, listener, 'outbound', this, link);
    const cb = new SimConnection(tb, dialer, 'inbound', this, link);
    ca.other = cb;
    cb.other = ca;
    link.ends = [ca, cb];
    this.links.push(link);
    const first = this.random.float() < 0.5;
    (first ? ta : tb).emit('connection', first ? ca : cb);
    if (!ca.closed) (first ? tb : ta).emit('connection', first ? cb : ca);
    return true;
  }

  cut(a: string, b: string, reason = 'network cut'): void {
    for (const link of this.links.filter((l) => (l.a === a && l.b === b) || (l.a === b && l.b === a))) this.closeLink(link, reason);
  }

  partition(groups: string[][]): void {
    this.groupOf = new Map(groups.flatMap((group, index) => group.map((node) => [node, index] as const)));
    for (const link of this.links.filter((l) => !this.reachable(l.a, l.b))) this.closeLink(link, 'network partition');
  }

  heal(): void {
    this.groupOf = new Map();
  }

  get partitioned(): boolean {
    return this.groupOf.size > 0;
  }

  /** Closes every link of a node whose transport closed; both ends hear of it. */
  down(nodeId: string, reason: string): void {
    for (const link of this.links.filter((l) => l.a === nodeId || l.b === nodeId)) this.closeLink(link, reason);
  }

  /** The node's process died: its links break and its transport hears nothing more. */
  kill(nodeId: string): void {
    const transport = this.transports.get(nodeId);
    if (!transport) return;
    transport.dead = true;
    this.down(nodeId, 'peer process died');
  }

  closeLink(link: SimLink, reason: string): void {
    if (!this.links.includes(link)) return;
    this.links = this.links.filter((l) => l !== link);
    for (const end of link.ends) {
      end.closed = true;
      end.outbox.length = 0;
    }
    for (const end of link.ends) end.owner.emit('disconnect', end, reason);
  }

  connectionsOf(transport: SimTransport): Connection[] {
    return this.links.flatMap((link) => link.ends.filter((end) => end.owner === transport && !end.closed));
  }

  get pendingFrames(): number {
    let count = 0;
    for (const link of this.links) count += link.ends[0].outbox.length + link.ends[1].outbox.length;
    return count;
  }

  /** Delivers the next frame of one direction drawn from the seed; false when nothing is in flight. */
  deliverOne(): boolean {
    const busy = this.links.flatMap((link) => link.ends.filter((end) => end.outbox.length > 0));
    if (busy.length === 0) return false;
    const from = busy[Math.floor(this.random.float() * busy.length)]!;
    const frame = from.outbox.shift()!;
    const to = from.other;
    this.framesDelivered++;
    if (frame.kind === 'text') {
      const decoded = decodeMessage(frame.text);
      if (!decoded.ok) {
        this.protocolErrors.push(`${from.owner.nodeId}→${to.owner.nodeId}: ${decoded.error.message}: ${frame.text.slice(0, 200)}`);
        this.closeLink(from.link, 'invalid frame');
        return true;
      }
      const message = decoded.value;
      if (message.type === 'hello' || message.type === 'auth') {
        this.protocolErrors.push(`${from.owner.nodeId}→${to.owner.nodeId}: handshake message after the handshake`);
        return true;
      }
      this.remember(from, to, `${message.type}${'path' in message ? ` ${message.path}` : ''}`);
      to.owner.emit('message', to, message);
    } else {
      const decoded = decodeBlock(frame.bytes);
      if (!decoded.ok) {
        this.protocolErrors.push(`${from.owner.nodeId}→${to.owner.nodeId}: ${decoded.error.message}`);
        this.closeLink(from.link, 'invalid frame');
        return true;
      }
      this.remember(from, to, `block ${decoded.value.data.byteLength} B`);
      to.owner.emit('block', to, decoded.value);
    }
    return true;
  }

  private remember(from: SimConnection, to: SimConnection, what: string): void {
    this.recentFrames.push(`${from.owner.nodeId}→${to.owner.nodeId} ${what}`);
    if (this.recentFrames.length > 8) this.recentFrames.shift();
  }
}
