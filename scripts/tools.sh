#!/usr/bin/env bash
# Installs the project's pinned tools into .tools/ (nothing global):
#   .tools/node  kinesis-mock (npm kinesis-local), run with node
#   .tools/venv  cargo-lambda, moto server, Powertools for AWS Lambda (Python) parser
#   .tools/sam   cfn-lint and the SAM CLI, for the templates in infra/
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

py_stamp=$(stamp_of "$root/tests/emulators/requirements.txt")
if [ "$(cat "$venv/.stamp" 2>/dev/null)" != "$py_stamp" ]; then
  say "installing Python tools into .tools/venv"
  rm -rf "$venv"
  python3 -m venv "$venv"
  "$venv/bin/pip" install --quiet --disable-pip-version-check -r "$root/tests/emulators/requirements.txt"
  echo "$py_stamp" > "$venv/.stamp"
fi

sam_stamp=$(stamp_of "$root/tests/emulators/requirements-infra.txt")
if [ "$(cat "$sam_venv/.stamp" 2>/dev/null)" != "$sam_stamp" ]; then
  say "installing cfn-lint and the SAM CLI into .tools/sam"
  rm -rf "$sam_venv"
  python3 -m venv "$sam_venv"
  "$sam_venv/bin/pip" install --quiet --disable-pip-version-check -r "$root/tests/emulators/requirements-infra.txt"
  echo "$sam_stamp" > "$sam_venv/.stamp"
fi
