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

    let zone = host.config.zone_id();
    // Errors are logged Debug-formatted (`?`): an escaped string cannot end
    // the line and start a forged one, whatever the message holds.
    let current = dns.current(zone, host.name, kind).await.inspect_err(|err| {
        tracing::error!(host = host.name, result = "failed", error = ?err.to_string(), "update");
    })?;
    let mut changes = Vec::new();
    for ip in &wanted {
        let values = current.for_family(*ip);
        if values.len() > 1 {
            return Err(UpdateError::MultipleValues {
                host: host.name.to_owned(),
                record: if ip.is_ipv4() { "A" } else { "AAAA" },
                count: values.len(),
            });
        }
        if values.first().and_then(|v| v.parse::<IpAddr>().ok()) != Some(*ip) {
            changes.push(*ip);
        }
    }

    let old: Vec<&str> = wanted
        .iter()
        .flat_map(|ip| current.for_family(*ip).iter().map(String::as_str))
        .collect();
    let new: Vec<String> = wanted.iter().map(IpAddr::to_string).collect();
    if changes.is_empty() {
        tracing::info!(host = host.name, old = ?old, new = ?new, result = "unchanged", "update");
        return Ok(Outcome {
            changed: false,
            addresses: wanted,
        });
    }
    match dns
        .upsert(zone, host.name, host.config.route_53_record_ttl, &changes)
        .await
    {
        Ok(()) => {
            tracing::info!(host = host.name, old = ?old, new = ?new, result = "changed", "update");
            Ok(Outcome {
                changed: true,
                addresses: wanted,
            })
        }
        Err(err) => {
            tracing::error!(host = host.name, old = ?old, new = ?new, result = "failed", error = ?err.to_string(), "update");
            Err(err.into())
        }
    }
}
