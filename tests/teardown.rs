//! Teardown against answers AWS gives and moto does not, injected by the
//! fault proxy between ddns-ctl and moto (`testkit/src/faults.rs`). Each
//! test prints its figure (`-- --nocapture`).

mod common;

use common::{Aws, Figure, Stack};
use ddns_testkit::faults::{Fault, FaultProxy};

fn teardown_via(stack: &Stack<'_>, proxy: &FaultProxy, fault: &str, operation: &str) -> (Figure, String) {
    let (figure, out) = Figure::measure(proxy, fault, operation, || {
        stack.cli_via(proxy).args(["teardown", "--yes"]).output().unwrap()
    });
    (figure, String::from_utf8_lossy(&out.stderr).into_owned())
}

/// The operations among `figure`'s calls that delete something.
fn deletes(figure: &Figure) -> Vec<String> {
    figure
        .calls
        .iter()
        .filter(|c| c.operation.starts_with("Delete") || c.method == "DELETE")
        .map(|c| format!("{}:{}", c.service, c.operation))
        .collect()
}

#[tokio::test(flavor = "multi_thread")]
async fn tags_that_may_not_be_read_stop_teardown_before_anything_is_deleted() {
    let moto = ddns_testkit::moto();
    let proxy = FaultProxy::start(&moto.endpoint);
    let stack = Stack::new(moto);
    stack.deploy(&[]);

    // Without lambda:ListTags, GetFunction answers a TagsError, not tags.
    proxy.inject(Fault::tags_error());
    let (figure, stderr) = teardown_via(&stack, &proxy, "TagsError on GetFunction", "lambda:GetFunction");
    assert!(!figure.succeeded, "{stderr}");
    assert!(stderr.contains("lambda:ListTags"), "{stderr}");
    assert!(!stderr.contains("not tagged managed-by"), "{stderr}");
    assert!(
        figure
            .calls
            .iter()
            .any(|c| c.operation == "GetFunction" && c.fault.is_some()),
        "{figure}"
    );
    assert_eq!(deletes(&figure), Vec::<String>::new(), "{figure}");
    let (code, status) = common::status(&stack);
    assert_eq!(code, Some(0), "everything is still there: {status:#}");

    // With the permission back, the same teardown goes through.
    proxy.clear();
    let (figure, stderr) = teardown_via(&stack, &proxy, "none", "lambda:GetFunction");
    assert!(figure.succeeded, "{stderr}");
    common::assert_nothing_exists(&stack);
}

#[tokio::test(flavor = "multi_thread")]
async fn objects_s3_would_not_delete_stop_teardown_before_the_bucket_with_their_reason() {
    let moto = ddns_testkit::moto();
    let aws = Aws::new(moto).await;
    let proxy = FaultProxy::start(&moto.endpoint);
    let stack = Stack::new(moto);
    stack.deploy(&[]);

    // A quiet DeleteObjects answers 200 with one object it did not delete.
    proxy.inject(Fault::delete_objects_denied());
    let (figure, stderr) = teardown_via(
        &stack,
        &proxy,
        "DeleteObjects 200 with an AccessDenied inside",
        "s3:DeleteObjects",
    );
    assert!(!figure.succeeded, "{stderr}");
    assert!(stderr.contains("AccessDenied"), "{stderr}");
    assert!(stderr.contains("config.json"), "{stderr}");
    assert!(!stderr.contains("BucketNotEmpty"), "{stderr}");
    assert!(!deletes(&figure).contains(&"s3:DeleteBucket".to_owned()), "{figure}");
    // The bucket and its config are still there, and so is the role that
    // comes after the bucket.
    let config = aws
        .s3
        .get_object()
        .bucket(stack.bucket())
        .key("config.json")
        .send()
        .await;
    assert!(config.is_ok(), "the config is gone: {config:?}");
    assert!(aws.iam.get_role().role_name(stack.role()).send().await.is_ok());

    proxy.clear();
    let (figure, stderr) = teardown_via(&stack, &proxy, "none", "s3:DeleteObjects");
    assert!(figure.succeeded, "{stderr}");
    common::assert_nothing_exists(&stack);
}
