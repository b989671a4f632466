//! `ddns-ctl deploy`: observe the stack, plan, build the handler only if the
//! plan needs new code, show the plan, confirm, and run it. `--dry-run`
//! stops after showing it.

use std::fmt;
use std::io::IsTerminal as _;

use serde::Serialize;

use super::{Session, confirm};
use crate::aws::function::{self, Code};
use crate::cli::{DeployArgs, GlobalArgs, OutputFormat};
use crate::embedded;
use crate::executor::{self, Outputs};
use crate::model::Names;
use crate::package;
use crate::plan::{Kind, Plan, Step};
use crate::progress::Progress;
use crate::stack::{self, Desired, Observation};

/// What `deploy` did, or would do.
#[derive(Debug, Serialize)]
#[serde(untagged)]
pub enum Outcome {
    /// It ran the plan, or found nothing to do.
    Deployed(Deployed),
    /// `--dry-run`: the plan only.
    DryRun(DryRun),
}

/// The stack after deploy.
#[derive(Debug, Serialize)]
pub struct Deployed {
    /// The stack name.
    pub stack: String,
    /// The account.
    pub account: String,
    /// The region.
    pub region: String,
    /// The URL clients call: the custom domain's, when the stack has one.
    pub endpoint: String,
    /// The API's own URL, and whether it answers.
    pub execute_api: ExecuteApiUrl,
    /// The config bucket.
    pub bucket: String,
    /// The function.
    pub function: String,
    /// The function's role.
    pub role: String,
    /// Whether anything was changed.
    pub changed: bool,
    /// The plan that was run.
    pub plan: Vec<Step>,
}

/// The API's execute-api URL.
#[derive(Debug, Serialize)]
pub struct ExecuteApiUrl {
    /// The URL.
    pub url: String,
    /// Whether it answers (`--disable-execute-api-endpoint` turns it off).
    pub enabled: bool,
}

/// A plan that was only shown.
#[derive(Debug, Serialize)]
pub struct DryRun {
    /// The stack name.
    pub stack: String,
    /// Always true.
    pub dry_run: bool,
    /// The plan.
    pub plan: Vec<Step>,
}

impl fmt::Display for Outcome {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Deployed(d) => {
                let verb = if d.changed { "is deployed" } else { "is up to date" };
                writeln!(f, "Stack {} {verb}.", d.stack)?;
                writeln!(f, "  endpoint  {}", d.endpoint)?;
                if d.execute_api.url != d.endpoint {
                    let off = if d.execute_api.enabled { "" } else { " (disabled)" };
                    writeln!(f, "  also      {}{off}", d.execute_api.url)?;
                }
                writeln!(f, "  bucket    {}", d.bucket)?;
                writeln!(f, "  function  {}", d.function)?;
                writeln!(f, "  role      {}", d.role)
            }
            Self::DryRun(d) => {
                let plan = Plan { steps: d.plan.clone() };
                write!(f, "Plan for stack {} (dry run, nothing changed):\n{plan}", d.stack)
            }
        }
    }
}

impl Outcome {
    /// The endpoint, once deployed.
    pub fn endpoint(&self) -> Option<&str> {
        match self {
            Self::Deployed(d) => Some(&d.endpoint),
            Self::DryRun(_) => None,
        }
    }
}

/// Deploys the stack.
pub async fn run(global: &GlobalArgs, args: DeployArgs) -> anyhow::Result<Outcome> {
    if !(args.rate_limit > 0.0 && args.burst_limit > 0) {
        anyhow::bail!("--rate-limit and --burst-limit must be positive");
    }
    // A bad package is refused before anything is read or written.
    let code = code(&args)?;
    let progress = Progress::new(global.quiet);
    progress.step("Connecting to AWS");
    let session = Session::connect(global).await?;
    progress.step(format!(
        "Reading stack {} in {}",
        session.names.stack, session.names.region
    ));
    let observed = stack::observe(&session.clients, &session.names, &args.settings()).await?;
    progress.finish();
    apply(global, &session, &observed, &args, code).await
}

/// The code `args` name: the `--handler-zip`, checked; else the package
/// this binary carries for the architecture, unless `--build-handler`; else
/// the handler to build from the sources should the plan need it, once the
/// sources are known to be there (a dry run builds nothing, so needs none).
pub fn code(args: &DeployArgs) -> anyhow::Result<Code> {
    if let Some(path) = &args.handler_zip {
        return Ok(Code::zip(package::read_zip(path)?));
    }
    if !args.build_handler
        && let Some(zip) = embedded::package(args.arch)?
    {
        return Ok(Code::embedded(zip));
    }
    if !args.dry_run {
        package::sources(args.sources.as_deref(), args.arch)?;
    }
    Ok(Code::Unbuilt)
}

/// Plans from `observed`, builds the handler if the plan needs it, asks
/// (unless `--yes`) and runs the plan. `setup` calls this with the session
/// and observation it already has.
pub async fn apply(
    global: &GlobalArgs,
    session: &Session,
    observed: &Observation,
    args: &DeployArgs,
    code: Code,
) -> anyhow::Result<Outcome> {
    let names = &session.names;
    let settings = args.settings();
    // A caller's observation (setup's) may not include the domain asked for.
    let with_domain;
    let observed = match &settings.domain {
        crate::model::DomainChoice::Set(name) if observed.domain_named(name).is_none() => {
            let mut more = observed.clone();
            more.domains
                .push(crate::aws::custom_domain::observe(&session.clients, names, name).await?);
            with_domain = more;
            &with_domain
        }
        _ => observed,
    };
    // The function refuses a config that breaks its rules as a whole: a
    // deploy then would take every host offline, so it stops here.
    if let Some(reason) = observed.bucket.as_ref().and_then(|b| b.invalid.as_deref()) {
        anyhow::bail!(
            "the config breaks a rule the function enforces ({reason}), so the function would refuse it and every \
             update: fix that host first (a secret shorter than {} characters: `ddns-ctl host rotate-secret HOST`), \
             or `ddns-ctl config restore VERSION`",
            ddns_handler::config::MIN_SECRET_LEN
        );
    }
    for problem in &observed.zones.problems {
        eprintln!("warning: {problem}; the function may not change records there");
    }
    let mut desired = Desired::new(names, &settings, observed, code);
    check_domain(observed, &desired, &settings)?;
    let mut plan = stack::plan(names, observed, &desired);
    if args.dry_run {
        return Ok(Outcome::DryRun(DryRun {
            stack: names.stack.clone(),
            dry_run: true,
            plan: plan.steps,
        }));
    }
    let needs_code = plan.action(Kind::Function).is_some_and(function::needs_code);
    if needs_code && desired.function.code == Code::Unbuilt {
        let progress = Progress::new(global.quiet);
        progress.step(format!(
            "Building the handler for {} (cargo lambda build --release)",
            settings.arch
        ));
        let workspace = package::sources(args.sources.as_deref(), settings.arch)?;
        desired.function.code = Code::zip(package::build(&workspace, settings.arch)?);
        progress.finish();
        plan = stack::plan(names, observed, &desired);
    }

    let mut outputs = Outputs::observed(observed);
    let changed = !plan.is_noop();
    if changed {
        if global.output == OutputFormat::Text && !global.quiet {
            eprintln!(
                "Plan for stack {} in {} (account {}):\n{plan}",
                names.stack, names.region, names.account
            );
        }
        if let Some(old) = observed.domain().filter(|_| desired.domain.is_none())
            && !args.yes
            && !confirm(
                &format!(
                    "Remove custom domain {}? Clients that call {} stop working.",
                    old.name,
                    Names::domain_endpoint(&old.name)
                ),
                "--yes",
            )?
        {
            anyhow::bail!("cancelled; nothing was changed");
        }
        if !args.yes && std::io::stdin().is_terminal() && !confirm("Apply this plan?", "--yes")? {
            anyhow::bail!("cancelled; nothing was changed");
        }
        let progress = Progress::new(global.quiet);
        outputs = executor::run(&session.clients, names, &plan, Some(&desired), outputs, &mut |event| {
            super::show_step(&progress, event)
        })
        .await?;
        progress.finish();
    }
    let api = outputs
        .api
        .ok_or_else(|| anyhow::anyhow!("the REST API is missing after deploy"))?;
    let execute_api = ExecuteApiUrl {
        url: names.endpoint(&api.id, &settings.stage),
        enabled: !desired.api.disable_execute_api_endpoint,
    };
    let endpoint = match &desired.domain {
        Some(domain) => Names::domain_endpoint(&domain.name),
        None => execute_api.url.clone(),
    };
    Ok(Outcome::Deployed(deployed(names, endpoint, execute_api, plan, changed)))
}

/// Refuses, before anything changes, a custom domain deploy may not take:
/// no public zone holds it, records someone else made are at its name, the
/// API Gateway domain is someone else's, or it is one of the stack's own
/// dynamic hosts (whose records the function rewrites).
fn check_domain(observed: &Observation, desired: &Desired, settings: &crate::model::Settings) -> anyhow::Result<()> {
    if settings.execute_api == crate::model::ExecuteApi::Disable && desired.domain.is_none() {
        anyhow::bail!(
            "--disable-execute-api-endpoint needs a custom domain (--domain NAME): without one, the execute-api \
             URL is the only way to reach the stack"
        );
    }
    let Some(wanted) = &desired.domain else {
        return Ok(());
    };
    let mut problems = observed
        .domain_named(&wanted.name)
        .map(|d| d.problems())
        .unwrap_or_default();
    if observed.config().is_some_and(|c| c.host(&wanted.name).is_some()) {
        problems.push(format!(
            "{} is a host of this stack, whose records the function rewrites; choose another name",
            wanted.name
        ));
    }
    if problems.is_empty() {
        return Ok(());
    }
    anyhow::bail!(
        "cannot serve the stack at {}, nothing was changed:\n  {}",
        wanted.name,
        problems.join("\n  ")
    )
}

fn deployed(names: &Names, endpoint: String, execute_api: ExecuteApiUrl, plan: Plan, changed: bool) -> Deployed {
    Deployed {
        stack: names.stack.clone(),
        account: names.account.clone(),
        region: names.region.clone(),
        endpoint,
        execute_api,
        bucket: names.bucket.clone(),
        function: names.function.clone(),
        role: names.role.clone(),
        changed,
        plan: plan.steps,
    }
}
