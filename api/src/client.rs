//! Who a request is from, for quotas: the client key.
//!
//! Owns: mapping a TCP peer address (and, only behind a configured trusted proxy, the
//! `X-Forwarded-For` chain) to the key every per-client limit counts against. IPv6 clients are
//! grouped by /64 (one subscriber usually holds a whole /64 and can rotate within it); IPv4
//! clients, and IPv4-mapped IPv6 peers, by address. Sans-IO. Never: trusts a forwarded-for
//! header from a peer that is not a configured proxy.

use crate::ip_net::IpNet;
use std::fmt;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

/// The identity every per-client limit counts against.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum ClientKey {
    /// One IPv4 address.
    V4(Ipv4Addr),
    /// One IPv6 /64 network: the address's upper 64 bits.
    V6Net(u64),
}

impl ClientKey {
    /// The key of `ip`: the IPv4 address (also for an IPv4-mapped IPv6 address), or the /64.
    pub fn of(ip: IpAddr) -> ClientKey {
        match ip {
            IpAddr::V4(v4) => ClientKey::V4(v4),
            IpAddr::V6(v6) => match v6.to_ipv4_mapped() {
                Some(v4) => ClientKey::V4(v4),
                None => ClientKey::V6Net((u128::from(v6) >> 64) as u64),
            },
        }
    }
}

/// A network of clients, for the share any one network may hold of a server-wide cap: an
/// IPv4 /24 or an IPv6 /48 (a subscriber's usual allocation, 65,536 /64s).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum NetworkKey {
    /// The upper 24 bits of an IPv4 address.
    V4(u32),
    /// The upper 48 bits of an IPv6 address.
    V6(u64),
}

impl ClientKey {
    /// The network this client belongs to.
    pub fn network(self) -> NetworkKey {
        match self {
            ClientKey::V4(a) => NetworkKey::V4(u32::from(a) >> 8),
            ClientKey::V6Net(net) => NetworkKey::V6(net >> 16),
        }
    }
}

impl fmt::Display for ClientKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ClientKey::V4(a) => write!(f, "{a}"),
            ClientKey::V6Net(net) => write!(f, "{}/64", Ipv6Addr::from(u128::from(*net) << 64)),
        }
    }
}

/// Where a request came from: the TCP peer and the client key its limits count against.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ClientAddr {
    /// The TCP peer (a trusted proxy's own address when one forwarded the request).
    pub peer: IpAddr,
    /// The client behind it, as the quotas see it.
    pub key: ClientKey,
    /// Whether `peer` is a configured trusted proxy.
    pub via_proxy: bool,
}

/// The set of proxies whose `X-Forwarded-For` is believed.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TrustedProxies(Vec<IpNet>);

impl TrustedProxies {
    /// Trusts the peers inside `proxies` (compared after unmapping IPv4-mapped IPv6
    /// addresses).
    pub fn new(proxies: &[IpNet]) -> TrustedProxies {
        TrustedProxies(proxies.to_vec())
    }

    /// Whether `ip` is one of the proxies.
    pub fn contains(&self, ip: IpAddr) -> bool {
        self.0.iter().any(|net| net.contains(ip))
    }

    /// The client of a request whose TCP peer is `peer` and whose `X-Forwarded-For` header
    /// values are `forwarded` (in header order). Behind a trusted proxy the client is the
    /// right-most address in the chain that is not itself a trusted proxy; an entry that is not
    /// an IP address ends the walk (everything left of it is unverifiable), and the client is
    /// then the last proxy seen. A peer that is not a trusted proxy is the client, whatever it
    /// forwards.
    pub fn resolve<'a>(
        &self,
        peer: IpAddr,
        forwarded: impl Iterator<Item = &'a [u8]>,
    ) -> ClientAddr {
        let peer = peer.to_canonical();
        if !self.contains(peer) {
            return ClientAddr {
                peer,
                key: ClientKey::of(peer),
                via_proxy: false,
            };
        }
        let mut entries: Vec<&[u8]> = Vec::new();
        for value in forwarded {
            entries.extend(value.split(|b| *b == b','));
        }
        let mut client = peer;
        for entry in entries.iter().rev() {
            let Some(ip) = parse_entry(entry) else {
                break;
            };
            client = ip;
            if !self.contains(ip) {
                break;
            }
        }
        ClientAddr {
            peer,
            key: ClientKey::of(client),
            via_proxy: true,
        }
    }
}

/// One `X-Forwarded-For` element: an IP address, trimmed, with or without a port
/// (`192.0.2.1:5678`, `[2001:db8::1]:443`, `[2001:db8::1]`).
fn parse_entry(entry: &[u8]) -> Option<IpAddr> {
    let text = std::str::from_utf8(entry).ok()?.trim();
    if text.len() > 53 {
        return None; // longer than any IP address with a port
    }
    let ip = text
        .parse::<IpAddr>()
        .ok()
        .or_else(|| text.parse::<std::net::SocketAddr>().ok().map(|a| a.ip()))
        .or_else(|| {
            let inner = text.strip_prefix('[')?.strip_suffix(']')?;
            inner.parse::<std::net::Ipv6Addr>().ok().map(IpAddr::V6)
        })?;
    Some(ip.to_canonical())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ip(s: &str) -> IpAddr {
        s.parse().unwrap()
    }

    #[test]
    fn ipv6_clients_are_grouped_by_slash_64_and_mapped_ipv4_is_ipv4() {
        let a = ClientKey::of(ip("2001:db8:1:2:aaaa::1"));
        let b = ClientKey::of(ip("2001:db8:1:2:ffff:ffff:ffff:ffff"));
        let c = ClientKey::of(ip("2001:db8:1:3::1"));
        assert_eq!(a, b, "one /64 is one client");
        assert_ne!(a, c, "the next /64 is another");
        assert_eq!(a.network(), c.network(), "both in one /48");
        assert_ne!(a.network(), ClientKey::of(ip("2001:db8:2::1")).network());
        assert_eq!(
            ClientKey::of(ip("192.0.2.7")).network(),
            ClientKey::of(ip("192.0.2.200")).network()
        );
        assert_eq!(a.to_string(), "2001:db8:1:2::/64");
        assert_eq!(
            ClientKey::of(ip("::ffff:192.0.2.7")),
            ClientKey::of(ip("192.0.2.7"))
        );
    }

    #[test]
    fn forwarded_for_is_believed_only_from_a_trusted_proxy() {
        let proxies =
            TrustedProxies::new(&[IpNet::host(ip("10.0.0.1")), "10.0.0.2".parse().unwrap()]);
        let xff: [&[u8]; 1] = [b"203.0.113.9, 10.0.0.2"];
        let via = proxies.resolve(ip("10.0.0.1"), xff.into_iter());
        assert_eq!(via.key, ClientKey::of(ip("203.0.113.9")));
        assert!(via.via_proxy);
        // Anyone else forwarding a header is itself the client.
        let direct = proxies.resolve(ip("198.51.100.1"), xff.into_iter());
        assert_eq!(direct.key, ClientKey::of(ip("198.51.100.1")));
        assert!(!direct.via_proxy);
    }

    #[test]
    fn a_spoofed_left_part_of_the_chain_is_ignored() {
        let proxies = TrustedProxies::new(&["10.0.0.0/30".parse().unwrap()]);
        // The client sent "1.1.1.1" itself; the proxy appended the real address.
        let xff: [&[u8]; 2] = [b"1.1.1.1", b"192.0.2.50"];
        let r = proxies.resolve(ip("10.0.0.1"), xff.into_iter());
        assert_eq!(r.key, ClientKey::of(ip("192.0.2.50")));
        // Garbage ends the walk at the last trusted hop.
        let bad: [&[u8]; 1] = [b"192.0.2.50, not-an-ip"];
        let r = proxies.resolve(ip("10.0.0.1"), bad.into_iter());
        assert_eq!(r.key, ClientKey::of(ip("10.0.0.1")));
        // Ports and brackets, as some proxies write them, are understood.
        let ported: [&[u8]; 1] = [b"[2001:db8::7]:443, 192.0.2.9:5678"];
        let r = proxies.resolve(ip("10.0.0.1"), ported.into_iter());
        assert_eq!(r.key, ClientKey::of(ip("192.0.2.9")));
        let bracketed: [&[u8]; 1] = [b"[2001:db8::7]"];
        let r = proxies.resolve(ip("10.0.0.1"), bracketed.into_iter());
        assert_eq!(r.key, ClientKey::of(ip("2001:db8::7")));
        // No header: the proxy is the client.
        let r = proxies.resolve(ip("10.0.0.1"), std::iter::empty());
        assert_eq!(r.key, ClientKey::of(ip("10.0.0.1")));
    }
}
