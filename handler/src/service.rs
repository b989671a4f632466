//! The service's long-lived state: one S3 client, one Route53 client and the
//! cached config, built once per process and shared by every request.

use std::sync::Arc;
use std::time::Duration;

use aws_config::SdkConfig;

use crate::config::{Config, DEFAULT_KEY};
use crate::dns::Dns;
use crate::store::{ConfigStore, LoadError};

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

/// Environment variables the Lambda function is configured with.
pub mod env {
    /// The bucket that holds the config.
    pub const BUCKET: &str = "DDNS_CONFIG_BUCKET";
    /// The config object's key; `config.json` if unset.
    pub const KEY: &str = "DDNS_CONFIG_KEY";
    /// Seconds a cached config is trusted; 5 if unset.
    pub const MAX_AGE: &str = "DDNS_CONFIG_MAX_AGE_SECS";
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
}

impl Settings {
    /// Settings for `bucket` with the default key and cache age.
    pub fn new(bucket: impl Into<String>) -> Self {
        Self {
            bucket: bucket.into(),
            key: DEFAULT_KEY.to_owned(),
            max_age: DEFAULT_MAX_AGE,
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
        Ok(settings)
    }
}

/// Everything a request needs. Share it behind an [`Arc`].
#[derive(Debug)]
pub struct Service {
    store: ConfigStore,
    dns: Dns,
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
        Arc::new(Self {
            store: ConfigStore::new(crate::s3_client(sdk), settings.bucket, settings.key, settings.max_age),
            dns: Dns::new(aws_sdk_route53::Client::new(sdk)),
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
}
