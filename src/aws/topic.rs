//! The alert topic: one SNS topic per stack, `ddns-ctl-<stack>-alerts`,
//! made by `alerts enable` with the stack's tags, and its email
//! subscriptions. Alerts are enabled exactly while the tagged topic exists:
//! deploy then keeps the alarms in step, and never makes the topic itself.
//!
//! An email subscription stays pending until the person follows the link in
//! the confirmation mail SNS sends: SNS then lists it as
//! `PendingConfirmation`, with no ARN, and delivers nothing to it.

use aws_sdk_sns::Client;
use aws_sdk_sns::types::Tag;
use serde::Serialize;

use super::AwsError;
use crate::model::Names;
use crate::plan::{Action, Change};

/// What SNS lists instead of an ARN for an unconfirmed subscription.
pub const PENDING: &str = "PendingConfirmation";

/// One subscription of the topic.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Subscription {
    /// `email`, or whatever else someone subscribed by hand.
    pub protocol: String,
    /// The address.
    pub endpoint: String,
    /// Whether the person has confirmed it (followed the link).
    pub confirmed: bool,
    /// Its ARN, once confirmed.
    #[serde(skip)]
    pub arn: Option<String>,
}

/// The topic as it exists.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Observed {
    /// Its ARN.
    pub arn: String,
    /// It carries the stack's tags; a topic of that name without them is
    /// someone else's: alerts count as off and nothing touches it.
    pub tagged: bool,
    /// Its subscriptions.
    pub subscriptions: Vec<Subscription>,
}

/// What the topic should be.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Desired {
    /// Email addresses that must be subscribed (pending or confirmed).
    pub emails: Vec<String>,
}

/// Reads the topic, its tags and subscriptions (three calls, more for many
/// subscriptions); `None` if there is no topic.
pub async fn observe(sns: &Client, names: &Names) -> Result<Option<Observed>, AwsError> {
    let arn = names.topic_arn();
    match sns.get_topic_attributes().topic_arn(&arn).send().await {
        Ok(_) => {}
        Err(err) if err.as_service_error().is_some_and(|e| e.is_not_found_exception()) => return Ok(None),
        Err(err) => return Err(AwsError::from_sdk("GetTopicAttributes", err)),
    }
    let tags = sns
        .list_tags_for_resource()
        .resource_arn(&arn)
        .send()
        .await
        .map_err(AwsError::on("ListTagsForResource"))?;
    let tagged = names.owns(tags.tags().iter().map(|t| (t.key(), t.value())));
    let mut subscriptions = Vec::new();
    let mut token: Option<String> = None;
    loop {
        let page = sns
            .list_subscriptions_by_topic()
            .topic_arn(&arn)
            .set_next_token(token.take())
            .send()
            .await
            .map_err(AwsError::on("ListSubscriptionsByTopic"))?;
        for s in page.subscriptions() {
            let sub_arn = s.subscription_arn().unwrap_or(PENDING);
            // A pending subscription has no ARN: SNS lists this word instead.
            let confirmed = sub_arn.starts_with("arn:");
            subscriptions.push(Subscription {
                protocol: s.protocol().unwrap_or_default().to_owned(),
                endpoint: s.endpoint().unwrap_or_default().to_owned(),
                confirmed,
                arn: confirmed.then(|| sub_arn.to_owned()),
            });
        }
        match page.next_token() {
            Some(next) if !next.is_empty() => token = Some(next.to_owned()),
            _ => break,
        }
    }
    Ok(Some(Observed {
        arn,
        tagged,
        subscriptions,
    }))
}

/// Whether `email` is subscribed, pending or confirmed. Addresses compare
/// without regard to case: mail domains are case-insensitive, and a second
/// `alerts enable` with other capitals must not send a second invitation.
pub fn subscribed(observed: &Observed, email: &str) -> bool {
    observed
        .subscriptions
        .iter()
        .any(|s| s.protocol == "email" && s.endpoint.eq_ignore_ascii_case(email))
}

/// What the topic needs.
pub fn plan(observed: Option<&Observed>, desired: &Desired) -> Action {
    let Some(observed) = observed else {
        return Action::Create;
    };
    let mut changes = Vec::new();
    if !observed.tagged {
        changes.push(Change::Tags);
    }
    for email in &desired.emails {
        if !subscribed(observed, email) {
            changes.push(Change::Subscribe {
                endpoint: email.clone(),
            });
        }
    }
    Action::update(changes)
}

/// Carries out `action`. CreateTopic is idempotent for the same name,
/// attributes and tags, so a create that raced another one still succeeds.
pub async fn apply(sns: &Client, names: &Names, desired: &Desired, action: &Action) -> Result<(), AwsError> {
    let arn = names.topic_arn();
    let subscribe_all: Vec<Change> = desired
        .emails
        .iter()
        .map(|e| Change::Subscribe { endpoint: e.clone() })
        .collect();
    let changes = match action {
        Action::Create => {
            sns.create_topic()
                .name(&names.topic)
                .set_tags(Some(tags(names)?))
                .send()
                .await
                .map_err(AwsError::on("CreateTopic"))?;
            &subscribe_all[..]
        }
        Action::Update(changes) => changes.as_slice(),
        Action::Delete | Action::Unchanged => return Ok(()),
    };
    for change in changes {
        match change {
            Change::Tags => {
                sns.tag_resource()
                    .resource_arn(&arn)
                    .set_tags(Some(tags(names)?))
                    .send()
                    .await
                    .map_err(AwsError::on("TagResource"))?;
            }
            Change::Subscribe { endpoint } => {
                sns.subscribe()
                    .topic_arn(&arn)
                    .protocol("email")
                    .endpoint(endpoint)
                    .send()
                    .await
                    .map_err(AwsError::on("Subscribe"))?;
            }
            other => {
                return Err(AwsError::NotApplicable {
                    resource: "alert topic",
                    change: other.to_string(),
                });
            }
        }
    }
    Ok(())
}

fn tags(names: &Names) -> Result<Vec<Tag>, AwsError> {
    names
        .tags()
        .into_iter()
        .map(|(k, v)| Tag::builder().key(k).value(v).build())
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| AwsError::Call {
            operation: "CreateTopic",
            message: e.to_string(),
        })
}

/// Deletes the topic, which deletes its subscriptions, pending ones
/// included (they have no ARN to unsubscribe). DeleteTopic of a topic that
/// is gone is not an error on AWS.
pub async fn delete(sns: &Client, names: &Names) -> Result<bool, AwsError> {
    let result = sns.delete_topic().topic_arn(names.topic_arn()).send().await;
    super::deleted("DeleteTopic", result, |e| e.is_not_found_exception())
}

/// Publishes `message` to the topic: what `alerts test` sends.
pub async fn publish(sns: &Client, names: &Names, subject: &str, message: &str) -> Result<String, AwsError> {
    let out = sns
        .publish()
        .topic_arn(names.topic_arn())
        .subject(subject)
        .message(message)
        .send()
        .await
        .map_err(AwsError::on("Publish"))?;
    Ok(out.message_id().unwrap_or_default().to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn observed(subscriptions: &[(&str, bool)]) -> Observed {
        Observed {
            arn: "arn".into(),
            tagged: true,
            subscriptions: subscriptions
                .iter()
                .map(|(e, confirmed)| Subscription {
                    protocol: "email".into(),
                    endpoint: (*e).into(),
                    confirmed: *confirmed,
                    arn: None,
                })
                .collect(),
        }
    }

    #[test]
    fn an_address_is_subscribed_once_pending_or_not() {
        let want = |e: &str| Desired { emails: vec![e.into()] };
        assert_eq!(plan(None, &want("a@example.com")), Action::Create);
        let pending = observed(&[("a@example.com", false)]);
        assert_eq!(plan(Some(&pending), &want("A@Example.com")), Action::Unchanged);
        assert_eq!(
            plan(Some(&pending), &want("b@example.com")),
            Action::Update(vec![Change::Subscribe {
                endpoint: "b@example.com".into()
            }])
        );
        let untagged = Observed {
            tagged: false,
            ..observed(&[])
        };
        assert_eq!(
            plan(Some(&untagged), &Desired::default()),
            Action::Update(vec![Change::Tags])
        );
    }
}
