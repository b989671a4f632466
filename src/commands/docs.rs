//! `ddns-ctl completions` and `ddns-ctl man`: generated from the clap
//! definitions in `cli.rs`, so they never drift from the real flags.

use std::path::Path;

use anyhow::Context as _;
use clap::CommandFactory as _;

use crate::cli::Cli;

/// Prints the completion script for `shell`.
pub fn completions(shell: clap_complete::Shell) -> anyhow::Result<()> {
    let mut command = Cli::command();
    clap_complete::generate(shell, &mut command, "ddns-ctl", &mut std::io::stdout());
    Ok(())
}

/// Writes `ddns-ctl.1` and a page per subcommand (`ddns-ctl-deploy.1`, …).
pub fn man(out_dir: &Path) -> anyhow::Result<()> {
    std::fs::create_dir_all(out_dir).with_context(|| format!("cannot create {}", out_dir.display()))?;
    clap_mangen::generate_to(Cli::command(), out_dir)
        .with_context(|| format!("cannot write man pages to {}", out_dir.display()))?;
    Ok(())
}
