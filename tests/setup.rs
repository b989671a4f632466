//! The setup wizard, answered through a pseudo-terminal against moto: the
//! happy path without alerts, a re-run that adds a host, a cancel, alerts
//! with a silence alarm (bad answers asked again), a live check that waits
//! for IAM, and no terminal at all.

#![cfg(unix)]

mod common;

use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use assert_cmd::prelude::*;
use common::{Aws, ForwardingProxy, Stack};
use ddns_testkit::Moto;
use ddns_testkit::faults::{self, FaultProxy};
use predicates::prelude::*;
use rexpect::process::WaitStatus;
use rexpect::session::{PtySession, spawn_command};
use serde_json::Value;

const ENTER: &str = "\n";

/// An address the wizard's host may publish: TEST-NET-3, which the service
/// treats as public.
const PUBLIC_IP: &str = "203.0.113.77";

/// Sends `keys` once the wizard reads the terminal in raw mode, that is once
/// a prompt waits for a key. Keys sent earlier reach the terminal while it
/// still echoes and buffers lines, and a prompt may misread them.
fn key(session: &mut PtySession, keys: &str) {
    use nix::sys::termios::{LocalFlags, tcgetattr};
    // On Linux the master side reports the terminal settings of the side the
    // wizard reads.
    let pty = session.process().get_file_handle().unwrap();
    let deadline = Instant::now() + Duration::from_secs(30);
    while tcgetattr(&pty).unwrap().local_flags.contains(LocalFlags::ICANON) {
        assert!(Instant::now() < deadline, "the wizard never waited for a key");
        std::thread::sleep(Duration::from_millis(5));
    }
    session.send(keys).unwrap();
    session.flush().unwrap();
}

fn wizard(stack: &Stack<'_>, check_url: &str) -> PtySession {
    let mut cmd = stack.cli();
    cmd.env("NO_COLOR", "1")
        .args(["setup", "--handler-zip"])
        .arg(&stack.zip)
        .args(["--check-url", check_url]);
    spawn_command(cmd, Some(60_000)).unwrap()
}

/// The wizard on `stack`, which exists: default region and name, then
/// "Add a host".
fn add_a_host(stack: &Stack<'_>, check_url: &str) -> PtySession {
    let mut session = wizard(stack, check_url);
    session.exp_string("Region").unwrap();
    key(&mut session, ENTER);
    session.exp_string("Stack name").unwrap();
    key(&mut session, ENTER);
    session.exp_string("exists. What now?").unwrap();
    key(&mut session, ENTER);
    session
}

/// The wizard's exit code; `None` if a signal ended it.
fn exit_code(session: &PtySession) -> Option<i32> {
    match session.process().wait().unwrap() {
        WaitStatus::Exited(_, code) => Some(code),
        _ => None,
    }
}

/// What the wizard asks about a domain of one's own: nothing on a stack
/// that exists; on a new one, the answer.
#[derive(Clone, Copy)]
enum Domain<'a> {
    NotAsked,
    Answer(&'a str),
}

/// Answers the host questions: zone (the only one), `label`, IPv4, TTL,
/// rate limit and client defaults, `domain`, no alert address, then goes ahead.
fn answer_host_questions(session: &mut PtySession, label: &str, domain: Domain<'_>) {
    answer_up_to_alerts(session, label, domain);
    session.exp_string("Email address for alerts").unwrap();
    key(session, ENTER);
    session.exp_string("[Y/n]").unwrap();
    key(session, "y");
}

/// The host questions before the alert address, as
/// [`answer_host_questions`] answers them.
fn answer_up_to_alerts(session: &mut PtySession, label: &str, domain: Domain<'_>) {
    session.exp_string("Hosted zone").unwrap();
    key(session, ENTER);
    session.exp_string("Hostname").unwrap();
    key(session, &format!("{label}\n"));
    session.exp_string("Record types").unwrap();
    key(session, ENTER);
    session.exp_string("TTL").unwrap();
    key(session, ENTER);
    session.exp_string("Rate limit").unwrap();
    key(session, ENTER);
    if let Domain::Answer(name) = domain {
        session.exp_string("a name of your own").unwrap();
        key(session, &format!("{name}\n"));
    }
    session.exp_string("Client").unwrap();
    key(session, ENTER);
    session.exp_string("Also issue TLS certificates").unwrap();
    key(session, ENTER);
}

/// A moto of the test's own, so that the zone list holds exactly one zone;
/// clients for it, that zone (id and name), and a stack to set up there.
async fn one_zone() -> (&'static Moto, Aws, (String, String), Stack<'static>) {
    let moto: &'static Moto = Box::leak(Box::new(Moto::dedicated()));
    let aws = Aws::new(moto).await;
    let zone = aws.zone().await;
    (moto, aws, zone, Stack::new(moto))
}

#[tokio::test(flavor = "multi_thread")]
async fn from_nothing_to_a_working_host_then_another() {
    let (moto, aws, (zone_id, zone), stack) = one_zone().await;
    // A local service on the stack's (future) bucket stands in for the
    // endpoint in the final live check, since moto cannot run the function.
    // Reached through the proxy, the check comes from a public address, as
    // it would through API Gateway; reached directly, from 127.0.0.1.
    let serve = common::Serve::start_with(&stack, &["--trust-forwarded-for"]);
    let proxy = ForwardingProxy::start(&serve.addr, PUBLIC_IP);

    moto.start_recording();
    let mut session = wizard(&stack, &proxy.url());
    session.exp_string("Region").unwrap();
    key(&mut session, ENTER);
    session.exp_string("Account 123456789012").unwrap();
    session.exp_string("Stack name").unwrap();
    key(&mut session, ENTER);
    answer_host_questions(&mut session, "home", Domain::Answer(""));
    session.exp_string("is deployed").unwrap();
    session.exp_string("Secret, shown this once").unwrap();
    session.exp_string("*/5 * * * * ddns-ctl update").unwrap();
    session.exp_string(&format!("mode=get: {PUBLIC_IP}")).unwrap();
    let home = format!("home.{zone}");
    session
        .exp_string(&format!(
            "mode=set: Your hostname record {home} has been set to {PUBLIC_IP}"
        ))
        .unwrap();
    session
        .exp_string(&format!("Done: {home} points at {PUBLIC_IP}."))
        .unwrap();
    session.exp_eof().unwrap();
    assert_eq!(exit_code(&session), Some(0));
    // One STS call, and one observation of the stack: GetBucketTagging and
    // DescribeLogGroups are read there and nowhere else.
    let calls = moto.recorded();
    let count = |wanted: &dyn Fn(&ddns_testkit::RecordedCall) -> bool| calls.iter().filter(|c| wanted(c)).count();
    assert_eq!(
        count(&|c| c.action.as_deref() == Some("GetCallerIdentity")),
        1,
        "{calls:#?}"
    );
    assert_eq!(
        count(&|c| c.action.as_deref() == Some("DescribeLogGroups")),
        1,
        "{calls:#?}"
    );
    assert_eq!(
        count(&|c| c.method == "GET" && c.url.ends_with("?tagging")),
        1,
        "{calls:#?}"
    );
    assert_eq!(common::record(&aws, &zone_id, &home, "A").await, [PUBLIC_IP]);
    // No address, no alerts: no topic, and the host has no silence alarm.
    assert!(topics(&aws).await.is_empty());
    assert_eq!(
        common::host_config(&aws, &stack, &home).await["alert_after_secs"],
        Value::Null
    );
    stack
        .cli()
        .arg("status")
        .assert()
        .success()
        .stdout(predicate::str::contains("hosts    1"));

    // Again: the stack is found and a second host is added. This check comes
    // from 127.0.0.1, which the host may not publish: the wizard says so,
    // and does not call it done.
    let mut session = add_a_host(&stack, &serve.url());
    answer_host_questions(&mut session, "second", Domain::NotAsked);
    let second = format!("second.{zone}");
    session.exp_string(&format!("Added {second}")).unwrap();
    session.exp_string("mode=set: refusing to publish 127.0.0.1").unwrap();
    session.exp_string("no address yet").unwrap();
    let rest = session.exp_eof().unwrap();
    assert_eq!(exit_code(&session), Some(1), "{rest}");
    assert!(
        rest.contains("the live check did not pass: the service refused the update")
            && rest.contains(&format!("ddns-ctl update --url {}", serve.url())),
        "{rest}"
    );
    assert!(!rest.contains("Done:"), "{rest}");
    assert!(common::record(&aws, &zone_id, &second, "A").await.is_empty());
    stack
        .cli()
        .arg("status")
        .assert()
        .success()
        .stdout(predicate::str::contains("hosts    2"));

    // Ctrl-C at a prompt of a new stack leaves nothing behind.
    let other = Stack::new(moto);
    let mut session = wizard(&other, &serve.url());
    session.exp_string("Region").unwrap();
    key(&mut session, ENTER);
    session.exp_string("Stack name").unwrap();
    key(&mut session, ENTER);
    session.exp_string("Hosted zone").unwrap();
    key(&mut session, "\x03");
    session.exp_eof().unwrap();
    assert_ne!(exit_code(&session), Some(0));
    common::assert_nothing_exists(&other);
}

/// Every SNS topic in the (dedicated) moto.
async fn topics(aws: &Aws) -> Vec<String> {
    let listed = aws.sns.list_topics().send().await.unwrap();
    listed
        .topics()
        .iter()
        .filter_map(|t| t.topic_arn().map(str::to_owned))
        .collect()
}

/// An address and `30m` (each after a bad answer, asked again): the wizard
/// says the costs before asking to go ahead, then enables alerts as `alerts
/// enable` does (a topic with a pending subscription), adds the host with
/// its silence alarm and metric filter, and says that the mail from AWS
/// must be confirmed.
#[tokio::test(flavor = "multi_thread")]
async fn alerts_by_email_and_a_silence_alarm() {
    let (_moto, aws, (_zone_id, zone), stack) = one_zone().await;
    let serve = common::Serve::start_with(&stack, &["--trust-forwarded-for"]);
    let proxy = ForwardingProxy::start(&serve.addr, PUBLIC_IP);
    let email = "me@example.com";

    let mut session = wizard(&stack, &proxy.url());
    session.exp_string("Region").unwrap();
    key(&mut session, ENTER);
    session.exp_string("Stack name").unwrap();
    key(&mut session, ENTER);
    answer_up_to_alerts(&mut session, "home", Domain::Answer(""));
    session.exp_string("Email address for alerts").unwrap();
    key(&mut session, "me@example\n");
    session.exp_string("'me@example' is not an email address").unwrap();
    key(&mut session, &format!("{email}\n"));
    let home = format!("home.{zone}");
    let host = home.trim_end_matches('.').to_owned();
    // The client is ddns-ctl update from cron, so an hour is offered.
    session
        .exp_string(&format!(
            "Alert when {home} sends no update for (5m to 7d, or none) [1h]"
        ))
        .unwrap();
    key(&mut session, "4m\n");
    session
        .exp_string("must be whole minutes from 5 minutes to 7 days")
        .unwrap();
    key(&mut session, "30m\n");
    session
        .exp_string(&format!("alerts to {email}, silence alarm after 30m."))
        .unwrap();
    session.exp_string("3 standard alarms at $0.10").unwrap();
    session
        .exp_string("1 alarm at $0.10 a month and 1 custom metric")
        .unwrap();
    session.exp_string("[Y/n]").unwrap();
    key(&mut session, "y");
    session.exp_string("is deployed").unwrap();
    session.exp_string("Alerts are enabled: topic").unwrap();
    session.exp_string(&format!("Added {home}")).unwrap();
    session
        .exp_string(&format!("Alerts: AWS sent a confirmation email to {email}"))
        .unwrap();
    let rest = session.exp_eof().unwrap();
    assert_eq!(exit_code(&session), Some(0), "{rest}");
    assert!(rest.contains(&format!("Done: {home} points at {PUBLIC_IP}.")), "{rest}");

    let arn = common::topic_arn(&stack);
    assert_eq!(topics(&aws).await, std::slice::from_ref(&arn));
    let subs = common::subscriptions(&aws, &arn).await;
    let subs: Vec<_> = subs
        .iter()
        .map(|s| (s.protocol(), s.endpoint(), s.subscription_arn()))
        .collect();
    assert_eq!(subs, [(Some("email"), Some(email), Some("PendingConfirmation"))]);
    assert_eq!(common::host_config(&aws, &stack, &home).await["alert_after_secs"], 1800);
    let silent = format!("ddns-ctl/{}/silent/{host}", stack.name);
    let filters: Vec<_> = common::filters(&aws, &stack).await;
    let filters: Vec<_> = filters.iter().map(|f| f.filter_name()).collect();
    assert_eq!(filters, [Some(silent.as_str())]);
    let alarms = common::alarms(&aws, &stack).await;
    let alarm: Vec<_> = alarms
        .iter()
        .filter(|a| a.alarm_name() == Some(silent.as_str()))
        .collect();
    assert_eq!(alarm.len(), 1, "{alarm:?}");
    assert_eq!(
        (alarm[0].period(), alarm[0].evaluation_periods()),
        (Some(1800), Some(1))
    );
    assert_eq!(alarm[0].alarm_actions(), std::slice::from_ref(&arn));

    // Again, for a second host: alerts are on, so an empty address keeps
    // them, and the host is still offered a silence alarm.
    let mut session = add_a_host(&stack, &proxy.url());
    answer_up_to_alerts(&mut session, "second", Domain::NotAsked);
    session
        .exp_string("Another email address for alerts (empty: alerts stay as they are)")
        .unwrap();
    key(&mut session, ENTER);
    let second = format!("second.{zone}");
    session
        .exp_string(&format!("Alert when {second} sends no update for"))
        .unwrap();
    key(&mut session, "45m\n");
    session.exp_string("; silence alarm after 45m.").unwrap();
    session.exp_string("[Y/n]").unwrap();
    key(&mut session, "y");
    session.exp_string(&format!("Added {second}")).unwrap();
    let rest = session.exp_eof().unwrap();
    assert_eq!(exit_code(&session), Some(0), "{rest}");
    assert_eq!(
        common::host_config(&aws, &stack, &second).await["alert_after_secs"],
        2700
    );
    assert_eq!(topics(&aws).await, std::slice::from_ref(&arn));
    let silent = format!("ddns-ctl/{}/silent/{}", stack.name, second.trim_end_matches('.'));
    let alarms = common::alarms(&aws, &stack).await;
    let alarm: Vec<_> = alarms
        .iter()
        .filter(|a| a.alarm_name() == Some(silent.as_str()))
        .collect();
    assert_eq!(alarm.len(), 1, "{alarms:?}");
    assert_eq!(alarm[0].period(), Some(2700));
}

/// IAM is eventually consistent: for a while after `host add` widened the
/// role, Route53 answers the function AccessDenied, and the seed API answers
/// 502. The live check waits for it, saying once what it waits for, and
/// passes when the function may change the record.
/// A name of one's own (after one outside every zone, asked again): the
/// plan says so, deploy makes the domain, and the client setup names
/// `https://NAME/`; the live check still goes to `--check-url`.
#[tokio::test(flavor = "multi_thread")]
async fn a_new_stack_at_a_name_of_ones_own() {
    let (_moto, aws, (_zone_id, zone), stack) = one_zone().await;
    let serve = common::Serve::start_with(&stack, &["--trust-forwarded-for"]);
    let proxy = ForwardingProxy::start(&serve.addr, PUBLIC_IP);
    let domain = format!("ddns.{}", zone.trim_end_matches('.'));

    let mut session = wizard(&stack, &proxy.url());
    session.exp_string("Region").unwrap();
    key(&mut session, ENTER);
    session.exp_string("Stack name").unwrap();
    key(&mut session, ENTER);
    for (prompt, answer) in [
        ("Hosted zone", ENTER),
        ("Hostname", "home\n"),
        ("Record types", ENTER),
        ("TTL", ENTER),
        ("Rate limit", ENTER),
    ] {
        session.exp_string(prompt).unwrap();
        key(&mut session, answer);
    }
    session.exp_string("a name of your own").unwrap();
    key(&mut session, "ddns.elsewhere.invalid\n");
    session
        .exp_string("ddns.elsewhere.invalid is in none of this account's hosted zones")
        .unwrap();
    key(&mut session, &format!("{domain}\n"));
    session.exp_string("Client").unwrap();
    key(&mut session, ENTER);
    // Certificates too, with lego.
    session.exp_string("Also issue TLS certificates").unwrap();
    key(&mut session, "y");
    session.exp_string("ACME client").unwrap();
    key(&mut session, ENTER);
    session.exp_string("Email address for alerts").unwrap();
    key(&mut session, ENTER);
    session.exp_string(&format!("at https://{domain}/")).unwrap();
    session.exp_string("[Y/n]").unwrap();
    key(&mut session, "y");
    session.exp_string("created alias records for").unwrap();
    session.exp_string(&format!("endpoint  https://{domain}/")).unwrap();
    session.exp_string("acme-dns account of home.").unwrap();
    session
        .exp_string(&format!("*/5 * * * * ddns-ctl update --url 'https://{domain}/'"))
        .unwrap();
    session.exp_string("Certificate client setup (Lego)").unwrap();
    session
        .exp_string(&format!("export ACME_DNS_API_BASE='https://{domain}/acme-dns'"))
        .unwrap();
    session.exp_string("exec lego --dns acme-dns --domains").unwrap();
    let rest = session.exp_eof().unwrap();
    assert_eq!(exit_code(&session), Some(0), "{rest}");
    assert!(rest.contains("Done: "), "{rest}");
    let config = common::config(&aws, &stack).await;
    let home = config
        .as_object()
        .unwrap()
        .keys()
        .find(|k| k.starts_with("home."))
        .unwrap()
        .clone();
    assert!(config[&home]["acme"]["key_sha256"].is_string(), "{config:#}");
    let got = aws
        .apigateway
        .get_domain_name()
        .domain_name(&domain)
        .send()
        .await
        .unwrap();
    assert_eq!(got.security_policy().map(|p| p.as_str()), Some("TLS_1_2"));
    stack.cli().args(["teardown", "--yes"]).assert().success();
}

#[tokio::test(flavor = "multi_thread")]
async fn the_live_check_waits_while_iam_lets_the_function_change_the_record() {
    let (moto, aws, (zone_id, zone), stack) = one_zone().await;
    // The service reaches Route53 through the proxy, which denies its first
    // three record changes as AWS does before the role's new policy applies.
    let proxy = FaultProxy::start(&moto.endpoint);
    let denied = 3;
    common::fail_record_changes(
        &proxy,
        denied,
        403,
        "AccessDenied",
        "User: arn:aws:sts::123456789012:assumed-role/ddns-ctl/ddns-ctl is not authorized to perform: \
         route53:ChangeResourceRecordSets on resource: arn:aws:route53:::hostedzone/Z \
         because no identity-based policy allows the route53:ChangeResourceRecordSets action",
    );
    let serve = common::Serve::start_via(&stack, &proxy, &["--trust-forwarded-for"]);
    let forwarding = ForwardingProxy::start(&serve.addr, PUBLIC_IP);

    let started = Instant::now();
    let mut session = wizard(&stack, &forwarding.url());
    session.exp_string("Region").unwrap();
    key(&mut session, ENTER);
    session.exp_string("Stack name").unwrap();
    key(&mut session, ENTER);
    answer_host_questions(&mut session, "home", Domain::Answer(""));
    session.exp_string(&format!("mode=get: {PUBLIC_IP}")).unwrap();
    let home = format!("home.{zone}");
    session
        .exp_string(&format!(
            "mode=set: waiting for IAM to let the function change {home}'s record \
             (the function answered 502: \"Route53 could not be read or updated; try again later.\"); \
             a new role policy can take a minute to apply"
        ))
        .unwrap();
    session
        .exp_string(&format!(
            "mode=set: Your hostname record {home} has been set to {PUBLIC_IP}"
        ))
        .unwrap();
    let rest = session.exp_eof().unwrap();
    assert_eq!(exit_code(&session), Some(0), "{rest}");
    // Said once, not once a try.
    assert!(!rest.contains("waiting for IAM"), "{rest}");
    assert!(rest.contains(&format!("Done: {home} points at {PUBLIC_IP}.")), "{rest}");
    assert_eq!(common::record(&aws, &zone_id, &home, "A").await, [PUBLIC_IP]);
    let calls = proxy.calls();
    let changes: Vec<Option<&str>> = calls
        .iter()
        .filter(|c| c.operation == "ChangeResourceRecordSets")
        .map(|c| c.fault.as_deref())
        .collect();
    assert_eq!(changes.len(), denied + 1, "{}", faults::summary(&calls));
    assert!(changes[..denied].iter().all(Option::is_some) && changes[denied].is_none());
    eprintln!(
        "figure: AccessDenied on the first {denied} ChangeResourceRecordSets: setup succeeded in {:.1} s, \
         the record change held up {:.1} s; {}",
        started.elapsed().as_secs_f64(),
        faults::held_up(&calls, "route53", "ChangeResourceRecordSets")
            .unwrap_or_default()
            .as_secs_f64(),
        faults::summary(&calls)
    );
}

#[test]
fn without_a_terminal_it_names_the_flags_to_use() {
    let moto = ddns_testkit::moto();
    Command::cargo_bin("ddns-ctl")
        .unwrap()
        .envs(moto.env())
        .arg("setup")
        .stdin(Stdio::null())
        .assert()
        .code(1)
        .stderr(predicate::str::contains("needs a terminal").and(predicate::str::contains("deploy --yes")));
}
