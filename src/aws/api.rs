//! API Gateway: a REGIONAL REST API with `ANY` on `/` and `/{proxy+}`, both
//! proxied to the function; a stage with throttling; and the one Lambda
//! permission that lets exactly this API invoke the function.

use std::collections::HashMap;

use aws_sdk_apigateway::Client;
use aws_sdk_apigateway::types::{EndpointConfiguration, EndpointType, IntegrationType, Op, PatchOperation, Resource};
use serde_json::Value;

use super::AwsError;
use crate::stack::{Action, Names, PERMISSION_ID};

/// What the API should be.
#[derive(Debug, Clone, PartialEq)]
pub struct Desired {
    /// The function it proxies to.
    pub function_arn: String,
    /// The stage name (`prod`, as in the blog post).
    pub stage: String,
    /// Steady-state requests per second for the whole stage.
    pub rate_limit: f64,
    /// Burst capacity.
    pub burst_limit: i32,
}

impl Desired {
    /// The integration URI that invokes the function.
    pub fn integration_uri(&self, names: &Names) -> String {
        format!(
            "arn:aws:apigateway:{}:lambda:path/2015-03-31/functions/{}/invocations",
            names.region, self.function_arn
        )
    }

    /// The source ARN the invoke permission is scoped to: this API's stage.
    pub fn source_arn(&self, names: &Names, api_id: &str) -> String {
        format!(
            "arn:aws:execute-api:{}:{}:{api_id}/{}/*",
            names.region, names.account, self.stage
        )
    }
}

/// The stage as it exists.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Stage {
    /// Its deployment.
    pub deployment_id: Option<String>,
    /// `*/*` throttling rate.
    pub rate_limit: Option<f64>,
    /// `*/*` throttling burst.
    pub burst_limit: Option<i32>,
}

/// The API as it exists.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Observed {
    /// The API's id.
    pub id: String,
    /// Other APIs tagged for this stack, left by an interrupted deploy;
    /// teardown removes them too.
    pub strays: Vec<String>,
    /// The id of `/`.
    pub root_id: Option<String>,
    /// The id of `/{proxy+}`.
    pub proxy_id: Option<String>,
    /// Integration URI of `ANY /`, if the method exists.
    pub root_uri: Option<String>,
    /// Integration URI of `ANY /{proxy+}`, if the method exists.
    pub proxy_uri: Option<String>,
    /// The stage, if it exists.
    pub stage: Option<Stage>,
}

/// Every REST API tagged for this stack, oldest first.
pub async fn find(apigateway: &Client, names: &Names) -> Result<Vec<String>, AwsError> {
    let mut found = Vec::new();
    let mut pages = apigateway.get_rest_apis().limit(500).into_paginator().send();
    while let Some(page) = pages.next().await {
        let page = page.map_err(AwsError::on("GetRestApis"))?;
        for api in page.items() {
            let tags = api.tags().cloned().unwrap_or_default();
            if names.owns(tags.iter().map(|(k, v)| (k.as_str(), v.as_str()))) {
                found.push((
                    api.created_date().map(|d| d.secs()).unwrap_or_default(),
                    api.id().unwrap_or_default().to_owned(),
                ));
            }
        }
    }
    found.sort();
    Ok(found.into_iter().map(|(_, id)| id).collect())
}

/// Reads the API, its resources with their methods, and the stage.
pub async fn observe(apigateway: &Client, names: &Names, stage: &str) -> Result<Option<Observed>, AwsError> {
    let mut ids = find(apigateway, names).await?;
    if ids.is_empty() {
        return Ok(None);
    }
    let id = ids.remove(0);
    let mut observed = Observed {
        id: id.clone(),
        strays: ids,
        ..Observed::default()
    };
    let mut pages = apigateway
        .get_resources()
        .rest_api_id(&id)
        .embed("methods")
        .limit(500)
        .into_paginator()
        .send();
    while let Some(page) = pages.next().await {
        for resource in page.map_err(AwsError::on("GetResources"))?.items() {
            match resource.path() {
                Some("/") => {
                    observed.root_id = resource.id().map(str::to_owned);
                    observed.root_uri = any_integration_uri(resource);
                }
                Some("/{proxy+}") => {
                    observed.proxy_id = resource.id().map(str::to_owned);
                    observed.proxy_uri = any_integration_uri(resource);
                }
                _ => {}
            }
        }
    }
    observed.stage = match apigateway.get_stage().rest_api_id(&id).stage_name(stage).send().await {
        Ok(out) => {
            let all = out.method_settings().and_then(|m| m.get("*/*"));
            Some(Stage {
                deployment_id: out.deployment_id().map(str::to_owned),
                rate_limit: all.map(|s| s.throttling_rate_limit()),
                burst_limit: all.map(|s| s.throttling_burst_limit()),
            })
        }
        Err(err) if err.as_service_error().is_some_and(|e| e.is_not_found_exception()) => None,
        Err(err) => return Err(AwsError::from_sdk("GetStage", err)),
    };
    Ok(Some(observed))
}

/// The URI of the `ANY` method's AWS_PROXY integration on `resource`.
fn any_integration_uri(resource: &Resource) -> Option<String> {
    let method = resource.resource_methods()?.get("ANY")?;
    let integration = method.method_integration()?;
    (integration.r#type() == Some(&IntegrationType::AwsProxy)).then(|| integration.uri().unwrap_or_default().to_owned())
}

/// What deploy would change on the API itself.
pub fn diff_api(observed: Option<&Observed>, desired: &Desired, names: &Names) -> Action {
    let Some(observed) = observed else {
        return Action::Create;
    };
    let uri = desired.integration_uri(names);
    let mut changes = Vec::new();
    if observed.root_uri.as_deref() != Some(&uri) {
        changes.push("ANY / integration".to_owned());
    }
    if observed.proxy_uri.as_deref() != Some(&uri) {
        changes.push("ANY /{proxy+} integration".to_owned());
    }
    if changes.is_empty() {
        Action::Unchanged
    } else {
        Action::Update(changes)
    }
}

/// What deploy would change on the stage.
pub fn diff_stage(observed: Option<&Observed>, desired: &Desired, api: &Action) -> Action {
    let Some(stage) = observed.and_then(|o| o.stage.as_ref()) else {
        return Action::Create;
    };
    let mut changes = Vec::new();
    if *api != Action::Unchanged || stage.deployment_id.is_none() {
        changes.push("new deployment".to_owned());
    }
    if stage.rate_limit != Some(desired.rate_limit) || stage.burst_limit != Some(desired.burst_limit) {
        changes.push("throttling".to_owned());
    }
    if changes.is_empty() {
        Action::Unchanged
    } else {
        Action::Update(changes)
    }
}

/// Creates or repairs the API, its methods and integrations, deploys the
/// stage when needed and sets its throttling. Returns the API id.
pub async fn apply(
    apigateway: &Client,
    names: &Names,
    desired: &Desired,
    observed: Option<&Observed>,
) -> Result<String, AwsError> {
    let mut current = match observed {
        Some(observed) => observed.clone(),
        None => create(apigateway, names).await?,
    };
    let api_action = diff_api(Some(&current), desired, names);
    let stage_action = diff_stage(observed, desired, &api_action);
    let uri = desired.integration_uri(names);
    let id = current.id.clone();

    if current.proxy_id.is_none() {
        let root = current.root_id.clone().unwrap_or_default();
        let created = apigateway
            .create_resource()
            .rest_api_id(&id)
            .parent_id(root)
            .path_part("{proxy+}")
            .send()
            .await
            .map_err(AwsError::on("CreateResource"))?;
        current.proxy_id = created.id().map(str::to_owned);
    }
    for (resource, existing) in [
        (&current.root_id, &current.root_uri),
        (&current.proxy_id, &current.proxy_uri),
    ] {
        let resource = resource.clone().unwrap_or_default();
        if existing.as_deref() == Some(&uri) {
            continue;
        }
        if existing.is_none() {
            // put_method replaces a method that exists without an integration.
            apigateway
                .put_method()
                .rest_api_id(&id)
                .resource_id(&resource)
                .http_method("ANY")
                .authorization_type("NONE")
                .send()
                .await
                .map_err(AwsError::on("PutMethod"))?;
        }
        apigateway
            .put_integration()
            .rest_api_id(&id)
            .resource_id(&resource)
            .http_method("ANY")
            .r#type(IntegrationType::AwsProxy)
            .integration_http_method("POST")
            .uri(&uri)
            .send()
            .await
            .map_err(AwsError::on("PutIntegration"))?;
    }

    let needs_deployment = match &stage_action {
        Action::Create => true,
        Action::Update(changes) => changes.iter().any(|c| c == "new deployment"),
        Action::Unchanged => false,
    };
    if needs_deployment {
        apigateway
            .create_deployment()
            .rest_api_id(&id)
            .stage_name(&desired.stage)
            .description("ddns-ctl deploy")
            .send()
            .await
            .map_err(AwsError::on("CreateDeployment"))?;
    }
    let stage = observed.and_then(|o| o.stage.as_ref());
    if stage.and_then(|s| s.rate_limit) != Some(desired.rate_limit)
        || stage.and_then(|s| s.burst_limit) != Some(desired.burst_limit)
    {
        let replace = |path: &str, value: String| {
            PatchOperation::builder()
                .op(Op::Replace)
                .path(path)
                .value(value)
                .build()
        };
        apigateway
            .update_stage()
            .rest_api_id(&id)
            .stage_name(&desired.stage)
            .patch_operations(replace("/*/*/throttling/rateLimit", desired.rate_limit.to_string()))
            .patch_operations(replace("/*/*/throttling/burstLimit", desired.burst_limit.to_string()))
            .send()
            .await
            .map_err(AwsError::on("UpdateStage"))?;
    }
    Ok(id)
}

async fn create(apigateway: &Client, names: &Names) -> Result<Observed, AwsError> {
    let tags: HashMap<String, String> = names.tags().into_iter().collect();
    let created = apigateway
        .create_rest_api()
        .name(&names.api)
        .description(format!("ddns-ctl stack {}", names.stack))
        .endpoint_configuration(EndpointConfiguration::builder().types(EndpointType::Regional).build())
        .set_tags(Some(tags))
        .send()
        .await
        .map_err(AwsError::on("CreateRestApi"))?;
    let id = created.id().unwrap_or_default().to_owned();
    let resources = apigateway
        .get_resources()
        .rest_api_id(&id)
        .send()
        .await
        .map_err(AwsError::on("GetResources"))?;
    let root_id = resources
        .items()
        .iter()
        .find(|r| r.path() == Some("/"))
        .and_then(|r| r.id().map(str::to_owned));
    Ok(Observed {
        id,
        root_id,
        ..Observed::default()
    })
}

/// The source ARN of the stack's invoke permission, if the function has one.
pub async fn observe_permission(lambda: &aws_sdk_lambda::Client, names: &Names) -> Result<Option<String>, AwsError> {
    let policy = match lambda.get_policy().function_name(&names.function).send().await {
        Ok(out) => out.policy().and_then(|p| serde_json::from_str::<Value>(p).ok()),
        Err(err)
            if err
                .as_service_error()
                .is_some_and(|e| e.is_resource_not_found_exception()) =>
        {
            return Ok(None);
        }
        Err(err) => return Err(AwsError::from_sdk("GetPolicy", err)),
    };
    let statement = policy
        .as_ref()
        .and_then(|p| p["Statement"].as_array())
        .and_then(|s| s.iter().find(|s| s["Sid"] == PERMISSION_ID));
    Ok(statement.map(|s| {
        s["Condition"]["ArnLike"]["AWS:SourceArn"]
            .as_str()
            .unwrap_or_default()
            .to_owned()
    }))
}

/// What deploy would change on the permission.
pub fn diff_permission(observed: Option<&str>, want: Option<&str>) -> Action {
    match (observed, want) {
        (None, _) => Action::Create,
        (Some(have), Some(want)) if have != want => Action::Update(vec!["source ARN".to_owned()]),
        _ => Action::Unchanged,
    }
}

/// Grants this API (and only it) the right to invoke the function, under a
/// fixed statement id so that it is never duplicated.
pub async fn apply_permission(
    lambda: &aws_sdk_lambda::Client,
    names: &Names,
    source_arn: &str,
    observed: Option<&str>,
) -> Result<(), AwsError> {
    if observed == Some(source_arn) {
        return Ok(());
    }
    if observed.is_some() {
        lambda
            .remove_permission()
            .function_name(&names.function)
            .statement_id(PERMISSION_ID)
            .send()
            .await
            .map_err(AwsError::on("RemovePermission"))?;
    }
    lambda
        .add_permission()
        .function_name(&names.function)
        .statement_id(PERMISSION_ID)
        .action("lambda:InvokeFunction")
        .principal("apigateway.amazonaws.com")
        .source_arn(source_arn)
        .send()
        .await
        .map_err(AwsError::on("AddPermission"))?;
    Ok(())
}

/// Deletes the API; `false` if it was already gone.
pub async fn delete(apigateway: &Client, id: &str) -> Result<bool, AwsError> {
    match apigateway.delete_rest_api().rest_api_id(id).send().await {
        Ok(_) => Ok(true),
        Err(err) if err.as_service_error().is_some_and(|e| e.is_not_found_exception()) => Ok(false),
        Err(err) => Err(AwsError::from_sdk("DeleteRestApi", err)),
    }
}

/// The stack's endpoint URL, if its API and a stage exist.
pub async fn endpoint(apigateway: &Client, names: &Names) -> Result<Option<String>, AwsError> {
    let Some(id) = find(apigateway, names).await?.into_iter().next() else {
        return Ok(None);
    };
    let stages = apigateway
        .get_stages()
        .rest_api_id(&id)
        .send()
        .await
        .map_err(AwsError::on("GetStages"))?;
    Ok(stages
        .item()
        .iter()
        .find_map(|s| s.stage_name())
        .map(|stage| names.endpoint(&id, stage)))
}
