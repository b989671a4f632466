//! `ddns-ctl status`: the deploy plan read as a report. A resource deploy
//! would create is missing, one it would update has drifted.

use serde_json::json;

use super::{Exit, Session, print};
use crate::cli::GlobalArgs;
use crate::stack::{self, Action, Desired, Settings};

/// Reports the stack; [`Exit::Failure`] when it is not healthy.
pub async fn run(global: &GlobalArgs) -> anyhow::Result<Exit> {
    let session = Session::connect(global).await?;
    let names = &session.names;
    let settings = Settings {
        key: ddns_handler::config::DEFAULT_KEY.to_owned(),
        arch: crate::aws::function::Arch::Arm64,
        stage: "prod".to_owned(),
        rate_limit: 5.0,
        burst_limit: 10,
    };
    let observed = stack::observe(&session.clients, names, &settings).await?;
    // Status cannot know the intended code or the deploy flags, so it checks
    // what deploy always sets: it compares settings, never code; and it reads
    // the architecture, stage and throttling from what exists.
    let settings = Settings {
        arch: observed_arch(&observed).unwrap_or(settings.arch),
        ..settings
    };
    let mut desired = Desired::new(names, &settings, &observed, None);
    if let Some(stage) = observed.api.as_ref().and_then(|a| a.stage.as_ref()) {
        desired.api.rate_limit = stage.rate_limit.unwrap_or(desired.api.rate_limit);
        desired.api.burst_limit = stage.burst_limit.unwrap_or(desired.api.burst_limit);
    }
    let plan = stack::plan(names, &observed, &desired);
    let healthy = plan.is_noop();
    let endpoint = observed.endpoint(names, &settings);

    let mut text = format!(
        "Stack {} in {} (account {}):\n",
        names.stack, names.region, names.account
    );
    let mut resources = Vec::new();
    for step in &plan.steps {
        let (state, detail) = match &step.action {
            Action::Unchanged => ("present", String::new()),
            Action::Create => ("missing", String::new()),
            Action::Update(changes) => ("drifted", format!(" ({})", changes.join(", "))),
        };
        text.push_str(&format!("  {state:<8} {} {}{detail}\n", step.kind, step.name));
        resources.push(
            json!({ "kind": step.kind, "name": step.name, "state": state, "drift": match &step.action {
                Action::Update(changes) => json!(changes),
                _ => json!([]),
            }}),
        );
    }
    text.push_str(&format!("  endpoint {}\n", endpoint.as_deref().unwrap_or("(none)")));
    text.push_str(&format!("  hosts    {}\n", observed.host_count()));
    text.push_str(if healthy {
        "healthy\n"
    } else {
        "not healthy: run `ddns-ctl deploy` to repair\n"
    });
    let value = json!({
        "stack": names.stack,
        "account": names.account,
        "region": names.region,
        "healthy": healthy,
        "endpoint": endpoint,
        "bucket": names.bucket,
        "function": names.function,
        "role": names.role,
        "hosts": observed.host_count(),
        "resources": resources,
    });
    print(global.output, &text, &value);
    Ok(if healthy { Exit::Ok } else { Exit::Failure })
}

fn observed_arch(observed: &stack::Observation) -> Option<crate::aws::function::Arch> {
    use crate::aws::function::Arch;
    match observed.function.as_ref()?.settings.get("architecture")?.as_str() {
        "x86_64" => Some(Arch::X86_64),
        "arm64" => Some(Arch::Arm64),
        _ => None,
    }
}
