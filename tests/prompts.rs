//! The confirmation prompts, answered through a pseudo-terminal as a person
//! would answer them.

#![cfg(unix)]

use std::process::Command;

use assert_cmd::cargo::CommandCargoExt as _;
use ddns_testkit::unique;
use rexpect::session::spawn_command;

fn cli(stack: &str, args: &[&str]) -> Command {
    let mut cmd = Command::cargo_bin("ddns-ctl").unwrap();
    cmd.envs(ddns_testkit::moto().env())
        .env_remove("RUST_LOG")
        .env("NO_COLOR", "1")
        .args(["--name", stack])
        .args(args);
    cmd
}

fn package(dir: &std::path::Path) -> std::path::PathBuf {
    use std::io::Write as _;
    let mut zip = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
    zip.start_file(
        "bootstrap",
        zip::write::SimpleFileOptions::default().unix_permissions(0o755),
    )
    .unwrap();
    zip.write_all(b"\x7fELF").unwrap();
    let path = dir.join("bootstrap.zip");
    std::fs::write(&path, zip.finish().unwrap().into_inner()).unwrap();
    path
}

#[test]
fn deploy_and_teardown_ask_first_on_a_terminal() {
    let stack: String = unique("p").replace('-', "").chars().take(20).collect();
    let dir = std::env::temp_dir().join(unique("ddns-prompt"));
    std::fs::create_dir_all(&dir).unwrap();
    let zip = package(&dir);
    let zip = zip.to_str().unwrap();

    // Deploy shows the plan and asks; "n" changes nothing.
    let mut session = spawn_command(cli(&stack, &["deploy", "--handler-zip", zip]), Some(30_000)).unwrap();
    session.exp_string("+ create     IAM role").unwrap();
    session.exp_string("Apply this plan?").unwrap();
    session.send_line("n").unwrap();
    session.exp_string("cancelled; nothing was changed").unwrap();
    session.exp_eof().unwrap();
    let status = cli(&stack, &["status"]).output().unwrap();
    assert_eq!(status.status.code(), Some(1), "nothing should exist yet");

    // "y" applies it.
    let mut session = spawn_command(cli(&stack, &["deploy", "--handler-zip", zip]), Some(30_000)).unwrap();
    session.exp_string("Apply this plan?").unwrap();
    session.send_line("y").unwrap();
    session.exp_string("is deployed").unwrap();
    session.exp_eof().unwrap();
    assert!(cli(&stack, &["status"]).status().unwrap().success());

    // Teardown lists what it will delete and asks; "n" keeps everything.
    let mut session = spawn_command(cli(&stack, &["teardown"]), Some(30_000)).unwrap();
    session.exp_string("will delete:").unwrap();
    session.exp_string("Delete these resources?").unwrap();
    session.send_line("n").unwrap();
    session.exp_string("cancelled; nothing was deleted").unwrap();
    session.exp_eof().unwrap();
    assert!(cli(&stack, &["status"]).status().unwrap().success());

    let mut session = spawn_command(cli(&stack, &["teardown"]), Some(30_000)).unwrap();
    session.exp_string("Delete these resources?").unwrap();
    session.send_line("y").unwrap();
    session.exp_string("is torn down").unwrap();
    session.exp_eof().unwrap();
    assert_eq!(cli(&stack, &["status"]).output().unwrap().status.code(), Some(1));
}
