//! One module per subcommand, and what they share: connecting to AWS and
//! naming the stack.

pub mod deploy;
pub mod serve;
pub mod status;
pub mod teardown;

use std::io::IsTerminal as _;

use anyhow::Context as _;

use crate::aws::{self, Clients};
use crate::cli::{Cli, Command, GlobalArgs, OutputFormat};
use crate::stack::Names;

/// Runs the parsed command line; `Ok(false)` means "ran, but the answer is
/// no" (an unhealthy status), which exits 1 without an error message.
pub async fn run(cli: Cli) -> anyhow::Result<bool> {
    match cli.command {
        Command::Serve(args) => serve::run(&cli.global, args).await.map(|()| true),
        Command::Deploy(args) => deploy::run(&cli.global, args).await.map(|()| true),
        Command::Teardown(args) => teardown::run(&cli.global, args).await.map(|()| true),
        Command::Status => status::run(&cli.global).await,
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
        let sdk = aws::sdk_config(global).await;
        let clients = Clients::new(&sdk);
        let account = aws::whoami(&clients, &sdk).await?;
        let names = Names::new(&global.name, &account)?;
        Ok(Self { clients, names })
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

/// Prints `value` as JSON, or `text` for people.
pub fn print(format: OutputFormat, text: &str, value: &serde_json::Value) {
    match format {
        OutputFormat::Text => print!("{text}"),
        OutputFormat::Json => println!("{}", serde_json::to_string_pretty(value).unwrap_or_default()),
    }
}
