// A preload (`--import`): samples the allocations that outlive a young collection (V8's sampling heap
// profiler, objects later freed by a mark-compact included) for PROMOTED_SECONDS after start-up,
// then writes PROMOTED_DIR/<node id>.json for promoted-summary.mjs. Where the old generation's
// garbage comes from, which a heap snapshot (live objects only) cannot show.
//   PROMOTED_DIR=/tmp/p PROMOTED_SECONDS=20 NODE_OPTIONS="--max-semi-space-size=16 --import $PWD/tools/bench/promoted-sample.mjs" \
//     HEAP_PAIR_COLD_ONLY=1 tools/bench/heap-pair.sh
// (an absolute path: the script starts its daemons from their own directory)
import { writeFileSync } from 'node:fs';
import { Session } from 'node:inspector';

const dir = process.env.PROMOTED_DIR;
const idAt = process.argv.indexOf('--node-id');
// The heap-pair script's tree generator runs under the same NODE_OPTIONS: only daemons sample.
if (dir && idAt > 0) {
  const session = new Session();
  session.connect();
  session.post('HeapProfiler.enable');
  session.post('HeapProfiler.startSampling', { samplingInterval: 32768, includeObjectsCollectedByMajorGC: true, includeObjectsCollectedByMinorGC: false });
  setTimeout(() => {
    session.post('HeapProfiler.stopSampling', (error, result) => {
      if (error) console.error(`promoted-sample: ${error.message}`);
      else writeFileSync(`${dir}/${process.argv[idAt + 1]}.json`, JSON.stringify(result.profile));
    });
  }, Number(process.env.PROMOTED_SECONDS ?? 20) * 1000).unref();
}
