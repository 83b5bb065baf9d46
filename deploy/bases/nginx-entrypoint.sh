#!/bin/sh
# What the official nginx image's entrypoint does, for the Debian stand-in: source the
# executable /docker-entrypoint.d/*.envsh, render /etc/nginx/templates/*.template into
# /etc/nginx/conf.d with the environment variables whose names match NGINX_ENVSUBST_FILTER,
# then run the command.
set -eu
for script in /docker-entrypoint.d/*.envsh; do
  [ -x "$script" ] || continue
  # shellcheck disable=SC1090
  . "$script"
done
filter="${NGINX_ENVSUBST_FILTER:-}"
vars=$(env | cut -d= -f1 | grep -E "${filter:-.}" | sed 's/^/$/' | tr '\n' ' ')
for template in /etc/nginx/templates/*.template; do
  [ -e "$template" ] || continue
  out="/etc/nginx/conf.d/$(basename "$template" .template)"
  envsubst "$vars" < "$template" > "$out"
done
exec "$@"
