//! The dyndns2 protocol (`/nic/update`), spoken by ddclient, inadyn and
//! most home routers.
//!
//! Codes that concern the whole request (credentials, a malformed query, the
//! config) come once, with a 4xx or 5xx status so that clients which only
//! look at the status still notice. Codes about each host come one line per
//! host, in request order, with status 200 when at least one host was updated
//! or already current. When none was, the status is that of the first
//! failure (400, 404, 409 or 502), so a client's mistake is never a 200 and a
//! Route53 fault is a 5xx.

use std::collections::HashMap;
use std::net::IpAddr;

use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};

use crate::auth::{BasicCredentials, secret_matches};
use crate::config::{Config, Host, Secret};
use crate::hostname::{Hostname, lookup_key};
use crate::query::Query;
use crate::query::QueryError;
use crate::record::{Client, Line, Protocol, Reason, Verdict};
use crate::service::Service;
use crate::update::UpdateError;

/// The most hosts one request may name, as in the dyndns2 specification.
pub const MAX_HOSTS: usize = 20;

/// The realm sent with a Basic challenge.
pub const REALM: &str = "ddns";

/// A plain-text dyndns2 reply.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Reply {
    /// The HTTP status.
    pub status: StatusCode,
    /// One line per host, or one line for the whole request.
    pub lines: Vec<String>,
}

impl Reply {
    fn once(status: StatusCode, code: &str) -> Self {
        Self {
            status,
            lines: vec![code.to_owned()],
        }
    }
}

impl IntoResponse for Reply {
    fn into_response(self) -> Response {
        let mut body = self.lines.join("\n");
        body.push('\n');
        let mut response = (self.status, [(header::CONTENT_TYPE, "text/plain; charset=utf-8")], body).into_response();
        if self.status == StatusCode::UNAUTHORIZED {
            response.headers_mut().insert(
                header::WWW_AUTHENTICATE,
                HeaderValue::from_static("Basic realm=\"ddns\""),
            );
        }
        response
    }
}

/// A one-line answer for the whole request (`badagent`, `911`), for a front
/// door or layer that answers before [`handle`] does.
pub fn answer(status: StatusCode, code: &str) -> Reply {
    Reply::once(status, code)
}

/// Answers one `/nic/update` request from `client`, and logs its lines:
/// one per distinct host it names, or one if it was refused before naming
/// any.
pub async fn handle(
    service: &Service,
    client: &Client,
    authorization: Option<&HeaderValue>,
    query: Result<Query, QueryError>,
) -> Reply {
    let mut lines = Vec::new();
    let reply = match run(service, client.ip, authorization, query, &mut lines).await {
        Ok(reply) | Err(reply) => reply,
    };
    for line in &lines {
        line.log(client);
    }
    reply
}

async fn run(
    service: &Service,
    caller: IpAddr,
    authorization: Option<&HeaderValue>,
    query: Result<Query, QueryError>,
    log: &mut Vec<Line>,
) -> Result<Reply, Reply> {
    // A refusal of the whole request: one line for each host it names (or
    // one naming none), with the reason.
    // Which hosts the lines name, read before anything is checked so that
    // a refusal says which host it concerns; at most MAX_HOSTS of them.
    let named: Vec<&str> = match query.as_ref().map(|q| q.get("hostname")) {
        Ok(Ok(Some(list))) => list.split(',').map(str::trim).take(MAX_HOSTS).collect(),
        _ => Vec::new(),
    };
    let mut refuse = |status, code: &str, verdict| {
        let hosts = if named.is_empty() { &[""][..] } else { &named[..] };
        log.extend(hosts.iter().map(|host| Line::new(Protocol::Dyndns2, host, verdict)));
        Reply::once(status, code)
    };
    let Some(credentials) = authorization.and_then(|v| BasicCredentials::from_header(v.as_bytes())) else {
        return Err(refuse(
            StatusCode::UNAUTHORIZED,
            "badauth",
            Verdict::Refused(Reason::BadAuth),
        ));
    };
    let badagent = Verdict::Refused(Reason::BadRequest);
    let Ok(query) = query.as_ref() else {
        return Err(refuse(StatusCode::BAD_REQUEST, "badagent", badagent));
    };
    let hostnames: Vec<&str> = match query.get("hostname") {
        Ok(Some(list)) if !list.trim().is_empty() => list.split(',').map(str::trim).collect(),
        Ok(_) => {
            return Err(refuse(
                StatusCode::BAD_REQUEST,
                "notfqdn",
                Verdict::Refused(Reason::NotFqdn),
            ));
        }
        Err(_) => return Err(refuse(StatusCode::BAD_REQUEST, "badagent", badagent)),
    };
    if hostnames.len() > MAX_HOSTS {
        return Err(refuse(
            StatusCode::BAD_REQUEST,
            "numhost",
            Verdict::Refused(Reason::NoHost),
        ));
    }
    let Some(offered) = offered_addresses(query, caller) else {
        return Err(refuse(
            StatusCode::BAD_REQUEST,
            "badip",
            Verdict::Refused(Reason::BadIp),
        ));
    };

    let config = match service.config().await {
        Ok(config) => config,
        Err(err) => {
            // Debug-formatted, so that nothing the config holds can break the line.
            tracing::error!(error = ?err.to_string(), "config unavailable");
            return Err(refuse(
                StatusCode::INTERNAL_SERVER_ERROR,
                "911",
                Verdict::Failed(Reason::NoConfig),
            ));
        }
    };
    // Only the hosts this username names can match, found through the
    // config's index: trying every host made each request cost time in
    // proportion to the config's size.
    let logins = config.login(&credentials.username);
    if logins.is_empty() {
        // Compare anyway, so that an unknown username takes as long as a
        // wrong password. The name is not logged: it may be anything,
        // including a secret typed into the wrong field.
        let _ = secret_matches(credentials.password.expose(), &Secret::new(String::new()));
        return Err(refuse(
            StatusCode::UNAUTHORIZED,
            "badauth",
            Verdict::Refused(Reason::BadAuth),
        ));
    }
    if !logins.iter().any(|host| authorized(&credentials, *host)) {
        return Err(refuse(
            StatusCode::UNAUTHORIZED,
            "badauth",
            Verdict::Refused(Reason::BadAuth),
        ));
    }

    // Each distinct host is read and written once, however often the
    // request names it (in whatever spelling): twenty mentions of one host
    // would otherwise cost twenty Route53 reads. The answer is still one
    // line per name, in order; see `repeated` for what a repeat says.
    let mut answered: HashMap<String, (String, StatusCode)> = HashMap::new();
    let mut lines = Vec::with_capacity(hostnames.len());
    let mut statuses = Vec::with_capacity(hostnames.len());
    for name in hostnames {
        let (line, status) = match answered.get(&lookup_key(name)) {
            Some((line, status)) => (repeated(line), *status),
            None => {
                let (answer, line) = update_one(service, &config, &credentials, name, &offered).await;
                log.push(line);
                answered.insert(lookup_key(name), answer.clone());
                answer
            }
        };
        lines.push(line);
        statuses.push(status);
    }
    Ok(Reply {
        status: overall_status(&statuses),
        lines,
    })
}

/// The answer for a host the request already named: what updating it again
/// would have said. After `good` the record holds the addresses, so a repeat
/// is `nochg` with the same addresses (as when each mention was a separate
/// update); any other answer (`nochg`, `nohost`, `badip`, `dnserr`, ...) is
/// repeated as it was.
fn repeated(first: &str) -> String {
    match first.strip_prefix("good ") {
        Some(addresses) => format!("nochg {addresses}"),
        None => first.to_owned(),
    }
}

/// 200 when any host succeeded, otherwise the first host's failure status.
fn overall_status(statuses: &[StatusCode]) -> StatusCode {
    statuses
        .iter()
        .copied()
        .find(StatusCode::is_success)
        .or_else(|| statuses.first().copied())
        .unwrap_or(StatusCode::OK)
}

async fn update_one(
    service: &Service,
    config: &Config,
    credentials: &BasicCredentials,
    name: &str,
    offered: &[IpAddr],
) -> ((String, StatusCode), Line) {
    let fail = |code: &str, status, reason| {
        let verdict = match reason {
            Reason::DnsErr => Verdict::Failed(reason),
            _ => Verdict::Refused(reason),
        };
        let line = Line::new(Protocol::Dyndns2, name, verdict).values(&[], offered);
        ((code.to_owned(), status), line)
    };
    if Hostname::parse(name).is_err() {
        return fail("notfqdn", StatusCode::BAD_REQUEST, Reason::NotFqdn);
    }
    // A host these credentials may not update is reported as absent, as the
    // specification has it, so that a login cannot probe for other hosts.
    let Some(host) = config.host(name).filter(|host| authorized(credentials, *host)) else {
        return fail("nohost", StatusCode::NOT_FOUND, Reason::NoHost);
    };
    match service.update(host, offered).await {
        Ok(outcome) => {
            let (code, verdict) = match outcome.changed {
                true => ("good", Verdict::Changed),
                false => ("nochg", Verdict::Unchanged),
            };
            let addresses: Vec<String> = outcome.addresses.iter().map(IpAddr::to_string).collect();
            let line = Line::new(Protocol::Dyndns2, host.name, verdict).values(&outcome.previous, &outcome.addresses);
            ((format!("{code} {}", addresses.join(" ")), StatusCode::OK), line)
        }
        Err(UpdateError::WrongFamily { .. } | UpdateError::NotPublic { .. }) => {
            fail("badip", StatusCode::BAD_REQUEST, Reason::BadIp)
        }
        // The specification's code for an attempt to update a round robin.
        Err(UpdateError::MultipleValues { .. }) => fail("numhost", StatusCode::CONFLICT, Reason::NumHost),
        Err(UpdateError::Dns(_)) => fail("dnserr", StatusCode::BAD_GATEWAY, Reason::DnsErr),
    }
}

/// Whether `credentials` may update `host`: the username is the hostname or
/// the host's `username`, and the password is its secret.
fn authorized(credentials: &BasicCredentials, host: Host<'_>) -> bool {
    let user = &credentials.username;
    let named = lookup_key(user) == lookup_key(host.name)
        || host
            .config
            .username
            .as_deref()
            .is_some_and(|u| u.eq_ignore_ascii_case(user));
    named && secret_matches(credentials.password.expose(), &host.config.shared_secret)
}

/// The addresses to publish: `myip` (one address, or an IPv4 and an IPv6
/// separated by a comma) and `myipv6`, or the caller's own address when
/// neither is given. `None` if a value is not an address, a parameter is
/// repeated, a family is given twice, or `myipv6` holds anything but an
/// IPv6 address.
fn offered_addresses(query: &Query, caller: IpAddr) -> Option<Vec<IpAddr>> {
    let mut given = Vec::new();
    for (name, v6) in [("myip", false), ("myipv6", true)] {
        let value = query.get(name).ok()?.unwrap_or("");
        for part in value.split(',').map(str::trim).filter(|p| !p.is_empty()) {
            let ip = part.parse::<IpAddr>().ok()?.to_canonical();
            // Each parameter names one record: `myip` the A record and
            // `myipv6` the AAAA record. An address of the other family
            // (also an IPv4 written as ::ffff:a.b.c.d) would quietly rewrite
            // the record the client did not name.
            if ip.is_ipv6() != v6 {
                return None;
            }
            given.push(ip);
        }
    }
    if given.is_empty() {
        return Some(vec![caller]);
    }
    let v4 = given.iter().filter(|ip| ip.is_ipv4()).count();
    (v4 <= 1 && given.len() - v4 <= 1).then_some(given)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn offered(query: &str) -> Option<Vec<IpAddr>> {
        offered_addresses(&Query::parse(Some(query)).unwrap(), "198.51.100.9".parse().unwrap())
    }

    #[test]
    fn chooses_addresses() {
        let ip = |s: &str| s.parse::<IpAddr>().unwrap();
        assert_eq!(offered(""), Some(vec![ip("198.51.100.9")]));
        assert_eq!(offered("myip="), Some(vec![ip("198.51.100.9")]));
        assert_eq!(offered("myip=203.0.113.1"), Some(vec![ip("203.0.113.1")]));
        assert_eq!(offered("myip=203.0.113.1,2001:db8::1"), None);
        assert_eq!(offered("myip=2001:db8::1"), None);
        assert_eq!(
            offered("myip=203.0.113.1&myipv6=2001:db8::1"),
            Some(vec![ip("203.0.113.1"), ip("2001:db8::1")])
        );
        assert_eq!(offered("myipv6=2001:db8::1"), Some(vec![ip("2001:db8::1")]));
        assert_eq!(offered("myip=::ffff:203.0.113.1"), Some(vec![ip("203.0.113.1")]));
        assert_eq!(offered("myip=1.2.3.4,5.6.7.8"), None);
        assert_eq!(offered("myip=nonsense"), None);
        assert_eq!(offered("myip=1.2.3.4&myip=5.6.7.8"), None);
    }

    #[test]
    fn myipv6_takes_ipv6_only() {
        assert_eq!(offered("myipv6=9.9.9.12"), None);
        assert_eq!(offered("myipv6=::ffff:9.9.9.12"), None);
        assert_eq!(offered("myip=203.0.113.1&myipv6=203.0.113.2"), None);
        assert_eq!(offered("myipv6=2001:db8::1,9.9.9.12"), None);
        assert_eq!(
            offered("myip=203.0.113.1&myipv6=2001:db8::1"),
            Some(vec!["203.0.113.1".parse().unwrap(), "2001:db8::1".parse().unwrap()])
        );
    }
}
