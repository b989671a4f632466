#!/usr/bin/env bash
# Installs everything ddns-ctl's tests, benchmarks and demo need, on a fresh
# machine or an old one: system tools, moto in a virtualenv, and the Rust
# crates. Safe to run again; it skips what is already there. It prints one
# line saying what it installs (nothing when nothing is missing), and the
# installers' own output only when they fail.
#
#   scripts/bootstrap.sh          for the tests and CI: also the real dyndns2
#                                 clients (ddclient, inadyn), perl's shasum,
#                                 rustfmt and clippy
#   scripts/bootstrap.sh --demo   only what scripts/demo.sh runs
#
# Layout (all outside the clone, so a checkout stays small):
#   $DDNS_CACHE/venv     Python virtualenv with moto   (default ~/.cache/ddns-ctl)
#   $CARGO_TARGET_DIR    cargo's build output          (default $DDNS_CACHE/target)
set -euo pipefail

root=$(cd "$(dirname "$0")/.." && pwd)
cache=${DDNS_CACHE:-$HOME/.cache/ddns-ctl}
venv=$cache/venv
mkdir -p "$cache"

demo=false
case ${1:-} in
    --demo) demo=true ;;
    "") ;;
    *) echo "usage: $0 [--demo]" >&2; exit 2 ;;
esac

# System tools. The demo needs curl (its dyndns2 request) and Python with
# venv (moto); the tests also run the seed clients' shasum (perl) and the
# real dyndns2 clients, ddclient and inadyn.
missing=()
command -v curl >/dev/null || missing+=(curl)
if ! command -v python3 >/dev/null; then
    missing+=(python3 python3-venv)
elif ! python3 -c 'import ensurepip, venv' 2>/dev/null; then
    # Debian and Ubuntu ship venv's pip bootstrap separately.
    missing+=(python3-venv)
fi
if ! $demo; then
    command -v shasum >/dev/null || missing+=(perl)
    command -v ddclient >/dev/null || missing+=(ddclient)
    command -v inadyn >/dev/null || missing+=(inadyn)
    # Real issuance through the acme-dns endpoint (tests/certificates.rs):
    # Let's Encrypt's test ACME server, certbot, and openssl to read the
    # certificate.
    command -v pebble >/dev/null || missing+=(pebble)
    command -v certbot >/dev/null || missing+=(certbot)
    command -v openssl >/dev/null || missing+=(openssl)
fi

# moto in a virtualenv, reinstalled only when the pins change.
stamp=$venv/.requirements
moto=false
cmp -s "$root/scripts/requirements.txt" "$stamp" 2>/dev/null || moto=true

if ((${#missing[@]})) && [ "$(id -u)" -ne 0 ]; then
    echo "please install: ${missing[*]}" >&2
    exit 1
fi
installing=("${missing[@]}")
$moto && installing+=("moto (into $venv)")
if ((${#installing[@]})); then
    printf 'installing: %s\n' "${installing[*]}" >&2
fi

log=$(mktemp)
trap 'rm -f "$log"' EXIT
# Runs a command with its output in $log, shown only if it fails.
quietly() {
    if ! "$@" >"$log" 2>&1; then
        cat "$log" >&2
        echo "failed: $*" >&2
        exit 1
    fi
}

if ((${#missing[@]})); then
    quietly apt-get update -qq
    quietly env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}"
fi

# Rust: the toolchain comes with the machine (rustup); the tests and CI also
# need the linters.
if ! command -v cargo >/dev/null; then
    echo "cargo not found: install Rust with rustup (https://rustup.rs)" >&2
    exit 1
fi
if ! $demo; then
    # Read once, not piped into `grep -q`: under pipefail, grep leaving early
    # would fail the pipe and add a component that is there.
    installed=$(rustup component list --installed 2>/dev/null || true)
    for component in rustfmt clippy; do
        grep -q "^$component" <<<"$installed" || quietly rustup component add "$component"
    done
fi

if $moto; then
    quietly python3 -m venv "$venv"
    quietly "$venv/bin/pip" install -q --disable-pip-version-check -r "$root/scripts/requirements.txt"
    cp "$root/scripts/requirements.txt" "$stamp"
fi

(cd "$root" && quietly cargo fetch --locked -q)
