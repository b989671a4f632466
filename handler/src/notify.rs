//! Telling the owner that a host moved: one SNS Publish to the stack's alert
//! topic when the function changes the records of a host with
//! `notify_on_change`. An unchanged check-in publishes nothing, so it still
//! costs one AWS call.

use std::time::Duration;

use aws_config::SdkConfig;

use crate::config::{Host, RecordKind};
use crate::update::Outcome;

/// The longest a publish may take. The record is already written when it
/// runs, so a slow SNS must not push the request past its deadline (a 503
/// would make the client retry a change that was made).
pub const PUBLISH_TIMEOUT: Duration = Duration::from_millis(1500);

/// SNS subjects are at most 100 characters.
const MAX_SUBJECT: usize = 100;

/// Publishes change messages to one topic.
#[derive(Debug, Clone)]
pub struct Notifier {
    sns: aws_sdk_sns::Client,
    topic: String,
}

impl Notifier {
    /// A notifier for `topic` (an SNS topic ARN), with one retry inside
    /// [`PUBLISH_TIMEOUT`].
    pub fn new(sdk: &SdkConfig, topic: String) -> Self {
        let timeouts = aws_config::timeout::TimeoutConfig::builder()
            .connect_timeout(Duration::from_millis(500))
            .operation_attempt_timeout(Duration::from_millis(700))
            .operation_timeout(PUBLISH_TIMEOUT)
            .build();
        let config = aws_sdk_sns::config::Builder::from(sdk)
            .timeout_config(timeouts)
            .retry_config(aws_config::retry::RetryConfig::standard().with_max_attempts(2))
            .build();
        Self {
            sns: aws_sdk_sns::Client::from_conf(config),
            topic,
        }
    }

    /// The topic's ARN.
    pub fn topic(&self) -> &str {
        &self.topic
    }

    /// Publishes that `host` changed, if it asked to be told and anything
    /// changed. A failure is logged and swallowed: the update itself
    /// succeeded, and the client must hear so.
    pub async fn changed(&self, host: Host<'_>, outcome: &Outcome) {
        if !(host.config.notify_on_change && outcome.changed) {
            return;
        }
        let name = crate::record::normalized(host.name);
        let subject = format!("ddns-ctl: {name} changed");
        let published = self
            .sns
            .publish()
            .topic_arn(&self.topic)
            .message(message(&name, host.config.route_53_record_type, outcome))
            .set_subject((subject.len() <= MAX_SUBJECT).then_some(subject))
            .send()
            .await;
        if let Err(err) = published {
            // Debug-formatted: nothing in the message can end the line.
            tracing::warn!(host = %name, error = ?crate::error_chain(&err), "change notification failed");
        }
    }
}

/// The message: `home.example.com: 198.51.100.7 → 203.0.113.10 (AAAA
/// unchanged)`. Each record written is `old → new` (`none` if it held
/// nothing), and each other record the host keeps is named as unchanged.
pub fn message(host: &str, kind: RecordKind, outcome: &Outcome) -> String {
    let moves: Vec<String> = outcome
        .families
        .iter()
        .filter(|f| f.changed)
        .map(|f| format!("{} → {}", f.old.as_deref().unwrap_or("none"), f.new))
        .collect();
    let kept: Vec<&str> = [("A", kind.has_a()), ("AAAA", kind.has_aaaa())]
        .into_iter()
        .filter(|(record, has)| *has && !outcome.families.iter().any(|f| f.changed && f.record == *record))
        .map(|(record, _)| record)
        .collect();
    let mut text = format!("{host}: {}", moves.join(", "));
    if !kept.is_empty() {
        text.push_str(&format!(" ({} unchanged)", kept.join(" and ")));
    }
    text
}

#[cfg(test)]
mod tests {
    use std::net::IpAddr;

    use super::*;
    use crate::update::Family;

    fn family(record: &'static str, old: Option<&str>, new: &str, changed: bool) -> Family {
        Family {
            record,
            old: old.map(str::to_owned),
            new: new.parse::<IpAddr>().unwrap(),
            changed,
        }
    }

    fn outcome(families: Vec<Family>) -> Outcome {
        Outcome {
            changed: families.iter().any(|f| f.changed),
            addresses: families.iter().map(|f| f.new).collect(),
            previous: vec![],
            families,
        }
    }

    #[test]
    fn says_what_moved_and_what_did_not() {
        let a = outcome(vec![family("A", Some("198.51.100.7"), "203.0.113.10", true)]);
        assert_eq!(
            message("home.example.com", RecordKind::Dual, &a),
            "home.example.com: 198.51.100.7 → 203.0.113.10 (AAAA unchanged)"
        );
        assert_eq!(
            message("home.example.com", RecordKind::A, &a),
            "home.example.com: 198.51.100.7 → 203.0.113.10"
        );
        let both = outcome(vec![
            family("A", Some("198.51.100.7"), "203.0.113.10", true),
            family("AAAA", None, "2001:db8::10", true),
        ]);
        assert_eq!(
            message("h.example.com", RecordKind::Dual, &both),
            "h.example.com: 198.51.100.7 → 203.0.113.10, none → 2001:db8::10"
        );
        let six = outcome(vec![
            family("A", Some("203.0.113.10"), "203.0.113.10", false),
            family("AAAA", Some("2001:db8::1"), "2001:db8::2", true),
        ]);
        assert_eq!(
            message("h.example.com", RecordKind::Dual, &six),
            "h.example.com: 2001:db8::1 → 2001:db8::2 (A unchanged)"
        );
    }
}
