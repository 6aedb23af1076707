//! Which URLs Rempart sends to (platform endpoints) and which it accepts from counsellors
//! (item URLs, never fetched).

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use url::{Host, Url};

/// Longest item URL accepted, in bytes.
pub const MAX_ITEM_URL_LEN: usize = 4096;

/// What an endpoint may be. The defaults refuse local addresses and plain HTTP; tests and
/// the demo, which run the simulators on 127.0.0.1, turn both on.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct EndpointPolicy {
    /// Allow hosts on loopback, private, link-local and other non-public addresses (IP
    /// literals and names resolving to them), and local names such as `localhost`.
    pub allow_local: bool,
    /// Allow `http://` as well as `https://`.
    pub allow_plain_http: bool,
}

impl EndpointPolicy {
    /// Everything allowed: for tests and the demo against local simulators.
    pub fn local() -> Self {
        EndpointPolicy {
            allow_local: true,
            allow_plain_http: true,
        }
    }
}

/// Why an endpoint URL was refused.
#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
pub enum EndpointProblem {
    /// Not a URL.
    #[error("not a valid URL")]
    Invalid,
    /// Neither `http` nor `https`.
    #[error("only http and https are allowed")]
    Scheme,
    /// `http://` while the policy wants HTTPS.
    #[error("plain http is not allowed")]
    PlainHttp,
    /// A user name or password in the URL.
    #[error("credentials in the URL")]
    Credentials,
    /// No host.
    #[error("no host")]
    NoHost,
    /// A loopback, private, link-local, multicast or otherwise non-public address.
    #[error("a local or non-public address")]
    LocalAddress,
    /// A local name (`localhost`, `*.local`, `*.internal`, a name without a dot…).
    #[error("a local host name")]
    LocalName,
}

impl EndpointProblem {
    /// A stable snake_case code (the reason of a permanent outcome).
    pub fn code(self) -> &'static str {
        match self {
            EndpointProblem::Invalid => "endpoint_invalid",
            EndpointProblem::Scheme => "endpoint_scheme",
            EndpointProblem::PlainHttp => "endpoint_plain_http",
            EndpointProblem::Credentials => "endpoint_credentials",
            EndpointProblem::NoHost => "endpoint_no_host",
            EndpointProblem::LocalAddress => "endpoint_local_address",
            EndpointProblem::LocalName => "endpoint_local_name",
        }
    }
}

/// A URL Rempart may send to under a policy.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Endpoint {
    url: Url,
}

impl Endpoint {
    /// Checks `url` against `policy`: `http` or `https` (`http` only if allowed), a host, no
    /// credentials, and unless local endpoints are allowed, no IP literal outside the public
    /// ranges and no local name.
    pub fn parse(url: &str, policy: EndpointPolicy) -> Result<Endpoint, EndpointProblem> {
        let url = Url::parse(url.trim()).map_err(|_| EndpointProblem::Invalid)?;
        match url.scheme() {
            "https" => {}
            "http" if policy.allow_plain_http => {}
            "http" => return Err(EndpointProblem::PlainHttp),
            _ => return Err(EndpointProblem::Scheme),
        }
        if !url.username().is_empty() || url.password().is_some() {
            return Err(EndpointProblem::Credentials);
        }
        let host = url.host().ok_or(EndpointProblem::NoHost)?;
        if !policy.allow_local {
            check_host(&host).map_err(|p| match p {
                HostProblem::Address => EndpointProblem::LocalAddress,
                HostProblem::Name => EndpointProblem::LocalName,
                HostProblem::Empty => EndpointProblem::NoHost,
            })?;
        }
        Ok(Endpoint { url })
    }

    /// The URL.
    pub fn url(&self) -> &Url {
        &self.url
    }

    /// The host, for logs (never the path or query, which may carry identifiers).
    pub fn host(&self) -> &str {
        self.url.host_str().unwrap_or("")
    }

    /// This endpoint with `segment` appended to its path (`/base` + `api/v1/report` →
    /// `/base/api/v1/report`), the query kept.
    pub fn join(&self, segment: &str) -> Endpoint {
        let mut url = self.url.clone();
        let path = format!(
            "{}/{}",
            url.path().trim_end_matches('/'),
            segment.trim_start_matches('/')
        );
        url.set_path(&path);
        Endpoint { url }
    }
}

/// Why an item URL entered by a counsellor was refused.
#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
pub enum UrlProblem {
    /// Not a URL.
    #[error("not a valid URL")]
    Invalid,
    /// Longer than [`MAX_ITEM_URL_LEN`].
    #[error("the URL is too long")]
    TooLong,
    /// Neither `http` nor `https`.
    #[error("only http and https links are accepted")]
    Scheme,
    /// No host.
    #[error("the link has no host")]
    NoHost,
    /// A user name or password in the URL.
    #[error("the link carries credentials")]
    Credentials,
    /// An IP address outside the public ranges.
    #[error("the link points to a local or non-public address")]
    LocalAddress,
    /// A local name (`localhost`, `*.local`, `*.internal`, a name without a dot…).
    #[error("the link points to a local host name")]
    LocalName,
}

impl UrlProblem {
    /// A stable snake_case code, for the API's error answers.
    pub fn code(self) -> &'static str {
        match self {
            UrlProblem::Invalid => "url_invalid",
            UrlProblem::TooLong => "url_too_long",
            UrlProblem::Scheme => "url_scheme",
            UrlProblem::NoHost => "url_no_host",
            UrlProblem::Credentials => "url_credentials",
            UrlProblem::LocalAddress => "url_local_address",
            UrlProblem::LocalName => "url_local_name",
        }
    }
}

/// Checks a URL of reported content entered by a counsellor. Rempart never fetches it, but
/// platforms and the people reading notices may: it must be an `http`/`https` link to a
/// public host, without credentials, at most [`MAX_ITEM_URL_LEN`] bytes. IP literals are
/// parsed the way browsers do (`http://2130706433/` is 127.0.0.1) and refused outside the
/// public ranges; local names are refused.
pub fn check_item_url(url: &str) -> Result<(), UrlProblem> {
    let url = url.trim();
    if url.len() > MAX_ITEM_URL_LEN {
        return Err(UrlProblem::TooLong);
    }
    let parsed = Url::parse(url).map_err(|_| UrlProblem::Invalid)?;
    if !matches!(parsed.scheme(), "http" | "https") {
        return Err(UrlProblem::Scheme);
    }
    if !parsed.username().is_empty() || parsed.password().is_some() {
        return Err(UrlProblem::Credentials);
    }
    let host = parsed.host().ok_or(UrlProblem::NoHost)?;
    check_host(&host).map_err(|p| match p {
        HostProblem::Address => UrlProblem::LocalAddress,
        HostProblem::Name => UrlProblem::LocalName,
        HostProblem::Empty => UrlProblem::NoHost,
    })
}

enum HostProblem {
    Empty,
    Address,
    Name,
}

fn check_host(host: &Host<&str>) -> Result<(), HostProblem> {
    match host {
        Host::Ipv4(ip) => public_ip(IpAddr::V4(*ip))
            .then_some(())
            .ok_or(HostProblem::Address),
        Host::Ipv6(ip) => public_ip(IpAddr::V6(*ip))
            .then_some(())
            .ok_or(HostProblem::Address),
        Host::Domain(name) => check_name(name),
    }
}

/// Suffixes of names that never designate a public host.
const LOCAL_SUFFIXES: [&str; 6] = [
    "localhost",
    "local",
    "internal",
    "localdomain",
    "home.arpa",
    "lan",
];

fn check_name(name: &str) -> Result<(), HostProblem> {
    // `url` lower-cases names and turns IDNs into punycode
    let name = name.strip_suffix('.').unwrap_or(name);
    if name.is_empty() {
        return Err(HostProblem::Empty);
    }
    // a public name has at least two labels
    if !name.contains('.') {
        return Err(HostProblem::Name);
    }
    for suffix in LOCAL_SUFFIXES {
        if name == suffix
            || name
                .strip_suffix(suffix)
                .is_some_and(|rest| rest.ends_with('.'))
        {
            return Err(HostProblem::Name);
        }
    }
    Ok(())
}

/// Whether `ip` is a public unicast address: not unspecified, loopback, private,
/// shared (CGNAT), link-local, unique-local, multicast, broadcast, documentation,
/// benchmarking or reserved; IPv4 embedded in IPv6 (mapped, compatible, NAT64, 6to4) is
/// judged as IPv4.
pub fn public_ip(ip: IpAddr) -> bool {
    match ip {
        IpAddr::V4(v4) => public_v4(v4),
        IpAddr::V6(v6) => public_v6(v6),
    }
}

fn in_v4(ip: Ipv4Addr, net: [u8; 4], prefix: u32) -> bool {
    let mask = u32::MAX.checked_shl(32 - prefix).unwrap_or(0);
    (u32::from(ip) & mask) == (u32::from(Ipv4Addr::from(net)) & mask)
}

fn public_v4(ip: Ipv4Addr) -> bool {
    const NOT_PUBLIC: [([u8; 4], u32); 16] = [
        ([0, 0, 0, 0], 8),       // "this network", unspecified
        ([10, 0, 0, 0], 8),      // private
        ([100, 64, 0, 0], 10),   // shared address space (CGNAT)
        ([127, 0, 0, 0], 8),     // loopback
        ([169, 254, 0, 0], 16),  // link-local (cloud metadata services)
        ([172, 16, 0, 0], 12),   // private
        ([192, 0, 0, 0], 24),    // IETF protocol assignments
        ([192, 0, 2, 0], 24),    // documentation
        ([192, 88, 99, 0], 24),  // 6to4 relay anycast (deprecated)
        ([192, 168, 0, 0], 16),  // private
        ([198, 18, 0, 0], 15),   // benchmarking
        ([198, 51, 100, 0], 24), // documentation
        ([203, 0, 113, 0], 24),  // documentation
        ([224, 0, 0, 0], 4),     // multicast
        ([240, 0, 0, 0], 4),     // reserved, broadcast
        ([255, 255, 255, 255], 32),
    ];
    !NOT_PUBLIC
        .iter()
        .any(|(net, prefix)| in_v4(ip, *net, *prefix))
}

fn public_v6(ip: Ipv6Addr) -> bool {
    let s = ip.segments();
    let embedded = |hi: u16, lo: u16| Ipv4Addr::from((u32::from(hi) << 16) | u32::from(lo));
    // ::ffff:a.b.c.d (mapped) and ::a.b.c.d (compatible, deprecated; :: and ::1 included)
    if s[..5] == [0; 5] && (s[5] == 0xffff || s[5] == 0) {
        return s[5] == 0xffff && public_v4(embedded(s[6], s[7]));
    }
    // 64:ff9b::/96, NAT64 of a v4 address
    if s[..6] == [0x64, 0xff9b, 0, 0, 0, 0] {
        return public_v4(embedded(s[6], s[7]));
    }
    // 2002::/16, 6to4 of a v4 address
    if s[0] == 0x2002 {
        return public_v4(embedded(s[1], s[2]));
    }
    // only global unicast (2000::/3) is public: this leaves out unique-local fc00::/7,
    // link-local fe80::/10, site-local fec0::/10, multicast ff00::/8, discard 100::/64,
    // local-use NAT64 64:ff9b:1::/48
    if s[0] & 0xe000 != 0x2000 {
        return false;
    }
    // 2001:db8::/32 documentation, 2001::/32 Teredo, 2001:10::/28 and 2001:20::/28 ORCHID,
    // 3fff::/20 documentation
    let special_2001 =
        s[0] == 0x2001 && (s[1] == 0 || s[1] == 0x0db8 || matches!(s[1] & 0xfff0, 0x0010 | 0x0020));
    let documentation_3fff = s[0] == 0x3fff && (s[1] & 0xf000) == 0;
    !(special_2001 || documentation_3fff)
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::panic)]
    use super::*;

    #[test]
    fn item_urls_refused() {
        let cases: &[(&str, UrlProblem)] = &[
            ("http://127.0.0.1/", UrlProblem::LocalAddress),
            ("http://127.1/", UrlProblem::LocalAddress),
            ("http://2130706433/", UrlProblem::LocalAddress),
            ("http://0x7f000001/", UrlProblem::LocalAddress),
            ("http://[::1]/", UrlProblem::LocalAddress),
            ("http://[::]/", UrlProblem::LocalAddress),
            ("http://[::ffff:10.0.0.1]/", UrlProblem::LocalAddress),
            ("http://[::ffff:127.0.0.1]/", UrlProblem::LocalAddress),
            ("http://[::10.0.0.1]/", UrlProblem::LocalAddress),
            ("http://[64:ff9b::192.168.0.1]/", UrlProblem::LocalAddress),
            ("http://[2002:c0a8:0101::1]/", UrlProblem::LocalAddress),
            ("http://[fe80::1]/", UrlProblem::LocalAddress),
            ("http://[fc00::1]/", UrlProblem::LocalAddress),
            ("http://[fd12:3456::1]/", UrlProblem::LocalAddress),
            ("http://[ff02::1]/", UrlProblem::LocalAddress),
            ("http://[2001:db8::1]/", UrlProblem::LocalAddress),
            ("http://[2001::1]/", UrlProblem::LocalAddress),
            ("http://[2001:20::1]/", UrlProblem::LocalAddress),
            ("http://[3fff::1]/", UrlProblem::LocalAddress),
            ("http://[100::1]/", UrlProblem::LocalAddress),
            ("http://[64:ff9b:1::1]/", UrlProblem::LocalAddress),
            ("http://169.254.169.254/latest", UrlProblem::LocalAddress),
            ("http://0.0.0.0", UrlProblem::LocalAddress),
            ("http://10.1.2.3", UrlProblem::LocalAddress),
            ("http://172.16.0.1", UrlProblem::LocalAddress),
            ("http://172.31.255.255", UrlProblem::LocalAddress),
            ("http://192.168.1.1", UrlProblem::LocalAddress),
            ("http://100.64.0.1", UrlProblem::LocalAddress),
            ("http://100.127.255.254", UrlProblem::LocalAddress),
            ("http://224.0.0.1", UrlProblem::LocalAddress),
            ("http://255.255.255.255", UrlProblem::LocalAddress),
            ("http://198.18.0.1", UrlProblem::LocalAddress),
            ("http://localhost/", UrlProblem::LocalName),
            ("http://LOCALHOST./", UrlProblem::LocalName),
            ("http://api.localhost/", UrlProblem::LocalName),
            ("http://printer.local/", UrlProblem::LocalName),
            ("http://metadata.google.internal/", UrlProblem::LocalName),
            ("http://router.home.arpa/", UrlProblem::LocalName),
            ("http://intranet/", UrlProblem::LocalName),
            ("ftp://x", UrlProblem::Scheme),
            ("ftp://example.com/file", UrlProblem::Scheme),
            ("javascript:alert(1)", UrlProblem::Scheme),
            ("data:text/html,<b>x</b>", UrlProblem::Scheme),
            ("file:///etc/passwd", UrlProblem::Scheme),
            ("https://user:pw@host.example/", UrlProblem::Credentials),
            ("https://user@host.example/", UrlProblem::Credentials),
            ("www.tiktok.com/@x", UrlProblem::Invalid),
            ("", UrlProblem::Invalid),
            ("http://", UrlProblem::Invalid),
            ("https://exa mple.com/", UrlProblem::Invalid),
        ];
        for (url, problem) in cases {
            assert_eq!(check_item_url(url), Err(*problem), "{url}");
        }
        let long = format!("https://example.com/{}", "a".repeat(MAX_ITEM_URL_LEN));
        assert_eq!(check_item_url(&long), Err(UrlProblem::TooLong));
    }

    #[test]
    fn item_urls_accepted() {
        for url in [
            "https://www.tiktok.com/@x/video/123",
            "https://discord.com/channels/1/2/3",
            "http://example.com",
            "  https://www.instagram.com/p/abc/  ",
            "https://bücher.example/page",
            "https://xn--bcher-kva.example/",
            "https://例え.jp/",
            "https://8.8.8.8/",
            "https://[2606:4700:4700::1111]/",
            "https://[2001:4860:4860::8888]/",
            "https://[3ffe:1::1]/",
            "https://[64:ff9b::8.8.8.8]/",
            "https://[::ffff:8.8.8.8]/",
            "https://172.32.0.1/",
            "https://snapchat.com/add/someone?x=1#frag",
            "https://example.com.:443/",
        ] {
            assert_eq!(check_item_url(url), Ok(()), "{url}");
        }
    }

    #[test]
    fn endpoints_follow_the_policy() {
        let strict = EndpointPolicy::default();
        let local = EndpointPolicy::local();
        assert!(Endpoint::parse("https://api.platform.example/coop", strict).is_ok());
        assert_eq!(
            Endpoint::parse("http://api.platform.example/", strict),
            Err(EndpointProblem::PlainHttp)
        );
        assert_eq!(
            Endpoint::parse("https://127.0.0.1:8443/", strict),
            Err(EndpointProblem::LocalAddress)
        );
        assert_eq!(
            Endpoint::parse("https://[::ffff:192.168.0.1]/", strict),
            Err(EndpointProblem::LocalAddress)
        );
        assert_eq!(
            Endpoint::parse("https://localhost/", strict),
            Err(EndpointProblem::LocalName)
        );
        assert!(Endpoint::parse("http://127.0.0.1:8080/", local).is_ok());
        assert!(Endpoint::parse("http://localhost:8080/", local).is_ok());
        for policy in [strict, local] {
            assert_eq!(
                Endpoint::parse("https://k:s@api.example/", policy),
                Err(EndpointProblem::Credentials)
            );
            assert_eq!(
                Endpoint::parse("ftp://api.example/", policy),
                Err(EndpointProblem::Scheme)
            );
            assert_eq!(
                Endpoint::parse("not a url", policy),
                Err(EndpointProblem::Invalid)
            );
        }
    }

    #[test]
    fn joins_paths() {
        let local = EndpointPolicy::local();
        for base in ["http://h.example/coop/x", "http://h.example/coop/x/"] {
            let e = Endpoint::parse(base, local).map(|e| e.join("api/v1/report"));
            assert_eq!(
                e.map(|e| e.url().as_str().to_owned()),
                Ok("http://h.example/coop/x/api/v1/report".to_owned())
            );
        }
        let e = Endpoint::parse("http://h.example", local).map(|e| e.join("/api/v1/report"));
        assert_eq!(
            e.map(|e| e.url().as_str().to_owned()),
            Ok("http://h.example/api/v1/report".to_owned())
        );
    }
}
