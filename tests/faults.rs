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
