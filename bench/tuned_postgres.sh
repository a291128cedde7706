#!/usr/bin/env bash
# A private PostgreSQL server with the settings docs/operations.md recommends for the end-of-day, for
# bench/eod.py to run on beside the machine's own server:
#   bench/tuned_postgres.sh start     initdb (once) and start it on 127.0.0.1:${PORT:-5433}; prints the URL
#   bench/tuned_postgres.sh stop      stop it (the data stays in $DIR for the next start)
#   LOANFACTORY_PG_ADMIN_URL=postgresql+psycopg://postgres@127.0.0.1:5433/postgres .venv/bin/python bench/eod.py
# EXTRA adds server options, e.g. to see where a run's time goes:
#   EXTRA="-c shared_preload_libraries=auto_explain -c auto_explain.log_min_duration=400 \
#          -c auto_explain.log_analyze=on -c auto_explain.log_nested_statements=on" bench/tuned_postgres.sh start
# (plans of statements over 400 ms, triggers' statements included, in $DIR/log)
# Needs the server binaries of the PostgreSQL package (/usr/lib/postgresql/<version>/bin). Run as root it
# runs the server as the postgres user, which PostgreSQL requires.
set -euo pipefail
DIR=${DIR:-/tmp/loanfactory-bench-pg}
PORT=${PORT:-5433}
BIN=$(ls -d /usr/lib/postgresql/*/bin | sort -V | tail -1)
SETTINGS="-p $PORT -k /tmp -c listen_addresses=127.0.0.1 -c shared_buffers=4GB -c max_wal_size=16GB \
 -c checkpoint_timeout=30min -c wal_compression=on -c autovacuum=on -c maintenance_work_mem=1GB ${EXTRA:-}"
as_owner() { if [ "$(id -u)" = 0 ]; then su postgres -c "$*"; else bash -c "$*"; fi; }

case "${1:-}" in
  start)
    if [ ! -f "$DIR/data/PG_VERSION" ]; then
      mkdir -p "$DIR"; [ "$(id -u)" = 0 ] && chown postgres "$DIR"
      as_owner "$BIN/initdb -D $DIR/data -A trust -U postgres" >/dev/null
    fi
    as_owner "$BIN/pg_ctl -D $DIR/data -l $DIR/log -w -o '$SETTINGS' start" >/dev/null
    echo "postgresql+psycopg://postgres@127.0.0.1:$PORT/postgres"
    ;;
  stop)
    as_owner "$BIN/pg_ctl -D $DIR/data -w stop" >/dev/null
    ;;
  *)
    sed -n '2,8p' "$0"; exit 2
    ;;
esac
