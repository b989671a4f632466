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
use std::sync::OnceLock;

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use crate::hostname::{Hostname, lookup_key};
use crate::strict_json::{self, Duplicate, StrictError};

/// The object key the seed used, and the default here.
pub const DEFAULT_KEY: &str = "config.json";

/// The shortest `shared_secret` the service accepts, in characters. A secret
/// is all that stands between the internet and a host's record, and the seed
/// hash lets anyone who saw one update URL guess it offline; `ddns-ctl`
/// generates 43-character secrets.
pub const MIN_SECRET_LEN: usize = 16;

/// Route53 accepts TTLs from 0 to 2^31 - 1 seconds.
const MAX_TTL: i64 = i32::MAX as i64;

/// The longest hosted zone id (without `/hostedzone/`) accepted. Route53's
/// ids are up to 32 upper-case letters and digits.
const MAX_ZONE_ID_LEN: usize = 32;

/// The shortest silence a host alarm may wait for: metric filters deliver
/// their counts a minute or more late, so less would alarm on a host that
/// is fine.
pub const MIN_ALERT_AFTER_SECS: u64 = 300;
/// The longest: CloudWatch evaluates an alarm over at most seven days
/// (Period × EvaluationPeriods ≤ 604,800 s).
pub const MAX_ALERT_AFTER_SECS: u64 = 604_800;

/// Why a config object cannot be used.
///
/// No message quotes a value from the config: a secret in the wrong field or
/// of the wrong type would otherwise end up in logs and terminals. They name
/// the host key and the field instead.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    /// Not JSON at all, or JSON that is not an object at the top.
    #[error("the config is not a JSON object: {reason}")]
    NotJson {
        /// What is wrong, and where (line and column), without the text.
        reason: String,
    },
    /// The same top-level key appears twice. JSON readers disagree on which
    /// one counts, so neither does.
    #[error("the config has the key '{0}' more than once")]
    DuplicateKey(String),
    /// A host's entry (or an object inside it) has the same field twice.
    #[error("the config entry for '{host}' has the field '{field}' more than once")]
    DuplicateField {
        /// The host as written in the config.
        host: String,
        /// The repeated field.
        field: String,
    },
    /// One host's entry is missing a field or has one of the wrong type.
    #[error("the config entry for '{host}' is invalid: {reason}")]
    BadEntry {
        /// The host as written in the config.
        host: String,
        /// Which field is missing or of the wrong type.
        reason: String,
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
    /// Publish a message to the stack's alert topic whenever the function
    /// changes this host's records (`host add/set --notify-on-change`).
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub notify_on_change: bool,
    /// Alarm when the host has made no accepted request for this many
    /// seconds (`host add/set --alert-after`). The function never reads it:
    /// the alarm and its metric filter are made by ddns-ctl.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub alert_after_secs: Option<u64>,
    /// The host's acme-dns account (`host add/set --acme`): it may set the
    /// TXT records of `_acme-challenge.HOST`, for DNS-01 certificates.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub acme: Option<AcmeAccount>,
    /// Fields this version does not know, kept as they were.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

/// An acme-dns account, as acme-dns clients know it: a username, a key and
/// a subdomain, all three made by ddns-ctl. Only the key's SHA-256 is
/// kept: the key is 40 characters from the OS CSPRNG (about 238 bits), so a
/// plain hash cannot be brute-forced and costs the function nothing.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AcmeAccount {
    /// The `X-Api-User` header: a UUID.
    pub username: String,
    /// Lower-case hex SHA-256 of the `X-Api-Key` header.
    pub key_sha256: String,
    /// The `subdomain` of an update: a UUID, which stands for
    /// `_acme-challenge.HOST`.
    pub subdomain: String,
    /// Where updates may come from (CIDRs); empty: anywhere.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub allow_from: Vec<String>,
    /// Fields this version does not know, kept as they were.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

/// The label acme-dns clients and ACME servers put before a name for DNS-01.
pub const ACME_CHALLENGE: &str = "_acme-challenge";

/// Whether `text` is a UUID in its usual form (8-4-4-4-12 hex digits).
pub fn is_uuid(text: &str) -> bool {
    let groups: Vec<&str> = text.split('-').collect();
    groups.len() == 5
        && groups
            .iter()
            .zip([8, 4, 4, 4, 12])
            .all(|(g, n)| g.len() == n && g.bytes().all(|b| b.is_ascii_hexdigit()))
}

impl AcmeAccount {
    /// The rules an account must meet; the reasons name the field.
    fn validate(&self) -> Result<(), String> {
        if !is_uuid(&self.username) {
            return Err("acme.username is not a UUID".into());
        }
        if !is_uuid(&self.subdomain) {
            return Err("acme.subdomain is not a UUID".into());
        }
        if self.key_sha256.len() != 64 || !self.key_sha256.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f')) {
            return Err("acme.key_sha256 is not a lower-case hex SHA-256".into());
        }
        if let Some(bad) = self.allow_from.iter().find(|c| c.parse::<ipnet::IpNet>().is_err()) {
            return Err(format!("acme.allow_from holds {bad:?}, which is not a CIDR"));
        }
        Ok(())
    }

    /// Whether an update from `ip` may be made: `allow_from` is empty, or
    /// one of its networks holds `ip`.
    pub fn allows(&self, ip: IpAddr) -> bool {
        self.allow_from.is_empty()
            || self
                .allow_from
                .iter()
                .filter_map(|c| c.parse::<ipnet::IpNet>().ok())
                .any(|net| net.contains(&ip))
    }
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

    /// The rules an entry must meet, whatever its name. The reasons name
    /// the field and the rule, never the value.
    fn validate(&self) -> Result<(), String> {
        let zone = self.zone_id();
        if zone.is_empty() {
            return Err("route_53_zone_id is empty".into());
        }
        // Route53's own alphabet; anything else (a `*`, a path, a zone
        // name) is a mistake that would otherwise surface only as a failed
        // API call, or be sent to Route53 in a request path.
        if zone.len() > MAX_ZONE_ID_LEN || !zone.bytes().all(|b| b.is_ascii_uppercase() || b.is_ascii_digit()) {
            return Err(format!(
                "route_53_zone_id is not a hosted zone id (up to {MAX_ZONE_ID_LEN} upper-case letters and digits, optionally after /hostedzone/)"
            ));
        }
        if let Some(secs) = self.alert_after_secs
            && (!(MIN_ALERT_AFTER_SECS..=MAX_ALERT_AFTER_SECS).contains(&secs) || secs % 60 != 0)
        {
            return Err(format!(
                "alert_after_secs must be whole minutes from {MIN_ALERT_AFTER_SECS} to {MAX_ALERT_AFTER_SECS} (5 minutes to 7 days)"
            ));
        }
        if !(0..=MAX_TTL).contains(&self.route_53_record_ttl) {
            return Err(format!("route_53_record_ttl must be 0 to {MAX_TTL}"));
        }
        let secret_len = self.shared_secret.expose().chars().count();
        if secret_len == 0 {
            return Err("shared_secret is empty".into());
        }
        if secret_len < MIN_SECRET_LEN {
            return Err(format!("shared_secret is shorter than {MIN_SECRET_LEN} characters"));
        }
        if let Some(acme) = &self.acme {
            acme.validate()?;
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
#[derive(Debug, Clone, Default)]
pub struct Config {
    hosts: Vec<(String, HostConfig)>,
    /// [`lookup_key`] of each name → its position in `hosts`.
    index: HashMap<String, usize>,
    /// Each `username`, lower-cased → the positions of the hosts that have
    /// it, in config order. It lets a dyndns2 login find its hosts without
    /// trying every host in turn; built when the config is loaded, and again
    /// on first use after an edit (one through [`Config::host_mut`] may have
    /// changed a username).
    usernames: OnceLock<HashMap<String, Vec<usize>>>,
}

/// Two configs are equal when their hosts are; the indexes follow from them.
impl PartialEq for Config {
    fn eq(&self, other: &Self) -> bool {
        self.hosts == other.hosts
    }
}

impl Config {
    /// Parses and validates a config object: what the service loads.
    ///
    /// Every entry must be valid: a config that is half usable would make
    /// failures depend on which host a client asks for, which is harder to
    /// notice than one clear error.
    pub fn from_slice(bytes: &[u8]) -> Result<Self, ConfigError> {
        let config = Self::parse(bytes)?;
        config.validate()?;
        Ok(config)
    }

    /// Parses a config object without the checks of [`Config::validate`]:
    /// the JSON must be an object without duplicate keys, every entry must
    /// have the seed's fields with the right types, and no two keys may name
    /// the same host. For tools that must read a config to report or repair
    /// what is wrong with it; the service uses [`Config::from_slice`].
    pub fn parse(bytes: &[u8]) -> Result<Self, ConfigError> {
        let raw = strict_json::object_from_slice(bytes).map_err(|err| match err {
            StrictError::Duplicate(Duplicate::Top(key)) => ConfigError::DuplicateKey(key),
            StrictError::Duplicate(Duplicate::Inside { top, key }) => {
                ConfigError::DuplicateField { host: top, field: key }
            }
            StrictError::Json(err) => ConfigError::NotJson {
                reason: describe_json_error(&err),
            },
        })?;
        let mut config = Self::default();
        for (name, value) in raw {
            check_shape(&value).map_err(|reason| ConfigError::BadEntry {
                host: name.clone(),
                reason,
            })?;
            // serde's own message would quote the offending value.
            let host: HostConfig = serde_json::from_value(value).map_err(|_| ConfigError::BadEntry {
                host: name.clone(),
                reason: "it does not have the fields of a host entry".into(),
            })?;
            config.push(name, host)?;
        }
        // Paid once per load, not by the first request that needs it.
        config.usernames();
        Ok(config)
    }

    /// Checks every host as [`Config::from_slice`] does: each key is a valid
    /// hostname, each zone id is a Route53 id, each TTL is in range and each
    /// secret has at least [`MIN_SECRET_LEN`] characters. Returns the first
    /// problem, in config order; `ddns-ctl status` can report it for a config
    /// read with [`Config::parse`].
    pub fn validate(&self) -> Result<(), ConfigError> {
        self.hosts().try_for_each(|host| Self::check(host.name, host.config))?;
        // An update finds its account by username, and its record by
        // subdomain: each must name one host.
        let mut seen = std::collections::HashSet::new();
        for host in self.hosts() {
            if let Some(acme) = &host.config.acme
                && (!seen.insert(("username", acme.username.to_ascii_lowercase()))
                    || !seen.insert(("subdomain", acme.subdomain.to_ascii_lowercase())))
            {
                return Err(ConfigError::BadValue {
                    host: host.name.to_owned(),
                    reason: "its acme username or subdomain is another host's too".into(),
                });
            }
        }
        Ok(())
    }

    /// The host whose acme-dns account has `username` (in any case).
    pub fn acme_account(&self, username: &str) -> Option<(Host<'_>, &AcmeAccount)> {
        self.hosts().find_map(|host| {
            let acme = host.config.acme.as_ref()?;
            acme.username.eq_ignore_ascii_case(username).then_some((host, acme))
        })
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

    fn usernames(&self) -> &HashMap<String, Vec<usize>> {
        self.usernames.get_or_init(|| {
            let mut map: HashMap<String, Vec<usize>> = HashMap::new();
            for (i, (_, host)) in self.hosts.iter().enumerate() {
                if let Some(user) = &host.username {
                    map.entry(user.to_ascii_lowercase()).or_default().push(i);
                }
            }
            map
        })
    }

    /// The hosts a dyndns2 login may name: the host called `username` (in
    /// any case, with or without the trailing dot) and every host whose
    /// `username` field is `username` (in any case), each once, in config
    /// order. Which of them the password unlocks is for the caller to check.
    pub fn login(&self, username: &str) -> Vec<Host<'_>> {
        let mut found: Vec<usize> = self
            .usernames()
            .get(&username.to_ascii_lowercase())
            .cloned()
            .unwrap_or_default();
        if let Some(&i) = self.index.get(&lookup_key(username)) {
            found.push(i);
        }
        found.sort_unstable();
        found.dedup();
        found
            .into_iter()
            .map(|i| {
                let (name, config) = &self.hosts[i];
                Host { name, config }
            })
            .collect()
    }

    /// Adds a host, or replaces the one of the same name (in any case, with
    /// or without the dot) in place, keeping its key as written.
    pub fn upsert(&mut self, name: &str, host: HostConfig) {
        self.usernames = OnceLock::new();
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
        self.usernames = OnceLock::new();
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
        self.usernames = OnceLock::new();
        let i = *self.index.get(&lookup_key(name))?;
        Some(&mut self.hosts[i].1)
    }

    /// Checks a host's name and settings as [`Config::from_slice`] would.
    pub fn check(name: &str, host: &HostConfig) -> Result<(), ConfigError> {
        let bad = |reason: String| ConfigError::BadValue {
            host: name.to_owned(),
            reason,
        };
        Hostname::parse(name).map_err(|err| bad(format!("the key is not a valid hostname: {err}")))?;
        host.validate().map_err(bad)
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

/// A serde_json error as category and position only: its message can quote
/// the text it choked on, which may be a secret.
fn describe_json_error(err: &serde_json::Error) -> String {
    use serde_json::error::Category;
    let what = match err.classify() {
        Category::Io => "it could not be read",
        Category::Syntax => "it is not valid JSON",
        Category::Eof => "it ends before the JSON does",
        Category::Data => "its top level is not an object",
    };
    format!("{what} (line {}, column {})", err.line(), err.column())
}

/// What a JSON value must be to fill a field.
#[derive(Clone, Copy)]
enum Expect {
    String,
    Integer,
    Bool,
    RecordType,
    Object,
}

impl Expect {
    fn fits(self, value: &Value) -> bool {
        match self {
            Self::String => value.is_string(),
            Self::Integer => value.as_i64().is_some(),
            Self::Bool => value.is_boolean(),
            Self::RecordType => matches!(value.as_str(), Some("A" | "AAAA" | "dual")),
            Self::Object => value.is_object(),
        }
    }

    fn describe(self) -> &'static str {
        match self {
            Self::String => "a string",
            Self::Integer => "a whole number",
            Self::Bool => "true or false",
            Self::RecordType => r#""A", "AAAA" or "dual""#,
            Self::Object => "an object",
        }
    }
}

/// Checks that an entry has the seed's fields, and the extensions if given,
/// with the right types, so that the error can name the field without
/// quoting its value as serde would.
fn check_shape(entry: &Value) -> Result<(), String> {
    const REQUIRED: [(&str, Expect); 5] = [
        ("aws_region", Expect::String),
        ("route_53_zone_id", Expect::String),
        ("route_53_record_ttl", Expect::Integer),
        ("route_53_record_type", Expect::RecordType),
        ("shared_secret", Expect::String),
    ];
    // (field, type, whether null stands for "not given")
    const OPTIONAL: [(&str, Expect, bool); 3] = [
        ("allow_private_addresses", Expect::Bool, false),
        ("username", Expect::String, true),
        ("acme", Expect::Object, true),
    ];
    let Value::Object(fields) = entry else {
        return Err("the entry is not a JSON object".into());
    };
    for (field, expect) in REQUIRED {
        match fields.get(field) {
            None => return Err(format!("the field {field} is missing")),
            Some(value) if !expect.fits(value) => return Err(format!("{field} must be {}", expect.describe())),
            Some(_) => {}
        }
    }
    for (field, expect, nullable) in OPTIONAL {
        if let Some(value) = fields.get(field)
            && !(nullable && value.is_null())
            && !expect.fits(value)
        {
            return Err(format!("{field} must be {}", expect.describe()));
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The example config from the blog post, as a seed user has it, with a
    /// real zone id and secrets long enough for [`MIN_SECRET_LEN`] (the
    /// post's `MY_ZONE_ID` and 15-character secrets are refused now).
    const SEED_CONFIG: &str = r#"{
        "host1.dyn.example.com.": {
            "aws_region": "us-west-2",
            "route_53_zone_id": "Z0123456789ABCDEFGHIJ",
            "route_53_record_ttl": 60,
            "route_53_record_type": "A",
            "shared_secret": "SHARED_SECRET_0001"
        },
        "host2.dyn.example.com.": {
            "aws_region": "us-west-2",
            "route_53_zone_id": "Z0123456789ABCDEFGHIJ",
            "route_53_record_ttl": 60,
            "route_53_record_type": "A",
            "shared_secret": "SHARED_SECRET_0002"
        }
    }"#;

    #[test]
    fn reads_the_seed_format_unchanged() {
        let config = Config::from_slice(SEED_CONFIG.as_bytes()).unwrap();
        assert_eq!(config.len(), 2);
        let host = config.host("HOST2.dyn.example.com").unwrap();
        assert_eq!(host.name, "host2.dyn.example.com.");
        assert_eq!(host.config.route_53_record_type, RecordKind::A);
        assert_eq!(host.config.shared_secret.expose(), "SHARED_SECRET_0002");
        assert!(!host.config.allow_private_addresses);
        assert!(config.host("host3.dyn.example.com.").is_none());
    }

    #[test]
    fn round_trips_unknown_fields_and_order() {
        let text = r#"{"b.example.com.":{"aws_region":"r","route_53_zone_id":"/hostedzone/Z1","route_53_record_ttl":60,"route_53_record_type":"dual","shared_secret":"ssssssssssssssss","note":{"owner":"me"}},
                       "a.example.com.":{"aws_region":"r","route_53_zone_id":"Z2","route_53_record_ttl":0,"route_53_record_type":"AAAA","shared_secret":"tttttttttttttttt","allow_private_addresses":true,"username":"u"}}"#;
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

    /// One entry for `h.example.com.` with the fields given as JSON text.
    fn entry_with(fields: &str) -> String {
        format!(
            r#"{{"h.example.com.":{{"aws_region":"r","route_53_record_ttl":60,"route_53_record_type":"A",{fields}}}}}"#
        )
    }

    const LONG: &str = r#""shared_secret":"0123456789abcdef""#;

    #[test]
    fn duplicate_keys_are_refused_and_named() {
        let host = r#"{"aws_region":"r","route_53_zone_id":"Z1","route_53_record_ttl":60,"route_53_record_type":"A","shared_secret":"0123456789abcdef"}"#;
        let twice = format!(r#"{{"h.example.com.":{host},"h.example.com.":{host}}}"#);
        let err = Config::from_slice(twice.as_bytes()).unwrap_err();
        assert!(
            matches!(&err, ConfigError::DuplicateKey(k) if k == "h.example.com."),
            "{err:?}"
        );
        assert_eq!(
            err.to_string(),
            "the config has the key 'h.example.com.' more than once"
        );
        // Last-wins would have meant the second secret; neither counts.
        let field = entry_with(
            r#""route_53_zone_id":"Z1","shared_secret":"0123456789abcdef","shared_secret":"fedcba9876543210""#,
        );
        let err = Config::from_slice(field.as_bytes()).unwrap_err();
        assert!(
            matches!(&err, ConfigError::DuplicateField { host, field } if host == "h.example.com." && field == "shared_secret"),
            "{err:?}"
        );
        let text = err.to_string();
        assert!(
            !text.contains("0123456789abcdef") && !text.contains("fedcba9876543210"),
            "{text}"
        );
        // Also inside a field the service does not know, which it would
        // carry through a rewrite.
        let nested = entry_with(&format!(r#""route_53_zone_id":"Z1",{LONG},"note":{{"a":1,"a":2}}"#));
        assert!(matches!(
            Config::from_slice(nested.as_bytes()),
            Err(ConfigError::DuplicateField { field, .. }) if field == "a"
        ));
        // Parsing for repair refuses them too: there is no right one to keep.
        assert!(Config::parse(twice.as_bytes()).is_err());
    }

    #[test]
    fn zone_ids_must_be_route53_ids() {
        let check =
            |zone: &str| Config::from_slice(entry_with(&format!(r#""route_53_zone_id":"{zone}",{LONG}"#)).as_bytes());
        for good in ["Z1", "/hostedzone/Z0123456789ABCDEFGHIJ", &"A".repeat(32), "0123"] {
            assert!(check(good).is_ok(), "{good}");
        }
        for bad in [
            "*",
            "/hostedzone/*",
            "z1",
            "Z1 ",
            "Z-1",
            "../Z1",
            "/hostedzone/",
            &"A".repeat(33),
            "Z1/rrset",
        ] {
            let err = check(bad).unwrap_err().to_string();
            assert!(
                err.contains("'h.example.com.'") && err.contains("route_53_zone_id"),
                "{bad}: {err}"
            );
        }
    }

    #[test]
    fn keys_must_be_hostnames() {
        for bad in ["*.example.com.", "localhost", "a b.example.com", "-a.example.com", ""] {
            let text = format!(
                r#"{{"{bad}":{{"aws_region":"r","route_53_zone_id":"Z1","route_53_record_ttl":60,"route_53_record_type":"A",{LONG}}}}}"#
            );
            let err = Config::from_slice(text.as_bytes()).unwrap_err().to_string();
            assert!(err.contains("not a valid hostname"), "{bad}: {err}");
        }
    }

    #[test]
    fn alert_settings_are_read_and_their_bounds_kept() {
        let with = |extra: &str| entry_with(&format!(r#""route_53_zone_id":"Z1",{LONG}{extra}"#));
        let config =
            Config::from_slice(with(r#","notify_on_change":true,"alert_after_secs":1800"#).as_bytes()).unwrap();
        let host = config.host("h.example.com").unwrap().config;
        assert!(host.notify_on_change);
        assert_eq!(host.alert_after_secs, Some(1800));
        // Off and unset are not written, so a seed config round-trips as it was.
        let plain = Config::from_slice(with("").as_bytes()).unwrap();
        assert!(!plain.to_json_pretty().contains("notify_on_change"));
        assert!(!plain.to_json_pretty().contains("alert_after_secs"));
        for bad in [0, 299, 301, 604_860, 700_000] {
            let err = Config::from_slice(with(&format!(r#","alert_after_secs":{bad}"#)).as_bytes())
                .unwrap_err()
                .to_string();
            assert!(err.contains("alert_after_secs must be whole minutes"), "{bad}: {err}");
        }
        for good in [300, 3600, 604_800] {
            assert!(Config::from_slice(with(&format!(r#","alert_after_secs":{good}"#)).as_bytes()).is_ok());
        }
    }

    #[test]
    fn acme_accounts_are_checked_found_by_username_and_never_shared() {
        let account = |user: &str, subdomain: &str, from: &str| {
            format!(
                r#""acme":{{"username":"{user}","key_sha256":"{}","subdomain":"{subdomain}","allow_from":[{from}]}}"#,
                "a".repeat(64)
            )
        };
        let (u1, s1) = (
            "c36f50e8-4632-44f0-83fe-e070fef28a10",
            "8e5700ea-a4bf-41c7-8a77-e990661dcc6a",
        );
        let entry = |name: &str, acme: &str| {
            format!(
                r#""{name}":{{"aws_region":"r","route_53_zone_id":"Z1","route_53_record_ttl":60,"route_53_record_type":"A",{LONG},{acme}}}"#
            )
        };
        let one = format!("{{{}}}", entry("h.example.com", &account(u1, s1, r#""192.0.2.0/24""#)));
        let config = Config::from_slice(one.as_bytes()).unwrap();
        let (host, found) = config.acme_account(&u1.to_uppercase()).unwrap();
        assert_eq!(host.name, "h.example.com");
        assert!(found.allows("192.0.2.9".parse().unwrap()));
        assert!(!found.allows("198.51.100.1".parse().unwrap()));
        assert!(config.acme_account("c36f50e8-4632-44f0-83fe-e070fef28a11").is_none());
        assert!(config.to_json_pretty().contains("key_sha256"));

        for (bad, why) in [
            (account("not-a-uuid", s1, ""), "acme.username is not a UUID"),
            (account(u1, "x", ""), "acme.subdomain is not a UUID"),
            (account(u1, s1, r#""example.com""#), "acme.allow_from holds"),
        ] {
            let text = format!("{{{}}}", entry("h.example.com", &bad));
            let err = Config::from_slice(text.as_bytes()).unwrap_err().to_string();
            assert!(err.contains(why), "{err}");
        }
        // Two hosts with one username (or one subdomain) would make an
        // update's target ambiguous.
        let shared = format!(
            "{{{},{}}}",
            entry("a.example.com", &account(u1, s1, "")),
            entry(
                "b.example.com",
                &account(u1, "f2d0e1c4-6a7b-4b8e-9c1d-2e3f4a5b6c7d", "")
            )
        );
        let err = Config::from_slice(shared.as_bytes()).unwrap_err().to_string();
        assert!(err.contains("another host's too"), "{err}");
    }

    #[test]
    fn secrets_have_a_minimum_length() {
        let with = |secret: &str| entry_with(&format!(r#""route_53_zone_id":"Z1","shared_secret":"{secret}""#));
        let short = "x".repeat(MIN_SECRET_LEN - 1);
        let err = Config::from_slice(with(&short).as_bytes()).unwrap_err().to_string();
        assert!(err.contains("shared_secret is shorter than 16 characters"), "{err}");
        assert!(!err.contains(&short), "{err}");
        assert!(Config::from_slice(with(&"x".repeat(MIN_SECRET_LEN)).as_bytes()).is_ok());
        // Characters, not bytes: 15 two-byte characters are still too short.
        assert!(Config::from_slice(with(&"é".repeat(MIN_SECRET_LEN - 1)).as_bytes()).is_err());
        // Parsing for repair takes it; validating does not.
        let parsed = Config::parse(with(&short).as_bytes()).unwrap();
        assert!(matches!(parsed.validate(), Err(ConfigError::BadValue { .. })));
    }

    #[test]
    fn errors_never_quote_config_values() {
        let secret = "hunter2hunter2hunter2";
        for text in [
            entry_with(r#""route_53_zone_id":"Z1","shared_secret":1234567890123456789"#),
            entry_with(&format!(r#""route_53_zone_id":"Z1","shared_secret":["{secret}"]"#)),
            entry_with(&format!(r#""route_53_zone_id":"{secret}",{LONG}"#)),
            entry_with(&format!(r#""route_53_zone_id":1234567890123456789,{LONG}"#)),
            format!(
                r#"{{"h.example.com.":{{"aws_region":"r","route_53_zone_id":"Z1","route_53_record_ttl":"{secret}","route_53_record_type":"A",{LONG}}}}}"#
            ),
            format!(
                r#"{{"h.example.com.":{{"aws_region":"r","route_53_zone_id":"Z1","route_53_record_ttl":60,"route_53_record_type":"{secret}",{LONG}}}}}"#
            ),
            entry_with(&format!(
                r#""route_53_zone_id":"Z1",{LONG},"username":{{"{secret}":1}}"#
            )),
            entry_with(&format!(
                r#""route_53_zone_id":"Z1",{LONG},"allow_private_addresses":"{secret}""#
            )),
            format!(r#""{secret}""#),
            format!(r#"{{"h.example.com.": {{"shared_secret": "{secret}" oops}}}}"#),
            format!(r#"{{"h.example.com.": "{secret}"}}"#),
        ] {
            let err = Config::from_slice(text.as_bytes()).unwrap_err().to_string();
            assert!(!err.contains(secret) && !err.contains("1234567890123456789"), "{err}");
        }
        let err =
            Config::from_slice(entry_with(r#""route_53_zone_id":"Z1","shared_secret":1234567890123456789"#).as_bytes())
                .unwrap_err()
                .to_string();
        assert!(
            err.contains("'h.example.com.'") && err.contains("shared_secret must be a string"),
            "{err}"
        );
        let err = Config::from_slice(entry_with(r#""route_53_zone_id":"Z1""#).as_bytes())
            .unwrap_err()
            .to_string();
        assert!(err.contains("the field shared_secret is missing"), "{err}");
        let err = Config::from_slice(b"{\n  \"h\": {,}\n}").unwrap_err().to_string();
        assert!(err.contains("not valid JSON (line 2"), "{err}");
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
    fn logins_find_hosts_by_name_and_by_username() {
        let entry = |user: Option<&str>| {
            let mut value = serde_json::json!({"aws_region":"r","route_53_zone_id":"Z1","route_53_record_ttl":60,
                "route_53_record_type":"A","shared_secret":"0123456789abcdef"});
            if let Some(user) = user {
                value["username"] = user.into();
            }
            value
        };
        let mut hosts = Map::new();
        for i in 0..5_000 {
            hosts.insert(format!("h{i}.example.com."), entry(None));
        }
        hosts.insert("a.example.com.".into(), entry(Some("Family")));
        hosts.insert("b.example.com.".into(), entry(Some("family")));
        // A host whose username is its own name is found once.
        hosts.insert("c.example.com.".into(), entry(Some("C.example.com.")));
        hosts.insert("family.example.com.".into(), entry(None));
        let mut config = Config::from_slice(Value::Object(hosts).to_string().as_bytes()).unwrap();
        let names =
            |config: &Config, user: &str| config.login(user).iter().map(|h| h.name.to_owned()).collect::<Vec<_>>();
        assert_eq!(names(&config, "FAMILY"), ["a.example.com.", "b.example.com."]);
        assert_eq!(names(&config, "h4999.EXAMPLE.com"), ["h4999.example.com."]);
        assert_eq!(names(&config, "c.example.com."), ["c.example.com."]);
        assert_eq!(names(&config, "family.example.com"), ["family.example.com."]);
        assert!(names(&config, "nobody").is_empty());
        assert!(names(&config, "").is_empty());
        // Edits take effect in the index.
        config.host_mut("h7.example.com").unwrap().username = Some("family".into());
        assert_eq!(
            names(&config, "family"),
            ["h7.example.com.", "a.example.com.", "b.example.com."]
        );
        config.remove("a.example.com");
        assert_eq!(names(&config, "family"), ["h7.example.com.", "b.example.com."]);
        let mut d = config.host("b.example.com").unwrap().config.clone();
        d.username = Some("Other".into());
        config.upsert("b.example.com.", d);
        assert_eq!(names(&config, "family"), ["h7.example.com."]);
        assert_eq!(names(&config, "other"), ["b.example.com."]);
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
