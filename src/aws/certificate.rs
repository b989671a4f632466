//! The custom domain's TLS certificate: a public ACM certificate for the
//! domain, in the stack's region (a REGIONAL API Gateway domain takes its
//! certificate only from there), validated by DNS and tagged for the stack.
//!
//! ACM issues it once its validation record (`validation`) resolves, and
//! renews it by itself for as long as that record stays. Public
//! certificates used with API Gateway cost nothing.

use std::time::{Duration, Instant};

use aws_sdk_acm::Client;
use aws_sdk_acm::types::{CertificateDetail, CertificateStatus, Tag, ValidationMethod};

use super::AwsError;
use super::retry::{Cause, Retry, Wait};
use crate::model::Names;
use crate::plan::Action;

/// The CNAME record ACM asks for, as ACM gives it (absolute names, with the
/// trailing dot).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Validation {
    /// The record's name: `_<token>.<domain>.`.
    pub name: String,
    /// Its value: `_<token>.<…>.acm-validations.aws.`.
    pub value: String,
}

/// One of the stack's certificates.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Observed {
    /// Its ARN.
    pub arn: String,
    /// The name it is for.
    pub domain: String,
    /// ACM's status: `PENDING_VALIDATION`, `ISSUED`, `FAILED`, …
    pub status: String,
    /// When it expires (seconds since the epoch), once issued.
    pub not_after: Option<i64>,
    /// The validation record, once ACM has made it up.
    pub validation: Option<Validation>,
}

impl Observed {
    /// Whether API Gateway may use it.
    pub fn issued(&self) -> bool {
        self.status == CertificateStatus::Issued.as_str()
    }

    /// Whether it is issued or on its way to it: a certificate deploy keeps.
    pub fn usable(&self) -> bool {
        self.issued() || self.status == CertificateStatus::PendingValidation.as_str()
    }
}

/// The stack's certificates for `domain` (every status, the usable one
/// first), and whether some certificate of the account that is not the
/// stack's is for the same name: ACM gives every certificate of an account
/// for one name the same validation record, so that record then stays.
pub async fn observe(acm: &Client, names: &Names, domain: &str) -> Result<(Vec<Observed>, bool), AwsError> {
    let mut ours = Vec::new();
    let mut shared = false;
    for summary in list(acm).await? {
        if summary.domain != domain && !summary.alternatives.iter().any(|n| n == domain) {
            continue;
        }
        if owned(acm, names, &summary.arn).await? {
            ours.push(describe(acm, &summary.arn).await?);
        } else {
            shared = true;
        }
    }
    ours.sort_by_key(|c| (!c.issued(), !c.usable()));
    Ok((ours, shared))
}

/// The names of every certificate of the stack's (teardown's search).
pub async fn find(acm: &Client, names: &Names) -> Result<Vec<String>, AwsError> {
    let mut domains = Vec::new();
    for summary in list(acm).await? {
        if owned(acm, names, &summary.arn).await? && !domains.contains(&summary.domain) {
            domains.push(summary.domain);
        }
    }
    Ok(domains)
}

struct Summary {
    arn: String,
    domain: String,
    alternatives: Vec<String>,
}

/// Every certificate in the region, through every page.
async fn list(acm: &Client) -> Result<Vec<Summary>, AwsError> {
    let mut found = Vec::new();
    let mut pages = acm.list_certificates().into_paginator().send();
    while let Some(page) = pages.next().await {
        for s in page
            .map_err(AwsError::on("ListCertificates"))?
            .certificate_summary_list()
        {
            found.push(Summary {
                arn: s.certificate_arn().unwrap_or_default().to_owned(),
                domain: s.domain_name().unwrap_or_default().to_lowercase(),
                alternatives: s
                    .subject_alternative_name_summaries()
                    .iter()
                    .map(|n| n.to_lowercase())
                    .collect(),
            });
        }
    }
    Ok(found)
}

async fn owned(acm: &Client, names: &Names, arn: &str) -> Result<bool, AwsError> {
    let tags = acm
        .list_tags_for_certificate()
        .certificate_arn(arn)
        .send()
        .await
        .map_err(AwsError::on("ListTagsForCertificate"))?;
    Ok(names.owns(tags.tags().iter().map(|t| (t.key(), t.value().unwrap_or_default()))))
}

async fn describe(acm: &Client, arn: &str) -> Result<Observed, AwsError> {
    let out = acm
        .describe_certificate()
        .certificate_arn(arn)
        .send()
        .await
        .map_err(AwsError::on("DescribeCertificate"))?;
    let detail = out.certificate().ok_or_else(|| AwsError::Call {
        operation: "DescribeCertificate",
        message: format!("no certificate in the answer for {arn}"),
    })?;
    Ok(observed(arn, detail))
}

fn observed(arn: &str, detail: &CertificateDetail) -> Observed {
    let validation = detail
        .domain_validation_options()
        .iter()
        .find_map(|v| v.resource_record())
        .map(|r| Validation {
            name: r.name().to_lowercase(),
            value: r.value().to_lowercase(),
        });
    Observed {
        arn: arn.to_owned(),
        domain: detail.domain_name().unwrap_or_default().to_lowercase(),
        status: detail.status().map(|s| s.as_str().to_owned()).unwrap_or_default(),
        not_after: detail.not_after().map(|t| t.secs()),
        validation,
    }
}

/// Deploy requests a certificate when the stack has none it can use for
/// the name; an issued or pending one is kept.
pub fn plan(observed: Option<&Observed>) -> Action {
    match observed.filter(|c| c.usable()) {
        Some(_) => Action::Unchanged,
        None => Action::Create,
    }
}

/// How long deploy waits on ACM.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Patience {
    /// For the validation record to appear in a new certificate: ACM makes
    /// it up within seconds of the request, but not always before the
    /// first DescribeCertificate.
    pub record: Duration,
    /// For ACM to issue: usually a minute or two after the record is in
    /// the zone, at times much longer.
    pub issue: Duration,
    /// The first pause between two reads; it doubles up to 15 s.
    pub poll: Duration,
}

impl Default for Patience {
    fn default() -> Self {
        Self {
            record: Duration::from_secs(120),
            issue: Duration::from_secs(15 * 60),
            poll: Duration::from_secs(2),
        }
    }
}

/// A new idempotency token for one request, which the SDK's retries of it
/// repeat, so that a retried request gets the same certificate, not a
/// second. It is new for every request: ACM remembers a token for an hour
/// and would answer it with a certificate deleted since (a teardown and a
/// deploy within the hour). A request whose answer was lost leaves a tagged
/// certificate, which the next deploy reuses and teardown deletes.
fn token() -> Result<String, AwsError> {
    let mut bytes = [0u8; 16];
    getrandom::fill(&mut bytes).map_err(|e| AwsError::Call {
        operation: "RequestCertificate",
        message: format!("no random token: {e}"),
    })?;
    Ok(bytes.iter().map(|b| format!("{b:02x}")).collect())
}

/// Requests a certificate for `domain`, tagged for the stack, and waits for
/// its validation record.
pub async fn request(
    acm: &Client,
    names: &Names,
    domain: &str,
    patience: &Patience,
    retry: &Retry<'_>,
) -> Result<Observed, AwsError> {
    let tags: Vec<Tag> = names
        .tags()
        .into_iter()
        .map(|(k, v)| Tag::builder().key(k).value(v).build())
        .collect::<Result<_, _>>()
        .map_err(|e| AwsError::Call {
            operation: "RequestCertificate",
            message: e.to_string(),
        })?;
    let request = acm
        .request_certificate()
        .domain_name(domain)
        .validation_method(ValidationMethod::Dns)
        .idempotency_token(token()?)
        .set_tags(Some(tags));
    let out = retry
        .call("RequestCertificate", || request.clone().send())
        .await
        .map_err(AwsError::on("RequestCertificate"))?;
    let arn = out.certificate_arn().unwrap_or_default().to_owned();
    let started = Instant::now();
    let mut pause = patience.poll;
    loop {
        let certificate = describe(acm, &arn).await?;
        if certificate.validation.is_some() {
            return Ok(certificate);
        }
        if started.elapsed() + pause > patience.record {
            return Err(AwsError::Call {
                operation: "DescribeCertificate",
                message: format!(
                    "ACM gave certificate {arn} no DNS validation record within {} s; run `ddns-ctl deploy --domain {domain}` again",
                    patience.record.as_secs()
                ),
            });
        }
        tokio::time::sleep(pause).await;
        pause = (pause * 2).min(Duration::from_secs(15));
    }
}

/// Waits until ACM has issued certificate `arn`, telling `retry`'s listener
/// of each pause. Fails at once if validation failed, and after
/// [`Patience::issue`] with what to check.
pub async fn wait_issued(acm: &Client, arn: &str, patience: &Patience, retry: &Retry<'_>) -> Result<(), AwsError> {
    let started = Instant::now();
    let mut pause = patience.poll;
    let mut polls = 0;
    loop {
        let out = acm
            .describe_certificate()
            .certificate_arn(arn)
            .send()
            .await
            .map_err(AwsError::on("DescribeCertificate"))?;
        let detail = out
            .certificate()
            .cloned()
            .unwrap_or_else(|| CertificateDetail::builder().build());
        let certificate = observed(arn, &detail);
        if certificate.issued() {
            return Ok(());
        }
        if !certificate.usable() {
            let reason = detail
                .failure_reason()
                .map(|r| format!(" ({})", r.as_str()))
                .unwrap_or_default();
            return Err(AwsError::Call {
                operation: "DescribeCertificate",
                message: format!(
                    "ACM did not issue the certificate for {domain}: it is {}{reason}; run `ddns-ctl deploy --domain {domain}` \
                     again to request a new one",
                    certificate.status,
                    domain = certificate.domain
                ),
            });
        }
        let waited = started.elapsed();
        if waited + pause > patience.issue {
            let record = certificate
                .validation
                .as_ref()
                .map(|v| format!("{} CNAME {}", v.name, v.value))
                .unwrap_or_else(|| "its validation record".to_owned());
            return Err(AwsError::Call {
                operation: "DescribeCertificate",
                message: format!(
                    "ACM has not issued the certificate for {domain} after {minutes} minutes (still {status}). It issues \
                     once {record} resolves publicly: check that the zone's name servers are Route53's (dig NS), then \
                     run `ddns-ctl deploy --domain {domain}` again to keep waiting; ACM keeps trying for 72 hours",
                    domain = certificate.domain,
                    minutes = waited.as_secs() / 60,
                    status = certificate.status
                ),
            });
        }
        polls += 1;
        retry.tell(&Wait {
            operation: "DescribeCertificate",
            delay: pause,
            cause: Cause::Pending {
                message: format!(
                    "ACM has not issued the certificate yet ({}, {} s so far; it usually takes a minute or two)",
                    certificate.status,
                    waited.as_secs()
                ),
            },
            retry: polls,
        });
        tokio::time::sleep(pause).await;
        pause = (pause * 2).min(Duration::from_secs(15));
    }
}

/// Deletes certificate `arn`; `false` if it was already gone. ACM refuses
/// while API Gateway still holds it, which lasts a little while after the
/// domain that used it is deleted: that is waited out.
pub async fn delete(acm: &Client, arn: &str, retry: &Retry<'_>) -> Result<bool, AwsError> {
    let result = retry
        .call("DeleteCertificate", || {
            acm.delete_certificate().certificate_arn(arn).send()
        })
        .await;
    super::deleted("DeleteCertificate", result, |e| e.is_resource_not_found_exception())
}

#[cfg(test)]
mod tests {
    use aws_sdk_acm::operation::describe_certificate::DescribeCertificateOutput;
    use aws_sdk_acm::operation::request_certificate::RequestCertificateOutput;
    use aws_sdk_acm::types::{DomainValidation, RecordType, ResourceRecord};
    use aws_smithy_mocks::{RuleMode, mock, mock_client};

    use super::*;
    use crate::aws::retry::Policy;

    const ARN: &str = "arn:aws:acm:us-east-1:123456789012:certificate/1";

    fn detail(status: CertificateStatus, record: bool) -> DescribeCertificateOutput {
        let mut validation = DomainValidation::builder()
            .domain_name("ddns.example.com")
            .validation_method(ValidationMethod::Dns);
        if record {
            validation = validation.resource_record(
                ResourceRecord::builder()
                    .name("_a1.ddns.example.com.")
                    .r#type(RecordType::Cname)
                    .value("_b2.acm-validations.aws.")
                    .build()
                    .unwrap(),
            );
        }
        DescribeCertificateOutput::builder()
            .certificate(
                CertificateDetail::builder()
                    .certificate_arn(ARN)
                    .domain_name("ddns.example.com")
                    .status(status)
                    .domain_validation_options(validation.build().unwrap())
                    .build(),
            )
            .build()
    }

    fn quick() -> Patience {
        Patience {
            record: Duration::from_millis(200),
            issue: Duration::from_millis(200),
            poll: Duration::from_millis(1),
        }
    }

    #[tokio::test]
    async fn a_new_certificate_is_read_again_until_acm_has_made_up_its_record() {
        // AWS: "it can take a few seconds" before DescribeCertificate lists
        // the ResourceRecord of a certificate just requested.
        let requested = mock!(Client::request_certificate)
            .then_output(|| RequestCertificateOutput::builder().certificate_arn(ARN).build());
        let described = mock!(Client::describe_certificate)
            .sequence()
            .output(|| detail(CertificateStatus::PendingValidation, false))
            .times(2)
            .output(|| detail(CertificateStatus::PendingValidation, true))
            .build();
        let acm = mock_client!(aws_sdk_acm, RuleMode::MatchAny, [&requested, &described]);
        let on_wait = |_: &Wait| {};
        let retry = Retry::new(Policy { scale: 0.0 }, &on_wait);
        let got = request(&acm, &Names::example("ddns"), "ddns.example.com", &quick(), &retry)
            .await
            .expect("the record comes on the third read");
        assert_eq!(described.num_calls(), 3);
        assert_eq!(
            got.validation,
            Some(Validation {
                name: "_a1.ddns.example.com.".into(),
                value: "_b2.acm-validations.aws.".into()
            })
        );
    }

    #[tokio::test]
    async fn deploy_waits_for_issue_and_says_so_then_gives_up_with_what_to_check() {
        let described = mock!(Client::describe_certificate)
            .sequence()
            .output(|| detail(CertificateStatus::PendingValidation, true))
            .times(3)
            .output(|| detail(CertificateStatus::Issued, true))
            .build();
        let acm = mock_client!(aws_sdk_acm, RuleMode::MatchAny, [&described]);
        let waits = std::cell::RefCell::new(Vec::new());
        let on_wait = |w: &Wait| waits.borrow_mut().push(w.to_string());
        let retry = Retry::new(Policy { scale: 0.0 }, &on_wait);
        wait_issued(&acm, ARN, &quick(), &retry)
            .await
            .expect("issued on the fourth read");
        let waits = waits.borrow().clone();
        assert_eq!(waits.len(), 3, "{waits:?}");
        assert!(
            waits[0].contains("ACM has not issued the certificate yet (PENDING_VALIDATION"),
            "{waits:?}"
        );

        let pending =
            mock!(Client::describe_certificate).then_output(|| detail(CertificateStatus::PendingValidation, true));
        let acm = mock_client!(aws_sdk_acm, RuleMode::MatchAny, [&pending]);
        let err = wait_issued(&acm, ARN, &quick(), &retry).await.unwrap_err().to_string();
        assert!(
            err.contains("has not issued the certificate for ddns.example.com"),
            "{err}"
        );
        assert!(
            err.contains("_a1.ddns.example.com. CNAME _b2.acm-validations.aws."),
            "{err}"
        );
        assert!(
            err.contains("run `ddns-ctl deploy --domain ddns.example.com` again"),
            "{err}"
        );

        let failed = mock!(Client::describe_certificate).then_output(|| detail(CertificateStatus::Failed, true));
        let acm = mock_client!(aws_sdk_acm, RuleMode::MatchAny, [&failed]);
        let err = wait_issued(&acm, ARN, &quick(), &retry).await.unwrap_err().to_string();
        assert!(err.contains("it is FAILED"), "{err}");
        assert_eq!(failed.num_calls(), 1, "a failed validation is not waited on");
    }

    #[tokio::test]
    async fn acm_letting_go_of_a_deleted_domain_s_certificate_is_waited_out() {
        // AWS: DeleteCertificate answers ResourceInUseException for a while
        // after the API Gateway domain that used it is deleted.
        let in_use = || {
            aws_sdk_acm::operation::delete_certificate::DeleteCertificateError::ResourceInUseException(
                aws_sdk_acm::types::error::ResourceInUseException::builder()
                    .message("Certificate is in use.")
                    .meta(
                        aws_smithy_types::error::ErrorMetadata::builder()
                            .code("ResourceInUseException")
                            .message("Certificate is in use.")
                            .build(),
                    )
                    .build(),
            )
        };
        let deleted = mock!(Client::delete_certificate)
            .sequence()
            .error(in_use)
            .times(3)
            .output(|| aws_sdk_acm::operation::delete_certificate::DeleteCertificateOutput::builder().build())
            .build();
        let acm = mock_client!(aws_sdk_acm, RuleMode::MatchAny, [&deleted], |conf| conf
            .retry_config(aws_sdk_acm::config::retry::RetryConfig::disabled()));
        let waits = std::cell::RefCell::new(Vec::new());
        let on_wait = |w: &Wait| waits.borrow_mut().push(w.cause.clone());
        let retry = Retry::new(Policy { scale: 0.0 }, &on_wait);
        assert!(delete(&acm, ARN, &retry).await.expect("deleted on the fourth try"));
        assert_eq!(deleted.num_calls(), 4);
        assert_eq!(waits.borrow().as_slice(), [Cause::InUse, Cause::InUse, Cause::InUse]);
    }

    #[test]
    fn each_request_has_a_token_of_its_own_that_acm_accepts() {
        let first = token().unwrap();
        // ACM: up to 32 characters of \w.
        assert_eq!(first.len(), 32);
        assert!(first.bytes().all(|b| b.is_ascii_hexdigit()));
        assert_ne!(first, token().unwrap());
    }
}
