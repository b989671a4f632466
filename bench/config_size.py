"""How the service's memory and request time grow with the config: peak RSS
of `ddns-ctl serve` (the same handler library as the Lambda function) and
the time of a dyndns2 update for the last host, cold (the config is fetched
and parsed) and warm (cached), at several host counts, against moto.

usage: config_size.py --binary RELEASE_DDNS_CTL [--hosts 1000,20000,100000] [--python PY]

Prints JSON; docs/performance.md and docs/operations.md record the figures.
"""

import argparse
import base64
import json
import os
import statistics
import subprocess
import sys
import time
import urllib.request

import boto3
from botocore.config import Config

from service import CREDS, Moto, free_port

ZONE = "size.example.test."


def config_of(n, zone_id):
    """n hosts as `host add` writes them: 43-character secrets, A records."""
    return {
        f"host{i:06d}.{ZONE}": {
            "aws_region": "us-east-1",
            "route_53_zone_id": zone_id,
            "route_53_record_ttl": 60,
            "route_53_record_type": "A",
            "shared_secret": base64.urlsafe_b64encode(os.urandom(32)).decode().rstrip("="),
            "allow_private_addresses": True,
        }
        for i in range(n)
    }


def update(base, host, secret):
    request = urllib.request.Request(f"{base}/nic/update?hostname={host}&myip=203.0.113.{7}")
    token = base64.b64encode(f"{host}:{secret}".encode()).decode()
    request.add_header("Authorization", f"Basic {token}")
    started = time.perf_counter()
    with urllib.request.urlopen(request, timeout=120) as response:
        body = response.read().decode()
    return time.perf_counter() - started, body


def peak_rss_kib(pid):
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmHWM:"):
                return int(line.split()[1])
    return 0


def measure(moto, binary, n):
    s3 = boto3.client("s3", endpoint_url=moto.endpoint, config=Config(s3={"addressing_style": "path"}), **CREDS)
    route53 = boto3.client("route53", endpoint_url=moto.endpoint, **CREDS)
    bucket = f"ddns-size-{n}"
    s3.create_bucket(Bucket=bucket)
    zone_id = route53.create_hosted_zone(Name=ZONE, CallerReference=f"size-{n}")["HostedZone"]["Id"].split("/")[-1]
    config = config_of(n, zone_id)
    body = json.dumps(config, indent=2).encode()
    s3.put_object(Bucket=bucket, Key="config.json", Body=body)
    last = list(config)[-1]
    secret = config[last]["shared_secret"]

    port = free_port()
    env = dict(os.environ, AWS_ACCESS_KEY_ID="bench", AWS_SECRET_ACCESS_KEY="bench", AWS_REGION="us-east-1",
               AWS_EC2_METADATA_DISABLED="true", RUST_LOG="warn")
    proc = subprocess.Popen(
        [binary, "--endpoint-url", moto.endpoint, "serve", "--listen", f"127.0.0.1:{port}", "--bucket", bucket,
         "--config-max-age", "3600"],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=env)
    base = f"http://127.0.0.1:{port}"
    try:
        while True:
            try:
                urllib.request.urlopen(f"{base}/myip").read()
                break
            except OSError:
                time.sleep(0.01)
        idle_rss = peak_rss_kib(proc.pid)
        cold, answer = update(base, last, secret)
        assert answer.startswith(("good", "nochg")), answer
        warm = statistics.median(update(base, last, secret)[0] for _ in range(20))
        return {
            "hosts": n,
            "config_bytes": len(body),
            "rss_idle_mib": round(idle_rss / 1024, 1),
            "rss_peak_mib": round(peak_rss_kib(proc.pid) / 1024, 1),
            "cold_update_ms": round(cold * 1000, 1),
            "warm_update_ms": round(warm * 1000, 2),
        }
    finally:
        proc.terminate()
        proc.wait()


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--binary", required=True)
    parser.add_argument("--hosts", default="1000,20000,100000")
    parser.add_argument("--python", default=sys.executable)
    args = parser.parse_args()
    moto = Moto(args.python)
    try:
        results = [measure(moto, args.binary, int(n)) for n in args.hosts.split(",")]
    finally:
        moto.stop()
    print(json.dumps(results, indent=2))


if __name__ == "__main__":
    main()
