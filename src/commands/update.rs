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

/// The blog post's flow: ask for the address, prove the secret, set.
async fn seed(client: &reqwest::Client, base: &reqwest::Url, host: &str, secret: &str) -> Attempt {
    let (status, reply) = match get_json(client.get(base.clone()).query(&[("mode", "get")])).await {
        Ok(reply) => reply,
        Err(message) => return Attempt::Failed(message),
    };
    if !status.is_success() {
        return classify(status, reply);
    }
    let ip = reply;
    let hash = ddns_handler::auth::seed_hash(&ip, host, &Secret::new(secret.to_owned()));
    let request = client
        .get(base.clone())
        .query(&[("mode", "set"), ("hostname", host), ("hash", &hash)]);
    match get_json(request).await {
        Ok((status, message)) if status.is_success() && message.contains("matches") => {
            Attempt::Unchanged(format!("{host}: {message}"))
        }
        Ok((status, message)) if status.is_success() => Attempt::Changed(format!("{host}: {message}")),
        Ok((status, message)) => classify(status, message),
        Err(message) => Attempt::Failed(message),
    }
}

/// One GET of the seed API: the status and `return_message`.
async fn get_json(request: reqwest::RequestBuilder) -> Result<(reqwest::StatusCode, String), String> {
    let response = request.send().await.map_err(|e| describe(&e))?;
    let status = response.status();
    let body: serde_json::Value = response
        .json()
        .await
        .map_err(|e| format!("the service answered {status} with something that is not its JSON: {e}"))?;
    let message = body["return_message"].as_str().unwrap_or_default().to_owned();
    Ok((status, message))
}

fn classify(status: reqwest::StatusCode, message: String) -> Attempt {
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
        Err(e) => return Attempt::Failed(describe(&e)),
    };
    let status = response.status();
    let body = response.text().await.unwrap_or_default();
    let line = body.lines().next().unwrap_or_default().trim().to_owned();
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

fn describe(err: &reqwest::Error) -> String {
    ddns_handler::error_chain(err)
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
