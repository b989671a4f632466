//! The service as a plain HTTP server, for `ddns-ctl serve`: the same router
//! as the Lambda function, with the caller taken from the TCP connection.

use std::future::Future;
use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;

use axum::extract::{ConnectInfo, Request, State};
use axum::middleware::{Next, from_fn_with_state};
use axum::response::Response;
use tokio::net::TcpListener;

use crate::router::{CallerIp, router, strip_stage};
use crate::service::Service;

/// How the local server decides who the caller is, and its URL layout.
#[derive(Debug, Clone, Default)]
pub struct LocalOptions {
    /// Take the caller from the last `X-Forwarded-For` entry, as a reverse
    /// proxy in front of this server appends it. Off by default: without a
    /// proxy, any client could claim any address.
    pub trust_forwarded_for: bool,
    /// Also answer below `/{stage}/`, as the deployed API does, so that a
    /// client configured for the stage URL works here unchanged.
    pub stage: Option<String>,
}

/// Serves until `shutdown` completes.
pub async fn serve(
    listener: TcpListener,
    service: Arc<Service>,
    options: LocalOptions,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    // The middleware wraps the whole router (as an outer fallback), so that
    // the path it rewrites is the one the inner router then routes.
    let app = axum::Router::new()
        .fallback_service(router(service))
        .layer(from_fn_with_state(options, caller_from_connection));
    axum::serve(listener, app.into_make_service_with_connect_info::<SocketAddr>())
        .with_graceful_shutdown(shutdown)
        .await
}

async fn caller_from_connection(
    State(options): State<LocalOptions>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    mut request: Request,
    next: Next,
) -> Response {
    let forwarded = options
        .trust_forwarded_for
        .then(|| last_forwarded_for(&request))
        .flatten();
    let caller = forwarded.unwrap_or(peer.ip()).to_canonical();
    request.extensions_mut().insert(CallerIp(caller));
    if let Some(uri) = options
        .stage
        .as_deref()
        .and_then(|stage| strip_stage(request.uri(), stage))
    {
        *request.uri_mut() = uri;
    }
    next.run(request).await
}

/// The right-most `X-Forwarded-For` address: the one the trusted proxy saw.
/// Entries further left were written by the client and prove nothing.
fn last_forwarded_for(request: &Request) -> Option<IpAddr> {
    let header = request.headers().get_all("x-forwarded-for").iter().next_back()?;
    header.to_str().ok()?.rsplit(',').next()?.trim().parse().ok()
}
