//! The `ddns-ctl` binary; everything is in the library.

fn main() -> std::process::ExitCode {
    ddns_ctl::main()
}
