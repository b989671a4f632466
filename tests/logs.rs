//! `ddns-ctl logs` and `host list`'s LAST SEEN / LAST CHANGE, on real lines:
//! the real `bootstrap` answers REST proxy events through a local Runtime
//! API, and what it prints is shipped into the stack's log group with
//! PutLogEvents, as Lambda does (`ddns_testkit::lambda`).

mod common;

use std::io::{BufRead as _, BufReader};
use std::process::Stdio;
use std::sync::mpsc;
use std::time::{Duration, Instant};

use common::{Aws, Stack, deployed};
use ddns_testkit::lambda::{Function, bootstrap_path, rest_event};
use serde_json::Value;

const STREAM: &str = "2026/12/01/[$LATEST]0123456789abcdef";

fn json_of(out: &std::process::Output) -> Value {
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    serde_json::from_slice(&out.stdout).unwrap()
}

fn lines_of(out: &std::process::Output) -> Vec<Value> {
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("{e}: {l}")))
        .collect()
}

fn add(stack: &Stack<'_>, host: &str) -> String {
    let added = json_of(
        &stack
            .cli()
            .args(["--output", "json", "host", "add", host])
            .output()
            .unwrap(),
    );
    added["secret"].as_str().unwrap().to_owned()
}

fn seed_set(host: &str, secret: &str, from: &str) -> Value {
    use sha2::Digest as _;
    let hash = hex::encode(sha2::Sha256::digest(format!("{from}{host}{secret}").as_bytes()));
    rest_event(
        "/",
        &[("mode", "set"), ("hostname", host), ("hash", &hash)],
        &[],
        Some(from),
    )
}

fn nic_update(host: &str, secret: &str, from: &str) -> Value {
    use base64::Engine as _;
    let auth = format!(
        "Basic {}",
        base64::engine::general_purpose::STANDARD.encode(format!("{host}:{secret}"))
    );
    rest_event(
        "/nic/update",
        &[("hostname", host)],
        &[("Authorization", &auth), ("User-Agent", "ddclient/3.11.2")],
        Some(from),
    )
}

/// A deployed stack with three hosts, and the real function's lines for a
/// morning of requests in its log group: `home` moved from 198.51.100.7 to
/// 203.0.113.10 and checked in again, `myhome` (a look-alike) changed once,
/// a wrong secret was refused, and `quiet` never called.
struct Logged {
    stack: Stack<'static>,
    _aws: Aws,
    function: Function,
    home: String,
    home_secret: String,
    myhome: String,
    quiet: String,
}

async fn logged() -> Logged {
    let (stack, aws, _zone_id, zone) = deployed().await;
    let (home, myhome, quiet) = (
        format!("home.{zone}"),
        format!("myhome.{zone}"),
        format!("quiet.{zone}"),
    );
    let home_secret = add(&stack, &home);
    let myhome_secret = add(&stack, &myhome);
    add(&stack, &quiet);
    let mut function = Function::start(
        &bootstrap_path(),
        ddns_testkit::moto(),
        &stack.bucket(),
        &[("AWS_LAMBDA_LOG_FORMAT", "JSON")],
    )
    .await;
    for event in [
        seed_set(&home, &home_secret, "198.51.100.7"),
        nic_update(&home, &home_secret, "203.0.113.10"),
        seed_set(&home, &home_secret, "203.0.113.10"),
        seed_set(&myhome, &myhome_secret, "203.0.113.99"),
        seed_set(&home, "not-the-secret-at-all", "203.0.113.66"),
    ] {
        let reply = function.invoke(event).await;
        assert!(reply["statusCode"] != 500, "{reply}");
    }
    let shipped = function.ship_logs(&aws.logs, &stack.log_group(), STREAM).await;
    assert!(shipped >= 5, "{shipped} lines");
    Logged {
        stack,
        _aws: aws,
        function,
        home,
        home_secret,
        myhome,
        quiet,
    }
}

fn summary(lines: &[Value]) -> Vec<[String; 6]> {
    lines
        .iter()
        .map(|l| {
            ["host", "protocol", "result", "reason", "old", "new"].map(|k| l[k].as_str().unwrap_or("?").to_owned())
        })
        .collect()
}

#[tokio::test(flavor = "multi_thread")]
async fn logs_shows_each_request_and_host_list_when_each_host_was_last_seen() {
    let logged = logged().await;
    let (stack, home, myhome) = (&logged.stack, &logged.home, &logged.myhome);
    // Lines name hosts in lower case, without the trailing dot.
    let (home_line, myhome_line) = (home.trim_end_matches('.'), myhome.trim_end_matches('.'));
    let row = |host: &str, protocol: &str, result: &str, reason: &str, old: &str, new: &str| {
        [host, protocol, result, reason, old, new].map(str::to_owned)
    };

    // Every request, in order, with the caller and the user agent.
    let all = lines_of(
        &stack
            .cli()
            .args(["--output", "json", "logs", "--since", "1h"])
            .output()
            .unwrap(),
    );
    assert_eq!(
        summary(&all),
        [
            row(home_line, "seed", "changed", "", "", "198.51.100.7"),
            row(home_line, "dyndns2", "changed", "", "198.51.100.7", "203.0.113.10"),
            row(home_line, "seed", "unchanged", "", "203.0.113.10", "203.0.113.10"),
            row(myhome_line, "seed", "changed", "", "", "203.0.113.99"),
            row(home_line, "seed", "refused", "badauth", "", ""),
        ]
    );
    assert_eq!(all[1]["caller"], "203.0.113.10");
    assert_eq!(all[1]["user_agent"], "ddclient/3.11.2");
    assert!(
        all.iter().all(|l| l["time"].as_str().is_some_and(|t| t.ends_with('Z'))),
        "{all:?}"
    );

    // One host only: home.… and never its look-alike myhome.….
    let one = lines_of(
        &stack
            .cli()
            .args(["--output", "json", "logs", "--host", home])
            .output()
            .unwrap(),
    );
    assert_eq!(summary(&one).len(), 4, "{one:?}");
    assert!(one.iter().all(|l| l["host"] == home_line), "{one:?}");

    // For people: one line per request, old → new.
    let text = stack.cli().args(["logs", "--host", home]).output().unwrap();
    let text = String::from_utf8_lossy(&text.stdout);
    assert_eq!(text.lines().count(), 4, "{text}");
    assert!(text.contains("198.51.100.7 → 203.0.113.10"), "{text}");
    assert!(text.contains("refused badauth"), "{text}");

    // Bad input changes nothing and says why.
    let bad = stack.cli().args(["logs", "--host", "not a host"]).output().unwrap();
    assert!(!bad.status.success());
    assert!(String::from_utf8_lossy(&bad.stderr).contains("--host"), "{bad:?}");

    // LAST SEEN is the last accepted request; LAST CHANGE the last change,
    // with the value before it; "never" for a host that never called.
    let listing = json_of(&stack.cli().args(["--output", "json", "host", "list"]).output().unwrap());
    let host = |name: &str| {
        listing
            .as_array()
            .unwrap()
            .iter()
            .find(|h| h["host"] == name)
            .unwrap_or_else(|| panic!("{name} not listed: {listing}"))
            .clone()
    };
    let (home_row, quiet_row) = (host(home), host(&logged.quiet));
    assert_eq!(
        home_row["last_seen"].as_str().map(|t| t.ends_with('Z')),
        Some(true),
        "{home_row}"
    );
    assert_eq!(home_row["last_change"]["from"], "198.51.100.7", "{home_row}");
    assert_eq!(home_row["last_change"]["to"], "203.0.113.10", "{home_row}");
    assert!(home_row["last_change"]["time"].as_str().unwrap() <= home_row["last_seen"].as_str().unwrap());
    assert_eq!(host(myhome)["last_change"]["to"], "203.0.113.99");
    assert!(
        quiet_row["last_seen"].is_null() && quiet_row["last_change"].is_null(),
        "{quiet_row}"
    );

    let text = stack.cli().args(["host", "list"]).output().unwrap();
    let text = String::from_utf8_lossy(&text.stdout);
    assert!(text.contains("LAST SEEN") && text.contains("LAST CHANGE"), "{text}");
    let quiet_line = text.lines().find(|l| l.starts_with(logged.quiet.as_str())).unwrap();
    assert!(quiet_line.contains("never"), "{quiet_line}");
    let shown = stack.cli().args(["host", "show", home]).output().unwrap();
    let shown = String::from_utf8_lossy(&shown.stdout);
    assert!(shown.contains("(was 198.51.100.7)"), "{shown}");
}

/// `--follow` prints what arrives after it started, once, and keeps going.
#[tokio::test(flavor = "multi_thread")]
async fn logs_follow_prints_new_requests_once() {
    let mut logged = logged().await;
    let aws = Aws::new(ddns_testkit::moto()).await;
    let mut child = logged
        .stack
        .cli()
        .args([
            "--output",
            "json",
            "logs",
            "--follow",
            "--poll-interval",
            "0.2",
            "--host",
            &logged.home,
        ])
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let (tx, rx) = mpsc::channel::<Value>();
    let stdout = child.stdout.take().unwrap();
    std::thread::spawn(move || {
        // Until the test stops listening: then the pipe closes.
        for line in BufReader::new(stdout).lines().map_while(Result::ok) {
            if tx.send(serde_json::from_str(&line).unwrap_or(Value::Null)).is_err() {
                break;
            }
        }
    });
    let collect = |until: usize, within: Duration| {
        let mut seen = Vec::new();
        let deadline = Instant::now() + within;
        while let Some(left) = deadline.checked_duration_since(Instant::now()) {
            match rx.recv_timeout(left) {
                Ok(line) => seen.push(line),
                Err(_) => break,
            }
            if seen.len() > until {
                break;
            }
        }
        seen
    };
    let first = collect(4, Duration::from_secs(10));
    assert_eq!(first.len(), 4, "{first:?}");

    // A check-in after it started: shipped, and printed exactly once over
    // the following polls (which overlap, to catch late events).
    let event = seed_set(&logged.home, &logged.home_secret, "203.0.113.10");
    logged.function.invoke(event).await;
    logged
        .function
        .ship_logs(&aws.logs, &logged.stack.log_group(), STREAM)
        .await;
    let more = collect(1, Duration::from_secs(3));
    assert_eq!(summary(&more).len(), 1, "duplicates or nothing: {more:?}");
    assert_eq!(more[0]["result"], "unchanged");

    // `logs --follow | head`: once the reader is gone, the next line it
    // writes fails and it ends, with success. The reader thread notices on
    // its next line; the child on the one after.
    drop(rx);
    for from in ["198.51.100.98", "198.51.100.97"] {
        let event = seed_set(&logged.home, &logged.home_secret, from);
        logged.function.invoke(event).await;
        logged
            .function
            .ship_logs(&aws.logs, &logged.stack.log_group(), STREAM)
            .await;
        tokio::time::sleep(Duration::from_secs(1)).await;
    }
    let deadline = Instant::now() + Duration::from_secs(10);
    let status = loop {
        if let Some(status) = child.try_wait().unwrap() {
            break status;
        }
        if Instant::now() > deadline {
            let _ = child.kill();
            panic!("logs --follow kept running with its output closed");
        }
        std::thread::sleep(Duration::from_millis(100));
    };
    assert!(status.success(), "{status:?}");
}

/// A host's silence filter, as `host set --alert-after` makes it, counts
/// exactly that host's accepted lines among the real ones: not its refused
/// request, not the look-alike `myhome.…`, and not a line for
/// `home.….evil.net` (a real line with only its host changed).
#[tokio::test(flavor = "multi_thread")]
async fn the_silence_filter_matches_its_hosts_accepted_lines_only() {
    let logged = logged().await;
    let (stack, home) = (&logged.stack, &logged.home);
    let aws = Aws::new(ddns_testkit::moto()).await;
    let home_line = home.trim_end_matches('.');
    let events = aws
        .logs
        .filter_log_events()
        .log_group_name(stack.log_group())
        .send()
        .await
        .unwrap();
    let real = events
        .events()
        .iter()
        .filter_map(|e| e.message())
        .find(|m| m.contains(&format!(r#""host":"{home_line}""#)) && m.contains(r#""result":"unchanged""#))
        .expect("a real unchanged line for home")
        .to_owned();
    let evil = real.replace(
        &format!(r#""host":"{home_line}""#),
        &format!(r#""host":"{home_line}.evil.net""#),
    );
    aws.logs
        .put_log_events()
        .log_group_name(stack.log_group())
        .log_stream_name(STREAM)
        .log_events(
            aws_sdk_cloudwatchlogs::types::InputLogEvent::builder()
                .timestamp(chrono_ms())
                .message(evil)
                .build()
                .unwrap(),
        )
        .send()
        .await
        .unwrap();

    for args in [
        &["alerts", "enable", "--email", "owner@example.com"][..],
        &["host", "set", home, "--alert-after", "30m"],
    ] {
        let out = stack.cli().args(args).output().unwrap();
        assert!(
            out.status.success(),
            "{args:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
    let filters = aws
        .logs
        .describe_metric_filters()
        .log_group_name(stack.log_group())
        .send()
        .await
        .unwrap();
    let [filter] = filters.metric_filters() else {
        panic!("one filter expected: {filters:?}");
    };
    let matched = aws
        .logs
        .filter_log_events()
        .log_group_name(stack.log_group())
        .filter_pattern(filter.filter_pattern().unwrap())
        .send()
        .await
        .unwrap();
    let results: Vec<(String, String)> = matched
        .events()
        .iter()
        .map(|e| {
            let line: Value = serde_json::from_str(e.message().unwrap()).unwrap();
            let fields = &line["fields"];
            (
                fields["host"].as_str().unwrap().to_owned(),
                fields["result"].as_str().unwrap().to_owned(),
            )
        })
        .collect();
    let home_result = |r: &str| (home_line.to_owned(), r.to_owned());
    assert_eq!(
        results,
        [home_result("changed"), home_result("changed"), home_result("unchanged")]
    );
}

fn chrono_ms() -> i64 {
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap();
    i64::try_from(now.as_millis()).unwrap()
}
