//! Hostname rules: what counts as a fully qualified name, and the one
//! normal form used to look hosts up.
//!
//! The seed keyed its config by the name exactly as the client sent it, so a
//! missing trailing dot or a capital letter meant "unknown host". Here every
//! lookup goes through [`lookup_key`], which folds case and adds the trailing
//! dot, while the name *as sent* is still what the seed hash covers.

use std::fmt;

/// The longest name DNS allows, in presentation form without the final dot.
const MAX_NAME_LEN: usize = 253;
/// The longest label DNS allows.
const MAX_LABEL_LEN: usize = 63;

/// Why a string is not a fully qualified hostname.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum HostnameError {
    /// Nothing was given.
    #[error("the hostname is empty")]
    Empty,
    /// Longer than DNS allows.
    #[error("the hostname is longer than {MAX_NAME_LEN} characters")]
    TooLong,
    /// A single label, such as `localhost`: Route53 cannot hold it in a zone.
    #[error("'{0}' is not fully qualified (it needs at least two labels, like host.example.com)")]
    NotQualified(String),
    /// A label is empty, too long, or has a character DNS names cannot hold.
    #[error("'{0}' is not a valid hostname label")]
    BadLabel(String),
}

/// A validated, fully qualified hostname in normal form: lower case, with the
/// trailing dot, exactly as Route53 returns record names.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Hostname(String);

impl Hostname {
    /// Validates `name` and brings it to normal form.
    ///
    /// Accepts either case, with or without the trailing dot. Labels are
    /// letters, digits and hyphens (not at either end), plus `_` so that
    /// service-style labels work; `*` wildcards are refused because a dynamic
    /// host is one concrete name.
    pub fn parse(name: &str) -> Result<Self, HostnameError> {
        let bare = name.strip_suffix('.').unwrap_or(name);
        if bare.is_empty() {
            return Err(HostnameError::Empty);
        }
        if bare.len() > MAX_NAME_LEN {
            return Err(HostnameError::TooLong);
        }
        let mut labels = 0;
        for label in bare.split('.') {
            let valid = !label.is_empty()
                && label.len() <= MAX_LABEL_LEN
                && !label.starts_with('-')
                && !label.ends_with('-')
                && label
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_');
            if !valid {
                return Err(HostnameError::BadLabel(truncate(label)));
            }
            labels += 1;
        }
        if labels < 2 {
            return Err(HostnameError::NotQualified(truncate(bare)));
        }
        Ok(Self(lookup_key(bare)))
    }

    /// The name in normal form, with its trailing dot.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// Whether this name is `zone` or lies below it (both in any form).
    pub fn is_within(&self, zone: &str) -> bool {
        let zone = lookup_key(zone);
        self.0 == zone || self.0.ends_with(&format!(".{zone}"))
    }
}

impl fmt::Display for Hostname {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// The key under which a name is looked up: lower case with one trailing
/// dot. It does not validate; use it to match names against the config.
pub fn lookup_key(name: &str) -> String {
    let mut key = name.to_ascii_lowercase();
    if !key.ends_with('.') {
        key.push('.');
    }
    key
}

/// Keeps error messages short when a client sends a 10 KB "hostname".
fn truncate(s: &str) -> String {
    const SHOWN: usize = 64;
    match s.char_indices().nth(SHOWN) {
        Some((cut, _)) => format!("{}…", &s[..cut]),
        None => s.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn normalises_case_and_trailing_dot() {
        let a = Hostname::parse("Host1.Dyn.Example.COM").unwrap();
        let b = Hostname::parse("host1.dyn.example.com.").unwrap();
        assert_eq!(a, b);
        assert_eq!(a.as_str(), "host1.dyn.example.com.");
    }

    #[test]
    fn refuses_what_dns_cannot_hold() {
        assert_eq!(Hostname::parse(""), Err(HostnameError::Empty));
        assert_eq!(Hostname::parse("."), Err(HostnameError::Empty));
        assert!(matches!(
            Hostname::parse("localhost"),
            Err(HostnameError::NotQualified(_))
        ));
        for bad in [
            "a..b.com",
            "-a.example.com",
            "a-.example.com",
            "a b.example.com",
            "*.example.com",
            "é.example.com",
        ] {
            assert!(matches!(Hostname::parse(bad), Err(HostnameError::BadLabel(_))), "{bad}");
        }
        let long_label = format!("{}.example.com", "a".repeat(64));
        assert!(matches!(Hostname::parse(&long_label), Err(HostnameError::BadLabel(_))));
        let long_name = format!("{}com", "abcdefghi.".repeat(26));
        assert_eq!(Hostname::parse(&long_name), Err(HostnameError::TooLong));
    }

    #[test]
    fn zone_membership_is_by_label() {
        let h = Hostname::parse("home.dyn.example.com").unwrap();
        assert!(h.is_within("dyn.example.com."));
        assert!(h.is_within("Example.com"));
        assert!(h.is_within("home.dyn.example.com"));
        assert!(!h.is_within("n.example.com"));
        assert!(!h.is_within("xample.com"));
    }

    #[test]
    fn error_messages_stay_short() {
        let huge = format!("{}.com", "x".repeat(10_000));
        let msg = Hostname::parse(&huge).unwrap_err().to_string();
        assert!(msg.len() < 120, "{msg}");
    }
}
