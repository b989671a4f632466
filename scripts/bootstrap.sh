#!/usr/bin/env bash
# Installs everything ddns-ctl's tests, benchmarks and demo need, on a fresh
# machine or an old one: system tools, moto in a virtualenv, and the Rust
# crates. Safe to run again; it skips what is already there.
#
# Layout (all outside the clone, so a checkout stays small):
#   $DDNS_CACHE/venv     Python virtualenv with moto   (default ~/.cache/ddns-ctl)
#   $CARGO_TARGET_DIR    cargo's build output          (default $DDNS_CACHE/target)
set -euo pipefail

root=$(cd "$(dirname "$0")/.." && pwd)
cache=${DDNS_CACHE:-$HOME/.cache/ddns-ctl}
venv=$cache/venv
mkdir -p "$cache"

say() { printf '==> %s\n' "$*" >&2; }

# System tools: curl and shasum (perl) drive the seed client tests; ddclient
# and inadyn are the real dyndns2 clients the client tests run.
missing=()
command -v curl >/dev/null || missing+=(curl)
command -v shasum >/dev/null || missing+=(perl)
command -v python3 >/dev/null || missing+=(python3 python3-venv)
command -v ddclient >/dev/null || missing+=(ddclient)
command -v inadyn >/dev/null || missing+=(inadyn)
if ((${#missing[@]})); then
    say "installing ${missing[*]}"
    if [ "$(id -u)" -eq 0 ]; then
        apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}"
    else
        echo "please install: ${missing[*]}" >&2
        exit 1
    fi
fi

# Rust: the toolchain comes with the machine (rustup); make sure the linters
# are there too.
if ! command -v cargo >/dev/null; then
    echo "cargo not found: install Rust with rustup (https://rustup.rs)" >&2
    exit 1
fi
for component in rustfmt clippy; do
    rustup component list --installed 2>/dev/null | grep -q "^$component" || rustup component add "$component"
done

# moto in a virtualenv, reinstalled only when the pins change.
stamp=$venv/.requirements
if ! cmp -s "$root/scripts/requirements.txt" "$stamp" 2>/dev/null; then
    say "installing moto into $venv"
    python3 -m venv "$venv"
    "$venv/bin/pip" install -q --disable-pip-version-check -r "$root/scripts/requirements.txt"
    cp "$root/scripts/requirements.txt" "$stamp"
fi

say "fetching Rust crates"
(cd "$root" && cargo fetch --locked -q)
say "ready"
