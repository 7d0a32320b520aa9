#!/usr/bin/env bash
# A restart at scale, by hand (not a bench scenario): two daemons, COUNT files of 1 KiB on node 0,
# a cold sync, a clean stop of both (SIGTERM: each saves what it holds of the other's index), then
# both started again. Prints how long the stop took, the time until both answer /healthz and until
# both are caught up (as `scale`'s warmCaughtUp_s: idle, and each holding the other's sequence),
# each node's peak RSS over the restart, and the index records each received after it.
#
#   tools/bench/restart-pair.sh [MAIN_JS] [COUNT]
#   NODE_ARGS="--cpu-prof --cpu-prof-dir=/tmp/prof" tools/bench/restart-pair.sh   # flags for the restarted daemons
set -euo pipefail
main=$(realpath "${1:-$(cd "$(dirname "$0")/../.." && pwd)/apps/node/dist/main.js}")
count=${2:-100000}
base=${RESTART_PAIR_DIR:-/var/tmp/restart-pair}
export UV_THREADPOOL_SIZE=${UV_THREADPOOL_SIZE:-16} NODE_OPTIONS=${NODE_OPTIONS:---max-semi-space-size=16}

rm -rf "$base" && mkdir -p "$base/n0" "$base/n1"

PAIR_PORT=7710
. "$(dirname "$0")/lib/pair.sh"
pair_tree_1k "$count"
trap 'kill "${pids[@]}" 2>/dev/null || true' EXIT
status() { curl -sf "127.0.0.1:$((7711 + 10 * $1))/status" || echo '{}'; }
caught_up() { node -e '
const nodes = process.argv.slice(1).map((text) => JSON.parse(text));
if (nodes.some((s) => !s.peers)) process.exit(1);
const sequence = new Map(nodes.map((s) => [s.nodeId, s.sequence]));
const done = nodes.every((s) => s.pendingPaths === 0 && s.transfersInFlight === 0 && s.peers.length >= 1 && s.peers.every((p) => p.indexSequence === sequence.get(p.nodeId)));
process.exit(done ? 0 : 1)' "$(status 0)" "$(status 1)"; }
field() { awk -v key="$2" '$1 == key ":" { print $2 }' "/proc/$1/status"; }
since() { echo "$(date +%s.%N) - $1" | bc | cut -c1-5; }
received() { curl -sf "127.0.0.1:$((7711 + 10 * $1))/metrics" | awk '/^sync_index_records_received_total / { print $2 }'; }

pair_start 0; sleep 0.3; pair_start 1
until status 1 | grep -q "\"files\": $count,"; do sleep 0.5; done
until caught_up; do sleep 0.5; done
t0=$(date +%s.%N)
kill -TERM "${pids[0]}" "${pids[1]}"; wait "${pids[0]}" "${pids[1]}" 2>/dev/null || true
echo "clean stop of both: $(since "$t0") s; saved: $(ls "$base"/n*/.sync/peers/ 2>/dev/null | grep -c '\.index$') peer indexes"
t0=$(date +%s.%N)
pair_start 0 ${NODE_ARGS:-}; pair_start 1 ${NODE_ARGS:-}
until curl -sf 127.0.0.1:7711/healthz >/dev/null && curl -sf 127.0.0.1:7721/healthz >/dev/null; do sleep 0.025; done
healthy=$(since "$t0")
until caught_up; do sleep 0.025; done
echo "restart: healthy $healthy s, caught up $(since "$t0") s; peak RSS node 0 $(($(field "${pids[0]}" VmHWM) / 1024)) MiB, node 1 $(($(field "${pids[1]}" VmHWM) / 1024)) MiB; index records received node 0 $(received 0), node 1 $(received 1)"
kill -TERM "${pids[0]}" "${pids[1]}"; wait "${pids[0]}" "${pids[1]}" 2>/dev/null || true
rm -rf "$base"
