//! Where webhooks may go: the pure half of the ledger's defence against a participant pointing
//! its webhook at the ledger's own network (server-side request forgery, e.g. the connector's
//! operator API on 127.0.0.1 or the cloud metadata service on 169.254.169.254). It parses and
//! judges URLs and classifies IP addresses; it does no IO.
//!
//! Registration checks the URL ([`WebhookPolicy::check_url`]). Delivery checks it again (the
//! configuration may have changed, and an IP literal is never resolved), then checks every
//! address the host name resolves to ([`WebhookPolicy::check_resolved`]) and connects only to
//! those addresses, so DNS rebinding between check and connect cannot reach anything else.
//!
//! By default only `https` is allowed and every address that is not globally routable is
//! denied: unspecified, loopback, link-local, private (RFC 1918, unique local, site-local),
//! shared (100.64.0.0/10), documentation, benchmarking, multicast, broadcast and reserved
//! ranges, and the IPv6 forms that carry an IPv4 address (IPv4-mapped, IPv4-compatible, NAT64,
//! 6to4) when the IPv4 address is denied. The operator may allow addresses, ranges or host
//! names (`webhooks.allow`), e.g. loopback for a demo on one machine.

use std::fmt;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};
use std::str::FromStr;

use reqwest::Url;
use serde::Deserialize;

use plugins::error::PluginError;

/// Longest webhook URL accepted, in bytes (as sent and as normalized).
pub const MAX_URL_LEN: usize = 2048;

/// A URL scheme webhooks may use.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Scheme {
    /// Plain HTTP: only for tests and demos on one machine; deliveries are signed but readable.
    Http,
    /// HTTPS.
    Https,
}

impl Scheme {
    /// The scheme as written in a URL.
    pub fn as_str(self) -> &'static str {
        match self {
            Scheme::Http => "http",
            Scheme::Https => "https",
        }
    }
}

/// Why an address is not a webhook destination unless the operator allows it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DeniedRange {
    /// 0.0.0.0/8, `::` (connecting to 0.0.0.0 reaches the local host on Linux).
    Unspecified,
    /// 127.0.0.0/8, `::1`.
    Loopback,
    /// 169.254.0.0/16 (the cloud metadata address among them), fe80::/10.
    LinkLocal,
    /// RFC 1918, fc00::/7 (unique local), fec0::/10 (site-local), 64:ff9b:1::/48 (local NAT64).
    Private,
    /// 100.64.0.0/10, carrier-grade NAT (RFC 6598).
    Shared,
    /// 192.0.2.0/24, 198.51.100.0/24, 203.0.113.0/24, 2001:db8::/32, 3fff::/20.
    Documentation,
    /// 198.18.0.0/15 (RFC 2544).
    Benchmarking,
    /// 224.0.0.0/4, ff00::/8.
    Multicast,
    /// 255.255.255.255.
    Broadcast,
    /// Everything else not globally routable: 240.0.0.0/4, 192.0.0.0/24, 192.88.99.0/24,
    /// IPv4-compatible IPv6, 100::/64, 2001::/23 (Teredo among them), IPv6 outside 2000::/3.
    Reserved,
}

impl DeniedRange {
    /// The range's name, as used in error messages.
    pub fn as_str(self) -> &'static str {
        match self {
            DeniedRange::Unspecified => "unspecified",
            DeniedRange::Loopback => "loopback",
            DeniedRange::LinkLocal => "link-local",
            DeniedRange::Private => "private",
            DeniedRange::Shared => "shared (carrier-grade NAT)",
            DeniedRange::Documentation => "documentation",
            DeniedRange::Benchmarking => "benchmarking",
            DeniedRange::Multicast => "multicast",
            DeniedRange::Broadcast => "broadcast",
            DeniedRange::Reserved => "reserved",
        }
    }
}

impl fmt::Display for DeniedRange {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

const fn v4(a: u8, b: u8, c: u8, d: u8) -> u32 {
    u32::from_be_bytes([a, b, c, d])
}

/// IPv4 ranges denied by default, as (network, prefix length, range); first match wins.
const V4_DENIED: [(u32, u8, DeniedRange); 16] = [
    (v4(0, 0, 0, 0), 8, DeniedRange::Unspecified),
    (v4(10, 0, 0, 0), 8, DeniedRange::Private),
    (v4(100, 64, 0, 0), 10, DeniedRange::Shared),
    (v4(127, 0, 0, 0), 8, DeniedRange::Loopback),
    (v4(169, 254, 0, 0), 16, DeniedRange::LinkLocal),
    (v4(172, 16, 0, 0), 12, DeniedRange::Private),
    (v4(192, 0, 0, 0), 24, DeniedRange::Reserved),
    (v4(192, 0, 2, 0), 24, DeniedRange::Documentation),
    (v4(192, 88, 99, 0), 24, DeniedRange::Reserved),
    (v4(192, 168, 0, 0), 16, DeniedRange::Private),
    (v4(198, 18, 0, 0), 15, DeniedRange::Benchmarking),
    (v4(198, 51, 100, 0), 24, DeniedRange::Documentation),
    (v4(203, 0, 113, 0), 24, DeniedRange::Documentation),
    (v4(224, 0, 0, 0), 4, DeniedRange::Multicast),
    (v4(255, 255, 255, 255), 32, DeniedRange::Broadcast),
    (v4(240, 0, 0, 0), 4, DeniedRange::Reserved),
];

/// IPv6 ranges denied by default, besides the forms that carry an IPv4 address and everything
/// outside 2000::/3 (see [`classify`]). Listed for a precise reason in errors.
const V6_DENIED: [(u128, u8, DeniedRange); 9] = [
    (0x0064_ff9b_0001 << 80, 48, DeniedRange::Private),
    (0x0100 << 112, 64, DeniedRange::Reserved),
    (0x2001 << 112, 23, DeniedRange::Reserved),
    (0x2001_0db8 << 96, 32, DeniedRange::Documentation),
    (0x3fff << 112, 20, DeniedRange::Documentation),
    (0xfc00 << 112, 7, DeniedRange::Private),
    (0xfe80 << 112, 10, DeniedRange::LinkLocal),
    (0xfec0 << 112, 10, DeniedRange::Private),
    (0xff00 << 112, 8, DeniedRange::Multicast),
];

/// NAT64 well-known prefix 64:ff9b::/96 (RFC 6052): a gateway forwards to the IPv4 address.
const NAT64: u128 = 0x0064_ff9b << 96;
/// 6to4 2002::/16 (RFC 3056): a relay forwards to the IPv4 address in bits 16-47.
const SIX_TO_FOUR: u128 = 0x2002 << 112;
/// IPv6 global unicast, 2000::/3: everything outside it is not a destination.
const GLOBAL_UNICAST: u128 = 0x2000 << 112;

fn v4_in(ip: u32, net: u32, prefix: u8) -> bool {
    prefix == 0 || (ip ^ net) >> (32 - u32::from(prefix)) == 0
}

fn v6_in(ip: u128, net: u128, prefix: u8) -> bool {
    prefix == 0 || (ip ^ net) >> (128 - u32::from(prefix)) == 0
}

/// The range that makes `ip` an internal (not globally routable) address, or `None` for a
/// public address. IPv6 addresses carrying an IPv4 address are judged by the IPv4 address,
/// since the packet ends up there (a dual-stack socket, a NAT64 gateway, a 6to4 relay).
pub fn classify(ip: IpAddr) -> Option<DeniedRange> {
    match ip {
        IpAddr::V4(ip) => classify_v4(ip),
        IpAddr::V6(ip) => classify_v6(ip),
    }
}

fn classify_v4(ip: Ipv4Addr) -> Option<DeniedRange> {
    let bits = u32::from(ip);
    V4_DENIED
        .iter()
        .find(|(net, prefix, _)| v4_in(bits, *net, *prefix))
        .map(|(_, _, range)| *range)
}

fn classify_v6(ip: Ipv6Addr) -> Option<DeniedRange> {
    if let Some(mapped) = ip.to_ipv4_mapped() {
        return classify_v4(mapped);
    }
    let bits = u128::from(ip);
    let o = ip.octets();
    // The low 32 bits: the embedded IPv4 address.
    let low_v4 = Ipv4Addr::new(o[12], o[13], o[14], o[15]);
    match bits {
        0 => return Some(DeniedRange::Unspecified),
        1 => return Some(DeniedRange::Loopback),
        // IPv4-compatible (deprecated): never a destination, and named after its IPv4 address.
        _ if bits >> 32 == 0 => return Some(classify_v4(low_v4).unwrap_or(DeniedRange::Reserved)),
        _ if v6_in(bits, NAT64, 96) => return classify_v4(low_v4),
        _ if v6_in(bits, SIX_TO_FOUR, 16) => return classify_v4(Ipv4Addr::new(o[2], o[3], o[4], o[5])),
        _ => {}
    }
    V6_DENIED
        .iter()
        .find(|(net, prefix, _)| v6_in(bits, *net, *prefix))
        .map(|(_, _, range)| *range)
        .or_else(|| (!v6_in(bits, GLOBAL_UNICAST, 3)).then_some(DeniedRange::Reserved))
}

/// An IPv4-mapped IPv6 address is the IPv4 address it carries (it reaches the same host).
fn canonical(ip: IpAddr) -> IpAddr {
    match ip {
        IpAddr::V6(v6) => v6.to_ipv4_mapped().map(IpAddr::V4).unwrap_or(ip),
        v4 => v4,
    }
}

/// An IP network: an address with its host bits zero and a prefix length.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct IpNet {
    addr: IpAddr,
    prefix: u8,
}

impl IpNet {
    /// The network `addr/prefix`; refuses a prefix longer than the address and set host bits
    /// (`10.0.0.1/8` is more likely a typo than a wish for `10.0.0.0/8`).
    pub fn new(addr: IpAddr, prefix: u8) -> Result<IpNet, AllowEntryError> {
        let entry = || format!("{addr}/{prefix}");
        let (max, host_bits) = match addr {
            IpAddr::V4(a) => (32, u128::from(u32::from(a)) & low_mask(32, prefix)),
            IpAddr::V6(a) => (128, u128::from(a) & low_mask(128, prefix)),
        };
        if prefix > max {
            return Err(AllowEntryError::Prefix { entry: entry(), max });
        }
        if host_bits != 0 {
            let network = match addr {
                IpAddr::V4(a) => {
                    let mask = u32::try_from(low_mask(32, prefix)).expect("a mask of at most 32 bits");
                    IpAddr::V4(Ipv4Addr::from(u32::from(a) & !mask))
                }
                IpAddr::V6(a) => IpAddr::V6(Ipv6Addr::from(u128::from(a) & !low_mask(128, prefix))),
            };
            return Err(AllowEntryError::HostBits {
                entry: entry(),
                network: format!("{network}/{prefix}"),
            });
        }
        // An IPv4-mapped network is the IPv4 network, as addresses are compared canonically.
        if let IpAddr::V6(a) = addr
            && prefix >= 96
            && let Some(mapped) = a.to_ipv4_mapped()
        {
            return Ok(IpNet {
                addr: IpAddr::V4(mapped),
                prefix: prefix - 96,
            });
        }
        Ok(IpNet { addr, prefix })
    }

    /// Whether `ip` is in the network (an IPv4 network never contains an IPv6 address, and
    /// the other way round; compare canonical addresses).
    pub fn contains(&self, ip: IpAddr) -> bool {
        match (self.addr, ip) {
            (IpAddr::V4(net), IpAddr::V4(ip)) => v4_in(u32::from(ip), u32::from(net), self.prefix),
            (IpAddr::V6(net), IpAddr::V6(ip)) => v6_in(u128::from(ip), u128::from(net), self.prefix),
            _ => false,
        }
    }
}

/// The low `width - prefix` bits set (saturating at a prefix past the width).
fn low_mask(width: u32, prefix: u8) -> u128 {
    let host = width.saturating_sub(u32::from(prefix));
    if host >= 128 {
        u128::MAX
    } else {
        (1u128 << host) - 1
    }
}

impl fmt::Display for IpNet {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.addr, self.prefix)
    }
}

/// An operator's exception to the default deny (`webhooks.allow`).
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(try_from = "String")]
pub enum AllowEntry {
    /// An address (`127.0.0.1`, `::1`) or CIDR range (`10.20.0.0/16`): these addresses may be
    /// connected to, whether written in the URL or resolved from a host name.
    Net(IpNet),
    /// A host name (`hooks.bank-a.internal`), compared exactly (case-insensitive, without a
    /// final dot): the addresses it resolves to may be connected to, whatever they are.
    Host(String),
}

/// Why a `webhooks.allow` entry is not usable.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum AllowEntryError {
    /// The prefix length exceeds the address width.
    #[error("webhooks.allow entry {entry:?}: the prefix length must be 0-{max}")]
    Prefix {
        /// The entry.
        entry: String,
        /// 32 or 128.
        max: u8,
    },
    /// The address has bits set beyond the prefix.
    #[error("webhooks.allow entry {entry:?}: host bits are set; the network is {network}")]
    HostBits {
        /// The entry.
        entry: String,
        /// The network the entry probably means.
        network: String,
    },
    /// Not an address, a range or a host name (wildcards and ports are not supported).
    #[error(
        "webhooks.allow entry {entry:?} is neither an IP address, a CIDR range nor a host name \
         (no wildcards or ports)"
    )]
    Invalid {
        /// The entry.
        entry: String,
    },
}

/// A host name as compared: lowercase, without a final dot.
fn normalize_name(name: &str) -> String {
    name.strip_suffix('.').unwrap_or(name).to_ascii_lowercase()
}

fn is_host_name(name: &str) -> bool {
    name.len() <= 253
        && name.split('.').all(|label| {
            (1..=63).contains(&label.len())
                && label
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
                && !label.starts_with('-')
                && !label.ends_with('-')
        })
}

impl FromStr for AllowEntry {
    type Err = AllowEntryError;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        let invalid = || AllowEntryError::Invalid {
            entry: text.to_owned(),
        };
        let ip = |s: &str| {
            let s = s.strip_prefix('[').and_then(|s| s.strip_suffix(']')).unwrap_or(s);
            IpAddr::from_str(s).map_err(|_| invalid())
        };
        if let Some((addr, prefix)) = text.split_once('/') {
            let prefix = prefix.parse::<u8>().map_err(|_| invalid())?;
            return IpNet::new(ip(addr)?, prefix).map(AllowEntry::Net);
        }
        if let Ok(addr) = ip(text) {
            let prefix = if addr.is_ipv4() { 32 } else { 128 };
            return IpNet::new(addr, prefix).map(AllowEntry::Net);
        }
        let name = normalize_name(text);
        // A name made of digits and dots would be read as an address by URL parsers.
        if is_host_name(&name) && !name.bytes().all(|b| b.is_ascii_digit() || b == b'.') {
            Ok(AllowEntry::Host(name))
        } else {
            Err(invalid())
        }
    }
}

impl TryFrom<String> for AllowEntry {
    type Error = AllowEntryError;

    fn try_from(text: String) -> Result<Self, Self::Error> {
        text.parse()
    }
}

impl fmt::Display for AllowEntry {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            AllowEntry::Net(net) => net.fmt(f),
            AllowEntry::Host(name) => f.write_str(name),
        }
    }
}

/// Why a webhook URL (or where it leads) is refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum UrlRefused {
    /// Longer than [`MAX_URL_LEN`].
    #[error("the URL is longer than {max} bytes")]
    TooLong {
        /// The limit.
        max: usize,
    },
    /// Not an absolute URL.
    #[error("not an absolute URL: {0}")]
    NotAUrl(String),
    /// The scheme is not in `webhooks.schemes`.
    #[error("scheme {scheme:?} is not allowed (allowed: {allowed})")]
    Scheme {
        /// The URL's scheme.
        scheme: String,
        /// The allowed schemes, in words.
        allowed: String,
    },
    /// The URL has a user name or password: the ledger would send them (as Basic auth) to
    /// whoever answers; deliveries are signed with the registering key instead.
    #[error(
        "the URL carries credentials (user info); deliveries are signed with the registering key instead"
    )]
    Credentials,
    /// The URL has no host.
    #[error("the URL has no host")]
    NoHost,
    /// The URL's host is an address in a denied range.
    #[error("{addr} is an internal address ({range}), which this ledger does not deliver to")]
    DeniedAddress {
        /// The address.
        addr: IpAddr,
        /// Its range.
        range: DeniedRange,
    },
    /// At delivery: the host name resolves to an address in a denied range. The message names
    /// neither, so a participant cannot map the ledger's internal DNS; the log does.
    #[error("{host} resolves to an address this ledger does not deliver to")]
    ResolvesToDenied {
        /// The host name.
        host: String,
        /// The denied address.
        addr: IpAddr,
        /// Its range.
        range: DeniedRange,
    },
    /// At delivery: the host name resolves to no address at all.
    #[error("{host} resolves to no address")]
    NoAddress {
        /// The host name.
        host: String,
    },
}

impl UrlRefused {
    /// True for refusals of the text itself (answered `malformed`) rather than of where it
    /// points (answered `webhook_url_forbidden`).
    pub fn is_malformed(&self) -> bool {
        matches!(self, UrlRefused::TooLong { .. } | UrlRefused::NotAUrl(_))
    }
}

impl From<UrlRefused> for PluginError {
    fn from(refused: UrlRefused) -> Self {
        if refused.is_malformed() {
            PluginError::Malformed {
                reason: format!("webhook url: {refused}"),
            }
        } else {
            PluginError::WebhookUrlForbidden {
                reason: refused.to_string(),
            }
        }
    }
}

/// A URL's host: an address, or a name to resolve.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum UrlHost<'a> {
    /// An IP literal (URL parsing has already turned `0x7f.1` and the like into an address).
    Ip(IpAddr),
    /// A host name.
    Name(&'a str),
}

/// The host of a parsed URL.
pub fn url_host(url: &Url) -> Option<UrlHost<'_>> {
    let host = url.host_str()?;
    if let Some(v6) = host.strip_prefix('[').and_then(|h| h.strip_suffix(']')) {
        return v6.parse().ok().map(UrlHost::Ip);
    }
    Some(match host.parse::<Ipv4Addr>() {
        Ok(v4) => UrlHost::Ip(IpAddr::V4(v4)),
        Err(_) => UrlHost::Name(host),
    })
}

/// Where webhooks may be delivered: allowed schemes and the operator's exceptions to the
/// default deny of internal addresses.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WebhookPolicy {
    schemes: Vec<Scheme>,
    allow: Vec<AllowEntry>,
}

impl Default for WebhookPolicy {
    /// `https` only, no exceptions.
    fn default() -> Self {
        WebhookPolicy::new(vec![Scheme::Https], Vec::new())
    }
}

impl WebhookPolicy {
    /// A policy allowing `schemes`, and the internal destinations in `allow`.
    pub fn new(schemes: Vec<Scheme>, allow: Vec<AllowEntry>) -> Self {
        WebhookPolicy { schemes, allow }
    }

    /// Whether a connection to `ip` is allowed; if not, the range that denies it.
    pub fn check_addr(&self, ip: IpAddr) -> Result<(), DeniedRange> {
        let Some(range) = classify(ip) else {
            return Ok(());
        };
        let ip = canonical(ip);
        let listed = self
            .allow
            .iter()
            .any(|entry| matches!(entry, AllowEntry::Net(net) if net.contains(ip)));
        if listed { Ok(()) } else { Err(range) }
    }

    /// Whether the operator listed this host name, trusting whatever it resolves to.
    pub fn host_listed(&self, name: &str) -> bool {
        let name = normalize_name(name);
        self.allow
            .iter()
            .any(|entry| matches!(entry, AllowEntry::Host(listed) if *listed == name))
    }

    /// Checks a URL as far as can be done without DNS: length, syntax, scheme, no credentials,
    /// and an IP literal host's range. Returns the parsed (normalized) URL, which is what
    /// should be stored and requested. A host name still needs [`Self::check_resolved`].
    pub fn check_url(&self, text: &str) -> Result<Url, UrlRefused> {
        let too_long = UrlRefused::TooLong { max: MAX_URL_LEN };
        if text.len() > MAX_URL_LEN {
            return Err(too_long);
        }
        let url = Url::parse(text).map_err(|e| UrlRefused::NotAUrl(e.to_string()))?;
        // Normalizing percent-encodes, which can make a URL longer.
        if url.as_str().len() > MAX_URL_LEN {
            return Err(too_long);
        }
        if !self.schemes.iter().any(|s| s.as_str() == url.scheme()) {
            let allowed: Vec<&str> = self.schemes.iter().map(|s| s.as_str()).collect();
            return Err(UrlRefused::Scheme {
                scheme: url.scheme().to_owned(),
                allowed: allowed.join(", "),
            });
        }
        if !url.username().is_empty() || url.password().is_some() {
            return Err(UrlRefused::Credentials);
        }
        match url_host(&url) {
            None => return Err(UrlRefused::NoHost),
            Some(UrlHost::Ip(addr)) => {
                self.check_addr(addr)
                    .map_err(|range| UrlRefused::DeniedAddress { addr, range })?;
            }
            Some(UrlHost::Name(_)) => {}
        }
        Ok(url)
    }

    /// Checks what `host` resolved to: every address must be allowed (a name that leads to
    /// an internal address at all is what a rebinding attack looks like), unless the operator
    /// listed the name itself.
    pub fn check_resolved(&self, host: &str, addrs: &[IpAddr]) -> Result<(), UrlRefused> {
        if addrs.is_empty() {
            return Err(UrlRefused::NoAddress {
                host: host.to_owned(),
            });
        }
        if self.host_listed(host) {
            return Ok(());
        }
        for &addr in addrs {
            self.check_addr(addr)
                .map_err(|range| UrlRefused::ResolvesToDenied {
                    host: host.to_owned(),
                    addr,
                    range,
                })?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::{LedgerConfig, WebhookSection, fixtures};
    use proptest::prelude::*;

    fn ip(text: &str) -> IpAddr {
        text.parse().unwrap()
    }

    fn policy(schemes: &[Scheme], allow: &[&str]) -> WebhookPolicy {
        WebhookPolicy::new(
            schemes.to_vec(),
            allow.iter().map(|a| a.parse().unwrap()).collect(),
        )
    }

    #[test]
    fn addresses_are_classified_by_range() {
        use DeniedRange::*;
        let table: &[(&str, Option<DeniedRange>)] = &[
            // IPv4
            ("0.0.0.0", Some(Unspecified)),
            ("0.1.2.3", Some(Unspecified)),
            ("10.0.0.1", Some(Private)),
            ("10.255.255.255", Some(Private)),
            ("11.0.0.0", None),
            ("100.63.255.255", None),
            ("100.64.0.0", Some(Shared)),
            ("100.127.255.255", Some(Shared)),
            ("100.128.0.0", None),
            ("126.255.255.255", None),
            ("127.0.0.1", Some(Loopback)),
            ("127.255.255.254", Some(Loopback)),
            ("169.254.169.254", Some(LinkLocal)),
            ("169.254.0.1", Some(LinkLocal)),
            ("169.255.0.1", None),
            ("172.15.255.255", None),
            ("172.16.0.1", Some(Private)),
            ("172.31.255.255", Some(Private)),
            ("172.32.0.0", None),
            ("192.0.0.8", Some(Reserved)),
            ("192.0.2.1", Some(Documentation)),
            ("192.0.3.1", None),
            ("192.88.99.1", Some(Reserved)),
            ("192.168.1.1", Some(Private)),
            ("192.169.0.1", None),
            ("198.17.255.255", None),
            ("198.18.0.1", Some(Benchmarking)),
            ("198.19.255.255", Some(Benchmarking)),
            ("198.20.0.0", None),
            ("198.51.100.7", Some(Documentation)),
            ("203.0.113.9", Some(Documentation)),
            ("224.0.0.1", Some(Multicast)),
            ("239.255.255.255", Some(Multicast)),
            ("240.0.0.1", Some(Reserved)),
            ("255.255.255.254", Some(Reserved)),
            ("255.255.255.255", Some(Broadcast)),
            ("1.1.1.1", None),
            ("8.8.8.8", None),
            ("93.184.215.14", None),
            ("223.255.255.255", None),
            // IPv6
            ("::", Some(Unspecified)),
            ("::1", Some(Loopback)),
            ("::ffff:127.0.0.1", Some(Loopback)),
            ("::ffff:169.254.169.254", Some(LinkLocal)),
            ("::ffff:10.1.2.3", Some(Private)),
            ("::ffff:0.0.0.0", Some(Unspecified)),
            ("::ffff:8.8.8.8", None),
            ("::127.0.0.1", Some(Loopback)),
            ("::169.254.169.254", Some(LinkLocal)),
            ("::8.8.8.8", Some(Reserved)),
            ("64:ff9b::127.0.0.1", Some(Loopback)),
            ("64:ff9b::a9fe:a9fe", Some(LinkLocal)),
            ("64:ff9b::8.8.8.8", None),
            ("64:ff9b:1::1", Some(Private)),
            ("2002:7f00:1::", Some(Loopback)),
            ("2002:a9fe:a9fe::1", Some(LinkLocal)),
            ("2002:c0a8:0101::1", Some(Private)),
            ("2002:808:808::1", None),
            ("100::1", Some(Reserved)),
            ("2001::1", Some(Reserved)),
            ("2001:0:4136:e378:8000:63bf:3fff:fdd2", Some(Reserved)),
            ("2001:200::1", None),
            ("2001:db8::1", Some(Documentation)),
            ("3fff::1", Some(Documentation)),
            ("3fff:1000::1", None),
            ("fc00::1", Some(Private)),
            ("fd12:3456::1", Some(Private)),
            ("fe80::1", Some(LinkLocal)),
            ("febf::1", Some(LinkLocal)),
            ("fec0::1", Some(Private)),
            ("ff02::1", Some(Multicast)),
            ("::ffff:0:127.0.0.1", Some(Reserved)),
            ("4000::1", Some(Reserved)),
            ("1fff::1", Some(Reserved)),
            ("2606:4700:4700::1111", None),
            ("2a00:1450:4001::200e", None),
        ];
        for (text, expected) in table {
            assert_eq!(classify(ip(text)), *expected, "{text}");
        }
    }

    #[test]
    fn urls_are_judged_before_any_dns() {
        let closed = WebhookPolicy::default();
        let demo = policy(&[Scheme::Http, Scheme::Https], &["127.0.0.0/8", "::1"]);
        let internal_name = policy(&[Scheme::Https], &["hooks.bank-a.internal"]);
        // (policy, url, Ok(normalized) or Err(message fragment))
        #[rustfmt::skip]
        let table: &[(&WebhookPolicy, &str, Result<&str, &str>)] = &[
            (&closed, "https://hooks.bank-a.example/cypherlink", Ok("https://hooks.bank-a.example/cypherlink")),
            (&closed, "HTTPS://Hooks.Bank-A.Example", Ok("https://hooks.bank-a.example/")),
            (&closed, "https://8.8.8.8:8443/x?y=1", Ok("https://8.8.8.8:8443/x?y=1")),
            (&closed, "https://[2606:4700::1]/", Ok("https://[2606:4700::1]/")),
            (&closed, "http://hooks.bank-a.example/", Err("scheme \"http\" is not allowed")),
            (&closed, "ftp://hooks.bank-a.example/", Err("scheme \"ftp\"")),
            (&closed, "file:///etc/passwd", Err("scheme \"file\"")),
            (&closed, "https://127.0.0.1:7200/v1/admin/corridors", Err("127.0.0.1 is an internal address (loopback)")),
            (&closed, "https://169.254.169.254/latest/meta-data/", Err("link-local")),
            (&closed, "https://[::1]/", Err("::1 is an internal address (loopback)")),
            (&closed, "https://[::ffff:127.0.0.1]/", Err("loopback")),
            (&closed, "https://[::ffff:a9fe:a9fe]/", Err("link-local")),
            (&closed, "https://[fe80::1]/", Err("link-local")),
            (&closed, "https://[fd00::1]/", Err("private")),
            // URL parsing turns the odd IPv4 spellings into the address they mean.
            (&closed, "https://2130706433/", Err("127.0.0.1 is an internal address (loopback)")),
            (&closed, "https://0x7f.1/", Err("127.0.0.1 is an internal address (loopback)")),
            (&closed, "https://0177.0.0.1/", Err("127.0.0.1 is an internal address (loopback)")),
            (&closed, "https://127.1/", Err("127.0.0.1 is an internal address (loopback)")),
            (&closed, "https://0/", Err("0.0.0.0 is an internal address (unspecified)")),
            (&closed, "https://10.0.0.5/", Err("private")),
            (&closed, "https://100.64.1.1/", Err("shared")),
            (&closed, "https://255.255.255.255/", Err("broadcast")),
            (&closed, "https://224.0.0.1/", Err("multicast")),
            (&closed, "https://user:pw@hooks.bank-a.example/", Err("credentials")),
            (&closed, "https://user@hooks.bank-a.example/", Err("credentials")),
            (&closed, "https://:pw@hooks.bank-a.example/", Err("credentials")),
            (&closed, "hooks.bank-a.example/x", Err("not an absolute URL")),
            (&closed, "https://", Err("not an absolute URL")),
            (&closed, "https://exa mple.com/", Err("not an absolute URL")),
            // A host name passes here; delivery checks what it resolves to.
            (&closed, "https://localhost:7200/", Ok("https://localhost:7200/")),
            (&demo, "http://127.0.0.1:7200/hook", Ok("http://127.0.0.1:7200/hook")),
            (&demo, "http://127.9.9.9/hook", Ok("http://127.9.9.9/hook")),
            (&demo, "http://[::1]:8080/", Ok("http://[::1]:8080/")),
            (&demo, "http://[::ffff:127.0.0.1]/", Ok("http://[::ffff:7f00:1]/")),
            (&demo, "http://169.254.169.254/latest/meta-data/", Err("link-local")),
            (&demo, "http://192.168.0.1/", Err("private")),
            (&internal_name, "https://10.0.0.5/", Err("private")),
            (&internal_name, "https://hooks.bank-a.internal/x", Ok("https://hooks.bank-a.internal/x")),
        ];
        for (policy, url, expected) in table {
            match (policy.check_url(url), expected) {
                (Ok(got), Ok(want)) => assert_eq!(got.as_str(), *want, "{url}"),
                (Err(got), Err(want)) => {
                    assert!(got.to_string().contains(want), "{url}: {got} should say {want:?}")
                }
                (got, want) => panic!("{url}: got {got:?}, want {want:?}"),
            }
        }
    }

    #[test]
    fn overlong_urls_are_refused_before_and_after_normalizing() {
        let closed = WebhookPolicy::default();
        let base = "https://hooks.bank-a.example/";
        let fits = format!("{base}{}", "a".repeat(MAX_URL_LEN - base.len()));
        assert!(closed.check_url(&fits).is_ok());
        let over = format!("{fits}a");
        assert_eq!(
            closed.check_url(&over),
            Err(UrlRefused::TooLong { max: MAX_URL_LEN })
        );
        // 700 spaces inside the path become 2100 bytes of %20.
        let grows = format!("{base}x{}y", " ".repeat(700));
        assert!(grows.len() < MAX_URL_LEN);
        assert_eq!(
            closed.check_url(&grows),
            Err(UrlRefused::TooLong { max: MAX_URL_LEN })
        );
    }

    #[test]
    fn refusals_map_to_the_api_errors() {
        let closed = WebhookPolicy::default();
        let forbidden = PluginError::from(closed.check_url("https://127.0.0.1/").unwrap_err());
        assert_eq!(forbidden.code(), "webhook_url_forbidden");
        assert!(forbidden.to_string().contains("loopback"), "{forbidden}");
        let malformed = PluginError::from(closed.check_url("not a url").unwrap_err());
        assert_eq!(malformed.code(), "malformed");
        let credentials = PluginError::from(closed.check_url("https://a:b@example.com/").unwrap_err());
        assert_eq!(credentials.code(), "webhook_url_forbidden");
    }

    #[test]
    fn resolved_addresses_must_all_be_allowed_unless_the_name_is_listed() {
        let closed = WebhookPolicy::default();
        let public = [ip("93.184.215.14"), ip("2606:2800:21f:cb07:6820:80da:af6b:8b2c")];
        assert_eq!(closed.check_resolved("hooks.example", &public), Ok(()));
        // One internal address among public ones is enough to refuse.
        let rebound = [ip("93.184.215.14"), ip("127.0.0.1")];
        assert_eq!(
            closed.check_resolved("hooks.example", &rebound),
            Err(UrlRefused::ResolvesToDenied {
                host: "hooks.example".into(),
                addr: ip("127.0.0.1"),
                range: DeniedRange::Loopback,
            })
        );
        let refused = closed.check_resolved("localhost", &[ip("::1")]).unwrap_err();
        assert!(
            !refused.to_string().contains("::1") && !refused.to_string().contains("loopback"),
            "the participant does not learn the ledger's DNS answers: {refused}"
        );
        assert_eq!(
            closed.check_resolved("nowhere.example", &[]),
            Err(UrlRefused::NoAddress {
                host: "nowhere.example".into()
            })
        );

        // An address entry allows that address however it is reached, and only that.
        let one = policy(&[Scheme::Http], &["127.0.0.2"]);
        assert!(one.check_resolved("localhost", &[ip("127.0.0.2")]).is_ok());
        assert!(one.check_resolved("localhost", &[ip("::ffff:127.0.0.2")]).is_ok());
        assert!(one.check_resolved("localhost", &[ip("127.0.0.1")]).is_err());
        assert!(
            one.check_resolved("localhost", &[ip("127.0.0.2"), ip("::1")])
                .is_err()
        );

        // A name entry trusts the name, whatever it resolves to; compared without case or
        // final dot, and never by suffix.
        let named = policy(&[Scheme::Https], &["Hooks.Bank-A.Internal."]);
        for host in ["hooks.bank-a.internal", "HOOKS.bank-a.internal."] {
            assert!(named.check_resolved(host, &[ip("10.1.2.3")]).is_ok(), "{host}");
        }
        for host in [
            "evil.hooks.bank-a.internal",
            "bank-a.internal",
            "hooks.bank-a.internal.evil",
        ] {
            assert!(named.check_resolved(host, &[ip("10.1.2.3")]).is_err(), "{host}");
        }
    }

    #[test]
    fn allow_entries_parse_or_say_why_not() {
        let net = |a: &str, p: u8| AllowEntry::Net(IpNet::new(ip(a), p).unwrap());
        let table: &[(&str, Result<AllowEntry, &str>)] = &[
            ("127.0.0.1", Ok(net("127.0.0.1", 32))),
            ("127.0.0.0/8", Ok(net("127.0.0.0", 8))),
            ("::1", Ok(net("::1", 128))),
            ("[::1]", Ok(net("::1", 128))),
            ("fd00::/8", Ok(net("fd00::", 8))),
            ("0.0.0.0/0", Ok(net("0.0.0.0", 0))),
            ("::ffff:10.0.0.0/104", Ok(net("10.0.0.0", 8))),
            ("::ffff:127.0.0.1", Ok(net("127.0.0.1", 32))),
            ("localhost", Ok(AllowEntry::Host("localhost".into()))),
            (
                "Hooks.Bank-A.Internal.",
                Ok(AllowEntry::Host("hooks.bank-a.internal".into())),
            ),
            ("10.0.0.1/8", Err("host bits are set; the network is 10.0.0.0/8")),
            ("fd00::1/8", Err("the network is fd00::/8")),
            ("10.0.0.0/33", Err("prefix length must be 0-32")),
            ("::/129", Err("prefix length must be 0-128")),
            ("10.0.0.0/x", Err("neither")),
            ("*.bank-a.internal", Err("no wildcards")),
            ("127.0.0.1:7200", Err("neither")),
            ("hooks.example/x", Err("neither")),
            ("", Err("neither")),
            ("-bad.example", Err("neither")),
            ("127.1", Err("neither")),
        ];
        for (text, expected) in table {
            match (text.parse::<AllowEntry>(), expected) {
                (Ok(got), Ok(want)) => assert_eq!(&got, want, "{text}"),
                (Err(got), Err(want)) => {
                    assert!(
                        got.to_string().contains(want),
                        "{text}: {got} should say {want:?}"
                    )
                }
                (got, want) => panic!("{text}: got {got:?}, want {want:?}"),
            }
        }
    }

    #[test]
    fn the_default_section_is_closed_and_the_fixtures_open_only_loopback() {
        let default = WebhookSection::default().policy();
        assert_eq!(default, WebhookPolicy::default());
        assert!(
            default
                .check_url("http://127.0.0.1:7200/v1/admin/corridors")
                .is_err()
        );
        assert!(
            default
                .check_url("https://127.0.0.1:7200/v1/admin/corridors")
                .is_err()
        );
        // An empty [webhooks] section is the default too.
        let empty: WebhookSection = toml::from_str("").unwrap();
        assert_eq!(empty.policy(), default);

        for fixture in [fixtures::BANK, fixtures::DIGITAL_EURO, fixtures::E_CNY] {
            let demo = LedgerConfig::from_toml(fixture).unwrap().webhooks.policy();
            assert!(demo.check_url("http://127.0.0.1:7200/hook").is_ok());
            assert!(demo.check_url("http://[::1]:7200/hook").is_ok());
            assert!(
                demo.check_url("http://169.254.169.254/latest/meta-data/")
                    .is_err()
            );
            assert!(demo.check_url("http://10.0.0.1/hook").is_err());
        }
    }

    #[test]
    fn the_webhooks_section_refuses_bad_policy_settings() {
        let section = |text: &str| toml::from_str::<WebhookSection>(text).map(|s| s.policy());
        let parsed =
            section("schemes = [\"http\", \"https\"]\nallow = [\"10.20.0.0/16\", \"hooks.internal\"]");
        let policy = parsed.unwrap();
        assert!(policy.check_url("http://10.20.3.4/h").is_ok());
        assert!(policy.check_url("http://10.21.3.4/h").is_err());
        assert!(policy.host_listed("hooks.internal"));
        for (text, needle) in [
            ("schemes = []", "at least one"),
            ("schemes = [\"ftp\"]", "unknown variant"),
            ("allow = [\"10.0.0.1/8\"]", "host bits"),
            ("allow = [\"*.internal\"]", "no wildcards"),
            ("allowed = []", "unknown field"),
        ] {
            let err = section(text).unwrap_err().to_string();
            assert!(err.contains(needle), "{text}: {err} should say {needle:?}");
        }
    }

    fn v4_forms(v4: Ipv4Addr) -> [Ipv6Addr; 4] {
        let bits = u128::from(u32::from(v4));
        [
            v4.to_ipv6_mapped(),
            Ipv6Addr::from(bits),
            Ipv6Addr::from(NAT64 | bits),
            Ipv6Addr::from(SIX_TO_FOUR | bits << 80),
        ]
    }

    proptest! {
        /// No IPv6 spelling of a denied IPv4 address gets through, under the default policy
        /// and under one that allows some IPv4 ranges.
        #[test]
        fn no_ipv6_form_of_a_denied_ipv4_address_is_allowed(
            bits in any::<u32>(),
            allowed in proptest::collection::vec((any::<u32>(), 0u8..=32), 0..4),
        ) {
            let v4 = Ipv4Addr::from(bits);
            let entries = allowed
                .iter()
                .map(|&(net, prefix)| {
                    let net = if prefix == 0 { 0 } else { net & (u32::MAX << (32 - u32::from(prefix))) };
                    AllowEntry::Net(IpNet::new(IpAddr::V4(Ipv4Addr::from(net)), prefix).unwrap())
                })
                .collect();
            for policy in [WebhookPolicy::default(), WebhookPolicy::new(vec![Scheme::Https], entries)] {
                let v4_verdict = policy.check_addr(IpAddr::V4(v4));
                for v6 in v4_forms(v4) {
                    if v4_verdict.is_err() {
                        prop_assert!(policy.check_addr(IpAddr::V6(v6)).is_err(), "{v6} of {v4}");
                        let url = format!("https://[{v6}]/");
                        prop_assert!(policy.check_url(&url).is_err(), "{url}");
                    }
                }
                // The mapped form is the same destination and gets the same verdict.
                prop_assert_eq!(policy.check_addr(IpAddr::V6(v4.to_ipv6_mapped())), v4_verdict);
            }
        }

        /// Whatever the URL, a refusal is a value and an acceptance is a URL the same policy
        /// accepts again (what is stored is what is checked at delivery).
        #[test]
        fn accepted_urls_are_stable(text in "(https?|ftp)://[a-z0-9.:\\[\\]@%/]{0,40}") {
            let demo = policy(&[Scheme::Http, Scheme::Https], &["127.0.0.0/8"]);
            if let Ok(url) = demo.check_url(&text) {
                prop_assert_eq!(demo.check_url(url.as_str()), Ok(url.clone()));
            }
        }
    }
}
