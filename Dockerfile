# Mängelmelder web app and worker image (production setup is completed in the production issue).
FROM python:3.11-slim-bookworm
RUN apt-get update \
 && apt-get install -y --no-install-recommends libsqlite3-mod-spatialite \
 && rm -rf /var/lib/apt/lists/*
WORKDIR /app
COPY setup.cfg pyproject.toml README.md ./
COPY backend ./backend
COPY workers ./workers
COPY geo ./geo
RUN pip install --no-cache-dir .
RUN useradd --system --home /app maengelmelder
USER maengelmelder
EXPOSE 8000
CMD ["gunicorn", "--workers", "2", "--bind", "0.0.0.0:8000", "backend.app:create_app()"]
