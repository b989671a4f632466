//! The fault proxy itself: it forwards unchanged, each service's SDK reads
//! an injected error as exactly that code, faults end when they should, and
//! every call is recorded in order.

use std::time::Duration;

use aws_sdk_s3::primitives::ByteStream;
use ddns_testkit::faults::{Fault, FaultProxy, summary};
use ddns_testkit::{moto, s3_client, unique};

/// The code and message an SDK error carries.
fn code_of<E: aws_sdk_s3::error::ProvideErrorMetadata>(err: &E) -> (String, String) {
    (
        err.code().unwrap_or("<no code>").to_owned(),
        err.message().unwrap_or("<no message>").to_owned(),
    )
}

/// A new bucket holding `key` with `body`; its name.
async fn bucket_with(s3: &aws_sdk_s3::Client, key: &str, body: &'static [u8]) -> String {
    let bucket = unique("faults");
    s3.create_bucket().bucket(&bucket).send().await.unwrap();
    s3.put_object()
        .bucket(&bucket)
        .key(key)
        .body(ByteStream::from_static(body))
        .send()
        .await
        .unwrap();
    bucket
}

#[tokio::test(flavor = "multi_thread")]
async fn forwarded_calls_work_and_are_recorded_in_order() {
    let proxy = FaultProxy::start(&moto().endpoint);
    let sdk = proxy.sdk_config().await;
    let s3 = s3_client(&sdk);
    let bucket = bucket_with(&s3, "a/config.json", b"{\"through\": \"the proxy\"}").await;
    let head = s3
        .head_object()
        .bucket(&bucket)
        .key("a/config.json")
        .send()
        .await
        .unwrap();
    assert_eq!(head.content_length(), Some(24), "a HEAD keeps the object's length");
    let got = s3
        .get_object()
        .bucket(&bucket)
        .key("a/config.json")
        .send()
        .await
        .unwrap();
    assert_eq!(
        got.body.collect().await.unwrap().into_bytes().as_ref(),
        b"{\"through\": \"the proxy\"}"
    );
    let apigateway = aws_sdk_apigateway::Client::new(&sdk);
    let api = apigateway.create_rest_api().name(unique("api")).send().await.unwrap();
    let id = api.id().unwrap();
    apigateway.delete_rest_api().rest_api_id(id).send().await.unwrap();
    let iam = aws_sdk_iam::Client::new(&sdk);
    let missing = iam
        .get_role()
        .role_name(unique("no-such-role"))
        .send()
        .await
        .unwrap_err();
    assert_eq!(code_of(&missing).0, "NoSuchEntity", "moto's own errors pass through");

    let calls = proxy.calls();
    let seen: Vec<String> = calls.iter().map(|c| format!("{}:{}", c.service, c.operation)).collect();
    assert_eq!(
        seen,
        [
            "s3:CreateBucket",
            "s3:PutObject",
            "s3:HeadObject",
            "s3:GetObject",
            "apigateway:CreateRestApi",
            "apigateway:DeleteRestApi",
            "iam:GetRole",
        ]
    );
    assert!(calls.windows(2).all(|w| w[0].at <= w[1].at), "{calls:?}");
    assert_eq!(calls[5].method, "DELETE");
    assert_eq!(calls[5].path, format!("/restapis/{id}"));
    assert_eq!(calls[6].status, 404);
    assert!(calls.iter().all(|c| c.fault.is_none()));
    assert_eq!(summary(&calls[..2]), "2 calls: s3:CreateBucket, s3:PutObject");
}

#[tokio::test(flavor = "multi_thread")]
async fn each_service_reads_an_injected_error_as_its_code_for_n_calls_then_gets_the_real_answer() {
    let proxy = FaultProxy::start(&moto().endpoint);
    let sdk = proxy.sdk_config().await;
    let faults = [
        (
            "apigateway",
            "GetRestApis",
            429,
            "TooManyRequestsException",
            "Too Many Requests",
        ),
        (
            "lambda",
            "GetFunction",
            429,
            "TooManyRequestsException",
            "Rate exceeded",
        ),
        (
            "s3",
            "CreateBucket",
            409,
            "OperationAborted",
            "A conflicting conditional operation is currently in progress against this resource. Please try again.",
        ),
        ("route53", "ListResourceRecordSets", 400, "Throttling", "Rate exceeded"),
        (
            "iam",
            "GetRole",
            403,
            "AccessDenied",
            "User is not authorized to perform: iam:GetRole",
        ),
        (
            "sts",
            "GetCallerIdentity",
            400,
            "ExpiredToken",
            "The security token included in the request is expired",
        ),
        ("logs", "DescribeLogGroups", 400, "ThrottlingException", "Rate exceeded"),
    ];
    for (service, operation, status, code, message) in faults {
        proxy.inject(
            Fault::error(service, operation, status, code, message)
                .header("Retry-After", "7")
                .first(2),
        );
    }
    let want = |code: &str, message: &str| (code.to_owned(), message.to_owned());

    let apigateway = aws_sdk_apigateway::Client::new(&sdk);
    for _ in 0..2 {
        let err = apigateway.get_rest_apis().send().await.unwrap_err();
        assert_eq!(code_of(&err), want(faults[0].3, faults[0].4));
        assert!(err.as_service_error().unwrap().is_too_many_requests_exception());
        let retry_after = err.raw_response().and_then(|r| r.headers().get("retry-after"));
        assert_eq!(retry_after, Some("7"));
    }
    apigateway
        .get_rest_apis()
        .send()
        .await
        .expect("the third call reaches moto");

    let lambda = aws_sdk_lambda::Client::new(&sdk);
    let function = unique("no-such-function");
    for _ in 0..2 {
        let err = lambda.get_function().function_name(&function).send().await.unwrap_err();
        assert!(
            err.as_service_error().unwrap().is_too_many_requests_exception(),
            "{err:?}"
        );
        assert_eq!(code_of(&err), want(faults[1].3, faults[1].4));
    }
    let real = lambda.get_function().function_name(&function).send().await.unwrap_err();
    assert!(
        real.as_service_error().unwrap().is_resource_not_found_exception(),
        "{real:?}"
    );

    let s3 = s3_client(&sdk);
    let bucket = unique("faults");
    for _ in 0..2 {
        let err = s3.create_bucket().bucket(&bucket).send().await.unwrap_err();
        assert_eq!(code_of(&err), want(faults[2].3, faults[2].4));
    }
    s3.create_bucket()
        .bucket(&bucket)
        .send()
        .await
        .expect("the third call creates it");

    let (zone_id, _) = ddns_testkit::create_zone(&aws_sdk_route53::Client::new(&moto().sdk_config().await)).await;
    let route53 = aws_sdk_route53::Client::new(&sdk);
    for _ in 0..2 {
        let err = route53
            .list_resource_record_sets()
            .hosted_zone_id(&zone_id)
            .send()
            .await
            .unwrap_err();
        assert_eq!(code_of(&err), want(faults[3].3, faults[3].4));
    }
    route53
        .list_resource_record_sets()
        .hosted_zone_id(&zone_id)
        .send()
        .await
        .unwrap();

    let iam = aws_sdk_iam::Client::new(&sdk);
    for _ in 0..2 {
        let err = iam.get_role().role_name("r").send().await.unwrap_err();
        assert_eq!(code_of(&err), want(faults[4].3, faults[4].4));
    }
    let real = iam
        .get_role()
        .role_name(unique("no-such-role"))
        .send()
        .await
        .unwrap_err();
    assert!(real.as_service_error().unwrap().is_no_such_entity_exception());

    let sts = aws_sdk_sts::Client::new(&sdk);
    for _ in 0..2 {
        let err = sts.get_caller_identity().send().await.unwrap_err();
        assert_eq!(code_of(&err), want(faults[5].3, faults[5].4));
    }
    sts.get_caller_identity().send().await.unwrap();

    let logs = aws_sdk_cloudwatchlogs::Client::new(&sdk);
    for _ in 0..2 {
        let err = logs.describe_log_groups().send().await.unwrap_err();
        assert_eq!(code_of(&err), want(faults[6].3, faults[6].4));
    }
    logs.describe_log_groups().send().await.unwrap();

    // Each operation: two faulted calls, then one that reached moto.
    for (service, operation, status, code, _) in faults {
        let calls = proxy.calls_to(service, operation);
        let faulted: Vec<Option<String>> = calls.iter().map(|c| c.fault.clone()).collect();
        let label = Some(format!("{status} {code}"));
        assert_eq!(faulted, [label.clone(), label, None], "{service}:{operation}");
        assert_eq!(calls[0].status, status);
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn a_trigger_opens_a_window_of_faults() {
    let proxy = FaultProxy::start(&moto().endpoint);
    let sdk = proxy.sdk_config().await;
    let s3 = s3_client(&sdk);
    let bucket = unique("faults");
    s3.create_bucket().bucket(&bucket).send().await.unwrap();
    let window = Duration::from_secs(3);
    proxy.inject(
        Fault::error("s3", "ListObjectVersions", 403, "AccessDenied", "Access Denied").after(
            "s3",
            "PutBucketVersioning",
            window,
        ),
    );
    let list = || s3.list_object_versions().bucket(&bucket).send();
    list().await.expect("no trigger yet, no fault");
    s3.put_bucket_versioning()
        .bucket(&bucket)
        .versioning_configuration(
            aws_sdk_s3::types::VersioningConfiguration::builder()
                .status(aws_sdk_s3::types::BucketVersioningStatus::Enabled)
                .build(),
        )
        .send()
        .await
        .unwrap();
    let err = list().await.unwrap_err();
    assert_eq!(code_of(&err).0, "AccessDenied");
    std::thread::sleep(window);
    list().await.expect("the window has closed");
    let faulted: Vec<bool> = proxy
        .calls_to("s3", "ListObjectVersions")
        .iter()
        .map(|c| c.fault.is_some())
        .collect();
    assert_eq!(faulted, [false, true, false]);
}

#[tokio::test(flavor = "multi_thread")]
async fn answers_and_rewrites_reach_the_sdk_as_aws_sends_them() {
    let proxy = FaultProxy::start(&moto().endpoint);
    let sdk = proxy.sdk_config().await;
    let s3 = s3_client(&sdk);
    let bucket = bucket_with(&s3, "config.json", b"{}").await;
    proxy.inject(Fault::delete_objects_denied());
    let object = aws_sdk_s3::types::ObjectIdentifier::builder()
        .key("config.json")
        .version_id("v1")
        .build()
        .unwrap();
    let delete = aws_sdk_s3::types::Delete::builder()
        .objects(object)
        .quiet(true)
        .build()
        .unwrap();
    let out = s3.delete_objects().bucket(&bucket).delete(delete).send().await.unwrap();
    let errors = out.errors();
    assert_eq!(errors.len(), 1, "{out:?}");
    assert_eq!(
        (errors[0].key(), errors[0].version_id(), errors[0].code()),
        (Some("config.json"), Some("v1"), Some("AccessDenied"))
    );
    s3.head_object()
        .bucket(&bucket)
        .key("config.json")
        .send()
        .await
        .expect("an answered call never reaches moto");

    // A rewrite goes to moto and changes what comes back.
    proxy.inject(Fault::rewrite("s3", "GetObject", |_, body| {
        body.replace("{}", "{\"rewritten\": true}")
    }));
    let got = s3.get_object().bucket(&bucket).key("config.json").send().await.unwrap();
    assert_eq!(
        got.body.collect().await.unwrap().into_bytes().as_ref(),
        b"{\"rewritten\": true}"
    );
}

#[test]
fn a_tags_error_replaces_the_tags() {
    let moto_reply = r#"{"Configuration": {"FunctionName": "f"}, "Tags": {"managed-by": "ddns-ctl"}}"#;
    let rewritten: serde_json::Value = serde_json::from_str(&ddns_testkit::faults::tags_error(moto_reply)).unwrap();
    assert!(rewritten.get("Tags").is_none());
    assert_eq!(rewritten["TagsError"]["ErrorCode"], "AccessDeniedException");
    assert_eq!(rewritten["Configuration"]["FunctionName"], "f");
}
