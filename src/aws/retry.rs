//! Retries for the control-plane calls that AWS rate-limits or serialises,
//! where the SDK's standard retries (3 attempts, about 1–2 s apart) are not
//! enough:
//!
//! - API Gateway allows one DeleteRestApi per 30 s per account, one
//!   CreateDeployment per 5 s and one CreateRestApi per 3 s, and answers
//!   others with TooManyRequestsException when they come too fast;
//! - it answers ConflictException while another change to the same API is
//!   being applied ("concurrent modification");
//! - S3 answers CreateBucket with 409 OperationAborted for a while after a
//!   bucket of that name was deleted;
//! - CloudWatch allows 3 PutMetricAlarm and 3 DeleteAlarms a second, and
//!   CloudWatch Logs rate-limits PutMetricFilter, while a stack writes one
//!   alarm and one filter for each host with a silence alarm.
//!
//! [`Retry::call`] wraps one such call: it waits (exponential from the
//! operation's own limit, capped, with jitter, or what `Retry-After` says),
//! tells its caller why through a callback, and gives up after a few
//! minutes with AWS's last answer. The SDK's own retries stay underneath.
//! Anything else, a ConflictException that says a thing "already exists"
//! included, is answered at once: waiting would not change it.

use std::fmt;
use std::future::Future;
use std::time::Duration;

// Every SDK crate re-exports the same smithy types: these serve S3 too.
use aws_sdk_apigateway::config::http::HttpResponse;
use aws_sdk_apigateway::error::{ProvideErrorMetadata, SdkError};

/// How long the waits are; [`Policy::scale`] multiplies every one of them.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Policy {
    /// 1 for AWS; tests make it small so that a fault costs milliseconds.
    pub scale: f64,
}

impl Default for Policy {
    fn default() -> Self {
        Self { scale: 1.0 }
    }
}

impl Policy {
    /// The longest single wait, before scaling.
    pub const CAP: Duration = Duration::from_secs(60);
    /// The most one call waits in all, before scaling: past DeleteRestApi's
    /// 30 s window several times over, and the minutes S3 may hold a
    /// deleted bucket's name.
    pub const BUDGET: Duration = Duration::from_secs(240);

    /// The wait before attempt `attempt` + 1 (`attempt` from 1), unscaled
    /// and without jitter: `Retry-After` when AWS sent one, else the
    /// operation's own limit (at least 1 s), doubled each time, capped.
    pub fn delay(operation: &str, attempt: u32, retry_after: Option<Duration>) -> Duration {
        if let Some(after) = retry_after {
            return after.min(Self::CAP);
        }
        let first = limit(operation).unwrap_or(Duration::from_secs(1));
        first
            .saturating_mul(2u32.saturating_pow(attempt.saturating_sub(1)))
            .min(Self::CAP)
    }

    fn scaled(&self, delay: Duration) -> Duration {
        delay.mul_f64(self.scale.max(0.0))
    }
}

/// API Gateway's per-account rate for an operation, where it is one call
/// per so many seconds.
pub fn limit(operation: &str) -> Option<Duration> {
    match operation {
        "DeleteRestApi" => Some(Duration::from_secs(30)),
        "CreateDeployment" => Some(Duration::from_secs(5)),
        "CreateRestApi" => Some(Duration::from_secs(3)),
        "CreateDomainName" | "UpdateDomainName" | "DeleteDomainName" => Some(Duration::from_secs(30)),
        _ => None,
    }
}

/// Why a call is retried.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Cause {
    /// Too many requests (TooManyRequestsException and the like).
    Throttled {
        /// The error code.
        code: String,
    },
    /// Another change to the same resource is under way.
    Conflict {
        /// AWS's message.
        message: String,
    },
    /// S3 is still finishing an earlier operation on the bucket's name.
    Aborted,
    /// ACM still counts the certificate as used by a domain being deleted.
    InUse,
    /// Not a refusal: a resource is on its way to the state a step waits
    /// for (a certificate being issued), as the message says.
    Pending {
        /// What is awaited.
        message: String,
    },
}

/// One wait, for the progress line.
#[derive(Debug, Clone, PartialEq)]
pub struct Wait {
    /// The operation that waits.
    pub operation: &'static str,
    /// How long.
    pub delay: Duration,
    /// Why.
    pub cause: Cause,
    /// Which retry this is, from 1.
    pub retry: u32,
}

impl fmt::Display for Wait {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let secs = self.delay.as_secs_f64();
        if secs >= 10.0 {
            write!(f, "waiting {secs:.0} s: ")?;
        } else {
            write!(f, "waiting {secs:.1} s: ")?;
        }
        let operation = self.operation;
        match (&self.cause, limit(operation)) {
            (Cause::Throttled { code }, Some(limit)) => write!(
                f,
                "API Gateway allows one {operation} per {} s ({code})",
                limit.as_secs()
            ),
            (Cause::Throttled { code }, None) => write!(f, "AWS is throttling {operation} ({code})"),
            (Cause::Conflict { message }, _) => write!(
                f,
                "API Gateway is still applying another change to the API (ConflictException: {message})"
            ),
            (Cause::Aborted, _) => f.write_str(
                "S3 is still finishing an earlier operation on this bucket name, such as its deletion (OperationAborted)",
            ),
            (Cause::InUse, _) => f.write_str(
                "ACM still counts the certificate as in use by the custom domain just deleted (ResourceInUseException)",
            ),
            (Cause::Pending { message }, _) => f.write_str(message),
        }
    }
}

/// Why AWS's answer is worth waiting for, if it is.
pub fn cause<E: ProvideErrorMetadata>(err: &SdkError<E, HttpResponse>) -> Option<Cause> {
    let code = err.code()?;
    match code {
        "TooManyRequestsException" | "ThrottlingException" | "Throttling" | "SlowDown" => {
            Some(Cause::Throttled { code: code.to_owned() })
        }
        // "Method already exists" and the like stay true however long one
        // waits; only a change in progress ends.
        "ConflictException" => {
            let message = err.message().unwrap_or_default();
            (!message.to_lowercase().contains("already exists")).then(|| Cause::Conflict {
                message: message.to_owned(),
            })
        }
        "OperationAborted" => Some(Cause::Aborted),
        "ResourceInUseException" => Some(Cause::InUse),
        _ => None,
    }
}

/// `Retry-After` in seconds, if AWS sent it.
fn retry_after<E>(err: &SdkError<E, HttpResponse>) -> Option<Duration> {
    let value = err.raw_response()?.headers().get("retry-after")?;
    value.trim().parse::<u64>().ok().map(Duration::from_secs)
}

/// Up to a quarter of `delay` more, so that callers that were throttled
/// together do not come back together.
fn jitter(delay: Duration) -> Duration {
    let mut byte = [0u8; 1];
    let share = match getrandom::fill(&mut byte) {
        Ok(()) => f64::from(byte[0]) / 255.0 / 4.0,
        Err(_) => 0.125,
    };
    delay + delay.mul_f64(share)
}

/// A policy and whom to tell of each wait.
pub struct Retry<'a> {
    policy: Policy,
    on_wait: &'a dyn Fn(&Wait),
}

impl<'a> Retry<'a> {
    /// Retries with `policy`, telling `on_wait` before each wait.
    pub fn new(policy: Policy, on_wait: &'a dyn Fn(&Wait)) -> Self {
        Self { policy, on_wait }
    }

    /// Tells the listener of a wait that is not a retry (a step polling for
    /// a state), so that it shows on the same progress line.
    pub fn tell(&self, wait: &Wait) {
        (self.on_wait)(wait);
    }

    /// Sends `operation` (`send` makes one attempt) until it succeeds, fails
    /// for a reason waiting cannot change, or the waits would pass
    /// [`Policy::BUDGET`]; then returns AWS's last answer.
    pub async fn call<T, E, F, Fut>(&self, operation: &'static str, mut send: F) -> Result<T, SdkError<E, HttpResponse>>
    where
        E: ProvideErrorMetadata,
        F: FnMut() -> Fut,
        Fut: Future<Output = Result<T, SdkError<E, HttpResponse>>>,
    {
        let budget = self.policy.scaled(Policy::BUDGET);
        let mut waited = Duration::ZERO;
        let mut retry = 0;
        loop {
            let err = match send().await {
                Ok(out) => return Ok(out),
                Err(err) => err,
            };
            let Some(cause) = cause(&err) else {
                return Err(err);
            };
            retry += 1;
            let delay = self
                .policy
                .scaled(jitter(Policy::delay(operation, retry, retry_after(&err))));
            if waited + delay > budget {
                return Err(err);
            }
            (self.on_wait)(&Wait {
                operation,
                delay,
                cause,
                retry,
            });
            tokio::time::sleep(delay).await;
            waited += delay;
        }
    }
}

#[cfg(test)]
mod tests {
    use std::cell::RefCell;

    use aws_sdk_apigateway::Client;
    use aws_sdk_apigateway::operation::delete_rest_api::{DeleteRestApiError, DeleteRestApiOutput};
    use aws_sdk_apigateway::types::error::{ConflictException, TooManyRequestsException};
    use aws_smithy_mocks::{RuleMode, mock, mock_client};
    use aws_smithy_types::error::ErrorMetadata;

    use super::*;

    /// No waiting at all: these tests are about what is retried.
    const NOW: Policy = Policy { scale: 0.0 };

    /// A client answered by `rule`, without the SDK's own retries, so that
    /// every attempt counted is this module's.
    fn client(rule: &aws_smithy_mocks::Rule) -> Client {
        mock_client!(aws_sdk_apigateway, RuleMode::MatchAny, [rule], |conf| conf
            .retry_config(aws_sdk_apigateway::config::retry::RetryConfig::disabled()))
    }

    /// What the SDK reads from an error answer: its code and message.
    fn meta(code: &str, message: &str) -> ErrorMetadata {
        ErrorMetadata::builder().code(code).message(message).build()
    }

    fn throttled() -> DeleteRestApiError {
        let message = "Too Many Requests";
        DeleteRestApiError::TooManyRequestsException(
            TooManyRequestsException::builder()
                .message(message)
                .meta(meta("TooManyRequestsException", message))
                .build(),
        )
    }

    fn conflict(message: &str) -> DeleteRestApiError {
        DeleteRestApiError::ConflictException(
            ConflictException::builder()
                .message(message)
                .meta(meta("ConflictException", message))
                .build(),
        )
    }

    #[test]
    fn waits_start_at_the_operations_limit_double_and_stop_at_the_cap() {
        let secs = |operation, attempt| Policy::delay(operation, attempt, None).as_secs();
        assert_eq!([1, 2, 3].map(|n| secs("DeleteRestApi", n)), [30, 60, 60]);
        assert_eq!([1, 2, 3].map(|n| secs("CreateDeployment", n)), [5, 10, 20]);
        assert_eq!([1, 2, 7].map(|n| secs("PutIntegration", n)), [1, 2, 60]);
        // API Gateway's custom domain calls: one per 30 s per account.
        for operation in ["CreateDomainName", "UpdateDomainName", "DeleteDomainName"] {
            assert_eq!(secs(operation, 1), 30, "{operation}");
        }
        assert_eq!(
            Policy::delay("DeleteRestApi", 1, Some(Duration::from_secs(7))),
            Duration::from_secs(7),
            "Retry-After wins"
        );
        let jittered = jitter(Duration::from_secs(4));
        assert!(jittered >= Duration::from_secs(4) && jittered <= Duration::from_secs(5));
    }

    #[test]
    fn a_wait_says_what_aws_allows() {
        let wait = |operation, delay, cause| {
            Wait {
                operation,
                delay: Duration::from_millis(delay),
                cause,
                retry: 1,
            }
            .to_string()
        };
        let throttled = Cause::Throttled {
            code: "TooManyRequestsException".into(),
        };
        assert_eq!(
            wait("DeleteRestApi", 30_000, throttled.clone()),
            "waiting 30 s: API Gateway allows one DeleteRestApi per 30 s (TooManyRequestsException)"
        );
        assert_eq!(
            wait("PutMethod", 1_200, throttled),
            "waiting 1.2 s: AWS is throttling PutMethod (TooManyRequestsException)"
        );
        assert!(wait("CreateBucket", 1_000, Cause::Aborted).ends_with("such as its deletion (OperationAborted)"));
    }

    #[tokio::test]
    async fn throttling_and_concurrent_changes_are_retried_and_reported() {
        let rule = mock!(Client::delete_rest_api)
            .sequence()
            .error(throttled)
            .times(2)
            .error(|| conflict("Unable to complete operation due to concurrent modification. Please try again later."))
            .output(|| DeleteRestApiOutput::builder().build())
            .build();
        let apigateway = client(&rule);
        let waits = RefCell::new(Vec::new());
        let on_wait = |wait: &Wait| waits.borrow_mut().push(wait.cause.clone());
        let retry = Retry::new(NOW, &on_wait);
        retry
            .call("DeleteRestApi", || apigateway.delete_rest_api().rest_api_id("a").send())
            .await
            .expect("the fourth attempt succeeds");
        assert_eq!(rule.num_calls(), 4);
        let throttled = Cause::Throttled {
            code: "TooManyRequestsException".into(),
        };
        assert_eq!(
            waits.into_inner(),
            [
                throttled.clone(),
                throttled,
                Cause::Conflict {
                    message: "Unable to complete operation due to concurrent modification. Please try again later."
                        .into()
                }
            ]
        );
    }

    #[tokio::test]
    async fn what_waiting_cannot_change_is_answered_at_once() {
        let rule = mock!(Client::delete_rest_api).then_error(|| conflict("Method already exists for this resource"));
        let apigateway = client(&rule);
        let on_wait = |wait: &Wait| panic!("no wait for {wait}");
        let err = Retry::new(NOW, &on_wait)
            .call("PutMethod", || apigateway.delete_rest_api().rest_api_id("a").send())
            .await
            .unwrap_err();
        assert_eq!(err.code(), Some("ConflictException"));
        assert_eq!(rule.num_calls(), 1);
    }

    #[tokio::test]
    async fn the_budget_ends_the_waiting_with_aws_s_last_answer() {
        let rule = mock!(Client::delete_rest_api)
            .sequence()
            .error(throttled)
            .repeatedly()
            .build();
        let apigateway = client(&rule);
        let waited = RefCell::new(Duration::ZERO);
        let on_wait = |wait: &Wait| *waited.borrow_mut() += wait.delay;
        // 1/1000: DeleteRestApi's 30 s windows become 30 ms, the 240 s budget 240 ms.
        let err = Retry::new(Policy { scale: 0.001 }, &on_wait)
            .call("DeleteRestApi", || apigateway.delete_rest_api().rest_api_id("a").send())
            .await
            .unwrap_err();
        assert_eq!(err.code(), Some("TooManyRequestsException"));
        let waited = waited.into_inner();
        assert!(waited <= Duration::from_millis(240), "{waited:?}");
        // 30, 60, 60, 60 ms (plus jitter) fit; a fifth wait would not.
        assert!((4..=5).contains(&(rule.num_calls())), "{} calls", rule.num_calls());
    }
}
