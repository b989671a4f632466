//! Runs a plan: each step, in order, exactly as planned, through its
//! resource's module. It compares nothing itself. Values a later step needs
//! from an earlier one (the API's ids for its stage and permission) pass
//! through [`Outputs`], seeded from the observation and updated by the steps
//! that create.

use std::cell::RefCell;

use crate::aws::retry::{Retry, Wait};
use crate::aws::{
    AwsError, Clients, alarm, alias, api, bucket, certificate, custom_domain, domain, function, log_group, mapping,
    metric_filter, permission, role, stage, topic, validation,
};
use crate::model::Names;
use crate::plan::{Action, Kind, Plan, Step};
use crate::stack::{Desired, Observation};

/// What the steps produced, for the steps after them and the summary.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Outputs {
    /// The role's ARN.
    pub role_arn: Option<String>,
    /// The API's ids.
    pub api: Option<api::Ids>,
    /// The custom domains' pieces: what their deletes must repeat
    /// exactly, and what a new certificate or domain was given.
    pub domains: Vec<custom_domain::Observed>,
}

impl Outputs {
    /// What exists before any step runs.
    pub fn observed(observation: &Observation) -> Self {
        Self {
            role_arn: observation.role.as_ref().map(|r| r.arn.clone()),
            api: observation.api.as_ref().map(api::Observed::ids),
            domains: observation.domains.clone(),
        }
    }

    /// The pieces of custom domain `name`, made empty if none were seen.
    fn domain(&mut self, name: &str) -> &mut custom_domain::Observed {
        let at = match self.domains.iter().position(|d| d.name == name) {
            Some(at) => at,
            None => {
                self.domains.push(custom_domain::Observed {
                    name: name.to_owned(),
                    ..custom_domain::Observed::default()
                });
                self.domains.len() - 1
            }
        };
        &mut self.domains[at]
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
            delete(clients, names, step, &outputs, &retry).await?;
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
        Kind::Certificate => {
            let requested = certificate::request(&clients.acm, names, &step.name, &clients.certificates, retry).await?;
            outputs.domain(&step.name).certificates.insert(0, requested);
        }
        Kind::ValidationRecord => {
            let record = validation_record(outputs.domain(&step.name), step)?;
            validation::create(&clients.route53, &zone_id(desired, step)?, &step.name, &record).await?;
        }
        Kind::Domain => {
            let arn = outputs
                .domain(&step.name)
                .certificate()
                .map(|c| c.arn.clone())
                .ok_or_else(|| missing(step))?;
            // API Gateway takes only an issued certificate.
            certificate::wait_issued(&clients.acm, &arn, &clients.certificates, retry).await?;
            let target = domain::apply(&clients.apigateway, names, &step.name, &arn, action, retry).await?;
            let found = outputs.domain(&step.name);
            let current = found.domain.take();
            found.domain = Some(domain::Observed {
                name: step.name.clone(),
                tagged: true,
                regional: true,
                dualstack: true,
                certificate_arn: Some(arn),
                security_policy: Some("TLS_1_2".to_owned()),
                target: target.or_else(|| current.and_then(|d| d.target)),
            });
        }
        Kind::Mapping => {
            let api = api_id(outputs)?;
            mapping::apply(
                &clients.apigateway,
                &step.name,
                &api,
                &desired.stage.name,
                action,
                retry,
            )
            .await?;
        }
        Kind::AliasRecords => {
            let target = outputs
                .domain(&step.name)
                .target()
                .cloned()
                .ok_or_else(|| AwsError::Call {
                    operation: "CreateDomainName",
                    message: format!("API Gateway gave custom domain {} no regional target", step.name),
                })?;
            alias::apply(&clients.route53, &zone_id(desired, step)?, &step.name, &target, action).await?;
        }
    }
    Ok(())
}

/// The zone of the custom domain deploy serves.
fn zone_id(desired: &Desired, step: &Step) -> Result<String, AwsError> {
    desired
        .domain
        .as_ref()
        .filter(|d| d.name == step.name && !d.zone_id.is_empty())
        .map(|d| d.zone_id.clone())
        .ok_or_else(|| missing(step))
}

fn validation_record(found: &custom_domain::Observed, step: &Step) -> Result<certificate::Validation, AwsError> {
    found
        .certificate()
        .or(found.certificates.first())
        .and_then(|c| c.validation.clone())
        .ok_or_else(|| missing(step))
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
async fn delete(
    clients: &Clients,
    names: &Names,
    step: &Step,
    outputs: &Outputs,
    retry: &Retry<'_>,
) -> Result<(), AwsError> {
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
        Kind::Certificate | Kind::ValidationRecord | Kind::Domain | Kind::Mapping | Kind::AliasRecords => {
            delete_domain_piece(clients, step, outputs, retry).await?
        }
    };
    Ok(())
}

/// Deletes one piece of a custom domain, repeating what was observed of it
/// (by the last piece, the certificate that named the validation record is
/// gone); a domain that was not observed is an error, never a guess.
async fn delete_domain_piece(
    clients: &Clients,
    step: &Step,
    outputs: &Outputs,
    retry: &Retry<'_>,
) -> Result<bool, AwsError> {
    let name = step.name.as_str();
    let found = outputs
        .domains
        .iter()
        .find(|d| d.name == name)
        .ok_or_else(|| missing(step))?;
    let zone = found.zone.as_ref().map(|z| z.id.as_str());
    Ok(match step.kind {
        Kind::AliasRecords => match (zone, found.target()) {
            (Some(zone), Some(target)) => alias::delete(&clients.route53, zone, name, target).await?,
            _ => false,
        },
        Kind::Mapping => mapping::delete(&clients.apigateway, name, retry).await?,
        Kind::Domain => domain::delete(&clients.apigateway, name, retry).await?,
        Kind::Certificate => {
            for certificate in &found.certificates {
                certificate::delete(&clients.acm, &certificate.arn, retry).await?;
            }
            true
        }
        Kind::ValidationRecord => match (zone, found.certificates.first().and_then(|c| c.validation.as_ref())) {
            (Some(zone), Some(record)) => validation::delete(&clients.route53, zone, record).await?,
            _ => false,
        },
        _ => {
            return Err(AwsError::NotApplicable {
                resource: "custom domain",
                change: step.to_string(),
            });
        }
    })
}
