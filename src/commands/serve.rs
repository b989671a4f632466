//! `ddns-ctl serve`: the service on a local port, against real S3 and
//! Route53 (or an emulator).

use std::time::Duration;

use anyhow::Context as _;
use ddns_handler::local::{self, Limits, LocalOptions};
use ddns_handler::{Service, Settings};
use tokio::net::TcpListener;

use crate::cli::{GlobalArgs, ServeArgs};

/// Serves until Ctrl-C or SIGTERM.
pub async fn run(global: &GlobalArgs, args: ServeArgs) -> anyhow::Result<()> {
    let sdk = super::connection(global).sdk_config().await;
    let bucket = match args.bucket {
        Some(bucket) => bucket,
        // The stack's bucket: its name needs the account, so ask STS.
        None => crate::commands::Session::connect(global).await?.names.bucket,
    };
    let settings = Settings {
        bucket,
        key: args.key,
        max_age: Duration::from_secs(args.config_max_age),
        alert_topic: args.alert_topic,
    };
    let config = format!("s3://{}/{}", settings.bucket, settings.key);
    let service = Service::new(&sdk, settings);

    let listener = TcpListener::bind(args.listen)
        .await
        .with_context(|| format!("cannot listen on {}", args.listen))?;
    let bound = listener.local_addr().context("cannot read the listening address")?;
    tracing::info!(listen = %bound, config = %config, "serving");
    if let Some(path) = &args.ready_file {
        std::fs::write(path, bound.to_string()).with_context(|| format!("cannot write {}", path.display()))?;
    }
    let options = LocalOptions {
        trust_forwarded_for: args.trust_forwarded_for,
        stage: Some(args.stage).filter(|s| !s.is_empty()),
        limits: Limits {
            header_timeout: Duration::from_secs(args.header_timeout),
            max_connections: usize::try_from(args.max_connections).unwrap_or(usize::MAX),
            shutdown_grace: Duration::from_secs(args.shutdown_grace),
        },
    };
    local::serve(listener, service, options, shutdown_signal())
        .await
        .context("the server stopped with an error")
}

async fn shutdown_signal() {
    let ctrl_c = async {
        // If the handler cannot be installed, serving on without it is better
        // than not serving.
        if tokio::signal::ctrl_c().await.is_err() {
            std::future::pending::<()>().await;
        }
    };
    #[cfg(unix)]
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut signal) => {
                signal.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! {
        () = ctrl_c => {},
        () = term => {},
    }
    tracing::info!("shutting down");
}
