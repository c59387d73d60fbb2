#!/usr/bin/env bash
# Starts a local six-node Redis Cluster (three masters, three replicas) on loopback ports
# BASE..BASE+5 (default 7101-7106), for the cluster suites and the benchmark. Idempotent: when a
# cluster already answers with state ok on the first port, it is left as it is.
#   usage: start-redis-cluster.sh [base-port]      (data and pid files under $TMPDIR)
# Prints the REDIS_CLUSTER_URL to use on its last line.
set -euo pipefail
BASE="${1:-7101}"
PORTS=$(seq "$BASE" $((BASE + 5)))
DIR="${TMPDIR:-/tmp}/repid-redis-cluster-$BASE"
url() { local u=""; for p in $PORTS; do u="${u:+$u,}redis://127.0.0.1:$p"; done; echo "$u"; }

cluster_ok() {
  for p in $PORTS; do
    redis-cli -p "$p" cluster info 2>/dev/null | grep -q '^cluster_state:ok' || return 1
  done
}

if cluster_ok; then
  echo "redis cluster: already up on ports $BASE-$((BASE + 5))" >&2
  url
  exit 0
fi

mkdir -p "$DIR"
for p in $PORTS; do
  if redis-cli -p "$p" ping >/dev/null 2>&1; then continue; fi
  rm -rf "${DIR:?}/$p" && mkdir -p "$DIR/$p"
  redis-server --port "$p" --bind 127.0.0.1 --daemonize yes \
    --cluster-enabled yes --cluster-config-file "$DIR/$p/nodes.conf" \
    --cluster-node-timeout 2000 --save "" --appendonly no \
    --dir "$DIR/$p" --pidfile "$DIR/$p/redis.pid" --logfile "$DIR/$p/redis.log"
done
for p in $PORTS; do
  for _ in $(seq 1 50); do redis-cli -p "$p" ping >/dev/null 2>&1 && break; sleep 0.1; done
done

# A node already part of a cluster (a half-created earlier run) would refuse `--cluster create`.
known=$(redis-cli -p "$BASE" cluster info | awk -F: '/^cluster_known_nodes/ {print $2}' | tr -d '\r')
if [ "${known:-1}" -le 1 ]; then
  nodes=""
  for p in $PORTS; do nodes="$nodes 127.0.0.1:$p"; done
  # shellcheck disable=SC2086
  redis-cli --cluster create $nodes --cluster-replicas 1 --cluster-yes >"$DIR/create.log" 2>&1 ||
    { cat "$DIR/create.log" >&2; exit 1; }
fi

for _ in $(seq 1 150); do cluster_ok && break; sleep 0.2; done
cluster_ok || { echo "redis cluster: state not ok after 30 s" >&2; exit 1; }
# Every replica attached to its master (the failover test needs one to promote).
for _ in $(seq 1 100); do
  n=0
  for p in $PORTS; do
    redis-cli -p "$p" info replication | grep -q '^master_link_status:up' && n=$((n + 1))
  done
  [ "$n" -ge 3 ] && break
  sleep 0.2
done
echo "redis cluster: up on ports $BASE-$((BASE + 5))" >&2
url
