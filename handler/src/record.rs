//! The request log: one line per host a request names (one line for a
//! request that names none), the record `ddns-ctl logs`, `host list`'s LAST
//! SEEN and the silence alarms read back.
//!
//! Lines go through `tracing` with the message [`MESSAGE`] and always the
//! same fields (see [`Line`]), every one a string. The deployed function
//! runs with Lambda's JSON log format, so lambda_runtime's subscriber prints
//! each as one JSON object with the fields under `"fields"`:
//!
//! ```text
//! {"level":"INFO","fields":{"message":"request","protocol":"dyndns2","host":"home.example.com",
//!  "result":"changed","reason":"","old":"198.51.100.7","new":"203.0.113.10",
//!  "caller":"203.0.113.10","user_agent":"ddclient/3.11.2"},"span":{…},"spans":[…]}
//! ```
//!
//! JSON rather than a text form because CloudWatch reads it without a
//! parser of ours: metric filters select `$.fields.host` exactly, and Logs
//! Insights finds `fields.host` by itself. The same fields in the text
//! format (`ddns-ctl serve`) are quoted and escaped by the subscriber, so a
//! hostile user agent cannot end a line there either.
//!
//! Never in a line: a secret, a hash, an Authorization header, or a dyndns2
//! username (one may be a password typed into the wrong field).

use std::net::IpAddr;

use crate::hostname::Hostname;

/// The message of every request line.
pub const MESSAGE: &str = "request";

/// The longest user agent a line keeps, in characters.
pub const MAX_USER_AGENT: usize = 200;

/// Who called: what the front door and the headers say about the client.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Client {
    /// The caller's address, as the front door established it.
    pub ip: IpAddr,
    /// The `User-Agent` header, cut to [`MAX_USER_AGENT`] characters; empty
    /// if there was none.
    pub user_agent: String,
}

impl Client {
    /// A client at `ip` that sent `user_agent` (raw header bytes, which need
    /// not be UTF-8).
    pub fn new(ip: IpAddr, user_agent: Option<&[u8]>) -> Self {
        let user_agent = user_agent
            .map(|bytes| String::from_utf8_lossy(bytes).chars().take(MAX_USER_AGENT).collect())
            .unwrap_or_default();
        Self { ip, user_agent }
    }
}

/// Which API a request spoke.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Protocol {
    /// The blog post's `mode=get` / `mode=set`.
    Seed,
    /// `/nic/update`.
    Dyndns2,
    /// `/myip`.
    MyIp,
    /// acme-dns's `/acme-dns/update`: the host is the TXT record's name,
    /// `_acme-challenge.HOST`, so these lines never count as the host's
    /// check-ins.
    AcmeDns,
}

impl Protocol {
    /// The name in the line.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Seed => "seed",
            Self::Dyndns2 => "dyndns2",
            Self::MyIp => "myip",
            Self::AcmeDns => "acme-dns",
        }
    }
}

/// What came of a request for one host.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verdict {
    /// A question with no host (`mode=get`, `/myip`) was answered.
    Answered,
    /// The host's records were written.
    Changed,
    /// The host's records already held the address.
    Unchanged,
    /// The client's mistake; the reason is one of the [`Reason`] codes.
    Refused(Reason),
    /// A fault on the service's side.
    Failed(Reason),
}

impl Verdict {
    /// The `result` field.
    pub fn result(self) -> &'static str {
        match self {
            Self::Answered => "answered",
            Self::Changed => "changed",
            Self::Unchanged => "unchanged",
            Self::Refused(_) => "refused",
            Self::Failed(_) => "failed",
        }
    }

    /// The `reason` field: empty unless refused or failed.
    pub fn reason(self) -> &'static str {
        match self {
            Self::Refused(reason) | Self::Failed(reason) => reason.as_str(),
            _ => "",
        }
    }

    /// Whether the host made an accepted request (what LAST SEEN and the
    /// silence alarms count).
    pub fn accepted(self) -> bool {
        matches!(self, Self::Changed | Self::Unchanged)
    }
}

/// Why a request was refused or failed, in dyndns2's vocabulary for both
/// protocols, so that one filter finds the same trouble in either.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Reason {
    /// A malformed query: unknown mode, missing or repeated parameter, a
    /// hash that is not one.
    BadRequest,
    /// Wrong or missing credentials, or an unknown host (which answers the
    /// same, so as not to tell which names exist).
    BadAuth,
    /// A hostname that is not a fully qualified name.
    NotFqdn,
    /// A host these credentials may not update, or too many hosts.
    NoHost,
    /// An address of a family the host does not keep, or not public.
    BadIp,
    /// The record holds several values.
    NumHost,
    /// Route53 could not be read or written.
    DnsErr,
    /// The config could not be read.
    NoConfig,
    /// The request did not finish inside its deadline.
    Timeout,
}

impl Reason {
    /// The code in the line.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::BadRequest => "badrequest",
            Self::BadAuth => "badauth",
            Self::NotFqdn => "notfqdn",
            Self::NoHost => "nohost",
            Self::BadIp => "badip",
            Self::NumHost => "numhost",
            Self::DnsErr => "dnserr",
            Self::NoConfig => "noconfig",
            Self::Timeout => "timeout",
        }
    }
}

/// One line of the request log.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Line {
    /// The protocol.
    pub protocol: Protocol,
    /// The host, lower case and without the trailing dot; empty when the
    /// request named none, or named something that is not a hostname.
    pub host: String,
    /// What came of it.
    pub verdict: Verdict,
    /// The values the host's records held before, space-separated.
    pub old: String,
    /// The addresses the request asked for (and, unless refused, that the
    /// records now hold), space-separated.
    pub new: String,
}

impl Line {
    /// A line for `host` as a request named it: kept only if it is a
    /// hostname, so that the field never carries arbitrary text.
    pub fn new(protocol: Protocol, host: &str, verdict: Verdict) -> Self {
        Self {
            protocol,
            host: Hostname::parse(host)
                .map(|h| normalized(h.as_str()))
                .unwrap_or_default(),
            verdict,
            old: String::new(),
            new: String::new(),
        }
    }

    /// With the values before and after.
    pub fn values(mut self, old: &[String], new: &[IpAddr]) -> Self {
        self.old = old.join(" ");
        self.new = new.iter().map(IpAddr::to_string).collect::<Vec<_>>().join(" ");
        self
    }

    /// Writes the line: INFO, or ERROR for a fault of the service's own.
    pub fn log(&self, client: &Client) {
        let (protocol, host, result, reason) = (
            self.protocol.as_str(),
            self.host.as_str(),
            self.verdict.result(),
            self.verdict.reason(),
        );
        let (old, new, caller, user_agent) = (
            self.old.as_str(),
            self.new.as_str(),
            client.ip.to_string(),
            client.user_agent.as_str(),
        );
        // Field order is the order a reader wants: who, what, how, from where.
        if matches!(self.verdict, Verdict::Failed(_)) {
            tracing::error!(protocol, host, result, reason, old, new, caller, user_agent, "request");
        } else {
            tracing::info!(protocol, host, result, reason, old, new, caller, user_agent, "request");
        }
    }
}

/// A request line as read back from the log: the fields of [`Line`] and
/// [`Client`] as strings, whatever this version would have written.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Logged {
    /// `seed`, `dyndns2` or `myip`.
    #[serde(default)]
    pub protocol: String,
    /// The host; empty if none.
    #[serde(default)]
    pub host: String,
    /// `answered`, `changed`, `unchanged`, `refused` or `failed`.
    #[serde(default)]
    pub result: String,
    /// The reason code, for `refused` and `failed`.
    #[serde(default)]
    pub reason: String,
    /// The values before.
    #[serde(default)]
    pub old: String,
    /// The addresses asked for.
    #[serde(default)]
    pub new: String,
    /// The caller's address.
    #[serde(default)]
    pub caller: String,
    /// The user agent.
    #[serde(default)]
    pub user_agent: String,
}

impl Logged {
    /// The request in a log event's message, if it is a request line in
    /// the JSON format: `{"fields":{"message":"request",…},…}`. Any other
    /// line (Lambda's own, a warning, text) is `None`.
    pub fn parse(message: &str) -> Option<Self> {
        #[derive(serde::Deserialize)]
        struct Event {
            fields: Fields,
        }
        #[derive(serde::Deserialize)]
        struct Fields {
            message: String,
            #[serde(flatten)]
            logged: Logged,
        }
        let event: Event = serde_json::from_str(message).ok()?;
        (event.fields.message == MESSAGE).then_some(event.fields.logged)
    }
}

/// A host name as lines carry it: lower case, no trailing dot.
pub fn normalized(host: &str) -> String {
    host.trim_end_matches('.').to_ascii_lowercase()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_hostnames_reach_the_host_field() {
        let line = |host: &str| Line::new(Protocol::Seed, host, Verdict::Answered).host;
        assert_eq!(line("Home.Example.COM."), "home.example.com");
        assert_eq!(line("not a host\n{\"forged\":1}"), "");
        assert_eq!(line(""), "");
    }

    #[test]
    fn user_agents_are_cut_and_made_text() {
        let ip = "203.0.113.9".parse().unwrap();
        let long = "x".repeat(MAX_USER_AGENT + 50);
        assert_eq!(Client::new(ip, Some(long.as_bytes())).user_agent.len(), MAX_USER_AGENT);
        assert_eq!(Client::new(ip, Some(b"ua\xff")).user_agent, "ua\u{fffd}");
        assert_eq!(Client::new(ip, None).user_agent, "");
    }

    #[test]
    fn request_lines_are_read_back_and_other_lines_are_not() {
        let line = r#"{"level":"INFO","fields":{"message":"request","protocol":"dyndns2","host":"home.example.com","result":"changed","reason":"","old":"198.51.100.7","new":"203.0.113.10","caller":"203.0.113.10","user_agent":"ddclient/3.11"},"span":{"requestId":"r"}}"#;
        let logged = Logged::parse(line).unwrap();
        assert_eq!(
            (
                logged.host.as_str(),
                logged.result.as_str(),
                logged.old.as_str(),
                logged.new.as_str()
            ),
            ("home.example.com", "changed", "198.51.100.7", "203.0.113.10")
        );
        for other in [
            r#"{"time":"2026-12-01T00:00:00Z","type":"platform.start","record":{}}"#,
            r#"{"level":"WARN","fields":{"message":"change notification failed","host":"h"}}"#,
            "INFO request protocol=\"seed\"",
            "",
        ] {
            assert_eq!(Logged::parse(other), None, "{other}");
        }
    }

    #[test]
    fn results_and_reasons() {
        assert_eq!(Verdict::Refused(Reason::BadAuth).result(), "refused");
        assert_eq!(Verdict::Refused(Reason::BadAuth).reason(), "badauth");
        assert_eq!(Verdict::Changed.reason(), "");
        assert!(Verdict::Unchanged.accepted() && Verdict::Changed.accepted());
        assert!(!Verdict::Refused(Reason::BadIp).accepted() && !Verdict::Answered.accepted());
    }
}
