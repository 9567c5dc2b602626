#!/usr/bin/env bash
# Runs every test: formatting and lints, unit and property tests, the
# over-the-wire tests against the emulators (started here if not running),
# the release Lambda build, the deployment templates (lint, validate,
# sam build) and the CDK construct (build, tests, synth). `.ci/run` calls this.
set -euo pipefail
source "$(dirname "$0")/lib.sh"
cd "$root"

"$root/scripts/tools.sh"
with_emulators

say "cargo fmt --check"
cargo fmt --all -- --check

say "building the binaries the tests run (functions, hydrator tool, pipeline)"
cargo build --workspace --bins

# Built before the tests: the hostile-input suite runs this very artefact.
# The command is the one `sam build` runs for the template (`--bin`, from the
# workspace root, so with the same features), so that sam build below finds
# the artefact fresh and only copies it: the release build happens once.
say "cargo lambda build --release (the deployable artefact)"
cargo lambda build --release --bin hydrate
test -x "$CARGO_TARGET_DIR/lambda/hydrate/bootstrap"
ls -l "$CARGO_TARGET_DIR/lambda/hydrate/bootstrap"

say "cargo test (unit, property, and over the wire against the emulators)"
cargo test --workspace --no-fail-fast

say "cargo clippy"
cargo clippy --workspace --all-targets -- -D warnings

say "infra: cfn-lint and sam validate --lint"
cfn-lint infra/template.yaml infra/demo/template.yaml infra/examples/*.yaml
sam validate --lint -t infra/template.yaml
sam validate --lint -t infra/demo/template.yaml

# Offline: --skip-download keeps checkov from fetching its guidelines. Every
# check the templates skip says why in the resource's Metadata.
say "infra: checkov on the templates and the example"
"$tools/checkov/bin/checkov" --skip-download --quiet --compact --framework cloudformation \
  -f infra/template.yaml -f infra/demo/template.yaml -f infra/examples/wire-existing-consumer.yaml

say "infra/cdk: build, tests (aws-cdk-lib assertions, cdk-nag) and cdk synth, offline"
(cd infra/cdk && npm run --silent build && npm test --silent && npm run --silent synth)

# This machine has no aarch64 Rust target, so the build here is x86_64;
# arm64 stays the template's default for deployment.
say "infra: sam build with cargo-lambda (Architecture=x86_64 here; reuses the artefact above)"
sam build -t infra/template.yaml --beta-features \
  --parameter-overrides Architecture=x86_64 \
  --build-dir "$CARGO_TARGET_DIR/sam/build" --cache-dir "$CARGO_TARGET_DIR/sam/cache"
test -x "$CARGO_TARGET_DIR/sam/build/Hydrator/bootstrap"
ls -l "$CARGO_TARGET_DIR/sam/build/Hydrator/bootstrap"
say "every test passed in ${SECONDS}s"
