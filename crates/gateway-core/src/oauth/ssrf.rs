//! Which addresses the gateway may connect to when a client names the URL (Client ID Metadata
//! Documents today): public unicast only. A name is resolved first and every address it has
//! must pass, so a host with one private address among public ones is refused, and the
//! connection then goes to the addresses checked here (no second lookup to rebind).

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

/// Why a client-named URL is not fetched. Detail for the log; the client hears
/// "unknown client".
#[derive(Debug, thiserror::Error, PartialEq)]
pub enum SsrfError {
    #[error("{0} is not a public address")]
    NotPublic(IpAddr),
    #[error("port {0} is not 443")]
    Port(u16),
    #[error("the host has no address")]
    NoAddress,
}

fn v4_is_public(ip: Ipv4Addr) -> bool {
    let [a, b, c, _] = ip.octets();
    !(ip.is_unspecified()
        || ip.is_loopback()
        || ip.is_private()
        || ip.is_link_local()
        || ip.is_multicast()
        || ip.is_broadcast()
        || ip.is_documentation()
        // 0.0.0.0/8 ("this network"), 100.64.0.0/10 (CGNAT), 192.0.0.0/24 (protocol
        // assignments), 198.18.0.0/15 (benchmarking), 240.0.0.0/4 (reserved).
        || a == 0
        || (a == 100 && (64..128).contains(&b))
        || (a == 192 && b == 0 && c == 0)
        || (a == 198 && (b == 18 || b == 19))
        || a >= 240)
}

/// The IPv4 address an IPv6 address stands for, in every form a stack may route to it:
/// IPv4-mapped `::ffff:a.b.c.d`, IPv4-compatible `::a.b.c.d`, NAT64 `64:ff9b::/96` and 6to4
/// `2002::/16`.
fn embedded_v4(ip: Ipv6Addr) -> Option<Ipv4Addr> {
    let s = ip.segments();
    let tail = Ipv4Addr::new((s[6] >> 8) as u8, s[6] as u8, (s[7] >> 8) as u8, s[7] as u8);
    if let Some(v4) = ip.to_ipv4_mapped() {
        return Some(v4);
    }
    if s[..6] == [0, 0, 0, 0, 0, 0] {
        return Some(tail);
    }
    if s[..6] == [0x64, 0xff9b, 0, 0, 0, 0] {
        return Some(tail);
    }
    if s[0] == 0x2002 {
        return Some(Ipv4Addr::new(
            (s[1] >> 8) as u8,
            s[1] as u8,
            (s[2] >> 8) as u8,
            s[2] as u8,
        ));
    }
    None
}

fn v6_is_public(ip: Ipv6Addr) -> bool {
    if let Some(v4) = embedded_v4(ip) {
        return v4_is_public(v4) && !ip.is_unspecified() && !ip.is_loopback();
    }
    let first = ip.segments()[0];
    !(ip.is_unspecified()
        || ip.is_loopback()
        || ip.is_multicast()
        // fc00::/7 unique local, fe80::/10 link-local, fec0::/10 site-local (deprecated),
        // 2001:db8::/32 documentation, 100::/64 discard.
        || (first & 0xfe00) == 0xfc00
        || (first & 0xffc0) == 0xfe80
        || (first & 0xffc0) == 0xfec0
        || (first == 0x2001 && ip.segments()[1] == 0x0db8)
        || ip.segments()[..4] == [0x100, 0, 0, 0])
}

/// Whether an address is public unicast.
pub fn is_public(ip: IpAddr) -> bool {
    match ip {
        IpAddr::V4(v4) => v4_is_public(v4),
        IpAddr::V6(v6) => v6_is_public(v6),
    }
}

/// Checks every resolved address of a client-named host.
pub fn check_addresses(addrs: &[IpAddr]) -> Result<(), SsrfError> {
    if addrs.is_empty() {
        return Err(SsrfError::NoAddress);
    }
    match addrs.iter().find(|ip| !is_public(**ip)) {
        Some(ip) => Err(SsrfError::NotPublic(*ip)),
        None => Ok(()),
    }
}

/// Reads `host:port` pairs (`GATEWAY_FACADE_CIMD_TEST_ALLOW`).
pub fn parse_allow_list(raw: &str) -> Result<Vec<(String, u16)>, String> {
    raw.split(',')
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(|pair| {
            let (host, port) = pair
                .rsplit_once(':')
                .ok_or_else(|| format!("{pair:?} is not host:port"))?;
            let port = port
                .parse::<u16>()
                .map_err(|_| format!("{pair:?}: bad port"))?;
            Ok((host.trim_matches(['[', ']']).to_owned(), port))
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ip(s: &str) -> IpAddr {
        s.parse().unwrap()
    }

    #[test]
    fn every_non_public_form_is_refused() {
        for bad in [
            "127.0.0.1",
            "127.1.2.3",
            "0.0.0.0",
            "0.1.2.3",
            "10.0.0.1",
            "172.16.0.1",
            "172.31.255.255",
            "192.168.1.1",
            "169.254.169.254",
            "100.64.0.1",
            "100.127.255.255",
            "224.0.0.1",
            "255.255.255.255",
            "240.0.0.1",
            "192.0.0.8",
            "198.18.0.1",
            "192.0.2.1",
            "::",
            "::1",
            "fe80::1",
            "fc00::1",
            "fd12:3456::1",
            "ff02::1",
            "::ffff:127.0.0.1",
            "::ffff:169.254.169.254",
            "::ffff:10.0.0.1",
            "::127.0.0.1",
            "64:ff9b::a9fe:a9fe",
            "2002:7f00:1::",
            "2001:db8::1",
            "fec0::1",
        ] {
            assert!(!is_public(ip(bad)), "{bad}");
        }
        for good in [
            "1.1.1.1",
            "93.184.216.34",
            "172.32.0.1",
            "100.128.0.1",
            "2606:4700:4700::1111",
            "::ffff:93.184.216.34",
        ] {
            assert!(is_public(ip(good)), "{good}");
        }
    }

    #[test]
    fn one_private_address_among_public_ones_refuses_the_host() {
        assert_eq!(check_addresses(&[]), Err(SsrfError::NoAddress));
        assert!(check_addresses(&[ip("1.1.1.1")]).is_ok());
        assert_eq!(
            check_addresses(&[ip("1.1.1.1"), ip("10.1.1.1")]),
            Err(SsrfError::NotPublic(ip("10.1.1.1")))
        );
    }
}
