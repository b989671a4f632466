//! Runs a plan: each step, in order, exactly as planned, through its
//! resource's module. It compares nothing itself. Values a later step needs
//! from an earlier one (the API's ids for its stage and permission) pass
//! through [`Outputs`], seeded from the observation and updated by the steps
//! that create.

use crate::aws::{AwsError, Clients, api, bucket, function, log_group, permission, role, stage};
use crate::model::Names;
use crate::plan::{Action, Kind, Plan, Step};
use crate::stack::{Desired, Observation};

/// What the steps produced, for the steps after them and the summary.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Outputs {
    /// The role's ARN.
    pub role_arn: Option<String>,
    /// The API's ids.
    pub api: Option<api::Ids>,
}

impl Outputs {
    /// What exists before any step runs.
    pub fn observed(observation: &Observation) -> Self {
        Self {
            role_arn: observation.role.as_ref().map(|r| r.arn.clone()),
            api: observation.api.as_ref().map(api::Observed::ids),
        }
    }
}

/// Where a step is, for progress reports.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Event<'a> {
    /// About to run.
    Started(&'a Step),
    /// Done.
    Finished(&'a Step),
}

/// Runs the steps of `plan`. `desired` is what creates and updates apply
/// (teardown's deletes need none); `report` hears of each step that does
/// something, before and after it runs.
pub async fn run(
    clients: &Clients,
    names: &Names,
    plan: &Plan,
    desired: Option<&Desired>,
    mut outputs: Outputs,
    report: &mut dyn FnMut(Event<'_>),
) -> Result<Outputs, AwsError> {
    for step in plan.steps.iter().filter(|s| s.action != Action::Unchanged) {
        report(Event::Started(step));
        if step.action == Action::Delete {
            delete(clients, names, step).await?;
        } else {
            let desired = desired.ok_or_else(|| AwsError::Call {
                operation: "deploy",
                message: format!("no desired state for {step}"),
            })?;
            apply(clients, names, step, desired, &mut outputs).await?;
        }
        report(Event::Finished(step));
    }
    Ok(outputs)
}

async fn apply(
    clients: &Clients,
    names: &Names,
    step: &Step,
    desired: &Desired,
    outputs: &mut Outputs,
) -> Result<(), AwsError> {
    let action = &step.action;
    match step.kind {
        Kind::Role => {
            if let Some(arn) = role::apply(&clients.iam, names, &desired.role, action).await? {
                outputs.role_arn = Some(arn);
            }
        }
        Kind::Bucket => bucket::apply(&clients.s3, names, &desired.key, action).await?,
        Kind::LogGroup => log_group::apply(&clients.logs, names, &desired.log_group, action).await?,
        Kind::Function => {
            let function = function::Desired {
                role_arn: outputs.role_arn.clone().unwrap_or(desired.function.role_arn.clone()),
                ..desired.function.clone()
            };
            function::apply(
                &clients.lambda,
                names,
                &function,
                action,
                function::Propagation::default(),
            )
            .await?;
        }
        Kind::Api => {
            let ids = api::apply(&clients.apigateway, names, &desired.api, action, outputs.api.take()).await?;
            outputs.api = Some(ids);
        }
        Kind::Stage => stage::apply(&clients.apigateway, &api_id(outputs)?, &desired.stage, action).await?,
        Kind::Permission => {
            let source = permission::source_arn(names, &api_id(outputs)?, &desired.stage.name);
            permission::apply(&clients.lambda, names, action, &source).await?;
        }
    }
    Ok(())
}

fn api_id(outputs: &Outputs) -> Result<String, AwsError> {
    outputs.api.as_ref().map(|ids| ids.id.clone()).ok_or(AwsError::Call {
        operation: "deploy",
        message: "the REST API is missing".into(),
    })
}

/// Deletes one resource; one that is already gone counts as deleted.
async fn delete(clients: &Clients, names: &Names, step: &Step) -> Result<(), AwsError> {
    match step.kind {
        Kind::Api => api::delete(&clients.apigateway, &step.name).await?,
        // The permission and the stage go with the function and the API.
        Kind::Function => function::delete(&clients.lambda, names).await?,
        Kind::LogGroup => log_group::delete(&clients.logs, names).await?,
        Kind::Bucket => bucket::delete(&clients.s3, names).await?,
        Kind::Role => role::delete(&clients.iam, names).await?,
        Kind::Stage | Kind::Permission => true,
    };
    Ok(())
}
