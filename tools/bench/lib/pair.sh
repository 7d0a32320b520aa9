# Sourced by the by-hand tools/bench/*-pair.sh scripts: starts node 0 and node 1 of a pair of
# daemons on loopback. Needs `base` (a folder holding `secret`), `main` (the daemon's bundle) and
# `PAIR_PORT`: node 0 listens on PAIR_PORT (HTTP on PAIR_PORT + 1), node 1 on PAIR_PORT + 10
# (HTTP + 11) and dials node 0. Each node logs to $base/n<NODE>.log; `pids` holds their pids.
# `pair_tree_1k` makes the tree (and the secret) heap-pair.sh and restart-pair.sh sync.
pids=()
pair_start() { # pair_start NODE [node's own flags...]
  local i=$1 port=$((PAIR_PORT + 10 * $1)) peer=()
  shift
  [ "$i" = 1 ] && peer=(--peer "ws://127.0.0.1:$PAIR_PORT")
  (cd "$base" && exec setsid node "$@" "$main" --dir "$base/n$i" --listen "127.0.0.1:$port" \
    --http "127.0.0.1:$((port + 1))" --node-id "n$i" --secret-file "$base/secret" --log-level warn "${peer[@]}" >> "$base/n$i.log" 2>&1) &
  pids[$i]=$!
}

pair_tree_1k() { # pair_tree_1k COUNT: COUNT random files of 1 KiB, 100 to a directory, in $base/n0; and $base/secret
  node -e '
const { mkdirSync, writeFileSync } = require("node:fs"); const { randomFillSync } = require("node:crypto");
const [base, count] = [process.argv[1], +process.argv[2]]; const bytes = Buffer.alloc(1024);
for (let d = 0; d < count / 100; d++) {
  mkdirSync(`${base}/n0/d${d}`);
  for (let f = 0; f < 100; f++) writeFileSync(`${base}/n0/d${d}/f${f}.bin`, randomFillSync(bytes));
}' "$base" "$1"
  node -e 'process.stdout.write(require("node:crypto").randomBytes(32).toString("hex"))' > "$base/secret"
}
