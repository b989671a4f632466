//! The config object, read from S3 and kept warm.
//!
//! The seed downloaded the object on every request. Here one copy is cached
//! per process and revalidated at most every `max_age` with a conditional
//! GET (`If-None-Match`), which S3 answers with a bodiless 304 when nothing
//! changed. Between revalidations a request costs no S3 call at all; a removed
//! host or a rotated secret takes effect within `max_age`.

use std::sync::{Arc, RwLock};
use std::time::{Duration, Instant};

use aws_sdk_s3::Client;
use aws_sdk_s3::error::SdkError;
use aws_sdk_s3::operation::get_object::GetObjectError;

use crate::config::{Config, ConfigError};

/// Why the config could not be had.
#[derive(Debug, thiserror::Error)]
pub enum LoadError {
    /// The bucket or the object does not exist. `denied` when S3 said so
    /// with a 403: the function may read only its config object, not list
    /// the bucket, and S3 answers such a reader's request for a missing key
    /// with AccessDenied rather than NoSuchKey.
    #[error(
        "the config object s3://{bucket}/{key} does not exist{}",
        if *denied { " (S3 answered 403 AccessDenied, as it does for a missing key to a reader that may not list the bucket; if the object exists, the function's role may not read it)" } else { "" }
    )]
    Missing {
        /// The bucket.
        bucket: String,
        /// The object key.
        key: String,
        /// Whether S3 answered 403 rather than 404.
        denied: bool,
    },
    /// S3 could not be read.
    #[error("reading s3://{bucket}/{key} failed: {message}")]
    Read {
        /// The bucket.
        bucket: String,
        /// The object key.
        key: String,
        /// The SDK's description.
        message: String,
    },
    /// The object is not a valid config.
    #[error("s3://{bucket}/{key}: {source}")]
    Invalid {
        /// The bucket.
        bucket: String,
        /// The object key.
        key: String,
        /// What is wrong with it.
        #[source]
        source: ConfigError,
    },
}

/// The waits before reading a missing config again. For a while after
/// versioning is first enabled, S3 may answer 404 (403 to the function) for
/// objects written since, and deploy enables versioning and writes the
/// config moments apart: so the first requests after a deploy must not take
/// a config that is there for a missing one. 1.75 s in all, well inside the
/// request deadline; a config that is really missing costs that much more
/// per request, and is a broken stack anyway.
pub const MISSING_RETRIES: [Duration; 3] = [
    Duration::from_millis(250),
    Duration::from_millis(500),
    Duration::from_millis(1000),
];

struct Cached {
    config: Arc<Config>,
    etag: Option<String>,
    checked: Instant,
}

/// Reads the config object and caches it for a short while.
pub struct ConfigStore {
    s3: Client,
    bucket: String,
    key: String,
    max_age: Duration,
    cached: RwLock<Option<Cached>>,
    // Serialises refreshes so that a burst of requests after expiry makes
    // one S3 call, not one each. It holds when the config was last found
    // missing after its retries (and whether S3 said so with a 403), so
    // that the requests queued behind that load share its answer instead of
    // each waiting out the retries again.
    refresh: tokio::sync::Mutex<Option<(Instant, bool)>>,
}

impl std::fmt::Debug for ConfigStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ConfigStore")
            .field("bucket", &self.bucket)
            .field("key", &self.key)
            .field("max_age", &self.max_age)
            .finish_non_exhaustive()
    }
}

impl ConfigStore {
    /// A store for `s3://bucket/key`, revalidated at most every `max_age`.
    pub fn new(s3: Client, bucket: impl Into<String>, key: impl Into<String>, max_age: Duration) -> Self {
        Self {
            s3,
            bucket: bucket.into(),
            key: key.into(),
            max_age,
            cached: RwLock::new(None),
            refresh: tokio::sync::Mutex::new(None),
        }
    }

    /// The bucket this store reads.
    pub fn bucket(&self) -> &str {
        &self.bucket
    }

    /// The object key this store reads.
    pub fn key(&self) -> &str {
        &self.key
    }

    /// The current config: from the cache while it is fresh, otherwise
    /// revalidated against S3.
    ///
    /// Failures are not papered over with a stale copy: serving an old config
    /// while S3 is unreadable would keep a removed host or a rotated secret
    /// working, so the store fails closed.
    pub async fn current(&self) -> Result<Arc<Config>, LoadError> {
        if let Some(config) = self.fresh() {
            return Ok(config);
        }
        let mut missing = self.refresh.lock().await;
        if let Some(config) = self.fresh() {
            return Ok(config);
        }
        if let Some((at, denied)) = *missing
            && at.elapsed() < self.max_age
        {
            return Err(self.missing(denied));
        }
        let mut result = self.revalidate().await;
        for delay in MISSING_RETRIES {
            if !matches!(result, Err(LoadError::Missing { .. })) {
                break;
            }
            tracing::warn!(
                bucket = %self.bucket,
                key = %self.key,
                "the config reads as missing; reading it again in {delay:?} (S3 may not serve an object for a while after versioning is enabled)"
            );
            tokio::time::sleep(delay).await;
            result = self.revalidate().await;
        }
        *missing = match &result {
            Err(LoadError::Missing { denied, .. }) => Some((Instant::now(), *denied)),
            _ => None,
        };
        if result.is_err() {
            self.store(None);
        }
        result
    }

    fn missing(&self, denied: bool) -> LoadError {
        LoadError::Missing {
            bucket: self.bucket.clone(),
            key: self.key.clone(),
            denied,
        }
    }

    fn fresh(&self) -> Option<Arc<Config>> {
        let cached = self.cached.read().ok()?;
        let cached = cached.as_ref()?;
        (cached.checked.elapsed() < self.max_age).then(|| Arc::clone(&cached.config))
    }

    fn store(&self, value: Option<Cached>) {
        // A poisoned lock only means another request panicked mid-write of
        // plain data; the value is still whole, so carry on.
        let mut slot = self.cached.write().unwrap_or_else(|e| e.into_inner());
        *slot = value;
    }

    async fn revalidate(&self) -> Result<Arc<Config>, LoadError> {
        let previous = self
            .cached
            .read()
            .ok()
            .and_then(|c| c.as_ref().map(|c| (Arc::clone(&c.config), c.etag.clone())));
        let mut request = self.s3.get_object().bucket(&self.bucket).key(&self.key);
        if let Some((_, Some(etag))) = &previous {
            request = request.if_none_match(etag);
        }
        let checked = Instant::now();
        match request.send().await {
            Ok(out) => {
                let etag = out.e_tag().map(str::to_owned);
                let bytes = out.body.collect().await.map_err(|e| self.read_error(&e))?.into_bytes();
                let config = Config::from_slice(&bytes).map_err(|source| LoadError::Invalid {
                    bucket: self.bucket.clone(),
                    key: self.key.clone(),
                    source,
                })?;
                let config = Arc::new(config);
                self.store(Some(Cached {
                    config: Arc::clone(&config),
                    etag,
                    checked,
                }));
                Ok(config)
            }
            Err(err) if status(&err) == Some(304) => match previous {
                Some((config, etag)) => {
                    self.store(Some(Cached {
                        config: Arc::clone(&config),
                        etag,
                        checked,
                    }));
                    Ok(config)
                }
                None => Err(self.read_error(&err)),
            },
            Err(err) if is_missing(&err) => Err(self.missing(status(&err) == Some(403))),
            Err(err) => Err(self.read_error(&err)),
        }
    }

    fn read_error(&self, err: &(dyn std::error::Error + 'static)) -> LoadError {
        LoadError::Read {
            bucket: self.bucket.clone(),
            key: self.key.clone(),
            message: crate::error_chain(err),
        }
    }
}

fn status(err: &SdkError<GetObjectError>) -> Option<u16> {
    err.raw_response().map(|r| r.status().as_u16())
}

/// Whether S3 said the object is not there. The function's role may
/// `s3:GetObject` its one key and nothing else (no `s3:ListBucket`), so for
/// it S3 answers a missing key with 403 AccessDenied, never 404: a 403 on
/// the config is reported as a missing config, with that caveat.
fn is_missing(err: &SdkError<GetObjectError>) -> bool {
    match err.as_service_error() {
        Some(GetObjectError::NoSuchKey(_)) => true,
        Some(other) => matches!(
            aws_sdk_s3::error::ProvideErrorMetadata::code(other),
            Some("NoSuchBucket" | "AccessDenied")
        ),
        None => false,
    }
}
