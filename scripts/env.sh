# Sourced by the other scripts: where the cache, the build output and moto are.
# shellcheck shell=bash
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
export DDNS_CACHE=${DDNS_CACHE:-$HOME/.cache/ddns-ctl}
# One build directory per checkout. Cargo names a workspace's artifacts by
# paths relative to the workspace, so two checkouts that share one would
# overwrite each other's binaries, and the tests of one would run the other's
# ddns-ctl and its scripts/moto_server.py. A linked worktree
# (`git worktree add`) gets a directory of its own next to the main one. To
# seed it warm, copy the main one with `cp -a`, never hard links (`cp -al`):
# cargo rewrites its fingerprint files in place, so linked copies would tell
# one checkout that another's build is its own.
target=target
if [ "$(git -C "$root" rev-parse --git-dir 2>/dev/null)" != "$(git -C "$root" rev-parse --git-common-dir 2>/dev/null)" ]; then
  target=target-$(basename "$root")
fi
export CARGO_TARGET_DIR=${CARGO_TARGET_DIR:-$DDNS_CACHE/$target}
unset target
export MOTO_PYTHON=${MOTO_PYTHON:-$DDNS_CACHE/venv/bin/python}
