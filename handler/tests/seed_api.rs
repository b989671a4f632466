//! The seed API over real HTTP against moto: every success and failure the
//! blog post's service had, byte for byte, plus the cases it crashed on.

mod support;

use std::time::Duration;

use ddns_handler::local::LocalOptions;
use ddns_testkit::Fixture;
use serde_json::json;
use support::{get, seed_body, seed_hash, serve, serve_with};

const SECRET: &str = "SHARED_SECRET_0001";

async fn one_host(kind: &str) -> (Fixture, String) {
    let fx = Fixture::new().await;
    let host = fx.host("home");
    fx.put_config(&json!({ &host: fx.entry(kind, SECRET, json!({})) }))
        .await;
    (fx, host)
}

#[tokio::test(flavor = "multi_thread")]
async fn get_returns_the_callers_address() {
    let (fx, _) = one_host("A").await;
    let server = serve(&fx).await;
    for path in ["/?mode=get", "/prod?mode=get", "/any/path?mode=get"] {
        let (status, body) = get(&format!("{}{path}", server.url)).await;
        assert_eq!(
            (status, body.as_str()),
            (200, seed_body(true, "127.0.0.1").as_str()),
            "{path}"
        );
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn set_updates_then_reports_a_match() {
    let (fx, host) = one_host("A").await;
    fx.set_record(&host, "A", &["198.51.100.1"]).await;
    let server = serve(&fx).await;
    let url = format!(
        "{}/?mode=set&hostname={host}&hash={}",
        server.url,
        seed_hash("127.0.0.1", &host, SECRET)
    );

    let (status, body) = get(&url).await;
    assert_eq!(status, 200);
    assert_eq!(
        body,
        seed_body(true, &format!("Your hostname record {host} has been set to 127.0.0.1"))
    );
    assert_eq!(fx.record(&host, "A").await, ["127.0.0.1"]);

    let (status, body) = get(&url).await;
    assert_eq!(
        (status, body),
        (
            200,
            seed_body(true, "Your IP address matches the current Route53 DNS record.")
        )
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn set_creates_a_missing_record_with_the_configured_ttl() {
    let fx = Fixture::new().await;
    let host = fx.host("new");
    let mut entry = fx.entry("A", SECRET, json!({}));
    entry["route_53_record_ttl"] = json!(300);
    fx.put_config(&json!({ &host: entry })).await;
    let server = serve(&fx).await;
    let hash = seed_hash("127.0.0.1", &host, SECRET);
    let (status, _) = get(&format!("{}/?mode=set&hostname={host}&hash={hash}", server.url)).await;
    assert_eq!(status, 200);
    let sets = fx.all_records().await;
    let set = sets
        .iter()
        .find(|(n, t, _)| n == &host && t == "A")
        .expect("A record created");
    assert_eq!(set.2, ["127.0.0.1"]);
    let ttl = fx
        .route53
        .list_resource_record_sets()
        .hosted_zone_id(&fx.zone_id)
        .start_record_name(&host)
        .send()
        .await
        .unwrap()
        .resource_record_sets()[0]
        .ttl();
    assert_eq!(ttl, Some(300));
}

#[tokio::test(flavor = "multi_thread")]
async fn lookup_ignores_case_and_trailing_dot_but_the_hash_covers_the_name_as_sent() {
    let (fx, host) = one_host("A").await;
    let server = serve(&fx).await;
    let sent = host.trim_end_matches('.').to_uppercase();
    let hash = seed_hash("127.0.0.1", &sent, SECRET).to_uppercase();
    let (status, body) = get(&format!("{}/?mode=set&hostname={sent}&hash={hash}", server.url)).await;
    assert_eq!(status, 200, "{body}");
    // The reply names the record as configured.
    assert_eq!(
        body,
        seed_body(true, &format!("Your hostname record {host} has been set to 127.0.0.1"))
    );

    // A hash over the configured spelling does not match the name as sent.
    let other = seed_hash("127.0.0.1", &host, SECRET);
    let (status, _) = get(&format!("{}/?mode=set&hostname={sent}&hash={other}", server.url)).await;
    assert_eq!(status, 403);
}

#[tokio::test(flavor = "multi_thread")]
async fn failures_answer_4xx_in_the_seed_shape_and_change_nothing() {
    let (fx, host) = one_host("A").await;
    fx.set_record(&host, "A", &["198.51.100.1"]).await;
    let server = serve(&fx).await;
    let good = seed_hash("127.0.0.1", &host, SECRET);
    let wrong = seed_hash("127.0.0.1", &host, "not the secret");
    let unknown = fx.host("nobody");
    let cases: Vec<(String, u16, String)> = vec![
        ("/".into(), 400, "You must pass mode=get or mode=set arguments.".into()),
        (
            "/?mode=delete".into(),
            400,
            "You must pass mode=get or mode=set arguments.".into(),
        ),
        (
            format!("/?mode=set&hash={good}"),
            400,
            "You must pass a hostname= argument.".into(),
        ),
        (
            format!("/?mode=set&hostname=&hash={good}"),
            400,
            "You must pass a hostname= argument.".into(),
        ),
        (
            format!("/?mode=set&hostname={host}"),
            400,
            "You must pass a valid sha256 hash in the hash= argument.".into(),
        ),
        (
            format!("/?mode=set&hostname={host}&hash={}", &good[..63]),
            400,
            "You must pass a valid sha256 hash in the hash= argument.".into(),
        ),
        (
            format!("/?mode=set&hostname={host}&hash={good}0"),
            400,
            "You must pass a valid sha256 hash in the hash= argument.".into(),
        ),
        // An unknown host is answered like a wrong proof, so that the
        // answers do not tell which names exist.
        (
            format!("/?mode=set&hostname={unknown}&hash={good}"),
            403,
            "Validation hashes do not match.".into(),
        ),
        (
            format!(
                "/?mode=set&hostname={unknown}&hash={}",
                seed_hash("127.0.0.1", &unknown, SECRET)
            ),
            403,
            "Validation hashes do not match.".into(),
        ),
        (
            format!("/?mode=set&hostname={host}&hash={wrong}"),
            403,
            "Validation hashes do not match.".into(),
        ),
    ];
    for (path, status, message) in cases {
        let (got_status, body) = get(&format!("{}{path}", server.url)).await;
        assert_eq!((got_status, body), (status, seed_body(false, &message)), "{path}");
    }
    assert_eq!(fx.record(&host, "A").await, ["198.51.100.1"]);
}

#[tokio::test(flavor = "multi_thread")]
async fn address_family_must_match_the_record_type() {
    let (fx, host) = one_host("AAAA").await;
    let server = serve(&fx).await;
    let hash = seed_hash("127.0.0.1", &host, SECRET);
    let (status, body) = get(&format!("{}/?mode=set&hostname={host}&hash={hash}", server.url)).await;
    assert_eq!(status, 400);
    assert!(body.contains("keeps AAAA records only"), "{body}");
    assert!(fx.record(&host, "A").await.is_empty());
    assert!(fx.record(&host, "AAAA").await.is_empty());
}

#[tokio::test(flavor = "multi_thread")]
async fn an_ipv6_caller_updates_the_aaaa_record() {
    let (fx, host) = one_host("dual").await;
    fx.set_record(&host, "A", &["198.51.100.1"]).await;
    let server = serve_with(&fx, "[::1]:0", Duration::ZERO, LocalOptions::default()).await;
    let (_, body) = get(&format!("{}/?mode=get", server.url)).await;
    assert_eq!(body, seed_body(true, "::1"));
    let hash = seed_hash("::1", &host, SECRET);
    let (status, body) = get(&format!("{}/?mode=set&hostname={host}&hash={hash}", server.url)).await;
    assert_eq!(
        (status, body),
        (
            200,
            seed_body(true, &format!("Your hostname record {host} has been set to ::1"))
        )
    );
    assert_eq!(fx.record(&host, "AAAA").await, ["::1"]);
    // The other family is left alone.
    assert_eq!(fx.record(&host, "A").await, ["198.51.100.1"]);
}

#[tokio::test(flavor = "multi_thread")]
async fn a_record_with_several_values_is_refused() {
    let (fx, host) = one_host("A").await;
    fx.set_record(&host, "A", &["198.51.100.1", "198.51.100.2"]).await;
    let server = serve(&fx).await;
    let hash = seed_hash("127.0.0.1", &host, SECRET);
    let (status, body) = get(&format!("{}/?mode=set&hostname={host}&hash={hash}", server.url)).await;
    assert_eq!(status, 409);
    assert_eq!(
        body,
        seed_body(
            false,
            "You should only have a single value for your dynamic record.  You currently have more than one."
        )
    );
    assert_eq!(fx.record(&host, "A").await.len(), 2);
}

#[tokio::test(flavor = "multi_thread")]
async fn private_addresses_need_the_hosts_consent() {
    let fx = Fixture::new().await;
    let host = fx.host("home");
    fx.put_config(&json!({ &host: fx.entry("A", SECRET, json!({"allow_private_addresses": false})) }))
        .await;
    let server = serve(&fx).await;
    let hash = seed_hash("127.0.0.1", &host, SECRET);
    let (status, body) = get(&format!("{}/?mode=set&hostname={host}&hash={hash}", server.url)).await;
    assert_eq!(status, 403);
    assert!(body.contains("not a public address"), "{body}");
    assert!(fx.record(&host, "A").await.is_empty());
}

#[tokio::test(flavor = "multi_thread")]
async fn a_missing_or_broken_config_is_a_server_fault_not_a_crash() {
    let fx = Fixture::new().await;
    let host = fx.host("home");
    let server = serve(&fx).await;
    let url = format!(
        "{}/?mode=set&hostname={host}&hash={}",
        server.url,
        seed_hash("127.0.0.1", &host, SECRET)
    );
    let broken = seed_body(false, "There was an issue finding or reading the S3 config file.");

    assert_eq!(get(&url).await, (500, broken.clone()), "missing object");
    fx.put_config_bytes("config.json", "{ not json").await;
    assert_eq!(get(&url).await, (500, broken.clone()), "not JSON");
    fx.put_config_bytes("config.json", r#"{"x.example.com.": {"aws_region": "us-east-1"}}"#)
        .await;
    assert_eq!(get(&url).await, (500, broken), "missing fields");
    // The service is still up, and mode=get never needed the config.
    assert_eq!(get(&format!("{}/?mode=get", server.url)).await.0, 200);
}

/// A config that is ambiguous (a duplicate key) or breaks a rule (zone id,
/// hostname key, secret length, a secret that is not a string) is refused as
/// a whole, exactly like broken JSON: the good config served just before is
/// not served in its place, and a valid host in the same file is refused too.
#[tokio::test(flavor = "multi_thread")]
async fn an_ambiguous_or_invalid_config_is_refused_as_a_whole() {
    let (fx, host) = one_host("A").await;
    let server = serve(&fx).await;
    let url = |secret: &str| {
        format!(
            "{}/?mode=set&hostname={host}&hash={}",
            server.url,
            seed_hash("127.0.0.1", &host, secret)
        )
    };
    let broken = seed_body(false, "There was an issue finding or reading the S3 config file.");
    let good = fx.entry("A", SECRET, json!({}));
    let text = |value: &serde_json::Value| serde_json::to_string(value).unwrap();
    let short = &SECRET[..15];
    let field = |name: &str, value: serde_json::Value| {
        let mut entry = good.clone();
        entry[name] = value;
        text(&json!({ &host: entry }))
    };
    let other = fx.host("other");
    let cases = [
        // Both entries would let SECRET in, so last-wins would serve it.
        (
            "duplicate host key",
            format!(r#"{{"{host}": {0}, "{host}": {0}}}"#, text(&good)),
            SECRET,
        ),
        // Last-wins would take the second secret, which the request uses.
        (
            "duplicate field",
            text(&good).replacen(
                r#""shared_secret":"#,
                r#""shared_secret":"an-old-secret-0000","shared_secret":"#,
                1,
            ),
            SECRET,
        ),
        ("zone id *", field("route_53_zone_id", json!("*")), SECRET),
        ("short secret", field("shared_secret", json!(short)), short),
        (
            "numeric secret",
            field("shared_secret", json!(1234567890123456789u64)),
            SECRET,
        ),
        (
            "a key that is not a hostname",
            text(&json!({ &host: good, format!("*.{other}"): good })),
            SECRET,
        ),
    ];
    for (what, config, secret) in cases {
        fx.put_config(&json!({ &host: good })).await;
        assert_eq!(get(&url(SECRET)).await.0, 200, "the good config before: {what}");
        fx.put_config_bytes("config.json", config).await;
        assert_eq!(get(&url(secret)).await, (500, broken.clone()), "{what}");
    }
    assert_eq!(fx.record(&host, "A").await, ["127.0.0.1"]);
}

#[tokio::test(flavor = "multi_thread")]
async fn a_rotated_secret_takes_effect_once_the_cache_expires() {
    let (fx, host) = one_host("A").await;
    let max_age = Duration::from_secs(2);
    let server = serve_with(&fx, "127.0.0.1:0", max_age, LocalOptions::default()).await;
    let url = |secret: &str| {
        format!(
            "{}/?mode=set&hostname={host}&hash={}",
            server.url,
            seed_hash("127.0.0.1", &host, secret)
        )
    };
    let cached_at = std::time::Instant::now();
    assert_eq!(get(&url(SECRET)).await.0, 200);
    fx.put_config(&json!({ &host: fx.entry("A", "rotated-secret-0002", json!({})) }))
        .await;
    // Until the cache expires, the config it holds is the one that counts:
    // the old secret still works and the new one does not yet.
    assert_eq!(get(&url(SECRET)).await.0, 200, "the cache was not used");
    assert_eq!(get(&url("rotated-secret-0002")).await.0, 403, "the cache was not used");
    assert!(
        cached_at.elapsed() < max_age,
        "too slow to see the cache; the checks above prove nothing"
    );
    tokio::time::sleep(max_age + Duration::from_millis(200)).await;
    assert_eq!(get(&url(SECRET)).await.0, 403, "old secret still accepted");
    assert_eq!(get(&url("rotated-secret-0002")).await.0, 200);
}

#[tokio::test(flavor = "multi_thread")]
async fn seed_config_with_unknown_fields_still_works() {
    let fx = Fixture::new().await;
    let host = fx.host("home");
    let mut entry = fx.entry("A", SECRET, json!({"comment": "from a newer ddns-ctl", "tags": [1, 2]}));
    entry["route_53_zone_id"] = json!(format!("/hostedzone/{}", fx.zone_id));
    fx.put_config(&json!({ &host: entry })).await;
    let server = serve(&fx).await;
    let hash = seed_hash("127.0.0.1", &host, SECRET);
    assert_eq!(
        get(&format!("{}/?mode=set&hostname={host}&hash={hash}", server.url))
            .await
            .0,
        200
    );
    assert_eq!(fx.record(&host, "A").await, ["127.0.0.1"]);
}

#[tokio::test(flavor = "multi_thread")]
async fn other_methods_get_405_in_the_seed_shape() {
    let (fx, _) = one_host("A").await;
    let server = serve(&fx).await;
    let response = reqwest::Client::new()
        .post(format!("{}/?mode=get", server.url))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status().as_u16(), 405);
    assert_eq!(
        response.text().await.unwrap(),
        seed_body(false, "Only GET requests are supported.")
    );
}
