//! Helpers for the CLI's integration tests: packages, stacks on moto with
//! unique names, SDK clients to read resources back, and `ddns-ctl serve`.
#![allow(dead_code)]

use std::io::{Cursor, Write as _};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use assert_cmd::prelude::*;
use aws_config::SdkConfig;
use ddns_testkit::faults::{self, Call, FaultProxy};
use ddns_testkit::{Moto, unique};
use serde_json::Value;

/// A deployable package: a zip with an executable `bootstrap`.
pub fn package(dir: &std::path::Path, mode: u32) -> PathBuf {
    let mut zip = zip::ZipWriter::new(Cursor::new(Vec::new()));
    let options = zip::write::SimpleFileOptions::default().unix_permissions(mode);
    zip.start_file("bootstrap", options).unwrap();
    zip.write_all(b"\x7fELF not really").unwrap();
    let path = dir.join(format!("bootstrap-{mode:o}.zip"));
    std::fs::write(&path, zip.finish().unwrap().into_inner()).unwrap();
    path
}

/// Base64 of a zip's SHA-256: its CodeSha256, as Lambda computes it.
pub fn code_sha256(zip: &[u8]) -> String {
    use base64::Engine as _;
    use sha2::Digest as _;
    base64::engine::general_purpose::STANDARD.encode(sha2::Sha256::digest(zip))
}

pub struct Stack<'m> {
    pub moto: &'m Moto,
    pub name: String,
    /// The test's own directory (secret files, configs, client setups);
    /// removed with the stack.
    pub dir: PathBuf,
    pub zip: PathBuf,
    _dir: tempfile::TempDir,
}

impl<'m> Stack<'m> {
    pub fn new(moto: &'m Moto) -> Self {
        // Stack names are at most 20 characters.
        let name = unique("t").replace('-', "").chars().take(20).collect::<String>();
        let tmp = tempfile::Builder::new().prefix("ddns-deploy-").tempdir().unwrap();
        let dir = tmp.path().to_owned();
        let zip = package(&dir, 0o755);
        Self {
            moto,
            name,
            dir,
            zip,
            _dir: tmp,
        }
    }

    pub fn cli(&self) -> Command {
        let mut cmd = Command::cargo_bin("ddns-ctl").unwrap();
        cmd.envs(self.moto.env())
            .env_remove("RUST_LOG")
            .args(["--name", &self.name]);
        cmd
    }

    /// `ddns-ctl` for this stack, reaching moto through `proxy`, with its
    /// retry waits at 1/100 (API Gateway's 30 s become 0.3 s), so that a
    /// fault costs the test little time.
    pub fn cli_via(&self, proxy: &FaultProxy) -> Command {
        let mut cmd = self.cli();
        cmd.envs(proxy.env()).env("DDNS_CTL_RETRY_SCALE", "0.01");
        cmd
    }

    /// `deploy --yes` through `proxy`, as a [`Figure`] of what `fault` did
    /// to it (`operation` is the faulted `service:Operation`), and its output.
    pub fn deploy_via(&self, proxy: &FaultProxy, fault: &str, operation: &str) -> (Figure, std::process::Output) {
        Figure::measure(proxy, fault, operation, || {
            self.cli_via(proxy)
                .args(["deploy", "--yes", "--handler-zip"])
                .arg(&self.zip)
                .output()
                .unwrap()
        })
    }

    pub fn deploy(&self, extra: &[&str]) -> std::process::Output {
        let out = self
            .cli()
            .args(["--output", "json", "deploy", "--yes", "--handler-zip"])
            .arg(&self.zip)
            .args(extra)
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "deploy failed: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        out
    }

    /// The names of the stack's resources.
    pub fn names(&self) -> ddns_testkit::StackNames {
        ddns_testkit::StackNames::new(&self.name)
    }
    pub fn bucket(&self) -> String {
        self.names().bucket
    }
    pub fn role(&self) -> String {
        self.names().role
    }
    pub fn function(&self) -> String {
        self.names().function
    }
    pub fn log_group(&self) -> String {
        self.names().log_group
    }
}

/// What one command did against an injected fault, for the figures in
/// docs/performance.md: whether it succeeded, how long it took, how long the
/// faulted operation was held up, and the calls it made. Printed with
/// `cargo test -- --nocapture`.
#[derive(Debug, Clone)]
pub struct Figure {
    /// The fault, in words.
    pub fault: String,
    /// Whether the command exited 0.
    pub succeeded: bool,
    /// The command's run time.
    pub took: Duration,
    /// From the faulted operation's first faulted call to its first call
    /// that got through.
    pub held_up: Option<Duration>,
    /// The command's calls, in order.
    pub calls: Vec<Call>,
}

impl Figure {
    /// Runs `command` and measures it: only the calls it made through
    /// `proxy` count. `operation` is `service:Operation`.
    pub fn measure(
        proxy: &FaultProxy,
        fault: &str,
        operation: &str,
        command: impl FnOnce() -> std::process::Output,
    ) -> (Self, std::process::Output) {
        let before = proxy.calls().len();
        let started = Instant::now();
        let out = command();
        let took = started.elapsed();
        let calls = proxy.calls().split_off(before);
        let (service, operation) = operation.split_once(':').expect("service:Operation");
        let figure = Self {
            fault: fault.to_owned(),
            succeeded: out.status.success(),
            took,
            held_up: faults::held_up(&calls, service, operation),
            calls,
        };
        eprintln!("{figure}");
        (figure, out)
    }
}

impl std::fmt::Display for Figure {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let held = self
            .held_up
            .map(|d| format!("{:.2} s", d.as_secs_f64()))
            .unwrap_or_else(|| "never got through".into());
        write!(
            f,
            "figure: {}: {} in {:.2} s, held up {held}; {}",
            self.fault,
            if self.succeeded { "succeeded" } else { "FAILED" },
            self.took.as_secs_f64(),
            faults::summary(&self.calls)
        )
    }
}

pub struct Aws {
    pub iam: aws_sdk_iam::Client,
    pub s3: aws_sdk_s3::Client,
    pub lambda: aws_sdk_lambda::Client,
    pub apigateway: aws_sdk_apigateway::Client,
    pub route53: aws_sdk_route53::Client,
    pub logs: aws_sdk_cloudwatchlogs::Client,
    pub sns: aws_sdk_sns::Client,
    pub cloudwatch: aws_sdk_cloudwatch::Client,
    pub acm: aws_sdk_acm::Client,
}

impl Aws {
    pub async fn new(moto: &Moto) -> Self {
        let sdk: SdkConfig = moto.sdk_config().await;
        Self {
            iam: aws_sdk_iam::Client::new(&sdk),
            s3: ddns_testkit::s3_client(&sdk),
            lambda: aws_sdk_lambda::Client::new(&sdk),
            apigateway: aws_sdk_apigateway::Client::new(&sdk),
            route53: aws_sdk_route53::Client::new(&sdk),
            logs: aws_sdk_cloudwatchlogs::Client::new(&sdk),
            sns: aws_sdk_sns::Client::new(&sdk),
            cloudwatch: aws_sdk_cloudwatch::Client::new(&sdk),
            acm: aws_sdk_acm::Client::new(&sdk),
        }
    }

    pub async fn zone(&self) -> (String, String) {
        ddns_testkit::create_zone(&self.route53).await
    }

    /// The stack role's inline policy.
    pub async fn role_policy(&self, stack: &Stack<'_>) -> Value {
        let out = self
            .iam
            .get_role_policy()
            .role_name(stack.role())
            .policy_name("ddns-ctl")
            .send()
            .await
            .unwrap();
        decode(out.policy_document())
    }

    /// Writes the stack's config object.
    pub async fn put_config(&self, stack: &Stack<'_>, config: &Value) {
        self.s3
            .put_object()
            .bucket(stack.bucket())
            .key("config.json")
            .body(serde_json::to_vec(config).unwrap().into())
            .send()
            .await
            .unwrap();
    }

    /// The stack's log group's retention and tags, if it exists.
    pub async fn log_group(
        &self,
        stack: &Stack<'_>,
    ) -> Option<(Option<i32>, std::collections::HashMap<String, String>)> {
        let name = stack.log_group();
        let groups = self
            .logs
            .describe_log_groups()
            .log_group_name_prefix(&name)
            .send()
            .await
            .unwrap();
        let group = groups
            .log_groups()
            .iter()
            .find(|g| g.log_group_name() == Some(name.as_str()))?;
        let tags = self
            .logs
            .list_tags_for_resource()
            .resource_arn(group.log_group_arn().unwrap())
            .send()
            .await
            .unwrap();
        Some((group.retention_in_days(), tags.tags().cloned().unwrap_or_default()))
    }

    /// The stack's function, if it exists.
    pub async fn function(
        &self,
        stack: &Stack<'_>,
    ) -> Option<aws_sdk_lambda::operation::get_function::GetFunctionOutput> {
        self.lambda
            .get_function()
            .function_name(stack.function())
            .send()
            .await
            .ok()
    }

    pub async fn api_ids(&self, stack: &str) -> Vec<String> {
        let apis = self.apigateway.get_rest_apis().limit(500).send().await.unwrap();
        apis.items()
            .iter()
            .filter(|a| a.tags().and_then(|t| t.get("ddns-ctl:stack")).map(String::as_str) == Some(stack))
            .map(|a| a.id().unwrap().to_owned())
            .collect()
    }
}

/// The mutating calls of a recording: the action of a query or JSON call,
/// else `METHOD PATH` with API Gateway paths after `/restapis/`, and other
/// paths whole (without the host).
pub fn writes(calls: &[ddns_testkit::RecordedCall]) -> Vec<String> {
    calls
        .iter()
        .filter(|c| c.is_mutating())
        .map(|c| match &c.action {
            Some(action) => action.clone(),
            None => {
                let path = match c.url.split_once("/restapis/") {
                    Some((_, path)) => path,
                    None => c
                        .url
                        .split_once("://")
                        .map_or(c.url.as_str(), |(_, rest)| rest.find('/').map_or("/", |at| &rest[at..])),
                };
                format!("{} {path}", c.method)
            }
        })
        .collect()
}

/// An API Gateway patch that replaces `path` with `value`.
pub fn replace(path: &str, value: &str) -> aws_sdk_apigateway::types::PatchOperation {
    aws_sdk_apigateway::types::PatchOperation::builder()
        .op(aws_sdk_apigateway::types::Op::Replace)
        .path(path)
        .value(value)
        .build()
}

pub fn decode(document: &str) -> Value {
    serde_json::from_str(&percent_encoding::percent_decode_str(document).decode_utf8_lossy()).unwrap()
}

/// A `ddns-ctl serve` process on a free port; killed when dropped.
pub struct Serve {
    child: Child,
    /// `127.0.0.1:PORT` (or `[::1]:PORT`, as it listens).
    pub addr: String,
}

impl Serve {
    /// Serves the stack's config with no caching, so tests see writes at once.
    pub fn start(stack: &Stack<'_>) -> Self {
        Self::start_with(stack, &[])
    }

    /// As [`Serve::start`], with more `serve` flags.
    pub fn start_with(stack: &Stack<'_>, extra: &[&str]) -> Self {
        Self::listening(stack, "127.0.0.1:0", extra)
    }

    /// As [`Serve::start_with`], listening on `listen` (e.g. `[::1]:0`).
    pub fn listening(stack: &Stack<'_>, listen: &str, extra: &[&str]) -> Self {
        Self::spawn(stack, stack.cli(), listen, extra)
    }

    /// As [`Serve::start_with`], reaching moto through `proxy`, so that
    /// the service's own AWS calls meet its faults.
    pub fn start_via(stack: &Stack<'_>, proxy: &FaultProxy, extra: &[&str]) -> Self {
        Self::spawn(stack, stack.cli_via(proxy), "127.0.0.1:0", extra)
    }

    fn spawn(stack: &Stack<'_>, mut cli: Command, listen: &str, extra: &[&str]) -> Self {
        let ready = stack.dir.join(unique("addr"));
        let child = cli
            .args(["serve", "--listen", listen, "--config-max-age", "0", "--ready-file"])
            .arg(&ready)
            .args(extra)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        let addr = wait_for_address(&ready, || "serve did not start".to_owned());
        Self { child, addr }
    }

    /// The stage-like URL clients use: `http://127.0.0.1:PORT/prod/`.
    pub fn url(&self) -> String {
        format!("http://{}/prod/", self.addr)
    }

    /// The port it listens on.
    pub fn port(&self) -> u16 {
        self.addr.rsplit(':').next().unwrap().parse().unwrap()
    }
}

impl Drop for Serve {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Makes `proxy` answer the first `n` Route53 ChangeResourceRecordSets
/// with AWS error `code`.
pub fn fail_record_changes(proxy: &FaultProxy, n: usize, status: u16, code: &str, message: &str) {
    proxy.inject(faults::Fault::error("route53", "ChangeResourceRecordSets", status, code, message).first(n));
}

/// A seed `mode=set` for `host` from 127.0.0.1 through `serve`; the HTTP
/// status.
pub fn seed_set(serve: &Serve, host: &str, secret: &str) -> u16 {
    use sha2::Digest as _;
    let hash = hex::encode(sha2::Sha256::digest(format!("127.0.0.1{host}{secret}").as_bytes()));
    let out = Command::new("curl")
        .args(["-s", "-o", "/dev/null", "-w", "%{http_code}"])
        .arg(format!("{}?mode=set&hostname={host}&hash={hash}", serve.url()))
        .output()
        .unwrap();
    String::from_utf8_lossy(&out.stdout).parse().unwrap()
}

/// A reverse proxy on loopback that tells the server behind it the caller is
/// `client_ip`, as API Gateway's `sourceIp` would for a client on the
/// internet. Pair it with `serve --trust-forwarded-for`, so that a check run
/// from loopback publishes an address a host may publish.
pub struct ForwardingProxy {
    /// `127.0.0.1:PORT`.
    pub addr: String,
}

impl ForwardingProxy {
    /// Forwards to `upstream` (`127.0.0.1:PORT`) with `X-Forwarded-For: client_ip`.
    pub fn start(upstream: &str, client_ip: &str) -> Self {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let addr = listener.local_addr().unwrap().to_string();
        let (upstream, client_ip) = (upstream.to_owned(), client_ip.to_owned());
        // The thread lives as long as the test process; each request is
        // one connection (Connection: close), so no request goes unmarked.
        std::thread::spawn(move || {
            for client in listener.incoming().flatten() {
                let (upstream, client_ip) = (upstream.clone(), client_ip.clone());
                std::thread::spawn(move || forward(client, &upstream, &client_ip));
            }
        });
        Self { addr }
    }

    /// The stage-like URL: `http://127.0.0.1:PORT/prod/`.
    pub fn url(&self) -> String {
        format!("http://{}/prod/", self.addr)
    }
}

fn forward(mut client: std::net::TcpStream, upstream: &str, client_ip: &str) {
    use std::io::{BufRead as _, BufReader, Read as _};
    let mut reader = BufReader::new(client.try_clone().unwrap());
    let mut head = String::new();
    loop {
        let mut line = String::new();
        if reader.read_line(&mut line).unwrap_or(0) == 0 {
            return;
        }
        if line == "\r\n" {
            break;
        }
        let name = line.split(':').next().unwrap_or_default().to_ascii_lowercase();
        if name != "connection" && name != "x-forwarded-for" {
            head.push_str(&line);
        }
    }
    head.push_str(&format!("X-Forwarded-For: {client_ip}\r\nConnection: close\r\n\r\n"));
    let mut server = std::net::TcpStream::connect(upstream).unwrap();
    server.write_all(head.as_bytes()).unwrap();
    // The seed API and dyndns2 are GETs: there is no body to pass on.
    let mut reply = Vec::new();
    server.read_to_end(&mut reply).unwrap();
    client.write_all(&reply).unwrap();
}

/// The address `serve --ready-file` writes once it listens; `why` says
/// what went wrong if it never does.
pub fn wait_for_address(ready: &std::path::Path, why: impl Fn() -> String) -> String {
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        if let Ok(addr) = std::fs::read_to_string(ready)
            && !addr.is_empty()
        {
            return addr;
        }
        assert!(Instant::now() < deadline, "{}", why());
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// Runs `ddns-ctl ARGS` for the stack and checks that it fails (exit 1) with
/// `message` on stderr.
pub fn refused(stack: &Stack<'_>, args: &[&str], message: &str) {
    let out = stack.cli().args(args).output().unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{args:?}: {stderr}");
    assert!(stderr.contains(message), "{args:?} should say {message:?}: {stderr}");
}

/// The config object's ETag.
pub async fn config_etag(aws: &Aws, stack: &Stack<'_>) -> String {
    let head = aws
        .s3
        .head_object()
        .bucket(stack.bucket())
        .key("config.json")
        .send()
        .await
        .unwrap();
    head.e_tag().expect("an ETag").to_owned()
}

/// The function's resource policy (its invoke permissions).
pub async fn function_policy(aws: &Aws, stack: &Stack<'_>) -> Value {
    let out = aws
        .lambda
        .get_policy()
        .function_name(stack.function())
        .send()
        .await
        .unwrap();
    serde_json::from_str(out.policy().unwrap()).unwrap()
}

/// The stack role's Route53 statement: the zones whose records it may change.
pub fn zones_in(policy: &Value) -> Value {
    policy["Statement"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["Sid"] == "HostRecords")
        .map(|s| s["Resource"].clone())
        .unwrap_or(Value::Null)
}

/// The `*/*` throttling of stage `prod` of API `api_id`: (rate, burst).
pub async fn throttling(aws: &Aws, api_id: &str) -> (f64, i32) {
    let stage = aws
        .apigateway
        .get_stage()
        .rest_api_id(api_id)
        .stage_name("prod")
        .send()
        .await
        .unwrap();
    let all = &stage.method_settings().unwrap()["*/*"];
    (all.throttling_rate_limit(), all.throttling_burst_limit())
}

/// An HTTP server on loopback that answers every request with what
/// `answer` returns for its request line (status line, headers and body,
/// raw), then closes the connection: a stand-in for a hostile service.
pub struct FakeServer {
    /// `http://127.0.0.1:PORT/prod/`.
    pub url: String,
}

impl FakeServer {
    pub fn start(answer: fn(&str) -> Vec<u8>) -> Self {
        use std::io::{BufRead as _, BufReader};
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let url = format!("http://{}/prod/", listener.local_addr().unwrap());
        std::thread::spawn(move || {
            for mut client in listener.incoming().flatten() {
                let mut reader = BufReader::new(client.try_clone().unwrap());
                let mut request_line = String::new();
                let _ = reader.read_line(&mut request_line);
                // The rest of the head.
                let mut line = String::new();
                while reader.read_line(&mut line).map(|n| n > 2).unwrap_or(false) {
                    line.clear();
                }
                let _ = client.write_all(&answer(&request_line));
            }
        });
        Self { url }
    }
}

/// A raw HTTP/1.1 answer with `status`, a JSON content type and `body`.
pub fn http_answer(status: &str, body: &[u8]) -> Vec<u8> {
    let mut answer = format!(
        "HTTP/1.1 {status}\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
        body.len()
    )
    .into_bytes();
    answer.extend_from_slice(body);
    answer
}

/// A stack deployed on the shared moto with one hosted zone of its own.
pub async fn deployed() -> (Stack<'static>, Aws, String, String) {
    let moto = ddns_testkit::moto();
    let aws = Aws::new(moto).await;
    let stack = Stack::new(moto);
    stack.deploy(&[]);
    let (zone_id, zone) = aws.zone().await;
    (stack, aws, zone_id, zone)
}

/// A seed-format A host in `zone_id`.
pub fn host_entry(zone_id: &str, secret: &str, allow_private: bool) -> Value {
    ddns_testkit::host_entry(zone_id, "A", secret, allow_private)
}

/// The config object as JSON.
pub async fn config(aws: &Aws, stack: &Stack<'_>) -> Value {
    let out = aws
        .s3
        .get_object()
        .bucket(stack.bucket())
        .key("config.json")
        .send()
        .await
        .unwrap();
    serde_json::from_slice(&out.body.collect().await.unwrap().into_bytes()).unwrap()
}

/// The stack's alarms (every name with its prefix).
pub async fn alarms(aws: &Aws, stack: &Stack<'_>) -> Vec<aws_sdk_cloudwatch::types::MetricAlarm> {
    aws.cloudwatch
        .describe_alarms()
        .alarm_name_prefix(format!("ddns-ctl/{}/", stack.name))
        .send()
        .await
        .unwrap()
        .metric_alarms()
        .to_vec()
}

/// The ARN the stack's alert topic has in moto.
pub fn topic_arn(stack: &Stack<'_>) -> String {
    format!("arn:aws:sns:us-east-1:123456789012:ddns-ctl-{}-alerts", stack.name)
}

/// The metric filters on the stack's log group.
pub async fn filters(aws: &Aws, stack: &Stack<'_>) -> Vec<aws_sdk_cloudwatchlogs::types::MetricFilter> {
    aws.logs
        .describe_metric_filters()
        .log_group_name(stack.log_group())
        .send()
        .await
        .unwrap()
        .metric_filters()
        .to_vec()
}

/// The subscriptions of the topic `arn`.
pub async fn subscriptions(aws: &Aws, arn: &str) -> Vec<aws_sdk_sns::types::Subscription> {
    let listed = aws
        .sns
        .list_subscriptions_by_topic()
        .topic_arn(arn)
        .send()
        .await
        .unwrap();
    listed.subscriptions().to_vec()
}

/// `host`'s entry in the stack's config (with or without the trailing dot).
pub async fn host_config(aws: &Aws, stack: &Stack<'_>, host: &str) -> Value {
    let config = config(aws, stack).await;
    config
        .as_object()
        .unwrap()
        .iter()
        .find(|(k, _)| k.trim_end_matches('.') == host.trim_end_matches('.'))
        .map(|(_, v)| v.clone())
        .unwrap_or_else(|| panic!("{host} in {config:#}"))
}

/// Sends one change of record set `set` to the zone.
pub async fn change_record(
    aws: &Aws,
    zone_id: &str,
    action: aws_sdk_route53::types::ChangeAction,
    set: aws_sdk_route53::types::ResourceRecordSet,
) {
    use aws_sdk_route53::types::{Change, ChangeBatch};
    let change = Change::builder()
        .action(action)
        .resource_record_set(set)
        .build()
        .unwrap();
    aws.route53
        .change_resource_record_sets()
        .hosted_zone_id(zone_id)
        .change_batch(ChangeBatch::builder().changes(change).build().unwrap())
        .send()
        .await
        .unwrap();
}

/// The values of `name`'s record of type `kind`.
pub async fn record(aws: &Aws, zone_id: &str, name: &str, kind: &str) -> Vec<String> {
    ddns_testkit::record(&aws.route53, zone_id, name, kind).await
}

/// The stack's `status --output json`, with its exit code.
pub fn status(stack: &Stack<'_>) -> (Option<i32>, Value) {
    status_with(stack.cli())
}

/// `status --output json` run by `cli` (a `ddns-ctl` command with its
/// stack and environment set), with its exit code.
pub fn status_with(mut cli: Command) -> (Option<i32>, Value) {
    let out = cli.args(["--output", "json", "status"]).output().unwrap();
    let report = serde_json::from_slice(&out.stdout).unwrap_or_else(|err| {
        panic!(
            "status printed no JSON ({err}): {}",
            String::from_utf8_lossy(&out.stderr)
        )
    });
    (out.status.code(), report)
}

/// The `state` (present, missing, drifted) of the resource of `kind` in a
/// status report.
pub fn state<'a>(report: &'a Value, kind: &str) -> &'a str {
    report["resources"]
        .as_array()
        .expect("status lists resources")
        .iter()
        .find(|r| r["kind"] == kind)
        .and_then(|r| r["state"].as_str())
        .unwrap_or_else(|| panic!("no {kind} in {report:#}"))
}

/// Proves that nothing of the stack exists: status exits 1 and reports every
/// resource as `missing` (a substring check would let `drifted` through).
pub fn assert_nothing_exists(stack: &Stack<'_>) {
    let (code, report) = status(stack);
    assert_eq!(code, Some(1), "{report:#}");
    let resources = report["resources"].as_array().expect("status lists resources");
    assert!(!resources.is_empty(), "{report:#}");
    for resource in resources {
        assert_eq!(resource["state"], "missing", "{report:#}");
    }
}
