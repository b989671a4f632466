//! The Lambda function: `provided.al2023`, `bootstrap`, 128 MB, a short
//! timeout, and the config's bucket and key in its environment.
//!
//! Code is uploaded only when its SHA-256 differs from the deployed
//! `CodeSha256`, and configuration only when a setting differs. After every
//! change the SDK's waiters hold until the function is ready again, since
//! Lambda refuses a second update while one is in progress.

use std::collections::{BTreeMap, HashMap};
use std::time::{Duration, Instant};

use aws_sdk_lambda::Client;
use aws_sdk_lambda::client::Waiters as _;
use aws_sdk_lambda::error::SdkError;
use aws_sdk_lambda::operation::create_function::{CreateFunctionError, CreateFunctionOutput};
use aws_sdk_lambda::primitives::Blob;
use aws_sdk_lambda::types::{
    ApplicationLogLevel, Architecture, Environment, FunctionCode, LogFormat, LoggingConfig, Runtime, SystemLogLevel,
};
use base64::Engine as _;
use sha2::{Digest, Sha256};

use super::AwsError;
use crate::model::{Arch, Names};
use crate::plan::{Action, Change};

/// The runtime: a custom runtime on Amazon Linux 2023, which runs `bootstrap`.
pub const RUNTIME: Runtime = Runtime::Providedal2023;
/// The handler name `provided` runtimes expect.
pub const HANDLER: &str = "bootstrap";
/// Timeout in seconds: a set is two Route53 calls.
pub const TIMEOUT_SECS: i32 = 10;

/// The function's log format. JSON, so that each request line
/// (`ddns_handler::record`) is an object CloudWatch reads without a parser:
/// metric filters select `$.fields.host`, Logs Insights finds `fields.host`.
/// Lambda passes it to the runtime as `AWS_LAMBDA_LOG_FORMAT`, which
/// lambda_runtime's subscriber reads.
pub const LOG_FORMAT: LogFormat = LogFormat::Json;
/// The application's log level (`AWS_LAMBDA_LOG_LEVEL` to the runtime):
/// INFO, the level of the request lines.
pub const APPLICATION_LOG_LEVEL: ApplicationLogLevel = ApplicationLogLevel::Info;
/// Lambda's own lines: WARN drops START, END and REPORT for every request,
/// more than half of what a request would otherwise log, and keeps
/// timeouts and crashes (which Lambda logs at ERROR or above).
pub const SYSTEM_LOG_LEVEL: SystemLogLevel = SystemLogLevel::Warn;
/// How long the SDK's waiters wait for the function to settle.
const WAIT: Duration = Duration::from_secs(300);

/// Lambda's name for an architecture.
fn sdk_arch(arch: Arch) -> Architecture {
    match arch {
        Arch::Arm64 => Architecture::Arm64,
        Arch::X86_64 => Architecture::X8664,
    }
}

/// The code deploy would upload.
#[derive(Debug, Clone, PartialEq)]
pub enum Code {
    /// A zip at hand, with its CodeSha256.
    Zip {
        /// The package.
        bytes: Vec<u8>,
        /// Base64 of its SHA-256, as Lambda reports `CodeSha256`.
        sha256: String,
        /// Whether it is the package this binary carries, so that a
        /// difference reads as "not this ddns-ctl's code".
        embedded: bool,
    },
    /// Not built yet: deploy builds it when the plan needs it and compares.
    Unbuilt,
    /// Not compared at all (`status` checks settings only).
    Ignored,
}

impl Code {
    /// A zip and its CodeSha256.
    pub fn zip(bytes: Vec<u8>) -> Self {
        let sha256 = code_sha256(&bytes);
        Self::Zip {
            bytes,
            sha256,
            embedded: false,
        }
    }

    /// The package this binary carries (`embedded`), and its CodeSha256.
    pub fn embedded(bytes: Vec<u8>) -> Self {
        let sha256 = code_sha256(&bytes);
        Self::Zip {
            bytes,
            sha256,
            embedded: true,
        }
    }
}

/// What the function should be.
#[derive(Debug, Clone, PartialEq)]
pub struct Desired {
    /// The role it runs as.
    pub role_arn: String,
    /// Its architecture.
    pub arch: Arch,
    /// Its code.
    pub code: Code,
    /// Its memory in MB, sized for the config (`model::function_memory_mb`).
    pub memory_mb: i32,
    /// Its environment.
    pub environment: BTreeMap<String, String>,
    /// The log group it writes to (`/aws/lambda/<function>`, which deploy
    /// makes with a retention and tags).
    pub log_group: String,
}

impl Desired {
    fn zip_blob(&self) -> Result<Blob, AwsError> {
        match &self.code {
            Code::Zip { bytes, .. } => Ok(Blob::new(bytes.clone())),
            _ => Err(AwsError::Call {
                operation: "UpdateFunctionCode",
                message: "the handler was not built before its code was needed".into(),
            }),
        }
    }
}

/// Base64 of a zip's SHA-256, as Lambda reports `CodeSha256`.
pub fn code_sha256(zip: &[u8]) -> String {
    base64::engine::general_purpose::STANDARD.encode(Sha256::digest(zip))
}

/// The settings a function's configuration holds besides its environment.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Configuration {
    /// Runtime.
    pub runtime: Option<String>,
    /// Handler.
    pub handler: Option<String>,
    /// Memory in MB.
    pub memory: Option<i32>,
    /// Timeout in seconds.
    pub timeout: Option<i32>,
    /// The role's ARN.
    pub role: Option<String>,
    /// Log format, application and system log levels, and log group.
    pub logging: Option<[String; 4]>,
}

impl Configuration {
    /// What deploy sets, running as `role_arn` with `memory_mb`, logging to
    /// `log_group`.
    fn desired(role_arn: &str, memory_mb: i32, log_group: &str) -> Self {
        Self {
            runtime: Some(RUNTIME.as_str().to_owned()),
            handler: Some(HANDLER.to_owned()),
            memory: Some(memory_mb),
            timeout: Some(TIMEOUT_SECS),
            role: Some(role_arn.to_owned()),
            logging: Some([
                LOG_FORMAT.as_str().to_owned(),
                APPLICATION_LOG_LEVEL.as_str().to_owned(),
                SYSTEM_LOG_LEVEL.as_str().to_owned(),
                log_group.to_owned(),
            ]),
        }
    }

    /// The names of the settings that differ from `other`.
    fn differences(&self, other: &Self) -> Vec<&'static str> {
        [
            ("runtime", self.runtime != other.runtime),
            ("handler", self.handler != other.handler),
            ("memory", self.memory != other.memory),
            ("timeout", self.timeout != other.timeout),
            ("role", self.role != other.role),
            ("logging", self.logging != other.logging),
        ]
        .into_iter()
        .filter_map(|(name, differs)| differs.then_some(name))
        .collect()
    }
}

/// The function as it exists.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Observed {
    /// Its ARN.
    pub arn: String,
    /// Base64 SHA-256 of its code.
    pub code_sha256: String,
    /// Its architecture, if Lambda names one ddns-ctl knows.
    pub arch: Option<Arch>,
    /// Runtime, handler, memory, timeout and role.
    pub configuration: Configuration,
    /// Its environment.
    pub environment: BTreeMap<String, String>,
}

/// Reads the function (one call); `None` if there is none.
pub async fn observe(lambda: &Client, names: &Names) -> Result<Option<Observed>, AwsError> {
    let out = match lambda.get_function().function_name(&names.function).send().await {
        Ok(out) => out,
        Err(err)
            if err
                .as_service_error()
                .is_some_and(|e| e.is_resource_not_found_exception()) =>
        {
            return Ok(None);
        }
        Err(err) => return Err(AwsError::from_sdk("GetFunction", err)),
    };
    // GetFunction returns the tags only to a caller that may also
    // lambda:ListTags; otherwise it returns a TagsError instead. Reading
    // "no tags" there would call our own function foreign (and leave it
    // behind at teardown), so it is an access error naming the permission.
    if let Some(err) = out.tags_error() {
        return Err(AwsError::AccessDenied {
            operation: "ListTags",
            message: format!(
                "GetFunction could not read the function's tags ({}: {}); allow lambda:ListTags",
                err.error_code(),
                err.message()
            ),
        });
    }
    let tags = out.tags().cloned().unwrap_or_default();
    if !names.owns(tags.iter().map(|(k, v)| (k.as_str(), v.as_str()))) {
        return Err(AwsError::NotOurs {
            kind: "Lambda function",
            name: names.function.clone(),
        });
    }
    let Some(config) = out.configuration() else {
        return Ok(None);
    };
    let environment = config
        .environment()
        .and_then(|e| e.variables())
        .map(|v| v.iter().map(|(k, v)| (k.clone(), v.clone())).collect())
        .unwrap_or_default();
    Ok(Some(Observed {
        arn: config.function_arn().unwrap_or_default().to_owned(),
        code_sha256: config.code_sha256().unwrap_or_default().to_owned(),
        arch: config
            .architectures()
            .first()
            .and_then(|a| Arch::from_lambda(a.as_str())),
        configuration: Configuration {
            runtime: config.runtime().map(|r| r.as_str().to_owned()),
            handler: config.handler().map(str::to_owned),
            memory: config.memory_size(),
            timeout: config.timeout(),
            role: config.role().map(str::to_owned),
            logging: config.logging_config().map(|l| {
                [
                    l.log_format().map(|f| f.as_str()).unwrap_or_default().to_owned(),
                    l.application_log_level()
                        .map(|f| f.as_str())
                        .unwrap_or_default()
                        .to_owned(),
                    l.system_log_level().map(|f| f.as_str()).unwrap_or_default().to_owned(),
                    l.log_group().unwrap_or_default().to_owned(),
                ]
            }),
        },
        environment,
    }))
}

/// What applying `desired` would change.
pub fn plan(observed: Option<&Observed>, desired: &Desired) -> Action {
    let Some(observed) = observed else {
        return Action::Create;
    };
    let mut changes = Vec::new();
    match &desired.code {
        Code::Zip { sha256, embedded, .. } if *sha256 != observed.code_sha256 => changes.push(Change::Code {
            sha256: Some(sha256.clone()),
            embedded: *embedded,
        }),
        Code::Unbuilt => changes.push(Change::Code {
            sha256: None,
            embedded: false,
        }),
        Code::Zip { .. } | Code::Ignored => {}
    }
    if observed.arch != Some(desired.arch) {
        changes.push(Change::Architecture { arch: desired.arch });
    }
    let settings = observed.configuration.differences(&Configuration::desired(
        &desired.role_arn,
        desired.memory_mb,
        &desired.log_group,
    ));
    if !settings.is_empty() {
        changes.push(Change::Configuration { settings });
    }
    if observed.environment != desired.environment {
        changes.push(Change::Env);
    }
    Action::update(changes)
}

/// Whether carrying out `action` needs the code itself.
pub fn needs_code(action: &Action) -> bool {
    match action {
        Action::Create => true,
        Action::Update(changes) => changes
            .iter()
            .any(|c| matches!(c, Change::Code { .. } | Change::Architecture { .. })),
        Action::Delete | Action::Unchanged => false,
    }
}

/// How long CreateFunction is retried while a new role is not yet usable.
#[derive(Debug, Clone, Copy)]
pub struct Propagation {
    /// Give up after this long.
    pub deadline: Duration,
    /// The first pause; each later one doubles, up to 8 seconds.
    pub first_delay: Duration,
}

impl Default for Propagation {
    fn default() -> Self {
        Self {
            deadline: Duration::from_secs(60),
            first_delay: Duration::from_secs(1),
        }
    }
}

/// Carries out `action` and waits until the function is ready again.
pub async fn apply(
    lambda: &Client,
    names: &Names,
    desired: &Desired,
    action: &Action,
    propagation: Propagation,
) -> Result<(), AwsError> {
    let changes = match action {
        Action::Create => {
            create(lambda, names, desired, propagation).await?;
            return wait_active(lambda, names).await;
        }
        Action::Update(changes) => changes,
        Action::Delete | Action::Unchanged => return Ok(()),
    };
    // The architecture belongs to the code: only UpdateFunctionCode changes it.
    if changes
        .iter()
        .any(|c| matches!(c, Change::Code { .. } | Change::Architecture { .. }))
    {
        lambda
            .update_function_code()
            .function_name(&names.function)
            .zip_file(desired.zip_blob()?)
            .architectures(sdk_arch(desired.arch))
            .send()
            .await
            .map_err(AwsError::on("UpdateFunctionCode"))?;
        wait_updated(lambda, names).await?;
    }
    if changes
        .iter()
        .any(|c| matches!(c, Change::Configuration { .. } | Change::Env))
    {
        lambda
            .update_function_configuration()
            .function_name(&names.function)
            .role(&desired.role_arn)
            .runtime(RUNTIME)
            .handler(HANDLER)
            .memory_size(desired.memory_mb)
            .timeout(TIMEOUT_SECS)
            .environment(environment(desired))
            .logging_config(logging(desired))
            .send()
            .await
            .map_err(AwsError::on("UpdateFunctionConfiguration"))?;
        wait_updated(lambda, names).await?;
    }
    Ok(())
}

fn logging(desired: &Desired) -> LoggingConfig {
    LoggingConfig::builder()
        .log_format(LOG_FORMAT)
        .application_log_level(APPLICATION_LOG_LEVEL)
        .system_log_level(SYSTEM_LOG_LEVEL)
        .log_group(&desired.log_group)
        .build()
}

fn environment(desired: &Desired) -> Environment {
    Environment::builder()
        .set_variables(Some(desired.environment.clone().into_iter().collect()))
        .build()
}

/// CreateFunction, retried while IAM has not yet propagated a new role:
/// Lambda then answers InvalidParameterValueException, "The role defined for
/// the function cannot be assumed by Lambda."
pub async fn create(
    lambda: &Client,
    names: &Names,
    desired: &Desired,
    propagation: Propagation,
) -> Result<CreateFunctionOutput, AwsError> {
    let started = Instant::now();
    let mut delay = propagation.first_delay;
    let tags: HashMap<String, String> = names.tags().into_iter().collect();
    loop {
        let result = lambda
            .create_function()
            .function_name(&names.function)
            .description(format!("ddns-ctl stack {}", names.stack))
            .role(&desired.role_arn)
            .runtime(RUNTIME)
            .handler(HANDLER)
            .architectures(sdk_arch(desired.arch))
            .memory_size(desired.memory_mb)
            .timeout(TIMEOUT_SECS)
            .environment(environment(desired))
            .logging_config(logging(desired))
            .code(FunctionCode::builder().zip_file(desired.zip_blob()?).build())
            .set_tags(Some(tags.clone()))
            .send()
            .await;
        match result {
            Ok(out) => return Ok(out),
            Err(err) if role_not_ready(&err) && started.elapsed() + delay <= propagation.deadline => {
                tracing::info!(delay = ?delay, "the new role is not assumable yet; retrying CreateFunction");
                tokio::time::sleep(delay).await;
                delay = (delay * 2).min(Duration::from_secs(8));
            }
            Err(err) => return Err(AwsError::from_sdk("CreateFunction", err)),
        }
    }
}

fn role_not_ready<R>(err: &SdkError<CreateFunctionError, R>) -> bool {
    err.as_service_error()
        .is_some_and(|e| e.is_invalid_parameter_value_exception() && e.to_string().contains("cannot be assumed"))
}

async fn wait_active(lambda: &Client, names: &Names) -> Result<(), AwsError> {
    lambda
        .wait_until_function_active_v2()
        .function_name(&names.function)
        .wait(WAIT)
        .await
        .map(drop)
        .map_err(|e| waiter_error("the function to become active", e))
}

async fn wait_updated(lambda: &Client, names: &Names) -> Result<(), AwsError> {
    lambda
        .wait_until_function_updated_v2()
        .function_name(&names.function)
        .wait(WAIT)
        .await
        .map(drop)
        .map_err(|e| waiter_error("the function update to finish", e))
}

fn waiter_error(what: &str, err: impl std::error::Error + 'static) -> AwsError {
    AwsError::Call {
        operation: "GetFunction",
        message: format!("waiting for {what}: {}", ddns_handler::error_chain(&err)),
    }
}

/// Raises the function's memory to `needed` MB if it has less (it is never
/// lowered here: deploy does that), and waits until the change is applied.
/// Returns the new size when it changed; `None` also when there is no
/// function yet.
pub async fn ensure_memory(lambda: &Client, names: &Names, needed: i32) -> Result<Option<i32>, AwsError> {
    let Some(observed) = observe(lambda, names).await? else {
        return Ok(None);
    };
    if observed.configuration.memory.is_some_and(|memory| memory >= needed) {
        return Ok(None);
    }
    // Lambda refuses a configuration change while another is in progress
    // (ResourceConflictException): wait for any first.
    wait_updated(lambda, names).await?;
    lambda
        .update_function_configuration()
        .function_name(&names.function)
        .memory_size(needed)
        .send()
        .await
        .map_err(AwsError::on("UpdateFunctionConfiguration"))?;
    wait_updated(lambda, names).await?;
    Ok(Some(needed))
}

/// Deletes the function; `false` if it was already gone.
pub async fn delete(lambda: &Client, names: &Names) -> Result<bool, AwsError> {
    let result = lambda.delete_function().function_name(&names.function).send().await;
    super::deleted("DeleteFunction", result, |e| e.is_resource_not_found_exception())
}

#[cfg(test)]
mod tests {
    //! What moto cannot show: IAM propagation delays and functions that take
    //! a while to become ready, played by aws-smithy-mocks.

    use aws_sdk_lambda::operation::create_function::CreateFunctionError;
    use aws_sdk_lambda::operation::get_function::GetFunctionOutput;
    use aws_sdk_lambda::types::error::{InvalidParameterValueException, ResourceConflictException};
    use aws_sdk_lambda::types::{FunctionConfiguration, State};
    use aws_smithy_mocks::{RuleMode, mock, mock_client};

    use super::*;

    fn names() -> Names {
        Names::example("mock")
    }

    fn desired() -> Desired {
        Desired {
            role_arn: "arn:aws:iam::123456789012:role/ddns-ctl-mock-us-east-1".into(),
            arch: Arch::Arm64,
            code: Code::zip(b"zip".to_vec()),
            memory_mb: 128,
            environment: BTreeMap::new(),
            log_group: "/aws/lambda/ddns-ctl-mock".into(),
        }
    }

    fn quick(deadline_ms: u64) -> Propagation {
        Propagation {
            deadline: Duration::from_millis(deadline_ms),
            first_delay: Duration::from_millis(1),
        }
    }

    fn not_assumable() -> CreateFunctionError {
        CreateFunctionError::InvalidParameterValueException(
            InvalidParameterValueException::builder()
                .message("The role defined for the function cannot be assumed by Lambda.")
                .build(),
        )
    }

    fn created() -> CreateFunctionOutput {
        CreateFunctionOutput::builder()
            .function_arn("arn:aws:lambda:us-east-1:123456789012:function:ddns-ctl-mock")
            .build()
    }

    fn in_state(state: State) -> GetFunctionOutput {
        GetFunctionOutput::builder()
            .configuration(FunctionConfiguration::builder().state(state).build())
            .build()
    }

    #[tokio::test]
    async fn create_is_retried_while_the_new_role_propagates() {
        let rule = mock!(Client::create_function)
            .sequence()
            .error(not_assumable)
            .times(3)
            .output(created)
            .build();
        let lambda = mock_client!(aws_sdk_lambda, RuleMode::MatchAny, [&rule]);
        let out = create(&lambda, &names(), &desired(), quick(10_000)).await.unwrap();
        assert_eq!(
            out.function_arn(),
            Some("arn:aws:lambda:us-east-1:123456789012:function:ddns-ctl-mock")
        );
        assert_eq!(rule.num_calls(), 4);
    }

    #[tokio::test]
    async fn create_gives_up_after_the_deadline() {
        let rule = mock!(Client::create_function)
            .sequence()
            .error(not_assumable)
            .repeatedly()
            .build();
        let lambda = mock_client!(aws_sdk_lambda, RuleMode::MatchAny, [&rule]);
        let err = create(&lambda, &names(), &desired(), quick(30)).await.unwrap_err();
        assert!(err.to_string().contains("cannot be assumed"), "{err}");
        assert!(rule.num_calls() > 1, "it should have retried");
    }

    #[tokio::test]
    async fn other_errors_are_not_retried() {
        let rule = mock!(Client::create_function).then_error(|| {
            CreateFunctionError::ResourceConflictException(
                ResourceConflictException::builder().message("exists").build(),
            )
        });
        let lambda = mock_client!(aws_sdk_lambda, RuleMode::MatchAny, [&rule]);
        let err = create(&lambda, &names(), &desired(), quick(10_000)).await.unwrap_err();
        assert!(err.to_string().contains("CreateFunction"), "{err}");
        assert_eq!(rule.num_calls(), 1);
    }

    #[tokio::test]
    async fn apply_waits_until_the_function_is_active() {
        let create_rule = mock!(Client::create_function).then_output(created);
        let get_rule = mock!(Client::get_function)
            .sequence()
            .output(|| in_state(State::Pending))
            .times(2)
            .output(|| in_state(State::Active))
            .build();
        let lambda = mock_client!(aws_sdk_lambda, RuleMode::MatchAny, [&create_rule, &get_rule]);
        apply(&lambda, &names(), &desired(), &Action::Create, quick(10_000))
            .await
            .unwrap();
        assert_eq!(create_rule.num_calls(), 1);
        assert_eq!(get_rule.num_calls(), 3, "it must poll until Active");
    }

    #[tokio::test]
    async fn a_function_that_fails_to_start_is_an_error() {
        let create_rule = mock!(Client::create_function).then_output(created);
        let get_rule = mock!(Client::get_function).then_output(|| in_state(State::Failed));
        let lambda = mock_client!(aws_sdk_lambda, RuleMode::MatchAny, [&create_rule, &get_rule]);
        let err = apply(&lambda, &names(), &desired(), &Action::Create, quick(10_000))
            .await
            .unwrap_err();
        assert!(
            err.to_string().contains("waiting for the function to become active"),
            "{err}"
        );
    }

    #[tokio::test]
    async fn tags_it_may_not_read_are_an_access_error_not_a_foreign_function() {
        use aws_sdk_lambda::types::TagsError;
        let rule = mock!(Client::get_function).then_output(|| {
            GetFunctionOutput::builder()
                .configuration(FunctionConfiguration::builder().function_name("ddns-ctl-mock").build())
                .tags_error(
                    TagsError::builder()
                        .error_code("AccessDeniedException")
                        .message("not authorized to perform: lambda:ListTags")
                        .build()
                        .unwrap(),
                )
                .build()
        });
        let lambda = mock_client!(aws_sdk_lambda, RuleMode::MatchAny, [&rule]);
        let err = observe(&lambda, &names()).await.unwrap_err();
        assert!(
            matches!(
                err,
                AwsError::AccessDenied {
                    operation: "ListTags",
                    ..
                }
            ),
            "{err:?}"
        );
        assert!(err.to_string().contains("lambda:ListTags"), "{err}");
    }

    #[test]
    fn the_service_answers_before_the_function_times_out() {
        let timeout = Duration::from_secs(u64::try_from(TIMEOUT_SECS).unwrap());
        // Room for the answer itself, and for a cold start's first S3 read.
        assert!(ddns_handler::service::REQUEST_DEADLINE + Duration::from_secs(3) <= timeout);
    }

    #[test]
    fn the_plan_names_exactly_what_differs() {
        let desired = desired();
        let Code::Zip { sha256, .. } = &desired.code else {
            unreachable!()
        };
        let observed = Observed {
            arn: String::new(),
            code_sha256: sha256.clone(),
            arch: Some(Arch::Arm64),
            configuration: Configuration::desired(&desired.role_arn, desired.memory_mb, &desired.log_group),
            environment: BTreeMap::new(),
        };
        assert_eq!(plan(Some(&observed), &desired), Action::Unchanged);
        assert_eq!(plan(None, &desired), Action::Create);

        let mut drifted = observed.clone();
        drifted.configuration.memory = Some(512);
        // A function made before the JSON log format, as Lambda reports it.
        drifted.configuration.logging = Some(["Text", "", "", "/aws/lambda/ddns-ctl-mock"].map(str::to_owned));
        drifted.arch = Some(Arch::X86_64);
        drifted.code_sha256 = "old".into();
        assert_eq!(
            plan(Some(&drifted), &desired),
            Action::Update(vec![
                Change::Code {
                    sha256: Some(sha256.clone()),
                    embedded: false,
                },
                Change::Architecture { arch: Arch::Arm64 },
                Change::Configuration {
                    settings: vec!["memory", "logging"]
                },
            ])
        );
        let unbuilt = Desired {
            code: Code::Unbuilt,
            ..desired.clone()
        };
        assert_eq!(
            plan(Some(&observed), &unbuilt),
            Action::Update(vec![Change::Code {
                sha256: None,
                embedded: false
            }])
        );
        assert!(needs_code(&plan(Some(&observed), &unbuilt)));
        let ignored = Desired {
            code: Code::Ignored,
            ..desired
        };
        assert_eq!(plan(Some(&drifted), &ignored).changes().len(), 2);
    }
}
