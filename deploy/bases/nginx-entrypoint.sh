#!/bin/sh
# Render /etc/nginx/templates/*.template into /etc/nginx/conf.d with the environment variables
# whose names match NGINX_ENVSUBST_FILTER (as the official image's entrypoint does), then run
# the command.
set -eu
filter="${NGINX_ENVSUBST_FILTER:-}"
vars=$(env | cut -d= -f1 | grep -E "${filter:-.}" | sed 's/^/$/' | tr '\n' ' ')
for template in /etc/nginx/templates/*.template; do
  [ -e "$template" ] || continue
  out="/etc/nginx/conf.d/$(basename "$template" .template)"
  envsubst "$vars" < "$template" > "$out"
done
exec "$@"
