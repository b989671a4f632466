//! Loading the AWS SDK configuration from the global flags and the standard
//! credential chain.

use aws_config::{BehaviorVersion, SdkConfig};

use crate::cli::GlobalArgs;

/// The SDK configuration for these flags: region, profile and endpoint
/// override, falling back to the standard chain for each.
pub async fn sdk_config(global: &GlobalArgs) -> SdkConfig {
    let mut loader = aws_config::defaults(BehaviorVersion::latest());
    if let Some(region) = &global.region {
        loader = loader.region(aws_config::Region::new(region.clone()));
    }
    if let Some(profile) = &global.profile {
        loader = loader.profile_name(profile);
    }
    if let Some(url) = &global.endpoint_url {
        loader = loader.endpoint_url(url);
    }
    loader.load().await
}
