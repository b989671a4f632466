//! The one router behind both front doors, the Lambda function and the local
//! server. Each front door works out the caller's address its own way and
//! hands it in as a [`CallerIp`] request extension.

use std::net::IpAddr;
use std::sync::Arc;

use axum::Router;
use axum::extract::{RawQuery, State};
use axum::http::{HeaderMap, Method, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{any, get};

use crate::protocol::{acme_dns, dyndns2, seed};
use crate::query::Query;
use crate::record::{Client, Line, Protocol, Reason, Verdict};
use crate::service::{REQUEST_DEADLINE, Service};

/// The address the request came from, as the front door established it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CallerIp(pub IpAddr);

/// Routes `/nic/update` to dyndns2, `/myip` to the plain-text address,
/// `/acme-dns/…` to acme-dns's API, and every other path to the seed API
/// (which the seed served at the stage root).
///
/// Every request has [`REQUEST_DEADLINE`]: one that is not answered by then
/// (S3 or Route53 stalled) gets a 503 with `Retry-After`, well before Lambda
/// would kill the function and API Gateway answer a bare 504.
pub fn router(service: Arc<Service>) -> Router {
    Router::new()
        .route("/nic/update", get(nic_update))
        .route("/myip", get(myip))
        .route(acme_dns::UPDATE, any(acme_update))
        .route(acme_dns::HEALTH, any(acme_health))
        .route(acme_dns::REGISTER, any(acme_register))
        .fallback(seed_api)
        .with_state(service)
        .layer(axum::middleware::from_fn(deadline))
}

async fn deadline(request: axum::extract::Request, next: axum::middleware::Next) -> Response {
    let path = request.uri().path().to_owned();
    let client = client(&request);
    match tokio::time::timeout(REQUEST_DEADLINE, next.run(request)).await {
        Ok(response) => response,
        Err(_) => {
            // The protocol's own line was never written: its future is gone.
            tracing::error!(path = ?path, deadline = ?REQUEST_DEADLINE, "request timed out");
            if let Some(client) = client {
                let protocol = match path.as_str() {
                    "/nic/update" => Protocol::Dyndns2,
                    "/myip" => Protocol::MyIp,
                    p if p.starts_with("/acme-dns/") => Protocol::AcmeDns,
                    _ => Protocol::Seed,
                };
                Line::new(protocol, "", Verdict::Failed(Reason::Timeout)).log(&client);
            }
            timed_out(&path)
        }
    }
}

/// A 503 with `Retry-After`: dyndns2's `911` ("a problem on our side, retry
/// later"), or the seed's JSON.
fn timed_out(path: &str) -> Response {
    let mut response = in_format_of(
        path,
        StatusCode::SERVICE_UNAVAILABLE,
        "911",
        "The service timed out; try again later.",
    );
    response.headers_mut().insert(
        header::RETRY_AFTER,
        axum::http::HeaderValue::from_static(RETRY_AFTER_SECS),
    );
    response
}

/// An answer for a request that never reached its handler, in the format of
/// the protocol its path belongs to: `dyndns2` (a one-line code) for
/// `/nic/update`, `message` as plain text for `/myip`, acme-dns's
/// `{"error"}` below `/acme-dns/`, and `message` in the seed's JSON
/// everywhere else.
pub fn in_format_of(path: &str, status: StatusCode, dyndns2: &str, message: &str) -> Response {
    if path.starts_with("/acme-dns/") {
        let code = if status == StatusCode::SERVICE_UNAVAILABLE {
            "timeout"
        } else {
            "server_error"
        };
        return acme_dns::failure(status, code).into_response();
    }
    match path {
        "/nic/update" => dyndns2::answer(status, dyndns2).into_response(),
        "/myip" => (
            status,
            [(header::CONTENT_TYPE, "text/plain; charset=utf-8")],
            format!("{message}\n"),
        )
            .into_response(),
        _ => seed::failure(status, message).into_response(),
    }
}

/// What a client is told to wait after a timeout, in seconds.
const RETRY_AFTER_SECS: &str = "30";

/// `uri` without a leading `/{stage}` segment, or `None` if it has none.
/// API Gateway URLs put the stage first (`/prod/nic/update`); both front
/// doors route on what follows it.
pub fn strip_stage(uri: &axum::http::Uri, stage: &str) -> Option<axum::http::Uri> {
    let rest = uri.path().strip_prefix('/')?.strip_prefix(stage)?;
    if !(rest.is_empty() || rest.starts_with('/')) {
        return None;
    }
    let rest = if rest.is_empty() { "/" } else { rest };
    let path_and_query = match uri.query() {
        Some(query) => format!("{rest}?{query}"),
        None => rest.to_owned(),
    };
    let mut parts = uri.clone().into_parts();
    parts.path_and_query = Some(path_and_query.parse().ok()?);
    axum::http::Uri::from_parts(parts).ok()
}

/// The caller's address, as the front door set it.
fn caller(request: &axum::extract::Request) -> Option<IpAddr> {
    request.extensions().get::<CallerIp>().map(|c| c.0)
}

/// The caller and its user agent, for the request's log line.
fn client(request: &axum::extract::Request) -> Option<Client> {
    let user_agent = request.headers().get(header::USER_AGENT).map(|v| v.as_bytes());
    caller(request).map(|ip| Client::new(ip, user_agent))
}

/// A front door that could not tell who called is a server fault, never a
/// reason to trust something the client sent instead.
fn unknown_caller() -> Response {
    tracing::error!("request reached the router without a caller address");
    (
        StatusCode::INTERNAL_SERVER_ERROR,
        "internal error: caller address unknown\n",
    )
        .into_response()
}

async fn seed_api(
    State(service): State<Arc<Service>>,
    method: Method,
    RawQuery(raw): RawQuery,
    request: axum::extract::Request,
) -> Response {
    if method != Method::GET && method != Method::HEAD {
        return seed::method_not_allowed().into_response();
    }
    let Some(client) = client(&request) else {
        return unknown_caller();
    };
    seed::handle(&service, &client, Query::parse(raw.as_deref()))
        .await
        .into_response()
}

async fn nic_update(
    State(service): State<Arc<Service>>,
    headers: HeaderMap,
    RawQuery(raw): RawQuery,
    request: axum::extract::Request,
) -> Response {
    let Some(client) = client(&request) else {
        return unknown_caller();
    };
    let authorization = headers.get(header::AUTHORIZATION);
    dyndns2::handle(&service, &client, authorization, Query::parse(raw.as_deref()))
        .await
        .into_response()
}

async fn acme_update(
    State(service): State<Arc<Service>>,
    method: Method,
    headers: HeaderMap,
    request: axum::extract::Request,
) -> Response {
    let Some(client) = client(&request) else {
        return unknown_caller();
    };
    // A body past the limit is not read on: `None`, refused as such.
    let body = axum::body::to_bytes(request.into_body(), acme_dns::MAX_BODY).await.ok();
    acme_dns::update(&service, &client, &method, &headers, body.as_deref())
        .await
        .into_response()
}

async fn acme_health(method: Method) -> Response {
    acme_dns::health(&method)
}

async fn acme_register() -> Response {
    acme_dns::register().into_response()
}

async fn myip(request: axum::extract::Request) -> Response {
    match client(&request) {
        Some(client) => {
            Line::new(Protocol::MyIp, "", Verdict::Answered)
                .values(&[], &[client.ip])
                .log(&client);
            let ip = client.ip;
            ([(header::CONTENT_TYPE, "text/plain; charset=utf-8")], format!("{ip}\n")).into_response()
        }
        None => unknown_caller(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_stage_comes_off_the_front_only() {
        let strip = |uri: &str| strip_stage(&uri.parse().unwrap(), "prod").map(|u| u.to_string());
        assert_eq!(
            strip("/prod/nic/update?hostname=h").as_deref(),
            Some("/nic/update?hostname=h")
        );
        assert_eq!(strip("/prod?mode=get").as_deref(), Some("/?mode=get"));
        assert_eq!(strip("/prod/").as_deref(), Some("/"));
        assert_eq!(
            strip("https://x.example/prod/myip").as_deref(),
            Some("https://x.example/myip")
        );
        assert_eq!(strip("/production/x"), None);
        assert_eq!(strip("/nic/update"), None);
    }
}
