//! The Lambda function as Lambda runs it, for tests: the real `bootstrap`
//! polls a Runtime API served here for API Gateway REST proxy events shaped
//! as AWS documents them ([`rest_event`]), and what it prints can be
//! shipped into a log group with PutLogEvents, as Lambda does
//! ([`Function::ship_logs`]), so that the CLI reads real lines back.
//!
//! The binary is [`bootstrap_path`]: `DDNS_BOOTSTRAP`, or the one cargo
//! built for this machine. `DDNS_BOOTSTRAP_RUNNER` names a program to run it
//! with (`bench/lambda_arm64.sh` runs the arm64 one under qemu).

use std::collections::VecDeque;
use std::path::PathBuf;
use std::process::Stdio;
use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use axum::Router;
use axum::extract::{Path, State};
use axum::http::HeaderMap;
use axum::response::IntoResponse;
use axum::routing::{get, post};
use serde_json::{Value, json};
use tokio::io::{AsyncBufReadExt as _, BufReader};
use tokio::sync::{Notify, mpsc};

use crate::Moto;

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

/// One line the function printed, with when it printed it (epoch ms).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Printed {
    /// Milliseconds since the epoch.
    pub at_ms: i64,
    /// The line, without its newline.
    pub text: String,
}

/// A running `bootstrap` and the Runtime API it polls.
pub struct Function {
    api: RuntimeApi,
    answers: mpsc::UnboundedReceiver<(String, String, Value)>,
    process: tokio::process::Child,
    printed: Arc<Mutex<Vec<Printed>>>,
    shipped: usize,
    next_id: u32,
}

impl Function {
    /// Starts the `bootstrap` at `binary` (see [`bootstrap_path`]) against
    /// `moto`, reading its config from `bucket`, with Lambda's environment
    /// plus `env` (e.g. `AWS_LAMBDA_LOG_FORMAT`).
    pub async fn start(binary: &std::path::Path, moto: &Moto, bucket: &str, env: &[(&str, &str)]) -> Self {
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

        let mut process = command(binary)
            .envs(moto.env())
            .env("AWS_LAMBDA_RUNTIME_API", addr.to_string())
            .env("AWS_LAMBDA_FUNCTION_NAME", "ddns")
            .env("AWS_LAMBDA_FUNCTION_MEMORY_SIZE", "128")
            .env("AWS_LAMBDA_FUNCTION_VERSION", "$LATEST")
            .env("AWS_LAMBDA_LOG_STREAM_NAME", "test")
            .env("AWS_LAMBDA_LOG_GROUP_NAME", "/aws/lambda/ddns")
            .env("DDNS_CONFIG_BUCKET", bucket)
            .env("DDNS_CONFIG_MAX_AGE_SECS", "0")
            .env_remove("RUST_LOG")
            .envs(env.iter().copied())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .kill_on_drop(true)
            .spawn()
            .expect("run bootstrap");
        // Lambda reads both streams into the log; so does this, line by
        // line as they come, each stamped when it was read.
        let printed: Arc<Mutex<Vec<Printed>>> = Arc::default();
        let stdout = process.stdout.take().expect("piped stdout");
        let stderr = process.stderr.take().expect("piped stderr");
        for stream in [
            Box::new(stdout) as Box<dyn tokio::io::AsyncRead + Send + Unpin>,
            Box::new(stderr),
        ] {
            let printed = Arc::clone(&printed);
            tokio::spawn(async move {
                let mut lines = BufReader::new(stream).lines();
                while let Ok(Some(text)) = lines.next_line().await {
                    printed.lock().unwrap().push(Printed { at_ms: now_ms(), text });
                }
            });
        }
        Self {
            api,
            answers,
            process,
            printed,
            shipped: 0,
            next_id: 0,
        }
    }

    /// Invokes the function with `event`; returns the API Gateway response.
    pub async fn invoke(&mut self, event: Value) -> Value {
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

    /// Everything printed so far, once the output has caught up with the
    /// last answer.
    pub async fn printed(&self) -> Vec<Printed> {
        // The answer is sent before its log line is read off the pipe.
        tokio::time::sleep(Duration::from_millis(100)).await;
        self.printed.lock().unwrap().clone()
    }

    /// Ships the lines printed since the last call into `group`/`stream`
    /// with PutLogEvents, as Lambda does (creating the stream on first use);
    /// returns how many it shipped.
    pub async fn ship_logs(&mut self, logs: &aws_sdk_cloudwatchlogs::Client, group: &str, stream: &str) -> usize {
        let printed = self.printed().await;
        let new = &printed[self.shipped..];
        if self.shipped == 0 {
            let _ = logs.create_log_group().log_group_name(group).send().await;
            let _ = logs
                .create_log_stream()
                .log_group_name(group)
                .log_stream_name(stream)
                .send()
                .await;
        }
        if !new.is_empty() {
            let events = new.iter().map(|p| {
                aws_sdk_cloudwatchlogs::types::InputLogEvent::builder()
                    .timestamp(p.at_ms)
                    .message(&p.text)
                    .build()
                    .unwrap()
            });
            logs.put_log_events()
                .log_group_name(group)
                .log_stream_name(stream)
                .set_log_events(Some(events.collect()))
                .send()
                .await
                .expect("PutLogEvents");
        }
        self.shipped = printed.len();
        new.len()
    }

    /// Stops the function and returns everything it printed, after printing
    /// its peak RSS (the kernel's high-water mark, read just before the
    /// kill; under qemu it includes the emulator's own memory).
    pub async fn logs(mut self) -> String {
        let pid = self.process.id().expect("bootstrap is running");
        let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap_or_default();
        if let Some(peak) = status.lines().find(|l| l.starts_with("VmHWM:")) {
            eprintln!("bootstrap peak RSS: {}", peak.trim_start_matches("VmHWM:").trim());
        }
        let printed = self.printed().await;
        self.process.start_kill().unwrap();
        let _ = self.process.wait().await;
        printed.iter().map(|p| format!("{}\n", p.text)).collect()
    }
}

fn now_ms() -> i64 {
    let since = SystemTime::now().duration_since(UNIX_EPOCH).unwrap_or_default();
    i64::try_from(since.as_millis()).unwrap_or(i64::MAX)
}

/// The `bootstrap` binary for a test outside the handler's package:
/// `DDNS_BOOTSTRAP`, else the debug build in this workspace's target
/// directory, which `cargo test --workspace` makes (the handler's own tests
/// use `CARGO_BIN_EXE_bootstrap`). Built here only if it is missing, since
/// a cargo run from a test could wait on the lock of the cargo running it.
pub fn bootstrap_path() -> PathBuf {
    if let Some(path) = std::env::var_os("DDNS_BOOTSTRAP") {
        return PathBuf::from(path);
    }
    let root = crate::repo_root();
    let target = std::env::var_os("CARGO_TARGET_DIR").map_or_else(|| root.join("target"), PathBuf::from);
    let path = target.join("debug").join("bootstrap");
    if !path.exists() {
        let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
        let status = std::process::Command::new(cargo)
            .args(["build", "--quiet", "-p", "ddns-handler", "--bin", "bootstrap"])
            .current_dir(&root)
            .status()
            .expect("run cargo build for bootstrap");
        assert!(status.success(), "cargo build -p ddns-handler --bin bootstrap failed");
    }
    path
}

/// The command that runs `binary`, through `DDNS_BOOTSTRAP_RUNNER` when
/// that is set.
fn command(binary: &std::path::Path) -> tokio::process::Command {
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
pub fn rest_event(
    path: &str,
    query: &[(&str, &str)],
    extra_headers: &[(&str, &str)],
    source_ip: Option<&str>,
) -> Value {
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

/// The event API Gateway sends for the same request made to a custom
/// domain (`https://ddns.example.com/…`) whose base path mapping maps the
/// empty path to the `prod` stage: the `Host` header and the domain are the
/// custom name, and `requestContext.path` holds the path as the client sent
/// it, without the stage. `path` and the stage are as on the execute-api URL.
pub fn custom_domain_event(event: Value, domain: &str) -> Value {
    let mut event = event;
    let sent = event["path"].clone();
    event["headers"]["Host"] = json!(domain);
    event["multiValueHeaders"]["Host"] = json!([domain]);
    let context = &mut event["requestContext"];
    context["domainName"] = json!(domain);
    context["domainPrefix"] = json!(domain.split('.').next().unwrap_or(domain));
    context["path"] = sent;
    event
}
