#!/usr/bin/env bash
# Stops the cluster started by start-redis-cluster.sh on the same base port, by the pids its
# nodes wrote, and removes its data directory.
set -uo pipefail
BASE="${1:-7101}"
DIR="${TMPDIR:-/tmp}/repid-redis-cluster-$BASE"
for p in $(seq "$BASE" $((BASE + 5))); do
  f="$DIR/$p/redis.pid"
  [ -f "$f" ] && kill "$(cat "$f")" 2>/dev/null
done
for p in $(seq "$BASE" $((BASE + 5))); do
  for _ in $(seq 1 50); do redis-cli -p "$p" ping >/dev/null 2>&1 || break; sleep 0.1; done
done
rm -rf "$DIR"
