#!/usr/bin/env bash
# Runs the Java (JDBC / Arrow Flight SQL driver) compatibility suite against a
# fresh KalamDB server.
#
#   compat/java/run.sh [extra mvn args, e.g. -Dtest=MetadataTest]
#
# KALAMDB_BIN   server binary to use (default: ../../bin/kalamdb, built with
#               `make build` if missing)
# MVN_ARGS      replaces the default "-q -B" Maven flags
# KEEP_DATA=1   keep the server's temp data dir and log
set -uo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(cd "$here/../.." && pwd)"

bin="${KALAMDB_BIN:-$root/bin/kalamdb}"
if [[ ! -x "$bin" ]]; then
  if [[ -n "${KALAMDB_BIN:-}" ]]; then
    echo "run.sh: KALAMDB_BIN=$bin is not executable" >&2
    exit 2
  fi
  echo "run.sh: building the server (make build)" >&2
  (cd "$root" && make build) || { echo "run.sh: make build failed" >&2; exit 2; }
fi

password="${KALAMDB_ROOT_PASSWORD:-rootpass1}"
data="$(mktemp -d "${TMPDIR:-/tmp}/kalamdb-java-compat.XXXXXX")"
log="$data/server.log"
pid=""

cleanup() {
  if [[ -n "$pid" ]] && kill -0 "$pid" 2>/dev/null; then
    kill -TERM "$pid" 2>/dev/null
    for _ in $(seq 1 100); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    kill -0 "$pid" 2>/dev/null && kill -KILL "$pid" 2>/dev/null
    wait "$pid" 2>/dev/null
  fi
  if [[ "${KEEP_DATA:-0}" == 1 ]]; then
    echo "run.sh: data dir and server log kept in $data" >&2
  else
    rm -rf "$data"
  fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM

KALAMDB_ROOT_PASSWORD="$password" "$bin" --data-dir "$data/db" \
  --flight-addr 127.0.0.1:0 --http-addr 127.0.0.1:0 2>"$log" >/dev/null &
pid=$!

port=""
for _ in $(seq 1 300); do   # up to 30 s
  port="$(grep -o 'flight=grpc+tcp://[0-9.]*:[0-9]*' "$log" 2>/dev/null | head -n1 | sed 's/.*://')"
  [[ -n "$port" ]] && break
  if ! kill -0 "$pid" 2>/dev/null; then
    echo "run.sh: the server exited before listening; its log:" >&2
    cat "$log" >&2
    exit 2
  fi
  sleep 0.1
done
if [[ -z "$port" ]]; then
  echo "run.sh: no 'flight=grpc+tcp://...' line in the server log after 30 s; its log:" >&2
  cat "$log" >&2
  exit 2
fi
echo "run.sh: server pid $pid listening on flight port $port (data $data)" >&2

cd "$here"
# shellcheck disable=SC2086
mvn ${MVN_ARGS:--q -B} test \
  -Dkalamdb.host=127.0.0.1 -Dkalamdb.port="$port" \
  -Dkalamdb.user=root -Dkalamdb.password="$password" "$@"
status=$?

if [[ $status -ne 0 ]]; then
  echo "run.sh: mvn exited $status; last lines of the server log:" >&2
  tail -n 20 "$log" >&2
fi
exit $status
