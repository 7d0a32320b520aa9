import type { AuthMessage, BlockFrame, HelloMessage, Message } from '@sync/protocol';
import type { TransportError } from './errors';

/** Everything but the handshake: what the engine sends and receives once a peer is authenticated. */
export type AppMessage = Exclude<Message, HelloMessage | AuthMessage>;

export type Direction = 'inbound' | 'outbound';

/** An authenticated link to one peer. */
export interface Connection {
  readonly peerId: string;
  readonly direction: Direction;
  readonly remoteAddress: string;
  readonly closed: boolean;
  /** Resolves when the frame is queued below the high-water mark; rejects with `CLOSED` once closed. */
  send(message: AppMessage): Promise<void>;
  /**
   * `released`, if given, is called exactly once, when the transport holds no reference to `data`
   * (written out, copied, or not sent at all), so its buffer may be reused. The engine also counts
   * a peer's unwritten bytes by it: a transport that never called it would stall that peer.
   */
  sendBlock(id: number, data: Uint8Array, released?: () => void): Promise<void>;
  /** Tells the peer why (a `close` message), then closes. */
  close(reason: string): void;
}

export interface ListenAddress {
  host: string;
  port: number;
}

export interface TransportEvents {
  /** A peer authenticated. A second one for the same peer replaces the first (which then closes without `disconnect`). */
  connection: (connection: Connection) => void;
  message: (connection: Connection, message: AppMessage) => void;
  block: (connection: Connection, frame: BlockFrame) => void;
  /** Only for connections that were announced with `connection`. */
  disconnect: (connection: Connection, reason: string) => void;
  /** Something went wrong that the transport handled (a rejected peer, a failed dial); for logs. */
  error: (error: TransportError) => void;
}

/** What the engine needs from a network: authenticated connections to peers, kept alive. */
export interface Transport {
  readonly nodeId: string;
  /** Starts accepting peers; null when this transport does not listen. */
  listen(): Promise<ListenAddress | null>;
  /** Keeps a connection to `url` open, redialing with backoff, until `close()`. */
  dial(url: string): void;
  connections(): Connection[];
  on<E extends keyof TransportEvents>(event: E, listener: TransportEvents[E]): () => void;
  close(): Promise<void>;
}
