# PostgreSQL for the store tests (sourced by .ci/run, as root, under set -euo pipefail).
#
# Installs Debian's postgresql package when the server binaries are absent,
# makes a throwaway cluster in a temporary folder with initdb, starts it on
# 127.0.0.1 on a free port, creates a database and exports its URL as
# SKYNET_TEST_PG_URL; the server is stopped and its folder removed at exit.
# initdb and postgres refuse to run as root: they run as the postgres user.

pg_find_bin() {
  if command -v initdb >/dev/null 2>&1; then
    dirname "$(readlink -f "$(command -v initdb)")"
    return
  fi
  local found
  found=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1 || true)
  [ -n "$found" ] && [ -x "$found/initdb" ] && echo "$found"
  return 0
}

pg_bin=$(pg_find_bin)
if [ -z "$pg_bin" ]; then
  echo "== postgres: installing the postgresql package"
  apt-get update
  DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends postgresql
  pg_bin=$(pg_find_bin)
fi
if [ -z "$pg_bin" ]; then
  echo "postgres setup: no initdb found after installing postgresql" >&2
  return 1
fi

pg_user=$(id -un)
if [ "$(id -u)" -eq 0 ]; then
  pg_user=postgres
  id -u "$pg_user" >/dev/null 2>&1 || useradd --system --no-create-home --shell /usr/sbin/nologin "$pg_user"
fi
pg_as_user() {
  if [ "$(id -u)" -eq 0 ]; then runuser -u "$pg_user" -- "$@"; else "$@"; fi
}

pg_root=$(mktemp -d /tmp/skynet-ci-pg.XXXXXX)
chown "$pg_user" "$pg_root"
pg_port=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
pg_as_user "$pg_bin/initdb" -D "$pg_root/data" -U skynet --auth=trust -E UTF8 --no-sync >"$pg_root/initdb.log"
if ! pg_as_user "$pg_bin/pg_ctl" -D "$pg_root/data" -l "$pg_root/server.log" -w -t 60 \
  -o "-c listen_addresses=127.0.0.1 -p $pg_port -k $pg_root -c fsync=off -c max_connections=200" start; then
  cat "$pg_root/server.log" >&2
  return 1
fi
ci_cleanup+=("runuser -u $pg_user -- $pg_bin/pg_ctl -D $pg_root/data -m fast -w -t 60 stop >/dev/null; rm -rf $pg_root")
if [ "$(id -u)" -ne 0 ]; then
  ci_cleanup[-1]="$pg_bin/pg_ctl -D $pg_root/data -m fast -w -t 60 stop >/dev/null; rm -rf $pg_root"
fi
pg_as_user "$pg_bin/createdb" -h 127.0.0.1 -p "$pg_port" -U skynet skynet_test
export SKYNET_TEST_PG_URL="postgresql+psycopg://skynet@127.0.0.1:$pg_port/skynet_test"
echo "== postgres: $("$pg_bin/postgres" --version) on 127.0.0.1:$pg_port (SKYNET_TEST_PG_URL)"
