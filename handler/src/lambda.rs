//! The Lambda front door: API Gateway REST (v1) proxy events through
//! lambda_http into the shared router.

use std::net::IpAddr;
use std::sync::Arc;

use lambda_http::request::RequestContext;
use lambda_http::{Request, RequestExt};
use tower::ServiceBuilder;

use crate::router::{CallerIp, router, strip_stage};
use crate::service::Service;

/// Runs the function until the Lambda runtime stops it.
pub async fn run(service: Arc<Service>) -> Result<(), lambda_http::Error> {
    let app = ServiceBuilder::new()
        .map_request(from_api_gateway)
        .service(router(service));
    lambda_http::run(app).await
}

/// Sets the caller from `requestContext.identity.sourceIp`, which API Gateway
/// fills in from the TCP connection: unlike `X-Forwarded-For`, the client
/// cannot forge it. Also undoes lambda_http's habit of putting the stage in
/// front of the path (`/prod/nic/update`), which would send every dyndns2
/// request to the seed API.
pub fn from_api_gateway(mut request: Request) -> Request {
    let (source_ip, stage) = match request.request_context_ref() {
        Some(RequestContext::ApiGatewayV1(context)) => (
            context
                .identity
                .source_ip
                .as_deref()
                .and_then(|ip| ip.parse::<IpAddr>().ok()),
            context.stage.clone(),
        ),
        _ => (None, None),
    };
    if let Some(ip) = source_ip {
        request.extensions_mut().insert(CallerIp(ip.to_canonical()));
    }
    if let Some(uri) = stage.and_then(|stage| strip_stage(request.uri(), &stage)) {
        *request.uri_mut() = uri;
    }
    request
}
