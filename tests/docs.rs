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

/// The subcommands `ddns-ctl PATH --help` lists under "Commands:".
fn subcommands(path: &[String]) -> Vec<String> {
    let out = Command::cargo_bin("ddns-ctl")
        .unwrap()
        .args(path)
        .arg("--help")
        .output()
        .unwrap();
    assert!(out.status.success(), "{path:?} --help failed");
    let help = String::from_utf8(out.stdout).unwrap();
    help.lines()
        .skip_while(|line| *line != "Commands:")
        .skip(1)
        .take_while(|line| line.starts_with("  "))
        // A long description wraps onto lines indented further.
        .filter(|line| !line[2..].starts_with(' '))
        .filter_map(|line| line.split_whitespace().next())
        .filter(|name| *name != "help")
        .map(str::to_owned)
        .collect()
}

/// Walks the built binary's command tree, nested commands included, as a
/// user reading `--help` would; the same walk over clap's tree is a unit
/// test in src/cli.rs.
#[test]
fn every_subcommand_has_help_with_an_example() {
    let mut pending: Vec<Vec<String>> = subcommands(&[]).into_iter().map(|name| vec![name]).collect();
    let mut seen = Vec::new();
    while let Some(path) = pending.pop() {
        Command::cargo_bin("ddns-ctl")
            .unwrap()
            .args(&path)
            .arg("--help")
            .assert()
            .success()
            .stdout(predicate::str::contains("Usage: ddns-ctl").and(predicate::str::contains("Example")));
        for sub in subcommands(&path) {
            pending.push([path.clone(), vec![sub]].concat());
        }
        seen.push(path.join(" "));
    }
    for path in ["deploy", "host add", "host rotate-secret", "config restore", "setup"] {
        assert!(seen.iter().any(|s| s == path), "{path} not reached: {seen:?}");
    }
}

/// Examples stay as written, one per line, and the global options come after
/// the command's own, under their own heading.
#[test]
fn help_keeps_examples_verbatim_and_global_options_last() {
    let out = Command::cargo_bin("ddns-ctl")
        .unwrap()
        .args(["update", "--help"])
        .output()
        .unwrap();
    let help = String::from_utf8(out.stdout).unwrap();
    let lines: Vec<&str> = help.lines().collect();
    let example = lines
        .iter()
        .position(|l| *l == r"  ddns-ctl update --url https://abc.execute-api.eu-west-1.amazonaws.com/prod/ \")
        .unwrap_or_else(|| panic!("the first example is not on a line of its own:\n{help}"));
    assert_eq!(
        lines[example + 1],
        "      --hostname home.example.com --secret-file /etc/ddns-ctl/home.secret"
    );
    let own = lines.iter().position(|l| *l == "Options:").unwrap();
    let global = lines.iter().position(|l| *l == "Global options:").unwrap();
    let hostname = lines
        .iter()
        .position(|l| l.trim_start().starts_with("--hostname <HOST>"))
        .unwrap();
    let region = lines
        .iter()
        .position(|l| l.trim_start().starts_with("--region <REGION>"))
        .unwrap();
    assert!(own < hostname && hostname < global && global < region, "{help}");
}
