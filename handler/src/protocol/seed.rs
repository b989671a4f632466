//! The blog post's API: `?mode=get` and `?mode=set&hostname=H&hash=X`, with
//! its JSON replies byte for byte, so its clients work unchanged.
//!
//! Where the seed crashed or answered 200 to a failure, this answers a 4xx
//! for the client's mistakes and a 5xx only for faults on the server's side,
//! always in the same `{"return_status", "return_message"}` shape.

use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde::Serialize;

use crate::auth::SeedHash;
use crate::config::Secret;
use crate::hostname::Hostname;
use crate::query::{Query, QueryError};
use crate::record::{Client, Line, Protocol, Reason, Verdict};
use crate::service::Service;
use crate::update::UpdateError;

const MSG_MODE: &str = "You must pass mode=get or mode=set arguments.";
const MSG_HASH: &str = "You must pass a valid sha256 hash in the hash= argument.";
const MSG_MISMATCH: &str = "Validation hashes do not match.";
const MSG_CONFIG: &str = "There was an issue finding or reading the S3 config file.";
const MSG_MATCHES: &str = "Your IP address matches the current Route53 DNS record.";
// The seed's wording, double space included.
const MSG_MULTIPLE: &str =
    "You should only have a single value for your dynamic record.  You currently have more than one.";

/// A reply in the seed's JSON shape, with its HTTP status.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Reply {
    /// The HTTP status.
    pub status: StatusCode,
    /// The `return_message`.
    pub message: String,
}

/// The body; field order is the seed's.
#[derive(Serialize)]
struct Body<'a> {
    return_status: &'a str,
    return_message: &'a str,
}

impl Reply {
    fn success(message: impl Into<String>) -> Self {
        Self {
            status: StatusCode::OK,
            message: message.into(),
        }
    }

    fn fail(status: StatusCode, message: impl Into<String>) -> Self {
        Self {
            status,
            message: message.into(),
        }
    }

    /// The JSON body.
    pub fn body(&self) -> String {
        let body = Body {
            return_status: if self.status.is_success() { "success" } else { "fail" },
            return_message: &self.message,
        };
        // Two string fields always serialise.
        serde_json::to_string(&body).unwrap_or_default()
    }
}

impl IntoResponse for Reply {
    fn into_response(self) -> Response {
        (self.status, [("content-type", "application/json")], self.body()).into_response()
    }
}

/// A failure with `status` and `message` as the `return_message`, for a
/// front door or layer that answers before the API does.
pub fn failure(status: StatusCode, message: &str) -> Reply {
    Reply::fail(status, message)
}

/// A reply for a method other than GET on a seed path.
pub fn method_not_allowed() -> Reply {
    Reply::fail(StatusCode::METHOD_NOT_ALLOWED, "Only GET requests are supported.")
}

/// Answers one seed request from `client`, and logs its line.
pub async fn handle(service: &Service, client: &Client, query: Result<Query, QueryError>) -> Reply {
    let (reply, line) = match run(service, client, query).await {
        Ok(answer) | Err(answer) => answer,
    };
    line.log(client);
    reply
}

/// A reply and the request's log line.
type Answer = (Reply, Line);

async fn run(service: &Service, client: &Client, query: Result<Query, QueryError>) -> Result<Answer, Answer> {
    let caller = client.ip;
    // Until the query names a host, a line names none.
    let refused = |reason, host: &str| Line::new(Protocol::Seed, host, Verdict::Refused(reason));
    let bad = |e: QueryError| {
        (
            Reply::fail(StatusCode::BAD_REQUEST, format!("Bad request: {e}.")),
            refused(Reason::BadRequest, ""),
        )
    };
    let query = query.map_err(bad)?;
    match query.get("mode").map_err(bad)? {
        Some("get") => {
            let line = Line::new(Protocol::Seed, "", Verdict::Answered).values(&[], &[caller]);
            return Ok((Reply::success(caller.to_string()), line));
        }
        Some("set") => {}
        _ => {
            return Err((
                Reply::fail(StatusCode::BAD_REQUEST, MSG_MODE),
                refused(Reason::BadRequest, ""),
            ));
        }
    }
    let hostname = match query.get("hostname").map_err(bad)? {
        Some(h) if !h.is_empty() => h,
        _ => {
            return Err((
                Reply::fail(StatusCode::BAD_REQUEST, "You must pass a hostname= argument."),
                refused(Reason::BadRequest, ""),
            ));
        }
    };
    let hash = query
        .get("hash")
        .map_err(bad)?
        .and_then(|h| SeedHash::parse(h).ok())
        .ok_or_else(|| {
            (
                Reply::fail(StatusCode::BAD_REQUEST, MSG_HASH),
                refused(Reason::BadRequest, hostname),
            )
        })?;
    Hostname::parse(hostname).map_err(|e| {
        (
            Reply::fail(StatusCode::BAD_REQUEST, format!("Invalid hostname: {e}.")),
            refused(Reason::NotFqdn, ""),
        )
    })?;

    let config = service.config().await.map_err(|err| {
        // Debug-formatted, so that nothing the config holds can break the line.
        tracing::error!(error = ?err.to_string(), "config unavailable");
        (
            Reply::fail(StatusCode::INTERNAL_SERVER_ERROR, MSG_CONFIG),
            Line::new(Protocol::Seed, hostname, Verdict::Failed(Reason::NoConfig)),
        )
    })?;
    // An unknown host gets the wrong proof's answer, after the same work:
    // a different one would tell anyone which names the config holds.
    let mismatch = || {
        (
            Reply::fail(StatusCode::FORBIDDEN, MSG_MISMATCH),
            refused(Reason::BadAuth, hostname),
        )
    };
    let Some(host) = config.host(hostname) else {
        let _ = hash.verify(&caller.to_string(), hostname, &Secret::new(String::new()));
        return Err(mismatch());
    };
    // The hash covers the name exactly as the client sent it, as in the seed.
    if !hash.verify(&caller.to_string(), hostname, &host.config.shared_secret) {
        return Err(mismatch());
    }

    let line = |verdict| Line::new(Protocol::Seed, host.name, verdict);
    match service.update(host, &[caller]).await {
        Ok(outcome) => {
            let reply = if outcome.changed {
                Reply::success(format!("Your hostname record {} has been set to {caller}", host.name))
            } else {
                Reply::success(MSG_MATCHES)
            };
            let verdict = if outcome.changed {
                Verdict::Changed
            } else {
                Verdict::Unchanged
            };
            Ok((reply, line(verdict).values(&outcome.previous, &outcome.addresses)))
        }
        Err(err) => {
            let (status, message, verdict) = match &err {
                UpdateError::WrongFamily { .. } => (
                    StatusCode::BAD_REQUEST,
                    format!("{err}."),
                    Verdict::Refused(Reason::BadIp),
                ),
                UpdateError::NotPublic { .. } => (
                    StatusCode::FORBIDDEN,
                    format!("{err}."),
                    Verdict::Refused(Reason::BadIp),
                ),
                UpdateError::MultipleValues { .. } => (
                    StatusCode::CONFLICT,
                    MSG_MULTIPLE.to_owned(),
                    Verdict::Refused(Reason::NumHost),
                ),
                UpdateError::Dns(_) => (
                    StatusCode::BAD_GATEWAY,
                    "Route53 could not be read or updated; try again later.".to_owned(),
                    Verdict::Failed(Reason::DnsErr),
                ),
            };
            Err((Reply::fail(status, message), line(verdict).values(&[], &[caller])))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn body_is_the_seeds_shape_byte_for_byte() {
        assert_eq!(
            Reply::success("176.32.100.36").body(),
            r#"{"return_status":"success","return_message":"176.32.100.36"}"#
        );
        assert_eq!(
            Reply::fail(StatusCode::FORBIDDEN, MSG_MISMATCH).body(),
            r#"{"return_status":"fail","return_message":"Validation hashes do not match."}"#
        );
    }
}
