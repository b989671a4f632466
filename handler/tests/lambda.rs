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

use std::path::PathBuf;
use std::time::Duration;

use ddns_testkit::Fixture;
use ddns_testkit::lambda::{Function, rest_event};
use serde_json::{Value, json};
use support::{basic, seed_body, seed_hash};

const SECRET: &str = "lambda-secret-0001";
const SOURCE_IP: &str = "203.0.113.50";

/// `DDNS_BOOTSTRAP`, else the `bootstrap` cargo built for these tests.
fn binary() -> PathBuf {
    std::env::var_os("DDNS_BOOTSTRAP").map_or_else(|| PathBuf::from(env!("CARGO_BIN_EXE_bootstrap")), PathBuf::from)
}

/// The function for `fx`, with Lambda's JSON log format as deploy sets it.
async fn start(fx: &Fixture) -> Function {
    Function::start(&binary(), fx.moto, &fx.bucket, &[("AWS_LAMBDA_LOG_FORMAT", "JSON")]).await
}

#[tokio::test(flavor = "multi_thread")]
async fn rest_proxy_events_through_the_lambda_entry_point() {
    let fx = Fixture::new().await;
    let host = fx.host("home");
    fx.put_config(&json!({ &host: fx.entry("dual", SECRET, json!({"allow_private_addresses": false})) }))
        .await;
    let mut function = start(&fx).await;

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

    // One JSON line per request answered, in Lambda's JSON log format, with
    // the record's fields; never the secret, the hash or the Authorization
    // header.
    let logs = function.logs().await;
    let records: Vec<Value> = logs
        .lines()
        .filter_map(|l| serde_json::from_str::<Value>(l).ok())
        .filter(|l| l["fields"]["message"] == "request")
        .map(|l| l["fields"].clone())
        .collect();
    let host_field = host.trim_end_matches('.').to_ascii_lowercase();
    let summary: Vec<[&str; 6]> = records
        .iter()
        .map(|r| ["protocol", "host", "result", "reason", "old", "new"].map(|k| r[k].as_str().unwrap_or("<missing>")))
        .collect();
    assert_eq!(
        summary,
        [
            ["seed", "", "answered", "", "", SOURCE_IP],
            ["seed", &host_field, "changed", "", "", SOURCE_IP],
            ["dyndns2", &host_field, "changed", "", "", "2001:db8::50"],
            ["myip", "", "answered", "", "", SOURCE_IP],
            ["seed", &host_field, "refused", "badrequest", "", ""],
            ["seed", "", "answered", "", "", SOURCE_IP],
        ],
        "{logs}"
    );
    for record in &records {
        assert_eq!(record["caller"], SOURCE_IP, "{record}");
        assert_eq!(record["user_agent"], "curl/8.5.0", "{record}");
    }
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
    let mut function = start(&fx).await;
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

/// A host with `notify_on_change`: the real `bootstrap`, given the alert
/// topic as deploy sets it, publishes exactly one message when it changes
/// the host's record, none on an unchanged check-in, and none for a host
/// that did not ask. Calls are counted by moto's recorder; the message is
/// read back from moto's SNS backend.
#[tokio::test(flavor = "multi_thread")]
async fn a_change_is_published_once_and_a_check_in_never() {
    let moto: &'static ddns_testkit::Moto = Box::leak(Box::new(ddns_testkit::Moto::dedicated()));
    let fx = Fixture::on(moto).await;
    let (home, quiet) = (fx.host("home"), fx.host("quiet"));
    fx.put_config(&json!({
        &home: fx.entry("dual", SECRET, json!({"allow_private_addresses": false, "notify_on_change": true})),
        &quiet: fx.entry("A", SECRET, json!({"allow_private_addresses": false})),
    }))
    .await;
    fx.set_record(&home, "A", &["198.51.100.7"]).await;
    let sns = aws_sdk_sns::Client::new(&fx.sdk);
    let topic = sns
        .create_topic()
        .name(ddns_testkit::unique("alerts"))
        .send()
        .await
        .unwrap();
    let topic = topic.topic_arn().unwrap().to_owned();
    let mut function = Function::start(
        &binary(),
        moto,
        &fx.bucket,
        // The config cached as deployed (5 s would do; 300 keeps a slow
        // run from revalidating mid-count), so each count is the update's.
        &[
            ("AWS_LAMBDA_LOG_FORMAT", "JSON"),
            ("DDNS_ALERT_TOPIC_ARN", &topic),
            ("DDNS_CONFIG_MAX_AGE_SECS", "300"),
        ],
    )
    .await;
    let set = |host: &str| {
        let hash = seed_hash(SOURCE_IP, host, SECRET);
        rest_event(
            "/",
            &[("mode", "set"), ("hostname", host), ("hash", &hash)],
            &[],
            Some(SOURCE_IP),
        )
    };
    let publishes =
        |calls: &[ddns_testkit::RecordedCall]| calls.iter().filter(|c| c.action.as_deref() == Some("Publish")).count();

    // Warm: a refused request reads the config before counting starts.
    let wrong = seed_hash(SOURCE_IP, &home, "not-the-secret-0000");
    let warm = rest_event(
        "/",
        &[("mode", "set"), ("hostname", &home), ("hash", &wrong)],
        &[],
        Some(SOURCE_IP),
    );
    assert_eq!(function.invoke(warm).await["statusCode"], 403);
    moto.start_recording();
    let reply = function.invoke(set(&home)).await;
    assert_eq!(reply["statusCode"], 200, "{reply}");
    let change = moto.recorded();
    assert_eq!(publishes(&change), 1, "{change:?}");
    // ListResourceRecordSets, ChangeResourceRecordSets, Publish.
    assert_eq!(change.len(), 3, "{change:?}");

    moto.start_recording();
    let reply = function.invoke(set(&home)).await;
    assert!(reply["body"].as_str().unwrap().contains("matches"), "{reply}");
    let unchanged = moto.recorded();
    assert_eq!(publishes(&unchanged), 0, "{unchanged:?}");
    // Still the one ListResourceRecordSets of an unchanged check-in.
    assert_eq!(unchanged.len(), 1, "{unchanged:?}");

    moto.start_recording();
    function.invoke(set(&quiet)).await;
    let other = moto.recorded();
    assert_eq!(publishes(&other), 0, "{other:?}");
    // A change without notification: list and change.
    assert_eq!(other.len(), 2, "{other:?}");
    assert_eq!(fx.record(&quiet, "A").await, [SOURCE_IP]);

    let name = home.trim_end_matches('.').to_ascii_lowercase();
    assert_eq!(
        moto.sns_messages(&topic),
        [(
            format!("{name}: 198.51.100.7 → {SOURCE_IP} (AAAA unchanged)"),
            Some(format!("ddns-ctl: {name} changed"))
        )]
    );
}

/// Behind a custom domain (issue 13), API Gateway's event names the domain
/// and a path without the stage; the function answers exactly as it does on
/// the execute-api URL, for each protocol.
#[tokio::test(flavor = "multi_thread")]
async fn a_custom_domain_request_is_answered_like_the_execute_api_one() {
    let fx = Fixture::new().await;
    let host = fx.host("home");
    fx.put_config(&json!({ &host: fx.entry("A", SECRET, json!({"allow_private_addresses": false})) }))
        .await;
    let mut function = start(&fx).await;
    let domain = "ddns.example.com";
    let via = |event: Value| ddns_testkit::lambda::custom_domain_event(event, domain);

    let get = via(rest_event("/", &[("mode", "get")], &[], Some(SOURCE_IP)));
    assert_eq!(get["requestContext"]["path"], "/");
    let reply = function.invoke(get).await;
    assert_eq!(
        (reply["statusCode"].clone(), reply["body"].clone()),
        (json!(200), json!(seed_body(true, SOURCE_IP)))
    );

    let hash = seed_hash(SOURCE_IP, &host, SECRET);
    let set = rest_event(
        "/",
        &[("mode", "set"), ("hostname", &host), ("hash", &hash)],
        &[],
        Some(SOURCE_IP),
    );
    let reply = function.invoke(via(set)).await;
    assert_eq!(
        reply["body"],
        seed_body(
            true,
            &format!("Your hostname record {host} has been set to {SOURCE_IP}")
        )
    );

    let auth = basic(&host, SECRET);
    let nic = rest_event(
        "/nic/update",
        &[("hostname", &host)],
        &[("Authorization", &auth)],
        Some(SOURCE_IP),
    );
    let nic = via(nic);
    assert_eq!(nic["requestContext"]["path"], "/nic/update");
    let reply = function.invoke(nic).await;
    assert_eq!(
        (reply["statusCode"].clone(), reply["body"].clone()),
        (json!(200), json!(format!("nochg {SOURCE_IP}\n")))
    );

    let reply = function
        .invoke(via(rest_event("/myip", &[], &[], Some(SOURCE_IP))))
        .await;
    assert_eq!(reply["body"], format!("{SOURCE_IP}\n"));
    assert_eq!(fx.record(&host, "A").await, [SOURCE_IP]);
}

/// A REST proxy event for a POST of `body` (base64-encoded as API Gateway
/// sends binary media, if `base64`).
fn post_event(path: &str, headers: &[(&str, &str)], body: &str, base64: bool) -> Value {
    use base64::Engine as _;
    let mut event = rest_event(path, &[], headers, Some(SOURCE_IP));
    event["httpMethod"] = json!("POST");
    event["requestContext"]["httpMethod"] = json!("POST");
    event["headers"]["Content-Type"] = json!("application/json");
    event["multiValueHeaders"]["Content-Type"] = json!(["application/json"]);
    if base64 {
        event["body"] = json!(base64::engine::general_purpose::STANDARD.encode(body));
        event["isBase64Encoded"] = json!(true);
    } else {
        event["body"] = json!(body);
    }
    event
}

#[tokio::test(flavor = "multi_thread")]
async fn acme_dns_updates_arrive_as_post_bodies_plain_or_base64() {
    use sha2::Digest as _;
    let fx = Fixture::new().await;
    let host = fx.host("home");
    let (user, subdomain, key) = (
        "c36f50e8-4632-44f0-83fe-e070fef28a10",
        "8e5700ea-a4bf-41c7-8a77-e990661dcc6a",
        "Y2xvc2VkLWJ1dC1yYW5kb20ta2V5LTQwLWNoYXJz",
    );
    let acme = json!({ "acme": {
        "username": user,
        "key_sha256": hex::encode(sha2::Sha256::digest(key.as_bytes())),
        "subdomain": subdomain,
    }});
    fx.put_config(&json!({ &host: fx.entry("A", SECRET, acme) })).await;
    let mut function = start(&fx).await;
    let headers = [("X-Api-User", user), ("X-Api-Key", key)];
    let txt = |c: char| c.to_string().repeat(43);
    for (base64, value) in [(false, txt('a')), (true, txt('b'))] {
        let body = json!({ "subdomain": subdomain, "txt": value }).to_string();
        let reply = function
            .invoke(post_event("/acme-dns/update", &headers, &body, base64))
            .await;
        assert_eq!(reply["statusCode"], 200, "base64 {base64}: {reply}");
        assert_eq!(
            serde_json::from_str::<Value>(reply["body"].as_str().unwrap()).unwrap(),
            json!({ "txt": value })
        );
    }
    let record = format!("_acme-challenge.{host}");
    assert_eq!(
        fx.record(&record, "TXT").await,
        [format!("\"{}\"", txt('a')), format!("\"{}\"", txt('b'))]
    );
    // A refusal is a 4xx with acme-dns's body, through the entry point too.
    let reply = function
        .invoke(post_event(
            "/acme-dns/update",
            &[("X-Api-User", user), ("X-Api-Key", "wrong")],
            "{}",
            true,
        ))
        .await;
    assert_eq!(reply["statusCode"], 400, "{reply}");
    let reply = function
        .invoke(post_event(
            "/acme-dns/update",
            &[("X-Api-User", user), ("X-Api-Key", "wrong")],
            &json!({ "subdomain": subdomain, "txt": txt('c') }).to_string(),
            false,
        ))
        .await;
    assert_eq!(reply["statusCode"], 401, "{reply}");
    assert_eq!(reply["body"], r#"{"error":"forbidden"}"#);

    // The request lines name the challenge record, never the key.
    let lines = function.printed().await;
    let acme: Vec<&str> = lines
        .iter()
        .map(|l| l.text.as_str())
        .filter(|t| t.contains(r#""protocol":"acme-dns""#))
        .collect();
    assert_eq!(acme.len(), 4, "{lines:#?}");
    let named = format!(r#""host":"_acme-challenge.{}""#, host.trim_end_matches('.'));
    assert_eq!(acme.iter().filter(|t| t.contains(&named)).count(), 2, "{acme:#?}");
    assert!(
        acme.iter()
            .any(|t| t.contains(r#""result":"refused""#) && t.contains(r#""reason":"badauth""#))
    );
    assert!(lines.iter().all(|l| !l.text.contains(key)), "a line holds the key");
}
