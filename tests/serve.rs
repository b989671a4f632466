//! `ddns-ctl serve`, driven as a user runs it: the built binary against
//! moto, with the blog post's own client and with curl.

mod common;

use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

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
        Self::start_with_fd_limit(fx, extra, None)
    }

    /// As [`Serve::start`]; with `fds`, the process may open at most that
    /// many file descriptors (`ulimit -n`).
    fn start_with_fd_limit(fx: &Fixture, extra: &[&str], fds: Option<u32>) -> Self {
        let dir = std::env::temp_dir().join(ddns_testkit::unique("ddns-serve"));
        std::fs::create_dir_all(&dir).unwrap();
        let ready = dir.join("addr");
        let log = dir.join("stderr");
        let binary = Command::cargo_bin("ddns-ctl").unwrap().get_program().to_owned();
        let mut command = Command::new("sh");
        command
            .arg("-c")
            .arg(match fds {
                Some(n) => format!(r#"ulimit -n {n} && exec "$0" "$@""#),
                None => r#"exec "$0" "$@""#.to_owned(),
            })
            .arg(binary);
        let child = command
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
    let client = ddns_testkit::repo_root().join("tests/fixtures/seed_client.sh");
    let api = format!("{}/prod", serve.addr);
    let run = || {
        let out = Command::new("bash")
            .arg(&client)
            .args([&host, SECRET, &api, "http"])
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

    // One request line per update, and no secret, hash or credentials in
    // any line.
    let logs = serve.logs();
    let named = format!(r#"host="{}""#, host.trim_end_matches('.').to_ascii_lowercase());
    let updates: Vec<&str> = logs
        .lines()
        .filter(|l| l.contains(" request ") && l.contains(&named))
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

/// A raw connection to `addr`, with a read timeout as the test's own bound.
fn connect(addr: &str) -> std::net::TcpStream {
    let stream = std::net::TcpStream::connect(addr).unwrap();
    stream.set_read_timeout(Some(Duration::from_secs(8))).unwrap();
    stream
}

/// Reads until the server closes the connection; how long that took, or
/// `None` if the test's own bound ran out first.
fn time_to_close(stream: &mut std::net::TcpStream) -> Option<Duration> {
    use std::io::Read as _;
    let started = Instant::now();
    let mut buf = [0u8; 4096];
    loop {
        match stream.read(&mut buf) {
            Ok(0) => return Some(started.elapsed()),
            Ok(_) => {}
            Err(err)
                if matches!(
                    err.kind(),
                    std::io::ErrorKind::WouldBlock | std::io::ErrorKind::TimedOut
                ) =>
            {
                return None;
            }
            Err(_) => return Some(started.elapsed()),
        }
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn slow_and_idle_clients_are_cut_off() {
    use std::io::Write as _;
    let (fx, _) = fixture_with_host().await;
    let serve = Serve::start(&fx, &["--header-timeout", "1"]);

    // A request whose headers never end.
    let mut half = connect(&serve.addr);
    half.write_all(b"GET /?mode=get HTTP/1.1\r\nHost: x\r\n").unwrap();
    let closed = time_to_close(&mut half).expect("a half-sent request was held open");
    assert!(closed < Duration::from_secs(4), "{closed:?}");

    // Headers dripped a byte at a time are cut at the same bound, although
    // bytes keep coming.
    let mut drip = connect(&serve.addr);
    let started = Instant::now();
    drip.write_all(b"GET /?mode=get HTTP/1.1\r\nX-Slow: ").unwrap();
    let mut cut = false;
    for _ in 0..40 {
        std::thread::sleep(Duration::from_millis(150));
        if drip.write_all(b"a").is_err() {
            cut = true;
            break;
        }
    }
    assert!(cut, "a dripping client was never cut off");
    assert!(started.elapsed() < Duration::from_secs(5), "{:?}", started.elapsed());

    // An idle keep-alive connection is closed after the same time.
    let mut idle = connect(&serve.addr);
    idle.write_all(b"GET /?mode=get HTTP/1.1\r\nHost: x\r\n\r\n").unwrap();
    let closed = time_to_close(&mut idle).expect("an idle keep-alive lived on");
    assert!(closed < Duration::from_secs(4), "{closed:?}");
}

#[tokio::test(flavor = "multi_thread")]
async fn idle_sockets_cannot_starve_real_requests() {
    let (fx, host) = fixture_with_host().await;
    // 64 descriptors, and a crowd of idle sockets, kept at 120 (each one cut
    // is replaced at once), while a real update, which needs S3 and Route53
    // connections of its own, comes in.
    let serve = Serve::start_with_fd_limit(&fx, &["--header-timeout", "2", "--max-connections", "32"], Some(64));
    let stop = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    let crowd = {
        let (addr, stop) = (serve.addr.clone(), std::sync::Arc::clone(&stop));
        std::thread::spawn(move || {
            use std::io::Read as _;
            let mut idle: Vec<std::net::TcpStream> = Vec::new();
            let deadline = Instant::now() + Duration::from_secs(30);
            while !stop.load(std::sync::atomic::Ordering::Relaxed) && Instant::now() < deadline {
                // Still open: nothing to read yet. Cut by the server: EOF.
                idle.retain(|s| {
                    let mut byte = [0u8; 1];
                    matches!((&*s).read(&mut byte), Err(e) if e.kind() == std::io::ErrorKind::WouldBlock)
                });
                while idle.len() < 120 {
                    let Ok(s) = std::net::TcpStream::connect(&addr) else {
                        break;
                    };
                    s.set_nonblocking(true).unwrap();
                    idle.push(s);
                }
                std::thread::sleep(Duration::from_millis(2));
            }
        })
    };
    std::thread::sleep(Duration::from_millis(500));
    let started = Instant::now();
    let answer = Command::new("curl")
        .args(["-s", "--max-time", "20", "-u", &format!("{host}:{SECRET}")])
        .arg(format!(
            "http://{}/nic/update?hostname={host}&myip=203.0.113.44",
            serve.addr
        ))
        .output()
        .unwrap();
    stop.store(true, std::sync::atomic::Ordering::Relaxed);
    crowd.join().unwrap();
    assert_eq!(
        String::from_utf8_lossy(&answer.stdout),
        "good 203.0.113.44\n",
        "after {:?}: {}",
        started.elapsed(),
        serve.logs()
    );
    assert!(started.elapsed() < Duration::from_secs(15), "{:?}", started.elapsed());
}

#[tokio::test(flavor = "multi_thread")]
async fn sigterm_stops_serve_even_with_a_request_open() {
    use std::io::Write as _;
    let (fx, _) = fixture_with_host().await;
    let mut serve = Serve::start(&fx, &["--shutdown-grace", "1"]);
    let mut open = connect(&serve.addr);
    open.write_all(b"GET /?mode=get HTTP/1.1\r\nHost: x\r\n").unwrap();
    std::thread::sleep(Duration::from_millis(200));
    let started = Instant::now();
    let pid = serve.child.id().to_string();
    assert!(Command::new("kill").args(["-TERM", &pid]).status().unwrap().success());
    loop {
        if let Some(status) = serve.child.try_wait().unwrap() {
            assert!(status.success(), "{status}: {}", serve.logs());
            break;
        }
        assert!(
            started.elapsed() < Duration::from_secs(5),
            "serve still running {:?} after SIGTERM",
            started.elapsed()
        );
        std::thread::sleep(Duration::from_millis(50));
    }
    assert!(started.elapsed() < Duration::from_secs(3), "{:?}", started.elapsed());
}

#[tokio::test(flavor = "multi_thread")]
async fn a_stalled_dependency_gets_a_503_before_the_function_would_time_out() {
    // A moto of its own, to stop it without stopping the other tests'.
    let moto: &'static ddns_testkit::Moto = Box::leak(Box::new(ddns_testkit::Moto::dedicated()));
    let fx = Fixture::on(moto).await;
    let host = fx.host("stalled");
    fx.put_config(&json!({ &host: fx.entry("A", SECRET, json!({})) })).await;
    let serve = Serve::start(&fx, &[]);
    let client = reqwest::Client::builder()
        .timeout(Duration::from_secs(20))
        .build()
        .unwrap();
    let hash = seed_hash(&host);
    let requests = [
        format!("http://{}/?mode=set&hostname={host}&hash={hash}", serve.addr),
        format!("http://{}/nic/update?hostname={host}&myip=203.0.113.5", serve.addr),
    ];
    moto.pause();
    let mut answers = Vec::new();
    for url in &requests {
        let started = Instant::now();
        let response = client.get(url).basic_auth(&host, Some(SECRET)).send().await;
        let elapsed = started.elapsed();
        answers.push((url.clone(), response, elapsed));
    }
    moto.resume();
    for (url, response, elapsed) in answers {
        let response = response.unwrap_or_else(|err| panic!("{url}: no answer ({err})"));
        assert_eq!(response.status().as_u16(), 503, "{url}");
        assert_eq!(
            response
                .headers()
                .get("retry-after")
                .map(|v| v.to_str().unwrap().to_owned()),
            Some("30".to_owned()),
            "{url}"
        );
        // The function's timeout is 10 s; the answer comes well before.
        assert!(elapsed < Duration::from_secs(8), "{url}: {elapsed:?}");
        let body = response.text().await.unwrap();
        if url.contains("/nic/update") {
            assert_eq!(body, "911\n");
        } else {
            assert!(body.contains(r#""return_status":"fail""#), "{body}");
        }
    }
    // Once the dependency is back, so is the service.
    let response = client
        .get(&requests[1])
        .basic_auth(&host, Some(SECRET))
        .send()
        .await
        .unwrap();
    assert_eq!(response.text().await.unwrap(), "good 203.0.113.5\n");
}
