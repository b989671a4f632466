//! acme-dns accounts, made by the owner: a username and a subdomain (both
//! random UUIDs) and a key of 40 characters from the OS CSPRNG, of which
//! the config keeps only the SHA-256. What an account looks like to its
//! clients: acme-dns's account storage JSON, keyed by domain.

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use ddns_handler::config::{ACME_CHALLENGE, AcmeAccount};
use serde_json::{Value, json};
use sha2::{Digest as _, Sha256};

/// A random UUID (version 4) from the OS CSPRNG.
fn uuid() -> Result<String, getrandom::Error> {
    let mut b = [0u8; 16];
    getrandom::fill(&mut b)?;
    b[6] = (b[6] & 0x0f) | 0x40;
    b[8] = (b[8] & 0x3f) | 0x80;
    let hex: String = b.iter().map(|x| format!("{x:02x}")).collect();
    Ok(format!(
        "{}-{}-{}-{}-{}",
        &hex[0..8],
        &hex[8..12],
        &hex[12..16],
        &hex[16..20],
        &hex[20..32]
    ))
}

/// A new key: 30 random bytes, 40 characters of URL-safe base64.
pub fn key() -> Result<String, getrandom::Error> {
    let mut bytes = [0u8; 30];
    getrandom::fill(&mut bytes)?;
    Ok(URL_SAFE_NO_PAD.encode(bytes))
}

/// The SHA-256 the config keeps of `key`, lower-case hex.
pub fn key_sha256(key: &str) -> String {
    Sha256::digest(key.as_bytes())
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// A new account allowed from `allow_from` (empty: anywhere), and its key.
pub fn new_account(allow_from: Vec<String>) -> Result<(AcmeAccount, String), getrandom::Error> {
    let key = key()?;
    let account = AcmeAccount {
        username: uuid()?,
        key_sha256: key_sha256(&key),
        subdomain: uuid()?,
        allow_from,
        extra: Default::default(),
    };
    Ok((account, key))
}

/// The name whose TXT record the account sets: `_acme-challenge.HOST`.
pub fn fulldomain(host: &str) -> String {
    format!("{ACME_CHALLENGE}.{}", host.trim_end_matches('.'))
}

/// The base URL acme-dns clients take: the endpoint's `acme-dns` below it.
pub fn server(endpoint: &str) -> String {
    format!("{}/acme-dns", endpoint.trim_end_matches('/'))
}

/// acme-dns's account storage JSON (what lego's `ACME_DNS_STORAGE_PATH`,
/// certbot-dns-acmedns, pyacmedns and acme-dns-client read), keyed by the
/// host and its wildcard, both the same account.
pub fn storage(host: &str, account: &AcmeAccount, key: &str, endpoint: &str) -> Value {
    let host = host.trim_end_matches('.');
    let entry = json!({
        "username": account.username,
        "password": key,
        "fulldomain": fulldomain(host),
        "subdomain": account.subdomain,
        "allowfrom": account.allow_from,
        "server_url": server(endpoint),
    });
    json!({ host: entry, format!("*.{host}"): entry })
}

/// `--acme-allow-from`: a CIDR (an address alone is one address).
pub fn cidr(text: &str) -> Result<String, String> {
    if let Ok(net) = text.parse::<ipnet::IpNet>() {
        return Ok(net.to_string());
    }
    match text.parse::<std::net::IpAddr>() {
        Ok(ip) => Ok(ipnet::IpNet::from(ip).to_string()),
        Err(_) => Err(format!("{text} is not a CIDR such as 192.0.2.0/24 or 2001:db8::/32")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accounts_are_random_uuids_and_a_40_character_key_kept_as_its_hash() {
        let (a, key) = new_account(vec![]).unwrap();
        let (b, other) = new_account(vec![]).unwrap();
        assert_eq!(key.len(), 40);
        assert!(key.bytes().all(|c| c.is_ascii_alphanumeric() || c == b'-' || c == b'_'));
        assert_ne!(key, other);
        assert_ne!(a.username, b.username);
        assert!(ddns_handler::config::is_uuid(&a.username) && ddns_handler::config::is_uuid(&a.subdomain));
        assert_eq!(&a.username[14..15], "4", "version 4");
        assert_eq!(a.key_sha256, key_sha256(&key));
        assert!(!a.key_sha256.contains(&key));
    }

    #[test]
    fn the_storage_json_names_the_host_and_its_wildcard() {
        let (account, key) = new_account(vec!["192.0.2.0/24".into()]).unwrap();
        let stored = storage("home.example.com.", &account, &key, "https://ddns.example.com/");
        let keys: Vec<&String> = stored.as_object().unwrap().keys().collect();
        assert_eq!(keys, ["home.example.com", "*.home.example.com"]);
        let entry = &stored["home.example.com"];
        assert_eq!(entry, &stored["*.home.example.com"]);
        assert_eq!(entry["fulldomain"], "_acme-challenge.home.example.com");
        assert_eq!(entry["password"], key.as_str());
        assert_eq!(entry["server_url"], "https://ddns.example.com/acme-dns");
        assert_eq!(entry["allowfrom"], json!(["192.0.2.0/24"]));
    }

    #[test]
    fn allow_from_takes_networks_and_addresses() {
        assert_eq!(cidr("192.0.2.0/24").unwrap(), "192.0.2.0/24");
        assert_eq!(cidr("2001:db8::1").unwrap(), "2001:db8::1/128");
        assert!(cidr("example.com").is_err());
    }
}
