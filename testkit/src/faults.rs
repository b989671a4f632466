//! A fault-injecting HTTP proxy between a binary under test and moto.
//!
//! moto answers every call at once and never throttles, conflicts or lags;
//! AWS does all three. [`FaultProxy`] forwards every request unchanged to
//! moto, except those a [`Fault`] matches: they get the AWS error the fault
//! names, in the service's own error protocol (so the SDK reads exactly that
//! code), or moto's real reply rewritten. It records every call it sees, in
//! order, so a test can assert which calls a command made ([`FaultProxy::calls`])
//! and print a compact figure of them ([`summary`]).
//!
//! A child process reaches it through `AWS_ENDPOINT_URL` ([`FaultProxy::env`]).
//! The proxy runs on a tokio runtime of its own, in a background thread, so
//! it serves blocking tests and `#[tokio::test]`s alike.

use std::convert::Infallible;
use std::fmt;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, Instant};

use aws_config::SdkConfig;
use http_body_util::{BodyExt as _, Full};
use hyper::body::{Bytes, Incoming};
use hyper::header::{CONTENT_LENGTH, CONTENT_TYPE, HeaderName, HeaderValue};
use hyper::{Request, Response, StatusCode};
use hyper_util::client::legacy::Client;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::rt::{TokioExecutor, TokioIo};

/// When a fault applies to a call it matches.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum When {
    /// Every matching call.
    Always,
    /// The first `n` matching calls.
    First(usize),
    /// Every matching call within `window` after a call to the trigger
    /// operation was forwarded (and answered), as AWS does while a change
    /// propagates; each trigger call opens the window anew.
    After {
        /// The trigger's service (signing name, e.g. `iam`).
        service: String,
        /// The trigger's operation (e.g. `PutRolePolicy`).
        operation: String,
        /// How long after it the fault applies.
        window: Duration,
    },
}

/// Rewrites moto's reply body for a forwarded call, given the request body
/// and the reply body (both as UTF-8 text).
pub type Rewrite = Arc<dyn Fn(&str, &str) -> String + Send + Sync>;

/// What a faulted call gets instead of moto's plain answer.
#[derive(Clone)]
pub enum Reply {
    /// An AWS error, never forwarded to moto.
    Error {
        /// The HTTP status.
        status: u16,
        /// The error code the SDK reports (`TooManyRequestsException`).
        code: String,
        /// The message.
        message: String,
        /// Extra headers, e.g. `Retry-After`.
        headers: Vec<(String, String)>,
    },
    /// Forwarded to moto, whose reply body is rewritten; the status stays.
    Rewrite(Rewrite),
    /// Not forwarded: answered with (status, content type, body) made from
    /// the request body.
    Answer(Answer),
}

/// Makes a whole reply from the request body.
pub type Answer = Arc<dyn Fn(&str) -> (u16, &'static str, String) + Send + Sync>;

impl fmt::Debug for Reply {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Error { status, code, .. } => write!(f, "{status} {code}"),
            Self::Rewrite(_) => f.write_str("rewritten"),
            Self::Answer(_) => f.write_str("answered"),
        }
    }
}

/// One fault: which calls, when, and what they get.
#[derive(Debug, Clone)]
pub struct Fault {
    /// The service's signing name (`apigateway`, `s3`, `iam`, …).
    pub service: String,
    /// The operation, as [`Call::operation`] names it.
    pub operation: String,
    /// When it applies.
    pub when: When,
    /// What the call gets.
    pub reply: Reply,
}

impl Fault {
    /// Every `service` `operation` call answers with AWS error `code`.
    pub fn error(service: &str, operation: &str, status: u16, code: &str, message: &str) -> Self {
        Self {
            service: service.to_owned(),
            operation: operation.to_owned(),
            when: When::Always,
            reply: Reply::Error {
                status,
                code: code.to_owned(),
                message: message.to_owned(),
                headers: Vec::new(),
            },
        }
    }

    /// Every `service` `operation` call is forwarded and moto's reply body
    /// rewritten by `rewrite`.
    pub fn rewrite(
        service: &str,
        operation: &str,
        rewrite: impl Fn(&str, &str) -> String + Send + Sync + 'static,
    ) -> Self {
        Self {
            service: service.to_owned(),
            operation: operation.to_owned(),
            when: When::Always,
            reply: Reply::Rewrite(Arc::new(rewrite)),
        }
    }

    /// GetFunction answers as AWS does when the caller may not
    /// `lambda:ListTags`: a `TagsError` instead of `Tags`.
    pub fn tags_error() -> Self {
        Self::rewrite("lambda", "GetFunction", |_, reply| tags_error(reply))
    }

    /// A quiet DeleteObjects answers 200 with an `AccessDenied` error for
    /// the first object it was asked to delete, and deletes nothing.
    pub fn delete_objects_denied() -> Self {
        Self {
            service: "s3".into(),
            operation: "DeleteObjects".into(),
            when: When::Always,
            reply: Reply::Answer(Arc::new(|request| {
                (200, "application/xml", delete_objects_denied(request))
            })),
        }
    }

    /// Only the first `n` matching calls.
    pub fn first(mut self, n: usize) -> Self {
        self.when = When::First(n);
        self
    }

    /// Only matching calls within `window` after a `service` `operation`
    /// call was forwarded.
    pub fn after(mut self, service: &str, operation: &str, window: Duration) -> Self {
        self.when = When::After {
            service: service.to_owned(),
            operation: operation.to_owned(),
            window,
        };
        self
    }

    /// Adds a header to an error reply (`Retry-After`); no effect on a rewrite.
    pub fn header(mut self, name: &str, value: &str) -> Self {
        if let Reply::Error { headers, .. } = &mut self.reply {
            headers.push((name.to_owned(), value.to_owned()));
        }
        self
    }

    fn label(&self) -> String {
        match &self.reply {
            Reply::Error { status, code, .. } => format!("{status} {code}"),
            Reply::Rewrite(_) => "rewritten".to_owned(),
            Reply::Answer(_) => format!("answered {}", self.operation),
        }
    }
}

/// One request the proxy saw.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Call {
    /// The service, from the SigV4 credential scope (empty if unsigned).
    pub service: String,
    /// The operation (`DeleteRestApi`), or `METHOD /path` when the proxy
    /// does not know it.
    pub operation: String,
    /// The HTTP method.
    pub method: String,
    /// The path with its query.
    pub path: String,
    /// When it arrived, since the proxy started.
    pub at: Duration,
    /// The status of the reply the caller got.
    pub status: u16,
    /// How it was faulted (`429 TooManyRequestsException`, `rewritten`), if
    /// it was.
    pub fault: Option<String>,
}

impl fmt::Display for Call {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{:>7.3}s {}:{} {}",
            self.at.as_secs_f64(),
            self.service,
            self.operation,
            self.status
        )?;
        if let Some(fault) = &self.fault {
            write!(f, " [{fault}]")?;
        }
        Ok(())
    }
}

/// A fault with the count of calls it has answered.
struct Armed {
    fault: Fault,
    used: usize,
}

#[derive(Default)]
struct State {
    faults: Vec<Armed>,
    calls: Vec<Call>,
    /// When each trigger operation (service, operation) was last forwarded.
    triggered: Vec<((String, String), Instant)>,
}

struct Shared {
    started: Instant,
    upstream: String,
    state: Mutex<State>,
}

impl Shared {
    fn state(&self) -> MutexGuard<'_, State> {
        // A panicking test thread must not hide every later call.
        self.state.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
    }
}

/// A running proxy; it stops when dropped.
pub struct FaultProxy {
    url: String,
    shared: Arc<Shared>,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
}

impl FaultProxy {
    /// Starts a proxy on 127.0.0.1 that forwards to `upstream`
    /// (`http://127.0.0.1:PORT`, moto's endpoint).
    pub fn start(upstream: &str) -> Self {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind the fault proxy");
        listener.set_nonblocking(true).expect("a non-blocking listener");
        let url = format!("http://{}", listener.local_addr().expect("the proxy's address"));
        let shared = Arc::new(Shared {
            started: Instant::now(),
            upstream: upstream.trim_end_matches('/').to_owned(),
            state: Mutex::new(State::default()),
        });
        let (stop, stopped) = tokio::sync::oneshot::channel();
        let serving = shared.clone();
        std::thread::Builder::new()
            .name("fault-proxy".into())
            .spawn(move || {
                let runtime = tokio::runtime::Builder::new_multi_thread()
                    .worker_threads(2)
                    .enable_all()
                    .build()
                    .expect("the fault proxy's runtime");
                runtime.block_on(serve(listener, serving, stopped));
            })
            .expect("start the fault proxy's thread");
        Self {
            url,
            shared,
            stop: Some(stop),
        }
    }

    /// Its base URL, `http://127.0.0.1:PORT`.
    pub fn url(&self) -> &str {
        &self.url
    }

    /// Environment for a child process to reach moto through this proxy.
    pub fn env(&self) -> Vec<(&'static str, String)> {
        crate::child_env(&self.url)
    }

    /// An SDK config that goes through this proxy, with the SDK's own
    /// retries off, so that every call is exactly one request.
    pub async fn sdk_config(&self) -> SdkConfig {
        crate::sdk_config_for(&self.url, aws_config::retry::RetryConfig::disabled()).await
    }

    /// Adds a fault; faults are matched in the order they were added, and
    /// the first that applies answers.
    pub fn inject(&self, fault: Fault) {
        self.shared.state().faults.push(Armed { fault, used: 0 });
    }

    /// Removes every fault.
    pub fn clear(&self) {
        self.shared.state().faults.clear();
    }

    /// Every call so far, in the order they arrived.
    pub fn calls(&self) -> Vec<Call> {
        self.shared.state().calls.clone()
    }

    /// The calls to `service` `operation`.
    pub fn calls_to(&self, service: &str, operation: &str) -> Vec<Call> {
        self.calls()
            .into_iter()
            .filter(|c| c.service == service && c.operation == operation)
            .collect()
    }
}

impl Drop for FaultProxy {
    fn drop(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
    }
}

async fn serve(listener: std::net::TcpListener, shared: Arc<Shared>, mut stopped: tokio::sync::oneshot::Receiver<()>) {
    let listener = tokio::net::TcpListener::from_std(listener).expect("a tokio listener");
    let client: Client<HttpConnector, Full<Bytes>> = Client::builder(TokioExecutor::new()).build_http();
    loop {
        let stream = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok((stream, _)) => stream,
                Err(_) => continue,
            },
            _ = &mut stopped => return,
        };
        let (shared, client) = (shared.clone(), client.clone());
        tokio::spawn(async move {
            let service = hyper::service::service_fn(move |request| {
                let (shared, client) = (shared.clone(), client.clone());
                async move { Ok::<_, Infallible>(handle(&shared, &client, request).await) }
            });
            // Keep-alive is hyper's default: the SDK reuses its connections.
            let _ = hyper::server::conn::http1::Builder::new()
                .serve_connection(TokioIo::new(stream), service)
                .await;
        });
    }
}

/// What the proxy decided for one call; the string is the fault's label.
enum Decision {
    Forward,
    Error(Response<Full<Bytes>>, String),
    Answer(Answer, String),
    Rewrite(Rewrite, String),
}

async fn handle(
    shared: &Shared,
    client: &Client<HttpConnector, Full<Bytes>>,
    request: Request<Incoming>,
) -> Response<Full<Bytes>> {
    let at = shared.started.elapsed();
    let (parts, body) = request.into_parts();
    let body = match body.collect().await {
        Ok(collected) => collected.to_bytes(),
        Err(err) => {
            return plain(
                StatusCode::BAD_REQUEST,
                &format!("fault proxy: unreadable request body: {err}"),
            );
        }
    };
    let service = service_of(&parts.headers);
    let operation = operation_of(&service, &parts, &body);
    let method = parts.method.to_string();
    let path = parts
        .uri
        .path_and_query()
        .map(|p| p.to_string())
        .unwrap_or_else(|| "/".into());
    let (response, fault) = match decide(shared, &service, &operation) {
        Decision::Error(response, label) => (response, Some(label)),
        Decision::Answer(answer, label) => {
            let (status, content_type, text) = answer(&String::from_utf8_lossy(&body));
            (reply(status, content_type, text), Some(label))
        }
        Decision::Forward => (forward(shared, client, parts, body, &service, &operation).await, None),
        Decision::Rewrite(rewrite, label) => {
            let request = String::from_utf8_lossy(&body).into_owned();
            let response = forward(shared, client, parts, body, &service, &operation).await;
            (rewritten(response, &request, &rewrite).await, Some(label))
        }
    };
    shared.state().calls.push(Call {
        service,
        operation,
        method,
        path,
        at,
        status: response.status().as_u16(),
        fault,
    });
    response
}

/// The first fault that applies to this call, counted as used.
fn decide(shared: &Shared, service: &str, operation: &str) -> Decision {
    let mut state = shared.state();
    let now = Instant::now();
    let State { faults, triggered, .. } = &mut *state;
    for armed in faults.iter_mut() {
        let fault = &armed.fault;
        if fault.service != service || fault.operation != operation {
            continue;
        }
        let applies = match &fault.when {
            When::Always => true,
            When::First(n) => armed.used < *n,
            When::After {
                service,
                operation,
                window,
            } => triggered
                .iter()
                .any(|((s, o), at)| s == service && o == operation && now.duration_since(*at) < *window),
        };
        if !applies {
            continue;
        }
        armed.used += 1;
        let label = fault.label();
        return match &fault.reply {
            Reply::Rewrite(rewrite) => Decision::Rewrite(rewrite.clone(), label),
            Reply::Answer(answer) => Decision::Answer(answer.clone(), label),
            Reply::Error {
                status,
                code,
                message,
                headers,
            } => Decision::Error(error_response(service, *status, code, message, headers), label),
        };
    }
    Decision::Forward
}

/// Notes that `service` `operation` was forwarded, for trigger windows.
fn triggered(shared: &Shared, service: &str, operation: &str) {
    let mut state = shared.state();
    let key = (service.to_owned(), operation.to_owned());
    let now = Instant::now();
    match state.triggered.iter_mut().find(|(k, _)| *k == key) {
        Some((_, at)) => *at = now,
        None => state.triggered.push((key, now)),
    }
}

/// The headers that belong to one connection, never passed on.
const HOP_BY_HOP: [&str; 4] = ["connection", "keep-alive", "transfer-encoding", "upgrade"];

async fn forward(
    shared: &Shared,
    client: &Client<HttpConnector, Full<Bytes>>,
    mut parts: hyper::http::request::Parts,
    body: Bytes,
    service: &str,
    operation: &str,
) -> Response<Full<Bytes>> {
    let path = parts.uri.path_and_query().map(|p| p.as_str()).unwrap_or("/");
    let uri = match format!("{}{path}", shared.upstream).parse() {
        Ok(uri) => uri,
        Err(err) => {
            return plain(
                StatusCode::BAD_GATEWAY,
                &format!("fault proxy: bad upstream URI: {err}"),
            );
        }
    };
    parts.uri = uri;
    for name in HOP_BY_HOP {
        parts.headers.remove(name);
    }
    // The body was read whole (and de-chunked), so its length is known.
    if !body.is_empty() || parts.headers.contains_key(CONTENT_LENGTH) {
        parts.headers.insert(CONTENT_LENGTH, HeaderValue::from(body.len()));
    }
    let reply = match client.request(Request::from_parts(parts, Full::new(body))).await {
        Ok(reply) => reply,
        Err(err) => {
            return plain(
                StatusCode::BAD_GATEWAY,
                &format!("fault proxy: moto did not answer: {err}"),
            );
        }
    };
    let (mut parts, body) = reply.into_parts();
    let body = match body.collect().await {
        Ok(collected) => collected.to_bytes(),
        Err(err) => {
            return plain(
                StatusCode::BAD_GATEWAY,
                &format!("fault proxy: moto's reply broke off: {err}"),
            );
        }
    };
    for name in HOP_BY_HOP {
        parts.headers.remove(name);
    }
    triggered(shared, service, operation);
    // Content-Length stays as moto sent it: a HEAD answer's length is the
    // object's, not the (empty) body's.
    Response::from_parts(parts, Full::new(body))
}

async fn rewritten(response: Response<Full<Bytes>>, request: &str, rewrite: &Rewrite) -> Response<Full<Bytes>> {
    let (mut parts, body) = response.into_parts();
    let bytes = match body.collect().await {
        Ok(collected) => collected.to_bytes(),
        Err(never) => match never {},
    };
    let text = rewrite(request, &String::from_utf8_lossy(&bytes));
    parts.headers.remove(CONTENT_LENGTH);
    // A checksum of moto's body would not match the new one.
    let checksums: Vec<HeaderName> = parts
        .headers
        .keys()
        .filter(|name| name.as_str().starts_with("x-amz-checksum-"))
        .cloned()
        .collect();
    for name in checksums {
        parts.headers.remove(name);
    }
    Response::from_parts(parts, Full::new(Bytes::from(text)))
}

fn reply(status: u16, content_type: &'static str, body: String) -> Response<Full<Bytes>> {
    let mut response = Response::new(Full::new(Bytes::from(body)));
    *response.status_mut() = StatusCode::from_u16(status).unwrap_or(StatusCode::BAD_REQUEST);
    let headers = response.headers_mut();
    headers.insert(CONTENT_TYPE, HeaderValue::from_static(content_type));
    headers.insert("x-amzn-requestid", HeaderValue::from_static(REQUEST_ID));
    response
}

fn plain(status: StatusCode, text: &str) -> Response<Full<Bytes>> {
    let mut response = Response::new(Full::new(Bytes::from(text.to_owned())));
    *response.status_mut() = status;
    response
}

/// The service's signing name from the SigV4 credential scope:
/// `Credential=KEY/DATE/REGION/SERVICE/aws4_request`.
fn service_of(headers: &hyper::HeaderMap) -> String {
    headers
        .get(hyper::header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|auth| auth.split("Credential=").nth(1))
        .and_then(|scope| scope.split(['/', ',']).nth(3))
        .unwrap_or_default()
        .to_owned()
}

/// The operation a request calls: `Action=` for the query protocol (IAM,
/// STS), `X-Amz-Target` for JSON protocols (CloudWatch Logs), and a table of
/// method and path for REST protocols; `METHOD /path` when none says.
fn operation_of(service: &str, parts: &hyper::http::request::Parts, body: &[u8]) -> String {
    if let Some(target) = parts.headers.get("x-amz-target").and_then(|v| v.to_str().ok()) {
        return target.rsplit('.').next().unwrap_or(target).to_owned();
    }
    let form = String::from_utf8_lossy(body);
    if let Some(action) = form.split('&').find_map(|pair| pair.strip_prefix("Action=")) {
        return action.to_owned();
    }
    let method = parts.method.as_str();
    let path = parts.uri.path();
    let query: Vec<&str> = parts
        .uri
        .query()
        .unwrap_or_default()
        .split('&')
        .map(|pair| pair.split('=').next().unwrap_or_default())
        .filter(|key| !key.is_empty())
        .collect();
    rest_operation(service, method, path, &query).unwrap_or_else(|| match query.as_slice() {
        // The query's keys name S3's subresources (`?tagging`); its values
        // would only make the name longer.
        [] => format!("{method} {path}"),
        keys => format!("{method} {path}?{}", keys.join("&")),
    })
}

/// The REST operations, one a line: service, method, path pattern (with the
/// query key it needs, if any) and name. `*` is one path segment, `**` the
/// rest of the path (one or more segments). S3 names a bucket's or object's
/// subresources in the query (`?versioning`, `?tagging`), so an S3 pattern
/// without a key matches only a request without one ([`S3_PLAIN`]).
const REST: &str = "
    apigateway POST   /restapis                                      CreateRestApi
    apigateway GET    /restapis                                      GetRestApis
    apigateway GET    /restapis/*                                    GetRestApi
    apigateway PATCH  /restapis/*                                    UpdateRestApi
    apigateway DELETE /restapis/*                                    DeleteRestApi
    apigateway POST   /restapis/*/deployments                        CreateDeployment
    apigateway GET    /restapis/*/resources                          GetResources
    apigateway POST   /restapis/*/resources/*                        CreateResource
    apigateway PUT    /restapis/*/resources/*/methods/*              PutMethod
    apigateway PUT    /restapis/*/resources/*/methods/*/integration  PutIntegration
    apigateway GET    /restapis/*/resources/*/methods/*/integration  GetIntegration
    apigateway DELETE /restapis/*/resources/*/methods/*/integration  DeleteIntegration
    apigateway POST   /restapis/*/stages                             CreateStage
    apigateway GET    /restapis/*/stages                             GetStages
    apigateway GET    /restapis/*/stages/*                           GetStage
    apigateway PATCH  /restapis/*/stages/*                           UpdateStage
    apigateway DELETE /restapis/*/stages/*                           DeleteStage
    apigateway PUT    /tags/**                                       TagResource
    lambda     GET    /2015-03-31/functions/*                        GetFunction
    route53    POST   /2013-04-01/hostedzone/*/rrset                 ChangeResourceRecordSets
    route53    GET    /2013-04-01/hostedzone/*/rrset                 ListResourceRecordSets
    s3         PUT    /*?versioning                                  PutBucketVersioning
    s3         GET    /*?versions                                    ListObjectVersions
    s3         POST   /*?delete                                      DeleteObjects
    s3         PUT    /*                                             CreateBucket
    s3         DELETE /*                                             DeleteBucket
    s3         GET    /*/**                                          GetObject
    s3         PUT    /*/**                                          PutObject
    s3         HEAD   /*/**                                          HeadObject
";

/// The query keys an S3 request may carry and still be the plain bucket or
/// object operation.
const S3_PLAIN: [&str; 2] = ["x-id", "versionId"];

fn rest_operation(service: &str, method: &str, path: &str, query: &[&str]) -> Option<String> {
    // The SDK names some S3 operations itself (`?x-id=GetObject`); the
    // table still decides, so that every name comes from one place.
    let segments: Vec<&str> = path.trim_end_matches('/').split('/').skip(1).collect();
    REST.lines()
        .filter_map(|line| match line.split_whitespace().collect::<Vec<_>>()[..] {
            [s, m, pattern, name] => Some((s, m, pattern, name)),
            _ => None,
        })
        .find(|(s, m, pattern, _)| {
            let (pattern, key) = match pattern.split_once('?') {
                Some((pattern, key)) => (pattern, Some(key)),
                None => (*pattern, None),
            };
            *s == service
                && *m == method
                && matches(pattern, &segments)
                && match key {
                    Some(key) => query.contains(&key),
                    None => service != "s3" || query.iter().all(|q| S3_PLAIN.contains(q)),
                }
        })
        .map(|(.., name)| name.to_owned())
}

fn matches(pattern: &str, segments: &[&str]) -> bool {
    let parts: Vec<&str> = pattern.split('/').skip(1).collect();
    let mut i = 0;
    for (n, part) in parts.iter().enumerate() {
        match *part {
            "**" => return n == parts.len() - 1 && segments.len() > i,
            "*" if i < segments.len() && !segments[i].is_empty() => i += 1,
            literal if i < segments.len() && segments[i] == literal => i += 1,
            _ => return false,
        }
    }
    i == segments.len()
}

/// AWS error `code` as `service` sends it, so that its SDK reads that code:
/// rest-json (`x-amzn-ErrorType`) for API Gateway and Lambda, S3's bare
/// `<Error>`, Route53's and the query protocol's `<ErrorResponse>`, JSON 1.1's
/// `__type` for CloudWatch Logs.
pub fn error_response(
    service: &str,
    status: u16,
    code: &str,
    message: &str,
    headers: &[(String, String)],
) -> Response<Full<Bytes>> {
    let (content_type, body, typed) = match service {
        "s3" => (
            "application/xml",
            format!(
                r#"<?xml version="1.0" encoding="UTF-8"?><Error><Code>{code}</Code><Message>{}</Message><RequestId>{REQUEST_ID}</RequestId></Error>"#,
                xml(message)
            ),
            false,
        ),
        "route53" => (
            "text/xml",
            format!(
                r#"<?xml version="1.0"?><ErrorResponse xmlns="https://route53.amazonaws.com/doc/2013-04-01/"><Error><Type>Sender</Type><Code>{code}</Code><Message>{}</Message></Error><RequestId>{REQUEST_ID}</RequestId></ErrorResponse>"#,
                xml(message)
            ),
            false,
        ),
        "iam" | "sts" => (
            "text/xml",
            format!(
                r#"<ErrorResponse><Error><Type>Sender</Type><Code>{code}</Code><Message>{}</Message></Error><RequestId>{REQUEST_ID}</RequestId></ErrorResponse>"#,
                xml(message)
            ),
            false,
        ),
        "logs" => (
            "application/x-amz-json-1.1",
            serde_json::json!({ "__type": code, "message": message }).to_string(),
            false,
        ),
        // API Gateway and Lambda: rest-json, the code in a header.
        _ => (
            "application/json",
            serde_json::json!({ "message": message }).to_string(),
            true,
        ),
    };
    let mut response = reply(status, content_type, body);
    let out = response.headers_mut();
    if typed && let Ok(value) = HeaderValue::from_str(code) {
        out.insert("x-amzn-errortype", value);
    }
    for (name, value) in headers {
        if let (Ok(name), Ok(value)) = (HeaderName::try_from(name.as_str()), HeaderValue::from_str(value)) {
            out.insert(name, value);
        }
    }
    response
}

/// The request id every faulted reply carries.
const REQUEST_ID: &str = "fault-proxy-0000-0000";

fn xml(text: &str) -> String {
    text.replace('&', "&amp;").replace('<', "&lt;").replace('>', "&gt;")
}

/// moto's GetFunction reply with `Tags` replaced by the `TagsError` AWS
/// sends when the caller may not `lambda:ListTags`.
pub fn tags_error(reply: &str) -> String {
    let Ok(mut function) = serde_json::from_str::<serde_json::Value>(reply) else {
        return reply.to_owned();
    };
    if let Some(object) = function.as_object_mut() {
        object.remove("Tags");
        object.insert(
            "TagsError".into(),
            serde_json::json!({
                "ErrorCode": "AccessDeniedException",
                "Message": "User is not authorized to perform: lambda:ListTags",
            }),
        );
    }
    function.to_string()
}

/// A quiet DeleteObjects result that lists the request's first object (key
/// and version) as not deleted, AccessDenied.
pub fn delete_objects_denied(request: &str) -> String {
    let between = |open: &str, close: &str| {
        request
            .split_once(open)
            .and_then(|(_, rest)| rest.split_once(close))
            .map(|(inner, _)| inner.to_owned())
            .unwrap_or_default()
    };
    format!(
        r#"<?xml version="1.0" encoding="UTF-8"?><DeleteResult xmlns="http://s3.amazonaws.com/doc/2006-03-01/"><Error><Key>{}</Key><VersionId>{}</VersionId><Code>AccessDenied</Code><Message>Access Denied</Message></Error></DeleteResult>"#,
        between("<Key>", "</Key>"),
        between("<VersionId>", "</VersionId>"),
    )
}

/// The calls as one compact line: runs of the same call and outcome become
/// `Operation ×N [fault]`, e.g. `sts:GetCallerIdentity, apigateway:DeleteRestApi
/// ×3 [429 TooManyRequestsException], apigateway:DeleteRestApi`.
pub fn summary(calls: &[Call]) -> String {
    let mut runs: Vec<(String, usize)> = Vec::new();
    for call in calls {
        let mut name = format!("{}:{}", call.service, call.operation);
        if let Some(fault) = &call.fault {
            name.push_str(&format!(" [{fault}]"));
        }
        match runs.last_mut() {
            Some((last, n)) if *last == name => *n += 1,
            _ => runs.push((name, 1)),
        }
    }
    let runs: Vec<String> = runs
        .into_iter()
        .map(|(name, n)| if n == 1 { name } else { format!("{name} ×{n}") })
        .collect();
    format!("{} calls: {}", calls.len(), runs.join(", "))
}

/// How long `service` `operation` was held up: from its first faulted call
/// to its first call after that which was not faulted; `None` if it was
/// never faulted or never got through.
pub fn held_up(calls: &[Call], service: &str, operation: &str) -> Option<Duration> {
    let mut own = calls
        .iter()
        .filter(|c| c.service == service && c.operation == operation);
    let first = own.by_ref().find(|c| c.fault.is_some())?;
    let through = own.find(|c| c.fault.is_none())?;
    Some(through.at.saturating_sub(first.at))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rest_paths_name_their_operations() {
        let op = |service, method, path: &str, query: &[&str]| rest_operation(service, method, path, query);
        assert_eq!(
            op("apigateway", "POST", "/restapis", &[]).as_deref(),
            Some("CreateRestApi")
        );
        assert_eq!(
            op("apigateway", "DELETE", "/restapis/abc", &[]).as_deref(),
            Some("DeleteRestApi")
        );
        assert_eq!(
            op("apigateway", "PUT", "/restapis/a/resources/r/methods/ANY", &[]).as_deref(),
            Some("PutMethod")
        );
        assert_eq!(
            op(
                "apigateway",
                "PUT",
                "/restapis/a/resources/r/methods/ANY/integration",
                &[]
            )
            .as_deref(),
            Some("PutIntegration")
        );
        assert_eq!(
            op(
                "apigateway",
                "PUT",
                "/tags/arn%3Aaws%3Aapigateway%3A%3A%2Frestapis%2Fa",
                &[]
            )
            .as_deref(),
            Some("TagResource")
        );
        assert_eq!(op("s3", "PUT", "/bucket", &[]).as_deref(), Some("CreateBucket"));
        assert_eq!(
            op("s3", "PUT", "/bucket", &["versioning"]).as_deref(),
            Some("PutBucketVersioning")
        );
        assert_eq!(
            op("s3", "PUT", "/bucket", &["tagging"]),
            None,
            "unknown bucket settings stay unnamed"
        );
        assert_eq!(
            op("s3", "POST", "/bucket", &["delete"]).as_deref(),
            Some("DeleteObjects")
        );
        assert_eq!(
            op("s3", "GET", "/bucket/config.json", &["x-id"]).as_deref(),
            Some("GetObject")
        );
        assert_eq!(op("s3", "GET", "/bucket/a/b.json", &[]).as_deref(), Some("GetObject"));
        assert_eq!(
            op("s3", "HEAD", "/bucket/config.json", &[]).as_deref(),
            Some("HeadObject")
        );
        assert_eq!(
            op("s3", "GET", "/bucket", &["versions"]).as_deref(),
            Some("ListObjectVersions")
        );
        assert_eq!(
            op("route53", "POST", "/2013-04-01/hostedzone/Z1/rrset/", &[]).as_deref(),
            Some("ChangeResourceRecordSets")
        );
        assert_eq!(
            op("lambda", "GET", "/2015-03-31/functions/f", &[]).as_deref(),
            Some("GetFunction")
        );
        assert_eq!(op("lambda", "GET", "/2015-03-31/functions/f/policy", &[]), None);
    }

    #[test]
    fn the_service_comes_from_the_credential_scope() {
        let mut headers = hyper::HeaderMap::new();
        headers.insert(
            hyper::header::AUTHORIZATION,
            HeaderValue::from_static(
                "AWS4-HMAC-SHA256 Credential=testing/20260101/us-east-1/apigateway/aws4_request, SignedHeaders=host, Signature=0",
            ),
        );
        assert_eq!(service_of(&headers), "apigateway");
        assert_eq!(service_of(&hyper::HeaderMap::new()), "");
    }

    #[test]
    fn a_summary_folds_runs_of_the_same_call() {
        let call = |operation: &str, fault: Option<&str>, at| Call {
            service: "apigateway".into(),
            operation: operation.into(),
            method: "DELETE".into(),
            path: "/restapis/a".into(),
            at: Duration::from_millis(at),
            status: if fault.is_some() { 429 } else { 202 },
            fault: fault.map(str::to_owned),
        };
        let calls = [
            call("DeleteRestApi", Some("429 TooManyRequestsException"), 0),
            call("DeleteRestApi", Some("429 TooManyRequestsException"), 100),
            call("DeleteRestApi", None, 400),
        ];
        assert_eq!(
            summary(&calls),
            "3 calls: apigateway:DeleteRestApi [429 TooManyRequestsException] ×2, apigateway:DeleteRestApi"
        );
        assert_eq!(
            held_up(&calls, "apigateway", "DeleteRestApi"),
            Some(Duration::from_millis(400))
        );
        assert_eq!(held_up(&calls[2..], "apigateway", "DeleteRestApi"), None);
    }
}
