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
RUN python -m venv /opt/rota \
 && python -m venv /opt/build
# Every dependency from the lock files, each checked against its hash: this layer changes only with them.
# requirements.lock goes into the product's venv; requirements-build.lock (the setuptools that builds
# rota) into a build venv of this stage only, so nothing is fetched unpinned (no build isolation).
# Behind a TLS-inspecting proxy, hand pip its CA bundle as a build secret (it stays out of every layer):
#   docker build --secret id=pip_cert,src=/etc/ssl/certs/ca-certificates.crt -t rota .
COPY requirements.lock requirements-build.lock ./
RUN --mount=type=secret,id=pip_cert \
    if [ -s /run/secrets/pip_cert ]; then export PIP_CERT=/run/secrets/pip_cert; fi \
 && /opt/rota/bin/pip install --require-hashes --no-deps -r requirements.lock \
 && /opt/build/bin/pip install --require-hashes --no-deps -r requirements-build.lock
# The product itself: a wheel built here, installed (not editable) into the venv; the source stays in
# this stage. The migrations go beside the venv.
COPY pyproject.toml README.md ./
COPY solver ./solver
COPY scheduler ./scheduler
COPY api ./api
RUN /opt/build/bin/pip wheel --no-deps --no-build-isolation --wheel-dir /tmp/wheels . \
 && /opt/rota/bin/pip install --no-deps --no-index /tmp/wheels/rota-*.whl \
 && mkdir -p /opt/rota/share/rota
COPY alembic /opt/rota/share/rota/alembic
COPY alembic.ini /opt/rota/share/rota/alembic.ini
COPY fixtures/lockdown-community.json /opt/rota/share/rota/fixtures/lockdown-community.json

# -------------------------------------------------------------------------------------------- runtime
FROM ${PYTHON_IMAGE}
ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PATH=/opt/rota/bin:$PATH \
    ROTA_MIGRATIONS_DIR=/opt/rota/share/rota/alembic \
    ROTA_DEMO_FIXTURE=/opt/rota/share/rota/fixtures/lockdown-community.json \
    ROTA_DATA_DIR=/data \
    ROTA_DATABASE_URL=sqlite:////data/rota.db \
    ROTA_HOST=0.0.0.0 \
    ROTA_PORT=8000
COPY --from=build /opt/rota /opt/rota
COPY docker-entrypoint.sh /usr/local/bin/docker-entrypoint.sh
# uid and gid 10001 both (useradd --system --user-group would pick a gid below 1000, one the host may
# already use: files in a bind mount would show up as that group's on the host)
RUN groupadd --system --gid 10001 rota \
 && useradd --system --uid 10001 --gid rota --no-log-init --home-dir /nonexistent --shell /usr/sbin/nologin rota \
 && mkdir -p /data \
 && chown rota:rota /data \
 && chmod 0700 /data \
 && chmod 0755 /usr/local/bin/docker-entrypoint.sh
WORKDIR /data
VOLUME ["/data"]
EXPOSE 8000

# The server's /health on ROTA_PORT; a worker container is healthy while its process runs (it has no port).
# Podman keeps a HEALTHCHECK only in the docker format: podman build --format docker.
HEALTHCHECK --interval=30s --timeout=5s --start-period=20s --retries=3 \
  CMD ["docker-entrypoint.sh", "healthcheck"]

# Started as root only to take ownership of /data (a bind mount may be root-owned), then runs as rota.
ENTRYPOINT ["docker-entrypoint.sh"]
# The server migrates the database at start-up (ROTA_AUTO_MIGRATE=false to leave that to `rota db upgrade`).
CMD ["rota", "serve"]
