//! Read-after-versioning: for a while after versioning is first enabled,
//! S3 may answer 404 for objects written since. moto never does, so the
//! fault proxy (`testkit/src/faults.rs`) answers the first reads of the
//! config with NoSuchKey while moto still holds it. Each test prints its
//! figure (`-- --nocapture`).

mod common;

use assert_cmd::prelude::*;
use common::{Aws, Figure, Stack};
use ddns_testkit::faults::{Fault, FaultProxy};

const HIDDEN: &str = "NoSuchKey on the first 2 GetObject of the config";

/// The config reads as missing for its first two GETs.
fn hide_config(proxy: &FaultProxy) {
    proxy.inject(Fault::error("s3", "GetObject", 404, "NoSuchKey", "The specified key does not exist.").first(2));
}

#[tokio::test(flavor = "multi_thread")]
async fn a_config_s3_does_not_serve_yet_is_waited_for_never_overwritten() {
    let moto = ddns_testkit::moto();
    let aws = Aws::new(moto).await;
    let (zone_id, zone) = aws.zone().await;
    let proxy = FaultProxy::start(&moto.endpoint);
    let stack = Stack::new(moto);
    stack.deploy(&[]);
    let first = format!("one.{zone}");
    stack.cli().args(["-q", "host", "add", &first]).assert().success();
    let policy = aws.role_policy(&stack).await.to_string();
    assert!(policy.contains(first.trim_end_matches('.')), "{policy}");

    // A second deploy that meets the 404 waits for the config; taken as
    // missing, it would narrow the role to no hosts and try to write `{}`.
    hide_config(&proxy);
    let (figure, out) = stack.deploy_via(&proxy, HIDDEN, "s3:GetObject");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(figure.succeeded, "{stderr}");
    assert!(stderr.contains("exists but S3 does not serve it yet"), "{stderr}");
    assert_eq!(
        stderr.matches("does not serve it yet").count(),
        1,
        "said once: {stderr}"
    );
    let writes: Vec<&str> = figure
        .calls
        .iter()
        .filter(|c| matches!(c.operation.as_str(), "PutRolePolicy" | "PutObject"))
        .map(|c| c.operation.as_str())
        .collect();
    assert_eq!(writes, Vec::<&str>::new(), "{figure}");
    assert_eq!(aws.role_policy(&stack).await.to_string(), policy);

    // `host add` that meets it reads the config once it shows, and adds to
    // it: no write ever meets a 412, and the first host stays.
    hide_config(&proxy);
    let second = format!("two.{zone}");
    let (figure, out) = Figure::measure(&proxy, HIDDEN, "s3:GetObject", || {
        stack.cli_via(&proxy).args(["host", "add", &second]).output().unwrap()
    });
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(figure.succeeded, "{stderr}");
    assert!(stderr.contains("exists but S3 does not serve it yet"), "{stderr}");
    assert!(
        figure.calls.iter().all(|c| c.status != 412),
        "a write met a 412: {figure}"
    );
    let config = common::config(&aws, &stack).await;
    for host in [&first, &second] {
        assert_eq!(
            config[host.as_str()]["route_53_zone_id"],
            zone_id.as_str(),
            "{config:#}"
        );
    }

    // When the version listing lags too, the 412 that `If-None-Match: *`
    // meets after a 404 says the same: there, not visible yet. The write is
    // retried only after waiting, never as a race lost to another writer.
    hide_config(&proxy);
    proxy.inject(Fault::rewrite("s3", "ListObjectVersions", |_, reply| unlisted(reply)).first(2));
    let third = format!("three.{zone}");
    let (figure, out) = Figure::measure(
        &proxy,
        "NoSuchKey on GetObject and an empty listing, twice",
        "s3:GetObject",
        || stack.cli_via(&proxy).args(["host", "add", &third]).output().unwrap(),
    );
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(figure.succeeded, "{stderr}");
    assert!(stderr.contains("exists but S3 does not serve it yet"), "{stderr}");
    let refused = figure.calls.iter().filter(|c| c.status == 412).count();
    assert_eq!(refused, 2, "{figure}");
    let config = common::config(&aws, &stack).await;
    assert_eq!(config.as_object().unwrap().len(), 3, "{config:#}");
}

/// A ListObjectVersions reply with its versions taken out.
fn unlisted(reply: &str) -> String {
    match (reply.find("<Version>"), reply.rfind("</Version>")) {
        (Some(start), Some(end)) => format!("{}{}", &reply[..start], &reply[end + "</Version>".len()..]),
        _ => reply.to_owned(),
    }
}
