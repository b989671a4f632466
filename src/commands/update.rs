//! `ddns-ctl update`: the client side, for cron, a systemd timer or a
//! long-running loop. It speaks either protocol over IPv4, IPv6 or both. Each
//! connection is held to its family (the local address it binds, and only
//! the endpoint's addresses of that family), so the service sees, and
//! publishes, the address of that family and never the other's. An endpoint
//! that cannot be reached over a family from this machine is said to be so.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};
use std::sync::Arc;
use std::time::Duration;

use anyhow::Context as _;
use ddns_handler::config::Secret;

use super::Exit;
use crate::cli::{GlobalArgs, Protocol, UpdateArgs};

/// What one update attempt came to.
#[derive(Debug, PartialEq, Eq)]
enum Attempt {
    /// The record was changed.
    Changed(String),
    /// The record already held the address.
    Unchanged(String),
    /// The service refused: fixing it needs a person (secret, host, address).
    Refused(String),
    /// A network or server fault: worth retrying.
    Failed(String),
    /// The endpoint cannot be reached over this family from here (an
    /// address of the other family, no address of this one, no route): why.
    Unreachable(String),
}

/// An address family, with the record it updates.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Family {
    V4,
    V6,
}

impl Family {
    fn of(ip: IpAddr) -> Self {
        match ip.to_canonical() {
            IpAddr::V4(_) => Self::V4,
            IpAddr::V6(_) => Self::V6,
        }
    }

    fn unspecified(self) -> IpAddr {
        match self {
            Self::V4 => IpAddr::V4(Ipv4Addr::UNSPECIFIED),
            Self::V6 => IpAddr::V6(Ipv6Addr::UNSPECIFIED),
        }
    }

    fn record(self) -> &'static str {
        match self {
            Self::V4 => "A",
            Self::V6 => "AAAA",
        }
    }
}

impl std::fmt::Display for Family {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Self::V4 => "IPv4",
            Self::V6 => "IPv6",
        })
    }
}

/// Why the endpoint cannot be reached over a family; found again in
/// reqwest's error chain by type.
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
struct NotReachable(String);

/// The system resolver, keeping only the addresses of one family: otherwise
/// the connection would fall back to the other family (happy eyeballs) and
/// the service would publish that family's address.
struct FamilyResolver(Family);

impl reqwest::dns::Resolve for FamilyResolver {
    fn resolve(&self, name: reqwest::dns::Name) -> reqwest::dns::Resolving {
        let family = self.0;
        Box::pin(async move {
            let host = name.as_str().to_owned();
            let all: Vec<SocketAddr> = tokio::net::lookup_host((host.as_str(), 0)).await?.collect();
            let kept = of_family(&all, family);
            if kept.is_empty() {
                let why = format!("{host} has no {family} address ({} record)", family.record());
                return Err(Box::new(NotReachable(why)) as _);
            }
            Ok(Box::new(kept.into_iter()) as reqwest::dns::Addrs)
        })
    }
}

fn of_family(addrs: &[SocketAddr], family: Family) -> Vec<SocketAddr> {
    addrs.iter().copied().filter(|a| Family::of(a.ip()) == family).collect()
}

/// `Err` when `base` names an address of the other family: reqwest connects
/// to an address in the URL without asking the resolver.
fn literal_fits(base: &reqwest::Url, family: Family) -> Result<(), String> {
    let host = base.host_str().unwrap_or_default();
    match host.trim_start_matches('[').trim_end_matches(']').parse::<IpAddr>() {
        Ok(ip) if Family::of(ip) != family => Err(format!("{ip} is an {} address", Family::of(ip))),
        _ => Ok(()),
    }
}

/// Runs once, or forever with `--every`.
pub async fn run(global: &GlobalArgs, args: UpdateArgs) -> anyhow::Result<Exit> {
    let secret = match &args.secret_file {
        Some(path) => std::fs::read_to_string(path).with_context(|| format!("cannot read {}", path.display()))?,
        None => std::env::var("DDNS_SECRET").context("no secret: pass --secret-file FILE or set DDNS_SECRET")?,
    };
    let secret = secret.trim().to_owned();
    if secret.is_empty() {
        anyhow::bail!("the secret is empty");
    }
    let base = reqwest::Url::parse(&args.url).with_context(|| format!("'{}' is not a URL", args.url))?;
    if base.scheme() == "http" {
        match args.protocol {
            // dyndns2 sends the secret itself, in the Authorization header.
            Protocol::Dyndns2 if !args.insecure_http => anyhow::bail!(
                "refusing to send the secret unencrypted to {base}: use the https:// endpoint, \
                 or pass --insecure-http for a server on your own network"
            ),
            Protocol::Dyndns2 => {}
            // The seed API sends a proof, not the secret, but anyone on the
            // path can replay it from this address.
            Protocol::Seed if !args.insecure_http => eprintln!(
                "warning: {base} is not encrypted: the update's proof can be read and replayed on the way \
                 (--insecure-http silences this)"
            ),
            Protocol::Seed => {}
        }
    }
    let families: &[Family] = match (args.ipv6, args.dual) {
        (_, true) => &[Family::V4, Family::V6],
        (true, _) => &[Family::V6],
        _ => &[Family::V4],
    };
    let clients = families
        .iter()
        .map(|&family| {
            reqwest::Client::builder()
                .local_address(family.unspecified())
                .dns_resolver(Arc::new(FamilyResolver(family)))
                .timeout(Duration::from_secs(30))
                .user_agent(concat!("ddns-ctl/", env!("CARGO_PKG_VERSION")))
                .build()
                .map(|client| (family, client))
        })
        .collect::<Result<Vec<_>, _>>()
        .context("cannot set up the HTTP client")?;

    let mut failures = 0u32;
    loop {
        let attempts = {
            let mut attempts = Vec::new();
            for (family, client) in &clients {
                let attempt = match literal_fits(&base, *family) {
                    Err(why) => Attempt::Unreachable(why),
                    Ok(()) => match args.protocol {
                        Protocol::Seed => seed(client, &base, &args.hostname, &secret).await,
                        Protocol::Dyndns2 => dyndns2(client, &base, &args.hostname, &secret).await,
                    },
                };
                attempts.push((*family, attempt));
            }
            attempts
        };
        // With --dual, a family this machine or the endpoint does not have
        // is a warning when the other family got through: an IPv4-only host
        // keeps its A record current, and its timer does not fail forever.
        let reached = attempts.iter().any(|(_, a)| !matches!(a, Attempt::Unreachable(_)));
        let mut exit = Exit::Ok;
        for (family, attempt) in attempts {
            match attempt {
                Attempt::Changed(message) => println!("{message}"),
                Attempt::Unchanged(message) if global.verbose > 0 => println!("{message}"),
                Attempt::Unchanged(_) => {}
                Attempt::Refused(message) => {
                    eprintln!("error: the service refused the update: {message}");
                    exit = Exit::Refused;
                }
                Attempt::Failed(message) => {
                    eprintln!("error: the update failed: {message}");
                    if exit == Exit::Ok {
                        exit = Exit::Failure;
                    }
                }
                Attempt::Unreachable(why) if reached => {
                    eprintln!(
                        "warning: {} not updated: the endpoint is not reachable over {family} ({why})",
                        family.record()
                    );
                }
                Attempt::Unreachable(why) => {
                    eprintln!(
                        "error: cannot update {}: the endpoint is not reachable over {family} ({why})",
                        family.record()
                    );
                    if exit == Exit::Ok {
                        exit = Exit::Failure;
                    }
                }
            }
        }
        let Some(interval) = args.every else { return Ok(exit) };
        // After a failure, try again sooner, backing off: 10 s, 20 s, 40 s…
        // up to the interval.
        failures = if exit == Exit::Failure { failures + 1 } else { 0 };
        let wait = match failures {
            0 => interval,
            n => (Duration::from_secs(10) * 2u32.pow((n - 1).min(10))).min(interval),
        };
        tokio::time::sleep(wait).await;
    }
}

/// The most of an answer the client reads: the service's answers are a few
/// dozen bytes, and a server that sends more is not the service.
const MAX_ANSWER: usize = 16 * 1024;
/// The most of an answer's text the client prints.
const MAX_SHOWN: usize = 200;

/// The blog post's flow: ask for the address, prove the secret, set.
async fn seed(client: &reqwest::Client, base: &reqwest::Url, host: &str, secret: &str) -> Attempt {
    let get = match seed_call(client.get(base.clone()).query(&[("mode", "get")])).await {
        Ok(answer) => answer,
        Err(attempt) => return attempt,
    };
    if !get.success {
        return classify(get.status, get.message);
    }
    // The proof covers the address exactly as the service sent it, so it
    // must be an address, not whatever text a server chose.
    let Ok(ip) = get.message.parse::<IpAddr>() else {
        return Attempt::Failed(format!(
            "mode=get answered {:?}, which is not an address",
            shown(&get.message)
        ));
    };
    let hash = ddns_handler::auth::seed_hash(&ip.to_string(), host, &Secret::new(secret.to_owned()));
    let request = client
        .get(base.clone())
        .query(&[("mode", "set"), ("hostname", host), ("hash", &hash)]);
    match seed_call(request).await {
        Ok(set) if set.success && set.message.contains("matches") => {
            Attempt::Unchanged(format!("{host}: {}", shown(&set.message)))
        }
        Ok(set) if set.success => Attempt::Changed(format!("{host}: {}", shown(&set.message))),
        Ok(set) => classify(set.status, set.message),
        Err(attempt) => attempt,
    }
}

/// A seed API answer, checked for its shape.
struct SeedAnswer {
    status: reqwest::StatusCode,
    /// A 2xx status and `"return_status": "success"`.
    success: bool,
    message: String,
}

/// One GET of the seed API. Anything but the seed's JSON object with two
/// strings, `return_status` being "success" or "fail", is a failure.
async fn seed_call(request: reqwest::RequestBuilder) -> Result<SeedAnswer, Attempt> {
    let response = request.send().await.map_err(Attempt::from)?;
    let status = response.status();
    let body = read_capped(response).await.map_err(Attempt::Failed)?;
    let not_seed = || {
        format!(
            "the service answered {status} with something that is not its JSON: {:?}",
            shown(&String::from_utf8_lossy(&body))
        )
    };
    let body: serde_json::Value = serde_json::from_slice(&body).map_err(|_| Attempt::Failed(not_seed()))?;
    let (Some(outcome), Some(message)) = (body["return_status"].as_str(), body["return_message"].as_str()) else {
        return Err(Attempt::Failed(not_seed()));
    };
    if !matches!(outcome, "success" | "fail") {
        return Err(Attempt::Failed(not_seed()));
    }
    Ok(SeedAnswer {
        status,
        success: status.is_success() && outcome == "success",
        message: message.to_owned(),
    })
}

/// The body, or an error once it passes [`MAX_ANSWER`].
async fn read_capped(mut response: reqwest::Response) -> Result<Vec<u8>, String> {
    let mut body = Vec::new();
    while let Some(chunk) = response.chunk().await.map_err(describe)? {
        if body.len() + chunk.len() > MAX_ANSWER {
            return Err(format!(
                "the answer is larger than {} KiB, which the service never sends",
                MAX_ANSWER / 1024
            ));
        }
        body.extend_from_slice(&chunk);
    }
    Ok(body)
}

/// Server text as it may be printed: no control characters (which could
/// move the cursor, retitle the terminal or forge lines), and not too long.
fn shown(text: &str) -> String {
    let mut clean: String = text
        .chars()
        .map(|c| if c.is_control() { '\u{fffd}' } else { c })
        .take(MAX_SHOWN)
        .collect();
    if text.chars().count() > MAX_SHOWN {
        clean.push('…');
    }
    clean
}

fn classify(status: reqwest::StatusCode, message: String) -> Attempt {
    let message = shown(&message);
    // 429 is API Gateway's throttling: worth retrying, not a refusal.
    if status.is_client_error() && status != reqwest::StatusCode::TOO_MANY_REQUESTS {
        Attempt::Refused(format!("{status}: {message}"))
    } else {
        Attempt::Failed(format!("{status}: {message}"))
    }
}

/// dyndns2: Basic auth, no `myip`, so the service takes the address this
/// connection comes from.
async fn dyndns2(client: &reqwest::Client, base: &reqwest::Url, host: &str, secret: &str) -> Attempt {
    let url = match base.join("nic/update") {
        Ok(url) => url,
        Err(e) => return Attempt::Failed(e.to_string()),
    };
    let request = client
        .get(url)
        .query(&[("hostname", host)])
        .basic_auth(host, Some(secret));
    let response = match request.send().await {
        Ok(response) => response,
        Err(e) => return Attempt::from(e),
    };
    let status = response.status();
    let body = match read_capped(response).await {
        Ok(body) => String::from_utf8_lossy(&body).into_owned(),
        Err(message) => return Attempt::Failed(message),
    };
    let line = shown(body.lines().next().unwrap_or_default().trim());
    match line.split_whitespace().next().unwrap_or_default() {
        "good" => Attempt::Changed(format!("{host}: {line}")),
        "nochg" => Attempt::Unchanged(format!("{host}: {line}")),
        "dnserr" | "911" => Attempt::Failed(format!("{status}: {line}")),
        _ if status.is_server_error() || status == reqwest::StatusCode::TOO_MANY_REQUESTS => {
            Attempt::Failed(format!("{status}: {line}"))
        }
        _ => Attempt::Refused(format!("{status}: {line}")),
    }
}

/// A transport error, without its URL: a set's URL carries the proof.
fn describe(err: reqwest::Error) -> String {
    ddns_handler::error_chain(&err.without_url())
}

impl From<reqwest::Error> for Attempt {
    /// A failed request: unreachable when the endpoint has no address of the
    /// family or this machine no route to it (what a host without IPv6
    /// sees), else a failure worth retrying.
    fn from(err: reqwest::Error) -> Self {
        let err = err.without_url();
        let causes = || std::iter::successors(Some(&err as &(dyn std::error::Error + 'static)), |&e| e.source());
        if let Some(not) = causes().find_map(|e| e.downcast_ref::<NotReachable>()) {
            return Self::Unreachable(not.to_string());
        }
        let no_route = causes().find_map(|e| e.downcast_ref::<std::io::Error>()).filter(|io| {
            use std::io::ErrorKind::{AddrNotAvailable, HostUnreachable, NetworkUnreachable};
            // EAFNOSUPPORT: the kernel has no IPv6 at all.
            matches!(io.kind(), NetworkUnreachable | HostUnreachable | AddrNotAvailable)
                || io.raw_os_error() == Some(97)
        });
        match no_route {
            Some(io) => Self::Unreachable(format!("this machine has no route to it: {io}")),
            None => Self::Failed(describe(err)),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use reqwest::StatusCode;

    #[test]
    fn a_connection_keeps_to_its_family() {
        let addrs: Vec<SocketAddr> = ["192.0.2.1:443", "[2001:db8::1]:443", "[::ffff:192.0.2.2]:443"]
            .iter()
            .map(|a| a.parse().unwrap())
            .collect();
        assert_eq!(of_family(&addrs, Family::V4), [addrs[0], addrs[2]]);
        assert_eq!(of_family(&addrs, Family::V6), [addrs[1]]);
        let url = |u: &str| reqwest::Url::parse(u).unwrap();
        assert_eq!(
            literal_fits(&url("http://127.0.0.1:1/"), Family::V6),
            Err("127.0.0.1 is an IPv4 address".to_owned())
        );
        assert_eq!(
            literal_fits(&url("http://[::1]:1/"), Family::V4),
            Err("::1 is an IPv6 address".to_owned())
        );
        assert_eq!(literal_fits(&url("http://[::1]:1/"), Family::V6), Ok(()));
        // A name is the resolver's to filter.
        assert_eq!(literal_fits(&url("https://example.com/"), Family::V6), Ok(()));
    }

    #[test]
    fn throttling_and_server_faults_are_retried_client_mistakes_are_not() {
        assert!(matches!(
            classify(StatusCode::TOO_MANY_REQUESTS, String::new()),
            Attempt::Failed(_)
        ));
        assert!(matches!(
            classify(StatusCode::BAD_GATEWAY, String::new()),
            Attempt::Failed(_)
        ));
        assert!(matches!(
            classify(StatusCode::FORBIDDEN, String::new()),
            Attempt::Refused(_)
        ));
        assert!(matches!(
            classify(StatusCode::NOT_FOUND, String::new()),
            Attempt::Refused(_)
        ));
    }
}
