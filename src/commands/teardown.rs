//! `ddns-ctl teardown`: find everything tagged for the stack, show it, ask,
//! and delete it in reverse order. Anything already gone counts as deleted;
//! hosted zones and records are never touched.

use serde_json::json;

use super::{Session, confirm, print};
use crate::aws::{AwsError, api, bucket, function, role};
use crate::cli::{GlobalArgs, TeardownArgs};
use crate::progress::Progress;

/// Tears the stack down.
pub async fn run(global: &GlobalArgs, args: TeardownArgs) -> anyhow::Result<()> {
    let progress = Progress::new(global.quiet);
    progress.step("Finding the stack's resources");
    let session = Session::connect(global).await?;
    let (names, clients) = (&session.names, &session.clients);

    // Only what carries the stack's tags: a same-named resource that is not
    // ours is reported and left alone.
    let mut skipped = Vec::new();
    let mut ours = |found: Result<bool, AwsError>| match found {
        Ok(present) => Ok(present),
        Err(err @ AwsError::NotOurs { .. }) => {
            skipped.push(err.to_string());
            Ok(false)
        }
        Err(err) => Err(err),
    };
    let apis = api::find(&clients.apigateway, names).await?;
    let has_function = ours(function::observe(&clients.lambda, names).await.map(|f| f.is_some()))?;
    let has_bucket = ours(
        bucket::observe(&clients.s3, names, "config.json")
            .await
            .map(|b| b.is_some()),
    )
    .or_else(|err| match err {
        // A config that does not parse is still ours to delete.
        AwsError::Call {
            operation: "GetObject", ..
        } => Ok(true),
        other => Err(other),
    })?;
    let has_role = ours(role::observe(&clients.iam, names).await.map(|r| r.is_some()))?;
    progress.finish();

    let mut doomed: Vec<String> = apis.iter().map(|id| format!("REST API {id}")).collect();
    if has_function {
        doomed.push(format!(
            "Lambda function {} (and its invoke permission)",
            names.function
        ));
    }
    if has_bucket && !args.keep_config {
        doomed.push(format!("S3 bucket {} with every version of the config", names.bucket));
    }
    if has_role {
        doomed.push(format!("IAM role {}", names.role));
    }
    for note in &skipped {
        eprintln!("note: {note}; leaving it alone");
    }
    if doomed.is_empty() {
        let text = format!("Nothing of stack {} to delete.\n", names.stack);
        print(global.output, &text, &json!({ "stack": names.stack, "deleted": [] }));
        return Ok(());
    }
    if !global.quiet {
        eprintln!("Teardown of stack {} in {} will delete:", names.stack, names.region);
        for item in &doomed {
            eprintln!("  - {item}");
        }
        if has_bucket && args.keep_config {
            eprintln!("and keep S3 bucket {} (--keep-config).", names.bucket);
        }
    }
    if !args.yes && !confirm("Delete these resources?", "--yes")? {
        anyhow::bail!("cancelled; nothing was deleted");
    }

    let progress = Progress::new(global.quiet);
    for id in &apis {
        progress.step(format!("Deleting REST API {id}"));
        api::delete(&clients.apigateway, id).await?;
    }
    if has_function {
        progress.step(format!("Deleting Lambda function {}", names.function));
        function::delete(&clients.lambda, names).await?;
    }
    if has_bucket && !args.keep_config {
        progress.step(format!("Emptying and deleting S3 bucket {}", names.bucket));
        bucket::delete(&clients.s3, names).await?;
    }
    if has_role {
        progress.step(format!("Deleting IAM role {}", names.role));
        role::delete(&clients.iam, names).await?;
    }
    progress.finish();
    let text = format!("Stack {} is torn down.\n", names.stack);
    print(
        global.output,
        &text,
        &json!({ "stack": names.stack, "deleted": doomed }),
    );
    Ok(())
}
