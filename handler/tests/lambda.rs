//! The Lambda entry point, run as Lambda runs it: the real `bootstrap`
//! binary polls a Runtime API (served here) for API Gateway REST proxy events
//! shaped as AWS documents them, and its answers are checked.
//!
//! By default the `bootstrap` is the one cargo built for this machine.
//! `DDNS_BOOTSTRAP` names another, and `DDNS_BOOTSTRAP_RUNNER` a program to
//! run it with: `bench/lambda_arm64.sh` runs these same tests on the arm64
//! `bootstrap` from the release zip under `qemu-aarch64-static`. Each run
//! prints the process's peak RSS.

mod support;

use std::collections::VecDeque;
use std::path::PathBuf;
use std::process::Stdio;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::Router;
use axum::extract::{Path, State};
use axum::http::HeaderMap;
use axum::response::IntoResponse;
use axum::routing::{get, post};
use ddns_testkit::Fixture;
use serde_json::{Value, json};
use support::{basic, seed_body, seed_hash};
use tokio::sync::{Notify, mpsc};

const SECRET: &str = "lambda-secret-0001";
const SOURCE_IP: &str = "203.0.113.50";

/// A minimal Lambda Runtime API: hands out queued events and collects what
/// the function answers.
#[derive(Clone)]
struct RuntimeApi {
    events: Arc<Mutex<VecDeque<(String, Value)>>>,
    queued: Arc<Notify>,
    answers: mpsc::UnboundedSender<(String, String, Value)>,
}

async fn next_event(State(api): State<RuntimeApi>) -> impl IntoResponse {
    loop {
        let notified = api.queued.notified();
        if let Some((id, event)) = api.events.lock().unwrap().pop_front() {
            let mut headers = HeaderMap::new();
            headers.insert("lambda-runtime-aws-request-id", id.parse().unwrap());
            headers.insert("lambda-runtime-deadline-ms", "4102444800000".parse().unwrap());
            headers.insert(
                "lambda-runtime-invoked-function-arn",
                "arn:aws:lambda:us-east-1:123456789012:function:ddns".parse().unwrap(),
            );
            headers.insert(
                "lambda-runtime-trace-id",
                "Root=1-5759e988-bd862e3fe1be46a994272793".parse().unwrap(),
            );
            return (headers, event.to_string());
        }
        notified.await;
    }
}

async fn answer(State(api): State<RuntimeApi>, Path((id, kind)): Path<(String, String)>, body: String) -> &'static str {
    let value = serde_json::from_str(&body).unwrap_or(Value::String(body));
    let _ = api.answers.send((id, kind, value));
    "{}"
}

struct Function {
    api: RuntimeApi,
    answers: mpsc::UnboundedReceiver<(String, String, Value)>,
    process: tokio::process::Child,
    next_id: u32,
}

impl Function {
    async fn start(fx: &Fixture) -> Self {
        let (tx, answers) = mpsc::unbounded_channel();
        let api = RuntimeApi {
            events: Arc::default(),
            queued: Arc::default(),
            answers: tx,
        };
        let app = Router::new()
            .route("/2018-06-01/runtime/invocation/next", get(next_event))
            .route("/2018-06-01/runtime/invocation/{id}/{kind}", post(answer))
            .with_state(api.clone());
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        tokio::spawn(async move { axum::serve(listener, app).await });

        let process = bootstrap()
            .envs(fx.moto.env())
            .env("AWS_LAMBDA_RUNTIME_API", addr.to_string())
            .env("AWS_LAMBDA_FUNCTION_NAME", "ddns")
            .env("AWS_LAMBDA_FUNCTION_MEMORY_SIZE", "128")
            .env("AWS_LAMBDA_FUNCTION_VERSION", "$LATEST")
            .env("AWS_LAMBDA_LOG_STREAM_NAME", "test")
            .env("AWS_LAMBDA_LOG_GROUP_NAME", "/aws/lambda/ddns")
            .env("DDNS_CONFIG_BUCKET", &fx.bucket)
            .env("DDNS_CONFIG_MAX_AGE_SECS", "0")
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .kill_on_drop(true)
            .spawn()
            .expect("run bootstrap");
        Self {
            api,
            answers,
            process,
            next_id: 0,
        }
    }

    /// Invokes the function with `event`; returns the API Gateway response.
    async fn invoke(&mut self, event: Value) -> Value {
        self.next_id += 1;
        let id = format!("req-{}", self.next_id);
        self.api.events.lock().unwrap().push_back((id.clone(), event));
        self.api.queued.notify_waiters();
        let (got_id, kind, value) = tokio::time::timeout(Duration::from_secs(30), self.answers.recv())
            .await
            .expect("the function did not answer")
            .expect("runtime API closed");
        assert_eq!(got_id, id);
        assert_eq!(kind, "response", "the function reported an error: {value}");
        value
    }

    /// Stops the function and returns everything it logged, after printing
    /// its peak RSS (the kernel's high-water mark, read just before the
    /// kill; under qemu it includes the emulator's own memory).
    async fn logs(mut self) -> String {
        let pid = self.process.id().expect("bootstrap is running");
        let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap_or_default();
        if let Some(peak) = status.lines().find(|l| l.starts_with("VmHWM:")) {
            eprintln!("bootstrap peak RSS: {}", peak.trim_start_matches("VmHWM:").trim());
        }
        self.process.start_kill().unwrap();
        let output = self.process.wait_with_output().await.unwrap();
        format!(
            "{}{}",
            String::from_utf8_lossy(&output.stdout),
            String::from_utf8_lossy(&output.stderr)
        )
    }
}

/// The `bootstrap` to run: `DDNS_BOOTSTRAP`, else cargo's; through
/// `DDNS_BOOTSTRAP_RUNNER` when that is set.
fn bootstrap() -> tokio::process::Command {
    let binary = std::env::var_os("DDNS_BOOTSTRAP")
        .map_or_else(|| PathBuf::from(env!("CARGO_BIN_EXE_bootstrap")), PathBuf::from);
    match std::env::var_os("DDNS_BOOTSTRAP_RUNNER").filter(|r| !r.is_empty()) {
        Some(runner) => {
            let mut command = tokio::process::Command::new(runner);
            command.arg(binary);
            command
        }
        None => tokio::process::Command::new(binary),
    }
}

/// An API Gateway REST (v1) proxy event, as in AWS's documentation, for a GET
/// through the `prod` stage.
fn rest_event(path: &str, query: &[(&str, &str)], extra_headers: &[(&str, &str)], source_ip: Option<&str>) -> Value {
    let mut headers = json!({
        "Accept": "*/*",
        "Host": "abc123.execute-api.us-east-1.amazonaws.com",
        "User-Agent": "curl/8.5.0",
        "X-Amzn-Trace-Id": "Root=1-5759e988-bd862e3fe1be46a994272793",
        "X-Forwarded-For": "198.51.100.77, 130.176.0.1",
        "X-Forwarded-Port": "443",
        "X-Forwarded-Proto": "https"
    });
    for (name, value) in extra_headers {
        headers[*name] = json!(value);
    }
    let multi_headers: serde_json::Map<String, Value> = headers
        .as_object()
        .unwrap()
        .iter()
        .map(|(k, v)| (k.clone(), json!([v])))
        .collect();
    let (qs, multi_qs) = if query.is_empty() {
        (Value::Null, Value::Null)
    } else {
        (
            query
                .iter()
                .map(|(k, v)| ((*k).to_owned(), json!(v)))
                .collect::<serde_json::Map<_, _>>()
                .into(),
            query
                .iter()
                .map(|(k, v)| ((*k).to_owned(), json!([v])))
                .collect::<serde_json::Map<_, _>>()
                .into(),
        )
    };
    let (resource, path_parameters) = if path == "/" {
        ("/", Value::Null)
    } else {
        ("/{proxy+}", json!({ "proxy": path.trim_start_matches('/') }))
    };
    json!({
        "resource": resource,
        "path": path,
        "httpMethod": "GET",
        "headers": headers,
        "multiValueHeaders": multi_headers,
        "queryStringParameters": qs,
        "multiValueQueryStringParameters": multi_qs,
        "pathParameters": path_parameters,
        "stageVariables": null,
        "requestContext": {
            "accountId": "123456789012",
            "apiId": "abc123",
            "domainName": "abc123.execute-api.us-east-1.amazonaws.com",
            "domainPrefix": "abc123",
            "extendedRequestId": "BQGojGkyoAMFL4A=",
            "httpMethod": "GET",
            "identity": {
                "accessKey": null,
                "accountId": null,
                "caller": null,
                "cognitoAuthenticationProvider": null,
                "cognitoAuthenticationType": null,
                "cognitoIdentityId": null,
                "cognitoIdentityPoolId": null,
                "principalOrgId": null,
                "sourceIp": source_ip,
                "user": null,
                "userAgent": "curl/8.5.0",
                "userArn": null
            },
            "path": format!("/prod{path}"),
            "protocol": "HTTP/1.1",
            "requestId": "c6af9ac6-7b61-11e6-9a41-93e8deadbeef",
            "requestTime": "29/Nov/2026:08:00:00 +0000",
            "requestTimeEpoch": 1795939200000u64,
            "resourceId": "2gxmpl",
            "resourcePath": resource,
            "stage": "prod"
        },
        "body": null,
        "isBase64Encoded": false
    })
}

#[tokio::test(flavor = "multi_thread")]
async fn rest_proxy_events_through_the_lambda_entry_point() {
    let fx = Fixture::new().await;
    let host = fx.host("home");
    fx.put_config(&json!({ &host: fx.entry("dual", SECRET, json!({"allow_private_addresses": false})) }))
        .await;
    let mut function = Function::start(&fx).await;

    // mode=get at the stage root answers sourceIp, never X-Forwarded-For.
    let reply = function
        .invoke(rest_event("/", &[("mode", "get")], &[], Some(SOURCE_IP)))
        .await;
    assert_eq!(reply["statusCode"], 200);
    assert_eq!(reply["body"], seed_body(true, SOURCE_IP));
    assert_eq!(reply["multiValueHeaders"]["content-type"], json!(["application/json"]));
    assert_eq!(reply["isBase64Encoded"], false);

    // A seed set, as the blog's client sends it, updates Route53.
    let hash = seed_hash(SOURCE_IP, &host, SECRET);
    let event = rest_event(
        "/",
        &[("mode", "set"), ("hostname", &host), ("hash", &hash)],
        &[],
        Some(SOURCE_IP),
    );
    let reply = function.invoke(event).await;
    assert_eq!(reply["statusCode"], 200, "{reply}");
    assert_eq!(
        reply["body"],
        seed_body(
            true,
            &format!("Your hostname record {host} has been set to {SOURCE_IP}")
        )
    );
    assert_eq!(fx.record(&host, "A").await, [SOURCE_IP]);

    // dyndns2 below the stage: /prod/nic/update must still reach /nic/update.
    let auth = basic(&host, SECRET);
    let event = rest_event(
        "/nic/update",
        &[("hostname", &host), ("myipv6", "2001:db8::50")],
        &[("Authorization", &auth)],
        Some(SOURCE_IP),
    );
    let reply = function.invoke(event).await;
    assert_eq!(
        (reply["statusCode"].clone(), reply["body"].clone()),
        (json!(200), json!("good 2001:db8::50\n"))
    );
    assert_eq!(fx.record(&host, "AAAA").await, ["2001:db8::50"]);

    // /myip through a path with the stage in it.
    let reply = function.invoke(rest_event("/myip", &[], &[], Some(SOURCE_IP))).await;
    assert_eq!(reply["body"], format!("{SOURCE_IP}\n"));

    // A client mistake is a 4xx, and the process lives on.
    let event = rest_event(
        "/",
        &[("mode", "set"), ("hostname", &host), ("hash", "nothex")],
        &[],
        Some(SOURCE_IP),
    );
    assert_eq!(function.invoke(event).await["statusCode"], 400);

    // Without sourceIp the caller is unknown: a server fault, and
    // X-Forwarded-For is not trusted in its place.
    let reply = function.invoke(rest_event("/", &[("mode", "get")], &[], None)).await;
    assert_eq!(reply["statusCode"], 500);
    assert!(!reply["body"].as_str().unwrap().contains("198.51.100.77"));

    // Still alive after all of it.
    let reply = function
        .invoke(rest_event("/", &[("mode", "get")], &[], Some(SOURCE_IP)))
        .await;
    assert_eq!(reply["statusCode"], 200);

    // One log line per update with host, old and new address and result;
    // never the secret, the hash or the Authorization header.
    let logs = function.logs().await;
    let updates: Vec<&str> = logs
        .lines()
        .filter(|l| l.contains("update") && l.contains(&host))
        .collect();
    assert_eq!(updates.len(), 2, "{logs}");
    assert!(
        updates[0].contains(SOURCE_IP) && updates[0].contains("changed"),
        "{}",
        updates[0]
    );
    assert!(
        updates[1].contains("2001:db8::50") && updates[1].contains("changed"),
        "{}",
        updates[1]
    );
    let encoded_auth = auth.trim_start_matches("Basic ");
    for secret in [SECRET, hash.as_str(), encoded_auth] {
        assert!(!logs.contains(secret), "the logs leak {secret}:\n{logs}");
    }
}

/// With S3 and Route53 stalled (moto stopped), the real `bootstrap` answers
/// 503 with `Retry-After` before the function's 10-second timeout, in each
/// protocol's own format.
#[tokio::test(flavor = "multi_thread")]
async fn a_stalled_dependency_is_a_503_before_the_function_times_out() {
    let moto: &'static ddns_testkit::Moto = Box::leak(Box::new(ddns_testkit::Moto::dedicated()));
    let fx = Fixture::on(moto).await;
    let host = fx.host("home");
    fx.put_config(&json!({ &host: fx.entry("A", SECRET, json!({"allow_private_addresses": false})) }))
        .await;
    let mut function = Function::start(&fx).await;
    let hash = seed_hash(SOURCE_IP, &host, SECRET);
    let seed = rest_event(
        "/",
        &[("mode", "set"), ("hostname", &host), ("hash", &hash)],
        &[],
        Some(SOURCE_IP),
    );
    let dyndns2 = rest_event(
        "/nic/update",
        &[("hostname", &host), ("myip", SOURCE_IP)],
        &[("authorization", &basic(&host, SECRET))],
        Some(SOURCE_IP),
    );
    moto.pause();
    let mut replies = Vec::new();
    for event in [seed, dyndns2] {
        let started = std::time::Instant::now();
        let reply = function.invoke(event).await;
        replies.push((reply, started.elapsed()));
    }
    moto.resume();
    for (reply, elapsed) in &replies {
        assert_eq!(reply["statusCode"], 503, "{reply}");
        assert_eq!(reply["multiValueHeaders"]["retry-after"], json!(["30"]), "{reply}");
        assert!(*elapsed < Duration::from_secs(8), "{elapsed:?}");
    }
    assert!(
        replies[0].0["body"]
            .as_str()
            .unwrap()
            .contains(r#""return_status":"fail""#)
    );
    assert_eq!(replies[1].0["body"], "911\n");
}
