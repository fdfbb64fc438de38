#!/usr/bin/env bash
# Installs what a fresh Debian/Ubuntu machine lacks for this project: python3-venv, openssl
# (the local instances' certificates), the PostgreSQL server with contrib (postgres_fdw),
# PostGIS and wal2json (the webapp's change stream), and with --test Chromium (the test that loads dbt's documentation site). As root it
# installs them; otherwise it prints the exact command to run and stops.
set -euo pipefail

packages=()
if ! python3 -c 'import ensurepip, venv' >/dev/null 2>&1; then
    packages+=(python3-venv)
fi
if ! command -v openssl >/dev/null 2>&1; then
    packages+=(openssl)
fi
if [ "${1:-}" = "--test" ] && ! command -v chromium >/dev/null 2>&1; then
    packages+=(chromium)
fi

find_bindir() {
    if [ -n "${LACARTE_PG_BINDIR:-}" ] && [ -x "$LACARTE_PG_BINDIR/initdb" ]; then echo "$LACARTE_PG_BINDIR"; return; fi
    if command -v initdb >/dev/null 2>&1; then dirname "$(readlink -f "$(command -v initdb)")"; return; fi
    if command -v pg_config >/dev/null 2>&1 && [ -x "$(pg_config --bindir)/initdb" ]; then pg_config --bindir; return; fi
    ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -t/ -k4 -n | tail -n 1
}

bindir=$(find_bindir || true)
if [ -z "$bindir" ] || [ ! -x "$bindir/initdb" ]; then
    packages+=(postgresql postgresql-contrib)
    major=""
else
    major=$(basename "$(dirname "$bindir")")
    case "$major" in (*[!0-9]*|"") major=$("$bindir/postgres" --version | sed -E 's/[^0-9]*([0-9]+).*/\1/') ;; esac
fi

postgis_ok() {
    local share
    share=$("$bindir/pg_config" --sharedir 2>/dev/null || echo "/usr/share/postgresql/$major")
    [ -f "$share/extension/postgis.control" ]
}
if [ -n "$major" ] && ! postgis_ok; then
    packages+=("postgresql-$major-postgis-3")
fi
wal2json_ok() {
    local lib
    lib=$("$bindir/pg_config" --pkglibdir 2>/dev/null || echo "/usr/lib/postgresql/$major/lib")
    [ -f "$lib/wal2json.so" ]
}
if [ -n "$major" ] && ! wal2json_ok; then
    packages+=("postgresql-$major-wal2json")
fi

if [ ${#packages[@]} -eq 0 ]; then
    echo "system dependencies: present (PostgreSQL ${major} at $bindir, PostGIS, wal2json, python3-venv, openssl${1:+, chromium})"
    exit 0
fi

if [ "$(id -u)" -ne 0 ]; then
    echo "error: missing system packages: ${packages[*]}" >&2
    echo "run: sudo apt-get update && sudo apt-get install -y ${packages[*]}" >&2
    exit 1
fi

echo "installing system packages: ${packages[*]}"
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq "${packages[@]}" >/dev/null
# A server installed just now: PostGIS for its version too.
if [ -z "$major" ]; then
    exec "$0" "$@"
fi
echo "system dependencies: installed"
