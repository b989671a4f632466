//! Proof that a caller knows a host's secret: the seed's hash and HTTP Basic
//! credentials, both checked in constant time.

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;

use crate::config::Secret;

/// A hash that is not 64 hex characters.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("the hash must be 64 hexadecimal characters (a SHA-256 digest)")]
pub struct MalformedHash;

/// A seed hash as the client sent it, decoded from hex (either case).
#[derive(Clone, Copy, PartialEq, Eq)]
pub struct SeedHash([u8; 32]);

impl SeedHash {
    /// Decodes exactly 64 hex digits. The seed matched its regex anywhere in
    /// the string, so it took 65-character junk; this is strict.
    pub fn parse(hex_digits: &str) -> Result<Self, MalformedHash> {
        let mut digest = [0u8; 32];
        hex::decode_to_slice(hex_digits, &mut digest).map_err(|_| MalformedHash)?;
        Ok(Self(digest))
    }

    /// Whether this is SHA-256(caller IP + hostname as sent + secret), the
    /// seed's rule, compared without an early exit so that timing reveals
    /// nothing about how much of the digest matched.
    pub fn verify(&self, caller_ip: &str, hostname_as_sent: &str, secret: &Secret) -> bool {
        let expected = seed_digest(caller_ip, hostname_as_sent, secret);
        self.0.ct_eq(&expected).into()
    }
}

impl std::fmt::Debug for SeedHash {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("SeedHash(<redacted>)")
    }
}

/// SHA-256 over the caller IP, the hostname and the secret, concatenated with
/// nothing between them, as the seed's clients compute it.
pub fn seed_digest(caller_ip: &str, hostname: &str, secret: &Secret) -> [u8; 32] {
    let mut hasher = Sha256::new();
    hasher.update(caller_ip.as_bytes());
    hasher.update(hostname.as_bytes());
    hasher.update(secret.expose().as_bytes());
    hasher.finalize().into()
}

/// The seed hash a client sends, in lower-case hex: what `ddns-ctl update`
/// and the setup wizard's live check send, and what [`SeedHash`] verifies.
pub fn seed_hash(caller_ip: &str, hostname: &str, secret: &Secret) -> String {
    hex::encode(seed_digest(caller_ip, hostname, secret))
}

/// Compares a presented password with a secret in constant time.
///
/// Both sides are hashed first so that the comparison runs over equal-length
/// inputs and not even the secret's length leaks.
pub fn secret_matches(presented: &str, secret: &Secret) -> bool {
    let a: [u8; 32] = Sha256::digest(presented.as_bytes()).into();
    let b: [u8; 32] = Sha256::digest(secret.expose().as_bytes()).into();
    a.ct_eq(&b).into()
}

/// Credentials from an `Authorization: Basic` header.
#[derive(Clone, PartialEq, Eq)]
pub struct BasicCredentials {
    /// The username: a hostname, or a host's `username` field.
    pub username: String,
    /// The password: a host's shared secret.
    pub password: Secret,
}

impl std::fmt::Debug for BasicCredentials {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("BasicCredentials")
            .field("username", &self.username)
            .finish_non_exhaustive()
    }
}

impl BasicCredentials {
    /// Parses an `Authorization` header value; `None` for anything that is
    /// not well-formed Basic credentials.
    pub fn from_header(value: &[u8]) -> Option<Self> {
        let value = std::str::from_utf8(value).ok()?.trim();
        let (scheme, encoded) = value.split_once(' ')?;
        if !scheme.eq_ignore_ascii_case("basic") {
            return None;
        }
        let decoded = STANDARD.decode(encoded.trim()).ok()?;
        let decoded = String::from_utf8(decoded).ok()?;
        // The password may itself contain ':', the username may not (RFC 7617).
        let (username, password) = decoded.split_once(':')?;
        Some(Self {
            username: username.to_owned(),
            password: Secret::new(password),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn seed_hash_matches_shasum_output() {
        // `echo -n 192.168.0.1host1.dyn.example.comP@ssw0rd | shasum -a 256`,
        // the blog post's own example.
        let expected = "9968efed22489405a9a07dbf2d8689dc227525515e078b8082139c9b0a5f4ca0";
        let digest = hex::encode(seed_digest(
            "192.168.0.1",
            "host1.dyn.example.com",
            &Secret::new("P@ssw0rd"),
        ));
        assert_eq!(digest, expected);
        let hash = SeedHash::parse(&digest).unwrap();
        assert!(hash.verify("192.168.0.1", "host1.dyn.example.com", &Secret::new("P@ssw0rd")));
        assert!(SeedHash::parse(&digest.to_uppercase()).unwrap().verify(
            "192.168.0.1",
            "host1.dyn.example.com",
            &Secret::new("P@ssw0rd")
        ));
        assert!(!hash.verify("192.168.0.1", "host1.dyn.example.com.", &Secret::new("P@ssw0rd")));
        assert!(!hash.verify("192.168.0.2", "host1.dyn.example.com", &Secret::new("P@ssw0rd")));
    }

    #[test]
    fn hash_must_be_exactly_64_hex_digits() {
        let good = "a".repeat(64);
        assert!(SeedHash::parse(&good).is_ok());
        for bad in [
            "",
            "abc",
            &"a".repeat(63),
            &"a".repeat(65),
            &"g".repeat(64),
            &format!("{} ", "a".repeat(63)),
        ] {
            assert_eq!(SeedHash::parse(bad), Err(MalformedHash), "{bad:?}");
        }
    }

    #[test]
    fn basic_credentials() {
        let header = format!("Basic {}", STANDARD.encode("host.example.com:pa:ss"));
        let creds = BasicCredentials::from_header(header.as_bytes()).unwrap();
        assert_eq!(creds.username, "host.example.com");
        assert_eq!(creds.password.expose(), "pa:ss");
        assert!(!format!("{creds:?}").contains("pa:ss"));
        assert!(BasicCredentials::from_header(b"Bearer abc").is_none());
        assert!(BasicCredentials::from_header(b"Basic !!!").is_none());
        assert!(BasicCredentials::from_header(format!("Basic {}", STANDARD.encode("nocolon")).as_bytes()).is_none());
        assert!(BasicCredentials::from_header(b"Basic \xff").is_none());
    }

    #[test]
    fn secrets_compare_by_value() {
        let secret = Secret::new("s3cret");
        assert!(secret_matches("s3cret", &secret));
        assert!(!secret_matches("s3cre", &secret));
        assert!(!secret_matches("", &secret));
    }
}
