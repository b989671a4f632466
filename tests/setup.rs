//! The setup wizard, answered through a pseudo-terminal against moto: the
//! happy path, a re-run that adds a host, a cancel, and no terminal at all.

#![cfg(unix)]

mod common;

use std::process::{Command, Stdio};

use assert_cmd::prelude::*;
use common::{Aws, Stack};
use ddns_testkit::Moto;
use predicates::prelude::*;
use rexpect::session::{PtySession, spawn_command};

const ENTER: &str = "\n";

/// dialoguer switches the terminal to raw mode once its prompt is drawn, and
/// input typed before that may be dropped; give it a moment, as a person would.
fn key(session: &mut PtySession, keys: &str) {
    std::thread::sleep(std::time::Duration::from_millis(300));
    session.send(keys).unwrap();
}

fn wizard(stack: &Stack<'_>, check_url: &str) -> PtySession {
    let mut cmd = stack.cli();
    cmd.env("NO_COLOR", "1")
        .args(["setup", "--handler-zip"])
        .arg(&stack.zip)
        .args(["--check-url", check_url]);
    spawn_command(cmd, Some(60_000)).unwrap()
}

/// Answers the host questions: zone (the only one), `label`, IPv4, TTL,
/// rate limit and client defaults, then goes ahead.
fn answer_host_questions(session: &mut PtySession, label: &str) {
    session.exp_string("Hosted zone").unwrap();
    key(session, ENTER);
    session.exp_string("Hostname").unwrap();
    session.send_line(label).unwrap();
    session.exp_string("Record types").unwrap();
    key(session, ENTER);
    session.exp_string("TTL").unwrap();
    session.send_line("").unwrap();
    session.exp_string("Rate limit").unwrap();
    session.send_line("").unwrap();
    session.exp_string("Client").unwrap();
    key(session, ENTER);
    session.exp_string("[Y/n]").unwrap();
    key(session, "y\n");
}

#[tokio::test(flavor = "multi_thread")]
async fn from_nothing_to_a_working_host_then_another() {
    // A moto of its own, so the zone list holds exactly one zone.
    let moto = Box::leak(Box::new(Moto::dedicated()));
    let aws = Aws::new(moto).await;
    let (_, zone) = aws.zone().await;
    let stack = Stack::new(moto);
    // A local service on the stack's (future) bucket stands in for the
    // endpoint in the final live check; moto cannot run the function.
    let serve = common::Serve::start(&stack);
    let check_url = serve.url();

    let mut session = wizard(&stack, &check_url);
    session.exp_string("Region").unwrap();
    session.send_line("").unwrap();
    session.exp_string("Account 123456789012").unwrap();
    session.exp_string("Stack name").unwrap();
    session.send_line("").unwrap();
    answer_host_questions(&mut session, "home");
    session.exp_string("is deployed").unwrap();
    session.exp_string("Secret, shown this once").unwrap();
    session.exp_string("*/5 * * * * ddns-ctl update").unwrap();
    session.exp_string("mode=get: 127.0.0.1").unwrap();
    session.exp_eof().unwrap();
    stack
        .cli()
        .arg("status")
        .assert()
        .success()
        .stdout(predicate::str::contains("hosts    1"));

    // Again: the stack is found, and a second host is added.
    let mut session = wizard(&stack, &check_url);
    session.exp_string("Region").unwrap();
    session.send_line("").unwrap();
    session.exp_string("Stack name").unwrap();
    session.send_line("").unwrap();
    session.exp_string("exists. What now?").unwrap();
    key(&mut session, ENTER);
    answer_host_questions(&mut session, "second");
    session.exp_string(&format!("Added second.{zone}")).unwrap();
    session.exp_eof().unwrap();
    stack
        .cli()
        .arg("status")
        .assert()
        .success()
        .stdout(predicate::str::contains("hosts    2"));

    // Ctrl-C at a prompt of a new stack leaves nothing behind.
    let other = Stack::new(moto);
    let mut session = wizard(&other, &check_url);
    session.exp_string("Region").unwrap();
    session.send_line("").unwrap();
    session.exp_string("Stack name").unwrap();
    session.send_line("").unwrap();
    session.exp_string("Hosted zone").unwrap();
    std::thread::sleep(std::time::Duration::from_millis(300));
    session.send_control('c').unwrap();
    session.exp_eof().unwrap();
    let status = other.cli().args(["--output", "json", "status"]).output().unwrap();
    assert_eq!(status.status.code(), Some(1));
    assert!(!String::from_utf8_lossy(&status.stdout).contains("\"present\""));

    drop(serve);
}

#[test]
fn without_a_terminal_it_names_the_flags_to_use() {
    let moto = ddns_testkit::moto();
    Command::cargo_bin("ddns-ctl")
        .unwrap()
        .envs(moto.env())
        .arg("setup")
        .stdin(Stdio::null())
        .assert()
        .code(1)
        .stderr(predicate::str::contains("needs a terminal").and(predicate::str::contains("deploy --yes")));
}
