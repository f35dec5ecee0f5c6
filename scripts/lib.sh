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

# checkov in a virtualenv of its own (scripts/requirements-checkov.txt), installed when that file
# changed; prints the path of its checkov.
ensure_checkov() {
  local venv=${HOOKLINE_CHECKOV_VENV:-$VENV-checkov}
  local stamp="$venv/.requirements"
  if ! { [ -x "$venv/bin/checkov" ] && cmp -s "$ROOT/scripts/requirements-checkov.txt" "$stamp"; }; then
    log "installing checkov into $venv"
    python3 -m venv "$venv"
    "$venv/bin/pip" install --quiet --disable-pip-version-check -r "$ROOT/scripts/requirements-checkov.txt" >&2
    cp "$ROOT/scripts/requirements-checkov.txt" "$stamp"
  fi
  echo "$venv/bin/checkov"
}

free_port() {
  "$VENV/bin/python" -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

# Starts moto on 127.0.0.1:$1, its DynamoDB writes atomic as on AWS (scripts/moto_server.py), and
# points the AWS SDKs at it (credentials are dummies).
start_moto() {
  local port=$1 log_file=${2:-/dev/null}
  "$VENV/bin/python" "$ROOT/scripts/moto_server.py" -H 127.0.0.1 -p "$port" >"$log_file" 2>&1 &
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

# Sets FUNCTIONS, the webhook receivers (one per provider of the library's registry, as
# `hookline providers --names` prints it), and ALL_FUNCTIONS, every function the template
# deploys: the receivers, the enricher, the sweeper. Builds the CLI the first time.
FUNCTIONS=()
ALL_FUNCTIONS=()
load_providers() {
  [ ${#FUNCTIONS[@]} -eq 0 ] || return 0
  local cli
  cli=$(hookline_cli)
  mapfile -t FUNCTIONS < <("$cli" providers --names)
  if [ ${#FUNCTIONS[@]} -eq 0 ]; then
    echo "hookline providers --names listed no provider" >&2
    return 1
  fi
  ALL_FUNCTIONS=("${FUNCTIONS[@]}" enricher sweeper)
}
WATCH_PIDS=()

# Serves functions ($2..., default all receivers) with `cargo lambda watch`, one instance each so
# that each gets its own environment file ($1/<function>.env) and secrets, on its own port. Sets
# PORT_<FUNCTION> and waits until every instance listens. WATCH_CONCURRENCY: instances per
# function (default 1); WATCH_FLAGS: more flags for watch (scripts/latency: --release).
# Logs go to $1/watch-<function>.log.
serve_functions() {
  local dir=$1 function upper port i=${#WATCH_PIDS[@]}
  shift
  local names=("$@")
  load_providers
  [ ${#names[@]} -gt 0 ] || names=("${FUNCTIONS[@]}")
  set -m   # own process groups, so stop_functions also stops what watch started
  for function in "${names[@]}"; do
    upper=$(echo "$function" | tr '[:lower:]' '[:upper:]')
    port=$(free_port)
    export "PORT_$upper=$port"
    # shellcheck disable=SC2086 # WATCH_FLAGS: extra flags, e.g. --release
    "$VENV/bin/cargo-lambda" lambda watch -A 127.0.0.1 -P "$port" --ignore-changes \
      --concurrency "${WATCH_CONCURRENCY:-1}" ${WATCH_FLAGS:-} \
      --env-file "$dir/$function.env" >"$dir/watch-$function.log" 2>&1 &
    WATCH_PIDS+=($!)
  done
  set +m
  for function in "${names[@]}"; do
    upper=$(echo "$function" | tr '[:lower:]' '[:upper:]')
    port_var="PORT_$upper"
    for _ in $(seq 1 300); do
      "$VENV/bin/python" -c "import socket; socket.create_connection(('127.0.0.1', ${!port_var}), 1)" 2>/dev/null && break
      if ! kill -0 "${WATCH_PIDS[$i]}" 2>/dev/null; then
        tail -n 20 "$dir/watch-$function.log" >&2
        echo "cargo lambda watch for $function exited" >&2
        return 1
      fi
      sleep 0.2
    done
    i=$((i + 1))
  done
}

stop_functions() {
  local pid
  for pid in "${WATCH_PIDS[@]}"; do
    kill -- "-$pid" 2>/dev/null || kill "$pid" 2>/dev/null || true
  done
  WATCH_PIDS=()
}

# Writes a function's environment file: the emulator's endpoint and dummy credentials, then each
# NAME=value given. Values are quoted: base64 secrets hold characters dotenv parsers choke on.
write_env() { # file NAME=value...
  local file=$1 pair
  shift
  {
    echo "AWS_ENDPOINT_URL='$AWS_ENDPOINT_URL'"
    echo "AWS_REGION='$AWS_REGION'"
    echo "AWS_ACCESS_KEY_ID='test'"
    echo "AWS_SECRET_ACCESS_KEY='test'"
    for pair in "$@"; do echo "${pair%%=*}='${pair#*=}'"; done
  } >"$file"
}

# Creates stack $2 from template.yaml on the emulator (the rendering in HOOKLINE_STACK_TEMPLATE,
# else one made in $1), its webhook secrets those of events/test-secrets.env, with any further
# Param=Value; writes $1/stack.json and each receiver's environment file ($1/<function>.env) as
# the stack resolved it, for serve_functions. Sets STACK_TABLE and STACK_QUEUE_URL.
deploy_test_stack() { # dir stack [Param=Value...]
  local dir=$1 name=$2 template=${HOOKLINE_STACK_TEMPLATE:-} function vars secrets=()
  shift 2
  declare -A secret
  load_test_secrets secret
  load_providers
  for function in "${FUNCTIONS[@]}"; do secrets+=(--secret "$function=${secret[$function]}"); done
  if [ -z "$template" ]; then
    template="$dir/template.json"
    "$VENV/bin/python" "$ROOT/scripts/stack.py" render "$template"
  fi
  "$VENV/bin/python" "$ROOT/scripts/stack.py" deploy "$template" "$name" \
    QueueType=standard EndpointType=function-url "$@" "${secrets[@]}" >"$dir/stack.json"
  STACK_TABLE=$("$VENV/bin/python" "$ROOT/scripts/stack.py" output "$dir/stack.json" EventsTableName)
  STACK_QUEUE_URL=$("$VENV/bin/python" "$ROOT/scripts/stack.py" output "$dir/stack.json" EventsQueueUrl)
  for function in "${FUNCTIONS[@]}"; do
    mapfile -t vars < <("$VENV/bin/python" "$ROOT/scripts/stack.py" env "$dir/stack.json" "$function")
    write_env "$dir/$function.env" "${vars[@]}"
  done
}

# Sends $2 unsigned requests to $1 at once and waits for their answers (401s): the first waits
# for `cargo lambda watch` to build the function, and every instance has started before anything
# is measured. Nothing is stored.
warm_up() { # url count
  local i pids=()
  for i in $(seq 1 "$2"); do
    curl -s -o /dev/null --max-time 1800 -X POST -d '{}' "$1" &
    pids+=($!)
  done
  wait "${pids[@]}"
}

# Builds the signing CLI and prints its path.
hookline_cli() {
  cargo build --quiet --manifest-path "$ROOT/Cargo.toml" -p hookline-cli
  echo "${CARGO_TARGET_DIR:-$ROOT/target}/debug/hookline"
}

# Fills the associative array named $1 with events/test-secrets.env, keyed by function.
load_test_secrets() {
  local -n into=$1
  local line key
  # Split at the first `=` only: base64 secrets end in `=`, which `IFS='=' read` would drop.
  while IFS= read -r line; do
    case "$line" in '#'* | '') continue ;; esac
    key=${line%%=*}
    into[$(echo "$key" | tr '[:upper:]' '[:lower:]')]=${line#*=}
  done <"$ROOT/events/test-secrets.env"
}

# Starts a second moto on 127.0.0.1:$1 with IAM enforcement on: every call is checked against
# the caller's IAM policies. Its first three calls (unauthenticated) create an administrator,
# whose key is exported for test set-up; the functions under test get role credentials.
# Exports HOOKLINE_IAM_ENDPOINT_URL, HOOKLINE_IAM_ADMIN_KEY_ID, HOOKLINE_IAM_ADMIN_SECRET.
IAM_MOTO_PID=
start_iam_moto() {
  local port=$1 log_file=${2:-/dev/null} keys
  INITIAL_NO_AUTH_ACTION_COUNT=3 "$VENV/bin/python" "$ROOT/scripts/moto_server.py" -H 127.0.0.1 -p "$port" >"$log_file" 2>&1 &
  IAM_MOTO_PID=$!
  for _ in $(seq 1 100); do
    "$VENV/bin/python" -c "import urllib.request as u; u.urlopen('http://127.0.0.1:$port/moto-api/')" 2>/dev/null && break
    sleep 0.1
  done
  keys=$(ENDPOINT="http://127.0.0.1:$port" "$VENV/bin/python" - <<'PY'
import json, os, boto3
iam = boto3.client("iam", endpoint_url=os.environ["ENDPOINT"], region_name="us-east-1",
                   aws_access_key_id="bootstrap", aws_secret_access_key="bootstrap")
iam.create_user(UserName="hookline-test-admin")
iam.put_user_policy(UserName="hookline-test-admin", PolicyName="everything", PolicyDocument=json.dumps(
    {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "*", "Resource": "*"}]}))
key = iam.create_access_key(UserName="hookline-test-admin")["AccessKey"]
print(key["AccessKeyId"], key["SecretAccessKey"])
PY
  ) || return 1
  export HOOKLINE_IAM_ENDPOINT_URL="http://127.0.0.1:$port"
  export HOOKLINE_IAM_ADMIN_KEY_ID=${keys% *} HOOKLINE_IAM_ADMIN_SECRET=${keys#* }
  log "moto with IAM enforcement listening on $HOOKLINE_IAM_ENDPOINT_URL"
}

stop_iam_moto() {
  if [ -n "$IAM_MOTO_PID" ]; then
    kill "$IAM_MOTO_PID" 2>/dev/null || true
    wait "$IAM_MOTO_PID" 2>/dev/null || true
    IAM_MOTO_PID=
  fi
}
