//! The function's log group, `/aws/lambda/<function>`: made by deploy
//! before the function, so that it has a retention and the stack's tags, and
//! so that teardown can delete it. Left to itself, Lambda creates the group
//! on first use with no retention, and nothing ever deletes it.

use std::collections::HashMap;

use aws_sdk_cloudwatchlogs::Client;

use super::AwsError;
use crate::model::Names;
use crate::plan::{Action, Change};

/// What the log group should be.
#[derive(Debug, Clone, PartialEq)]
pub struct Desired {
    /// Days its events are kept.
    pub retention_days: i32,
}

/// The log group as it exists.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Observed {
    /// It carries the stack's tags. A group without them is the one Lambda
    /// made for the stack's function before deploy made groups itself: it
    /// is adopted (tagged), never deleted untagged.
    pub tagged: bool,
    /// Its retention; `None` keeps events forever.
    pub retention_days: Option<i32>,
}

/// Reads the group and its tags (two calls); `None` if there is none.
pub async fn observe(logs: &Client, names: &Names) -> Result<Option<Observed>, AwsError> {
    let out = logs
        .describe_log_groups()
        .log_group_name_prefix(&names.log_group)
        .send()
        .await
        .map_err(AwsError::on("DescribeLogGroups"))?;
    // A prefix match: /aws/lambda/ddns-ctl-a also finds ddns-ctl-ab.
    let Some(group) = out
        .log_groups()
        .iter()
        .find(|g| g.log_group_name() == Some(names.log_group.as_str()))
    else {
        return Ok(None);
    };
    let tags = logs
        .list_tags_for_resource()
        .resource_arn(names.log_group_arn())
        .send()
        .await
        .map_err(AwsError::on("ListTagsForResource"))?;
    let tagged = tags
        .tags()
        .is_some_and(|t| names.owns(t.iter().map(|(k, v)| (k.as_str(), v.as_str()))));
    Ok(Some(Observed {
        tagged,
        retention_days: group.retention_in_days(),
    }))
}

/// What the group needs.
pub fn plan(observed: Option<&Observed>, desired: &Desired) -> Action {
    let Some(observed) = observed else {
        return Action::Create;
    };
    let mut changes = Vec::new();
    if !observed.tagged {
        changes.push(Change::Tags);
    }
    if observed.retention_days != Some(desired.retention_days) {
        changes.push(retention(desired));
    }
    Action::update(changes)
}

fn retention(desired: &Desired) -> Change {
    Change::Retention {
        days: desired.retention_days,
    }
}

/// Carries out `action`.
pub async fn apply(logs: &Client, names: &Names, desired: &Desired, action: &Action) -> Result<(), AwsError> {
    let tags: HashMap<String, String> = names.tags().into_iter().collect();
    let retain = [retention(desired)];
    let adopt = [Change::Tags, retention(desired)];
    let changes = match action {
        Action::Create => {
            let created = logs
                .create_log_group()
                .log_group_name(&names.log_group)
                .set_tags(Some(tags.clone()))
                .send()
                .await;
            match created {
                Ok(_) => &retain[..],
                // Lambda makes the group on the function's first log line:
                // if that happened since we looked, adopt it as planned for
                // an untagged group.
                Err(err)
                    if err
                        .as_service_error()
                        .is_some_and(|e| e.is_resource_already_exists_exception()) =>
                {
                    &adopt[..]
                }
                Err(err) => return Err(AwsError::from_sdk("CreateLogGroup", err)),
            }
        }
        Action::Update(changes) => changes.as_slice(),
        Action::Delete | Action::Unchanged => return Ok(()),
    };
    for change in changes {
        match change {
            Change::Tags => {
                logs.tag_resource()
                    .resource_arn(names.log_group_arn())
                    .set_tags(Some(tags.clone()))
                    .send()
                    .await
                    .map_err(AwsError::on("TagResource"))?;
            }
            Change::Retention { days } => {
                logs.put_retention_policy()
                    .log_group_name(&names.log_group)
                    .retention_in_days(*days)
                    .send()
                    .await
                    .map_err(AwsError::on("PutRetentionPolicy"))?;
            }
            other => {
                return Err(AwsError::NotApplicable {
                    resource: "log group",
                    change: other.to_string(),
                });
            }
        }
    }
    Ok(())
}

/// Deletes the group and every event in it; `false` if it was already gone.
pub async fn delete(logs: &Client, names: &Names) -> Result<bool, AwsError> {
    let result = logs.delete_log_group().log_group_name(&names.log_group).send().await;
    super::deleted("DeleteLogGroup", result, |e| e.is_resource_not_found_exception())
}

#[cfg(test)]
mod tests {
    use aws_sdk_cloudwatchlogs::operation::create_log_group::CreateLogGroupError;
    use aws_sdk_cloudwatchlogs::types::error::ResourceAlreadyExistsException;
    use aws_smithy_mocks::{RuleMode, mock, mock_client};

    use super::*;

    /// What moto cannot show: Lambda creating the group between deploy's
    /// look and its CreateLogGroup.
    #[tokio::test]
    async fn a_group_lambda_made_in_the_meantime_is_adopted() {
        let create = mock!(Client::create_log_group).then_error(|| {
            CreateLogGroupError::ResourceAlreadyExistsException(ResourceAlreadyExistsException::builder().build())
        });
        let tag = mock!(Client::tag_resource)
            .then_output(|| aws_sdk_cloudwatchlogs::operation::tag_resource::TagResourceOutput::builder().build());
        let retention = mock!(Client::put_retention_policy).then_output(|| {
            aws_sdk_cloudwatchlogs::operation::put_retention_policy::PutRetentionPolicyOutput::builder().build()
        });
        let logs = mock_client!(aws_sdk_cloudwatchlogs, RuleMode::MatchAny, [&create, &tag, &retention]);
        apply(
            &logs,
            &Names::example("ddns"),
            &Desired { retention_days: 30 },
            &Action::Create,
        )
        .await
        .unwrap();
        assert_eq!((tag.num_calls(), retention.num_calls()), (1, 1));
    }

    #[test]
    fn an_untagged_group_is_adopted_and_retention_repaired() {
        let desired = Desired { retention_days: 30 };
        let ours = Observed {
            tagged: true,
            retention_days: Some(30),
        };
        assert_eq!(plan(Some(&ours), &desired), Action::Unchanged);
        assert_eq!(plan(None, &desired), Action::Create);
        let lambdas = Observed {
            tagged: false,
            retention_days: None,
        };
        assert_eq!(
            plan(Some(&lambdas), &desired),
            Action::Update(vec![Change::Tags, Change::Retention { days: 30 }])
        );
    }
}
