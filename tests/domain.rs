//! `deploy --domain`: the certificate, its validation record, the API
//! Gateway domain, the mapping and the aliases, read back from moto; the
//! endpoint everywhere; redeploys that change nothing; drift repaired;
//! records ddns-ctl did not make left alone; moves, removal and teardown
//! without orphans.

mod common;

use std::time::Instant;

use assert_cmd::assert::OutputAssertExt as _;

use aws_sdk_route53::types::{ChangeAction, ResourceRecord, ResourceRecordSet, RrType};
use common::{Aws, Stack};
use ddns_testkit::Moto;
use serde_json::Value;

/// Every record set of the zone, as Route53 answers it, to compare byte
/// for byte.
async fn zone_records(aws: &Aws, zone_id: &str) -> Vec<String> {
    let out = aws
        .route53
        .list_resource_record_sets()
        .hosted_zone_id(zone_id)
        .send()
        .await
        .unwrap();
    out.resource_record_sets().iter().map(|s| format!("{s:?}")).collect()
}

async fn put_record(aws: &Aws, zone_id: &str, name: &str, kind: RrType, value: &str) {
    let set = ResourceRecordSet::builder()
        .name(name)
        .r#type(kind)
        .ttl(300)
        .resource_records(ResourceRecord::builder().value(value).build().unwrap())
        .build()
        .unwrap();
    common::change_record(aws, zone_id, ChangeAction::Create, set).await;
}

/// The sets at exactly `name`.
async fn sets_at(aws: &Aws, zone_id: &str, name: &str) -> Vec<ResourceRecordSet> {
    let out = aws
        .route53
        .list_resource_record_sets()
        .hosted_zone_id(zone_id)
        .start_record_name(name)
        .send()
        .await
        .unwrap();
    out.resource_record_sets()
        .iter()
        .filter(|s| {
            s.name()
                .trim_end_matches('.')
                .eq_ignore_ascii_case(name.trim_end_matches('.'))
        })
        .cloned()
        .collect()
}

/// The ARNs of the certificates tagged for `stack`.
async fn certificates(aws: &Aws, stack: &str) -> Vec<String> {
    let mut ours = Vec::new();
    let list = aws.acm.list_certificates().send().await.unwrap();
    for summary in list.certificate_summary_list() {
        let arn = summary.certificate_arn().unwrap();
        let tags = aws
            .acm
            .list_tags_for_certificate()
            .certificate_arn(arn)
            .send()
            .await
            .unwrap();
        if tags
            .tags()
            .iter()
            .any(|t| t.key() == "ddns-ctl:stack" && t.value() == Some(stack))
        {
            ours.push(arn.to_owned());
        }
    }
    ours
}

async fn domain_names(aws: &Aws) -> Vec<String> {
    let out = aws.apigateway.get_domain_names().limit(500).send().await.unwrap();
    out.items()
        .iter()
        .filter_map(|d| d.domain_name().map(str::to_owned))
        .collect()
}

fn deploy_json(stack: &Stack<'_>, extra: &[&str]) -> Value {
    serde_json::from_slice(&stack.deploy(extra).stdout).unwrap()
}

/// No certificate, domain or record of the stack's is left, and the zone
/// is as it was.
async fn assert_no_orphan(aws: &Aws, stack: &Stack<'_>, names: &[&str], zone_id: &str, before: &[String]) {
    assert!(certificates(aws, &stack.name).await.is_empty(), "a certificate is left");
    let domains = domain_names(aws).await;
    for name in names {
        assert!(!domains.iter().any(|d| d == name), "domain {name} is left: {domains:?}");
    }
    assert_eq!(zone_records(aws, zone_id).await, before, "the zone is not as it was");
}

#[tokio::test(flavor = "multi_thread")]
async fn a_domain_is_deployed_whole_read_back_kept_repaired_and_torn_down_to_the_zone_it_found() {
    let moto = Moto::dedicated();
    let aws = Aws::new(&moto).await;
    let stack = Stack::new(&moto);
    let (zone_id, zone) = aws.zone().await;
    let domain = format!("ddns.{}", zone.trim_end_matches('.'));
    // Records that are not the stack's: a plain A, a CNAME to the domain,
    // and a look-alike of a validation record with another value.
    put_record(&aws, &zone_id, &format!("other.{zone}"), RrType::A, "198.51.100.1").await;
    put_record(&aws, &zone_id, &format!("www.{zone}"), RrType::Cname, &domain).await;
    put_record(
        &aws,
        &zone_id,
        &format!("_0123456789abcdef.{domain}."),
        RrType::Cname,
        "_fedcba9876543210.notyours.acm-validations.aws.",
    )
    .await;
    let before = zone_records(&aws, &zone_id).await;

    moto.start_recording();
    let started = Instant::now();
    let deployed = deploy_json(&stack, &["--domain", &domain]);
    let took = started.elapsed();
    let fresh = moto.recorded();
    eprintln!(
        "figure: deploy with a domain: {} calls ({} writes) in {:.2} s on moto (certificate issued on the first read)",
        fresh.len(),
        fresh.iter().filter(|c| c.is_mutating()).count(),
        took.as_secs_f64()
    );
    assert_eq!(deployed["endpoint"], format!("https://{domain}/"));
    let execute_api = deployed["execute_api"]["url"].as_str().unwrap();
    assert!(execute_api.contains(".execute-api."), "{deployed:#}");
    assert_eq!(deployed["execute_api"]["enabled"], true);

    // The certificate: the name, DNS validation, the stack's tags.
    let arns = certificates(&aws, &stack.name).await;
    assert_eq!(arns.len(), 1, "{arns:?}");
    let cert = aws
        .acm
        .describe_certificate()
        .certificate_arn(&arns[0])
        .send()
        .await
        .unwrap();
    let cert = cert.certificate().unwrap();
    assert_eq!(cert.domain_name(), Some(domain.as_str()));
    assert_eq!(cert.status().map(|s| s.as_str()), Some("ISSUED"));
    let validation = &cert.domain_validation_options()[0];
    assert_eq!(validation.validation_method().map(|m| m.as_str()), Some("DNS"));
    let tags = aws
        .acm
        .list_tags_for_certificate()
        .certificate_arn(&arns[0])
        .send()
        .await
        .unwrap();
    assert!(
        tags.tags()
            .iter()
            .any(|t| t.key() == "managed-by" && t.value() == Some("ddns-ctl"))
    );

    // Its validation record is in the zone, exactly as ACM asked.
    let record = validation.resource_record().unwrap();
    let cname = sets_at(&aws, &zone_id, record.name()).await;
    assert_eq!(cname.len(), 1, "{cname:?}");
    assert_eq!(cname[0].r#type(), &RrType::Cname);
    assert_eq!(cname[0].resource_records()[0].value(), record.value());

    // The domain: REGIONAL, dual-stack, the certificate, TLS 1.2, tagged.
    let got = aws
        .apigateway
        .get_domain_name()
        .domain_name(&domain)
        .send()
        .await
        .unwrap();
    let endpoint = got.endpoint_configuration().unwrap();
    assert_eq!(endpoint.types()[0].as_str(), "REGIONAL");
    assert_eq!(endpoint.ip_address_type().map(|t| t.as_str()), Some("dualstack"));
    assert_eq!(got.regional_certificate_arn(), Some(arns[0].as_str()));
    assert_eq!(got.security_policy().map(|p| p.as_str()), Some("TLS_1_2"));
    assert_eq!(
        got.tags().and_then(|t| t.get("ddns-ctl:stack")).map(String::as_str),
        Some(stack.name.as_str())
    );

    // The mapping: the empty path to the stack's API and stage.
    let api_id = aws.api_ids(&stack.name).await.remove(0);
    let mappings = aws
        .apigateway
        .get_base_path_mappings()
        .domain_name(&domain)
        .send()
        .await
        .unwrap();
    assert_eq!(mappings.items().len(), 1);
    assert_eq!(mappings.items()[0].base_path(), Some("(none)"));
    assert_eq!(mappings.items()[0].rest_api_id(), Some(api_id.as_str()));
    assert_eq!(mappings.items()[0].stage(), Some("prod"));

    // The aliases: A and AAAA, both at the domain's regional target.
    let aliases = sets_at(&aws, &zone_id, &domain).await;
    let kinds: Vec<&str> = aliases.iter().map(|s| s.r#type().as_str()).collect();
    assert_eq!(kinds, ["A", "AAAA"]);
    for alias in &aliases {
        let target = alias.alias_target().expect("an alias");
        assert_eq!(
            target.dns_name().trim_end_matches('.'),
            got.regional_domain_name().unwrap()
        );
        assert_eq!(Some(target.hosted_zone_id()), got.regional_hosted_zone_id());
    }

    // status and client-config print the domain URL.
    let (code, report) = common::status(&stack);
    assert_eq!(code, Some(0), "{report:#}");
    assert_eq!(report["endpoint"], format!("https://{domain}/"));
    assert_eq!(report["domain"]["name"], domain.as_str());
    assert_eq!(report["domain"]["certificate"]["status"], "ISSUED");
    assert!(report["domain"]["certificate"]["not_after"].is_string(), "{report:#}");
    assert_eq!(report["domain"]["validation_record"], "present");
    // The domain is no host: the function would write over its aliases.
    common::refused(&stack, &["host", "add", &domain], "is this stack's custom domain");
    let host = format!("home.{zone}");
    let added = stack
        .cli()
        .args(["host", "add", &host, "--zone-id", &zone_id])
        .output()
        .unwrap();
    assert!(added.status.success(), "{}", String::from_utf8_lossy(&added.stderr));
    let printed = String::from_utf8_lossy(&added.stdout);
    assert!(printed.contains(&format!("--url https://{domain}/")), "{printed}");
    let setup = stack
        .cli()
        .args(["client-config", &host, "--format", "ddclient"])
        .output()
        .unwrap();
    assert!(setup.status.success(), "{}", String::from_utf8_lossy(&setup.stderr));
    let setup = String::from_utf8_lossy(&setup.stdout);
    assert!(setup.contains(&format!("server={domain}")), "{setup}");
    assert!(!setup.contains("execute-api"), "{setup}");

    // A second deploy, without the flag, keeps the domain and writes nothing.
    moto.start_recording();
    let started = Instant::now();
    let again = deploy_json(&stack, &[]);
    let took = started.elapsed();
    let calls = moto.recorded();
    assert!(!calls.is_empty(), "the no-op deploy's recording is empty");
    assert_eq!(common::writes(&calls), Vec::<String>::new(), "a no-op deploy wrote");
    assert_eq!(again["changed"], false);
    assert_eq!(again["endpoint"], format!("https://{domain}/"));
    eprintln!(
        "figure: no-op redeploy with a domain: {} calls in {:.2} s on moto",
        calls.len(),
        took.as_secs_f64()
    );

    // A deleted validation record is drift (ACM could not renew), and
    // deploy writes it again.
    common::change_record(&aws, &zone_id, ChangeAction::Delete, cname[0].clone()).await;
    let (code, report) = common::status(&stack);
    assert_eq!(code, Some(1), "{report:#}");
    assert_eq!(common::state(&report, "validation-record"), "missing");
    assert_eq!(report["domain"]["validation_record"], "missing");
    let text = stack.cli().arg("status").output().unwrap();
    assert!(
        String::from_utf8_lossy(&text.stdout).contains("validation record MISSING"),
        "{}",
        String::from_utf8_lossy(&text.stdout)
    );
    moto.start_recording();
    let repaired = deploy_json(&stack, &[]);
    assert_eq!(repaired["changed"], true);
    let writes = common::writes(&moto.recorded());
    assert_eq!(writes.len(), 1, "the repair is one record change: {writes:?}");
    assert_eq!(sets_at(&aws, &zone_id, record.name()).await, cname);
    assert_eq!(common::status(&stack).0, Some(0));

    // Teardown removes exactly the stack's records, and every other piece.
    stack.cli().args(["host", "remove", &host]).assert().success();
    moto.start_recording();
    let started = Instant::now();
    stack.cli().args(["teardown", "--yes"]).assert().success();
    let took = started.elapsed();
    let calls = moto.recorded();
    eprintln!(
        "figure: teardown with a domain: {} calls ({} writes) in {:.2} s on moto",
        calls.len(),
        calls.iter().filter(|c| c.is_mutating()).count(),
        took.as_secs_f64()
    );
    assert_no_orphan(&aws, &stack, &[&domain], &zone_id, &before).await;
    common::assert_nothing_exists(&stack);
}

#[tokio::test(flavor = "multi_thread")]
async fn a_record_someone_else_made_at_the_name_stops_deploy_before_any_change() {
    let moto = ddns_testkit::moto();
    let aws = Aws::new(moto).await;
    let (zone_id, zone) = aws.zone().await;
    let plain = format!("ddns.{}", zone.trim_end_matches('.'));
    let elsewhere = format!("api.{}", zone.trim_end_matches('.'));
    put_record(&aws, &zone_id, &plain, RrType::A, "198.51.100.1").await;
    put_record(&aws, &zone_id, &elsewhere, RrType::Cname, "somewhere.example.net").await;
    let before = zone_records(&aws, &zone_id).await;
    for (name, named) in [
        (&plain, "A record ".to_owned() + &plain + " (198.51.100.1)"),
        (
            &elsewhere,
            "CNAME record ".to_owned() + &elsewhere + " (somewhere.example.net)",
        ),
    ] {
        let stack = Stack::new(moto);
        let out = stack
            .cli()
            .args(["deploy", "--yes", "--handler-zip"])
            .arg(&stack.zip)
            .args(["--domain", name])
            .output()
            .unwrap();
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(1), "{stderr}");
        assert!(stderr.contains("nothing was changed"), "{stderr}");
        assert!(stderr.contains(&named), "{stderr}");
        common::assert_nothing_exists(&stack);
        assert_no_orphan(&aws, &stack, &[name], &zone_id, &before).await;
    }
    // A name outside every zone of the account is refused the same way.
    let stack = Stack::new(moto);
    let zip = stack.zip.to_str().unwrap();
    common::refused(
        &stack,
        &[
            "deploy",
            "--yes",
            "--handler-zip",
            zip,
            "--domain",
            "ddns.nowhere.invalid",
        ],
        "is not inside a public hosted zone of this account",
    );
    common::assert_nothing_exists(&stack);
    // As are names no certificate can hold (clap's usage error: 2).
    for bad in ["*.example.com", "_x.example.com", "localhost"] {
        let out = stack
            .cli()
            .args(["deploy", "--yes", "--handler-zip", zip, "--domain", bad])
            .output()
            .unwrap();
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{bad}: {stderr}");
        assert!(stderr.contains("invalid domain"), "{bad}: {stderr}");
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn a_validation_record_another_certificate_needs_is_neither_overwritten_nor_deleted() {
    let moto = ddns_testkit::moto();
    let aws = Aws::new(moto).await;
    let (zone_id, zone) = aws.zone().await;
    let zone = zone.trim_end_matches('.');
    // ACM gives every certificate of an account for one name the same
    // record: a certificate of someone else's shows where it will be.
    let request = |name: String| {
        let acm = aws.acm.clone();
        async move {
            let arn = acm
                .request_certificate()
                .domain_name(&name)
                .validation_method(aws_sdk_acm::types::ValidationMethod::Dns)
                .send()
                .await
                .unwrap()
                .certificate_arn()
                .unwrap()
                .to_owned();
            let cert = acm.describe_certificate().certificate_arn(&arn).send().await.unwrap();
            let record = cert.certificate().unwrap().domain_validation_options()[0]
                .resource_record()
                .unwrap()
                .clone();
            (arn, record)
        }
    };

    // Taken: a CNAME with another value at the record's name. Its name is
    // known only once the stack's certificate is requested, so deploy stops
    // there, leaves the record, and makes nothing at the domain's name;
    // once the record is gone, deploy goes on with the same certificate.
    let taken = format!("taken.{zone}");
    let (_, record) = request(taken.clone()).await;
    put_record(
        &aws,
        &zone_id,
        record.name(),
        RrType::Cname,
        "_other.acm-validations.aws.",
    )
    .await;
    let before = zone_records(&aws, &zone_id).await;
    let stack = Stack::new(moto);
    let out = stack
        .cli()
        .args(["deploy", "--yes", "--handler-zip"])
        .arg(&stack.zip)
        .args(["--domain", &taken])
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    assert!(
        stderr.contains("the certificate's validation record is taken"),
        "{stderr}"
    );
    assert!(stderr.contains("_other.acm-validations.aws."), "{stderr}");
    assert_eq!(zone_records(&aws, &zone_id).await, before);
    let requested = certificates(&aws, &stack.name).await;
    assert_eq!(requested.len(), 1);
    let taken_record = sets_at(&aws, &zone_id, record.name()).await;
    common::change_record(&aws, &zone_id, ChangeAction::Delete, taken_record[0].clone()).await;
    assert!(
        stderr.contains(&format!("then run `ddns-ctl deploy --domain {taken}` again")),
        "{stderr}"
    );
    stack.deploy(&["--domain", &taken]);
    assert_eq!(
        certificates(&aws, &stack.name).await,
        requested,
        "the certificate is reused"
    );
    assert_eq!(sets_at(&aws, &zone_id, &taken).await.len(), 2);
    stack.cli().args(["teardown", "--yes"]).assert().success();

    // Shared: another certificate for the name uses the same record, so
    // teardown leaves it (and that certificate) in place.
    let shared = format!("shared.{zone}");
    let (other, record) = request(shared.clone()).await;
    stack.deploy(&["--domain", &shared]);
    let kept = sets_at(&aws, &zone_id, record.name()).await;
    assert_eq!(kept.len(), 1);
    stack.cli().args(["teardown", "--yes"]).assert().success();
    assert_eq!(sets_at(&aws, &zone_id, record.name()).await, kept);
    assert!(certificates(&aws, &stack.name).await.is_empty());
    aws.acm
        .describe_certificate()
        .certificate_arn(&other)
        .send()
        .await
        .expect("the other certificate stays");
    assert!(sets_at(&aws, &zone_id, &shared).await.is_empty(), "the aliases went");
}

#[tokio::test(flavor = "multi_thread")]
async fn moving_and_removing_the_domain_leave_no_orphan() {
    let moto = ddns_testkit::moto();
    let aws = Aws::new(moto).await;
    let stack = Stack::new(moto);
    let (zone_id, zone) = aws.zone().await;
    let zone = zone.trim_end_matches('.');
    let (first, second) = (format!("a.{zone}"), format!("b.{zone}"));
    let before = zone_records(&aws, &zone_id).await;

    // Without a domain the execute-api URL is the only way in.
    let out = stack
        .cli()
        .args(["deploy", "--yes", "--handler-zip"])
        .arg(&stack.zip)
        .arg("--disable-execute-api-endpoint")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains("needs a custom domain"));

    let deployed = deploy_json(&stack, &["--domain", &first, "--disable-execute-api-endpoint"]);
    assert_eq!(deployed["execute_api"]["enabled"], false);
    let api_id = aws.api_ids(&stack.name).await.remove(0);
    let api = aws.apigateway.get_rest_api().rest_api_id(&api_id).send().await.unwrap();
    assert!(api.disable_execute_api_endpoint());
    // Kept by a deploy without the flag.
    assert_eq!(deploy_json(&stack, &[])["changed"], false);

    // The dry run of a move shows both halves and changes nothing.
    let dry = stack
        .cli()
        .args(["deploy", "--dry-run", "--handler-zip"])
        .arg(&stack.zip)
        .args(["--domain", &second])
        .output()
        .unwrap();
    let plan = String::from_utf8_lossy(&dry.stdout);
    for line in [
        format!("+ create     certificate {second}"),
        format!("+ create     alias records for {second}"),
        format!("- delete     alias records for {first}"),
        format!("- delete     custom domain {first}"),
        format!("- delete     validation record for {first}"),
    ] {
        assert!(plan.contains(&line), "{line:?} not in:\n{plan}");
    }
    assert!(!domain_names(&aws).await.contains(&second));
    let moved = deploy_json(&stack, &["--domain", &second]);
    assert_eq!(moved["endpoint"], format!("https://{second}/"));
    assert!(!sets_at(&aws, &zone_id, &second).await.is_empty());
    assert!(sets_at(&aws, &zone_id, &first).await.is_empty(), "a's aliases are left");
    let domains = domain_names(&aws).await;
    assert!(!domains.contains(&first) && domains.contains(&second), "{domains:?}");
    assert_eq!(certificates(&aws, &stack.name).await.len(), 1);

    // --no-domain asks first: without a terminal and without --yes it
    // refuses and changes nothing.
    let out = stack
        .cli()
        .args(["deploy", "--handler-zip"])
        .arg(&stack.zip)
        .arg("--no-domain")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains("pass --yes"));
    assert!(domain_names(&aws).await.contains(&second));

    let removed = deploy_json(&stack, &["--no-domain"]);
    assert!(removed["endpoint"].as_str().unwrap().contains(".execute-api."));
    // The execute-api URL answers again: it is the only way in now.
    assert_eq!(removed["execute_api"]["enabled"], true);
    let api = aws.apigateway.get_rest_api().rest_api_id(&api_id).send().await.unwrap();
    assert!(!api.disable_execute_api_endpoint());
    assert_no_orphan(&aws, &stack, &[&first, &second], &zone_id, &before).await;
    let again = deploy_json(&stack, &[]);
    assert_eq!(again["changed"], false, "{again:#}");
    stack.cli().args(["teardown", "--yes"]).assert().success();
}
