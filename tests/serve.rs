//! `ddns-ctl serve`, driven as a user runs it: the built binary against
//! moto, with the blog post's own client and with curl.

mod common;

use std::path::PathBuf;
use std::process::{Child, Command, Stdio};

use assert_cmd::prelude::*;
use ddns_testkit::Fixture;
use predicates::prelude::*;
use serde_json::json;

const SECRET: &str = "SHARED_SECRET_ONE_LONG";

/// A `ddns-ctl serve` process; killed when dropped.
struct Serve {
    child: Child,
    addr: String,
    log: PathBuf,
}

impl Serve {
    fn start(fx: &Fixture, extra: &[&str]) -> Self {
        let dir = std::env::temp_dir().join(ddns_testkit::unique("ddns-serve"));
        std::fs::create_dir_all(&dir).unwrap();
        let ready = dir.join("addr");
        let log = dir.join("stderr");
        let child = Command::cargo_bin("ddns-ctl")
            .unwrap()
            .envs(fx.moto.env())
            .env_remove("RUST_LOG")
            .args([
                "serve",
                "--listen",
                "127.0.0.1:0",
                "--bucket",
                &fx.bucket,
                "--config-max-age",
                "0",
            ])
            .arg("--ready-file")
            .arg(&ready)
            .args(extra)
            .stdout(Stdio::null())
            .stderr(std::fs::File::create(&log).unwrap())
            .spawn()
            .unwrap();
        let addr = common::wait_for_address(&ready, || {
            format!(
                "serve did not start: {}",
                std::fs::read_to_string(&log).unwrap_or_default()
            )
        });
        Self { child, addr, log }
    }

    fn logs(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap()
    }
}

impl Drop for Serve {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn curl(args: &[&str]) -> String {
    let out = Command::new("curl")
        .arg("-q")
        .arg("-s")
        .args(args)
        .output()
        .expect("curl");
    assert!(out.status.success(), "curl {args:?} failed");
    String::from_utf8(out.stdout).unwrap()
}

async fn fixture_with_host() -> (Fixture, String) {
    let fx = Fixture::new().await;
    let host = fx.host("host1");
    fx.put_config(&json!({ &host: fx.entry("A", SECRET, json!({})) })).await;
    (fx, host)
}

#[tokio::test(flavor = "multi_thread")]
async fn the_blog_posts_client_works_unchanged() {
    let (fx, host) = fixture_with_host().await;
    fx.set_record(&host, "A", &["198.51.100.1"]).await;
    let serve = Serve::start(&fx, &[]);
    let client = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/seed_client.sh");
    let api = format!("{}/prod", serve.addr);
    let run = || {
        let out = Command::new("bash")
            .args([client, &host, SECRET, &api, "http"])
            .output()
            .unwrap();
        assert!(out.status.success());
        String::from_utf8(out.stdout).unwrap()
    };

    assert_eq!(
        run(),
        format!(
            "{{\"return_status\":\"success\",\"return_message\":\"Your hostname record {host} has been set to 127.0.0.1\"}}\n"
        )
    );
    assert_eq!(fx.record(&host, "A").await, ["127.0.0.1"]);
    assert_eq!(
        run(),
        "{\"return_status\":\"success\",\"return_message\":\"Your IP address matches the current Route53 DNS record.\"}\n"
    );

    // One log line per update, and no secret, hash or credentials in any line.
    let logs = serve.logs();
    let updates: Vec<&str> = logs
        .lines()
        .filter(|l| l.contains(" update") && l.contains(&host))
        .collect();
    assert_eq!(updates.len(), 2, "{logs}");
    assert!(updates[0].contains("198.51.100.1") && updates[0].contains("127.0.0.1") && updates[0].contains("changed"));
    assert!(updates[1].contains("unchanged"));
    assert_no_credentials(&logs, &host);
}

/// The seed's proof for a request from 127.0.0.1.
fn seed_hash(host: &str) -> String {
    use sha2::Digest as _;
    hex::encode(sha2::Sha256::digest(format!("127.0.0.1{host}{SECRET}").as_bytes()))
}

/// Neither the secret nor anything made from it is in `logs`: the seed's
/// proof for the requests the tests send, and the Basic credentials (right
/// and wrong) in the form they travel.
fn assert_no_credentials(logs: &str, host: &str) {
    use base64::Engine as _;
    let mut forbidden = vec![SECRET.to_owned(), seed_hash(host)];
    for password in [SECRET.to_owned(), format!("wrong-{SECRET}")] {
        forbidden.push(base64::engine::general_purpose::STANDARD.encode(format!("{host}:{password}")));
    }
    for needle in forbidden {
        assert!(!logs.contains(&needle), "the logs hold {needle}:\n{logs}");
    }
    assert!(!logs.to_lowercase().contains("authorization"), "{logs}");
}

#[tokio::test(flavor = "multi_thread")]
async fn dyndns2_credentials_never_reach_the_logs() {
    let (fx, host) = fixture_with_host().await;
    // At trace level, the most ddns-ctl ever logs.
    let serve = Serve::start(&fx, &["-vv"]);
    let url = format!("http://{}/nic/update?hostname={host}&myip=203.0.113.4", serve.addr);
    assert_eq!(curl(&["-u", &format!("{host}:{SECRET}"), &url]), "good 203.0.113.4\n");
    assert_eq!(curl(&["-u", &format!("{host}:wrong-{SECRET}"), &url]), "badauth\n");
    // The seed API too, with the proof in the query string.
    let hash = seed_hash(&host);
    curl(&[&format!("http://{}/?mode=set&hostname={host}&hash={hash}", serve.addr)]);
    let logs = serve.logs();
    assert!(logs.contains("203.0.113.4"), "{logs}");
    assert!(logs.contains("127.0.0.1"), "{logs}");
    assert_no_credentials(&logs, &host);
}

#[tokio::test(flavor = "multi_thread")]
async fn forwarded_for_is_trusted_only_when_asked() {
    let (fx, _) = fixture_with_host().await;
    let header = "X-Forwarded-For: 198.51.100.7, 203.0.113.8";

    let plain = Serve::start(&fx, &[]);
    let body = curl(&["-H", header, &format!("http://{}/myip", plain.addr)]);
    assert_eq!(body, "127.0.0.1\n");

    let proxied = Serve::start(&fx, &["--trust-forwarded-for"]);
    // The right-most entry is the one the trusted proxy added.
    let body = curl(&["-H", header, &format!("http://{}/?mode=get", proxied.addr)]);
    assert_eq!(body, r#"{"return_status":"success","return_message":"203.0.113.8"}"#);
}

#[test]
fn a_busy_port_is_a_clear_error() {
    let taken = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = taken.local_addr().unwrap().to_string();
    Command::cargo_bin("ddns-ctl")
        .unwrap()
        .envs([
            ("AWS_REGION", "us-east-1"),
            ("AWS_ACCESS_KEY_ID", "x"),
            ("AWS_SECRET_ACCESS_KEY", "x"),
        ])
        .args(["serve", "--bucket", "b", "--listen", &addr])
        .assert()
        .code(1)
        .stderr(predicate::str::contains(format!("error: cannot listen on {addr}")));
}
