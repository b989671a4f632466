//! A host's acme-dns account, as `host add --acme`, `host set --acme` /
//! `--no-acme` and `host rotate-secret --acme` change it: every change goes
//! through `Session::change_config`, so the role may set the host's
//! challenge TXT record before the config says it may, and no longer after
//! the account is gone.

use std::fmt;

use anyhow::Context as _;
use ddns_handler::config::AcmeAccount;
use serde::Serialize;

use super::Session;
use crate::acme;
use crate::aws::config::ChangeError;
use crate::aws::custom_domain;

/// An account as its clients need it. The key only when it is new: the
/// config keeps its hash alone, so this is the one time it can be shown.
#[derive(Debug, Serialize)]
pub struct Issued {
    /// The host.
    pub host: String,
    /// `X-Api-User`.
    pub username: String,
    /// `X-Api-Key`, when new.
    pub password: Option<String>,
    /// The subdomain clients send.
    pub subdomain: String,
    /// The name whose TXT record the account sets.
    pub fulldomain: String,
    /// Where updates may come from; empty: anywhere.
    pub allowfrom: Vec<String>,
    /// The base URL acme-dns clients take, once the stack is deployed.
    pub server_url: Option<String>,
    /// The account as the config holds it, for rendering client setups.
    #[serde(skip)]
    pub account: AcmeAccount,
}

impl Issued {
    /// `account` of `host`, with its new `key` if there is one.
    pub fn new(host: &str, account: &AcmeAccount, key: Option<String>, endpoint: Option<&str>) -> Self {
        Self {
            host: host.trim_end_matches('.').to_owned(),
            username: account.username.clone(),
            password: key,
            subdomain: account.subdomain.clone(),
            fulldomain: acme::fulldomain(host),
            allowfrom: account.allow_from.clone(),
            server_url: endpoint.map(acme::server),
            account: account.clone(),
        }
    }
}

impl fmt::Display for Issued {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(f, "acme-dns account of {}:", self.host)?;
        writeln!(f, "  username    {}", self.username)?;
        match &self.password {
            Some(key) => writeln!(f, "  password    {key}    (shown this once; store it now)")?,
            None => writeln!(
                f,
                "  password    (unchanged; `host rotate-secret --acme` makes a new one)"
            )?,
        }
        writeln!(f, "  subdomain   {}", self.subdomain)?;
        writeln!(f, "  fulldomain  {}", self.fulldomain)?;
        let from = if self.allowfrom.is_empty() {
            "anywhere".to_owned()
        } else {
            self.allowfrom.join(", ")
        };
        writeln!(f, "  allowfrom   {from}")?;
        match &self.server_url {
            Some(url) => writeln!(f, "  server      {url}")?,
            None => writeln!(f, "  server      (deploy the stack first)")?,
        }
        if self.password.is_some() {
            writeln!(
                f,
                "Client setups (the key read from a file): ddns-ctl client-config {} --format acme-dns-json --acme-key-file FILE",
                self.host
            )?;
        }
        Ok(())
    }
}

async fn endpoint(session: &Session) -> anyhow::Result<Option<String>> {
    Ok(custom_domain::endpoint(&session.clients, &session.names).await?)
}

fn not_a_host(session: &Session, name: &str) -> ChangeError {
    ChangeError::Refused(format!("{name} is not a host of stack {}", session.names.stack))
}

/// Gives `name` an account, or keeps the one it has; `allow_from` (if any
/// given) replaces where it may update from.
pub async fn enable(session: &Session, key: &str, name: &str, allow_from: Vec<String>) -> anyhow::Result<Issued> {
    let (fresh, fresh_key) =
        acme::new_account(allow_from.clone()).context("the system's random number generator failed")?;
    let ((host, account, new_key), _) = session
        .change_config(key, |config| {
            let host = config.host_mut(name).ok_or_else(|| not_a_host(session, name))?;
            let new_key = match &mut host.acme {
                Some(account) => {
                    if !allow_from.is_empty() {
                        account.allow_from = allow_from.clone();
                    }
                    None
                }
                None => {
                    host.acme = Some(fresh.clone());
                    Some(fresh_key.clone())
                }
            };
            let account = host.acme.clone().unwrap_or_else(|| fresh.clone());
            let written = config.host(name).map(|h| h.name.to_owned()).unwrap_or_default();
            Ok((written, account, new_key))
        })
        .await?;
    Ok(Issued::new(
        &host,
        &account,
        new_key,
        endpoint(session).await?.as_deref(),
    ))
}

/// Removes `name`'s account; the role then loses its TXT permission.
pub async fn disable(session: &Session, key: &str, name: &str) -> anyhow::Result<bool> {
    let (had, _) = session
        .change_config(key, |config| {
            let host = config.host_mut(name).ok_or_else(|| not_a_host(session, name))?;
            Ok(host.acme.take().is_some())
        })
        .await?;
    Ok(had)
}

/// A new key for `name`'s account; the old one stops working within seconds.
pub async fn rotate(session: &Session, key: &str, name: &str) -> anyhow::Result<Issued> {
    let new_key = acme::key().context("the system's random number generator failed")?;
    let ((host, account), _) = session
        .change_config(key, |config| {
            let host = config.host_mut(name).ok_or_else(|| not_a_host(session, name))?;
            let account = host.acme.as_mut().ok_or_else(|| {
                ChangeError::Refused(format!(
                    "{name} has no acme-dns account; give it one with `ddns-ctl host set {name} --acme`"
                ))
            })?;
            account.key_sha256 = acme::key_sha256(&new_key);
            let account = account.clone();
            Ok((
                config.host(name).map(|h| h.name.to_owned()).unwrap_or_default(),
                account,
            ))
        })
        .await?;
    Ok(Issued::new(
        &host,
        &account,
        Some(new_key),
        endpoint(session).await?.as_deref(),
    ))
}
