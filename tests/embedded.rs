//! The embedded path: a `ddns-ctl` that carries its Lambda package deploys
//! it from an empty directory, with no cargo, cargo-lambda or zig on the
//! PATH and an empty HOME; one that carries none and has no sources to
//! build from says how to get a package, and changes nothing.
//!
//! The binary with a package is `ddns-ctl-embedded`, built here with a tiny
//! test zip through the same variable a release build uses (see
//! docs/architecture.md for why this way and what it costs).

mod common;

use std::path::{Path, PathBuf};
use std::process::Command;

use assert_cmd::prelude::*;
use common::{Aws, Stack};
use ddns_testkit::Moto;
use predicates::prelude::*;

/// The cargo that built this test, and the target directory it built into.
const CARGO: &str = env!("CARGO");
const TARGET_TMPDIR: &str = env!("CARGO_TARGET_TMPDIR");

/// The test package, at a path that stays the same from run to run and
/// rewritten only when its bytes change: build.rs reruns, and the crate is
/// rebuilt, when either changes.
fn test_package() -> (PathBuf, Vec<u8>) {
    let dir = Path::new(TARGET_TMPDIR).join("embedded");
    std::fs::create_dir_all(&dir).unwrap();
    let fresh = common::package(&tempfile::tempdir_in(&dir).unwrap().keep(), 0o755);
    let bytes = std::fs::read(&fresh).unwrap();
    std::fs::remove_dir_all(fresh.parent().unwrap()).unwrap();
    let path = dir.join("arm64.zip");
    if std::fs::read(&path).ok().as_deref() != Some(bytes.as_slice()) {
        std::fs::write(&path, &bytes).unwrap();
    }
    (path, bytes)
}

/// `ddns-ctl-embedded`, with the test package embedded for arm64.
fn embedded_binary(zip: &Path) -> PathBuf {
    let target = Path::new(TARGET_TMPDIR).parent().unwrap();
    // The feature keeps this build's artifacts apart from the plain
    // `ddns-ctl`; `--test embedded` makes cargo resolve features as
    // `cargo test` does, so the dependencies it built are reused as they are.
    let out = Command::new(CARGO)
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .env("CARGO_TARGET_DIR", target)
        .env("DDNS_CTL_EMBED_ARM64_ZIP", zip)
        .env_remove("DDNS_CTL_EMBED_X86_64_ZIP")
        .args(["build", "--locked", "--offline", "--workspace"])
        .args([
            "--features",
            "ddns-ctl/embedded-test",
            "--bin",
            "ddns-ctl-embedded",
            "--test",
            "embedded",
        ])
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    target.join("debug/ddns-ctl-embedded")
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

#[tokio::test(flavor = "multi_thread")]
async fn a_binary_with_its_package_deploys_it_with_nothing_else() {
    let (zip, bytes) = test_package();
    let sha = common::code_sha256(&bytes);
    let built = embedded_binary(&zip);
    let moto = Moto::dedicated();
    let stack = Stack::new(&moto);
    let dir = tempfile::tempdir().unwrap();
    let binary = alone(&built, dir.path());

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
    let writes: Vec<String> = again
        .iter()
        .filter(|c| c.is_mutating())
        .map(ToString::to_string)
        .collect();
    assert!(writes.is_empty(), "the second deploy wrote: {writes:#?}");

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
    isolated(&binary, dir.path(), &stack)
        .env("DDNS_CTL_SOURCES", dir.path())
        .args(["deploy", "--yes"])
        .assert()
        .code(1)
        .stderr(
            predicate::str::contains("carries no handler package for arm64")
                .and(predicate::str::contains("release binary"))
                .and(predicate::str::contains("--handler-zip")),
        );
    common::assert_nothing_exists(&stack);
}
