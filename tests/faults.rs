//! The real binary against AWS faults that moto never shows, injected by
//! the fault proxy between ddns-ctl and moto (`testkit/src/faults.rs`).
//! Each test prints a figure (`-- --nocapture`): whether the command
//! succeeded, how long it took and waited, and the calls it made.

mod common;

use common::{Aws, Figure, Stack};
use ddns_testkit::faults::{self, Fault, FaultProxy};

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

/// AWS's answer to PutMethod on a method that exists.
fn method_exists() -> Fault {
    Fault::error(
        "apigateway",
        "PutMethod",
        409,
        "ConflictException",
        "Method already exists for this resource",
    )
}

/// The stack's API id and the id of its resource at `path`.
async fn route(aws: &Aws, stack: &Stack<'_>, path: &str) -> (String, String) {
    let api = aws.api_ids(&stack.name).await.pop().expect("an API");
    let resources = aws.apigateway.get_resources().rest_api_id(&api).send().await.unwrap();
    let id = resources
        .items()
        .iter()
        .find(|r| r.path() == Some(path))
        .and_then(|r| r.id())
        .expect("the route")
        .to_owned();
    (api, id)
}

/// The `ANY` integration of a route: (type, URI), `None` without one.
async fn integration(aws: &Aws, api: &str, resource: &str) -> Option<(String, String)> {
    let out = aws
        .apigateway
        .get_integration()
        .rest_api_id(api)
        .resource_id(resource)
        .http_method("ANY")
        .send()
        .await
        .ok()?;
    Some((out.r#type()?.as_str().to_owned(), out.uri()?.to_owned()))
}

/// Redeploys through a proxy that answers every PutMethod as AWS does for
/// an existing method, and checks that the deploy succeeded with no PutMethod
/// and one PutIntegration, on `resource`. Returns the proxy, for its calls.
fn repaired_by_put_integration_alone(stack: &Stack<'_>, resource: &str) -> FaultProxy {
    let proxy = FaultProxy::start(&stack.moto.endpoint);
    proxy.inject(method_exists());
    let (figure, out) = stack.deploy_via(&proxy, "ConflictException on every PutMethod", "apigateway:PutMethod");
    assert!(figure.succeeded, "{}", String::from_utf8_lossy(&out.stderr));
    assert!(proxy.calls_to("apigateway", "PutMethod").is_empty(), "{figure}");
    let put = proxy.calls_to("apigateway", "PutIntegration");
    assert_eq!(put.len(), 1, "{figure}");
    assert!(put[0].path.contains(&format!("/resources/{resource}/")), "{figure}");
    proxy
}

#[tokio::test(flavor = "multi_thread")]
async fn a_method_without_its_integration_gets_only_the_integration_back() {
    let moto = ddns_testkit::moto();
    let aws = Aws::new(moto).await;
    let stack = Stack::new(moto);
    stack.deploy(&[]);
    let (api, root) = route(&aws, &stack, "/").await;
    let wanted = integration(&aws, &api, &root).await.expect("deploy integrates /");
    // What a deploy interrupted between PutMethod and PutIntegration leaves.
    aws.apigateway
        .delete_integration()
        .rest_api_id(&api)
        .resource_id(&root)
        .http_method("ANY")
        .send()
        .await
        .unwrap();
    assert_eq!(integration(&aws, &api, &root).await, None);

    repaired_by_put_integration_alone(&stack, &root);
    assert_eq!(integration(&aws, &api, &root).await, Some(wanted));
}

#[tokio::test(flavor = "multi_thread")]
async fn an_integration_edited_by_hand_is_replaced_without_a_put_method() {
    let moto = ddns_testkit::moto();
    let aws = Aws::new(moto).await;
    let stack = Stack::new(moto);
    stack.deploy(&[]);
    let (api, proxy_path) = route(&aws, &stack, "/{proxy+}").await;
    let wanted = integration(&aws, &api, &proxy_path)
        .await
        .expect("deploy integrates /{proxy+}");
    let elsewhere = wanted.1.replace(&stack.function(), "someone-elses-function");
    aws.apigateway
        .put_integration()
        .rest_api_id(&api)
        .resource_id(&proxy_path)
        .http_method("ANY")
        .r#type(aws_sdk_apigateway::types::IntegrationType::AwsProxy)
        .integration_http_method("POST")
        .uri(&elsewhere)
        .send()
        .await
        .unwrap();
    assert_eq!(integration(&aws, &api, &proxy_path).await.unwrap().1, elsewhere);

    let proxy = repaired_by_put_integration_alone(&stack, &proxy_path);
    assert_eq!(integration(&aws, &api, &proxy_path).await, Some(wanted));
    assert_eq!(
        proxy.calls_to("apigateway", "CreateDeployment").len(),
        1,
        "clients see it only once deployed"
    );
}

/// API Gateway's answer to a call that comes too soon after another.
fn too_many_requests(operation: &str) -> Fault {
    Fault::error(
        "apigateway",
        operation,
        429,
        "TooManyRequestsException",
        "Too Many Requests",
    )
}

/// Checks that a progress line of step `step` says it waits, and `why`.
fn waited_on_the_progress_line(out: &std::process::Output, step: &str, why: &str) {
    let stderr = stderr(out);
    let waited = stderr
        .lines()
        .any(|line| line.starts_with(step) && line.contains(": waiting ") && line.ends_with(&format!(" s: {why}")));
    assert!(waited, "no {step:?} line waits because {why:?}:\n{stderr}");
}

/// The command's stderr, where the progress lines go without a terminal.
fn stderr(out: &std::process::Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

#[tokio::test(flavor = "multi_thread")]
async fn teardown_of_a_stack_with_two_stray_apis_rides_out_delete_rest_api_throttling() {
    let moto = ddns_testkit::moto();
    let aws = Aws::new(moto).await;
    let stack = Stack::new(moto);
    stack.deploy(&[]);
    // What interrupted deploys leave: more APIs tagged for the stack.
    for n in 0..2 {
        aws.apigateway
            .create_rest_api()
            .name(format!("{}-stray-{n}", stack.name))
            .tags("managed-by", "ddns-ctl")
            .tags("ddns-ctl:stack", &stack.name)
            .send()
            .await
            .unwrap();
    }
    assert_eq!(aws.api_ids(&stack.name).await.len(), 3);

    let proxy = FaultProxy::start(&moto.endpoint);
    // One more than the SDK's own three attempts.
    proxy.inject(too_many_requests("DeleteRestApi").first(4));
    let (figure, out) = Figure::measure(
        &proxy,
        "TooManyRequestsException on the first 4 DeleteRestApi",
        "apigateway:DeleteRestApi",
        || stack.cli_via(&proxy).args(["teardown", "--yes"]).output().unwrap(),
    );
    assert!(figure.succeeded, "{}", stderr(&out));
    assert_eq!(aws.api_ids(&stack.name).await, Vec::<String>::new());
    let deletes = proxy.calls_to("apigateway", "DeleteRestApi");
    assert_eq!(deletes.iter().filter(|c| c.fault.is_some()).count(), 4, "{figure}");
    assert_eq!(deletes.iter().filter(|c| c.fault.is_none()).count(), 3, "{figure}");
    // The wait is on the progress line, with its reason.
    waited_on_the_progress_line(
        &out,
        "Deleting REST API",
        "API Gateway allows one DeleteRestApi per 30 s (TooManyRequestsException)",
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn deploy_rides_out_create_deployment_throttling() {
    let moto = ddns_testkit::moto();
    let aws = Aws::new(moto).await;
    let stack = Stack::new(moto);
    let proxy = FaultProxy::start(&moto.endpoint);
    proxy.inject(too_many_requests("CreateDeployment").first(4));
    let (figure, out) = stack.deploy_via(
        &proxy,
        "TooManyRequestsException on the first 4 CreateDeployment",
        "apigateway:CreateDeployment",
    );
    assert!(figure.succeeded, "{}", stderr(&out));
    let api = aws.api_ids(&stack.name).await.pop().expect("an API");
    let stage = aws
        .apigateway
        .get_stage()
        .rest_api_id(&api)
        .stage_name("prod")
        .send()
        .await
        .unwrap();
    assert!(stage.deployment_id().is_some(), "the stage is deployed");
    waited_on_the_progress_line(
        &out,
        "Creating API stage",
        "API Gateway allows one CreateDeployment per 5 s (TooManyRequestsException)",
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn a_concurrent_modification_is_retried() {
    let moto = ddns_testkit::moto();
    let aws = Aws::new(moto).await;
    let stack = Stack::new(moto);
    let proxy = FaultProxy::start(&moto.endpoint);
    let message = "Unable to complete operation due to concurrent modification. Please try again later.";
    proxy.inject(Fault::error("apigateway", "PutIntegration", 409, "ConflictException", message).first(2));
    let (figure, out) = stack.deploy_via(
        &proxy,
        "ConflictException on the first 2 PutIntegration",
        "apigateway:PutIntegration",
    );
    assert!(figure.succeeded, "{}", stderr(&out));
    let puts = proxy.calls_to("apigateway", "PutIntegration");
    assert_eq!(puts.len(), 4, "two faulted, then one for each route: {figure}");
    for path in ["/", "/{proxy+}"] {
        let (api, resource) = route(&aws, &stack, path).await;
        assert!(
            integration(&aws, &api, &resource).await.is_some(),
            "{path} has no integration"
        );
    }
    waited_on_the_progress_line(
        &out,
        "Creating REST API",
        &format!("API Gateway is still applying another change to the API (ConflictException: {message})"),
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn deploy_rides_out_operation_aborted_on_create_bucket() {
    let moto = ddns_testkit::moto();
    let aws = Aws::new(moto).await;
    let stack = Stack::new(moto);
    let proxy = FaultProxy::start(&moto.endpoint);
    proxy.inject(
        Fault::error(
            "s3",
            "CreateBucket",
            409,
            "OperationAborted",
            "A conflicting conditional operation is currently in progress against this resource. Please try again.",
        )
        .first(3),
    );
    let (figure, out) = stack.deploy_via(
        &proxy,
        "OperationAborted on the first 3 CreateBucket",
        "s3:CreateBucket",
    );
    assert!(figure.succeeded, "{}", stderr(&out));
    assert_eq!(proxy.calls_to("s3", "CreateBucket").len(), 4, "{figure}");
    aws.s3
        .head_bucket()
        .bucket(stack.bucket())
        .send()
        .await
        .expect("the bucket exists");
    assert_eq!(
        common::config(&aws, &stack).await,
        serde_json::json!({}),
        "and holds the initial config"
    );
    waited_on_the_progress_line(
        &out,
        "Creating S3 bucket",
        "S3 is still finishing an earlier operation on this bucket name, such as its deletion (OperationAborted)",
    );
}

/// Route53 allows 5 requests a second per account and answers `Throttling`
/// past that. The service's Route53 client rides out four throttles in a
/// row on ChangeResourceRecordSets (the SDK's default gives up after two
/// retries), so a burst of hosts does not become 502 / `dnserr` answers.
#[tokio::test(flavor = "multi_thread")]
async fn the_service_rides_out_route53_throttling() {
    let (stack, aws, zone_id, zone) = common::deployed().await;
    let host = format!("home.{zone}");
    let secret = "a-secret-long-enough-for-the-rules";
    aws.put_config(
        &stack,
        &serde_json::json!({ &host: common::host_entry(&zone_id, secret, true) }),
    )
    .await;
    let proxy = FaultProxy::start(&stack.moto.endpoint);
    let throttled = 4;
    common::fail_record_changes(&proxy, throttled, 400, "Throttling", "Rate exceeded");
    let serve = common::Serve::start_via(&stack, &proxy, &[]);

    let started = std::time::Instant::now();
    assert_eq!(common::seed_set(&serve, &host, secret), 200);
    let took = started.elapsed();
    assert_eq!(common::record(&aws, &zone_id, &host, "A").await, ["127.0.0.1"]);
    let calls = proxy.calls_to("route53", "ChangeResourceRecordSets");
    assert_eq!(calls.len(), throttled + 1, "{}", faults::summary(&calls));
    eprintln!(
        "figure: Throttling on the first {throttled} ChangeResourceRecordSets: the set succeeded in {:.2} s, \
         held up {:.2} s; {}",
        took.as_secs_f64(),
        faults::held_up(&calls, "route53", "ChangeResourceRecordSets")
            .unwrap_or_default()
            .as_secs_f64(),
        faults::summary(&calls)
    );
}
