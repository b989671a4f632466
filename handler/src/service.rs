//! The service's long-lived state: one S3 client, one Route53 client and the
//! cached config, built once per process and shared by every request.

use std::sync::Arc;
use std::time::Duration;

use aws_config::SdkConfig;

use std::net::IpAddr;

use crate::config::{Config, DEFAULT_KEY, Host};
use crate::dns::Dns;
use crate::notify::Notifier;
use crate::store::{ConfigStore, LoadError};
use crate::update::{Outcome, UpdateError, update_host};

/// How long a cached config is trusted before it is revalidated, unless
/// `DDNS_CONFIG_MAX_AGE_SECS` says otherwise. Five seconds keeps warm
/// requests free of S3 calls while a rotated secret takes effect quickly.
pub const DEFAULT_MAX_AGE: Duration = Duration::from_secs(5);

/// The longest a request may take, every AWS call included. The function's
/// timeout is 10 seconds (`ddns-ctl deploy` sets it; a test there keeps the
/// two in step): a request that is not answered by then gets a 503 while the
/// function can still answer.
pub const REQUEST_DEADLINE: Duration = Duration::from_secs(6);

/// The SDK's timeouts for S3 and Route53. An attempt that stalls is cut after
/// [`ATTEMPT_TIMEOUT`] and retried, and no call outlives
/// [`OPERATION_TIMEOUT`], so a stalled dependency never holds a request past
/// its deadline (which then answers first).
pub const CONNECT_TIMEOUT: Duration = Duration::from_secs(2);
/// See [`CONNECT_TIMEOUT`].
pub const ATTEMPT_TIMEOUT: Duration = Duration::from_secs(3);
/// See [`CONNECT_TIMEOUT`].
pub const OPERATION_TIMEOUT: Duration = Duration::from_secs(8);

/// Route53 allows 5 requests a second per account, for every caller
/// together, and answers `Throttling` (or `PriorRequestNotComplete`, for a
/// change while the last is still applying) past that. A burst of hosts
/// updating at the same minute would meet it, and the SDK's default (3
/// attempts, full-jitter backoff from 1 s) turns a fourth throttle into a
/// `dnserr`. The function's Route53 client makes up to [`ROUTE53_ATTEMPTS`]
/// attempts, waiting a random time up to 200 ms, 400 ms, 800 ms, then 1 s
/// between them (exponential with full jitter, so that hosts throttled
/// together spread out): at most 2.4 s of waiting a call, 1.2 s on average,
/// so that an update's two calls (list, then change) still end inside the
/// [`REQUEST_DEADLINE`] even when both are throttled four times. Both codes
/// are in the SDK's own list of throttling errors
/// (`aws_runtime::retries::classifiers::THROTTLING_ERRORS`), so no classifier
/// of ours is needed; a test keeps both retried.
pub const ROUTE53_ATTEMPTS: u32 = 5;
/// See [`ROUTE53_ATTEMPTS`].
pub const ROUTE53_INITIAL_BACKOFF: Duration = Duration::from_millis(200);
/// See [`ROUTE53_ATTEMPTS`].
pub const ROUTE53_MAX_BACKOFF: Duration = Duration::from_secs(1);

/// The function's Route53 client settings on top of `builder`: the retries
/// of [`ROUTE53_ATTEMPTS`].
pub fn route53_config(builder: aws_sdk_route53::config::Builder) -> aws_sdk_route53::config::Builder {
    builder.retry_config(
        aws_config::retry::RetryConfig::standard()
            .with_max_attempts(ROUTE53_ATTEMPTS)
            .with_initial_backoff(ROUTE53_INITIAL_BACKOFF)
            .with_max_backoff(ROUTE53_MAX_BACKOFF),
    )
}

/// The longest a Route53 call can wait between its attempts: the sum of
/// each backoff's cap.
pub fn route53_worst_wait() -> Duration {
    (0..ROUTE53_ATTEMPTS - 1)
        .map(|retry| (ROUTE53_INITIAL_BACKOFF * 2u32.pow(retry)).min(ROUTE53_MAX_BACKOFF))
        .sum()
}

/// Environment variables the Lambda function is configured with.
pub mod env {
    /// The bucket that holds the config.
    pub const BUCKET: &str = "DDNS_CONFIG_BUCKET";
    /// The config object's key; `config.json` if unset.
    pub const KEY: &str = "DDNS_CONFIG_KEY";
    /// Seconds a cached config is trusted; 5 if unset.
    pub const MAX_AGE: &str = "DDNS_CONFIG_MAX_AGE_SECS";
    /// The stack's alert topic (`ddns-ctl alerts enable`): where a change to
    /// a host with `notify_on_change` is published. Unset while alerts are
    /// off.
    pub const ALERT_TOPIC: &str = "DDNS_ALERT_TOPIC_ARN";
}

/// Why the service could not be set up.
#[derive(Debug, thiserror::Error)]
pub enum SetupError {
    /// A required environment variable is unset.
    #[error("the environment variable {0} is not set")]
    MissingEnv(&'static str),
    /// An environment variable has a value that cannot be used.
    #[error("the environment variable {name} is invalid: {reason}")]
    BadEnv {
        /// The variable.
        name: &'static str,
        /// What is wrong.
        reason: String,
    },
}

/// Where the service finds its config.
#[derive(Debug, Clone)]
pub struct Settings {
    /// The bucket.
    pub bucket: String,
    /// The object key.
    pub key: String,
    /// How long a cached config is trusted.
    pub max_age: Duration,
    /// The alert topic to publish host changes to, while alerts are on.
    pub alert_topic: Option<String>,
}

impl Settings {
    /// Settings for `bucket` with the default key and cache age.
    pub fn new(bucket: impl Into<String>) -> Self {
        Self {
            bucket: bucket.into(),
            key: DEFAULT_KEY.to_owned(),
            max_age: DEFAULT_MAX_AGE,
            alert_topic: None,
        }
    }

    /// Reads the settings from the Lambda function's environment.
    pub fn from_env() -> Result<Self, SetupError> {
        let bucket = std::env::var(env::BUCKET).map_err(|_| SetupError::MissingEnv(env::BUCKET))?;
        let mut settings = Self::new(bucket);
        if let Ok(key) = std::env::var(env::KEY) {
            settings.key = key;
        }
        if let Ok(secs) = std::env::var(env::MAX_AGE) {
            let secs: u64 = secs.parse().map_err(|_| SetupError::BadEnv {
                name: env::MAX_AGE,
                reason: format!("'{secs}' is not a whole number of seconds"),
            })?;
            settings.max_age = Duration::from_secs(secs);
        }
        settings.alert_topic = std::env::var(env::ALERT_TOPIC).ok().filter(|t| !t.is_empty());
        Ok(settings)
    }
}

/// Everything a request needs. Share it behind an [`Arc`].
#[derive(Debug)]
pub struct Service {
    store: ConfigStore,
    dns: Dns,
    notifier: Option<Notifier>,
}

impl Service {
    /// Builds the clients from an SDK config, with the service's timeouts.
    pub fn new(sdk: &SdkConfig, settings: Settings) -> Arc<Self> {
        let timeouts = aws_config::timeout::TimeoutConfig::builder()
            .connect_timeout(CONNECT_TIMEOUT)
            .operation_attempt_timeout(ATTEMPT_TIMEOUT)
            .operation_timeout(OPERATION_TIMEOUT)
            .build();
        let sdk = sdk.to_builder().timeout_config(timeouts).build();
        let sdk = &sdk;
        let notifier = settings.alert_topic.map(|topic| Notifier::new(sdk, topic));
        Arc::new(Self {
            notifier,
            store: ConfigStore::new(crate::s3_client(sdk), settings.bucket, settings.key, settings.max_age),
            dns: Dns::new(aws_sdk_route53::Client::from_conf(
                route53_config(aws_sdk_route53::config::Builder::from(sdk)).build(),
            )),
        })
    }

    /// The current config.
    pub async fn config(&self) -> Result<Arc<Config>, LoadError> {
        self.store.current().await
    }

    /// Route53 access.
    pub fn dns(&self) -> &Dns {
        &self.dns
    }

    /// The update path both protocols share: [`update_host`], then one
    /// change notification if the host asked for it and alerts are on.
    pub async fn update(&self, host: Host<'_>, offered: &[IpAddr]) -> Result<Outcome, UpdateError> {
        let outcome = update_host(&self.dns, host, offered).await?;
        if let Some(notifier) = &self.notifier {
            notifier.changed(host, &outcome).await;
        }
        Ok(outcome)
    }
}

#[cfg(test)]
mod tests {
    use std::net::IpAddr;

    use aws_config::retry::RetryConfig;
    use aws_sdk_route53::Client;
    use aws_sdk_route53::operation::change_resource_record_sets::ChangeResourceRecordSetsOutput;
    use aws_sdk_route53::types::{ChangeInfo, ChangeStatus};
    use aws_smithy_mocks::{Rule, RuleMode, mock, mock_client};

    use super::*;

    /// Route53's answer past its rate, as it sends it.
    fn route53_error(code: &str) -> String {
        format!(
            r#"<?xml version="1.0"?><ErrorResponse xmlns="https://route53.amazonaws.com/doc/2013-04-01/"><Error><Type>Sender</Type><Code>{code}</Code><Message>Rate exceeded</Message></Error><RequestId>r</RequestId></ErrorResponse>"#
        )
    }

    /// ChangeResourceRecordSets answering `code` `throttled` times, then
    /// applying the change.
    fn throttled_then_applied(code: &str, throttled: usize) -> Rule {
        mock!(Client::change_resource_record_sets)
            .sequence()
            .http_status(400, Some(route53_error(code)))
            .times(throttled)
            .output(|| {
                let info = ChangeInfo::builder()
                    .id("C1")
                    .status(ChangeStatus::Pending)
                    .submitted_at(aws_smithy_types::DateTime::from_secs(0))
                    .build()
                    .unwrap();
                ChangeResourceRecordSetsOutput::builder().change_info(info).build()
            })
            .build()
    }

    async fn upsert(client: Client) -> Result<(), crate::dns::DnsError> {
        let ip: IpAddr = "203.0.113.7".parse().unwrap();
        Dns::new(client).upsert("Z1", "home.example.com.", 60, &[ip]).await
    }

    /// Four throttles in a row (Route53's `Throttling`, or
    /// `PriorRequestNotComplete`) are ridden out inside the request's
    /// deadline; with the SDK's default retries the same burst is a
    /// failure. The clock is tokio's paused one, so the backoffs take no
    /// real time and what they add up to is measured exactly.
    #[tokio::test(start_paused = true)]
    async fn a_burst_of_throttling_is_ridden_out_inside_the_deadline() {
        for code in ["Throttling", "PriorRequestNotComplete"] {
            let rule = throttled_then_applied(code, 4);
            let client = mock_client!(aws_sdk_route53, RuleMode::Sequential, [&rule], route53_config);
            let started = tokio::time::Instant::now();
            upsert(client).await.unwrap_or_else(|err| panic!("{code}: {err}"));
            let waited = started.elapsed();
            assert_eq!(rule.num_calls(), 5, "{code}");
            assert!(waited <= route53_worst_wait(), "{code}: waited {waited:?}");

            let rule = throttled_then_applied(code, 4);
            let client = mock_client!(aws_sdk_route53, RuleMode::Sequential, [&rule], |builder| {
                builder.retry_config(RetryConfig::standard())
            });
            let err = upsert(client).await.unwrap_err();
            assert!(err.message.contains(code), "{code}: {err}");
            assert_eq!(rule.num_calls(), 3, "{code}");
        }
    }

    /// An update makes two Route53 calls (list, then change); both may wait
    /// their longest and still leave time for the calls themselves within
    /// the deadline.
    #[test]
    fn the_retries_fit_inside_the_request_deadline() {
        assert_eq!(route53_worst_wait(), Duration::from_millis(2_400));
        assert!(route53_worst_wait() * 2 + Duration::from_millis(1_000) <= REQUEST_DEADLINE);
    }
}
