//! `ddns-ctl config …`: import a seed-format config, export it redacted,
//! list its versions and restore one. Writes are conditional, like every
//! config rewrite.

use std::fmt;

use anyhow::Context as _;
use ddns_handler::config::Config;
use serde::Serialize;
use serde_json::{Value, json};

use super::{Session, render};
use crate::aws::config::ChangeError;
use crate::cli::{ConfigCommand, GlobalArgs};

/// What an import did.
#[derive(Debug, Default, PartialEq, Eq, serde::Serialize)]
pub struct ImportReport {
    /// Hosts that were new.
    pub added: Vec<String>,
    /// Hosts already present with the same settings.
    pub unchanged: Vec<String>,
    /// Hosts present with other settings.
    pub conflicts: Vec<String>,
    /// Conflicting hosts whose settings were replaced (`--overwrite`).
    pub overwritten: Vec<String>,
}

/// Merges `incoming` into `config`.
pub fn merge(config: &mut Config, incoming: &Config, overwrite: bool) -> ImportReport {
    let mut report = ImportReport::default();
    for host in incoming.hosts() {
        let name = host.name.to_owned();
        match config.host(host.name).map(|h| h.config.clone()) {
            None => {
                config.upsert(host.name, host.config.clone());
                report.added.push(name);
            }
            Some(existing) if existing == *host.config => report.unchanged.push(name),
            Some(_) if overwrite => {
                config.upsert(host.name, host.config.clone());
                report.overwritten.push(name.clone());
                report.conflicts.push(name);
            }
            Some(_) => report.conflicts.push(name),
        }
    }
    report
}

/// `config import`'s outcome.
#[derive(Debug, Serialize)]
#[serde(transparent)]
struct Imported {
    #[serde(skip)]
    file: String,
    #[serde(skip)]
    overwrite: bool,
    report: ImportReport,
}

impl fmt::Display for Imported {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let report = &self.report;
        write!(
            f,
            "Imported {}: {} added, {} unchanged, {} conflicting",
            self.file,
            report.added.len(),
            report.unchanged.len(),
            report.conflicts.len()
        )?;
        f.write_str(if self.overwrite {
            " (overwritten).\n"
        } else {
            " (kept as they were; --overwrite replaces them).\n"
        })?;
        for host in &report.conflicts {
            writeln!(f, "  conflict: {host}")?;
        }
        Ok(())
    }
}

/// `config history`: every version, newest first.
#[derive(Debug, Serialize)]
#[serde(transparent)]
struct History(Vec<crate::aws::config::Version>);

impl fmt::Display for History {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(f, "{:<36} {:<22} {:>7}", "VERSION", "WRITTEN", "BYTES")?;
        for v in &self.0 {
            let current = if v.latest { "  (current)" } else { "" };
            writeln!(f, "{:<36} {:<22} {:>7}{current}", v.id, v.modified, v.size)?;
        }
        Ok(())
    }
}

/// `config restore`'s outcome.
#[derive(Debug, Serialize)]
struct Restored {
    restored: String,
}

impl fmt::Display for Restored {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(f, "Version {} is current again (as a new version).", self.restored)
    }
}

/// Refuses a config with a host whose zone does not exist in the account or
/// does not hold it, as `host add` refuses such a host: every write path
/// checks the same way, so the role is only ever widened to checked zones.
async fn refuse_unservable(session: &Session, config: &Config, what: &str) -> anyhow::Result<()> {
    let checked = crate::aws::zone::check(&session.clients.route53, config).await?;
    if checked.problems.is_empty() {
        return Ok(());
    }
    anyhow::bail!("{what}: {}", checked.problems.join("; "))
}

/// Runs a config subcommand.
pub async fn run(global: &GlobalArgs, command: ConfigCommand) -> anyhow::Result<()> {
    let session = Session::connect(global).await?;
    let key = session.config_key().await;
    let object = session.config(&key);
    match command {
        ConfigCommand::Import { file, overwrite } => {
            let text = std::fs::read(&file).with_context(|| format!("cannot read {}", file.display()))?;
            // Invalid input is refused before anything is written.
            let incoming =
                Config::from_slice(&text).with_context(|| format!("{} is not a valid config", file.display()))?;
            refuse_unservable(&session, &incoming, &format!("{} was not imported", file.display())).await?;
            // New hosts widen the role before the config lists them, and
            // overwritten ones narrow it after: see `Session::change_config`.
            let (report, _) = session
                .change_config(&key, |config| Ok(merge(config, &incoming, overwrite)))
                .await?;
            render(
                global.output,
                &Imported {
                    file: file.display().to_string(),
                    overwrite,
                    report,
                },
            );
        }
        ConfigCommand::Export { show_secrets } => {
            let config = object.current().await?;
            let mut value: Value = serde_json::from_str(&config.to_json_pretty()).unwrap_or(Value::Null);
            if !show_secrets && let Some(hosts) = value.as_object_mut() {
                for host in hosts.values_mut() {
                    host["shared_secret"] = json!("<redacted>");
                }
            }
            // JSON either way: it is a config file.
            println!("{}", serde_json::to_string_pretty(&value).unwrap_or_default());
        }
        ConfigCommand::History => {
            render(global.output, &History(object.history().await?));
        }
        ConfigCommand::Restore { version_id: version } => {
            let old = object.version(&version).await.map_err(|e| match e {
                ChangeError::Invalid(err) => anyhow::anyhow!("version {version} is not a valid config: {err}"),
                other => other.into(),
            })?;
            refuse_unservable(&session, &old, &format!("version {version} was not restored")).await?;
            // Made current again as a new version, written conditionally on
            // what is current now, the role widened first where the old
            // version has more: see `Session::change_config`.
            let restore = |config: &mut Config| {
                *config = old.clone();
                Ok(())
            };
            session.change_config(&key, restore).await.map_err(|e| match e {
                ChangeError::Invalid(err) => anyhow::anyhow!("version {version} is not a valid config: {err}"),
                other => other.into(),
            })?;
            render(global.output, &Restored { restored: version });
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn config(text: &str) -> Config {
        Config::from_slice(text.as_bytes()).unwrap()
    }

    fn entry(secret: &str) -> String {
        format!(
            r#"{{"aws_region":"r","route_53_zone_id":"Z","route_53_record_ttl":60,"route_53_record_type":"A","shared_secret":"secret-for-host-{secret}"}}"#
        )
    }

    #[test]
    fn merging_reports_conflicts_and_keeps_ours_unless_asked() {
        let ours = format!(r#"{{"a.example.com.":{},"b.example.com.":{}}}"#, entry("1"), entry("2"));
        let theirs = format!(
            r#"{{"A.example.com":{},"b.example.com.":{},"c.example.com.":{}}}"#,
            entry("1"),
            entry("x"),
            entry("3")
        );
        let mut merged = config(&ours);
        let report = merge(&mut merged, &config(&theirs), false);
        assert_eq!(report.added, ["c.example.com."]);
        assert_eq!(report.unchanged, ["A.example.com"]);
        assert_eq!(report.conflicts, ["b.example.com."]);
        assert!(report.overwritten.is_empty());
        assert_eq!(
            merged.host("b.example.com").unwrap().config.shared_secret.expose(),
            "secret-for-host-2"
        );
        assert_eq!(merged.len(), 3);

        let mut merged = config(&ours);
        let report = merge(&mut merged, &config(&theirs), true);
        assert_eq!(report.overwritten, ["b.example.com."]);
        assert_eq!(
            merged.host("b.example.com").unwrap().config.shared_secret.expose(),
            "secret-for-host-x"
        );
    }
}
