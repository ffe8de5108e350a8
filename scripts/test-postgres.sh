#!/usr/bin/env bash
# Starts a throwaway PostgreSQL server on 127.0.0.1 for the warehouse tests and prints its URL.
# Prints nothing (and the PostgreSQL tests skip) when the server binaries are not installed.
# Usage: eval "$(scripts/test-postgres.sh start)" ... scripts/test-postgres.sh stop
set -u
DIR=${TWIN_TEST_PG_DIR:-/tmp/llm-twin-test-pg}
PORT=${TWIN_TEST_PG_PORT:-55432}
INITDB=$(command -v initdb || ls /usr/lib/postgresql/*/bin/initdb 2>/dev/null | tail -n 1)
PG_CTL=$(command -v pg_ctl || ls /usr/lib/postgresql/*/bin/pg_ctl 2>/dev/null | tail -n 1)
as_pg() { if [ "$(id -u)" = 0 ]; then su postgres -s /bin/bash -c "$*"; else bash -c "$*"; fi; }

case "${1:-start}" in
  start)
    [ -n "$INITDB" ] && [ -n "$PG_CTL" ] || exit 0
    if [ "$(id -u)" = 0 ] && ! id postgres >/dev/null 2>&1; then exit 0; fi
    rm -rf "$DIR" && mkdir -p "$DIR"
    [ "$(id -u)" = 0 ] && chown postgres "$DIR"
    as_pg "'$INITDB' -D '$DIR/data' -A trust -U twin" >/dev/null 2>&1 || exit 0
    as_pg "'$PG_CTL' -D '$DIR/data' -l '$DIR/log' -w -o \"-p $PORT -k $DIR -h 127.0.0.1\" start" >/dev/null 2>&1 || exit 0
    echo "export TWIN_TEST_POSTGRES_URL=postgresql+psycopg://twin@127.0.0.1:$PORT/postgres"
    ;;
  stop)
    [ -d "$DIR/data" ] && as_pg "'$PG_CTL' -D '$DIR/data' -m fast stop" >/dev/null 2>&1
    rm -rf "$DIR"
    ;;
esac
exit 0
