"""moto's server, with two fixes so that it answers as AWS does, then run
unchanged. Arguments are moto_server's (-H HOST -p PORT).

1. moto wraps every record value of ListResourceRecordSets in CDATA. Route53
   itself never does, and the Rust SDK's XML reader skips CDATA, so every value
   would read as "" and every update would look like a change. The CDATA
   becomes ordinary escaped text.

2. moto evaluates S3 bucket policies, but a statement whose condition it
   cannot check counts as met, and one whose condition fails counts as a
   denial even when its effect is Deny. The config bucket's policy denies
   requests whose `aws:SecureTransport` is false, so moto would deny every
   object request. moto here stands in for S3's HTTPS endpoint (the SDK always
   uses TLS against AWS), so statements whose `Bool`/`StringEquals`
   conditions do not hold for a TLS request are set aside before moto
   evaluates the rest.

3. moto's Route53 compiles its Jinja response template on every request,
   about 16 ms of the 21 ms a ListResourceRecordSets takes here. Compiled
   templates are cached, so Route53 latency on loopback reflects the call, not
   the emulator's template engine (benchmarks compare call counts).

4. moto's Lambda UpdateFunctionCode ignores `Architectures`, the only call
   that changes a function's architecture on AWS. It is applied.

5. moto's API Gateway keeps a REST API's `endpointConfiguration` as sent, so
   an API created without `ipAddressType` reads back without one; AWS answers
   `ipv4`, its default for REGIONAL and EDGE APIs. And UpdateRestApi with
   `replace /endpointConfiguration/ipAddressType` overwrites moto's endpoint
   *types* with the value (`["dualstack"]`); AWS changes the IP address type
   and keeps the type. Both are answered as AWS does.
"""

import json
import sys
from functools import lru_cache

import moto.apigateway.models as apigateway_models
import moto.awslambda.models as lambda_models
import moto.route53.responses as route53_responses
import moto.s3.models as s3_models
from moto.iam.access_control import IAMPolicy, PermissionResult
from moto.server import main

CDATA_VALUE = "<![CDATA[{{ resource }}]]>"
if CDATA_VALUE not in route53_responses.LIST_RRSET_RESPONSE:
    sys.exit("scripts/moto_server.py: moto's Route53 template changed; review the CDATA fix")
route53_responses.LIST_RRSET_RESPONSE = route53_responses.LIST_RRSET_RESPONSE.replace(
    CDATA_VALUE, "{{ resource|e }}"
)



# What AWS would know about every request the SDK sends to S3.
REQUEST_CONTEXT = {"aws:securetransport": "true"}


def condition_holds(statement):
    for operator, pairs in (statement.get("Condition") or {}).items():
        if operator not in ("Bool", "StringEquals"):
            continue
        for key, expected in pairs.items():
            actual = REQUEST_CONTEXT.get(key.lower())
            wanted = expected if isinstance(expected, list) else [expected]
            if actual is not None and actual not in [str(w).lower() for w in wanted]:
                return False
    return True


def get_permission(bucket, action, resource):
    if bucket.policy is None:
        return PermissionResult.NEUTRAL
    policy = json.loads(bucket.policy.decode())
    statements = policy["Statement"] if isinstance(policy["Statement"], list) else [policy["Statement"]]
    kept = [{k: v for k, v in s.items() if k != "Condition"} for s in statements if condition_holds(s)]
    if not kept:
        return PermissionResult.NEUTRAL
    return IAMPolicy(json.dumps(dict(policy, Statement=kept))).is_action_permitted(action, resource)


s3_models.FakeBucket.get_permission = get_permission
route53_responses.Template = lru_cache(maxsize=None)(route53_responses.Template)

_update_function_code = lambda_models.LambdaFunction.update_function_code


def update_function_code(function, spec):
    if spec.get("Architectures"):
        function.architectures = spec["Architectures"]
    return _update_function_code(function, spec)


lambda_models.LambdaFunction.update_function_code = update_function_code

IP_ADDRESS_TYPE_PATH = "/endpointConfiguration/ipAddressType"
_rest_api_init = apigateway_models.RestAPI.__init__
_rest_api_patch = apigateway_models.RestAPI.apply_patch_operations


def rest_api_init(api, *args, **kwargs):
    _rest_api_init(api, *args, **kwargs)
    api.endpoint_configuration = dict(api.endpoint_configuration)
    api.endpoint_configuration.setdefault("ipAddressType", "ipv4")


def rest_api_patch(api, operations):
    rest = []
    for op in operations:
        if op.get("op") == "replace" and op.get("path") == IP_ADDRESS_TYPE_PATH:
            api.endpoint_configuration["ipAddressType"] = op.get("value")
        else:
            rest.append(op)
    return _rest_api_patch(api, rest)


apigateway_models.RestAPI.__init__ = rest_api_init
apigateway_models.RestAPI.apply_patch_operations = rest_api_patch

if __name__ == "__main__":
    sys.exit(main())
