//! The API Gateway custom domain name: REGIONAL, dual-stack like the API,
//! TLS 1.2, with the stack's certificate and tags. API Gateway gives it a
//! regional target (`d-….execute-api.REGION.amazonaws.com` and that
//! region's hosted zone), at which the alias records (`alias`) point.
//!
//! API Gateway allows one CreateDomainName, UpdateDomainName and
//! DeleteDomainName per 30 s per account, so each goes through the retry.

use std::collections::HashMap;

use aws_sdk_apigateway::Client;
use aws_sdk_apigateway::types::{EndpointConfiguration, EndpointType, IpAddressType, SecurityPolicy};

use super::AwsError;
use super::api::replace as patch;
use super::retry::Retry;
use crate::model::Names;
use crate::plan::{Action, Change};

/// Where the domain's alias records point.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Target {
    /// The regional domain name, lower case, without the trailing dot.
    pub dns_name: String,
    /// The hosted zone API Gateway serves it from in the region.
    pub zone_id: String,
}

/// The custom domain as it exists.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Observed {
    /// The name.
    pub name: String,
    /// Whether it carries the stack's tags: only then is it the stack's.
    pub tagged: bool,
    /// Whether it is REGIONAL (an EDGE domain is not one deploy makes).
    pub regional: bool,
    /// Whether it answers over IPv6 too.
    pub dualstack: bool,
    /// Its certificate's ARN.
    pub certificate_arn: Option<String>,
    /// Its TLS security policy.
    pub security_policy: Option<String>,
    /// Its regional target, once API Gateway has given it one.
    pub target: Option<Target>,
}

/// The names of the custom domains tagged for the stack, in order.
pub async fn find(apigateway: &Client, names: &Names) -> Result<Vec<String>, AwsError> {
    let mut found = Vec::new();
    let mut pages = apigateway.get_domain_names().limit(500).into_paginator().send();
    while let Some(page) = pages.next().await {
        for item in page.map_err(AwsError::on("GetDomainNames"))?.items() {
            let name = item.domain_name().unwrap_or_default().to_owned();
            if tags(apigateway, names, &name, item.tags()).await? {
                found.push(name);
            }
        }
    }
    found.sort();
    Ok(found)
}

/// Whether the domain's tags (as listed, else read) are the stack's.
async fn tags(
    apigateway: &Client,
    names: &Names,
    domain: &str,
    listed: Option<&HashMap<String, String>>,
) -> Result<bool, AwsError> {
    let owns = |tags: &HashMap<String, String>| names.owns(tags.iter().map(|(k, v)| (k.as_str(), v.as_str())));
    if let Some(listed) = listed.filter(|t| !t.is_empty()) {
        return Ok(owns(listed));
    }
    let out = apigateway
        .get_tags()
        .resource_arn(names.domain_arn(domain))
        .send()
        .await
        .map_err(AwsError::on("GetTags"))?;
    Ok(out.tags().is_some_and(owns))
}

/// Reads custom domain `domain`; `None` if the account has none by that name.
pub async fn observe(apigateway: &Client, names: &Names, domain: &str) -> Result<Option<Observed>, AwsError> {
    let out = match apigateway.get_domain_name().domain_name(domain).send().await {
        Ok(out) => out,
        Err(err) if err.as_service_error().is_some_and(|e| e.is_not_found_exception()) => return Ok(None),
        Err(err) => return Err(AwsError::from_sdk("GetDomainName", err)),
    };
    let endpoint = out.endpoint_configuration();
    let target = target(out.regional_domain_name(), out.regional_hosted_zone_id());
    Ok(Some(Observed {
        name: domain.to_owned(),
        tagged: tags(apigateway, names, domain, out.tags()).await?,
        regional: endpoint.is_some_and(|e| e.types().contains(&EndpointType::Regional)),
        dualstack: endpoint.and_then(EndpointConfiguration::ip_address_type) == Some(&IpAddressType::Dualstack),
        certificate_arn: out.regional_certificate_arn().map(str::to_owned),
        security_policy: out.security_policy().map(|p| p.as_str().to_owned()),
        target,
    }))
}

/// A DNS name as Route53 and API Gateway compare: lower case, no trailing dot.
pub fn bare(name: &str) -> String {
    name.trim_end_matches('.').to_lowercase()
}

/// What the domain needs to use certificate `certificate_arn` (`None`:
/// one about to be requested).
pub fn plan(observed: Option<&Observed>, certificate_arn: Option<&str>) -> Action {
    let Some(domain) = observed else {
        return Action::Create;
    };
    let mut changes = Vec::new();
    if certificate_arn.is_none() || domain.certificate_arn.as_deref() != certificate_arn {
        changes.push(Change::Certificate);
    }
    if !domain.dualstack {
        changes.push(Change::DualStack);
    }
    if domain.security_policy.as_deref() != Some(SecurityPolicy::Tls12.as_str()) {
        changes.push(Change::SecurityPolicy);
    }
    Action::update(changes)
}

/// Creates or updates the domain as `action` says, with certificate
/// `certificate_arn`; returns its regional target.
pub async fn apply(
    apigateway: &Client,
    names: &Names,
    domain: &str,
    certificate_arn: &str,
    action: &Action,
    retry: &Retry<'_>,
) -> Result<Option<Target>, AwsError> {
    let out = match action {
        Action::Create => {
            let create = apigateway
                .create_domain_name()
                .domain_name(domain)
                .regional_certificate_arn(certificate_arn)
                .endpoint_configuration(
                    EndpointConfiguration::builder()
                        .types(EndpointType::Regional)
                        .ip_address_type(IpAddressType::Dualstack)
                        .build(),
                )
                .security_policy(SecurityPolicy::Tls12)
                .set_tags(Some(names.tags().into_iter().collect()));
            let out = retry
                .call("CreateDomainName", || create.clone().send())
                .await
                .map_err(AwsError::on("CreateDomainName"))?;
            target(out.regional_domain_name(), out.regional_hosted_zone_id())
        }
        Action::Update(changes) => {
            let mut update = apigateway.update_domain_name().domain_name(domain);
            for change in changes {
                update = match change {
                    Change::Certificate => update.patch_operations(patch("/regionalCertificateArn", certificate_arn)),
                    Change::DualStack => update.patch_operations(patch(
                        "/endpointConfiguration/ipAddressType",
                        IpAddressType::Dualstack.as_str(),
                    )),
                    Change::SecurityPolicy => {
                        update.patch_operations(patch("/securityPolicy", SecurityPolicy::Tls12.as_str()))
                    }
                    other => {
                        return Err(AwsError::NotApplicable {
                            resource: "custom domain",
                            change: other.to_string(),
                        });
                    }
                };
            }
            let out = retry
                .call("UpdateDomainName", || update.clone().send())
                .await
                .map_err(AwsError::on("UpdateDomainName"))?;
            target(out.regional_domain_name(), out.regional_hosted_zone_id())
        }
        Action::Unchanged | Action::Delete => None,
    };
    Ok(out)
}

/// The regional target API Gateway answered, if it answered one.
fn target(dns_name: Option<&str>, zone_id: Option<&str>) -> Option<Target> {
    Some(Target {
        dns_name: bare(dns_name?),
        zone_id: zone_id?.to_owned(),
    })
}

/// Deletes the domain (and with it its mappings); `false` if it was gone.
pub async fn delete(apigateway: &Client, domain: &str, retry: &Retry<'_>) -> Result<bool, AwsError> {
    let result = retry
        .call("DeleteDomainName", || {
            apigateway.delete_domain_name().domain_name(domain).send()
        })
        .await;
    super::deleted("DeleteDomainName", result, |e| e.is_not_found_exception())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn domain() -> Observed {
        Observed {
            name: "ddns.example.com".into(),
            tagged: true,
            regional: true,
            dualstack: true,
            certificate_arn: Some("arn:c1".into()),
            security_policy: Some("TLS_1_2".into()),
            target: None,
        }
    }

    #[test]
    fn a_domain_as_deploy_made_it_is_unchanged_and_each_difference_is_one_change() {
        assert_eq!(plan(None, Some("arn:c1")), Action::Create);
        assert_eq!(plan(Some(&domain()), Some("arn:c1")), Action::Unchanged);
        assert_eq!(
            plan(Some(&domain()), Some("arn:c2")),
            Action::Update(vec![Change::Certificate])
        );
        let drifted = Observed {
            dualstack: false,
            security_policy: Some("TLS_1_0".into()),
            ..domain()
        };
        assert_eq!(
            plan(Some(&drifted), Some("arn:c1")),
            Action::Update(vec![Change::DualStack, Change::SecurityPolicy])
        );
    }
}
