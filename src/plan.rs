//! The plan: an ordered list of steps, each one resource and one typed
//! action. The planner (`stack::plan`, `stack::sweep`) makes it, the
//! executor (`executor`) carries out exactly its steps, and printing it is
//! the display-only way of running it: `deploy --dry-run`, the confirmation
//! before `deploy` and `teardown`, and `status`.
//!
//! Pure data: it imports only [`crate::model`].

use std::fmt;

use serde::Serialize;

use crate::model::Arch;

/// The kinds of resource a stack has, in the order deploy creates them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Kind {
    /// The function's IAM role and its inline policy.
    Role,
    /// The config bucket and its protections.
    Bucket,
    /// The function's log group and its retention.
    LogGroup,
    /// The Lambda function.
    Function,
    /// The REST API, its methods and integrations.
    Api,
    /// The stage, its deployment and throttling.
    Stage,
    /// The permission that lets the API invoke the function.
    Permission,
    /// The alert topic (SNS) and its email subscriptions; only while
    /// alerts are enabled.
    Topic,
    /// A metric filter on the function's log group: one host's accepted
    /// requests.
    MetricFilter,
    /// A CloudWatch alarm that notifies the alert topic.
    Alarm,
    /// The custom domain's ACM certificate.
    Certificate,
    /// The certificate's DNS validation record (a CNAME in the zone).
    ValidationRecord,
    /// The API Gateway custom domain name.
    Domain,
    /// The custom domain's base path mapping to the API's stage.
    Mapping,
    /// The custom domain's alias A and AAAA records.
    AliasRecords,
}

impl fmt::Display for Kind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::Role => "IAM role",
            Self::Bucket => "S3 bucket",
            Self::LogGroup => "log group",
            Self::Function => "Lambda function",
            Self::Api => "REST API",
            Self::Stage => "API stage",
            Self::Permission => "invoke permission",
            Self::Topic => "alert topic",
            Self::MetricFilter => "metric filter",
            Self::Alarm => "alarm",
            Self::Certificate => "certificate",
            Self::ValidationRecord => "validation record for",
            Self::Domain => "custom domain",
            Self::Mapping => "base path mapping for",
            Self::AliasRecords => "alias records for",
        })
    }
}

/// One difference between a resource as it is and as it should be; each
/// names the call (or calls) that repairs it.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(tag = "change", rename_all = "kebab-case")]
pub enum Change {
    /// The stack's tags are missing (a resource adopted after an interrupted
    /// deploy).
    Tags,
    /// The role's trust policy.
    TrustPolicy,
    /// The role's inline policy.
    Policy,
    /// The bucket's four public-access blocks.
    PublicAccessBlock,
    /// The bucket's default encryption.
    Encryption,
    /// The bucket's versioning.
    Versioning,
    /// The bucket's TLS-only policy.
    BucketPolicy,
    /// The empty config object, written only if absent.
    InitialConfig,
    /// The function's code. `sha256` is the new code's CodeSha256, or
    /// `None` when the handler is not built yet: it will be built and
    /// compared before anything is uploaded.
    Code {
        /// Base64 SHA-256 of the new zip.
        sha256: Option<String>,
        /// Whether the new zip is the package this binary carries.
        embedded: bool,
    },
    /// The function's architecture (changed together with its code).
    Architecture {
        /// The new one.
        arch: Arch,
    },
    /// The function's runtime, handler, memory, timeout or role.
    Configuration {
        /// Which of them differ.
        settings: Vec<&'static str>,
    },
    /// The function's environment.
    Env,
    /// The API answers over IPv4 only: it becomes dual-stack, which takes
    /// effect without a new deployment.
    DualStack,
    /// The `/{proxy+}` resource.
    ProxyResource,
    /// An `ANY` method.
    Method {
        /// Its resource path.
        path: &'static str,
    },
    /// An `ANY` method's proxy integration.
    Integration {
        /// Its resource path.
        path: &'static str,
    },
    /// A new deployment of the API to the stage.
    Deployment,
    /// The stage's throttling.
    Throttling {
        /// Requests per second.
        rate: f64,
        /// Burst.
        burst: i32,
    },
    /// The invoke permission's source ARN (the API it names).
    SourceArn,
    /// The log group's retention.
    Retention {
        /// Days.
        days: i32,
    },
    /// An email address to subscribe to the alert topic.
    Subscribe {
        /// The address.
        endpoint: String,
    },
    /// An alarm's definition (metric, period, threshold, actions, …).
    Alarm {
        /// Which of its settings differ.
        settings: Vec<&'static str>,
    },
    /// A metric filter's pattern or metric.
    Filter,
    /// Whether the API's execute-api URL answers (it takes effect with a
    /// new deployment).
    ExecuteApiEndpoint {
        /// Whether it becomes disabled.
        disabled: bool,
    },
    /// The custom domain's certificate (a new one, or the stack's issued one).
    Certificate,
    /// The custom domain's TLS security policy becomes TLS 1.2.
    SecurityPolicy,
    /// The mapping points at another API or stage.
    MappingTarget,
    /// An alias record of this type is missing.
    Record {
        /// `A` or `AAAA`.
        record_type: String,
    },
}

impl fmt::Display for Change {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Tags => f.write_str("tags"),
            Self::TrustPolicy => f.write_str("trust policy"),
            Self::Policy => f.write_str("permissions"),
            Self::PublicAccessBlock => f.write_str("public access block"),
            Self::Encryption => f.write_str("encryption"),
            Self::Versioning => f.write_str("versioning"),
            Self::BucketPolicy => f.write_str("TLS-only policy"),
            Self::InitialConfig => f.write_str("initial config"),
            Self::Code {
                sha256: Some(sha),
                embedded: true,
            } => write!(
                f,
                "function code differs from this ddns-ctl's: becomes CodeSha256 {sha}"
            ),
            Self::Code {
                sha256: Some(sha),
                embedded: false,
            } => write!(f, "code {sha}"),
            Self::Code { sha256: None, .. } => f.write_str("code: will be rebuilt and compared"),
            Self::Architecture { arch } => write!(f, "architecture {arch}"),
            Self::Configuration { settings } => f.write_str(&settings.join(", ")),
            Self::Env => f.write_str("environment"),
            Self::DualStack => f.write_str("IPv4 only: becomes dual-stack"),
            Self::ProxyResource => f.write_str("/{proxy+} resource"),
            Self::Method { path } => write!(f, "ANY {path} method"),
            Self::Integration { path } => write!(f, "ANY {path} integration"),
            Self::Deployment => f.write_str("new deployment"),
            Self::Throttling { rate, burst } => write!(f, "throttling {rate}/s, burst {burst}"),
            Self::SourceArn => f.write_str("source ARN"),
            Self::Retention { days } => write!(f, "retention {days} days"),
            Self::Subscribe { endpoint } => write!(f, "subscribe {endpoint}"),
            Self::Alarm { settings } => write!(f, "alarm {}", settings.join(", ")),
            Self::Filter => f.write_str("pattern and metric"),
            Self::ExecuteApiEndpoint { disabled: true } => f.write_str("execute-api URL becomes disabled"),
            Self::ExecuteApiEndpoint { disabled: false } => f.write_str("execute-api URL becomes enabled"),
            Self::Certificate => f.write_str("certificate"),
            Self::SecurityPolicy => f.write_str("security policy TLS 1.2"),
            Self::MappingTarget => f.write_str("API and stage"),
            Self::Record { record_type } => write!(f, "{record_type} alias missing"),
        }
    }
}

/// What a step does to one resource.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(tag = "action", content = "changes", rename_all = "kebab-case")]
pub enum Action {
    /// It does not exist yet.
    Create,
    /// It exists, and these differ.
    Update(Vec<Change>),
    /// It goes (teardown).
    Delete,
    /// It is as it should be.
    Unchanged,
}

impl Action {
    /// `Update(changes)`, or `Unchanged` when there are none.
    pub fn update(changes: Vec<Change>) -> Self {
        if changes.is_empty() {
            Self::Unchanged
        } else {
            Self::Update(changes)
        }
    }

    /// The changes of an update; none for anything else.
    pub fn changes(&self) -> &[Change] {
        match self {
            Self::Update(changes) => changes,
            _ => &[],
        }
    }
}

/// One resource in a plan.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Step {
    /// What kind of resource.
    pub kind: Kind,
    /// Its name or id.
    pub name: String,
    /// What happens to it.
    #[serde(flatten)]
    pub action: Action,
}

impl fmt::Display for Step {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let (mark, verb) = match &self.action {
            Action::Create => ('+', "create"),
            Action::Update(_) => ('~', "update"),
            Action::Delete => ('-', "delete"),
            Action::Unchanged => ('=', "unchanged"),
        };
        write!(f, "  {mark} {verb:<10} {} {}", self.kind, self.name)?;
        if let Action::Update(changes) = &self.action {
            let changes: Vec<String> = changes.iter().map(ToString::to_string).collect();
            write!(f, " ({})", changes.join(", "))?;
        }
        Ok(())
    }
}

/// Every step, in the order they run.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct Plan {
    /// The steps.
    pub steps: Vec<Step>,
}

impl Plan {
    /// Whether running the plan would change nothing.
    pub fn is_noop(&self) -> bool {
        self.steps.iter().all(|s| s.action == Action::Unchanged)
    }

    /// The action for the resource of `kind` (the first, for APIs).
    pub fn action(&self, kind: Kind) -> Option<&Action> {
        self.steps.iter().find(|s| s.kind == kind).map(|s| &s.action)
    }
}

impl fmt::Display for Plan {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for step in &self.steps {
            writeln!(f, "{step}")?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn steps_read_as_the_plan_is_printed() {
        let step = |kind, action| Step {
            kind,
            name: "x".into(),
            action,
        };
        assert_eq!(
            step(Kind::Role, Action::Create).to_string(),
            "  + create     IAM role x"
        );
        assert_eq!(
            step(
                Kind::Stage,
                Action::Update(vec![Change::Throttling { rate: 5.0, burst: 10 }, Change::Deployment])
            )
            .to_string(),
            "  ~ update     API stage x (throttling 5/s, burst 10, new deployment)"
        );
        assert_eq!(
            step(Kind::LogGroup, Action::Delete).to_string(),
            "  - delete     log group x"
        );
        assert_eq!(
            step(Kind::Function, Action::Unchanged).to_string(),
            "  = unchanged  Lambda function x"
        );
        assert_eq!(Action::update(vec![]), Action::Unchanged);
    }

    #[test]
    fn steps_serialise_with_typed_changes() {
        let step = Step {
            kind: Kind::LogGroup,
            name: "/aws/lambda/f".into(),
            action: Action::Update(vec![Change::Retention { days: 30 }]),
        };
        assert_eq!(
            serde_json::to_value(&step).unwrap(),
            serde_json::json!({"kind": "log-group", "name": "/aws/lambda/f", "action": "update",
                               "changes": [{"change": "retention", "days": 30}]})
        );
    }
}
