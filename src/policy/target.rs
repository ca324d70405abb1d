//! The one normalization of a target, used by every command (`get`, `store`, `erase`, `goauth`,
//! `netrc`, `exec`, `doctor`, `login`, `logout`, `status`): [`normalize`] turns git's request
//! attributes, or a URL / module path / host given on the command line or by go, into a
//! [`Target`]: lowercase scheme and host, no trailing dot on a DNS name, no default port, a
//! percent-decoded path without leading or trailing slashes.
//!
//! The rules it holds, whatever the door:
//! - **Paths are checked whole, after decoding.** A path matches a path-scoped rule only when it
//!   is clean ([`Target::path_is_clean`]): no empty, `.` or `..` segment (nor one a server could
//!   read as such: `..;`, `．．`, `.. `), and no `?`, `#`, `;`, `\`, `%` or control character
//!   anywhere. git's `path` attribute is already decoded by git and carries whatever followed
//!   the host in the remote URL, query and fragment included, so `path=group?/../other` is
//!   unclean. A URL from go or argv loses its query (the first `?`) before it is decoded, the
//!   way a server reads it, and the rest is decoded once: `%2e%2e`, `%2F`, `%3F`, `%23` and a
//!   second level of encoding (`%252e`) all leave an unclean path. An unclean path still has a
//!   host: host-wide rules match it, path rules never do.
//! - **IP literals are exact.** IPv4 only as four decimal octets (what std parses), IPv6 only in
//!   brackets (canonicalized). Neither takes a trailing dot: `127.0.0.1.` and `[::1].` are no
//!   host at all (a resolver would look `127.0.0.1.` up as a DNS name). A host whose last label
//!   is a number (`127.1`, `0x7f.0.0.1`, `2130706433`) must be such an address or is refused,
//!   since resolvers disagree on what it means.
//! - **Nothing before the host moves it.** A user name is never part of a target: git's
//!   `username` attribute is not read here, and a URL with user-info (`user@`, even encoded
//!   delimiters in it) is refused, so `@ / # : ?` in a user name can change no host, port or key.
//! - **Nothing is an option.** A URL or module path starting with `-` is refused, and no host
//!   label starts with `-`, so a target's parts can never be read as an option by git or go.

use crate::protocol::{Request, parse_url};

/// `None` from [`Target::new`] / `Err` from [`normalize`] means "not something a rule could
/// ever match": the request is not managed (non-HTTP protocols, hosts no DNS name or IP literal
/// has, bad ports). Built only by [`normalize`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Target {
    pub scheme: String,
    pub host: String,
    /// `None` for the scheme's default port.
    pub port: Option<u16>,
    /// The repository path (git's `path` with `credential.useHttpPath`, or a URL's path),
    /// percent-decoded, without leading or trailing slashes; `None` when empty.
    pub path: Option<String>,
    /// False when the path could reach somewhere else than it seems to (see the module doc):
    /// such a path never matches a path-scoped rule.
    pub path_is_clean: bool,
    /// Only [`normalize`] builds a target: no other module can write this field.
    normalized: Normalized,
}

#[derive(Debug, Clone, PartialEq, Eq)]
struct Normalized;

/// What a target is built from.
#[derive(Debug, Clone, Copy)]
pub enum Input<'a> {
    /// git's `protocol`, `host` (`host[:port]`) and `path` attributes, as git sends them: git
    /// has already percent-decoded them (and put the `url=` parts in them).
    Attributes {
        protocol: &'a str,
        host: &'a str,
        path: Option<&'a str>,
    },
    /// A URL (`scheme://host[:port][/path][?query]`) from the command line or from go, or,
    /// without a `scheme://`, a host or module path (`host[:port][/path]`), taken as https.
    Url(&'a str),
}

/// Why an [`Input`] is no target. The messages never repeat the input.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TargetError {
    /// A URL or module path that starts with `-`.
    OptionLike,
    /// A URL that cannot be read: a bad escape, a control character, no scheme.
    Unreadable(String),
    /// A URL with user-info (`user@`, `user:password@`).
    UserInfo,
    /// Not http or https.
    Scheme,
    /// No DNS name or IP literal, or a bad port.
    Host,
}

impl std::fmt::Display for TargetError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            TargetError::OptionLike => {
                "starts with '-': expected a URL or module path, not an option"
            }
            TargetError::Unreadable(reason) => return write!(f, "not a URL: {reason}"),
            TargetError::UserInfo => {
                "leave the user name out of the URL (the rule's `username` sets it)"
            }
            TargetError::Scheme => "not an https (or http) URL",
            TargetError::Host => {
                "not a host name or IP address (with an optional port from 1 to 65535)"
            }
        })
    }
}

impl std::error::Error for TargetError {}

pub(crate) fn default_port(scheme: &str) -> Option<u16> {
    match scheme {
        "https" => Some(443),
        "http" => Some(80),
        _ => None,
    }
}

/// Whether `host` (without a trailing dot) is one an URL parser reads as an IPv4 address:
/// its last label is a number, decimal or `0x` hex (the WHATWG URL standard's "ends in a
/// number").
fn ends_in_a_number(host: &str) -> bool {
    let last = host.rsplit('.').next().unwrap_or(host);
    if let Some(hex) = last.strip_prefix("0x").or_else(|| last.strip_prefix("0X")) {
        return hex.bytes().all(|b| b.is_ascii_hexdigit());
    }
    !last.is_empty() && last.bytes().all(|b| b.is_ascii_digit())
}

/// Lowercases a DNS name or IP literal and drops a DNS name's one trailing dot; `None` for
/// anything else (see the module doc for IP literals).
pub(crate) fn normalize_host(host: &str) -> Option<String> {
    if host.starts_with('[') {
        // A real IPv6 address, in its canonical form: [0:0::1] and [::1] are one host. No
        // trailing dot: `[::1].` is nothing.
        let inner = host.strip_prefix('[')?.strip_suffix(']')?;
        let addr: std::net::Ipv6Addr = inner.parse().ok()?;
        return Some(format!("[{addr}]"));
    }
    let (name, dotted) = match host.strip_suffix('.') {
        Some(name) => (name, true),
        None => (host, false),
    };
    if name.is_empty() || name.len() > 253 {
        return None;
    }
    if ends_in_a_number(name) {
        // `127.0.0.1.` is a DNS name a resolver looks up, not that address.
        if dotted {
            return None;
        }
        let addr: std::net::Ipv4Addr = name.parse().ok()?;
        return Some(addr.to_string());
    }
    let labels_ok = name.split('.').all(|label| {
        !label.is_empty()
            && label.len() <= 63
            && !label.starts_with('-')
            && label
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
    });
    labels_ok.then(|| name.to_ascii_lowercase())
}

/// Why [`normalize_host`] refuses `host`, for a rule's message.
pub(crate) fn host_problem(host: &str) -> String {
    let name = host.strip_suffix('.').unwrap_or(host);
    if host.ends_with('.') && (host.starts_with('[') || ends_in_a_number(name)) {
        format!(
            "'{host}' is not an IP address: with a trailing dot it is a DNS name; write '{name}'"
        )
    } else if !host.starts_with('[') && ends_in_a_number(name) {
        format!("'{host}' is not an IP address: write IPv4 as four decimal numbers (127.0.0.1)")
    } else {
        format!("'{host}' is not a valid host name")
    }
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

/// A character some server or file system reads as `.` (NFKC folds these to it).
fn is_dot_like(c: char) -> bool {
    matches!(
        c,
        '.' | '\u{2024}' | '\u{3002}' | '\u{FE52}' | '\u{FF0E}' | '\u{FF61}'
    )
}

/// Whether one decoded path segment is a plain name: not empty, not `.`/`..` (nor dots with
/// spaces around them), and nothing that ends a path (`?`, `#`), splits one (`\`, `;` path
/// parameters, as in `..;`), or may decode once more (`%`).
pub(crate) fn segment_is_clean(segment: &str) -> bool {
    !segment.is_empty()
        && !segment
            .chars()
            .any(|c| c.is_control() || matches!(c, '?' | '#' | ';' | '\\' | '%'))
        && !segment.trim().chars().all(is_dot_like)
}

/// Whether a decoded path (without leading or trailing slashes) is only clean segments.
pub(crate) fn path_is_clean(path: &str) -> bool {
    path.split('/').all(segment_is_clean)
}

/// Whether `s` is a URL scheme (RFC 3986: a letter, then letters, digits, `+`, `-`, `.`).
fn is_scheme(s: &str) -> bool {
    let mut bytes = s.bytes();
    bytes.next().is_some_and(|b| b.is_ascii_alphabetic())
        && bytes.all(|b| b.is_ascii_alphanumeric() || matches!(b, b'+' | b'-' | b'.'))
}

/// The one normalization: every command builds its [`Target`] here (see the module doc).
pub fn normalize(input: Input<'_>) -> Result<Target, TargetError> {
    let url = match input {
        Input::Attributes {
            protocol,
            host,
            path,
        } => return from_attributes(protocol, host, path),
        Input::Url(url) => url,
    };
    if url.starts_with('-') {
        return Err(TargetError::OptionLike);
    }
    let with_scheme;
    let url = match url.split_once("://") {
        Some((scheme, _)) if is_scheme(scheme) => url,
        _ => {
            with_scheme = format!("https://{url}");
            &with_scheme
        }
    };
    // The query goes first, before anything is decoded: `%3F` is part of the path, `?` is not.
    let base = url.split_once('?').map_or(url, |(base, _)| base);
    let rest = base.split_once("://").map_or("", |(_, rest)| rest);
    let authority = &rest[..rest.find(['/', '#']).unwrap_or(rest.len())];
    if authority.contains('@') {
        return Err(TargetError::UserInfo);
    }
    if authority.contains('%') {
        // go and browsers refuse escapes in a host; decoding one would name another host.
        return Err(TargetError::Host);
    }
    // An encoded slash stays encoded (and so the path unclean): a server may read `a%2Fb` as
    // one segment, or as two.
    let mut kept = base.to_owned();
    let path_start = base.len() - rest.len() + authority.len();
    for at in (path_start..base.len().saturating_sub(2)).rev() {
        if base.as_bytes()[at] == b'%'
            && base[at + 1..]
                .get(..2)
                .is_some_and(|h| h.eq_ignore_ascii_case("2f"))
        {
            kept.insert_str(at + 1, "25");
        }
    }
    let parts = parse_url(&kept).map_err(|e| match e {
        crate::protocol::ProtocolError::BadUrl { reason } => TargetError::Unreadable(reason),
        other => TargetError::Unreadable(other.to_string()),
    })?;
    from_attributes(&parts.protocol, &parts.host, parts.path.as_deref())
}

/// git's attributes (already decoded) to a target.
fn from_attributes(protocol: &str, host: &str, path: Option<&str>) -> Result<Target, TargetError> {
    let scheme = protocol.to_ascii_lowercase();
    let default = default_port(&scheme).ok_or(TargetError::Scheme)?;
    let (host, port) = split_host_port(host).ok_or(TargetError::Host)?;
    let host = normalize_host(host).ok_or(TargetError::Host)?;
    let port = port.filter(|&p| p != default);
    // What git's protocol cannot carry, no path holds (as a URL's cannot: `parse_url`).
    if let Some(what) = path.and_then(crate::protocol::forbidden_char) {
        return Err(TargetError::Unreadable(format!(
            "its path contains a {what}"
        )));
    }
    let path = path
        .map(|p| p.trim_matches('/'))
        .filter(|p| !p.is_empty())
        .map(str::to_owned);
    let path_is_clean = path.as_deref().is_none_or(path_is_clean);
    Ok(Target {
        scheme,
        host,
        port,
        path,
        path_is_clean,
        normalized: Normalized,
    })
}

impl Target {
    /// [`normalize`] of git's attributes; `None` when no rule could ever match them.
    pub fn new(protocol: &str, host: &str, path: Option<&str>) -> Option<Target> {
        normalize(Input::Attributes {
            protocol,
            host,
            path,
        })
        .ok()
    }

    /// [`normalize`] of a request's `protocol`, `host` and `path` (its `username` plays no
    /// part); `None` when it has none or no rule could ever match it.
    pub fn from_request(request: &Request) -> Option<Target> {
        let (protocol, host) = request.require_target().ok()?;
        Target::new(protocol, host, request.path.as_deref())
    }

    /// `scheme://host[:port]`, the origin this target belongs to.
    pub fn origin(&self) -> String {
        match self.port {
            Some(p) => format!("{}://{}:{}", self.scheme, self.host, p),
            None => format!("{}://{}", self.scheme, self.host),
        }
    }

    /// `host[:port]`, as go's `req.URL.Host` (and a netrc `machine`) has it.
    pub fn host_port(&self) -> String {
        match self.port {
            Some(p) => format!("{}:{p}", self.host),
            None => self.host.clone(),
        }
    }

    /// `scheme://host[:port][/path]` with the path percent-encoded again (all but unreserved
    /// characters and `/`), for a request gocred itself sends.
    pub fn url(&self) -> String {
        let mut url = self.origin();
        if let Some(path) = &self.path {
            url.push('/');
            for b in path.bytes() {
                if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~' | b'/') {
                    url.push(char::from(b));
                } else {
                    url.push_str(&format!("%{b:02X}"));
                }
            }
        }
        url
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn t(proto: &str, host: &str, path: Option<&str>) -> Option<Target> {
        Target::new(proto, host, path)
    }

    fn url(u: &str) -> Result<Target, TargetError> {
        normalize(Input::Url(u))
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
    fn ip_literals_take_no_trailing_dot_and_only_one_spelling() {
        assert_eq!(t("https", "127.0.0.1", None).unwrap().host, "127.0.0.1");
        assert_eq!(
            t("https", "10.1.2.3:8443", None).unwrap().origin(),
            "https://10.1.2.3:8443"
        );
        for bad in [
            "127.0.0.1.",
            "127.0.0.1.:443",
            "[::1].",
            "[::1].:443",
            "127.1",
            "0x7f.0.0.1",
            "0177.0.0.1",
            "2130706433",
            "1.2.3.256",
            "example.123",
            "example.0x1f",
        ] {
            assert!(t("https", bad, None).is_none(), "{bad}");
        }
        // A DNS name may still end in a label that is not a number.
        assert_eq!(
            t("https", "1.2.3.example.", None).unwrap().host,
            "1.2.3.example"
        );
        assert_eq!(t("https", "x.0x1g", None).unwrap().host, "x.0x1g");
        assert!(host_problem("127.0.0.1.").contains("write '127.0.0.1'"));
        assert!(host_problem("127.1").contains("four decimal numbers"));
    }

    #[test]
    fn unmanageable_requests_are_none() {
        for (proto, host) in [
            ("smtp", "mail.example"),
            ("https", ""),
            ("https", "."),
            ("https", "h.example:"),
            ("https", "h.example:0"),
            ("https", "h.example:65536"),
            ("https", "h.example:+1"),
            ("https", "user@h.example"),
            ("https", "h example"),
            ("https", "*.example"),
            ("https", "h..example"),
            ("https", "ex\u{e4}mple.com"),
            ("https", "-x"),
            ("https", "a.-b.example"),
            ("https", "h.example/x"),
            ("https", "h.example#x"),
            ("https", "h.example?x"),
            ("https", "h%2eexample"),
        ] {
            assert!(t(proto, host, None).is_none(), "{proto}://{host}");
        }
    }

    #[test]
    fn git_path_attribute_is_checked_whole() {
        let clean = |p: &str| t("https", "h", Some(p)).unwrap().path_is_clean;
        for p in [
            "group/mod",
            "/group/sub/repo.git/",
            "group/a.b",
            "group/..x",
            "group/x..",
            "group/caf\u{e9}",
            "group/a:b@c",
        ] {
            assert!(clean(p), "{p}");
        }
        for p in [
            "group/../other",
            "group/./x",
            "group//x",
            "group/..",
            "group?/../other/x.git",
            "group#/../other",
            "group/mod?go-get=1",
            "group/%2e%2e/other",
            "group/%2E%2E/other",
            "group%2F..%2Fother",
            "group/%252e%252e/other",
            "group/..;/other",
            "group;x/other",
            "group\\..\\other",
            "group/\u{ff0e}\u{ff0e}/other",
            "group/\u{2024}\u{2024}/other",
            "group/.. /other",
            "group/.../other",
            "group/x\ty",
            "group/%zz",
        ] {
            assert!(!clean(p), "{p}");
        }
        let a = t("https", "h", Some("/group/mod/")).unwrap();
        assert_eq!(a.path.as_deref(), Some("group/mod"));
        assert_eq!(t("https", "h", Some("///")).unwrap().path, None);
        // What git's protocol cannot carry is no path at all.
        assert!(t("https", "h", Some("group/x\0y")).is_none());
        assert!(t("https", "h", Some("group/x\ny")).is_none());
    }

    #[test]
    fn a_url_loses_its_query_then_is_decoded_then_checked() {
        let a = url("https://H.example/group/mod?go-get=1").unwrap();
        assert_eq!(
            (a.host.as_str(), a.path.as_deref(), a.path_is_clean),
            ("h.example", Some("group/mod"), true)
        );
        // The query is not part of the path a server reads...
        let a = url("https://h.example/group?/../other").unwrap();
        assert_eq!((a.path.as_deref(), a.path_is_clean), (Some("group"), true));
        assert_eq!(url("https://h.example?go-get=1").unwrap().path, None);
        // ...but an encoded one, an encoded slash or dot-segment, a fragment, is.
        for u in [
            "https://h.example/group%3F/../other",
            "https://h.example/group/%2e%2e/other",
            "https://h.example/group/%2E./other",
            "https://h.example/group%2F..%2Fother/mod",
            "https://h.example/group%2fx",
            "https://h.example/group/%252e%252e/other",
            "https://h.example/group#/../other",
            "https://h.example/group%23/../other",
            "https://h.example/group/../other",
            "https://h.example/group/%2e/x",
            "https://h.example/group/%00x",
        ] {
            match url(u) {
                Ok(a) => assert!(!a.path_is_clean, "{u}"),
                Err(e) => assert!(matches!(e, TargetError::Unreadable(_)), "{u}: {e}"),
            }
        }
        // Decoding is once, like git: an escape of a plain character is that character.
        let a = url("https://h.example/%67roup/mod").unwrap();
        assert_eq!(
            (a.path.as_deref(), a.path_is_clean),
            (Some("group/mod"), true)
        );
    }

    #[test]
    fn a_module_path_or_host_is_https() {
        let a = url("git.corp.example/group/mod").unwrap();
        assert_eq!(a.origin(), "https://git.corp.example");
        assert_eq!(a.path.as_deref(), Some("group/mod"));
        assert_eq!(url("h.example:8443").unwrap().port, Some(8443));
        assert_eq!(url("http://h.example").unwrap().scheme, "http");
        assert_eq!(url("ftp://h.example"), Err(TargetError::Scheme));
        // No scheme before `://`: a module path whose path holds `://`.
        assert!(!url("h.example/x://y").unwrap().path_is_clean);
    }

    #[test]
    fn nothing_before_the_host_moves_it() {
        for u in [
            "https://alice@h.example/",
            "https://alice:pw@h.example/",
            "https://a%40evil.example@h.example/",
            "https://evil.example%2f@h.example/",
            "https://evil.example:443@h.example/",
            "h.example@evil.example",
        ] {
            assert_eq!(url(u), Err(TargetError::UserInfo), "{u}");
        }
        // `/ ? #` end the host, as in git: what follows is path or query, never the host.
        for (u, host) in [
            ("https://h.example/x@evil.example/", "h.example"),
            ("https://h.example?x@evil.example/", "h.example"),
            ("https://h.example#@evil.example/", "h.example"),
        ] {
            assert_eq!(url(u).unwrap().host, host, "{u}");
        }
        for u in [
            "https://h.example%2f.evil.example/",
            "https://h%2eexample/",
            "https://h.example%23/",
            "https://[::1]%25eth0/",
        ] {
            assert_eq!(url(u), Err(TargetError::Host), "{u}");
        }
    }

    #[test]
    fn option_like_arguments_are_refused() {
        for u in ["-x", "--help", "-", "--upload-pack=touch /tmp/x"] {
            assert_eq!(url(u), Err(TargetError::OptionLike), "{u}");
        }
        // And a target's parts never start with one.
        assert!(url("https://-h.example/").is_err());
    }

    #[test]
    fn normalization_is_idempotent_and_url_round_trips() {
        for u in [
            "https://H.Example.:443/Group/Mod.git/?go-get=1",
            "https://[0::1]:8443/a%20b/c",
            "http://h.example/x/%25/y",
            "h.example/caf%C3%A9/%3Bx",
        ] {
            let a = url(u).unwrap();
            let again = Target::new(&a.scheme, &a.host_port(), a.path.as_deref()).unwrap();
            assert_eq!(again, a, "{u}");
            assert_eq!(url(&a.url()).unwrap(), a, "{u} -> {}", a.url());
        }
    }
}
