//! Real clients against `ddns-ctl serve` on moto, configured from
//! `ddns-ctl client-config`: the generated shell script, `ddns-ctl update`
//! with both protocols, ddclient and inadyn.

mod common;

use std::process::Command;

use assert_cmd::prelude::*;
use common::{Aws, Serve, Stack, deployed, record};
use predicates::prelude::*;
use serde_json::Value;

/// A secret with every character that means something to a shell, cron,
/// systemd, ddclient or libconfuse, as a passphrase manager may produce.
const HOSTILE: &str = r#"it's "a" $(touch PWNED) `x` %d \ ;|&<>*?~#!{}[]"#;

/// Adds a host that may publish loopback addresses; returns its secret.
fn add_host(stack: &Stack<'_>, host: &str, kind: &str) -> String {
    add_host_with(stack, host, kind, None)
}

/// As [`add_host`], with the secret given on standard input.
fn add_host_with(stack: &Stack<'_>, host: &str, kind: &str, secret: Option<&str>) -> String {
    use std::io::Write as _;
    let mut cmd = stack.cli();
    cmd.args([
        "--output",
        "json",
        "host",
        "add",
        host,
        "--allow-private-addresses",
        "--type",
        kind,
    ]);
    if secret.is_some() {
        cmd.arg("--secret-stdin");
    }
    let mut child = cmd
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let mut stdin = child.stdin.take().unwrap();
    if let Some(secret) = secret {
        writeln!(stdin, "{secret}").unwrap();
    }
    drop(stdin);
    let out = child.wait_with_output().unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let added: Value = serde_json::from_slice(&out.stdout).unwrap();
    added["secret"].as_str().unwrap().to_owned()
}

fn client_config(stack: &Stack<'_>, host: &str, format: &str, serve: &Serve) -> String {
    let out = stack
        .cli()
        .args(["client-config", host, "--format", format, "--url", &serve.url()])
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    String::from_utf8(out.stdout).unwrap()
}

async fn reset(aws: &Aws, zone_id: &str, host: &str) {
    use aws_sdk_route53::types::*;
    let set = ResourceRecordSet::builder()
        .name(host)
        .r#type(RrType::A)
        .ttl(60)
        .resource_records(ResourceRecord::builder().value("198.51.100.1").build().unwrap())
        .build()
        .unwrap();
    common::change_record(aws, zone_id, ChangeAction::Upsert, set).await;
}

#[tokio::test(flavor = "multi_thread")]
async fn the_generated_shell_script_updates_the_host() {
    let (stack, aws, zone_id, zone) = deployed().await;
    let host = format!("sh.{zone}");
    add_host(&stack, &host, "A");
    reset(&aws, &zone_id, &host).await;
    let serve = Serve::start(&stack);
    let script = stack.dir.join("update.sh");
    std::fs::write(&script, client_config(&stack, &host, "sh", &serve)).unwrap();
    let out = Command::new("sh").arg(&script).output().unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    assert!(String::from_utf8_lossy(&out.stdout).contains("has been set to 127.0.0.1"));
    assert_eq!(record(&aws, &zone_id, &host, "A").await, ["127.0.0.1"]);
}

#[tokio::test(flavor = "multi_thread")]
async fn ddns_ctl_update_speaks_both_protocols() {
    let (stack, aws, zone_id, zone) = deployed().await;
    let host = format!("upd.{zone}");
    let secret = add_host(&stack, &host, "A");
    let serve = Serve::start(&stack);
    let secret_file = stack.dir.join("secret");
    std::fs::write(&secret_file, format!("{secret}\n")).unwrap();
    let update = |protocol: &str| {
        let mut cmd = Command::cargo_bin("ddns-ctl").unwrap();
        cmd.args([
            "update",
            "--url",
            &serve.url(),
            "--hostname",
            &host,
            "--protocol",
            protocol,
            "--insecure-http",
            "--secret-file",
        ])
        .arg(&secret_file);
        cmd
    };
    for protocol in ["seed", "dyndns2"] {
        reset(&aws, &zone_id, &host).await;
        update(protocol)
            .assert()
            .success()
            .stdout(predicate::str::contains(&host));
        assert_eq!(record(&aws, &zone_id, &host, "A").await, ["127.0.0.1"], "{protocol}");
        // Nothing to do: quiet, and still success.
        update(protocol).assert().success().stdout("");
    }
    // A wrong secret is refused: exit 3, and the record stays.
    reset(&aws, &zone_id, &host).await;
    Command::cargo_bin("ddns-ctl")
        .unwrap()
        .env("DDNS_SECRET", "wrong")
        .args(["update", "--url", &serve.url(), "--hostname", &host])
        .assert()
        .code(3)
        .stderr(predicate::str::contains("refused"));
    assert_eq!(record(&aws, &zone_id, &host, "A").await, ["198.51.100.1"]);
    // No secret at all is a usage error that names the fix.
    Command::cargo_bin("ddns-ctl")
        .unwrap()
        .env_remove("DDNS_SECRET")
        .args(["update", "--url", &serve.url(), "--hostname", &host])
        .assert()
        .code(1)
        .stderr(predicate::str::contains("--secret-file"));
}

/// `ddns-ctl update` keeps each connection to its address family, against
/// `serve` on 127.0.0.1, on [::1] and on [::] (one listener for both): the
/// service publishes that family's address and never the other's. A family
/// the endpoint lacks (what a host without IPv6 sees) is a clear error for
/// `--ipv6`, and a warning beside a good A record for `--dual`.
#[tokio::test(flavor = "multi_thread")]
async fn update_keeps_to_its_address_family() {
    let (stack, aws, zone_id, zone) = deployed().await;
    let host = format!("fam.{zone}");
    let secret = add_host(&stack, &host, "dual");
    let secret_file = stack.dir.join("secret");
    std::fs::write(&secret_file, format!("{secret}\n")).unwrap();
    let update = |url: &str, family: &str, protocol: &str| {
        let out = Command::cargo_bin("ddns-ctl")
            .unwrap()
            .args(["update", "--insecure-http", "--url", url, "--hostname", &host, family])
            .args(["--protocol", protocol, "--secret-file"])
            .arg(&secret_file)
            .output()
            .unwrap();
        let text = |bytes: &[u8]| String::from_utf8_lossy(bytes).into_owned();
        (out.status.code(), text(&out.stdout), text(&out.stderr))
    };
    let records = || async {
        (
            record(&aws, &zone_id, &host, "A").await,
            record(&aws, &zone_id, &host, "AAAA").await,
        )
    };
    let none = Vec::<String>::new();

    let v4 = Serve::start(&stack);
    for protocol in ["seed", "dyndns2"] {
        assert_eq!(
            update(&v4.url(), "--ipv6", protocol),
            (
                Some(1),
                String::new(),
                "error: cannot update AAAA: the endpoint is not reachable over IPv6 \
                 (127.0.0.1 is an IPv4 address)\n"
                    .to_owned()
            ),
            "{protocol}"
        );
        assert_eq!(
            records().await,
            (none.clone(), none.clone()),
            "{protocol}: nothing was set"
        );
    }
    let (code, stdout, stderr) = update(&v4.url(), "--dual", "seed");
    assert_eq!(code, Some(0), "{stderr}");
    assert!(stdout.contains("127.0.0.1"), "{stdout}");
    assert_eq!(
        stderr,
        "warning: AAAA not updated: the endpoint is not reachable over IPv6 (127.0.0.1 is an IPv4 address)\n"
    );
    assert_eq!(records().await, (vec!["127.0.0.1".to_owned()], none.clone()));

    let v6 = Serve::listening(&stack, "[::1]:0", &[]);
    assert_eq!(
        update(&v6.url(), "--ipv4", "seed"),
        (
            Some(1),
            String::new(),
            "error: cannot update A: the endpoint is not reachable over IPv4 (::1 is an IPv6 address)\n".to_owned()
        )
    );
    let (code, stdout, stderr) = update(&v6.url(), "--ipv6", "seed");
    assert_eq!((code, stderr.as_str()), (Some(0), ""));
    assert!(stdout.contains("::1"), "{stdout}");
    assert_eq!(records().await, (vec!["127.0.0.1".to_owned()], vec!["::1".to_owned()]));
    // AAAA already holds ::1: quiet; A cannot be reached: a warning.
    assert_eq!(
        update(&v6.url(), "--dual", "dyndns2"),
        (
            Some(0),
            String::new(),
            "warning: A not updated: the endpoint is not reachable over IPv4 (::1 is an IPv6 address)\n".to_owned()
        )
    );

    // One listener on [::] takes both families; IPv4 callers reach it as
    // IPv4-mapped addresses and are published as IPv4.
    reset(&aws, &zone_id, &host).await;
    let both = Serve::listening(&stack, "[::]:0", &[]);
    let port = both.port();
    let (code, _, stderr) = update(&format!("http://127.0.0.1:{port}/prod/"), "--ipv4", "seed");
    assert_eq!((code, stderr.as_str()), (Some(0), ""));
    assert_eq!(records().await.0, ["127.0.0.1"]);
}

/// Runs a real dyndns2 client, configured from `client-config --format
/// FORMAT` written to a file, and checks that it set the host's A record:
/// once with a generated secret, once with a hostile one.
async fn real_client_updates_a_host(format: &str, run: impl Fn(&std::path::Path, &std::path::Path) -> Command) {
    for secret in [None, Some(HOSTILE)] {
        real_client_run(format, secret, &run).await;
    }
}

async fn real_client_run(
    format: &str,
    secret: Option<&str>,
    run: &impl Fn(&std::path::Path, &std::path::Path) -> Command,
) {
    if Command::new(format).arg("--version").output().is_err() {
        panic!("{format} is not installed: run scripts/bootstrap.sh");
    }
    let (stack, aws, zone_id, zone) = deployed().await;
    let host = format!("{format}.{zone}");
    add_host_with(&stack, &host, "A", secret);
    reset(&aws, &zone_id, &host).await;
    let serve = Serve::start(&stack);
    let conf = stack.dir.join(format!("{format}.conf"));
    std::fs::write(&conf, client_config(&stack, &host, format, &serve)).unwrap();
    let out = run(&conf, &stack.dir).output().unwrap();
    let log = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(
        record(&aws, &zone_id, &host, "A").await,
        ["127.0.0.1"],
        "{format} with secret {secret:?} said:\n{log}"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn hostile_secrets_stay_data_in_every_shell_setup() {
    let (stack, aws, zone_id, zone) = deployed().await;
    let host = format!("quote.{zone}");
    assert_eq!(add_host_with(&stack, &host, "A", Some(HOSTILE)), HOSTILE);
    reset(&aws, &zone_id, &host).await;
    let serve = Serve::start(&stack);
    let home = stack.dir.join("home");
    std::fs::create_dir_all(&home).unwrap();
    let sh = |script: &str| {
        Command::new("sh")
            .arg("-c")
            .arg(script)
            .current_dir(&home)
            .env("HOME", &home)
            .output()
            .unwrap()
    };

    // The script, run for real: it proves the secret, and runs nothing in it.
    let script = client_config(&stack, &host, "sh", &serve);
    assert!(
        Command::new("sh")
            .args(["-n", "-c", &script])
            .status()
            .unwrap()
            .success()
    );
    let out = sh(&script);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    assert_eq!(record(&aws, &zone_id, &host, "A").await, ["127.0.0.1"]);

    // cron: the line that stores the secret stores exactly it, and the cron
    // line passes each value as one argument (cron turns \% into %).
    let cron = client_config(&stack, &host, "cron", &serve);
    let store = cron
        .lines()
        .find_map(|l| l.strip_prefix("#   mkdir"))
        .map(|l| format!("mkdir{l}"))
        .unwrap();
    assert!(sh(&store).status.success());
    let stored = home.join(format!(".config/ddns-ctl/{}.secret", host.trim_end_matches('.')));
    assert_eq!(std::fs::read_to_string(&stored).unwrap(), format!("{HOSTILE}\n"));
    let line = cron.lines().find_map(|l| l.strip_prefix("*/5 * * * * ")).unwrap();
    let words = sh(&format!(
        "ddns_ctl() {{ printf '%s\\n' \"$@\"; }}; {}",
        line.replacen("ddns-ctl", "ddns_ctl", 1).replace(r"\%", "%")
    ));
    let words = String::from_utf8(words.stdout).unwrap();
    let expected_file = stored.display().to_string();
    assert_eq!(
        words.lines().collect::<Vec<_>>(),
        [
            "update",
            "--url",
            &serve.url(),
            "--hostname",
            &host,
            "--secret-file",
            &expected_file,
            "--dual"
        ]
    );

    // systemd: the line that stores the secret stores exactly it.
    let unit = client_config(&stack, &host, "systemd", &serve);
    let etc = stack.dir.join("etc");
    let store = unit
        .lines()
        .find(|l| l.starts_with("(umask 077"))
        .unwrap()
        .replace("/etc/ddns-ctl", &etc.display().to_string());
    std::fs::create_dir_all(&etc).unwrap();
    assert!(sh(&store).status.success());
    let stored = etc.join(format!("{}.secret", host.trim_end_matches('.')));
    assert_eq!(std::fs::read_to_string(stored).unwrap(), format!("{HOSTILE}\n"));

    // systemd accepts the unit as written (it fails on unbalanced quoting).
    let service: String = unit
        .lines()
        .skip_while(|l| !l.starts_with("# 2."))
        .skip(1)
        .take_while(|l| !l.starts_with("# 3."))
        .map(|l| format!("{l}\n"))
        .collect();
    let service_file = stack.dir.join("ddns-quote.service");
    std::fs::write(&service_file, &service).unwrap();
    let verify = Command::new("systemd-analyze")
        .arg("verify")
        .arg(&service_file)
        .output()
        .expect("systemd-analyze (Debian's systemd package)");
    assert!(
        verify.status.success(),
        "{}{service}",
        String::from_utf8_lossy(&verify.stderr)
    );

    // OpenWrt's UCI quotes as the shell does.
    let uci = client_config(&stack, &host, "openwrt", &serve);
    let password = uci
        .lines()
        .find_map(|l| l.trim().strip_prefix("option password "))
        .unwrap();
    let out = sh(&format!("printf %s {password}"));
    assert_eq!(String::from_utf8(out.stdout).unwrap(), HOSTILE);

    // Nothing in the secret ran anywhere.
    assert!(!home.join("PWNED").exists() && !stack.dir.join("PWNED").exists());
}

#[tokio::test(flavor = "multi_thread")]
async fn ddclient_updates_the_host() {
    real_client_updates_a_host("ddclient", |conf, dir| {
        let mut cmd = Command::new("ddclient");
        cmd.args(["-daemon=0", "-foreground", "-verbose", "-noquiet", "-file"])
            .arg(conf)
            .arg("-cache")
            .arg(dir.join("ddclient.cache"));
        cmd
    })
    .await;
}

#[tokio::test(flavor = "multi_thread")]
async fn inadyn_updates_the_host() {
    real_client_updates_a_host("inadyn", |conf, dir| {
        let mut cmd = Command::new("inadyn");
        cmd.args(["--once", "--foreground", "--no-pidfile", "-l", "debug", "-f"])
            .arg(conf)
            .arg(format!("--cache-dir={}", dir.join("inadyn-cache").display()));
        cmd
    })
    .await;
}

#[tokio::test(flavor = "multi_thread")]
async fn the_shell_script_falls_back_to_shasum_or_openssl() {
    let (stack, aws, zone_id, zone) = deployed().await;
    let host = format!("fallback.{zone}");
    add_host(&stack, &host, "A");
    let serve = Serve::start(&stack);
    let script = stack.dir.join("fallback.sh");
    std::fs::write(&script, client_config(&stack, &host, "sh", &serve)).unwrap();
    for hasher in ["shasum", "openssl"] {
        // A PATH with the script's tools and only this one way to hash.
        let bin = stack.dir.join(format!("bin-{hasher}"));
        std::fs::create_dir_all(&bin).unwrap();
        for tool in ["curl", "sed", "cut", hasher] {
            let real = which(tool);
            let _ = std::os::unix::fs::symlink(&real, bin.join(tool));
        }
        reset(&aws, &zone_id, &host).await;
        let out = Command::new("/bin/sh").arg(&script).env("PATH", &bin).output().unwrap();
        assert!(
            out.status.success(),
            "{hasher}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        assert_eq!(record(&aws, &zone_id, &host, "A").await, ["127.0.0.1"], "{hasher}");
    }
}

fn which(tool: &str) -> std::path::PathBuf {
    let out = Command::new("sh")
        .args(["-c", &format!("command -v {tool}")])
        .output()
        .unwrap();
    std::path::PathBuf::from(String::from_utf8(out.stdout).unwrap().trim())
}

#[tokio::test(flavor = "multi_thread")]
async fn update_every_keeps_running() {
    let (stack, _aws, _, zone) = deployed().await;
    let host = format!("loop.{zone}");
    let secret = add_host(&stack, &host, "A");
    let serve = Serve::start(&stack);
    let mut child = std::process::Command::cargo_bin("ddns-ctl")
        .unwrap()
        .env("DDNS_SECRET", &secret)
        .args([
            "-v",
            "update",
            "--url",
            &serve.url(),
            "--hostname",
            &host,
            "--every",
            "300ms",
        ])
        .stdout(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    // Read its rounds as they come, so the test waits for them rather than
    // for a guessed time.
    let stdout = std::io::BufReader::new(child.stdout.take().unwrap());
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        use std::io::BufRead as _;
        for line in stdout.lines().map_while(Result::ok) {
            let _ = tx.send(line);
        }
    });
    let mut rounds = Vec::new();
    while rounds.len() < 3 {
        match rx.recv_timeout(std::time::Duration::from_secs(20)) {
            Ok(line) => rounds.push(line),
            Err(err) => panic!("only {} rounds ({err}): {rounds:#?}", rounds.len()),
        }
    }
    assert!(
        child.try_wait().unwrap().is_none(),
        "update --every stopped by itself after {rounds:#?}"
    );
    child.kill().unwrap();
    child.wait().unwrap();
    assert!(rounds[0].contains("has been set"), "{rounds:#?}");
    assert!(rounds[1..].iter().all(|r| r.contains("matches")), "{rounds:#?}");
}

/// `ddns-ctl update` against a server that answers `answer`; returns the
/// exit code and what it printed (stdout, stderr).
fn update_against(answer: fn(&str) -> Vec<u8>, protocol: &str) -> (Option<i32>, String, String) {
    let server = common::FakeServer::start(answer);
    let out = Command::cargo_bin("ddns-ctl")
        .unwrap()
        .env("DDNS_SECRET", "a-secret-of-enough-length")
        .args([
            "update",
            "--insecure-http",
            "--url",
            &server.url,
            "--hostname",
            "h.example.com",
            "--protocol",
            protocol,
        ])
        .output()
        .unwrap();
    (
        out.status.code(),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

#[test]
fn the_update_client_does_not_trust_the_server() {
    // Terminal escapes and a forged line in a message are not printed.
    let (code, stdout, stderr) = update_against(
        |_| {
            common::http_answer(
                "400 Bad Request",
                br#"{"return_status":"fail","return_message":"no\u001b]0;owned\u0007\nerror: forged"}"#,
            )
        },
        "seed",
    );
    assert_eq!(code, Some(3), "{stderr}");
    let printed = format!("{stdout}{stderr}");
    assert!(!printed.contains('\u{1b}') && !printed.contains('\u{7}'), "{printed:?}");
    assert!(!printed.contains("\nerror: forged"), "{printed:?}");

    // A mode=get without a string message is not hashed as "" and reported
    // as success.
    let (code, stdout, stderr) = update_against(
        |_| common::http_answer("200 OK", br#"{"return_status":"success","return_message":5}"#),
        "seed",
    );
    assert_eq!(code, Some(1), "{stdout}{stderr}");
    assert!(stderr.contains("not its JSON"), "{stderr}");
    // Nor is a message that is not an address.
    let (code, _, stderr) = update_against(
        |_| common::http_answer("200 OK", br#"{"return_status":"success","return_message":"owned"}"#),
        "seed",
    );
    assert_eq!(code, Some(1), "{stderr}");
    assert!(stderr.contains("not an address"), "{stderr}");

    // A huge answer is cut off, not read whole.
    let (code, _, stderr) = update_against(
        |_| common::http_answer("200 OK", &vec![b'a'; 8 * 1024 * 1024]),
        "dyndns2",
    );
    assert_eq!(code, Some(1), "{stderr}");
    assert!(stderr.contains("larger than 16 KiB"), "{stderr}");

    // A set that fails in transit does not print its URL, which holds the proof.
    let (code, _, stderr) = update_against(
        |request| {
            if request.contains("mode=get") {
                common::http_answer(
                    "200 OK",
                    br#"{"return_status":"success","return_message":"203.0.113.9"}"#,
                )
            } else {
                b"HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\ncut".to_vec()
            }
        },
        "seed",
    );
    assert_eq!(code, Some(1), "{stderr}");
    assert!(!stderr.contains("hash="), "{stderr}");
}

#[test]
fn plain_http_needs_to_be_asked_for() {
    let server = common::FakeServer::start(|_| common::http_answer("200 OK", b"good 203.0.113.9\n"));
    let base = || {
        let mut cmd = Command::cargo_bin("ddns-ctl").unwrap();
        cmd.env("DDNS_SECRET", "a-secret-of-enough-length").args([
            "update",
            "--url",
            &server.url,
            "--hostname",
            "h.example.com",
        ]);
        cmd
    };
    base().args(["--protocol", "dyndns2"]).assert().code(1).stderr(
        predicate::str::contains("refusing to send the secret unencrypted")
            .and(predicate::str::contains("--insecure-http")),
    );
    base()
        .args(["--protocol", "dyndns2", "--insecure-http"])
        .assert()
        .success()
        .stdout(predicate::str::contains("good 203.0.113.9"));
    // The seed protocol sends no secret, but says that the proof travels in clear.
    let out = base().output().unwrap();
    assert!(String::from_utf8_lossy(&out.stderr).contains("warning:"), "{out:?}");
}
