//! dyndns2 (`/nic/update`) over real HTTP against moto, as ddclient, inadyn
//! and routers speak it.

mod support;

use ddns_testkit::Fixture;
use serde_json::json;
use support::serve;

const SECRET: &str = "router-secret-0001";

struct Reply {
    status: u16,
    challenge: Option<String>,
    body: String,
}

async fn update(url: &str, query: &str, auth: Option<(&str, &str)>) -> Reply {
    let mut request = reqwest::Client::new().get(format!("{url}/nic/update?{query}"));
    if let Some((user, password)) = auth {
        request = request.basic_auth(user, Some(password));
    }
    let response = request.send().await.expect("request");
    let status = response.status().as_u16();
    let challenge = response
        .headers()
        .get("www-authenticate")
        .map(|v| v.to_str().unwrap().to_owned());
    let content_type = response.headers()["content-type"].to_str().unwrap().to_owned();
    assert!(content_type.starts_with("text/plain"), "{content_type}");
    Reply {
        status,
        challenge,
        body: response.text().await.expect("body"),
    }
}

async fn fixture_with(hosts: &[(&str, &str, serde_json::Value)]) -> (Fixture, Vec<String>) {
    let fx = Fixture::new().await;
    let mut config = serde_json::Map::new();
    let mut names = Vec::new();
    for (label, kind, extra) in hosts {
        let name = fx.host(label);
        config.insert(name.clone(), fx.entry(kind, SECRET, extra.clone()));
        names.push(name);
    }
    fx.put_config(&serde_json::Value::Object(config)).await;
    (fx, names)
}

#[tokio::test(flavor = "multi_thread")]
async fn missing_or_wrong_credentials_get_a_basic_challenge() {
    let (fx, names) = fixture_with(&[("home", "A", json!({}))]).await;
    let server = serve(&fx).await;
    let query = format!("hostname={}", names[0]);
    for auth in [
        None,
        Some((names[0].as_str(), "wrong")),
        Some(("someone.else.test", SECRET)),
    ] {
        let reply = update(&server.url, &query, auth).await;
        assert_eq!(reply.status, 401, "{auth:?}");
        assert_eq!(reply.challenge.as_deref(), Some("Basic realm=\"ddns\""));
        assert_eq!(reply.body, "badauth\n");
    }
    assert!(fx.record(&names[0], "A").await.is_empty());
}

#[tokio::test(flavor = "multi_thread")]
async fn good_then_nochg_with_the_callers_address() {
    let (fx, names) = fixture_with(&[("home", "A", json!({}))]).await;
    let server = serve(&fx).await;
    let host = &names[0];
    // ddclient 3.10 sends system=dyndns; others add wildcard, mx, backmx, offline.
    let query = format!("system=dyndns&hostname={host}&wildcard=NOCHG&mx=NOCHG&backmx=NOCHG&offline=NO");
    let reply = update(&server.url, &query, Some((host, SECRET))).await;
    assert_eq!((reply.status, reply.body.as_str()), (200, "good 127.0.0.1\n"));
    assert_eq!(fx.record(host, "A").await, ["127.0.0.1"]);
    let reply = update(&server.url, &query, Some((host, SECRET))).await;
    assert_eq!((reply.status, reply.body.as_str()), (200, "nochg 127.0.0.1\n"));
}

#[tokio::test(flavor = "multi_thread")]
async fn names_and_usernames_match_in_any_case_with_or_without_the_dot() {
    let (fx, names) = fixture_with(&[("home", "A", json!({})), ("lab", "A", json!({"username": "Alice"}))]).await;
    let server = serve(&fx).await;
    let shout = names[0].trim_end_matches('.').to_uppercase();
    let reply = update(
        &server.url,
        &format!("hostname={shout}&myip=203.0.113.5"),
        Some((&shout, SECRET)),
    )
    .await;
    assert_eq!(reply.body, "good 203.0.113.5\n");
    let reply = update(
        &server.url,
        &format!("hostname={}&myip=203.0.113.6", names[1]),
        Some(("alice", SECRET)),
    )
    .await;
    assert_eq!(reply.body, "good 203.0.113.6\n");
    assert_eq!(fx.record(&names[1], "A").await, ["203.0.113.6"]);
}

#[tokio::test(flavor = "multi_thread")]
async fn each_family_updates_its_own_record_and_leaves_the_other() {
    let (fx, names) = fixture_with(&[("dual", "dual", json!({}))]).await;
    let server = serve(&fx).await;
    let host = &names[0];
    let auth = Some((host.as_str(), SECRET));

    let reply = update(
        &server.url,
        &format!("hostname={host}&myip=203.0.113.7&myipv6=2001:db8::7"),
        auth,
    )
    .await;
    assert_eq!(reply.body, "good 203.0.113.7 2001:db8::7\n");
    assert_eq!(fx.record(host, "A").await, ["203.0.113.7"]);
    assert_eq!(fx.record(host, "AAAA").await, ["2001:db8::7"]);

    let reply = update(&server.url, &format!("hostname={host}&myipv6=2001:db8::8"), auth).await;
    assert_eq!(reply.body, "good 2001:db8::8\n");
    assert_eq!(fx.record(host, "A").await, ["203.0.113.7"], "the A record must survive");
    assert_eq!(fx.record(host, "AAAA").await, ["2001:db8::8"]);

    let reply = update(&server.url, &format!("hostname={host}&myip=203.0.113.9"), auth).await;
    assert_eq!(reply.body, "good 203.0.113.9\n");
    assert_eq!(
        fx.record(host, "AAAA").await,
        ["2001:db8::8"],
        "the AAAA record must survive"
    );

    let reply = update(
        &server.url,
        &format!("hostname={host}&myip=203.0.113.9&myipv6=2001:db8::8"),
        auth,
    )
    .await;
    assert_eq!(reply.body, "nochg 203.0.113.9 2001:db8::8\n");
}

#[tokio::test(flavor = "multi_thread")]
async fn one_line_per_host_in_request_order() {
    let (fx, names) = fixture_with(&[
        ("a", "A", json!({"username": "family"})),
        ("b", "A", json!({"username": "family"})),
        ("v6only", "AAAA", json!({"username": "family"})),
        ("other", "A", json!({})),
    ])
    .await;
    let server = serve(&fx).await;
    let unknown = fx.host("unknown");
    let list = [
        names[0].as_str(),
        "not_a_fqdn",
        names[1].as_str(),
        &unknown,
        &names[3],
        &names[2],
    ]
    .join(",");
    let reply = update(
        &server.url,
        &format!("hostname={list}&myip=203.0.113.10"),
        Some(("family", SECRET)),
    )
    .await;
    assert_eq!(reply.status, 200);
    // "other" has the same secret but another username: these credentials
    // may not update it, and it is reported like an unknown host.
    assert_eq!(
        reply.body,
        "good 203.0.113.10\nnotfqdn\ngood 203.0.113.10\nnohost\nnohost\nbadip\n"
    );
    assert!(fx.record(&names[3], "A").await.is_empty());
}

#[tokio::test(flavor = "multi_thread")]
async fn request_level_failures_answer_once_with_a_4xx() {
    let (fx, names) = fixture_with(&[("home", "A", json!({}))]).await;
    let server = serve(&fx).await;
    let host = &names[0];
    let auth = Some((host.as_str(), SECRET));
    let many = vec![host.as_str(); 21].join(",");
    for (query, status, body) in [
        (String::new(), 400, "notfqdn\n"),
        ("hostname=".to_owned(), 400, "notfqdn\n"),
        (format!("hostname={many}"), 400, "numhost\n"),
        (format!("hostname={host}&myip=not-an-ip"), 400, "badip\n"),
        (format!("hostname={host}&myip=203.0.113.1,203.0.113.2"), 400, "badip\n"),
        // Each parameter names its own record's family.
        (format!("hostname={host}&myip=2001:db8::5"), 400, "badip\n"),
        (format!("hostname={host}&myip=203.0.113.1,2001:db8::5"), 400, "badip\n"),
        // myipv6 names the AAAA record; an IPv4 address there is refused
        // rather than written to the A record.
        (format!("hostname={host}&myipv6=203.0.113.3"), 400, "badip\n"),
        (format!("hostname={host}&myipv6=::ffff:203.0.113.3"), 400, "badip\n"),
        (format!("hostname={host}&hostname={host}"), 400, "badagent\n"),
        (format!("hostname={host}%FF"), 400, "badagent\n"),
    ] {
        let reply = update(&server.url, &query, auth).await;
        assert_eq!((reply.status, reply.body.as_str()), (status, body), "{query}");
    }
    assert!(fx.record(host, "A").await.is_empty());
}

/// Logins are found through the config's index, by hostname and by the
/// `username` field, however many hosts there are.
#[tokio::test(flavor = "multi_thread")]
async fn logins_are_found_in_a_large_config() {
    let fx = Fixture::new().await;
    let n = 3_000;
    let secret = |i: usize| format!("secret-of-host-{i:06}");
    let mut config = serde_json::Map::new();
    for i in 0..n {
        let extra = if i == n - 2 {
            json!({"username": "Router-42"})
        } else {
            json!({})
        };
        config.insert(fx.host(&format!("h{i}")), fx.entry("A", &secret(i), extra));
    }
    fx.put_config(&serde_json::Value::Object(config)).await;
    let server = serve(&fx).await;
    let last = fx.host(&format!("h{}", n - 1));
    let by_username = fx.host(&format!("h{}", n - 2));
    let first = fx.host("h0");

    let reply = update(
        &server.url,
        &format!("hostname={last}&myip=203.0.113.30"),
        Some((&last.to_uppercase(), &secret(n - 1))),
    )
    .await;
    assert_eq!((reply.status, reply.body.as_str()), (200, "good 203.0.113.30\n"));
    let reply = update(
        &server.url,
        &format!("hostname={by_username}&myip=203.0.113.31"),
        Some(("router-42", &secret(n - 2))),
    )
    .await;
    assert_eq!((reply.status, reply.body.as_str()), (200, "good 203.0.113.31\n"));
    assert_eq!(fx.record(&by_username, "A").await, ["203.0.113.31"]);

    // Wrong passwords, unknown names, and another host's password.
    for (user, password) in [
        (last.as_str(), secret(0)),
        ("router-42", secret(n - 1)),
        ("nobody.example.com", secret(0)),
        (first.as_str(), secret(n - 1)),
    ] {
        let reply = update(&server.url, &format!("hostname={last}"), Some((user, &password))).await;
        assert_eq!((reply.status, reply.body.as_str()), (401, "badauth\n"), "{user}");
    }
    // A login updates only its own hosts.
    let reply = update(
        &server.url,
        &format!("hostname={last},{first}&myip=203.0.113.32"),
        Some(("router-42", &secret(n - 2))),
    )
    .await;
    assert_eq!((reply.status, reply.body.as_str()), (404, "nohost\nnohost\n"));
    assert_eq!(fx.record(&last, "A").await, ["203.0.113.30"]);
    assert!(fx.record(&first, "A").await.is_empty());
}

#[tokio::test(flavor = "multi_thread")]
async fn twenty_hosts_are_allowed() {
    let (fx, names) = fixture_with(&[("home", "A", json!({}))]).await;
    let server = serve(&fx).await;
    let twenty = vec![names[0].as_str(); 20].join(",");
    let reply = update(
        &server.url,
        &format!("hostname={twenty}&myip=203.0.113.20"),
        Some((&names[0], SECRET)),
    )
    .await;
    assert_eq!(reply.status, 200);
    // One answer per hostname: the first sets the record; the other
    // nineteen say what a second update would, that it is already set
    // (without asking Route53 again: see `a_repeated_host_is_updated_once`).
    let mut expected = vec!["good 203.0.113.20"];
    expected.extend(["nochg 203.0.113.20"; 19]);
    assert_eq!(reply.body.lines().collect::<Vec<_>>(), expected);
    assert_eq!(fx.record(&names[0], "A").await, ["203.0.113.20"]);
}

/// A host named many times, in any spelling, costs one Route53 read and one
/// write; each mention still gets its line.
#[tokio::test(flavor = "multi_thread")]
async fn a_repeated_host_is_updated_once() {
    // A moto of this test's own, so that its recorder sees only these calls.
    let moto: &'static ddns_testkit::Moto = Box::leak(Box::new(ddns_testkit::Moto::dedicated()));
    let fx = Fixture::on(moto).await;
    let host = fx.host("home");
    fx.put_config(&json!({ &host: fx.entry("A", SECRET, json!({})) })).await;
    let server = serve(&fx).await;

    let shout = host.trim_end_matches('.').to_uppercase();
    let unknown = fx.host("unknown");
    let mut names = vec![
        host.as_str(),
        shout.as_str(),
        unknown.as_str(),
        "not_a_fqdn",
        unknown.as_str(),
    ];
    names.extend([host.as_str(); 15]);
    assert_eq!(names.len(), 20);
    moto.start_recording();
    let reply = update(
        &server.url,
        &format!("hostname={}&myip=203.0.113.21", names.join(",")),
        Some((&host, SECRET)),
    )
    .await;
    let calls = moto.recorded();

    assert_eq!(reply.status, 200);
    let mut expected = vec!["good 203.0.113.21", "nochg 203.0.113.21", "nohost", "notfqdn", "nohost"];
    expected.extend(["nochg 203.0.113.21"; 15]);
    assert_eq!(reply.body.lines().collect::<Vec<_>>(), expected);
    let route53_calls = |method: &str| {
        calls
            .iter()
            .filter(|c| c.method == method && c.url.contains("/rrset"))
            .count()
    };
    assert_eq!(route53_calls("GET"), 1, "ListResourceRecordSets: {calls:#?}");
    assert_eq!(route53_calls("POST"), 1, "ChangeResourceRecordSets: {calls:#?}");
    assert_eq!(fx.record(&host, "A").await, ["203.0.113.21"]);
}

#[tokio::test(flavor = "multi_thread")]
async fn private_addresses_and_round_robins_are_refused_per_host() {
    let (fx, names) = fixture_with(&[
        (
            "strict",
            "A",
            json!({"allow_private_addresses": false, "username": "u"}),
        ),
        ("rr", "A", json!({"username": "u"})),
    ])
    .await;
    fx.set_record(&names[1], "A", &["203.0.113.1", "203.0.113.2"]).await;
    let server = serve(&fx).await;
    let reply = update(
        &server.url,
        &format!("hostname={},{}&myip=192.168.1.20", names[0], names[1]),
        Some(("u", SECRET)),
    )
    .await;
    // No host was updated, so the status is the first failure's.
    assert_eq!((reply.status, reply.body.as_str()), (400, "badip\nnumhost\n"));
    assert!(fx.record(&names[0], "A").await.is_empty());
    assert_eq!(fx.record(&names[1], "A").await.len(), 2);
}

#[tokio::test(flavor = "multi_thread")]
async fn special_purpose_and_embedded_private_addresses_are_refused() {
    let (fx, names) = fixture_with(&[("strict", "dual", json!({"allow_private_addresses": false}))]).await;
    let server = serve(&fx).await;
    let host = &names[0];
    for param in [
        "myip=0.1.2.3",
        "myip=240.0.0.1",
        "myip=198.18.0.1",
        "myip=192.0.0.1",
        "myipv6=::10.0.0.1",
        "myipv6=::127.0.0.1",
        "myipv6=64:ff9b::a00:1",
        "myipv6=2002:a00:1::1",
        "myipv6=fec0::1",
        "myipv6=100::1",
    ] {
        let reply = update(&server.url, &format!("hostname={host}&{param}"), Some((host, SECRET))).await;
        assert_eq!((reply.status, reply.body.as_str()), (400, "badip\n"), "{param}");
    }
    assert!(fx.record(host, "A").await.is_empty());
    assert!(fx.record(host, "AAAA").await.is_empty());
    // The documentation ranges stay publishable: every example uses them.
    let reply = update(
        &server.url,
        &format!("hostname={host}&myip=192.0.2.1&myipv6=2001:db8::1"),
        Some((host, SECRET)),
    )
    .await;
    assert_eq!(reply.body, "good 192.0.2.1 2001:db8::1\n");
}

#[tokio::test(flavor = "multi_thread")]
async fn a_single_failing_host_is_never_a_200() {
    let (fx, names) = fixture_with(&[("home", "A", json!({}))]).await;
    let server = serve(&fx).await;
    let auth = Some((names[0].as_str(), SECRET));
    for (list, status, body) in [
        ("bad_name".to_owned(), 400, "notfqdn\n"),
        (fx.host("unknown"), 404, "nohost\n"),
    ] {
        let reply = update(&server.url, &format!("hostname={list}"), auth).await;
        assert_eq!((reply.status, reply.body.as_str()), (status, body), "{list}");
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn a_broken_config_is_911() {
    let fx = Fixture::new().await;
    fx.put_config_bytes("config.json", "[]").await;
    let server = serve(&fx).await;
    let host = fx.host("home");
    let reply = update(&server.url, &format!("hostname={host}"), Some((&host, SECRET))).await;
    assert_eq!((reply.status, reply.body.as_str()), (500, "911\n"));
    // A host named twice is as broken, even when both entries agree.
    let entry = serde_json::to_string(&fx.entry("A", SECRET, json!({}))).unwrap();
    fx.put_config_bytes("config.json", format!(r#"{{"{host}": {entry}, "{host}": {entry}}}"#))
        .await;
    let reply = update(&server.url, &format!("hostname={host}"), Some((&host, SECRET))).await;
    assert_eq!((reply.status, reply.body.as_str()), (500, "911\n"));
    assert!(fx.record(&host, "A").await.is_empty());
}

#[tokio::test(flavor = "multi_thread")]
async fn myip_answers_in_plain_text() {
    let (fx, _) = fixture_with(&[("home", "A", json!({}))]).await;
    let server = serve(&fx).await;
    let response = reqwest::get(format!("{}/myip", server.url)).await.unwrap();
    assert_eq!(response.status().as_u16(), 200);
    assert!(
        response.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with("text/plain")
    );
    assert_eq!(response.text().await.unwrap(), "127.0.0.1\n");
}

#[tokio::test(flavor = "multi_thread")]
async fn the_local_server_answers_below_the_stage_like_the_deployed_api() {
    let (fx, names) = fixture_with(&[("home", "A", json!({}))]).await;
    let options = ddns_handler::local::LocalOptions {
        stage: Some("prod".into()),
        ..Default::default()
    };
    let server = support::serve_with(&fx, "127.0.0.1:0", std::time::Duration::ZERO, options).await;
    let reply = update(
        &format!("{}/prod", server.url),
        &format!("hostname={}", names[0]),
        Some((&names[0], SECRET)),
    )
    .await;
    assert_eq!(reply.body, "good 127.0.0.1\n");
    assert_eq!(
        reqwest::get(format!("{}/prod/myip", server.url))
            .await
            .unwrap()
            .text()
            .await
            .unwrap(),
        "127.0.0.1\n"
    );
    // Paths without the stage keep working.
    let reply = update(
        &server.url,
        &format!("hostname={}", names[0]),
        Some((&names[0], SECRET)),
    )
    .await;
    assert_eq!(reply.body, "nochg 127.0.0.1\n");
}
