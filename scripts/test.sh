#!/usr/bin/env bash
# Runs every test: formatting and lints, unit and property tests, the
# over-the-wire tests against the emulators (started here if not running),
# and the release Lambda build. `.ci/run` calls this.
set -euo pipefail
source "$(dirname "$0")/lib.sh"
cd "$root"

"$root/scripts/tools.sh"
with_emulators

say "cargo fmt --check"
cargo fmt --all -- --check

say "building the hydrate binary the runtime interface tests run"
cargo build -p hydrate --bins

say "cargo test (unit, property, and over the wire against the emulators)"
cargo test --workspace --no-fail-fast

say "cargo clippy"
cargo clippy --workspace --all-targets -- -D warnings

say "cargo lambda build --release (the deployable artefact)"
cargo lambda build --release -p hydrate
test -x "$CARGO_TARGET_DIR/lambda/hydrate/bootstrap"
ls -l "$CARGO_TARGET_DIR/lambda/hydrate/bootstrap"
