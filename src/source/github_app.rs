//! The `github-app` source: installation access tokens minted on the machine from a GitHub
//! App's private key, for github.com and GitHub Enterprise Server.
//!
//! As GitHub documents "Authenticating as a GitHub App installation": gocred signs an RS256 JWT
//! with the app's key ([`super::jwt`]: `iat` 60 s back, `exp` 9 minutes later, `iss` the App
//! ID), finds the installation when the rule does not name it (`GET
//! /repos/{owner}/{repo}/installation` from the request's path, else `GET
//! /orgs/{org}/installation` from the rule's path prefix), and asks `POST
//! /app/installations/{id}/access_tokens`, narrowed to the rule's `repositories` and
//! `permissions` when given. The token (one hour) is served as `x-access-token` and cached
//! ([`super::mint`]) until five minutes before its `expires_at`, minted once across parallel
//! gits.
//!
//! The private key is never in the policy: `private_key_file` names a PEM file that must be a
//! regular file (no symlink), owned by this user (or root) and readable by nobody else. The
//! JWT and the key never reach a message. The REST API is `https://api.github.com` for
//! github.com and `https://HOST[:PORT]/api/v3` for anything else, unless `api_url` says.

use super::jwt::AppKey;
use super::mint::{Slot, Stores};
use super::oauth::{origin, token_scope};
use super::{Credential, Query, Source, SourceError};
use crate::net::{Net, Options, Reply};
use crate::policy::{GitHubAppConfig, KeyRef, Rule};
use crate::secret::{Secret, SecretBytes};

/// Mint again when the cached token has less than this left (GitHub's tokens live an hour).
pub const MARGIN: u64 = 300;

/// The user name git sends with an installation token.
pub const USERNAME: &str = "x-access-token";

/// The largest private key file read (a 4096-bit PEM key is about 3.3 KB).
const MAX_KEY_BYTES: u64 = 64 * 1024;

pub struct GitHubAppSource<'e> {
    pub stores: Stores<'e>,
}

/// Which installation a request is for.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Installation {
    Id(u64),
    /// `GET /repos/{owner}/{repo}/installation`.
    Repo {
        owner: String,
        repo: String,
    },
    /// `GET /orgs/{org}/installation`.
    Org(String),
}

/// The REST API root for the host of `origin` (`https://host[:port]`).
pub fn api_root(config: &GitHubAppConfig, origin: &str) -> String {
    if let Some(url) = &config.api_url {
        return url.clone();
    }
    match origin.strip_prefix("https://") {
        Some("github.com") => "https://api.github.com".to_owned(),
        _ => format!("{origin}/api/v3"),
    }
}

/// A path segment GitHub could have for an owner or a repository (no `/`, `..`, `%`, `?`).
fn segment(s: &str) -> Option<&str> {
    let ok = !s.is_empty()
        && s != "."
        && s != ".."
        && s.chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'));
    ok.then_some(s)
}

/// The installation to ask for: the rule's, else the repository of the request's `path`
/// (`owner/repo[.git][/...]`), else the rule's path prefix's first segment (an organisation).
fn installation(config: &GitHubAppConfig, rule: &Rule, path: Option<&str>) -> Option<Installation> {
    if let Some(id) = config.installation_id {
        return Some(Installation::Id(id));
    }
    if let Some(path) = path {
        let mut parts = path.trim_start_matches('/').split('/');
        if let (Some(owner), Some(repo)) = (parts.next(), parts.next()) {
            let repo = repo.strip_suffix(".git").unwrap_or(repo);
            if let (Some(owner), Some(repo)) = (segment(owner), segment(repo)) {
                return Some(Installation::Repo {
                    owner: owner.to_owned(),
                    repo: repo.to_owned(),
                });
            }
        }
    }
    let prefix = rule.pattern.path.as_deref()?;
    segment(prefix.split('/').next()?).map(|org| Installation::Org(org.to_owned()))
}

/// The request's full path: the scope key's path (a path-scoped rule) or the one git sent.
fn request_path<'q>(query: &'q Query<'_>) -> Option<&'q str> {
    let s = query.scope.as_str();
    let after = s.find("://").map_or(0, |i| i + 3);
    match s[after..].find('/') {
        Some(j) => Some(&s[after + j + 1..]),
        None => query.path,
    }
}

/// Why GitHub said no, in one line that names what to fix. Never the body's secrets: only
/// GitHub's `message`, sanitized and redacted (a server may echo what it was sent).
fn refusal(reply: &Reply, what: &str, app_id: u64) -> SourceError {
    let message = serde_json::from_slice::<serde_json::Value>(&reply.body.0)
        .ok()
        .and_then(|v| v.get("message")?.as_str().map(str::to_owned))
        .map(|m| format!(" (\"{}\")", crate::redact::shown(&m)))
        .unwrap_or_default();
    let retry = reply
        .retry_after
        .map(|s| format!("; retry after {s} s"))
        .unwrap_or_default();
    let text = match reply.status {
        401 => format!(
            "GitHub refused the app's JWT for {what}{message}: check `app_id = {app_id}` and that \
             `private_key_file` holds the app's current private key (and this machine's clock)"
        ),
        429 => format!("GitHub rate-limits the app{message}{retry}"),
        403 if reply.retry_after.is_some() || message.contains("rate limit") => {
            format!("GitHub rate-limits the app{message}{retry}")
        }
        403 => format!("GitHub forbids {what}{message}: check the app's permissions"),
        404 => format!(
            "{what} not found{message}: is app {app_id} installed there (or `installation_id` \
             right)?"
        ),
        422 => format!(
            "GitHub refused {what}{message}: the rule's `repositories` or `permissions` ask for \
             more than the installation grants"
        ),
        s => format!("{what}: GitHub answered HTTP {s}{message}{retry}"),
    };
    SourceError::Unavailable(format!("github-app: {text}"))
}

/// Where the key comes from, for messages: the file, or the program's name (never its
/// arguments, which may name a vault path the user prefers unseen in logs).
pub fn key_origin(key: &KeyRef) -> String {
    match key {
        KeyRef::File(path) => path.display().to_string(),
        KeyRef::Command(argv) => format!("`{}`", argv[0]),
    }
}

/// The PEM in `path`: a regular file (no symlink), owned by this user or root, that nobody
/// else may read.
fn key_file(path: &std::path::Path) -> Result<SecretBytes, SourceError> {
    let shown = path.display();
    let fail =
        |why: String| SourceError::Unavailable(format!("github-app: private key {shown}: {why}"));
    let (pem, meta) = crate::fs::read_regular(path, MAX_KEY_BYTES)
        .map_err(|e| fail(e.to_string()))?
        .ok_or_else(|| fail("no such file".into()))?;
    if let Some(mode) = crate::fs::loose_mode(&meta) {
        return Err(SourceError::Fatal(format!(
            "github-app: refusing the private key {shown}: mode {mode:03o} lets others read it; \
             fix: `chmod 600 {shown}`"
        )));
    }
    if let Some(uid) = crate::fs::foreign_owner(&meta) {
        return Err(SourceError::Fatal(format!(
            "github-app: refusing the private key {shown}: it belongs to uid {uid}, not to you; \
             fix: `chown $(id -u) {shown}`"
        )));
    }
    Ok(pem)
}

/// What `argv` prints (a secrets manager printing the PEM), run as the `command` source runs
/// its programs ([`super::command::run`]: no shell, stdin empty, stderr the caller's, stdout
/// at most 64 KiB into wiped memory and never echoed, killed with its process group after
/// 10 s); a refusal is one line naming the program.
fn key_command(argv: &[String]) -> Result<SecretBytes, SourceError> {
    let timeout = std::time::Duration::from_secs(super::command::DEFAULT_TIMEOUT_SECS);
    super::command::run(argv, &[], &[], timeout)
        .map(|mut out| SecretBytes(std::mem::take(&mut *out)))
        .map_err(|refusal| {
            SourceError::Unavailable(format!(
                "github-app: private_key_command `{}`: {refusal}",
                argv[0]
            ))
        })
}

impl GitHubAppSource<'_> {
    fn key(&self, config: &GitHubAppConfig) -> Result<AppKey, SourceError> {
        let pem = match &config.private_key {
            KeyRef::File(path) => key_file(path)?,
            KeyRef::Command(argv) => key_command(argv)?,
        };
        AppKey::from_pem(&pem).map_err(|e| {
            SourceError::Unavailable(format!(
                "github-app: the private key from {}: {e}",
                key_origin(&config.private_key)
            ))
        })
    }

    fn mint(
        &self,
        config: &GitHubAppConfig,
        api: &str,
        which: &Installation,
        user: &str,
    ) -> Result<Credential, SourceError> {
        let key = self.key(config)?;
        let jwt = key.jwt(config.app_id, super::now());
        let bearer = Secret::new(format!("Bearer {}", jwt.expose()));
        let headers = [
            ("Authorization", bearer.expose()),
            ("Accept", "application/vnd.github+json"),
            ("X-GitHub-Api-Version", "2022-11-28"),
        ];
        let net = Net::new(Options::from_env(self.stores.env, false), self.stores.env);
        let net_error =
            |e: crate::net::NetError| SourceError::Unavailable(format!("github-app: {e}"));
        let lookup = match which {
            Installation::Id(id) => Err(*id),
            Installation::Repo { owner, repo } => Ok((
                format!("{api}/repos/{owner}/{repo}/installation"),
                format!(
                    "the installation of app {} on {owner}/{repo}",
                    config.app_id
                ),
            )),
            Installation::Org(org) => Ok((
                format!("{api}/orgs/{org}/installation"),
                format!("the installation of app {} on {org}", config.app_id),
            )),
        };
        let id = match lookup {
            Err(id) => id,
            Ok((url, what)) => {
                let reply = net.get(&url, &headers).map_err(net_error)?;
                if reply.status != 200 {
                    return Err(refusal(&reply, &what, config.app_id));
                }
                serde_json::from_slice::<serde_json::Value>(&reply.body.0)
                    .ok()
                    .and_then(|v| v.get("id")?.as_u64())
                    .ok_or_else(|| {
                        SourceError::Unavailable(format!(
                            "github-app: {url} answered without an installation id"
                        ))
                    })?
            }
        };
        let mut body = serde_json::Map::new();
        if let Some(repos) = &config.repositories {
            body.insert("repositories".into(), serde_json::json!(repos));
        }
        if let Some(perms) = &config.permissions {
            let map: serde_json::Map<String, serde_json::Value> = perms
                .iter()
                .map(|(k, v)| (k.clone(), serde_json::Value::String(v.clone())))
                .collect();
            body.insert("permissions".into(), serde_json::Value::Object(map));
        }
        let url = format!("{api}/app/installations/{id}/access_tokens");
        let reply = net
            .post_json(&url, &headers, &serde_json::Value::Object(body))
            .map_err(net_error)?;
        let what = format!("a token for installation {id}");
        if reply.status != 201 && reply.status != 200 {
            return Err(refusal(&reply, &what, config.app_id));
        }
        let answer = crate::secret::SecretJson::parse(&reply.body.0).map_err(|_| {
            SourceError::Unavailable(format!("github-app: {url} did not answer JSON"))
        })?;
        let token = answer
            .get("token")
            .and_then(|t| t.as_str())
            .filter(|t| !t.is_empty() && !t.chars().any(|c| c.is_control() || c.is_whitespace()));
        let (Some(token), Some(expires_at)) = (
            token,
            answer
                .get("expires_at")
                .and_then(|t| t.as_str())
                .and_then(crate::time::parse_utc),
        ) else {
            return Err(SourceError::Unavailable(format!(
                "github-app: {url} answered without a usable `token` and `expires_at`"
            )));
        };
        Ok(Credential {
            username: user.to_owned(),
            password: crate::secret::Secret::from(token),
            password_expiry_utc: Some(expires_at),
            oauth_refresh_token: None,
        })
    }
}

impl Source for GitHubAppSource<'_> {
    fn name(&self) -> &'static str {
        "github-app"
    }

    fn get(&self, query: &Query<'_>) -> Result<Option<Credential>, SourceError> {
        let rule = query.rule;
        let Some(config) = &rule.github_app else {
            return Ok(None);
        };
        let user = rule.username.as_deref().unwrap_or(USERNAME);
        if query.username.is_some_and(|asked| asked != user) {
            return Ok(None);
        }
        let key = token_scope(rule, query.scope);
        let api = api_root(config, origin(&key));
        let Some(which) = installation(config, rule, request_path(query)) else {
            return Err(SourceError::Unavailable(format!(
                "github-app: cannot tell which installation of app {} serves {key}: set \
                 `installation_id` in [rule.github_app], or let git send the repository's path \
                 (`git config --global credential.{key}.useHttpPath true`)",
                config.app_id
            )));
        };
        let path = match &which {
            Installation::Id(_) => None,
            Installation::Repo { owner, .. } | Installation::Org(owner) => {
                Some(format!("installation/{}", owner.to_ascii_lowercase()))
            }
        };
        let slot = Slot { key, path, user };
        self.stores
            .cached_or_mint("github-app", rule, config.cache, &slot, MARGIN, || {
                self.mint(config, &api, &which, user)
                    .map(|cred| (cred, true))
            })
            .map(Some)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::policy::load_str;

    fn rule(url: &str, extra: &str) -> Rule {
        let toml = format!(
            "[[rule]]\nurl = \"{url}\"\nsources = [\"github-app\"]\n[rule.github_app]\n\
             app_id = 1\nprivate_key_file = \"/k.pem\"\n{extra}"
        );
        load_str(std::path::Path::new("/c.toml"), &toml)
            .unwrap()
            .rules
            .remove(0)
    }

    #[test]
    fn api_root_is_api_github_com_for_github_and_api_v3_for_enterprise() {
        let r = rule("https://github.com", "");
        let c = r.github_app.as_ref().unwrap();
        assert_eq!(api_root(c, "https://github.com"), "https://api.github.com");
        assert_eq!(
            api_root(c, "https://ghe.corp.example:8443"),
            "https://ghe.corp.example:8443/api/v3"
        );
        let r = rule(
            "https://ghe.corp.example",
            "api_url = \"https://api.corp.example/\"\n",
        );
        assert_eq!(
            api_root(r.github_app.as_ref().unwrap(), "https://ghe.corp.example"),
            "https://api.corp.example"
        );
    }

    #[test]
    fn installation_comes_from_the_rule_then_the_repository_then_the_org_prefix() {
        let r = rule("https://github.com", "installation_id = 99\n");
        let c = r.github_app.as_ref().unwrap();
        assert_eq!(
            installation(c, &r, Some("a/b.git")),
            Some(Installation::Id(99))
        );
        let r = rule("https://github.com", "");
        let c = r.github_app.as_ref().unwrap();
        assert_eq!(
            installation(c, &r, Some("acme/tools.git/info/refs")),
            Some(Installation::Repo {
                owner: "acme".into(),
                repo: "tools".into()
            })
        );
        assert_eq!(installation(c, &r, None), None);
        assert_eq!(installation(c, &r, Some("../x")), None);
        let r = rule("https://github.com/acme/", "");
        let c = r.github_app.as_ref().unwrap();
        assert_eq!(
            installation(c, &r, None),
            Some(Installation::Org("acme".into()))
        );
    }
}
