//! Per-host policy: which source serves which URL, and the one place that decides whether a
//! request is managed at all.
//!
//! Default is deny. Among matching rules the most specific wins (see [`pattern::Specificity`]).
//! The [`Decision::Managed`] scope key is the *only* key stores use, so a credential stored for one
//! (scheme, host, port[, path]) can never be read back for another.

pub mod edit;
pub mod fleet;
mod load;
pub mod machine;
mod origin;
pub mod pattern;
pub mod psl;
mod scan;
pub mod target;
mod trust;

pub use fleet::{GitHubAppConfig, KeyRef, MintCache, StsConfig};
pub use load::{
    CommandKeys, ConfigError, Diagnostic, MAX_CONFIG_BYTES, load, load_extended, load_for_host,
    load_str, load_str_full, load_str_keeping,
};
pub use origin::{https_target, machine_name, rule_machine, rule_origin, rule_path_prefix};
pub use pattern::{HostPattern, UrlPattern};
pub use target::{Input, Target, TargetError, normalize};

use std::path::PathBuf;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SourceKind {
    Keychain,
    File,
    Env,
    /// OAuth 2.0 tokens from `gocred login`, refreshed on `get`; kept in the rule's store.
    OAuth,
    /// A program the rule names prints the credential (a secrets manager's CLI).
    Command,
    /// The CI job's own token, for exactly the CI server's origin ([`crate::ci`]).
    Ci,
    /// GitHub App installation tokens minted on the machine (`[rule.github_app]`).
    GitHubApp,
    /// The CI job's OIDC ID token exchanged for a short-lived token (`[rule.sts]`).
    Sts,
}

impl SourceKind {
    pub fn name(self) -> &'static str {
        match self {
            SourceKind::Keychain => "keychain",
            SourceKind::File => "file",
            SourceKind::Env => "env",
            SourceKind::OAuth => "oauth",
            SourceKind::Command => "command",
            SourceKind::Ci => "ci",
            SourceKind::GitHubApp => "github-app",
            SourceKind::Sts => "sts",
        }
    }

    pub fn is_store(self) -> bool {
        matches!(self, SourceKind::Keychain | SourceKind::File)
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum KeychainBackend {
    /// Secret Service if a session bus and an unlocked collection answer quickly, else keyutils.
    #[default]
    Auto,
    SecretService,
    Keyutils,
    MacOs,
    Windows,
}

impl KeychainBackend {
    pub const NAMES: &'static [&'static str] =
        &["auto", "secret-service", "keyutils", "macos", "windows"];

    pub fn parse(name: &str) -> Option<Self> {
        Some(match name {
            "auto" => KeychainBackend::Auto,
            "secret-service" => KeychainBackend::SecretService,
            "keyutils" => KeychainBackend::Keyutils,
            "macos" => KeychainBackend::MacOs,
            "windows" => KeychainBackend::Windows,
            _ => return None,
        })
    }

    pub fn name(self) -> &'static str {
        Self::NAMES[self as usize]
    }
}

#[derive(Debug, Clone)]
pub struct Rule {
    /// The `url` exactly as written, for messages.
    pub url: String,
    pub pattern: UrlPattern,
    pub sources: Vec<SourceKind>,
    pub username: Option<String>,
    pub token_env: Option<String>,
    pub store: Option<SourceKind>,
    pub allow_http: bool,
    /// `[rule.oauth]`: present exactly when `sources` lists `oauth`.
    pub oauth: Option<OAuthConfig>,
    /// `goauth = "preemptive"`: `gocred goauth` without a URL (Go's first call, before any
    /// request) answers for this rule's host. Default `"on-challenge"`: only after a 4xx.
    pub goauth_preemptive: bool,
    /// `command = [...]` with `command_timeout` and `cache`: present exactly when `sources`
    /// lists `command`.
    pub command: Option<crate::source::command::CommandConfig>,
    /// `[rule.github_app]`: present exactly when `sources` lists `github-app`.
    pub github_app: Option<GitHubAppConfig>,
    /// `[rule.sts]`: present exactly when `sources` lists `sts`.
    pub sts: Option<StsConfig>,
    /// 1-based line of the `[[rule]]` header, for messages.
    pub line: usize,
    /// What the machine policy said about this rule (nothing, for a user's rule it leaves alone).
    pub machine: machine::Mark,
}

/// Who runs the OAuth server: picks the endpoint paths, the user name git sends and the
/// "who am I" call.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OAuthProvider {
    GitLab,
    GitHub,
    Oidc,
}

impl OAuthProvider {
    pub const NAMES: &'static [&'static str] = &["gitlab", "github", "oidc"];

    pub fn parse(name: &str) -> Option<Self> {
        Some(match name {
            "gitlab" => OAuthProvider::GitLab,
            "github" => OAuthProvider::GitHub,
            "oidc" => OAuthProvider::Oidc,
            _ => return None,
        })
    }

    pub fn name(self) -> &'static str {
        Self::NAMES[self as usize]
    }
}

/// `[rule.oauth]`. Endpoints left out come from the provider's known paths on the rule's host
/// (GitLab, GitHub) or from OIDC discovery under `issuer`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OAuthConfig {
    pub provider: OAuthProvider,
    pub client_id: String,
    /// `None`: the provider's default scopes.
    pub scopes: Option<Vec<String>>,
    pub issuer: Option<String>,
    pub device_authorization_endpoint: Option<String>,
    pub token_endpoint: Option<String>,
    pub revocation_endpoint: Option<String>,
    /// Where the tokens live: the rule's `store`, else the keychain.
    pub store: SourceKind,
}

#[derive(Debug, Default, Clone)]
pub struct Policy {
    /// The file this policy was read from (it may not exist: then there are no rules).
    pub path: PathBuf,
    pub exists: bool,
    pub rules: Vec<Rule>,
    pub keychain_backend: KeychainBackend,
    /// `[file] path`: where the file store lives, if not the default.
    pub file_path: Option<PathBuf>,
    /// The machine policy this policy was narrowed by, and what it refused.
    pub machine: Option<machine::Applied>,
    /// `[ci] job_token = true`: the line of `[ci]`, when set ([`crate::ci`]).
    pub ci_job_token: Option<usize>,
    /// `[agent] socket`: forward requests to the gocred agent there (src/agent).
    pub agent_socket: Option<PathBuf>,
    /// `[audit]`: where decisions are logged (src/audit.rs); `None`: not logged.
    pub audit: Option<crate::audit::Config>,
}

/// The key every store files a credential under: `scheme://host[:port]`, plus `/path` when the
/// rule is path-scoped. Derived only from the normalized request, never from a stored value.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct ScopeKey(pub String);

impl ScopeKey {
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl std::fmt::Display for ScopeKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

#[derive(Debug)]
pub enum Decision<'p> {
    NotManaged,
    Managed {
        rule: &'p Rule,
        scope: ScopeKey,
        target: Target,
    },
}

impl Policy {
    /// The file `rule` was read from: the machine policy for its own rules, else this policy's.
    pub fn file_of(&self, rule: &Rule) -> &std::path::Path {
        match &self.machine {
            Some(m) if rule.machine.is_machine_rule() => &m.path,
            _ => &self.path,
        }
    }

    /// The most specific rule for `target`, or `NotManaged`.
    pub fn decide(&self, target: Target) -> Decision<'_> {
        let mut best: Option<(pattern::Specificity, &Rule)> = None;
        // A URL the machine policy denies is served by none of the user's rules.
        let denied = self.machine.as_ref().is_some_and(|m| m.denies(&target));
        for rule in &self.rules {
            if denied && !rule.machine.is_machine_rule() {
                continue;
            }
            // Defence in depth: the loader already refuses http rules without allow_http.
            if rule.pattern.scheme == "http" && !rule.allow_http {
                continue;
            }
            if let Some(spec) = rule.pattern.matches(&target) {
                // Ties keep the first rule: `config check` reports duplicate urls.
                if best.is_none_or(|(b, _)| spec > b) {
                    best = Some((spec, rule));
                }
            }
        }
        match best {
            None => Decision::NotManaged,
            Some((_, rule)) => {
                let mut key = target.origin();
                if rule.pattern.path.is_some() {
                    // matches() guaranteed a clean path for a path-scoped rule.
                    key.push('/');
                    key.push_str(target.path.as_deref().unwrap_or_default());
                }
                Decision::Managed {
                    rule,
                    scope: ScopeKey(key),
                    target,
                }
            }
        }
    }
}

#[cfg(test)]
mod tests;
