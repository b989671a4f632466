//! `ddns-ctl alerts …` and the hosts' alert settings against moto: the
//! topic, its pending email subscription, the alarms and metric filters,
//! read back with the SDK; idempotence counted with moto's recorder; and
//! that disable and teardown remove exactly what ddns-ctl made.

mod common;

use common::{Aws, Stack, alarms, filters, topic_arn};
use ddns_testkit::Moto;
use serde_json::Value;

fn ok(out: std::process::Output) -> String {
    assert!(
        out.status.success(),
        "failed: {}\n{}",
        String::from_utf8_lossy(&out.stderr),
        String::from_utf8_lossy(&out.stdout)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

fn enable(stack: &Stack<'_>, email: &str) -> String {
    ok(stack
        .cli()
        .args(["alerts", "enable", "--email", email])
        .output()
        .unwrap())
}

#[tokio::test]
async fn enable_makes_a_tagged_topic_a_pending_subscription_and_three_alarms_once() {
    let moto = Moto::dedicated();
    let aws = Aws::new(&moto).await;
    let stack = Stack::new(&moto);
    stack.deploy(&[]);
    let text = enable(&stack, "me@example.com");
    assert!(text.contains("$0.10 per alarm-month"), "{text}");
    assert!(text.contains("pending confirmation"), "{text}");

    let arn = topic_arn(&stack);
    let tags = aws
        .sns
        .list_tags_for_resource()
        .resource_arn(&arn)
        .send()
        .await
        .unwrap();
    let tags: Vec<(&str, &str)> = tags.tags().iter().map(|t| (t.key(), t.value())).collect();
    assert!(tags.contains(&("managed-by", "ddns-ctl")) && tags.contains(&("ddns-ctl:stack", stack.name.as_str())));
    let subs = common::subscriptions(&aws, &arn).await;
    assert_eq!(subs.len(), 1);
    assert_eq!(subs[0].endpoint(), Some("me@example.com"));
    assert_eq!(subs[0].protocol(), Some("email"));
    assert_eq!(subs[0].subscription_arn(), Some("PendingConfirmation"));

    let found = alarms(&aws, &stack).await;
    type Seen = (String, String, String, Vec<(String, String)>);
    let mut seen: Vec<Seen> = found
        .iter()
        .map(|a| {
            assert_eq!(a.statistic().map(|s| s.as_str()), Some("Sum"), "{a:?}");
            assert_eq!((a.period(), a.evaluation_periods()), (Some(300), Some(1)), "{a:?}");
            assert_eq!(a.threshold(), Some(0.0));
            assert_eq!(
                a.comparison_operator().map(|c| c.as_str()),
                Some("GreaterThanThreshold")
            );
            assert_eq!(a.treat_missing_data(), Some("notBreaching"));
            assert_eq!(a.alarm_actions(), std::slice::from_ref(&arn));
            assert_eq!(a.ok_actions(), std::slice::from_ref(&arn));
            let mut dims: Vec<(String, String)> = a
                .dimensions()
                .iter()
                .map(|d| (d.name().unwrap().to_owned(), d.value().unwrap().to_owned()))
                .collect();
            dims.sort();
            (
                a.alarm_name().unwrap().to_owned(),
                a.namespace().unwrap().to_owned(),
                a.metric_name().unwrap().to_owned(),
                dims,
            )
        })
        .collect();
    seen.sort();
    let prefix = format!("ddns-ctl/{}/", stack.name);
    let function = stack.function();
    assert_eq!(
        seen,
        [
            (
                format!("{prefix}5xx"),
                "AWS/ApiGateway".to_owned(),
                "5XXError".to_owned(),
                vec![
                    ("ApiName".to_owned(), function.clone()),
                    ("Stage".to_owned(), "prod".to_owned())
                ]
            ),
            (
                format!("{prefix}errors"),
                "AWS/Lambda".to_owned(),
                "Errors".to_owned(),
                vec![("FunctionName".to_owned(), function.clone())]
            ),
            (
                format!("{prefix}throttles"),
                "AWS/Lambda".to_owned(),
                "Throttles".to_owned(),
                vec![("FunctionName".to_owned(), function.clone())]
            ),
        ]
    );
    let alarm_tags = aws
        .cloudwatch
        .list_tags_for_resource()
        .resource_arn(found[0].alarm_arn().unwrap())
        .send()
        .await
        .unwrap();
    assert!(alarm_tags.tags().iter().any(|t| t.key() == Some("ddns-ctl:stack")));
    let env = aws
        .lambda
        .get_function_configuration()
        .function_name(&function)
        .send()
        .await
        .unwrap();
    let vars = env.environment().unwrap().variables().unwrap();
    assert_eq!(vars.get("DDNS_ALERT_TOPIC_ARN"), Some(&arn));

    // The same address again: nothing to change, no mutating call.
    moto.start_recording();
    let again = enable(&stack, "ME@example.com");
    let writes: Vec<String> = moto
        .recorded()
        .into_iter()
        .filter(|c| c.is_mutating())
        .map(|c| c.to_string())
        .collect();
    assert!(writes.is_empty(), "{writes:#?}");
    assert!(again.contains("nothing changed"), "{again}");
    // Deploy keeps the topic's environment and plans nothing new.
    let out = stack
        .cli()
        .args(["--output", "json", "deploy", "--dry-run", "--handler-zip"])
        .arg(&stack.zip)
        .output()
        .unwrap();
    let plan: Value = serde_json::from_slice(&out.stdout).unwrap();
    for step in plan["plan"].as_array().unwrap() {
        assert_eq!(step["action"], "unchanged", "{plan:#}");
    }

    // Another address adds a subscription.
    enable(&stack, "you@example.com");
    assert_eq!(common::subscriptions(&aws, &arn).await.len(), 2);

    // Status says the subscription waits for the person.
    let (_, report) = common::status(&stack);
    let subs = report["alerts"]["subscriptions"].as_array().unwrap();
    assert!(subs.iter().all(|s| s["confirmed"] == false), "{report:#}");
    assert_eq!(report["alerts"]["alarms"].as_array().unwrap().len(), 3, "{report:#}");

    // alerts test: one Publish.
    moto.start_recording();
    ok(stack.cli().args(["alerts", "test"]).output().unwrap());
    let publishes = moto
        .recorded()
        .into_iter()
        .filter(|c| c.action.as_deref() == Some("Publish"))
        .count();
    assert_eq!(publishes, 1);

    // Deploy repairs a deleted alarm.
    aws.cloudwatch
        .delete_alarms()
        .alarm_names(format!("{prefix}errors"))
        .send()
        .await
        .unwrap();
    stack.deploy(&[]);
    assert_eq!(alarms(&aws, &stack).await.len(), 3);
}

#[tokio::test]
async fn host_alerts_are_refused_without_alerts_and_follow_the_host() {
    let (stack, aws, _zone_id, zone) = common::deployed().await;
    let host = format!("home.{}", zone.trim_end_matches('.'));
    let before = common::config(&aws, &stack).await;
    for flags in [&["--alert-after", "30m"][..], &["--notify-on-change"][..]] {
        let out = stack.cli().args(["host", "add", &host]).args(flags).output().unwrap();
        assert!(!out.status.success());
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(err.contains("ddns-ctl alerts enable --email"), "{err}");
    }
    assert_eq!(common::config(&aws, &stack).await, before);
    assert!(filters(&aws, &stack).await.is_empty());

    enable(&stack, "me@example.com");
    let out = stack
        .cli()
        .args(["host", "add", &host, "--alert-after", "30m"])
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&out.stderr).into_owned();
    ok(out);
    assert!(err.contains("$0.30 a month"), "{err}");
    let entry = common::host_config(&aws, &stack, &host).await;
    assert_eq!(entry["alert_after_secs"], 1800);
    let found = filters(&aws, &stack).await;
    assert_eq!(found.len(), 1, "{found:?}");
    let f = &found[0];
    assert_eq!(
        f.filter_name(),
        Some(format!("ddns-ctl/{}/silent/{host}", stack.name).as_str())
    );
    assert_eq!(
        f.filter_pattern(),
        Some(
            format!(
                r#"{{ ($.fields.message = "request") && ($.fields.host = "{host}") && (($.fields.result = "changed") || ($.fields.result = "unchanged")) }}"#
            )
            .as_str()
        )
    );
    let t = &f.metric_transformations()[0];
    assert_eq!(
        (
            t.metric_namespace(),
            t.metric_name(),
            t.metric_value(),
            t.default_value()
        ),
        (format!("ddns-ctl/{}", stack.name).as_str(), host.as_str(), "1", None)
    );
    let silent = alarms(&aws, &stack)
        .await
        .into_iter()
        .find(|a| a.alarm_name().is_some_and(|n| n.ends_with(&format!("silent/{host}"))))
        .expect("the silence alarm");
    assert_eq!(silent.treat_missing_data(), Some("breaching"));
    assert_eq!((silent.period(), silent.evaluation_periods()), (Some(1800), Some(1)));
    assert_eq!(silent.threshold(), Some(1.0));
    assert_eq!(
        silent.comparison_operator().map(|c| c.as_str()),
        Some("LessThanThreshold")
    );
    assert_eq!(silent.namespace(), Some(format!("ddns-ctl/{}", stack.name).as_str()));
    assert_eq!(silent.alarm_actions(), [topic_arn(&stack)]);
    assert_eq!(silent.ok_actions(), [topic_arn(&stack)]);

    // Notifications: the role may publish to exactly the stack's topic.
    let publish = |policy: &Value| -> Vec<Value> {
        policy["Statement"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|s| s.to_string().contains("sns:"))
            .cloned()
            .collect()
    };
    assert!(publish(&aws.role_policy(&stack).await).is_empty());
    ok(stack
        .cli()
        .args(["host", "set", &host, "--notify-on-change"])
        .output()
        .unwrap());
    let statements = publish(&aws.role_policy(&stack).await);
    assert_eq!(statements.len(), 1, "{statements:?}");
    assert_eq!(statements[0]["Action"], "sns:Publish");
    assert_eq!(statements[0]["Resource"], topic_arn(&stack));
    ok(stack
        .cli()
        .args(["host", "set", &host, "--no-notify-on-change"])
        .output()
        .unwrap());
    assert!(publish(&aws.role_policy(&stack).await).is_empty());

    // Clearing the alert-after removes its filter and alarm.
    ok(stack
        .cli()
        .args(["host", "set", &host, "--no-alert-after"])
        .output()
        .unwrap());
    assert!(filters(&aws, &stack).await.is_empty());
    assert_eq!(alarms(&aws, &stack).await.len(), 3);
    teardown_leaves_only_others(&stack, &aws).await;
}

/// Disable, then teardown, remove what ddns-ctl made and nothing else.
async fn teardown_leaves_only_others(stack: &Stack<'_>, aws: &Aws) {
    let other = aws
        .sns
        .create_topic()
        .name(format!("{}-other", stack.name))
        .send()
        .await
        .unwrap();
    let other_alarm = format!("ddns-ctl/{}/by-hand", stack.name);
    aws.cloudwatch
        .put_metric_alarm()
        .alarm_name(&other_alarm)
        .namespace("AWS/Lambda")
        .metric_name("Errors")
        .statistic(aws_sdk_cloudwatch::types::Statistic::Sum)
        .period(60)
        .evaluation_periods(1)
        .threshold(1.0)
        .comparison_operator(aws_sdk_cloudwatch::types::ComparisonOperator::GreaterThanThreshold)
        .send()
        .await
        .unwrap();
    ok(stack.cli().args(["alerts", "disable", "--yes"]).output().unwrap());
    let arn = topic_arn(stack);
    assert!(aws.sns.get_topic_attributes().topic_arn(&arn).send().await.is_err());
    let left: Vec<String> = alarms(aws, stack)
        .await
        .iter()
        .map(|a| a.alarm_name().unwrap().to_owned())
        .collect();
    assert_eq!(left, std::slice::from_ref(&other_alarm));
    let env = aws
        .lambda
        .get_function_configuration()
        .function_name(stack.function())
        .send()
        .await
        .unwrap();
    assert!(
        !env.environment()
            .unwrap()
            .variables()
            .unwrap()
            .contains_key("DDNS_ALERT_TOPIC_ARN")
    );

    enable(stack, "me@example.com");
    ok(stack.cli().args(["teardown", "--yes"]).output().unwrap());
    let left: Vec<String> = alarms(aws, stack)
        .await
        .iter()
        .map(|a| a.alarm_name().unwrap().to_owned())
        .collect();
    assert_eq!(left, [other_alarm]);
    assert!(aws.sns.get_topic_attributes().topic_arn(&arn).send().await.is_err());
    let subs = aws.sns.list_subscriptions().send().await.unwrap();
    assert!(subs.subscriptions().iter().all(|s| s.topic_arn() != Some(arn.as_str())));
    assert!(
        aws.sns
            .get_topic_attributes()
            .topic_arn(other.topic_arn().unwrap())
            .send()
            .await
            .is_ok()
    );
}
