#!/usr/bin/env bash
# A PostgreSQL streaming replica of the local cluster, for the read-replica test and benchmarks.
#
#   sudo scripts/start-replica.sh [VERSION] [PORT]      (defaults: the running main cluster, 5433)
#
# As root: makes a second cluster "replica" on PORT with pg_basebackup -R from VERSION/main
# (a hot standby that follows it by streaming replication) and starts it. Idempotent: a
# replica that exists is only started. Then, e.g.:
#   REGISTRY_DATABASE_READ_URL=postgresql://registry:registry@127.0.0.1:5433/registry_test
# Stop it with `pg_ctlcluster VERSION replica stop`, remove it with
# `pg_dropcluster --stop VERSION replica`.
set -euo pipefail

if [ "$(id -u)" -ne 0 ]; then
  echo "start-replica.sh: run as root (it creates a PostgreSQL cluster)" >&2
  exit 1
fi
VERSION="${1:-$(pg_lsclusters -h | awk '$2 == "main" {print $1; exit}')}"
PORT="${2:-5433}"
NAME=replica
if [ -z "$VERSION" ]; then
  echo "start-replica.sh: no main PostgreSQL cluster found (apt-get install postgresql)" >&2
  exit 1
fi
PRIMARY_PORT="$(pg_lsclusters -h | awk -v v="$VERSION" '$1 == v && $2 == "main" {print $3}')"

pg_ctlcluster "$VERSION" main start >/dev/null 2>&1 || true   # already running: fine
for _ in $(seq 1 30); do
  su postgres -c "pg_isready -q -p $PRIMARY_PORT" && break
  sleep 1
done

if ! pg_lsclusters -h | awk -v v="$VERSION" -v n="$NAME" '$1 == v && $2 == n {found=1} END {exit !found}'; then
  # Streaming replication needs replica-level WAL (PostgreSQL's default since 10); only a
  # main cluster configured down to "minimal" is changed, and then restarted.
  if [ "$(su postgres -c "psql -tA -p $PRIMARY_PORT -c 'SHOW wal_level'")" = "minimal" ]; then
    su postgres -c "psql -q -p $PRIMARY_PORT -c \"ALTER SYSTEM SET wal_level = 'replica'\""
    pg_ctlcluster "$VERSION" main restart
  fi
  pg_createcluster "$VERSION" "$NAME" --port "$PORT" >/dev/null
  DATA="$(pg_lsclusters -h | awk -v v="$VERSION" -v n="$NAME" '$1 == v && $2 == n {print $6}')"
  rm -rf "${DATA:?}"/*
  # Over the local socket as postgres (peer authentication, allowed for replication by
  # Debian's default pg_hba.conf); -R writes standby.signal and primary_conninfo.
  su postgres -c "pg_basebackup -p $PRIMARY_PORT -D '$DATA' -R -X stream -c fast"
  # The standby keeps its own port (the base backup copied the primary's settings).
  su postgres -c "sed -i '/^port *=/d' '$DATA/postgresql.auto.conf'"
fi
pg_ctlcluster "$VERSION" "$NAME" start >/dev/null 2>&1 || true
for _ in $(seq 1 30); do
  su postgres -c "pg_isready -q -p $PORT" && break
  sleep 1
done
if [ "$(su postgres -c "psql -tA -p $PORT -c 'SELECT pg_is_in_recovery()'")" != "t" ]; then
  echo "start-replica.sh: the cluster on port $PORT is not a standby" >&2
  exit 1
fi
echo "replica $VERSION/$NAME on port $PORT follows $VERSION/main (port $PRIMARY_PORT)"
