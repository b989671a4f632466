"""The demo's AWS side, on the emulator: what a user has before ddns-ctl (a
hosted zone with a record), and a look at a host's records.

usage: demo_aws.py zone ENDPOINT ZONE HOST     -> prints the zone id
       demo_aws.py show ENDPOINT ZONE_ID HOST
"""

import sys

import boto3
from botocore.config import Config


def clients(endpoint):
    common = dict(endpoint_url=endpoint, region_name="us-east-1",
                  aws_access_key_id="demo", aws_secret_access_key="demo")
    s3 = boto3.client("s3", config=Config(s3={"addressing_style": "path"}), **common)
    return s3, boto3.client("route53", **common)


def zone(endpoint, name, host):
    _, route53 = clients(endpoint)
    zone_id = route53.create_hosted_zone(Name=name, CallerReference=name)["HostedZone"]["Id"]
    zone_id = zone_id.split("/")[-1]
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
    {"zone": zone, "show": show}[command](*args)
