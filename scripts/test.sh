#!/usr/bin/env bash
# Installs what is missing, then runs every test: unit tests, the handler on
# moto over HTTP, the Lambda entry point, and the CLI.
set -euo pipefail
here=$(dirname "$0")
"$here/bootstrap.sh"
source "$here/env.sh"
cd "$root"
cargo test --workspace --locked "$@"
