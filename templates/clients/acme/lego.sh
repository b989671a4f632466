#!/bin/sh
# lego, with its acme-dns provider, for {{host}} and *.{{host}}: the DNS-01
# values go through the stack's acme-dns endpoint, so no AWS credentials are
# needed here. Run it with lego's own flags, e.g.
#   sh lego-{{host}}.sh --email you@example.com --accept-tos
# (add --server URL for another CA than Let's Encrypt).
set -eu
here=$(cd "$(dirname "$0")" && pwd)
# lego's acme-dns storage: the account, keyed by domain. It holds the key.
: "${ACME_DNS_STORAGE_PATH:=$here/acme-dns-{{host}}.json}"
export ACME_DNS_STORAGE_PATH
export ACME_DNS_API_BASE={{api_base:sh}}
(umask 077 && cat > "$ACME_DNS_STORAGE_PATH") <<'ACME_DNS_JSON'
{{storage}}
ACME_DNS_JSON
exec lego --dns acme-dns --domains {{host:sh}} --domains {{wildcard:sh}} "$@" run
