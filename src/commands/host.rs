//! `ddns-ctl host …`: every change is one conditional rewrite of the config
//! (see `aws::config`), with the role's Route53 permissions widened before
//! it and narrowed after it (see `Session::change_config`).

use anyhow::Context as _;
use ddns_handler::config::{Config, HostConfig, RecordKind, Secret};
use ddns_handler::dns::{CurrentRecords, Dns};
use ddns_handler::hostname::{Hostname, lookup_key};
use serde_json::{Map, Value, json};

use std::collections::BTreeMap;
use std::fmt;
use std::time::Duration;

use serde::Serialize;

use super::{Session, render};
use crate::aws::config::ChangeError;
use crate::aws::log_events::{self, Activity};
use crate::aws::{custom_domain, function, log_group, zone};
use crate::cli::{GlobalArgs, HostAddArgs, HostCommand};
use crate::secret;

/// Runs a host subcommand.
pub async fn run(global: &GlobalArgs, command: HostCommand) -> anyhow::Result<()> {
    let session = Session::connect(global).await?;
    let key = session.config_key().await;
    match command {
        HostCommand::Add(args) => {
            let added = add(&session, &key, args).await?;
            render(global.output, &added);
            Ok(())
        }
        HostCommand::List => list(global, &session, &key).await,
        HostCommand::Show { host, show_secret } => show(global, &session, &key, &host, show_secret).await,
        HostCommand::Remove { host, delete_records } => remove(global, &session, &key, &host, delete_records).await,
        HostCommand::RotateSecret { host, acme: true } => {
            let issued = super::acme::rotate(&session, &key, &host).await?;
            render(global.output, &issued);
            Ok(())
        }
        HostCommand::RotateSecret { host, acme: false } => rotate(global, &session, &key, &host).await,
        HostCommand::Set {
            host,
            ttl,
            record_type,
            alert_after,
            no_alert_after,
            notify_on_change,
            no_notify_on_change,
            acme,
            acme_allow_from,
            no_acme,
        } => {
            let alerting = Alerting {
                alert_after: match (alert_after, no_alert_after) {
                    (Some(secs), _) => Some(Some(secs)),
                    (None, true) => Some(None),
                    (None, false) => None,
                },
                notify: match (notify_on_change, no_notify_on_change) {
                    (true, _) => Some(true),
                    (false, true) => Some(false),
                    (false, false) => None,
                },
            };
            let others =
                ttl.is_some() || record_type.is_some() || alerting.alert_after.is_some() || alerting.notify.is_some();
            if others || !(acme || no_acme) {
                set(
                    global,
                    &session,
                    &key,
                    &host,
                    ttl,
                    record_type.map(Into::into),
                    alerting,
                )
                .await?;
            }
            if acme {
                let issued = super::acme::enable(&session, &key, &host, acme_allow_from).await?;
                render(global.output, &issued);
            }
            if no_acme {
                let had = super::acme::disable(&session, &key, &host).await?;
                eprintln!(
                    "{host}: {}",
                    if had {
                        "acme-dns account removed; its key no longer works"
                    } else {
                        "had no acme-dns account"
                    }
                );
            }
            Ok(())
        }
    }
}

/// A host that was added, with its secret: the one time it is shown.
#[derive(Debug, Serialize)]
pub struct HostAdded {
    /// The host.
    pub host: String,
    /// Its zone's id.
    pub zone_id: String,
    /// Its zone's name.
    pub zone: String,
    /// Its record types.
    #[serde(rename = "type")]
    pub record_type: RecordKind,
    /// Its records' TTL.
    pub ttl: i64,
    /// Its secret.
    pub secret: String,
    /// The stack's endpoint, if it is deployed.
    pub endpoint: Option<String>,
    /// The function's new memory in MB, if the larger config needed more.
    pub memory_raised_to: Option<i32>,
    /// Its acme-dns account (`--acme`), with the key: the one time it is shown.
    pub acme: Option<super::acme::Issued>,
}

impl fmt::Display for HostAdded {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let (host, secret) = (&self.host, &self.secret);
        let endpoint = self
            .endpoint
            .as_deref()
            .unwrap_or("https://API.execute-api.REGION.amazonaws.com/prod/");
        write!(
            f,
            "Added {host} (zone {}, {}, TTL {}).\n\nSecret, shown this once; store it now:\n  {secret}\n\n",
            self.zone, self.record_type, self.ttl
        )?;
        // curl's config syntax: a double-quoted string with backslash escapes.
        let credentials = format!("{host}:{secret}").replace('\\', r"\\").replace('"', r#"\""#);
        write!(
            f,
            "Update it from the host with:\n  ddns-ctl update --url {endpoint} --hostname {host} --secret-file /etc/ddns-ctl/secret\n\
             or with curl (dyndns2), keeping the secret off the command line and out of the shell's history:\n\
             \x20 put this line in a file only you can read (umask 077 first), e.g. ~/.ddns-ctl.curl:\n\
             \x20   user = \"{credentials}\"\n\
             \x20 then: curl -K ~/.ddns-ctl.curl '{endpoint}nic/update?hostname={host}'\n\
             Ready-made setups: ddns-ctl client-config {host} --format sh|systemd|cron|ddclient|inadyn|fritzbox|opnsense|openwrt|unifi --out FILE\n"
        )?;
        if let Some(acme) = &self.acme {
            write!(f, "\n{acme}")?;
        }
        if self.endpoint.is_none() {
            f.write_str("\nNote: the stack is not deployed yet; run `ddns-ctl deploy`.\n")?;
        }
        if let Some(memory) = self.memory_raised_to {
            writeln!(
                f,
                "\nThe config has grown: the function's memory was raised to {memory} MB so that it can load it."
            )?;
        }
        Ok(())
    }
}

/// `host add`; also a step of `setup`, which shows the outcome itself.
pub async fn add(session: &Session, key: &str, args: HostAddArgs) -> anyhow::Result<HostAdded> {
    let host = Hostname::parse(&args.host)?;
    let zone = match &args.zone_id {
        Some(id) => zone::get(&session.clients.route53, ddns_handler::config::bare_zone_id(id)).await?,
        None => zone::find(&session.clients.route53, &host)
            .await?
            .with_context(|| format!("no hosted zone in this account holds {host}; create one, or pass --zone-id"))?,
    };
    if !host.is_within(&zone.name) {
        anyhow::bail!("{host} is not inside zone {} ({})", zone.name, zone.id);
    }
    let secret = if args.secret_stdin {
        let secret = secret::read_stdin().context("cannot read the secret from standard input")?;
        if secret.len() < 16 {
            anyhow::bail!("the secret from standard input is shorter than 16 characters");
        }
        secret
    } else {
        secret::generate().context("the system's random number generator failed")?
    };
    let account = match args.acme {
        true => Some(
            crate::acme::new_account(args.acme_allow_from.clone())
                .context("the system's random number generator failed")?,
        ),
        false => None,
    };
    let entry = HostConfig {
        aws_region: session.names.region.clone(),
        route_53_zone_id: zone.id.clone(),
        route_53_record_ttl: args.ttl,
        route_53_record_type: args.record_type.into(),
        shared_secret: Secret::new(secret.clone()),
        allow_private_addresses: args.allow_private_addresses,
        username: None,
        notify_on_change: false,
        alert_after_secs: None,
        acme: account.as_ref().map(|(a, _)| a.clone()),
        extra: Map::new(),
    };
    if args.alert_after.is_some() || args.notify_on_change {
        super::alerts::require_enabled(session).await?;
    }
    if args.alert_after.is_some() {
        super::alerts::check_alert_after(session, key, host.as_str()).await?;
    }
    let entry = HostConfig {
        notify_on_change: args.notify_on_change,
        alert_after_secs: args.alert_after,
        ..entry
    };
    Config::check(host.as_str(), &entry)?;
    // The function would write plain records over the domain's aliases.
    let bare = host.as_str().trim_end_matches('.');
    let domains = custom_domain::names(&session.clients, &session.names).await?;
    if domains.iter().any(|d| d.eq_ignore_ascii_case(bare)) {
        anyhow::bail!(
            "{bare} is this stack's custom domain, whose alias records the function would overwrite; choose another name"
        );
    }
    // The role first, then the config: see `Session::change_config`.
    let ((), deployed) = session
        .change_config(key, |config| {
            if config.host(host.as_str()).is_some() {
                return Err(ChangeError::Refused(format!(
                    "{host} is already a host; use `ddns-ctl host set` or `host rotate-secret`"
                )));
            }
            config.upsert(host.as_str(), entry.clone());
            Ok(())
        })
        .await?;
    if args.alert_after.is_some() {
        eprintln!("{}", super::alerts::ALERT_AFTER_COST);
        super::alerts::sync(session, key).await?;
    }
    // A larger config needs a larger function to load it.
    let needed = crate::model::function_memory_mb(session.config(key).size().await?);
    let memory_raised_to = function::ensure_memory(&session.clients.lambda, &session.names, needed).await?;
    let endpoint = match deployed {
        true => custom_domain::endpoint_with(&session.clients, &session.names, &domains).await?,
        false => None,
    };
    let acme = account.map(|(a, key)| super::acme::Issued::new(host.as_str(), &a, Some(key), endpoint.as_deref()));
    Ok(HostAdded {
        acme,
        host: host.to_string(),
        zone_id: zone.id,
        zone: zone.name,
        record_type: entry.route_53_record_type,
        ttl: entry.route_53_record_ttl,
        secret,
        endpoint,
        memory_raised_to,
    })
}

async fn read(session: &Session, key: &str) -> anyhow::Result<Config> {
    Ok(session.config(key).current().await?)
}

/// A host's settings and current records, without its secret unless asked.
async fn describe(dns: &Dns, name: &str, host: &HostConfig, with_secret: bool) -> Value {
    let current = dns.current(host.zone_id(), name, host.route_53_record_type).await;
    describe_with(current.map_err(|e| e.to_string()), name, host, with_secret)
}

/// [`describe`] with the records already read; only the host's types count.
fn describe_with(current: Result<CurrentRecords, String>, name: &str, host: &HostConfig, with_secret: bool) -> Value {
    let kind = host.route_53_record_type;
    let records = match current {
        Ok(current) => json!({
            "A": if kind.has_a() { current.a } else { Vec::new() },
            "AAAA": if kind.has_aaaa() { current.aaaa } else { Vec::new() },
        }),
        Err(err) => json!({ "error": err }),
    };
    let mut value = json!({
        "host": name,
        "zone_id": host.zone_id(),
        "type": host.route_53_record_type,
        "ttl": host.route_53_record_ttl,
        "allow_private_addresses": host.allow_private_addresses,
        "records": records,
    });
    if let Some(username) = &host.username {
        value["username"] = json!(username);
    }
    if with_secret {
        value["secret"] = json!(host.shared_secret.expose());
    }
    value
}

fn records_text(value: &Value) -> String {
    if let Some(err) = value["records"]["error"].as_str() {
        return format!("(cannot read: {err})");
    }
    let values: Vec<&str> = ["A", "AAAA"]
        .iter()
        .flat_map(|t| value["records"][t].as_array().into_iter().flatten())
        .filter_map(Value::as_str)
        .collect();
    if values.is_empty() {
        "-".to_owned()
    } else {
        values.join(", ")
    }
}

async fn list(global: &GlobalArgs, session: &Session, key: &str) -> anyhow::Result<()> {
    let config = read(session, key).await?;
    let dns = Dns::new(session.clients.route53.clone());
    let seen = activity(global, session).await;
    // A zone with several hosts is read whole, a page (300 record sets) at
    // a time, rather than once a host.
    let mut per_zone: BTreeMap<&str, usize> = BTreeMap::new();
    for host in config.hosts() {
        *per_zone.entry(host.config.zone_id()).or_default() += 1;
    }
    let mut zones = BTreeMap::new();
    for (zone_id, _) in per_zone.iter().filter(|(_, hosts)| **hosts > 1) {
        let records = zone::address_records(&session.clients.route53, zone_id).await;
        zones.insert(*zone_id, records.map_err(|e| e.to_string()));
    }
    let mut rows = Vec::new();
    for host in config.hosts() {
        let mut row = match zones.get(host.config.zone_id()) {
            Some(records) => {
                let current = records
                    .as_ref()
                    .map(|r| r.get(&lookup_key(host.name)).cloned().unwrap_or_default())
                    .map_err(Clone::clone);
                describe_with(current, host.name, host.config, false)
            }
            None => describe(&dns, host.name, host.config, false).await,
        };
        add_activity(&mut row, host.name, seen.as_ref());
        rows.push(row);
    }
    render(global.output, &Listing(rows));
    Ok(())
}

/// How long `host list` and `host show` wait for Logs Insights.
const INSIGHTS_PATIENCE: Duration = Duration::from_secs(30);

/// The longest window LAST SEEN looks back over when the log group keeps
/// its events forever: Insights bills by the data it scans.
const MAX_ACTIVITY_DAYS: u64 = 90;

/// Every host's last request and change, from one Logs Insights query over
/// the log group's retention. `None` (after a warning) when it cannot be
/// read: the listing is still worth printing.
async fn activity(global: &GlobalArgs, session: &Session) -> Option<BTreeMap<String, Activity>> {
    let logs = &session.clients.logs;
    let days = match log_group::observe(logs, &session.names).await {
        Ok(Some(group)) => group
            .retention_days
            .and_then(|d| u64::try_from(d).ok())
            .unwrap_or(MAX_ACTIVITY_DAYS)
            .min(MAX_ACTIVITY_DAYS),
        // No group: nothing has ever been logged.
        Ok(None) => return Some(BTreeMap::new()),
        Err(err) => {
            warn(global, &err);
            return None;
        }
    };
    let window = Duration::from_secs(days * 86_400);
    match log_events::activity(logs, &session.names.log_group, window, INSIGHTS_PATIENCE).await {
        Ok(found) => Some(found.unwrap_or_default()),
        Err(err) => {
            warn(global, &err);
            None
        }
    }
}

fn warn(global: &GlobalArgs, err: &crate::aws::AwsError) {
    if !global.quiet {
        eprintln!("warning: LAST SEEN and LAST CHANGE are unknown: {err}");
    }
}

/// Adds `last_seen` and `last_change` to a host's row: `null` where the
/// log holds nothing for it, absent where the log could not be read.
fn add_activity(row: &mut Value, name: &str, seen: Option<&BTreeMap<String, Activity>>) {
    let Some(seen) = seen else {
        return;
    };
    let activity = seen
        .get(&ddns_handler::record::normalized(name))
        .cloned()
        .unwrap_or_default();
    row["last_seen"] = json!(activity.last_seen);
    row["last_change"] = json!(activity.last_change);
}

/// LAST SEEN's text: the time, `never`, or `unknown`.
fn seen_text(row: &Value) -> String {
    match row.get("last_seen") {
        None => "unknown".to_owned(),
        Some(Value::String(time)) => time.clone(),
        Some(_) => "never".to_owned(),
    }
}

/// LAST CHANGE's text: the time and the previous value.
fn change_text(row: &Value) -> String {
    match row.get("last_change") {
        None => "unknown".to_owned(),
        Some(Value::Object(change)) => {
            let from = change.get("from").and_then(Value::as_str).filter(|f| !f.is_empty());
            format!(
                "{} (was {})",
                change.get("time").and_then(Value::as_str).unwrap_or_default(),
                from.unwrap_or("none")
            )
        }
        Some(_) => "never".to_owned(),
    }
}

/// `host list`: one row per host, as `describe` gives it.
#[derive(Debug, Serialize)]
#[serde(transparent)]
struct Listing(Vec<Value>);

impl fmt::Display for Listing {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.0.is_empty() {
            return writeln!(f, "No hosts yet: add one with `ddns-ctl host add HOST`.");
        }
        writeln!(
            f,
            "{:<40} {:<24} {:<5} {:>6}  {:<32} {:<20}  LAST CHANGE",
            "HOST", "ZONE", "TYPE", "TTL", "CURRENT", "LAST SEEN"
        )?;
        for row in &self.0 {
            writeln!(
                f,
                "{:<40} {:<24} {:<5} {:>6}  {:<32} {:<20}  {}",
                row["host"].as_str().unwrap_or_default(),
                row["zone_id"].as_str().unwrap_or_default(),
                row["type"].as_str().unwrap_or_default(),
                row["ttl"].as_i64().unwrap_or_default(),
                records_text(row),
                seen_text(row),
                change_text(row),
            )?;
        }
        Ok(())
    }
}

/// `host show`: one host, as `describe` gives it.
#[derive(Debug, Serialize)]
#[serde(transparent)]
struct Shown(Value);

impl fmt::Display for Shown {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let host = &self.0;
        let private = match host["allow_private_addresses"].as_bool() {
            Some(true) => "allowed",
            _ => "refused",
        };
        writeln!(
            f,
            "{}\n  zone         {}\n  type         {}\n  ttl          {}\n  current      {}\n  last seen    {}\n  last change  {}\n  private      {private}",
            host["host"].as_str().unwrap_or_default(),
            host["zone_id"].as_str().unwrap_or_default(),
            host["type"].as_str().unwrap_or_default(),
            host["ttl"].as_i64().unwrap_or_default(),
            records_text(host),
            seen_text(host),
            change_text(host),
        )?;
        match host["secret"].as_str() {
            Some(secret) => writeln!(f, "  secret       {secret}"),
            None => writeln!(f, "  secret       (hidden; --show-secret prints it)"),
        }
    }
}

async fn show(global: &GlobalArgs, session: &Session, key: &str, name: &str, show_secret: bool) -> anyhow::Result<()> {
    let config = read(session, key).await?;
    let host = config
        .host(name)
        .with_context(|| format!("{name} is not a host of stack {}", session.names.stack))?;
    let dns = Dns::new(session.clients.route53.clone());
    let mut value = describe(&dns, host.name, host.config, show_secret).await;
    add_activity(&mut value, host.name, activity(global, session).await.as_ref());
    render(global.output, &Shown(value));
    Ok(())
}

async fn remove(
    global: &GlobalArgs,
    session: &Session,
    key: &str,
    name: &str,
    delete_records: bool,
) -> anyhow::Result<()> {
    // The config first, then the role: see `Session::change_config`.
    let ((removed_name, removed_host), _) = session
        .change_config(key, |config| {
            config
                .remove(name)
                .ok_or_else(|| ChangeError::Refused(format!("{name} is not a host of stack {}", session.names.stack)))
        })
        .await?;
    // Its silence filter and alarm go with it.
    super::alerts::sync(session, key).await?;
    let mut deleted = Vec::new();
    if delete_records {
        deleted = zone::delete_address_records(&session.clients.route53, removed_host.zone_id(), &removed_name).await?;
    }
    render(
        global.output,
        &Removed {
            removed: removed_name,
            delete_records,
            deleted_records: deleted,
        },
    );
    Ok(())
}

/// A host that was removed.
#[derive(Debug, Serialize)]
struct Removed {
    /// The host.
    removed: String,
    /// Whether its records were to be deleted too.
    #[serde(skip)]
    delete_records: bool,
    /// The record types deleted.
    deleted_records: Vec<String>,
}

impl fmt::Display for Removed {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let host = &self.removed;
        match (self.delete_records, self.deleted_records.is_empty()) {
            (false, _) => writeln!(f, "Removed {host}; its DNS records were left as they are."),
            (true, true) => writeln!(f, "Removed {host}; it had no A or AAAA records."),
            (true, false) => writeln!(
                f,
                "Removed {host} and deleted its {} record(s).",
                self.deleted_records.join(" and ")
            ),
        }
    }
}

/// A host's new secret, shown once.
#[derive(Debug, Serialize)]
struct Rotated {
    host: String,
    secret: String,
}

impl fmt::Display for Rotated {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(
            f,
            "New secret for {}, shown this once; the old one stops working within seconds:\n  {}",
            self.host, self.secret
        )
    }
}

/// A host's changed settings.
#[derive(Debug, Serialize)]
struct Changed {
    host: String,
    #[serde(rename = "type")]
    record_type: RecordKind,
    ttl: i64,
}

impl fmt::Display for Changed {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(
            f,
            "{}: type {}, TTL {} (applied with its next update).",
            self.host, self.record_type, self.ttl
        )
    }
}

async fn rotate(global: &GlobalArgs, session: &Session, key: &str, name: &str) -> anyhow::Result<()> {
    let secret = secret::generate().context("the system's random number generator failed")?;
    let host = session
        .config(key)
        .update(|config| {
            let host = config.host_mut(name).ok_or_else(|| {
                ChangeError::Refused(format!("{name} is not a host of stack {}", session.names.stack))
            })?;
            host.shared_secret = Secret::new(secret.clone());
            Ok(config.host(name).map(|h| h.name.to_owned()).unwrap_or_default())
        })
        .await?;
    render(global.output, &Rotated { host, secret });
    Ok(())
}

/// What `host set` changes of a host's alerts: `None` leaves it as it is.
struct Alerting {
    /// A new alert-after (`Some(None)` clears it).
    alert_after: Option<Option<u64>>,
    /// Whether the host wants a message on each change.
    notify: Option<bool>,
}

async fn set(
    global: &GlobalArgs,
    session: &Session,
    key: &str,
    name: &str,
    ttl: Option<i64>,
    kind: Option<RecordKind>,
    alerting: Alerting,
) -> anyhow::Result<()> {
    if ttl.is_none() && kind.is_none() && alerting.alert_after.is_none() && alerting.notify.is_none() {
        anyhow::bail!(
            "nothing to change: pass --ttl, --type, --alert-after, --no-alert-after, --notify-on-change, --no-notify-on-change, --acme or --no-acme"
        );
    }
    // Turning an alert on needs the topic; turning one off never does.
    let adds_alert = matches!(alerting.alert_after, Some(Some(_)));
    if adds_alert || alerting.notify == Some(true) {
        super::alerts::require_enabled(session).await?;
    }
    if adds_alert {
        super::alerts::check_alert_after(session, key, name).await?;
    }
    // A new record type widens (dual) or narrows (A or AAAA only) what the
    // role must allow: see `Session::change_config`.
    let ((host, entry), _) = session
        .change_config(key, |config| {
            let host = config.host_mut(name).ok_or_else(|| {
                ChangeError::Refused(format!("{name} is not a host of stack {}", session.names.stack))
            })?;
            if let Some(ttl) = ttl {
                host.route_53_record_ttl = ttl;
            }
            if let Some(kind) = kind {
                host.route_53_record_type = kind;
            }
            if let Some(after) = alerting.alert_after {
                host.alert_after_secs = after;
            }
            if let Some(notify) = alerting.notify {
                host.notify_on_change = notify;
            }
            let entry = host.clone();
            Config::check(name, &entry).map_err(|e| ChangeError::Refused(e.to_string()))?;
            Ok((config.host(name).map(|h| h.name.to_owned()).unwrap_or_default(), entry))
        })
        .await?;
    if alerting.alert_after.is_some() {
        if adds_alert {
            eprintln!("{}", super::alerts::ALERT_AFTER_COST);
        }
        super::alerts::sync(session, key).await?;
    }
    render(
        global.output,
        &Changed {
            host,
            record_type: entry.route_53_record_type,
            ttl: entry.route_53_record_ttl,
        },
    );
    Ok(())
}
