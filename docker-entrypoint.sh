#!/bin/sh
# The image's entry point: make the data directory the rota user's (a bind mount of a root-owned host
# directory is fine: it is handed over, 0700), then run the command as rota, never as root.
# `docker run --user 10001 ...` skips this (the directory must then be writable by that user already).
set -eu
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
