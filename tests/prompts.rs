//! The confirmation prompts, answered through a pseudo-terminal as a person
//! would answer them.

#![cfg(unix)]

mod common;

use common::Stack;
use rexpect::session::spawn_command;

#[test]
fn deploy_and_teardown_ask_first_on_a_terminal() {
    let stack = Stack::new(ddns_testkit::moto());
    let zip = stack.zip.to_str().unwrap().to_owned();
    let cli = |args: &[&str]| {
        let mut cmd = stack.cli();
        cmd.env("NO_COLOR", "1").args(args);
        cmd
    };

    // Deploy shows the plan and asks; "n" changes nothing.
    let mut session = spawn_command(cli(&["deploy", "--handler-zip", &zip]), Some(30_000)).unwrap();
    session.exp_string("+ create     IAM role").unwrap();
    session.exp_string("Apply this plan?").unwrap();
    session.send_line("n").unwrap();
    session.exp_string("cancelled; nothing was changed").unwrap();
    session.exp_eof().unwrap();
    common::assert_nothing_exists(&stack);

    // "y" applies it.
    let mut session = spawn_command(cli(&["deploy", "--handler-zip", &zip]), Some(30_000)).unwrap();
    session.exp_string("Apply this plan?").unwrap();
    session.send_line("y").unwrap();
    session.exp_string("is deployed").unwrap();
    session.exp_eof().unwrap();
    assert!(cli(&["status"]).status().unwrap().success());

    // Teardown lists what it will delete and asks; "n" keeps everything.
    let mut session = spawn_command(cli(&["teardown"]), Some(30_000)).unwrap();
    session.exp_string("will delete:").unwrap();
    session.exp_string("Delete these resources?").unwrap();
    session.send_line("n").unwrap();
    session.exp_string("cancelled; nothing was deleted").unwrap();
    session.exp_eof().unwrap();
    assert!(cli(&["status"]).status().unwrap().success());

    let mut session = spawn_command(cli(&["teardown"]), Some(30_000)).unwrap();
    session.exp_string("Delete these resources?").unwrap();
    session.send_line("y").unwrap();
    session.exp_string("is torn down").unwrap();
    session.exp_eof().unwrap();
    common::assert_nothing_exists(&stack);
}
