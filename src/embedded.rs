//! The Lambda packages a release `ddns-ctl` carries, one per architecture
//! at most, in a trailer appended to the executable after it is built.
//!
//! # Format
//!
//! ```text
//! [ the executable's own bytes ]
//! [ zip 1 ] [ zip 2 ] ...                 each package, as is
//! [ index ]                               JSON, see below
//! [ index length: u64 little-endian ]     8 bytes
//! [ magic: b"DDNSPKG1" ]                  8 bytes
//! ```
//!
//! The index is `{"packages":[{"arch":"arm64","offset":N,"length":L,
//! "code_sha256":"..."}]}`: `offset` counts from the start of the file,
//! `code_sha256` is the zip's CodeSha256 (base64 of its SHA-256, as Lambda
//! computes it). A file whose last 8 bytes are not the magic carries
//! nothing, so a plain `cargo build` is unaffected.
//!
//! Nothing is read at start-up: only deploy (for the package it needs) and
//! `--version` open [`std::env::current_exe`]. Each zip is checked against
//! its index entry before use, so a truncated or corrupted trailer is an
//! error and never a deploy of garbage. ELF loaders map only what the
//! program headers name and ignore trailing bytes, so the binary still
//! runs; macOS codesigning would invalidate appended data (there is no
//! macOS build).
//!
//! [`append`] writes the trailer (`ddns-ctl embed`, used by
//! scripts/dist.sh).

use std::fs::File;
use std::io::{Read as _, Seek as _, SeekFrom};
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::aws::function::code_sha256;
use crate::model::Arch;

/// The last 8 bytes of a binary with a trailer.
pub const MAGIC: &[u8; 8] = b"DDNSPKG1";

/// The fixed footer: the index length, then the magic.
const FOOTER: u64 = 16;

/// The index is small (two entries); anything larger is not one.
const MAX_INDEX: u64 = 64 * 1024;

/// Why the trailer cannot be read or written.
#[derive(Debug, thiserror::Error)]
pub enum EmbeddedError {
    /// A file cannot be read or written.
    #[error("{}: {source}", .path.display())]
    Io {
        /// The file.
        path: PathBuf,
        /// Why.
        source: std::io::Error,
    },
    /// The trailer's magic is there, but what it frames is not a trailer.
    #[error(
        "the handler packages appended to {} are damaged ({reason}); use an intact release binary, \
         or pass --handler-zip with a prebuilt package",
        .path.display()
    )]
    Damaged {
        /// The binary.
        path: PathBuf,
        /// What is wrong.
        reason: String,
    },
    /// Two packages for one architecture were asked for.
    #[error("more than one package for {0}")]
    Duplicate(Arch),
}

/// One package's entry in the index.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
struct Entry {
    arch: String,
    offset: u64,
    length: u64,
    code_sha256: String,
}

/// The index, as JSON.
#[derive(Debug, Default, Serialize, Deserialize)]
struct Index {
    packages: Vec<Entry>,
}

/// The trailer of one binary: where it is, and its index.
#[derive(Debug)]
pub struct Trailer {
    path: PathBuf,
    /// Where the executable's own bytes end.
    start: u64,
    index: Index,
}

impl Trailer {
    /// The trailer of the running binary, if it has one.
    pub fn current() -> Result<Option<Self>, EmbeddedError> {
        let path = std::env::current_exe().map_err(|source| EmbeddedError::Io {
            path: PathBuf::from("the running ddns-ctl"),
            source,
        })?;
        Self::read(&path)
    }

    /// The trailer of the binary at `path`, if it has one.
    pub fn read(path: &Path) -> Result<Option<Self>, EmbeddedError> {
        let io = |source| EmbeddedError::Io {
            path: path.to_owned(),
            source,
        };
        let damaged = |reason: String| EmbeddedError::Damaged {
            path: path.to_owned(),
            reason,
        };
        let mut file = File::open(path).map_err(io)?;
        let size = file.metadata().map_err(io)?.len();
        if size < FOOTER {
            return Ok(None);
        }
        let mut footer = [0u8; FOOTER as usize];
        file.seek(SeekFrom::Start(size - FOOTER)).map_err(io)?;
        file.read_exact(&mut footer).map_err(io)?;
        if &footer[8..] != MAGIC {
            return Ok(None);
        }
        let length = u64::from_le_bytes(footer[..8].try_into().expect("8 bytes"));
        if length > MAX_INDEX || length > size - FOOTER {
            return Err(damaged(format!("an index of {length} bytes in a file of {size}")));
        }
        let at = size - FOOTER - length;
        let mut text = vec![0u8; usize::try_from(length).expect("at most MAX_INDEX")];
        file.seek(SeekFrom::Start(at)).map_err(io)?;
        file.read_exact(&mut text).map_err(io)?;
        let index: Index = serde_json::from_slice(&text).map_err(|e| damaged(format!("the index: {e}")))?;
        let mut start = at;
        for entry in &index.packages {
            if Arch::from_lambda(&entry.arch).is_none() {
                return Err(damaged(format!("an unknown architecture {:?}", entry.arch)));
            }
            // Every package lies between the executable and the index.
            match entry.offset.checked_add(entry.length) {
                Some(end) if end <= at => start = start.min(entry.offset),
                _ => return Err(damaged(format!("the {} package lies outside the trailer", entry.arch))),
            }
        }
        Ok(Some(Self {
            path: path.to_owned(),
            start,
            index,
        }))
    }

    /// The architectures with a package, and each one's CodeSha256 as the
    /// index gives it.
    pub fn listed(&self) -> impl Iterator<Item = (Arch, &str)> {
        self.index
            .packages
            .iter()
            .filter_map(|e| Some((Arch::from_lambda(&e.arch)?, e.code_sha256.as_str())))
    }

    /// The package for `arch`, read now and checked against the index.
    pub fn package(&self, arch: Arch) -> Result<Option<Vec<u8>>, EmbeddedError> {
        let Some(entry) = self.index.packages.iter().find(|e| e.arch == arch.as_str()) else {
            return Ok(None);
        };
        let io = |source| EmbeddedError::Io {
            path: self.path.clone(),
            source,
        };
        let mut file = File::open(&self.path).map_err(io)?;
        file.seek(SeekFrom::Start(entry.offset)).map_err(io)?;
        let mut zip = Vec::new();
        file.take(entry.length).read_to_end(&mut zip).map_err(io)?;
        let actual = code_sha256(&zip);
        if zip.len() as u64 != entry.length || actual != entry.code_sha256 {
            return Err(EmbeddedError::Damaged {
                path: self.path.clone(),
                reason: format!(
                    "the {arch} package's CodeSha256 is {actual}, its index says {}",
                    entry.code_sha256
                ),
            });
        }
        Ok(Some(zip))
    }
}

/// The package the running binary carries for `arch`, checked, if it
/// carries one.
pub fn package(arch: Arch) -> Result<Option<Vec<u8>>, EmbeddedError> {
    match Trailer::current()? {
        Some(trailer) => trailer.package(arch),
        None => Ok(None),
    }
}

/// Writes `out`: the executable at `binary` (without any trailer it already
/// has, so packages are replaced, not stacked), then `packages` and their
/// index, mode 755.
pub fn append(binary: &Path, packages: &[(Arch, Vec<u8>)], out: &Path) -> Result<(), EmbeddedError> {
    let io = |path: &Path| {
        let path = path.to_owned();
        move |source| EmbeddedError::Io { path, source }
    };
    let mut bytes = std::fs::read(binary).map_err(io(binary))?;
    if let Some(old) = Trailer::read(binary)? {
        bytes.truncate(usize::try_from(old.start).expect("within the file just read"));
    }
    let mut index = Index::default();
    for (arch, zip) in packages {
        if index.packages.iter().any(|e| e.arch == arch.as_str()) {
            return Err(EmbeddedError::Duplicate(*arch));
        }
        index.packages.push(Entry {
            arch: arch.as_str().to_owned(),
            offset: bytes.len() as u64,
            length: zip.len() as u64,
            code_sha256: code_sha256(zip),
        });
        bytes.extend_from_slice(zip);
    }
    let text = serde_json::to_vec(&index).expect("the index serializes");
    bytes.extend_from_slice(&text);
    bytes.extend_from_slice(&(text.len() as u64).to_le_bytes());
    bytes.extend_from_slice(MAGIC);
    std::fs::write(out, &bytes).map_err(io(out))?;
    set_executable(out).map_err(io(out))
}

#[cfg(unix)]
fn set_executable(path: &Path) -> std::io::Result<()> {
    use std::os::unix::fs::PermissionsExt as _;
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o755))
}

#[cfg(not(unix))]
fn set_executable(_: &Path) -> std::io::Result<()> {
    Ok(())
}

/// What `--version` prints after `ddns-ctl`: the version, then one line
/// per embedded package with its architecture and CodeSha256, so that a
/// deployed function can be matched to the binary that carries its code.
/// Each package is checked, so a damaged one shows here too.
pub fn version() -> String {
    let mut text = env!("CARGO_PKG_VERSION").to_owned();
    let trailer = match Trailer::current() {
        Ok(Some(trailer)) => trailer,
        Ok(None) => {
            text += "\nno embedded handler: deploy builds it from the sources, or takes --handler-zip";
            return text;
        }
        Err(e) => return format!("{text}\nembedded handler: {e}"),
    };
    for (arch, sha) in trailer.listed() {
        match trailer.package(arch) {
            Ok(_) => text += &format!("\nhandler {:<6}  CodeSha256 {sha}", arch.as_str()),
            Err(e) => text += &format!("\nhandler {:<6}  {e}", arch.as_str()),
        }
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;

    fn written(packages: &[(Arch, Vec<u8>)]) -> (tempfile::TempDir, PathBuf) {
        let dir = tempfile::tempdir().unwrap();
        let binary = dir.path().join("bin");
        std::fs::write(&binary, b"\x7fELF the program").unwrap();
        let out = dir.path().join("out");
        append(&binary, packages, &out).unwrap();
        (dir, out)
    }

    #[test]
    fn a_file_without_the_magic_carries_nothing() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("bin");
        std::fs::write(&path, b"\x7fELF a plain build, longer than a footer").unwrap();
        assert!(Trailer::read(&path).unwrap().is_none());
    }

    #[test]
    fn packages_read_back_as_written_and_reembedding_replaces_them() {
        let (dir, out) = written(&[(Arch::Arm64, b"PK arm".to_vec()), (Arch::X86_64, b"PK x86".to_vec())]);
        let trailer = Trailer::read(&out).unwrap().unwrap();
        assert_eq!(trailer.package(Arch::Arm64).unwrap().unwrap(), b"PK arm");
        assert_eq!(trailer.package(Arch::X86_64).unwrap().unwrap(), b"PK x86");
        assert_eq!(trailer.start, b"\x7fELF the program".len() as u64);

        let again = dir.path().join("again");
        append(&out, &[(Arch::Arm64, b"PK new".to_vec())], &again).unwrap();
        let bytes = std::fs::read(&again).unwrap();
        assert!(bytes.starts_with(b"\x7fELF the programPK new{"), "{bytes:?}");
        let trailer = Trailer::read(&again).unwrap().unwrap();
        assert_eq!(trailer.package(Arch::X86_64).unwrap(), None);
    }

    #[test]
    fn a_flipped_byte_or_a_cut_index_is_damage() {
        let (_dir, out) = written(&[(Arch::Arm64, b"PK arm".to_vec())]);
        let mut bytes = std::fs::read(&out).unwrap();
        let at = b"\x7fELF the program".len() + 3;
        bytes[at] ^= 1;
        std::fs::write(&out, &bytes).unwrap();
        let trailer = Trailer::read(&out).unwrap().unwrap();
        let err = trailer.package(Arch::Arm64).unwrap_err();
        assert!(err.to_string().contains("damaged"), "{err}");

        // The footer kept, the index cut: its length now reaches too far.
        let footer = bytes.split_off(bytes.len() - 16);
        bytes.truncate(4);
        bytes.extend_from_slice(&footer);
        std::fs::write(&out, &bytes).unwrap();
        let err = Trailer::read(&out).unwrap_err();
        assert!(err.to_string().contains("damaged"), "{err}");
    }

    #[test]
    fn one_architecture_twice_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        let binary = dir.path().join("bin");
        std::fs::write(&binary, b"x").unwrap();
        let twice = [(Arch::Arm64, b"a".to_vec()), (Arch::Arm64, b"b".to_vec())];
        let err = append(&binary, &twice, &dir.path().join("out")).unwrap_err();
        assert!(matches!(err, EmbeddedError::Duplicate(Arch::Arm64)), "{err}");
    }
}
