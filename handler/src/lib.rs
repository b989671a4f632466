//! The ddns-ctl service: a dynamic-DNS endpoint that keeps Route53 A and AAAA
//! records pointed at the hosts that call it.
//!
//! It speaks two protocols over one update path:
//! - the seed API from "Architecting Serverless Dynamic DNS Using AWS
//!   Services" (`mode=get` / `mode=set` with a SHA-256 proof), byte for byte;
//! - dyndns2 (`/nic/update` with Basic auth), for ddclient, inadyn and routers.
//!
//! The same [`router`] runs behind two front doors: [`lambda`] for API
//! Gateway REST events and [`local`] for a plain HTTP server. Hosts and their
//! secrets live in a JSON [`config`] object in S3.
#![cfg_attr(not(test), deny(clippy::unwrap_used, clippy::expect_used, clippy::panic))]

pub mod address;
pub mod auth;
pub mod config;
pub mod dns;
pub mod hostname;
#[cfg(feature = "lambda")]
pub mod lambda;
pub mod local;
pub mod notify;
pub mod protocol;
pub mod query;
pub mod record;
pub mod router;
pub mod service;
pub mod store;
pub mod update;

mod strict_json;

pub use router::{CallerIp, router};
pub use service::{Service, Settings};

/// Builds an S3 client. Path-style addressing is used whenever a custom
/// endpoint is set, because emulators such as moto and LocalStack cannot
/// serve virtual-hosted bucket names without DNS tricks.
pub fn s3_client(sdk: &aws_config::SdkConfig) -> aws_sdk_s3::Client {
    let config = aws_sdk_s3::config::Builder::from(sdk)
        .force_path_style(sdk.endpoint_url().is_some())
        .build();
    aws_sdk_s3::Client::from_conf(config)
}

/// Formats an error with all its sources on one line. The SDK's errors keep
/// the useful part (the service's own message) a level or two down.
pub fn error_chain(err: &(dyn std::error::Error + 'static)) -> String {
    let mut text = err.to_string();
    let mut source = err.source();
    while let Some(cause) = source {
        text.push_str(": ");
        text.push_str(&cause.to_string());
        source = cause.source();
    }
    text
}
