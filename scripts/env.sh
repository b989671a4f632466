# Sourced by the other scripts: where the cache, the build output and moto are.
# shellcheck shell=bash
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
export DDNS_CACHE=${DDNS_CACHE:-$HOME/.cache/ddns-ctl}
export CARGO_TARGET_DIR=${CARGO_TARGET_DIR:-$DDNS_CACHE/target}
export MOTO_PYTHON=${MOTO_PYTHON:-$DDNS_CACHE/venv/bin/python}
