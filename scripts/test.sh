#!/usr/bin/env bash
# Runs every test: formatting and lints, unit and property tests, the
# over-the-wire tests against the emulators (started here if not running),
# the release Lambda build, the deployment templates (lint, validate, scan,
# sam build) and the CDK construct (build, tests, synth). `.ci/run` calls this.
#
# Work that does not need the same CPU at the same moment runs side by side:
# the release build (its own profile, so its own cargo lock, and a long
# single-threaded LTO link) beside the debug build; the template checks
# (Python and Node) beside the tests, which mostly wait on the emulators; the
# test binaries themselves in three lanes side by side (start_tests), started
# as soon as the debug build is done, each waiting for the release build only
# where a binary needs it; then sam build. Clippy is no step of its own:
# it lints the workspace as the debug build compiles it (dev_cargo). Each
# background step logs to target/test-logs/ and is waited for, by name,
# before the end; any that fails fails the run with its log. Every step
# prints when it starts.
set -euo pipefail
source "$(dirname "$0")/lib.sh"
cd "$root"

logs="$CARGO_TARGET_DIR/test-logs"
mkdir -p "$logs"
declare -A running=()
in_background() {
  local name=$1
  shift
  say "$name: started beside the rest (log: target/test-logs/$name.log)"
  "$@" > "$logs/$name.log" 2>&1 &
  running[$name]=$!
}
finish() {
  local name=$1
  if wait "${running[$name]}"; then
    cat "$logs/$name.log" >&2
    say "$name: passed"
  else
    cat "$logs/$name.log" >&2
    say "$name: FAILED"
    exit 1
  fi
}

# A fresh clone (CI) gains nothing from incremental state, and writing it
# costs the workspace's crates time; without it they also build in 16
# codegen units, not 256.
if [ -n "${CI:-}" ]; then
  export CARGO_INCREMENTAL=0
fi

# Cargo on the debug tree, with clippy linting the workspace as it compiles:
# clippy-driver as the workspace's compiler wrapper and its arguments
# (-D warnings), which is what `cargo clippy` sets before running a check.
# `cargo build --bins --tests` compiles every target that
# `cargo clippy --all-targets` checks (this workspace has no benches or
# examples), so the lints are the same, without a third tree built in check
# mode. Every call on the debug tree goes through here: the wrapper is part
# of each workspace crate's fingerprint, and a call without it would compile
# them again.
dev_cargo() {
  RUSTC_WORKSPACE_WRAPPER="$(rustc --print sysroot)/bin/clippy-driver" \
    CLIPPY_ARGS="-D__CLIPPY_HACKERY__warnings__CLIPPY_HACKERY__" \
    cargo "$@"
}

# The test binaries, one line each: the folder cargo runs it in (its
# package's), the executable, and the target's name.
test_binaries() {
  dev_cargo test $dev_features --workspace --no-run --message-format=json 2>/dev/null | "$venv/bin/python" -c '
import json, os, sys
for line in sys.stdin:
    m = json.loads(line)
    if m.get("reason") == "compiler-artifact" and m["profile"]["test"] and m.get("executable"):
        print(os.path.dirname(m["manifest_path"]), m["executable"], m["target"]["name"], sep="\t")
'
}

# The test binaries that wait for the release build: those that run its
# artefact (release_hydrate_binary), and read, whose 10,000-record range
# needs kinesis-mock (a JavaScript program) to make a 10 MB page within the
# function's 10 s attempt timeout, which it does not while the release
# build's LTO takes a core and other tests the other (seen in CI).
waits_for_release() {
  case "$1" in
    input | deliver | hostile | read) return 0 ;;
    *) return 1 ;;
  esac
}

# Waits until the release build has passed; fails if it ended without.
await_release() {
  while [ ! -e "$logs/release-build.ok" ]; do
    kill -0 "${running[release-build]}" 2>/dev/null || [ -e "$logs/release-build.ok" ] || {
      echo "the release build failed: see target/test-logs/release-build.log"
      return 1
    }
    sleep 1
  done
}

# Runs the binaries of one lane in turn, those that wait for the release
# build once it has passed; fails if any failed, after all ran.
run_lane() {
  local failed=0 dir exe name
  for entry in "$@"; do
    IFS=$'\t' read -r dir exe name <<< "$entry"
    if waits_for_release "$name"; then
      await_release || return 1
    fi
    printf '\n==> %s (%s)\n' "$name" "${exe#"$CARGO_TARGET_DIR"/}"
    (cd "$dir" && "$exe") || failed=1
  done
  return "$failed"
}

# What `cargo test --workspace --no-fail-fast` runs, in three lanes side by
# side: the two slow over-the-wire binaries (read, deliver) each in a lane
# of its own, everything else in the third, those that wait for the release
# build last. They mostly wait on the emulators, so on two cores the lanes
# take about as long as the slowest binary rather than the sum of all; the
# binaries that need no release build run beside its single-threaded LTO
# link. Every lane runs to its end; each one's output is printed whole, one
# after the other.
declare -A lanes=()
start_tests() {
  local lines read=() deliver=() rest=() last=() entry name
  mapfile -t lines < <(test_binaries)
  [ "${#lines[@]}" -ge 10 ] || { say "found only ${#lines[@]} test binaries"; exit 1; }
  for entry in "${lines[@]}"; do
    name=${entry##*$'\t'}
    case "$name" in
      read) read+=("$entry") ;;
      deliver) deliver+=("$entry") ;;
      *) if waits_for_release "$name"; then last+=("$entry"); else rest+=("$entry"); fi ;;
    esac
  done
  say "cargo test (unit, property, and over the wire against the emulators), in three lanes"
  run_lane "${read[@]}" > "$logs/tests-read.log" 2>&1 & lanes[read]=$!
  run_lane "${deliver[@]}" > "$logs/tests-deliver.log" 2>&1 & lanes[deliver]=$!
  run_lane "${rest[@]}" "${last[@]}" > "$logs/tests-rest.log" 2>&1 & lanes[rest]=$!
}

finish_tests() {
  local lane failed=0
  for lane in rest read deliver; do
    if wait "${lanes[$lane]}"; then
      cat "$logs/tests-$lane.log" >&2
      say "tests ($lane): passed"
    else
      cat "$logs/tests-$lane.log" >&2
      say "tests ($lane): FAILED"
      failed=1
    fi
  done
  say "doc tests"
  dev_cargo test $dev_features --workspace --doc || failed=1
  [ "$failed" = 0 ] || exit 1
}

"$root/scripts/tools.sh"
with_emulators

say "cargo fmt --check"
cargo fmt --all -- --check

# The command is the one `sam build` runs for the template (`--bin`, from the
# workspace root, so with the same features), so that sam build below finds
# the artefact fresh and only copies it: the release build happens once. The
# hostile-input suite and the runtime tests run this very artefact.
release_build() {
  cargo lambda build --release --bin hydrate
  test -x "$CARGO_TARGET_DIR/lambda/hydrate/bootstrap"
  ls -l "$CARGO_TARGET_DIR/lambda/hydrate/bootstrap"
  touch "$logs/release-build.ok"
}
rm -f "$logs/release-build.ok"
in_background release-build release_build

templates() {
  cfn-lint infra/template.yaml infra/demo/template.yaml infra/examples/*.yaml
  sam validate --lint -t infra/template.yaml
  sam validate --lint -t infra/demo/template.yaml
  # Offline: --skip-download keeps checkov from fetching its guidelines. Every
  # check the templates skip says why in the resource's Metadata.
  "$tools/checkov/bin/checkov" --skip-download --quiet --compact --framework cloudformation \
    -f infra/template.yaml -f infra/demo/template.yaml -f infra/examples/wire-existing-consumer.yaml
  # The CDK construct: build, tests (aws-cdk-lib assertions, cdk-nag), cdk synth, offline.
  (cd infra/cdk && npm run --silent build && npm test --silent && npm run --silent synth)
}
in_background templates templates

say "building (and linting with clippy) the binaries the tests run (functions, hydrator tool, pipeline) and the tests"
# One cargo call for both, so its scheduler fills both cores to the end.
dev_cargo build $dev_features --workspace --bins --tests
start_tests

finish release-build
finish_tests

finish templates
# Then sam build, alone: its build cache hashes every file under the
# workspace, target/ included, and a file another step removed mid-hash
# failed it.

# This machine has no aarch64 Rust target, so the build here is x86_64;
# arm64 stays the template's default for deployment.
say "infra: sam build with cargo-lambda (Architecture=x86_64 here; reuses the release artefact)"
sam build -t infra/template.yaml --beta-features \
  --parameter-overrides Architecture=x86_64 \
  --build-dir "$CARGO_TARGET_DIR/sam/build" --cache-dir "$CARGO_TARGET_DIR/sam/cache"
test -x "$CARGO_TARGET_DIR/sam/build/Hydrator/bootstrap"
ls -l "$CARGO_TARGET_DIR/sam/build/Hydrator/bootstrap"
say "every test passed in ${SECONDS}s"
