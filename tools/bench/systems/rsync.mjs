// rsync: a daemon on loopback per receiver; a change is pushed by running the rsync client.
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { ProcWatch, freePort, round, run, startDaemon, stopDaemon, waitFor } from '../lib/proc.mjs';
import { createConnection } from 'node:net';

export function rsyncSystem({ fsync }) {
  return {
    name: fsync ? 'rsync-fsync' : 'rsync',
    live: false,
    async start(root, n, options = {}) {
      const nodes = [];
      for (let i = 0; i < n; i++) {
        const dir = options.dirs?.[i] ?? join(root, `n${i}`);
        mkdirSync(dir, { recursive: true });
        nodes.push({ dir });
      }
      const cluster = new RsyncCluster(root, nodes, fsync);
      await cluster.startDaemons();
      return cluster;
    },
  };
}

function portOpen(port) {
  return new Promise((resolve) => {
    const socket = createConnection({ port, host: '127.0.0.1' });
    socket.on('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.on('error', () => resolve(false));
  });
}

class RsyncCluster {
  constructor(root, nodes, fsync) {
    this.root = root;
    this.nodes = nodes;
    this.fsync = fsync;
    this.dirs = nodes.map((node) => node.dir);
    this.live = false;
    this.bytes = 0;
    this.client = { cpuS: 0, peakKiB: 0 };
  }

  /** Node 0 is the sender (the client); every other node runs a daemon that receives. */
  async startDaemons() {
    for (let i = 1; i < this.nodes.length; i++) {
      const node = this.nodes[i];
      node.port = await freePort();
      const config = join(this.root, `rsyncd-${i}.conf`);
      writeFileSync(
        config,
        [
          `port = ${node.port}`,
          'address = 127.0.0.1',
          'use chroot = no',
          `pid file = ${join(this.root, `rsyncd-${i}.pid`)}`,
          `lock file = ${join(this.root, `rsyncd-${i}.lock`)}`,
          `log file = ${join(this.root, `rsyncd-${i}.log`)}`,
          'max connections = 8',
          '[bench]',
          `path = ${node.dir}`,
          'read only = no',
          'uid = root',
          'gid = root',
          '',
        ].join('\n'),
      );
      node.child = startDaemon('rsync', ['--daemon', '--no-detach', `--config=${config}`], { logFile: join(this.root, `rsyncd-${i}.out`) });
      node.watch = new ProcWatch(node.child.pid, { tree: true, everyMs: 50 });
      await waitFor(`rsync daemon ${i}`, () => portOpen(node.port), { timeoutMs: 10_000 });
    }
  }

  async ready() {}

  /** Pushes node `from`'s tree to each of `to` in parallel, as lsyncd would after a change. */
  async sync(from = 0, to = this.nodes.map((_, i) => i).filter((i) => i !== 0)) {
    await Promise.all(to.map((i) => this.push(this.nodes[from].dir, this.nodes[i].port)));
  }

  async push(dir, port) {
    const args = ['-a', '--delete', '--stats', ...(this.fsync ? ['--fsync'] : []), `${dir}/`, `rsync://127.0.0.1:${port}/bench/`];
    // GNU time reports the client's CPU and peak RSS on the last line of stderr.
    const result = await run('/usr/bin/time', ['-f', 'BENCHTIME %U %S %M', 'rsync', ...args]);
    const timing = /BENCHTIME ([\d.]+) ([\d.]+) (\d+)/.exec(result.stderr);
    if (timing) {
      this.client.cpuS += Number(timing[1]) + Number(timing[2]);
      this.client.peakKiB = Math.max(this.client.peakKiB, Number(timing[3]));
    }
    const sent = /Total bytes sent: ([\d,.]+)/.exec(result.stdout);
    const received = /Total bytes received: ([\d,.]+)/.exec(result.stdout);
    this.bytes += (sent ? Number(sent[1].replace(/[,.]/g, '')) : 0) + (received ? Number(received[1].replace(/[,.]/g, '')) : 0);
  }

  async fileCount() {
    return null;
  }

  async idle() {
    return true;
  }

  async wireBytes() {
    return this.bytes;
  }

  mark() {
    this.client = { cpuS: 0, peakKiB: this.client.peakKiB };
    for (const node of this.nodes) node.watch?.mark();
  }

  stats() {
    return this.nodes.map((node, i) =>
      i === 0 ? { cpuS: round(this.client.cpuS, 3), rssPeakMiB: round(this.client.peakKiB / 1024, 1) } : node.watch.read(),
    );
  }

  async stop() {
    for (const node of this.nodes) {
      if (!node.child) continue;
      node.watch.stop();
      await stopDaemon(node.child, 3_000);
    }
  }
}

