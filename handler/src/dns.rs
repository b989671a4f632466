//! Route53: read a host's current A/AAAA values and upsert new ones.
//!
//! One read covers both families: Route53 lists a name's record sets sorted by
//! type, and AAAA sorts right after A, so starting the listing at (name, A)
//! with room for two sets returns both when they exist. Writes go in one
//! change batch, so a dual-stack update is atomic and costs one call.

use std::net::IpAddr;

use aws_sdk_route53::Client;
use aws_sdk_route53::types::{Change, ChangeAction, ChangeBatch, ResourceRecord, ResourceRecordSet, RrType};

use crate::config::RecordKind;
use crate::hostname::lookup_key;

/// A Route53 call that failed.
#[derive(Debug, thiserror::Error)]
#[error("Route53 {operation} failed: {message}")]
pub struct DnsError {
    /// The API operation.
    pub operation: &'static str,
    /// The SDK's description, with its causes.
    pub message: String,
}

impl DnsError {
    fn new(operation: &'static str, err: impl std::error::Error + 'static) -> Self {
        Self {
            operation,
            message: crate::error_chain(&err),
        }
    }
}

/// The values a host's address records hold now; empty where there is none.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct CurrentRecords {
    /// Values of the A record.
    pub a: Vec<String>,
    /// Values of the AAAA record.
    pub aaaa: Vec<String>,
}

impl CurrentRecords {
    /// The values of the record that holds `ip`'s family.
    pub fn for_family(&self, ip: IpAddr) -> &[String] {
        match ip {
            IpAddr::V4(_) => &self.a,
            IpAddr::V6(_) => &self.aaaa,
        }
    }
}

/// Route53 access for the update path. Cheap to clone.
#[derive(Debug, Clone)]
pub struct Dns {
    client: Client,
}

impl Dns {
    /// Wraps a Route53 client, built once per process.
    pub fn new(client: Client) -> Self {
        Self { client }
    }

    /// Reads the A and/or AAAA record of `name` (exact name and type) in one
    /// call.
    pub async fn current(&self, zone_id: &str, name: &str, kind: RecordKind) -> Result<CurrentRecords, DnsError> {
        let (start, wanted) = match kind {
            RecordKind::A => (RrType::A, 1),
            RecordKind::Aaaa => (RrType::Aaaa, 1),
            RecordKind::Dual => (RrType::A, 2),
        };
        let out = self
            .client
            .list_resource_record_sets()
            .hosted_zone_id(zone_id)
            .start_record_name(name)
            .start_record_type(start)
            .max_items(wanted)
            .send()
            .await
            .map_err(|e| DnsError::new("ListResourceRecordSets", e))?;
        let key = lookup_key(name);
        let mut current = CurrentRecords::default();
        for set in out.resource_record_sets() {
            if lookup_key(set.name()) != key {
                continue;
            }
            let values = set.resource_records().iter().map(|r| r.value().to_owned()).collect();
            match set.r#type() {
                RrType::A if kind.has_a() => current.a = values,
                RrType::Aaaa if kind.has_aaaa() => current.aaaa = values,
                _ => {}
            }
        }
        Ok(current)
    }

    /// Points `name` at each address in `addresses` (at most one per family),
    /// in one change batch.
    pub async fn upsert(&self, zone_id: &str, name: &str, ttl: i64, addresses: &[IpAddr]) -> Result<(), DnsError> {
        let build = |e: aws_sdk_route53::error::BuildError| DnsError::new("ChangeResourceRecordSets", e);
        let mut batch = ChangeBatch::builder().comment("ddns-ctl update");
        for ip in addresses {
            let kind = match ip {
                IpAddr::V4(_) => RrType::A,
                IpAddr::V6(_) => RrType::Aaaa,
            };
            let set = ResourceRecordSet::builder()
                .name(name)
                .r#type(kind)
                .ttl(ttl)
                .resource_records(ResourceRecord::builder().value(ip.to_string()).build().map_err(build)?)
                .build()
                .map_err(build)?;
            let change = Change::builder()
                .action(ChangeAction::Upsert)
                .resource_record_set(set)
                .build()
                .map_err(build)?;
            batch = batch.changes(change);
        }
        self.client
            .change_resource_record_sets()
            .hosted_zone_id(zone_id)
            .change_batch(batch.build().map_err(build)?)
            .send()
            .await
            .map_err(|e| DnsError::new("ChangeResourceRecordSets", e))?;
        Ok(())
    }

    /// The values of `name`'s TXT record, oldest first, without the quotes
    /// Route53 keeps them in: one call.
    pub async fn txt(&self, zone_id: &str, name: &str) -> Result<Vec<String>, DnsError> {
        let out = self
            .client
            .list_resource_record_sets()
            .hosted_zone_id(zone_id)
            .start_record_name(name)
            .start_record_type(RrType::Txt)
            .max_items(1)
            .send()
            .await
            .map_err(|e| DnsError::new("ListResourceRecordSets", e))?;
        let key = lookup_key(name);
        Ok(out
            .resource_record_sets()
            .iter()
            .filter(|s| lookup_key(s.name()) == key && *s.r#type() == RrType::Txt)
            .flat_map(|s| s.resource_records().iter().map(|r| unquoted(r.value())))
            .collect())
    }

    /// Sets `name`'s TXT record to `values`, in that order, each quoted as
    /// Route53 requires: one call.
    pub async fn upsert_txt(&self, zone_id: &str, name: &str, ttl: i64, values: &[String]) -> Result<(), DnsError> {
        let build = |e: aws_sdk_route53::error::BuildError| DnsError::new("ChangeResourceRecordSets", e);
        let mut set = ResourceRecordSet::builder().name(name).r#type(RrType::Txt).ttl(ttl);
        for value in values {
            set = set.resource_records(
                ResourceRecord::builder()
                    .value(format!("\"{value}\""))
                    .build()
                    .map_err(build)?,
            );
        }
        let change = Change::builder()
            .action(ChangeAction::Upsert)
            .resource_record_set(set.build().map_err(build)?)
            .build()
            .map_err(build)?;
        self.client
            .change_resource_record_sets()
            .hosted_zone_id(zone_id)
            .change_batch(
                ChangeBatch::builder()
                    .comment("ddns-ctl acme-dns")
                    .changes(change)
                    .build()
                    .map_err(build)?,
            )
            .send()
            .await
            .map_err(|e| DnsError::new("ChangeResourceRecordSets", e))?;
        Ok(())
    }
}

/// A TXT value without the surrounding quotes (the values written here have
/// no quotes or backslashes inside: they are base64url).
fn unquoted(value: &str) -> String {
    value
        .strip_prefix('"')
        .and_then(|v| v.strip_suffix('"'))
        .unwrap_or(value)
        .to_owned()
}
