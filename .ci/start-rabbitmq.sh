#!/usr/bin/env bash
# Makes sure a RabbitMQ answers on 127.0.0.1:5672: starts `rabbitmq-server -detached` when none
# does, installing Debian's rabbitmq-server first if it is missing, and waits until it answers.
set -euo pipefail

rabbit_up() { (exec 3<>/dev/tcp/127.0.0.1/5672) 2>/dev/null; }

if rabbit_up; then exit 0; fi

echo "ci: no RabbitMQ on 127.0.0.1:5672, starting one"
if ! command -v rabbitmq-server >/dev/null 2>&1; then
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq rabbitmq-server >/dev/null
  # The package's service may already be starting it.
  for _ in $(seq 1 30); do rabbit_up && exit 0; sleep 1; done
fi
rabbitmq-server -detached
# The Erlang VM takes a while: up to 60 s.
for _ in $(seq 1 120); do rabbit_up && break; sleep 0.5; done
rabbit_up || { echo "ci: RabbitMQ did not start" >&2; exit 1; }
# The port answers before the broker accepts connections: wait for the node to be running.
if command -v rabbitmqctl >/dev/null 2>&1; then
  timeout 60 rabbitmqctl await_startup >/dev/null 2>&1 || true
fi
echo "ci: RabbitMQ is up"
