//! The Lambda deployment package: building `bootstrap` from `handler/` and
//! zipping it the way Lambda wants it. (A release binary carries prebuilt
//! packages instead: `embedded`.)
//!
//! The zip is built in memory with one entry, `bootstrap`, mode 0755 and a
//! fixed timestamp, so the same binary always gives the same bytes and the
//! same CodeSha256, and a redeploy of unchanged code uploads nothing.

use std::io::{Cursor, Read as _, Write as _};
use std::path::{Path, PathBuf};
use std::process::Command;

use zip::write::SimpleFileOptions;
use zip::{CompressionMethod, DateTime, ZipArchive, ZipWriter};

use crate::model::Arch;

/// The newest glibc symbol version `provided.al2023` offers.
pub const MAX_GLIBC: (u32, u32) = (2, 34);

/// Why there is no package.
#[derive(Debug, thiserror::Error)]
pub enum PackageError {
    /// `--handler-zip` cannot be read.
    #[error("cannot read {path}: {source}")]
    Read {
        /// The zip.
        path: PathBuf,
        /// Why.
        source: std::io::Error,
    },
    /// `--handler-zip` is not a zip with an executable `bootstrap`.
    #[error("{path} is not a Lambda package: {reason}")]
    NotAPackage {
        /// The zip.
        path: PathBuf,
        /// What is wrong.
        reason: String,
    },
    /// Zipping failed.
    #[error("cannot build the zip: {0}")]
    Zip(#[from] zip::result::ZipError),
    /// There is no way to build for the requested architecture here.
    #[error(
        "cannot build the handler for {arch:?} on this {host} machine without cargo-lambda: `pip install cargo-lambda`, or pass --handler-zip"
    )]
    NoCrossCompiler {
        /// The wanted architecture.
        arch: Arch,
        /// This machine's.
        host: &'static str,
    },
    /// This binary carries no package for the architecture, and the handler
    /// sources are not where it was built from.
    #[error(
        "this ddns-ctl carries no handler package for {arch}, and there are no handler sources at {} to build one: \
         use a release binary of ddns-ctl (it carries the packages), or pass --handler-zip with a prebuilt package",
        .sources.display()
    )]
    NoSources {
        /// The wanted architecture.
        arch: Arch,
        /// Where the sources were looked for.
        sources: PathBuf,
    },
    /// The build command failed.
    #[error("building the handler failed: {0}")]
    Build(String),
    /// The host build needs a newer glibc than Lambda has.
    #[error(
        "the handler built on this machine needs GLIBC_{}.{}, newer than provided.al2023's {}.{}; `pip install cargo-lambda` to build against an older glibc",
        .0.0, .0.1, MAX_GLIBC.0, MAX_GLIBC.1
    )]
    GlibcTooNew((u32, u32)),
}

/// Zips `binary` as `bootstrap`: mode 0755, fixed timestamp, deflated.
pub fn zip_bootstrap(binary: &[u8]) -> Result<Vec<u8>, PackageError> {
    let options = SimpleFileOptions::default()
        .compression_method(CompressionMethod::Deflated)
        .compression_level(Some(9))
        .last_modified_time(DateTime::default())
        .unix_permissions(0o755);
    let mut zip = ZipWriter::new(Cursor::new(Vec::new()));
    zip.start_file("bootstrap", options)?;
    zip.write_all(binary).map_err(zip::result::ZipError::Io)?;
    Ok(zip.finish()?.into_inner())
}

/// Reads a prebuilt package and checks that it holds an executable
/// `bootstrap`, so a wrong file fails here and not as a 502 later.
pub fn read_zip(path: &Path) -> Result<Vec<u8>, PackageError> {
    let bytes = std::fs::read(path).map_err(|source| PackageError::Read {
        path: path.to_owned(),
        source,
    })?;
    let not = |reason: String| PackageError::NotAPackage {
        path: path.to_owned(),
        reason,
    };
    {
        let mut archive = ZipArchive::new(Cursor::new(&bytes)).map_err(|e| not(e.to_string()))?;
        let entry = archive
            .by_name("bootstrap")
            .map_err(|_| not("it has no `bootstrap` entry".into()))?;
        if entry.unix_mode().is_some_and(|mode| mode & 0o111 == 0) {
            return Err(not("`bootstrap` is not executable".into()));
        }
    }
    Ok(bytes)
}

/// The machine's architecture, as Lambda names it, if Lambda has it.
fn host_arch() -> Option<Arch> {
    match std::env::consts::ARCH {
        "aarch64" => Some(Arch::Arm64),
        "x86_64" => Some(Arch::X86_64),
        _ => None,
    }
}

/// The workspace to build the handler for `arch` in: `sources`, or else the
/// checkout this binary was built from, once it is known to hold `handler/`.
/// Checked before anything is read or written, so a binary away from its
/// checkout fails at once.
pub fn sources(sources: Option<&Path>, arch: Arch) -> Result<PathBuf, PackageError> {
    let workspace = sources.map_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")), Path::to_owned);
    if workspace.join("handler/Cargo.toml").is_file() {
        Ok(workspace)
    } else {
        Err(PackageError::NoSources {
            arch,
            sources: workspace.join("handler"),
        })
    }
}

/// Builds the handler for `arch` in `workspace` (from [`sources`]) and zips
/// it. Uses cargo-lambda when it is installed (it cross-compiles with zig
/// against an old glibc); otherwise a plain release build, if `arch` is this
/// machine's and its glibc needs are ones Lambda meets.
pub fn build(workspace: &Path, arch: Arch) -> Result<Vec<u8>, PackageError> {
    let target_dir = target_dir(workspace)?;
    let binary = if has_cargo_lambda() {
        let flag = match arch {
            Arch::Arm64 => "--arm64",
            Arch::X86_64 => "--x86-64",
        };
        run(Command::new("cargo").current_dir(workspace).args([
            "lambda",
            "build",
            "--release",
            flag,
            "-p",
            "ddns-handler",
            "--bin",
            "bootstrap",
        ]))?;
        target_dir.join("lambda/bootstrap/bootstrap")
    } else if host_arch() == Some(arch) {
        run(Command::new("cargo").current_dir(workspace).args([
            "build",
            "--release",
            "-p",
            "ddns-handler",
            "--bin",
            "bootstrap",
        ]))?;
        target_dir.join("release/bootstrap")
    } else {
        return Err(PackageError::NoCrossCompiler {
            arch,
            host: std::env::consts::ARCH,
        });
    };
    let mut bytes = Vec::new();
    std::fs::File::open(&binary)
        .and_then(|mut f| f.read_to_end(&mut bytes))
        .map_err(|source| PackageError::Read { path: binary, source })?;
    if let Some(needed) = max_glibc(&bytes).filter(|v| *v > MAX_GLIBC) {
        return Err(PackageError::GlibcTooNew(needed));
    }
    zip_bootstrap(&bytes)
}

fn has_cargo_lambda() -> bool {
    Command::new("cargo")
        .args(["lambda", "--version"])
        .output()
        .is_ok_and(|o| o.status.success())
}

fn target_dir(workspace: &Path) -> Result<PathBuf, PackageError> {
    let out = Command::new("cargo")
        .current_dir(workspace)
        .args(["metadata", "--format-version", "1", "--no-deps"])
        .output()
        .map_err(|e| PackageError::Build(format!("cannot run cargo: {e}")))?;
    let meta: serde_json::Value =
        serde_json::from_slice(&out.stdout).map_err(|e| PackageError::Build(format!("cargo metadata: {e}")))?;
    meta["target_directory"]
        .as_str()
        .map(PathBuf::from)
        .ok_or_else(|| PackageError::Build("cargo metadata has no target_directory".into()))
}

fn run(command: &mut Command) -> Result<(), PackageError> {
    let status = command
        .status()
        .map_err(|e| PackageError::Build(format!("cannot run cargo: {e}")))?;
    if status.success() {
        Ok(())
    } else {
        Err(PackageError::Build(format!("{command:?} exited with {status}")))
    }
}

/// The newest `GLIBC_x.y` symbol version a dynamically linked binary needs.
/// Version names live as plain strings in `.dynstr`, so a scan finds them.
pub fn max_glibc(binary: &[u8]) -> Option<(u32, u32)> {
    const TAG: &[u8] = b"GLIBC_";
    let mut newest = None;
    let mut rest = binary;
    while let Some(at) = rest.windows(TAG.len()).position(|w| w == TAG) {
        rest = &rest[at + TAG.len()..];
        let text: String = rest
            .iter()
            .take_while(|b| b.is_ascii_digit() || **b == b'.')
            .map(|b| *b as char)
            .collect();
        let mut parts = text.split('.').map(str::parse::<u32>);
        if let (Some(Ok(major)), Some(Ok(minor))) = (parts.next(), parts.next()) {
            newest = newest.max(Some((major, minor)));
        }
    }
    newest
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_zip_is_deterministic_and_executable() {
        let a = zip_bootstrap(b"\x7fELF pretend binary").unwrap();
        let b = zip_bootstrap(b"\x7fELF pretend binary").unwrap();
        assert_eq!(a, b, "same binary, same bytes, same CodeSha256");
        let mut archive = ZipArchive::new(Cursor::new(&a)).unwrap();
        assert_eq!(archive.len(), 1);
        let mut entry = archive.by_name("bootstrap").unwrap();
        assert_eq!(entry.unix_mode().unwrap() & 0o777, 0o755);
        let mut content = Vec::new();
        entry.read_to_end(&mut content).unwrap();
        assert_eq!(content, b"\x7fELF pretend binary");
    }

    #[test]
    fn prebuilt_packages_are_checked() {
        let dir = std::env::temp_dir().join(format!("ddns-package-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let good = dir.join("good.zip");
        std::fs::write(&good, zip_bootstrap(b"binary").unwrap()).unwrap();
        assert!(read_zip(&good).is_ok());

        let not_zip = dir.join("not.zip");
        std::fs::write(&not_zip, b"hello").unwrap();
        assert!(matches!(read_zip(&not_zip), Err(PackageError::NotAPackage { .. })));

        let mut zip = ZipWriter::new(Cursor::new(Vec::new()));
        zip.start_file("handler", SimpleFileOptions::default()).unwrap();
        zip.write_all(b"x").unwrap();
        let wrong = dir.join("wrong.zip");
        std::fs::write(&wrong, zip.finish().unwrap().into_inner()).unwrap();
        let err = read_zip(&wrong).unwrap_err().to_string();
        assert!(err.contains("no `bootstrap` entry"), "{err}");
        assert!(matches!(
            read_zip(&dir.join("missing.zip")),
            Err(PackageError::Read { .. })
        ));
    }

    #[test]
    fn finds_the_newest_glibc_version() {
        let fake = b"\0libc.so.6\0GLIBC_2.2.5\0GLIBC_2.34\0GLIBC_2.17\0GLIBC_PRIVATE\0";
        assert_eq!(max_glibc(fake), Some((2, 34)));
        assert_eq!(max_glibc(b"static binary"), None);
        assert!(max_glibc(b"\0GLIBC_2.38\0").is_some_and(|v| v > MAX_GLIBC));
        // This test binary itself is built on this machine like a host build.
        let me = std::fs::read(std::env::current_exe().unwrap()).unwrap();
        assert!(max_glibc(&me).is_some());
    }
}
