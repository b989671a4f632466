//! Completions and man pages come from the real command line.

use std::process::Command;

use assert_cmd::prelude::*;
use predicates::prelude::*;

#[test]
fn completions_cover_every_subcommand() {
    for shell in ["bash", "zsh", "fish", "powershell"] {
        let out = Command::cargo_bin("ddns-ctl")
            .unwrap()
            .args(["completions", shell])
            .output()
            .unwrap();
        assert!(out.status.success(), "{shell}");
        let script = String::from_utf8(out.stdout).unwrap();
        for word in ["deploy", "teardown", "client-config", "rotate-secret"] {
            assert!(script.contains(word), "{shell} completions lack {word}");
        }
    }
    Command::cargo_bin("ddns-ctl")
        .unwrap()
        .args(["completions", "tcsh"])
        .assert()
        .code(2);
}

#[test]
fn man_pages_are_written_for_every_subcommand() {
    let dir = std::env::temp_dir().join(format!("ddns-man-{}", std::process::id()));
    Command::cargo_bin("ddns-ctl")
        .unwrap()
        .args(["man", "--out-dir"])
        .arg(&dir)
        .assert()
        .success();
    for page in [
        "ddns-ctl.1",
        "ddns-ctl-deploy.1",
        "ddns-ctl-host.1",
        "ddns-ctl-host-add.1",
        "ddns-ctl-update.1",
    ] {
        let text = std::fs::read_to_string(dir.join(page)).unwrap_or_else(|_| panic!("{page} missing"));
        assert!(
            text.starts_with(".ie") || text.contains(".TH"),
            "{page} is not a man page"
        );
    }
}

#[test]
fn every_subcommand_has_help_with_an_example() {
    for sub in [
        "deploy",
        "teardown",
        "status",
        "serve",
        "client-config",
        "update",
        "completions",
        "man",
    ] {
        Command::cargo_bin("ddns-ctl")
            .unwrap()
            .args([sub, "--help"])
            .assert()
            .success()
            .stdout(predicate::str::contains("Usage: ddns-ctl").and(predicate::str::contains("Example")));
    }
}
