//! `ddns-ctl deploy`: look every resource up, plan, confirm, apply what
//! differs in dependency order (role, bucket, function, API, stage,
//! permission), and report the endpoint.

use std::io::IsTerminal as _;

use anyhow::Context as _;
use serde_json::json;

use super::{Session, confirm, print};
use crate::aws::{api, bucket, function, role};
use crate::cli::{DeployArgs, GlobalArgs};
use crate::package;
use crate::progress::Progress;
use crate::stack::{self, Action, Desired, Kind, Settings};

/// Deploys the stack.
pub async fn run(global: &GlobalArgs, args: DeployArgs) -> anyhow::Result<()> {
    if !(args.rate_limit > 0.0 && args.burst_limit > 0) {
        anyhow::bail!("--rate-limit and --burst-limit must be positive");
    }
    let progress = Progress::new(global.quiet);
    progress.step("Connecting to AWS");
    let session = Session::connect(global).await?;
    let names = &session.names;
    let settings = Settings {
        key: args.key.clone(),
        arch: args.arch,
        stage: args.stage.clone(),
        rate_limit: args.rate_limit,
        burst_limit: args.burst_limit,
    };

    let zip = match &args.handler_zip {
        Some(path) => package::read_zip(path)?,
        None => {
            progress.step(format!(
                "Building the handler for {:?} (cargo lambda build --release)",
                args.arch
            ));
            package::build(args.arch)?
        }
    };

    progress.step(format!("Reading stack {} in {}", names.stack, names.region));
    let observed = stack::observe(&session.clients, names, &settings).await?;
    let desired = Desired::new(names, &settings, &observed, Some(zip.clone()));
    let plan = stack::plan(names, &observed, &desired);
    progress.finish();

    if plan.is_noop() {
        let endpoint = observed.endpoint(names, &settings).unwrap_or_default();
        let text = format!(
            "Stack {} is up to date.\n{}",
            names.stack,
            summary_text(names, &endpoint)
        );
        print(global.output, &text, &summary_json(names, &endpoint, &plan, false));
        return Ok(());
    }
    if args.dry_run {
        let text = format!("Plan for stack {} (dry run, nothing changed):\n{plan}", names.stack);
        print(
            global.output,
            &text,
            &json!({ "stack": names.stack, "dry_run": true, "plan": plan.steps }),
        );
        return Ok(());
    }
    if global.output == crate::cli::OutputFormat::Text && !global.quiet {
        eprintln!(
            "Plan for stack {} in {} (account {}):\n{plan}",
            names.stack, names.region, names.account
        );
    }
    if !args.yes && std::io::stdin().is_terminal() && !confirm("Apply this plan?", "--yes")? {
        anyhow::bail!("cancelled; nothing was changed");
    }

    let progress = Progress::new(global.quiet);
    let clients = &session.clients;
    let action = |kind: Kind| plan.steps.iter().find(|s| s.kind == kind).map(|s| s.action.clone());
    let changed = |kind: Kind| action(kind).is_some_and(|a| a != Action::Unchanged);

    if changed(Kind::Role) {
        progress.step(format!("IAM role {}", names.role));
        role::apply(&clients.iam, names, &desired.role, observed.role.as_ref()).await?;
        progress.done(format!("IAM role {}", names.role));
    }
    if changed(Kind::Bucket) {
        progress.step(format!("S3 bucket {}", names.bucket));
        bucket::apply(&clients.s3, names, &settings.key, observed.bucket.as_ref()).await?;
        progress.done(format!("S3 bucket {}", names.bucket));
    }
    if changed(Kind::Function) {
        progress.step(format!(
            "Lambda function {} (waiting until it is ready)",
            names.function
        ));
        function::apply(
            &clients.lambda,
            names,
            &desired.function,
            observed.function.as_ref(),
            function::Propagation::default(),
        )
        .await?;
        progress.done(format!("Lambda function {}", names.function));
    }
    let mut api_id = observed.api.as_ref().map(|a| a.id.clone());
    if changed(Kind::Api) || changed(Kind::Stage) {
        progress.step(format!("REST API {} and stage {}", names.api, settings.stage));
        api_id = Some(api::apply(&clients.apigateway, names, &desired.api, observed.api.as_ref()).await?);
        progress.done(format!("REST API {} and stage {}", names.api, settings.stage));
    }
    let api_id = api_id.context("the REST API is missing after deploy")?;
    if changed(Kind::Permission) || api_id != observed.api.as_ref().map(|a| a.id.clone()).unwrap_or_default() {
        progress.step("Invoke permission");
        let source_arn = desired.api.source_arn(names, &api_id);
        api::apply_permission(&clients.lambda, names, &source_arn, observed.permission.as_deref()).await?;
        progress.done(format!("Invoke permission for {source_arn}"));
    }
    progress.finish();

    let endpoint = names.endpoint(&api_id, &settings.stage);
    let text = format!("Stack {} is deployed.\n{}", names.stack, summary_text(names, &endpoint));
    print(global.output, &text, &summary_json(names, &endpoint, &plan, true));
    Ok(())
}

fn summary_text(names: &stack::Names, endpoint: &str) -> String {
    format!(
        "  endpoint  {endpoint}\n  bucket    {}\n  function  {}\n  role      {}\n",
        names.bucket, names.function, names.role
    )
}

fn summary_json(names: &stack::Names, endpoint: &str, plan: &stack::Plan, changed: bool) -> serde_json::Value {
    json!({
        "stack": names.stack,
        "account": names.account,
        "region": names.region,
        "endpoint": endpoint,
        "bucket": names.bucket,
        "function": names.function,
        "role": names.role,
        "changed": changed,
        "plan": plan.steps,
    })
}
