#!/usr/bin/env bash
# Build the Docker image with podman and check it end to end (not part of .ci/run: it takes minutes).
#   bash .ci/image-check.sh
#   ROTA_IMAGE_BASE=localhost/python-standin:3.11-bookworm bash .ci/image-check.sh   # no registry here:
#                                                           # first `bash .ci/standin-base.sh`
# What it checks, each step printing PASS or stopping with FAIL:
#   1. the build context (a copy of what git tracks, with a planted .env, api/.env, var/rota.db, docs and
#      .venv files) holds none of those, read by podman itself with .dockerignore;
#   2. the image builds from that context (time, size); no .env anywhere in it, no /src, rota installed
#      from a wheel (not editable), the migrations and the demo's scenario beside the venv;
#   3. SQLite on a root-owned bind mount: the server runs as 10001:10001, /health answers, the demo loads
#      (`rota admin demo`), the database files are 0600 and 10001's, a `rota worker` container solves a
#      job, both containers' health checks pass;
#   4. PostgreSQL (ROTA_TEST_POSTGRES_URL, or a throwaway server from .ci/postgres.sh): three replicas
#      started at once against an empty database, exactly one migrates; then `rota db upgrade` as its
#      own step, a replica with ROTA_AUTO_MIGRATE=false and a worker that solves a job.
# Needs root, podman, curl and python3 on the host. Behind a TLS-inspecting proxy set PIP_CERT to the CA
# bundle (passed to the build as the pip_cert secret). Where crun refuses the host's cgroups (v1/v2
# hybrid) or the container may not raise rlimits, configure podman (containers.conf: runtime = "runc",
# default_ulimits = ["nofile=20000:20000", "nproc=4096:4096"]). Without systemd, podman logs "unable to
# get systemd connection" for each health-checked container: harmless (this script runs the checks itself).
set -euo pipefail

ROOT=$(cd "$(dirname "$0")/.." && pwd)
BASE=${ROTA_IMAGE_BASE:-python:3.11.14-slim-bookworm}
TAG=${ROTA_IMAGE_TAG:-localhost/rota:check}
P=rota-check-$$  # every container and temporary name of this run
work=$(mktemp -d /tmp/$P.XXXXXX)
containers=()
pg_started=""

log() { printf '%s %s\n' "$(date -u +%H:%M:%S)" "$*" >&2; }
pass() { log "PASS $*"; }
fail() { log "FAIL $*"; exit 1; }
cleanup() {
  for c in "${containers[@]}"; do podman rm -f "$c" >/dev/null 2>&1 || true; done
  podman rmi -f "$P-context" >/dev/null 2>&1 || true
  if [ -n "$pg_started" ]; then bash "$ROOT/.ci/postgres.sh" stop "$pg_started" 2>/dev/null || true; fi
  rm -rf "$work"
}
trap cleanup EXIT
free_port() { python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }
run() {  # run NAME ARGS...: a detached container, removed at the end
  local name=$1; shift
  containers+=("$name")
  podman run -d --name "$name" "$@" >/dev/null
}
wait_health() {  # wait_health URL CONTAINER
  for _ in $(seq 1 90); do
    if curl -fsS -m 2 "$1/health" >/dev/null 2>&1; then return 0; fi
    if [ "$(podman inspect -f '{{.State.Running}}' "$2")" != true ]; then podman logs "$2" >&2; return 1; fi
    sleep 1
  done
  podman logs "$2" >&2
  return 1
}
solve() {  # solve BASE_URL TOKEN: queue a 10 s solve of site 1, wait until it is done
  local job
  job=$(curl -fsS -D - -o /dev/null -H "Authorization: Bearer $2" -H 'Content-Type: application/json' \
        -d '{"time_limit": 10}' "$1/sites/1/schedules" | tr -d '\r' | sed -n 's/^[Ll]ocation: //p')
  [ -n "$job" ] || fail "no job queued"
  for _ in $(seq 1 120); do
    state=$(curl -fsS -H "Authorization: Bearer $2" "$1$job" | python3 -c 'import json, sys; d = json.load(sys.stdin); print(d["state"], (d["result"] or {}).get("status"), d["error"])')
    case "$state" in
      done*) echo "$state"; return 0 ;;
      failed*|cancelled*) fail "job $job: $state" ;;
    esac
    sleep 1
  done
  fail "job $job not done after 120 s"
}
demo_token() {  # demo_token CONTAINER: load the demo (as rota, like the server) and print its token
  podman exec -u rota "$1" rota admin demo >/dev/null
  podman exec -u rota "$1" python -c 'import json; print(json.load(open("/data/var/demo-credentials.json"))["coordinator_token"])'
}

# ------------------------------------------------------------------------------------- 1. context
ctx="$work/context"
mkdir -p "$ctx"
git -C "$ROOT" ls-files -z | (cd "$ROOT" && xargs -0 cp --parents -t "$ctx" 2>/dev/null || true)
echo 'ROTA_SECRET=planted' > "$ctx/.env"
echo 'ROTA_SECRET=planted' > "$ctx/api/.env"
mkdir -p "$ctx/var" "$ctx/.venv/bin" && echo planted > "$ctx/var/rota.db" && echo planted > "$ctx/.venv/bin/x"
echo planted > "$ctx/scheduler/planted.db"
cat > "$work/Context.Dockerfile" <<EOF
FROM $BASE
COPY . /context
EOF
podman build -q -f "$work/Context.Dockerfile" -t "$P-context" "$ctx" >/dev/null
listing=$(podman run --rm "$P-context" sh -c 'cd /context && find . -mindepth 1 | sort')
for path in ./.env ./api/.env ./var ./.venv ./docs ./tests ./benchmarks ./.git ./scheduler/planted.db \
            ./fixtures/small.json ./requirements-dev.lock; do
  if grep -qx -- "$path" <<<"$listing"; then fail "context holds $path"; fi
done
for path in ./requirements.lock ./requirements-build.lock ./pyproject.toml ./README.md ./alembic/env.py \
            ./fixtures/lockdown-community.json ./docker-entrypoint.sh ./api/app.py; do
  grep -qx -- "$path" <<<"$listing" || fail "context lacks $path"
done
pass "context: $(wc -l <<<"$listing") entries, no .env, var, .venv, docs, tests, planted databases"

# --------------------------------------------------------------------------------------- 2. image
secret=()
if [ -n "${PIP_CERT:-}" ] && [ -s "$PIP_CERT" ]; then secret=(--secret "id=pip_cert,src=$PIP_CERT"); fi
start=$(date +%s)
podman build --format docker "${secret[@]}" --build-arg "PYTHON_IMAGE=$BASE" -t "$TAG" "$ctx" \
  > "$work/build.log" 2>&1 || { tail -40 "$work/build.log" >&2; fail "build"; }
seconds=$(( $(date +%s) - start ))
size=$(podman image inspect -f '{{.Size}}' "$TAG")
pass "built $TAG on $BASE in ${seconds}s, $(( size / 1000000 )) MB"
found=$(podman run --rm --no-healthcheck --entrypoint sh "$TAG" -c \
  'find / -xdev \( -name ".env" -o -name "*.env" -o -name "planted.db" \) 2>/dev/null; ls -d /src 2>/dev/null; true')
[ -z "$found" ] || fail "image holds: $found"
podman run --rm --no-healthcheck --entrypoint sh "$TAG" -c '
  set -e
  url=$(cat /opt/rota/lib/python3*/site-packages/rota-*.dist-info/direct_url.json)
  case "$url" in *editable*) echo "editable: $url"; exit 1 ;; esac
  test -f "$ROTA_MIGRATIONS_DIR/env.py" && test -f "$ROTA_DEMO_FIXTURE"
  cd / && python -c "import scheduler, sys; assert scheduler.__file__.startswith(\"/opt/rota/\"), scheduler.__file__"
' || fail "rota is not installed from a wheel with its migrations and demo beside it"
pass "no .env, no /src, rota from a wheel in /opt/rota, migrations and demo scenario in /opt/rota/share"

# -------------------------------------------------------------------------------------- 3. SQLite
data="$work/data"
mkdir "$data" && chmod 0755 "$data"  # root-owned, as a host directory usually is
port=$(free_port)
url="http://127.0.0.1:$port"
run "$P-sqlite" -v "$data:/data" -e "ROTA_PUBLIC_URL=$url" -p "127.0.0.1:$port:8000" "$TAG"
wait_health "$url" "$P-sqlite" || fail "SQLite server: no /health"
ids=$(podman exec "$P-sqlite" sh -c "grep -E '^(Uid|Gid):' /proc/1/status | awk '{print \$2}' | tr '\n' ' '")
[ "$ids" = "10001 10001 " ] || fail "server runs as uid and gid: $ids"
token=$(demo_token "$P-sqlite")
modes=$(stat -c '%a %u:%g %n' "$data" "$data"/rota.db*)
if grep -qv '^[67]00 10001:10001 ' <<<"$modes"; then fail "data files: $modes"; fi
pass "SQLite on a root-owned bind mount: server as 10001:10001, demo loaded, $(tr '\n' ';' <<<"$modes")"
run "$P-worker" -v "$data:/data" "$TAG" rota worker
pass "SQLite job: $(solve "$url" "$token")"
podman healthcheck run "$P-sqlite" >/dev/null 2>&1 || fail "server health check"
podman healthcheck run "$P-worker" >/dev/null 2>&1 || fail "worker health check"
pass "health checks: server and worker containers healthy"

# ---------------------------------------------------------------------------------- 4. PostgreSQL
if [ -z "${ROTA_TEST_POSTGRES_URL:-}" ]; then
  eval "$(bash "$ROOT/.ci/postgres.sh" start)"
  pg_started=$ROTA_TEST_PGDATA
fi
server=${ROTA_TEST_POSTGRES_URL%/*}
fresh_db() {  # fresh_db NAME: an empty database on the test server, made with the image's psycopg
  podman run --rm --no-healthcheck --network host --entrypoint python "$TAG" -c "
import psycopg
with psycopg.connect('$server/postgres', autocommit=True) as c:
    c.execute('DROP DATABASE IF EXISTS $1')
    c.execute('CREATE DATABASE $1')"
  echo "$server/$1"
}
db=$(fresh_db "rota_check_$$")
ports=()
for i in 1 2 3; do
  ports+=("$(free_port)")
done
for i in 0 1 2; do  # at the same moment
  containers+=("$P-replica$i")
  podman run -d --name "$P-replica$i" --network host -e "ROTA_DATABASE_URL=$db" -e "ROTA_PORT=${ports[$i]}" \
    -e "ROTA_PUBLIC_URL=http://127.0.0.1:${ports[$i]}" "$TAG" >/dev/null &
done
wait
for i in 0 1 2; do
  wait_health "http://127.0.0.1:${ports[$i]}" "$P-replica$i" || fail "replica $i: no /health"
done
logs=$(for i in 0 1 2; do podman logs "$P-replica$i" 2>&1; done)
migrated=$(grep -c 'rota.db: database schema migrated from revision (empty)' <<<"$logs" || true)
unchanged=$(grep -c 'rota.db: database schema at revision .*: nothing to migrate' <<<"$logs" || true)
[ "$migrated" = 1 ] && [ "$unchanged" = 2 ] || { echo "$logs" >&2; fail "replicas: $migrated migrated, $unchanged up to date"; }
pass "3 replicas at once on an empty PostgreSQL: 1 migrated, 2 found it up to date ($(grep -c 'waiting for it' <<<"$logs" || true) waited for the lock)"
for i in 0 1 2; do podman rm -f "$P-replica$i" >/dev/null; done

db=$(fresh_db "rota_check_step_$$")
out=$(podman run --rm --no-healthcheck --network host -e "ROTA_DATABASE_URL=$db" "$TAG" rota db upgrade 2>&1)
grep -q '^database at revision [0-9]' <<<"$out" || fail "rota db upgrade: $out"
out=$(grep '^database at revision' <<<"$out")
port=$(free_port)
url="http://127.0.0.1:$port"
run "$P-pg" --network host -e "ROTA_DATABASE_URL=$db" -e ROTA_AUTO_MIGRATE=false -e "ROTA_PORT=$port" \
  -e "ROTA_PUBLIC_URL=$url" "$TAG"
run "$P-pgworker" --network host -e "ROTA_DATABASE_URL=$db" "$TAG" rota worker
wait_health "$url" "$P-pg" || fail "PostgreSQL server: no /health"
if podman logs "$P-pg" 2>&1 | grep -q 'rota.db:'; then fail "ROTA_AUTO_MIGRATE=false still migrated"; fi
token=$(demo_token "$P-pg")
pass "rota db upgrade ($out), then a server with ROTA_AUTO_MIGRATE=false; PostgreSQL job: $(solve "$url" "$token")"
log "all checks passed"
