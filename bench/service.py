"""Benchmark of the service against moto on loopback, with the seed's own
sequence of AWS calls replayed in the same run for comparison.

Run it with bench/run.sh. It measures:
- AWS calls per request, counted by moto's request recorder;
- warm latency per set over HTTP, median of many;
- process start to first answer (`mode=get`, no AWS call) and to first set;
- peak RSS of the service process;
- with --zip, the size of the arm64 Lambda zip (built by run.sh).

The seed replay builds its boto3 clients per request and downloads the config
(HeadObject + GetObject) every time, as the blog post's Lambda function did.
"""

import argparse
import hashlib
import json
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request

import boto3
from botocore.config import Config

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
HOST = "bench.dyn.example.test."
SECRET = "bench-secret-of-enough-length"
BUCKET = "ddns-bench-config"
CREDS = dict(region_name="us-east-1", aws_access_key_id="bench", aws_secret_access_key="bench")


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def http_get(url):
    with urllib.request.urlopen(url) as response:
        return response.read().decode()


def http_status(url):
    try:
        return http_get(url)
    except urllib.error.HTTPError as err:
        return err.read().decode()


class Moto:
    def __init__(self, python):
        self.port = free_port()
        self.endpoint = f"http://127.0.0.1:{self.port}"
        # Recorded request bodies hold the config's secrets: the recording
        # goes to a directory of this run's own, removed in stop(). moto
        # records only once start-recording is called (MOTO_ENABLE_RECORDING
        # is read as a truthy string, so it is never set).
        self.dir = tempfile.TemporaryDirectory(prefix="ddns-bench-moto-")
        recording = os.path.join(self.dir.name, "recording.jsonl")
        env = {k: v for k, v in os.environ.items() if k != "MOTO_ENABLE_RECORDING"}
        env["MOTO_RECORDER_FILEPATH"] = recording
        self.proc = subprocess.Popen(
            [python, os.path.join(ROOT, "scripts/moto_server.py"), "-H", "127.0.0.1", "-p", str(self.port)],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=env)
        deadline = time.time() + 60
        while True:
            try:
                http_get(f"{self.endpoint}/moto-api/data.json")
                break
            except OSError:
                if time.time() > deadline:
                    sys.exit("moto did not start")
                time.sleep(0.1)

    def api(self, path, method="POST"):
        request = urllib.request.Request(f"{self.endpoint}/moto-api/recorder/{path}", method=method)
        with urllib.request.urlopen(request) as response:
            return response.read().decode()

    def count_calls(self, action):
        """Runs action() with the recorder on; returns the AWS calls it made."""
        self.api("reset-recording")
        self.api("start-recording")
        action()
        self.api("stop-recording")
        lines = [json.loads(l) for l in self.api("download-recording", "GET").splitlines() if l.strip()]
        return len([l for l in lines if not l.get("url", "").startswith("/moto-api")])

    def stop(self):
        self.proc.terminate()
        self.proc.wait()
        self.dir.cleanup()


def clients(endpoint):
    s3 = boto3.client("s3", endpoint_url=endpoint, config=Config(s3={"addressing_style": "path"}), **CREDS)
    return s3, boto3.client("route53", endpoint_url=endpoint, **CREDS)


def setup(endpoint):
    s3, route53 = clients(endpoint)
    s3.create_bucket(Bucket=BUCKET)
    zone_id = route53.create_hosted_zone(Name="dyn.example.test.", CallerReference="bench")["HostedZone"]["Id"]
    zone_id = zone_id.split("/")[-1]
    config = {HOST: {"aws_region": "us-east-1", "route_53_zone_id": zone_id, "route_53_record_ttl": 60,
                     "route_53_record_type": "A", "shared_secret": SECRET, "allow_private_addresses": True}}
    s3.put_object(Bucket=BUCKET, Key="config.json", Body=json.dumps(config).encode())
    return zone_id


def set_record(route53, zone_id, value):
    route53.change_resource_record_sets(HostedZoneId=zone_id, ChangeBatch={"Changes": [{
        "Action": "UPSERT", "ResourceRecordSet": {
            "Name": HOST, "Type": "A", "TTL": 60, "ResourceRecords": [{"Value": value}]}}]})


def seed_set(endpoint, zone_id, source_ip):
    """The seed's calls for one mode=set, clients built per request."""
    s3 = boto3.client("s3", endpoint_url=endpoint, config=Config(s3={"addressing_style": "path"}), **CREDS)
    with tempfile.NamedTemporaryFile() as f:
        s3.download_file(BUCKET, "config.json", f.name)
        config = json.load(open(f.name))
    entry = config[HOST]
    expected = hashlib.sha256((source_ip + HOST + entry["shared_secret"]).encode()).hexdigest()
    assert expected
    route53 = boto3.client("route53", endpoint_url=endpoint, **CREDS)
    sets = route53.list_resource_record_sets(HostedZoneId=zone_id, StartRecordName=HOST,
                                             StartRecordType="A", MaxItems="2")["ResourceRecordSets"]
    current = next((s["ResourceRecords"][0]["Value"] for s in sets if s["Name"] == HOST), "0")
    if current != source_ip:
        set_record(route53, zone_id, source_ip)


class Service:
    def __init__(self, binary, endpoint):
        self.port = free_port()
        self.base = f"http://127.0.0.1:{self.port}"
        env = dict(os.environ, AWS_ACCESS_KEY_ID="bench", AWS_SECRET_ACCESS_KEY="bench", AWS_REGION="us-east-1",
                   AWS_EC2_METADATA_DISABLED="true", RUST_LOG="warn")
        self.started = time.perf_counter()
        self.proc = subprocess.Popen(
            [binary, "--endpoint-url", endpoint, "serve", "--listen", f"127.0.0.1:{self.port}", "--bucket", BUCKET],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=env)
        while True:
            try:
                http_get(f"{self.base}/?mode=get")
                break
            except OSError:
                time.sleep(0.001)
        self.first_answer = time.perf_counter() - self.started

    def set_url(self):
        digest = hashlib.sha256(("127.0.0.1" + HOST + SECRET).encode()).hexdigest()
        return f"{self.base}/?mode=set&hostname={HOST}&hash={digest}"

    def peak_rss_kib(self):
        with open(f"/proc/{self.proc.pid}/status") as f:
            for line in f:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1])
        return 0

    def stop(self):
        self.proc.terminate()
        self.proc.wait()


def median_ms(samples):
    return statistics.median(samples) * 1000


def timed(action, n, before=None):
    samples = []
    for _ in range(n):
        if before:
            before()
        t = time.perf_counter()
        action()
        samples.append(time.perf_counter() - t)
    return samples


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--binary", required=True, help="release ddns-ctl")
    parser.add_argument("--python", default=sys.executable, help="Python with moto")
    parser.add_argument("--zip", help="the arm64 Lambda zip, to report its size")
    parser.add_argument("-n", type=int, default=200, help="requests per latency sample")
    args = parser.parse_args()

    moto = Moto(args.python)
    try:
        zone_id = setup(moto.endpoint)
        _, route53 = clients(moto.endpoint)
        results = {}

        # Start-up: ten fresh processes, to first mode=get and to first set.
        starts, first_sets = [], []
        for _ in range(10):
            set_record(route53, zone_id, "198.51.100.1")
            service = Service(args.binary, moto.endpoint)
            starts.append(service.first_answer)
            t = time.perf_counter()
            assert "has been set" in http_get(service.set_url())
            first_sets.append(service.first_answer + time.perf_counter() - t)
            service.stop()
        results["start_to_first_get_ms"] = median_ms(starts)
        results["start_to_first_set_ms"] = median_ms(first_sets)

        service = Service(args.binary, moto.endpoint)
        set_url = service.set_url()
        http_get(set_url)  # warm: clients built, config cached

        def reset():
            set_record(route53, zone_id, "198.51.100.1")

        results["calls_get"] = moto.count_calls(lambda: http_get(f"{service.base}/?mode=get"))
        results["calls_set_unchanged"] = moto.count_calls(lambda: http_get(set_url))
        reset()
        results["calls_set_changed"] = moto.count_calls(lambda: http_get(set_url))
        reset()
        results["seed_calls_set_changed"] = moto.count_calls(lambda: seed_set(moto.endpoint, zone_id, "127.0.0.1"))
        results["seed_calls_set_unchanged"] = moto.count_calls(lambda: seed_set(moto.endpoint, zone_id, "127.0.0.1"))

        http_get(set_url)
        results["ours_set_unchanged_ms"] = median_ms(timed(lambda: http_get(set_url), args.n))
        results["ours_set_changed_ms"] = median_ms(timed(lambda: http_get(set_url), args.n // 4, reset))
        results["seed_set_unchanged_ms"] = median_ms(
            timed(lambda: seed_set(moto.endpoint, zone_id, "127.0.0.1"), args.n // 4))
        results["seed_set_changed_ms"] = median_ms(
            timed(lambda: seed_set(moto.endpoint, zone_id, "127.0.0.1"), args.n // 4, reset))
        results["ours_get_ms"] = median_ms(timed(lambda: http_get(f"{service.base}/?mode=get"), args.n))
        results["peak_rss_mib"] = service.peak_rss_kib() / 1024
        service.stop()
        if args.zip:
            results["zip_bytes"] = os.path.getsize(args.zip)
    finally:
        moto.stop()

    print(json.dumps(results, indent=2))


if __name__ == "__main__":
    main()
