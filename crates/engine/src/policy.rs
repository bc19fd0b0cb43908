//! `[capabilities.network] connect`, judged: the name as written (with its port) must be
//! granted, then every address it resolves to. A rule for a host name covers public addresses;
//! an internal one (loopback, private, link-local, unique-local...) only when an address or
//! block rule covers it, so a granted name whose DNS points inward is refused. The engine then
//! connects to an address it checked, never to a name looked up again.

use crate::job::ConnectRule;
use serde_json::{Value, json};
use std::net::IpAddr;

/// The ports a host rule without a port means: the web's.
const WEB_PORTS: [u16; 2] = [80, 443];

struct Block {
    address: IpAddr,
    prefix: u8,
    port: Option<u16>,
}

enum Rule {
    Host { host: String, wildcard: bool, port: Option<u16> },
    Block(Block),
}

pub struct Policy {
    rules: Vec<Rule>,
}

/// Why a connection is refused: what the guest's runtime turns into its language's error.
#[derive(Debug, Clone)]
pub struct Denial {
    /// `host:port` as the guest asked for it (IPv6 in brackets).
    pub target: String,
    /// The rule that would grant it.
    pub rule: String,
    pub message: String,
}

impl Denial {
    /// The structured form carried to the guest (docs/host-protocol.md).
    pub fn to_json(&self) -> Value {
        json!({ "denied": { "capability": "network.connect", "target": self.target, "rule": self.rule, "message": self.message } })
    }
}

/// An IPv4-mapped IPv6 address is judged as the IPv4 address it is.
pub fn canonical(ip: IpAddr) -> IpAddr {
    match ip {
        IpAddr::V6(v6) => v6.to_ipv4_mapped().map(IpAddr::V4).unwrap_or(IpAddr::V6(v6)),
        v4 => v4,
    }
}

fn in_block(address: IpAddr, block: &Block) -> bool {
    match (canonical(address), canonical(block.address)) {
        (IpAddr::V4(a), IpAddr::V4(b)) => {
            let bits = block.prefix.min(32) as u32;
            let mask = if bits == 0 { 0 } else { u32::MAX << (32 - bits) };
            (u32::from(a) & mask) == (u32::from(b) & mask)
        }
        (IpAddr::V6(a), IpAddr::V6(b)) => {
            let bits = block.prefix.min(128) as u32;
            let mask = if bits == 0 { 0 } else { u128::MAX << (128 - bits) };
            (u128::from(a) & mask) == (u128::from(b) & mask)
        }
        _ => false,
    }
}

/// Loopback, private, carrier-grade NAT, link-local, unique-local, unspecified, multicast and
/// broadcast addresses: reached through a name only when an address or block rule covers them.
pub fn internal(address: IpAddr) -> bool {
    match canonical(address) {
        IpAddr::V4(a) => {
            let o = a.octets();
            a.is_loopback()
                || a.is_private()
                || a.is_link_local()
                || a.is_unspecified()
                || a.is_broadcast()
                || a.is_multicast()
                || o[0] == 0
                || (o[0] == 100 && (o[1] & 0xc0) == 64)
        }
        IpAddr::V6(a) => {
            let s = a.segments();
            a.is_loopback()
                || a.is_unspecified()
                || a.is_multicast()
                || (s[0] & 0xfe00) == 0xfc00
                || (s[0] & 0xffc0) == 0xfe80
        }
    }
}

/// A host as the policy compares it: lower case, without IPv6 brackets or a trailing dot.
pub fn normalize_host(host: &str) -> String {
    host.trim_start_matches('[').trim_end_matches(']').trim_end_matches('.').to_ascii_lowercase()
}

/// `host:port` with an IPv6 address in brackets.
pub fn authority(host: &str, port: u16) -> String {
    if host.contains(':') { format!("[{host}]:{port}") } else { format!("{host}:{port}") }
}

fn hint(rule: &str) -> String {
    format!("add \"{rule}\" (or a rule that covers it) to [capabilities.network] connect in fabricks.toml")
}

impl Policy {
    pub fn new(rules: &[ConnectRule]) -> Policy {
        let rules = rules
            .iter()
            .filter_map(|r| match r {
                ConnectRule::Host { host, wildcard, port } => Some(Rule::Host { host: host.to_ascii_lowercase(), wildcard: *wildcard, port: *port }),
                ConnectRule::Cidr { address, prefix, port } => address.parse().ok().map(|address| Rule::Block(Block { address, prefix: *prefix, port: *port })),
            })
            .collect();
        Policy { rules }
    }

    fn block_allows(&self, address: IpAddr, port: u16) -> bool {
        self.rules.iter().any(|r| matches!(r, Rule::Block(b) if in_block(address, b) && b.port.is_none_or(|p| p == port)))
    }

    /// Whether `host:port` may be asked for at all, judged on the name as written (`host` is
    /// lower case, without brackets or a trailing dot).
    pub fn check_name(&self, host: &str, port: u16) -> Result<(), Denial> {
        let ok = match host.parse::<IpAddr>() {
            Ok(ip) => self.block_allows(ip, port),
            Err(_) => self.rules.iter().any(|r| match r {
                Rule::Host { host: h, wildcard, port: p } => {
                    let name_ok = if *wildcard { host.len() > h.len() && host.ends_with(h.as_str()) && host.as_bytes()[host.len() - h.len() - 1] == b'.' } else { host == h };
                    name_ok && p.map_or(WEB_PORTS.contains(&port), |p| p == port)
                }
                Rule::Block(_) => false,
            }),
        };
        if ok {
            return Ok(());
        }
        let target = authority(host, port);
        Err(Denial { message: format!("network access to {target} is not granted; {}", hint(&target)), rule: target.clone(), target })
    }

    /// Whether an address a granted name resolved to may be reached.
    pub fn check_address(&self, host: &str, address: IpAddr, port: u16) -> Result<(), Denial> {
        if self.block_allows(address, port) || !internal(address) {
            return Ok(());
        }
        let target = authority(host, port);
        let rule = authority(&canonical(address).to_string(), port);
        Err(Denial {
            message: format!("network access to {target} is not granted: it resolves to {}, an internal address; {}", canonical(address), hint(&rule)),
            rule,
            target,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn policy(rules: serde_json::Value) -> Policy {
        Policy::new(&serde_json::from_value::<Vec<ConnectRule>>(rules).unwrap())
    }

    /// api.weather.gov, *.githubusercontent.com:443, 127.0.0.1:8081, 10.0.0.0/8,
    /// 10.1.2.0/24:5432, fd00::/8, as src/config/connect-rules.ts parses them.
    fn sample() -> Policy {
        policy(json!([
            { "kind": "host", "host": "api.weather.gov", "wildcard": false },
            { "kind": "host", "host": "githubusercontent.com", "wildcard": true, "port": 443 },
            { "kind": "cidr", "address": "127.0.0.1", "prefix": 32, "port": 8081 },
            { "kind": "cidr", "address": "10.0.0.0", "prefix": 8 },
            { "kind": "cidr", "address": "10.1.2.0", "prefix": 24, "port": 5432 },
            { "kind": "cidr", "address": "fd00::", "prefix": 8 }
        ]))
    }

    #[test]
    fn a_host_as_written_on_the_web_ports_unless_a_port_is_named() {
        let p = sample();
        assert!(p.check_name("api.weather.gov", 443).is_ok());
        assert!(p.check_name(&normalize_host("API.weather.gov."), 80).is_ok());
        let d = p.check_name("api.weather.gov", 8443).unwrap_err();
        assert_eq!(d.message, "network access to api.weather.gov:8443 is not granted; add \"api.weather.gov:8443\" (or a rule that covers it) to [capabilities.network] connect in fabricks.toml");
        assert!(p.check_name("weather.gov", 443).is_err());
        assert!(p.check_name("evil-api.weather.gov", 443).is_err());
    }

    #[test]
    fn subdomains_only_with_the_port_named() {
        let p = sample();
        assert!(p.check_name("raw.githubusercontent.com", 443).is_ok());
        assert!(p.check_name("raw.githubusercontent.com", 80).is_err());
        assert!(p.check_name("githubusercontent.com", 443).is_err());
        assert!(p.check_name("raw.githubusercontent.com.evil.com", 443).is_err());
        assert!(p.check_name("rawgithubusercontent.com", 443).is_err());
    }

    #[test]
    fn addresses_and_blocks_any_port_unless_one_is_named() {
        let p = sample();
        assert!(p.check_name("127.0.0.1", 8081).is_ok());
        assert!(p.check_name("127.0.0.1", 8080).is_err());
        assert!(p.check_name("10.200.3.4", 22).is_ok());
        assert!(p.check_name(&normalize_host("[fd00::1]"), 9000).is_ok());
        assert!(p.check_name("192.168.1.1", 80).is_err());
        // an IPv4-mapped IPv6 address is the IPv4 address it maps
        assert!(p.check_name("::ffff:127.0.0.1", 8081).is_ok());
        assert_eq!(p.check_name("::2", 80).unwrap_err().target, "[::2]:80");
        assert_eq!(p.check_name("::2", 80).unwrap_err().rule, "[::2]:80");
    }

    #[test]
    fn a_granted_name_into_an_internal_address_needs_a_block_rule() {
        let p = sample();
        assert!(p.check_address("api.weather.gov", "23.1.2.3".parse().unwrap(), 443).is_ok());
        let d = p.check_address("api.weather.gov", "127.0.0.1".parse().unwrap(), 443).unwrap_err();
        assert_eq!(d.message, "network access to api.weather.gov:443 is not granted: it resolves to 127.0.0.1, an internal address; add \"127.0.0.1:443\" (or a rule that covers it) to [capabilities.network] connect in fabricks.toml");
        for a in ["192.168.0.10", "::1", "169.254.169.254", "fe80::1", "fc00::1", "::ffff:10.0.0.1", "0.0.0.0", "100.64.0.1", "224.0.0.1", "255.255.255.255"] {
            let granted_block = a == "::ffff:10.0.0.1";
            assert_eq!(p.check_address("api.weather.gov", a.parse().unwrap(), 443).is_ok(), granted_block, "{a}");
        }
        // a block rule covers it
        assert!(p.check_address("db.internal", "10.1.2.3".parse().unwrap(), 5432).is_ok());
        assert_eq!(p.check_address("x", "::ffff:127.0.0.1".parse().unwrap(), 443).unwrap_err().rule, "127.0.0.1:443");
    }

    #[test]
    fn nothing_is_granted_when_nothing_is_declared() {
        let none = Policy::new(&[]);
        assert!(none.check_name("example.com", 443).is_err());
        assert!(none.check_name("127.0.0.1", 80).is_err());
        let d = none.check_name("::1", 80).unwrap_err();
        assert!(d.message.contains("\"[::1]:80\""), "{}", d.message);
        let json = d.to_json();
        assert_eq!(json["denied"]["capability"], "network.connect");
        assert_eq!(json["denied"]["target"], "[::1]:80");
    }
}
