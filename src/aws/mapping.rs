//! The custom domain's base path mapping: the empty path (API Gateway
//! writes it `(none)`) to the stack's API and stage, so that
//! `https://NAME/?mode=get` and `https://NAME/nic/update` reach the
//! function, which then sees paths without the stage.

use aws_sdk_apigateway::Client;

use super::AwsError;
use super::api::replace;
use super::retry::Retry;
use crate::plan::{Action, Change};

/// How API Gateway names the empty base path in its URLs.
pub const EMPTY: &str = "(none)";

/// The mapping of the empty path, as it exists.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Observed {
    /// The API it maps to.
    pub api_id: String,
    /// The stage.
    pub stage: String,
}

/// The domain's mapping of the empty path; `None` if it has none (or the
/// domain does not exist).
pub async fn observe(apigateway: &Client, domain: &str) -> Result<Option<Observed>, AwsError> {
    let out = match apigateway.get_base_path_mappings().domain_name(domain).send().await {
        Ok(out) => out,
        Err(err) if err.as_service_error().is_some_and(|e| e.is_not_found_exception()) => return Ok(None),
        Err(err) => return Err(AwsError::from_sdk("GetBasePathMappings", err)),
    };
    Ok(out
        .items()
        .iter()
        .find(|m| matches!(m.base_path(), None | Some("") | Some(EMPTY)))
        .map(|m| Observed {
            api_id: m.rest_api_id().unwrap_or_default().to_owned(),
            stage: m.stage().unwrap_or_default().to_owned(),
        }))
}

/// What the mapping needs to reach stage `stage` of API `api_id` (`None`:
/// an API about to be created). A domain about to be created has none.
pub fn plan(observed: Option<&Observed>, domain: &Action, api_id: Option<&str>, stage: &str) -> Action {
    match observed.filter(|_| *domain != Action::Create) {
        None => Action::Create,
        Some(m) if Some(m.api_id.as_str()) == api_id && m.stage == stage => Action::Unchanged,
        Some(_) => Action::Update(vec![Change::MappingTarget]),
    }
}

/// Creates the mapping, or points it at `api_id` and `stage`.
pub async fn apply(
    apigateway: &Client,
    domain: &str,
    api_id: &str,
    stage: &str,
    action: &Action,
    retry: &Retry<'_>,
) -> Result<(), AwsError> {
    match action {
        Action::Create => {
            let create = apigateway
                .create_base_path_mapping()
                .domain_name(domain)
                .rest_api_id(api_id)
                .stage(stage);
            retry
                .call("CreateBasePathMapping", || create.clone().send())
                .await
                .map_err(AwsError::on("CreateBasePathMapping"))?;
        }
        Action::Update(_) => {
            let update = apigateway
                .update_base_path_mapping()
                .domain_name(domain)
                .base_path(EMPTY)
                .patch_operations(replace("/restapiId", api_id))
                .patch_operations(replace("/stage", stage));
            retry
                .call("UpdateBasePathMapping", || update.clone().send())
                .await
                .map_err(AwsError::on("UpdateBasePathMapping"))?;
        }
        Action::Unchanged | Action::Delete => {}
    }
    Ok(())
}

/// Deletes the mapping of the empty path; `false` if it was gone.
pub async fn delete(apigateway: &Client, domain: &str, retry: &Retry<'_>) -> Result<bool, AwsError> {
    let result = retry
        .call("DeleteBasePathMapping", || {
            apigateway
                .delete_base_path_mapping()
                .domain_name(domain)
                .base_path(EMPTY)
                .send()
        })
        .await;
    super::deleted("DeleteBasePathMapping", result, |e| e.is_not_found_exception())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_mapping_follows_the_api_and_stage() {
        let mapped = Observed {
            api_id: "a1".into(),
            stage: "prod".into(),
        };
        let exists = Action::Unchanged;
        assert_eq!(plan(None, &exists, Some("a1"), "prod"), Action::Create);
        assert_eq!(plan(Some(&mapped), &exists, Some("a1"), "prod"), Action::Unchanged);
        assert_eq!(
            plan(Some(&mapped), &exists, Some("a2"), "prod"),
            Action::Update(vec![Change::MappingTarget])
        );
        assert_eq!(
            plan(Some(&mapped), &exists, None, "prod"),
            Action::Update(vec![Change::MappingTarget]),
            "a new API gets the mapping"
        );
        assert_eq!(
            plan(Some(&mapped), &Action::Create, Some("a1"), "prod"),
            Action::Create,
            "a new domain has no mapping yet"
        );
    }
}
