//! Helpers for the CLI's integration tests: packages, stacks on moto with
//! unique names, SDK clients to read resources back, and `ddns-ctl serve`.
#![allow(dead_code)]

use std::io::{Cursor, Write as _};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use assert_cmd::prelude::*;
use aws_config::SdkConfig;
use ddns_testkit::{Moto, REGION, unique};
use serde_json::Value;

pub const ACCOUNT: &str = "123456789012";

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

    pub fn bucket(&self) -> String {
        format!("ddns-ctl-{}-{ACCOUNT}-{REGION}", self.name)
    }
    pub fn role(&self) -> String {
        format!("ddns-ctl-{}-{REGION}", self.name)
    }
    pub fn function(&self) -> String {
        format!("ddns-ctl-{}", self.name)
    }
}

pub struct Aws {
    pub iam: aws_sdk_iam::Client,
    pub s3: aws_sdk_s3::Client,
    pub lambda: aws_sdk_lambda::Client,
    pub apigateway: aws_sdk_apigateway::Client,
    pub route53: aws_sdk_route53::Client,
}

impl Aws {
    pub async fn new(moto: &Moto) -> Self {
        let sdk: SdkConfig = moto.sdk_config().await;
        Self {
            iam: aws_sdk_iam::Client::new(&sdk),
            s3: aws_sdk_s3::Client::from_conf(aws_sdk_s3::config::Builder::from(&sdk).force_path_style(true).build()),
            lambda: aws_sdk_lambda::Client::new(&sdk),
            apigateway: aws_sdk_apigateway::Client::new(&sdk),
            route53: aws_sdk_route53::Client::new(&sdk),
        }
    }

    pub async fn zone(&self) -> (String, String) {
        let name = format!("{}.test.", unique("zone"));
        let out = self
            .route53
            .create_hosted_zone()
            .name(&name)
            .caller_reference(unique("ref"))
            .send()
            .await
            .unwrap();
        let id = out
            .hosted_zone()
            .unwrap()
            .id()
            .trim_start_matches("/hostedzone/")
            .to_owned();
        (id, name)
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

    pub async fn api_ids(&self, stack: &str) -> Vec<String> {
        let apis = self.apigateway.get_rest_apis().limit(500).send().await.unwrap();
        apis.items()
            .iter()
            .filter(|a| a.tags().and_then(|t| t.get("ddns-ctl:stack")).map(String::as_str) == Some(stack))
            .map(|a| a.id().unwrap().to_owned())
            .collect()
    }
}

pub fn decode(document: &str) -> Value {
    serde_json::from_str(&percent_encoding::percent_decode_str(document).decode_utf8_lossy()).unwrap()
}

/// A `ddns-ctl serve` process on a free port; killed when dropped.
pub struct Serve {
    child: Child,
    /// `127.0.0.1:PORT`.
    pub addr: String,
}

impl Serve {
    /// Serves the stack's config with no caching, so tests see writes at once.
    pub fn start(stack: &Stack<'_>) -> Self {
        Self::start_with(stack, &[])
    }

    /// As [`Serve::start`], with more `serve` flags.
    pub fn start_with(stack: &Stack<'_>, extra: &[&str]) -> Self {
        let ready = stack.dir.join(unique("addr"));
        let child = stack
            .cli()
            .args([
                "serve",
                "--listen",
                "127.0.0.1:0",
                "--config-max-age",
                "0",
                "--ready-file",
            ])
            .arg(&ready)
            .args(extra)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        let deadline = Instant::now() + Duration::from_secs(20);
        let addr = loop {
            if let Ok(addr) = std::fs::read_to_string(&ready)
                && !addr.is_empty()
            {
                break addr;
            }
            assert!(Instant::now() < deadline, "serve did not start");
            std::thread::sleep(Duration::from_millis(20));
        };
        Self { child, addr }
    }

    /// The stage-like URL clients use: `http://127.0.0.1:PORT/prod/`.
    pub fn url(&self) -> String {
        format!("http://{}/prod/", self.addr)
    }
}

impl Drop for Serve {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
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

/// A stack deployed on the shared moto with one hosted zone of its own.
pub async fn deployed() -> (Stack<'static>, Aws, String, String) {
    let moto = ddns_testkit::moto();
    let aws = Aws::new(moto).await;
    let stack = Stack::new(moto);
    stack.deploy(&[]);
    let (zone_id, zone) = aws.zone().await;
    (stack, aws, zone_id, zone)
}

/// A seed-format config entry for a host in `zone_id`.
pub fn host_entry(zone_id: &str, secret: &str, allow_private: bool) -> Value {
    serde_json::json!({
        "aws_region": REGION, "route_53_zone_id": zone_id, "route_53_record_ttl": 60,
        "route_53_record_type": "A", "shared_secret": secret, "allow_private_addresses": allow_private
    })
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

/// The values of `name`'s record of type `kind`.
pub async fn record(aws: &Aws, zone_id: &str, name: &str, kind: &str) -> Vec<String> {
    let out = aws
        .route53
        .list_resource_record_sets()
        .hosted_zone_id(zone_id)
        .send()
        .await
        .unwrap();
    out.resource_record_sets()
        .iter()
        .filter(|s| s.name() == name && s.r#type().as_str() == kind)
        .flat_map(|s| s.resource_records().iter().map(|r| r.value().to_owned()))
        .collect()
}

/// The stack's `status --output json`, with its exit code.
pub fn status(stack: &Stack<'_>) -> (Option<i32>, Value) {
    let out = stack.cli().args(["--output", "json", "status"]).output().unwrap();
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
