//! acme-dns accounts made by the owner (`host add/set --acme`, `--no-acme`,
//! `rotate-secret --acme`): the key shown once and kept only as its hash,
//! the role's TXT permission on exactly the challenge names, the storage
//! JSON of `client-config --format acme-dns-json`, and an update through
//! `ddns-ctl serve` with the account it printed.

mod common;

use common::{Serve, config, deployed};
use serde_json::{Value, json};
use sha2::{Digest as _, Sha256};

fn json_of(out: &std::process::Output) -> Value {
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    serde_json::from_slice(&out.stdout).unwrap()
}

/// The names the role may set TXT at.
fn txt_names(policy: &Value) -> Vec<String> {
    policy["Statement"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|s| s["Action"] == "route53:ChangeResourceRecordSets")
        .filter(|s| {
            s["Condition"]["ForAllValues:StringEquals"]["route53:ChangeResourceRecordSetsRecordTypes"]
                .as_array()
                .unwrap()
                .iter()
                .any(|t| t == "TXT")
        })
        .flat_map(|s| {
            let names =
                &s["Condition"]["ForAllValues:StringEquals"]["route53:ChangeResourceRecordSetsNormalizedRecordNames"];
            names
                .as_array()
                .unwrap()
                .iter()
                .map(|n| n.as_str().unwrap().to_owned())
                .collect::<Vec<_>>()
        })
        .collect()
}

#[tokio::test(flavor = "multi_thread")]
async fn an_account_from_add_to_removal() {
    let (stack, aws, zone_id, zone) = deployed().await;
    let (home, plain) = (format!("home.{zone}"), format!("plain.{zone}"));
    let bare = home.trim_end_matches('.').to_owned();
    let added = json_of(
        &stack
            .cli()
            .args([
                "--output",
                "json",
                "host",
                "add",
                &home,
                "--acme",
                "--acme-allow-from",
                "127.0.0.1",
            ])
            .output()
            .unwrap(),
    );
    json_of(
        &stack
            .cli()
            .args(["--output", "json", "host", "add", &plain])
            .output()
            .unwrap(),
    );
    let account = &added["acme"];
    let key = account["password"].as_str().unwrap().to_owned();
    assert_eq!(key.len(), 40);
    assert_eq!(account["fulldomain"], format!("_acme-challenge.{bare}"));
    assert_eq!(account["allowfrom"], json!(["127.0.0.1/32"]));
    assert!(
        account["server_url"].as_str().unwrap().ends_with("/prod/acme-dns"),
        "{account}"
    );

    // The config keeps the key's hash only.
    let stored = config(&aws, &stack).await;
    let kept = &stored[&home]["acme"];
    assert_eq!(kept["key_sha256"], hex::encode(Sha256::digest(key.as_bytes())));
    assert_eq!(kept["username"], account["username"]);
    assert!(!stored.to_string().contains(&key), "the key is in the config");
    assert!(stored[&plain].get("acme").is_none());

    // The role may set TXT at exactly the acme host's challenge name.
    assert_eq!(
        txt_names(&aws.role_policy(&stack).await),
        [format!("_acme-challenge.{bare}")]
    );

    // The storage JSON, keyed by the host and its wildcard; nothing else on
    // stdout. A wrong key is refused rather than written.
    let key_file = stack.dir.join("acme.key");
    std::fs::write(&key_file, format!("{key}\n")).unwrap();
    let out = stack
        .cli()
        .args(["client-config", &home, "--format", "acme-dns-json", "--acme-key-file"])
        .arg(&key_file)
        .output()
        .unwrap();
    let storage = json_of(&out);
    let entry = json!({
        "username": account["username"],
        "password": key,
        "fulldomain": format!("_acme-challenge.{bare}"),
        "subdomain": account["subdomain"],
        "allowfrom": ["127.0.0.1/32"],
        "server_url": account["server_url"],
    });
    assert_eq!(storage, json!({ &bare: entry, format!("*.{bare}"): entry }));
    std::fs::write(&key_file, "not-the-key").unwrap();
    common::refused(
        &stack,
        &[
            "client-config",
            &home,
            "--format",
            "acme-dns-json",
            "--acme-key-file",
            key_file.to_str().unwrap(),
        ],
        "that is not the key",
    );
    common::refused(
        &stack,
        &["client-config", &home, "--format", "acme-dns-json"],
        "needs the acme-dns account's key",
    );
    common::refused(
        &stack,
        &[
            "client-config",
            &plain,
            "--format",
            "acme-dns-json",
            "--acme-key-file",
            "-",
        ],
        "has no acme-dns account",
    );

    // The account works through `serve`, as a client would use it.
    let serve = Serve::start_with(&stack, &[]);
    let txt = "LPsIwTo7o8BoG0-vjCyGQGBWSVIPxI-i_X336eUOQZo";
    let update = |key: String| {
        let url = format!("{}acme-dns/update", serve.url());
        let (user, subdomain) = (
            account["username"].as_str().unwrap().to_owned(),
            account["subdomain"].as_str().unwrap().to_owned(),
        );
        async move {
            reqwest::Client::new()
                .post(url)
                .header("X-Api-User", user)
                .header("X-Api-Key", key)
                .json(&json!({ "subdomain": subdomain, "txt": txt }))
                .send()
                .await
                .unwrap()
                .status()
                .as_u16()
        }
    };
    assert_eq!(update(key.clone()).await, 200);
    let record = format!("_acme-challenge.{home}");
    assert_eq!(
        common::record(&aws, &zone_id, &record, "TXT").await,
        [format!("\"{txt}\"")]
    );

    // A new key: the old one no longer works.
    let rotated = json_of(
        &stack
            .cli()
            .args(["--output", "json", "host", "rotate-secret", &home, "--acme"])
            .output()
            .unwrap(),
    );
    let new_key = rotated["password"].as_str().unwrap().to_owned();
    assert_ne!(new_key, key);
    assert_eq!(rotated["username"], account["username"]);
    assert_eq!(update(key.clone()).await, 401);
    assert_eq!(update(new_key.clone()).await, 200);

    // --acme again keeps the account (no new key); --no-acme removes it and
    // the role's TXT permission with it.
    let kept = json_of(
        &stack
            .cli()
            .args(["--output", "json", "host", "set", &home, "--acme"])
            .output()
            .unwrap(),
    );
    assert!(kept["password"].is_null());
    assert_eq!(kept["username"], account["username"]);
    let out = stack.cli().args(["host", "set", &home, "--no-acme"]).output().unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    assert!(config(&aws, &stack).await[&home].get("acme").is_none());
    assert!(txt_names(&aws.role_policy(&stack).await).is_empty());
    assert_eq!(update(new_key).await, 401);
    common::refused(
        &stack,
        &["host", "rotate-secret", &home, "--acme"],
        "has no acme-dns account",
    );
}
