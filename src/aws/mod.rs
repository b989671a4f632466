//! AWS access for ddns-ctl: one module per resource the stack owns, each with
//! the same shape: `observe` what exists, `plan` (pure) what should change,
//! `apply` exactly a planned action, `delete`. Besides them: the config
//! object and hosted zones, which the stack uses but does not own.
//!
//! This layer knows the SDK and [`crate::model`] / [`crate::plan`], never
//! the command line: connections are made from plain values.

pub mod alarm;
pub mod alias;
pub mod api;
pub mod bucket;
pub mod certificate;
pub mod config;
pub mod credentials;
pub mod custom_domain;
pub mod domain;
pub mod function;
pub mod log_events;
pub mod log_group;
pub mod mapping;
pub mod metric_filter;
pub mod permission;
pub mod retry;
pub mod role;
pub mod stage;
pub mod topic;
pub mod validation;
pub mod zone;

use std::fmt::Debug;

use aws_config::{BehaviorVersion, SdkConfig};
use aws_credential_types::provider::SharedCredentialsProvider;
use aws_credential_types::provider::error::CredentialsError;
use aws_sdk_iam::error::{ProvideErrorMetadata, SdkError};

use crate::model::Account;

/// Where to send AWS requests and as whom; each unset value falls back to
/// the standard chain (environment, profile, instance metadata).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Connection {
    /// The region.
    pub region: Option<String>,
    /// A named profile.
    pub profile: Option<String>,
    /// An endpoint that stands in for AWS (moto, LocalStack).
    pub endpoint_url: Option<String>,
}

impl Connection {
    /// The SDK configuration.
    pub async fn sdk_config(&self) -> SdkConfig {
        let mut loader = aws_config::defaults(BehaviorVersion::latest());
        if let Some(region) = &self.region {
            loader = loader.region(aws_config::Region::new(region.clone()));
        }
        if let Some(profile) = &self.profile {
            loader = loader.profile_name(profile);
        }
        if let Some(url) = &self.endpoint_url {
            loader = loader.endpoint_url(url);
        }
        let sdk = loader.load().await;
        // Wrapped so that an expired session or an unusable profile is
        // reported as itself, not as "no credentials".
        let Some(inner) = sdk.credentials_provider() else {
            return sdk;
        };
        let profile = self.profile.clone().unwrap_or_else(|| "default".to_owned());
        sdk.to_builder()
            .credentials_provider(SharedCredentialsProvider::new(credentials::Explaining::new(
                inner, profile,
            )))
            .build()
    }
}

/// Every client deploy, teardown and status use, built once.
#[derive(Debug, Clone)]
pub struct Clients {
    /// IAM.
    pub iam: aws_sdk_iam::Client,
    /// S3, path-style when an endpoint is set.
    pub s3: aws_sdk_s3::Client,
    /// Lambda.
    pub lambda: aws_sdk_lambda::Client,
    /// API Gateway (REST).
    pub apigateway: aws_sdk_apigateway::Client,
    /// STS, for the account id.
    pub sts: aws_sdk_sts::Client,
    /// Route53, for zones and records.
    pub route53: aws_sdk_route53::Client,
    /// CloudWatch Logs, for the function's log group.
    pub logs: aws_sdk_cloudwatchlogs::Client,
    /// SNS, for the alert topic.
    pub sns: aws_sdk_sns::Client,
    /// CloudWatch, for the alarms.
    pub cloudwatch: aws_sdk_cloudwatch::Client,
    /// ACM, for the custom domain's certificate.
    pub acm: aws_sdk_acm::Client,
    /// How long to wait for ACM ([`certificate::Patience`]).
    pub certificates: certificate::Patience,
    /// How long to wait for a config S3 does not serve yet ([`config::Patience`]).
    pub patience: config::Patience,
    /// How long the calls AWS rate-limits wait ([`retry`]).
    pub retry: retry::Policy,
}

impl Clients {
    /// Builds the clients from one SDK config.
    pub fn new(sdk: &SdkConfig) -> Self {
        Self {
            iam: aws_sdk_iam::Client::new(sdk),
            s3: ddns_handler::s3_client(sdk),
            lambda: aws_sdk_lambda::Client::new(sdk),
            apigateway: aws_sdk_apigateway::Client::new(sdk),
            sts: aws_sdk_sts::Client::new(sdk),
            route53: aws_sdk_route53::Client::new(sdk),
            logs: aws_sdk_cloudwatchlogs::Client::new(sdk),
            sns: aws_sdk_sns::Client::new(sdk),
            cloudwatch: aws_sdk_cloudwatch::Client::new(sdk),
            acm: aws_sdk_acm::Client::new(sdk),
            certificates: certificate::Patience::default(),
            patience: config::Patience::default(),
            retry: retry::Policy::default(),
        }
    }
}

/// A failed AWS call, classified so that the message can say what to do.
#[derive(Debug, thiserror::Error)]
pub enum AwsError {
    /// No region anywhere in the chain.
    #[error("no AWS region is set: pass --region or set AWS_REGION (or a region in your profile)")]
    NoRegion,
    /// No credentials anywhere in the chain.
    #[error(
        "no AWS credentials found: run `aws configure`, pass --profile, or set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY (-v shows every source that was tried)"
    )]
    NoCredentials(String),
    /// Credentials are configured but cannot be loaded, for a known cause.
    #[error(transparent)]
    Credentials(credentials::CredentialsProblem),
    /// The credentials may not make this call.
    #[error("{operation} was denied: the credentials need permission for it ({message})")]
    AccessDenied {
        /// The API operation.
        operation: &'static str,
        /// AWS's message.
        message: String,
    },
    /// A resource with the stack's name exists but ddns-ctl did not create it.
    #[error("{kind} {name} exists but is not tagged managed-by=ddns-ctl; choose another --name or remove it")]
    NotOurs {
        /// What kind of resource.
        kind: &'static str,
        /// Its name.
        name: String,
    },
    /// A plan asked a resource for a change that is not its own: a fault in
    /// the planner, never in AWS.
    #[error("internal error: the plan asks the {resource} for '{change}', which it cannot apply")]
    NotApplicable {
        /// The resource.
        resource: &'static str,
        /// The change.
        change: String,
    },
    /// Any other failure.
    #[error("{operation} failed: {message}")]
    Call {
        /// The API operation.
        operation: &'static str,
        /// AWS's message, with causes.
        message: String,
    },
}

impl AwsError {
    /// Classifies an SDK error from `operation`.
    pub fn from_sdk<E, R>(operation: &'static str, err: SdkError<E, R>) -> Self
    where
        E: ProvideErrorMetadata + std::error::Error + Send + Sync + 'static,
        R: Debug + Send + Sync + 'static,
    {
        let code = err.code().unwrap_or_default().to_owned();
        let message = err.message().map(str::to_owned);
        let chain = ddns_handler::error_chain(&err);
        if matches!(
            code.as_str(),
            "AccessDenied" | "AccessDeniedException" | "UnauthorizedOperation"
        ) {
            return Self::AccessDenied {
                operation,
                message: message.unwrap_or(chain),
            };
        }
        if let Some(credentials) = credentials_failure(&err) {
            // The chain lists every provider tried: useful with -v, noise in
            // the one line a new user reads.
            tracing::debug!(chain = ?chain, "credentials failed");
            return credentials;
        }
        Self::Call {
            operation,
            message: match message {
                Some(m) if !code.is_empty() => format!("{code}: {m}"),
                _ => chain,
            },
        }
    }

    /// A shorthand for `map_err`.
    pub fn on<E, R>(operation: &'static str) -> impl FnOnce(SdkError<E, R>) -> Self
    where
        E: ProvideErrorMetadata + std::error::Error + Send + Sync + 'static,
        R: Debug + Send + Sync + 'static,
    {
        move |err| Self::from_sdk(operation, err)
    }
}

/// The credentials' failure behind `err`, if that is why the call failed:
/// the cause [`credentials::Explaining`] named, else "none found".
fn credentials_failure(err: &(dyn std::error::Error + 'static)) -> Option<AwsError> {
    let mut found = None;
    for e in std::iter::successors(Some(err), |&e| e.source()) {
        if let Some(explained) = e.downcast_ref::<credentials::Explained>() {
            return Some(AwsError::Credentials(explained.problem.clone()));
        }
        if found.is_none() && e.downcast_ref::<CredentialsError>().is_some() {
            found = Some(AwsError::NoCredentials(ddns_handler::error_chain(err)));
        }
    }
    found
}

/// A delete's answer: `Ok(true)` deleted, `Ok(false)` already gone (the
/// service said so, as `gone` recognises), or the failure of `operation`.
pub fn deleted<O, E, R>(
    operation: &'static str,
    result: Result<O, SdkError<E, R>>,
    gone: impl FnOnce(&E) -> bool,
) -> Result<bool, AwsError>
where
    E: ProvideErrorMetadata + std::error::Error + Send + Sync + 'static,
    R: Debug + Send + Sync + 'static,
{
    match result {
        Ok(_) => Ok(true),
        Err(err) if err.as_service_error().is_some_and(gone) => Ok(false),
        Err(err) => Err(AwsError::from_sdk(operation, err)),
    }
}

/// The SDK error's service code, if the service answered.
pub fn error_code<E: ProvideErrorMetadata, R>(err: &SdkError<E, R>) -> Option<&str> {
    err.code()
}

/// Finds the account and region, failing with a clear message when either is
/// missing. One STS call.
pub async fn whoami(clients: &Clients, sdk: &SdkConfig) -> Result<Account, AwsError> {
    let region = sdk.region().ok_or(AwsError::NoRegion)?.to_string();
    let identity = clients
        .sts
        .get_caller_identity()
        .send()
        .await
        .map_err(AwsError::on("GetCallerIdentity"))?;
    let id = identity.account().unwrap_or_default().to_owned();
    Ok(Account { id, region })
}

#[cfg(test)]
mod tests {
    use aws_sdk_iam::operation::get_role::GetRoleError;
    use aws_smithy_mocks::{RuleMode, mock, mock_client};
    use aws_smithy_types::error::ErrorMetadata;

    use super::*;
    use crate::model::Names;

    #[tokio::test]
    async fn a_missing_permission_names_the_operation() {
        let denied = mock!(aws_sdk_iam::Client::get_role).then_error(|| {
            GetRoleError::generic(
                ErrorMetadata::builder()
                    .code("AccessDenied")
                    .message("User: arn:aws:iam::123456789012:user/ci is not authorized to perform: iam:GetRole")
                    .build(),
            )
        });
        let iam = mock_client!(aws_sdk_iam, RuleMode::MatchAny, [&denied]);
        let err = role::observe(&iam, &Names::example("ddns")).await.unwrap_err();
        assert!(
            matches!(
                err,
                AwsError::AccessDenied {
                    operation: "GetRole",
                    ..
                }
            ),
            "{err:?}"
        );
        let message = err.to_string();
        assert!(
            message.starts_with("GetRole was denied: the credentials need permission"),
            "{message}"
        );
        assert!(message.contains("iam:GetRole"), "{message}");
    }
}
