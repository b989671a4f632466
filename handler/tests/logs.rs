//! What the service logs about hostile credentials: no forged lines, no raw
//! control bytes, and never a secret, even one typed into the username.
//!
//! Each test captures the log on its own thread: a current-thread runtime
//! runs the server's tasks there too, so the subscriber sees exactly this
//! test's events.

mod support;

use std::io::Write;
use std::sync::{Arc, Mutex};

use ddns_testkit::Fixture;
use serde_json::json;
use support::serve;
use tracing_subscriber::fmt::MakeWriter;

const SECRET: &str = "logged-never-0001";

/// Everything written to it, shared with the test.
#[derive(Clone, Default)]
struct Captured(Arc<Mutex<Vec<u8>>>);

impl Captured {
    fn text(&self) -> String {
        String::from_utf8_lossy(&self.0.lock().unwrap()).into_owned()
    }
}

impl Write for Captured {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl<'a> MakeWriter<'a> for Captured {
    type Writer = Captured;

    fn make_writer(&'a self) -> Self::Writer {
        self.clone()
    }
}

/// A subscriber like `ddns-ctl serve`'s, with the service at its most verbose.
fn capture() -> (Captured, tracing::subscriber::DefaultGuard) {
    let captured = Captured::default();
    let subscriber = tracing_subscriber::fmt()
        .with_writer(captured.clone())
        .with_ansi(false)
        .with_env_filter("info,ddns_handler=trace")
        .finish();
    (captured, tracing::subscriber::set_default(subscriber))
}

async fn nic_update(url: &str, host: &str, user: &str, password: &str) -> (u16, String) {
    let response = reqwest::Client::new()
        .get(format!("{url}/nic/update?hostname={host}&myip=203.0.113.60"))
        .basic_auth(user, Some(password))
        .send()
        .await
        .expect("request");
    (response.status().as_u16(), response.text().await.expect("body"))
}

#[tokio::test(flavor = "current_thread")]
async fn a_hostile_username_cannot_forge_a_log_line() {
    let fx = Fixture::new().await;
    let host = fx.host("home");
    // A configured username with a control byte in it: usernames are never
    // logged (one may be a password typed into the wrong field), so it must
    // not come out at all, raw or escaped.
    fx.put_config(&json!({ &host: fx.entry("A", SECRET, json!({"username": "ops\u{1b}[31mteam"})) }))
        .await;
    let (captured, _guard) = capture();
    let server = serve(&fx).await;

    // A Basic username cannot hold ':', so the forged line does without.
    let forged = format!("x\r\nFORGED INFO update host=\"{host}\" result=\"changed\"\u{1b}[2K\u{7}");
    assert!(!forged.contains(':'));
    for (user, password) in [
        (forged.as_str(), SECRET),
        (forged.as_str(), "wrong"),
        (host.as_str(), "wrong\r\nresult=\"changed\""),
        ("ops\u{1b}[31mteam", "wrong"),
    ] {
        let (status, body) = nic_update(&server.url, &host, user, password).await;
        assert_eq!((status, body.as_str()), (401, "badauth\n"), "{user:?}");
    }
    assert!(fx.record(&host, "A").await.is_empty());

    let logs = captured.text();
    let refused = logs
        .lines()
        .filter(|l| l.contains(" request ") && l.contains(r#"result="refused" reason="badauth""#))
        .count();
    assert_eq!(refused, 4, "one line per refusal:\n{logs}");
    for byte in ['\r', '\u{1b}', '\u{7}'] {
        assert!(!logs.contains(byte), "a raw {byte:?} in the logs:\n{logs:?}");
    }
    // Every line is one the service wrote, and no update is claimed.
    assert!(!logs.contains("FORGED"), "{logs}");
    assert!(!logs.contains("result=\"changed\""), "{logs}");
    // The refusals name the host the request named, and no username.
    assert!(
        logs.contains(&format!(r#"host="{}""#, host.trim_end_matches('.'))),
        "{logs}"
    );
    assert!(!logs.contains("ops") && !logs.contains("username"), "{logs}");
}

#[tokio::test(flavor = "current_thread")]
async fn swapped_credentials_never_log_the_secret() {
    let fx = Fixture::new().await;
    let host = fx.host("home");
    fx.put_config(&json!({ &host: fx.entry("A", SECRET, json!({})) })).await;
    let (captured, _guard) = capture();
    let server = serve(&fx).await;

    // The secret in the username field and the hostname as the password.
    let (status, _) = nic_update(&server.url, &host, SECRET, &host).await;
    assert_eq!(status, 401);
    // And once right, so that the logs are known to hold something.
    let (status, body) = nic_update(&server.url, &host, &host, SECRET).await;
    assert_eq!((status, body.as_str()), (200, "good 203.0.113.60\n"));

    let logs = captured.text();
    assert!(logs.contains(r#"result="refused" reason="badauth""#), "{logs}");
    assert!(logs.contains("result=\"changed\""), "{logs}");
    assert!(!logs.contains(SECRET), "the secret is in the logs:\n{logs}");
}
