#!/bin/bash
# Entrypoint of the flashsale/postgres image (Debian's postgresql-15): initialises PGDATA on first
# start from the same variables as the official postgres image (POSTGRES_USER, POSTGRES_PASSWORD,
# POSTGRES_DB), then runs postgres in the foreground, listening on all of the pod's addresses.
# PGDATA is a folder inside the volume (as with the official image): a volume's root belongs to
# root (fsGroup only lends its group), and postgres insists on owning its data folder.
set -euo pipefail
PATH=/usr/lib/postgresql/15/bin:$PATH
: "${PGDATA:=/var/lib/postgresql/data/pgdata}"
: "${POSTGRES_USER:=postgres}"
: "${POSTGRES_DB:=$POSTGRES_USER}"

if [[ ! -s $PGDATA/PG_VERSION ]]; then
  [[ -n ${POSTGRES_PASSWORD:-} ]] || {
    echo "postgres-entrypoint: POSTGRES_PASSWORD is required to initialise $PGDATA" >&2
    exit 1
  }
  mkdir -p "$PGDATA" && chmod 0700 "$PGDATA"
  initdb -D "$PGDATA" --username="$POSTGRES_USER" --pwfile=<(printf '%s\n' "$POSTGRES_PASSWORD") \
    --auth-local=trust --auth-host=scram-sha-256 --encoding=UTF8 --locale=C.UTF-8 >/dev/null
  echo "host all all all scram-sha-256" >>"$PGDATA/pg_hba.conf"
  if [[ $POSTGRES_DB != postgres ]]; then
    echo "CREATE DATABASE \"$POSTGRES_DB\";" | postgres --single -D "$PGDATA" -c unix_socket_directories=/tmp postgres >/dev/null
  fi
  echo "postgres-entrypoint: initialised $PGDATA (user $POSTGRES_USER, database $POSTGRES_DB)"
fi
exec postgres -D "$PGDATA" -c listen_addresses='*' -c unix_socket_directories=/var/run/postgresql "$@"
