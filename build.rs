//! Embeds prebuilt Lambda packages into `ddns-ctl`, when asked to.
//!
//! `DDNS_CTL_EMBED_ARM64_ZIP` and `DDNS_CTL_EMBED_X86_64_ZIP` name zips
//! made beforehand (by cargo-lambda from `handler/`). This script never
//! builds them: a plain `cargo build` sets neither variable, so all it does
//! is tell the code there is nothing embedded, and the build stays as fast
//! as without it.

use std::path::{Path, PathBuf};

/// The variables, with the architecture each package is for.
const PACKAGES: [(&str, &str); 2] = [
    ("DDNS_CTL_EMBED_ARM64_ZIP", "ARM64"),
    ("DDNS_CTL_EMBED_X86_64_ZIP", "X86_64"),
];

fn main() {
    println!("cargo:rerun-if-changed=build.rs");
    let out = PathBuf::from(std::env::var_os("OUT_DIR").expect("cargo sets OUT_DIR"));
    for (variable, arch) in PACKAGES {
        println!("cargo:rerun-if-env-changed={variable}");
        let path = match std::env::var_os(variable).filter(|v| !v.is_empty()) {
            Some(path) => checked(variable, Path::new(&path)),
            // include_bytes! needs a file, and an empty one means "none".
            None => empty(&out),
        };
        // rustc records an include_bytes! file in the dep-info, so a changed
        // zip rebuilds the crate; this line reruns the check on it.
        println!("cargo:rerun-if-changed={}", path.display());
        println!("cargo:rustc-env=DDNS_CTL_EMBEDDED_{arch}={}", path.display());
    }
}

/// `path`, absolute, once it is known to be a zip: a wrong file fails the
/// build and not a deploy.
fn checked(variable: &str, path: &Path) -> PathBuf {
    let path = std::path::absolute(path).unwrap_or_else(|e| panic!("{variable}: {}: {e}", path.display()));
    let bytes = std::fs::read(&path).unwrap_or_else(|e| panic!("{variable}: cannot read {}: {e}", path.display()));
    assert!(
        bytes.starts_with(b"PK\x03\x04"),
        "{variable}: {} is not a zip",
        path.display()
    );
    path
}

/// An empty file in OUT_DIR, written once.
fn empty(out: &Path) -> PathBuf {
    let path = out.join("none.zip");
    if !path.exists() {
        std::fs::write(&path, b"").expect("cannot write to OUT_DIR");
    }
    path
}
