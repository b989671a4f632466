//! Runs a plan: each step, in order, exactly as planned, through its
//! resource's module. It compares nothing itself. Values a later step needs
//! from an earlier one (the API's ids for its stage and permission) pass
//! through [`Outputs`], seeded from the observation and updated by the steps
//! that create.

use std::cell::RefCell;

use crate::aws::retry::{Retry, Wait};
use crate::aws::{
    AwsError, Clients, alarm, api, bucket, function, log_group, metric_filter, permission, role, stage, topic,
};
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
    /// Waiting to retry a call AWS refused for now (throttling, a change
    /// in progress).
    Waiting(&'a Step, &'a Wait),
    /// Done.
    Finished(&'a Step),
}

/// Runs the steps of `plan`. `desired` is what creates and updates apply
/// (teardown's deletes need none); `report` hears of each step that does
/// something, before and after it runs, and of each wait in between.
pub async fn run(
    clients: &Clients,
    names: &Names,
    plan: &Plan,
    desired: Option<&Desired>,
    mut outputs: Outputs,
    report: &mut dyn FnMut(Event<'_>),
) -> Result<Outputs, AwsError> {
    // The waits are reported from inside a step, between its Started and
    // Finished, never at the same time as either.
    let report = RefCell::new(report);
    for step in plan.steps.iter().filter(|s| s.action != Action::Unchanged) {
        (report.borrow_mut())(Event::Started(step));
        let on_wait = |wait: &Wait| (report.borrow_mut())(Event::Waiting(step, wait));
        let retry = Retry::new(clients.retry, &on_wait);
        if step.action == Action::Delete {
            delete(clients, names, step, &retry).await?;
        } else {
            let desired = desired.ok_or_else(|| AwsError::Call {
                operation: "deploy",
                message: format!("no desired state for {step}"),
            })?;
            apply(clients, names, step, desired, &mut outputs, &retry).await?;
        }
        (report.borrow_mut())(Event::Finished(step));
    }
    Ok(outputs)
}

async fn apply(
    clients: &Clients,
    names: &Names,
    step: &Step,
    desired: &Desired,
    outputs: &mut Outputs,
    retry: &Retry<'_>,
) -> Result<(), AwsError> {
    let action = &step.action;
    match step.kind {
        Kind::Role => {
            if let Some(arn) = role::apply(&clients.iam, names, &desired.role, action).await? {
                outputs.role_arn = Some(arn);
            }
        }
        Kind::Bucket => bucket::apply(&clients.s3, names, &desired.key, action, retry).await?,
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
            let current = outputs.api.take();
            let ids = api::apply(&clients.apigateway, names, &desired.api, action, current, retry).await?;
            outputs.api = Some(ids);
        }
        Kind::Stage => {
            stage::apply(&clients.apigateway, &api_id(outputs)?, &desired.stage, action, retry).await?;
        }
        Kind::Permission => {
            let source = permission::source_arn(names, &api_id(outputs)?, &desired.stage.name);
            permission::apply(&clients.lambda, names, action, &source).await?;
        }
        Kind::Topic => topic::apply(&clients.sns, names, &alerts(desired, step)?.topic, action).await?,
        Kind::MetricFilter => {
            let filter = alerts(desired, step)?.filters.iter().find(|f| f.name == step.name);
            let filter = filter.ok_or_else(|| missing(step))?;
            metric_filter::apply(&clients.logs, names, filter, action, retry).await?;
        }
        Kind::Alarm => {
            let wanted = alerts(desired, step)?.alarms.iter().find(|a| a.name == step.name);
            let wanted = wanted.ok_or_else(|| missing(step))?;
            alarm::apply(&clients.cloudwatch, names, wanted, action, retry).await?;
        }
    }
    Ok(())
}

fn alerts<'d>(desired: &'d Desired, step: &Step) -> Result<&'d crate::stack::Alerts, AwsError> {
    desired.alerts.as_ref().ok_or_else(|| missing(step))
}

fn missing(step: &Step) -> AwsError {
    AwsError::Call {
        operation: "deploy",
        message: format!("no desired state for {step}"),
    }
}

fn api_id(outputs: &Outputs) -> Result<String, AwsError> {
    outputs.api.as_ref().map(|ids| ids.id.clone()).ok_or(AwsError::Call {
        operation: "deploy",
        message: "the REST API is missing".into(),
    })
}

/// Deletes one resource; one that is already gone counts as deleted.
async fn delete(clients: &Clients, names: &Names, step: &Step, retry: &Retry<'_>) -> Result<(), AwsError> {
    match step.kind {
        Kind::Api => api::delete(&clients.apigateway, &step.name, retry).await?,
        // The permission and the stage go with the function and the API.
        Kind::Function => function::delete(&clients.lambda, names).await?,
        Kind::LogGroup => log_group::delete(&clients.logs, names).await?,
        Kind::Bucket => bucket::delete(&clients.s3, names).await?,
        Kind::Role => role::delete(&clients.iam, names).await?,
        Kind::Topic => topic::delete(&clients.sns, names).await?,
        Kind::MetricFilter => metric_filter::delete(&clients.logs, names, &step.name, retry).await?,
        Kind::Alarm => alarm::delete(&clients.cloudwatch, &step.name, retry).await?,
        Kind::Stage | Kind::Permission => true,
    };
    Ok(())
}
