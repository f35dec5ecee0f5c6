# Shared by scripts/test and scripts/run-local: the local virtualenv and the moto emulator.
# shellcheck shell=bash

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
VENV=${HOOKLINE_VENV:-$ROOT/.venv}
MOTO_PID=

log() { printf '\033[1m==> %s\033[0m\n' "$*" >&2; }

# Creates the virtualenv and installs scripts/requirements.txt when it changed.
ensure_venv() {
  local stamp="$VENV/.requirements"
  if [ -x "$VENV/bin/python" ] && cmp -s "$ROOT/scripts/requirements.txt" "$stamp"; then
    return
  fi
  log "installing moto and cargo-lambda into $VENV"
  python3 -m venv "$VENV"
  "$VENV/bin/pip" install --quiet --disable-pip-version-check -r "$ROOT/scripts/requirements.txt"
  cp "$ROOT/scripts/requirements.txt" "$stamp"
}

free_port() {
  "$VENV/bin/python" -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

# Starts moto on 127.0.0.1:$1 and points the AWS SDKs at it (credentials are dummies).
start_moto() {
  local port=$1 log_file=${2:-/dev/null}
  "$VENV/bin/moto_server" -H 127.0.0.1 -p "$port" >"$log_file" 2>&1 &
  MOTO_PID=$!
  for _ in $(seq 1 100); do
    if "$VENV/bin/python" -c "import urllib.request as u; u.urlopen('http://127.0.0.1:$port/moto-api/')" 2>/dev/null; then
      export AWS_ENDPOINT_URL="http://127.0.0.1:$port" AWS_REGION=us-east-1 AWS_DEFAULT_REGION=us-east-1 \
        AWS_ACCESS_KEY_ID=test AWS_SECRET_ACCESS_KEY=test AWS_EC2_METADATA_DISABLED=true
      log "moto listening on $AWS_ENDPOINT_URL"
      return
    fi
    sleep 0.1
  done
  echo "moto did not start on port $port" >&2
  return 1
}

stop_moto() {
  if [ -n "$MOTO_PID" ]; then
    kill "$MOTO_PID" 2>/dev/null || true
    wait "$MOTO_PID" 2>/dev/null || true
    MOTO_PID=
  fi
}
