//! The config object in S3: the seed's format, parsed, validated and kept
//! round-trippable.
//!
//! The format is the contract with every config.json written for the seed: a
//! JSON object mapping a hostname to its record settings and shared secret.
//! ddns-ctl adds optional per-host fields (`allow_private_addresses`,
//! `username`, record type `"AAAA"` or `"dual"`); any field it does not know
//! is carried through a rewrite untouched, so a newer writer's data survives
//! an older one.

use std::collections::HashMap;
use std::fmt;
use std::net::IpAddr;

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use crate::hostname::lookup_key;

/// The object key the seed used, and the default here.
pub const DEFAULT_KEY: &str = "config.json";

/// Route53 accepts TTLs from 0 to 2^31 - 1 seconds.
const MAX_TTL: i64 = i32::MAX as i64;

/// Why a config object cannot be used.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    /// Not JSON at all, or JSON that is not an object at the top.
    #[error("the config is not a JSON object: {0}")]
    NotJson(#[source] serde_json::Error),
    /// One host's entry is missing a field or has one of the wrong type.
    #[error("the config entry for '{host}' is invalid: {source}")]
    BadEntry {
        /// The host as written in the config.
        host: String,
        /// What serde found wrong.
        #[source]
        source: serde_json::Error,
    },
    /// One host's entry parses but holds a value Route53 would refuse.
    #[error("the config entry for '{host}' is invalid: {reason}")]
    BadValue {
        /// The host as written in the config.
        host: String,
        /// What is wrong with it.
        reason: String,
    },
    /// Two keys name the same host once case and the trailing dot are folded.
    #[error("the config names '{0}' more than once (hostnames ignore case and the trailing dot)")]
    DuplicateHost(String),
}

/// Which address records a host keeps.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum RecordKind {
    /// IPv4 only, the seed's only kind.
    #[serde(rename = "A")]
    A,
    /// IPv6 only.
    #[serde(rename = "AAAA")]
    Aaaa,
    /// Both an A and an AAAA record.
    #[serde(rename = "dual")]
    Dual,
}

impl RecordKind {
    /// Whether this host keeps an A record.
    pub fn has_a(self) -> bool {
        matches!(self, Self::A | Self::Dual)
    }

    /// Whether this host keeps an AAAA record.
    pub fn has_aaaa(self) -> bool {
        matches!(self, Self::Aaaa | Self::Dual)
    }

    /// Whether this host publishes addresses of `ip`'s family.
    pub fn accepts(self, ip: IpAddr) -> bool {
        match ip {
            IpAddr::V4(_) => self.has_a(),
            IpAddr::V6(_) => self.has_aaaa(),
        }
    }
}

impl fmt::Display for RecordKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::A => "A",
            Self::Aaaa => "AAAA",
            Self::Dual => "dual",
        })
    }
}

/// A shared secret. Its `Debug` form is redacted so that no log line, panic
/// message or error chain can print it by accident.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(transparent)]
pub struct Secret(String);

impl Secret {
    /// Wraps a secret.
    pub fn new(secret: impl Into<String>) -> Self {
        Self(secret.into())
    }

    /// The secret itself, for hashing and comparing only.
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Secret(<redacted>)")
    }
}

/// One host's settings: the seed's five fields plus optional extensions.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct HostConfig {
    /// Kept for the seed's sake; Route53 is global, so the service ignores it.
    pub aws_region: String,
    /// The hosted zone that holds the record, with or without `/hostedzone/`.
    pub route_53_zone_id: String,
    /// The TTL written with every update.
    pub route_53_record_ttl: i64,
    /// Which records the host keeps.
    pub route_53_record_type: RecordKind,
    /// The secret behind the seed hash and the dyndns2 password.
    pub shared_secret: Secret,
    /// Publish private, loopback and other non-public addresses too.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub allow_private_addresses: bool,
    /// A dyndns2 username other than the hostname, for routers that need one
    /// or to let one login update several hosts that share a secret.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub username: Option<String>,
    /// Fields this version does not know, kept as they were.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

/// A hosted zone id as the Route53 API takes it: without the `/hostedzone/`
/// that Route53 puts in front of the ids it returns (and that seed configs
/// may carry).
pub fn bare_zone_id(id: &str) -> &str {
    id.strip_prefix("/hostedzone/").unwrap_or(id)
}

impl HostConfig {
    /// The zone id as the Route53 API takes it, without `/hostedzone/`.
    pub fn zone_id(&self) -> &str {
        bare_zone_id(&self.route_53_zone_id)
    }

    fn validate(&self) -> Result<(), String> {
        if self.zone_id().is_empty() {
            return Err("route_53_zone_id is empty".into());
        }
        if !(0..=MAX_TTL).contains(&self.route_53_record_ttl) {
            return Err(format!("route_53_record_ttl must be 0 to {MAX_TTL}"));
        }
        if self.shared_secret.expose().is_empty() {
            return Err("shared_secret is empty".into());
        }
        Ok(())
    }
}

/// A host as the config names it, with its settings.
#[derive(Debug, Clone, Copy)]
pub struct Host<'a> {
    /// The name exactly as written in the config, which is also the record
    /// name sent to Route53 and the name quoted in seed replies.
    pub name: &'a str,
    /// Its settings.
    pub config: &'a HostConfig,
}

/// The whole config: hosts in the order the file lists them.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Config {
    hosts: Vec<(String, HostConfig)>,
    index: HashMap<String, usize>,
}

impl Config {
    /// Parses and validates a config object.
    ///
    /// Every entry must be valid: a config that is half usable would make
    /// failures depend on which host a client asks for, which is harder to
    /// notice than one clear error.
    pub fn from_slice(bytes: &[u8]) -> Result<Self, ConfigError> {
        let raw: Map<String, Value> = serde_json::from_slice(bytes).map_err(ConfigError::NotJson)?;
        let mut config = Self::default();
        for (name, value) in raw {
            let host: HostConfig = serde_json::from_value(value).map_err(|source| ConfigError::BadEntry {
                host: name.clone(),
                source,
            })?;
            host.validate().map_err(|reason| ConfigError::BadValue {
                host: name.clone(),
                reason,
            })?;
            config.push(name, host)?;
        }
        Ok(config)
    }

    fn push(&mut self, name: String, host: HostConfig) -> Result<(), ConfigError> {
        let key = lookup_key(&name);
        if self.index.contains_key(&key) {
            return Err(ConfigError::DuplicateHost(name));
        }
        self.index.insert(key, self.hosts.len());
        self.hosts.push((name, host));
        Ok(())
    }

    /// Serialises the config as pretty JSON, hosts in their original order
    /// and unknown fields intact.
    pub fn to_json_pretty(&self) -> String {
        let map: Map<String, Value> = self
            .hosts
            .iter()
            .map(|(name, host)| {
                // A HostConfig is plain data with string keys; it cannot fail.
                let value = serde_json::to_value(host).unwrap_or(Value::Null);
                (name.clone(), value)
            })
            .collect();
        let mut text = serde_json::to_string_pretty(&Value::Object(map)).unwrap_or_default();
        text.push('\n');
        text
    }

    /// Adds a host, or replaces the one of the same name (in any case, with
    /// or without the dot) in place, keeping its key as written.
    pub fn upsert(&mut self, name: &str, host: HostConfig) {
        match self.index.get(&lookup_key(name)) {
            Some(&i) => self.hosts[i].1 = host,
            None => {
                self.index.insert(lookup_key(name), self.hosts.len());
                self.hosts.push((name.to_owned(), host));
            }
        }
    }

    /// Removes a host; returns its name as written and its settings.
    pub fn remove(&mut self, name: &str) -> Option<(String, HostConfig)> {
        let i = self.index.remove(&lookup_key(name))?;
        let removed = self.hosts.remove(i);
        for slot in self.index.values_mut() {
            if *slot > i {
                *slot -= 1;
            }
        }
        Some(removed)
    }

    /// A host's settings, to change them in place.
    pub fn host_mut(&mut self, name: &str) -> Option<&mut HostConfig> {
        let i = *self.index.get(&lookup_key(name))?;
        Some(&mut self.hosts[i].1)
    }

    /// Checks a host's settings as [`Config::from_slice`] would.
    pub fn check(name: &str, host: &HostConfig) -> Result<(), ConfigError> {
        host.validate().map_err(|reason| ConfigError::BadValue {
            host: name.to_owned(),
            reason,
        })
    }

    /// Finds a host by name in any case, with or without the trailing dot.
    pub fn host(&self, name: &str) -> Option<Host<'_>> {
        let i = *self.index.get(&lookup_key(name))?;
        let (name, config) = &self.hosts[i];
        Some(Host { name, config })
    }

    /// Every host, in config order.
    pub fn hosts(&self) -> impl Iterator<Item = Host<'_>> {
        self.hosts.iter().map(|(name, config)| Host { name, config })
    }

    /// How many hosts the config has.
    pub fn len(&self) -> usize {
        self.hosts.len()
    }

    /// Whether the config has no hosts.
    pub fn is_empty(&self) -> bool {
        self.hosts.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The example config from the blog post, as a seed user has it.
    const SEED_CONFIG: &str = r#"{
        "host1.dyn.example.com.": {
            "aws_region": "us-west-2",
            "route_53_zone_id": "MY_ZONE_ID",
            "route_53_record_ttl": 60,
            "route_53_record_type": "A",
            "shared_secret": "SHARED_SECRET_1"
        },
        "host2.dyn.example.com.": {
            "aws_region": "us-west-2",
            "route_53_zone_id": "MY_ZONE_ID",
            "route_53_record_ttl": 60,
            "route_53_record_type": "A",
            "shared_secret": "SHARED_SECRET_2"
        }
    }"#;

    #[test]
    fn reads_the_seed_format_unchanged() {
        let config = Config::from_slice(SEED_CONFIG.as_bytes()).unwrap();
        assert_eq!(config.len(), 2);
        let host = config.host("HOST2.dyn.example.com").unwrap();
        assert_eq!(host.name, "host2.dyn.example.com.");
        assert_eq!(host.config.route_53_record_type, RecordKind::A);
        assert_eq!(host.config.shared_secret.expose(), "SHARED_SECRET_2");
        assert!(!host.config.allow_private_addresses);
        assert!(config.host("host3.dyn.example.com.").is_none());
    }

    #[test]
    fn round_trips_unknown_fields_and_order() {
        let text = r#"{"b.example.com.":{"aws_region":"r","route_53_zone_id":"/hostedzone/Z1","route_53_record_ttl":60,"route_53_record_type":"dual","shared_secret":"s","note":{"owner":"me"}},
                       "a.example.com.":{"aws_region":"r","route_53_zone_id":"Z2","route_53_record_ttl":0,"route_53_record_type":"AAAA","shared_secret":"t","allow_private_addresses":true,"username":"u"}}"#;
        let config = Config::from_slice(text.as_bytes()).unwrap();
        let again = Config::from_slice(config.to_json_pretty().as_bytes()).unwrap();
        assert_eq!(config, again);
        let names: Vec<_> = again.hosts().map(|h| h.name).collect();
        assert_eq!(names, ["b.example.com.", "a.example.com."]);
        let b = again.host("b.example.com").unwrap().config;
        assert_eq!(b.extra["note"]["owner"], "me");
        assert_eq!(b.zone_id(), "Z1");
        // Defaults stay out of the file, so a seed config stays a seed config.
        assert!(!config.to_json_pretty().contains("\"allow_private_addresses\": false"));
    }

    #[test]
    fn explains_what_is_wrong() {
        let err = |text: &str| Config::from_slice(text.as_bytes()).unwrap_err().to_string();
        assert!(err("not json").contains("not a JSON object"));
        assert!(err("[1,2]").contains("not a JSON object"));
        assert!(err(r#"{"h.example.com.":{"aws_region":"r"}}"#).contains("'h.example.com.'"));
        let entry = |ttl: i64, kind: &str, secret: &str| {
            format!(
                r#"{{"h.example.com.":{{"aws_region":"r","route_53_zone_id":"Z","route_53_record_ttl":{ttl},"route_53_record_type":"{kind}","shared_secret":"{secret}"}}}}"#
            )
        };
        assert!(err(&entry(-1, "A", "s")).contains("route_53_record_ttl"));
        assert!(err(&entry(60, "CNAME", "s")).contains("'h.example.com.'"));
        assert!(err(&entry(60, "A", "")).contains("shared_secret is empty"));
        let dup = r#"{"h.example.com.":{"aws_region":"r","route_53_zone_id":"Z","route_53_record_ttl":1,"route_53_record_type":"A","shared_secret":"s"},
                      "H.example.com":{"aws_region":"r","route_53_zone_id":"Z","route_53_record_ttl":1,"route_53_record_type":"A","shared_secret":"s"}}"#;
        assert!(err(dup).contains("more than once"));
    }

    #[test]
    fn hosts_are_added_replaced_and_removed_in_place() {
        let mut config = Config::from_slice(SEED_CONFIG.as_bytes()).unwrap();
        let mut host = config.host("host1.dyn.example.com.").unwrap().config.clone();
        host.route_53_record_ttl = 300;
        config.upsert("HOST1.dyn.example.com", host.clone());
        assert_eq!(config.len(), 2);
        assert_eq!(
            config.host("host1.dyn.example.com").unwrap().name,
            "host1.dyn.example.com."
        );
        assert_eq!(
            config.host("host1.dyn.example.com").unwrap().config.route_53_record_ttl,
            300
        );
        config.upsert("host3.dyn.example.com.", host);
        let (name, _) = config.remove("Host1.dyn.example.com").unwrap();
        assert_eq!(name, "host1.dyn.example.com.");
        assert!(config.host("host1.dyn.example.com.").is_none());
        assert_eq!(
            config.host("host3.dyn.example.com").unwrap().name,
            "host3.dyn.example.com."
        );
        assert_eq!(
            config.host("host2.dyn.example.com").unwrap().name,
            "host2.dyn.example.com."
        );
        config.host_mut("host2.dyn.example.com").unwrap().route_53_record_ttl = 30;
        let again = Config::from_slice(config.to_json_pretty().as_bytes()).unwrap();
        assert_eq!(again, config);
        assert!(config.remove("nope.example.com").is_none());
    }

    #[test]
    fn secrets_do_not_print() {
        let config = Config::from_slice(SEED_CONFIG.as_bytes()).unwrap();
        assert!(!format!("{config:?}").contains("SHARED_SECRET"));
    }

    #[test]
    fn record_kinds_accept_their_family() {
        let v4: IpAddr = "192.0.2.1".parse().unwrap();
        let v6: IpAddr = "2001:db8::1".parse().unwrap();
        assert!(RecordKind::A.accepts(v4) && !RecordKind::A.accepts(v6));
        assert!(RecordKind::Aaaa.accepts(v6) && !RecordKind::Aaaa.accepts(v4));
        assert!(RecordKind::Dual.accepts(v4) && RecordKind::Dual.accepts(v6));
    }
}
