// What every daemon-based system of the suite shares: per-node /proc sampling and stopping.
import { stopDaemon } from './proc.mjs';

export class DaemonCluster {
  /** Subclasses fill it: { child, watch } per node. */
  nodes = [];

  mark() {
    for (const node of this.nodes) node.watch?.mark();
  }

  stats() {
    return this.nodes.map((node) => node.watch?.read() ?? null);
  }

  /** Node `i`'s resident memory now, in MiB. */
  rssNowMiB(i) {
    return this.nodes[i].watch?.rssNowMiB() ?? null;
  }

  async stopNodes(which = this.nodes.map((_, i) => i)) {
    await Promise.all(
      which.map(async (i) => {
        const node = this.nodes[i];
        if (!node.child) return;
        node.watch.stop();
        await stopDaemon(node.child);
      }),
    );
  }

  async stop() {
    await this.stopNodes();
  }
}
