#!/usr/bin/env bash
# Starts and stops the local AWS emulators on free loopback ports.
#   scripts/emulators.sh start   start (or keep) them; writes .tools/run/emulators.env
#   scripts/emulators.sh stop    stop them
#   scripts/emulators.sh env     print the environment that points the SDK at them
# kinesis-mock must run from its own folder: it loads server.json from there.
set -euo pipefail
source "$(dirname "$0")/lib.sh"
mkdir -p "$run_dir"
env_file="$run_dir/emulators.env"
pid_file="$run_dir/kinesis.pid"

free_port() {
  python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1]); s.close()'
}

answers() { # a Kinesis endpoint answers (any HTTP status) on the port
  curl -s -o /dev/null -m 1 "http://127.0.0.1:$1/" 2>/dev/null
}

running() {
  [ -f "$pid_file" ] && kill -0 "$(cat "$pid_file")" 2>/dev/null && [ -f "$env_file" ]
}

start() {
  if running; then
    return 0
  fi
  "$root/scripts/tools.sh"
  local plain tls
  plain=$(free_port); tls=$(free_port)
  say "starting kinesis-mock on 127.0.0.1:$plain"
  (
    cd "$node_dir/node_modules/kinesis-local"
    KINESIS_MOCK_PLAIN_PORT=$plain KINESIS_MOCK_TLS_PORT=$tls \
    CREATE_STREAM_DURATION=0ms DELETE_STREAM_DURATION=0ms \
    SPLIT_SHARD_DURATION=0ms MERGE_SHARDS_DURATION=0ms UPDATE_SHARD_COUNT_DURATION=0ms \
    SHARD_LIMIT=500 LOG_LEVEL=WARN \
      exec node main.js
  ) > "$run_dir/kinesis.log" 2>&1 &
  echo $! > "$pid_file"
  for _ in $(seq 1 150); do
    if answers "$plain"; then
      cat > "$env_file" <<EOT
export AWS_ENDPOINT_URL_KINESIS=http://127.0.0.1:$plain
export AWS_ACCESS_KEY_ID=\${AWS_ACCESS_KEY_ID:-test}
export AWS_SECRET_ACCESS_KEY=\${AWS_SECRET_ACCESS_KEY:-test}
export AWS_REGION=\${AWS_REGION:-us-east-1}
EOT
      return 0
    fi
    kill -0 "$(cat "$pid_file")" 2>/dev/null || break
    sleep 0.1
  done
  echo "emulators.sh: kinesis-mock did not start; its log:" >&2
  cat "$run_dir/kinesis.log" >&2
  stop
  exit 1
}

stop() {
  if [ -f "$pid_file" ]; then
    kill "$(cat "$pid_file")" 2>/dev/null || true
    rm -f "$pid_file"
  fi
  rm -f "$env_file"
}

case "${1:-}" in
  start) start ;;
  stop) stop ;;
  env) running && cat "$env_file" ;;
  *) echo "usage: scripts/emulators.sh start|stop|env" >&2; exit 2 ;;
esac
