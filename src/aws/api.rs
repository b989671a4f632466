//! API Gateway's REST API: REGIONAL and dual-stack, with `ANY` on `/` and
//! `/{proxy+}`, both proxied to the function. A REGIONAL API answers over
//! IPv4 only unless its IP address type is `dualstack`, and then clients
//! reach it, and the function sees them, over IPv6 too. Its stage is `stage`, and the permission that
//! lets it invoke the function is `permission`.

use std::collections::HashMap;

use aws_sdk_apigateway::Client;
use aws_sdk_apigateway::types::{
    EndpointConfiguration, EndpointType, IntegrationType, IpAddressType, Op, PatchOperation, Resource, RestApi,
};

use super::AwsError;
use super::retry::Retry;
use crate::model::Names;
use crate::plan::{Action, Change};

/// The two paths the API routes, both to the function.
pub const ROOT: &str = "/";
/// Everything below the root.
pub const PROXY: &str = "/{proxy+}";

/// What the API should be.
#[derive(Debug, Clone, PartialEq)]
pub struct Desired {
    /// The integration URI that invokes the function.
    pub integration_uri: String,
    /// Whether the execute-api URL answers 403, leaving only the custom
    /// domain.
    pub disable_execute_api_endpoint: bool,
}

impl Desired {
    /// The API for `names`' function, its execute-api URL enabled.
    pub fn new(names: &Names) -> Self {
        Self {
            integration_uri: names.integration_uri(),
            disable_execute_api_endpoint: false,
        }
    }
}

/// One resource (path) of the API as it exists.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Route {
    /// The resource's id; `None` if the path does not exist.
    pub id: Option<String>,
    /// Whether it has an `ANY` method.
    pub method: bool,
    /// The URI of that method's AWS_PROXY integration, if it has one.
    pub uri: Option<String>,
}

/// The API as it exists.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Observed {
    /// The API's id.
    pub id: String,
    /// Whether it answers over IPv6 as well as IPv4.
    pub dualstack: bool,
    /// Whether its execute-api URL is disabled.
    pub execute_api_disabled: bool,
    /// Other APIs tagged for this stack, left by an interrupted deploy;
    /// teardown removes them too.
    pub strays: Vec<String>,
    /// `/`.
    pub root: Route,
    /// `/{proxy+}`.
    pub proxy: Route,
}

/// The ids later steps need: the stage and the permission name the API.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Ids {
    /// The API's id.
    pub id: String,
    /// The id of `/`.
    pub root_id: Option<String>,
    /// The id of `/{proxy+}`.
    pub proxy_id: Option<String>,
}

impl Observed {
    /// Its ids.
    pub fn ids(&self) -> Ids {
        Ids {
            id: self.id.clone(),
            root_id: self.root.id.clone(),
            proxy_id: self.proxy.id.clone(),
        }
    }
}

/// Every REST API tagged for this stack, oldest first.
pub async fn find(apigateway: &Client, names: &Names) -> Result<Vec<String>, AwsError> {
    Ok(tagged(apigateway, names).await?.iter().map(id).collect())
}

fn id(api: &RestApi) -> String {
    api.id().unwrap_or_default().to_owned()
}

/// Whether `api` is reachable over IPv6.
fn dualstack(api: &RestApi) -> bool {
    api.endpoint_configuration()
        .and_then(EndpointConfiguration::ip_address_type)
        == Some(&IpAddressType::Dualstack)
}

/// The APIs tagged for this stack, oldest first, as GetRestApis lists them.
async fn tagged(apigateway: &Client, names: &Names) -> Result<Vec<RestApi>, AwsError> {
    let mut found = Vec::new();
    let mut pages = apigateway.get_rest_apis().limit(500).into_paginator().send();
    while let Some(page) = pages.next().await {
        let page = page.map_err(AwsError::on("GetRestApis"))?;
        for api in page.items() {
            let tags = api.tags().cloned().unwrap_or_default();
            if names.owns(tags.iter().map(|(k, v)| (k.as_str(), v.as_str()))) {
                found.push(api.clone());
            }
        }
    }
    // Creation second first, then id, so that "the oldest" is one API even
    // when two were made in the same second.
    found.sort_by_key(|api| (api.created_date().map(|d| d.secs()).unwrap_or_default(), id(api)));
    Ok(found)
}

/// Reads the oldest API tagged for the stack, with its resources and their
/// methods; `None` if there is none.
pub async fn observe(apigateway: &Client, names: &Names) -> Result<Option<Observed>, AwsError> {
    let mut apis = tagged(apigateway, names).await?;
    if apis.is_empty() {
        return Ok(None);
    }
    let api = apis.remove(0);
    let id = self::id(&api);
    let mut observed = Observed {
        id: id.clone(),
        dualstack: dualstack(&api),
        execute_api_disabled: api.disable_execute_api_endpoint(),
        strays: apis.iter().map(self::id).collect(),
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
                Some(ROOT) => observed.root = route(resource),
                Some(PROXY) => observed.proxy = route(resource),
                _ => {}
            }
        }
    }
    Ok(Some(observed))
}

/// A resource's `ANY` method and its AWS_PROXY integration.
fn route(resource: &Resource) -> Route {
    let method = resource.resource_methods().and_then(|m| m.get("ANY"));
    let uri = method
        .and_then(|m| m.method_integration())
        .filter(|i| i.r#type() == Some(&IntegrationType::AwsProxy))
        .map(|i| i.uri().unwrap_or_default().to_owned());
    Route {
        id: resource.id().map(str::to_owned),
        method: method.is_some(),
        uri,
    }
}

/// What the API needs: the resource, method and integration of each path
/// that is missing or points elsewhere.
pub fn plan(observed: Option<&Observed>, desired: &Desired) -> Action {
    let Some(observed) = observed else {
        return Action::Create;
    };
    let mut changes = Vec::new();
    if !observed.dualstack {
        changes.push(Change::DualStack);
    }
    if observed.execute_api_disabled != desired.disable_execute_api_endpoint {
        changes.push(Change::ExecuteApiEndpoint {
            disabled: desired.disable_execute_api_endpoint,
        });
    }
    if observed.proxy.id.is_none() {
        changes.push(Change::ProxyResource);
    }
    for (path, route) in [(ROOT, &observed.root), (PROXY, &observed.proxy)] {
        // AWS refuses PutMethod on a method that exists (ConflictException):
        // a method is created only where there is none.
        if !route.method {
            changes.push(Change::Method { path });
        }
        if route.uri.as_deref() != Some(&desired.integration_uri) {
            changes.push(Change::Integration { path });
        }
    }
    Action::update(changes)
}

/// Carries out `action` on the API whose ids are `current` (none when it is
/// created). Returns the ids, for the stage and the permission.
pub async fn apply(
    apigateway: &Client,
    names: &Names,
    desired: &Desired,
    action: &Action,
    current: Option<Ids>,
    retry: &Retry<'_>,
) -> Result<Ids, AwsError> {
    let everything = [
        Change::ProxyResource,
        Change::Method { path: ROOT },
        Change::Integration { path: ROOT },
        Change::Method { path: PROXY },
        Change::Integration { path: PROXY },
    ];
    let (mut ids, changes) = match (action, current) {
        (Action::Create, _) => (create(apigateway, names, desired, retry).await?, &everything[..]),
        (Action::Update(changes), Some(ids)) => (ids, changes.as_slice()),
        (_, Some(ids)) => return Ok(ids),
        (_, None) => {
            return Err(AwsError::Call {
                operation: "deploy",
                message: "the REST API is missing".into(),
            });
        }
    };
    for change in changes {
        match change {
            Change::DualStack => {
                // Takes effect at once, without a new deployment.
                let update = apigateway
                    .update_rest_api()
                    .rest_api_id(&ids.id)
                    .patch_operations(replace(
                        "/endpointConfiguration/ipAddressType",
                        IpAddressType::Dualstack.as_str(),
                    ));
                retry
                    .call("UpdateRestApi", || update.clone().send())
                    .await
                    .map_err(AwsError::on("UpdateRestApi"))?;
            }
            Change::ExecuteApiEndpoint { disabled } => {
                // Takes effect with the stage's next deployment.
                let update = apigateway
                    .update_rest_api()
                    .rest_api_id(&ids.id)
                    .patch_operations(replace("/disableExecuteApiEndpoint", disabled.to_string()));
                retry
                    .call("UpdateRestApi", || update.clone().send())
                    .await
                    .map_err(AwsError::on("UpdateRestApi"))?;
            }
            Change::ProxyResource => {
                let create = apigateway
                    .create_resource()
                    .rest_api_id(&ids.id)
                    .parent_id(ids.root_id.clone().unwrap_or_default())
                    .path_part("{proxy+}");
                let created = retry
                    .call("CreateResource", || create.clone().send())
                    .await
                    .map_err(AwsError::on("CreateResource"))?;
                ids.proxy_id = created.id().map(str::to_owned);
            }
            Change::Method { path } => {
                let put = apigateway
                    .put_method()
                    .rest_api_id(&ids.id)
                    .resource_id(resource_id(&ids, path))
                    .http_method("ANY")
                    .authorization_type("NONE");
                retry
                    .call("PutMethod", || put.clone().send())
                    .await
                    .map_err(AwsError::on("PutMethod"))?;
            }
            Change::Integration { path } => {
                let put = apigateway
                    .put_integration()
                    .rest_api_id(&ids.id)
                    .resource_id(resource_id(&ids, path))
                    .http_method("ANY")
                    .r#type(IntegrationType::AwsProxy)
                    .integration_http_method("POST")
                    .uri(&desired.integration_uri);
                retry
                    .call("PutIntegration", || put.clone().send())
                    .await
                    .map_err(AwsError::on("PutIntegration"))?;
            }
            other => {
                return Err(AwsError::NotApplicable {
                    resource: "REST API",
                    change: other.to_string(),
                });
            }
        }
    }
    Ok(ids)
}

/// An API Gateway patch operation that replaces `path` with `value`, the
/// form every Update call here takes.
pub fn replace(path: &str, value: impl Into<String>) -> PatchOperation {
    PatchOperation::builder()
        .op(Op::Replace)
        .path(path)
        .value(value)
        .build()
}

fn resource_id(ids: &Ids, path: &str) -> String {
    let id = if path == ROOT { &ids.root_id } else { &ids.proxy_id };
    id.clone().unwrap_or_default()
}

async fn create(apigateway: &Client, names: &Names, desired: &Desired, retry: &Retry<'_>) -> Result<Ids, AwsError> {
    let tags: HashMap<String, String> = names.tags().into_iter().collect();
    let create = apigateway
        .create_rest_api()
        .name(&names.api)
        .description(format!("ddns-ctl stack {}", names.stack))
        .endpoint_configuration(
            EndpointConfiguration::builder()
                .types(EndpointType::Regional)
                .ip_address_type(IpAddressType::Dualstack)
                .build(),
        )
        .disable_execute_api_endpoint(desired.disable_execute_api_endpoint)
        .set_tags(Some(tags));
    let created = retry
        .call("CreateRestApi", || create.clone().send())
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
        .find(|r| r.path() == Some(ROOT))
        .and_then(|r| r.id().map(str::to_owned));
    Ok(Ids {
        id,
        root_id,
        proxy_id: None,
    })
}

/// Deletes the API; `false` if it was already gone.
pub async fn delete(apigateway: &Client, id: &str, retry: &Retry<'_>) -> Result<bool, AwsError> {
    let result = retry
        .call("DeleteRestApi", || apigateway.delete_rest_api().rest_api_id(id).send())
        .await;
    super::deleted("DeleteRestApi", result, |e| e.is_not_found_exception())
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
