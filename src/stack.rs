//! A stack: the fixed names and tags of everything one deployment owns, and
//! the plan that brings what exists to what should.
//!
//! Names derive from the stack name, the account and the region, so any
//! machine with credentials finds the same stack without a local state file.
//! Tags mark every resource as ddns-ctl's, and teardown deletes nothing
//! without them.

use std::collections::BTreeMap;
use std::fmt;

use serde::Serialize;

use crate::aws::function::Arch;
use crate::aws::{Account, AwsError, Clients, api, bucket, function, role};

/// The tag every ddns-ctl resource carries.
pub const MANAGED_BY: (&str, &str) = ("managed-by", "ddns-ctl");
/// The tag that names the stack a resource belongs to.
pub const STACK_TAG: &str = "ddns-ctl:stack";
/// The Lambda permission statement that lets the API invoke the function.
pub const PERMISSION_ID: &str = "ddns-ctl-apigateway";

/// Why a stack name cannot be used.
#[derive(Debug, thiserror::Error)]
#[error("invalid stack name '{0}': use 1 to 20 lower-case letters, digits and hyphens, starting with a letter")]
pub struct BadStackName(pub String);

/// The names of a stack's resources.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Names {
    /// The stack name (`--name`).
    pub stack: String,
    /// The account id.
    pub account: String,
    /// The region.
    pub region: String,
    /// The Lambda function's IAM role. IAM is global, so the region is part
    /// of the name and stacks in two regions do not share a role.
    pub role: String,
    /// The config bucket; bucket names are global, hence account and region.
    pub bucket: String,
    /// The Lambda function.
    pub function: String,
    /// The REST API's name (API Gateway does not make names unique; the tags do).
    pub api: String,
    /// The function's log group.
    pub log_group: String,
}

impl Names {
    /// The names for stack `stack` in `account`.
    pub fn new(stack: &str, account: &Account) -> Result<Self, BadStackName> {
        let valid = (1..=20).contains(&stack.len())
            && stack.starts_with(|c: char| c.is_ascii_lowercase())
            && stack
                .bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
            && !stack.ends_with('-');
        if !valid {
            return Err(BadStackName(stack.to_owned()));
        }
        let function = format!("ddns-ctl-{stack}");
        Ok(Self {
            stack: stack.to_owned(),
            account: account.id.clone(),
            region: account.region.clone(),
            role: format!("ddns-ctl-{stack}-{}", account.region),
            bucket: format!("ddns-ctl-{stack}-{}-{}", account.id, account.region),
            log_group: format!("/aws/lambda/{function}"),
            api: function.clone(),
            function,
        })
    }

    /// The tags every resource of this stack carries.
    pub fn tags(&self) -> Vec<(String, String)> {
        vec![
            (MANAGED_BY.0.to_owned(), MANAGED_BY.1.to_owned()),
            (STACK_TAG.to_owned(), self.stack.clone()),
        ]
    }

    /// Whether `tags` mark a resource as this stack's.
    pub fn owns<'a>(&self, mut tags: impl Iterator<Item = (&'a str, &'a str)>) -> bool {
        let (mut managed, mut ours) = (false, false);
        for (key, value) in tags.by_ref() {
            managed |= (key, value) == MANAGED_BY;
            ours |= key == STACK_TAG && value == self.stack;
        }
        managed && ours
    }

    /// The URL clients call.
    pub fn endpoint(&self, api_id: &str, stage: &str) -> String {
        format!("https://{api_id}.execute-api.{}.amazonaws.com/{stage}/", self.region)
    }
}

/// The kinds of resource a stack has, in the order deploy creates them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Kind {
    /// The function's IAM role and its inline policy.
    Role,
    /// The config bucket and its protections.
    Bucket,
    /// The Lambda function.
    Function,
    /// The REST API, its methods and integrations.
    Api,
    /// The stage, its deployment and throttling.
    Stage,
    /// The permission that lets the API invoke the function.
    Permission,
}

impl fmt::Display for Kind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::Role => "IAM role",
            Self::Bucket => "S3 bucket",
            Self::Function => "Lambda function",
            Self::Api => "REST API",
            Self::Stage => "API stage",
            Self::Permission => "invoke permission",
        })
    }
}

/// What a step will do to one resource.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "action", content = "changes", rename_all = "kebab-case")]
pub enum Action {
    /// It does not exist yet.
    Create,
    /// It exists, but these settings differ.
    Update(Vec<String>),
    /// It is as it should be.
    Unchanged,
}

/// One resource in a plan.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Step {
    /// What kind of resource.
    pub kind: Kind,
    /// Its name or id.
    pub name: String,
    /// What deploy will do.
    #[serde(flatten)]
    pub action: Action,
}

impl fmt::Display for Step {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.action {
            Action::Create => write!(f, "  + create     {} {}", self.kind, self.name),
            Action::Update(changes) => write!(f, "  ~ update     {} {} ({})", self.kind, self.name, changes.join(", ")),
            Action::Unchanged => write!(f, "  = unchanged  {} {}", self.kind, self.name),
        }
    }
}

/// Every step, in dependency order.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Plan {
    /// The steps.
    pub steps: Vec<Step>,
}

impl Plan {
    /// Whether applying the plan would change nothing.
    pub fn is_noop(&self) -> bool {
        self.steps.iter().all(|s| s.action == Action::Unchanged)
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

    fn account() -> Account {
        Account {
            id: "123456789012".into(),
            region: "eu-west-1".into(),
        }
    }

    #[test]
    fn names_are_fixed_by_stack_account_and_region() {
        let names = Names::new("ddns", &account()).unwrap();
        assert_eq!(names.role, "ddns-ctl-ddns-eu-west-1");
        assert_eq!(names.bucket, "ddns-ctl-ddns-123456789012-eu-west-1");
        assert_eq!(names.function, "ddns-ctl-ddns");
        assert_eq!(names.log_group, "/aws/lambda/ddns-ctl-ddns");
        assert!(names.bucket.len() <= 63 && names.role.len() <= 64);
        let longest = Names::new("abcdefghijklmnopqrst", &account()).unwrap();
        assert!(longest.bucket.len() <= 63, "{}", longest.bucket);
        assert_eq!(
            names.endpoint("abc123", "prod"),
            "https://abc123.execute-api.eu-west-1.amazonaws.com/prod/"
        );
    }

    #[test]
    fn stack_names_are_checked() {
        for bad in ["", "Ddns", "1ddns", "dd_ns", "ddns-", "abcdefghijklmnopqrstu"] {
            assert!(Names::new(bad, &account()).is_err(), "{bad}");
        }
    }

    #[test]
    fn ownership_needs_both_tags() {
        let names = Names::new("ddns", &account()).unwrap();
        assert!(names.owns([("managed-by", "ddns-ctl"), ("ddns-ctl:stack", "ddns")].into_iter()));
        assert!(!names.owns([("managed-by", "ddns-ctl"), ("ddns-ctl:stack", "other")].into_iter()));
        assert!(!names.owns([("ddns-ctl:stack", "ddns")].into_iter()));
    }
}

/// The settings deploy applies, beyond the names.
#[derive(Debug, Clone, PartialEq)]
pub struct Settings {
    /// The config object's key.
    pub key: String,
    /// The function's architecture.
    pub arch: Arch,
    /// The API stage.
    pub stage: String,
    /// Stage throttling: requests per second.
    pub rate_limit: f64,
    /// Stage throttling: burst.
    pub burst_limit: i32,
}

/// Everything that exists of a stack.
#[derive(Debug, Clone, Default)]
pub struct Observation {
    /// The role.
    pub role: Option<role::Observed>,
    /// The bucket.
    pub bucket: Option<bucket::Observed>,
    /// The function.
    pub function: Option<function::Observed>,
    /// The API and its stage.
    pub api: Option<api::Observed>,
    /// The invoke permission's source ARN.
    pub permission: Option<String>,
}

impl Observation {
    /// The endpoint clients call, once the API and its stage exist.
    pub fn endpoint(&self, names: &Names, settings: &Settings) -> Option<String> {
        let api = self.api.as_ref()?;
        api.stage.as_ref()?;
        Some(names.endpoint(&api.id, &settings.stage))
    }

    /// How many hosts the config has.
    pub fn host_count(&self) -> usize {
        self.bucket
            .as_ref()
            .and_then(|b| b.config.as_ref())
            .map_or(0, |c| c.len())
    }
}

/// Reads every resource of the stack: reads only, about a dozen calls.
pub async fn observe(clients: &Clients, names: &Names, settings: &Settings) -> Result<Observation, AwsError> {
    let (role, bucket, function, api) = tokio::try_join!(
        role::observe(&clients.iam, names),
        bucket::observe(&clients.s3, names, &settings.key),
        function::observe(&clients.lambda, names),
        api::observe(&clients.apigateway, names, &settings.stage),
    )?;
    let permission = match function {
        Some(_) => api::observe_permission(&clients.lambda, names).await?,
        None => None,
    };
    Ok(Observation {
        role,
        bucket,
        function,
        api,
        permission,
    })
}

/// What every resource should be, given what exists (the role's permissions
/// follow the zones of the hosts in the existing config).
#[derive(Debug, Clone)]
pub struct Desired {
    /// The role.
    pub role: role::Desired,
    /// The function.
    pub function: function::Desired,
    /// The API.
    pub api: api::Desired,
}

impl Desired {
    /// The desired state; `zip` is `None` when code is not compared.
    pub fn new(names: &Names, settings: &Settings, observed: &Observation, zip: Option<Vec<u8>>) -> Self {
        let zones = observed.bucket.as_ref().map(|b| b.zone_ids()).unwrap_or_default();
        let environment = BTreeMap::from([
            (ddns_handler::service::env::BUCKET.to_owned(), names.bucket.clone()),
            (ddns_handler::service::env::KEY.to_owned(), settings.key.clone()),
        ]);
        Self {
            role: role::Desired::new(names, &settings.key, &zones),
            function: function::Desired {
                role_arn: format!("arn:aws:iam::{}:role/{}", names.account, names.role),
                arch: settings.arch,
                zip,
                environment,
            },
            api: api::Desired {
                function_arn: format!(
                    "arn:aws:lambda:{}:{}:function:{}",
                    names.region, names.account, names.function
                ),
                stage: settings.stage.clone(),
                rate_limit: settings.rate_limit,
                burst_limit: settings.burst_limit,
            },
        }
    }
}

/// The plan: one step per resource, in dependency order.
pub fn plan(names: &Names, observed: &Observation, desired: &Desired) -> Plan {
    let api_action = api::diff_api(observed.api.as_ref(), &desired.api, names);
    let stage_action = api::diff_stage(observed.api.as_ref(), &desired.api, &api_action);
    let api_id = observed.api.as_ref().map(|a| a.id.clone());
    let want_permission = api_id.as_deref().map(|id| desired.api.source_arn(names, id));
    let permission_action = match (&observed.function, &api_id) {
        (Some(_), Some(_)) => api::diff_permission(observed.permission.as_deref(), want_permission.as_deref()),
        _ => Action::Create,
    };
    let step = |kind, name: &str, action| Step {
        kind,
        name: name.to_owned(),
        action,
    };
    Plan {
        steps: vec![
            step(
                Kind::Role,
                &names.role,
                role::diff(observed.role.as_ref(), &desired.role),
            ),
            step(
                Kind::Bucket,
                &names.bucket,
                bucket::diff(observed.bucket.as_ref(), names),
            ),
            step(
                Kind::Function,
                &names.function,
                function::diff(observed.function.as_ref(), &desired.function),
            ),
            step(Kind::Api, &names.api, api_action),
            step(Kind::Stage, &desired.api.stage, stage_action),
            step(Kind::Permission, PERMISSION_ID, permission_action),
        ],
    }
}
