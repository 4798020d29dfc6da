#!/usr/bin/env bash
# A throwaway PostgreSQL server for the tests.
#   eval "$(bash .ci/postgres.sh start)"   # prints: export ROTA_TEST_POSTGRES_URL=... ROTA_TEST_PGDATA=...
#   bash .ci/postgres.sh stop "$ROTA_TEST_PGDATA"
# Installs Debian's postgresql package when no server binaries are found. The server runs as the
# 'postgres' user when this runs as root (PostgreSQL refuses to run as root), listens on 127.0.0.1 on a
# free port, trusts local connections, and keeps its data in a temporary directory.
set -euo pipefail

pg_bindir() {
  local dir
  dir=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1 || true)
  if [ -z "$dir" ] && command -v pg_ctl >/dev/null 2>&1; then
    dir=$(dirname "$(readlink -f "$(command -v pg_ctl)")")
  fi
  echo "$dir"
}

as_owner() {
  if [ "$(id -u)" = 0 ]; then
    runuser -u "$PG_USER" -- "$@"
  else
    "$@"
  fi
}

case "${1:-}" in
  start)
    bindir=$(pg_bindir)
    if [ -z "$bindir" ] || [ ! -x "$bindir/postgres" ]; then
      echo "installing postgresql..." >&2
      export DEBIAN_FRONTEND=noninteractive
      apt-get update -qq >&2
      apt-get install -y -qq postgresql >&2
      bindir=$(pg_bindir)
    fi
    PG_USER=$(id -un)
    if [ "$(id -u)" = 0 ]; then
      PG_USER=postgres
      id "$PG_USER" >/dev/null 2>&1 || useradd --system --no-create-home --shell /usr/sbin/nologin "$PG_USER"
    fi
    data=$(mktemp -d /tmp/rota-test-pg.XXXXXX)
    chown "$PG_USER" "$data"
    as_owner "$bindir/initdb" -D "$data/data" -U postgres --auth=trust -E UTF8 --no-locale >/dev/null
    port=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
    as_owner "$bindir/pg_ctl" -D "$data/data" -l "$data/data/server.log" -w -t 60 start \
      -o "-p $port -k $data/data -c listen_addresses=127.0.0.1 -c fsync=off -c synchronous_commit=off -c full_page_writes=off" >&2
    as_owner "$bindir/createdb" -h 127.0.0.1 -p "$port" -U postgres rota_test
    echo "export ROTA_TEST_POSTGRES_URL=postgresql://postgres@127.0.0.1:$port/rota_test"
    echo "export ROTA_TEST_PGDATA=$data"
    echo "PostgreSQL $("$bindir/postgres" --version | awk '{print $3}') on 127.0.0.1:$port" >&2
    ;;
  stop)
    data=${2:?the directory printed by start}
    bindir=$(pg_bindir)
    PG_USER=$(stat -c %U "$data")
    if [ "$(id -u)" != 0 ]; then PG_USER=$(id -un); fi
    as_owner "$bindir/pg_ctl" -D "$data/data" -m fast -w stop >&2 || true
    rm -rf "$data"
    ;;
  *)
    echo "usage: $0 start | stop DIR" >&2
    exit 2
    ;;
esac
