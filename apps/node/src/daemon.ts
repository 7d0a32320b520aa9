import type { SyncNode, SyncNodeOptions } from '@sync/core';
import type { NodeConfig } from './config';
import { attachEventLog } from './event-log';
import { createHttpHandler, startHttpServer } from './http';
import type { Health, HttpListener } from './http';
import type { AppLogger } from './logger';
import { NodeMetrics } from './metrics';
import { version } from './version';

/** The part of a SyncNode the daemon uses. */
export type DaemonNode = Pick<SyncNode, 'start' | 'stop' | 'status' | 'address' | 'on' | 'nodeId' | 'confirmDeletes'>;

export interface DaemonOptions {
  logger: AppLogger;
  /** core's createSyncNode; a fake in unit tests. */
  createNode: (options: SyncNodeOptions) => DaemonNode;
  now?: () => number;
  /** Node.js process metrics on /metrics; default on. */
  processMetrics?: boolean;
}

/** One running node plus its HTTP endpoints and event log. */
export class Daemon {
  private health: Health = 'starting';
  private readonly node: DaemonNode;
  private readonly metrics: NodeMetrics;
  private readonly detachLog: () => void;
  private http: HttpListener | null = null;
  private starting: Promise<void> | null = null;
  private stopping: Promise<void> | null = null;

  constructor(
    private readonly config: NodeConfig,
    private readonly options: DaemonOptions,
  ) {
    this.node = options.createNode({
      dir: config.dir,
      stateDir: config.stateDir,
      ...(config.nodeId === undefined ? {} : { nodeId: config.nodeId }),
      listen: config.listen,
      peers: config.peers,
      secret: config.secret,
      conflictPolicy: config.conflictPolicy,
      pollIntervalMs: config.pollIntervalMs,
      logger: options.logger,
      software: `sync-node/${version}`,
      ...(config.tls ? { tls: config.tls } : {}),
      limits: { versionsRetentionMs: config.keepVersionsDays * 24 * 3600_000, rescanIntervalMs: config.rescanMinutes === false ? 0 : config.rescanMinutes * 60_000 },
    });
    this.metrics = new NodeMetrics({ status: () => this.node.status(), version, processMetrics: options.processMetrics ?? true });
    this.detachLog = attachEventLog(this.node, { logger: options.logger, onSynced: (event) => this.metrics.observeSynced(event) });
  }

  get state(): Health {
    return this.health;
  }

  /** The bound HTTP address once started (port 0 in the config picks a free one). */
  get httpAddress(): { host: string; port: number } | null {
    return this.http?.address ?? null;
  }

  /** HTTP first, so /healthz and /status answer during a long initial scan; then the engine. */
  start(): Promise<void> {
    this.starting ??= this.run();
    return this.starting;
  }

  private async run(): Promise<void> {
    const { config } = this;
    const { logger } = this.options;
    logger.info('starting', {
      version,
      dir: config.dir,
      stateDir: config.stateDir,
      listen: `${config.listen.host}:${config.listen.port}`,
      peers: config.peers.join(',') || 'none',
      auth: config.insecure ? 'none (insecure)' : `secret from ${config.secretSource}`,
      conflict: config.conflictPolicy,
      watch: config.pollIntervalMs === false ? 'events' : `poll every ${config.pollIntervalMs} ms`,
      rescan: config.rescanMinutes === false ? 'off' : `every ${config.rescanMinutes} min`,
      tls: config.tls?.cert ? 'wss' : 'off',
      ...(config.tls?.pins.length ? { pinned: config.tls.pins.length } : {}),
    });
    if (config.http) {
      const handler = createHttpHandler({
        status: () => this.node.status(),
        health: () => this.health,
        metrics: this.metrics,
        version,
        startedAtMs: (this.options.now ?? Date.now)(),
        logger,
        confirmDeletes: () => this.node.confirmDeletes(),
      });
      this.http = await startHttpServer(config.http, handler);
      logger.info('http listening', { address: `${this.http.address.host}:${this.http.address.port}`, endpoints: '/healthz /status /metrics' });
    }
    try {
      await this.node.start();
    } catch (error) {
      await this.http?.close();
      throw error;
    }
    const bound = this.node.address();
    const status = this.node.status();
    this.health = 'running';
    logger.info('running', {
      node: this.node.nodeId,
      listen: bound ? `${bound.host}:${bound.port}` : 'off',
      files: status.files,
      bytes: status.bytes,
      ...(status.tlsFingerprint ? { tlsFingerprint: status.tlsFingerprint } : {}),
    });
  }

  /** Idempotent. Waits for a start in progress, then stops the engine (which flushes the index). */
  stop(): Promise<void> {
    this.stopping ??= (async () => {
      this.health = 'stopping';
      await this.starting?.catch(() => {});
      await this.node.stop();
      this.detachLog();
      await this.http?.close();
    })();
    return this.stopping;
  }
}
