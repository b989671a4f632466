//! A stack as the planner sees it: what exists (`observe`, reads only),
//! what should exist (`Desired`), and the two planners, both pure:
//! [`plan`] brings what exists to what should, [`sweep`] deletes what
//! teardown found. The executor runs either.
//!
//! Every resource appears here in the same four places, in the order deploy
//! creates them: a field of [`Observation`], its read in [`observe`], a
//! field of [`Desired`], and its step in [`plan`].

use std::collections::BTreeMap;

use crate::aws::function::Code;
use crate::aws::{
    AwsError, Clients, alarm, alias, api, bucket, certificate, custom_domain, domain, function, log_group, mapping,
    metric_filter, permission, role, stage, topic, validation, zone,
};
use crate::model::{DomainChoice, ExecuteApi, Names, Settings};
use crate::plan::{Action, Kind, Plan, Step};

/// Everything that exists of a stack.
#[derive(Debug, Clone, Default)]
pub struct Observation {
    /// The role.
    pub role: Option<role::Observed>,
    /// The bucket, with the config.
    pub bucket: Option<bucket::Observed>,
    /// The function's log group.
    pub log_group: Option<log_group::Observed>,
    /// The function.
    pub function: Option<function::Observed>,
    /// The API.
    pub api: Option<api::Observed>,
    /// The API's stage.
    pub stage: Option<stage::Observed>,
    /// The invoke permission's source ARN.
    pub permission: Option<String>,
    /// The config's hosts checked against the account's zones: the role is
    /// rendered from these zones only.
    pub zones: zone::Checked,
    /// The alert topic, if there is one (alerts are enabled while it exists
    /// with the stack's tags).
    pub topic: Option<topic::Observed>,
    /// The alarms with the stack's prefix.
    pub alarms: Vec<alarm::Observed>,
    /// The stack's metric filters on its log group.
    pub filters: Vec<metric_filter::Desired>,
    /// The stack's custom domains (tagged), and the one deploy was asked
    /// for, each with every piece of it.
    pub domains: Vec<custom_domain::Observed>,
}

impl Observation {
    /// The endpoint clients call, once the API and its stage exist: the
    /// custom domain's when the stack has one.
    pub fn endpoint(&self, names: &Names, stage: &str) -> Option<String> {
        let api = self.api.as_ref()?;
        self.stage.as_ref()?;
        if let Some(domain) = self.domain() {
            return Some(Names::domain_endpoint(&domain.name));
        }
        Some(names.endpoint(&api.id, stage))
    }

    /// The stack's custom domain (the first, should there be two).
    pub fn domain(&self) -> Option<&custom_domain::Observed> {
        self.domains.iter().find(|d| d.ours().is_some())
    }

    /// The custom domain of this name, as observed.
    pub fn domain_named(&self, name: &str) -> Option<&custom_domain::Observed> {
        self.domains.iter().find(|d| d.name == name)
    }

    /// The name the stack should be served at after a deploy with `choice`.
    pub fn wanted_domain(&self, choice: &DomainChoice) -> Option<String> {
        match choice {
            DomainChoice::Set(name) => Some(name.clone()),
            DomainChoice::Remove => None,
            DomainChoice::Keep => self.domain().map(|d| d.name.clone()),
        }
    }

    /// How many hosts the config has.
    pub fn host_count(&self) -> usize {
        self.bucket
            .as_ref()
            .and_then(|b| b.config.as_ref())
            .map_or(0, |c| c.len())
    }

    /// Whether alerts are enabled: the stack's tagged topic exists.
    pub fn alerts_enabled(&self) -> bool {
        self.topic.as_ref().is_some_and(|t| t.tagged)
    }

    /// The config, if it was read.
    pub fn config(&self) -> Option<&ddns_handler::config::Config> {
        self.bucket.as_ref().and_then(|b| b.config.as_ref())
    }

    /// The settings as they exist (architecture, throttling, retention),
    /// for commands that cannot know the flags of the last deploy.
    pub fn settings(&self) -> Settings {
        let defaults = Settings::default();
        let stage = self.stage.as_ref();
        Settings {
            arch: self.function.as_ref().and_then(|f| f.arch).unwrap_or(defaults.arch),
            rate_limit: stage.and_then(|s| s.rate_limit).unwrap_or(defaults.rate_limit),
            burst_limit: stage.and_then(|s| s.burst_limit).unwrap_or(defaults.burst_limit),
            log_retention_days: self
                .log_group
                .as_ref()
                .and_then(|g| g.retention_days)
                .unwrap_or(defaults.log_retention_days),
            ..defaults
        }
    }

    /// Whether any part of the stack exists.
    pub fn exists(&self) -> bool {
        self.role.is_some() || self.bucket.is_some() || self.function.is_some() || self.api.is_some()
    }
}

/// Reads every resource of the stack: reads only, about fifteen calls.
pub async fn observe(clients: &Clients, names: &Names, settings: &Settings) -> Result<Observation, AwsError> {
    let (role, bucket, log_group, function, api) = tokio::try_join!(
        role::observe(&clients.iam, names),
        bucket::observe(&clients.s3, names, &settings.key, &clients.patience),
        log_group::observe(&clients.logs, names),
        function::observe(&clients.lambda, names),
        api::observe(&clients.apigateway, names),
    )?;
    // Alarms and filters are read only while alerts are on, so a stack
    // without alerts costs one read more than before (the topic).
    let topic = topic::observe(&clients.sns, names).await?;
    let (alarms, filters) = match &topic {
        Some(t) if t.tagged => tokio::try_join!(
            alarm::observe(&clients.cloudwatch, names),
            metric_filter::observe(&clients.logs, names),
        )?,
        _ => (vec![], vec![]),
    };
    let stage = async {
        match &api {
            Some(api) => stage::observe(&clients.apigateway, &api.id, &settings.stage).await,
            None => Ok(None),
        }
    };
    let permission = async {
        match &function {
            Some(_) => permission::observe(&clients.lambda, names).await,
            None => Ok(None),
        }
    };
    let zones = async {
        match bucket.as_ref().and_then(|b| b.config.as_ref()) {
            Some(config) => zone::check(&clients.route53, config).await,
            None => Ok(zone::Checked::default()),
        }
    };
    let domains = async {
        let mut wanted = custom_domain::names(clients, names).await?;
        if let DomainChoice::Set(name) = &settings.domain
            && !wanted.contains(name)
        {
            wanted.push(name.clone());
        }
        let mut domains = Vec::new();
        for name in wanted {
            domains.push(custom_domain::observe(clients, names, &name).await?);
        }
        Ok(domains)
    };
    let (stage, permission, mut zones, domains) = tokio::try_join!(stage, permission, zones, domains)?;
    if let Some(reason) = bucket.as_ref().and_then(|b| b.invalid.clone()) {
        zones
            .problems
            .insert(0, format!("the function refuses the whole config: {reason}"));
    }
    Ok(Observation {
        role,
        bucket,
        log_group,
        function,
        api,
        stage,
        permission,
        zones,
        topic,
        alarms,
        filters,
        domains,
    })
}

/// What exists of the alerts: the topic, the alarms and the filters.
pub async fn observe_alerts(
    clients: &Clients,
    names: &Names,
) -> Result<
    (
        Option<topic::Observed>,
        Vec<alarm::Observed>,
        Vec<metric_filter::Desired>,
    ),
    AwsError,
> {
    tokio::try_join!(
        topic::observe(&clients.sns, names),
        alarm::observe(&clients.cloudwatch, names),
        metric_filter::observe(&clients.logs, names),
    )
}

/// What the alerts should be, while they are enabled.
#[derive(Debug, Clone, PartialEq)]
pub struct Alerts {
    /// The topic.
    pub topic: topic::Desired,
    /// The metric filters (one per host with an alert-after).
    pub filters: Vec<metric_filter::Desired>,
    /// The alarms: the stack's three, then one per host with an alert-after.
    pub alarms: Vec<alarm::Desired>,
}

impl Alerts {
    /// The alerts for the hosts of `config` (none without one), with
    /// `emails` to subscribe. A host whose name no filter can match exactly
    /// gets no filter or alarm (`host add/set` refuse such a name first).
    pub fn new(names: &Names, stage: &str, config: Option<&ddns_handler::config::Config>, emails: Vec<String>) -> Self {
        let topic_arn = names.topic_arn();
        let mut alarms = alarm::stack_alarms(names, stage, &topic_arn);
        let mut filters = Vec::new();
        for host in config.into_iter().flat_map(|c| c.hosts()) {
            let Some(secs) = host.config.alert_after_secs else {
                continue;
            };
            let name = ddns_handler::record::normalized(host.name);
            if let Ok(filter) = metric_filter::silence(names, &name) {
                filters.push(filter);
                alarms.push(alarm::silence(names, &name, secs, &topic_arn));
            }
        }
        Self {
            topic: topic::Desired { emails },
            filters,
            alarms,
        }
    }
}

/// The alert steps: the topic, then each filter and each alarm, creating,
/// updating or deleting them so that they are what `desired` says (none
/// when alerts are off). Only what carries the stack's tags or its exact
/// names is deleted.
pub fn plan_alerts(names: &Names, observed: &Observation, desired: Option<&Alerts>) -> (Option<Step>, Vec<Step>) {
    let step = |kind, name: &str, action| Step {
        kind,
        name: name.to_owned(),
        action,
    };
    let ours = observed.topic.as_ref().filter(|t| t.tagged);
    let topic = match (desired, ours) {
        (Some(d), _) => Some(step(
            Kind::Topic,
            &names.topic,
            topic::plan(observed.topic.as_ref(), &d.topic),
        )),
        (None, Some(_)) => Some(step(Kind::Topic, &names.topic, Action::Delete)),
        (None, None) => None,
    };
    let mut rest = Vec::new();
    let no_filters = Vec::new();
    let wanted_filters = desired.map_or(&no_filters, |d| &d.filters);
    for filter in wanted_filters {
        let found = observed.filters.iter().find(|f| f.name == filter.name);
        rest.push(step(
            Kind::MetricFilter,
            &filter.name,
            metric_filter::plan(found, filter),
        ));
    }
    for filter in &observed.filters {
        if !wanted_filters.iter().any(|f| f.name == filter.name) {
            rest.push(step(Kind::MetricFilter, &filter.name, Action::Delete));
        }
    }
    let no_alarms = Vec::new();
    let wanted_alarms = desired.map_or(&no_alarms, |d| &d.alarms);
    for alarm in wanted_alarms {
        let found = observed.alarms.iter().find(|a| a.name == alarm.name);
        rest.push(step(Kind::Alarm, &alarm.name, alarm::plan(found, alarm)));
    }
    for alarm in observed.alarms.iter().filter(|a| a.tagged) {
        if !wanted_alarms.iter().any(|a| a.name == alarm.name) {
            rest.push(step(Kind::Alarm, &alarm.name, Action::Delete));
        }
    }
    (topic, rest)
}

/// What every resource should be. The role's permissions follow the zones
/// of the hosts in the config as observed, as far as they were checked.
#[derive(Debug, Clone)]
pub struct Desired {
    /// The config object's key.
    pub key: String,
    /// The role.
    pub role: role::Desired,
    /// The log group.
    pub log_group: log_group::Desired,
    /// The function.
    pub function: function::Desired,
    /// The API.
    pub api: api::Desired,
    /// The stage.
    pub stage: stage::Desired,
    /// The alerts, while they are enabled.
    pub alerts: Option<Alerts>,
    /// The custom domain, if the stack has one.
    pub domain: Option<Domain>,
}

/// The custom domain deploy serves the stack at.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Domain {
    /// Its name.
    pub name: String,
    /// The id of the public zone that holds it.
    pub zone_id: String,
}

impl Desired {
    /// The desired state for `settings`, deploying `code`; alerts stay as
    /// they are (enabled iff the stack's tagged topic exists).
    pub fn new(names: &Names, settings: &Settings, observed: &Observation, code: Code) -> Self {
        let alerts = observed
            .alerts_enabled()
            .then(|| Alerts::new(names, &settings.stage, observed.config(), vec![]));
        Self::with_alerts(names, settings, observed, code, alerts)
    }

    /// The desired state with `alerts` (`alerts enable`, `alerts disable`).
    pub fn with_alerts(
        names: &Names,
        settings: &Settings,
        observed: &Observation,
        code: Code,
        alerts: Option<Alerts>,
    ) -> Self {
        let mut environment = BTreeMap::from([
            (ddns_handler::service::env::BUCKET.to_owned(), names.bucket.clone()),
            (ddns_handler::service::env::KEY.to_owned(), settings.key.clone()),
        ]);
        // The function publishes host changes to the topic named here.
        if alerts.is_some() {
            environment.insert(ddns_handler::service::env::ALERT_TOPIC.to_owned(), names.topic_arn());
        }
        let topic_arn = alerts.as_ref().map(|_| names.topic_arn());
        let domain = observed.wanted_domain(&settings.domain).map(|name| Domain {
            zone_id: observed
                .domain_named(&name)
                .and_then(|d| d.zone.as_ref())
                .map(|z| z.id.clone())
                .unwrap_or_default(),
            name,
        });
        // Without a domain the execute-api URL is the only way in, so it
        // is never disabled then.
        let disabled = domain.is_some()
            && match settings.execute_api {
                ExecuteApi::Disable => true,
                ExecuteApi::Enable => false,
                ExecuteApi::Keep => observed.api.as_ref().is_some_and(|a| a.execute_api_disabled),
            };
        Self {
            key: settings.key.clone(),
            role: role::Desired::new(
                names,
                &settings.key,
                &observed
                    .bucket
                    .as_ref()
                    .and_then(|b| b.config.as_ref())
                    .map(|config| role::Grants::new(config, &observed.zones.zones))
                    .unwrap_or_default()
                    .with_topic(topic_arn),
            ),
            log_group: log_group::Desired {
                retention_days: settings.log_retention_days,
            },
            function: function::Desired {
                role_arn: names.role_arn(),
                arch: settings.arch,
                code,
                memory_mb: crate::model::function_memory_mb(observed.bucket.as_ref().map_or(0, |b| b.config_bytes)),
                environment,
                log_group: names.log_group.clone(),
            },
            api: api::Desired {
                disable_execute_api_endpoint: disabled,
                ..api::Desired::new(names)
            },
            stage: stage::Desired {
                name: settings.stage.clone(),
                rate_limit: settings.rate_limit,
                burst_limit: settings.burst_limit,
            },
            alerts,
            domain,
        }
    }
}

/// The plan that brings `observed` to `desired`: one step per resource, in
/// the order they must be made.
pub fn plan(names: &Names, observed: &Observation, desired: &Desired) -> Plan {
    let api = api::plan(observed.api.as_ref(), &desired.api);
    // Any change to the API reaches clients only through a new deployment.
    let stage = stage::plan(observed.stage.as_ref(), &desired.stage, &api);
    // A permission names the API's id, unknown until a new API exists.
    let wanted_source = observed
        .api
        .as_ref()
        .filter(|_| api != Action::Create)
        .map(|a| permission::source_arn(names, &a.id, &desired.stage.name));
    let permission_id = crate::model::PERMISSION_ID.to_owned();
    let (topic, alerts) = plan_alerts(names, observed, desired.alerts.as_ref());
    let steps = [
        (
            Kind::Role,
            &names.role,
            role::plan(observed.role.as_ref(), &desired.role),
        ),
        (
            Kind::Bucket,
            &names.bucket,
            bucket::plan(observed.bucket.as_ref(), names),
        ),
        (
            Kind::LogGroup,
            &names.log_group,
            log_group::plan(observed.log_group.as_ref(), &desired.log_group),
        ),
        (
            Kind::Function,
            &names.function,
            function::plan(observed.function.as_ref(), &desired.function),
        ),
        (Kind::Api, &names.api, api.clone()),
        (Kind::Stage, &desired.stage.name, stage),
        (
            Kind::Permission,
            &permission_id,
            permission::plan(observed.permission.as_deref(), wanted_source.as_deref()),
        ),
    ];
    let mut steps: Vec<Step> = steps
        .into_iter()
        .map(|(kind, name, action)| Step {
            kind,
            name: name.clone(),
            action,
        })
        .collect();
    // The topic before the function, whose environment names it; the
    // filters and alarms last, once the log group, function and API exist.
    if let Some(topic) = topic {
        let at = steps
            .iter()
            .position(|s| s.kind == Kind::Function)
            .unwrap_or(steps.len());
        steps.insert(at, topic);
    }
    steps.extend(plan_domains(observed, desired, &api));
    steps.extend(alerts);
    Plan { steps }
}

/// The custom domain's steps, once the API and its stage exist: the
/// certificate, its validation record, the domain, the mapping and the
/// aliases of the wanted domain; then, for every other domain of the
/// stack's, the deletes teardown would make.
fn plan_domains(observed: &Observation, desired: &Desired, api: &Action) -> Vec<Step> {
    let step = |kind, name: &str, action| Step {
        kind,
        name: name.to_owned(),
        action,
    };
    let mut steps = Vec::new();
    if let Some(wanted) = &desired.domain {
        let none = custom_domain::Observed::default();
        let found = observed.domain_named(&wanted.name).unwrap_or(&none);
        let certificate = found.certificate();
        let certificate_step = certificate::plan(certificate);
        let domain_step = domain::plan(
            found.ours(),
            certificate
                .filter(|_| certificate_step != Action::Create)
                .map(|c| c.arn.as_str()),
        );
        let api_id = observed
            .api
            .as_ref()
            .filter(|_| *api != Action::Create)
            .map(|a| a.id.as_str());
        let target = found.target().filter(|_| domain_step != Action::Create);
        let validation_step = validation::plan(&certificate_step, &found.validation);
        // The certificate is requested before its record can be written.
        steps.extend([
            step(Kind::Certificate, &wanted.name, certificate_step),
            step(Kind::ValidationRecord, &wanted.name, validation_step),
            step(Kind::Domain, &wanted.name, domain_step.clone()),
            step(
                Kind::Mapping,
                &wanted.name,
                mapping::plan(found.mapping.as_ref(), &domain_step, api_id, &desired.stage.name),
            ),
            step(Kind::AliasRecords, &wanted.name, alias::plan(&found.records, target)),
        ]);
    }
    for other in &observed.domains {
        if desired.domain.as_ref().is_some_and(|d| d.name == other.name) {
            continue;
        }
        steps.extend(sweep_domain(other));
    }
    steps
}

/// The deletes that remove every piece of the stack's of one custom
/// domain, in the order that lets each go: the aliases, the mapping, the
/// domain, the certificates, and last the validation record. Only pieces
/// proven the stack's are named.
fn sweep_domain(found: &custom_domain::Observed) -> Vec<Step> {
    let delete = |kind| Step {
        kind,
        name: found.name.clone(),
        action: Action::Delete,
    };
    let mut steps = Vec::new();
    let ours = found.ours();
    if ours.is_some() && !found.records.ours(found.target()).is_empty() {
        steps.push(delete(Kind::AliasRecords));
    }
    if ours.is_some() && found.mapping.is_some() {
        steps.push(delete(Kind::Mapping));
    }
    if ours.is_some() {
        steps.push(delete(Kind::Domain));
    }
    if !found.certificates.is_empty() {
        steps.push(delete(Kind::Certificate));
    }
    if found.validation == validation::Observed::Present && !found.shared_validation {
        steps.push(delete(Kind::ValidationRecord));
    }
    steps
}

/// What teardown found of a stack: only what carries the stack's tags.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Found {
    /// Every REST API tagged for the stack, strays included.
    pub apis: Vec<String>,
    /// The function.
    pub function: bool,
    /// The log group (tagged; one Lambda made untagged is left alone).
    pub log_group: bool,
    /// The bucket.
    pub bucket: bool,
    /// The role.
    pub role: bool,
    /// The alert topic (tagged).
    pub topic: bool,
    /// The stack's alarms (tagged).
    pub alarms: Vec<String>,
    /// The stack's metric filters (exact prefix, log group and namespace).
    pub filters: Vec<String>,
    /// The stack's custom domains: every piece of each.
    pub domains: Vec<custom_domain::Observed>,
    /// Resources with the stack's names that are not ours, and why.
    pub skipped: Vec<String>,
}

/// Finds what teardown may delete. Everything is looked at before anything
/// is deleted, so that a refusal halfway (a denied read) deletes nothing.
pub async fn find(clients: &Clients, names: &Names) -> Result<Found, AwsError> {
    let mut found = Found::default();
    let mut ours = |seen: Result<bool, AwsError>| match seen {
        Ok(present) => Ok(present),
        Err(err @ AwsError::NotOurs { .. }) => {
            found.skipped.push(err.to_string());
            Ok(false)
        }
        Err(err) => Err(err),
    };
    let observed = function::observe(&clients.lambda, names).await;
    // The config the function reads: a config that does not parse is still
    // the stack's to delete, and this is where it would fail to.
    let key = match &observed {
        Ok(Some(f)) => f.environment.get(ddns_handler::service::env::KEY).cloned(),
        _ => None,
    }
    .unwrap_or_else(|| crate::model::DEFAULT_KEY.to_owned());
    let function = ours(observed.map(|f| f.is_some()))?;
    let bucket = ours(
        bucket::observe(&clients.s3, names, &key, &clients.patience)
            .await
            .map(|b| b.is_some()),
    )
    .or_else(|err| match err {
        // A config that does not parse is still ours to delete.
        AwsError::Call {
            operation: "GetObject", ..
        } => Ok(true),
        other => Err(other),
    })?;
    let role = ours(role::observe(&clients.iam, names).await.map(|r| r.is_some()))?;
    let log_group = log_group::observe(&clients.logs, names)
        .await?
        .is_some_and(|g| g.tagged);
    let (topic, alarms, filters) = observe_alerts(clients, names).await?;
    if topic.as_ref().is_some_and(|t| !t.tagged) {
        found.skipped.push(format!(
            "SNS topic {} exists but is not tagged managed-by=ddns-ctl",
            names.topic
        ));
    }
    Ok(Found {
        topic: topic.is_some_and(|t| t.tagged),
        alarms: alarms.into_iter().filter(|a| a.tagged).map(|a| a.name).collect(),
        filters: filters.into_iter().map(|f| f.name).collect(),
        apis: api::find(&clients.apigateway, names).await?,
        domains: custom_domain::find(clients, names).await?,
        function,
        log_group,
        bucket,
        role,
        ..found
    })
}

/// The teardown plan: delete what was found, in the reverse of the order
/// deploy makes it. `keep_config` leaves the bucket.
pub fn sweep(names: &Names, found: &Found, keep_config: bool) -> Plan {
    let delete = |kind, name: &str| Step {
        kind,
        name: name.to_owned(),
        action: Action::Delete,
    };
    // The custom domains first: a mapping holds on to the API. Then
    // alarms, filters and topic: a filter goes with its log group.
    let mut steps: Vec<Step> = found.domains.iter().flat_map(sweep_domain).collect();
    steps.extend(found.alarms.iter().map(|n| delete(Kind::Alarm, n)));
    steps.extend(found.filters.iter().map(|n| delete(Kind::MetricFilter, n)));
    if found.topic {
        steps.push(delete(Kind::Topic, &names.topic));
    }
    steps.extend(found.apis.iter().map(|id| delete(Kind::Api, id)));
    let rest = [
        (found.function, Kind::Function, &names.function),
        (found.log_group, Kind::LogGroup, &names.log_group),
        (found.bucket && !keep_config, Kind::Bucket, &names.bucket),
        (found.role, Kind::Role, &names.role),
    ];
    steps.extend(
        rest.into_iter()
            .filter(|(present, _, _)| *present)
            .map(|(_, kind, name)| delete(kind, name)),
    );
    Plan { steps }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn names() -> Names {
        Names::example("ddns")
    }

    #[test]
    fn a_new_stack_is_created_in_dependency_order() {
        let names = names();
        let observed = Observation::default();
        let desired = Desired::new(&names, &Settings::default(), &observed, Code::Unbuilt);
        let plan = plan(&names, &observed, &desired);
        let kinds: Vec<Kind> = plan.steps.iter().map(|s| s.kind).collect();
        assert_eq!(
            kinds,
            [
                Kind::Role,
                Kind::Bucket,
                Kind::LogGroup,
                Kind::Function,
                Kind::Api,
                Kind::Stage,
                Kind::Permission
            ]
        );
        assert!(plan.steps.iter().all(|s| s.action == Action::Create), "{plan}");
    }

    #[test]
    fn teardown_deletes_what_it_found_in_reverse_order() {
        let names = names();
        let found = Found {
            apis: vec!["a1".into(), "stray".into()],
            function: true,
            log_group: true,
            bucket: true,
            role: true,
            ..Found::default()
        };
        let plan = sweep(&names, &found, false);
        let steps: Vec<(Kind, &str)> = plan.steps.iter().map(|s| (s.kind, s.name.as_str())).collect();
        assert_eq!(
            steps,
            [
                (Kind::Api, "a1"),
                (Kind::Api, "stray"),
                (Kind::Function, "ddns-ctl-ddns"),
                (Kind::LogGroup, "/aws/lambda/ddns-ctl-ddns"),
                (Kind::Bucket, "ddns-ctl-ddns-123456789012-us-east-1"),
                (Kind::Role, "ddns-ctl-ddns-us-east-1"),
            ]
        );
        assert!(plan.steps.iter().all(|s| s.action == Action::Delete));
        let kept = sweep(&names, &found, true);
        assert!(kept.steps.iter().all(|s| s.kind != Kind::Bucket));
        assert!(sweep(&names, &Found::default(), false).steps.is_empty());
    }
}
