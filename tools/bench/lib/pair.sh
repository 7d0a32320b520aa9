# Sourced by the by-hand tools/bench/*-pair.sh scripts: starts node 0 and node 1 of a pair of
# daemons on loopback. Needs `base` (a folder holding `secret`), `main` (the daemon's bundle) and
# `PAIR_PORT`: node 0 listens on PAIR_PORT (HTTP on PAIR_PORT + 1), node 1 on PAIR_PORT + 10
# (HTTP + 11) and dials node 0. Each node logs to $base/n<NODE>.log; `pids` holds their pids.
pids=()
pair_start() { # pair_start NODE [node's own flags...]
  local i=$1 port=$((PAIR_PORT + 10 * $1)) peer=()
  shift
  [ "$i" = 1 ] && peer=(--peer "ws://127.0.0.1:$PAIR_PORT")
  (cd "$base" && exec setsid node "$@" "$main" --dir "$base/n$i" --listen "127.0.0.1:$port" \
    --http "127.0.0.1:$((port + 1))" --node-id "n$i" --secret-file "$base/secret" --log-level warn "${peer[@]}" >> "$base/n$i.log" 2>&1) &
  pids[$i]=$!
}
