"""certbot's --manual-auth-hook for the certificate test: sets the DNS-01
value through the stack's acme-dns endpoint with pyacmedns, a third-party
acme-dns client library, reading the account from the storage JSON that
`ddns-ctl client-config --format acme-dns-json` printed (ACME_DNS_STORAGE)
and posting to ACME_DNS_API_BASE. A test fixture, not part of the product.
"""

import os
import sys

from pyacmedns import Client, Storage

domain = os.environ["CERTBOT_DOMAIN"]
account = Storage(os.environ["ACME_DNS_STORAGE"]).fetch(domain)
if account is None:
    sys.exit(f"no acme-dns account for {domain} in {os.environ['ACME_DNS_STORAGE']}")
Client(os.environ["ACME_DNS_API_BASE"]).update_txt_record(account, os.environ["CERTBOT_VALIDATION"])
print(f"set the DNS-01 value of {domain} through acme-dns")
