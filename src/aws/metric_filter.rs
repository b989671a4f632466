//! Metric filters on the function's log group: one per host with an
//! alert-after, `ddns-ctl/<stack>/silent/<host>`, counting the host's
//! accepted requests (the function's `request` line with result `changed`
//! or `unchanged`) as metric `<host>` in namespace `ddns-ctl/<stack>`,
//! value 1 and no default value, so a quiet host writes no data at all and
//! its silence alarm sees missing data.
//!
//! Metric filters carry no tags: a filter is the stack's when it is on the
//! stack's log group, has the stack's prefix and writes to the stack's
//! namespace. CloudWatch Logs allows [`MAX_PER_LOG_GROUP`] per log group.

use aws_sdk_cloudwatchlogs::Client;
use aws_sdk_cloudwatchlogs::types::MetricTransformation;

use super::AwsError;
use super::retry::Retry;
use crate::model::Names;
use crate::plan::{Action, Change};

/// CloudWatch Logs' limit of metric filters per log group.
pub const MAX_PER_LOG_GROUP: usize = 100;

/// A filter as it should be, or as it is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Desired {
    /// Its name.
    pub name: String,
    /// Its pattern.
    pub pattern: String,
    /// The metric's namespace.
    pub namespace: String,
    /// The metric.
    pub metric: String,
    /// What each match adds; always "1" for ours.
    pub value: String,
    /// Whether a default value is set (ours never have one).
    pub default_value: bool,
}

/// Why a host name cannot go into a filter pattern.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error(
    "{0} cannot be matched exactly by a CloudWatch Logs filter pattern (it holds '*', '\"', '\\' or a control character)"
)]
pub struct Unmatchable(pub String);

/// The JSON filter pattern that matches exactly `host`'s accepted requests:
/// the function's `request` line whose `host` is `host` (configured name,
/// lower case, no trailing dot) and whose result is `changed` or
/// `unchanged`. JSON `=` on a quoted string is an exact comparison unless
/// the string holds `*` (a wildcard), so a name with `*` (or a quote, a
/// backslash, a control character) is refused rather than escaped into
/// something CloudWatch might read otherwise; DNS names hold none of them.
pub fn pattern(host: &str) -> Result<String, Unmatchable> {
    // The host exactly as the request lines name it.
    let host = ddns_handler::record::normalized(host);
    if host.is_empty() || host.chars().any(|c| matches!(c, '*' | '"' | '\\') || c.is_control()) {
        return Err(Unmatchable(host));
    }
    Ok(format!(
        r#"{{ ($.fields.message = "request") && ($.fields.host = "{host}") && (($.fields.result = "changed") || ($.fields.result = "unchanged")) }}"#
    ))
}

/// `host`'s filter.
pub fn silence(names: &Names, host: &str) -> Result<Desired, Unmatchable> {
    Ok(Desired {
        name: super::alarm::silence_name(names, host),
        pattern: pattern(host)?,
        namespace: names.metric_namespace(),
        metric: ddns_handler::record::normalized(host),
        value: "1".into(),
        default_value: false,
    })
}

/// Reads the stack's filters on its log group (none without the group).
pub async fn observe(logs: &Client, names: &Names) -> Result<Vec<Desired>, AwsError> {
    let mut found = Vec::new();
    for filter in list(logs, names, Some(names.alert_prefix())).await? {
        let Some(t) = filter.metric_transformations().first() else {
            continue;
        };
        // The stack's prefix in another namespace is not ours to change.
        if t.metric_namespace() != names.metric_namespace() {
            continue;
        }
        found.push(Desired {
            name: filter.filter_name().unwrap_or_default().to_owned(),
            pattern: filter.filter_pattern().unwrap_or_default().to_owned(),
            namespace: t.metric_namespace().to_owned(),
            metric: t.metric_name().to_owned(),
            value: t.metric_value().to_owned(),
            default_value: t.default_value().is_some(),
        });
    }
    Ok(found)
}

/// How many filters the log group has, anyone's.
pub async fn count(logs: &Client, names: &Names) -> Result<usize, AwsError> {
    Ok(list(logs, names, None).await?.len())
}

async fn list(
    logs: &Client,
    names: &Names,
    prefix: Option<String>,
) -> Result<Vec<aws_sdk_cloudwatchlogs::types::MetricFilter>, AwsError> {
    let mut all = Vec::new();
    let mut token: Option<String> = None;
    loop {
        let page = logs
            .describe_metric_filters()
            .log_group_name(&names.log_group)
            .set_filter_name_prefix(prefix.clone())
            .set_next_token(token.take())
            .send()
            .await;
        let page = match page {
            Ok(page) => page,
            Err(err)
                if err
                    .as_service_error()
                    .is_some_and(|e| e.is_resource_not_found_exception()) =>
            {
                return Ok(vec![]);
            }
            Err(err) => return Err(AwsError::from_sdk("DescribeMetricFilters", err)),
        };
        all.extend(page.metric_filters().iter().cloned());
        match page.next_token() {
            Some(next) if !next.is_empty() => token = Some(next.to_owned()),
            _ => break,
        }
    }
    Ok(all)
}

/// What the filter needs.
pub fn plan(observed: Option<&Desired>, desired: &Desired) -> Action {
    match observed {
        None => Action::Create,
        Some(o) if o == desired => Action::Unchanged,
        Some(_) => Action::Update(vec![Change::Filter]),
    }
}

/// Carries out `action`: PutMetricFilter creates or replaces the filter.
/// CloudWatch Logs rate-limits it per account, and a stack puts one a
/// silence alarm in a row: [`Retry`] waits out `ThrottlingException`.
pub async fn apply(
    logs: &Client,
    names: &Names,
    desired: &Desired,
    action: &Action,
    retry: &Retry<'_>,
) -> Result<(), AwsError> {
    if matches!(action, Action::Delete | Action::Unchanged) {
        return Ok(());
    }
    let transformation = MetricTransformation::builder()
        .metric_name(&desired.metric)
        .metric_namespace(&desired.namespace)
        .metric_value(&desired.value)
        .build()
        .map_err(|e| AwsError::Call {
            operation: "PutMetricFilter",
            message: e.to_string(),
        })?;
    let put = || {
        logs.put_metric_filter()
            .log_group_name(&names.log_group)
            .filter_name(&desired.name)
            .filter_pattern(&desired.pattern)
            .metric_transformations(transformation.clone())
            .send()
    };
    retry
        .call("PutMetricFilter", put)
        .await
        .map_err(AwsError::on("PutMetricFilter"))?;
    Ok(())
}

/// Deletes filter `name`; `false` if it was already gone
/// (ResourceNotFoundException).
pub async fn delete(logs: &Client, names: &Names, name: &str, retry: &Retry<'_>) -> Result<bool, AwsError> {
    let delete = || {
        logs.delete_metric_filter()
            .log_group_name(&names.log_group)
            .filter_name(name)
            .send()
    };
    let result = retry.call("DeleteMetricFilter", delete).await;
    super::deleted("DeleteMetricFilter", result, |e| e.is_resource_not_found_exception())
}

#[cfg(test)]
mod tests {
    use aws_sdk_cloudwatchlogs::operation::put_metric_filter::{PutMetricFilterError, PutMetricFilterOutput};
    use aws_smithy_mocks::{RuleMode, mock, mock_client};
    use aws_smithy_types::error::ErrorMetadata;

    use super::*;
    use crate::aws::retry::Policy;

    /// What moto cannot show: CloudWatch Logs throttling PutMetricFilter
    /// while a stack's filters are put one after another; the throttles
    /// are waited out rather than ending the deploy.
    #[tokio::test]
    async fn throttled_puts_are_waited_out() {
        let throttled = || {
            PutMetricFilterError::generic(
                ErrorMetadata::builder()
                    .code("ThrottlingException")
                    .message("Rate exceeded")
                    .build(),
            )
        };
        let rule = mock!(Client::put_metric_filter)
            .sequence()
            .error(throttled)
            .times(4)
            .output(|| PutMetricFilterOutput::builder().build())
            .build();
        let logs = mock_client!(aws_sdk_cloudwatchlogs, RuleMode::Sequential, [&rule], |b| b
            .retry_config(aws_config::retry::RetryConfig::disabled()));
        let names = Names::example("home");
        let desired = silence(&names, "home.example.com").unwrap();
        let on_wait = |_: &crate::aws::retry::Wait| {};
        let retry = Retry::new(Policy { scale: 0.0 }, &on_wait);
        apply(&logs, &names, &desired, &Action::Create, &retry).await.unwrap();
        assert_eq!(rule.num_calls(), 5);
    }

    #[test]
    fn the_pattern_names_exactly_the_host_and_accepted_results() {
        let p = pattern("Home.Example.com.").unwrap();
        assert_eq!(
            p,
            r#"{ ($.fields.message = "request") && ($.fields.host = "home.example.com") && (($.fields.result = "changed") || ($.fields.result = "unchanged")) }"#
        );
        // Exact equality on a quoted string without `*`: neither a longer
        // name nor one with a prefix can match.
        assert!(p.contains(r#"= "home.example.com")"#));
        assert!(!p.contains('*'));
        assert!(!pattern("myhome.example.com").unwrap().contains(r#""home.example.com""#));
        assert!(
            !pattern("home.example.com.evil.net")
                .unwrap()
                .contains(r#""home.example.com""#)
        );
        for bad in [
            "*.example.com",
            "a\"b.example.com",
            "a\\b.example.com",
            "a\nb.example.com",
            "",
        ] {
            assert!(pattern(bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn a_filter_is_replaced_when_anything_differs() {
        let names = Names::example("home");
        let desired = silence(&names, "home.example.com").unwrap();
        assert_eq!(desired.namespace, "ddns-ctl/home");
        assert_eq!(desired.metric, "home.example.com");
        assert_eq!(plan(None, &desired), Action::Create);
        assert_eq!(plan(Some(&desired), &desired), Action::Unchanged);
        let with_default = Desired {
            default_value: true,
            ..desired.clone()
        };
        assert_eq!(
            plan(Some(&with_default), &desired),
            Action::Update(vec![Change::Filter])
        );
    }
}
