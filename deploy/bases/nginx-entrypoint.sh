#!/bin/sh
# What the official nginx image's entrypoint does, for the Debian stand-in: with
# NGINX_ENTRYPOINT_LOCAL_RESOLVERS set, NGINX_LOCAL_RESOLVERS is the container's name servers
# (from /etc/resolv.conf); then /etc/nginx/templates/*.template are rendered into
# /etc/nginx/conf.d with the environment variables whose names match NGINX_ENVSUBST_FILTER;
# then the command runs.
set -eu
if [ -n "${NGINX_ENTRYPOINT_LOCAL_RESOLVERS:-}" ]; then
  NGINX_LOCAL_RESOLVERS=$(awk 'BEGIN{ORS=" "} $1=="nameserver" {if ($2 ~ ":") {print "["$2"]"} else {print $2}}' /etc/resolv.conf)
  NGINX_LOCAL_RESOLVERS="${NGINX_LOCAL_RESOLVERS% }"
  export NGINX_LOCAL_RESOLVERS
fi
filter="${NGINX_ENVSUBST_FILTER:-}"
vars=$(env | cut -d= -f1 | grep -E "${filter:-.}" | sed 's/^/$/' | tr '\n' ' ')
for template in /etc/nginx/templates/*.template; do
  [ -e "$template" ] || continue
  out="/etc/nginx/conf.d/$(basename "$template" .template)"
  envsubst "$vars" < "$template" > "$out"
done
exec "$@"
