//! The plain values every layer shares: who and where (the account), the
//! fixed names and tags of a stack, the function's architecture, and the
//! settings deploy applies with their defaults.
//!
//! This module is a leaf: it imports nothing else of ddns-ctl, so the AWS
//! layer, the planner and the commands can all depend on it without a cycle.
//!
//! Names derive from the stack name, the account and the region, so any
//! machine with credentials finds the same stack without a local state file.
//! Tags mark every resource as ddns-ctl's, and teardown deletes nothing
//! without them.

use serde::Serialize;

/// The tag every ddns-ctl resource carries.
pub const MANAGED_BY: (&str, &str) = ("managed-by", "ddns-ctl");
/// The tag that names the stack a resource belongs to.
pub const STACK_TAG: &str = "ddns-ctl:stack";
/// The Lambda permission statement that lets the API invoke the function.
pub const PERMISSION_ID: &str = "ddns-ctl-apigateway";

/// The config object's key, as in the blog post.
pub const DEFAULT_KEY: &str = ddns_handler::config::DEFAULT_KEY;
/// The API stage, part of the endpoint URL.
pub const DEFAULT_STAGE: &str = "prod";
/// Stage throttling: steady requests per second for the whole endpoint.
pub const DEFAULT_RATE_LIMIT: f64 = 5.0;
/// Stage throttling: burst.
pub const DEFAULT_BURST_LIMIT: i32 = 10;
/// How long the function's logs are kept.
pub const DEFAULT_LOG_RETENTION_DAYS: i32 = 30;
/// The function's memory for a small config, in MB: the service needs
/// under 30.
pub const BASE_MEMORY_MB: i32 = 128;

/// The memory the function needs to load a config of `config_bytes`, in MB:
/// at least [`BASE_MEMORY_MB`], in steps of 64. Measured (bench/config_size.py):
/// loading peaks at about 10 MB plus 6.5 times the config's size, and half
/// again is kept in reserve for the runtime and for the config growing
/// between deploys. Lambda gives CPU in proportion to memory, so the larger
/// memory also keeps the first load of a large config quick.
pub fn function_memory_mb(config_bytes: u64) -> i32 {
    let mib = config_bytes as f64 / (1024.0 * 1024.0);
    let needed = 1.5 * (16.0 + 6.5 * mib);
    let steps = (needed / 64.0).ceil() as i32;
    steps.saturating_mul(64).clamp(BASE_MEMORY_MB, 10_240)
}

/// The retentions CloudWatch Logs accepts, in days.
pub const LOG_RETENTION_DAYS: [i32; 22] = [
    1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653,
];

/// Who and where: the account the credentials belong to, and the region.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Account {
    /// The 12-digit account id.
    pub id: String,
    /// The region the stack lives in.
    pub region: String,
}

/// An AWS partition: a group of regions with its own ARNs and domain. An
/// account lives in exactly one, so the stack's region decides it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub enum Partition {
    /// The commercial regions.
    #[serde(rename = "aws")]
    Aws,
    /// Beijing and Ningxia (`cn-…`).
    #[serde(rename = "aws-cn")]
    China,
    /// AWS GovCloud (US) (`us-gov-…`).
    #[serde(rename = "aws-us-gov")]
    GovCloud,
}

impl Partition {
    /// The partition `region` belongs to.
    pub fn of(region: &str) -> Self {
        if region.starts_with("cn-") {
            Self::China
        } else if region.starts_with("us-gov-") {
            Self::GovCloud
        } else {
            Self::Aws
        }
    }

    /// Its name in ARNs: `arn:PARTITION:…`.
    pub fn id(self) -> &'static str {
        match self {
            Self::Aws => "aws",
            Self::China => "aws-cn",
            Self::GovCloud => "aws-us-gov",
        }
    }

    /// The domain its regional endpoints end in.
    pub fn dns_suffix(self) -> &'static str {
        match self {
            Self::China => "amazonaws.com.cn",
            Self::Aws | Self::GovCloud => "amazonaws.com",
        }
    }
}

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
    /// The region's partition, which every ARN and the endpoint name.
    pub partition: Partition,
    /// The Lambda function's IAM role. IAM is global, so the region is part
    /// of the name and stacks in two regions do not share a role.
    pub role: String,
    /// The config bucket; bucket names are global, hence account and region.
    pub bucket: String,
    /// The Lambda function.
    pub function: String,
    /// The REST API's name (API Gateway does not make names unique; the tags do).
    pub api: String,
    /// The function's log group: the name Lambda writes to.
    pub log_group: String,
    /// The alert topic (SNS), made by `alerts enable`.
    pub topic: String,
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
            partition: Partition::of(&account.region),
            role: format!("ddns-ctl-{stack}-{}", account.region),
            bucket: format!("ddns-ctl-{stack}-{}-{}", account.id, account.region),
            log_group: format!("/aws/lambda/{function}"),
            api: function.clone(),
            topic: format!("ddns-ctl-{stack}-alerts"),
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
    pub fn owns<'a>(&self, tags: impl Iterator<Item = (&'a str, &'a str)>) -> bool {
        let (mut managed, mut ours) = (false, false);
        for (key, value) in tags {
            managed |= (key, value) == MANAGED_BY;
            ours |= key == STACK_TAG && value == self.stack;
        }
        managed && ours
    }

    /// The URL clients call through the stack's custom domain `domain`.
    pub fn domain_endpoint(domain: &str) -> String {
        format!("https://{domain}/")
    }

    /// The ARN of API Gateway custom domain `domain`, as tagging names it.
    pub fn domain_arn(&self, domain: &str) -> String {
        self.arn("apigateway", &self.region, "", &format!("/domainnames/{domain}"))
    }

    /// The URL clients call.
    pub fn endpoint(&self, api_id: &str, stage: &str) -> String {
        format!(
            "https://{api_id}.execute-api.{}.{}/{stage}/",
            self.region,
            self.partition.dns_suffix()
        )
    }

    /// An ARN in the stack's partition. `region` and `account` are empty
    /// for services whose ARNs have none (S3, Route53, IAM's region).
    fn arn(&self, service: &str, region: &str, account: &str, resource: &str) -> String {
        format!("arn:{}:{service}:{region}:{account}:{resource}", self.partition.id())
    }

    /// The ARN of the function's role.
    pub fn role_arn(&self) -> String {
        self.arn("iam", "", &self.account, &format!("role/{}", self.role))
    }

    /// The ARN of the function.
    pub fn function_arn(&self) -> String {
        self.arn(
            "lambda",
            &self.region,
            &self.account,
            &format!("function:{}", self.function),
        )
    }

    /// The ARN of the log group, as tagging and IAM name it.
    pub fn log_group_arn(&self) -> String {
        self.arn(
            "logs",
            &self.region,
            &self.account,
            &format!("log-group:{}", self.log_group),
        )
    }

    /// The ARN of the alert topic.
    pub fn topic_arn(&self) -> String {
        self.arn("sns", &self.region, &self.account, &self.topic)
    }

    /// What the names of the stack's alarms and metric filters start with.
    /// Stack names have no `/`, so no other stack's names start so.
    pub fn alert_prefix(&self) -> String {
        format!("ddns-ctl/{}/", self.stack)
    }

    /// The CloudWatch namespace of the stack's metrics (one per host that
    /// has an alert-after, named by the host).
    pub fn metric_namespace(&self) -> String {
        format!("ddns-ctl/{}", self.stack)
    }

    /// The ARN of the config bucket.
    pub fn bucket_arn(&self) -> String {
        self.arn("s3", "", "", &self.bucket)
    }

    /// The ARN of object `key` in the config bucket.
    pub fn object_arn(&self, key: &str) -> String {
        format!("{}/{key}", self.bucket_arn())
    }

    /// The ARN of hosted zone `zone_id` (bare, without `/hostedzone/`).
    pub fn zone_arn(&self, zone_id: &str) -> String {
        self.arn("route53", "", "", &format!("hostedzone/{zone_id}"))
    }

    /// The ARN that invokes from stage `stage` of API `api_id` carry.
    pub fn execute_api_arn(&self, api_id: &str, stage: &str) -> String {
        self.arn(
            "execute-api",
            &self.region,
            &self.account,
            &format!("{api_id}/{stage}/*"),
        )
    }

    /// The URI by which API Gateway invokes the function.
    pub fn integration_uri(&self) -> String {
        // The account's place holds the service invoked: `…:lambda:path/…`.
        self.arn(
            "apigateway",
            &self.region,
            "lambda",
            &format!("path/2015-03-31/functions/{}/invocations", self.function_arn()),
        )
    }
}

/// The CPU architecture the function is built for and runs on.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Arch {
    /// Graviton: cheaper per millisecond, the default.
    Arm64,
    /// Intel/AMD.
    X86_64,
}

impl Arch {
    /// Lambda's name for it, also what `--arch` takes.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Arm64 => "arm64",
            Self::X86_64 => "x86_64",
        }
    }

    /// The architecture Lambda calls `name`.
    pub fn from_lambda(name: &str) -> Option<Self> {
        match name {
            "arm64" => Some(Self::Arm64),
            "x86_64" => Some(Self::X86_64),
            _ => None,
        }
    }
}

impl std::fmt::Display for Arch {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
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
    /// Days the function's logs are kept.
    pub log_retention_days: i32,
    /// The custom domain deploy gives the stack.
    pub domain: DomainChoice,
    /// Whether the API's own execute-api URL answers.
    pub execute_api: ExecuteApi,
}

/// What deploy does about the stack's custom domain.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub enum DomainChoice {
    /// Keep the domain the stack has, if any.
    #[default]
    Keep,
    /// Serve the stack at this name (lower case, no trailing dot), moving
    /// it from any other.
    Set(String),
    /// Remove the stack's domain.
    Remove,
}

/// What deploy does about the API's execute-api URL.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum ExecuteApi {
    /// Leave it as it is.
    #[default]
    Keep,
    /// Clients may call it (as well as the custom domain).
    Enable,
    /// Only the custom domain answers; the execute-api URL answers 403.
    Disable,
}

impl Default for Settings {
    fn default() -> Self {
        Self {
            key: DEFAULT_KEY.to_owned(),
            arch: Arch::Arm64,
            stage: DEFAULT_STAGE.to_owned(),
            rate_limit: DEFAULT_RATE_LIMIT,
            burst_limit: DEFAULT_BURST_LIMIT,
            log_retention_days: DEFAULT_LOG_RETENTION_DAYS,
            domain: DomainChoice::Keep,
            execute_api: ExecuteApi::Keep,
        }
    }
}

#[cfg(test)]
impl Names {
    /// The names of stack `stack` in account 123456789012, us-east-1.
    pub fn example(stack: &str) -> Self {
        let account = Account {
            id: "123456789012".into(),
            region: "us-east-1".into(),
        };
        Self::new(stack, &account).expect("a valid stack name")
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
        assert_eq!(
            names.topic_arn(),
            "arn:aws:sns:eu-west-1:123456789012:ddns-ctl-ddns-alerts"
        );
        assert_eq!(names.alert_prefix(), "ddns-ctl/ddns/");
        assert_eq!(
            names.log_group_arn(),
            "arn:aws:logs:eu-west-1:123456789012:log-group:/aws/lambda/ddns-ctl-ddns"
        );
        assert!(names.bucket.len() <= 63 && names.role.len() <= 64);
        let longest = Names::new("abcdefghijklmnopqrst", &account()).unwrap();
        assert!(longest.bucket.len() <= 63, "{}", longest.bucket);
        assert_eq!(
            names.endpoint("abc123", "prod"),
            "https://abc123.execute-api.eu-west-1.amazonaws.com/prod/"
        );
    }

    #[test]
    fn arns_and_the_endpoint_follow_the_regions_partition() {
        let names = |region: &str| {
            let account = Account {
                id: "123456789012".into(),
                region: region.into(),
            };
            Names::new("ddns", &account).unwrap()
        };
        let commercial = names("eu-west-1");
        assert_eq!(
            commercial.role_arn(),
            "arn:aws:iam::123456789012:role/ddns-ctl-ddns-eu-west-1"
        );
        assert_eq!(commercial.zone_arn("Z1"), "arn:aws:route53:::hostedzone/Z1");
        assert_eq!(
            commercial.integration_uri(),
            "arn:aws:apigateway:eu-west-1:lambda:path/2015-03-31/functions/arn:aws:lambda:eu-west-1:123456789012:function:ddns-ctl-ddns/invocations"
        );

        let china = names("cn-north-1");
        assert_eq!(china.partition, Partition::China);
        assert_eq!(
            china.function_arn(),
            "arn:aws-cn:lambda:cn-north-1:123456789012:function:ddns-ctl-ddns"
        );
        assert_eq!(
            china.object_arn("config.json"),
            "arn:aws-cn:s3:::ddns-ctl-ddns-123456789012-cn-north-1/config.json"
        );
        assert_eq!(
            china.execute_api_arn("abc123", "prod"),
            "arn:aws-cn:execute-api:cn-north-1:123456789012:abc123/prod/*"
        );
        assert_eq!(
            china.endpoint("abc123", "prod"),
            "https://abc123.execute-api.cn-north-1.amazonaws.com.cn/prod/"
        );

        let gov = names("us-gov-west-1");
        assert_eq!(
            gov.log_group_arn(),
            "arn:aws-us-gov:logs:us-gov-west-1:123456789012:log-group:/aws/lambda/ddns-ctl-ddns"
        );
        assert_eq!(gov.zone_arn("Z1"), "arn:aws-us-gov:route53:::hostedzone/Z1");
        assert_eq!(
            gov.endpoint("abc123", "prod"),
            "https://abc123.execute-api.us-gov-west-1.amazonaws.com/prod/"
        );
        // A region that merely contains "cn" stays commercial.
        assert_eq!(names("ap-east-1").partition, Partition::Aws);
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

    #[test]
    fn memory_follows_the_configs_size() {
        // 1,000 and 20,000 hosts (0.3 and 5.8 MB) fit in the base size.
        assert_eq!(function_memory_mb(0), 128);
        assert_eq!(function_memory_mb(291_002), 128);
        assert_eq!(function_memory_mb(5_820_002), 128);
        // 100,000 hosts (29 MB) measured 192 MB at their peak.
        let hundred_thousand = function_memory_mb(29_100_002);
        assert!(hundred_thousand >= 192 * 3 / 2, "{hundred_thousand}");
        assert_eq!(hundred_thousand % 64, 0);
        assert_eq!(function_memory_mb(u64::MAX), 10_240);
    }

    #[test]
    fn architectures_round_trip_through_lambdas_names() {
        for arch in [Arch::Arm64, Arch::X86_64] {
            assert_eq!(Arch::from_lambda(arch.as_str()), Some(arch));
        }
        assert_eq!(Arch::from_lambda("mips"), None);
    }
}
