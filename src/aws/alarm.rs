//! The stack's CloudWatch alarms, each notifying the alert topic when it
//! fires (AlarmActions) and when it clears (OKActions):
//! - `ddns-ctl/<stack>/errors` and `…/throttles`: the function's `Errors`
//!   and `Throttles` (AWS/Lambda, by FunctionName), any in 5 minutes;
//! - `ddns-ctl/<stack>/5xx`: the REST API's `5XXError` (AWS/ApiGateway, by
//!   ApiName and Stage, the dimensions REST APIs publish), any in 5 minutes;
//! - `ddns-ctl/<stack>/silent/<host>`: no accepted request from the host
//!   (its metric filter's count) over its alert-after duration, with
//!   missing data breaching, since a quiet host writes no data at all.
//!
//! Alarms carry the stack's tags; only tagged ones are deleted. Their names
//! start with [`Names::alert_prefix`], which no other stack's do.

use aws_sdk_cloudwatch::Client;
use aws_sdk_cloudwatch::types::{ComparisonOperator, Dimension, Statistic, Tag};
use serde::Serialize;

use super::AwsError;
use super::retry::Retry;
use crate::model::Names;
use crate::plan::{Action, Change};

/// CloudWatch's longest alarm name.
pub const MAX_NAME_LEN: usize = 255;

/// An alarm's definition: what PutMetricAlarm sends and what is compared.
#[derive(Debug, Clone, PartialEq)]
pub struct Desired {
    /// Its name.
    pub name: String,
    /// What it says in the notification.
    pub description: String,
    /// The metric's namespace.
    pub namespace: String,
    /// The metric.
    pub metric: String,
    /// The metric's dimensions, sorted by name.
    pub dimensions: Vec<(String, String)>,
    /// Seconds per period.
    pub period: i32,
    /// Periods evaluated; all of them must breach.
    pub evaluation_periods: i32,
    /// The threshold.
    pub threshold: f64,
    /// `GreaterThanThreshold` or `LessThanThreshold`.
    pub comparison: &'static str,
    /// `notBreaching` or `breaching`.
    pub treat_missing_data: &'static str,
    /// The topic it notifies, both ways.
    pub topic_arn: String,
}

/// An alarm as it exists.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Observed {
    /// Its name.
    pub name: String,
    /// Its state: `OK`, `ALARM` or `INSUFFICIENT_DATA`.
    pub state: String,
    /// It carries the stack's tags.
    #[serde(skip)]
    pub tagged: bool,
    /// Its ARN.
    #[serde(skip)]
    pub arn: String,
    /// Its definition, as far as it was read.
    #[serde(skip)]
    pub definition: Desired,
}

fn every_five_minutes(names: &Names, suffix: &str, what: &str, topic_arn: &str) -> Desired {
    Desired {
        name: format!("{}{suffix}", names.alert_prefix()),
        description: format!("ddns-ctl {}: {what}", names.stack),
        namespace: String::new(),
        metric: String::new(),
        dimensions: vec![],
        period: 300,
        evaluation_periods: 1,
        threshold: 0.0,
        comparison: "GreaterThanThreshold",
        // No invocations is no data, and nothing wrong.
        treat_missing_data: "notBreaching",
        topic_arn: topic_arn.to_owned(),
    }
}

/// The three alarms every stack with alerts has.
pub fn stack_alarms(names: &Names, stage: &str, topic_arn: &str) -> Vec<Desired> {
    let lambda = |suffix, metric: &str, what| Desired {
        namespace: "AWS/Lambda".into(),
        metric: metric.into(),
        dimensions: vec![("FunctionName".into(), names.function.clone())],
        ..every_five_minutes(names, suffix, what, topic_arn)
    };
    vec![
        lambda("errors", "Errors", "the function failed (Errors > 0 in 5 minutes)"),
        lambda(
            "throttles",
            "Throttles",
            "the function was throttled (Throttles > 0 in 5 minutes)",
        ),
        Desired {
            namespace: "AWS/ApiGateway".into(),
            metric: "5XXError".into(),
            dimensions: vec![
                ("ApiName".into(), names.api.clone()),
                ("Stage".into(), stage.to_owned()),
            ],
            ..every_five_minutes(
                names,
                "5xx",
                "the API answered 5xx (5XXError > 0 in 5 minutes)",
                topic_arn,
            )
        },
    ]
}

/// The name of `host`'s silence alarm and metric filter.
pub fn silence_name(names: &Names, host: &str) -> String {
    format!("{}silent/{host}", names.alert_prefix())
}

/// Period and evaluation periods for "nothing in `secs`": one period of
/// `secs` up to a day; beyond, CloudWatch allows at most a day per period
/// (and 7 days in all), so the time is split into the fewest periods of at
/// most a day, whole minutes each, rounded up: at most 6 minutes longer.
pub fn silence_periods(secs: u64) -> (i32, i32) {
    let minutes = secs.div_ceil(60).max(1);
    let periods = minutes.div_ceil(24 * 60);
    let per = minutes.div_ceil(periods);
    ((per * 60) as i32, periods as i32)
}

/// `host`'s silence alarm: its accepted requests (metric filter) sum to
/// less than 1 over `secs`, missing data breaching.
pub fn silence(names: &Names, host: &str, secs: u64, topic_arn: &str) -> Desired {
    let (period, evaluation_periods) = silence_periods(secs);
    Desired {
        name: silence_name(names, host),
        description: format!(
            "ddns-ctl {}: {host} sent no accepted update in {}",
            names.stack,
            humantime::format_duration(std::time::Duration::from_secs(secs))
        ),
        namespace: names.metric_namespace(),
        metric: host.to_owned(),
        dimensions: vec![],
        period,
        evaluation_periods,
        threshold: 1.0,
        comparison: "LessThanThreshold",
        treat_missing_data: "breaching",
        topic_arn: topic_arn.to_owned(),
    }
}

/// Reads every alarm whose name starts with the stack's prefix, with its
/// tags (one DescribeAlarms a hundred alarms, one ListTagsForResource each).
pub async fn observe(cw: &Client, names: &Names) -> Result<Vec<Observed>, AwsError> {
    let mut found = Vec::new();
    let mut token: Option<String> = None;
    loop {
        let page = cw
            .describe_alarms()
            .alarm_name_prefix(names.alert_prefix())
            .set_next_token(token.take())
            .send()
            .await
            .map_err(AwsError::on("DescribeAlarms"))?;
        for alarm in page.metric_alarms() {
            let arn = alarm.alarm_arn().unwrap_or_default().to_owned();
            let tags = cw
                .list_tags_for_resource()
                .resource_arn(&arn)
                .send()
                .await
                .map_err(AwsError::on("ListTagsForResource"))?;
            let tagged = names.owns(
                tags.tags()
                    .iter()
                    .map(|t| (t.key().unwrap_or_default(), t.value().unwrap_or_default())),
            );
            let mut dimensions: Vec<(String, String)> = alarm
                .dimensions()
                .iter()
                .map(|d| {
                    (
                        d.name().unwrap_or_default().to_owned(),
                        d.value().unwrap_or_default().to_owned(),
                    )
                })
                .collect();
            dimensions.sort();
            let both_ways = alarm.alarm_actions() == alarm.ok_actions() && alarm.alarm_actions().len() == 1;
            let definition = Desired {
                name: alarm.alarm_name().unwrap_or_default().to_owned(),
                description: alarm.alarm_description().unwrap_or_default().to_owned(),
                namespace: alarm.namespace().unwrap_or_default().to_owned(),
                metric: alarm.metric_name().unwrap_or_default().to_owned(),
                dimensions,
                period: alarm.period().unwrap_or_default(),
                evaluation_periods: alarm.evaluation_periods().unwrap_or_default(),
                threshold: alarm.threshold().unwrap_or_default(),
                comparison: comparison(alarm.comparison_operator()),
                treat_missing_data: missing(alarm.treat_missing_data()),
                topic_arn: if both_ways {
                    alarm.alarm_actions()[0].clone()
                } else {
                    String::new()
                },
            };
            // Sum is the only statistic these alarms use: any other is drift.
            let definition = match alarm.statistic() {
                Some(Statistic::Sum) => definition,
                _ => Desired {
                    period: -1,
                    ..definition
                },
            };
            found.push(Observed {
                name: definition.name.clone(),
                state: alarm.state_value().map(|s| s.as_str().to_owned()).unwrap_or_default(),
                tagged,
                arn,
                definition,
            });
        }
        match page.next_token() {
            Some(next) if !next.is_empty() => token = Some(next.to_owned()),
            _ => break,
        }
    }
    Ok(found)
}

fn comparison(op: Option<&ComparisonOperator>) -> &'static str {
    match op {
        Some(ComparisonOperator::GreaterThanThreshold) => "GreaterThanThreshold",
        Some(ComparisonOperator::LessThanThreshold) => "LessThanThreshold",
        _ => "other",
    }
}

fn missing(value: Option<&str>) -> &'static str {
    match value {
        Some("breaching") => "breaching",
        // AWS's default is `missing`; ours are always set, so unset differs.
        Some("notBreaching") => "notBreaching",
        _ => "other",
    }
}

/// What the alarm needs: PutMetricAlarm replaces the whole definition, so
/// the changes name what differs, and any of them is one call.
pub fn plan(observed: Option<&Observed>, desired: &Desired) -> Action {
    let Some(observed) = observed else {
        return Action::Create;
    };
    let o = &observed.definition;
    let mut settings = Vec::new();
    let mut differs = |name: &'static str, differ: bool| {
        if differ {
            settings.push(name);
        }
    };
    differs(
        "metric",
        (&o.namespace, &o.metric, &o.dimensions) != (&desired.namespace, &desired.metric, &desired.dimensions),
    );
    differs(
        "period",
        (o.period, o.evaluation_periods) != (desired.period, desired.evaluation_periods),
    );
    differs(
        "threshold",
        (o.threshold, o.comparison) != (desired.threshold, desired.comparison),
    );
    differs("missing data", o.treat_missing_data != desired.treat_missing_data);
    differs("actions", o.topic_arn != desired.topic_arn);
    differs("description", o.description != desired.description);
    let mut changes = Vec::new();
    if !observed.tagged {
        changes.push(Change::Tags);
    }
    if !settings.is_empty() {
        changes.push(Change::Alarm { settings });
    }
    Action::update(changes)
}

/// Carries out `action`. PutMetricAlarm creates or replaces the alarm; its
/// tags apply only when it creates, so an alarm adopted untagged is tagged
/// with TagResource.
///
/// PutMetricAlarm and DeleteAlarms are each allowed 3 requests a second
/// per account and region, and a stack with many silence alarms makes them
/// one after another (deploy, `alerts enable`, `alerts disable`, teardown):
/// past the SDK's 3 attempts, [`Retry`] waits out `Throttling`.
pub async fn apply(
    cw: &Client,
    names: &Names,
    desired: &Desired,
    action: &Action,
    retry: &Retry<'_>,
) -> Result<(), AwsError> {
    let changes = match action {
        Action::Create => vec![Change::Alarm { settings: vec![] }],
        Action::Update(changes) => changes.clone(),
        Action::Delete | Action::Unchanged => return Ok(()),
    };
    let tags: Vec<Tag> = names
        .tags()
        .into_iter()
        .map(|(k, v)| Tag::builder().key(k).value(v).build())
        .collect();
    for change in &changes {
        match change {
            Change::Alarm { .. } => {
                let dimensions: Vec<Dimension> = desired
                    .dimensions
                    .iter()
                    .map(|(n, v)| Dimension::builder().name(n).value(v).build())
                    .collect();
                let put = || {
                    cw.put_metric_alarm()
                        .alarm_name(&desired.name)
                        .alarm_description(&desired.description)
                        .namespace(&desired.namespace)
                        .metric_name(&desired.metric)
                        .set_dimensions(Some(dimensions.clone()))
                        .statistic(Statistic::Sum)
                        .period(desired.period)
                        .evaluation_periods(desired.evaluation_periods)
                        .datapoints_to_alarm(desired.evaluation_periods)
                        .threshold(desired.threshold)
                        .comparison_operator(ComparisonOperator::from(desired.comparison))
                        .treat_missing_data(desired.treat_missing_data)
                        .alarm_actions(&desired.topic_arn)
                        .ok_actions(&desired.topic_arn)
                        .set_tags(Some(tags.clone()))
                        .send()
                };
                retry
                    .call("PutMetricAlarm", put)
                    .await
                    .map_err(AwsError::on("PutMetricAlarm"))?;
            }
            Change::Tags => {
                let arn = format!(
                    "arn:{}:cloudwatch:{}:{}:alarm:{}",
                    names.partition.id(),
                    names.region,
                    names.account,
                    desired.name
                );
                cw.tag_resource()
                    .resource_arn(arn)
                    .set_tags(Some(tags.clone()))
                    .send()
                    .await
                    .map_err(AwsError::on("TagResource"))?;
            }
            other => {
                return Err(AwsError::NotApplicable {
                    resource: "alarm",
                    change: other.to_string(),
                });
            }
        }
    }
    Ok(())
}

/// Deletes alarm `name`. DeleteAlarms of an alarm that is gone is not an
/// error.
pub async fn delete(cw: &Client, name: &str, retry: &Retry<'_>) -> Result<bool, AwsError> {
    retry
        .call("DeleteAlarms", || cw.delete_alarms().alarm_names(name).send())
        .await
        .map_err(AwsError::on("DeleteAlarms"))?;
    Ok(true)
}

#[cfg(test)]
mod tests {
    use aws_sdk_cloudwatch::operation::put_metric_alarm::{PutMetricAlarmError, PutMetricAlarmOutput};
    use aws_smithy_mocks::{RuleMode, mock, mock_client};
    use aws_smithy_types::error::ErrorMetadata;

    use super::*;
    use crate::aws::retry::Policy;

    /// What moto cannot show: CloudWatch throttling PutMetricAlarm (3 a
    /// second) while a stack's silence alarms are put one after another.
    /// Five throttles in a row are waited out; with the SDK's retries alone
    /// (none here) the first would have ended the deploy.
    #[tokio::test]
    async fn throttled_puts_are_waited_out() {
        let throttled = || {
            PutMetricAlarmError::generic(
                ErrorMetadata::builder()
                    .code("Throttling")
                    .message("Rate exceeded")
                    .build(),
            )
        };
        let rule = mock!(Client::put_metric_alarm)
            .sequence()
            .error(throttled)
            .times(5)
            .output(|| PutMetricAlarmOutput::builder().build())
            .build();
        let cw = mock_client!(aws_sdk_cloudwatch, RuleMode::Sequential, [&rule], |b| b
            .retry_config(aws_config::retry::RetryConfig::disabled()));
        let names = Names::example("home");
        let desired = silence(&names, "home.example.com", 1800, "arn:t");
        let waits = std::cell::Cell::new(0);
        let on_wait = |_: &crate::aws::retry::Wait| waits.set(waits.get() + 1);
        let retry = Retry::new(Policy { scale: 0.0 }, &on_wait);
        apply(&cw, &names, &desired, &Action::Create, &retry).await.unwrap();
        assert_eq!((rule.num_calls(), waits.get()), (6, 5));
    }

    #[test]
    fn silence_fits_cloudwatchs_limits() {
        assert_eq!(silence_periods(300), (300, 1));
        assert_eq!(silence_periods(1800), (1800, 1));
        assert_eq!(silence_periods(86_400), (86_400, 1));
        // Over a day: the fewest periods of at most a day, whole minutes.
        assert_eq!(silence_periods(90_000), (45_000, 2));
        assert_eq!(silence_periods(604_800), (86_400, 7));
        for minutes in 5..=10_080u64 {
            let secs = minutes * 60;
            let (period, n) = silence_periods(secs);
            let total = i64::from(period) * i64::from(n);
            assert_eq!(period % 60, 0, "{secs}");
            assert!(period <= 86_400 && total <= 604_800, "{secs}: {period} x {n}");
            if period < 3600 {
                assert!(total <= 86_400, "{secs}");
            }
            assert!(
                total >= secs as i64 && total - (secs as i64) < 7 * 60,
                "{secs}: {total}"
            );
        }
    }

    #[test]
    fn a_changed_alarm_is_put_again_and_an_untagged_one_tagged() {
        let names = Names::example("home");
        let desired = silence(&names, "home.example.com", 1800, "arn:t");
        assert_eq!(desired.name, "ddns-ctl/home/silent/home.example.com");
        assert_eq!(plan(None, &desired), Action::Create);
        let ours = Observed {
            name: desired.name.clone(),
            state: "OK".into(),
            tagged: true,
            arn: String::new(),
            definition: desired.clone(),
        };
        assert_eq!(plan(Some(&ours), &desired), Action::Unchanged);
        let longer = silence(&names, "home.example.com", 3600, "arn:t");
        assert_eq!(
            plan(Some(&ours), &longer),
            Action::Update(vec![Change::Alarm {
                settings: vec!["period", "description"]
            }])
        );
        let untagged = Observed { tagged: false, ..ours };
        assert_eq!(plan(Some(&untagged), &desired), Action::Update(vec![Change::Tags]));
    }
}
