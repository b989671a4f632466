//! The command line, as clap derive types. Doc comments here are the help
//! text users see.

use std::net::SocketAddr;
use std::path::PathBuf;

use clap::{Args, Parser, Subcommand};

/// Your own dynamic DNS on AWS: deploy it, manage hosts, keep them updated.
#[derive(Debug, Parser)]
#[command(name = "ddns-ctl", version, about, propagate_version = true)]
pub struct Cli {
    #[command(flatten)]
    pub global: GlobalArgs,

    #[command(subcommand)]
    pub command: Command,
}

/// Flags every command takes.
#[derive(Debug, Args)]
pub struct GlobalArgs {
    /// AWS region (default: from the profile or AWS_REGION).
    #[arg(long, global = true, env = "AWS_REGION", value_name = "REGION")]
    pub region: Option<String>,

    /// Named profile from ~/.aws/config.
    #[arg(long, global = true, env = "AWS_PROFILE", value_name = "NAME")]
    pub profile: Option<String>,

    /// Send AWS requests here instead of to AWS, e.g. a moto or LocalStack
    /// server at http://127.0.0.1:5000.
    #[arg(long, global = true, env = "AWS_ENDPOINT_URL", value_name = "URL")]
    pub endpoint_url: Option<String>,

    /// Log more (-v: debug, -vv: trace).
    #[arg(short, long, global = true, action = clap::ArgAction::Count, conflicts_with = "quiet")]
    pub verbose: u8,

    /// Log errors only.
    #[arg(short, long, global = true)]
    pub quiet: bool,
}

/// The subcommands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Run the service as a local HTTP server, with the same code as the
    /// Lambda function.
    ///
    /// Example: ddns-ctl --endpoint-url http://127.0.0.1:5000 serve --bucket my-ddns-config
    Serve(ServeArgs),
}

/// `ddns-ctl serve`.
#[derive(Debug, Args)]
pub struct ServeArgs {
    /// Address and port to listen on.
    #[arg(long, default_value = "127.0.0.1:8080", value_name = "ADDR:PORT")]
    pub listen: SocketAddr,

    /// The S3 bucket that holds the config.
    #[arg(long, value_name = "BUCKET")]
    pub bucket: String,

    /// The config object's key.
    #[arg(long, default_value = ddns_handler::config::DEFAULT_KEY, value_name = "KEY")]
    pub key: String,

    /// Seconds a cached config is trusted before it is revalidated.
    #[arg(long, default_value_t = ddns_handler::service::DEFAULT_MAX_AGE.as_secs(), value_name = "SECS")]
    pub config_max_age: u64,

    /// Take the caller's address from X-Forwarded-For. Only behind a reverse
    /// proxy you run: otherwise clients can claim any address.
    #[arg(long)]
    pub trust_forwarded_for: bool,

    /// Write the bound address to this file once listening (useful with
    /// --listen 127.0.0.1:0).
    #[arg(long, value_name = "FILE")]
    pub ready_file: Option<PathBuf>,
}
