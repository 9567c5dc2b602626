# Shared by the scripts: where things live. Sourced, not run.
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
tools="$root/.tools"
run_dir="$tools/run"
venv="$tools/venv"
sam_venv="$tools/sam"
node_dir="$tools/node"
export PATH="$venv/bin:$PATH:$sam_venv/bin"
export SAM_CLI_TELEMETRY=0
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$root/target}"

say() { printf '\033[1m==> [%4ds] %s\033[0m\n' "$SECONDS" "$*" >&2; }

# Commands to run when the script exits, last registered first: one EXIT
# trap for all of them, so that no step's clean-up replaces another's.
exit_hooks=()
run_exit_hooks() {
  local i
  for ((i = ${#exit_hooks[@]} - 1; i >= 0; i--)); do
    eval "${exit_hooks[$i]}" || true
  done
}
at_exit() {
  exit_hooks+=("$1")
  trap run_exit_hooks EXIT
}

# Starts the emulators unless they already run, and stops them on exit only
# if this script started them; then points the SDK at them.
with_emulators() {
  if "$root/scripts/emulators.sh" env >/dev/null 2>&1; then
    :
  else
    "$root/scripts/emulators.sh" start
    [ "${KEEP_EMULATORS:-0}" = 1 ] || at_exit '"$root/scripts/emulators.sh" stop'
  fi
  # shellcheck disable=SC1090
  source "$run_dir/emulators.env"
}

# The debug builds of the tests, the demo and clippy leave out hydrate's
# post-quantum-tls feature (TLS on ring, not aws-lc: no large C library to
# build). The release artefact keeps it; tests/input/runtime_interface.rs
# reads over TLS with both. One set of features, so the builds share a tree.
dev_features="--no-default-features"
