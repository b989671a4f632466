//! A custom domain as a whole: its zone, the stack's certificates for it,
//! the validation record, the API Gateway domain, its mapping and the
//! records at its name. Each piece is its own resource module; this one
//! reads them together, says what stops deploy from taking the name, and
//! finds every domain of the stack for teardown.

use ddns_handler::hostname::Hostname;

use super::{AwsError, Clients, alias, certificate, domain, mapping, validation, zone};
use crate::model::Names;

/// Everything that exists of one custom domain.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Observed {
    /// The name, lower case, no trailing dot.
    pub name: String,
    /// The public zone that holds it, if any.
    pub zone: Option<zone::Zone>,
    /// The stack's certificates for the name, the usable one first.
    pub certificates: Vec<certificate::Observed>,
    /// Whether a certificate that is not the stack's is for the name too.
    pub shared_validation: bool,
    /// The usable certificate's validation record in the zone.
    pub validation: validation::Observed,
    /// The API Gateway custom domain of that name.
    pub domain: Option<domain::Observed>,
    /// Its mapping of the empty path.
    pub mapping: Option<mapping::Observed>,
    /// The A, AAAA and CNAME records at the name.
    pub records: alias::Observed,
}

impl Observed {
    /// The certificate deploy keeps: the stack's issued or pending one.
    pub fn certificate(&self) -> Option<&certificate::Observed> {
        self.certificates.first().filter(|c| c.usable())
    }

    /// The API Gateway domain, if it is the stack's.
    pub fn ours(&self) -> Option<&domain::Observed> {
        self.domain.as_ref().filter(|d| d.tagged)
    }

    /// The stack's domain's regional target.
    pub fn target(&self) -> Option<&domain::Target> {
        self.ours().and_then(|d| d.target.as_ref())
    }

    /// Why deploy may not serve the stack at this name; empty if it may.
    pub fn problems(&self) -> Vec<String> {
        let name = &self.name;
        let mut problems = Vec::new();
        if self.zone.is_none() {
            problems.push(format!("{name} is not inside a public hosted zone of this account"));
        }
        if self.domain.as_ref().is_some_and(|d| !d.tagged) {
            problems.push(format!(
                "API Gateway custom domain {name} exists but is not tagged managed-by=ddns-ctl for this stack"
            ));
        }
        for record in self.records.foreign(self.target()) {
            problems.push(format!(
                "{name} already has {record}, which is not this stack's alias; remove it or choose another --domain"
            ));
        }
        if let validation::Observed::Other(record) = &self.validation {
            problems.push(format!(
                "the certificate's validation record is taken: {record} has another value"
            ));
        }
        problems
    }
}

/// A name `deploy --domain` accepts: a host name of two labels or more,
/// without `_` or `*`, which no public certificate may hold.
pub fn parse_name(name: &str) -> Result<String, String> {
    let host = Hostname::parse(name).map_err(|e| format!("invalid domain '{name}': {e}"))?;
    let text = host.to_string().trim_end_matches('.').to_owned();
    if text.contains('_') || !text.contains('.') {
        return Err(format!(
            "invalid domain '{name}': a certificate's name has two labels or more, of letters, digits and hyphens"
        ));
    }
    Ok(text)
}

/// Reads every piece of custom domain `name`: about seven calls.
pub async fn observe(clients: &Clients, names: &Names, name: &str) -> Result<Observed, AwsError> {
    let host = Hostname::parse(name).map_err(|e| AwsError::Call {
        operation: "deploy",
        message: format!("invalid domain {name}: {e}"),
    })?;
    let (zone, (certificates, shared_validation), domain, mapping) = tokio::try_join!(
        zone::find_public(&clients.route53, &host),
        certificate::observe(&clients.acm, names, name),
        domain::observe(&clients.apigateway, names, name),
        mapping::observe(&clients.apigateway, name),
    )?;
    let mut observed = Observed {
        name: name.to_owned(),
        certificates,
        shared_validation,
        domain,
        mapping,
        ..Observed::default()
    };
    if let Some(zone) = &zone {
        observed.records = alias::observe(&clients.route53, &zone.id, name).await?;
        if let Some(record) = observed.certificate().and_then(|c| c.validation.clone()) {
            observed.validation = validation::observe(&clients.route53, &zone.id, &record).await?;
        }
    }
    observed.zone = zone;
    Ok(observed)
}

/// The names of the stack's custom domains (tagged domains), sorted.
pub async fn names(clients: &Clients, names: &Names) -> Result<Vec<String>, AwsError> {
    domain::find(&clients.apigateway, names).await
}

/// Every domain the stack has any piece of, for teardown: its tagged
/// domains and the names of its tagged certificates.
pub async fn find(clients: &Clients, names: &Names) -> Result<Vec<Observed>, AwsError> {
    let mut all = domain::find(&clients.apigateway, names).await?;
    for name in certificate::find(&clients.acm, names).await? {
        if !all.contains(&name) {
            all.push(name);
        }
    }
    all.sort();
    let mut found = Vec::new();
    for name in all {
        found.push(observe(clients, names, &name).await?);
    }
    Ok(found)
}

/// The URL clients call: `https://NAME/` once the stack has a custom
/// domain, else the execute-api URL; `None` before the API exists.
pub async fn endpoint(clients: &Clients, names: &Names) -> Result<Option<String>, AwsError> {
    let domains = domain::find(&clients.apigateway, names).await?;
    endpoint_with(clients, names, &domains).await
}

/// [`endpoint`], for a caller that has the stack's domains already.
pub async fn endpoint_with(clients: &Clients, names: &Names, domains: &[String]) -> Result<Option<String>, AwsError> {
    match domains.first() {
        Some(name) => Ok(Some(Names::domain_endpoint(name))),
        None => super::api::endpoint(&clients.apigateway, names).await,
    }
}
