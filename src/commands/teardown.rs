//! `ddns-ctl teardown`: find everything tagged for the stack, plan its
//! deletion, show the plan, ask, and run it with the same executor as
//! deploy. Anything already gone counts as deleted; hosted zones and records
//! are never touched.

use std::fmt;

use serde::Serialize;

use super::{Session, confirm};
use crate::cli::{GlobalArgs, TeardownArgs};
use crate::executor::{self, Outputs};
use crate::plan::{Plan, Step};
use crate::progress::Progress;
use crate::stack;

/// What teardown deleted.
#[derive(Debug, Serialize)]
pub struct TornDown {
    /// The stack name.
    pub stack: String,
    /// The steps that ran (deletes).
    pub deleted: Vec<Step>,
}

impl fmt::Display for TornDown {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.deleted.is_empty() {
            writeln!(f, "Nothing of stack {} to delete.", self.stack)
        } else {
            writeln!(f, "Stack {} is torn down.", self.stack)
        }
    }
}

/// Tears the stack down.
pub async fn run(global: &GlobalArgs, args: TeardownArgs) -> anyhow::Result<TornDown> {
    let progress = Progress::new(global.quiet);
    progress.step("Finding the stack's resources");
    let session = Session::connect(global).await?;
    let (names, clients) = (&session.names, &session.clients);
    let found = stack::find(clients, names).await?;
    progress.finish();
    for note in &found.skipped {
        eprintln!("note: {note}; leaving it alone");
    }
    let plan = stack::sweep(names, &found, args.keep_config);
    if plan.steps.is_empty() {
        return Ok(TornDown {
            stack: names.stack.clone(),
            deleted: vec![],
        });
    }
    if !global.quiet {
        eprintln!(
            "Teardown of stack {} in {} will delete:\n{plan}",
            names.stack, names.region
        );
        if found.bucket && args.keep_config {
            eprintln!("and keep S3 bucket {} (--keep-config).", names.bucket);
        }
    }
    if !args.yes && !confirm("Delete these resources?", "--yes")? {
        anyhow::bail!("cancelled; nothing was deleted");
    }
    let progress = Progress::new(global.quiet);
    // The custom domains' deletes repeat what was found exactly.
    let outputs = Outputs {
        domains: found.domains.clone(),
        ..Outputs::default()
    };
    executor::run(clients, names, &plan, None, outputs, &mut |event| {
        super::show_step(&progress, event)
    })
    .await?;
    progress.finish();
    let Plan { steps } = plan;
    Ok(TornDown {
        stack: names.stack.clone(),
        deleted: steps,
    })
}
