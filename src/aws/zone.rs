//! Route53 hosted zones: which zone holds a host, and what its records hold.

use aws_sdk_route53::Client;
use std::collections::{BTreeMap, BTreeSet};

use ddns_handler::config::{Config, bare_zone_id};
use ddns_handler::hostname::Hostname;

use super::AwsError;

/// A hosted zone.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Zone {
    /// Its id, without `/hostedzone/`.
    pub id: String,
    /// Its name, with the trailing dot.
    pub name: String,
}

/// The zone whose name is the longest suffix of `host` (all zones, paginated).
/// Public zones win over private ones of the same name.
pub async fn find(route53: &Client, host: &Hostname) -> Result<Option<Zone>, AwsError> {
    let mut best: Option<(usize, bool, Zone)> = None;
    let mut pages = route53.list_hosted_zones().into_paginator().send();
    while let Some(page) = pages.next().await {
        for zone in page.map_err(AwsError::on("ListHostedZones"))?.hosted_zones() {
            if !host.is_within(zone.name()) {
                continue;
            }
            let public = !zone.config().is_some_and(|c| c.private_zone());
            let rank = (zone.name().len(), public);
            if best.as_ref().is_none_or(|(len, pub_, _)| rank > (*len, *pub_)) {
                let id = bare_zone_id(zone.id()).to_owned();
                best = Some((
                    rank.0,
                    rank.1,
                    Zone {
                        id,
                        name: zone.name().to_owned(),
                    },
                ));
            }
        }
    }
    Ok(best.map(|(_, _, zone)| zone))
}

/// What checking a config's hosts against the account's zones found.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Checked {
    /// The zones that exist and hold every host that names them: the only
    /// zones the function's role is ever allowed to change.
    pub zones: BTreeSet<String>,
    /// Hosts that cannot be served, and why.
    pub problems: Vec<String>,
}

/// Checks every host of `config` as `host add` does: its zone exists in the
/// account, and the host lies inside it. One GetHostedZone per zone.
pub async fn check(route53: &Client, config: &Config) -> Result<Checked, AwsError> {
    check_all(route53, &[config]).await
}

/// As [`check`], for the hosts of several configs together (the config as
/// read and as it is about to be written): still one GetHostedZone per zone.
pub async fn check_all(route53: &Client, configs: &[&Config]) -> Result<Checked, AwsError> {
    let mut by_zone: BTreeMap<&str, BTreeSet<&str>> = BTreeMap::new();
    for host in configs.iter().flat_map(|config| config.hosts()) {
        by_zone.entry(host.config.zone_id()).or_default().insert(host.name);
    }
    let mut checked = Checked::default();
    for (id, hosts) in by_zone {
        let Some(zone) = lookup(route53, id).await? else {
            checked.problems.extend(
                hosts
                    .iter()
                    .map(|host| format!("{host}: zone {id} does not exist in this account")),
            );
            continue;
        };
        let outside: Vec<String> = hosts
            .iter()
            .filter(|host| !Hostname::parse(host).is_ok_and(|h| h.is_within(&zone.name)))
            .map(|host| format!("{host}: not inside zone {} ({id})", zone.name))
            .collect();
        if outside.is_empty() {
            checked.zones.insert(zone.id);
        } else {
            checked.problems.extend(outside);
        }
    }
    Ok(checked)
}

/// The zone with this id; `None` if the account has no such zone.
pub async fn lookup(route53: &Client, id: &str) -> Result<Option<Zone>, AwsError> {
    let out = match route53.get_hosted_zone().id(id).send().await {
        Ok(out) => out,
        Err(err) if err.as_service_error().is_some_and(|e| e.is_no_such_hosted_zone()) => return Ok(None),
        Err(err) => return Err(AwsError::from_sdk("GetHostedZone", err)),
    };
    Ok(out.hosted_zone().map(|zone| Zone {
        id: bare_zone_id(zone.id()).to_owned(),
        name: zone.name().to_owned(),
    }))
}

/// The zone with this id.
pub async fn get(route53: &Client, id: &str) -> Result<Zone, AwsError> {
    lookup(route53, id).await?.ok_or_else(|| AwsError::Call {
        operation: "GetHostedZone",
        message: format!("no hosted zone {id} in this account"),
    })
}

/// Deletes `name`'s A and AAAA records, exactly as they are; returns the
/// types deleted.
pub async fn delete_address_records(route53: &Client, zone_id: &str, name: &str) -> Result<Vec<String>, AwsError> {
    use aws_sdk_route53::types::{ChangeAction, RrType};
    let out = route53
        .list_resource_record_sets()
        .hosted_zone_id(zone_id)
        .start_record_name(name)
        .start_record_type(RrType::A)
        .max_items(2)
        .send()
        .await
        .map_err(AwsError::on("ListResourceRecordSets"))?;
    let key = ddns_handler::hostname::lookup_key(name);
    let sets: Vec<_> = out
        .resource_record_sets()
        .iter()
        .filter(|s| ddns_handler::hostname::lookup_key(s.name()) == key)
        .filter(|s| matches!(s.r#type(), RrType::A | RrType::Aaaa))
        .cloned()
        .collect();
    if sets.is_empty() {
        return Ok(Vec::new());
    }
    let kinds = sets.iter().map(|s| s.r#type().as_str().to_owned()).collect();
    let changes = sets.into_iter().map(|set| (ChangeAction::Delete, set)).collect();
    change(route53, zone_id, "ddns-ctl host remove --delete-records", changes).await?;
    Ok(kinds)
}

/// The A and AAAA values of every name in the zone, by
/// `lookup_key(name)`, through every page of ListResourceRecordSets (up to
/// 300 record sets a page): `host list` reads a zone that holds many hosts
/// this way, in one or a few calls instead of one a host.
pub async fn address_records(
    route53: &Client,
    zone_id: &str,
) -> Result<std::collections::HashMap<String, ddns_handler::dns::CurrentRecords>, AwsError> {
    use aws_sdk_route53::types::RrType;
    let mut records: std::collections::HashMap<String, ddns_handler::dns::CurrentRecords> =
        std::collections::HashMap::new();
    let mut next: Option<(String, RrType, Option<String>)> = None;
    loop {
        let (name, kind, identifier) = next
            .take()
            .map_or((None, None, None), |(n, t, i)| (Some(n), Some(t), i));
        let out = route53
            .list_resource_record_sets()
            .hosted_zone_id(zone_id)
            .set_start_record_name(name)
            .set_start_record_type(kind)
            .set_start_record_identifier(identifier)
            .send()
            .await
            .map_err(AwsError::on("ListResourceRecordSets"))?;
        for set in out.resource_record_sets() {
            if !matches!(set.r#type(), RrType::A | RrType::Aaaa) {
                continue;
            }
            let values = set.resource_records().iter().map(|r| r.value().to_owned()).collect();
            let entry = records
                .entry(ddns_handler::hostname::lookup_key(set.name()))
                .or_default();
            if *set.r#type() == RrType::A {
                entry.a = values;
            } else {
                entry.aaaa = values;
            }
        }
        match (out.is_truncated(), out.next_record_name(), out.next_record_type()) {
            (true, Some(name), Some(kind)) => {
                next = Some((
                    name.to_owned(),
                    kind.clone(),
                    out.next_record_identifier().map(str::to_owned),
                ));
            }
            _ => return Ok(records),
        }
    }
}

/// Every hosted zone in the account, by name.
pub async fn list(route53: &Client) -> Result<Vec<Zone>, AwsError> {
    let mut zones = Vec::new();
    let mut pages = route53.list_hosted_zones().into_paginator().send();
    while let Some(page) = pages.next().await {
        for zone in page.map_err(AwsError::on("ListHostedZones"))?.hosted_zones() {
            zones.push(Zone {
                id: bare_zone_id(zone.id()).to_owned(),
                name: zone.name().to_owned(),
            });
        }
    }
    zones.sort_by(|a, b| a.name.cmp(&b.name));
    Ok(zones)
}

/// The public zone whose name is the longest suffix of `host`: a custom
/// domain's records must be public, or no client and no certificate
/// authority would see them.
pub async fn find_public(route53: &Client, host: &Hostname) -> Result<Option<Zone>, AwsError> {
    let mut best: Option<Zone> = None;
    let mut pages = route53.list_hosted_zones().into_paginator().send();
    while let Some(page) = pages.next().await {
        for zone in page.map_err(AwsError::on("ListHostedZones"))?.hosted_zones() {
            let private = zone.config().is_some_and(|c| c.private_zone());
            if private || !host.is_within(zone.name()) {
                continue;
            }
            if best.as_ref().is_none_or(|b| zone.name().len() > b.name.len()) {
                best = Some(Zone {
                    id: bare_zone_id(zone.id()).to_owned(),
                    name: zone.name().to_owned(),
                });
            }
        }
    }
    Ok(best)
}

/// Every record set named exactly `name` in the zone (of any type), as
/// Route53 holds it: what a DELETE must repeat value for value.
pub async fn records_at(
    route53: &Client,
    zone_id: &str,
    name: &str,
) -> Result<Vec<aws_sdk_route53::types::ResourceRecordSet>, AwsError> {
    let key = ddns_handler::hostname::lookup_key(name);
    let out = route53
        .list_resource_record_sets()
        .hosted_zone_id(zone_id)
        .start_record_name(name)
        // A name holds at most one set of each type; a dozen types is
        // more than any name has.
        .max_items(20)
        .send()
        .await
        .map_err(AwsError::on("ListResourceRecordSets"))?;
    Ok(out
        .resource_record_sets()
        .iter()
        .filter(|s| ddns_handler::hostname::lookup_key(s.name()) == key)
        .cloned()
        .collect())
}

/// Sends `changes` to the zone as one batch, which Route53 applies all or
/// nothing. A CREATE of a set that exists, or a DELETE whose values are not
/// exactly the set's, fails the whole batch: that is how these changes
/// never overwrite nor remove a record someone else made.
pub async fn change(
    route53: &Client,
    zone_id: &str,
    comment: &str,
    changes: Vec<(
        aws_sdk_route53::types::ChangeAction,
        aws_sdk_route53::types::ResourceRecordSet,
    )>,
) -> Result<(), AwsError> {
    use aws_sdk_route53::types::{Change, ChangeBatch};
    let invalid = |e: aws_sdk_route53::error::BuildError| AwsError::Call {
        operation: "ChangeResourceRecordSets",
        message: e.to_string(),
    };
    let mut batch = ChangeBatch::builder().comment(comment);
    for (action, set) in changes {
        batch = batch.changes(
            Change::builder()
                .action(action)
                .resource_record_set(set)
                .build()
                .map_err(invalid)?,
        );
    }
    route53
        .change_resource_record_sets()
        .hosted_zone_id(zone_id)
        .change_batch(batch.build().map_err(invalid)?)
        .send()
        .await
        .map_err(|err| {
            // Route53 says why a batch is refused in a list of messages,
            // not in the error's message.
            let why = err
                .as_service_error()
                .and_then(|e| match e {
                    aws_sdk_route53::operation::change_resource_record_sets::ChangeResourceRecordSetsError::InvalidChangeBatch(b) => {
                        Some(b.messages().join("; "))
                    }
                    _ => None,
                })
                .filter(|m| !m.is_empty());
            match why {
                Some(why) => AwsError::Call {
                    operation: "ChangeResourceRecordSets",
                    message: format!("InvalidChangeBatch: {why}"),
                },
                None => AwsError::from_sdk("ChangeResourceRecordSets", err),
            }
        })?;
    Ok(())
}
