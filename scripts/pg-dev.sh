#!/usr/bin/env bash
# Starts a throwaway PostgreSQL for cla's tests and prints the URL to
# export. Usage:
#   eval "$(scripts/pg-dev.sh)"      # start (or reuse) and export CLA_TEST_POSTGRES
#   scripts/pg-dev.sh stop           # stop it and delete its data
# Environment: PGDEV_DIR (default /tmp/cla-pg-dev) holds the cluster.
# PostgreSQL refuses to run as root: as root the cluster belongs to the
# "postgres" user (created by Debian's package) and runs through runuser.
# It listens on 127.0.0.1 only, on the first free port from 55432.
set -euo pipefail
dir=${PGDEV_DIR:-/tmp/cla-pg-dev}

bindir() {
  if command -v pg_ctl >/dev/null 2>&1 && command -v initdb >/dev/null 2>&1; then
    dirname "$(readlink -f "$(command -v pg_ctl)")"; return
  fi
  local d
  d=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -1 || true)
  if [ -n "$d" ] && [ -x "$d/pg_ctl" ]; then echo "$d"; return; fi
  if [ "$(id -u)" = 0 ]; then
    echo "pg-dev: installing Debian's postgresql package" >&2
    DEBIAN_FRONTEND=noninteractive apt-get update -qq >&2
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends postgresql >&2
    d=$(ls -d /usr/lib/postgresql/*/bin | sort -V | tail -1)
    echo "$d"; return
  fi
  echo "pg-dev: no PostgreSQL server binaries (apt-get install postgresql)" >&2
  exit 1
}

as_owner() {
  if [ "$(id -u)" = 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi
}

bin=$(bindir)
if [ "${1:-start}" = stop ]; then
  if [ -f "$dir/data/postmaster.pid" ]; then as_owner "$bin/pg_ctl" -D "$dir/data" -m immediate -w stop >&2 || true; fi
  rm -rf "$dir"
  exit 0
fi

if [ -f "$dir/url" ] && as_owner "$bin/pg_ctl" -D "$dir/data" status >/dev/null 2>&1; then
  echo "export CLA_TEST_POSTGRES='$(cat "$dir/url")'"
  exit 0
fi

rm -rf "$dir"
mkdir -p "$dir"
if [ "$(id -u)" = 0 ]; then
  id postgres >/dev/null 2>&1 || useradd --system --home-dir "$dir" --shell /usr/sbin/nologin postgres
  chown postgres "$dir"
fi
port=55432
while (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; do port=$((port + 1)); done
echo cla >"$dir/pw"
[ "$(id -u)" = 0 ] && chown postgres "$dir/pw"
as_owner "$bin/initdb" -D "$dir/data" -U cla --pwfile="$dir/pw" --auth-host=scram-sha-256 --auth-local=trust \
  -E UTF8 --locale=C.UTF-8 >"$dir/initdb.log" 2>&1 || { cat "$dir/initdb.log" >&2; exit 1; }
as_owner "$bin/pg_ctl" -D "$dir/data" -l "$dir/server.log" -w -t 60 \
  -o "-c listen_addresses=127.0.0.1 -c port=$port -c unix_socket_directories=$dir -c max_connections=200" start >&2 \
  || { cat "$dir/server.log" >&2; exit 1; }
as_owner "$bin/psql" -h "$dir" -p "$port" -U cla -d postgres -qc "CREATE DATABASE cla" >&2
url="postgres://cla:cla@127.0.0.1:$port/cla?sslmode=disable"
echo "$url" >"$dir/url"
echo "export CLA_TEST_POSTGRES='$url'"
