//! The custom domain's alias records: an A and an AAAA record at the
//! domain's name, both Route53 aliases of the domain's regional target.
//! Queries to aliases of API Gateway targets are free.
//!
//! Records carry no tags, so a record is the stack's only if it is an alias
//! of exactly the stack's domain target. Any other A, AAAA or CNAME record
//! at the name is someone else's: deploy refuses to take the name, and
//! nothing here changes or deletes such a record. Creates are CREATE (never
//! UPSERT) and deletes repeat the record exactly, so Route53 itself refuses
//! either if the record changed since it was read.

use aws_sdk_route53::Client;
use aws_sdk_route53::types::{AliasTarget, ChangeAction, ResourceRecordSet, RrType};

use super::AwsError;
use super::domain::{Target, bare};
use super::zone;
use crate::plan::{Action, Change};

/// The two types a domain's aliases have.
pub const TYPES: [RrType; 2] = [RrType::A, RrType::Aaaa];

/// The records at the domain's name that could answer for it: its A, AAAA
/// and CNAME record sets, as Route53 holds them.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Observed {
    /// The sets.
    pub sets: Vec<ResourceRecordSet>,
}

fn points_at(set: &ResourceRecordSet, target: &Target) -> bool {
    set.alias_target()
        .is_some_and(|a| bare(a.dns_name()) == target.dns_name && a.hosted_zone_id() == target.zone_id)
}

impl Observed {
    /// The stack's aliases: A or AAAA aliases of exactly `target`.
    pub fn ours(&self, target: Option<&Target>) -> Vec<&ResourceRecordSet> {
        let Some(target) = target else { return vec![] };
        self.sets
            .iter()
            .filter(|s| TYPES.contains(s.r#type()) && points_at(s, target))
            .collect()
    }

    /// Every record that is not the stack's, described for a refusal.
    pub fn foreign(&self, target: Option<&Target>) -> Vec<String> {
        let ours = self.ours(target);
        self.sets.iter().filter(|s| !ours.contains(s)).map(describe).collect()
    }
}

/// A record set as a person would name it: type, name and what it holds.
pub fn describe(set: &ResourceRecordSet) -> String {
    let what = match set.alias_target() {
        Some(alias) => format!("an alias of {}", bare(alias.dns_name())),
        None => set
            .resource_records()
            .iter()
            .map(|r| r.value())
            .collect::<Vec<_>>()
            .join(", "),
    };
    format!("{} record {} ({what})", set.r#type().as_str(), bare(set.name()))
}

/// Reads the A, AAAA and CNAME sets at `name`: one ListResourceRecordSets.
pub async fn observe(route53: &Client, zone_id: &str, name: &str) -> Result<Observed, AwsError> {
    let sets = zone::records_at(route53, zone_id, name).await?;
    Ok(Observed {
        sets: sets
            .into_iter()
            .filter(|s| matches!(s.r#type(), RrType::A | RrType::Aaaa | RrType::Cname))
            .collect(),
    })
}

/// What the aliases need to point at `target` (`None`: a domain about to
/// be created): each type that is not yet the stack's alias is created.
pub fn plan(observed: &Observed, target: Option<&Target>) -> Action {
    let ours = observed.ours(target);
    let missing: Vec<&RrType> = TYPES
        .iter()
        .filter(|t| !ours.iter().any(|s| s.r#type() == *t))
        .collect();
    match missing.len() {
        0 => Action::Unchanged,
        n if n == TYPES.len() => Action::Create,
        _ => Action::Update(
            missing
                .into_iter()
                .map(|t| Change::Record {
                    record_type: t.as_str().to_owned(),
                })
                .collect(),
        ),
    }
}

fn alias(name: &str, kind: RrType, target: &Target) -> Result<ResourceRecordSet, AwsError> {
    let invalid = |e: aws_sdk_route53::error::BuildError| AwsError::Call {
        operation: "ChangeResourceRecordSets",
        message: e.to_string(),
    };
    ResourceRecordSet::builder()
        .name(name)
        .r#type(kind)
        .alias_target(
            AliasTarget::builder()
                .hosted_zone_id(&target.zone_id)
                .dns_name(&target.dns_name)
                .evaluate_target_health(false)
                .build()
                .map_err(invalid)?,
        )
        .build()
        .map_err(invalid)
}

/// Creates the aliases `action` names (both for a create), in one batch.
pub async fn apply(
    route53: &Client,
    zone_id: &str,
    name: &str,
    target: &Target,
    action: &Action,
) -> Result<(), AwsError> {
    let kinds: Vec<RrType> = match action {
        Action::Create => TYPES.to_vec(),
        Action::Update(changes) => changes
            .iter()
            .filter_map(|c| match c {
                Change::Record { record_type } => Some(RrType::from(record_type.as_str())),
                _ => None,
            })
            .collect(),
        Action::Unchanged | Action::Delete => return Ok(()),
    };
    let mut changes = Vec::new();
    for kind in kinds {
        changes.push((ChangeAction::Create, alias(name, kind, target)?));
    }
    zone::change(route53, zone_id, "ddns-ctl: custom domain aliases", changes).await
}

/// Deletes the aliases at `name` that point at exactly `target`, as they
/// are read now; `false` if there were none. Nothing else at the name is
/// touched.
pub async fn delete(route53: &Client, zone_id: &str, name: &str, target: &Target) -> Result<bool, AwsError> {
    let observed = observe(route53, zone_id, name).await?;
    let ours: Vec<ResourceRecordSet> = observed.ours(Some(target)).into_iter().cloned().collect();
    if ours.is_empty() {
        return Ok(false);
    }
    let changes = ours.into_iter().map(|s| (ChangeAction::Delete, s)).collect();
    zone::change(route53, zone_id, "ddns-ctl: custom domain aliases", changes).await?;
    Ok(true)
}

#[cfg(test)]
mod tests {
    use aws_sdk_route53::types::ResourceRecord;

    use super::*;

    fn target() -> Target {
        Target {
            dns_name: "d-abc.execute-api.us-east-1.amazonaws.com".into(),
            zone_id: "Z1UJRXOUMOOFQ8".into(),
        }
    }

    fn plain(kind: RrType, value: &str) -> ResourceRecordSet {
        ResourceRecordSet::builder()
            .name("ddns.example.com.")
            .r#type(kind)
            .ttl(300)
            .resource_records(ResourceRecord::builder().value(value).build().unwrap())
            .build()
            .unwrap()
    }

    #[test]
    fn only_an_alias_of_exactly_the_domain_target_is_ours() {
        let mut upper = alias("ddns.example.com.", RrType::A, &target()).unwrap();
        // Route53 answers the alias's name with a trailing dot, lower case.
        upper.alias_target = Some(
            AliasTarget::builder()
                .hosted_zone_id("Z1UJRXOUMOOFQ8")
                .dns_name("D-ABC.execute-api.us-east-1.amazonaws.com.")
                .evaluate_target_health(false)
                .build()
                .unwrap(),
        );
        let elsewhere = alias(
            "ddns.example.com.",
            RrType::Aaaa,
            &Target {
                dns_name: "d-other.execute-api.us-east-1.amazonaws.com".into(),
                ..target()
            },
        )
        .unwrap();
        let observed = Observed {
            sets: vec![upper, elsewhere, plain(RrType::Cname, "home.example.net")],
        };
        assert_eq!(observed.ours(Some(&target())).len(), 1);
        assert!(observed.ours(None).is_empty());
        assert_eq!(
            observed.foreign(Some(&target())),
            [
                "AAAA record ddns.example.com (an alias of d-other.execute-api.us-east-1.amazonaws.com)",
                "CNAME record ddns.example.com (home.example.net)"
            ]
        );
        assert_eq!(
            plan(&observed, Some(&target())),
            Action::Update(vec![Change::Record {
                record_type: "AAAA".into()
            }])
        );
    }

    #[test]
    fn both_aliases_make_no_change_and_none_make_a_create() {
        let both = Observed {
            sets: TYPES
                .iter()
                .map(|t| alias("ddns.example.com.", t.clone(), &target()).unwrap())
                .collect(),
        };
        assert_eq!(plan(&both, Some(&target())), Action::Unchanged);
        assert_eq!(plan(&both, None), Action::Create);
        let plain_a = Observed {
            sets: vec![plain(RrType::A, "198.51.100.1")],
        };
        assert_eq!(plan(&plain_a, Some(&target())), Action::Create);
        assert_eq!(
            plain_a.foreign(Some(&target())),
            ["A record ddns.example.com (198.51.100.1)"]
        );
    }
}
