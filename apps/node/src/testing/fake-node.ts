import type { SyncEvents, SyncNodeOptions, SyncStatus } from '@sync/core';
import type { DaemonNode } from '../daemon';

/** A plausible status of a running node; override what a test looks at. */
export function fakeStatus(overrides: Partial<SyncStatus> = {}): SyncStatus {
  return {
    nodeId: 'node1',
    dir: '/data',
    stateDir: '/data/.sync',
    state: 'idle',
    listening: { host: '0.0.0.0', port: 7070 },
    peers: [{ nodeId: 'node2', address: '10.0.0.2:7070', direction: 'outbound', connectedAtMs: 1, indexSequence: 0 }],
    files: 3,
    directories: 2,
    symlinks: 1,
    bytes: 4096,
    transfersInFlight: 1,
    pendingPaths: 5,
    bytesReceived: 100,
    bytesSent: 200,
    bytesReused: 50,
    blocksRequested: 3,
    recordsReceived: 9,
    filesSynced: 7,
    conflicts: 1,
    errors: 0,
    sequence: 42,
    indexId: 'idx',
    heldDeletes: null,
    failingPaths: 0,
    tlsFingerprint: null,
    ...overrides,
  };
}

type AnyListener = (...args: never[]) => void;

/** A SyncNode stand-in: records calls, lets the test finish start() and emit events. */
export class FakeNode implements DaemonNode {
  readonly calls: string[] = [];
  options: SyncNodeOptions | null = null;
  state: SyncStatus['state'] = 'stopped';
  private readonly listeners = new Map<string, Set<AnyListener>>();
  private finishStart: ((error?: Error) => void) | null = null;

  constructor(private readonly holdStart = false) {}

  readonly create = (options: SyncNodeOptions): DaemonNode => {
    this.options = options;
    return this;
  };

  get nodeId(): string {
    return 'node1';
  }

  start(): Promise<void> {
    this.calls.push('start');
    this.state = 'scanning';
    return new Promise<void>((resolve, reject) => {
      this.finishStart = (error) => {
        if (error) return reject(error);
        this.state = 'idle';
        resolve();
      };
      if (!this.holdStart) this.finishStart();
    });
  }

  /** Completes a held start(), or fails it with `error`. */
  releaseStart(error?: Error): void {
    this.finishStart?.(error);
  }

  async confirmDeletes(): Promise<number> {
    this.calls.push('confirmDeletes');
    return 3;
  }

  async stop(): Promise<void> {
    this.calls.push('stop');
    this.state = 'stopped';
  }

  status(): SyncStatus {
    return fakeStatus({ state: this.state });
  }

  address(): { host: string; port: number } | null {
    return this.state === 'stopped' ? null : { host: '127.0.0.1', port: 7070 };
  }

  on<E extends keyof SyncEvents>(event: E, listener: SyncEvents[E]): () => void {
    const set = this.listeners.get(event) ?? new Set<AnyListener>();
    this.listeners.set(event, set);
    set.add(listener as AnyListener);
    return () => set.delete(listener as AnyListener);
  }

  emit<E extends keyof SyncEvents>(event: E, ...args: Parameters<SyncEvents[E]>): void {
    for (const listener of this.listeners.get(event) ?? []) (listener as unknown as (...a: Parameters<SyncEvents[E]>) => void)(...args);
  }

  listenerCount(): number {
    return [...this.listeners.values()].reduce((n, set) => n + set.size, 0);
  }
}
