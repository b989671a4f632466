#!/usr/bin/env bash
# Runs the real arm64 function here: the `bootstrap` from the release zip
# (dist/handler-arm64.zip, made by scripts/dist.sh), under Debian's
# qemu-aarch64-static (with Debian's aarch64 glibc as its sysroot: Lambda's
# provided.al2023 supplies glibc, so the package links it dynamically),
# through the same Lambda entry tests as the x86_64 one
# (handler/tests/lambda.rs: a local Runtime API, API Gateway REST proxy
# events, moto behind it), then the x86_64 one from dist/handler-x86_64.zip
# natively, for comparison. Prints each run's answers-checked tests and its
# peak RSS; qemu's own memory is in the arm64 figure.
#
#   bench/lambda_arm64.sh [ZIP]     default: dist/handler-arm64.zip
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
"$here/../scripts/bootstrap.sh"
source "$here/../scripts/env.sh"
cd "$root"

zip=${1:-dist/handler-arm64.zip}
[ -f "$zip" ] || { echo "no $zip: run scripts/dist.sh first" >&2; exit 1; }
missing=()
command -v qemu-aarch64-static >/dev/null || missing+=(qemu-user-static)
[ -e /usr/aarch64-linux-gnu/lib/ld-linux-aarch64.so.1 ] || missing+=(libc6-arm64-cross)
if ((${#missing[@]})); then
    [ "$(id -u)" -eq 0 ] || { echo "please install: ${missing[*]}" >&2; exit 1; }
    echo "installing: ${missing[*]}" >&2
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >/dev/null
fi
export QEMU_LD_PREFIX=/usr/aarch64-linux-gnu

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
unpack() { "$MOTO_PYTHON" -c 'import sys, zipfile; zipfile.ZipFile(sys.argv[1]).extract("bootstrap", sys.argv[2])' "$1" "$2"; chmod 755 "$2/bootstrap"; }

mkdir -p "$work/arm64" "$work/x86_64"
unpack "$zip" "$work/arm64"
file "$work/arm64/bootstrap"

cargo test --locked -q -p ddns-handler --test lambda --no-run 2>/dev/null
run() {
    echo "== $1" >&2
    DDNS_BOOTSTRAP=$2 DDNS_BOOTSTRAP_RUNNER=${3:-} cargo test --locked -q -p ddns-handler --test lambda -- --nocapture 2>&1 |
        grep -E "peak RSS|test result|panicked|FAILED" || true
}
run "arm64 under qemu-aarch64-static" "$work/arm64/bootstrap" qemu-aarch64-static
if [ -f dist/handler-x86_64.zip ]; then
    unpack dist/handler-x86_64.zip "$work/x86_64"
    run "x86_64 natively" "$work/x86_64/bootstrap"
fi
