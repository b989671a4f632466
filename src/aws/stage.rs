//! The API's stage: a deployment of the API under the stage name (`prod`,
//! as in the blog post), throttled for the whole endpoint.

use aws_sdk_apigateway::Client;

use super::AwsError;
use super::api::replace;
use super::retry::Retry;
use crate::plan::{Action, Change};

/// What the stage should be.
#[derive(Debug, Clone, PartialEq)]
pub struct Desired {
    /// The stage name.
    pub name: String,
    /// Steady-state requests per second for the whole stage.
    pub rate_limit: f64,
    /// Burst capacity.
    pub burst_limit: i32,
}

/// The stage as it exists.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Observed {
    /// Its deployment.
    pub deployment_id: Option<String>,
    /// `*/*` throttling rate.
    pub rate_limit: Option<f64>,
    /// `*/*` throttling burst.
    pub burst_limit: Option<i32>,
}

/// Reads stage `name` of API `api_id`; `None` if there is none.
pub async fn observe(apigateway: &Client, api_id: &str, name: &str) -> Result<Option<Observed>, AwsError> {
    match apigateway.get_stage().rest_api_id(api_id).stage_name(name).send().await {
        Ok(out) => {
            let all = out.method_settings().and_then(|m| m.get("*/*"));
            Ok(Some(Observed {
                deployment_id: out.deployment_id().map(str::to_owned),
                rate_limit: all.map(|s| s.throttling_rate_limit()),
                burst_limit: all.map(|s| s.throttling_burst_limit()),
            }))
        }
        Err(err) if err.as_service_error().is_some_and(|e| e.is_not_found_exception()) => Ok(None),
        Err(err) => Err(AwsError::from_sdk("GetStage", err)),
    }
}

/// What the stage needs, given what the API's own step does: any change to
/// the API reaches clients only through a new deployment.
pub fn plan(observed: Option<&Observed>, desired: &Desired, api: &Action) -> Action {
    let Some(stage) = observed.filter(|_| *api != Action::Create) else {
        return Action::Create;
    };
    let mut changes = Vec::new();
    if redeploys(api) || stage.deployment_id.is_none() {
        changes.push(Change::Deployment);
    }
    if stage.rate_limit != Some(desired.rate_limit) || stage.burst_limit != Some(desired.burst_limit) {
        changes.push(throttling(desired));
    }
    Action::update(changes)
}

/// Whether the API's `action` reaches clients only through a new
/// deployment: every change to its routes does; its IP address type takes
/// effect at once.
fn redeploys(api: &Action) -> bool {
    match api {
        Action::Unchanged => false,
        Action::Update(changes) => changes.iter().any(|c| *c != Change::DualStack),
        Action::Create | Action::Delete => true,
    }
}

fn throttling(desired: &Desired) -> Change {
    Change::Throttling {
        rate: desired.rate_limit,
        burst: desired.burst_limit,
    }
}

/// Carries out `action` on API `api_id`'s stage.
pub async fn apply(
    apigateway: &Client,
    api_id: &str,
    desired: &Desired,
    action: &Action,
    retry: &Retry<'_>,
) -> Result<(), AwsError> {
    let everything = [Change::Deployment, throttling(desired)];
    let changes = match action {
        Action::Create => &everything[..],
        Action::Update(changes) => changes.as_slice(),
        Action::Delete | Action::Unchanged => return Ok(()),
    };
    for change in changes {
        match change {
            Change::Deployment => {
                let create = apigateway
                    .create_deployment()
                    .rest_api_id(api_id)
                    .stage_name(&desired.name)
                    .description("ddns-ctl deploy");
                retry
                    .call("CreateDeployment", || create.clone().send())
                    .await
                    .map_err(AwsError::on("CreateDeployment"))?;
            }
            Change::Throttling { rate, burst } => {
                let update = apigateway
                    .update_stage()
                    .rest_api_id(api_id)
                    .stage_name(&desired.name)
                    .patch_operations(replace("/*/*/throttling/rateLimit", rate.to_string()))
                    .patch_operations(replace("/*/*/throttling/burstLimit", burst.to_string()));
                retry
                    .call("UpdateStage", || update.clone().send())
                    .await
                    .map_err(AwsError::on("UpdateStage"))?;
            }
            other => {
                return Err(AwsError::NotApplicable {
                    resource: "stage",
                    change: other.to_string(),
                });
            }
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn desired() -> Desired {
        Desired {
            name: "prod".into(),
            rate_limit: 5.0,
            burst_limit: 10,
        }
    }

    #[test]
    fn a_changed_api_needs_a_deployment_and_throttling_only_its_own() {
        let deployed = Observed {
            deployment_id: Some("d1".into()),
            rate_limit: Some(5.0),
            burst_limit: Some(10),
        };
        assert_eq!(plan(Some(&deployed), &desired(), &Action::Unchanged), Action::Unchanged);
        assert_eq!(
            plan(
                Some(&deployed),
                &desired(),
                &Action::Update(vec![Change::ProxyResource])
            ),
            Action::Update(vec![Change::Deployment])
        );
        // A dual-stack switch takes effect without a deployment; together
        // with a route change, the route still needs one.
        assert_eq!(
            plan(Some(&deployed), &desired(), &Action::Update(vec![Change::DualStack])),
            Action::Unchanged
        );
        assert_eq!(
            plan(
                Some(&deployed),
                &desired(),
                &Action::Update(vec![Change::DualStack, Change::Integration { path: "/" }])
            ),
            Action::Update(vec![Change::Deployment])
        );
        let throttled = Observed {
            rate_limit: Some(100.0),
            ..deployed.clone()
        };
        assert_eq!(
            plan(Some(&throttled), &desired(), &Action::Unchanged),
            Action::Update(vec![Change::Throttling { rate: 5.0, burst: 10 }])
        );
        assert_eq!(plan(Some(&deployed), &desired(), &Action::Create), Action::Create);
        assert_eq!(plan(None, &desired(), &Action::Unchanged), Action::Create);
    }
}
