#!/usr/bin/env bash
# Throwaway Postgres, Redis and S3-compatible (s3rver) servers on loopback, for development and
# the scale-out integration tests:
#
#   eval "$(bash scripts/dev-services.sh start)"   # installs what is missing, starts, prints exports
#   bash scripts/dev-services.sh stop              # stops them and deletes their data
#   bash scripts/dev-services.sh outage postgres|redis   # stops one at once (outage tests), data kept
#   bash scripts/dev-services.sh recover postgres|redis  # starts it again
#
# stdout carries only `export KIRIN_…=…` lines; progress and errors go to stderr. `start` is
# idempotent: servers already running are left as they are. Ports and the state folder can be
# moved with KIRIN_DEV_PG_PORT, KIRIN_DEV_REDIS_PORT, KIRIN_DEV_S3_PORT and KIRIN_DEV_DIR.
set -euo pipefail

REPO="$(cd "$(dirname "$0")/.." && pwd)"
STATE="${KIRIN_DEV_DIR:-/tmp/kirin-dev-services}"
PG_PORT="${KIRIN_DEV_PG_PORT:-55432}"
REDIS_PORT="${KIRIN_DEV_REDIS_PORT:-56379}"
S3_PORT="${KIRIN_DEV_S3_PORT:-54569}"
BUCKET=kirin

exec 3>&1 1>&2 # stdout is for the export lines only
# (servers started below get `3>&-`: one holding fd 3 would keep `$(… start)` waiting forever)
log() { echo "dev-services: $*"; }

is_root() { [ "$(id -u)" = 0 ]; }

apt_install() {
  command -v apt-get >/dev/null || { log "cannot install $* (no apt-get)"; exit 1; }
  is_root || { log "cannot install $* (not root)"; exit 1; }
  export DEBIAN_FRONTEND=noninteractive
  # packages must not start their own system-wide servers: ours run on other ports
  local made_policy=0
  if [ ! -e /usr/sbin/policy-rc.d ]; then
    printf '#!/bin/sh\nexit 101\n' >/usr/sbin/policy-rc.d && chmod +x /usr/sbin/policy-rc.d && made_policy=1
  fi
  if [ -z "${APT_UPDATED:-}" ]; then apt-get update -q; APT_UPDATED=1; fi
  apt-get install -y -q --no-install-recommends "$@" || { [ "$made_policy" = 1 ] && rm -f /usr/sbin/policy-rc.d; exit 1; }
  [ "$made_policy" = 1 ] && rm -f /usr/sbin/policy-rc.d
  return 0
}

pg_bin() {
  local d
  for d in $(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V -r); do
    [ -x "$d/pg_ctl" ] && { echo "$d"; return 0; }
  done
  return 1
}

port_open() { (exec 9<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

wait_port() {
  local i
  for i in $(seq 1 100); do port_open "$1" && return 0; sleep 0.1; done
  log "$2 did not open port $1"
  return 1
}

# ---- PostgreSQL: its own cluster in $STATE/pg, owned by the postgres user when run as root
as_pg() { if is_root; then runuser -u postgres -- "$@"; else "$@"; fi; }

start_postgres() {
  local bin
  bin="$(pg_bin)" || { apt_install postgresql; bin="$(pg_bin)"; }
  if [ -f "$STATE/pg/data/postmaster.pid" ] && as_pg "$bin/pg_ctl" -D "$STATE/pg/data" status >/dev/null 2>&1; then
    log "postgres already running on $PG_PORT"
    return 0
  fi
  if [ ! -f "$STATE/pg/data/PG_VERSION" ]; then
    rm -rf "$STATE/pg"
    mkdir -p "$STATE/pg"
    is_root && chown postgres: "$STATE/pg"
    as_pg "$bin/initdb" -D "$STATE/pg/data" -U postgres -A trust -E UTF8 --no-instructions >"$STATE/pg-initdb.log" 2>&1 ||
      { cat "$STATE/pg-initdb.log"; exit 1; }
  fi
  # fsync off (a throwaway server: the OS keeps what was written), but every commit is written out
  # before it is acknowledged: the outage test stops Postgres with -m immediate, like a crash, and
  # with synchronous_commit=off a task created a moment before was lost
  as_pg "$bin/pg_ctl" -D "$STATE/pg/data" -l "$STATE/pg/server.log" -w -t 60 \
    -o "-p $PG_PORT -c listen_addresses=127.0.0.1 -k $STATE/pg -c fsync=off -c full_page_writes=off -c max_connections=200" \
    start >/dev/null 3>&-
  "$bin/psql" -q -h 127.0.0.1 -p "$PG_PORT" -U postgres -d postgres -tAc "SELECT 1 FROM pg_database WHERE datname = 'kirin'" | grep -q 1 ||
    "$bin/psql" -q -h 127.0.0.1 -p "$PG_PORT" -U postgres -d postgres -c "CREATE DATABASE kirin" >/dev/null
  log "postgres on 127.0.0.1:$PG_PORT"
}

stop_postgres() {
  local bin
  bin="$(pg_bin)" || return 0
  if [ -f "$STATE/pg/data/postmaster.pid" ]; then as_pg "$bin/pg_ctl" -D "$STATE/pg/data" -m immediate -w stop >/dev/null 2>&1 || true; fi
}

# ---- Redis: no persistence
start_redis() {
  command -v redis-server >/dev/null || apt_install redis-server
  if port_open "$REDIS_PORT" && redis-cli -p "$REDIS_PORT" ping 2>/dev/null | grep -q PONG; then
    log "redis already running on $REDIS_PORT"
    return 0
  fi
  mkdir -p "$STATE/redis"
  redis-server --port "$REDIS_PORT" --bind 127.0.0.1 --save '' --appendonly no --dir "$STATE/redis" \
    --daemonize yes --pidfile "$STATE/redis/redis.pid" --logfile "$STATE/redis/redis.log" --maxmemory-policy noeviction 3>&-
  wait_port "$REDIS_PORT" redis
  log "redis on 127.0.0.1:$REDIS_PORT"
}

stop_redis() {
  if [ -f "$STATE/redis/redis.pid" ]; then
    kill "$(cat "$STATE/redis/redis.pid")" 2>/dev/null || true
    for _ in $(seq 1 50); do port_open "$REDIS_PORT" || break; sleep 0.1; done
  fi
}

# ---- S3: s3rver (an npm package, a devDependency of this repository; installed aside when missing)
s3rver_bin() {
  local p
  for p in "$REPO/node_modules/s3rver/bin/s3rver.js" "$STATE/npm/node_modules/s3rver/bin/s3rver.js"; do
    [ -f "$p" ] && { echo "$p"; return 0; }
  done
  return 1
}

start_s3() {
  if port_open "$S3_PORT" && [ -f "$STATE/s3.pid" ] && kill -0 "$(cat "$STATE/s3.pid")" 2>/dev/null; then
    log "s3rver already running on $S3_PORT"
    return 0
  fi
  local bin
  bin="$(s3rver_bin)" || {
    command -v npm >/dev/null || apt_install npm
    mkdir -p "$STATE/npm"
    npm install --prefix "$STATE/npm" --no-audit --no-fund --no-save s3rver@3 >&2
    bin="$(s3rver_bin)"
  }
  mkdir -p "$STATE/s3"
  nohup node "$bin" -d "$STATE/s3" -a 127.0.0.1 -p "$S3_PORT" --silent --configure-bucket "$BUCKET" \
    >"$STATE/s3.log" 2>&1 </dev/null 3>&- &
  echo $! >"$STATE/s3.pid"
  wait_port "$S3_PORT" s3rver || { cat "$STATE/s3.log"; exit 1; }
  log "s3rver on 127.0.0.1:$S3_PORT (bucket $BUCKET)"
}

stop_s3() {
  if [ -f "$STATE/s3.pid" ]; then
    kill "$(cat "$STATE/s3.pid")" 2>/dev/null || true
    for _ in $(seq 1 50); do port_open "$S3_PORT" || break; sleep 0.1; done
  fi
}

print_exports() {
  cat >&3 <<EOF
export KIRIN_DATABASE_URL=postgres://postgres@127.0.0.1:$PG_PORT/kirin
export KIRIN_REDIS_URL=redis://127.0.0.1:$REDIS_PORT
export KIRIN_STORAGE_URL=s3://$BUCKET
export KIRIN_S3_ENDPOINT=http://127.0.0.1:$S3_PORT
export KIRIN_S3_REGION=us-east-1
export KIRIN_S3_ACCESS_KEY_ID=S3RVER
export KIRIN_S3_SECRET_ACCESS_KEY=S3RVER
export KIRIN_S3_FORCE_PATH_STYLE=1
EOF
}

case "${1:-}" in
  start)
    mkdir -p "$STATE"
    chmod 755 "$STATE"
    start_postgres
    start_redis
    start_s3
    print_exports
    ;;
  stop)
    stop_s3
    stop_redis
    stop_postgres
    rm -rf "$STATE"
    log "stopped; data deleted"
    ;;
  outage | recover)
    case "${2:-}" in
      postgres) if [ "$1" = outage ]; then stop_postgres; else start_postgres; fi ;;
      redis) if [ "$1" = outage ]; then stop_redis; else start_redis; fi ;;
      *) echo "usage: $0 $1 postgres|redis" >&2; exit 2 ;;
    esac
    ;;
  *)
    echo "usage: $0 start|stop|outage NAME|recover NAME" >&2
    exit 2
    ;;
esac
