#!/bin/sh
# The image's entry point: make the data directory the rota user's (a bind mount of a root-owned host
# directory is fine: it is handed over, 0700), then run the command as rota, never as root.
# `docker run --user 10001:10001 ...` skips this (the directory must then be writable by that user already).
# `docker-entrypoint.sh healthcheck` is the image's HEALTHCHECK: a container running `rota serve` is
# healthy when /health answers on ROTA_PORT; one running anything else (`rota worker`, which has no port)
# when its process runs, as it does while the container is up.
set -eu
if [ "${1:-}" = "healthcheck" ]; then
    # an argument that is exactly "serve" in some process (the bracket keeps grep's own one out)
    if grep -qsxz -e 'serv[e]' /proc/[0-9]*/cmdline; then
        exec python -c "import os, urllib.request
urllib.request.urlopen('http://127.0.0.1:%s/health' % os.environ.get('ROTA_PORT', '8000'), timeout=4)"
    fi
    exit 0
fi
data="${ROTA_DATA_DIR:-/data}"
if [ "$(id -u)" = "0" ]; then
    mkdir -p "$data"
    if [ "$(stat -c %u "$data")" != "$(id -u rota)" ]; then
        chown rota:rota "$data"
    fi
    chmod 0700 "$data"
    # the database files, if an earlier root run or a restore left them with another owner
    find "$data" -maxdepth 1 -name 'rota.db*' ! -user rota -exec chown rota:rota {} +
    exec setpriv --reuid=rota --regid=rota --init-groups -- "$@"
fi
exec "$@"
