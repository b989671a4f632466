#!/usr/bin/env bash
# The main job, end to end on the local emulator: start moto, deploy the
# stack to it, add a host, serve the handler locally against the deployed
# bucket, update the host with `ddns-ctl update` (seed API) and with dyndns2,
# show the Route53 record after each, tear the stack down, stop everything.
set -euo pipefail
here=$(dirname "$0")
# Only what the demo runs, quietly: one line says what is installed.
"$here/bootstrap.sh" --demo
source "$here/env.sh"
cd "$root"

stack=demo
host=home.dyn.example.test.
work=$(mktemp -d)
pids=()
cleanup() {
    for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
    wait 2>/dev/null || true
    rm -rf "$work"
}
trap cleanup EXIT

step() { if [ -t 1 ]; then printf '\n\033[1m%s\033[0m\n' "$*"; else printf '\n%s\n' "$*"; fi; }

step "1. Building ddns-ctl and the handler"
cargo build --locked -q --bin ddns-ctl
cargo build --locked -q -p ddns-handler --bin bootstrap
ddns_ctl=$CARGO_TARGET_DIR/debug/ddns-ctl
# moto cannot run Lambda code, so a quick debug build stands in for the
# optimized arm64 release that `ddns-ctl deploy` builds with cargo-lambda.
"$MOTO_PYTHON" bench/zip_bootstrap.py "$CARGO_TARGET_DIR/debug/bootstrap" "$work/bootstrap.zip"

step "2. Starting the AWS emulator (moto)"
port=$("$MOTO_PYTHON" -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
endpoint=http://127.0.0.1:$port
"$MOTO_PYTHON" scripts/moto_server.py -H 127.0.0.1 -p "$port" >"$work/moto.log" 2>&1 &
pids+=($!)
until curl -fs "$endpoint/moto-api/data.json" >/dev/null; do sleep 0.2; done
export AWS_ENDPOINT_URL=$endpoint AWS_ACCESS_KEY_ID=demo AWS_SECRET_ACCESS_KEY=demo AWS_REGION=us-east-1
echo "    moto at $endpoint; your hosted zone dyn.example.test. with $host:"
zone_id=$("$MOTO_PYTHON" scripts/demo_aws.py zone "$endpoint" dyn.example.test. "$host")
"$MOTO_PYTHON" scripts/demo_aws.py show "$endpoint" "$zone_id" "$host"

step "3. ddns-ctl deploy"
"$ddns_ctl" --name "$stack" deploy --yes --arch x86_64 --handler-zip "$work/bootstrap.zip"

step "4. ddns-ctl host add $host"
# The demo's client is on loopback, which is never published otherwise.
"$ddns_ctl" --name "$stack" --output json host add "$host" --type dual --allow-private-addresses >"$work/host.json"
secret=$("$MOTO_PYTHON" -c 'import json,sys; print(json.load(open(sys.argv[1]))["secret"])' "$work/host.json")
printf '%s\n' "$secret" >"$work/secret"
echo "    added; its secret is in $work/secret (ddns-ctl prints it once)"
"$ddns_ctl" --name "$stack" host list
"$ddns_ctl" --name "$stack" status

step "5. Serving the handler locally against the deployed bucket (ddns-ctl serve)"
"$ddns_ctl" --name "$stack" serve --listen 127.0.0.1:0 --ready-file "$work/addr" 2>"$work/serve.log" &
pids+=($!)
until [ -s "$work/addr" ]; do sleep 0.1; done
base=http://$(cat "$work/addr")
# The seed API answers at any path; /prod mirrors the deployed stage URL.
api=$base/prod
echo "    service at $base"

step "6. ddns-ctl update: the seed API's mode=get, SHA-256 proof, mode=set"
"$ddns_ctl" update --insecure-http --url "$api/" --hostname "$host" --secret-file "$work/secret"
echo "    again (quiet when nothing changes; -v says so):"
"$ddns_ctl" -v update --insecure-http --url "$api/" --hostname "$host" --secret-file "$work/secret"
"$MOTO_PYTHON" scripts/demo_aws.py show "$endpoint" "$zone_id" "$host"

step "7. dyndns2, as ddclient or a router sends it"
echo "    $(curl -s -u "$host:$secret" "$api/nic/update?hostname=$host&myip=203.0.113.10&myipv6=2001:db8::10")"
"$MOTO_PYTHON" scripts/demo_aws.py show "$endpoint" "$zone_id" "$host"

step "8. What the service logged (no secrets)"
sed 's/^/    /' "$work/serve.log"

step "9. ddns-ctl teardown (the hosted zone and its records stay)"
"$ddns_ctl" --name "$stack" teardown --yes
"$MOTO_PYTHON" scripts/demo_aws.py show "$endpoint" "$zone_id" "$host"

step "Done: stopping the service and the emulator"
