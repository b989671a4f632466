//! The certificate's validation record: the CNAME ACM asks for, written
//! into the domain's zone. ACM issues the certificate once it resolves, and
//! renews it only while it stays, so a missing one is drift that deploy
//! repairs.
//!
//! The record is the stack's only if its name and value are exactly the
//! stack's certificate's. ACM gives every certificate of an account for one
//! name the same record, so it also stays while another certificate for the
//! name (not the stack's) exists.

use aws_sdk_route53::Client;
use aws_sdk_route53::types::{ChangeAction, ResourceRecord, ResourceRecordSet, RrType};

use super::AwsError;
use super::alias::describe;
use super::certificate::Validation;
use super::domain::bare;
use super::zone;
use crate::plan::Action;

/// TTL of the record: ACM reads it rarely, and it never changes.
pub const TTL: i64 = 300;

/// The record as the zone holds it.
#[derive(Debug, Clone, Default, PartialEq)]
pub enum Observed {
    /// There is no CNAME at the record's name.
    #[default]
    Missing,
    /// The record, exactly as ACM asks for it.
    Present,
    /// A CNAME with another value (described): someone else's.
    Other(String),
}

/// Reads the CNAME at `validation`'s name: one ListResourceRecordSets.
pub async fn observe(route53: &Client, zone_id: &str, validation: &Validation) -> Result<Observed, AwsError> {
    Ok(match found(route53, zone_id, validation).await? {
        None => Observed::Missing,
        Some((_, true)) => Observed::Present,
        Some((set, false)) => Observed::Other(describe(&set)),
    })
}

/// The CNAME at the record's name, and whether it is exactly the record.
async fn found(
    route53: &Client,
    zone_id: &str,
    validation: &Validation,
) -> Result<Option<(ResourceRecordSet, bool)>, AwsError> {
    let sets = zone::records_at(route53, zone_id, &validation.name).await?;
    Ok(sets.into_iter().find(|s| *s.r#type() == RrType::Cname).map(|set| {
        let exact = set.alias_target().is_none()
            && set.resource_records().len() == 1
            && bare(set.resource_records()[0].value()) == bare(&validation.value);
        (set, exact)
    }))
}

/// What the record needs, given the certificate's own step.
pub fn plan(certificate: &Action, observed: &Observed) -> Action {
    match (certificate, observed) {
        (Action::Create, _) | (_, Observed::Missing | Observed::Other(_)) => Action::Create,
        (_, Observed::Present) => Action::Unchanged,
    }
}

/// Writes the record (CREATE: Route53 refuses if a record is there). The
/// name is known only once the certificate is requested, so a CNAME
/// someone else put there is found here: it is left as it is, and deploy
/// stops saying so (the stack keeps its certificate for the next try).
pub async fn create(route53: &Client, zone_id: &str, domain: &str, validation: &Validation) -> Result<(), AwsError> {
    match found(route53, zone_id, validation).await? {
        Some((_, true)) => return Ok(()),
        Some((set, false)) => {
            return Err(AwsError::Call {
                operation: "ChangeResourceRecordSets",
                message: format!(
                    "the certificate's validation record is taken: {} has another value than ACM's {}; \
                     remove that record, then run `ddns-ctl deploy --domain {domain}` again",
                    describe(&set),
                    validation.value
                ),
            });
        }
        None => {}
    }
    let set = ResourceRecordSet::builder()
        .name(&validation.name)
        .r#type(RrType::Cname)
        .ttl(TTL)
        .resource_records(
            ResourceRecord::builder()
                .value(&validation.value)
                .build()
                .map_err(|e| AwsError::Call {
                    operation: "ChangeResourceRecordSets",
                    message: e.to_string(),
                })?,
        )
        .build()
        .map_err(|e| AwsError::Call {
            operation: "ChangeResourceRecordSets",
            message: e.to_string(),
        })?;
    zone::change(
        route53,
        zone_id,
        "ddns-ctl: certificate validation",
        vec![(ChangeAction::Create, set)],
    )
    .await
}

/// Deletes the record if it is exactly `validation`, as it is read now;
/// `false` if it is gone or not exactly that.
pub async fn delete(route53: &Client, zone_id: &str, validation: &Validation) -> Result<bool, AwsError> {
    match found(route53, zone_id, validation).await? {
        Some((set, true)) => {
            zone::change(
                route53,
                zone_id,
                "ddns-ctl: certificate validation",
                vec![(ChangeAction::Delete, set)],
            )
            .await?;
            Ok(true)
        }
        _ => Ok(false),
    }
}
