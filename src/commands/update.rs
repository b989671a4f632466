//! `ddns-ctl update`: the client side, for cron, a systemd timer or a
//! long-running loop. It speaks either protocol over IPv4, IPv6 or both,
//! choosing the family by the local address it connects from, so the service
//! sees (and publishes) the address of that family.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};
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
    let families: &[IpAddr] = match (args.ipv6, args.dual) {
        (_, true) => &[IpAddr::V4(Ipv4Addr::UNSPECIFIED), IpAddr::V6(Ipv6Addr::UNSPECIFIED)],
        (true, _) => &[IpAddr::V6(Ipv6Addr::UNSPECIFIED)],
        _ => &[IpAddr::V4(Ipv4Addr::UNSPECIFIED)],
    };
    let clients = families
        .iter()
        .map(|local| {
            reqwest::Client::builder()
                .local_address(*local)
                .timeout(Duration::from_secs(30))
                .user_agent(concat!("ddns-ctl/", env!("CARGO_PKG_VERSION")))
                .build()
        })
        .collect::<Result<Vec<_>, _>>()
        .context("cannot set up the HTTP client")?;

    let mut failures = 0u32;
    loop {
        let mut exit = Exit::Ok;
        for client in &clients {
            let attempt = match args.protocol {
                Protocol::Seed => seed(client, &base, &args.hostname, &secret).await,
                Protocol::Dyndns2 => dyndns2(client, &base, &args.hostname, &secret).await,
            };
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
        Err(message) => return Attempt::Failed(message),
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
        Err(message) => Attempt::Failed(message),
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
async fn seed_call(request: reqwest::RequestBuilder) -> Result<SeedAnswer, String> {
    let response = request.send().await.map_err(describe)?;
    let status = response.status();
    let body = read_capped(response).await?;
    let not_seed = || {
        format!(
            "the service answered {status} with something that is not its JSON: {:?}",
            shown(&String::from_utf8_lossy(&body))
        )
    };
    let body: serde_json::Value = serde_json::from_slice(&body).map_err(|_| not_seed())?;
    let (Some(outcome), Some(message)) = (body["return_status"].as_str(), body["return_message"].as_str()) else {
        return Err(not_seed());
    };
    if !matches!(outcome, "success" | "fail") {
        return Err(not_seed());
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
        Err(e) => return Attempt::Failed(describe(e)),
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

#[cfg(test)]
mod tests {
    use super::*;
    use reqwest::StatusCode;

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
