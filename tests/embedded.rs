//! The embedded path: a `ddns-ctl` that carries its Lambda package deploys
//! it from an empty directory, with no cargo, cargo-lambda or zig on the
//! PATH and an empty HOME; one that carries none and has no sources to
//! build from says how to get a package, and changes nothing.
//!
//! The binary with a package is the test build of `ddns-ctl` with a tiny
//! test zip appended by its own hidden `embed` subcommand, as a release is
//! made: no second build.

mod common;

use std::path::{Path, PathBuf};
use std::process::Command;

use assert_cmd::prelude::*;
use common::{Aws, Stack};
use ddns_testkit::Moto;
use predicates::prelude::*;

/// The test package and its bytes, in `dir`.
fn test_package(dir: &Path) -> (PathBuf, Vec<u8>) {
    let path = common::package(dir, 0o755);
    let bytes = std::fs::read(&path).unwrap();
    (path, bytes)
}

/// `ddns-ctl` with `zip` appended for arm64, alone in `dir/bin`.
fn embedded_binary(zip: &Path, dir: &Path) -> PathBuf {
    let out = dir.join("bin/ddns-ctl");
    std::fs::create_dir_all(out.parent().unwrap()).unwrap();
    Command::cargo_bin("ddns-ctl")
        .unwrap()
        .args(["embed", "--arch", "arm64", "--zip"])
        .arg(zip)
        .arg("--out")
        .arg(&out)
        .assert()
        .success();
    out
}

/// `binary` copied into a directory of its own, with nothing else there.
fn alone(binary: &Path, dir: &Path) -> PathBuf {
    let copy = dir.join("bin/ddns-ctl");
    std::fs::create_dir_all(copy.parent().unwrap()).unwrap();
    std::fs::copy(binary, &copy).unwrap();
    copy
}

/// `binary` run from `dir` for `stack`, with an empty PATH and HOME.
fn isolated(binary: &Path, dir: &Path, stack: &Stack<'_>) -> Command {
    let empty = dir.join("empty");
    std::fs::create_dir_all(&empty).unwrap();
    let mut cmd = Command::new(binary);
    cmd.current_dir(dir)
        .env_clear()
        .envs(stack.moto.env())
        .env("PATH", &empty)
        .env("HOME", &empty)
        .args(["--name", &stack.name]);
    cmd
}

/// `status --output json` with `binary`, and its exit code.
fn isolated_status(binary: &Path, dir: &Path, stack: &Stack<'_>) -> (Option<i32>, serde_json::Value) {
    common::status_with(isolated(binary, dir, stack))
}

/// `deploy --yes` with `binary`, no sources to build from: it fails,
/// saying each of `said`, and creates nothing.
fn refused(binary: &Path, dir: &Path, stack: &Stack<'_>, said: &[&str]) {
    let out = isolated(binary, dir, stack)
        .env("DDNS_CTL_SOURCES", dir)
        .args(["deploy", "--yes"])
        .assert()
        .code(1);
    let stderr = String::from_utf8_lossy(&out.get_output().stderr).into_owned();
    for words in said {
        assert!(stderr.contains(words), "no {words:?} in: {stderr}");
    }
    common::assert_nothing_exists(stack);
}

#[tokio::test(flavor = "multi_thread")]
async fn a_binary_with_its_package_deploys_it_with_nothing_else() {
    let packages = tempfile::tempdir().unwrap();
    let (zip, bytes) = test_package(packages.path());
    let sha = common::code_sha256(&bytes);
    let moto = Moto::dedicated();
    let stack = Stack::new(&moto);
    let dir = tempfile::tempdir().unwrap();
    let binary = embedded_binary(&zip, dir.path());

    let version = isolated(&binary, dir.path(), &stack).arg("--version").output().unwrap();
    let version = String::from_utf8_lossy(&version.stdout);
    assert!(version.starts_with("ddns-ctl 0.1.0\n"), "{version}");
    assert!(
        version.contains(&format!("handler arm64   CodeSha256 {sha}")),
        "{version}"
    );
    assert!(!version.contains("x86_64"), "{version}");

    isolated(&binary, dir.path(), &stack)
        .args(["deploy", "--yes"])
        .assert()
        .success()
        .stdout(predicate::str::contains("is deployed"));
    let aws = Aws::new(&moto).await;
    let function = aws.function(&stack).await.expect("the function exists");
    let config = function.configuration().unwrap();
    assert_eq!(config.code_sha256(), Some(sha.as_str()));
    assert_eq!(config.architectures()[0].as_str(), "arm64");

    moto.start_recording();
    isolated(&binary, dir.path(), &stack)
        .args(["deploy", "--yes"])
        .assert()
        .success()
        .stdout(predicate::str::contains("is up to date"));
    let again = moto.recorded();
    assert!(!again.is_empty(), "the second deploy's recording is empty");
    let writes = common::writes(&again);
    assert!(writes.is_empty(), "the second deploy wrote: {writes:#?}");

    let (code, report) = isolated_status(&binary, dir.path(), &stack);
    assert_eq!((code, &report["code"]), (Some(0), &"matches".into()), "{report:#}");

    // Someone uploads other code by hand: status names it, deploy puts
    // this binary's package back, and nothing else.
    let other = std::fs::read(common::package(packages.path(), 0o700)).unwrap();
    aws.lambda
        .update_function_code()
        .function_name(stack.function())
        .zip_file(aws_sdk_lambda::primitives::Blob::new(other))
        .send()
        .await
        .unwrap();
    let (code, report) = isolated_status(&binary, dir.path(), &stack);
    assert_eq!((code, &report["code"]), (Some(1), &"differs".into()), "{report:#}");
    assert_eq!(common::state(&report, "function"), "drifted", "{report:#}");
    isolated(&binary, dir.path(), &stack)
        .arg("status")
        .assert()
        .code(1)
        .stdout(predicate::str::contains(format!(
            "drifted  Lambda function {} (function code differs from this ddns-ctl's: becomes CodeSha256 {sha})",
            stack.function()
        )));
    // A binary that carries no package cannot tell, and says so.
    stack
        .cli()
        .arg("status")
        .assert()
        .success()
        .stdout(predicate::str::contains("code     not compared"));

    moto.start_recording();
    isolated(&binary, dir.path(), &stack)
        .args(["deploy", "--yes"])
        .assert()
        .success();
    assert_eq!(
        common::writes(&moto.recorded()),
        [format!("PUT /2015-03-31/functions/{}/code", stack.function())],
        "the repair uploads the code and nothing else"
    );
    let function = aws.function(&stack).await.expect("the function exists");
    assert_eq!(function.configuration().unwrap().code_sha256(), Some(sha.as_str()));
    let (code, report) = isolated_status(&binary, dir.path(), &stack);
    assert_eq!((code, &report["code"]), (Some(0), &"matches".into()), "{report:#}");

    // There is no x86_64 package, and no sources from here: that deploy
    // must say so, not build.
    isolated(&binary, dir.path(), &stack)
        .env("DDNS_CTL_SOURCES", dir.path())
        .args(["deploy", "--yes", "--arch", "x86_64"])
        .assert()
        .code(1)
        .stderr(predicate::str::contains("carries no handler package for x86_64"));
}

#[test]
fn a_binary_without_a_package_or_sources_names_both_ways_out() {
    let moto = ddns_testkit::moto();
    let stack = Stack::new(moto);
    let dir = tempfile::tempdir().unwrap();
    let binary = alone(&assert_cmd::cargo::cargo_bin("ddns-ctl"), dir.path());
    isolated(&binary, dir.path(), &stack)
        .arg("--version")
        .assert()
        .success()
        .stdout(predicate::str::contains("no embedded handler"));
    // The checkout this binary was built from is still on this machine, at
    // the path compiled into it; DDNS_CTL_SOURCES points the look elsewhere.
    refused(
        &binary,
        dir.path(),
        &stack,
        &[
            "carries no handler package for arm64",
            "release binary",
            "--handler-zip",
        ],
    );
}

#[test]
fn a_damaged_package_is_refused_and_nothing_is_deployed() {
    let moto = ddns_testkit::moto();
    let stack = Stack::new(moto);
    let dir = tempfile::tempdir().unwrap();
    let packages = tempfile::tempdir().unwrap();
    let (zip, package) = test_package(packages.path());
    let binary = embedded_binary(&zip, dir.path());
    // Flip a byte inside the appended zip: the package starts where the
    // plain binary ends.
    let plain = std::fs::metadata(assert_cmd::cargo::cargo_bin("ddns-ctl"))
        .unwrap()
        .len();
    let mut bytes = std::fs::read(&binary).unwrap();
    let at = usize::try_from(plain).unwrap() + package.len() / 2;
    bytes[at] ^= 0x20;
    std::fs::write(&binary, &bytes).unwrap();

    refused(
        &binary,
        dir.path(),
        &stack,
        &[
            "handler packages appended to",
            "are damaged",
            "arm64 package's CodeSha256",
        ],
    );
    isolated(&binary, dir.path(), &stack)
        .arg("--version")
        .assert()
        .success()
        .stdout(predicate::str::contains("are damaged"));
}
