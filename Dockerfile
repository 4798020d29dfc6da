# rota: the HTTP service (default command) or a solve worker (`docker run IMAGE rota worker`).
#   docker build -t rota .
#   docker run -p 8000:8000 -v rota-var:/app/var -e ROTA_PUBLIC_URL=https://rota.example.org rota
#                                               # SQLite in the volume; ROTA_PUBLIC_URL is required
#   docker run -e ROTA_DATABASE_URL=postgresql://user:pw@db:5432/rota rota  # PostgreSQL
#   docker run -e ROTA_DATABASE_URL=... rota rota worker                   # as many workers as you like
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    ROTA_HOST=0.0.0.0 \
    ROTA_PORT=8000

WORKDIR /app

# Dependencies first, from pyproject.toml alone: this layer is rebuilt only when they change.
COPY pyproject.toml ./
RUN python -c "import tomllib; p = tomllib.load(open('pyproject.toml', 'rb'))['project']; \
print('\n'.join(p['dependencies'] + p['optional-dependencies']['postgres']))" > /tmp/requirements.txt \
 && pip install -r /tmp/requirements.txt \
 && rm /tmp/requirements.txt

# Then the source (see .dockerignore), installed in place (the migrations in alembic/ stay beside it).
COPY . .
RUN pip install --no-deps --editable . \
 && useradd --create-home --uid 10001 rota \
 && mkdir -p /app/var \
 && chown rota /app/var

USER rota
VOLUME ["/app/var"]
EXPOSE 8000

HEALTHCHECK --interval=30s --timeout=5s --start-period=20s --retries=3 \
  CMD python -c "import os, urllib.request; urllib.request.urlopen(f'http://127.0.0.1:{os.environ.get(\"ROTA_PORT\", \"8000\")}/health', timeout=4)" || exit 1

# The server migrates the database at start-up (ROTA_AUTO_MIGRATE=false to leave that to `rota db upgrade`).
CMD ["rota", "serve"]
