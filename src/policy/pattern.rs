//! A rule's `url`: `scheme://host[:port][/path/prefix/]`, where host may be `*.suffix`.
//!
//! Matching is scheme + host + port (+ path prefix on a `/` boundary). `*.corp.example` matches one
//! or more labels under `corp.example`, never `corp.example` itself and never a lookalike such as
//! `corp.example.evil.com`. There is no other wildcard.

use super::target::{
    Target, default_port, host_problem, normalize_host, segment_is_clean, split_host_port,
};

#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum HostPattern {
    Exact(String),
    /// The suffix after `*.`, e.g. `corp.example`.
    Wildcard(String),
}

#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct UrlPattern {
    pub scheme: String,
    pub host: HostPattern,
    /// `None` for the scheme's default port.
    pub port: Option<u16>,
    /// Path prefix segments, without leading or trailing slashes.
    pub path: Option<String>,
}

/// How specific a match is; greater wins: an exact host beats any wildcard, a longer wildcard
/// suffix beats a shorter one, then a longer path prefix beats a shorter one.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct Specificity {
    exact_host: bool,
    wildcard_labels: usize,
    path_segments: usize,
}

impl UrlPattern {
    pub fn parse(url: &str) -> Result<UrlPattern, String> {
        let (scheme, rest) = url
            .split_once("://")
            .ok_or("expected scheme://host[:port][/path/], e.g. \"https://gitlab.corp.example\"")?;
        let scheme = scheme.to_ascii_lowercase();
        let default = default_port(&scheme)
            .ok_or_else(|| format!("scheme must be https or http, not '{scheme}'"))?;
        if rest.contains(['?', '#']) {
            return Err("a rule url cannot have a query or fragment".into());
        }
        let (authority, path) = match rest.find('/') {
            Some(i) => (&rest[..i], &rest[i..]),
            None => (rest, ""),
        };
        if authority.contains('@') {
            return Err("a rule url cannot carry a user name or password (use `username`)".into());
        }
        let (host, port) =
            split_host_port(authority).ok_or("the port must be a number from 1 to 65535")?;
        let host = match host.strip_prefix("*.") {
            Some(suffix) => {
                let suffix = normalize_host(suffix)
                    .ok_or_else(|| format!("'{host}' is not a valid host pattern"))?;
                if !suffix.contains('.') || suffix.starts_with('[') {
                    return Err(format!(
                        "'*.{suffix}' is too broad: a wildcard needs at least two labels after it"
                    ));
                }
                if super::psl::is_public_suffix(&suffix) {
                    return Err(format!(
                        "'*.{suffix}' would match every organisation under the public suffix \
                         '{suffix}' (Public Suffix List): name your own domain, e.g. \
                         \"*.corp.{suffix}\""
                    ));
                }
                HostPattern::Wildcard(suffix)
            }
            None if host.contains('*') => {
                return Err(
                    "the only wildcard allowed is a leading '*.' (e.g. \"*.corp.example\")".into(),
                );
            }
            None => HostPattern::Exact(normalize_host(host).ok_or_else(|| host_problem(host))?),
        };
        let trimmed = path.trim_matches('/');
        let path = if trimmed.is_empty() {
            None
        } else {
            // Exactly what a clean request path can be (see `target`), written decoded.
            if trimmed
                .split('/')
                .any(|s| !segment_is_clean(s) || s.contains('*'))
            {
                return Err(
                    "the path prefix must be plain segments, written decoded (no '//', '.', '..', \
                     '*', '%', ';', '\\' or control characters)"
                        .into(),
                );
            }
            Some(trimmed.to_owned())
        };
        Ok(UrlPattern {
            scheme,
            host,
            port: port.filter(|&p| p != default),
            path,
        })
    }

    pub fn is_wildcard(&self) -> bool {
        matches!(self.host, HostPattern::Wildcard(_))
    }

    pub fn matches(&self, t: &Target) -> Option<Specificity> {
        if self.scheme != t.scheme || self.port != t.port {
            return None;
        }
        let wildcard_labels = match &self.host {
            HostPattern::Exact(h) => {
                if *h != t.host {
                    return None;
                }
                0
            }
            HostPattern::Wildcard(suffix) => {
                let head = t.host.strip_suffix(suffix.as_str())?.strip_suffix('.')?;
                // An IP literal is under no wildcard (parse refuses a numeric last label).
                if head.is_empty()
                    || t.host.starts_with('[')
                    || t.host.parse::<std::net::Ipv4Addr>().is_ok()
                {
                    return None;
                }
                suffix.split('.').count()
            }
        };
        let path_segments = match &self.path {
            None => 0,
            Some(prefix) => {
                let path = t.path.as_deref().filter(|_| t.path_is_clean)?;
                let rest = path.strip_prefix(prefix.as_str())?;
                if !(rest.is_empty() || rest.starts_with('/')) {
                    return None;
                }
                prefix.split('/').count()
            }
        };
        Some(Specificity {
            exact_host: wildcard_labels == 0,
            wildcard_labels,
            path_segments,
        })
    }
}
