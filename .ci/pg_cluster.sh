#!/usr/bin/env bash
# A throwaway PostgreSQL cluster for the tests and benchmarks of the PostgreSQL store (issue 17).
#
#   .ci/pg_cluster.sh start DIR PORT   initdb DIR (if new) and start a server on 127.0.0.1:PORT;
#                                      prints the URL (postgresql://nasc@127.0.0.1:PORT/nasc)
#   .ci/pg_cluster.sh restart DIR      restart the server of DIR (fast shutdown)
#   .ci/pg_cluster.sh stop DIR         stop it (the folder is left for the caller to remove)
#
# The server runs as a non-root user: as root, DIR is given to `postgres` (the distribution
# package's user) and every command runs through runuser. Trust authentication on 127.0.0.1
# only; fsync stays on (the tests check what a restart keeps).
set -euo pipefail
cmd=${1:?usage: pg_cluster.sh start DIR PORT | restart DIR | stop DIR}
dir=${2:?the cluster folder}
bin=""
for d in /usr/lib/postgresql/*/bin; do [ -x "$d/pg_ctl" ] && bin="$d"; done
if [ -z "$bin" ] && command -v pg_ctl >/dev/null 2>&1; then bin=$(dirname "$(command -v pg_ctl)"); fi
[ -n "$bin" ] || { echo "pg_cluster: no PostgreSQL server found (install the \`postgresql\` package)" >&2; exit 1; }
as_user() {
  if [ "$(id -u)" = 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi
}
case "$cmd" in
  start)
    port=${3:?the port}
    if [ ! -f "$dir/PG_VERSION" ]; then
      mkdir -p "$dir"
      [ "$(id -u)" = 0 ] && chown postgres "$dir"
      as_user "$bin/initdb" -D "$dir" -U nasc --auth=trust -E UTF8 >"$dir.initdb.log" 2>&1 || { cat "$dir.initdb.log" >&2; exit 1; }
    fi
    as_user "$bin/pg_ctl" -D "$dir" -l "$dir/server.log" -w -t 60 \
      -o "-p $port -c listen_addresses=127.0.0.1 -k $dir -c max_connections=200 -c shared_buffers=64MB" start >/dev/null \
      || { tail -20 "$dir/server.log" >&2; exit 1; }
    as_user "$bin/createdb" -h 127.0.0.1 -p "$port" -U nasc nasc 2>/dev/null || true
    echo "postgresql://nasc@127.0.0.1:$port/nasc"
    ;;
  restart)
    as_user "$bin/pg_ctl" -D "$dir" -m fast -w -t 60 restart >/dev/null
    ;;
  stop)
    as_user "$bin/pg_ctl" -D "$dir" -m fast -w -t 60 stop >/dev/null
    ;;
  *)
    echo "pg_cluster: unknown command \`$cmd\`" >&2
    exit 2
    ;;
esac
