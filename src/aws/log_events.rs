//! Reading the function's request log back: the lines one by one
//! ([`requests`], FilterLogEvents, for `ddns-ctl logs`), and each host's
//! last accepted request and last change in one Logs Insights query
//! ([`activity`], for `host list` and `host show`).
//!
//! The lines are `ddns_handler::record`'s, in Lambda's JSON log format.

use std::collections::BTreeMap;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use aws_sdk_cloudwatchlogs::Client;
use aws_sdk_cloudwatchlogs::types::QueryStatus;
use ddns_handler::record::Logged;
use serde::Serialize;

use super::AwsError;

/// A request line with its event's time and id.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Request {
    /// The event's id, unique in the group.
    #[serde(skip)]
    pub id: String,
    /// When Lambda logged it, in milliseconds since the epoch.
    #[serde(skip)]
    pub at_ms: i64,
    /// The same, as RFC 3339 UTC.
    pub time: String,
    /// The line's fields.
    #[serde(flatten)]
    pub logged: Logged,
}

/// The filter pattern for request lines, of one host if given. The host is
/// matched exactly: JSON patterns compare whole strings, and a host name
/// (letters, digits, `-`, `.`; see `Hostname`) holds neither a `"` that
/// would end the string nor a `*` that would make it a wildcard.
pub fn pattern(host: Option<&str>) -> String {
    let message = format!(r#"$.fields.message = "{}""#, ddns_handler::record::MESSAGE);
    match host {
        Some(host) => format!(r#"{{ ({message}) && ($.fields.host = "{host}") }}"#),
        None => format!("{{ {message} }}"),
    }
}

/// One page's worth of request lines between `start_ms` and `end_ms`
/// (inclusive, as FilterLogEvents takes them) at a time, through every page,
/// in time order. `false` if the group does not exist.
pub async fn requests(
    logs: &Client,
    group: &str,
    host: Option<&str>,
    start_ms: i64,
    end_ms: Option<i64>,
    page: &mut dyn FnMut(Vec<Request>),
) -> Result<bool, AwsError> {
    let pattern = pattern(host);
    let mut token: Option<String> = None;
    loop {
        let out = logs
            .filter_log_events()
            .log_group_name(group)
            .filter_pattern(&pattern)
            .start_time(start_ms)
            .set_end_time(end_ms)
            .set_next_token(token.take())
            .send()
            .await;
        let out = match out {
            Ok(out) => out,
            Err(err)
                if err
                    .as_service_error()
                    .is_some_and(|e| e.is_resource_not_found_exception()) =>
            {
                return Ok(false);
            }
            Err(err) => return Err(AwsError::from_sdk("FilterLogEvents", err)),
        };
        let lines = out
            .events()
            .iter()
            .filter_map(|event| {
                let logged = Logged::parse(event.message()?)?;
                let at_ms = event.timestamp()?;
                Some(Request {
                    id: event.event_id().unwrap_or_default().to_owned(),
                    at_ms,
                    time: rfc3339(at_ms),
                    logged,
                })
            })
            .collect::<Vec<_>>();
        // A page may be empty with a token: FilterLogEvents stops after a
        // slice of the group (by time or bytes scanned), not after a match.
        if !lines.is_empty() {
            page(lines);
        }
        match out.next_token() {
            Some(next) if !next.is_empty() => token = Some(next.to_owned()),
            _ => return Ok(true),
        }
    }
}

/// `at_ms` as RFC 3339 in UTC, to the second.
pub fn rfc3339(at_ms: i64) -> String {
    let at = UNIX_EPOCH + Duration::from_millis(u64::try_from(at_ms).unwrap_or_default());
    humantime::format_rfc3339_seconds(at).to_string()
}

/// What the log says about one host.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Activity {
    /// When it last made an accepted request (changed or unchanged), RFC
    /// 3339 UTC.
    pub last_seen: Option<String>,
    /// When the function last changed its records.
    pub last_change: Option<Change>,
}

/// A change of a host's records.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Change {
    /// When, RFC 3339 UTC.
    pub time: String,
    /// The values before.
    pub from: String,
    /// The addresses after.
    pub to: String,
}

/// Each host's activity within `window` before now, in one Logs Insights
/// query, whatever the number of hosts: a FilterLogEvents scan would read
/// every line of the window page by page (a week of 100 hosts checking in
/// every 5 minutes is some 200,000 lines), where Insights aggregates in
/// the service and answers one row per host and result. It bills by the
/// data scanned ($0.005 per GB at list price; a week of 100 hosts is about
/// 70 MB). `None` if the group does not exist.
pub async fn activity(
    logs: &Client,
    group: &str,
    window: Duration,
    patience: Duration,
) -> Result<Option<BTreeMap<String, Activity>>, AwsError> {
    let now = SystemTime::now().duration_since(UNIX_EPOCH).unwrap_or_default();
    let start = now.saturating_sub(window);
    let started = logs
        .start_query()
        .log_group_name(group)
        .start_time(i64::try_from(start.as_secs()).unwrap_or_default())
        // Whole seconds, both ends inclusive: rounded up, so that a request
        // logged in this very second counts.
        .end_time(i64::try_from(now.as_secs() + 1).unwrap_or(i64::MAX))
        .query_string(ACTIVITY_QUERY)
        .limit(10_000)
        .send()
        .await;
    let query_id = match started {
        Ok(out) => out.query_id().unwrap_or_default().to_owned(),
        Err(err)
            if err
                .as_service_error()
                .is_some_and(|e| e.is_resource_not_found_exception()) =>
        {
            return Ok(None);
        }
        Err(err) => return Err(AwsError::from_sdk("StartQuery", err)),
    };
    // Insights answers Scheduled, then Running, typically for a second or
    // two; the poll starts quick and backs off.
    let deadline = tokio::time::Instant::now() + patience;
    let mut delay = Duration::from_millis(100);
    loop {
        let out = logs
            .get_query_results()
            .query_id(&query_id)
            .send()
            .await
            .map_err(AwsError::on("GetQueryResults"))?;
        match out.status() {
            Some(QueryStatus::Complete) => return Ok(Some(activity_rows(out.results()))),
            Some(QueryStatus::Scheduled | QueryStatus::Running) | None => {}
            Some(other) => {
                return Err(AwsError::Call {
                    operation: "GetQueryResults",
                    message: format!("the Logs Insights query ended {}", other.as_str()),
                });
            }
        }
        if tokio::time::Instant::now() + delay > deadline {
            // Not worth keeping: stop it, so it bills no further.
            let _ = logs.stop_query().query_id(&query_id).send().await;
            return Err(AwsError::Call {
                operation: "GetQueryResults",
                message: format!("Logs Insights did not answer within {}s", patience.as_secs()),
            });
        }
        tokio::time::sleep(delay).await;
        delay = (delay * 2).min(Duration::from_secs(1));
    }
}

/// Per host and result, the newest accepted line and its values.
pub const ACTIVITY_QUERY: &str = "filter fields.message = \"request\" and (fields.result = \"changed\" or fields.result = \"unchanged\") \
     | stats max(@timestamp) as last, latest(fields.old) as old, latest(fields.new) as new by fields.host, fields.result";

fn activity_rows(rows: &[Vec<aws_sdk_cloudwatchlogs::types::ResultField>]) -> BTreeMap<String, Activity> {
    let mut hosts: BTreeMap<String, Activity> = BTreeMap::new();
    for row in rows {
        let get = |name: &str| {
            row.iter()
                .find(|f| f.field() == Some(name))
                .and_then(|f| f.value())
                .unwrap_or_default()
        };
        let (host, result) = (get("fields.host"), get("fields.result"));
        let Some(last) = insights_time(get("last")) else {
            continue;
        };
        if host.is_empty() {
            continue;
        }
        let activity = hosts.entry(host.to_owned()).or_default();
        if activity.last_seen.as_deref().is_none_or(|seen| seen < last.as_str()) {
            activity.last_seen = Some(last.clone());
        }
        if result == "changed" {
            activity.last_change = Some(Change {
                time: last,
                from: get("old").to_owned(),
                to: get("new").to_owned(),
            });
        }
    }
    hosts
}

/// Insights' `2026-12-01 15:20:00.123` (UTC) as RFC 3339 to the second.
fn insights_time(text: &str) -> Option<String> {
    let at = humantime::parse_rfc3339_weak(text).ok()?;
    Some(humantime::format_rfc3339_seconds(at).to_string())
}

#[cfg(test)]
mod tests {
    use aws_sdk_cloudwatchlogs::operation::get_query_results::GetQueryResultsOutput;
    use aws_sdk_cloudwatchlogs::operation::start_query::StartQueryOutput;
    use aws_sdk_cloudwatchlogs::operation::stop_query::StopQueryOutput;
    use aws_sdk_cloudwatchlogs::types::ResultField;
    use aws_smithy_mocks::{RuleMode, mock, mock_client};

    use super::*;

    fn started() -> aws_smithy_mocks::Rule {
        mock!(Client::start_query).then_output(|| StartQueryOutput::builder().query_id("q1").build())
    }

    fn answer(status: QueryStatus, rows: Vec<Vec<ResultField>>) -> GetQueryResultsOutput {
        GetQueryResultsOutput::builder()
            .status(status)
            .set_results(Some(rows))
            .build()
    }

    /// What moto cannot show: Insights answers Scheduled, then Running,
    /// for a while before Complete; the poll waits it out, on tokio's
    /// paused clock.
    #[tokio::test(start_paused = true)]
    async fn a_query_is_polled_through_scheduled_and_running() {
        let start = started();
        let results = mock!(Client::get_query_results)
            .sequence()
            .output(|| answer(QueryStatus::Scheduled, vec![]))
            .output(|| answer(QueryStatus::Running, vec![]))
            .output(|| answer(QueryStatus::Running, vec![]))
            .output(|| {
                answer(
                    QueryStatus::Complete,
                    vec![row(&[
                        ("fields.host", "home.example.com"),
                        ("fields.result", "unchanged"),
                        ("last", "2026-12-01 15:20:00.123"),
                    ])],
                )
            })
            .build();
        let logs = mock_client!(aws_sdk_cloudwatchlogs, RuleMode::MatchAny, [&start, &results]);
        let found = activity(&logs, "g", Duration::from_secs(86_400), Duration::from_secs(30))
            .await
            .unwrap()
            .unwrap();
        assert_eq!(results.num_calls(), 4);
        assert_eq!(
            found["home.example.com"].last_seen.as_deref(),
            Some("2026-12-01T15:20:00Z")
        );
    }

    /// A query that never completes is stopped (so that it bills no
    /// further) and reported; one that fails is reported with its state.
    #[tokio::test(start_paused = true)]
    async fn a_query_that_does_not_complete_is_stopped_or_reported() {
        let start = started();
        let running = mock!(Client::get_query_results).then_output(|| answer(QueryStatus::Running, vec![]));
        let stop = mock!(Client::stop_query).then_output(|| StopQueryOutput::builder().success(true).build());
        let logs = mock_client!(aws_sdk_cloudwatchlogs, RuleMode::MatchAny, [&start, &running, &stop]);
        let err = activity(&logs, "g", Duration::from_secs(86_400), Duration::from_secs(5))
            .await
            .unwrap_err();
        assert!(err.to_string().contains("did not answer within 5s"), "{err}");
        assert_eq!(stop.num_calls(), 1);

        let start = started();
        let failed = mock!(Client::get_query_results).then_output(|| answer(QueryStatus::Failed, vec![]));
        let logs = mock_client!(aws_sdk_cloudwatchlogs, RuleMode::MatchAny, [&start, &failed]);
        let err = activity(&logs, "g", Duration::from_secs(86_400), Duration::from_secs(5))
            .await
            .unwrap_err();
        assert!(err.to_string().contains("ended Failed"), "{err}");
    }

    #[test]
    fn the_pattern_names_one_host_exactly() {
        assert_eq!(pattern(None), r#"{ $.fields.message = "request" }"#);
        assert_eq!(
            pattern(Some("home.example.com")),
            r#"{ ($.fields.message = "request") && ($.fields.host = "home.example.com") }"#
        );
    }

    fn row(fields: &[(&str, &str)]) -> Vec<ResultField> {
        fields
            .iter()
            .map(|(k, v)| ResultField::builder().field(*k).value(*v).build())
            .collect()
    }

    #[test]
    fn rows_become_last_seen_and_last_change() {
        let rows = [
            row(&[
                ("fields.host", "home.example.com"),
                ("fields.result", "unchanged"),
                ("last", "2026-12-01 15:20:00.123"),
                ("old", "203.0.113.10"),
                ("new", "203.0.113.10"),
            ]),
            row(&[
                ("fields.host", "home.example.com"),
                ("fields.result", "changed"),
                ("last", "2026-12-01 09:00:00.000"),
                ("old", "198.51.100.7"),
                ("new", "203.0.113.10"),
            ]),
            row(&[
                ("fields.host", "nas.example.com"),
                ("fields.result", "changed"),
                ("last", "2026-11-30 23:59:59.999"),
                ("old", ""),
                ("new", "2001:db8::1"),
            ]),
        ];
        let hosts = activity_rows(&rows);
        assert_eq!(
            hosts["home.example.com"],
            Activity {
                last_seen: Some("2026-12-01T15:20:00Z".into()),
                last_change: Some(Change {
                    time: "2026-12-01T09:00:00Z".into(),
                    from: "198.51.100.7".into(),
                    to: "203.0.113.10".into()
                }),
            }
        );
        assert_eq!(
            hosts["nas.example.com"].last_seen.as_deref(),
            Some("2026-11-30T23:59:59Z")
        );
        assert!(!hosts.contains_key("other.example.com"));
    }
}
