//! Real issuance, end to end: certbot gets a certificate for a host and its
//! wildcard from pebble (Let's Encrypt's test ACME server), answering DNS-01
//! through the stack's acme-dns endpoint (`ddns-ctl serve` on moto) with
//! pyacmedns, a third-party acme-dns client, reading the storage JSON of
//! `client-config --format acme-dns-json`. pebble validates against a DNS
//! server that answers from moto's zone (testkit/zone_dns.py). certbot asks
//! for the apex and the wildcard one after the other at the same name, so
//! the certificate also proves the two rolling TXT values.

mod common;

use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use common::{Serve, deployed};

/// A child process killed when dropped.
struct Running(Child);

impl Drop for Running {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn tool(name: &str) -> String {
    let found = Command::new("sh")
        .arg("-c")
        .arg(format!("command -v {name}"))
        .output()
        .unwrap();
    assert!(
        found.status.success(),
        "{name} is not installed: run scripts/bootstrap.sh (it installs pebble, certbot and openssl)"
    );
    String::from_utf8(found.stdout).unwrap().trim().to_owned()
}

fn wait_for(what: &str, ready: impl Fn() -> bool) {
    let deadline = Instant::now() + Duration::from_secs(30);
    while !ready() {
        assert!(Instant::now() < deadline, "{what} did not start");
        std::thread::sleep(Duration::from_millis(100));
    }
}

fn run(command: &mut Command) -> String {
    let out = command.output().unwrap();
    assert!(
        out.status.success(),
        "{command:?} failed:\n{}\n{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// pebble on a free port, with a self-signed certificate of its own for
/// 127.0.0.1, validating against `dns`; returns it and its CA file.
fn pebble(dir: &Path, dns: &str) -> (Running, String, std::path::PathBuf) {
    let (cert, key) = (dir.join("pebble.pem"), dir.join("pebble.key"));
    run(Command::new(tool("openssl"))
        .args([
            "req",
            "-x509",
            "-newkey",
            "rsa:2048",
            "-nodes",
            "-days",
            "1",
            "-subj",
            "/CN=localhost",
        ])
        .args(["-addext", "subjectAltName=IP:127.0.0.1,DNS:localhost", "-keyout"])
        .arg(&key)
        .arg("-out")
        .arg(&cert));
    // Four distinct ports: each free_port() alone may hand out a port the
    // previous call just released, and pebble cannot bind two on one.
    let held: Vec<std::net::TcpListener> = (0..4)
        .map(|_| std::net::TcpListener::bind("127.0.0.1:0").unwrap())
        .collect();
    let ports: Vec<u16> = held.iter().map(|l| l.local_addr().unwrap().port()).collect();
    drop(held);
    let port = ports[0];
    let config = serde_json::json!({ "pebble": {
        "listenAddress": format!("127.0.0.1:{port}"),
        "managementListenAddress": format!("127.0.0.1:{}", ports[1]),
        "certificate": cert, "privateKey": key,
        "httpPort": ports[2], "tlsPort": ports[3],
        "ocspResponderURL": "", "externalAccountBindingRequired": false,
    }});
    let config_file = dir.join("pebble.json");
    std::fs::write(&config_file, config.to_string()).unwrap();
    let log = dir.join("pebble.log");
    let child = Command::new(tool("pebble"))
        .arg("-config")
        .arg(&config_file)
        .args(["-dnsserver", dns])
        // No random sleeps before validation, no rejected nonces: the test
        // is about DNS-01, not about pebble's chaos.
        .env("PEBBLE_VA_NOSLEEP", "1")
        .env("PEBBLE_WFE_NONCEREJECT", "0")
        .stdout(std::fs::File::create(&log).unwrap())
        .stderr(std::fs::File::options().append(true).open(&log).unwrap())
        .spawn()
        .unwrap();
    let mut running = Running(child);
    let deadline = Instant::now() + Duration::from_secs(60);
    while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
        let exited = running.0.try_wait().unwrap();
        assert!(
            exited.is_none() && Instant::now() < deadline,
            "pebble did not start ({exited:?}):\n{}",
            std::fs::read_to_string(&log).unwrap_or_default()
        );
        std::thread::sleep(Duration::from_millis(100));
    }
    (running, format!("https://127.0.0.1:{port}/dir"), cert)
}

#[tokio::test(flavor = "multi_thread")]
async fn certbot_gets_a_certificate_for_a_host_and_its_wildcard_through_acme_dns() {
    let (stack, aws, zone_id, zone) = deployed().await;
    let host = format!("home.{}", zone.trim_end_matches('.'));
    let python = ddns_testkit::moto_python();
    let root = ddns_testkit::repo_root();

    // The account, made by the owner, and its storage JSON for the client.
    let added = stack
        .cli()
        .args(["--output", "json", "host", "add", &host, "--acme"])
        .output()
        .unwrap();
    assert!(added.status.success(), "{}", String::from_utf8_lossy(&added.stderr));
    let added: serde_json::Value = serde_json::from_slice(&added.stdout).unwrap();
    let key_file = stack.dir.join("acme.key");
    std::fs::write(&key_file, added["acme"]["password"].as_str().unwrap()).unwrap();
    let serve = Serve::start_with(&stack, &[]);
    let api = format!("{}acme-dns", serve.url());
    let storage = stack.dir.join("acme-dns.json");
    let printed = run(stack
        .cli()
        .args([
            "client-config",
            &host,
            "--format",
            "acme-dns-json",
            "--url",
            &serve.url(),
            "--acme-key-file",
        ])
        .arg(&key_file));
    std::fs::write(&storage, printed).unwrap();

    // The DNS server pebble asks, answering from moto's zone.
    let ready = stack.dir.join("dns.port");
    let dns = Running(
        Command::new(&python)
            .arg(root.join("testkit/zone_dns.py"))
            .args([&stack.moto.endpoint, &zone_id])
            .arg(&ready)
            .stdout(Stdio::null())
            .stderr(std::fs::File::create(stack.dir.join("dns.log")).unwrap())
            .spawn()
            .unwrap(),
    );
    wait_for("the zone's DNS server", || {
        ready.exists() && !std::fs::read_to_string(&ready).unwrap().is_empty()
    });
    let dns_addr = format!("127.0.0.1:{}", std::fs::read_to_string(&ready).unwrap());
    let (_pebble, directory, ca) = pebble(&stack.dir, &dns_addr);

    let work = stack.dir.join("certbot");
    let hook = format!(
        "{} {}",
        python.display(),
        root.join("testkit/certbot_auth_hook.py").display()
    );
    let out = Command::new(tool("certbot"))
        .args([
            "certonly",
            "--manual",
            "--preferred-challenges",
            "dns",
            "--manual-auth-hook",
            &hook,
        ])
        .args(["--server", &directory, "-d", &host, "-d", &format!("*.{host}")])
        .args([
            "--agree-tos",
            "--register-unsafely-without-email",
            "--non-interactive",
            "--cert-name",
            "home",
        ])
        .arg("--config-dir")
        .arg(work.join("config"))
        .arg("--work-dir")
        .arg(work.join("work"))
        .arg("--logs-dir")
        .arg(work.join("logs"))
        .env("REQUESTS_CA_BUNDLE", &ca)
        .env("ACME_DNS_STORAGE", &storage)
        .env("ACME_DNS_API_BASE", &api)
        .output()
        .unwrap();
    let log = std::fs::read_to_string(work.join("logs/letsencrypt.log")).unwrap_or_default();
    assert!(
        out.status.success(),
        "certbot failed:\n{}\n{}\n--- log tail:\n{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr),
        log.lines()
            .rev()
            .take(40)
            .collect::<Vec<_>>()
            .into_iter()
            .rev()
            .collect::<Vec<_>>()
            .join("\n")
    );
    drop(dns);

    // The certificate names the host and its wildcard.
    let cert = work.join("config/live/home/cert.pem");
    let sans = run(Command::new(tool("openssl"))
        .args(["x509", "-noout", "-ext", "subjectAltName", "-in"])
        .arg(&cert));
    assert!(sans.contains(&format!("DNS:{host}")), "{sans}");
    assert!(sans.contains(&format!("DNS:*.{host}")), "{sans}");
    // Both values were in the record at once, as the two validations needed.
    let record = format!("_acme-challenge.{host}.");
    assert_eq!(common::record(&aws, &zone_id, &record, "TXT").await.len(), 2);
}
