#!/bin/sh
# certbot with the certbot-dns-acmedns plugin (pip install
# certbot-dns-acmedns), for {{host}} and *.{{host}}. Writes the plugin's
# credentials and registration files (mode 600; they hold the key), then
# runs certbot with your flags, e.g. `sh certbot-{{host}}.sh --email
# you@example.com --agree-tos`.
set -eu
dir=${CERTBOT_ACMEDNS_DIR:-/etc/letsencrypt}
umask 077
mkdir -p "$dir"
cat > "$dir/acmedns-{{host}}.json" <<'ACME_DNS_JSON'
{{storage}}
ACME_DNS_JSON
cat > "$dir/acmedns-{{host}}.ini" <<EOF_INI
dns_acmedns_api_url = {{api_base}}
dns_acmedns_registration_file = $dir/acmedns-{{host}}.json
EOF_INI
exec certbot certonly --authenticator dns-acmedns \
    --dns-acmedns-credentials "$dir/acmedns-{{host}}.ini" \
    --preferred-challenges dns -d {{host:sh}} -d {{wildcard:sh}} "$@"
