//! `ddns-ctl alerts …`: enable, disable, status, test. Enable and disable
//! plan the whole stack as deploy would, with alerts on or off, and run only
//! the alert steps: the topic, its filters and alarms, the function's
//! environment (`DDNS_ALERT_TOPIC_ARN`) and the role's permission to
//! publish. Nothing else of the stack is touched.
//!
//! Also here: what host commands call after a config change to keep the
//! silence alarms in step ([`sync`]), and the costs said up front.

use std::fmt;

use serde::Serialize;

use super::{Session, confirm, render};
use crate::aws::function::Code;
use crate::aws::{AwsError, alarm, metric_filter, topic};
use crate::cli::{AlertsCommand, GlobalArgs};
use crate::executor::{self, Outputs};
use crate::model::Settings;
use crate::plan::{Action, Change, Kind, Plan, Step};
use crate::progress::Progress;
use crate::stack::{self, Alerts, Desired, Observation};

/// What `alerts enable` adds, at us-east-1 list prices.
pub const ENABLE_COST: &str = "Cost (us-east-1 list prices): 3 standard alarms at $0.10 per alarm-month ($0.30 a month; \
     the first 10 alarms per account are free), SNS email: the first 1,000 notifications a month free, then $2 per 100,000.";

/// What each `--alert-after` adds, at us-east-1 list prices.
pub const ALERT_AFTER_COST: &str = "Cost (us-east-1 list prices): 1 alarm at $0.10 a month and 1 custom metric at $0.30 a month \
     (the first 10 of each per account are free); the metric filter itself is free, log ingestion as before.";

/// Runs an alerts subcommand.
pub async fn run(global: &GlobalArgs, command: AlertsCommand) -> anyhow::Result<()> {
    let session = Session::connect(global).await?;
    let (observed, settings) = observe(&session).await?;
    match command {
        AlertsCommand::Enable { email } => {
            let enabled = enable(global, &session, &observed, &settings, &email).await?;
            render(global.output, &enabled);
        }
        AlertsCommand::Disable { yes } => {
            let disabled = disable(global, &session, &observed, &settings, yes).await?;
            render(global.output, &disabled);
        }
        AlertsCommand::Status => render(global.output, &report(&session, &observed)),
        AlertsCommand::Test => {
            if !observed.alerts_enabled() {
                anyhow::bail!("{}", not_enabled(&session));
            }
            let names = &session.names;
            let subject = format!("ddns-ctl {}: test alert", names.stack);
            let message = format!(
                "ddns-ctl {}: test alert sent by `ddns-ctl alerts test`. Alerts of stack {} in {} reach this address.",
                names.stack, names.stack, names.region
            );
            let id = topic::publish(&session.clients.sns, names, &subject, &message).await?;
            let report = report(&session, &observed);
            render(global.output, &Tested { message_id: id, report });
        }
    }
    Ok(())
}

/// The stack as these commands see it, and the settings it was deployed
/// with. Deploy reads alarms and filters only while the topic exists; these
/// commands read them always, so that disable also removes what an
/// interrupted one left.
async fn observe(session: &Session) -> anyhow::Result<(Observation, Settings)> {
    let key = session.config_key().await;
    let settings = Settings {
        key,
        ..Settings::default()
    };
    let mut observed = stack::observe(&session.clients, &session.names, &settings).await?;
    let (topic, alarms, filters) = stack::observe_alerts(&session.clients, &session.names).await?;
    (observed.topic, observed.alarms, observed.filters) = (topic, alarms, filters);
    let settings = Settings {
        key: settings.key,
        ..observed.settings()
    };
    Ok((observed, settings))
}

/// `alerts enable --email ADDRESS` as a step of another command (the
/// wizard, after its deploy): observes the stack as it is now, then enables
/// exactly as the subcommand does, printing the cost first when it changes
/// anything.
pub async fn enable_email(global: &GlobalArgs, session: &Session, email: &str) -> anyhow::Result<Enabled> {
    let (observed, settings) = observe(session).await?;
    enable(global, session, &observed, &settings, email).await
}

/// The error for a command that needs alerts while they are off.
pub fn not_enabled(session: &Session) -> String {
    format!(
        "alerts are not enabled for stack {}: run `ddns-ctl alerts enable --email ADDRESS` first",
        session.names.stack
    )
}

/// Refuses unless alerts are enabled (the stack's tagged topic exists).
pub async fn require_enabled(session: &Session) -> anyhow::Result<()> {
    match topic::observe(&session.clients.sns, &session.names).await? {
        Some(t) if t.tagged => Ok(()),
        _ => anyhow::bail!("{}", not_enabled(session)),
    }
}

/// A plausible email address: SNS checks it again, but a typo is better
/// refused before anything is made. The wizard asks with the same rule.
pub fn valid_email(address: &str) -> bool {
    let Some((local, domain)) = address.split_once('@') else {
        return false;
    };
    address.len() <= 254
        && !local.is_empty()
        && domain.contains('.')
        && !domain.starts_with('.')
        && !domain.ends_with('.')
        && !domain.contains('@')
        && !address.chars().any(|c| c.is_whitespace() || c.is_control())
}

/// Keeps of a whole-stack plan only what alerts own: the topic, filters and
/// alarms, the function's environment and the role's policy.
fn only_alerts(plan: Plan) -> Plan {
    let steps = plan
        .steps
        .into_iter()
        .filter_map(|step| match step.kind {
            Kind::Topic | Kind::MetricFilter | Kind::Alarm => Some(step),
            Kind::Function | Kind::Role => {
                let keep: Vec<Change> = step
                    .action
                    .changes()
                    .iter()
                    .filter(|c| {
                        matches!(
                            (step.kind, c),
                            (Kind::Function, Change::Env) | (Kind::Role, Change::Policy)
                        )
                    })
                    .cloned()
                    .collect();
                (!keep.is_empty()).then_some(Step {
                    action: Action::Update(keep),
                    ..step
                })
            }
            _ => None,
        })
        .collect();
    Plan { steps }
}

async fn run_plan(global: &GlobalArgs, session: &Session, plan: &Plan, desired: &Desired) -> anyhow::Result<()> {
    if plan.is_noop() {
        return Ok(());
    }
    let progress = Progress::new(global.quiet);
    executor::run(
        &session.clients,
        &session.names,
        plan,
        Some(desired),
        Outputs::default(),
        &mut |event| super::show_step(&progress, event),
    )
    .await?;
    progress.finish();
    Ok(())
}

/// What `alerts enable` did.
#[derive(Debug, Serialize)]
pub struct Enabled {
    /// The topic.
    pub topic_arn: String,
    /// The address.
    pub email: String,
    /// Whether anything was changed.
    pub changed: bool,
    /// The steps that ran (or would have: all unchanged).
    pub plan: Vec<Step>,
    /// The alerts as they are now.
    pub report: Report,
}

impl fmt::Display for Enabled {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.changed {
            writeln!(f, "Alerts are enabled: topic {}.", self.topic_arn)?;
        } else {
            writeln!(f, "Alerts were already enabled as asked: nothing changed.")?;
        }
        write!(f, "{}", self.report)?;
        writeln!(f, "{ENABLE_COST}")
    }
}

async fn enable(
    global: &GlobalArgs,
    session: &Session,
    observed: &Observation,
    settings: &Settings,
    email: &str,
) -> anyhow::Result<Enabled> {
    let names = &session.names;
    if !valid_email(email) {
        anyhow::bail!("'{email}' is not an email address; nothing was changed");
    }
    if observed.function.is_none() {
        anyhow::bail!(
            "stack {} is not deployed: run `ddns-ctl deploy` first; nothing was changed",
            names.stack
        );
    }
    if observed.topic.as_ref().is_some_and(|t| !t.tagged) {
        return Err(AwsError::NotOurs {
            kind: "SNS topic",
            name: names.topic.clone(),
        }
        .into());
    }
    let alerts = Alerts::new(names, &settings.stage, observed.config(), vec![email.to_owned()]);
    let desired = Desired::with_alerts(names, settings, observed, Code::Ignored, Some(alerts));
    let plan = only_alerts(stack::plan(names, observed, &desired));
    let changed = !plan.is_noop();
    if changed && !global.quiet {
        eprintln!("{ENABLE_COST}");
    }
    run_plan(global, session, &plan, &desired).await?;
    let after = stack::observe_alerts(&session.clients, names).await?;
    let now = Observation {
        topic: after.0,
        alarms: after.1,
        filters: after.2,
        ..Observation::default()
    };
    Ok(Enabled {
        topic_arn: names.topic_arn(),
        email: email.to_owned(),
        changed,
        plan: plan.steps,
        report: report(session, &now),
    })
}

/// What `alerts disable` removed.
#[derive(Debug, Serialize)]
pub struct Disabled {
    /// The steps that ran.
    pub removed: Vec<Step>,
}

impl fmt::Display for Disabled {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.removed.is_empty() {
            return writeln!(f, "Alerts are not enabled; nothing to remove.");
        }
        writeln!(
            f,
            "Alerts are disabled: topic, subscriptions, alarms and metric filters removed. Hosts keep their \
             --alert-after and --notify-on-change settings, which apply again after `ddns-ctl alerts enable`."
        )
    }
}

async fn disable(
    global: &GlobalArgs,
    session: &Session,
    observed: &Observation,
    settings: &Settings,
    yes: bool,
) -> anyhow::Result<Disabled> {
    let names = &session.names;
    let desired = Desired::with_alerts(names, settings, observed, Code::Ignored, None);
    let plan = only_alerts(stack::plan(names, observed, &desired));
    if plan.is_noop() {
        return Ok(Disabled { removed: vec![] });
    }
    if !global.quiet {
        eprintln!("Disabling alerts of stack {}:\n{plan}", names.stack);
    }
    if !yes && !confirm("Remove these?", "--yes")? {
        anyhow::bail!("cancelled; nothing was changed");
    }
    run_plan(global, session, &plan, &desired).await?;
    Ok(Disabled { removed: plan.steps })
}

/// Brings the silence filters and alarms in line with the config as it is
/// now, after a host command changed it; nothing while alerts are off.
pub async fn sync(session: &Session, key: &str) -> anyhow::Result<()> {
    let names = &session.names;
    let (topic, alarms, filters) = stack::observe_alerts(&session.clients, names).await?;
    if !topic.as_ref().is_some_and(|t| t.tagged) {
        return Ok(());
    }
    let config = session.config(key).current().await?;
    let observed = Observation {
        topic,
        alarms,
        filters,
        ..Observation::default()
    };
    let alerts = Alerts::new(names, crate::model::DEFAULT_STAGE, Some(&config), vec![]);
    let (_, steps) = stack::plan_alerts(names, &observed, Some(&alerts));
    // Only the hosts' filters and alarms: the stack's three are deploy's.
    let silence = format!("{}silent/", names.alert_prefix());
    let plan = Plan {
        steps: steps.into_iter().filter(|s| s.name.starts_with(&silence)).collect(),
    };
    let desired = Desired {
        alerts: Some(alerts),
        ..Desired::new(names, &Settings::default(), &Observation::default(), Code::Ignored)
    };
    for step in plan.steps.iter().filter(|s| s.action != Action::Unchanged) {
        eprintln!("{step}");
    }
    executor::run(
        &session.clients,
        names,
        &plan,
        Some(&desired),
        Outputs::default(),
        &mut |_| {},
    )
    .await?;
    Ok(())
}

/// The part of [`check_alert_after`] that needs no AWS call (the wizard
/// asks it before changing anything): a name some filter matches exactly
/// and an alarm name of at most 255 characters. Returns the host as the
/// filter and alarm name it.
pub fn silence_fits(names: &crate::model::Names, host: &str) -> anyhow::Result<String> {
    let host = ddns_handler::record::normalized(host);
    metric_filter::pattern(&host)?;
    let name = alarm::silence_name(names, &host);
    if name.len() > alarm::MAX_NAME_LEN {
        anyhow::bail!(
            "{host} is too long for a CloudWatch alarm name ({name} has {} characters, at most {}); nothing was changed",
            name.len(),
            alarm::MAX_NAME_LEN
        );
    }
    Ok(host)
}

/// Refuses an alert-after for `host` that CloudWatch could not take: a
/// name no filter matches exactly, an alarm name over 255 characters, or a
/// 101st metric filter on the log group.
pub async fn check_alert_after(session: &Session, key: &str, host: &str) -> anyhow::Result<()> {
    let names = &session.names;
    let host = silence_fits(names, host)?;
    let config = session.config(key).current().await?;
    let has = config.host(&host).is_some_and(|h| h.config.alert_after_secs.is_some());
    let count = metric_filter::count(&session.clients.logs, names).await?;
    if !has && count >= metric_filter::MAX_PER_LOG_GROUP {
        anyhow::bail!(
            "log group {} has {count} metric filters, CloudWatch Logs' limit is {} per log group: remove another \
             host's --alert-after (`ddns-ctl host set HOST --no-alert-after`) first; nothing was changed",
            names.log_group,
            metric_filter::MAX_PER_LOG_GROUP
        );
    }
    Ok(())
}

/// The alerts as they are: `alerts status`, and part of `status`.
#[derive(Debug, Serialize)]
pub struct Report {
    /// Whether alerts are enabled.
    pub enabled: bool,
    /// The topic's ARN, while enabled.
    pub topic: Option<String>,
    /// Its subscriptions.
    pub subscriptions: Vec<topic::Subscription>,
    /// The stack's alarms and their states.
    pub alarms: Vec<alarm::Observed>,
}

/// The report of what `observed` holds.
pub fn report(session: &Session, observed: &Observation) -> Report {
    let _ = session;
    let topic = observed.topic.as_ref().filter(|t| t.tagged);
    Report {
        enabled: topic.is_some(),
        topic: topic.map(|t| t.arn.clone()),
        subscriptions: topic.map(|t| t.subscriptions.clone()).unwrap_or_default(),
        alarms: observed.alarms.iter().filter(|a| a.tagged).cloned().collect(),
    }
}

impl fmt::Display for Report {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let Some(topic) = &self.topic else {
            return writeln!(f, "  alerts   not enabled (`ddns-ctl alerts enable --email ADDRESS`)");
        };
        writeln!(f, "  alerts   topic {topic}")?;
        if self.subscriptions.is_empty() {
            writeln!(
                f,
                "  email    (no subscription: `ddns-ctl alerts enable --email ADDRESS`)"
            )?;
        }
        for s in &self.subscriptions {
            let state = if s.confirmed {
                "confirmed"
            } else {
                "pending confirmation: follow the link in the mail from AWS Notifications"
            };
            writeln!(f, "  email    {} ({state})", s.endpoint)?;
        }
        for a in &self.alarms {
            writeln!(f, "  alarm    {} {}", a.name, a.state)?;
        }
        Ok(())
    }
}

/// What `alerts test` sent.
#[derive(Debug, Serialize)]
struct Tested {
    message_id: String,
    report: Report,
}

impl fmt::Display for Tested {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let confirmed = self.report.subscriptions.iter().filter(|s| s.confirmed).count();
        let pending = self.report.subscriptions.len() - confirmed;
        writeln!(
            f,
            "Published test message {} to {}: {confirmed} confirmed subscription(s) will get it{}.",
            self.message_id,
            self.report.topic.as_deref().unwrap_or_default(),
            if pending > 0 {
                format!("; {pending} pending one(s) will not until confirmed")
            } else {
                String::new()
            }
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn addresses_are_checked_before_anything_is_made() {
        for good in ["me@example.com", "a.b+c@mail.example.org"] {
            assert!(valid_email(good), "{good}");
        }
        for bad in [
            "",
            "me",
            "me@",
            "@example.com",
            "me@example",
            "me@@example.com",
            "me @example.com",
        ] {
            assert!(!valid_email(bad), "{bad}");
        }
    }
}
