//! The config bucket: private, encrypted, versioned, TLS-only, tagged, and
//! holding the config object, which deploy creates only if it is absent.

use aws_sdk_s3::Client;
use aws_sdk_s3::primitives::ByteStream;
use aws_sdk_s3::types::{
    BucketLocationConstraint, BucketVersioningStatus, CreateBucketConfiguration, Delete, ObjectIdentifier,
    PublicAccessBlockConfiguration, ServerSideEncryption, ServerSideEncryptionByDefault,
    ServerSideEncryptionConfiguration, ServerSideEncryptionRule, Tag, Tagging,
};
use ddns_handler::config::Config;
use serde_json::{Value, json};

use super::retry::Retry;
use super::{AwsError, error_code};
use crate::model::Names;
use crate::plan::{Action, Change};
use crate::template;

/// The bucket as it exists.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Observed {
    /// It carries the stack's tags. An untagged bucket is adopted only when
    /// it is empty: that is what a deploy interrupted between CreateBucket
    /// and PutBucketTagging leaves, under a name only this account can have.
    pub tagged: bool,
    /// All four public-access blocks are on.
    pub private: bool,
    /// Default encryption is on.
    pub encrypted: bool,
    /// Versioning is enabled.
    pub versioned: bool,
    /// The bucket policy, if any.
    pub policy: Option<Value>,
    /// The config object, if it exists and parses.
    pub config: Option<Config>,
    /// The config object's size in bytes (0 without one).
    pub config_bytes: u64,
    /// Why the config breaks the rules the function enforces (it then
    /// refuses to serve any host), if it does.
    pub invalid: Option<String>,
}

/// The bucket policy for `names`: deny anything without TLS.
pub fn desired_policy(names: &Names) -> Value {
    template::render(template::BUCKET_POLICY, &[("bucket_arn", json!(names.bucket_arn()))])
}

/// Reads the bucket's settings and config (six calls); `None` if there is no
/// bucket.
pub async fn observe(
    s3: &Client,
    names: &Names,
    key: &str,
    patience: &super::config::Patience,
) -> Result<Option<Observed>, AwsError> {
    let bucket = names.bucket.as_str();
    let tagged = match s3.get_bucket_tagging().bucket(bucket).send().await {
        Ok(out) if names.owns(out.tag_set().iter().map(|t| (t.key(), t.value()))) => true,
        Ok(_) => return Err(not_ours(names)),
        Err(err) => match error_code(&err) {
            Some("NoSuchBucket") => return Ok(None),
            Some("NoSuchTagSet") if is_empty(s3, bucket).await? => false,
            Some("NoSuchTagSet") => return Err(not_ours(names)),
            _ => return Err(AwsError::from_sdk("GetBucketTagging", err)),
        },
    };
    let private = match s3.get_public_access_block().bucket(bucket).send().await {
        Ok(out) => out.public_access_block_configuration().is_some_and(|c| {
            c.block_public_acls() == Some(true)
                && c.ignore_public_acls() == Some(true)
                && c.block_public_policy() == Some(true)
                && c.restrict_public_buckets() == Some(true)
        }),
        Err(err) if error_code(&err) == Some("NoSuchPublicAccessBlockConfiguration") => false,
        Err(err) => return Err(AwsError::from_sdk("GetPublicAccessBlock", err)),
    };
    let encrypted = match s3.get_bucket_encryption().bucket(bucket).send().await {
        Ok(out) => out.server_side_encryption_configuration().is_some_and(|c| {
            c.rules()
                .iter()
                .any(|r| r.apply_server_side_encryption_by_default().is_some())
        }),
        Err(err) if error_code(&err) == Some("ServerSideEncryptionConfigurationNotFoundError") => false,
        Err(err) => return Err(AwsError::from_sdk("GetBucketEncryption", err)),
    };
    let versioned = s3
        .get_bucket_versioning()
        .bucket(bucket)
        .send()
        .await
        .map_err(AwsError::on("GetBucketVersioning"))?
        .status()
        == Some(&BucketVersioningStatus::Enabled);
    let policy = match s3.get_bucket_policy().bucket(bucket).send().await {
        Ok(out) => out.policy().and_then(|p| serde_json::from_str(p).ok()),
        Err(err) if error_code(&err) == Some("NoSuchBucketPolicy") => None,
        Err(err) => return Err(AwsError::from_sdk("GetBucketPolicy", err)),
    };
    let mut invalid = None;
    let mut config_bytes = 0;
    // A config S3 lists but does not serve yet is waited for: read as
    // missing, it would narrow the role to no hosts.
    let config = match super::config::get_visible(s3, bucket, key, patience).await? {
        Some((bytes, _)) => {
            // A config that parses but breaks a rule is still read, so that
            // status can say what is wrong; the function refuses it whole.
            let bytes_len = bytes.len() as u64;
            let config = Config::parse(&bytes).map_err(|e| AwsError::Call {
                operation: "GetObject",
                message: format!("s3://{bucket}/{key} is not a valid config: {e}"),
            })?;
            invalid = config.validate().err().map(|e| e.to_string());
            config_bytes = bytes_len;
            Some(config)
        }
        None => None,
    };
    Ok(Some(Observed {
        invalid,
        config_bytes,
        tagged,
        private,
        encrypted,
        versioned,
        policy,
        config,
    }))
}

async fn is_empty(s3: &Client, bucket: &str) -> Result<bool, AwsError> {
    let out = s3
        .list_object_versions()
        .bucket(bucket)
        .max_keys(1)
        .send()
        .await
        .map_err(AwsError::on("ListObjectVersions"))?;
    Ok(out.versions().is_empty() && out.delete_markers().is_empty())
}

fn not_ours(names: &Names) -> AwsError {
    AwsError::NotOurs {
        kind: "S3 bucket",
        name: names.bucket.clone(),
    }
}

/// What applying the desired settings would change.
pub fn plan(observed: Option<&Observed>, names: &Names) -> Action {
    let Some(observed) = observed else {
        return Action::Create;
    };
    let checks = [
        (observed.tagged, Change::Tags),
        (observed.private, Change::PublicAccessBlock),
        (observed.encrypted, Change::Encryption),
        (observed.versioned, Change::Versioning),
        (
            observed.policy.as_ref() == Some(&desired_policy(names)),
            Change::BucketPolicy,
        ),
        (observed.config.is_some(), Change::InitialConfig),
    ];
    Action::update(checks.into_iter().filter(|(ok, _)| !ok).map(|(_, c)| c).collect())
}

/// Every setting a new bucket needs, in the order they are applied.
static EVERYTHING: [Change; 6] = [
    Change::Tags,
    Change::PublicAccessBlock,
    Change::Encryption,
    Change::Versioning,
    Change::BucketPolicy,
    Change::InitialConfig,
];

/// Carries out `action`. The config object is written only if absent
/// (`If-None-Match: *`): deploy never overwrites a config, not even one
/// written a moment ago by someone else.
pub async fn apply(s3: &Client, names: &Names, key: &str, action: &Action, retry: &Retry<'_>) -> Result<(), AwsError> {
    let changes: &[Change] = match action {
        Action::Create => {
            create(s3, names, retry).await?;
            &EVERYTHING
        }
        Action::Update(changes) => changes,
        Action::Delete | Action::Unchanged => return Ok(()),
    };
    for change in changes {
        set(s3, names, key, change).await?;
    }
    Ok(())
}

/// Creates the bucket. For a while after a bucket of the same name was
/// deleted (a teardown and a new deploy), S3 answers OperationAborted: that
/// is waited out.
async fn create(s3: &Client, names: &Names, retry: &Retry<'_>) -> Result<(), AwsError> {
    let mut create = s3.create_bucket().bucket(&names.bucket);
    // us-east-1 is the one region that refuses a location constraint.
    if names.region != "us-east-1" {
        create = create.create_bucket_configuration(
            CreateBucketConfiguration::builder()
                .location_constraint(BucketLocationConstraint::from(names.region.as_str()))
                .build(),
        );
    }
    retry
        .call("CreateBucket", || create.clone().send())
        .await
        .map_err(AwsError::on("CreateBucket"))?;
    Ok(())
}

/// Makes one setting as it should be.
async fn set(s3: &Client, names: &Names, key: &str, change: &Change) -> Result<(), AwsError> {
    let bucket = names.bucket.as_str();
    let build = |operation| {
        move |e: aws_sdk_s3::error::BuildError| AwsError::Call {
            operation,
            message: e.to_string(),
        }
    };
    match change {
        Change::Tags => {
            let tags = names
                .tags()
                .into_iter()
                .map(|(k, v)| Tag::builder().key(k).value(v).build())
                .collect::<Result<Vec<_>, _>>()
                .map_err(build("PutBucketTagging"))?;
            let tagging = Tagging::builder()
                .set_tag_set(Some(tags))
                .build()
                .map_err(build("PutBucketTagging"))?;
            s3.put_bucket_tagging()
                .bucket(bucket)
                .tagging(tagging)
                .send()
                .await
                .map_err(AwsError::on("PutBucketTagging"))?;
        }
        Change::PublicAccessBlock => {
            let block = PublicAccessBlockConfiguration::builder()
                .block_public_acls(true)
                .ignore_public_acls(true)
                .block_public_policy(true)
                .restrict_public_buckets(true)
                .build();
            s3.put_public_access_block()
                .bucket(bucket)
                .public_access_block_configuration(block)
                .send()
                .await
                .map_err(AwsError::on("PutPublicAccessBlock"))?;
        }
        Change::Encryption => {
            let default = ServerSideEncryptionByDefault::builder()
                .sse_algorithm(ServerSideEncryption::Aes256)
                .build()
                .map_err(build("PutBucketEncryption"))?;
            let rule = ServerSideEncryptionRule::builder()
                .apply_server_side_encryption_by_default(default)
                .build();
            let config = ServerSideEncryptionConfiguration::builder()
                .rules(rule)
                .build()
                .map_err(build("PutBucketEncryption"))?;
            s3.put_bucket_encryption()
                .bucket(bucket)
                .server_side_encryption_configuration(config)
                .send()
                .await
                .map_err(AwsError::on("PutBucketEncryption"))?;
        }
        Change::Versioning => {
            s3.put_bucket_versioning()
                .bucket(bucket)
                .versioning_configuration(
                    aws_sdk_s3::types::VersioningConfiguration::builder()
                        .status(BucketVersioningStatus::Enabled)
                        .build(),
                )
                .send()
                .await
                .map_err(AwsError::on("PutBucketVersioning"))?;
        }
        Change::BucketPolicy => {
            s3.put_bucket_policy()
                .bucket(bucket)
                .policy(desired_policy(names).to_string())
                .send()
                .await
                .map_err(AwsError::on("PutBucketPolicy"))?;
        }
        Change::InitialConfig => {
            let put = s3
                .put_object()
                .bucket(bucket)
                .key(key)
                .if_none_match("*")
                .content_type("application/json")
                .body(ByteStream::from_static(b"{}\n"))
                .send()
                .await;
            match put {
                Ok(_) => {}
                // Someone wrote a config since we looked: theirs wins.
                Err(err) if error_code(&err) == Some("PreconditionFailed") => {}
                Err(err) => return Err(AwsError::from_sdk("PutObject", err)),
            }
        }
        // Not a bucket's change; the planner never puts one here.
        other => {
            return Err(AwsError::NotApplicable {
                resource: "bucket",
                change: other.to_string(),
            });
        }
    }
    Ok(())
}

/// Deletes every version and delete marker, then the bucket; `false` if it
/// was already gone.
pub async fn delete(s3: &Client, names: &Names) -> Result<bool, AwsError> {
    let bucket = names.bucket.as_str();
    // ListObjectVersions pages with two markers, which the SDK's paginators
    // do not cover, so this walks them by hand.
    let (mut key_marker, mut version_marker) = (None::<String>, None::<String>);
    loop {
        let page = s3
            .list_object_versions()
            .bucket(bucket)
            .set_key_marker(key_marker.take())
            .set_version_id_marker(version_marker.take())
            .send()
            .await;
        let page = match page {
            Ok(page) => page,
            Err(err) if error_code(&err) == Some("NoSuchBucket") => return Ok(false),
            Err(err) => return Err(AwsError::from_sdk("ListObjectVersions", err)),
        };
        let versions = page.versions().iter().map(|v| (v.key(), v.version_id()));
        let markers = page.delete_markers().iter().map(|m| (m.key(), m.version_id()));
        let objects: Vec<ObjectIdentifier> = versions
            .chain(markers)
            .filter_map(|(key, version)| {
                ObjectIdentifier::builder()
                    .set_key(key.map(str::to_owned))
                    .set_version_id(version.map(str::to_owned))
                    .build()
                    .ok()
            })
            .collect();
        if !objects.is_empty() {
            let delete = Delete::builder()
                .set_objects(Some(objects))
                .quiet(true)
                .build()
                .map_err(|e| AwsError::Call {
                    operation: "DeleteObjects",
                    message: e.to_string(),
                })?;
            let out = s3
                .delete_objects()
                .bucket(bucket)
                .delete(delete)
                .send()
                .await
                .map_err(AwsError::on("DeleteObjects"))?;
            // With `quiet`, S3 answers 200 and lists only what it could not
            // delete: those must stop the teardown here, with their reason,
            // not end it later in a bare BucketNotEmpty.
            if let Some(first) = out.errors().first() {
                return Err(AwsError::Call {
                    operation: "DeleteObjects",
                    message: format!(
                        "{} object version(s) in {bucket} could not be deleted; the first, {}: {} ({})",
                        out.errors().len(),
                        first.key().unwrap_or("?"),
                        first.code().unwrap_or("no code"),
                        first.message().unwrap_or("no message"),
                    ),
                });
            }
        }
        if page.is_truncated() != Some(true) {
            break;
        }
        key_marker = page.next_key_marker().map(str::to_owned);
        version_marker = page.next_version_id_marker().map(str::to_owned);
    }
    match s3.delete_bucket().bucket(bucket).send().await {
        Ok(_) => Ok(true),
        Err(err) if error_code(&err) == Some("NoSuchBucket") => Ok(false),
        Err(err) => Err(AwsError::from_sdk("DeleteBucket", err)),
    }
}

#[cfg(test)]
mod tests {
    //! What moto cannot show: S3 answering a quiet DeleteObjects with 200
    //! and per-object errors inside it.

    use aws_sdk_s3::operation::delete_objects::DeleteObjectsOutput;
    use aws_sdk_s3::operation::list_object_versions::ListObjectVersionsOutput;
    use aws_sdk_s3::types::{Error as ObjectError, ObjectVersion};
    use aws_smithy_mocks::{RuleMode, mock, mock_client};

    use super::*;

    #[tokio::test]
    async fn objects_s3_could_not_delete_stop_the_teardown_with_their_reason() {
        let list = mock!(Client::list_object_versions).then_output(|| {
            ListObjectVersionsOutput::builder()
                .versions(ObjectVersion::builder().key("config.json").version_id("v1").build())
                .is_truncated(false)
                .build()
        });
        let objects = mock!(Client::delete_objects).then_output(|| {
            DeleteObjectsOutput::builder()
                .errors(
                    ObjectError::builder()
                        .key("config.json")
                        .version_id("v1")
                        .code("AccessDenied")
                        .message("Access Denied")
                        .build(),
                )
                .build()
        });
        let bucket = mock!(Client::delete_bucket)
            .then_output(|| aws_sdk_s3::operation::delete_bucket::DeleteBucketOutput::builder().build());
        let s3 = mock_client!(aws_sdk_s3, RuleMode::MatchAny, [&list, &objects, &bucket]);
        let err = super::delete(&s3, &Names::example("ddns")).await.unwrap_err();
        let message = err.to_string();
        assert!(
            message.contains("could not be deleted") && message.contains("config.json: AccessDenied"),
            "{message}"
        );
        assert_eq!(
            bucket.num_calls(),
            0,
            "the bucket must not be deleted after a failed empty"
        );
    }
}
