// latency: a 1 KiB file created on node 0 until it is on nodes 1 and 2 (3 nodes); p50, p99, max.
import { randomBytes } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { verifySame, waitArrival, withCluster, place } from '../lib/scenario-kit.mjs';
import { round, waitFor } from '../lib/proc.mjs';
import { percentile } from '../lib/stats.mjs';

export const latency = {
  name: 'latency',
  rivals: ['rsync', 'rsync-fsync', 'syncthing', 'syncthing-1s'],
  trials(env, system) {
    const base = env.quick ? 20 : 50;
    // Syncthing waits its watcher delay on every trial: fewer trials keep a run within minutes.
    if (system.name === 'syncthing') return env.quick ? 4 : 8;
    if (system.name === 'syncthing-1s') return env.quick ? 8 : 15;
    return base;
  },
  async run(env, system) {
    const trials = this.trials(env, system);
    return withCluster(env, system, 3, async (cluster, { staging }) => {
      const [a, b, c] = cluster.dirs;
      cluster.mark();
      const samples = [];
      for (let k = 0; k < trials; k++) {
        const name = `lat-${k}.bin`;
        const staged = join(staging, name);
        writeFileSync(staged, randomBytes(1024));
        const t0 = performance.now();
        place(staged, join(a, name));
        await cluster.sync(0, [1, 2]);
        const seconds = await waitArrival([join(b, name), join(c, name)], 1024, t0, { everyMs: 2, timeoutMs: 60_000 });
        samples.push(seconds * 1000);
        await verifySame(join(a, name), [join(b, name), join(c, name)]);
        // Let every node settle (announcements, index writes) so trials do not overlap.
        await waitFor('idle', async () => (await cluster.idle(0)) && (await cluster.idle(1)) && (await cluster.idle(2)), { timeoutMs: 60_000 });
        await sleep(50);
      }
      const sorted = [...samples].sort((x, y) => x - y);
      return {
        metrics: {
          trials,
          p50Ms: round(percentile(sorted, 50), 1),
          p99Ms: round(percentile(sorted, 99), 1),
          maxMs: round(sorted[sorted.length - 1], 1),
        },
        daemons: cluster.stats(),
      };
    });
  },
};
