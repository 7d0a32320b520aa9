// Our daemon: the built apps/node bundle, one process per node, full mesh on loopback.
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { ProcWatch, freePort, getJson, startDaemon, tcpBytes, waitFor } from '../lib/proc.mjs';
import { DaemonCluster } from '../lib/daemon-cluster.mjs';

export function oursSystem(mainJs, nodeBinary = process.execPath) {
  return {
    name: 'ours',
    live: true,
    async start(root, n, options = {}) {
      if (!existsSync(mainJs)) throw new Error(`${mainJs} is missing: build it with (cd apps/node && npx tsup)`);
      const secretFile = join(root, 'secret');
      writeFileSync(secretFile, randomBytes(32).toString('hex'));
      const nodes = [];
      for (let i = 0; i < n; i++) {
        const dir = options.dirs?.[i] ?? join(root, `n${i}`);
        mkdirSync(dir, { recursive: true });
        nodes.push({ dir, listen: await freePort(), http: await freePort(), log: join(root, `ours-n${i}.log`) });
      }
      const cluster = new OursCluster(mainJs, nodeBinary, nodes, secretFile, options);
      await cluster.startAll();
      return cluster;
    },
  };
}

class OursCluster extends DaemonCluster {
  constructor(mainJs, nodeBinary, nodes, secretFile, options) {
    super();
    this.mainJs = mainJs;
    this.nodeBinary = nodeBinary;
    this.nodes = nodes;
    this.secretFile = secretFile;
    this.options = options;
    this.dirs = nodes.map((node) => node.dir);
    this.live = true;
  }

  args(i) {
    const node = this.nodes[i];
    const args = [
      ...(process.env.BENCH_NODE_ARGS ? process.env.BENCH_NODE_ARGS.split(' ').filter(Boolean) : []),
      this.mainJs,
      '--dir', node.dir,
      '--listen', `127.0.0.1:${node.listen}`,
      '--http', `127.0.0.1:${node.http}`,
      '--node-id', `n${i}`,
      '--secret-file', this.secretFile,
      '--log-level', process.env.BENCH_LOG_LEVEL ?? 'warn',
    ];
    // Node i dials every node before it: one connection per pair, no duplicate tie-breaks.
    for (let j = 0; j < i; j++) args.push('--peer', `ws://127.0.0.1:${this.nodes[j].listen}`);
    return args;
  }

  async startNode(i) {
    const node = this.nodes[i];
    node.startedAt = performance.now();
    // Run as the image runs it (docker/Dockerfile): libuv's pool at 16 threads unless set, and
    // V8's semi-space capped at 16 MB (Node 20's own default; it matters under BENCH_NODE=24).
    const env = { UV_THREADPOOL_SIZE: process.env.UV_THREADPOOL_SIZE ?? '16', NODE_OPTIONS: process.env.NODE_OPTIONS ?? '--max-semi-space-size=16' };
    node.child = startDaemon(this.nodeBinary, this.args(i), { logFile: node.log, cwd: node.dir, env });
    node.watch = new ProcWatch(node.child.pid);
  }

  async startAll(which = this.nodes.map((_, i) => i)) {
    for (const i of which) await this.startNode(i);
    await this.ready(which);
  }

  status(i) {
    return getJson(`http://127.0.0.1:${this.nodes[i].http}/status`);
  }

  /** Every started node has finished its initial scan and sees every other running node. */
  async ready(which = this.nodes.map((_, i) => i), timeoutMs = 600_000) {
    const running = this.nodes.filter((node) => node.child && node.child.exitCode === null).length;
    await Promise.all(
      which.map((i) =>
        waitFor(
          `ours n${i} ready`,
          async () => {
            if (this.nodes[i].child.exitCode !== null) throw new Error(`ours n${i} exited; see ${this.nodes[i].log}`);
            const status = await this.status(i);
            return status.health === 'running' && status.peers.length >= running - 1;
          },
          { timeoutMs, everyMs: 25 },
        ),
      ),
    );
  }

  /** Seconds from the process start until /healthz says ok (initial scan done). */
  async timeToHealthy(i, timeoutMs = 600_000) {
    await waitFor(
      `ours n${i} healthy`,
      async () => {
        const response = await fetch(`http://127.0.0.1:${this.nodes[i].http}/healthz`).catch(() => null);
        return response?.status === 200;
      },
      { timeoutMs, everyMs: 10 },
    );
    const seconds = (performance.now() - this.nodes[i].startedAt) / 1000;
    // CPU the process had used by then (all its threads): tells a slow start from a starved one.
    this.nodes[i].healthyCpuS = this.nodes[i].watch.sample();
    return seconds;
  }

  /** CPU seconds node i had used when it first answered /healthz (after `timeToHealthy`). */
  cpuAtHealthy(i) {
    return this.nodes[i].healthyCpuS ?? null;
  }

  /**
   * Seconds from the first of these nodes' starts until each holds every other's whole index
   * (a peer's `indexSequence` equals that peer's own `sequence`) and has nothing left to do.
   */
  async timeToCaughtUp(which = this.nodes.map((_, i) => i), timeoutMs = 600_000) {
    await waitFor(
      'ours caught up',
      async () => {
        const statuses = await Promise.all(which.map((i) => this.status(i)));
        const sequenceOf = new Map(statuses.map((status) => [status.nodeId, status.sequence]));
        return statuses.every(
          (status) =>
            status.pendingPaths === 0 &&
            status.transfersInFlight === 0 &&
            status.peers.length >= which.length - 1 &&
            status.peers.every((peer) => !sequenceOf.has(peer.nodeId) || peer.indexSequence === sequenceOf.get(peer.nodeId)),
        );
      },
      { timeoutMs, everyMs: 25 },
    );
    return (performance.now() - Math.min(...which.map((i) => this.nodes[i].startedAt))) / 1000;
  }

  async sync() {}

  async fileCount(i) {
    const status = await this.status(i);
    return status.pendingPaths === 0 && status.transfersInFlight === 0 ? status.files : -1;
  }

  async idle(i) {
    const status = await this.status(i);
    return status.pendingPaths === 0 && status.transfersInFlight === 0;
  }

  async wireBytes() {
    return tcpBytes(this.nodes.map((node) => node.listen));
  }

  async engineCounters() {
    const statuses = await Promise.all(this.nodes.map((_, i) => this.status(i)));
    return {
      bytesReceived: statuses.reduce((sum, s) => sum + s.bytesReceived, 0),
      bytesReused: statuses.reduce((sum, s) => sum + s.bytesReused, 0),
    };
  }
}
