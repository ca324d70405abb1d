//! `gocred agent`: credentials forwarded to SSH hosts and dev containers, decided on the
//! workstation, never stored on the remote (issue 13).
//!
//! The agent ([`server`]) listens on a Unix socket in a private directory. A gocred on the remote
//! side ([`client`]), pointed at the forwarded socket by `GOCRED_AGENT` or `[agent] socket`,
//! forwards `get`/`store`/`erase`, `netrc`, `exec` and `goauth` over the versioned [`wire`]
//! protocol. The rule every answer obeys: a remote gets a credential only where the workstation's
//! policy maps one **and** the agent's allow-list ([`Allow`]) names the URL; nothing the agent
//! answers can reach beyond both.

pub mod client;
pub mod server;
pub mod wire;

use crate::policy::{Input, Target, normalize};

/// One `--allow` entry: a host (`gitlab.corp.example`, `host:port`, taken as https) or a URL
/// prefix (`https://github.corp.example/team/`). It covers a URL on the same scheme, host and
/// port, under its path (whole segments) when it has one.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Allow {
    pub scheme: String,
    pub host: String,
    pub port: Option<u16>,
    /// Without leading or trailing slashes; `None`: the whole host.
    pub path: Option<String>,
}

impl Allow {
    /// Reads one `--allow` value through the one normalization of a target.
    pub fn parse(value: &str) -> Result<Allow, String> {
        if value.contains('*') {
            return Err(format!(
                "--allow {}: wildcards are not allowed; name each host",
                crate::redact::shown(value)
            ));
        }
        let target = normalize(Input::Url(value))
            .map_err(|e| format!("--allow {}: {e}", crate::redact::shown(value)))?;
        if target.path.is_some() && !target.path_is_clean {
            return Err(format!(
                "--allow {}: the path has `..`, `%` or other characters a server could read \
                 differently; give a plain path",
                crate::redact::shown(value)
            ));
        }
        Ok(Allow {
            scheme: target.scheme.clone(),
            host: target.host.clone(),
            port: target.port,
            path: target.path.clone(),
        })
    }

    /// `scheme://host[:port]`.
    pub fn origin(&self) -> String {
        match self.port {
            Some(p) => format!("{}://{}:{p}", self.scheme, self.host),
            None => format!("{}://{}", self.scheme, self.host),
        }
    }

    /// `host[:port]`: a netrc `machine`.
    pub fn machine(&self) -> String {
        match self.port {
            Some(p) => format!("{}:{p}", self.host),
            None => self.host.clone(),
        }
    }

    /// How the entry is shown: `https://host[:port][/path/]`.
    pub fn shown(&self) -> String {
        match &self.path {
            Some(p) => format!("{}/{p}/", self.origin()),
            None => format!("{}/", self.origin()),
        }
    }

    fn same_origin(&self, scheme: &str, host: &str, port: Option<u16>) -> bool {
        self.scheme == scheme && self.host == host && self.port == port
    }

    /// Whether this entry covers `target` (a path-scoped entry: only a clean path under it).
    pub fn covers(&self, target: &Target) -> bool {
        self.same_origin(&target.scheme, &target.host, target.port)
            && match &self.path {
                None => true,
                Some(prefix) => {
                    target.path_is_clean && target.path.as_deref().is_some_and(|p| under(p, prefix))
                }
            }
    }

    /// Whether this entry covers every URL under `url_prefix` (`https://host[:port]/[path/]`, as
    /// GOAUTH answers name them): a credential go applies to all of it must be allowed for all.
    pub fn covers_prefix(&self, url_prefix: &str) -> bool {
        let Ok(target) = normalize(Input::Url(url_prefix)) else {
            return false;
        };
        if !self.same_origin(&target.scheme, &target.host, target.port) {
            return false;
        }
        match (&self.path, &target.path) {
            (None, _) => true,
            (Some(_), None) => false,
            (Some(prefix), Some(p)) => target.path_is_clean && under(p, prefix),
        }
    }
}

/// `path` is `prefix` or below it, on a `/` boundary.
fn under(path: &str, prefix: &str) -> bool {
    path == prefix
        || path
            .strip_prefix(prefix)
            .is_some_and(|rest| rest.starts_with('/'))
}

/// Whether any entry of `allow` covers `target`.
pub fn allowed(allow: &[Allow], target: &Target) -> bool {
    allow.iter().any(|a| a.covers(target))
}

/// A label from the remote, as the agent shows it: at most 64 characters of
/// `[A-Za-z0-9._:@/-]`, anything else as `?`; empty: `unlabelled`.
pub fn clean_label(label: &str) -> String {
    let cleaned: String = label
        .chars()
        .take(64)
        .map(|c| {
            if c.is_ascii_alphanumeric() || "._:@/-".contains(c) {
                c
            } else {
                '?'
            }
        })
        .collect();
    if cleaned.is_empty() {
        "unlabelled".to_owned()
    } else {
        cleaned
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn t(url: &str) -> Target {
        normalize(Input::Url(url)).unwrap()
    }

    #[test]
    fn an_allow_entry_covers_its_origin_and_path_only() {
        let host = Allow::parse("GitLab.corp.example").unwrap();
        assert_eq!(host.shown(), "https://gitlab.corp.example/");
        assert!(host.covers(&t("https://gitlab.corp.example/a/b")));
        assert!(!host.covers(&t("https://gitlab.corp.example:8443/a")));
        assert!(!host.covers(&t("http://gitlab.corp.example/a")));
        assert!(!host.covers(&t("https://evil.gitlab.corp.example/a")));

        let team = Allow::parse("https://github.corp.example/team/").unwrap();
        assert!(team.covers(&t("https://github.corp.example/team/repo.git")));
        assert!(team.covers(&t("https://github.corp.example/team")));
        assert!(!team.covers(&t("https://github.corp.example/teammate/repo")));
        assert!(!team.covers(&t("https://github.corp.example/team/%2e%2e/other")));
        assert!(!team.covers(&t("https://github.corp.example/")));
        assert!(team.covers_prefix("https://github.corp.example/team/"));
        assert!(team.covers_prefix("https://github.corp.example/team/sub/"));
        assert!(!team.covers_prefix("https://github.corp.example/"));
        assert!(host.covers_prefix("https://gitlab.corp.example/"));
        assert!(!host.covers_prefix("https://gitlab.corp.example.evil/"));

        assert!(Allow::parse("*.corp.example").is_err());
        assert!(Allow::parse("https://u:p@h.example/").is_err());
        assert!(Allow::parse("-oProxyCommand=x").is_err());
    }

    #[test]
    fn labels_are_cleaned() {
        assert_eq!(clean_label("devbox-1.corp"), "devbox-1.corp");
        assert_eq!(clean_label("a\u{1b}[31m b"), "a??31m?b");
        assert_eq!(clean_label(""), "unlabelled");
        assert_eq!(clean_label(&"x".repeat(100)).len(), 64);
    }
}
