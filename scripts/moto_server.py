"""moto's server, with one fix so that it answers Route53 as AWS does.

moto wraps every record value of ListResourceRecordSets in CDATA. Route53
itself never does, and the Rust SDK's XML reader skips CDATA, so every value
would read as "" and every update would look like a change. This replaces the
CDATA with ordinary escaped text, then runs moto's own server unchanged.
Arguments are moto_server's (-H HOST -p PORT).
"""

import sys

import moto.route53.responses as route53_responses
from moto.server import main

CDATA_VALUE = "<![CDATA[{{ resource }}]]>"
if CDATA_VALUE not in route53_responses.LIST_RRSET_RESPONSE:
    sys.exit("scripts/moto_server.py: moto's Route53 template changed; review the CDATA fix")
route53_responses.LIST_RRSET_RESPONSE = route53_responses.LIST_RRSET_RESPONSE.replace(
    CDATA_VALUE, "{{ resource|e }}"
)

if __name__ == "__main__":
    sys.exit(main())
