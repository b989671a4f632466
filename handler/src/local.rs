//! The service as a plain HTTP server, for `ddns-ctl serve`: the same router
//! as the Lambda function, with the caller taken from the TCP connection.

use std::future::Future;
use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;
use std::time::Duration;

use axum::extract::{ConnectInfo, Request, State};
use axum::http::StatusCode;
use axum::middleware::{Next, from_fn_with_state};
use axum::response::Response;
use hyper::body::Incoming;
use hyper::server::conn::http1;
use hyper_util::rt::{TokioIo, TokioTimer};
use hyper_util::server::graceful::GracefulShutdown;
use hyper_util::service::TowerToHyperService;
use tokio::net::TcpListener;
use tokio::sync::Semaphore;
use tower::ServiceExt as _;

use crate::router::{CallerIp, in_format_of, router, strip_stage};
use crate::service::Service;

/// What the local server allows a connection, so that slow or idle clients
/// cannot hold it hostage.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// How long a client may take to send a request's headers, and how long
    /// an idle keep-alive connection stays open: a half-sent request, a
    /// one-byte-a-second drip or an idle socket is closed after this.
    pub header_timeout: Duration,
    /// At most this many connections at once; more wait to be accepted, so
    /// the process never runs out of file descriptors.
    pub max_connections: usize,
    /// On shutdown, how long open connections get to finish.
    pub shutdown_grace: Duration,
}

impl Default for Limits {
    fn default() -> Self {
        Self {
            header_timeout: Duration::from_secs(10),
            max_connections: 256,
            shutdown_grace: Duration::from_secs(5),
        }
    }
}

/// How the local server decides who the caller is, and its URL layout.
#[derive(Debug, Clone, Default)]
pub struct LocalOptions {
    /// Take the caller from the last `X-Forwarded-For` entry, as a reverse
    /// proxy in front of this server appends it. Off by default: without a
    /// proxy, any client could claim any address. A request whose last entry
    /// is not a bare IP address gets a 400; one without the header is taken
    /// to come from its TCP peer.
    pub trust_forwarded_for: bool,
    /// Also answer below `/{stage}/`, as the deployed API does, so that a
    /// client configured for the stage URL works here unchanged.
    pub stage: Option<String>,
    /// Timeouts and the connection cap.
    pub limits: Limits,
}

/// Serves until `shutdown` completes, then gives open connections
/// [`Limits::shutdown_grace`] to finish.
pub async fn serve(
    listener: TcpListener,
    service: Arc<Service>,
    options: LocalOptions,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    let limits = options.limits;
    // The middleware wraps the whole router (as an outer fallback), so that
    // the path it rewrites is the one the inner router then routes.
    let app = axum::Router::new()
        .fallback_service(router(service))
        .layer(from_fn_with_state(options, caller_from_connection));
    let slots = Arc::new(Semaphore::new(limits.max_connections));
    let graceful = GracefulShutdown::new();
    let mut shutdown = std::pin::pin!(shutdown);
    loop {
        // A free slot first, then a connection: at the cap, new clients wait
        // in the listen backlog instead of costing a descriptor each.
        let slot = tokio::select! {
            slot = Arc::clone(&slots).acquire_owned() => slot,
            () = &mut shutdown => break,
        };
        let Ok(slot) = slot else { break };
        let (stream, peer) = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok(accepted) => accepted,
                Err(err) => {
                    // Out of descriptors or a connection reset before it
                    // was accepted: not the server's end.
                    tracing::warn!(error = %err, "accept failed");
                    tokio::time::sleep(Duration::from_millis(50)).await;
                    continue;
                }
            },
            () = &mut shutdown => break,
        };
        let app = app.clone().map_request(move |mut request: hyper::Request<Incoming>| {
            request.extensions_mut().insert(ConnectInfo(peer));
            request
        });
        let connection = http1::Builder::new()
            .timer(TokioTimer::new())
            .header_read_timeout(limits.header_timeout)
            .serve_connection(TokioIo::new(stream), TowerToHyperService::new(app));
        let connection = graceful.watch(connection);
        tokio::spawn(async move {
            // A client that goes away or times out is no error of ours.
            let _ = connection.await;
            drop(slot);
        });
    }
    drop(listener);
    if tokio::time::timeout(limits.shutdown_grace, graceful.shutdown())
        .await
        .is_err()
    {
        tracing::warn!(grace = ?limits.shutdown_grace, "connections still open at shutdown were closed");
    }
    Ok(())
}

async fn caller_from_connection(
    State(options): State<LocalOptions>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    mut request: Request,
    next: Next,
) -> Response {
    if let Some(uri) = options
        .stage
        .as_deref()
        .and_then(|stage| strip_stage(request.uri(), stage))
    {
        *request.uri_mut() = uri;
    }
    // Without the header the request did not come through the proxy (a
    // health check, or a client on the same host): its TCP peer is who it
    // is. With a header that does not end in a bare address, the proxy's
    // own address is the only fallback, and publishing that would be wrong.
    let forwarded = if options.trust_forwarded_for {
        match last_forwarded_for(&request) {
            Ok(forwarded) => forwarded,
            Err(BadForwardedFor) => {
                tracing::warn!("refused a request whose X-Forwarded-For does not end in an IP address");
                return bad_forwarded_for(request.uri().path());
            }
        }
    } else {
        None
    };
    let caller = forwarded.unwrap_or(peer.ip()).to_canonical();
    request.extensions_mut().insert(CallerIp(caller));
    next.run(request).await
}

/// An `X-Forwarded-For` header whose right-most entry is not a bare address.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct BadForwardedFor;

/// The right-most `X-Forwarded-For` address: the one the trusted proxy saw.
/// Entries further left were written by the client and prove nothing.
/// `Ok(None)` when there is no such header; an error when the last entry is
/// anything but a bare address (a port, brackets, an empty entry, junk).
fn last_forwarded_for(request: &Request) -> Result<Option<IpAddr>, BadForwardedFor> {
    let Some(header) = request.headers().get_all("x-forwarded-for").iter().next_back() else {
        return Ok(None);
    };
    let text = header.to_str().map_err(|_| BadForwardedFor)?;
    let last = text.rsplit(',').next().unwrap_or_default().trim();
    last.parse().map(Some).map_err(|_| BadForwardedFor)
}

/// A 400 in the format of the protocol the path belongs to: dyndns2's
/// `badagent`, or the seed's JSON.
fn bad_forwarded_for(path: &str) -> Response {
    in_format_of(
        path,
        StatusCode::BAD_REQUEST,
        "badagent",
        "Bad request: the X-Forwarded-For header does not end in an IP address.",
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(values: &[&str]) -> Result<Option<IpAddr>, BadForwardedFor> {
        let mut request = Request::new(axum::body::Body::empty());
        for value in values {
            request.headers_mut().append("x-forwarded-for", value.parse().unwrap());
        }
        last_forwarded_for(&request)
    }

    #[test]
    fn takes_the_last_entry_of_the_last_header() {
        let ip = |s: &str| Ok(Some(s.parse().unwrap()));
        assert_eq!(parse(&[]), Ok(None));
        assert_eq!(parse(&["203.0.113.8"]), ip("203.0.113.8"));
        assert_eq!(parse(&["198.51.100.7, 203.0.113.8"]), ip("203.0.113.8"));
        assert_eq!(parse(&["198.51.100.7", " 2001:db8::1 "]), ip("2001:db8::1"));
        // Junk further left was written by the client and does not matter.
        assert_eq!(parse(&["nonsense, 203.0.113.8"]), ip("203.0.113.8"));
    }

    #[test]
    fn refuses_a_last_entry_that_is_not_a_bare_address() {
        for bad in [
            "8.8.8.8:443",
            "[2001:db8::1]",
            "[2001:db8::1]:443",
            "1.2.3.4,",
            "",
            " ",
            "garbage",
            "203.0.113.8, unknown",
        ] {
            assert_eq!(parse(&[bad]), Err(BadForwardedFor), "{bad:?}");
        }
        assert_eq!(parse(&["203.0.113.8", "junk"]), Err(BadForwardedFor));
    }
}
