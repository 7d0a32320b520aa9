// idle: CPU seconds per minute of a 3-node cluster holding 10,000 synced files (--quick 2,000), doing nothing.
import { join } from 'node:path';
import { mkdirSync } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';
import { writeTree } from '../lib/files.mjs';
import { waitCount, withCluster } from '../lib/scenario-kit.mjs';
import { round, waitFor } from '../lib/proc.mjs';

export const idle = {
  name: 'idle',
  rivals: ['rsync', 'syncthing'],
  async run(env, system) {
    const count = env.quick ? 2_000 : 10_000;
    const seconds = env.quick ? 20 : 60;
    return withCluster(
      env,
      system,
      3,
      async (cluster) => {
        if (cluster.live) await waitCount(cluster, [1, 2], count, performance.now(), { everyMs: 200 });
        else await cluster.sync(0, [1, 2]);
        await waitFor('settled', async () => (await cluster.idle(0)) && (await cluster.idle(1)) && (await cluster.idle(2)), { timeoutMs: 600_000 });
        // Post-sync housekeeping (index flushes, GC) is not idling yet.
        await sleep(5_000);
        cluster.mark();
        await sleep(seconds * 1000);
        const daemons = cluster.stats();
        const perMinute = daemons.map((d) => round((d.cpuS * 60) / seconds, 3));
        return { metrics: { files: count, windowS: seconds, cpuSPerMinMax: Math.max(...perMinute), cpuSPerMinMean: round(perMinute.reduce((a, b) => a + b, 0) / perMinute.length, 3) }, daemons };
      },
      {
        prepare: (root) => {
          const source = join(root, 'n0');
          mkdirSync(source, { recursive: true });
          writeTree(source, { count, dirs: 100, size: 4096 });
        },
      },
    );
  },
};
