"""Tests of scripts/moto_server.py's fixes for `deploy --domain` (13 to 22 in
its docstring: Route53 change batches, ACM validation and certificates in use,
API Gateway domain names, their tags and base path mappings, and pages),
against the patched server started on a free loopback port.

    ~/.cache/ddns-ctl/venv/bin/python scripts/test_moto_domain.py
"""

import itertools
import os
import socket
import subprocess
import sys
import time
import unittest

import boto3
from botocore.exceptions import ClientError

SERVER = os.path.join(os.path.dirname(os.path.abspath(__file__)), "moto_server.py")
REGION = "us-east-1"
ZONE_OF_REGIONAL_APIS = "Z1UJRXOUMOOFQ8"  # API Gateway's regional endpoints in us-east-1
_ids = itertools.count(1)


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def record(action, name, type_, values=None, ttl=300, alias=None):
    rrset = {"Name": name, "Type": type_}
    if alias:
        rrset["AliasTarget"] = alias
    else:
        rrset.update(TTL=ttl, ResourceRecords=[{"Value": v} for v in values])
    return {"Action": action, "ResourceRecordSet": rrset}


class PatchedDomain(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        port = free_port()
        # Issued as soon as the validation CNAME is there (patch 15 still
        # requires it).
        env = dict(os.environ, MOTO_ACM_VALIDATION_WAIT="0")
        cls.server = subprocess.Popen(
            [sys.executable, SERVER, "-H", "127.0.0.1", "-p", str(port)],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=env,
        )
        deadline = time.monotonic() + 30
        while True:
            try:
                socket.create_connection(("127.0.0.1", port), timeout=1).close()
                break
            except OSError:
                if cls.server.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError("the patched moto server did not start")
                time.sleep(0.1)
        kw = dict(region_name=REGION, endpoint_url=f"http://127.0.0.1:{port}",
                  aws_access_key_id="test", aws_secret_access_key="test")
        cls.r53, cls.acm, cls.apigw = (boto3.client(s, **kw) for s in ("route53", "acm", "apigateway"))
        api = cls.apigw.create_rest_api(name="ddns", endpointConfiguration={"types": ["REGIONAL"]})["id"]
        root = cls.apigw.get_resources(restApiId=api)["items"][0]["id"]
        cls.apigw.put_method(restApiId=api, resourceId=root, httpMethod="GET", authorizationType="NONE")
        cls.apigw.put_integration(restApiId=api, resourceId=root, httpMethod="GET", type="MOCK")
        cls.apigw.create_deployment(restApiId=api, stageName="live")
        cls.apigw.create_deployment(restApiId=api, stageName="next")
        cls.api = api

    @classmethod
    def tearDownClass(cls):
        cls.server.terminate()
        cls.server.wait(timeout=10)

    def setUp(self):
        self.zone_name = f"t{next(_ids)}.example.com"
        self.zone = self.r53.create_hosted_zone(Name=self.zone_name, CallerReference=self.zone_name)["HostedZone"]["Id"]

    # helpers

    def change(self, *changes):
        return self.r53.change_resource_record_sets(HostedZoneId=self.zone, ChangeBatch={"Changes": list(changes)})

    def refused(self, code, call, *args, **kwargs):
        with self.assertRaises(ClientError) as caught:
            call(*args, **kwargs)
        self.assertEqual(caught.exception.response["Error"]["Code"], code, caught.exception.response["Error"])
        return caught.exception.response["Error"]["Message"]

    def records(self, name=None):
        sets = self.r53.list_resource_record_sets(HostedZoneId=self.zone)["ResourceRecordSets"]
        return [s for s in sets if s["Type"] not in ("NS", "SOA") and (name is None or s["Name"] == name)]

    def certificate(self, name):
        arn = self.acm.request_certificate(DomainName=name, ValidationMethod="DNS", IdempotencyToken=f"t{next(_ids)}")
        return arn["CertificateArn"]

    def validation_record(self, arn):
        option, = self.acm.describe_certificate(CertificateArn=arn)["Certificate"]["DomainValidationOptions"]
        return option["ResourceRecord"]

    def issued(self, name):
        arn = self.certificate(name)
        rr = self.validation_record(arn)
        # UPSERT: certificates of one name share their validation CNAME, as on AWS.
        self.change(record("UPSERT", rr["Name"], rr["Type"], [rr["Value"]]))
        self.assertEqual(self.acm.describe_certificate(CertificateArn=arn)["Certificate"]["Status"], "ISSUED")
        return arn

    def domain(self, name=None, arn=None, **kwargs):
        name = name or f"api.{self.zone_name}"
        kwargs.setdefault("endpointConfiguration", {"types": ["REGIONAL"], "ipAddressType": "dualstack"})
        return self.apigw.create_domain_name(
            domainName=name, regionalCertificateArn=arn or self.issued(name), securityPolicy="TLS_1_2", **kwargs
        )

    # 13. Route53 change batches

    def test_create_of_an_existing_record_set_is_refused_whatever_its_values(self):
        name = f"home.{self.zone_name}"
        self.change(record("CREATE", name, "A", ["192.0.2.1"]))
        message = self.refused("InvalidChangeBatch", self.change, record("CREATE", name, "A", ["192.0.2.2"]))
        self.assertEqual(message, f"Tried to create resource record set [name='{name}.', type='A'] but it already exists")
        self.assertEqual(len(self.records(name + ".")), 1)
        self.change(record("UPSERT", name, "A", ["192.0.2.2"]))
        self.assertEqual(self.records(name + ".")[0]["ResourceRecords"], [{"Value": "192.0.2.2"}])

    def test_delete_needs_the_current_values(self):
        name = f"home.{self.zone_name}"
        self.change(record("CREATE", name, "A", ["192.0.2.1", "192.0.2.3"]))
        mismatch = f"Tried to delete resource record set [name='{name}.', type='A'] but the values provided do not match the current values"
        for wrong in (record("DELETE", name, "A", ["192.0.2.1"]), record("DELETE", name, "A", ["192.0.2.1", "192.0.2.3"], ttl=60)):
            with self.subTest(wrong=wrong):
                self.assertEqual(self.refused("InvalidChangeBatch", self.change, wrong), mismatch)
        self.assertEqual(len(self.records(name + ".")), 1)
        self.change(record("DELETE", name.upper() + ".", "A", ["192.0.2.3", "192.0.2.1"]))  # order and case do not matter
        self.assertEqual(self.records(name + "."), [])

    def test_delete_of_a_missing_record_set_is_refused(self):
        name = f"gone.{self.zone_name}"
        self.change(record("CREATE", name, "A", ["192.0.2.1"]))
        self.change(record("DELETE", name, "A", ["192.0.2.1"]))
        message = self.refused("InvalidChangeBatch", self.change, record("DELETE", name, "A", ["192.0.2.1"]))
        self.assertEqual(message, f"Tried to delete resource record set [name='{name}.', type='A'] but it was not found")

    def test_a_cname_shares_its_name_with_no_other_record(self):
        name, other = f"home.{self.zone_name}", f"cname.{self.zone_name}"
        self.change(record("CREATE", name, "TXT", ['"x"']), record("CREATE", other, "CNAME", ["example.net"]))
        message = self.refused("InvalidChangeBatch", self.change, record("CREATE", name, "CNAME", ["example.net"]))
        self.assertEqual(message, f"RRSet of type CNAME with DNS name {name}. is not permitted as it conflicts with "
                                  f"other records with the same DNS name in zone {self.zone_name}.")
        message = self.refused("InvalidChangeBatch", self.change, record("UPSERT", other, "A", ["192.0.2.1"]))
        self.assertEqual(message, f"RRSet of type A with DNS name {other}. is not permitted because a conflicting "
                                  f"RRSet of type CNAME with the same DNS name already exists in zone {self.zone_name}.")
        self.refused("InvalidChangeBatch", self.change, record("CREATE", self.zone_name, "CNAME", ["example.net"]))
        # Replacing the CNAME in the same batch is allowed.
        self.change(record("DELETE", other, "CNAME", ["example.net"]), record("CREATE", other, "A", ["192.0.2.1"]))
        self.assertEqual([s["Type"] for s in self.records(other + ".")], ["A"])

    def test_a_change_batch_is_all_or_nothing(self):
        name = f"new.{self.zone_name}"
        self.refused("InvalidChangeBatch", self.change, record("CREATE", name, "A", ["192.0.2.1"]),
                     record("CREATE", name, "A", ["192.0.2.2"]))
        self.assertEqual(self.records(name + "."), [])

    def test_alias_targets_read_back_in_lower_case_with_a_final_dot(self):
        name = f"api.{self.zone_name}"
        target = {"HostedZoneId": ZONE_OF_REGIONAL_APIS, "DNSName": "D-Abc123.execute-api.us-east-1.amazonaws.com",
                  "EvaluateTargetHealth": False}
        self.change(record("CREATE", name, "A", alias=target), record("CREATE", name, "AAAA", alias=target))
        listed = self.records(name + ".")
        self.assertEqual([s["Type"] for s in listed], ["A", "AAAA"])
        for s in listed:
            self.assertEqual(s["AliasTarget"], {"HostedZoneId": ZONE_OF_REGIONAL_APIS, "EvaluateTargetHealth": False,
                                                "DNSName": "d-abc123.execute-api.us-east-1.amazonaws.com."})
            self.assertNotIn("TTL", s)
        other = dict(target, DNSName="d-zzz.execute-api.us-east-1.amazonaws.com")
        self.refused("InvalidChangeBatch", self.change, record("DELETE", name, "A", alias=other))
        self.change(record("DELETE", name, "A", alias=target), record("DELETE", name, "AAAA", alias=listed[1]["AliasTarget"]))
        self.assertEqual(self.records(name + "."), [])

    # 14 and 15. ACM

    def test_a_certificate_is_issued_once_its_validation_cname_is_in_a_zone(self):
        name = f"api.{self.zone_name}"
        arn = self.certificate(name)
        time.sleep(0.1)
        cert = self.acm.describe_certificate(CertificateArn=arn)["Certificate"]
        self.assertEqual(cert["Status"], "PENDING_VALIDATION")
        option, = cert["DomainValidationOptions"]
        self.assertEqual(option["ValidationStatus"], "PENDING_VALIDATION")
        rr = option["ResourceRecord"]
        self.assertEqual((rr["Type"], rr["Name"].endswith(f".{name}.")), ("CNAME", True))
        self.assertEqual(self.acm.list_certificates(CertificateStatuses=["ISSUED"])["CertificateSummaryList"], [])
        self.change(record("CREATE", rr["Name"], "CNAME", [rr["Value"]]))
        cert = self.acm.describe_certificate(CertificateArn=arn)["Certificate"]
        self.assertEqual((cert["Status"], cert["DomainValidationOptions"][0]["ValidationStatus"]), ("ISSUED", "SUCCESS"))

    def test_a_certificate_in_use_is_not_deleted(self):
        name = f"api.{self.zone_name}"
        arn = self.issued(name)
        self.domain(name, arn)
        in_use = self.acm.describe_certificate(CertificateArn=arn)["Certificate"]["InUseBy"]
        self.assertEqual(in_use, [f"arn:aws:apigateway:{REGION}::/domainnames/{name}"])
        message = self.refused("ResourceInUseException", self.acm.delete_certificate, CertificateArn=arn)
        self.assertEqual(message, f"Certificate {arn} in account 123456789012 is in use.")
        self.apigw.delete_domain_name(domainName=name)
        self.assertEqual(self.acm.describe_certificate(CertificateArn=arn)["Certificate"]["InUseBy"], [])
        self.acm.delete_certificate(CertificateArn=arn)

    # 16. CreateDomainName

    def test_a_domain_name_needs_an_issued_certificate_of_its_region(self):
        name = f"api.{self.zone_name}"
        pending = self.certificate(name)
        for arn in (pending, pending[:-4] + "0000", pending.replace(REGION, "eu-west-1")):
            with self.subTest(arn=arn):
                self.refused("BadRequestException", self.domain, name, arn)
        self.refused("NotFoundException", self.apigw.get_domain_name, domainName=name)

    def test_a_domain_name_is_created_once(self):
        created = self.domain()
        self.refused("BadRequestException", self.domain, created["domainName"], created["regionalCertificateArn"])

    def test_a_domain_name_answers_its_regional_endpoint(self):
        created = self.domain(tags={"ddns-ctl:stack": "s1"})
        name = created["domainName"]
        for got in (created, self.apigw.get_domain_name(domainName=name)):
            self.assertEqual(got["regionalHostedZoneId"], ZONE_OF_REGIONAL_APIS)
            self.assertRegex(got["regionalDomainName"], r"^d-[a-z0-9]+\.execute-api\.us-east-1\.amazonaws\.com$")
            self.assertEqual(got["endpointConfiguration"], {"types": ["REGIONAL"], "ipAddressType": "dualstack"})
            self.assertEqual((got["securityPolicy"], got["tags"]), ("TLS_1_2", {"ddns-ctl:stack": "s1"}))
        ipv4 = self.domain(f"v4.{self.zone_name}", endpointConfiguration={"types": ["REGIONAL"]})
        self.assertEqual(ipv4["endpointConfiguration"], {"types": ["REGIONAL"], "ipAddressType": "ipv4"})

    # 17. UpdateDomainName

    def test_update_domain_name(self):
        created = self.domain(endpointConfiguration={"types": ["REGIONAL"]})
        name, old = created["domainName"], created["regionalCertificateArn"]
        new = self.issued(name)
        ops = [{"op": "replace", "path": "/regionalCertificateArn", "value": new},
               {"op": "replace", "path": "/securityPolicy", "value": "TLS_1_2"},
               {"op": "replace", "path": "/endpointConfiguration/ipAddressType", "value": "dualstack"}]
        updated = self.apigw.update_domain_name(domainName=name, patchOperations=ops)
        self.assertEqual(updated["regionalCertificateArn"], new)
        self.assertEqual(updated["endpointConfiguration"], {"types": ["REGIONAL"], "ipAddressType": "dualstack"})
        self.assertEqual(self.apigw.get_domain_name(domainName=name)["regionalCertificateArn"], new)
        self.assertEqual(self.acm.describe_certificate(CertificateArn=old)["Certificate"]["InUseBy"], [])
        self.assertEqual(len(self.acm.describe_certificate(CertificateArn=new)["Certificate"]["InUseBy"]), 1)
        pending = self.certificate(f"other.{self.zone_name}")  # no validation CNAME yet
        self.refused("BadRequestException", self.apigw.update_domain_name, domainName=name,
                     patchOperations=[{"op": "replace", "path": "/regionalCertificateArn", "value": pending}])
        self.refused("BadRequestException", self.apigw.update_domain_name, domainName=name,
                     patchOperations=[{"op": "replace", "path": "/domainName", "value": "x"}])
        self.refused("NotFoundException", self.apigw.update_domain_name, domainName=f"no.{self.zone_name}",
                     patchOperations=ops[1:])

    # 18. Tags of a domain name

    def test_tags_of_a_domain_name(self):
        name = self.domain(tags={"a": "1"})["domainName"]
        arn = f"arn:aws:apigateway:{REGION}::/domainnames/{name}"
        self.assertEqual(self.apigw.get_tags(resourceArn=arn)["tags"], {"a": "1"})
        self.apigw.tag_resource(resourceArn=arn, tags={"b": "2"})
        self.apigw.untag_resource(resourceArn=arn, tagKeys=["a"])
        self.assertEqual(self.apigw.get_tags(resourceArn=arn)["tags"], {"b": "2"})
        self.refused("NotFoundException", self.apigw.get_tags, resourceArn=arn.replace(name, "no." + name))

    # 19. Base path mappings

    def test_the_empty_base_path_mapping(self):
        name = self.domain()["domainName"]
        self.assertEqual(self.apigw.get_base_path_mappings(domainName=name).get("items", []), [])
        self.refused("NotFoundException", self.apigw.get_base_path_mapping, domainName=name, basePath="(none)")
        made = self.apigw.create_base_path_mapping(domainName=name, restApiId=self.api, stage="live")
        self.assertEqual({k: made[k] for k in ("basePath", "restApiId", "stage")},
                         {"basePath": "(none)", "restApiId": self.api, "stage": "live"})
        message = self.refused("ConflictException", self.apigw.create_base_path_mapping,
                               domainName=name, restApiId=self.api, stage="next")
        self.assertEqual(message, "Base path already exists for this domain name")
        self.refused("BadRequestException", self.apigw.update_base_path_mapping, domainName=name, basePath="(none)",
                     patchOperations=[{"op": "replace", "path": "/stage", "value": "nope"}])
        self.apigw.update_base_path_mapping(domainName=name, basePath="(none)", patchOperations=[
            {"op": "replace", "path": "/restapiId", "value": self.api}, {"op": "replace", "path": "/stage", "value": "next"}])
        self.assertEqual(self.apigw.get_base_path_mappings(domainName=name)["items"],
                         [{"basePath": "(none)", "restApiId": self.api, "stage": "next"}])
        self.apigw.delete_base_path_mapping(domainName=name, basePath="(none)")
        self.assertEqual(self.apigw.get_base_path_mappings(domainName=name).get("items", []), [])

    def test_a_domain_name_is_deleted_with_its_mappings(self):
        created = self.domain()
        name = created["domainName"]
        self.apigw.create_base_path_mapping(domainName=name, restApiId=self.api, stage="live")
        self.apigw.delete_domain_name(domainName=name)
        self.domain(name, created["regionalCertificateArn"])
        self.assertEqual(self.apigw.get_base_path_mappings(domainName=name).get("items", []), [])

    # 20. Pages

    def test_pages_of_certificates_and_domain_names(self):
        for i in range(3):
            self.domain(f"p{i}.{self.zone_name}")
        arns, token, pages = [], None, 0
        while True:
            out = self.acm.list_certificates(CertificateStatuses=["ISSUED"], MaxItems=2, **({"NextToken": token} if token else {}))
            self.assertLessEqual(len(out["CertificateSummaryList"]), 2)
            arns += [c["CertificateArn"] for c in out["CertificateSummaryList"]]
            pages, token = pages + 1, out.get("NextToken")
            if not token:
                break
        self.assertGreater(pages, 1)
        self.assertEqual(len(arns), len(set(arns)))
        names, position = [], None
        while True:
            out = self.apigw.get_domain_names(limit=2, **({"position": position} if position else {}))
            self.assertLessEqual(len(out["items"]), 2)
            names += [d["domainName"] for d in out["items"]]
            position = out.get("position")
            if not position:
                break
        self.assertTrue({f"p{i}.{self.zone_name}" for i in range(3)} <= set(names))
        self.assertEqual(len(names), len(set(names)))

    # 21. The execute-api URL

    def test_disable_execute_api_endpoint_reads_the_text(self):
        api = self.apigw.create_rest_api(name="x", endpointConfiguration={"types": ["REGIONAL"]})["id"]
        patch = lambda value: self.apigw.update_rest_api(
            restApiId=api, patchOperations=[{"op": "replace", "path": "/disableExecuteApiEndpoint", "value": value}]
        )
        self.assertTrue(patch("true")["disableExecuteApiEndpoint"])
        self.assertFalse(patch("false")["disableExecuteApiEndpoint"])
        self.assertFalse(self.apigw.get_rest_api(restApiId=api)["disableExecuteApiEndpoint"])
        self.refused("BadRequestException", patch, "maybe")

    # 22. A deployment to a stage that exists

    def test_a_new_deployment_keeps_the_stage_s_settings(self):
        stage = dict(restApiId=self.api, stageName="next")
        self.apigw.update_stage(**stage, patchOperations=[
            {"op": "replace", "path": "/*/*/throttling/rateLimit", "value": "7"},
        ])
        before = self.apigw.get_stage(**stage)
        deployment = self.apigw.create_deployment(**stage)["id"]
        after = self.apigw.get_stage(**stage)
        self.assertEqual(after["deploymentId"], deployment)
        self.assertNotEqual(before["deploymentId"], deployment)
        self.assertEqual(after["methodSettings"]["*/*"]["throttlingRateLimit"], 7.0)


if __name__ == "__main__":
    unittest.main()
