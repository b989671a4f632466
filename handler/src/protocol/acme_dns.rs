//! acme-dns's API (joohoi/acme-dns), for DNS-01 certificates: `POST
//! /acme-dns/update` with `X-Api-User` / `X-Api-Key` and `{"subdomain",
//! "txt"}` sets the TXT record `_acme-challenge.HOST` of the host whose
//! account it is, keeping the two newest values, so that a name and its
//! wildcard validate one after the other. `GET /acme-dns/health` answers
//! 200. `POST /acme-dns/register` is refused: accounts are made by the
//! owner (`ddns-ctl host set HOST --acme`), never by whoever asks.
//!
//! Every refusal is a 4xx with acme-dns's `{"error": "…"}` body; a 5xx only
//! for a fault on the service's side. A request's line never holds the key.

use axum::http::{HeaderMap, Method, StatusCode};
use axum::response::{IntoResponse, Response};
use serde::Deserialize;
use sha2::{Digest as _, Sha256};
use subtle::ConstantTimeEq as _;

use crate::config::{ACME_CHALLENGE, AcmeAccount, is_uuid};
use crate::record::{Client, Line, Protocol, Reason, Verdict};
use crate::service::Service;

/// The paths, below the stage.
pub const UPDATE: &str = "/acme-dns/update";
/// `GET`: 200.
pub const HEALTH: &str = "/acme-dns/health";
/// Refused with 403.
pub const REGISTER: &str = "/acme-dns/register";

/// The TTL of the TXT record: ACME servers look within seconds of the
/// update, and the next validation must not see a cached old value for long.
pub const TXT_TTL: i64 = 60;

/// The largest body an update reads: `{"subdomain": UUID, "txt": 43
/// characters}` is under 100 bytes.
pub const MAX_BODY: usize = 4096;

/// How many values the TXT record keeps.
const KEPT: usize = 2;

/// An answer in acme-dns's shape: `{"txt": …}` or `{"error": …}`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Reply {
    /// The status.
    pub status: StatusCode,
    /// The JSON body.
    pub body: serde_json::Value,
}

impl Reply {
    fn error(status: StatusCode, code: &str) -> Self {
        Self {
            status,
            body: serde_json::json!({ "error": code }),
        }
    }
}

impl IntoResponse for Reply {
    fn into_response(self) -> Response {
        (
            self.status,
            [("content-type", "application/json")],
            self.body.to_string(),
        )
            .into_response()
    }
}

/// A failure with acme-dns's body, for a layer that answers before the API
/// (the deadline).
pub fn failure(status: StatusCode, code: &str) -> Reply {
    Reply::error(status, code)
}

/// `GET /acme-dns/health`.
pub fn health(method: &Method) -> Response {
    if method == Method::GET || method == Method::HEAD {
        StatusCode::OK.into_response()
    } else {
        Reply::error(StatusCode::METHOD_NOT_ALLOWED, "method_not_allowed").into_response()
    }
}

/// `POST /acme-dns/register`: open registration on a public endpoint would
/// let anyone make records, so it is refused.
pub fn register() -> Reply {
    Reply {
        status: StatusCode::FORBIDDEN,
        body: serde_json::json!({
            "error": "registration_disabled",
            "message": "accounts are made by the owner: ddns-ctl host set HOST --acme"
        }),
    }
}

#[derive(Deserialize)]
struct Update {
    subdomain: String,
    txt: String,
}

/// Answers one update from `client`, and logs its line.
pub async fn update(
    service: &Service,
    client: &Client,
    method: &Method,
    headers: &HeaderMap,
    body: Option<&[u8]>,
) -> Reply {
    let (reply, line) = match run(service, client, method, headers, body).await {
        Ok(answer) | Err(answer) => answer,
    };
    line.log(client);
    reply
}

type Answer = (Reply, Line);

fn refused(status: StatusCode, code: &str, reason: Reason, record: &str) -> Answer {
    (
        Reply::error(status, code),
        Line::new(Protocol::AcmeDns, record, Verdict::Refused(reason)),
    )
}

/// Whether `txt` is what an ACME server asks for: a SHA-256 in base64url
/// without padding, 43 characters.
pub fn valid_txt(txt: &str) -> bool {
    txt.len() == 43 && txt.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
}

/// Whether the presented key is the account's, in constant time: the
/// SHA-256 of the key against the stored one. An unknown user's request
/// does the same work against nothing.
fn key_matches(presented: &str, account: Option<&AcmeAccount>) -> bool {
    let digest = hex::encode(Sha256::digest(presented.as_bytes()));
    let stored = account.map_or("", |a| a.key_sha256.as_str());
    let equal: bool = digest.as_bytes().ct_eq(stored.as_bytes()).into();
    equal && account.is_some()
}

async fn run(
    service: &Service,
    client: &Client,
    method: &Method,
    headers: &HeaderMap,
    body: Option<&[u8]>,
) -> Result<Answer, Answer> {
    if method != Method::POST {
        return Err(refused(
            StatusCode::METHOD_NOT_ALLOWED,
            "method_not_allowed",
            Reason::BadRequest,
            "",
        ));
    }
    let Some(body) = body else {
        return Err(refused(
            StatusCode::PAYLOAD_TOO_LARGE,
            "malformed_json_payload",
            Reason::BadRequest,
            "",
        ));
    };
    let update: Update = serde_json::from_slice(body).map_err(|_| {
        refused(
            StatusCode::BAD_REQUEST,
            "malformed_json_payload",
            Reason::BadRequest,
            "",
        )
    })?;
    if !is_uuid(&update.subdomain) {
        return Err(refused(
            StatusCode::BAD_REQUEST,
            "bad_subdomain",
            Reason::BadRequest,
            "",
        ));
    }
    let header = |name: &str| headers.get(name).and_then(|v| v.to_str().ok()).unwrap_or_default();
    let (user, key) = (header("x-api-user"), header("x-api-key"));

    let config = service.config().await.map_err(|err| {
        tracing::error!(error = ?err.to_string(), "config unavailable");
        (
            Reply::error(StatusCode::INTERNAL_SERVER_ERROR, "config_unavailable"),
            Line::new(Protocol::AcmeDns, "", Verdict::Failed(Reason::NoConfig)),
        )
    })?;
    let found = config.acme_account(user);
    // One answer for every way of not being allowed, after the same work,
    // so that it tells nobody which users exist.
    let allowed = key_matches(key, found.map(|(_, a)| a))
        && found.is_some_and(|(_, a)| a.subdomain.eq_ignore_ascii_case(&update.subdomain) && a.allows(client.ip));
    let Some((host, _)) = found.filter(|_| allowed) else {
        return Err(refused(StatusCode::UNAUTHORIZED, "forbidden", Reason::BadAuth, ""));
    };
    let record = format!("{ACME_CHALLENGE}.{}", host.name);
    if !valid_txt(&update.txt) {
        return Err(refused(StatusCode::BAD_REQUEST, "bad_txt", Reason::BadRequest, &record));
    }

    let dns = service.dns();
    let zone = host.config.zone_id();
    let line = |verdict| Line::new(Protocol::AcmeDns, &record, verdict);
    let failed = |err: crate::dns::DnsError| {
        tracing::error!(error = ?err.to_string(), "route53 failed");
        (
            Reply::error(StatusCode::BAD_GATEWAY, "dns_error"),
            line(Verdict::Failed(Reason::DnsErr)),
        )
    };
    let current = dns.txt(zone, &record).await.map_err(failed)?;
    // The newest value that stays, then the new one: an update replaces the
    // older of the two.
    let mut values: Vec<String> = current.iter().filter(|v| **v != update.txt).cloned().collect();
    values.push(update.txt.clone());
    let values = values.split_off(values.len().saturating_sub(KEPT));
    let changed = values != current;
    if changed {
        dns.upsert_txt(zone, &record, TXT_TTL, &values).await.map_err(failed)?;
    }
    let mut logged = line(if changed { Verdict::Changed } else { Verdict::Unchanged });
    logged.old = current.join(" ");
    logged.new = values.join(" ");
    Ok((
        Reply {
            status: StatusCode::OK,
            body: serde_json::json!({ "txt": update.txt }),
        },
        logged,
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_txt_is_exactly_43_base64url_characters() {
        let ok = "a".repeat(43);
        assert!(valid_txt(&ok));
        assert!(valid_txt("LPsIwTo7o8BoG0-vjCyGQGBWSVIPxI-i_X336eUOQZo"));
        assert!(!valid_txt(&"a".repeat(42)));
        assert!(!valid_txt(&"a".repeat(44)));
        assert!(!valid_txt(&format!("{}=", "a".repeat(42))));
        assert!(!valid_txt(&format!("{}+", "a".repeat(42))));
        assert!(!valid_txt(&format!("{}\"", "a".repeat(42))));
    }

    #[test]
    fn the_key_is_compared_by_its_hash_and_an_unknown_user_matches_nothing() {
        let account = AcmeAccount {
            username: "c36f50e8-4632-44f0-83fe-e070fef28a10".into(),
            key_sha256: hex::encode(Sha256::digest(b"the-key")),
            subdomain: "8e5700ea-a4bf-41c7-8a77-e990661dcc6a".into(),
            allow_from: vec![],
            extra: Default::default(),
        };
        assert!(key_matches("the-key", Some(&account)));
        assert!(!key_matches("the-kez", Some(&account)));
        assert!(!key_matches("", None));
        assert!(!key_matches("the-key", None));
    }
}
