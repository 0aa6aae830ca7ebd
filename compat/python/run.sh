#!/usr/bin/env bash
# Python client compatibility suite for KalamDB's Flight SQL server.
#
#   compat/python/run.sh [extra pytest args...]
#
# Environment:
#   KALAMDB_BIN      server binary to test (default: <repo>/bin/kalamdb, built if missing)
#   PYTHON           interpreter used to create the venv (default: python3.11, else python3)
#   JUNIT_XML        if set, pytest writes a JUnit XML report there
#
# Exits with pytest's status; "no tests collected" (5) is turned into a failure (1).
set -euo pipefail

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
REPO="$(cd "$HERE/../.." && pwd)"
VENV="$HERE/.venv"
REQ="$HERE/requirements.txt"
STAMP="$VENV/.requirements.sha256"

PY="${PYTHON:-}"
if [ -z "$PY" ]; then
  if command -v python3.11 >/dev/null 2>&1; then PY=python3.11; else PY=python3; fi
fi

want="$(sha256sum "$REQ" | cut -d' ' -f1)"
have="$(cat "$STAMP" 2>/dev/null || true)"
if [ ! -x "$VENV/bin/python" ] || [ "$want" != "$have" ]; then
  echo "== setting up venv in $VENV" >&2
  rm -rf "$VENV"
  "$PY" -m venv "$VENV"
  "$VENV/bin/python" -m pip install -q --disable-pip-version-check --upgrade pip >&2
  "$VENV/bin/python" -m pip install -q --disable-pip-version-check -r "$REQ" >&2
  echo "$want" > "$STAMP"
else
  echo "== reusing venv in $VENV (requirements unchanged)" >&2
fi

if [ -z "${KALAMDB_BIN:-}" ]; then
  KALAMDB_BIN="$REPO/bin/kalamdb"
  if [ ! -x "$KALAMDB_BIN" ]; then
    echo "== building server (make -C $REPO build)" >&2
    make -C "$REPO" build >&2
  fi
fi
if [ ! -x "$KALAMDB_BIN" ]; then
  echo "KALAMDB_BIN=$KALAMDB_BIN is not an executable" >&2
  exit 1
fi
export KALAMDB_BIN

args=(-q)
if [ -n "${JUNIT_XML:-}" ]; then args+=("--junitxml=$JUNIT_XML"); fi

cd "$HERE"
set +e
"$VENV/bin/python" -m pytest "${args[@]}" "$@"
rc=$?
set -e
if [ "$rc" -eq 5 ]; then
  echo "pytest collected no tests: treating as failure" >&2
  rc=1
fi
exit "$rc"
