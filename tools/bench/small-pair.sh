#!/usr/bin/env bash
# Where `small`'s time goes, by hand (not a bench scenario): two daemons, COUNT files of 4 KiB in
# 100 directories moved into node 0 at once, timed until node 1's index holds them all. Prints,
# for that window only, each daemon's main thread and other threads' CPU (utime, stime), each main
# thread's time running and runnable-but-waiting (`schedstat`) with its number of time slices, and
# the machine's idle time. With WARM_TREE=1 a first tree of as many other files goes the same way
# first, untimed, so the timed one meets daemons whose hot paths V8 has compiled.
#
#   tools/bench/small-pair.sh [MAIN_JS] [COUNT]
#   SMALL_PAIR_DIR=/mnt/j/sp tools/bench/small-pair.sh   # another disk
#   PROF=1 tools/bench/small-pair.sh   # also a --cpu-prof of node 1, in $SMALL_PAIR_DIR/prof1
#   PROF=0 tools/bench/small-pair.sh   # of node 0 (the sender) instead, in $SMALL_PAIR_DIR/prof0
#   NODE_ARGS=--maglev tools/bench/small-pair.sh   # V8 flags NODE_OPTIONS does not take, for both daemons
set -euo pipefail
main=$(realpath "${1:-$(cd "$(dirname "$0")/../.." && pwd)/apps/node/dist/main.js}")
count=${2:-10000}
base=${SMALL_PAIR_DIR:-/var/tmp/small-pair}
export UV_THREADPOOL_SIZE=${UV_THREADPOOL_SIZE:-16} NODE_OPTIONS=${NODE_OPTIONS:---max-semi-space-size=16}

rm -rf "$base" && mkdir -p "$base/n0" "$base/n1"
tree() { # tree DIR: COUNT random files of 4 KiB in 100 directories
  node -e '
const { mkdirSync, writeFileSync } = require("node:fs"); const { randomFillSync } = require("node:crypto");
const [root, count] = [process.argv[1], +process.argv[2]]; const bytes = Buffer.alloc(4096);
for (let d = 0; d < 100; d++) {
  mkdirSync(`${root}/d${d}`, { recursive: true });
  for (let f = 0; f < count / 100; f++) writeFileSync(`${root}/d${d}/f${f}.bin`, randomFillSync(bytes));
}' "$1" "$count"
}
tree "$base/stage/timed"
[ -n "${WARM_TREE:-}" ] && tree "$base/stage/warm"
sync
node -e 'process.stdout.write(require("node:crypto").randomBytes(32).toString("hex"))' > "$base/secret"

PAIR_PORT=7710
. "$(dirname "$0")/lib/pair.sh"
stop() { kill -INT "${pids[@]}" 2>/dev/null || true; wait 2>/dev/null || true; }
trap stop EXIT
files() { curl -sf 127.0.0.1:7721/metrics | awk '/^sync_files[ {]/ { print $2; exit }'; }
move() { # move NAME TOTAL: NAME into node 0, until node 1 holds TOTAL files; prints the seconds
  local t0; t0=$(date +%s.%N)
  mv "$base/stage/$1" "$base/n0/$1"
  until [ "$(files)" = "$2" ]; do sleep 0.1; done
  echo "$(date +%s.%N) - $t0" | bc
}
snapshot() { # per thread: pid tid utime stime, then each main thread's schedstat, then /proc/stat's cpu line
  for p in "${pids[@]}"; do for t in /proc/"$p"/task/*; do awk -v p="$p" '{ print "thread", p, $1, $14, $15 }' "$t/stat"; done; done
  for p in "${pids[@]}"; do echo "sched $p $(cat /proc/"$p"/task/"$p"/schedstat)"; done
  head -1 /proc/stat
}

profiled() { [ "${PROF:-}" = "$1" ] && echo --cpu-prof --cpu-prof-dir="$base/prof$1"; true; }
pair_start 0 ${NODE_ARGS:-} $(profiled 0)
pair_start 1 ${NODE_ARGS:-} $(profiled 1)
until curl -sf 127.0.0.1:7721/status | grep -q '"n0"'; do sleep 0.2; done
sleep 1
total=$count
if [ -n "${WARM_TREE:-}" ]; then
  echo "warm-up tree: $(move warm "$total") s"
  total=$((2 * count))
  sleep 2
fi
snapshot > "$base/before"
echo "timed tree: $(move timed "$total") s ($count files)"
snapshot > "$base/after"
for n in 0 1; do echo "node $n peak RSS $(awk '/VmHWM/ { printf "%.1f", $2 / 1024 }' "/proc/${pids[$n]}/status") MiB"; done
echo "node 1 requested $(curl -sf 127.0.0.1:7721/metrics | awk '/^sync_blocks_requested_total / { print $2 }') blocks in all (the rest were pushed)"
python3 - "$base/before" "$base/after" "${pids[0]}" "${pids[1]}" <<'EOF'
import sys
def load(path):
    threads, sched, cpu = {}, {}, None
    for line in open(path):
        f = line.split()
        if f[0] == 'thread': threads[(f[1], f[2])] = (int(f[3]), int(f[4]))
        elif f[0] == 'sched': sched[f[1]] = [int(v) for v in f[2:5]]
        elif f[0] == 'cpu': cpu = [int(v) for v in f[1:]]
    return threads, sched, cpu
(t0, s0, c0), (t1, s1, c1) = load(sys.argv[1]), load(sys.argv[2])
for node, pid in enumerate(sys.argv[3:5]):
    for kind in ('main', 'other'):
        picked = [k for k in t1 if k[0] == pid and (k[1] == pid) == (kind == 'main')]
        user = sum(t1[k][0] - t0.get(k, (0, 0))[0] for k in picked) / 100
        system = sum(t1[k][1] - t0.get(k, (0, 0))[1] for k in picked) / 100
        print(f'node {node} {kind} threads: user {user:.2f} s, sys {system:.2f} s')
    run, wait, slices = (b - a for a, b in zip(s0[pid], s1[pid]))
    print(f'node {node} main thread: running {run / 1e9:.2f} s, runnable and waiting {wait / 1e9:.2f} s, {slices} time slices')
d = [b - a for a, b in zip(c0, c1)]
print(f'machine: user {d[0] / 100:.2f} s, sys {d[2] / 100:.2f} s, idle {d[3] / 100:.2f} s, iowait {d[4] / 100:.2f} s')
EOF
