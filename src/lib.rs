//! ddns-ctl: parse the command line, run the command, turn errors into a
//! message and an exit code.
//!
//! A library with a thin binary over it (`src/main.rs`).

mod acme;
mod aws;
mod cli;
mod commands;
mod embedded;
mod executor;
mod model;
mod package;
mod plan;
mod progress;
mod secret;
mod stack;
mod template;

use std::io::IsTerminal as _;
use std::process::ExitCode;

use tracing_subscriber::EnvFilter;

/// The whole program: what `main` returns.
pub fn main() -> ExitCode {
    let cli = cli::parse();
    init_logging(&cli.global);
    let runtime = match tokio::runtime::Runtime::new() {
        Ok(runtime) => runtime,
        Err(err) => {
            eprintln!("error: cannot start the async runtime: {err}");
            return ExitCode::FAILURE;
        }
    };
    match runtime.block_on(commands::run(cli)) {
        Ok(exit) => exit.into(),
        Err(err) => {
            eprintln!("error: {err:#}");
            ExitCode::FAILURE
        }
    }
}

/// Logs go to stderr; RUST_LOG, when set, wins over -v and -q.
///
/// By default only ddns-ctl's own crates log: the SDK's warnings and info
/// (instance-metadata probes, the credential chain) are noise around the one
/// line that says what failed, and come with -v. -v and -vv raise only
/// ddns-ctl's own crates past info: the SDK's trace output includes response
/// bodies, and the config object holds every secret.
fn init_logging(global: &cli::GlobalArgs) {
    let level = match (global.quiet, global.verbose) {
        (true, _) => "off,ddns_ctl=error,ddns_handler=error",
        (false, 0) => "off,ddns_ctl=info,ddns_handler=info",
        (false, 1) => "info,ddns_ctl=debug,ddns_handler=debug",
        (false, _) => "info,ddns_ctl=trace,ddns_handler=trace",
    };
    let filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new(level));
    let color = std::io::stderr().is_terminal() && std::env::var_os("NO_COLOR").is_none();
    tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_ansi(color)
        .init();
}
