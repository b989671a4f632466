//! Which addresses may be published.
//!
//! Peer projects publish the address a client happened to see, and that is
//! often 192.168.x.x or a CGNAT address: the record then points nowhere useful
//! and leaks the home network's layout. Such addresses are refused unless a
//! host opts in with `allow_private_addresses`.
//!
//! "Not public" follows the IANA special-purpose address registries (RFC 6890
//! and its updates) for both families. IPv6 forms that carry an IPv4 address
//! (IPv4-mapped, NAT64 and 6to4) are judged by the IPv4 address inside, so
//! that `::ffff:10.0.0.1` or `2002:a00:1::1` cannot smuggle a private address
//! past the filter.
//!
//! The documentation ranges (192.0.2.0/24, 198.51.100.0/24, 203.0.113.0/24,
//! 2001:db8::/32 and 3fff::/20) are *accepted*, although nothing routes them:
//! they are reserved for examples, every example in the docs and the test
//! suite publishes them, and a record pointing at one harms nobody.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

/// IPv4 blocks that are never published, as (network, prefix length).
const V4_REFUSED: &[(Ipv4Addr, u8)] = &[
    // "This network" (RFC 791), including 0.0.0.0.
    (Ipv4Addr::new(0, 0, 0, 0), 8),
    // Private use (RFC 1918).
    (Ipv4Addr::new(10, 0, 0, 0), 8),
    // Carrier-grade NAT (RFC 6598), what many ISPs hand out instead of a
    // public address.
    (Ipv4Addr::new(100, 64, 0, 0), 10),
    // Loopback.
    (Ipv4Addr::new(127, 0, 0, 0), 8),
    // Link-local.
    (Ipv4Addr::new(169, 254, 0, 0), 16),
    // Private use (RFC 1918).
    (Ipv4Addr::new(172, 16, 0, 0), 12),
    // IETF protocol assignments (RFC 6890), e.g. DS-Lite's 192.0.0.0/29.
    (Ipv4Addr::new(192, 0, 0, 0), 24),
    // The deprecated 6to4 relay anycast (RFC 7526).
    (Ipv4Addr::new(192, 88, 99, 0), 24),
    // Private use (RFC 1918).
    (Ipv4Addr::new(192, 168, 0, 0), 16),
    // Benchmarking (RFC 2544).
    (Ipv4Addr::new(198, 18, 0, 0), 15),
    // Multicast.
    (Ipv4Addr::new(224, 0, 0, 0), 4),
    // Reserved (RFC 1112), which includes the broadcast 255.255.255.255.
    (Ipv4Addr::new(240, 0, 0, 0), 4),
];

/// IPv6 blocks that are never published, as (network, prefix length).
/// The blocks that embed an IPv4 address are handled before this table.
const V6_REFUSED: &[(Ipv6Addr, u8)] = &[
    // IPv4-compatible addresses (deprecated by RFC 4291), which include the
    // unspecified :: and the loopback ::1.
    (Ipv6Addr::new(0, 0, 0, 0, 0, 0, 0, 0), 96),
    // Local-use IPv4/IPv6 translation (RFC 8215).
    (Ipv6Addr::new(0x64, 0xff9b, 1, 0, 0, 0, 0, 0), 48),
    // Discard-only (RFC 6666).
    (Ipv6Addr::new(0x100, 0, 0, 0, 0, 0, 0, 0), 64),
    // Teredo (RFC 4380): the address of a relay, not of the host.
    (Ipv6Addr::new(0x2001, 0, 0, 0, 0, 0, 0, 0), 32),
    // Benchmarking (RFC 5180).
    (Ipv6Addr::new(0x2001, 2, 0, 0, 0, 0, 0, 0), 48),
    // ORCHID (RFC 4843), deprecated.
    (Ipv6Addr::new(0x2001, 0x10, 0, 0, 0, 0, 0, 0), 28),
    // ORCHIDv2 (RFC 7343): identifiers, not locators.
    (Ipv6Addr::new(0x2001, 0x20, 0, 0, 0, 0, 0, 0), 28),
    // Unique local (RFC 4193).
    (Ipv6Addr::new(0xfc00, 0, 0, 0, 0, 0, 0, 0), 7),
    // Link-local.
    (Ipv6Addr::new(0xfe80, 0, 0, 0, 0, 0, 0, 0), 10),
    // Site-local (deprecated by RFC 3879, still private in practice).
    (Ipv6Addr::new(0xfec0, 0, 0, 0, 0, 0, 0, 0), 10),
    // Multicast.
    (Ipv6Addr::new(0xff00, 0, 0, 0, 0, 0, 0, 0), 8),
];

/// Whether `ip` is an address other hosts on the internet could reach.
pub fn is_public(ip: IpAddr) -> bool {
    match ip {
        IpAddr::V4(v4) => is_public_v4(v4),
        IpAddr::V6(v6) => is_public_v6(v6),
    }
}

fn is_public_v4(ip: Ipv4Addr) -> bool {
    let bits = u32::from(ip);
    !V4_REFUSED
        .iter()
        .any(|&(net, len)| within(u128::from(bits), u128::from(u32::from(net)), len, 32))
}

fn is_public_v6(ip: Ipv6Addr) -> bool {
    if let Some(v4) = embedded_v4(ip) {
        return is_public_v4(v4);
    }
    let bits = u128::from(ip);
    !V6_REFUSED
        .iter()
        .any(|&(net, len)| within(bits, u128::from(net), len, 128))
}

/// The IPv4 address an IPv6 address stands for, where the IPv6 form is only
/// a way of reaching that IPv4 host: IPv4-mapped (`::ffff:0:0/96`), the
/// NAT64 well-known prefix (`64:ff9b::/96`, RFC 6052) and 6to4 (`2002::/16`,
/// RFC 3056, the IPv4 address in bits 16 to 47).
fn embedded_v4(ip: Ipv6Addr) -> Option<Ipv4Addr> {
    let s = ip.segments();
    let low = |hi: u16, lo: u16| Ipv4Addr::from((u32::from(hi) << 16) | u32::from(lo));
    match s {
        [0, 0, 0, 0, 0, 0xffff, hi, lo] | [0x64, 0xff9b, 0, 0, 0, 0, hi, lo] => Some(low(hi, lo)),
        [0x2002, hi, lo, ..] => Some(low(hi, lo)),
        _ => None,
    }
}

/// Whether `addr` lies in `net`/`len`, both `width` bits wide.
fn within(addr: u128, net: u128, len: u8, width: u32) -> bool {
    // A /0 shifts every bit out, which `checked_shr` turns into 0 == 0.
    let host_bits = width.saturating_sub(u32::from(len));
    addr.checked_shr(host_bits).unwrap_or(0) == net.checked_shr(host_bits).unwrap_or(0)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn public(ip: &str) -> bool {
        is_public(ip.parse().unwrap())
    }

    /// Every refused block, by its first and last address, with the
    /// neighbours just outside it where those are public.
    #[test]
    fn refuses_special_purpose_v4_blocks_edge_to_edge() {
        for (first, last, before, after) in [
            ("0.0.0.0", "0.255.255.255", None, Some("1.0.0.0")),
            ("10.0.0.0", "10.255.255.255", Some("9.255.255.255"), Some("11.0.0.0")),
            (
                "100.64.0.0",
                "100.127.255.255",
                Some("100.63.255.255"),
                Some("100.128.0.0"),
            ),
            (
                "127.0.0.0",
                "127.255.255.255",
                Some("126.255.255.255"),
                Some("128.0.0.0"),
            ),
            (
                "169.254.0.0",
                "169.254.255.255",
                Some("169.253.255.255"),
                Some("169.255.0.0"),
            ),
            (
                "172.16.0.0",
                "172.31.255.255",
                Some("172.15.255.255"),
                Some("172.32.0.0"),
            ),
            ("192.0.0.0", "192.0.0.255", Some("191.255.255.255"), Some("192.0.1.0")),
            (
                "192.88.99.0",
                "192.88.99.255",
                Some("192.88.98.255"),
                Some("192.88.100.0"),
            ),
            (
                "192.168.0.0",
                "192.168.255.255",
                Some("192.167.255.255"),
                Some("192.169.0.0"),
            ),
            (
                "198.18.0.0",
                "198.19.255.255",
                Some("198.17.255.255"),
                Some("198.20.0.0"),
            ),
            ("224.0.0.0", "239.255.255.255", Some("223.255.255.255"), None),
            ("240.0.0.0", "255.255.255.255", None, None),
        ] {
            assert!(!public(first), "{first}");
            assert!(!public(last), "{last}");
            for outside in [before, after].into_iter().flatten() {
                assert!(public(outside), "{outside} is outside {first}..{last}");
            }
        }
        for ip in ["0.1.2.3", "240.0.0.1", "198.18.0.1", "192.0.0.1", "255.255.255.255"] {
            assert!(!public(ip), "{ip}");
        }
    }

    #[test]
    fn refuses_special_purpose_v6_blocks_edge_to_edge() {
        for (first, last, before, after) in [
            ("::", "::ffff:ffff", None, Some("::1:0:0")),
            (
                "64:ff9b:1::",
                "64:ff9b:1:ffff:ffff:ffff:ffff:ffff",
                Some("64:ff9b:0:ffff:ffff:ffff:ffff:ffff"),
                Some("64:ff9b:2::"),
            ),
            (
                "100::",
                "100::ffff:ffff:ffff:ffff",
                Some("ff:ffff:ffff:ffff:ffff:ffff:ffff:ffff"),
                Some("100:0:0:1::"),
            ),
            (
                "2001::",
                "2001:0:ffff:ffff:ffff:ffff:ffff:ffff",
                Some("2000:ffff:ffff:ffff:ffff:ffff:ffff:ffff"),
                Some("2001:1::"),
            ),
            (
                "2001:2::",
                "2001:2:0:ffff:ffff:ffff:ffff:ffff",
                Some("2001:1:ffff:ffff:ffff:ffff:ffff:ffff"),
                Some("2001:2:1::"),
            ),
            (
                "2001:10::",
                "2001:1f:ffff:ffff:ffff:ffff:ffff:ffff",
                Some("2001:f:ffff:ffff:ffff:ffff:ffff:ffff"),
                None,
            ),
            (
                "2001:20::",
                "2001:2f:ffff:ffff:ffff:ffff:ffff:ffff",
                None,
                Some("2001:30::"),
            ),
            (
                "fc00::",
                "fdff:ffff:ffff:ffff:ffff:ffff:ffff:ffff",
                Some("fbff:ffff:ffff:ffff:ffff:ffff:ffff:ffff"),
                None,
            ),
            (
                "fe80::",
                "febf:ffff:ffff:ffff:ffff:ffff:ffff:ffff",
                Some("fe7f:ffff:ffff:ffff:ffff:ffff:ffff:ffff"),
                None,
            ),
            ("fec0::", "feff:ffff:ffff:ffff:ffff:ffff:ffff:ffff", None, None),
            ("ff00::", "ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff", None, None),
        ] {
            assert!(!public(first), "{first}");
            assert!(!public(last), "{last}");
            for outside in [before, after].into_iter().flatten() {
                // Neighbours that are themselves refused are excluded above.
                assert!(public(outside), "{outside} is outside {first}..{last}");
            }
        }
        for ip in [
            "::1",
            "::10.0.0.1",
            "::127.0.0.1",
            "fec0::1",
            "100::1",
            "2001:0:4136:e378::1",
        ] {
            assert!(!public(ip), "{ip}");
        }
    }

    /// IPv4-mapped, NAT64 and 6to4 addresses are as public as the IPv4
    /// address inside them.
    #[test]
    fn judges_the_ipv4_inside_ipv6() {
        for (ip, expected) in [
            ("::ffff:192.168.1.1", false),
            ("::ffff:10.0.0.1", false),
            ("::ffff:8.8.8.8", true),
            ("::ffff:203.0.113.7", true),
            ("64:ff9b::a00:1", false),
            ("64:ff9b::127.0.0.1", false),
            ("64:ff9b::808:808", true),
            ("2002:a00:1::1", false),
            ("2002:c0a8:101::1", false),
            ("2002:7f00:1::", false),
            ("2002:808:808::1", true),
            ("2002:808:808:ffff:ffff:ffff:ffff:ffff", true),
        ] {
            assert_eq!(public(ip), expected, "{ip}");
        }
    }

    #[test]
    fn accepts_public_and_documentation_addresses() {
        for ip in [
            "8.8.8.8",
            "1.0.0.0",
            "100.63.0.1",
            "100.128.0.1",
            "223.255.255.255",
            // The documentation ranges are accepted on purpose (module docs).
            "192.0.2.0",
            "192.0.2.255",
            "198.51.100.0",
            "198.51.100.255",
            "203.0.113.0",
            "203.0.113.255",
            "2001:db8::",
            "2001:db8:ffff:ffff:ffff:ffff:ffff:ffff",
            "3fff::1",
            "2a00:1450::1",
            "2001:4860:4860::8888",
            "2003::1",
        ] {
            assert!(public(ip), "{ip}");
        }
    }
}
