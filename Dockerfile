# rota: the HTTP service (default command) or a solve worker (`docker run IMAGE rota worker`).
#   docker build -t rota .
#   docker run -p 8000:8000 -v /srv/rota:/data -e ROTA_PUBLIC_URL=https://rota.example.org rota
#                          # SQLite in /data (a root-owned bind mount is fine, see docker-entrypoint.sh)
#   docker run -e ROTA_DATABASE_URL=postgresql://user:pw@db:5432/rota rota              # PostgreSQL
#   docker run -e ROTA_DATABASE_URL=... rota rota worker          # as many workers as you like
#   docker run -e ROTA_DATABASE_URL=... rota rota db upgrade      # migrate as a separate step, then
#                                                                 # start replicas with ROTA_AUTO_MIGRATE=false
# Replicas that migrate at start-up against one PostgreSQL take an advisory lock around it (one migrates,
# the others wait and find nothing to do): scheduler/store/db.py upgrade().
#
# The base is pinned by its full version tag. Pin it by digest where the registry can be reached:
#   docker buildx imagetools inspect python:3.11.14-slim-bookworm   # then PYTHON_IMAGE=python:...@sha256:...
ARG PYTHON_IMAGE=python:3.11.14-slim-bookworm

# ---------------------------------------------------------------------------------------------- build
FROM ${PYTHON_IMAGE} AS build
ENV PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1
WORKDIR /src
RUN python -m venv /opt/rota
# Every dependency from the lock file, each checked against its hash: this layer changes only with it.
COPY requirements.lock ./
RUN /opt/rota/bin/pip install --require-hashes --no-deps -r requirements.lock
# The product itself, installed (not editable) into the same venv; the migrations go beside it.
COPY pyproject.toml README.md ./
COPY solver ./solver
COPY scheduler ./scheduler
COPY api ./api
RUN /opt/rota/bin/pip install --no-deps . \
 && mkdir -p /opt/rota/share/rota
COPY alembic /opt/rota/share/rota/alembic
COPY alembic.ini /opt/rota/share/rota/alembic.ini

# -------------------------------------------------------------------------------------------- runtime
FROM ${PYTHON_IMAGE}
ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PATH=/opt/rota/bin:$PATH \
    ROTA_MIGRATIONS_DIR=/opt/rota/share/rota/alembic \
    ROTA_DATA_DIR=/data \
    ROTA_DATABASE_URL=sqlite:////data/rota.db \
    ROTA_HOST=0.0.0.0 \
    ROTA_PORT=8000
COPY --from=build /opt/rota /opt/rota
COPY docker-entrypoint.sh /usr/local/bin/docker-entrypoint.sh
RUN useradd --system --uid 10001 --user-group --home-dir /nonexistent --shell /usr/sbin/nologin rota \
 && mkdir -p /data \
 && chown rota:rota /data \
 && chmod 0700 /data \
 && chmod 0755 /usr/local/bin/docker-entrypoint.sh
WORKDIR /data
VOLUME ["/data"]
EXPOSE 8000

HEALTHCHECK --interval=30s --timeout=5s --start-period=20s --retries=3 \
  CMD python -c "import os, urllib.request; urllib.request.urlopen(f'http://127.0.0.1:{os.environ.get(\"ROTA_PORT\", \"8000\")}/health', timeout=4)" || exit 1

# Started as root only to take ownership of /data (a bind mount may be root-owned), then runs as rota.
ENTRYPOINT ["docker-entrypoint.sh"]
# The server migrates the database at start-up (ROTA_AUTO_MIGRATE=false to leave that to `rota db upgrade`).
CMD ["rota", "serve"]
