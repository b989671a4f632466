"""The demo's AWS side, on the emulator: create a config bucket, a hosted zone
and a one-host config; print a host's records.

usage: demo_aws.py setup ENDPOINT BUCKET ZONE HOST SECRET   -> prints the zone id
       demo_aws.py show  ENDPOINT ZONE_ID HOST
"""

import json
import sys

import boto3
from botocore.config import Config


def clients(endpoint):
    common = dict(endpoint_url=endpoint, region_name="us-east-1",
                  aws_access_key_id="demo", aws_secret_access_key="demo")
    s3 = boto3.client("s3", config=Config(s3={"addressing_style": "path"}), **common)
    return s3, boto3.client("route53", **common)


def setup(endpoint, bucket, zone, host, secret):
    s3, route53 = clients(endpoint)
    s3.create_bucket(Bucket=bucket)
    s3.put_bucket_versioning(Bucket=bucket, VersioningConfiguration={"Status": "Enabled"})
    zone_id = route53.create_hosted_zone(Name=zone, CallerReference=bucket)["HostedZone"]["Id"]
    zone_id = zone_id.split("/")[-1]
    config = {host: {
        "aws_region": "us-east-1",
        "route_53_zone_id": zone_id,
        "route_53_record_ttl": 60,
        "route_53_record_type": "dual",
        "shared_secret": secret,
        # The demo's client is on loopback, which is never published otherwise.
        "allow_private_addresses": True,
    }}
    s3.put_object(Bucket=bucket, Key="config.json", Body=json.dumps(config, indent=2).encode())
    route53.change_resource_record_sets(HostedZoneId=zone_id, ChangeBatch={"Changes": [{
        "Action": "UPSERT",
        "ResourceRecordSet": {"Name": host, "Type": "A", "TTL": 60,
                              "ResourceRecords": [{"Value": "198.51.100.1"}]},
    }]})
    print(zone_id)


def show(endpoint, zone_id, host):
    _, route53 = clients(endpoint)
    sets = route53.list_resource_record_sets(HostedZoneId=zone_id)["ResourceRecordSets"]
    for rrset in sets:
        if rrset["Name"] == host and rrset["Type"] in ("A", "AAAA"):
            values = ", ".join(r["Value"] for r in rrset["ResourceRecords"])
            print(f"    {rrset['Name']:<28} {rrset['Type']:<5} TTL {rrset['TTL']:<4} {values}")


if __name__ == "__main__":
    command, args = sys.argv[1], sys.argv[2:]
    {"setup": setup, "show": show}[command](*args)
