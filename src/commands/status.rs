//! `ddns-ctl status`: the deploy plan read as a report. A resource deploy
//! would create is missing, one it would update has drifted (with what
//! differs), one it would leave alone is present.

use std::fmt;

use serde::Serialize;

use super::{Exit, Session, render};
use crate::aws::function::Code;
use crate::cli::GlobalArgs;
use crate::embedded;
use crate::model::{Names, Settings};
use crate::plan::{Action, Change, Kind};
use crate::stack::{self, Desired};

/// One resource in the report.
#[derive(Debug, Serialize)]
pub struct Resource {
    /// What kind of resource.
    pub kind: Kind,
    /// Its name or id.
    pub name: String,
    /// `present`, `missing` or `drifted`.
    pub state: &'static str,
    /// What differs, when drifted.
    pub drift: Vec<Change>,
}

/// The report.
#[derive(Debug, Serialize)]
pub struct Status {
    /// The stack name.
    pub stack: String,
    /// The account.
    pub account: String,
    /// The region.
    pub region: String,
    /// Whether every resource is present as deploy would leave it.
    pub healthy: bool,
    /// The URL clients call, once the API and its stage exist.
    pub endpoint: Option<String>,
    /// How clients reach the API: `dualstack` (IPv4 and IPv6) or `ipv4`;
    /// `None` without an API.
    pub ip_address_type: Option<&'static str>,
    /// The config bucket.
    pub bucket: String,
    /// The function.
    pub function: String,
    /// The function's role.
    pub role: String,
    /// How many hosts the config has.
    pub hosts: usize,
    /// Hosts the function cannot serve: their zone does not exist in the
    /// account, or does not hold them. The role leaves those zones out.
    pub config_problems: Vec<String>,
    /// Zones with too many hosts to name each in the role's policy, where
    /// the function may change records that match a pattern instead.
    pub patterned_zones: Vec<String>,
    /// Whether the function runs the package this binary would deploy:
    /// `matches`, `differs`, or `not-compared` (this binary carries no
    /// package for the function's architecture, or there is no function).
    pub code: CodeCheck,
    /// Each resource.
    pub resources: Vec<Resource>,
    /// The alerts: topic, subscriptions (pending or confirmed), alarms.
    pub alerts: Option<super::alerts::Report>,
    /// The custom domain, if the stack has one.
    pub domain: Option<DomainReport>,
}

/// The custom domain in the report.
#[derive(Debug, Serialize)]
pub struct DomainReport {
    /// Its name.
    pub name: String,
    /// The certificate, if the stack has one for the name.
    pub certificate: Option<CertificateReport>,
    /// `present`, `missing` or `taken` (a CNAME with another value): ACM
    /// renews the certificate only while it is present.
    pub validation_record: &'static str,
    /// Whether the API's execute-api URL answers too.
    pub execute_api_enabled: bool,
}

/// The custom domain's certificate in the report.
#[derive(Debug, Serialize)]
pub struct CertificateReport {
    /// Its ARN.
    pub arn: String,
    /// ACM's status (`ISSUED`, `PENDING_VALIDATION`, …).
    pub status: String,
    /// When it expires (RFC 3339), once issued.
    pub not_after: Option<String>,
}

impl fmt::Display for DomainReport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "  domain   {}: ", self.name)?;
        match &self.certificate {
            Some(c) => {
                write!(f, "certificate {}", c.status)?;
                if let Some(until) = &c.not_after {
                    write!(f, " until {until}")?;
                }
            }
            None => f.write_str("no certificate")?,
        }
        match self.validation_record {
            "present" => f.write_str(", validation record in place")?,
            "taken" => f.write_str(", validation record taken by a CNAME with another value")?,
            _ => f.write_str(
                ", validation record MISSING: ACM cannot renew the certificate until deploy writes it again",
            )?,
        }
        if !self.execute_api_enabled {
            f.write_str("; execute-api URL disabled")?;
        }
        writeln!(f)
    }
}

/// The report of the stack's custom domain, as observed.
fn domain_report(observed: &stack::Observation) -> Option<DomainReport> {
    let found = observed.domain()?;
    Some(DomainReport {
        name: found.name.clone(),
        certificate: found.certificate().map(|c| CertificateReport {
            arn: c.arn.clone(),
            status: c.status.clone(),
            not_after: c.not_after.and_then(|secs| {
                let at =
                    std::time::UNIX_EPOCH.checked_add(std::time::Duration::from_secs(u64::try_from(secs).ok()?))?;
                Some(humantime::format_rfc3339_seconds(at).to_string())
            }),
        }),
        validation_record: match found.validation {
            crate::aws::validation::Observed::Present => "present",
            crate::aws::validation::Observed::Missing => "missing",
            crate::aws::validation::Observed::Other(_) => "taken",
        },
        execute_api_enabled: !observed.api.as_ref().is_some_and(|a| a.execute_api_disabled),
    })
}

/// How the deployed code compares with the package this binary carries.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum CodeCheck {
    /// The function's CodeSha256 is the embedded package's.
    Matches,
    /// It is not: `deploy` uploads this binary's package.
    Differs,
    /// Nothing to compare with.
    NotCompared,
}

impl fmt::Display for Status {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(f, "Stack {} in {} (account {}):", self.stack, self.region, self.account)?;
        for r in &self.resources {
            let drift: Vec<String> = r.drift.iter().map(ToString::to_string).collect();
            let detail = if drift.is_empty() {
                String::new()
            } else {
                format!(" ({})", drift.join(", "))
            };
            writeln!(f, "  {:<8} {} {}{detail}", r.state, r.kind, r.name)?;
        }
        let reach = match self.ip_address_type {
            Some("dualstack") => " (IPv4 and IPv6)",
            Some(_) => " (IPv4 only)",
            None => "",
        };
        writeln!(f, "  endpoint {}{reach}", self.endpoint.as_deref().unwrap_or("(none)"))?;
        if self.code == CodeCheck::NotCompared {
            writeln!(
                f,
                "  code     not compared: this ddns-ctl carries no handler package for the function"
            )?;
        }
        writeln!(f, "  hosts    {}", self.hosts)?;
        for problem in &self.config_problems {
            writeln!(f, "  config   {problem}")?;
        }
        for zone in &self.patterned_zones {
            writeln!(
                f,
                "  role     zone {zone}: too many hosts to name each; records are allowed by pattern there"
            )?;
        }
        if let Some(domain) = &self.domain {
            write!(f, "{domain}")?;
        }
        if let Some(alerts) = &self.alerts {
            write!(f, "{alerts}")?;
        }
        f.write_str(match (self.healthy, self.config_problems.is_empty()) {
            (true, _) => "healthy\n",
            (false, true) => "not healthy: run `ddns-ctl deploy` to repair\n",
            (false, false) => {
                "not healthy: fix or remove those hosts (`ddns-ctl host remove`, `config restore`), then `ddns-ctl deploy`\n"
            }
        })
    }
}

/// Reports the stack; [`Exit::Failure`] when it is not healthy.
pub async fn run(global: &GlobalArgs) -> anyhow::Result<Exit> {
    let session = Session::connect(global).await?;
    let names = &session.names;
    let observed = stack::observe(&session.clients, names, &Settings::default()).await?;
    // Status cannot know the deploy flags, so it checks what deploy always
    // sets, and takes the architecture, throttling and retention from what
    // exists. Code is compared only with the package this binary carries:
    // a build from sources would take minutes, and a zip is a deploy flag.
    let settings = observed.settings();
    let package = match observed.function {
        Some(_) => embedded::package(settings.arch)?,
        None => None,
    };
    let compared = package.is_some();
    let code = package.map_or(Code::Ignored, Code::embedded);
    let desired = Desired::new(names, &settings, &observed, code);
    let plan = stack::plan(names, &observed, &desired);
    let mut status = report(
        names,
        &plan,
        observed.endpoint(names, &settings.stage),
        observed.host_count(),
    );
    status.ip_address_type = observed
        .api
        .as_ref()
        .map(|api| if api.dualstack { "dualstack" } else { "ipv4" });
    let differs = plan
        .action(Kind::Function)
        .is_some_and(|a| a.changes().iter().any(|c| matches!(c, Change::Code { .. })));
    status.code = match (compared, differs) {
        (false, _) => CodeCheck::NotCompared,
        (true, false) => CodeCheck::Matches,
        (true, true) => CodeCheck::Differs,
    };
    status.config_problems = observed.zones.problems.clone();
    status.patterned_zones = desired.role.patterned_zones.clone();
    status.healthy &= status.config_problems.is_empty();
    status.alerts = Some(super::alerts::report(&session, &observed));
    status.domain = domain_report(&observed);
    render(global.output, &status);
    Ok(if status.healthy { Exit::Ok } else { Exit::Failure })
}

fn report(names: &Names, plan: &crate::plan::Plan, endpoint: Option<String>, hosts: usize) -> Status {
    let resources = plan
        .steps
        .iter()
        .map(|step| {
            let state = match &step.action {
                Action::Unchanged => "present",
                Action::Create => "missing",
                Action::Update(_) | Action::Delete => "drifted",
            };
            Resource {
                kind: step.kind,
                name: step.name.clone(),
                state,
                drift: step.action.changes().to_vec(),
            }
        })
        .collect();
    Status {
        stack: names.stack.clone(),
        account: names.account.clone(),
        region: names.region.clone(),
        healthy: plan.is_noop(),
        endpoint,
        ip_address_type: None,
        bucket: names.bucket.clone(),
        function: names.function.clone(),
        role: names.role.clone(),
        hosts,
        config_problems: vec![],
        patterned_zones: vec![],
        code: CodeCheck::NotCompared,
        resources,
        alerts: None,
        domain: None,
    }
}
