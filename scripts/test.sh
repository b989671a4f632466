#!/usr/bin/env bash
# Installs what is missing, then runs every test: unit tests, the handler on
# moto over HTTP, the Lambda entry point, and the CLI.
set -euo pipefail
here=$(dirname "$0")
"$here/bootstrap.sh"
source "$here/env.sh"
cd "$root"
# The emulator's patches first: the Rust tests rely on them answering as AWS.
"$MOTO_PYTHON" scripts/test_moto_logs.py
"$MOTO_PYTHON" scripts/test_moto_domain.py
cargo test --workspace --locked "$@"
