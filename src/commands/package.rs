//! `ddns-ctl package`: the handler zip for one architecture, built from the
//! sources the way `deploy --build-handler` builds it, so a release embeds
//! exactly the bytes (and CodeSha256) a build from the same sources deploys.

use anyhow::Context as _;

use crate::aws::function::code_sha256;
use crate::cli::PackageArgs;
use crate::package;

/// Builds the package, writes it to `--out`, and prints its CodeSha256.
pub fn run(args: &PackageArgs) -> anyhow::Result<()> {
    let workspace = package::sources(args.sources.as_deref(), args.arch)?;
    let zip = package::build(&workspace, args.arch)?;
    std::fs::write(&args.out, &zip).with_context(|| format!("cannot write {}", args.out.display()))?;
    println!(
        "{}: handler {} CodeSha256 {}",
        args.out.display(),
        args.arch,
        code_sha256(&zip)
    );
    Ok(())
}
