#!/usr/bin/env bash
# Start a local PostgreSQL for the store tests and print its URL (the only line on stdout).
# For Debian bookworm as root; the caller has run `apt-get update`. Safe to run repeatedly.
set -euo pipefail

readonly PG_ROLE=routelens
readonly PG_PASSWORD=routelens
readonly PG_DATABASE=routelens_test
readonly PG_HOST=127.0.0.1
readonly PG_PORT=5432

log() { echo "postgres.sh: $*" >&2; }

if ! command -v pg_lsclusters >/dev/null 2>&1 || [ -z "$(ls /usr/lib/postgresql 2>/dev/null)" ]; then
    log "installing postgresql"
    DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends postgresql >&2
fi

cluster_status() {
    pg_lsclusters -h | awk -v v="${pg_version}" '$1 == v && $2 == "main" {print $4}'
}

# The package normally creates a 'main' cluster; a slimmed image may have skipped that.
pg_version="$(ls /usr/lib/postgresql | sort -V | tail -n 1)"
if [ -z "$(cluster_status)" ]; then
    log "creating cluster ${pg_version}/main"
    pg_createcluster "${pg_version}" main --port "${PG_PORT}" >&2
fi

if [ "$(cluster_status)" != "online" ]; then
    log "starting cluster ${pg_version}/main"
    # pg_ctlcluster works without an init system; `service` is the fallback for odd images.
    pg_ctlcluster "${pg_version}" main start >&2 || service postgresql start >&2
fi

for _ in $(seq 1 60); do
    if pg_isready -q -h "${PG_HOST}" -p "${PG_PORT}"; then
        break
    fi
    sleep 1
done
pg_isready -h "${PG_HOST}" -p "${PG_PORT}" >&2

as_postgres() { runuser -u postgres -- psql -p "${PG_PORT}" -v ON_ERROR_STOP=1 -qtA "$@"; }

if [ "$(as_postgres -c "SELECT 1 FROM pg_roles WHERE rolname = '${PG_ROLE}'")" != "1" ]; then
    log "creating role ${PG_ROLE}"
    as_postgres -c "CREATE ROLE ${PG_ROLE} LOGIN PASSWORD '${PG_PASSWORD}'" >&2
fi
if [ "$(as_postgres -c "SELECT 1 FROM pg_database WHERE datname = '${PG_DATABASE}'")" != "1" ]; then
    log "creating database ${PG_DATABASE}"
    as_postgres -c "CREATE DATABASE ${PG_DATABASE} OWNER ${PG_ROLE}" >&2
fi

# Password login over TCP is what the tests use, so prove that path before printing the URL.
for _ in $(seq 1 30); do
    if PGPASSWORD="${PG_PASSWORD}" psql -h "${PG_HOST}" -p "${PG_PORT}" -U "${PG_ROLE}" \
        -d "${PG_DATABASE}" -qtA -c "SELECT 1" >/dev/null 2>&1; then
        echo "postgresql://${PG_ROLE}:${PG_PASSWORD}@${PG_HOST}:${PG_PORT}/${PG_DATABASE}"
        exit 0
    fi
    sleep 1
done
log "PostgreSQL did not accept connections on ${PG_HOST}:${PG_PORT}"
exit 1
