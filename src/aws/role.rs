//! The Lambda function's IAM role: trusted by Lambda only, with one inline
//! policy rendered from `templates/iam/lambda-policy.json`.

use std::collections::{BTreeMap, BTreeSet};

use aws_sdk_iam::Client;
use aws_sdk_iam::types::Tag;
use ddns_handler::config::{Config, RecordKind};
use percent_encoding::percent_decode_str;
use serde_json::{Value, json};

use super::AwsError;
use crate::model::Names;
use crate::plan::{Action, Change};
use crate::template;

/// The name of the role's inline policy.
pub const POLICY_NAME: &str = "ddns-ctl";

/// IAM's limit on an inline role policy, in characters.
pub const POLICY_LIMIT: usize = 10_240;

/// The records the function may change: for each zone, the exact names of
/// its hosts (lower case, no trailing dot, as IAM normalises them) grouped by
/// the record types they keep.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Grants {
    zones: BTreeMap<String, BTreeMap<Vec<&'static str>, BTreeSet<String>>>,
    /// Some host wants a message when its records change.
    notify: bool,
    /// The alert topic, while alerts are enabled.
    topic_arn: Option<String>,
}

impl Grants {
    /// The grants for `config`'s hosts in `zones` (the checked ones; hosts in
    /// any other zone get nothing).
    pub fn new(config: &Config, zones: &BTreeSet<String>) -> Self {
        Self::covering(&[config], zones)
    }

    /// The grants that cover the hosts of every config in `configs`: what
    /// the role needs while the function may read any one of them. A name
    /// that keeps other types in another config gets the types of both, in
    /// one statement (A then dual is dual, not A and dual).
    pub fn covering(configs: &[&Config], zones: &BTreeSet<String>) -> Self {
        let mut names: BTreeMap<String, BTreeMap<String, BTreeSet<&'static str>>> = BTreeMap::new();
        let hosts = configs.iter().flat_map(|config| config.hosts());
        for host in hosts.filter(|h| zones.contains(h.config.zone_id())) {
            let types: &[&'static str] = match host.config.route_53_record_type {
                RecordKind::A => &["A"],
                RecordKind::Aaaa => &["AAAA"],
                RecordKind::Dual => &["A", "AAAA"],
            };
            let name = host.name.trim_end_matches('.').to_ascii_lowercase();
            let zone = names.entry(host.config.zone_id().to_owned()).or_default();
            // A host with an acme-dns account may also set its challenge
            // record, and TXT there only; a host without one gets no TXT.
            if host.config.acme.is_some() {
                zone.entry(format!("{}.{name}", ddns_handler::config::ACME_CHALLENGE))
                    .or_default()
                    .insert("TXT");
            }
            zone.entry(name).or_default().extend(types);
        }
        let mut grants = Self {
            notify: configs
                .iter()
                .flat_map(|config| config.hosts())
                .any(|h| h.config.notify_on_change),
            ..Self::default()
        };
        for (zone, hosts) in names {
            let groups = grants.zones.entry(zone).or_default();
            for (name, types) in hosts {
                groups.entry(types.into_iter().collect()).or_default().insert(name);
            }
        }
        grants
    }

    /// With the alert topic `arn` (alerts enabled) or without (`None`):
    /// the function may publish to it only while some host wants to hear of
    /// its changes.
    pub fn with_topic(self, arn: Option<String>) -> Self {
        Self { topic_arn: arn, ..self }
    }

    /// The topic the function may publish to, if any.
    pub fn publish_topic(&self) -> Option<&str> {
        self.topic_arn.as_deref().filter(|_| self.notify)
    }

    /// The zones with hosts.
    pub fn zone_ids(&self) -> impl Iterator<Item = &str> {
        self.zones.keys().map(String::as_str)
    }
}

/// What the role should be.
#[derive(Debug, Clone, PartialEq)]
pub struct Desired {
    /// Who may assume it.
    pub trust: Value,
    /// What it may do.
    pub policy: Value,
    /// Zones whose hosts were too many to name within [`POLICY_LIMIT`]: there
    /// the function may change any record below the zone's hosts' common
    /// suffix of the types they keep, never every record of the zone.
    pub patterned_zones: Vec<String>,
}

impl Desired {
    /// The role for `names`: it may read its config, write its logs, list
    /// records in its hosts' zones and UPSERT exactly its hosts' records of
    /// the types they keep.
    pub fn new(names: &Names, config_key: &str, grants: &Grants) -> Self {
        let mut patterned: BTreeSet<String> = BTreeSet::new();
        loop {
            let policy = Self::render(names, config_key, grants, &patterned);
            let fits = policy.to_string().len() <= POLICY_LIMIT;
            // The zone with the most names goes to a pattern first.
            let next = grants
                .zones
                .iter()
                .filter(|(zone, _)| !patterned.contains(*zone))
                .max_by_key(|(_, groups)| groups.values().map(BTreeSet::len).sum::<usize>())
                .map(|(zone, _)| zone.clone());
            match (fits, next) {
                (false, Some(zone)) => {
                    patterned.insert(zone);
                }
                _ => {
                    return Self {
                        trust: template::render(template::LAMBDA_TRUST_POLICY, &[]),
                        policy,
                        patterned_zones: patterned.into_iter().collect(),
                    };
                }
            }
        }
    }

    fn render(names: &Names, config_key: &str, grants: &Grants, patterned: &BTreeSet<String>) -> Value {
        let log_group_arn = names.log_group_arn();
        let zone_arns: Vec<String> = grants.zone_ids().map(|zone| names.zone_arn(zone)).collect();
        let mut policy = template::render(
            template::LAMBDA_POLICY,
            &[
                ("log_group_arn", json!(log_group_arn)),
                ("config_object_arn", json!(names.object_arn(config_key))),
                ("zone_arns", json!(zone_arns)),
            ],
        );
        let mut changes = Vec::new();
        for (zone, groups) in &grants.zones {
            for (types, hosts) in groups {
                let (operator, records): (&str, Vec<String>) = if patterned.contains(zone) {
                    ("ForAllValues:StringLike", suffix_patterns(hosts))
                } else {
                    ("ForAllValues:StringEquals", hosts.iter().cloned().collect())
                };
                // Types and actions are always exact; the names go under their
                // own operator, which may be the same one.
                let mut condition = json!({
                    "ForAllValues:StringEquals": {
                        "route53:ChangeResourceRecordSetsRecordTypes": types,
                        "route53:ChangeResourceRecordSetsActions": ["UPSERT"],
                    },
                });
                condition[operator]["route53:ChangeResourceRecordSetsNormalizedRecordNames"] = json!(records);
                changes.push(json!({
                    "Sid": format!("ChangeRecords{}", changes.len() + 1),
                    "Effect": "Allow",
                    "Action": "route53:ChangeResourceRecordSets",
                    "Resource": names.zone_arn(zone),
                    "Condition": condition,
                }));
            }
        }
        if let Some(topic) = grants.publish_topic() {
            changes.push(json!({
                "Sid": "PublishAlerts",
                "Effect": "Allow",
                "Action": "sns:Publish",
                "Resource": topic,
            }));
        }
        if let Some(statements) = policy["Statement"].as_array_mut() {
            statements.extend(changes);
        }
        policy
    }
}

/// Patterns that cover `hosts` by their parent names (`*.dyn.example.com`
/// for `home.dyn.example.com`), the fewest that do.
fn suffix_patterns(hosts: &BTreeSet<String>) -> Vec<String> {
    let parents: BTreeSet<String> = hosts
        .iter()
        .map(|host| match host.split_once('.') {
            Some((_, parent)) => format!("*.{parent}"),
            None => host.clone(),
        })
        .collect();
    parents.into_iter().collect()
}

/// The role as it exists.
#[derive(Debug, Clone, PartialEq)]
pub struct Observed {
    /// Its ARN.
    pub arn: String,
    /// Its trust policy.
    pub trust: Value,
    /// Its inline policy, if it has one.
    pub policy: Option<Value>,
}

/// Reads the role and its policy (two calls); `None` if there is no role.
pub async fn observe(iam: &Client, names: &Names) -> Result<Option<Observed>, AwsError> {
    let role = match iam.get_role().role_name(&names.role).send().await {
        Ok(out) => out.role,
        Err(err) if err.as_service_error().is_some_and(|e| e.is_no_such_entity_exception()) => return Ok(None),
        Err(err) => return Err(AwsError::from_sdk("GetRole", err)),
    };
    let Some(role) = role else { return Ok(None) };
    if !names.owns(role.tags().iter().map(|t| (t.key(), t.value()))) {
        return Err(AwsError::NotOurs {
            kind: "IAM role",
            name: names.role.clone(),
        });
    }
    let policy = match iam
        .get_role_policy()
        .role_name(&names.role)
        .policy_name(POLICY_NAME)
        .send()
        .await
    {
        Ok(out) => Some(decode_policy(out.policy_document())),
        Err(err) if err.as_service_error().is_some_and(|e| e.is_no_such_entity_exception()) => None,
        Err(err) => return Err(AwsError::from_sdk("GetRolePolicy", err)),
    };
    Ok(Some(Observed {
        arn: role.arn().to_owned(),
        trust: decode_policy(role.assume_role_policy_document().unwrap_or("{}")),
        policy,
    }))
}

/// IAM returns policy documents URL-encoded.
fn decode_policy(document: &str) -> Value {
    let text = percent_decode_str(document).decode_utf8_lossy();
    serde_json::from_str(&text).unwrap_or(Value::Null)
}

/// What applying `desired` would change.
pub fn plan(observed: Option<&Observed>, desired: &Desired) -> Action {
    let Some(observed) = observed else {
        return Action::Create;
    };
    let mut changes = Vec::new();
    if observed.trust != desired.trust {
        changes.push(Change::TrustPolicy);
    }
    if observed.policy.as_ref() != Some(&desired.policy) {
        changes.push(Change::Policy);
    }
    Action::update(changes)
}

/// Carries out `action`; returns the role's ARN when it creates the role.
pub async fn apply(
    iam: &Client,
    names: &Names,
    desired: &Desired,
    action: &Action,
) -> Result<Option<String>, AwsError> {
    let mut arn = None;
    let put_policy = match action {
        Action::Create => {
            arn = Some(create(iam, names, desired).await?);
            true
        }
        Action::Update(changes) => {
            if changes.contains(&Change::TrustPolicy) {
                iam.update_assume_role_policy()
                    .role_name(&names.role)
                    .policy_document(desired.trust.to_string())
                    .send()
                    .await
                    .map_err(AwsError::on("UpdateAssumeRolePolicy"))?;
            }
            changes.contains(&Change::Policy)
        }
        Action::Delete | Action::Unchanged => false,
    };
    if put_policy {
        iam.put_role_policy()
            .role_name(&names.role)
            .policy_name(POLICY_NAME)
            .policy_document(desired.policy.to_string())
            .send()
            .await
            .map_err(AwsError::on("PutRolePolicy"))?;
    }
    Ok(arn)
}

async fn create(iam: &Client, names: &Names, desired: &Desired) -> Result<String, AwsError> {
    let tags = names
        .tags()
        .into_iter()
        .map(|(k, v)| Tag::builder().key(k).value(v).build())
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| AwsError::Call {
            operation: "CreateRole",
            message: e.to_string(),
        })?;
    let created = iam
        .create_role()
        .role_name(&names.role)
        .description(format!("ddns-ctl stack {}: the Lambda function's role", names.stack))
        .assume_role_policy_document(desired.trust.to_string())
        .set_tags(Some(tags))
        .send()
        .await
        .map_err(AwsError::on("CreateRole"))?;
    Ok(created.role().map(|r| r.arn().to_owned()).unwrap_or_default())
}

/// Deletes the role and its inline policy; `false` if it was already gone.
pub async fn delete(iam: &Client, names: &Names) -> Result<bool, AwsError> {
    match iam
        .delete_role_policy()
        .role_name(&names.role)
        .policy_name(POLICY_NAME)
        .send()
        .await
    {
        Ok(_) => {}
        Err(err) if err.as_service_error().is_some_and(|e| e.is_no_such_entity_exception()) => {}
        Err(err) => return Err(AwsError::from_sdk("DeleteRolePolicy", err)),
    }
    let result = iam.delete_role().role_name(&names.role).send().await;
    super::deleted("DeleteRole", result, |e| e.is_no_such_entity_exception())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn policy_is_scoped_to_the_stack() {
        let names = Names::example("home");
        let config = config_of(&[("a.one.example.", "Z1", "A"), ("b.two.example.", "Z2", "A")]);
        let desired = Desired::new(&names, "config.json", &grants(&config, &["Z1", "Z2"]));
        let text = desired.policy.to_string();
        assert!(text.contains("arn:aws:s3:::ddns-ctl-home-123456789012-us-east-1/config.json"));
        assert!(text.contains("arn:aws:route53:::hostedzone/Z1") && text.contains("hostedzone/Z2"));
        assert!(text.contains("log-group:/aws/lambda/ddns-ctl-home:*"));
        for statement in desired.policy["Statement"].as_array().unwrap() {
            assert_ne!(statement["Resource"], "*", "{statement}");
        }
        assert_eq!(
            desired.trust["Statement"][0]["Principal"]["Service"],
            "lambda.amazonaws.com"
        );

        let none = Desired::new(&names, "config.json", &Grants::default());
        assert!(!none.policy.to_string().contains("route53"));
    }

    #[test]
    fn every_arn_is_in_the_regions_partition() {
        let account = crate::model::Account {
            id: "123456789012".into(),
            region: "cn-northwest-1".into(),
        };
        let names = Names::new("home", &account).unwrap();
        let config = config_of(&[("a.one.example.", "Z1", "A")]);
        let desired = Desired::new(&names, "config.json", &grants(&config, &["Z1"]));
        let resources: Vec<String> = desired.policy["Statement"]
            .as_array()
            .unwrap()
            .iter()
            .flat_map(|s| match &s["Resource"] {
                Value::Array(many) => many.iter().map(|r| r.as_str().unwrap().to_owned()).collect(),
                one => vec![one.as_str().unwrap().to_owned()],
            })
            .collect();
        assert!(resources.len() >= 4, "{resources:?}");
        for arn in &resources {
            assert!(arn.starts_with("arn:aws-cn:"), "{arn}");
        }
    }

    fn config_of(hosts: &[(&str, &str, &str)]) -> Config {
        let entries: serde_json::Map<String, Value> = hosts
            .iter()
            .map(|(name, zone, kind)| {
                (
                    (*name).to_owned(),
                    json!({"aws_region": "us-east-1", "route_53_zone_id": zone, "route_53_record_ttl": 60,
                           "route_53_record_type": kind, "shared_secret": "a-secret-of-enough-length"}),
                )
            })
            .collect();
        Config::from_slice(Value::Object(entries).to_string().as_bytes()).unwrap()
    }

    fn grants(config: &Config, zones: &[&str]) -> Grants {
        Grants::new(config, &zones.iter().map(|z| (*z).to_owned()).collect())
    }

    #[test]
    fn only_acme_hosts_may_set_txt_and_only_at_their_challenge_name() {
        let mut config = config_of(&[
            ("home.example.com.", "Z1", "dual"),
            ("nas.example.com", "Z1", "A"),
            ("plain.example.com", "Z1", "A"),
        ]);
        for name in ["home.example.com.", "nas.example.com"] {
            let mut host = config.host(name).unwrap().config.clone();
            host.acme = Some(ddns_handler::config::AcmeAccount {
                username: "c36f50e8-4632-44f0-83fe-e070fef28a10".into(),
                key_sha256: "0".repeat(64),
                subdomain: "8e5700ea-a4bf-41c7-8a77-e990661dcc6a".into(),
                allow_from: vec![],
                extra: Default::default(),
            });
            config.upsert(name, host);
        }
        let desired = Desired::new(&Names::example("ddns"), "config.json", &grants(&config, &["Z1"]));
        let txt: Vec<_> = changes(&desired)
            .into_iter()
            .filter(|(_, _, _, types)| types.as_array().unwrap().iter().any(|t| t == "TXT"))
            .collect();
        assert_eq!(txt.len(), 1, "{:#}", desired.policy);
        let (_, operator, names, types) = &txt[0];
        assert_eq!(operator, "ForAllValues:StringEquals");
        assert_eq!(types, &json!(["TXT"]));
        assert_eq!(
            names,
            &json!(["_acme-challenge.home.example.com", "_acme-challenge.nas.example.com"])
        );

        // Without any acme host, no statement names TXT at all.
        let plain = config_of(&[("plain.example.com", "Z1", "A")]);
        let desired = Desired::new(&Names::example("ddns"), "config.json", &grants(&plain, &["Z1"]));
        assert!(!desired.policy.to_string().contains("TXT"), "{:#}", desired.policy);
    }

    /// The Route53 change statements: (zone ARN, operator, names, types).
    fn changes(desired: &Desired) -> Vec<(String, String, Value, Value)> {
        desired.policy["Statement"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|s| s["Action"] == "route53:ChangeResourceRecordSets")
            .map(|s| {
                let condition = s["Condition"].as_object().unwrap();
                let (operator, names) = condition
                    .iter()
                    .find_map(|(op, c)| {
                        c.get("route53:ChangeResourceRecordSetsNormalizedRecordNames")
                            .map(|n| (op.clone(), n.clone()))
                    })
                    .unwrap();
                let fixed = &condition["ForAllValues:StringEquals"];
                assert_eq!(fixed["route53:ChangeResourceRecordSetsActions"], json!(["UPSERT"]));
                (
                    s["Resource"].as_str().unwrap().to_owned(),
                    operator,
                    names,
                    fixed["route53:ChangeResourceRecordSetsRecordTypes"].clone(),
                )
            })
            .collect()
    }

    #[test]
    fn the_function_may_upsert_exactly_its_hosts_records_of_their_types() {
        let names = Names::example("home");
        let config = config_of(&[
            ("Home.Dyn.Example.", "Z1", "A"),
            ("six.dyn.example.", "Z1", "AAAA"),
            ("both.dyn.example.", "Z1", "dual"),
            ("nas.dyn.example", "Z1", "A"),
            ("elsewhere.other.example.", "Z9", "A"),
        ]);
        // Z9 was not checked (it does not exist): its host gets nothing.
        let desired = Desired::new(&names, "config.json", &grants(&config, &["Z1"]));
        let zone = "arn:aws:route53:::hostedzone/Z1".to_owned();
        let exact = "ForAllValues:StringEquals".to_owned();
        assert_eq!(
            changes(&desired),
            [
                (
                    zone.clone(),
                    exact.clone(),
                    json!(["home.dyn.example", "nas.dyn.example"]),
                    json!(["A"])
                ),
                (
                    zone.clone(),
                    exact.clone(),
                    json!(["both.dyn.example"]),
                    json!(["A", "AAAA"])
                ),
                (zone.clone(), exact.clone(), json!(["six.dyn.example"]), json!(["AAAA"])),
            ]
        );
        assert!(desired.patterned_zones.is_empty());
        // Listing stays zone-wide (reads only), in the checked zones only.
        let list = &desired.policy["Statement"]
            .as_array()
            .unwrap()
            .iter()
            .find(|s| s["Sid"] == "HostRecords")
            .unwrap()["Resource"];
        assert_eq!(list, &json!([zone]));

        // A removed host drops out of the policy.
        let fewer = config_of(&[("Home.Dyn.Example.", "Z1", "A")]);
        let desired = Desired::new(&names, "config.json", &grants(&fewer, &["Z1"]));
        assert_eq!(changes(&desired).len(), 1);
        assert!(!desired.policy.to_string().contains("nas.dyn.example"));
    }

    #[test]
    fn grants_covering_two_configs_allow_what_either_needs() {
        let read = config_of(&[("home.dyn.example.", "Z1", "A"), ("six.dyn.example.", "Z1", "AAAA")]);
        let written = config_of(&[
            ("home.dyn.example.", "Z1", "dual"),
            ("six.dyn.example.", "Z1", "A"),
            ("new.other.example.", "Z2", "A"),
        ]);
        let zones = ["Z1".to_owned(), "Z2".to_owned()].into();
        let covering = Grants::covering(&[&read, &written], &zones);
        let desired = Desired::new(&Names::example("home"), "config.json", &covering);
        let zone = |z: &str| format!("arn:aws:route53:::hostedzone/{z}");
        let exact = "ForAllValues:StringEquals".to_owned();
        // Each name once, with the types of both configs; the new zone too.
        assert_eq!(
            changes(&desired),
            [
                (
                    zone("Z1"),
                    exact.clone(),
                    json!(["home.dyn.example", "six.dyn.example"]),
                    json!(["A", "AAAA"])
                ),
                (zone("Z2"), exact.clone(), json!(["new.other.example"]), json!(["A"])),
            ]
        );
        // What the written config alone needs is what `new` renders.
        assert_eq!(Grants::covering(&[&written], &zones), Grants::new(&written, &zones));
    }

    #[test]
    fn too_many_names_fall_back_to_a_pattern_never_to_the_whole_zone() {
        let names = Names::example("home");
        let many: Vec<(String, &str, &str)> = (0..400)
            .map(|i| (format!("host-number-{i}.dyn.example."), "Z1", "A"))
            .chain([("solo.small.example.".to_owned(), "Z2", "A")])
            .collect();
        let hosts: Vec<(&str, &str, &str)> = many.iter().map(|(n, z, k)| (n.as_str(), *z, *k)).collect();
        let desired = Desired::new(&names, "config.json", &grants(&config_of(&hosts), &["Z1", "Z2"]));
        assert!(desired.policy.to_string().len() <= POLICY_LIMIT);
        assert_eq!(desired.patterned_zones, ["Z1"]);
        let statements = changes(&desired);
        assert!(statements.contains(&(
            "arn:aws:route53:::hostedzone/Z1".to_owned(),
            "ForAllValues:StringLike".to_owned(),
            json!(["*.dyn.example"]),
            json!(["A"])
        )));
        // The small zone keeps its exact name.
        assert!(statements.contains(&(
            "arn:aws:route53:::hostedzone/Z2".to_owned(),
            "ForAllValues:StringEquals".to_owned(),
            json!(["solo.small.example"]),
            json!(["A"])
        )));
        for statement in desired.policy["Statement"].as_array().unwrap() {
            if statement["Action"] == "route53:ChangeResourceRecordSets" {
                assert!(statement.get("Condition").is_some(), "{statement}");
            }
        }
    }

    #[test]
    fn the_function_may_publish_to_the_topic_only_while_a_host_wants_it() {
        let names = Names::example("home");
        let topic = Some(names.topic_arn());
        let plain = config_of(&[("a.one.example.", "Z1", "A")]);
        let mut notifying = plain.clone();
        notifying.host_mut("a.one.example.").unwrap().notify_on_change = true;
        let publish = |config: &Config, topic: Option<String>| {
            let desired = Desired::new(&names, "config.json", &grants(config, &["Z1"]).with_topic(topic));
            desired.policy["Statement"]
                .as_array()
                .unwrap()
                .iter()
                .filter(|s| s.to_string().contains("sns:"))
                .cloned()
                .collect::<Vec<_>>()
        };
        assert!(publish(&plain, topic.clone()).is_empty());
        assert!(publish(&notifying, None).is_empty());
        assert_eq!(
            publish(&notifying, topic),
            [
                json!({"Sid": "PublishAlerts", "Effect": "Allow", "Action": "sns:Publish",
                    "Resource": "arn:aws:sns:us-east-1:123456789012:ddns-ctl-home-alerts"})
            ]
        );
    }

    #[test]
    fn decodes_iam_documents() {
        let doc = decode_policy("%7B%22Version%22%3A%222012-10-17%22%7D");
        assert_eq!(doc, json!({"Version": "2012-10-17"}));
    }
}
