//! The command line, as clap derive types. Doc comments here are the help
//! text users see.

use std::net::SocketAddr;
use std::path::PathBuf;

use clap::{Args, CommandFactory as _, FromArgMatches as _, Parser, Subcommand, ValueEnum};

use crate::model::{self, Arch};

/// Your own dynamic DNS on AWS: deploy it, manage hosts, keep them updated.
#[derive(Debug, Parser)]
#[command(name = "ddns-ctl", version, about, propagate_version = true)]
pub struct Cli {
    #[command(flatten)]
    pub global: GlobalArgs,

    #[command(subcommand)]
    pub command: Command,
}

/// Parses the command line, exiting as clap does on an error, `--help` or
/// `--version`. The version lists the embedded packages; they are read only
/// when `--version` is asked for, not on every run.
pub fn parse() -> Cli {
    let matches = Cli::command().try_get_matches().unwrap_or_else(|e| {
        if e.kind() == clap::error::ErrorKind::DisplayVersion {
            println!("ddns-ctl {}", crate::embedded::version());
            std::process::exit(0);
        }
        e.exit()
    });
    Cli::from_arg_matches(&matches).unwrap_or_else(|e| e.exit())
}

/// Flags every command takes; each command's help lists them after its own.
#[derive(Debug, Clone, Args)]
#[command(next_help_heading = "Global options")]
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

    /// Multiplies every wait of ddns-ctl's own retries (API Gateway's rate
    /// limits, S3's OperationAborted, a config S3 does not serve yet); the
    /// fault-injection tests run at 0.01.
    #[arg(
        long,
        global = true,
        env = "DDNS_CTL_RETRY_SCALE",
        hide = true,
        default_value_t = 1.0,
        value_name = "FACTOR",
        value_parser = retry_scale
    )]
    pub retry_scale: f64,
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
    ///   ddns-ctl deploy --domain ddns.example.com
    #[command(verbatim_doc_comment)]
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

    /// Print the function's request log: one line per request, with its
    /// time, host, protocol, result, old → new addresses and caller.
    ///
    /// Examples:
    ///   ddns-ctl logs --since 24h --host home.example.com
    ///   ddns-ctl logs --follow
    ///   ddns-ctl logs --since 7d --output json | jq 'select(.result == "changed")'
    #[command(verbatim_doc_comment)]
    Logs(LogsArgs),

    /// Add, list, change and remove hosts; every change is a conditional
    /// rewrite of the config, so concurrent edits never lose an update.
    ///
    /// Example: ddns-ctl host add home.example.com
    #[command(subcommand)]
    Host(HostCommand),

    /// Import, export, and restore earlier versions of the config.
    ///
    /// Example: ddns-ctl config import old-config.json
    #[command(subcommand)]
    Config(ConfigCommand),

    /// Opt-in alerts by email: an SNS topic, alarms on the function's
    /// errors and throttles and the API's 5xx answers, and per-host silence
    /// alarms (`host add/set --alert-after`).
    ///
    /// Example: ddns-ctl alerts enable --email me@example.com
    #[command(subcommand)]
    Alerts(AlertsCommand),

    /// Print a ready-to-use client setup for a host, with the stack's
    /// endpoint and the host's secret filled in.
    ///
    /// The setup holds the host's secret: `--out FILE` writes it readable by
    /// you only (mode 600); a redirect (`> FILE`) makes the file as your
    /// umask says, so run `umask 077` first.
    ///
    /// Examples:
    ///   ddns-ctl client-config home.example.com --format sh --out ddns-update.sh
    ///   ddns-ctl client-config home.example.com --format ddclient --out /etc/ddclient.conf
    #[command(verbatim_doc_comment)]
    ClientConfig {
        /// The host.
        host: String,
        /// What to print.
        #[arg(long, value_enum, default_value_t = ClientFormat::Sh)]
        format: ClientFormat,
        /// Use this endpoint instead of the deployed stage (e.g. a local
        /// `ddns-ctl serve`).
        #[arg(long, value_name = "URL")]
        url: Option<String>,
        /// Write the setup to this file, readable and writable by you only
        /// (mode 600; an existing file is replaced), instead of printing it.
        #[arg(long, value_name = "FILE")]
        out: Option<PathBuf>,
        /// The acme-dns account's key, for --format acme-dns-json (`-`:
        /// standard input). ddns-ctl keeps only its hash, so it cannot
        /// print the key by itself.
        #[arg(long, value_name = "FILE")]
        acme_key_file: Option<PathBuf>,
    },

    /// Update a host from the machine it runs on: once (for cron or a
    /// systemd timer), or every --every. Quiet unless the record changed or
    /// something failed (-v: always).
    ///
    /// Exit codes: 0 updated or already current; 1 a network or server
    /// error; 3 refused (wrong secret, unknown host, address not allowed).
    ///
    /// Examples:
    ///   ddns-ctl update --url https://abc.execute-api.eu-west-1.amazonaws.com/prod/ \
    ///       --hostname home.example.com --secret-file /etc/ddns-ctl/home.secret
    ///   DDNS_SECRET=… ddns-ctl update --url … --hostname … --protocol dyndns2 --dual --every 5m
    #[command(verbatim_doc_comment)]
    Update(UpdateArgs),

    /// Guided setup: from an AWS account and a hosted zone to a working host
    /// in one command. Asks for the profile, region, stack, zone, host,
    /// record types, TTL, rate limit and client; shows the plan; deploys;
    /// adds the host; prints its secret once with the client setup; and
    /// checks the endpoint. Run it again to add a host, repair or tear down.
    ///
    /// Example: ddns-ctl setup
    Setup(SetupArgs),

    /// Print a shell completion script.
    ///
    /// Example: ddns-ctl completions bash > /etc/bash_completion.d/ddns-ctl
    Completions {
        /// The shell.
        #[arg(value_enum)]
        shell: clap_complete::Shell,
    },

    /// Write man pages (ddns-ctl.1 and one per subcommand) into a directory.
    ///
    /// Example: ddns-ctl man --out-dir /usr/local/share/man/man1
    Man {
        /// Where to write them.
        #[arg(long, value_name = "DIR")]
        out_dir: PathBuf,
    },

    /// Run the service as a local HTTP server, with the same code as the
    /// Lambda function.
    ///
    /// Example: ddns-ctl --endpoint-url http://127.0.0.1:5000 serve --bucket my-ddns-config
    Serve(ServeArgs),

    /// Write a copy of this binary (or of `--binary`) with handler packages
    /// appended, as a release carries them (scripts/dist.sh).
    ///
    /// Example:
    ///   ddns-ctl embed --arch arm64 --zip arm64.zip --arch x86_64 --zip x86_64.zip --out dist/ddns-ctl
    #[command(hide = true, verbatim_doc_comment)]
    Embed(EmbedArgs),

    /// Build the handler package for an architecture from the sources and
    /// write the zip, exactly as `deploy --build-handler` would upload it
    /// (scripts/dist.sh embeds these).
    ///
    /// Example: ddns-ctl package --arch arm64 --out dist/handler-arm64.zip
    #[command(hide = true)]
    Package(PackageArgs),
}

/// `ddns-ctl package`.
#[derive(Debug, Args)]
pub struct PackageArgs {
    /// The function's architecture.
    #[arg(long, value_name = "ARCH")]
    pub arch: Arch,

    /// Where the handler's sources are (default: the checkout this binary
    /// was built from).
    #[arg(long, value_name = "DIR")]
    pub sources: Option<PathBuf>,

    /// Where to write the zip.
    #[arg(long, value_name = "FILE")]
    pub out: PathBuf,
}

/// `ddns-ctl embed`: each `--arch` goes with the `--zip` in the same place.
#[derive(Debug, Args)]
pub struct EmbedArgs {
    /// A package's architecture.
    #[arg(long, required = true, value_name = "ARCH")]
    pub arch: Vec<Arch>,

    /// A package, for the `--arch` in the same place.
    #[arg(long, required = true, value_name = "FILE")]
    pub zip: Vec<PathBuf>,

    /// The executable to copy (default: this one).
    #[arg(long, value_name = "PATH")]
    pub binary: Option<PathBuf>,

    /// Where to write the copy (mode 755).
    #[arg(long, value_name = "PATH")]
    pub out: PathBuf,
}

/// `ddns-ctl serve`.
#[derive(Debug, Args)]
pub struct ServeArgs {
    /// Address and port to listen on. One address, so one family, except
    /// `[::]:PORT`, which takes IPv4 callers too (as IPv4).
    #[arg(long, default_value = "127.0.0.1:8080", value_name = "ADDR:PORT")]
    pub listen: SocketAddr,

    /// The S3 bucket that holds the config (default: the stack's bucket).
    #[arg(long, value_name = "BUCKET")]
    pub bucket: Option<String>,

    /// The config object's key.
    #[arg(long, default_value = model::DEFAULT_KEY, value_name = "KEY")]
    pub key: String,

    /// Seconds a cached config is trusted before it is revalidated.
    #[arg(long, default_value_t = ddns_handler::service::DEFAULT_MAX_AGE.as_secs(), value_name = "SECS")]
    pub config_max_age: u64,

    /// Publish a message to this SNS topic when a host with
    /// `--notify-on-change` changes, as the deployed function does.
    #[arg(long, env = "DDNS_ALERT_TOPIC_ARN", value_name = "ARN")]
    pub alert_topic: Option<String>,

    /// Take the caller's address from X-Forwarded-For. Only behind a reverse
    /// proxy you run: otherwise clients can claim any address.
    #[arg(long)]
    pub trust_forwarded_for: bool,

    /// Also answer below /STAGE/, like the deployed API, so a client set up
    /// for the stage URL works unchanged ("" turns it off).
    #[arg(long, default_value = model::DEFAULT_STAGE, value_name = "STAGE")]
    pub stage: String,

    /// Write the bound address to this file once listening (useful with
    /// --listen 127.0.0.1:0).
    #[arg(long, value_name = "FILE")]
    pub ready_file: Option<PathBuf>,

    /// Seconds a client may take to send a request's headers, and that an
    /// idle keep-alive connection stays open.
    #[arg(long, default_value_t = 10, value_name = "SECS", value_parser = clap::value_parser!(u64).range(1..))]
    pub header_timeout: u64,

    /// Connections served at once; more wait to be accepted.
    #[arg(long, default_value_t = 256, value_name = "N", value_parser = clap::value_parser!(u64).range(1..=65536))]
    pub max_connections: u64,

    /// Seconds open connections get to finish after Ctrl-C or SIGTERM.
    #[arg(long, default_value_t = 5, value_name = "SECS")]
    pub shutdown_grace: u64,
}

/// `ddns-ctl deploy`.
#[derive(Debug, Args)]
pub struct DeployArgs {
    /// The function's CPU architecture.
    #[arg(long, value_enum, default_value_t = Arch::Arm64)]
    pub arch: Arch,

    /// Deploy this prebuilt zip (with an executable `bootstrap`) instead of
    /// the package this binary carries, or of building the handler.
    #[arg(long, value_name = "PATH")]
    pub handler_zip: Option<PathBuf>,

    /// Build the handler from the checkout this binary was built from
    /// (cargo-lambda), even when the binary carries a package.
    #[arg(long, conflicts_with = "handler_zip")]
    pub build_handler: bool,

    /// Where the handler's sources are (default: the checkout this binary
    /// was built from); for tests.
    #[arg(long, env = "DDNS_CTL_SOURCES", hide = true, value_name = "DIR")]
    pub sources: Option<PathBuf>,

    /// The API Gateway stage, part of the endpoint URL.
    #[arg(long, default_value = model::DEFAULT_STAGE, value_name = "STAGE")]
    pub stage: String,

    /// Steady-state requests per second the stage accepts.
    #[arg(long, default_value_t = model::DEFAULT_RATE_LIMIT, value_name = "N")]
    pub rate_limit: f64,

    /// Requests the stage accepts in a burst.
    #[arg(long, default_value_t = model::DEFAULT_BURST_LIMIT, value_name = "N")]
    pub burst_limit: i32,

    /// Days the function's log group keeps its events: one of CloudWatch
    /// Logs' values (1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400,
    /// 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653).
    #[arg(long, default_value_t = model::DEFAULT_LOG_RETENTION_DAYS, value_name = "DAYS",
          value_parser = log_retention_days)]
    pub log_retention_days: i32,

    /// The config object's key in the bucket.
    #[arg(long, default_value = model::DEFAULT_KEY, value_name = "KEY")]
    pub key: String,

    /// Serve the stack at https://NAME/ as well: a certificate (ACM, DNS
    /// validated), an API Gateway custom domain and alias records in the
    /// public hosted zone that holds NAME. Kept by later deploys; another
    /// NAME moves the stack there.
    #[arg(long, value_name = "NAME", value_parser = domain_name, conflicts_with = "no_domain")]
    pub domain: Option<String>,

    /// Remove the stack's custom domain (clients that use it stop working;
    /// deploy asks first).
    #[arg(long)]
    pub no_domain: bool,

    /// Make the API's execute-api URL answer 403, so that only the custom
    /// domain reaches the function. Kept by later deploys.
    #[arg(long, conflicts_with = "enable_execute_api_endpoint")]
    pub disable_execute_api_endpoint: bool,

    /// Let the execute-api URL answer again.
    #[arg(long)]
    pub enable_execute_api_endpoint: bool,

    /// Print the plan and change nothing.
    #[arg(long)]
    pub dry_run: bool,

    /// Do not ask for confirmation.
    #[arg(long, short)]
    pub yes: bool,
}

/// `--domain`: a name a public certificate can hold, in normal form.
fn domain_name(value: &str) -> Result<String, String> {
    crate::aws::custom_domain::parse_name(value)
}

impl DeployArgs {
    /// The settings these flags ask for.
    pub fn settings(&self) -> model::Settings {
        model::Settings {
            key: self.key.clone(),
            arch: self.arch,
            stage: self.stage.clone(),
            rate_limit: self.rate_limit,
            burst_limit: self.burst_limit,
            log_retention_days: self.log_retention_days,
            domain: match (&self.domain, self.no_domain) {
                (Some(name), _) => model::DomainChoice::Set(name.clone()),
                (None, true) => model::DomainChoice::Remove,
                (None, false) => model::DomainChoice::Keep,
            },
            execute_api: match (self.disable_execute_api_endpoint, self.enable_execute_api_endpoint) {
                (true, _) => model::ExecuteApi::Disable,
                (_, true) => model::ExecuteApi::Enable,
                _ => model::ExecuteApi::Keep,
            },
        }
    }
}

/// `--log-retention-days`: CloudWatch Logs accepts only these.
/// A factor for the retry waits: finite and at most 10, so that no wait
/// overflows a `Duration` (which would panic) and none can grow past hours.
fn retry_scale(value: &str) -> Result<f64, String> {
    match value.parse::<f64>() {
        Ok(scale) if (0.0..=10.0).contains(&scale) => Ok(scale),
        _ => Err(format!("{value} is not a factor from 0 to 10")),
    }
}

fn log_retention_days(value: &str) -> Result<i32, String> {
    let days: i32 = value.parse().map_err(|_| format!("{value} is not a number of days"))?;
    if model::LOG_RETENTION_DAYS.contains(&days) {
        Ok(days)
    } else {
        Err(format!(
            "CloudWatch Logs keeps events for one of {:?} days",
            model::LOG_RETENTION_DAYS
        ))
    }
}

// `--arch`: the model's type, spelled as Lambda spells it.
impl ValueEnum for Arch {
    fn value_variants<'a>() -> &'a [Self] {
        &[Self::Arm64, Self::X86_64]
    }

    fn to_possible_value(&self) -> Option<clap::builder::PossibleValue> {
        let help = match self {
            Self::Arm64 => "Graviton: cheaper per millisecond, the default",
            Self::X86_64 => "Intel/AMD",
        };
        Some(clap::builder::PossibleValue::new(self.as_str()).help(help))
    }
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

/// `ddns-ctl logs`.
#[derive(Debug, Clone, Args)]
pub struct LogsArgs {
    /// How far back to start: 30m, 1h, 7d.
    #[arg(long, default_value = "1h", value_name = "DURATION")]
    pub since: humantime::Duration,

    /// Keep printing new requests until Ctrl-C.
    #[arg(long)]
    pub follow: bool,

    /// Only this host's requests.
    #[arg(long, value_name = "HOST")]
    pub host: Option<String>,

    /// Seconds between polls with --follow.
    #[arg(long, default_value_t = 2.0, value_name = "SECS", hide = true)]
    pub poll_interval: f64,
}

/// A host's record type, as `host add --type` takes it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum RecordType {
    /// IPv4 only (A).
    #[value(name = "A", alias = "a")]
    A,
    /// IPv6 only (AAAA).
    #[value(name = "AAAA", alias = "aaaa")]
    Aaaa,
    /// Both an A and an AAAA record.
    Dual,
}

impl From<RecordType> for ddns_handler::config::RecordKind {
    fn from(t: RecordType) -> Self {
        match t {
            RecordType::A => Self::A,
            RecordType::Aaaa => Self::Aaaa,
            RecordType::Dual => Self::Dual,
        }
    }
}

/// `ddns-ctl host …`.
#[derive(Debug, Subcommand)]
pub enum HostCommand {
    /// Add a host: find its zone, generate a secret, write the config, let
    /// the function change records in that zone, and print the secret once
    /// with a ready-to-use client setup.
    ///
    /// Examples:
    ///   ddns-ctl host add home.example.com
    ///   ddns-ctl host add nas.example.com --type dual --ttl 300
    ///   pass show ddns | ddns-ctl host add home.example.com --secret-stdin
    #[command(verbatim_doc_comment)]
    Add(HostAddArgs),

    /// List hosts with their zone, type, TTL and what their records hold now.
    /// Secrets are never listed.
    ///
    /// Example: ddns-ctl host list --output json
    List,

    /// Show one host; the secret only with --show-secret.
    ///
    /// Example: ddns-ctl host show home.example.com
    Show {
        /// The host.
        host: String,
        /// Also print the shared secret.
        #[arg(long)]
        show_secret: bool,
    },

    /// Remove a host from the config. Its DNS records stay unless
    /// --delete-records.
    ///
    /// Example: ddns-ctl host remove home.example.com --delete-records
    Remove {
        /// The host.
        host: String,
        /// Also delete the host's A and AAAA records.
        #[arg(long)]
        delete_records: bool,
    },

    /// Give a host a new secret; the old one stops working within seconds.
    /// With --acme, a new key for its acme-dns account instead.
    ///
    /// Example: ddns-ctl host rotate-secret home.example.com
    RotateSecret {
        /// The host.
        host: String,
        /// Rotate the acme-dns account's key, not the host's secret.
        #[arg(long)]
        acme: bool,
    },

    /// Change a host's TTL or record type.
    ///
    /// Example: ddns-ctl host set home.example.com --ttl 300 --type dual
    Set {
        /// The host.
        host: String,
        /// The TTL written with each update.
        #[arg(long, value_name = "SECS")]
        ttl: Option<i64>,
        /// Which records the host keeps.
        #[arg(long = "type", value_enum, value_name = "TYPE")]
        record_type: Option<RecordType>,
        /// Alert when the host sends no accepted update for this long
        /// (e.g. 30m, 6h; 5 minutes to 7 days). Needs alerts enabled.
        #[arg(long, value_name = "DURATION", value_parser = alert_after, conflicts_with = "no_alert_after")]
        alert_after: Option<u64>,
        /// Stop alerting when the host goes quiet.
        #[arg(long)]
        no_alert_after: bool,
        /// Send an email whenever the function changes the host's records.
        /// Needs alerts enabled.
        #[arg(long, conflicts_with = "no_notify_on_change")]
        notify_on_change: bool,
        /// Stop those emails.
        #[arg(long)]
        no_notify_on_change: bool,
        /// Give the host an acme-dns account (kept if it has one), so that
        /// ACME clients can set `_acme-challenge.HOST` for DNS-01
        /// certificates. Prints the account; a new key is shown once.
        #[arg(long, conflicts_with = "no_acme")]
        acme: bool,
        /// Where the acme-dns account may update from (a CIDR or an
        /// address; repeat for more). Replaces the list; default anywhere.
        #[arg(long = "acme-allow-from", value_name = "CIDR", value_parser = acme_cidr, requires = "acme")]
        acme_allow_from: Vec<String>,
        /// Remove the host's acme-dns account and its permission to set TXT.
        #[arg(long)]
        no_acme: bool,
    },
}

fn acme_cidr(text: &str) -> Result<String, String> {
    crate::acme::cidr(text)
}

/// `ddns-ctl alerts …`.
#[derive(Debug, Subcommand)]
pub enum AlertsCommand {
    /// Create the stack's alert topic, subscribe ADDRESS (SNS mails a link
    /// to confirm; nothing is delivered before), and add alarms on the
    /// function's errors and throttles and the API's 5xx answers. Prints
    /// what it costs. Running it again with another address adds that one.
    ///
    /// Example: ddns-ctl alerts enable --email me@example.com
    Enable {
        /// The address to notify.
        #[arg(long, value_name = "ADDRESS")]
        email: String,
    },
    /// Remove the topic, its subscriptions, every alarm and metric filter
    /// ddns-ctl made, and the function's permission to publish. Hosts keep
    /// their alert settings, which apply again after `alerts enable`.
    ///
    /// Example: ddns-ctl alerts disable --yes
    Disable {
        /// Do not ask for confirmation.
        #[arg(long)]
        yes: bool,
    },
    /// Show the topic, each subscription (pending or confirmed) and each
    /// alarm with its state.
    ///
    /// Example: ddns-ctl alerts status --output json
    Status,
    /// Publish a test message to the topic.
    ///
    /// Example: ddns-ctl alerts test
    Test,
}

/// A `--alert-after` duration in seconds: whole minutes from 5 minutes to
/// 7 days.
pub fn alert_after(text: &str) -> Result<u64, String> {
    use ddns_handler::config::{MAX_ALERT_AFTER_SECS, MIN_ALERT_AFTER_SECS};
    let secs = humantime::parse_duration(text)
        .map_err(|e| format!("{e} (write e.g. 30m, 6h or 2days)"))?
        .as_secs_f64();
    let whole = secs as u64;
    if secs.fract() != 0.0
        || !whole.is_multiple_of(60)
        || !(MIN_ALERT_AFTER_SECS..=MAX_ALERT_AFTER_SECS).contains(&whole)
    {
        return Err("must be whole minutes from 5 minutes to 7 days (e.g. 30m, 6h)".into());
    }
    Ok(whole)
}

/// `ddns-ctl host add`.
#[derive(Debug, Args)]
pub struct HostAddArgs {
    /// The host's fully qualified name.
    pub host: String,

    /// The hosted zone (default: the zone whose name is the longest suffix
    /// of the host).
    #[arg(long, value_name = "ZONE_ID")]
    pub zone_id: Option<String>,

    /// The TTL written with each update.
    #[arg(long, default_value_t = 60, value_name = "SECS")]
    pub ttl: i64,

    /// Which records the host keeps.
    #[arg(long = "type", value_enum, default_value_t = RecordType::A, value_name = "TYPE")]
    pub record_type: RecordType,

    /// Read the secret from standard input instead of generating one (never
    /// from the command line, where other users could see it).
    #[arg(long)]
    pub secret_stdin: bool,

    /// Allow private, loopback and other non-public addresses.
    #[arg(long)]
    pub allow_private_addresses: bool,

    /// Alert when the host sends no accepted update for this long (e.g.
    /// 30m, 6h; 5 minutes to 7 days). Needs alerts enabled.
    #[arg(long, value_name = "DURATION", value_parser = alert_after)]
    pub alert_after: Option<u64>,

    /// Send an email whenever the function changes the host's records.
    /// Needs alerts enabled.
    #[arg(long)]
    pub notify_on_change: bool,

    /// Also give the host an acme-dns account, for DNS-01 certificates
    /// (`_acme-challenge.HOST`); its key is shown once.
    #[arg(long)]
    pub acme: bool,

    /// Where the acme-dns account may update from (a CIDR or an address;
    /// repeat for more); default anywhere.
    #[arg(long = "acme-allow-from", value_name = "CIDR", value_parser = acme_cidr, requires = "acme")]
    pub acme_allow_from: Vec<String>,
}

/// `ddns-ctl config …`.
#[derive(Debug, Subcommand)]
pub enum ConfigCommand {
    /// Merge a config.json in the blog post's format into the stack's config.
    /// Hosts that exist with other settings are conflicts: reported and kept
    /// as they are, unless --overwrite.
    ///
    /// Example: ddns-ctl config import old-config.json
    Import {
        /// The file to import.
        file: PathBuf,
        /// Take the file's settings for conflicting hosts.
        #[arg(long)]
        overwrite: bool,
    },

    /// Print the config; secrets are redacted unless --show-secrets.
    ///
    /// Example: ddns-ctl config export > config-backup.json
    Export {
        /// Print the shared secrets too.
        #[arg(long)]
        show_secrets: bool,
    },

    /// List the versions of the config (the bucket is versioned).
    ///
    /// Example: ddns-ctl config history
    History,

    /// Make an earlier version current again (as a new version).
    ///
    /// Example: ddns-ctl config restore 3HL4kqtJlcpXroDTDmJ.rmSpXd3dIbrHY
    Restore {
        /// The version id, from `config history`.
        #[arg(value_name = "VERSION")]
        version_id: String,
    },
}

/// The client setups `client-config` prints.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ClientFormat {
    /// A POSIX sh script (curl and sha256sum, shasum or openssl).
    Sh,
    /// A systemd service and timer running `ddns-ctl update`.
    Systemd,
    /// A crontab line running `ddns-ctl update`.
    Cron,
    /// ddclient.conf (dyndns2).
    Ddclient,
    /// inadyn.conf with a custom provider (dyndns2).
    Inadyn,
    /// FRITZ!Box user-defined DynDNS.
    Fritzbox,
    /// OPNsense os-ddclient.
    Opnsense,
    /// OpenWrt ddns-scripts.
    Openwrt,
    /// UniFi custom dynamic DNS.
    Unifi,
    /// acme-dns's account storage JSON for the host and its wildcard (what
    /// lego, certbot-dns-acmedns, pyacmedns and acme-dns-client read); the
    /// key from --acme-key-file. Only the JSON goes to stdout.
    AcmeDnsJson,
    /// A POSIX sh script that writes lego's acme-dns storage and runs
    /// `lego --dns acme-dns` for the host and its wildcard (key from
    /// --acme-key-file).
    Lego,
    /// acme.sh's dns_acmedns settings and command (key from --acme-key-file).
    #[value(name = "acme.sh")]
    AcmeSh,
    /// A sh script for certbot-dns-acmedns: its credentials and
    /// registration files, then certbot (key from --acme-key-file).
    Certbot,
    /// A Caddyfile site with the caddy-dns/acmedns provider (key from
    /// --acme-key-file).
    Caddy,
    /// Traefik's certificate resolver with lego's acme-dns provider (key
    /// from --acme-key-file).
    Traefik,
}

impl ClientFormat {
    /// Whether this is a setup of an update client (rendered from a
    /// template with the host's secret), not of an ACME client (made from
    /// the host's acme-dns account).
    pub fn updates(self) -> bool {
        !matches!(
            self,
            Self::AcmeDnsJson | Self::Lego | Self::AcmeSh | Self::Certbot | Self::Caddy | Self::Traefik
        )
    }
}

/// The protocol `ddns-ctl update` speaks.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Protocol {
    /// The blog post's mode=get / mode=set with a SHA-256 proof.
    Seed,
    /// dyndns2 (/nic/update) with Basic auth.
    Dyndns2,
}

/// `ddns-ctl update`.
#[derive(Debug, Args)]
pub struct UpdateArgs {
    /// The stage URL, e.g. https://abc.execute-api.eu-west-1.amazonaws.com/prod/
    #[arg(long, value_name = "URL")]
    pub url: String,

    /// The host to update.
    #[arg(long, value_name = "HOST")]
    pub hostname: String,

    /// A file holding the secret (else the DDNS_SECRET environment
    /// variable). Never pass the secret on the command line.
    #[arg(long, value_name = "FILE")]
    pub secret_file: Option<PathBuf>,

    /// The protocol to speak.
    #[arg(long, value_enum, default_value_t = Protocol::Seed)]
    pub protocol: Protocol,

    /// Update the A record, connecting over IPv4 (the default).
    #[arg(long, conflicts_with_all = ["ipv6", "dual"])]
    pub ipv4: bool,

    /// Update the AAAA record, connecting over IPv6. Fails (exit 1) when the
    /// endpoint cannot be reached over IPv6 from this machine.
    #[arg(long, conflicts_with = "dual")]
    pub ipv6: bool,

    /// Update both, connecting once over each. A family the endpoint or this
    /// machine lacks (no IPv6, say) is a warning, not a failure, when the
    /// other one got through.
    #[arg(long)]
    pub dual: bool,

    /// Keep running, updating this often (e.g. 5m), backing off on errors.
    #[arg(long, value_name = "INTERVAL", value_parser = humantime::parse_duration)]
    pub every: Option<std::time::Duration>,

    /// Allow a plain http:// URL: dyndns2 then sends the secret unencrypted,
    /// so use it only for a server on your own network.
    #[arg(long)]
    pub insecure_http: bool,
}

#[cfg(test)]
mod tests {
    use clap::CommandFactory as _;

    use super::*;

    #[test]
    fn the_command_line_is_consistent() {
        Cli::command().debug_assert();
    }

    #[test]
    fn a_retry_scale_that_would_overflow_a_wait_is_refused() {
        let parse = |value: &str| {
            Cli::try_parse_from([
                "ddns-ctl".to_owned(),
                format!("--retry-scale={value}"),
                "status".to_owned(),
            ])
        };
        assert_eq!(parse("0.01").unwrap().global.retry_scale, 0.01);
        for bad in ["1e300", "-1", "NaN", "inf", "x"] {
            let err = parse(bad).unwrap_err().to_string();
            assert!(err.contains("is not a factor from 0 to 10"), "{bad}: {err}");
        }
    }

    /// Every subcommand, nested ones too, found by walking clap's own tree,
    /// so that a new one cannot be left out: its `--help` shows an example.
    #[test]
    fn every_subcommand_has_an_example() {
        fn walk(command: &mut clap::Command, path: &str, seen: &mut Vec<String>) {
            // clap's own `help` subcommands print the list, not a command.
            for sub in command.get_subcommands_mut().filter(|sub| sub.get_name() != "help") {
                let path = format!("{path} {}", sub.get_name());
                let help = sub.render_long_help().to_string();
                assert!(help.contains("Example"), "`{path} --help` has no example:\n{help}");
                seen.push(path.clone());
                walk(sub, &path, seen);
            }
        }
        let mut root = Cli::command();
        root.build();
        let mut seen = Vec::new();
        walk(&mut root, "ddns-ctl", &mut seen);
        // The walk reached the nested commands, not only the top level.
        for path in ["ddns-ctl host add", "ddns-ctl config restore", "ddns-ctl setup"] {
            assert!(seen.iter().any(|s| s == path), "{path} not walked: {seen:?}");
        }
    }
}

/// `ddns-ctl setup`.
#[derive(Debug, Args)]
pub struct SetupArgs {
    /// Deploy this prebuilt zip instead of building the handler.
    #[arg(long, value_name = "PATH")]
    pub handler_zip: Option<PathBuf>,

    /// The function's CPU architecture.
    #[arg(long, value_enum, default_value_t = Arch::Arm64)]
    pub arch: Arch,

    /// Run the final live check against this URL instead of the deployed
    /// endpoint (e.g. a local `ddns-ctl serve`).
    #[arg(long, value_name = "URL")]
    pub check_url: Option<String>,
}
