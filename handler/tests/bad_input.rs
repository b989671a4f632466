//! A barrage of malformed and hostile requests: each gets a 4xx, none
//! crashes the server, and neither the config nor any record changes.

mod support;

use std::io::{Read as _, Write as _};
use std::time::Duration;

use ddns_handler::local::LocalOptions;
use ddns_testkit::Fixture;
use serde_json::json;
use support::{basic, seed_hash, serve, serve_with};

const SECRET: &str = "barrage-secret-01";

#[tokio::test(flavor = "multi_thread")]
async fn every_bad_request_gets_a_4xx_and_changes_nothing() {
    let fx = Fixture::new().await;
    let host = fx.host("home");
    let v6 = fx.host("six");
    fx.put_config(&json!({
        &host: fx.entry("A", SECRET, json!({})),
        &v6: fx.entry("AAAA", SECRET, json!({})),
    }))
    .await;
    fx.set_record(&host, "A", &["198.51.100.1"]).await;
    let etag = fx.config_etag().await;
    assert!(
        etag.is_some(),
        "no ETag to compare: the check below would pass on None == None"
    );
    let records = fx.all_records().await;
    let server = serve(&fx).await;

    let good = seed_hash("127.0.0.1", &host, SECRET);
    let big = "a".repeat(10 * 1024);
    let seed_requests = [
        // Missing parameters.
        "/".to_owned(),
        "/?mode=set".to_owned(),
        format!("/?mode=set&hostname={host}"),
        format!("/?mode=set&hash={good}"),
        // Duplicated parameters.
        format!("/?mode=set&mode=get&hostname={host}&hash={good}"),
        format!("/?mode=set&hostname={host}&hostname={host}&hash={good}"),
        format!("/?mode=set&hostname={host}&hash={good}&hash={good}"),
        // 10 KB values.
        format!("/?mode={big}"),
        format!("/?mode=set&hostname={big}.test&hash={good}"),
        format!("/?mode=set&hostname={host}&hash={big}"),
        // Bytes that are not UTF-8 once decoded.
        format!("/?mode=set&hostname=%FF%FE{host}&hash={good}"),
        "/?mode=%C3".to_owned(),
        // Invalid hostnames.
        format!("/?mode=set&hostname=a..b.test&hash={good}"),
        format!("/?mode=set&hostname=-x.test&hash={good}"),
        format!("/?mode=set&hostname=localhost&hash={good}"),
        format!("/?mode=set&hostname=ho%20st.test&hash={good}"),
        // Hashes of the wrong length or alphabet.
        format!("/?mode=set&hostname={host}&hash={}", &good[..63]),
        format!("/?mode=set&hostname={host}&hash={good}ab"),
        format!("/?mode=set&hostname={host}&hash={}", "z".repeat(64)),
        // Unknown hosts, and the wrong secret.
        format!("/?mode=set&hostname={}&hash={good}", fx.host("nobody")),
        format!(
            "/?mode=set&hostname={host}&hash={}",
            seed_hash("127.0.0.1", &host, "guess")
        ),
        // An IPv4 caller for an AAAA-only host.
        format!("/?mode=set&hostname={v6}&hash={}", seed_hash("127.0.0.1", &v6, SECRET)),
    ];
    let client = reqwest::Client::new();
    for path in &seed_requests {
        let response = client
            .get(format!("{}{path}", server.url))
            .send()
            .await
            .expect("request");
        let status = response.status().as_u16();
        let body = response.text().await.unwrap();
        assert!(
            (400..500).contains(&status),
            "{status} for {}",
            &path[..path.len().min(120)]
        );
        assert!(
            body.starts_with(r#"{"return_status":"fail","return_message":"#),
            "{body}"
        );
        assert!(body.len() < 400, "the reply echoes too much: {} bytes", body.len());
    }

    let dyndns_requests: Vec<(String, Option<String>)> = vec![
        (format!("hostname={host}"), None),
        (format!("hostname={host}"), Some("Basic !!!".into())),
        (format!("hostname={host}"), Some("Bearer abc".into())),
        (format!("hostname={host}"), Some(basic(&host, "wrong"))),
        (format!("hostname={host}"), Some(basic(&big, SECRET))),
        (String::new(), Some(basic(&host, SECRET))),
        (format!("hostname={host}&hostname={host}"), Some(basic(&host, SECRET))),
        (format!("hostname={big}"), Some(basic(&host, SECRET))),
        (format!("hostname={host}&myip={big}"), Some(basic(&host, SECRET))),
        (format!("hostname={host}&myip=%FF"), Some(basic(&host, SECRET))),
        (
            format!("hostname={host}&myip=1.2.3.4,5.6.7.8"),
            Some(basic(&host, SECRET)),
        ),
    ];
    for (query, auth) in &dyndns_requests {
        let mut request = client.get(format!("{}/nic/update?{query}", server.url));
        if let Some(auth) = auth {
            request = request.header("authorization", auth);
        }
        let response = request.send().await.expect("request");
        let status = response.status().as_u16();
        assert!(
            (400..500).contains(&status),
            "{status} for {}",
            &query[..query.len().min(120)]
        );
    }

    // Raw bytes that are not even a valid request line.
    let addr = server.url.trim_start_matches("http://").to_owned();
    let status_line = tokio::task::spawn_blocking(move || {
        let mut stream = std::net::TcpStream::connect(addr).unwrap();
        stream.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
        stream
            .write_all(b"GET /?mode=set&hostname=\xff\xfe HTTP/1.1\r\nHost: x\r\n\r\n")
            .unwrap();
        let mut reply = vec![0; 12];
        stream.read_exact(&mut reply).unwrap();
        String::from_utf8_lossy(&reply).into_owned()
    })
    .await
    .unwrap();
    assert!(status_line.starts_with("HTTP/1.1 4"), "{status_line}");

    // After all that, the server still works and nothing was written.
    assert_eq!(support::get(&format!("{}/?mode=get", server.url)).await.0, 200);
    assert_eq!(fx.config_etag().await, etag);
    assert_eq!(fx.all_records().await, records);
}

#[tokio::test(flavor = "multi_thread")]
async fn an_ipv6_caller_cannot_set_an_ipv4_only_host() {
    let fx = Fixture::new().await;
    let host = fx.host("home");
    fx.put_config(&json!({ &host: fx.entry("A", SECRET, json!({})) })).await;
    let records = fx.all_records().await;
    let server = serve_with(&fx, "[::1]:0", Duration::ZERO, LocalOptions::default()).await;
    let hash = seed_hash("::1", &host, SECRET);
    let (status, body) = support::get(&format!("{}/?mode=set&hostname={host}&hash={hash}", server.url)).await;
    assert_eq!(status, 400, "{body}");
    let response = reqwest::Client::new()
        .get(format!("{}/nic/update?hostname={host}", server.url))
        .basic_auth(&host, Some(SECRET))
        .send()
        .await
        .unwrap();
    assert_eq!(response.text().await.unwrap(), "badip\n");
    assert_eq!(fx.all_records().await, records);
}

/// Behind a trusted proxy, an `X-Forwarded-For` that does not end in a bare
/// address is refused: falling back to the TCP peer would publish the
/// proxy's own address.
#[tokio::test(flavor = "multi_thread")]
async fn a_trusted_forwarded_for_that_is_not_an_address_is_refused() {
    let fx = Fixture::new().await;
    let host = fx.host("home");
    fx.put_config(&json!({ &host: fx.entry("A", SECRET, json!({})) })).await;
    let records = fx.all_records().await;
    let options = LocalOptions {
        trust_forwarded_for: true,
        stage: Some("prod".into()),
        ..LocalOptions::default()
    };
    let server = serve_with(&fx, "127.0.0.1:0", Duration::ZERO, options).await;
    let client = reqwest::Client::new();
    let send = |path: String, forwarded: &'static str| {
        let request = client
            .get(format!("{}{path}", server.url))
            .header("x-forwarded-for", forwarded)
            .basic_auth(&host, Some(SECRET));
        async move {
            let response = request.send().await.expect("request");
            let status = response.status().as_u16();
            (status, response.text().await.expect("body"))
        }
    };
    // Hashed for the proxy's (the TCP peer's) address, so that a fallback
    // to the peer would verify and publish it.
    let set = format!(
        "/?mode=set&hostname={host}&hash={}",
        seed_hash("127.0.0.1", &host, SECRET)
    );
    let seed_refusal = r#"{"return_status":"fail","return_message":"Bad request: the X-Forwarded-For header does not end in an IP address."}"#;
    for forwarded in ["8.8.8.8:443", "[2001:db8::1]", "1.2.3.4,", "garbage", "198.51.100.7, "] {
        for path in ["/?mode=get".to_owned(), "/prod?mode=get".to_owned(), set.clone()] {
            let (status, body) = send(path.clone(), forwarded).await;
            assert_eq!((status, body.as_str()), (400, seed_refusal), "{forwarded} {path}");
        }
        let (status, body) = send(format!("/nic/update?hostname={host}"), forwarded).await;
        assert_eq!((status, body.as_str()), (400, "badagent\n"), "{forwarded}");
        let (status, body) = send(format!("/prod/nic/update?hostname={host}"), forwarded).await;
        assert_eq!((status, body.as_str()), (400, "badagent\n"), "{forwarded}");
        let (status, body) = send("/myip".to_owned(), forwarded).await;
        assert_eq!(status, 400, "{forwarded}");
        assert!(!body.contains("127.0.0.1"), "{body}");
    }
    assert_eq!(fx.all_records().await, records, "the proxy's address was published");

    // A well-formed header is trusted, right-most entry first.
    let (status, body) = send("/?mode=get".to_owned(), "198.51.100.7, 203.0.113.8").await;
    assert_eq!(
        (status, body.as_str()),
        (200, support::seed_body(true, "203.0.113.8").as_str())
    );
    // Without the header the request did not pass the proxy: the peer is the
    // caller, as `ddns-ctl setup`'s direct live check relies on.
    let (status, body) = support::get(&format!("{}/?mode=get", server.url)).await;
    assert_eq!(
        (status, body.as_str()),
        (200, support::seed_body(true, "127.0.0.1").as_str())
    );
}
