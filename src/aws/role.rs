//! The Lambda function's IAM role: trusted by Lambda only, with one inline
//! policy rendered from `templates/iam/lambda-policy.json`.

use std::collections::BTreeSet;

use aws_sdk_iam::Client;
use aws_sdk_iam::types::Tag;
use percent_encoding::percent_decode_str;
use serde_json::{Value, json};

use super::AwsError;
use crate::model::Names;
use crate::plan::{Action, Change};
use crate::template;

/// The name of the role's inline policy.
pub const POLICY_NAME: &str = "ddns-ctl";

/// What the role should be.
#[derive(Debug, Clone, PartialEq)]
pub struct Desired {
    /// Who may assume it.
    pub trust: Value,
    /// What it may do.
    pub policy: Value,
}

impl Desired {
    /// The role for `names`, allowed to change records in `zone_ids` only.
    pub fn new(names: &Names, config_key: &str, zone_ids: &BTreeSet<String>) -> Self {
        let log_group_arn = names.log_group_arn();
        let zone_arns: Vec<String> = zone_ids
            .iter()
            .map(|z| format!("arn:aws:route53:::hostedzone/{z}"))
            .collect();
        let policy = template::render(
            template::LAMBDA_POLICY,
            &[
                ("log_group_arn", json!(log_group_arn)),
                (
                    "config_object_arn",
                    json!(format!("arn:aws:s3:::{}/{config_key}", names.bucket)),
                ),
                ("zone_arns", json!(zone_arns)),
            ],
        );
        Self {
            trust: template::render(template::LAMBDA_TRUST_POLICY, &[]),
            policy,
        }
    }
}

/// The role as it exists.
#[derive(Debug, Clone, PartialEq)]
pub struct Observed {
    /// Its ARN.
    pub arn: String,
    /// Its trust policy.
    pub trust: Value,
    /// Its inline policy, if it has one.
    pub policy: Option<Value>,
}

/// Reads the role and its policy (two calls); `None` if there is no role.
pub async fn observe(iam: &Client, names: &Names) -> Result<Option<Observed>, AwsError> {
    let role = match iam.get_role().role_name(&names.role).send().await {
        Ok(out) => out.role,
        Err(err) if err.as_service_error().is_some_and(|e| e.is_no_such_entity_exception()) => return Ok(None),
        Err(err) => return Err(AwsError::from_sdk("GetRole", err)),
    };
    let Some(role) = role else { return Ok(None) };
    if !names.owns(role.tags().iter().map(|t| (t.key(), t.value()))) {
        return Err(AwsError::NotOurs {
            kind: "IAM role",
            name: names.role.clone(),
        });
    }
    let policy = match iam
        .get_role_policy()
        .role_name(&names.role)
        .policy_name(POLICY_NAME)
        .send()
        .await
    {
        Ok(out) => Some(decode_policy(out.policy_document())),
        Err(err) if err.as_service_error().is_some_and(|e| e.is_no_such_entity_exception()) => None,
        Err(err) => return Err(AwsError::from_sdk("GetRolePolicy", err)),
    };
    Ok(Some(Observed {
        arn: role.arn().to_owned(),
        trust: decode_policy(role.assume_role_policy_document().unwrap_or("{}")),
        policy,
    }))
}

/// IAM returns policy documents URL-encoded.
fn decode_policy(document: &str) -> Value {
    let text = percent_decode_str(document).decode_utf8_lossy();
    serde_json::from_str(&text).unwrap_or(Value::Null)
}

/// What applying `desired` would change.
pub fn plan(observed: Option<&Observed>, desired: &Desired) -> Action {
    let Some(observed) = observed else {
        return Action::Create;
    };
    let mut changes = Vec::new();
    if observed.trust != desired.trust {
        changes.push(Change::TrustPolicy);
    }
    if observed.policy.as_ref() != Some(&desired.policy) {
        changes.push(Change::Policy);
    }
    Action::update(changes)
}

/// Carries out `action`; returns the role's ARN when it creates the role.
pub async fn apply(
    iam: &Client,
    names: &Names,
    desired: &Desired,
    action: &Action,
) -> Result<Option<String>, AwsError> {
    let mut arn = None;
    let put_policy = match action {
        Action::Create => {
            arn = Some(create(iam, names, desired).await?);
            true
        }
        Action::Update(changes) => {
            if changes.contains(&Change::TrustPolicy) {
                iam.update_assume_role_policy()
                    .role_name(&names.role)
                    .policy_document(desired.trust.to_string())
                    .send()
                    .await
                    .map_err(AwsError::on("UpdateAssumeRolePolicy"))?;
            }
            changes.contains(&Change::Policy)
        }
        Action::Delete | Action::Unchanged => false,
    };
    if put_policy {
        iam.put_role_policy()
            .role_name(&names.role)
            .policy_name(POLICY_NAME)
            .policy_document(desired.policy.to_string())
            .send()
            .await
            .map_err(AwsError::on("PutRolePolicy"))?;
    }
    Ok(arn)
}

async fn create(iam: &Client, names: &Names, desired: &Desired) -> Result<String, AwsError> {
    let tags = names
        .tags()
        .into_iter()
        .map(|(k, v)| Tag::builder().key(k).value(v).build())
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| AwsError::Call {
            operation: "CreateRole",
            message: e.to_string(),
        })?;
    let created = iam
        .create_role()
        .role_name(&names.role)
        .description(format!("ddns-ctl stack {}: the Lambda function's role", names.stack))
        .assume_role_policy_document(desired.trust.to_string())
        .set_tags(Some(tags))
        .send()
        .await
        .map_err(AwsError::on("CreateRole"))?;
    Ok(created.role().map(|r| r.arn().to_owned()).unwrap_or_default())
}

/// Deletes the role and its inline policy; `false` if it was already gone.
pub async fn delete(iam: &Client, names: &Names) -> Result<bool, AwsError> {
    match iam
        .delete_role_policy()
        .role_name(&names.role)
        .policy_name(POLICY_NAME)
        .send()
        .await
    {
        Ok(_) => {}
        Err(err) if err.as_service_error().is_some_and(|e| e.is_no_such_entity_exception()) => {}
        Err(err) => return Err(AwsError::from_sdk("DeleteRolePolicy", err)),
    }
    let result = iam.delete_role().role_name(&names.role).send().await;
    super::deleted("DeleteRole", result, |e| e.is_no_such_entity_exception())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn policy_is_scoped_to_the_stack() {
        let names = Names::example("home");
        let zones: BTreeSet<String> = ["Z1".to_owned(), "Z2".to_owned()].into();
        let desired = Desired::new(&names, "config.json", &zones);
        let text = desired.policy.to_string();
        assert!(text.contains("arn:aws:s3:::ddns-ctl-home-123456789012-us-east-1/config.json"));
        assert!(text.contains("arn:aws:route53:::hostedzone/Z1") && text.contains("hostedzone/Z2"));
        assert!(text.contains("log-group:/aws/lambda/ddns-ctl-home:*"));
        for statement in desired.policy["Statement"].as_array().unwrap() {
            assert_ne!(statement["Resource"], "*", "{statement}");
        }
        assert_eq!(
            desired.trust["Statement"][0]["Principal"]["Service"],
            "lambda.amazonaws.com"
        );

        let none = Desired::new(&names, "config.json", &BTreeSet::new());
        assert!(!none.policy.to_string().contains("route53"));
    }

    #[test]
    fn decodes_iam_documents() {
        let doc = decode_policy("%7B%22Version%22%3A%222012-10-17%22%7D");
        assert_eq!(doc, json!({"Version": "2012-10-17"}));
    }
}
