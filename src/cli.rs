//! The command line, as clap derive types. Doc comments here are the help
//! text users see.

use std::net::SocketAddr;
use std::path::PathBuf;

use clap::{Args, Parser, Subcommand, ValueEnum};

use crate::aws::function::Arch;

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
    /// The stack: names every resource ddns-ctl creates, so several stacks
    /// can live in one account.
    #[arg(long, global = true, env = "DDNS_STACK", default_value = "ddns", value_name = "NAME")]
    pub name: String,

    /// How to print results.
    #[arg(long, global = true, value_enum, default_value_t = OutputFormat::Text, value_name = "FORMAT")]
    pub output: OutputFormat,

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

/// How results are printed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum OutputFormat {
    /// For people.
    Text,
    /// For scripts.
    Json,
}

/// The subcommands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Create or update the stack: IAM role, config bucket, Lambda function
    /// and API Gateway stage. Shows the plan first; changes only what differs.
    ///
    /// Examples:
    ///   ddns-ctl deploy --dry-run
    ///   ddns-ctl --name home --region eu-west-1 deploy --yes
    ///   ddns-ctl deploy --handler-zip bootstrap.zip --rate-limit 2
    Deploy(DeployArgs),

    /// Delete everything ddns-ctl created for the stack (found by its tags).
    /// Hosted zones and their records are never touched.
    ///
    /// Example: ddns-ctl --name home teardown --yes
    Teardown(TeardownArgs),

    /// Show each resource of the stack as present, missing or drifted, the
    /// endpoint and the host count. Exits 0 only when the stack is healthy.
    ///
    /// Example: ddns-ctl status --output json
    Status,

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

    /// The S3 bucket that holds the config (default: the stack's bucket).
    #[arg(long, value_name = "BUCKET")]
    pub bucket: Option<String>,

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

/// `ddns-ctl deploy`.
#[derive(Debug, Args)]
pub struct DeployArgs {
    /// The function's CPU architecture.
    #[arg(long, value_enum, default_value_t = Arch::Arm64)]
    pub arch: Arch,

    /// Deploy this prebuilt zip (with an executable `bootstrap`) instead of
    /// building the handler.
    #[arg(long, value_name = "PATH")]
    pub handler_zip: Option<PathBuf>,

    /// The API Gateway stage, part of the endpoint URL.
    #[arg(long, default_value = "prod", value_name = "STAGE")]
    pub stage: String,

    /// Steady-state requests per second the stage accepts.
    #[arg(long, default_value_t = 5.0, value_name = "N")]
    pub rate_limit: f64,

    /// Requests the stage accepts in a burst.
    #[arg(long, default_value_t = 10, value_name = "N")]
    pub burst_limit: i32,

    /// The config object's key in the bucket.
    #[arg(long, default_value = ddns_handler::config::DEFAULT_KEY, value_name = "KEY")]
    pub key: String,

    /// Print the plan and change nothing.
    #[arg(long)]
    pub dry_run: bool,

    /// Do not ask for confirmation.
    #[arg(long, short)]
    pub yes: bool,
}

/// `ddns-ctl teardown`.
#[derive(Debug, Args)]
pub struct TeardownArgs {
    /// Do not ask for confirmation.
    #[arg(long, short)]
    pub yes: bool,

    /// Keep the config bucket and every version of the config in it.
    #[arg(long)]
    pub keep_config: bool,
}
