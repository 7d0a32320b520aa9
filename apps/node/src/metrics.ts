import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import type { SyncStatus } from '@sync/core';

export interface MetricsOptions {
  /** Read at every scrape; the engine's status is cheap and always current. */
  status: () => SyncStatus;
  version: string;
  /** Node.js process metrics (CPU, memory, event loop lag, …). Off in unit tests. */
  processMetrics?: boolean;
}

type StatusNumber = { [K in keyof SyncStatus]: SyncStatus[K] extends number ? K : never }[keyof SyncStatus];

const gauges: readonly [name: string, help: string, read: (status: SyncStatus) => number][] = [
  ['sync_files', 'Live files in the local index', (s) => s.files],
  ['sync_directories', 'Live directories in the local index', (s) => s.directories],
  ['sync_symlinks', 'Live symlinks in the local index', (s) => s.symlinks],
  ['sync_bytes', 'Total size of the live files in the local index', (s) => s.bytes],
  ['sync_peers_connected', 'Peers with an authenticated connection', (s) => s.peers.length],
  ['sync_transfers_in_flight', 'Files being pulled right now', (s) => s.transfersInFlight],
  ['sync_pending_paths', 'Paths waiting to be scanned or pulled', (s) => s.pendingPaths],
  ['sync_index_sequence', 'Local index sequence number (grows with every local change)', (s) => s.sequence],
];

const counters: readonly [name: string, help: string, field: StatusNumber][] = [
  ['sync_files_synced_total', 'Files, directories and symlinks changed here because of a peer', 'filesSynced'],
  ['sync_bytes_received_total', 'Block bytes received from peers', 'bytesReceived'],
  ['sync_bytes_sent_total', 'Block bytes sent to peers', 'bytesSent'],
  ['sync_bytes_reused_total', 'Block bytes copied from local files instead of transferred', 'bytesReused'],
  ['sync_blocks_requested_total', 'Blocks requested from peers (small files pushed with their announcement are not)', 'blocksRequested'],
  ['sync_index_records_received_total', 'Index records received from peers (whole indexes on first contact, then changes)', 'recordsReceived'],
  ['sync_conflicts_total', 'Conflicts resolved', 'conflicts'],
  ['sync_errors_total', 'Errors reported by the engine', 'errors'],
];

/** Seconds from a pull starting to the file being in place; most land in the first buckets. */
const propagationBuckets = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300];

/** Prometheus metrics of one node, in a private registry (never prom-client's global one). */
export class NodeMetrics {
  readonly registry = new Registry();
  private readonly propagation: Histogram<'op'>;

  constructor(options: MetricsOptions) {
    const { registry } = this;
    const status = options.status;
    for (const [name, help, read] of gauges) {
      new Gauge({
        name,
        help,
        registers: [registry],
        collect() {
          this.set(read(status()));
        },
      });
    }
    for (const [name, help, field] of counters) {
      // The engine keeps running totals; a counter only moves forward, so add the growth since the last scrape.
      let reported = 0;
      new Counter({
        name,
        help,
        registers: [registry],
        collect() {
          const total = status()[field];
          if (total < reported) {
            this.reset();
            reported = 0;
          }
          if (total > reported) this.inc(total - reported);
          reported = total;
        },
      });
    }
    new Gauge({
      name: 'sync_info',
      help: 'Always 1; labels carry the node id and software version',
      labelNames: ['node_id', 'version'] as const,
      registers: [registry],
      collect() {
        this.reset();
        this.set({ node_id: status().nodeId, version: options.version }, 1);
      },
    });
    this.propagation = new Histogram({
      name: 'sync_propagation_seconds',
      help: 'Time from starting to pull a change from a peer to having it in place locally',
      labelNames: ['op'] as const,
      buckets: propagationBuckets,
      registers: [registry],
    });
    // prom-client samples event-loop delay every 10 ms by default: 100 wake-ups a second that made
    // an idle node cost ~0.5 CPU s per minute. Once a second still shows a stalled loop.
    if (options.processMetrics) collectDefaultMetrics({ register: registry, eventLoopMonitoringPrecision: 1000 });
  }

  /** Feeds one 'file-synced' event into the propagation histogram. */
  observeSynced(event: { op: string; durationMs: number }): void {
    this.propagation.observe({ op: event.op }, Math.max(0, event.durationMs) / 1000);
  }

  get contentType(): string {
    return this.registry.contentType;
  }

  render(): Promise<string> {
    return this.registry.metrics();
  }
}
