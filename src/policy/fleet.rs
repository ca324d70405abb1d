//! The settings of the sources that mint short-lived tokens on the machine (issue 12): a GitHub
//! App's installation tokens (`[rule.github_app]`) and a CI job's identity exchanged at a
//! security token service (`[rule.sts]`). Checked with line and column in `load/minted.rs`.

use super::SourceKind;
use std::path::PathBuf;

/// Where a minted token is kept until shortly before it expires, so that the next `get` (and
/// every parallel git) does not mint again.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MintCache {
    /// A store (the keychain by default, or the file store), keyed like any stored credential.
    Store(SourceKind),
    /// Mint on every request (still one at a time across processes).
    None,
}

impl MintCache {
    pub const NAMES: &'static [&'static str] = &["keychain", "file", "none"];

    pub fn parse(name: &str) -> Option<Self> {
        Some(match name {
            "keychain" => MintCache::Store(SourceKind::Keychain),
            "file" => MintCache::Store(SourceKind::File),
            "none" => MintCache::None,
            _ => return None,
        })
    }

    pub fn name(self) -> &'static str {
        match self {
            MintCache::Store(kind) => kind.name(),
            MintCache::None => "none",
        }
    }
}

/// Where a GitHub App's private key comes from: never the policy itself.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum KeyRef {
    /// A PEM file (PKCS#1 `RSA PRIVATE KEY` as GitHub hands it out, or PKCS#8), readable only
    /// by its owner.
    File(PathBuf),
    /// A program (argv, never a shell string) that prints the PEM: a secrets manager's or a
    /// keychain's own CLI (`op read ...`, `bao kv get -field=key ...`, `secret-tool lookup ...`).
    Command(Vec<String>),
}

/// `[rule.github_app]`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GitHubAppConfig {
    pub app_id: u64,
    /// `None`: found from the repository (`GET /repos/{owner}/{repo}/installation`, which needs
    /// the request's path) or from the rule's path prefix (`GET /orgs/{org}/installation`).
    pub installation_id: Option<u64>,
    pub private_key: KeyRef,
    /// The REST API root: `https://api.github.com` for github.com, `https://HOST/api/v3` for
    /// GitHub Enterprise Server, unless set.
    pub api_url: Option<String>,
    /// Narrow the token to these repositories (names, without the owner).
    pub repositories: Option<Vec<String>>,
    /// Narrow the token to these permissions: (`contents`, `read`), ...
    pub permissions: Option<Vec<(String, String)>>,
    pub cache: MintCache,
}

/// `[rule.sts]`: RFC 8693 token exchange of the CI job's OIDC ID token.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StsConfig {
    /// Where the ID token is exchanged (https).
    pub token_endpoint: String,
    /// The audience asked of GitHub Actions for the ID token.
    pub audience: Option<String>,
    /// The variable holding the ID token (GitLab CI's `id_tokens`, or any CI that hands one
    /// over in the environment). When set, GitHub Actions is not asked.
    pub id_token_env: Option<String>,
    /// RFC 8693 `subject_token_type`: the full URN.
    pub subject_token_type: String,
    /// RFC 8693 `audience`, `resource` and `scope` of the token asked for, when the STS wants
    /// them.
    pub exchange_audience: Option<String>,
    pub resource: Option<String>,
    pub scope: Option<String>,
    pub cache: MintCache,
}

/// `subject_token_type` for an OIDC ID token.
pub const ID_TOKEN_TYPE: &str = "urn:ietf:params:oauth:token-type:id_token";
/// `subject_token_type` for any JWT.
pub const JWT_TYPE: &str = "urn:ietf:params:oauth:token-type:jwt";
