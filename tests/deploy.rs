//! `ddns-ctl deploy`, `status` and `teardown`, driven as a user runs them:
//! the built binary against moto, every resource read back with the SDK.

mod common;

use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use assert_cmd::prelude::*;
use common::{Aws, Stack, decode, package};
use ddns_testkit::{ACCOUNT, Moto, REGION};
use predicates::prelude::*;
use serde_json::{Value, json};

#[tokio::test(flavor = "multi_thread")]
async fn deploy_creates_every_resource_as_specified() {
    let moto = ddns_testkit::moto();
    let aws = Aws::new(moto).await;
    let stack = Stack::new(moto);
    let out = stack.deploy(&[]);
    let summary: Value = serde_json::from_slice(&out.stdout).unwrap();
    let api_id = aws.api_ids(&stack.name).await.pop().expect("an API");
    assert_eq!(
        summary["endpoint"],
        format!("https://{api_id}.execute-api.{REGION}.amazonaws.com/prod/")
    );
    assert_eq!(summary["bucket"], stack.bucket());

    // IAM role: Lambda may assume it, and it may do only what the service needs.
    let role = aws.iam.get_role().role_name(stack.role()).send().await.unwrap();
    let role = role.role().unwrap();
    let trust = decode(role.assume_role_policy_document().unwrap());
    assert_eq!(
        trust["Statement"],
        json!([{"Effect": "Allow", "Principal": {"Service": "lambda.amazonaws.com"}, "Action": "sts:AssumeRole"}])
    );
    assert!(
        role.tags()
            .iter()
            .any(|t| t.key() == "managed-by" && t.value() == "ddns-ctl")
    );
    let policy = aws.role_policy(&stack).await;
    let statements = policy["Statement"].as_array().unwrap();
    assert_eq!(statements.len(), 2, "no hosts, so no Route53 access: {policy}");
    let read = statements.iter().find(|s| s["Action"] == "s3:GetObject").unwrap();
    assert_eq!(read["Resource"], format!("arn:aws:s3:::{}/config.json", stack.bucket()));
    let logs = statements.iter().find(|s| s["Sid"] == "OwnLogGroup").unwrap();
    assert_eq!(
        logs["Resource"][1],
        format!(
            "arn:aws:logs:{REGION}:{ACCOUNT}:log-group:/aws/lambda/{}:*",
            stack.function()
        )
    );

    // S3 bucket: private, encrypted, versioned, TLS only, tagged, with {}.
    let bucket = stack.bucket();
    let block = aws.s3.get_public_access_block().bucket(&bucket).send().await.unwrap();
    let block = block.public_access_block_configuration().unwrap();
    assert_eq!(
        (
            block.block_public_acls(),
            block.ignore_public_acls(),
            block.block_public_policy(),
            block.restrict_public_buckets()
        ),
        (Some(true), Some(true), Some(true), Some(true))
    );
    let encryption = aws.s3.get_bucket_encryption().bucket(&bucket).send().await.unwrap();
    assert!(
        !encryption
            .server_side_encryption_configuration()
            .unwrap()
            .rules()
            .is_empty()
    );
    let versioning = aws.s3.get_bucket_versioning().bucket(&bucket).send().await.unwrap();
    assert_eq!(versioning.status().map(|s| s.as_str()), Some("Enabled"));
    let bucket_policy: Value = serde_json::from_str(
        aws.s3
            .get_bucket_policy()
            .bucket(&bucket)
            .send()
            .await
            .unwrap()
            .policy()
            .unwrap(),
    )
    .unwrap();
    assert_eq!(bucket_policy["Statement"][0]["Effect"], "Deny");
    assert_eq!(
        bucket_policy["Statement"][0]["Condition"]["Bool"]["aws:SecureTransport"],
        "false"
    );
    let tags = aws.s3.get_bucket_tagging().bucket(&bucket).send().await.unwrap();
    assert!(
        tags.tag_set()
            .iter()
            .any(|t| t.key() == "ddns-ctl:stack" && t.value() == stack.name)
    );
    let config = aws
        .s3
        .get_object()
        .bucket(&bucket)
        .key("config.json")
        .send()
        .await
        .unwrap();
    assert_eq!(config.body.collect().await.unwrap().into_bytes().as_ref(), b"{}\n");

    // Lambda function.
    let function = aws.function(&stack).await.expect("the function");
    let config = function.configuration().unwrap();
    assert_eq!(config.runtime().map(|r| r.as_str()), Some("provided.al2023"));
    assert_eq!(
        config.architectures().iter().map(|a| a.as_str()).collect::<Vec<_>>(),
        ["arm64"]
    );
    assert_eq!(config.handler(), Some("bootstrap"));
    assert_eq!(config.memory_size(), Some(128));
    // JSON lines, so that metric filters and Logs Insights read the request
    // record; Lambda's START/END/REPORT lines dropped.
    let logging = config.logging_config().expect("a logging config");
    assert_eq!(
        (
            logging.log_format().map(|f| f.as_str()),
            logging.application_log_level().map(|l| l.as_str()),
            logging.system_log_level().map(|l| l.as_str()),
            logging.log_group(),
        ),
        (
            Some("JSON"),
            Some("INFO"),
            Some("WARN"),
            Some(format!("/aws/lambda/{}", stack.function()).as_str())
        )
    );
    assert_eq!(
        config.role(),
        Some(format!("arn:aws:iam::{ACCOUNT}:role/{}", stack.role()).as_str())
    );
    let env = config.environment().unwrap().variables().unwrap();
    assert_eq!(env.get("DDNS_CONFIG_BUCKET"), Some(&bucket));
    assert_eq!(env.get("DDNS_CONFIG_KEY").map(String::as_str), Some("config.json"));
    use base64::Engine as _;
    use sha2::Digest as _;
    let sha =
        base64::engine::general_purpose::STANDARD.encode(sha2::Sha256::digest(std::fs::read(&stack.zip).unwrap()));
    assert_eq!(config.code_sha256(), Some(sha.as_str()));
    let function_arn = config.function_arn().unwrap().to_owned();

    // API Gateway: REGIONAL and dual-stack, read back as AWS answers.
    let api = aws.apigateway.get_rest_api().rest_api_id(&api_id).send().await.unwrap();
    let endpoint = api.endpoint_configuration().unwrap();
    assert_eq!(
        (
            endpoint.types().iter().map(|t| t.as_str()).collect::<Vec<_>>(),
            endpoint.ip_address_type().map(|t| t.as_str())
        ),
        (vec!["REGIONAL"], Some("dualstack"))
    );
    assert_eq!(status_ip(&stack), "dualstack");

    // ANY on / and /{proxy+}, proxied to the function.
    let resources = aws
        .apigateway
        .get_resources()
        .rest_api_id(&api_id)
        .embed("methods")
        .send()
        .await
        .unwrap();
    let mut paths: Vec<&str> = resources.items().iter().filter_map(|r| r.path()).collect();
    paths.sort();
    assert_eq!(paths, ["/", "/{proxy+}"]);
    for resource in resources.items() {
        let method = &resource.resource_methods().unwrap()["ANY"];
        let integration = method.method_integration().unwrap();
        assert_eq!(integration.r#type().map(|t| t.as_str()), Some("AWS_PROXY"));
        assert_eq!(
            integration.uri(),
            Some(
                format!("arn:aws:apigateway:{REGION}:lambda:path/2015-03-31/functions/{function_arn}/invocations")
                    .as_str()
            )
        );
    }
    assert_eq!(common::throttling(&aws, &api_id).await, (5.0, 10));

    // The permission names exactly this API's stage.
    let permission = common::function_policy(&aws, &stack).await;
    let statements = permission["Statement"].as_array().unwrap();
    assert_eq!(statements.len(), 1);
    assert_eq!(statements[0]["Sid"], "ddns-ctl-apigateway");
    assert_eq!(
        statements[0]["Condition"]["ArnLike"]["AWS:SourceArn"],
        format!("arn:aws:execute-api:{REGION}:{ACCOUNT}:{api_id}/prod/*")
    );

    // Log group: made by deploy, with a retention and the stack's tags; the
    // role may write to it but no longer create it.
    let (retention, tags) = aws.log_group(&stack).await.expect("a log group");
    assert_eq!(retention, Some(30));
    assert_eq!(tags.get("managed-by").map(String::as_str), Some("ddns-ctl"));
    assert_eq!(tags.get("ddns-ctl:stack"), Some(&stack.name));
    assert!(!policy.to_string().contains("logs:CreateLogGroup"), "{policy}");

    // Status agrees.
    let (code, status) = common::status(&stack);
    assert_eq!(code, Some(0), "{status:#}");
    assert_eq!(status["healthy"], true);
    assert_eq!(status["endpoint"], summary["endpoint"]);
    assert_eq!(common::state(&status, "log-group"), "present");
}

#[tokio::test(flavor = "multi_thread")]
async fn drift_repair_touches_only_what_drifted() {
    let moto = Moto::dedicated();
    let aws = Aws::new(&moto).await;
    let stack = Stack::new(&moto);
    stack.deploy(&[]);

    // Three things changed by hand: the stage's rate limit, one statement of
    // the role's policy, and the log group's retention.
    let api_id = aws.api_ids(&stack.name).await.pop().unwrap();
    aws.apigateway
        .update_stage()
        .rest_api_id(&api_id)
        .stage_name("prod")
        .patch_operations(common::replace("/*/*/throttling/rateLimit", "100"))
        .send()
        .await
        .unwrap();
    let mut policy = aws.role_policy(&stack).await;
    policy["Statement"][1]["Resource"] = json!("arn:aws:s3:::*");
    aws.iam
        .put_role_policy()
        .role_name(stack.role())
        .policy_name("ddns-ctl")
        .policy_document(policy.to_string())
        .send()
        .await
        .unwrap();
    aws.logs
        .put_retention_policy()
        .log_group_name(stack.log_group())
        .retention_in_days(7)
        .send()
        .await
        .unwrap();

    // The dry run lists exactly those three, as typed changes, and writes nothing.
    moto.start_recording();
    let out = stack
        .cli()
        .args(["--output", "json", "deploy", "--dry-run", "--handler-zip"])
        .arg(&stack.zip)
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    assert!(moto.recorded().iter().all(|c| !c.is_mutating()));
    let plan: Value = serde_json::from_slice(&out.stdout).unwrap();
    let updates: Vec<(&str, &Value)> = plan["plan"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|s| s["action"] != "unchanged")
        .map(|s| (s["kind"].as_str().unwrap(), &s["changes"]))
        .collect();
    assert_eq!(
        updates,
        [
            ("role", &json!([{"change": "policy"}])),
            ("log-group", &json!([{"change": "retention", "days": 30}])),
            ("stage", &json!([{"change": "throttling", "rate": 5.0, "burst": 10}])),
        ],
        "{plan:#}"
    );

    // Deploy makes exactly the calls those three need, and nothing else.
    moto.start_recording();
    stack.deploy(&[]);
    let mut writes = common::writes(&moto.recorded());
    writes.sort();
    assert_eq!(
        writes,
        [
            format!("PATCH {api_id}/stages/prod"),
            "PutRetentionPolicy".to_owned(),
            "PutRolePolicy".to_owned(),
        ]
    );
    let (code, status) = common::status(&stack);
    assert_eq!(code, Some(0), "{status:#}");
}

#[test]
fn a_dry_run_and_a_no_op_redeploy_build_nothing() {
    let moto = ddns_testkit::moto();
    let stack = Stack::new(moto);
    stack.deploy(&[]);
    // No cargo, cargo-lambda or zig on the PATH: any build would fail.
    let empty = stack.dir.join("empty-path");
    std::fs::create_dir_all(&empty).unwrap();
    let out = stack
        .cli()
        .env("PATH", &empty)
        .args(["deploy", "--dry-run"])
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        text.contains("~ update     Lambda function") && text.contains("code: will be rebuilt and compared"),
        "{text}"
    );
    assert!(text.contains("= unchanged  IAM role"), "{text}");
    stack
        .cli()
        .env("PATH", &empty)
        .args(["deploy", "--yes", "--handler-zip"])
        .arg(&stack.zip)
        .assert()
        .success()
        .stdout(predicate::str::contains("is up to date"));
    // The positive control: without a package, a deploy that must compare
    // code does try to build, and so fails here.
    stack
        .cli()
        .env("PATH", &empty)
        .args(["deploy", "--yes"])
        .assert()
        .code(1)
        .stderr(predicate::str::contains("Building the handler"));
}

/// The IP address type `status` reports for the stack's API.
fn status_ip(stack: &Stack<'_>) -> String {
    let (_, status) = common::status(stack);
    status["ip_address_type"].as_str().unwrap_or_default().to_owned()
}

#[tokio::test(flavor = "multi_thread")]
async fn an_ipv4_only_api_becomes_dual_stack_without_a_redeployment() {
    let moto = Moto::dedicated();
    let aws = Aws::new(&moto).await;
    let stack = Stack::new(&moto);
    stack.deploy(&[]);
    let api_id = aws.api_ids(&stack.name).await.pop().unwrap();
    aws.apigateway
        .update_rest_api()
        .rest_api_id(&api_id)
        .patch_operations(common::replace("/endpointConfiguration/ipAddressType", "ipv4"))
        .send()
        .await
        .unwrap();

    // Status sees it: not healthy, and why.
    let (code, status) = common::status(&stack);
    assert_eq!(code, Some(1), "{status:#}");
    assert_eq!(status["ip_address_type"], "ipv4");
    let api = status["resources"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["kind"] == "api")
        .unwrap();
    assert_eq!(api["drift"], json!([{"change": "dual-stack"}]), "{status:#}");
    let text = stack.cli().arg("status").output().unwrap();
    let text = String::from_utf8_lossy(&text.stdout);
    assert!(text.contains("drifted  REST API"), "{text}");
    assert!(text.contains("(IPv4 only: becomes dual-stack)"), "{text}");
    assert!(text.contains("(IPv4 only)"), "{text}");

    // Deploy repairs it with one UpdateRestApi and no new deployment.
    moto.start_recording();
    stack.deploy(&[]);
    assert_eq!(common::writes(&moto.recorded()), [format!("PATCH {api_id}")]);
    let api = aws.apigateway.get_rest_api().rest_api_id(&api_id).send().await.unwrap();
    let endpoint = api.endpoint_configuration().unwrap();
    assert_eq!(endpoint.ip_address_type().map(|t| t.as_str()), Some("dualstack"));
    assert_eq!(
        endpoint.types().iter().map(|t| t.as_str()).collect::<Vec<_>>(),
        ["REGIONAL"]
    );
    assert_eq!(status_ip(&stack), "dualstack");
}

#[tokio::test(flavor = "multi_thread")]
async fn a_second_deploy_makes_no_mutating_call() {
    let moto = Moto::dedicated();
    let stack = Stack::new(&moto);
    moto.start_recording();
    stack.deploy(&[]);
    let fresh = moto.recorded();

    moto.start_recording();
    let out = stack
        .cli()
        .args(["deploy", "--yes", "--handler-zip"])
        .arg(&stack.zip)
        .output()
        .unwrap();
    let again = moto.recorded();
    assert!(out.status.success());
    assert!(String::from_utf8_lossy(&out.stdout).contains("is up to date"));
    // The positive control: the same recorder saw the fresh deploy's writes,
    // so an empty or unread recording cannot pass the checks below.
    let created: Vec<&ddns_testkit::RecordedCall> = fresh.iter().filter(|c| c.is_mutating()).collect();
    let made = |what: &str, call: &dyn Fn(&ddns_testkit::RecordedCall) -> bool| {
        assert!(
            created.iter().any(|c| call(c)),
            "the fresh deploy's recording lacks {what}: {created:#?}"
        );
    };
    made("CreateRole", &|c| c.action.as_deref() == Some("CreateRole"));
    made("CreateFunction", &|c| {
        c.method == "POST" && c.url.ends_with("/2015-03-31/functions")
    });
    made("CreateRestApi", &|c| c.method == "POST" && c.url.ends_with("/restapis"));
    assert!(!again.is_empty(), "the no-op deploy's recording is empty");
    let writes: Vec<String> = again
        .iter()
        .filter(|c| c.is_mutating())
        .map(ToString::to_string)
        .collect();
    assert!(writes.is_empty(), "a no-op deploy wrote: {writes:#?}");
    // STS 1, role 2, bucket 6, log group 2, function 1, API 2, stage 1,
    // permission 1, alert topic 1 (alarms and filters only with alerts on),
    // custom domains 1 (GetDomainNames; the rest only with a domain).
    assert!(again.len() <= 18, "a no-op deploy made {} reads", again.len());
    assert!(fresh.len() <= 40, "a fresh deploy made {} calls", fresh.len());

    // Nothing was duplicated.
    let aws = Aws::new(&moto).await;
    assert_eq!(aws.api_ids(&stack.name).await.len(), 1);
    let permission = common::function_policy(&aws, &stack).await;
    assert_eq!(permission["Statement"].as_array().unwrap().len(), 1);

    // A dry run of a new stack shows the plan and writes nothing.
    let other = Stack::new(&moto);
    moto.start_recording();
    other
        .cli()
        .args(["deploy", "--dry-run", "--handler-zip"])
        .arg(&other.zip)
        .assert()
        .success()
        .stdout(predicate::str::contains("+ create     IAM role").and(predicate::str::contains("dry run")));
    let dry_run = moto.recorded();
    // It looked (so the recording is live) and wrote nothing.
    assert!(
        dry_run.iter().any(|c| c.action.as_deref() == Some("GetRole")),
        "the dry run's recording lacks its reads: {dry_run:#?}"
    );
    let writes: Vec<String> = dry_run
        .iter()
        .filter(|c| c.is_mutating())
        .map(ToString::to_string)
        .collect();
    assert!(writes.is_empty(), "a dry run wrote: {writes:#?}");
    assert!(aws.api_ids(&other.name).await.is_empty());
    common::assert_nothing_exists(&other);
}

#[tokio::test(flavor = "multi_thread")]
async fn hosts_in_the_config_widen_the_role_to_their_zones_only() {
    let (stack, aws, zone_id, zone) = common::deployed().await;
    let host = format!("home.{zone}");
    let config = json!({ &host: common::host_entry(&zone_id, "a-secret-of-enough-length", false) });
    aws.put_config(&stack, &config).await;

    let out = stack.deploy(&[]);
    let summary: Value = serde_json::from_slice(&out.stdout).unwrap();
    let role_step = summary["plan"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["kind"] == "role")
        .unwrap();
    assert_eq!(role_step["action"], "update");
    let policy = aws.role_policy(&stack).await;
    assert_eq!(
        common::zones_in(&policy),
        json!([format!("arn:aws:route53:::hostedzone/{zone_id}")])
    );
    // The config was not overwritten by deploy.
    let kept = common::config(&aws, &stack).await;
    assert_eq!(kept, config);
}

#[tokio::test(flavor = "multi_thread")]
async fn teardown_removes_the_stack_and_nothing_else() {
    let moto = ddns_testkit::moto();
    let aws = Aws::new(moto).await;
    let (zone_id, zone) = aws.zone().await;
    let stack = Stack::new(moto);
    stack.deploy(&[]);
    let neighbour = Stack::new(moto);
    neighbour.deploy(&[]);
    // Several versions of the config, as host edits leave behind.
    for body in ["{}", "{ }", "{  }"] {
        aws.s3
            .put_object()
            .bucket(stack.bucket())
            .key("config.json")
            .body(body.as_bytes().to_vec().into())
            .send()
            .await
            .unwrap();
    }
    // A host of the stack lives in the zone, and its record has a value.
    let record = format!("home.{zone}");
    aws.put_config(
        &stack,
        &json!({ &record: common::host_entry(&zone_id, "a-secret-of-enough-length", false) }),
    )
    .await;
    stack.deploy(&[]);
    let change = aws_sdk_route53::types::Change::builder()
        .action(aws_sdk_route53::types::ChangeAction::Upsert)
        .resource_record_set(
            aws_sdk_route53::types::ResourceRecordSet::builder()
                .name(&record)
                .r#type(aws_sdk_route53::types::RrType::A)
                .ttl(60)
                .resource_records(
                    aws_sdk_route53::types::ResourceRecord::builder()
                        .value("203.0.113.1")
                        .build()
                        .unwrap(),
                )
                .build()
                .unwrap(),
        )
        .build()
        .unwrap();
    aws.route53
        .change_resource_record_sets()
        .hosted_zone_id(&zone_id)
        .change_batch(
            aws_sdk_route53::types::ChangeBatch::builder()
                .changes(change)
                .build()
                .unwrap(),
        )
        .send()
        .await
        .unwrap();

    // Without --yes and without a terminal, teardown refuses and deletes nothing.
    stack
        .cli()
        .arg("teardown")
        .stdin(Stdio::null())
        .assert()
        .code(1)
        .stderr(predicate::str::contains("pass --yes"));
    assert_eq!(aws.api_ids(&stack.name).await.len(), 1);

    stack
        .cli()
        .args(["teardown", "--yes"])
        .assert()
        .success()
        .stderr(predicate::str::contains(format!(
            "- delete     log group {}",
            stack.log_group()
        )));
    assert!(aws.api_ids(&stack.name).await.is_empty());
    assert_eq!(aws.log_group(&stack).await, None, "teardown left the log group");
    assert!(aws.function(&stack).await.is_none(), "the function is still there");
    assert!(aws.iam.get_role().role_name(stack.role()).send().await.is_err());
    assert!(aws.s3.head_bucket().bucket(stack.bucket()).send().await.is_err());
    // The zone, the host's record (exactly as it was) and the other stack
    // are untouched.
    assert_eq!(common::record(&aws, &zone_id, &record, "A").await, ["203.0.113.1"]);
    assert!(
        aws.route53.get_hosted_zone().id(&zone_id).send().await.is_ok(),
        "teardown deleted the zone"
    );
    assert_eq!(aws.api_ids(&neighbour.name).await.len(), 1);
    neighbour.cli().args(["status"]).assert().success();

    // A second teardown finds nothing, and says so.
    stack
        .cli()
        .args(["teardown", "--yes"])
        .assert()
        .success()
        .stdout(predicate::str::contains("Nothing"));
}

#[tokio::test(flavor = "multi_thread")]
async fn keep_config_leaves_the_bucket_and_its_versions() {
    let moto = ddns_testkit::moto();
    let aws = Aws::new(moto).await;
    let stack = Stack::new(moto);
    stack.deploy(&[]);
    stack
        .cli()
        .args(["teardown", "--yes", "--keep-config"])
        .assert()
        .success();
    assert!(aws.s3.head_bucket().bucket(stack.bucket()).send().await.is_ok());
    assert!(aws.function(&stack).await.is_none(), "the function is still there");
    // Deploying again adopts the kept bucket and config.
    stack.deploy(&[]);
    stack.cli().arg("status").assert().success();
}

#[tokio::test(flavor = "multi_thread")]
async fn an_interrupted_deploy_is_completed_by_the_next_one() {
    let moto = ddns_testkit::moto();
    let aws = Aws::new(moto).await;
    let stack = Stack::new(moto);
    let mut deploy = stack
        .cli()
        .args(["deploy", "--yes", "--handler-zip"])
        .arg(&stack.zip)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    // Kill it as soon as the first resource exists.
    let deadline = Instant::now() + Duration::from_secs(30);
    while aws.iam.get_role().role_name(stack.role()).send().await.is_err() {
        assert!(Instant::now() < deadline, "deploy never created the role");
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    deploy.kill().unwrap();
    let died = deploy.wait().unwrap();
    use std::os::unix::process::ExitStatusExt as _;
    assert_eq!(died.signal(), Some(9), "deploy was not killed but ended: {died}");
    // It died half-way: the role exists, the API does not.
    let (_, report) = common::status(&stack);
    assert_ne!(common::state(&report, "role"), "missing", "{report:#}");
    assert_eq!(common::state(&report, "api"), "missing", "{report:#}");
    assert!(aws.api_ids(&stack.name).await.is_empty());

    stack.deploy(&[]);
    stack.cli().arg("status").assert().success();
    assert_eq!(aws.api_ids(&stack.name).await.len(), 1);
}

#[tokio::test(flavor = "multi_thread")]
async fn a_partial_stack_shows_in_status_and_tears_down() {
    let moto = ddns_testkit::moto();
    let aws = Aws::new(moto).await;
    let stack = Stack::new(moto);
    stack.deploy(&[]);
    aws.lambda
        .delete_function()
        .function_name(stack.function())
        .send()
        .await
        .unwrap();
    let stage = common::replace("/*/*/throttling/rateLimit", "100");
    let api_id = aws.api_ids(&stack.name).await.pop().unwrap();
    aws.apigateway
        .update_stage()
        .rest_api_id(&api_id)
        .stage_name("prod")
        .patch_operations(stage)
        .send()
        .await
        .unwrap();

    let (code, report) = common::status(&stack);
    assert_eq!(code, Some(1));
    assert_eq!(common::state(&report, "function"), "missing", "{report:#}");
    assert_eq!(common::state(&report, "role"), "present", "{report:#}");

    // Deploy repairs it, and resets the throttling it found changed.
    stack.deploy(&[]);
    stack.cli().arg("status").assert().success();
    assert_eq!(common::throttling(&aws, &api_id).await, (5.0, 10));

    // And a partial stack tears down.
    aws.apigateway
        .delete_rest_api()
        .rest_api_id(&api_id)
        .send()
        .await
        .unwrap();
    stack.cli().args(["teardown", "--yes"]).assert().success();
    assert!(aws.iam.get_role().role_name(stack.role()).send().await.is_err());
    assert!(aws.s3.head_bucket().bucket(stack.bucket()).send().await.is_err());
    common::assert_nothing_exists(&stack);
}

#[tokio::test(flavor = "multi_thread")]
async fn resources_that_are_not_ours_are_never_adopted() {
    let moto = ddns_testkit::moto();
    let aws = Aws::new(moto).await;
    let stack = Stack::new(moto);
    aws.iam
        .create_role()
        .role_name(stack.role())
        .assume_role_policy_document("{}")
        .send()
        .await
        .unwrap();
    stack
        .cli()
        .args(["deploy", "--yes", "--handler-zip"])
        .arg(&stack.zip)
        .assert()
        .code(1)
        .stderr(predicate::str::contains("is not tagged managed-by=ddns-ctl"));
    assert!(aws.s3.head_bucket().bucket(stack.bucket()).send().await.is_err());
    stack.cli().args(["teardown", "--yes"]).assert().success();
    assert!(
        aws.iam.get_role().role_name(stack.role()).send().await.is_ok(),
        "teardown deleted a role it did not create"
    );
}

#[test]
fn bad_input_changes_nothing() {
    let moto = ddns_testkit::moto();
    let stack = Stack::new(moto);
    let not_executable = package(&stack.dir, 0o644);
    stack
        .cli()
        .args(["deploy", "--yes", "--handler-zip"])
        .arg(&not_executable)
        .assert()
        .code(1)
        .stderr(predicate::str::contains("`bootstrap` is not executable"));
    stack
        .cli()
        .args(["deploy", "--yes", "--handler-zip", "/nonexistent.zip"])
        .assert()
        .code(1)
        .stderr(predicate::str::contains("cannot read /nonexistent.zip"));
    stack
        .cli()
        .args(["deploy", "--yes", "--rate-limit", "0", "--handler-zip"])
        .arg(&stack.zip)
        .assert()
        .code(1)
        .stderr(predicate::str::contains("must be positive"));
    Command::cargo_bin("ddns-ctl")
        .unwrap()
        .envs(moto.env())
        .args(["--name", "Not_Valid", "status"])
        .assert()
        .code(1)
        .stderr(predicate::str::contains("invalid stack name"));
    common::assert_nothing_exists(&stack);
}

/// A new user's first run, with no region or no credentials and the
/// instance-metadata service unreachable (a closed port on loopback stands
/// in for it), or with a profile whose session has run out: stderr is
/// exactly ddns-ctl's one line, with the cause and the fix, and none of the
/// SDK's own warnings.
#[test]
fn a_first_run_prints_one_line_that_names_the_fix() {
    let closed = ddns_testkit::free_port();
    let home = tempfile::tempdir().unwrap();
    let first_run = |config: &str| {
        let mut cmd = Command::cargo_bin("ddns-ctl").unwrap();
        cmd.env_clear()
            .env("HOME", home.path())
            .env("AWS_CONFIG_FILE", config)
            .env("AWS_SHARED_CREDENTIALS_FILE", "/dev/null")
            .env(
                "AWS_EC2_METADATA_SERVICE_ENDPOINT",
                format!("http://127.0.0.1:{closed}"),
            )
            .arg("status");
        cmd
    };
    let stderr = |cmd: &mut Command| {
        let out = cmd.output().unwrap();
        assert_eq!(out.status.code(), Some(1));
        String::from_utf8_lossy(&out.stderr).into_owned()
    };
    assert_eq!(
        stderr(&mut first_run("/dev/null")),
        "error: no AWS region is set: pass --region or set AWS_REGION (or a region in your profile)\n"
    );
    assert_eq!(
        stderr(first_run("/dev/null").env("AWS_REGION", "eu-west-1")),
        "error: no AWS credentials found: run `aws configure`, pass --profile, or set AWS_ACCESS_KEY_ID \
         and AWS_SECRET_ACCESS_KEY (-v shows every source that was tried)\n"
    );

    // Profiles as `aws configure sso` and `aws login` write them.
    let config = home.path().join("config");
    std::fs::write(
        &config,
        "[sso-session corp]\nsso_start_url = https://corp.awsapps.com/start\nsso_region = us-east-1\n\
         sso_registration_scopes = sso:account:access\n\n\
         [profile x]\nsso_session = corp\nsso_account_id = 123456789012\nsso_role_name = Admin\nregion = eu-west-1\n\n\
         [profile y]\nlogin_session = arn:aws:iam::123456789012:user/Admin\nregion = eu-west-1\n\n\
         [profile z]\nrole_arn = arn:aws:iam::123456789012:role/R\ncredential_source = Bogus\nregion = eu-west-1\n",
    )
    .unwrap();
    let config = config.to_str().unwrap();
    // The session's token cache is named by the SHA-1 of the session's name.
    let cache = home.path().join(".aws/sso/cache");
    std::fs::create_dir_all(&cache).unwrap();
    let token = cache.join("ee0bfd2552fbd840c02cc48b6e823320543c450f.json");
    let write_token = |expires: &str| {
        let token_json = json!({
            "accessToken": "not-a-real-token",
            "expiresAt": expires,
            "region": "us-east-1",
            "startUrl": "https://corp.awsapps.com/start",
        });
        std::fs::write(&token, token_json.to_string()).unwrap();
    };
    write_token("2020-01-01T00:00:00Z");
    assert_eq!(
        stderr(first_run(config).args(["--profile", "x"])),
        "error: the AWS SSO session of profile `x` has expired or was never started: \
         run `aws sso login --profile x`\n"
    );
    // AWS_PROFILE is the same choice as --profile.
    assert_eq!(
        stderr(first_run(config).env("AWS_PROFILE", "x")),
        "error: the AWS SSO session of profile `x` has expired or was never started: \
         run `aws sso login --profile x`\n"
    );
    // A token still valid whose portal cannot be reached is not an expired
    // session (and proves the file above is the one the SDK reads).
    write_token("2099-01-01T00:00:00Z");
    assert_eq!(
        stderr(
            first_run(config)
                .args(["--profile", "x"])
                .env("AWS_ENDPOINT_URL", format!("http://127.0.0.1:{closed}"))
        ),
        "error: cannot load the credentials of profile `x`: Connection refused (os error 111) \
         (-v shows every source that was tried)\n"
    );
    // A token the SSO portal no longer takes (signed out elsewhere, or a
    // profile without `sso_session`, whose expiry the SDK does not check)
    // is an SSO session to renew too.
    let portal = common::FakeServer::start(|_| {
        let body = br#"{"message":"Session token not found or invalid"}"#;
        let mut answer = format!(
            "HTTP/1.1 401 Unauthorized\r\nContent-Type: application/json\r\n\
             x-amzn-ErrorType: UnauthorizedException\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
            body.len()
        )
        .into_bytes();
        answer.extend_from_slice(body);
        answer
    });
    assert_eq!(
        stderr(
            first_run(config)
                .args(["--profile", "x"])
                .env("AWS_ENDPOINT_URL", &portal.url)
        ),
        "error: the AWS SSO session of profile `x` has expired or was never started: \
         run `aws sso login --profile x`\n"
    );
    // `login_session` needs aws-config's credentials-login feature; without
    // a cached login token the fix is `aws login`.
    assert_eq!(
        stderr(first_run(config).args(["--profile", "y"])),
        "error: the `aws login` session of profile `y` has expired or was never started: \
         run `aws login --profile y`\n"
    );
    // A source this build does not know is named, with those it does.
    assert_eq!(
        stderr(first_run(config).args(["--profile", "z"])),
        "error: profile `z` uses a credential source ddns-ctl cannot use: credential_source = Bogus \
         (ddns-ctl knows Environment, Ec2InstanceMetadata and EcsContainer)\n"
    );
}

#[test]
fn missing_region_or_credentials_name_the_fix() {
    let moto = ddns_testkit::moto();
    let base = || {
        let mut cmd = Command::cargo_bin("ddns-ctl").unwrap();
        cmd.envs(moto.env()).env_remove("RUST_LOG");
        cmd
    };
    base()
        .env_remove("AWS_REGION")
        .env_remove("AWS_DEFAULT_REGION")
        .arg("status")
        .assert()
        .code(1)
        .stderr(predicate::str::contains("no AWS region is set: pass --region"));
    base()
        .env_remove("AWS_ACCESS_KEY_ID")
        .env_remove("AWS_SECRET_ACCESS_KEY")
        .arg("status")
        .assert()
        .code(1)
        .stderr(predicate::str::contains("no AWS credentials found"));
}

#[tokio::test(flavor = "multi_thread")]
async fn serve_finds_the_stack_bucket_by_name() {
    let (stack, aws, zone_id, zone) = common::deployed().await;
    let host = format!("home.{zone}");
    let config = json!({ &host: common::host_entry(&zone_id, "a-secret-of-enough-length", true) });
    aws.put_config(&stack, &config).await;

    let serve = common::Serve::start(&stack);
    let out = Command::new("curl")
        .args([
            "-s",
            "-u",
            &format!("{host}:a-secret-of-enough-length"),
            &format!("{}nic/update?hostname={host}", serve.url()),
        ])
        .output()
        .unwrap();
    assert_eq!(String::from_utf8_lossy(&out.stdout), "good 127.0.0.1\n");
}

#[tokio::test(flavor = "multi_thread")]
async fn changing_the_architecture_updates_the_function() {
    let moto = ddns_testkit::moto();
    let aws = Aws::new(moto).await;
    let stack = Stack::new(moto);
    stack.deploy(&[]);
    let out = stack.deploy(&["--arch", "x86_64"]);
    let summary: Value = serde_json::from_slice(&out.stdout).unwrap();
    let step = summary["plan"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["kind"] == "function")
        .unwrap();
    assert_eq!(step["changes"], json!([{"change": "architecture", "arch": "x86_64"}]));
    let function = aws.function(&stack).await.expect("the function");
    let arch: Vec<&str> = function
        .configuration()
        .unwrap()
        .architectures()
        .iter()
        .map(|a| a.as_str())
        .collect();
    assert_eq!(arch, ["x86_64"]);
    let out = stack.deploy(&["--arch", "x86_64"]);
    assert!(String::from_utf8_lossy(&out.stdout).contains("\"changed\": false"));
}

#[tokio::test(flavor = "multi_thread")]
async fn the_function_is_sized_for_its_config() {
    let (stack, aws, zone_id, zone) = common::deployed().await;
    let memory = |aws: &Aws, stack: &Stack<'static>| {
        let (aws, stack) = (aws.lambda.clone(), stack.function());
        async move {
            let out = aws.get_function().function_name(stack).send().await.unwrap();
            out.configuration().unwrap().memory_size().unwrap()
        }
    };
    assert_eq!(memory(&aws, &stack).await, 128);
    // 65,000 hosts: a 13 MB config, more than 128 MB can load.
    let hosts: serde_json::Map<String, Value> = (0..65_000)
        .map(|i| {
            let secret = format!("{i:0>43}");
            (format!("h{i}.{zone}"), common::host_entry(&zone_id, &secret, false))
        })
        .collect();
    aws.put_config(&stack, &Value::Object(hosts)).await;

    let out = stack.deploy(&[]);
    let summary: Value = serde_json::from_slice(&out.stdout).unwrap();
    let function = summary["plan"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["kind"] == "function")
        .unwrap();
    assert_eq!(
        function["changes"],
        json!([{"change": "configuration", "settings": ["memory"]}])
    );
    let sized = memory(&aws, &stack).await;
    assert!(sized > 128 && sized % 64 == 0, "{sized}");

    // Set back by hand, the next host add raises it again, and says so.
    aws.lambda
        .update_function_configuration()
        .function_name(stack.function())
        .memory_size(128)
        .send()
        .await
        .unwrap();
    stack
        .cli()
        .args(["host", "add", &format!("one-more.{zone}")])
        .assert()
        .success()
        .stdout(predicate::str::contains(format!("memory was raised to {sized} MB")));
    assert_eq!(memory(&aws, &stack).await, sized);
}
