#!/usr/bin/env bash
# Makes sure a PostgreSQL answers on 127.0.0.1:5432 for the Postgres suites (user root without a
# password, database test): uses the one the machine runs when it answers, otherwise installs
# Debian's postgresql if missing and starts its cluster. Adds the root role and the test database
# when they are missing; never stops, restarts or reconfigures a Postgres that was already up.
set -euo pipefail

URL="postgres://root@127.0.0.1:5432/test"

port_open() { (exec 3<>/dev/tcp/127.0.0.1/5432) 2>/dev/null; }
pg_up() { pg_isready -q -h 127.0.0.1 -p 5432 2>/dev/null; }
usable() { psql "$URL" -Atqc 'SELECT 1' >/dev/null 2>&1; }
as_postgres() { runuser -u postgres -- "$@"; }

if port_open; then
  # Without the client tools there is nothing to check or add: the suites say what is missing.
  command -v psql >/dev/null 2>&1 || exit 0
  if usable; then exit 0; fi
elif ! command -v pg_ctlcluster >/dev/null 2>&1; then
  echo "ci: installing Debian's postgresql"
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq postgresql >/dev/null
  # The package's service may already be starting its cluster.
  for _ in $(seq 1 20); do pg_up && break; sleep 0.5; done
fi

if ! pg_up; then
  echo "ci: no Postgres on 127.0.0.1:5432, starting one"
  cluster="$(pg_lsclusters -h 2>/dev/null | awk '$3 == 5432 { print $1 " " $2; exit }')"
  if [ -z "$cluster" ]; then
    version="$(ls /usr/lib/postgresql | sort -n | tail -n 1)"
    pg_createcluster "$version" main --port 5432 >/dev/null
    cluster="$version main"
    # A cluster made here for the tests: local TCP connections of root need no password.
    hba="/etc/postgresql/$version/main/pg_hba.conf"
    sed -i '1i host all root 127.0.0.1/32 trust' "$hba"
  fi
  # shellcheck disable=SC2086
  pg_ctlcluster $cluster start
  for _ in $(seq 1 60); do pg_up && break; sleep 0.5; done
  pg_up || { echo "ci: Postgres did not start" >&2; exit 1; }
fi

# Up, but without the role or the database the suites use: add them (nothing else changes).
if ! as_postgres psql -Atqc "SELECT 1 FROM pg_roles WHERE rolname = 'root'" | grep -q 1; then
  as_postgres psql -qc 'CREATE ROLE root LOGIN SUPERUSER'
fi
if ! as_postgres psql -Atqc "SELECT 1 FROM pg_database WHERE datname = 'test'" | grep -q 1; then
  as_postgres psql -qc 'CREATE DATABASE test OWNER root'
fi
usable || { echo "ci: Postgres answers but $URL does not (check pg_hba.conf for trust)" >&2; exit 1; }
echo "ci: Postgres is up at $URL"
