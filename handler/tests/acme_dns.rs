//! acme-dns's API (`/acme-dns/update`, `/health`, `/register`) over real
//! HTTP against moto: two rolling TXT values, the exact refusals acme-dns
//! clients expect, and nothing in the zone changed by any refusal.

mod support;

use std::time::Duration;

use ddns_handler::local::LocalOptions;
use ddns_testkit::Fixture;
use serde_json::{Value, json};
use sha2::{Digest as _, Sha256};
use support::{Server, serve_with};

const SECRET: &str = "router-secret-0001";
const KEY: &str = "Y2xvc2VkLWJ1dC1yYW5kb20ta2V5LTQwLWNoYXJz";

struct Account {
    user: &'static str,
    subdomain: &'static str,
}

const HOME: Account = Account {
    user: "c36f50e8-4632-44f0-83fe-e070fef28a10",
    subdomain: "8e5700ea-a4bf-41c7-8a77-e990661dcc6a",
};
const NAS: Account = Account {
    user: "0b1d3c55-8d1c-4cbb-b0a5-7a0b7a5a3d17",
    subdomain: "f2d0e1c4-6a7b-4b8e-9c1d-2e3f4a5b6c7d",
};

fn acme(account: &Account, allow_from: &[&str]) -> Value {
    json!({ "acme": {
        "username": account.user,
        "key_sha256": hex::encode(Sha256::digest(KEY.as_bytes())),
        "subdomain": account.subdomain,
        "allow_from": allow_from,
    }})
}

/// A fixture with `home` (allowed from anywhere) and `nas` (allowed from
/// 192.0.2.0/24 only), both with acme-dns accounts, and a server that takes
/// the caller from X-Forwarded-For and answers below /prod too.
async fn setup() -> (Fixture, Server) {
    let fx = Fixture::new().await;
    let config = json!({
        fx.host("home"): fx.entry("A", SECRET, acme(&HOME, &[])),
        fx.host("nas"): fx.entry("A", SECRET, acme(&NAS, &["192.0.2.0/24", "2001:db8::/32"])),
    });
    fx.put_config(&config).await;
    let options = LocalOptions {
        trust_forwarded_for: true,
        stage: Some("prod".into()),
        ..LocalOptions::default()
    };
    let server = serve_with(&fx, "127.0.0.1:0", Duration::ZERO, options).await;
    (fx, server)
}

struct Answer {
    status: u16,
    content_type: String,
    body: String,
}

impl Answer {
    fn json(&self) -> Value {
        serde_json::from_str(&self.body).unwrap_or_else(|e| panic!("not JSON ({e}): {}", self.body))
    }
}

async fn post(url: &str, account: &Account, key: &str, from: &str, body: impl Into<reqwest::Body>) -> Answer {
    let response = reqwest::Client::new()
        .post(format!("{url}/prod/acme-dns/update"))
        .header("X-Api-User", account.user)
        .header("X-Api-Key", key)
        .header("X-Forwarded-For", from)
        .body(body)
        .send()
        .await
        .expect("request");
    let status = response.status().as_u16();
    let content_type = response
        .headers()
        .get("content-type")
        .map(|v| v.to_str().unwrap().to_owned())
        .unwrap_or_default();
    Answer {
        status,
        content_type,
        body: response.text().await.unwrap(),
    }
}

async fn update(url: &str, account: &Account, txt: &str) -> Answer {
    let body = json!({ "subdomain": account.subdomain, "txt": txt }).to_string();
    post(url, account, KEY, "203.0.113.9", body).await
}

fn txt(n: u8) -> String {
    // 43 base64url characters, as an ACME server's key authorisation digest.
    let mut value = format!("{n:02}");
    value.push_str(&"Ab-_9".repeat(9));
    value.truncate(43);
    value
}

#[tokio::test(flavor = "multi_thread")]
async fn updates_keep_the_two_newest_values_in_the_challenge_record() {
    let (fx, server) = setup().await;
    let record = format!("_acme-challenge.{}", fx.host("home"));
    for n in 1..=3 {
        let answer = update(&server.url, &HOME, &txt(n)).await;
        assert_eq!(answer.status, 200, "{}", answer.body);
        assert_eq!(answer.content_type, "application/json");
        assert_eq!(answer.json(), json!({ "txt": txt(n) }));
    }
    // The apex's value and then the wildcard's: the older one goes.
    let quoted = |n| format!("\"{}\"", txt(n));
    assert_eq!(fx.record(&record, "TXT").await, [quoted(2), quoted(3)]);
    // The same value again changes nothing.
    let before = fx.all_records().await;
    assert_eq!(update(&server.url, &HOME, &txt(3)).await.status, 200);
    assert_eq!(fx.all_records().await, before);
    // Without the stage, as `serve` also answers.
    let health = reqwest::get(format!("{}/acme-dns/health", server.url)).await.unwrap();
    assert_eq!(health.status().as_u16(), 200);
    let health = reqwest::get(format!("{}/prod/acme-dns/health", server.url))
        .await
        .unwrap();
    assert_eq!(health.status().as_u16(), 200);
}

#[tokio::test(flavor = "multi_thread")]
async fn every_refusal_is_acme_dns_s_answer_and_changes_nothing() {
    let (fx, server) = setup().await;
    // A value in place, so that a refusal could be seen to change it.
    assert_eq!(update(&server.url, &HOME, &txt(1)).await.status, 200);
    let before = fx.all_records().await;
    let body = |subdomain: &str, txt: &str| json!({ "subdomain": subdomain, "txt": txt }).to_string();
    let good = body(HOME.subdomain, &txt(2));
    let cases: Vec<(&str, Answer, u16, &str)> = vec![
        (
            "42 characters",
            post(
                &server.url,
                &HOME,
                KEY,
                "203.0.113.9",
                body(HOME.subdomain, &"a".repeat(42)),
            )
            .await,
            400,
            "bad_txt",
        ),
        (
            "44 characters",
            post(
                &server.url,
                &HOME,
                KEY,
                "203.0.113.9",
                body(HOME.subdomain, &"a".repeat(44)),
            )
            .await,
            400,
            "bad_txt",
        ),
        (
            "not base64url",
            post(
                &server.url,
                &HOME,
                KEY,
                "203.0.113.9",
                body(HOME.subdomain, &format!("{}+", "a".repeat(42))),
            )
            .await,
            400,
            "bad_txt",
        ),
        (
            "a wrong key",
            post(&server.url, &HOME, "wrong-key", "203.0.113.9", good.clone()).await,
            401,
            "forbidden",
        ),
        (
            "a wrong user",
            post(
                &server.url,
                &Account {
                    user: "11111111-2222-3333-4444-555555555555",
                    subdomain: HOME.subdomain,
                },
                KEY,
                "203.0.113.9",
                good.clone(),
            )
            .await,
            401,
            "forbidden",
        ),
        (
            "another host's subdomain",
            post(&server.url, &HOME, KEY, "203.0.113.9", body(NAS.subdomain, &txt(2))).await,
            401,
            "forbidden",
        ),
        (
            "outside allowfrom",
            post(&server.url, &NAS, KEY, "198.51.100.1", body(NAS.subdomain, &txt(2))).await,
            401,
            "forbidden",
        ),
        (
            "a malformed subdomain",
            post(&server.url, &HOME, KEY, "203.0.113.9", body("../x", &txt(2))).await,
            400,
            "bad_subdomain",
        ),
        (
            "not JSON",
            post(&server.url, &HOME, KEY, "203.0.113.9", "subdomain=x").await,
            400,
            "malformed_json_payload",
        ),
        (
            "a huge body",
            post(
                &server.url,
                &HOME,
                KEY,
                "203.0.113.9",
                format!(
                    "{{\"subdomain\":\"{}\",\"txt\":\"{}\"}}",
                    HOME.subdomain,
                    "a".repeat(1 << 20)
                ),
            )
            .await,
            413,
            "malformed_json_payload",
        ),
    ];
    for (what, answer, status, error) in cases {
        assert_eq!(answer.status, status, "{what}: {}", answer.body);
        assert_eq!(answer.json()["error"], error, "{what}");
        assert_eq!(answer.content_type, "application/json", "{what}");
        assert!(!answer.body.contains(KEY), "{what}");
    }
    let register = reqwest::Client::new()
        .post(format!("{}/prod/acme-dns/register", server.url))
        .send()
        .await
        .unwrap();
    assert_eq!(register.status().as_u16(), 403);
    let register: Value = serde_json::from_str(&register.text().await.unwrap()).unwrap();
    assert_eq!(register["error"], "registration_disabled");
    assert!(
        register["message"]
            .as_str()
            .unwrap()
            .contains("ddns-ctl host set HOST --acme")
    );
    let get = reqwest::get(format!("{}/prod/acme-dns/update", server.url))
        .await
        .unwrap();
    assert_eq!(get.status().as_u16(), 405);
    assert_eq!(fx.all_records().await, before, "a refusal changed the zone");

    // Inside allowfrom, the same request goes through (v4 and v6).
    let inside = post(&server.url, &NAS, KEY, "192.0.2.77", body(NAS.subdomain, &txt(2))).await;
    assert_eq!(inside.status, 200, "{}", inside.body);
    let inside = post(&server.url, &NAS, KEY, "2001:db8::7", body(NAS.subdomain, &txt(3))).await;
    assert_eq!(inside.status, 200, "{}", inside.body);
}
