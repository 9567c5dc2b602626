#!/usr/bin/env bash
# Starts and stops the local AWS emulators on free loopback ports:
# kinesis-mock for Kinesis, moto server for DynamoDB (Streams), SQS, SNS, S3, Firehose,
# and tansu, a Kafka-compatible broker, with in-memory storage (KAFKA_BOOTSTRAP_SERVERS).
#   scripts/emulators.sh start   start (or keep) them; writes .tools/run/emulators.env
#   scripts/emulators.sh stop    stop them
#   scripts/emulators.sh env     print the environment that points the SDK at them
# kinesis-mock must run from its own folder: it loads server.json from there.
set -euo pipefail
source "$(dirname "$0")/lib.sh"
mkdir -p "$run_dir"
env_file="$run_dir/emulators.env"
pid_file="$run_dir/kinesis.pid"
moto_pid_file="$run_dir/moto.pid"
kafka_pid_file="$run_dir/kafka.pid"

free_port() {
  python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1]); s.close()'
}

answers() { # an endpoint answers (any HTTP status) on the port
  curl -s -o /dev/null -m 1 "http://127.0.0.1:$1/" 2>/dev/null
}

listens() { # something accepts TCP connections on the port (the broker speaks no HTTP)
  python3 -c 'import socket,sys; socket.create_connection(("127.0.0.1", int(sys.argv[1])), 1).close()' "$1" 2>/dev/null
}

alive() { [ -f "$1" ] && kill -0 "$(cat "$1")" 2>/dev/null; }

running() {
  alive "$pid_file" && alive "$moto_pid_file" && alive "$kafka_pid_file" && [ -f "$env_file" ]
}

# Waits until the port answers ($3, a check, defaults to answers); fails if
# the process behind pid file $2 dies first.
wait_for() {
  for _ in $(seq 1 300); do
    "${3:-answers}" "$1" && return 0
    alive "$2" || return 1
    sleep 0.1
  done
  return 1
}

fail() {
  echo "emulators.sh: $1 did not start; its log:" >&2
  cat "$2" >&2
  stop
  exit 1
}

start() {
  if running; then
    return 0
  fi
  stop
  "$root/scripts/tools.sh"
  local plain tls moto kafka
  plain=$(free_port); tls=$(free_port); moto=$(free_port); kafka=$(free_port)
  say "starting kinesis-mock on 127.0.0.1:$plain, moto server on 127.0.0.1:$moto, tansu on 127.0.0.1:$kafka"
  (
    cd "$node_dir/node_modules/kinesis-local"
    KINESIS_MOCK_PLAIN_PORT=$plain KINESIS_MOCK_TLS_PORT=$tls \
    CREATE_STREAM_DURATION=0ms DELETE_STREAM_DURATION=0ms \
    SPLIT_SHARD_DURATION=0ms MERGE_SHARDS_DURATION=0ms UPDATE_SHARD_COUNT_DURATION=0ms \
    SHARD_LIMIT=500 LOG_LEVEL=WARN \
      exec node main.js
  ) > "$run_dir/kinesis.log" 2>&1 &
  echo $! > "$pid_file"
  # Through a launcher that makes DynamoDB's conditional writes atomic.
  "$venv/bin/python3" "$root/scripts/moto_server.py" -H 127.0.0.1 -p "$moto" > "$run_dir/moto.log" 2>&1 &
  echo $! > "$moto_pid_file"
  # Memory only: each start is an empty cluster. The advertised address is
  # the one clients are sent back to after the bootstrap, so it is loopback too.
  "$tools/kafka/bin/tansu" broker \
    --listener-url "tcp://127.0.0.1:$kafka" \
    --advertised-listener-url "tcp://127.0.0.1:$kafka" \
    --storage-engine memory://tansu/ > "$run_dir/kafka.log" 2>&1 &
  echo $! > "$kafka_pid_file"

  wait_for "$plain" "$pid_file" || fail kinesis-mock "$run_dir/kinesis.log"
  wait_for "$moto" "$moto_pid_file" || fail "moto server" "$run_dir/moto.log"
  wait_for "$kafka" "$kafka_pid_file" listens || fail tansu "$run_dir/kafka.log"
  # Service-specific endpoints win over AWS_ENDPOINT_URL, so Kinesis goes to
  # kinesis-mock and every other service to moto.
  cat > "$env_file" <<EOT
export AWS_ENDPOINT_URL_KINESIS=http://127.0.0.1:$plain
export AWS_ENDPOINT_URL=http://127.0.0.1:$moto
export AWS_ACCESS_KEY_ID=\${AWS_ACCESS_KEY_ID:-test}
export AWS_SECRET_ACCESS_KEY=\${AWS_SECRET_ACCESS_KEY:-test}
export AWS_REGION=\${AWS_REGION:-us-east-1}
export KAFKA_BOOTSTRAP_SERVERS=127.0.0.1:$kafka
EOT
}

stop() {
  for file in "$pid_file" "$moto_pid_file" "$kafka_pid_file"; do
    if [ -f "$file" ]; then
      kill "$(cat "$file")" 2>/dev/null || true
      rm -f "$file"
    fi
  done
  rm -f "$env_file"
}

case "${1:-}" in
  start) start ;;
  stop) stop ;;
  env) running && cat "$env_file" ;;
  *) echo "usage: scripts/emulators.sh start|stop|env" >&2; exit 2 ;;
esac
