#!/usr/bin/env bash
# Builds what the benchmark measures and runs it: a release ddns-ctl for the
# service figures and, with --zip, the arm64 Lambda zip for its size and the
# deploy / no-op redeploy / teardown figures.
# Prints the figures as JSON; docs/performance.md records them.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
"$here/../scripts/bootstrap.sh"
source "$here/../scripts/env.sh"
cd "$root"

zip_args=()
if [ "${1:-}" = "--zip" ]; then
    venv=$DDNS_CACHE/venv
    "$venv/bin/pip" install -q --disable-pip-version-check -r bench/requirements.txt
    rustup target add aarch64-unknown-linux-gnu >/dev/null
    start=$(date +%s)
    PATH=$venv/bin:$PATH cargo lambda build --release --arm64 -p ddns-handler --bin bootstrap
    echo "handler arm64 release build: $(( $(date +%s) - start )) s" >&2
    zip=$CARGO_TARGET_DIR/lambda/bootstrap/bootstrap.zip
    "$MOTO_PYTHON" bench/zip_bootstrap.py "$CARGO_TARGET_DIR/lambda/bootstrap/bootstrap" "$zip"
    zip_args=(--zip "$zip")
fi

cargo build --release --locked -q --bin ddns-ctl
"$MOTO_PYTHON" bench/service.py --binary "$CARGO_TARGET_DIR/release/ddns-ctl" "${zip_args[@]}"
if [ -n "${zip:-}" ]; then
    "$MOTO_PYTHON" bench/deploy.py --binary "$CARGO_TARGET_DIR/release/ddns-ctl" --zip "$zip"
fi
