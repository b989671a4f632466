//! `ddns-ctl host …` and `config …` against a stack deployed on moto.

mod common;

use std::process::{Command, Stdio};

use assert_cmd::prelude::*;
use common::{Serve, config, deployed, record, seed_set};
use predicates::prelude::*;
use serde_json::{Value, json};

fn json_of(out: &std::process::Output) -> Value {
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    serde_json::from_slice(&out.stdout).unwrap()
}

/// The id of the config's newest version, from `config history`.
fn latest_version(stack: &common::Stack<'_>) -> String {
    let versions = json_of(
        &stack
            .cli()
            .args(["--output", "json", "config", "history"])
            .output()
            .unwrap(),
    );
    versions[0]["id"].as_str().unwrap().to_owned()
}

#[tokio::test(flavor = "multi_thread")]
async fn twenty_concurrent_host_adds_all_land() {
    let (stack, aws, zone_id, zone) = deployed().await;
    let children: Vec<_> = (0..20)
        .map(|i| {
            stack
                .cli()
                .args(["-q", "host", "add", &format!("h{i}.{zone}")])
                .stdout(Stdio::null())
                .stderr(Stdio::piped())
                .spawn()
                .unwrap()
        })
        .collect();
    for child in children {
        let out = child.wait_with_output().unwrap();
        assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    }
    let config = config(&aws, &stack).await;
    let hosts = config.as_object().unwrap();
    assert_eq!(hosts.len(), 20, "lost updates: {:?}", hosts.keys().collect::<Vec<_>>());
    for i in 0..20 {
        assert!(hosts.contains_key(&format!("h{i}.{zone}")), "h{i} missing");
    }
    // The role may now change records in that zone, and only there.
    let policy = aws.role_policy(&stack).await;
    assert_eq!(
        common::zones_in(&policy),
        json!([format!("arn:aws:route53:::hostedzone/{zone_id}")])
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn a_host_from_add_to_remove() {
    let (stack, aws, zone_id, zone) = deployed().await;
    let host = format!("home.{zone}");

    // add: the secret comes once, in the output.
    let added = json_of(
        &stack
            .cli()
            .args(["--output", "json", "host", "add", &host, "--allow-private-addresses"])
            .output()
            .unwrap(),
    );
    let secret = added["secret"].as_str().unwrap().to_owned();
    assert_eq!(secret.len(), 43);
    assert_eq!(added["zone_id"], zone_id);
    assert_eq!(config(&aws, &stack).await[&host]["shared_secret"], secret.as_str());

    // Adding it again, or a name that is not a host, changes nothing.
    let before = common::config_etag(&aws, &stack).await;
    common::refused(&stack, &["host", "add", &host], "already a host");
    common::refused(&stack, &["host", "add", "not_a_host"], "is not fully qualified");
    common::refused(&stack, &["host", "add", "home.elsewhere.invalid"], "no hosted zone");
    common::refused(
        &stack,
        &["host", "add", &format!("x.{zone}"), "--ttl=-5"],
        "route_53_record_ttl",
    );
    assert_eq!(
        common::config_etag(&aws, &stack).await,
        before,
        "a refused change wrote the config"
    );

    // list and show never print the secret unless asked.
    let listed = stack.cli().args(["host", "list"]).output().unwrap();
    let text = String::from_utf8_lossy(&listed.stdout);
    assert!(text.contains(&host) && !text.contains(&secret), "{text}");
    let listed = json_of(&stack.cli().args(["--output", "json", "host", "list"]).output().unwrap());
    assert!(!listed.to_string().contains(&secret));
    assert_eq!(listed[0]["type"], "A");
    stack
        .cli()
        .args(["host", "show", &host])
        .assert()
        .success()
        .stdout(predicate::str::contains(&secret).not());
    stack
        .cli()
        .args(["host", "show", &host, "--show-secret"])
        .assert()
        .success()
        .stdout(predicate::str::contains(&secret));

    // The secret works against the service; after rotation only the new one does.
    let serve = Serve::start(&stack);
    assert_eq!(seed_set(&serve, &host, &secret), 200);
    assert_eq!(record(&aws, &zone_id, &host, "A").await, ["127.0.0.1"]);
    let rotated = json_of(
        &stack
            .cli()
            .args(["--output", "json", "host", "rotate-secret", &host])
            .output()
            .unwrap(),
    );
    let new_secret = rotated["secret"].as_str().unwrap();
    assert_ne!(new_secret, secret);
    assert_eq!(seed_set(&serve, &host, &secret), 403);
    assert_eq!(seed_set(&serve, &host, new_secret), 200);

    // set changes TTL and type; bad values change nothing.
    stack
        .cli()
        .args(["host", "set", &host, "--ttl", "300", "--type", "dual"])
        .assert()
        .success();
    let entry = &config(&aws, &stack).await[&host];
    assert_eq!(
        (
            entry["route_53_record_ttl"].clone(),
            entry["route_53_record_type"].clone()
        ),
        (json!(300), json!("dual"))
    );
    common::refused(&stack, &["host", "set", &host], "nothing to change");
    stack
        .cli()
        .args(["host", "set", "nobody.example.com"])
        .args(["--ttl", "5"])
        .assert()
        .code(1);

    // remove keeps the records unless asked.
    let other = format!("other.{zone}");
    stack
        .cli()
        .args(["-q", "host", "add", &other, "--allow-private-addresses"])
        .assert()
        .success();
    let other_secret = config(&aws, &stack).await[&other]["shared_secret"]
        .as_str()
        .unwrap()
        .to_owned();
    assert_eq!(seed_set(&serve, &other, &other_secret), 200);
    assert_eq!(record(&aws, &zone_id, &other, "A").await, ["127.0.0.1"]);
    stack.cli().args(["host", "remove", &other]).assert().success();
    assert!(config(&aws, &stack).await.get(&other).is_none());
    assert_eq!(
        record(&aws, &zone_id, &other, "A").await,
        ["127.0.0.1"],
        "remove without --delete-records deleted the record"
    );
    stack
        .cli()
        .args(["host", "remove", &host, "--delete-records"])
        .assert()
        .success()
        .stdout(predicate::str::contains("deleted its A record"));
    assert!(record(&aws, &zone_id, &host, "A").await.is_empty());
    assert_eq!(config(&aws, &stack).await, json!({}));
    common::refused(&stack, &["host", "remove", &host], "is not a host");
    // With no hosts left, the role has no Route53 access at all.
    let policy = aws.role_policy(&stack).await;
    assert!(!policy.to_string().contains("route53"));
}

#[tokio::test(flavor = "multi_thread")]
async fn a_secret_can_come_from_stdin() {
    let (stack, aws, _, zone) = deployed().await;
    let host = format!("piped.{zone}");
    let mut child = stack
        .cli()
        .args(["-q", "host", "add", &host, "--secret-stdin"])
        .stdin(Stdio::piped())
        .stdout(Stdio::null())
        .spawn()
        .unwrap();
    use std::io::Write as _;
    child
        .stdin
        .take()
        .unwrap()
        .write_all(b"a-secret-from-a-password-manager\n")
        .unwrap();
    assert!(child.wait().unwrap().success());
    assert_eq!(
        config(&aws, &stack).await[&host]["shared_secret"],
        "a-secret-from-a-password-manager"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn import_export_history_and_restore() {
    let (stack, aws, zone_id, zone) = deployed().await;
    let kept = format!("kept.{zone}");
    stack.cli().args(["-q", "host", "add", &kept]).assert().success();
    let original_secret = config(&aws, &stack).await[&kept]["shared_secret"].clone();
    assert!(original_secret.is_string());
    let seed_entry = |secret: &str| {
        json!({ "aws_region": "us-east-1", "route_53_zone_id": zone_id, "route_53_record_ttl": 60,
                "route_53_record_type": "A", "shared_secret": secret, "allow_private_addresses": true })
    };
    let file = stack.dir.join("seed-config.json");
    let imported = format!("host1.{zone}");
    std::fs::write(
        &file,
        json!({ &imported: seed_entry("SHARED_SECRET_ONE_LONG"), &kept: seed_entry("another-long-secret") })
            .to_string(),
    )
    .unwrap();

    let report = json_of(
        &stack
            .cli()
            .args(["--output", "json", "config", "import"])
            .arg(&file)
            .output()
            .unwrap(),
    );
    assert_eq!(report["added"], json!([imported]));
    assert_eq!(report["conflicts"], json!([kept]));
    let current = config(&aws, &stack).await;
    assert_eq!(
        current[&kept]["shared_secret"], original_secret,
        "a conflict must keep the existing host without --overwrite"
    );
    assert_eq!(current[&imported]["shared_secret"], "SHARED_SECRET_ONE_LONG");

    // An invalid file is refused before anything is written.
    let bad = stack.dir.join("bad.json");
    std::fs::write(&bad, r#"{"x.example.com.": {"aws_region": "r"}}"#).unwrap();
    stack
        .cli()
        .args(["config", "import"])
        .arg(&bad)
        .assert()
        .code(1)
        .stderr(predicate::str::contains("not a valid config"));

    // The blog post's client works against the imported host.
    let serve = Serve::start(&stack);
    let client = ddns_testkit::repo_root().join("tests/fixtures/seed_client.sh");
    let out = Command::new("bash")
        .arg(client)
        .args([
            &imported,
            "SHARED_SECRET_ONE_LONG",
            &format!("{}/prod", serve.addr),
            "http",
        ])
        .output()
        .unwrap();
    assert!(
        String::from_utf8_lossy(&out.stdout).contains("has been set to 127.0.0.1"),
        "{}",
        String::from_utf8_lossy(&out.stdout)
    );

    // export redacts secrets unless asked.
    stack
        .cli()
        .args(["config", "export"])
        .assert()
        .success()
        .stdout(predicate::str::contains("<redacted>").and(predicate::str::contains("SHARED_SECRET_ONE_LONG").not()));
    stack
        .cli()
        .args(["config", "export", "--show-secrets"])
        .assert()
        .success()
        .stdout(predicate::str::contains("SHARED_SECRET_ONE_LONG"));

    // history lists every version; restoring the one before the import
    // brings that config back, as a new version.
    let history = json_of(
        &stack
            .cli()
            .args(["--output", "json", "config", "history"])
            .output()
            .unwrap(),
    );
    let versions = history.as_array().unwrap();
    assert!(versions.len() >= 3, "{history}");
    assert_eq!(versions[0]["latest"], true);
    let before_import = versions[1]["id"].as_str().unwrap();
    stack
        .cli()
        .args(["config", "restore", before_import])
        .assert()
        .success();
    let restored = config(&aws, &stack).await;
    assert!(
        restored.get(&imported).is_none() && restored.get(&kept).is_some(),
        "{restored}"
    );
    stack
        .cli()
        .args(["config", "restore", "no-such-version"])
        .assert()
        .code(1);
}

#[tokio::test(flavor = "multi_thread")]
async fn an_explicit_zone_must_hold_the_host() {
    let (stack, aws, zone_id, zone) = deployed().await;
    let (other_zone_id, _) = aws.zone().await;
    let host = format!("explicit.{zone}");
    common::refused(
        &stack,
        &["host", "add", &host, "--zone-id", &other_zone_id],
        "is not inside zone",
    );
    stack
        .cli()
        .args([
            "-q",
            "host",
            "add",
            &host,
            "--zone-id",
            &format!("/hostedzone/{zone_id}"),
        ])
        .assert()
        .success();
    assert_eq!(config(&aws, &stack).await[&host]["route_53_zone_id"], zone_id.as_str());
}

#[tokio::test(flavor = "multi_thread")]
async fn secrets_stay_off_the_command_line_and_out_of_readable_files() {
    use std::io::Write as _;
    use std::os::unix::fs::PermissionsExt as _;
    let (stack, aws, zone_id, zone) = deployed().await;
    let host = format!("private.{zone}");
    // A passphrase with the characters curl's config syntax escapes.
    let secret = r#"a "quoted" pass\phrase"#;
    let mut child = stack
        .cli()
        .args(["host", "add", &host, "--allow-private-addresses", "--secret-stdin"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    writeln!(child.stdin.take().unwrap(), "{secret}").unwrap();
    let out = child.wait_with_output().unwrap();
    assert!(out.status.success());
    let text = String::from_utf8(out.stdout).unwrap();
    // No suggestion puts the secret in argv.
    assert!(!text.contains("curl -u"), "{text}");
    let user_line = text
        .lines()
        .find_map(|l| l.trim().strip_prefix("user = ").map(|v| format!("user = {v}\n")))
        .unwrap_or_else(|| panic!("no curl config line in:\n{text}"));

    // The suggested curl config works as printed.
    let serve = Serve::start(&stack);
    let curl_config = stack.dir.join("curl.conf");
    std::fs::write(&curl_config, user_line).unwrap();
    let answer = Command::new("curl")
        .args(["-s", "-K"])
        .arg(&curl_config)
        .arg(format!("{}nic/update?hostname={host}", serve.url()))
        .output()
        .unwrap();
    assert_eq!(String::from_utf8_lossy(&answer.stdout), "good 127.0.0.1\n");
    assert_eq!(record(&aws, &zone_id, &host, "A").await, ["127.0.0.1"]);

    // client-config --out writes mode 600, even over an existing file that
    // was readable by everyone.
    let setup = stack.dir.join("update.sh");
    std::fs::write(&setup, "old").unwrap();
    std::fs::set_permissions(&setup, std::fs::Permissions::from_mode(0o644)).unwrap();
    stack
        .cli()
        .args(["client-config", &host, "--url", &serve.url(), "--out"])
        .arg(&setup)
        .assert()
        .success()
        .stderr(predicate::str::contains("mode 600"));
    assert_eq!(std::fs::metadata(&setup).unwrap().permissions().mode() & 0o777, 0o600);
    let printed = stack
        .cli()
        .args(["client-config", &host, "--url", &serve.url()])
        .output()
        .unwrap();
    assert_eq!(std::fs::read(&setup).unwrap(), printed.stdout);
    // Printed to a pipe or a file, it says how to keep the file private.
    assert!(String::from_utf8_lossy(&printed.stderr).contains("umask 077"));
}

#[tokio::test(flavor = "multi_thread")]
async fn every_write_path_checks_the_zone_like_host_add() {
    let (stack, aws, zone_id, zone) = deployed().await;
    let good = format!("good.{zone}");
    stack.cli().args(["-q", "host", "add", &good]).assert().success();
    let role_before = aws.role_policy(&stack).await;
    let entry = |zone_id: &str| common::host_entry(zone_id, "a-secret-of-enough-length", false);
    let import = |name: &str, config: Value| {
        let file = stack.dir.join(format!("{name}.json"));
        std::fs::write(&file, config.to_string()).unwrap();
        file.display().to_string()
    };

    // Import refuses a zone that does not exist, every zone ("*"), and a
    // host outside its zone, and writes nothing.
    let etag = common::config_etag(&aws, &stack).await;
    let cases = [
        (
            json!({ format!("x.{zone}"): entry("Z0NOSUCHZONE00000000") }),
            "does not exist in this account",
        ),
        (json!({ format!("y.{zone}"): entry("*") }), ""),
        (json!({ "www.bank.example.": entry(&zone_id) }), "not inside zone"),
    ];
    for (n, (file, message)) in cases.into_iter().enumerate() {
        let file = import(&format!("bad{n}"), file);
        let out = stack.cli().args(["config", "import", &file]).output().unwrap();
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(1), "{file}: {stderr}");
        assert!(stderr.contains(message), "{file}: {stderr}");
    }
    assert_eq!(common::config_etag(&aws, &stack).await, etag, "a refused import wrote");
    assert_eq!(
        aws.role_policy(&stack).await,
        role_before,
        "a refused import widened the role"
    );

    // A config edited by hand in S3 with a host in a zone that does not
    // exist: status says so, and deploy leaves that zone out of the role.
    let good_version = latest_version(&stack);
    let mut edited = config(&aws, &stack).await;
    edited[format!("ghost.{zone}")] = entry("Z0NOSUCHZONE00000000");
    aws.put_config(&stack, &edited).await;
    let (code, report) = common::status(&stack);
    assert_eq!(code, Some(1), "{report:#}");
    assert!(
        report["config_problems"][0]
            .as_str()
            .unwrap()
            .contains("zone Z0NOSUCHZONE00000000 does not exist"),
        "{report:#}"
    );
    stack.deploy(&[]);
    assert_eq!(
        common::zones_in(&aws.role_policy(&stack).await),
        json!([format!("arn:aws:route53:::hostedzone/{zone_id}")])
    );

    // Restore checks the version it brings back: the hand-edited one is
    // refused, the good one restored.
    let edited_version = latest_version(&stack);
    stack
        .cli()
        .args(["config", "restore", &good_version])
        .assert()
        .success();
    common::refused(
        &stack,
        &["config", "restore", &edited_version],
        "does not exist in this account",
    );
    let (code, report) = common::status(&stack);
    assert_eq!(code, Some(0), "{report:#}");

    // A hand edit that breaks a rule the function enforces (a one-character
    // secret) is reported by status, which names the host, not the value.
    let mut edited = config(&aws, &stack).await;
    edited[&good]["shared_secret"] = json!("x");
    aws.put_config(&stack, &edited).await;
    let (code, report) = common::status(&stack);
    assert_eq!(code, Some(1), "{report:#}");
    let problem = report["config_problems"][0].as_str().unwrap();
    assert!(
        problem.contains("the function refuses the whole config") && problem.contains(&good),
        "{report:#}"
    );
    // Deploying now would take every host offline: deploy stops and names
    // the fix, and the fix works on the broken config.
    let out = stack
        .cli()
        .args(["deploy", "--yes", "--handler-zip"])
        .arg(&stack.zip)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains("host rotate-secret"));
    // A change that breaks a rule of its own is still refused.
    common::refused(&stack, &["host", "set", &good, "--ttl=-1"], "route_53_record_ttl");
    stack
        .cli()
        .args(["-q", "host", "rotate-secret", &good])
        .assert()
        .success();
    let (code, report) = common::status(&stack);
    assert_eq!(code, Some(0), "{report:#}");
    stack.deploy(&[]);
}

/// The writes that order matters for, in the order moto saw them: the
/// role's policy and the config object.
fn policy_and_config_writes(calls: &[ddns_testkit::RecordedCall], stack: &common::Stack<'_>) -> Vec<&'static str> {
    let config = format!("/{}/config.json", stack.bucket());
    calls
        .iter()
        .filter_map(|call| match call.action.as_deref() {
            Some("PutRolePolicy") => Some("PutRolePolicy"),
            _ if call.method == "PUT" && call.url.split('?').next().is_some_and(|url| url.ends_with(&config)) => {
                Some("PutObject config")
            }
            _ => None,
        })
        .collect()
}

/// IAM is eventually consistent: a policy change takes seconds to reach the
/// function. So a change that widens what the role must allow (a new zone,
/// name or record type) writes the role before the config, and one that
/// narrows it writes the config before the role; the function never serves a
/// host its role may not yet cover.
#[tokio::test(flavor = "multi_thread")]
async fn the_role_widens_before_the_config_and_narrows_after_it() {
    let moto = ddns_testkit::Moto::dedicated();
    let aws = common::Aws::new(&moto).await;
    let stack = common::Stack::new(&moto);
    stack.deploy(&[]);
    let (zone_id, zone) = aws.zone().await;
    let (other_zone_id, other_zone) = aws.zone().await;
    let host = format!("home.{zone}");
    let run = |args: &[&str]| {
        moto.start_recording();
        let out = stack.cli().arg("-q").args(args).output().unwrap();
        assert!(
            out.status.success(),
            "{args:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        policy_and_config_writes(&moto.recorded(), &stack)
    };
    let (role_first, config_first) = (
        ["PutRolePolicy", "PutObject config"],
        ["PutObject config", "PutRolePolicy"],
    );

    // A new zone and name.
    assert_eq!(run(&["host", "add", &host]), role_first);
    // A new record type for the same name; then back to fewer types.
    assert_eq!(run(&["host", "set", &host, "--type", "dual"]), role_first);
    assert_eq!(run(&["host", "set", &host, "--type", "A"]), config_first);
    // Only the TTL: the role stays as it is.
    assert_eq!(run(&["host", "set", &host, "--ttl", "120"]), ["PutObject config"]);

    // An import that brings a host in another zone widens too.
    let before_import = latest_version(&stack);
    let file = stack.dir.join("import.json");
    let imported =
        json!({ format!("nas.{other_zone}"): common::host_entry(&other_zone_id, "an-imported-secret-1", false) });
    std::fs::write(&file, imported.to_string()).unwrap();
    assert_eq!(run(&["config", "import", file.to_str().unwrap()]), role_first);
    assert!(
        common::zones_in(&aws.role_policy(&stack).await)
            .to_string()
            .contains(&other_zone_id)
    );
    // Restoring the version before it narrows again, config first.
    assert_eq!(run(&["config", "restore", &before_import]), config_first);
    assert!(
        !common::zones_in(&aws.role_policy(&stack).await)
            .to_string()
            .contains(&other_zone_id)
    );

    // Removing the last host: the config stops naming it, then the role
    // stops allowing it.
    assert_eq!(run(&["host", "remove", &host]), config_first);
    assert_eq!(
        common::zones_in(&aws.role_policy(&stack).await),
        Value::Null,
        "{zone_id}"
    );
}

/// `host list` reads a zone that holds several hosts page by page (300
/// record sets a page) instead of once a host, and still shows each host's
/// own values: those on the second page, and none for a host without
/// records.
#[tokio::test(flavor = "multi_thread")]
async fn host_list_reads_a_zone_of_hosts_by_pages() {
    use aws_sdk_route53::types::{Change, ChangeAction, ChangeBatch, ResourceRecord, ResourceRecordSet, RrType};
    let moto: &'static ddns_testkit::Moto = Box::leak(Box::new(ddns_testkit::Moto::dedicated()));
    let aws = common::Aws::new(moto).await;
    let stack = common::Stack::new(moto);
    stack.deploy(&[]);
    let (zone_id, zone) = aws.zone().await;
    // 320 other names sort before the hosts ("a…" < "zz…"), so the hosts'
    // records are on the second page.
    let mut batch = ChangeBatch::builder();
    let mut hosts = serde_json::Map::new();
    for i in 0..320 {
        batch = batch.changes(a_record(&format!("a{i:03}.{zone}"), "192.0.2.1"));
    }
    for i in 0..5 {
        let host = format!("zz{i}.{zone}");
        if i < 4 {
            batch = batch.changes(a_record(&host, &format!("203.0.113.{i}")));
        }
        hosts.insert(host, common::host_entry(&zone_id, "0123456789abcdef", false));
    }
    aws.route53
        .change_resource_record_sets()
        .hosted_zone_id(&zone_id)
        .change_batch(batch.build().unwrap())
        .send()
        .await
        .unwrap();
    aws.put_config(&stack, &Value::Object(hosts)).await;

    moto.start_recording();
    let listing = json_of(&stack.cli().args(["--output", "json", "host", "list"]).output().unwrap());
    let calls = moto.recorded();
    let values: Vec<Value> = listing
        .as_array()
        .unwrap()
        .iter()
        .map(|h| h["records"]["A"].clone())
        .collect();
    assert_eq!(
        values,
        [
            json!(["203.0.113.0"]),
            json!(["203.0.113.1"]),
            json!(["203.0.113.2"]),
            json!(["203.0.113.3"]),
            json!([])
        ]
    );
    let listings = calls.iter().filter(|c| c.url.contains("/rrset")).count();
    assert_eq!(listings, 2, "two pages, not one call a host: {calls:#?}");

    fn a_record(name: &str, value: &str) -> Change {
        let set = ResourceRecordSet::builder()
            .name(name)
            .r#type(RrType::A)
            .ttl(60)
            .resource_records(ResourceRecord::builder().value(value).build().unwrap())
            .build()
            .unwrap();
        Change::builder()
            .action(ChangeAction::Create)
            .resource_record_set(set)
            .build()
            .unwrap()
    }
}
