"""A DNS server for tests that answers from a moto hosted zone: each query
reads the zone's record set of that name and type from moto's Route53, so an
ACME server pointed at it (pebble's -dnsserver) sees exactly what ddns-ctl
wrote. A test fixture, not part of the product. UDP and TCP on one port.

    python zone_dns.py ENDPOINT ZONE_ID READY_FILE

It binds 127.0.0.1 on a free port, writes the port to READY_FILE, and serves
until killed.
"""

import socket
import sys
import time

import boto3
from dnslib import QTYPE, RCODE, RR
from dnslib.dns import A, AAAA, CNAME, TXT
from dnslib.server import BaseResolver, DNSServer

endpoint, zone_id, ready = sys.argv[1:4]
route53 = boto3.client("route53", endpoint_url=endpoint, region_name="us-east-1",
                       aws_access_key_id="test", aws_secret_access_key="test")
zone_name = route53.get_hosted_zone(Id=zone_id)["HostedZone"]["Name"].lower()
RDATA = {"A": A, "AAAA": AAAA, "CNAME": CNAME}


class ZoneResolver(BaseResolver):
    def resolve(self, request, handler):
        reply = request.reply()
        qname = str(request.q.qname).lower()
        qtype = QTYPE.get(request.q.qtype)
        if not (qname == zone_name or qname.endswith("." + zone_name)):
            reply.header.rcode = RCODE.REFUSED
            return reply
        sets = route53.list_resource_record_sets(HostedZoneId=zone_id, StartRecordName=qname)["ResourceRecordSets"]
        named = [s for s in sets if s["Name"].lower() == qname]
        for s in named:
            if s["Type"] != qtype or "ResourceRecords" not in s:
                continue
            for record in s["ResourceRecords"]:
                value = record["Value"]
                rdata = TXT(value.strip('"')) if qtype == "TXT" else RDATA[qtype](value) if qtype in RDATA else None
                if rdata is not None:
                    reply.add_answer(RR(qname, request.q.qtype, rdata=rdata, ttl=s.get("TTL", 60)))
        if not named:
            reply.header.rcode = RCODE.NXDOMAIN
        return reply


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


port = free_port()
resolver = ZoneResolver()
for tcp in (False, True):
    DNSServer(resolver, address="127.0.0.1", port=port, tcp=tcp).start_thread()
with open(ready, "w") as f:
    f.write(str(port))
while True:
    time.sleep(3600)
