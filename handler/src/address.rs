//! Which addresses may be published.
//!
//! Peer projects publish the address a client happened to see, and that is
//! often 192.168.x.x or a CGNAT address: the record then points nowhere useful
//! and leaks the home network's layout. Such addresses are refused unless a
//! host opts in with `allow_private_addresses`.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

/// Whether `ip` is an address other hosts on the internet could reach.
pub fn is_public(ip: IpAddr) -> bool {
    match ip.to_canonical() {
        IpAddr::V4(v4) => is_public_v4(v4),
        IpAddr::V6(v6) => is_public_v6(v6),
    }
}

fn is_public_v4(ip: Ipv4Addr) -> bool {
    // 100.64.0.0/10: carrier-grade NAT (RFC 6598), what many ISPs hand out
    // instead of a public address.
    let cgnat = ip.octets()[0] == 100 && (ip.octets()[1] & 0xc0) == 64;
    !(ip.is_private()
        || ip.is_loopback()
        || ip.is_link_local()
        || ip.is_unspecified()
        || ip.is_multicast()
        || ip.is_broadcast()
        || cgnat)
}

fn is_public_v6(ip: Ipv6Addr) -> bool {
    !(ip.is_unique_local()
        || ip.is_loopback()
        || ip.is_unicast_link_local()
        || ip.is_unspecified()
        || ip.is_multicast())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn refuses_non_public_ranges() {
        for ip in [
            "10.1.2.3",
            "172.16.0.1",
            "192.168.1.1",
            "127.0.0.1",
            "169.254.1.1",
            "0.0.0.0",
            "224.0.0.1",
            "255.255.255.255",
            "100.64.0.1",
            "100.127.255.254",
            "fc00::1",
            "fd12:3456::1",
            "::1",
            "fe80::1",
            "::",
            "ff02::1",
            "::ffff:192.168.1.1",
        ] {
            assert!(!is_public(ip.parse().unwrap()), "{ip}");
        }
    }

    #[test]
    fn accepts_public_addresses() {
        for ip in [
            "203.0.113.7",
            "8.8.8.8",
            "100.63.0.1",
            "100.128.0.1",
            "2001:db8::1",
            "2a00:1450::1",
            "::ffff:8.8.8.8",
        ] {
            assert!(is_public(ip.parse().unwrap()), "{ip}");
        }
    }
}
