//! `scripts/bootstrap.sh` installs what is missing and says so in one line:
//! for the demo only what the demo runs, for the tests everything. It runs
//! here with stand-ins for apt-get, cargo, rustup, id and python3 on a PATH
//! that holds nothing else but the shell tools, so nothing is installed.

use std::os::unix::fs::PermissionsExt as _;
use std::path::{Path, PathBuf};
use std::process::Command;

/// A PATH directory with the shell tools bootstrap uses, stand-ins (the
/// installers log their arguments to `calls`), and none of curl,
/// perl/shasum, ddclient or inadyn.
struct Machine {
    dir: tempfile::TempDir,
}

impl Machine {
    fn new() -> Self {
        let dir = tempfile::tempdir().unwrap();
        let bin = dir.path().join("bin");
        std::fs::create_dir(&bin).unwrap();
        for tool in [
            "bash", "env", "dirname", "mkdir", "mktemp", "rm", "cmp", "cat", "cp", "grep",
        ] {
            let real = ["/usr/bin", "/bin"]
                .iter()
                .map(|d| Path::new(d).join(tool))
                .find(|p| p.exists())
                .unwrap_or_else(|| panic!("no {tool}"));
            std::os::unix::fs::symlink(real, bin.join(tool)).unwrap();
        }
        let calls = dir.path().join("calls");
        let stand_in = |name: &str, body: &str| {
            let path = bin.join(name);
            // Only the installers' calls are what the tests look at.
            let log = match name {
                "apt-get" | "cargo" | "rustup" => format!("echo \"{name} $*\" >>'{}'", calls.display()),
                _ => String::new(),
            };
            let script = format!("#!/bin/bash\n{log}\n{body}\n");
            std::fs::write(&path, script).unwrap();
            std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o755)).unwrap();
        };
        // apt's chatter, which the user must not see.
        stand_in(
            "apt-get",
            "echo 'Selecting previously unselected package x.'; echo 'Setting up x ...' >&2",
        );
        stand_in("cargo", "");
        stand_in("rustup", "printf 'rustfmt-x86_64\\nclippy-x86_64\\n'");
        stand_in("id", "echo 0");
        stand_in("python3", "");
        // moto is installed, at the pinned versions.
        let venv = dir.path().join("cache/venv");
        std::fs::create_dir_all(&venv).unwrap();
        std::fs::copy(root().join("scripts/requirements.txt"), venv.join(".requirements")).unwrap();
        Self { dir }
    }

    /// Runs bootstrap with `args`: (exit code, stdout, stderr, the stand-ins'
    /// calls).
    fn bootstrap(&self, args: &[&str]) -> (Option<i32>, String, String, String) {
        let out = Command::new(root().join("scripts/bootstrap.sh"))
            .args(args)
            .env_clear()
            .env("PATH", self.dir.path().join("bin"))
            .env("HOME", self.dir.path())
            .env("DDNS_CACHE", self.dir.path().join("cache"))
            .output()
            .unwrap();
        let calls = std::fs::read_to_string(self.dir.path().join("calls")).unwrap_or_default();
        let text = |b: &[u8]| String::from_utf8_lossy(b).into_owned();
        (out.status.code(), text(&out.stdout), text(&out.stderr), calls)
    }
}

fn root() -> PathBuf {
    ddns_testkit::repo_root()
}

#[test]
fn the_demo_installs_only_what_it_runs_in_one_quiet_line() {
    let machine = Machine::new();
    assert_eq!(
        machine.bootstrap(&["--demo"]),
        (
            Some(0),
            String::new(),
            "installing: curl\n".to_owned(),
            "apt-get update -qq\napt-get install -y -qq curl\ncargo fetch --locked -q\n".to_owned()
        )
    );
}

#[test]
fn the_tests_get_the_real_clients_too() {
    let machine = Machine::new();
    assert_eq!(
        machine.bootstrap(&[]),
        (
            Some(0),
            String::new(),
            "installing: curl perl ddclient inadyn pebble certbot openssl\n".to_owned(),
            "apt-get update -qq\napt-get install -y -qq curl perl ddclient inadyn pebble certbot openssl\n\
             rustup component list --installed\ncargo fetch --locked -q\n"
                .to_owned()
        )
    );
}

#[test]
fn a_failed_install_shows_what_the_installer_said() {
    let machine = Machine::new();
    let apt = machine.dir.path().join("bin/apt-get");
    std::fs::write(&apt, "#!/bin/bash\necho 'E: Unable to locate package curl'\nexit 100\n").unwrap();
    let (code, stdout, stderr, _) = machine.bootstrap(&["--demo"]);
    assert_eq!(code, Some(1));
    assert_eq!(stdout, "");
    assert_eq!(
        stderr,
        "installing: curl\nE: Unable to locate package curl\nfailed: apt-get update -qq\n"
    );
}
