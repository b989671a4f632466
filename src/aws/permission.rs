//! The Lambda permission that lets the stack's API, and only its stage,
//! invoke the function, under a fixed statement id so that it is never
//! duplicated.

use aws_sdk_lambda::Client;
use serde_json::Value;

use super::AwsError;
use crate::model::{Names, PERMISSION_ID};
use crate::plan::{Action, Change};

/// The source ARN the permission is scoped to: stage `stage` of API `api_id`.
pub fn source_arn(names: &Names, api_id: &str, stage: &str) -> String {
    names.execute_api_arn(api_id, stage)
}

/// The source ARN of the stack's permission, if the function has one.
pub async fn observe(lambda: &Client, names: &Names) -> Result<Option<String>, AwsError> {
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

/// What the permission needs. `wanted` is the source ARN it should name,
/// `None` while the API it names is still to be created.
pub fn plan(observed: Option<&str>, wanted: Option<&str>) -> Action {
    match (observed, wanted) {
        (None, _) => Action::Create,
        (Some(have), Some(want)) if have == want => Action::Unchanged,
        (Some(_), _) => Action::Update(vec![Change::SourceArn]),
    }
}

/// Carries out `action`, scoping the permission to `source_arn`.
pub async fn apply(lambda: &Client, names: &Names, action: &Action, source_arn: &str) -> Result<(), AwsError> {
    match action {
        Action::Create => {}
        Action::Update(_) => {
            lambda
                .remove_permission()
                .function_name(&names.function)
                .statement_id(PERMISSION_ID)
                .send()
                .await
                .map_err(AwsError::on("RemovePermission"))?;
        }
        Action::Delete | Action::Unchanged => return Ok(()),
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
