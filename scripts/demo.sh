#!/usr/bin/env bash
# The main job, end to end on the local emulator: start moto, create a config
# bucket, a hosted zone and a host, serve the handler locally against them,
# update the host with the seed API and with dyndns2, show the Route53 record
# after each, and stop everything.
set -euo pipefail
here=$(dirname "$0")
"$here/bootstrap.sh"
source "$here/env.sh"
cd "$root"

host=home.dyn.example.test.
secret=$(head -c 24 /dev/urandom | base64 | tr -d '/+=')
bucket=ddns-demo-config
work=$(mktemp -d)
pids=()
cleanup() {
    for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
    wait 2>/dev/null || true
    rm -rf "$work"
}
trap cleanup EXIT

step() { if [ -t 1 ]; then printf '\n\033[1m%s\033[0m\n' "$*"; else printf '\n%s\n' "$*"; fi; }

step "1. Building ddns-ctl"
cargo build --locked -q --bin ddns-ctl
ddns_ctl=$CARGO_TARGET_DIR/debug/ddns-ctl

step "2. Starting the AWS emulator (moto)"
port=$("$MOTO_PYTHON" -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
endpoint=http://127.0.0.1:$port
"$MOTO_PYTHON" scripts/moto_server.py -H 127.0.0.1 -p "$port" >"$work/moto.log" 2>&1 &
pids+=($!)
until curl -fs "$endpoint/moto-api/data.json" >/dev/null; do sleep 0.2; done
echo "    moto at $endpoint"

step "3. Creating the config bucket, the hosted zone and host $host"
zone_id=$("$MOTO_PYTHON" scripts/demo_aws.py setup "$endpoint" "$bucket" dyn.example.test. "$host" "$secret")
echo "    s3://$bucket/config.json, zone $zone_id; the record before any update:"
"$MOTO_PYTHON" scripts/demo_aws.py show "$endpoint" "$zone_id" "$host"

step "4. Serving the handler locally (ddns-ctl serve)"
export AWS_ACCESS_KEY_ID=demo AWS_SECRET_ACCESS_KEY=demo AWS_REGION=us-east-1
"$ddns_ctl" --endpoint-url "$endpoint" serve --listen 127.0.0.1:0 --bucket "$bucket" \
    --ready-file "$work/addr" 2>"$work/serve.log" &
pids+=($!)
until [ -s "$work/addr" ]; do sleep 0.1; done
base=http://$(cat "$work/addr")
# The seed API answers at any path; /prod mirrors the deployed stage URL.
api=$base/prod
echo "    service at $base"

step "5. Seed API: mode=get, hash, mode=set (as the blog post's client does)"
ip=$(curl -s "$api?mode=get" | grep -oE '[0-9.]+')
echo "    mode=get says the caller is $ip"
hash=$(printf '%s' "$ip$host$secret" | sha256sum | cut -d' ' -f1)
echo "    $(curl -s "$api?mode=set&hostname=$host&hash=$hash")"
echo "    again: $(curl -s "$api?mode=set&hostname=$host&hash=$hash")"

step "6. The record in Route53 now"
"$MOTO_PYTHON" scripts/demo_aws.py show "$endpoint" "$zone_id" "$host"

step "7. dyndns2, as ddclient or a router sends it"
echo "    $(curl -s -u "$host:$secret" "$base/nic/update?hostname=$host&myip=203.0.113.10,2001:db8::10")"
"$MOTO_PYTHON" scripts/demo_aws.py show "$endpoint" "$zone_id" "$host"

step "8. What the service logged (no secrets)"
sed 's/^/    /' "$work/serve.log"

step "Done: stopping the service and the emulator"
