//! The real binary against AWS faults that moto never shows, injected by
//! the fault proxy between ddns-ctl and moto (`testkit/src/faults.rs`).
//! Each test prints a figure (`-- --nocapture`): whether the command
//! succeeded, how long it took and waited, and the calls it made.

mod common;

use common::{Aws, Stack};
use ddns_testkit::faults::{Fault, FaultProxy};

#[tokio::test(flavor = "multi_thread")]
async fn the_cli_reaches_moto_through_the_proxy_and_sees_its_faults() {
    let moto = ddns_testkit::moto();
    let aws = Aws::new(moto).await;
    let proxy = FaultProxy::start(&moto.endpoint);
    let stack = Stack::new(moto);
    proxy.inject(
        Fault::error(
            "iam",
            "CreateRole",
            403,
            "AccessDenied",
            "User: arn:aws:iam::123456789012:user/ci is not authorized to perform: iam:CreateRole",
        )
        .first(1),
    );
    let (figure, out) = stack.deploy_via(&proxy, "AccessDenied on CreateRole", "iam:CreateRole");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!figure.succeeded, "{stderr}");
    assert!(stderr.contains("CreateRole was denied"), "{stderr}");
    assert!(
        aws.function(&stack).await.is_none(),
        "nothing after the role is created"
    );

    let (figure, out) = stack.deploy_via(&proxy, "none (the fault was used up)", "iam:CreateRole");
    assert!(figure.succeeded, "{}", String::from_utf8_lossy(&out.stderr));
    let operations: Vec<&str> = figure.calls.iter().map(|c| c.operation.as_str()).collect();
    assert_eq!(operations.first(), Some(&"GetCallerIdentity"), "{figure}");
    for needed in [
        "CreateRole",
        "CreateBucket",
        "CreateRestApi",
        "PutMethod",
        "PutIntegration",
        "CreateDeployment",
    ] {
        assert!(operations.contains(&needed), "{needed} missing: {figure}");
    }
    assert!(figure.calls.iter().all(|c| c.fault.is_none()), "{figure}");
    assert_eq!(aws.api_ids(&stack.name).await.len(), 1);
}
