//! The one update path both protocols share: decide which records a
//! request may touch, compare them with Route53, and upsert what differs.

use std::net::IpAddr;

use crate::address::is_public;
use crate::config::{Host, RecordKind};
use crate::dns::{Dns, DnsError};

/// What an update did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Outcome {
    /// Whether any record was written.
    pub changed: bool,
    /// The addresses the host's records now hold (one per family updated).
    pub addresses: Vec<IpAddr>,
    /// The values the records of those families held before.
    pub previous: Vec<String>,
    /// Each family updated: its record type, the value it held (if any) and
    /// whether it was written.
    pub families: Vec<Family>,
}

/// One record of an update.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Family {
    /// `A` or `AAAA`.
    pub record: &'static str,
    /// The value it held.
    pub old: Option<String>,
    /// The address it holds now.
    pub new: IpAddr,
    /// Whether it was written.
    pub changed: bool,
}

/// The record type of an address's family.
fn record_of(ip: IpAddr) -> &'static str {
    if ip.is_ipv4() { "A" } else { "AAAA" }
}

/// Why an update was not made.
#[derive(Debug, thiserror::Error)]
pub enum UpdateError {
    /// None of the offered addresses is of a family this host keeps.
    #[error("{host} keeps {kind} records only, and no address of that family was given")]
    WrongFamily {
        /// The host as configured.
        host: String,
        /// What it keeps.
        kind: RecordKind,
    },
    /// The address is private, loopback or otherwise not public.
    #[error(
        "refusing to publish {address} for {host}: it is not a public address (set allow_private_addresses on the host to allow it)"
    )]
    NotPublic {
        /// The host as configured.
        host: String,
        /// The refused address.
        address: IpAddr,
    },
    /// A record holds several values, so it is not a dynamic record to
    /// overwrite (the seed refused this too).
    #[error("{host} has {count} values in its {record} record; a dynamic record must have exactly one")]
    MultipleValues {
        /// The host as configured.
        host: String,
        /// `A` or `AAAA`.
        record: &'static str,
        /// How many values it holds.
        count: usize,
    },
    /// Route53 failed.
    #[error(transparent)]
    Dns(#[from] DnsError),
}

/// Points `host` at `offered` (at most one address per family), writing only
/// the records that differ. Addresses of a family the host does not keep are
/// ignored; updating one family never touches the other.
pub async fn update_host(dns: &Dns, host: Host<'_>, offered: &[IpAddr]) -> Result<Outcome, UpdateError> {
    let kind = host.config.route_53_record_type;
    let wanted: Vec<IpAddr> = offered.iter().copied().filter(|ip| kind.accepts(*ip)).collect();
    if wanted.is_empty() {
        return Err(UpdateError::WrongFamily {
            host: host.name.to_owned(),
            kind,
        });
    }
    if !host.config.allow_private_addresses
        && let Some(&address) = wanted.iter().find(|ip| !is_public(**ip))
    {
        return Err(UpdateError::NotPublic {
            host: host.name.to_owned(),
            address,
        });
    }

    // The request's log line (see `record`) is written by the protocol,
    // which knows the caller; a Route53 fault is logged here, with the
    // error, Debug-formatted (`?`) so that no message can end the line.
    let zone = host.config.zone_id();
    let current = dns.current(zone, host.name, kind).await.inspect_err(|err| {
        tracing::error!(host = host.name, error = ?err.to_string(), "route53 read failed");
    })?;
    let mut families = Vec::new();
    for ip in &wanted {
        let values = current.for_family(*ip);
        if values.len() > 1 {
            return Err(UpdateError::MultipleValues {
                host: host.name.to_owned(),
                record: record_of(*ip),
                count: values.len(),
            });
        }
        families.push(Family {
            record: record_of(*ip),
            old: values.first().cloned(),
            new: *ip,
            changed: values.first().and_then(|v| v.parse::<IpAddr>().ok()) != Some(*ip),
        });
    }
    let previous: Vec<String> = families.iter().filter_map(|f| f.old.clone()).collect();
    let changes: Vec<IpAddr> = families.iter().filter(|f| f.changed).map(|f| f.new).collect();
    let outcome = Outcome {
        changed: !changes.is_empty(),
        addresses: wanted,
        previous,
        families,
    };
    if changes.is_empty() {
        return Ok(outcome);
    }
    dns.upsert(zone, host.name, host.config.route_53_record_ttl, &changes)
        .await
        .inspect_err(|err| {
            tracing::error!(host = host.name, error = ?err.to_string(), "route53 change failed");
        })?;
    Ok(outcome)
}
