#!/usr/bin/env bash
# Live heap of two daemons holding COUNT files of 1 KiB, by hand (not a bench scenario): node 0
# starts on the tree, node 1 on an empty folder pulls it. Prints each node's peak and lowest RSS
# over 60 s of quiet after the cold sync, and the heap used after a full collection (a heap
# snapshot collects first), then node 0's again after both restart. The snapshots are deleted.
#
#   tools/bench/heap-pair.sh [MAIN_JS] [COUNT] [LABEL]
#   tools/bench/heap-pair.sh /tmp/old/main.js 100000 old   # another build, for an A/B
#   NODE_OPTIONS=--max-semi-space-size=4 tools/bench/heap-pair.sh   # other V8 settings (default: 16, as the image)
#   HEAP_PAIR_COLD_ONLY=1 tools/bench/heap-pair.sh   # only the cold sync's time and peaks (~45 s a run, for A/Bs)
#   PROMOTED_DIR=/tmp/p NODE_OPTIONS="--max-semi-space-size=16 --import $PWD/tools/bench/promoted-sample.mjs" tools/bench/heap-pair.sh
set -euo pipefail
main=$(realpath "${1:-$(cd "$(dirname "$0")/../.." && pwd)/apps/node/dist/main.js}")
count=${2:-100000}
label=${3:-$(basename "$(dirname "$(dirname "$main")")")}
base=${HEAP_PAIR_DIR:-/var/tmp/heap-pair}
export UV_THREADPOOL_SIZE=16 NODE_OPTIONS=${NODE_OPTIONS:---max-semi-space-size=16}

rm -rf "$base" && mkdir -p "$base/n0" "$base/n1"

PAIR_PORT=7710
. "$(dirname "$0")/lib/pair.sh"
pair_tree_1k "$count"
start() { pair_start "$1" --heapsnapshot-signal=SIGUSR2; }
stop() { kill "${pids[0]}" "${pids[1]}"; wait "${pids[0]}" "${pids[1]}" 2>/dev/null || true; }
alive() { # a daemon that exited (a bad MAIN_JS, a crash) ends the run instead of a wait for ever
  local pid; for pid in "${pids[@]}"; do
    kill -0 "$pid" 2>/dev/null || { echo "a daemon exited; see $base/n*.log" >&2; kill "${pids[@]}" 2>/dev/null || true; exit 1; }
  done
}
status() { curl -sf "127.0.0.1:$((7711 + 10 * $1))/status" || true; }
field() { awk -v key="$2" '$1 == key ":" { print $2 }' "/proc/$1/status"; }
heap_after_gc() { # heap used once a snapshot of node $1 is written
  kill -USR2 "${pids[$1]}"
  until ls "$base"/*.heapsnapshot >/dev/null 2>&1; do sleep 0.5; done
  while lsof "$base"/*.heapsnapshot >/dev/null 2>&1; do sleep 1; done
  rm -f "$base"/*.heapsnapshot
  curl -s "127.0.0.1:$((7711 + 10 * $1))/metrics" | awk '/^nodejs_heap_size_used_bytes/ { printf "%.0f", $2 / 1e6 }'
}
idle() { status "$1" | grep -q '"state": "idle"'; }

start 0; sleep 0.3; start 1
t0=$(date +%s.%N)
until alive && status 1 | grep -q "\"files\": $count,"; do sleep 0.5; done
until alive && idle 0 && idle 1; do sleep 0.5; done
sync_s=$(echo "$(date +%s.%N) - $t0" | bc)
if [ "${HEAP_PAIR_COLD_ONLY:-}" = 1 ]; then
  echo "$label cold sync ${sync_s%???????} s; node 0: peak $(($(field "${pids[0]}" VmHWM) / 1024)) MiB; node 1: peak $(($(field "${pids[1]}" VmHWM) / 1024)) MiB"
  stop
  rm -rf "$base"
  exit 0
fi
low0=$(field "${pids[0]}" VmRSS) low1=$(field "${pids[1]}" VmRSS)
for _ in $(seq 60); do
  r0=$(field "${pids[0]}" VmRSS) r1=$(field "${pids[1]}" VmRSS)
  (( r0 < low0 )) && low0=$r0; (( r1 < low1 )) && low1=$r1
  sleep 1
done
hwm0=$(field "${pids[0]}" VmHWM) hwm1=$(field "${pids[1]}" VmHWM)
heap0=$(heap_after_gc 0) heap1=$(heap_after_gc 1)
echo "$label cold sync ${sync_s%???????} s; node 0: peak $((hwm0 / 1024)) MiB, lowest $((low0 / 1024)) MiB, heap after GC $heap0 MB; node 1: peak $((hwm1 / 1024)) MiB, lowest $((low1 / 1024)) MiB, heap after GC $heap1 MB"

stop; start 0; start 1
sleep 30
until alive && idle 0; do sleep 0.5; done
echo "$label warm node 0: heap after GC $(heap_after_gc 0) MB"
stop
rm -rf "$base"
