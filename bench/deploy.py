"""Benchmark of `ddns-ctl deploy`, a no-op redeploy and `teardown` against
moto: AWS calls (reads and writes, from moto's recorder) and wall time.

Where the code comes from (--code):
  zip       --handler-zip ZIP, so no build is part of the figures (default)
  embedded  the package BINARY carries (a scripts/dist.sh binary)
  build     --build-handler: BINARY builds the handler from its checkout with
            cargo-lambda, as a build from source does; the cache is warm
            after the first run, so the median is a no-change build

With --domain, every deploy has `--domain ddnsN.bench-domain.test` in a
hosted zone the benchmark makes; moto issues the certificate as soon as its
validation record is in the zone (MOTO_ACM_VALIDATION_WAIT=0), so the figures
leave out ACM's wait, which on AWS is a minute or two.

usage: deploy.py --binary DDNS_CTL [--code zip --zip ZIP | --code embedded | --code build]
                 [--domain] [--runs N] [--python PY]
"""

import argparse
import base64
import json
import os
import statistics
import subprocess
import sys
import time

from service import Moto


def classify(call):
    body = call.get("body") or ""
    if call.get("body_encoded"):
        body = base64.b64decode(body).decode(errors="replace")
    # Query-protocol services (IAM, STS) name the action in the body,
    # JSON-protocol ones (CloudWatch Logs) in X-Amz-Target.
    action = next((p[len("Action="):] for p in body.split("&") if p.startswith("Action=")), None)
    target = next((v for k, v in (call.get("headers") or {}).items() if k.lower() == "x-amz-target"), None)
    action = action or (target.rsplit(".", 1)[-1] if target else None)
    if action:
        return "read" if action.startswith(("Get", "List", "Describe")) else "write"
    return "read" if call["method"] in ("GET", "HEAD") else "write"


def recorded(moto):
    lines = [json.loads(l) for l in moto.api("download-recording", "GET").splitlines() if l.strip()]
    calls = [classify(l) for l in lines if "/moto-api/" not in l.get("url", "")]
    return {"reads": calls.count("read"), "writes": calls.count("write")}


def run(moto, binary, args, stack):
    env = dict(os.environ, AWS_ACCESS_KEY_ID="bench", AWS_SECRET_ACCESS_KEY="bench", AWS_REGION="us-east-1",
               AWS_ENDPOINT_URL=moto.endpoint, AWS_EC2_METADATA_DISABLED="true")
    moto.api("reset-recording")
    moto.api("start-recording")
    started = time.perf_counter()
    subprocess.run([binary, "-q", "--name", stack] + args, env=env, check=True, stdout=subprocess.DEVNULL)
    elapsed = time.perf_counter() - started
    moto.api("stop-recording")
    return dict(recorded(moto), ms=elapsed * 1000)


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--binary", required=True)
    parser.add_argument("--zip")
    parser.add_argument("--code", choices=["zip", "embedded", "build"], default="zip")
    parser.add_argument("--python", default=sys.executable)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--domain", action="store_true")
    args = parser.parse_args()
    if args.code == "zip" and not args.zip:
        parser.error("--code zip needs --zip")
    code = {"zip": ["--handler-zip", args.zip or ""], "embedded": [], "build": ["--build-handler"]}[args.code]

    os.environ["MOTO_ACM_VALIDATION_WAIT"] = "0"
    moto = Moto(args.python)
    if args.domain:
        import boto3
        boto3.client("route53", endpoint_url=moto.endpoint, region_name="us-east-1",
                     aws_access_key_id="bench", aws_secret_access_key="bench").create_hosted_zone(
            Name="bench-domain.test.", CallerReference="bench")
    results = {"fresh": [], "noop": [], "dry_run_unbuilt": [], "teardown": []}
    try:
        for i in range(args.runs):
            stack = f"bench{i}"
            deploy = ["deploy", "--yes"] + code
            domain = ["--domain", f"ddns{i}.bench-domain.test"] if args.domain else []
            results["fresh"].append(run(moto, args.binary, deploy + domain, stack))
            results["noop"].append(run(moto, args.binary, deploy, stack))
            # No --handler-zip: the plan says the code will be rebuilt and
            # compared, and nothing is built.
            results["dry_run_unbuilt"].append(run(moto, args.binary, ["deploy", "--dry-run"], stack))
            results["teardown"].append(run(moto, args.binary, ["teardown", "--yes"], stack))
    finally:
        moto.stop()
    summary = {}
    for phase, runs in results.items():
        summary[phase] = {
            "reads": runs[0]["reads"],
            "writes": runs[0]["writes"],
            "median_ms": statistics.median(r["ms"] for r in runs),
            "first_ms": runs[0]["ms"],
        }
    summary["code"] = args.code
    summary["domain"] = args.domain
    if args.zip:
        summary["zip_bytes"] = os.path.getsize(args.zip)
    print(json.dumps(summary, indent=2))


if __name__ == "__main__":
    main()
