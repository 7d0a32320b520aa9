import type { ListenAddress, Transport } from '../connection';
import { TransportError } from '../errors';
import type { FrameSocket } from '../frame-socket';
import { TransportHub } from '../hub';
import type { HubOptions } from '../hub';
import { createMemoryPair } from './memory-socket';

export interface MemoryNetworkOptions {
  latencyMs?: number;
}

export interface MemoryTransportOptions extends HubOptions {
  /** Where others dial this transport; default `mem://<nodeId>`. */
  address?: string;
}

export interface MemoryNetwork {
  createTransport(options: MemoryTransportOptions): Transport;
  /** Drops every connection between `a` and `b` (they redial at once). */
  cut(a: string, b: string): void;
  /** Splits the nodes into groups that cannot reach each other until `heal()`. */
  partition(...groups: string[][]): void;
  heal(): void;
  /** Dials refused so far (unknown address or partitioned): lets a test wait for retries instead of sleeping. */
  readonly refusedDials: number;
}

interface Link {
  ends: [string, string];
  sockets: [FrameSocket, FrameSocket];
}

/** An in-process network of transports addressed `mem://<nodeId>`, with cuts and partitions. */
export function createMemoryNetwork(options: MemoryNetworkOptions = {}): MemoryNetwork {
  const listeners = new Map<string, MemoryTransport>();
  let links: Link[] = [];
  let groupOf = new Map<string, number>();
  let refusedDials = 0;

  const reachable = (a: string, b: string): boolean => {
    const ga = groupOf.get(a);
    const gb = groupOf.get(b);
    return ga === undefined || gb === undefined || ga === gb;
  };

  const drop = (predicate: (link: Link) => boolean, reason: string): void => {
    const dropped = links.filter(predicate);
    links = links.filter((link) => !predicate(link));
    for (const link of dropped) link.sockets[0].close(reason);
  };

  class MemoryTransport extends TransportHub {
    private readonly address: string;
    private listening = false;

    constructor(transportOptions: MemoryTransportOptions) {
      super(transportOptions);
      this.address = transportOptions.address ?? `mem://${transportOptions.nodeId}`;
    }

    listen(): Promise<ListenAddress | null> {
      if (listeners.get(this.address) && listeners.get(this.address) !== this) {
        return Promise.reject(new TransportError('LISTEN_FAILED', `${this.address} is taken`));
      }
      listeners.set(this.address, this);
      this.listening = true;
      return Promise.resolve({ host: this.address, port: 0 });
    }

    protected openSocket(url: string): Promise<FrameSocket> {
      const target = listeners.get(url);
      if (!target || !reachable(this.nodeId, target.nodeId)) {
        refusedDials++;
        return Promise.reject(new TransportError('DIAL_FAILED', `${url} is unreachable`, { peer: url }));
      }
      const [mine, theirs] = createMemoryPair({ latencyMs: options.latencyMs ?? 0 });
      const link: Link = { ends: [this.nodeId, target.nodeId], sockets: [mine, theirs] };
      links.push(link);
      mine.onClose(() => (links = links.filter((l) => l !== link)));
      target.acceptFrom(theirs, `mem://${this.nodeId}`);
      return Promise.resolve(mine);
    }

    acceptFrom(socket: FrameSocket, remoteAddress: string): void {
      this.accept(socket, 'inbound', remoteAddress);
    }

    protected stopListening(): Promise<void> {
      if (this.listening && listeners.get(this.address) === this) listeners.delete(this.address);
      this.listening = false;
      return Promise.resolve();
    }
  }

  return {
    createTransport: (transportOptions) => new MemoryTransport(transportOptions),
    cut(a, b) {
      drop((link) => link.ends.includes(a) && link.ends.includes(b), 'network cut');
    },
    partition(...groups) {
      groupOf = new Map(groups.flatMap((group, index) => group.map((node) => [node, index] as const)));
      drop((link) => !reachable(link.ends[0], link.ends[1]), 'network partition');
    },
    heal() {
      groupOf = new Map();
    },
    get refusedDials() {
      return refusedDials;
    },
  };
}
