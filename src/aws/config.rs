//! The config object, read and rewritten safely.
//!
//! Every rewrite is a pure change applied to what was just read, written back
//! with `If-Match` on the ETag that was read (or `If-None-Match: *` when there
//! was no object). When another writer got there first S3 answers 412, and the
//! change is applied again to the newer config. So concurrent writers never
//! lose each other's updates, and a change that fails validation writes
//! nothing.

use std::sync::Arc;
use std::time::Duration;

use aws_sdk_s3::Client;
use aws_sdk_s3::primitives::ByteStream;
use ddns_handler::config::{Config, ConfigError};

use super::{AwsError, error_code};

/// How many times a change is re-applied after losing a race.
const ATTEMPTS: u32 = 50;

/// Why a config change was not written.
#[derive(Debug, thiserror::Error)]
pub enum ChangeError {
    /// The change itself refused (unknown host, invalid value, ...).
    #[error("{0}")]
    Refused(String),
    /// The config in S3 is not valid, so it cannot be changed safely.
    #[error("the config in S3 is invalid, so it was not changed: {0}")]
    Invalid(#[from] ConfigError),
    /// S3 failed.
    #[error(transparent)]
    Aws(#[from] AwsError),
    /// Other writers kept winning.
    #[error("the config kept changing underneath ({ATTEMPTS} attempts); try again")]
    Contended,
}

/// One version of the config object.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Version {
    /// The S3 version id.
    pub id: String,
    /// When it was written (RFC 3339).
    pub modified: String,
    /// Its size in bytes.
    pub size: i64,
    /// Whether it is the current version.
    pub latest: bool,
}

/// How long to wait for an object S3 lists but does not serve yet, and
/// whom to tell.
///
/// For a while after versioning is first enabled on a bucket (AWS says up
/// to 15 minutes), S3 may answer 404 for objects written since. deploy
/// enables versioning and writes the config moments apart, so `host add`
/// right after it, or a second deploy, can meet a config that exists but
/// reads as missing. Taken as missing it would be overwritten by an empty
/// one, or narrow the role to no hosts: so a 404 is checked against the
/// bucket's version listing, and a 412 on `If-None-Match: *` after a 404
/// also means "there, not visible yet". Either way the read is retried,
/// never written over.
#[derive(Clone)]
pub struct Patience {
    /// Multiplies every wait (1 for AWS; tests make it small).
    pub scale: f64,
    /// Told once, with the reason, when a wait begins.
    pub report: Arc<dyn Fn(&str) + Send + Sync>,
}

impl Patience {
    /// The first wait, doubled each time up to [`Patience::CAP`].
    pub const FIRST: Duration = Duration::from_secs(1);
    /// The longest single wait.
    pub const CAP: Duration = Duration::from_secs(15);
    /// How long to wait in all before giving up.
    pub const BUDGET: Duration = Duration::from_secs(300);
}

impl Default for Patience {
    fn default() -> Self {
        Self {
            scale: 1.0,
            report: Arc::new(|_| {}),
        }
    }
}

impl std::fmt::Debug for Patience {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Patience")
            .field("scale", &self.scale)
            .finish_non_exhaustive()
    }
}

/// The config object of a bucket.
#[derive(Debug, Clone)]
pub struct ConfigObject<'a> {
    s3: &'a Client,
    bucket: &'a str,
    key: &'a str,
    patience: Patience,
}

impl<'a> ConfigObject<'a> {
    /// The object `key` in `bucket`.
    pub fn new(s3: &'a Client, bucket: &'a str, key: &'a str) -> Self {
        Self {
            s3,
            bucket,
            key,
            patience: Patience::default(),
        }
    }

    /// The same object, waiting as `patience` says for a config S3 lists
    /// but does not serve yet.
    pub fn with_patience(self, patience: Patience) -> Self {
        Self { patience, ..self }
    }

    /// The config and its ETag; `None` if the object does not exist. It
    /// must parse; hosts that break a rule are read too, so that a change
    /// can repair them (see [`ConfigObject::update`]).
    pub async fn read(&self) -> Result<Option<(Config, String)>, ChangeError> {
        match self.read_bytes(None).await? {
            Some((bytes, etag)) => Ok(Some((Config::parse(&bytes)?, etag))),
            None => Ok(None),
        }
    }

    /// The config as it is now; an empty one if the object does not exist.
    pub async fn current(&self) -> Result<Config, ChangeError> {
        Ok(self.read().await?.map(|(config, _)| config).unwrap_or_default())
    }

    async fn read_bytes(&self, version: Option<&str>) -> Result<Option<(Vec<u8>, String)>, AwsError> {
        match version {
            Some(_) => self.get(version).await,
            None => get_visible(self.s3, self.bucket, self.key, &self.patience).await,
        }
    }

    async fn get(&self, version: Option<&str>) -> Result<Option<(Vec<u8>, String)>, AwsError> {
        let request = self
            .s3
            .get_object()
            .bucket(self.bucket)
            .key(self.key)
            .set_version_id(version.map(str::to_owned));
        match request.send().await {
            Ok(out) => {
                let etag = out.e_tag().unwrap_or_default().to_owned();
                let bytes = out.body.collect().await.map_err(|e| AwsError::Call {
                    operation: "GetObject",
                    message: e.to_string(),
                })?;
                Ok(Some((bytes.into_bytes().to_vec(), etag)))
            }
            Err(err) if matches!(error_code(&err), Some("NoSuchKey" | "NoSuchVersion")) => Ok(None),
            Err(err) if error_code(&err) == Some("NoSuchBucket") => Err(AwsError::Call {
                operation: "GetObject",
                message: format!("bucket {} does not exist: run `ddns-ctl deploy` first", self.bucket),
            }),
            Err(err) => Err(AwsError::from_sdk("GetObject", err)),
        }
    }

    /// Applies `change` to the current config and writes the result back
    /// conditionally, re-applying it after every lost race. Returns what the
    /// last application of `change` returned.
    pub async fn update<T>(&self, change: impl FnMut(&mut Config) -> Result<T, ChangeError>) -> Result<T, ChangeError> {
        self.update_guarded(change, async |_, _| Ok(())).await
    }

    /// As [`ConfigObject::update`], calling `before_write` with the config
    /// as read (`None` when there was none to read) and as it is about to be
    /// written, before each conditional write (so again after a lost race,
    /// with the newer config): the place to widen what the function may do
    /// before it can see the new config. An error there writes nothing.
    pub async fn update_guarded<T>(
        &self,
        mut change: impl FnMut(&mut Config) -> Result<T, ChangeError>,
        mut before_write: impl AsyncFnMut(Option<&Config>, &Config) -> Result<(), ChangeError>,
    ) -> Result<T, ChangeError> {
        let mut hidden = Hidden::new(self.bucket, self.key, &self.patience);
        let mut attempt = 0;
        while attempt < ATTEMPTS {
            let (mut config, etag) = match self.read().await? {
                Some((config, etag)) => (config, Some(etag)),
                None => (Config::default(), None),
            };
            let absent = etag.is_none();
            let read = config.clone();
            let broken_before = broken_hosts(&config);
            let result = change(&mut config)?;
            // What is written must read back, and break no rule that the
            // config did not break already: so a config that an older
            // version let in (a short secret, say) can be repaired one host
            // at a time, and no change makes it worse.
            let text = config.to_json_pretty();
            let written = Config::parse(text.as_bytes())?;
            for host in written.hosts() {
                if let Err(err) = Config::check(host.name, host.config)
                    && !broken_before.contains(host.name)
                {
                    return Err(err.into());
                }
            }
            before_write((!absent).then_some(&read), &written).await?;
            match self.write(text.into_bytes(), etag.as_deref()).await? {
                Written::Yes => return Ok(result),
                // It read as missing, yet it exists: not another writer but
                // S3 not showing it yet. Wait for it; never count it as a
                // lost race, never write over it.
                Written::Exists if absent => hidden.wait().await?,
                Written::Exists | Written::Conflict => {
                    tracing::debug!(attempt, "the config changed underneath; re-applying the change");
                    tokio::time::sleep(backoff(attempt)).await;
                    attempt += 1;
                }
            }
        }
        Err(ChangeError::Contended)
    }

    /// Writes `body` if the object still has `etag` (or, with `None`, still
    /// does not exist).
    async fn write(&self, body: Vec<u8>, etag: Option<&str>) -> Result<Written, AwsError> {
        let mut put = self
            .s3
            .put_object()
            .bucket(self.bucket)
            .key(self.key)
            .content_type("application/json")
            .body(ByteStream::from(body));
        put = match etag {
            Some(etag) => put.if_match(etag),
            None => put.if_none_match("*"),
        };
        match put.send().await {
            Ok(_) => Ok(Written::Yes),
            // 412: the precondition failed; 409: a concurrent conditional
            // write is in flight. Either way, read again.
            Err(err) if error_code(&err) == Some("PreconditionFailed") => Ok(Written::Exists),
            Err(err) if error_code(&err) == Some("ConditionalRequestConflict") => Ok(Written::Conflict),
            Err(err) => Err(AwsError::from_sdk("PutObject", err)),
        }
    }

    /// Every version of the config, newest first.
    pub async fn history(&self) -> Result<Vec<Version>, AwsError> {
        let mut versions = Vec::new();
        let (mut key_marker, mut version_marker) = (None::<String>, None::<String>);
        loop {
            let page = self
                .s3
                .list_object_versions()
                .bucket(self.bucket)
                .prefix(self.key)
                .set_key_marker(key_marker.take())
                .set_version_id_marker(version_marker.take())
                .send()
                .await
                .map_err(AwsError::on("ListObjectVersions"))?;
            for v in page.versions().iter().filter(|v| v.key() == Some(self.key)) {
                versions.push(Version {
                    id: v.version_id().unwrap_or("null").to_owned(),
                    modified: v
                        .last_modified()
                        .and_then(|t| t.fmt(aws_smithy_types::date_time::Format::DateTime).ok())
                        .unwrap_or_default(),
                    size: v.size().unwrap_or_default(),
                    latest: v.is_latest().unwrap_or_default(),
                });
            }
            if page.is_truncated() != Some(true) {
                break;
            }
            key_marker = page.next_key_marker().map(str::to_owned);
            version_marker = page.next_version_id_marker().map(str::to_owned);
        }
        versions.sort_by(|a, b| b.modified.cmp(&a.modified).then(b.latest.cmp(&a.latest)));
        Ok(versions)
    }

    /// The object's size in bytes; 0 if there is none.
    pub async fn size(&self) -> Result<u64, AwsError> {
        match self.s3.head_object().bucket(self.bucket).key(self.key).send().await {
            Ok(out) => Ok(out.content_length().unwrap_or_default().max(0) as u64),
            Err(err) if err.as_service_error().is_some_and(|e| e.is_not_found()) => Ok(0),
            Err(err) => Err(AwsError::from_sdk("HeadObject", err)),
        }
    }

    /// Version `id` of the config.
    pub async fn version(&self, id: &str) -> Result<Config, ChangeError> {
        let (bytes, _) = self
            .read_bytes(Some(id))
            .await?
            .ok_or_else(|| ChangeError::Refused(format!("there is no version {id} of {}", self.key)))?;
        Ok(Config::from_slice(&bytes)?)
    }
}

/// What a conditional write did.
enum Written {
    /// It was written.
    Yes,
    /// 412: the precondition failed (another version exists, or the object
    /// exists at all).
    Exists,
    /// 409: another conditional write is in flight.
    Conflict,
}

/// `key` in `bucket` and its ETag; `None` only if S3 neither serves nor
/// lists it. A 404 for an object that the version listing shows as current
/// is S3 not serving it yet, and is waited out as `patience` says.
pub async fn get_visible(
    s3: &Client,
    bucket: &str,
    key: &str,
    patience: &Patience,
) -> Result<Option<(Vec<u8>, String)>, AwsError> {
    let mut hidden = Hidden::new(bucket, key, patience);
    loop {
        let got = ConfigObject::new(s3, bucket, key).get(None).await?;
        if got.is_some() || !listed(s3, bucket, key).await? {
            return Ok(got);
        }
        hidden.wait().await?;
    }
}

/// Whether the version listing shows `key` with a current version that is
/// not a delete marker.
async fn listed(s3: &Client, bucket: &str, key: &str) -> Result<bool, AwsError> {
    let page = s3
        .list_object_versions()
        .bucket(bucket)
        .prefix(key)
        .max_keys(10)
        .send()
        .await
        .map_err(AwsError::on("ListObjectVersions"))?;
    let current = |k: Option<&str>, latest: Option<bool>| k == Some(key) && latest == Some(true);
    let deleted = page.delete_markers().iter().any(|m| current(m.key(), m.is_latest()));
    let live = page.versions().iter().any(|v| current(v.key(), v.is_latest()));
    Ok(live && !deleted)
}

/// The waits for one object that S3 has but does not serve yet.
struct Hidden<'p> {
    what: String,
    patience: &'p Patience,
    next: Duration,
    waited: Duration,
}

impl<'p> Hidden<'p> {
    fn new(bucket: &str, key: &str, patience: &'p Patience) -> Self {
        Self {
            what: format!("s3://{bucket}/{key}"),
            patience,
            next: Patience::FIRST,
            waited: Duration::ZERO,
        }
    }

    /// Waits once more, telling the user the first time; fails when the
    /// budget is spent.
    async fn wait(&mut self) -> Result<(), AwsError> {
        if self.waited >= Patience::BUDGET {
            return Err(AwsError::Call {
                operation: "GetObject",
                message: format!(
                    "{} exists but S3 has not served it for {} minutes (it does so for a while after versioning is enabled); nothing was changed: try again in a few minutes",
                    self.what,
                    Patience::BUDGET.as_secs() / 60
                ),
            });
        }
        if self.waited.is_zero() {
            (self.patience.report)(&format!(
                "{} exists but S3 does not serve it yet (it may answer 404 for a while after versioning is enabled); waiting for it, never writing over it",
                self.what
            ));
        }
        tokio::time::sleep(self.next.mul_f64(self.patience.scale.max(0.0))).await;
        self.waited += self.next;
        self.next = (self.next * 2).min(Patience::CAP);
        Ok(())
    }
}

/// The hosts of `config` that break a rule the function enforces.
pub fn broken_hosts(config: &Config) -> std::collections::BTreeSet<String> {
    config
        .hosts()
        .filter(|host| Config::check(host.name, host.config).is_err())
        .map(|host| host.name.to_owned())
        .collect()
}

/// 5 ms, doubling, with jitter so that racing writers spread out.
fn backoff(attempt: u32) -> Duration {
    let base = 5u64 << attempt.min(6);
    let mut byte = [0u8; 1];
    let jitter = getrandom::fill(&mut byte)
        .map(|()| u64::from(byte[0]) % base.max(1))
        .unwrap_or(0);
    Duration::from_millis(base + jitter)
}
