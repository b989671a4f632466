//! The Lambda packages built into this binary, one per architecture at
//! most. build.rs names the zips from `DDNS_CTL_EMBED_ARM64_ZIP` and
//! `DDNS_CTL_EMBED_X86_64_ZIP`; a build without them embeds nothing, and
//! deploy builds the handler from the checkout as before.

use crate::aws::function::code_sha256;
use crate::model::Arch;

// Empty when the build named no package.
static ARM64: &[u8] = include_bytes!(env!("DDNS_CTL_EMBEDDED_ARM64"));
static X86_64: &[u8] = include_bytes!(env!("DDNS_CTL_EMBEDDED_X86_64"));

/// The package embedded for `arch`, if there is one.
pub fn package(arch: Arch) -> Option<&'static [u8]> {
    let zip = match arch {
        Arch::Arm64 => ARM64,
        Arch::X86_64 => X86_64,
    };
    (!zip.is_empty()).then_some(zip)
}

/// What `--version` prints after `ddns-ctl`: the version, then one line
/// per embedded package with its architecture and CodeSha256, so that a
/// deployed function can be matched to the binary that carries its code.
pub fn version() -> String {
    let mut text = env!("CARGO_PKG_VERSION").to_owned();
    let mut any = false;
    for arch in [Arch::Arm64, Arch::X86_64] {
        if let Some(zip) = package(arch) {
            any = true;
            text += &format!("\nhandler {:<6}  CodeSha256 {}", arch.as_str(), code_sha256(zip));
        }
    }
    if !any {
        text += "\nno embedded handler: deploy builds it from the sources, or takes --handler-zip";
    }
    text
}
