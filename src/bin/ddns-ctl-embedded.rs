//! `ddns-ctl` again, under another name, for the embedded-package test
//! (tests/embedded.rs): built only with the `embedded-test` feature, so its
//! artifacts never replace the plain `ddns-ctl` the other tests run.

fn main() -> std::process::ExitCode {
    ddns_ctl::main()
}
