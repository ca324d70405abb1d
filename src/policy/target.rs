//! What a request asks for, normalized for matching: lowercase scheme and host, no trailing dot,
//! no default port, a path without query, fragment or trailing slash.

/// `None` from [`Target::new`] means "not something a rule could ever match": the request is
/// simply not managed (non-HTTP protocols, hosts with characters no DNS name has, bad ports).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Target {
    pub scheme: String,
    pub host: String,
    /// `None` for the scheme's default port.
    pub port: Option<u16>,
    /// The repository path git sends with `credential.useHttpPath`, if any.
    pub path: Option<String>,
    /// False when the path has `.`/`..`/empty segments: such a path never matches a path-scoped rule.
    pub path_is_clean: bool,
}

pub(crate) fn default_port(scheme: &str) -> Option<u16> {
    match scheme {
        "https" => Some(443),
        "http" => Some(80),
        _ => None,
    }
}

/// Lowercases a DNS name or IP literal and drops one trailing dot; `None` for anything else.
pub(crate) fn normalize_host(host: &str) -> Option<String> {
    let host = host.strip_suffix('.').unwrap_or(host);
    if host.is_empty() || host.len() > 253 {
        return None;
    }
    if let Some(inner) = host.strip_prefix('[').and_then(|h| h.strip_suffix(']')) {
        // A real IPv6 address, in its canonical form: [0:0::1] and [::1] are one host.
        let addr: std::net::Ipv6Addr = inner.parse().ok()?;
        return Some(format!("[{addr}]"));
    }
    let labels_ok = host.split('.').all(|label| {
        !label.is_empty()
            && label.len() <= 63
            && label
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
    });
    labels_ok.then(|| host.to_ascii_lowercase())
}

/// Splits `host[:port]` (IPv6 literals in brackets); the port must be 1..=65535.
pub(crate) fn split_host_port(hostport: &str) -> Option<(&str, Option<u16>)> {
    let (host, port) = if hostport.starts_with('[') {
        let close = hostport.find(']')?;
        match &hostport[close + 1..] {
            "" => (&hostport[..=close], None),
            rest => (&hostport[..=close], Some(rest.strip_prefix(':')?)),
        }
    } else {
        match hostport.rsplit_once(':') {
            Some((h, p)) => (h, Some(p)),
            None => (hostport, None),
        }
    };
    let port = match port {
        None => None,
        Some(p) if !p.is_empty() && p.len() <= 5 && p.bytes().all(|b| b.is_ascii_digit()) => {
            Some(p.parse::<u16>().ok().filter(|&n| n != 0)?)
        }
        Some(_) => return None,
    };
    Some((host, port))
}

impl Target {
    pub fn new(protocol: &str, host: &str, path: Option<&str>) -> Option<Target> {
        let scheme = protocol.to_ascii_lowercase();
        let default = default_port(&scheme)?;
        let (host, port) = split_host_port(host)?;
        let host = normalize_host(host)?;
        let port = port.filter(|&p| p != default);
        let path = path
            .map(|p| {
                p.split(['?', '#'])
                    .next()
                    .unwrap_or("")
                    .trim_matches('/')
                    .to_owned()
            })
            .filter(|p| !p.is_empty());
        let path_is_clean = path.as_deref().is_none_or(|p| {
            p.split('/')
                .all(|seg| !seg.is_empty() && seg != "." && seg != "..")
        });
        Some(Target {
            scheme,
            host,
            port,
            path,
            path_is_clean,
        })
    }

    /// `scheme://host[:port]`, the origin this target belongs to.
    pub fn origin(&self) -> String {
        match self.port {
            Some(p) => format!("{}://{}:{}", self.scheme, self.host, p),
            None => format!("{}://{}", self.scheme, self.host),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn t(proto: &str, host: &str, path: Option<&str>) -> Option<Target> {
        Target::new(proto, host, path)
    }

    #[test]
    fn normalizes_case_trailing_dot_and_default_port() {
        let a = t("HTTPS", "GitLab.Corp.Example.:443", None).unwrap();
        assert_eq!(
            (a.scheme.as_str(), a.host.as_str(), a.port),
            ("https", "gitlab.corp.example", None)
        );
        assert_eq!(t("http", "h.example:80", None).unwrap().port, None);
        assert_eq!(t("https", "h.example:80", None).unwrap().port, Some(80));
        assert_eq!(
            t("https", "h.example:8443", None).unwrap().origin(),
            "https://h.example:8443"
        );
    }

    #[test]
    fn ipv6_literals_keep_brackets() {
        let a = t("https", "[::1]:8443", None).unwrap();
        assert_eq!((a.host.as_str(), a.port), ("[::1]", Some(8443)));
        assert!(t("https", "[::1]x", None).is_none());
        // Regression (found by the fuzz checks' review): "[.]" was taken for an IPv6 literal.
        for bad in ["[.]", "[:]", "[]", "[::g]", "[1.2.3.4]"] {
            assert!(t("https", bad, None).is_none(), "{bad}");
        }
        assert_eq!(t("https", "[0:0::1]", None).unwrap().host, "[::1]");
        assert_eq!(
            t("https", "[FE80::A]:8443", None).unwrap().host,
            "[fe80::a]"
        );
    }

    #[test]
    fn unmanageable_requests_are_none() {
        for (proto, host) in [
            ("smtp", "mail.example"),
            ("https", ""),
            ("https", "h.example:"),
            ("https", "h.example:0"),
            ("https", "h.example:65536"),
            ("https", "h.example:+1"),
            ("https", "user@h.example"),
            ("https", "h example"),
            ("https", "*.example"),
            ("https", "h..example"),
            ("https", "ex\u{e4}mple.com"),
        ] {
            assert!(t(proto, host, None).is_none(), "{proto}://{host}");
        }
    }

    #[test]
    fn path_loses_query_and_slashes_and_dot_segments_are_unclean() {
        let a = t("https", "h", Some("/group/mod/?go-get=1")).unwrap();
        assert_eq!(a.path.as_deref(), Some("group/mod"));
        assert!(a.path_is_clean);
        assert!(
            !t("https", "h", Some("group/../other"))
                .unwrap()
                .path_is_clean
        );
        assert!(!t("https", "h", Some("group//x")).unwrap().path_is_clean);
        assert_eq!(t("https", "h", Some("?go-get=1")).unwrap().path, None);
    }
}
