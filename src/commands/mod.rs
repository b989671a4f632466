//! One module per subcommand, and what they share: connecting to AWS and
//! naming the stack.

pub mod acme;
pub mod alerts;
pub mod client_config;
pub mod config;
pub mod deploy;
pub mod docs;
pub mod embed;
pub mod host;
pub mod logs;
pub mod package;
pub mod serve;
pub mod setup;
pub mod status;
pub mod teardown;
pub mod update;

use std::io::IsTerminal as _;

use anyhow::Context as _;

use crate::aws::config::ChangeError;
use crate::aws::{self, Clients, Connection};
use crate::cli::{Cli, Command, GlobalArgs, OutputFormat};
use crate::model::Names;

/// How a command that ran to the end came out; each is an exit code.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Exit {
    /// 0: done.
    Ok,
    /// 1: the answer is no (an unhealthy stack, a failed update); the
    /// command has said why.
    Failure,
    /// 3: the service refused an update (secret, host or address).
    Refused,
}

impl From<Exit> for std::process::ExitCode {
    fn from(exit: Exit) -> Self {
        match exit {
            Exit::Ok => Self::SUCCESS,
            Exit::Failure => Self::FAILURE,
            Exit::Refused => Self::from(3),
        }
    }
}

/// Runs the parsed command line.
pub async fn run(cli: Cli) -> anyhow::Result<Exit> {
    let done = |()| Exit::Ok;
    match cli.command {
        Command::Serve(args) => serve::run(&cli.global, args).await.map(done),
        Command::Deploy(args) => {
            let outcome = deploy::run(&cli.global, args).await?;
            render(cli.global.output, &outcome);
            Ok(Exit::Ok)
        }
        Command::Teardown(args) => {
            let outcome = teardown::run(&cli.global, args).await?;
            render(cli.global.output, &outcome);
            Ok(Exit::Ok)
        }
        Command::Status => status::run(&cli.global).await,
        Command::Logs(args) => logs::run(&cli.global, args).await.map(done),
        Command::Host(command) => host::run(&cli.global, command).await.map(done),
        Command::Config(command) => config::run(&cli.global, command).await.map(done),
        Command::Alerts(command) => alerts::run(&cli.global, command).await.map(done),
        Command::ClientConfig {
            host,
            format,
            url,
            out,
            acme_key_file,
        } => client_config::run(&cli.global, &host, format, url, out, acme_key_file)
            .await
            .map(done),
        Command::Update(args) => update::run(&cli.global, args).await,
        Command::Setup(args) => setup::run(&cli.global, args).await.map(done),
        Command::Completions { shell } => docs::completions(shell).map(done),
        Command::Man { out_dir } => docs::man(&out_dir).map(done),
        Command::Embed(args) => embed::run(&args).map(done),
        Command::Package(args) => package::run(&args).map(done),
    }
}

/// An AWS session for the stack: clients and the stack's names.
pub struct Session {
    /// The clients.
    pub clients: Clients,
    /// The stack's names.
    pub names: Names,
}

impl Session {
    /// Connects: loads the SDK config, asks STS who we are, names the stack.
    pub async fn connect(global: &GlobalArgs) -> anyhow::Result<Self> {
        let sdk = connection(global).sdk_config().await;
        let quiet = global.quiet;
        let clients = Clients {
            patience: aws::config::Patience {
                report: std::sync::Arc::new(move |why| {
                    if !quiet {
                        eprintln!("{why}");
                    }
                }),
                scale: global.retry_scale,
            },
            retry: aws::retry::Policy {
                scale: global.retry_scale,
            },
            ..Clients::new(&sdk)
        };
        let account = aws::whoami(&clients, &sdk).await?;
        let names = Names::new(&global.name, &account)?;
        Ok(Self { clients, names })
    }
}

impl Session {
    /// The config object's key: what the deployed function reads, else the
    /// default.
    pub async fn config_key(&self) -> String {
        let function = self
            .clients
            .lambda
            .get_function()
            .function_name(&self.names.function)
            .send()
            .await;
        function
            .ok()
            .and_then(|f| {
                f.configuration()?
                    .environment()?
                    .variables()?
                    .get(ddns_handler::service::env::KEY)
                    .cloned()
            })
            .unwrap_or_else(|| ddns_handler::config::DEFAULT_KEY.to_owned())
    }

    /// The config object.
    pub fn config<'a>(&'a self, key: &'a str) -> crate::aws::config::ConfigObject<'a> {
        crate::aws::config::ConfigObject::new(&self.clients.s3, &self.names.bucket, key)
            .with_patience(self.clients.patience.clone())
    }

    /// Applies `change` to the config (a conditional rewrite, see
    /// [`ConfigObject::update`](crate::aws::config::ConfigObject::update))
    /// in the order that never lets the function serve a host its role does
    /// not cover yet. IAM is eventually consistent: a policy change takes
    /// seconds to reach the function, so
    /// - before each write, the role is widened to cover the config as read
    ///   and as it will be (a new zone, name or record type): the function
    ///   may read either while the write lands and its cache expires;
    /// - after the write, the role is narrowed to the config as it is now
    ///   (a removed host, a changed type), read afresh.
    ///
    /// So widening goes role first, then config; narrowing config first,
    /// then role. If the write fails after the role was widened, the role is
    /// wider than the config needs and nothing breaks; the next host command
    /// or `deploy`, which render the role from the config, narrow it again.
    /// Returns what `change` returned, and `false` when the stack has no
    /// role yet (not deployed).
    pub async fn change_config<T>(
        &self,
        key: &str,
        change: impl FnMut(&mut ddns_handler::config::Config) -> Result<T, ChangeError>,
    ) -> Result<(T, bool), ChangeError> {
        let widen = async |read: Option<&ddns_handler::config::Config>, written: &ddns_handler::config::Config| {
            match read {
                Some(read) => self
                    .apply_role(key, &[read, written], false)
                    .await
                    .map(drop)
                    .map_err(ChangeError::from),
                // Nothing was read, yet the object may exist (S3 neither
                // serving nor listing it yet): a role rendered from the
                // written config alone could narrow it, so it is left as it
                // is until the write lands and the sync below reads it back.
                None => Ok(()),
            }
        };
        let result = self.config(key).update_guarded(change, widen).await?;
        let deployed = self.sync_role(key).await?;
        Ok((result, deployed))
    }

    /// Brings the role's permissions in line with the hosts in the config
    /// as it is now. Read afresh, so that of several concurrent writers the
    /// last to finish sees every host. `Ok(false)` when the stack has no
    /// role yet (not deployed).
    pub async fn sync_role(&self, key: &str) -> Result<bool, ChangeError> {
        let config = self.config(key).current().await?;
        Ok(self.apply_role(key, &[&config], true).await?)
    }

    /// Renders the role for the hosts of `configs` together and writes it if
    /// it differs; `report` prints what the caller should know (hosts that
    /// get nothing, zones that fell back to a pattern).
    async fn apply_role(
        &self,
        key: &str,
        configs: &[&ddns_handler::config::Config],
        report: bool,
    ) -> Result<bool, aws::AwsError> {
        use crate::aws::role;
        let Some(observed) = role::observe(&self.clients.iam, &self.names).await? else {
            return Ok(false);
        };
        // Only zones that exist and hold their hosts ever reach the role.
        let checked = aws::zone::check_all(&self.clients.route53, configs).await?;
        // The function may publish to the topic only while alerts are on.
        let topic = aws::topic::observe(&self.clients.sns, &self.names)
            .await?
            .filter(|t| t.tagged)
            .map(|t| t.arn);
        let grants = role::Grants::covering(configs, &checked.zones).with_topic(topic);
        let desired = role::Desired::new(&self.names, key, &grants);
        if report {
            for problem in &checked.problems {
                eprintln!("warning: {problem}; the function may not change records there");
            }
            for zone in &desired.patterned_zones {
                eprintln!(
                    "note: zone {zone} has too many hosts to name each in the role's {}-character policy; \
                     the function may change A/AAAA records below their common names there",
                    role::POLICY_LIMIT
                );
            }
        }
        let action = role::plan(Some(&observed), &desired);
        role::apply(&self.clients.iam, &self.names, &desired, &action).await?;
        Ok(true)
    }
}

/// Where the global flags send AWS requests.
pub fn connection(global: &GlobalArgs) -> Connection {
    Connection {
        region: global.region.clone(),
        profile: global.profile.clone(),
        endpoint_url: global.endpoint_url.clone(),
    }
}

/// Prints a command's outcome: JSON for scripts, its Display for people.
pub fn render<T: std::fmt::Display + serde::Serialize>(format: OutputFormat, outcome: &T) {
    match format {
        OutputFormat::Text => print!("{outcome}"),
        OutputFormat::Json => println!("{}", serde_json::to_string_pretty(outcome).unwrap_or_default()),
    }
}

/// Shows a plan's steps on `progress` as the executor runs them.
pub fn show_step(progress: &crate::progress::Progress, event: crate::executor::Event<'_>) {
    use crate::executor::Event;
    use crate::plan::Action;
    let (step, doing, done, wait) = match event {
        Event::Started(step) => (step, true, false, None),
        Event::Waiting(step, wait) => (step, true, false, Some(wait)),
        Event::Finished(step) => (step, false, true, None),
    };
    let verb = match (&step.action, doing) {
        (Action::Create, true) => "Creating",
        (Action::Create, false) => "created",
        (Action::Update(_), true) => "Updating",
        (Action::Update(_), false) => "updated",
        (Action::Delete, true) => "Deleting",
        (Action::Delete, false) => "deleted",
        (Action::Unchanged, _) => return,
    };
    let changes: Vec<String> = step.action.changes().iter().map(ToString::to_string).collect();
    let detail = if changes.is_empty() {
        String::new()
    } else {
        format!(" ({})", changes.join(", "))
    };
    let mut line = format!("{verb} {} {}{detail}", step.kind, step.name);
    if let Some(wait) = wait {
        line.push_str(&format!(": {wait}"));
    }
    if done {
        progress.done(line);
    } else {
        progress.step(line);
    }
}

/// Asks `question` on a terminal; without one, refuses with a message that
/// names the flag to use.
pub fn confirm(question: &str, flag: &str) -> anyhow::Result<bool> {
    if !std::io::stdin().is_terminal() || !std::io::stderr().is_terminal() {
        anyhow::bail!("refusing to continue without confirmation: not a terminal; pass {flag} to proceed");
    }
    dialoguer::Confirm::new()
        .with_prompt(question)
        .default(false)
        .interact()
        .context("cannot read the answer")
}
