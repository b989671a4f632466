"""Benchmark of `ddns-ctl host list` with LAST SEEN against moto: for N hosts
that checked in every 5 minutes for a week (and changed address once a day),
the AWS calls it makes (moto's recorder) and its wall time.

The lines are the function's request lines in Lambda's JSON log format, as
handler/src/record.rs writes them, put into the stack's log group with
PutLogEvents. moto evaluates the Logs Insights query in Python
(scripts/moto_server.py), so the time is moto's, not CloudWatch's; the
call count is what carries over to AWS.

usage: host_list.py --binary DDNS_CTL [--hosts 1,100] [--days 7] [--runs 5] [--python PY]
"""

import argparse
import io
import json
import os
import statistics
import sys
import time
import zipfile

import boto3

from deploy import run
from service import Moto

ACCOUNT = "123456789012"
REGION = "us-east-1"


def line(host, result, old, new, request):
    fields = {"message": "request", "protocol": "dyndns2", "host": host, "result": result, "reason": "",
              "old": old, "new": new, "caller": new, "user_agent": "ddclient/3.11.2"}
    span = {"requestId": request, "xrayTraceId": "Root=1-5759e988-bd862e3fe1be46a994272793",
            "name": "Lambda runtime invoke"}
    return json.dumps({"level": "INFO", "fields": fields, "span": span, "spans": [span]}, separators=(",", ":"))


def week_of_lines(hosts, days, now_ms):
    """Every host every 5 minutes for `days`, a new address each day."""
    events = []
    step = 5 * 60 * 1000
    count = days * 24 * 12
    for i, host in enumerate(hosts):
        for n in range(count):
            at = now_ms - (count - n) * step - i * 997
            day = n // 288
            new = f"198.51.{100 + day % 50}.{i % 250 + 1}"
            old = f"198.51.{100 + (day - 1) % 50}.{i % 250 + 1}" if n % 288 == 0 else new
            result = "changed" if n % 288 == 0 else "unchanged"
            events.append({"timestamp": at, "message": line(host, result, old if result == "changed" else new, new,
                                                            f"r{i}-{n}")})
    events.sort(key=lambda e: e["timestamp"])
    return events


def fake_zip():
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as z:
        info = zipfile.ZipInfo("bootstrap")
        info.external_attr = 0o755 << 16
        z.writestr(info, b"\x7fELF not really")
    return buffer.getvalue()


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--binary", required=True)
    parser.add_argument("--hosts", default="1,100")
    parser.add_argument("--days", type=int, default=7)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--python", default=sys.executable)
    args = parser.parse_args()

    moto = Moto(args.python)
    session = boto3.Session(aws_access_key_id="bench", aws_secret_access_key="bench", region_name=REGION)
    client = lambda name: session.client(name, endpoint_url=moto.endpoint)
    route53, s3, logs = client("route53"), client("s3"), client("logs")
    zip_path = os.path.join(moto.dir.name, "bench-bootstrap.zip")
    with open(zip_path, "wb") as f:
        f.write(fake_zip())
    summary = {}
    try:
        for n in [int(x) for x in args.hosts.split(",")]:
            stack = f"list{n}"
            run(moto, args.binary, ["deploy", "--yes", "--handler-zip", zip_path], stack)
            zone = route53.create_hosted_zone(Name=f"{stack}.test", CallerReference=stack)["HostedZone"]
            zone_id = zone["Id"].split("/")[-1]
            hosts = [f"h{i}.{stack}.test" for i in range(n)]
            config = {h: {"aws_region": REGION, "route_53_zone_id": zone_id, "route_53_record_ttl": 60,
                          "route_53_record_type": "A", "shared_secret": "0123456789abcdef0123"} for h in hosts}
            bucket = f"ddns-ctl-{stack}-{ACCOUNT}-{REGION}"
            s3.put_object(Bucket=bucket, Key="config.json", Body=json.dumps(config).encode())
            group, stream = f"/aws/lambda/ddns-ctl-{stack}", "2026/12/01/[$LATEST]bench"
            logs.create_log_stream(logGroupName=group, logStreamName=stream)
            events = week_of_lines(hosts, args.days, int(time.time() * 1000))
            for start in range(0, len(events), 10_000):
                logs.put_log_events(logGroupName=group, logStreamName=stream, logEvents=events[start:start + 10_000])
            bytes_logged = sum(len(e["message"].encode()) for e in events)
            runs = [run(moto, args.binary, ["--output", "json", "host", "list"], stack) for _ in range(args.runs)]
            summary[f"{n}_hosts"] = {
                "lines": len(events),
                "bytes_logged": bytes_logged,
                "reads": runs[0]["reads"],
                "writes": runs[0]["writes"],
                "median_ms": round(statistics.median(r["ms"] for r in runs)),
            }
    finally:
        moto.stop()
    print(json.dumps(summary, indent=2))


if __name__ == "__main__":
    main()
