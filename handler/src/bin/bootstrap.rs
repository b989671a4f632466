//! The Lambda function's entry point (`bootstrap` in the `provided.al2023`
//! runtime): reads its settings from the environment and serves API Gateway
//! REST events until the runtime stops it.

use ddns_handler::{Service, Settings};

#[tokio::main]
async fn main() -> Result<(), lambda_http::Error> {
    lambda_http::tracing::init_default_subscriber();
    let settings = Settings::from_env()?;
    let sdk = aws_config::load_defaults(aws_config::BehaviorVersion::latest()).await;
    ddns_handler::lambda::run(Service::new(&sdk, settings)).await
}
