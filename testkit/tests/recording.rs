//! The harness itself: moto records requests (and so the config's secrets)
//! only when a test asks, and only inside the server's own directory.

use std::time::{Duration, Instant};

use ddns_testkit::{Fixture, Moto, parse_recording, unique};
use serde_json::json;

/// The names of the files in `dir`.
fn files(dir: &std::path::Path) -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    names
}

#[tokio::test(flavor = "multi_thread")]
async fn a_plain_moto_writes_no_recording() {
    let fx = Fixture::new().await;
    let secret = unique("a-secret-that-must-stay-in-memory");
    fx.put_config(&json!({ fx.host("home"): fx.entry("A", &secret, json!({})) }))
        .await;
    assert_eq!(files(&fx.moto.dir), ["moto.log", "moto.pid"]);
    let log = std::fs::read_to_string(fx.moto.dir.join("moto.log")).unwrap();
    assert!(!log.contains(&secret), "moto logged a request body");
}

#[tokio::test(flavor = "multi_thread")]
async fn a_recording_stays_in_the_servers_directory_and_goes_with_it() {
    let moto = Moto::dedicated();
    let dir = moto.dir.clone();
    moto.start_recording();
    let s3 = aws_sdk_s3::Client::new(&moto.sdk_config().await);
    s3.list_buckets().send().await.unwrap();
    let calls = moto.recorded();
    assert_eq!(calls.len(), 1, "{calls:?}");
    assert_eq!(calls[0].method, "GET");
    assert!(!calls[0].is_mutating());
    assert!(files(&dir).contains(&"recording.jsonl".to_owned()));

    drop(moto);
    let deadline = Instant::now() + Duration::from_secs(20);
    while dir.exists() {
        assert!(Instant::now() < deadline, "{} outlived its moto", dir.display());
        std::thread::sleep(Duration::from_millis(50));
    }
}

#[test]
#[should_panic(expected = "unreadable recording line")]
fn an_unreadable_recording_line_fails_loudly() {
    parse_recording("{\"method\":\"GET\",\"url\":\"http://x/\"}\nnot json\n");
}

#[test]
fn query_actions_are_read_from_encoded_bodies() {
    use base64::Engine as _;
    let body = base64::engine::general_purpose::STANDARD.encode("Action=CreateRole&RoleName=r");
    let line = json!({"method": "POST", "url": "http://x/", "body": body, "body_encoded": true});
    let calls = parse_recording(&format!("{line}\n"));
    assert_eq!(calls[0].action.as_deref(), Some("CreateRole"));
    assert!(calls[0].is_mutating());
}

#[test]
fn json_protocol_actions_are_read_from_the_target_header() {
    let line = json!({"method": "POST", "url": "http://x/", "body": "{}", "body_encoded": false,
                      "headers": {"X-Amz-Target": "Logs_20140328.DescribeLogGroups"}});
    let calls = parse_recording(&format!("{line}\n"));
    assert_eq!(calls[0].action.as_deref(), Some("DescribeLogGroups"));
    assert!(!calls[0].is_mutating());
    let line = json!({"method": "POST", "url": "http://x/", "body": "{}", "body_encoded": false,
                      "headers": {"X-Amz-Target": "Logs_20140328.PutRetentionPolicy"}});
    assert!(parse_recording(&format!("{line}\n"))[0].is_mutating());
}
