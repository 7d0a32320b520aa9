import type { FrameHandlers, FrameSocket } from '../frame-socket';

export interface MemoryPairOptions {
  /** One-way delay of every frame, in ms; 0 delivers on the next turn of the event loop. */
  latencyMs?: number;
}

const utf8 = new TextDecoder();

type Frame = { kind: 'text'; text: string } | { kind: 'binary'; data: Uint8Array } | { kind: 'close'; reason: string };

/** A FrameSocket whose closing can also be observed by the network that made it. */
export interface MemorySocket extends FrameSocket {
  onClose(listener: (reason: string) => void): void;
}

class MemoryEnd implements MemorySocket {
  peer!: MemoryEnd;
  readonly bufferedAmount = 0;
  private handlers: FrameHandlers | null = null;
  private held: Frame[] = [];
  private readonly closeListeners: ((reason: string) => void)[] = [];
  private closedReason: string | null = null;
  private sentClose = false;

  constructor(private readonly latencyMs: number) {}

  sendText(text: string | Uint8Array): Promise<void> {
    this.deliver({ kind: 'text', text: typeof text === 'string' ? text : utf8.decode(text) });
    return Promise.resolve();
  }

  sendBinary(data: Uint8Array, released?: () => void): Promise<void> {
    // Copy: the sender may reuse its buffer, as it may with a real socket. Not `.slice()`, which
    // on a Buffer is a view.
    this.deliver({ kind: 'binary', data: new Uint8Array(data) });
    released?.();
    return Promise.resolve();
  }

  close(reason: string): void {
    if (this.sentClose) return;
    this.deliver({ kind: 'close', reason });
    this.sentClose = true;
    this.closed(reason);
  }

  attach(handlers: FrameHandlers): void {
    this.handlers = handlers;
    this.closeListeners.push((reason) => handlers.closed(reason));
    const held = this.held;
    this.held = [];
    for (const frame of held) this.receive(frame);
    if (this.closedReason !== null) handlers.closed(this.closedReason);
  }

  /** For the network's own bookkeeping; does not start delivery. */
  onClose(listener: (reason: string) => void): void {
    this.closeListeners.push(listener);
    if (this.closedReason !== null) listener(this.closedReason);
  }

  private deliver(frame: Frame): void {
    if (this.sentClose) return;
    const peer = this.peer;
    const arrive = (): void => peer.receive(frame);
    // Timers of equal delay fire in order, so frames keep their order as on a real socket.
    if (this.latencyMs > 0) setTimeout(arrive, this.latencyMs);
    else setImmediate(arrive);
  }

  private receive(frame: Frame): void {
    if (!this.handlers) {
      this.held.push(frame);
      return;
    }
    if (this.closedReason !== null) return;
    if (frame.kind === 'text') this.handlers.text(frame.text);
    else if (frame.kind === 'binary') this.handlers.binary(frame.data);
    else {
      this.sentClose = true;
      this.closed(frame.reason);
    }
  }

  private closed(reason: string): void {
    if (this.closedReason !== null) return;
    this.closedReason = reason;
    for (const listener of this.closeListeners) listener(reason);
  }
}

/** Two linked in-memory sockets: what one sends, the other receives, in order. */
export function createMemoryPair(options: MemoryPairOptions = {}): [MemorySocket, MemorySocket] {
  const a = new MemoryEnd(options.latencyMs ?? 0);
  const b = new MemoryEnd(options.latencyMs ?? 0);
  a.peer = b;
  b.peer = a;
  return [a, b];
}
