#!/usr/bin/env bash
# Builds the release archives: static ddns-ctl binaries for Linux that
# carry their own Lambda packages, so a deploy needs nothing else.
#
#   scripts/dist.sh                 every target that can be built here
#   scripts/dist.sh TARGET...       only these (e.g. x86_64-unknown-linux-musl)
#
# Writes, under dist/:
#   handler-arm64.zip, handler-x86_64.zip    the Lambda packages, built by
#                                            cargo-lambda from handler/ (what
#                                            `deploy --build-handler` uploads)
#   ddns-ctl-VERSION-TARGET.tar.gz           the binary with both packages
#                                            embedded, README.md, the licences,
#                                            completions (bash, zsh, fish) and
#                                            man pages
#   SHA256SUMS                               of the archives and the zips
#
# Needs what scripts/bootstrap.sh installs, plus cargo-lambda (it brings zig,
# the cross linker for every target) and the rustup targets; it installs both.
# Release builds go to $DDNS_CACHE/target-dist, one directory per build, so
# they neither evict nor are evicted by the test builds or each other. Not part of CI: a clean run takes tens of
# minutes (docs/performance.md has the figures).
set -euo pipefail

# All in a function, so bash has read the whole script before it runs any of
# it: a checkout updated during a long build cannot change what runs.
main() {
here=$(cd "$(dirname "$0")" && pwd)
"$here/bootstrap.sh" --demo
source "$here/env.sh"
cd "$root"

all_targets=(x86_64-unknown-linux-musl aarch64-unknown-linux-musl armv7-unknown-linux-musleabihf)
targets=("$@")
((${#targets[@]})) || targets=("${all_targets[@]}")

# One target directory per build: with one shared by all four, a second run
# rebuilt dependencies of each (481 s went to the x86_64 ddns-ctl alone);
# cargo-lambda gives each target its own compiler environment, the likely
# reason cargo saw them as changed.
dist_cache=$DDNS_CACHE/target-dist
venv=$DDNS_CACHE/venv
"$venv/bin/pip" install -q --disable-pip-version-check -r bench/requirements.txt
export PATH=$venv/bin:$PATH

# Reproducible where the toolchain allows: paths of this checkout and of the
# cargo home are remapped, so the same sources give the same bytes wherever
# they are checked out; archives get fixed times (the last commit's),
# owners and order. The time is not exported as SOURCE_DATE_EPOCH: cc-rs
# tells cargo to rerun every C build script when that changes, so each new
# commit rebuilt aws-lc and all above it (417 s for the x86_64 binary).
cargo_home=${CARGO_HOME:-$HOME/.cargo}
export RUSTFLAGS="--remap-path-prefix=$root=/ddns-ctl --remap-path-prefix=$cargo_home=/cargo"
epoch=$(git log -1 --format=%ct 2>/dev/null || echo 0)
version=$(cargo metadata --format-version 1 --no-deps --locked |
    "$MOTO_PYTHON" -c 'import json, sys; print(next(p["version"] for p in json.load(sys.stdin)["packages"] if p["name"] == "ddns-ctl"))')

elapsed() { echo "$(( $(date +%s) - $1 )) s"; }
started=$(date +%s)

# Each target's standard library; a target rustup cannot fetch is skipped
# with its reason, unless it was asked for by name.
buildable=()
for target in "${targets[@]}"; do
    if rustup target list --installed | grep -qx "$target" || rustup target add "$target" >/dev/null 2>&1; then
        buildable+=("$target")
    elif (($#)); then
        echo "error: rustup cannot add $target" >&2
        exit 1
    else
        echo "skipped: $target (rustup cannot add its standard library here)" >&2
    fi
done
# The handler's own targets (cargo-lambda builds against glibc 2.17).
rustup target add aarch64-unknown-linux-gnu x86_64-unknown-linux-gnu >/dev/null

# ddns-ctl for one target, statically linked by zig through cargo-lambda,
# which moves the binary to TARGET_DIR/lambda/ddns-ctl/bootstrap.
cli() { echo "$dist_cache/cli-$1/lambda/ddns-ctl/bootstrap"; }
build_cli() {
    local target=$1 step
    step=$(date +%s)
    CARGO_TARGET_DIR=$dist_cache/cli-$target \
        cargo lambda build --release --locked --quiet --target "$target" -p ddns-ctl --bin ddns-ctl
    echo "ddns-ctl for $target: $(elapsed "$step")" >&2
}

mkdir -p dist
rm -rf dist/stage
# The x86_64 binary runs here, so it is the tool that packages and embeds.
build_cli x86_64-unknown-linux-musl
tool=$(cli x86_64-unknown-linux-musl)

for arch in arm64 x86_64; do
    step=$(date +%s)
    CARGO_TARGET_DIR=$dist_cache/handler-$arch \
        "$tool" package --arch "$arch" --sources "$root" --out "dist/handler-$arch.zip"
    echo "handler $arch: $(elapsed "$step")" >&2
done

archives=()
for target in "${buildable[@]}"; do
    [ "$target" = x86_64-unknown-linux-musl ] || build_cli "$target"
    name=ddns-ctl-$version-$target
    stage=dist/stage/$name
    mkdir -p "$stage/completions" "$stage/man"
    "$tool" embed --binary "$(cli "$target")" \
        --arch arm64 --zip dist/handler-arm64.zip \
        --arch x86_64 --zip dist/handler-x86_64.zip \
        --out "$stage/ddns-ctl" >/dev/null
    cp README.md LICENSE-MIT LICENSE-APACHE "$stage/"
    "$tool" completions bash >"$stage/completions/ddns-ctl.bash"
    "$tool" completions zsh >"$stage/completions/_ddns-ctl"
    "$tool" completions fish >"$stage/completions/ddns-ctl.fish"
    "$tool" man --out-dir "$stage/man"
    find "$stage" -exec touch -h -d "@$epoch" {} +
    tar --sort=name --owner=0 --group=0 --numeric-owner --mtime="@$epoch" \
        -C dist/stage -cf - "$name" | gzip -9n >"dist/$name.tar.gz"
    archives+=("$name.tar.gz")
done
rm -rf dist/stage

(cd dist && sha256sum "${archives[@]}" handler-arm64.zip handler-x86_64.zip >SHA256SUMS)
echo "dist.sh: $(elapsed "$started")" >&2
(cd dist && ls -l "${archives[@]}" handler-*.zip && cat SHA256SUMS)
}

main "$@"
