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

# Starts the emulators unless they already run, and stops them on exit only
# if this script started them; then points the SDK at them.
with_emulators() {
  if "$root/scripts/emulators.sh" env >/dev/null 2>&1; then
    :
  else
    "$root/scripts/emulators.sh" start
    [ "${KEEP_EMULATORS:-0}" = 1 ] || trap '"$root/scripts/emulators.sh" stop' EXIT
  fi
  # shellcheck disable=SC1090
  source "$run_dir/emulators.env"
}
