#!/usr/bin/env bash
# Many synced files changed at once, by hand (not a bench scenario): two daemons hold COUNT files
# of 4 KiB; new contents are then renamed over all of them on node 0 in one burst, timed until
# node 1 has applied COUNT more changes (`sync_files_synced_total`), and checked with `diff -r`.
# Each change makes node 1 keep the replaced file as a version (a hard link) before the commit.
#
#   tools/bench/modify-pair.sh [MAIN_JS] [COUNT]
#   MODIFY_PAIR_DIR=/mnt/j/mp tools/bench/modify-pair.sh   # another disk
set -euo pipefail
main=$(realpath "${1:-$(cd "$(dirname "$0")/../.." && pwd)/apps/node/dist/main.js}")
count=${2:-5000}
base=${MODIFY_PAIR_DIR:-/var/tmp/modify-pair}
export UV_THREADPOOL_SIZE=${UV_THREADPOOL_SIZE:-16} NODE_OPTIONS=${NODE_OPTIONS:---max-semi-space-size=16}

rm -rf "$base" && mkdir -p "$base/n0/t" "$base/n1" "$base/new"
node -e '
const { writeFileSync } = require("node:fs"); const { randomBytes } = require("node:crypto");
const [base, count] = [process.argv[1], +process.argv[2]];
for (let i = 0; i < count; i++) {
  writeFileSync(`${base}/n0/t/f${i}.bin`, randomBytes(4096));
  writeFileSync(`${base}/new/f${i}.bin`, randomBytes(4096));
}' "$base" "$count"
node -e 'process.stdout.write(require("node:crypto").randomBytes(32).toString("hex"))' > "$base/secret"

PAIR_PORT=7610
. "$(dirname "$0")/lib/pair.sh"
stop() { kill -INT "${pids[@]}" 2>/dev/null || true; wait 2>/dev/null || true; }
trap stop EXIT
metric() { curl -sf 127.0.0.1:7621/metrics | awk -v name="$1" '$1 == name { print $2; exit }'; }

pair_start 0
pair_start 1
until [ "$(metric sync_files)" = "$count" ]; do sleep 0.2; done
sleep 3
before=$(metric sync_files_synced_total)
t0=$(date +%s.%N)
node -e '
const { renameSync } = require("node:fs"); const [base, count] = [process.argv[1], +process.argv[2]];
for (let i = 0; i < count; i++) renameSync(`${base}/new/f${i}.bin`, `${base}/n0/t/f${i}.bin`);' "$base" "$count"
until [ "$(metric sync_files_synced_total)" -ge "$((before + count))" ]; do sleep 0.05; done
echo "$count files changed on node 0, applied on node 1 after $(echo "$(date +%s.%N) - $t0" | bc) s"
diff -rq "$base/n0/t" "$base/n1/t" && echo "node 1 holds the same bytes"
