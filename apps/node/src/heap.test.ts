import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { heapFlags } from './heap';

const probe = fileURLToPath(new URL('../test/fixtures/old-space-probe.mjs', import.meta.url));

/** Old-space growth in a fresh process with these flags set at run time, as `tuneHeap` sets them. */
function oldSpaceGrowth(flags: readonly string[]): number {
  const run = spawnSync(process.execPath, [probe, ...flags], { encoding: 'utf8', timeout: 60_000 });
  expect(run.status, run.stderr).toBe(0);
  return (JSON.parse(run.stdout) as { growthBytes: number }).growthBytes;
}

describe('heapFlags', () => {
  it('keep short-lived objects out of the old generation after a burst of survivors from the same place', () => {
    // Without the flags the probe sees pretenuring: on Node 20 always (48 MiB against 6 MiB with
    // them), on Node 24 in most runs (25–384 MiB against 25–27), so the best of three is compared.
    // A flag V8 no longer knows is ignored silently: this is what would notice.
    const tuned = oldSpaceGrowth(heapFlags);
    let untuned = 0;
    for (let attempt = 0; attempt < 3 && untuned <= 2 * tuned; attempt++) untuned = Math.max(untuned, oldSpaceGrowth([]));
    expect(tuned * 2, `old space grew ${tuned} B with the flags, ${untuned} B without`).toBeLessThan(untuned);
  });
});
