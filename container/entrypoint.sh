#!/bin/sh
# Entrypoint of the GPU generate host (container/Dockerfile), and runnable as is on any machine
# with the repository and its node_modules (CI runs it with BACKEND=cpu):
#   1. validate the environment, so a typo fails here with exit 2 rather than later
#   2. start the host (Node; Deno for BACKEND=webgpu)
#   3. wait for GET /readyz (models loaded, every graph warmed), print one "ready" line
#   4. stay in the foreground, pass SIGTERM/SIGINT on, exit with the host's status
# Environment: everything src/hosts/local.ts reads, plus READY_TIMEOUT_S (default 900) and
# APP_DIR (default: the directory above this script).
set -eu

say() { echo "entrypoint: $*"; }
die() { echo "entrypoint: $*" >&2; exit 2; }

APP_DIR=${APP_DIR:-$(CDPATH= cd -- "$(dirname -- "$0")/.." && pwd)}
cd "$APP_DIR"
# tsx and deno come with the npm dependencies
PATH="$APP_DIR/node_modules/.bin:$PATH"

BACKEND=${BACKEND:-wasm}
HOST=${HOST:-127.0.0.1}
PORT=${PORT:-8787}
READY_TIMEOUT_S=${READY_TIMEOUT_S:-900}
export BACKEND HOST PORT

case "$BACKEND" in
  wasm | cpu | cuda | webgpu) ;;
  *) die "BACKEND must be one of wasm, cpu, cuda, webgpu, got '$BACKEND'" ;;
esac
case "$PORT" in
  '' | *[!0-9]*) die "PORT must be a port number (not 0: readiness is polled on it), got '$PORT'" ;;
esac
[ "$PORT" -ge 1 ] && [ "$PORT" -le 65535 ] || die "PORT must be in 1..65535, got '$PORT'"
case "$READY_TIMEOUT_S" in
  '' | *[!0-9]*) die "READY_TIMEOUT_S must be a whole number of seconds, got '$READY_TIMEOUT_S'" ;;
esac
for dir in "${MODELS_DIR:-models}" "${SCHEDULES_DIR:-schedules}"; do
  [ -d "$dir" ] || die "no directory '$dir' (set MODELS_DIR / SCHEDULES_DIR)"
done
if [ "$HOST" != 127.0.0.1 ] && [ "$HOST" != localhost ] && [ -z "${API_TOKEN:-}" ]; then
  say "warning: listening on $HOST without API_TOKEN: anyone who reaches the port can generate"
fi

if [ "$BACKEND" = webgpu ]; then
  command -v deno >/dev/null 2>&1 || die "BACKEND=webgpu runs on Deno, which is not installed here"
  deno run --unstable-webgpu --no-remote -A src/hosts/deno.ts &
else
  node --import tsx src/hosts/node.ts &
fi
pid=$!
trap 'kill -TERM "$pid" 2>/dev/null' TERM INT

# readiness, polled with the runtime already present (the CUDA image has no curl)
probe() {
  node -e "fetch('http://127.0.0.1:$PORT/readyz').then((r) => process.exit(r.status === 200 ? 0 : 1), () => process.exit(1))"
}
waited=0
until probe; do
  if ! kill -0 "$pid" 2>/dev/null; then
    status=0
    wait "$pid" || status=$?
    echo "entrypoint: the host exited with status $status before it was ready" >&2
    [ "$status" -ne 0 ] || status=1
    exit "$status"
  fi
  if [ "$waited" -ge "$((READY_TIMEOUT_S * 2))" ]; then
    kill -TERM "$pid" 2>/dev/null || true
    echo "entrypoint: not ready after ${READY_TIMEOUT_S}s" >&2
    exit 1
  fi
  sleep 0.5
  waited=$((waited + 1))
done
say "ready on http://$HOST:$PORT (backend $BACKEND)"

status=0
wait "$pid" || status=$?
# a trapped signal interrupts the first wait: wait again for the host to finish closing
if kill -0 "$pid" 2>/dev/null; then
  status=0
  wait "$pid" || status=$?
fi
exit "$status"
