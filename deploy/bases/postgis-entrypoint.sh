#!/bin/sh
# The official postgres image's start, in short: on an empty data directory initdb with
# POSTGRES_USER (password auth over the network), create POSTGRES_DB with PostGIS, then run
# `postgres` with the command's arguments, listening on every address.
set -eu
if [ "${1:-postgres}" = "postgres" ]; then
  [ "$#" -gt 0 ] && shift
  if [ ! -s "$PGDATA/PG_VERSION" ]; then
    : "${POSTGRES_PASSWORD:?set POSTGRES_PASSWORD}"
    user="${POSTGRES_USER:-postgres}"
    pwfile=$(mktemp)
    printf '%s' "$POSTGRES_PASSWORD" > "$pwfile"
    initdb -D "$PGDATA" -U "$user" --pwfile="$pwfile" -A scram-sha-256 --auth-local=trust \
      --encoding=UTF8 --locale=C.UTF-8 > /dev/null
    rm -f "$pwfile"
    echo "host all all all scram-sha-256" >> "$PGDATA/pg_hba.conf"
    pg_ctl -D "$PGDATA" -o "-c listen_addresses=''" -w start > /dev/null
    db="${POSTGRES_DB:-$user}"
    [ "$db" = postgres ] || createdb -U "$user" "$db"
    psql -U "$user" -d "$db" -q -c "CREATE EXTENSION IF NOT EXISTS postgis"
    pg_ctl -D "$PGDATA" -m fast -w stop > /dev/null
  fi
  exec postgres -c listen_addresses='*' "$@"
fi
exec "$@"
