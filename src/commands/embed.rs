//! `ddns-ctl embed`: a copy of a binary with handler packages appended
//! (the format is in `embedded`).

use anyhow::Context as _;

use crate::cli::EmbedArgs;
use crate::embedded;
use crate::package;

/// Checks each zip is a deployable package, then writes the copy: a bad
/// zip found here is one a release never ships.
pub fn run(args: &EmbedArgs) -> anyhow::Result<()> {
    if args.arch.len() != args.zip.len() {
        anyhow::bail!("give one --zip for each --arch, in the same order");
    }
    let mut packages = Vec::new();
    for (arch, path) in args.arch.iter().zip(&args.zip) {
        packages.push((*arch, package::read_zip(path)?));
    }
    let binary = match &args.binary {
        Some(path) => path.clone(),
        None => std::env::current_exe().context("cannot find the running ddns-ctl")?,
    };
    embedded::append(&binary, &packages, &args.out)?;
    for (arch, zip) in &packages {
        println!(
            "{}: handler {arch} CodeSha256 {}",
            args.out.display(),
            crate::aws::function::code_sha256(zip)
        );
    }
    Ok(())
}
