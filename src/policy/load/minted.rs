//! `[rule.github_app]` and `[rule.sts]`, checked like the rest of a rule: every problem with
//! its line and column, each table present exactly when its source is listed.

use super::{Checker, Value, check_endpoint, expand_home};
use crate::policy::fleet::{ID_TOKEN_TYPE, JWT_TYPE};
use crate::policy::{GitHubAppConfig, KeyRef, MintCache, SourceKind, StsConfig};
use std::ops::Range;
use toml::de::DeTable;

const GITHUB_APP_KEYS: &[&str] = &[
    "app_id",
    "installation_id",
    "private_key_file",
    "private_key_command",
    "api_url",
    "repositories",
    "permissions",
    "cache",
];

const STS_KEYS: &[&str] = &[
    "token_endpoint",
    "audience",
    "id_token_env",
    "subject_token_type",
    "exchange_audience",
    "resource",
    "scope",
    "cache",
];

/// A GitHub App permission level.
const LEVELS: &[&str] = &["read", "write", "admin"];

impl Checker<'_> {
    /// The sub-table `name` of a rule, checked against `sources` (`kind` listed exactly when
    /// the table is there). `None` when absent or not a table.
    fn minted_table<'v, 'i>(
        &mut self,
        value: Option<&'v Value<'i>>,
        kind: SourceKind,
        name: &str,
        sources: &[SourceKind],
        sources_span: &Range<usize>,
        needs: &str,
    ) -> Option<(&'v Value<'i>, &'v DeTable<'i>)> {
        let listed = sources.contains(&kind);
        let Some(v) = value else {
            if listed {
                self.error(
                    sources_span.clone(),
                    format!(
                        "source `{}` needs a [rule.{name}] table with {needs}",
                        kind.name()
                    ),
                );
            }
            return None;
        };
        let t = self.table(v, name)?;
        if !listed {
            self.error(
                v.span(),
                format!(
                    "[rule.{name}] is set but `{}` is not in `sources`",
                    kind.name()
                ),
            );
        }
        Some((v, t))
    }

    /// A positive integer (a string of digits is taken too).
    fn id(&mut self, v: &Value<'_>, what: &str) -> Option<u64> {
        let parsed = match v.get_ref() {
            toml::de::DeValue::Integer(i) => {
                u64::from_str_radix(&i.as_str().replace('_', ""), i.radix()).ok()
            }
            toml::de::DeValue::String(s) if s.bytes().all(|b| b.is_ascii_digit()) => s.parse().ok(),
            _ => None,
        };
        match parsed {
            Some(n) if n > 0 => Some(n),
            _ => {
                self.error(v.span(), format!("`{what}` must be a positive integer"));
                None
            }
        }
    }

    fn strings(&mut self, v: &Value<'_>, what: &str) -> Option<Vec<(String, Range<usize>)>> {
        let Some(list) = v.get_ref().as_array() else {
            self.error(v.span(), format!("`{what}` must be an array of strings"));
            return None;
        };
        let mut out = Vec::new();
        for item in list.iter() {
            let s = self.string(item, what)?;
            out.push((s.to_owned(), item.span()));
        }
        Some(out)
    }

    fn cache(&mut self, t: &DeTable<'_>) -> MintCache {
        let Some(v) = t.get("cache") else {
            return MintCache::Store(SourceKind::Keychain);
        };
        let Some(name) = self.string(v, "cache") else {
            return MintCache::None;
        };
        MintCache::parse(name).unwrap_or_else(|| {
            self.error(
                v.span(),
                format!(
                    "unknown cache `{name}` (expected one of: {})",
                    MintCache::NAMES.join(", ")
                ),
            );
            MintCache::None
        })
    }

    /// `[rule.github_app]` of a rule whose url is a `wildcard` or not.
    pub(super) fn github_app(
        &mut self,
        value: Option<&Value<'_>>,
        sources: &[SourceKind],
        sources_span: &Range<usize>,
        wildcard: bool,
    ) -> Option<GitHubAppConfig> {
        let (v, t) = self.minted_table(
            value,
            SourceKind::GitHubApp,
            "github_app",
            sources,
            sources_span,
            "`app_id` and `private_key_file` (or `private_key_command`)",
        )?;
        // A private key pasted into the policy: refused whatever the key is called, before
        // the unknown-key report, and without echoing any of it.
        let mut inline = false;
        for (key, value) in t.iter() {
            let pem = value
                .get_ref()
                .as_str()
                .is_some_and(|s| s.contains("PRIVATE KEY"));
            if key.get_ref().as_ref() == "private_key" || pem {
                inline = true;
                self.error(
                    key.span(),
                    "a private key is never written into the policy: keep the PEM file GitHub \
                     gave you readable only by you and name it with `private_key_file = \
                     \"/path/app.pem\"`, or have a secrets manager print it \
                     (`private_key_command = [...]`)",
                );
            }
        }
        if !inline {
            self.unknown_keys(t, GITHUB_APP_KEYS, "[rule.github_app]");
        }
        let app_id = match t.get("app_id") {
            None => {
                self.error(
                    v.span(),
                    "[rule.github_app] has no `app_id` (the App ID on the app's settings page)",
                );
                None
            }
            Some(a) => self.id(a, "app_id"),
        };
        let installation_id = t
            .get("installation_id")
            .and_then(|i| self.id(i, "installation_id"));
        let private_key = match (t.get("private_key_file"), t.get("private_key_command")) {
            (None, None) if inline => None,
            (None, None) => {
                self.error(
                    v.span(),
                    "[rule.github_app] has no `private_key_file` or `private_key_command` (where \
                     the app's private key comes from: a PEM file readable only by you, or a \
                     program that prints it)",
                );
                None
            }
            (Some(_), Some(c)) => {
                self.error(
                    c.span(),
                    "`private_key_file` and `private_key_command` are both set: keep one",
                );
                None
            }
            (Some(p), None) => self.string(p, "private_key_file").and_then(|s| {
                let path = expand_home(s);
                if path.is_none() {
                    self.error(
                        p.span(),
                        "`private_key_file` must be absolute or start with ~/",
                    );
                }
                path.map(KeyRef::File)
            }),
            (None, Some(c)) => self.strings(c, "private_key_command").and_then(|argv| {
                let program = argv.first().map(|(p, _)| p.as_str()).unwrap_or_default();
                let ok = !program.is_empty()
                    && (program.starts_with('/') || !program.contains('/'))
                    && argv
                        .iter()
                        .all(|(a, _)| !a.contains('\0') && !a.contains('\n'));
                if !ok {
                    self.error(
                        c.span(),
                        "`private_key_command` must be a non-empty array whose first item is \
                         an absolute path or a program name looked up on PATH (e.g. [\"op\", \
                         \"read\", \"op://ci/app/private-key\"])",
                    );
                    return None;
                }
                Some(KeyRef::Command(argv.into_iter().map(|(a, _)| a).collect()))
            }),
        };
        let api_url = t.get("api_url").and_then(|a| {
            let url = self.string(a, "api_url")?;
            match check_endpoint(url, false) {
                Ok(()) => Some(url.trim_end_matches('/').to_owned()),
                Err(why) => {
                    self.error(a.span(), format!("`api_url` \"{url}\": {why}"));
                    None
                }
            }
        });
        // The app's JWT mints tokens for every installation: it goes to one API, never to
        // whichever host under a wildcard git happens to ask about.
        if wildcard && t.get("api_url").is_none() {
            self.error(
                v.span(),
                "a `github-app` rule for a wildcard url would send the app's JWT to every host \
                 under it: use the GitHub host's exact url, or set `api_url`",
            );
        }
        let repositories = t.get("repositories").and_then(|r| {
            let names = self.strings(r, "repositories")?;
            let mut ok = Vec::new();
            for (name, span) in names {
                let valid = !name.is_empty()
                    && name.len() <= 100
                    && name
                        .chars()
                        .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'));
                if valid {
                    ok.push(name);
                } else {
                    self.error(
                        span,
                        format!(
                            "repository \"{}\" is not a repository name (letters, digits, -, _ \
                             and . only; without the owner)",
                            crate::redact::sanitize(&name)
                        ),
                    );
                    return None;
                }
            }
            Some(ok)
        });
        let permissions = t.get("permissions").and_then(|p| {
            let items = self.strings(p, "permissions")?;
            let mut ok = Vec::new();
            for (item, span) in items {
                match item.split_once(':') {
                    Some((name, level))
                        if !name.is_empty()
                            && name.chars().all(|c| c.is_ascii_lowercase() || c == '_')
                            && LEVELS.contains(&level) =>
                    {
                        ok.push((name.to_owned(), level.to_owned()))
                    }
                    _ => {
                        self.error(
                            span,
                            format!(
                                "permission \"{}\" must be NAME:LEVEL, e.g. \"contents:read\" \
                                 (levels: {})",
                                crate::redact::sanitize(&item),
                                LEVELS.join(", ")
                            ),
                        );
                        return None;
                    }
                }
            }
            Some(ok)
        });
        let cache = self.cache(t);
        Some(GitHubAppConfig {
            app_id: app_id?,
            installation_id,
            private_key: private_key?,
            api_url,
            repositories,
            permissions,
            cache,
        })
    }

    /// `[rule.sts]`.
    pub(super) fn sts(
        &mut self,
        value: Option<&Value<'_>>,
        sources: &[SourceKind],
        sources_span: &Range<usize>,
    ) -> Option<StsConfig> {
        let (v, t) = self.minted_table(
            value,
            SourceKind::Sts,
            "sts",
            sources,
            sources_span,
            "`token_endpoint` and `audience` (GitHub Actions) or `id_token_env` (GitLab CI)",
        )?;
        self.unknown_keys(t, STS_KEYS, "[rule.sts]");
        let token_endpoint = match t.get("token_endpoint") {
            None => {
                self.error(
                    v.span(),
                    "[rule.sts] has no `token_endpoint` (the security token service's RFC 8693 \
                     endpoint, https)",
                );
                None
            }
            Some(e) => {
                self.string(e, "token_endpoint")
                    .and_then(|url| match check_endpoint(url, false) {
                        Ok(()) => Some(url.to_owned()),
                        Err(why) => {
                            self.error(e.span(), format!("`token_endpoint` \"{url}\": {why}"));
                            None
                        }
                    })
            }
        };
        let mut text = |key: &str| {
            let e = t.get(key)?;
            let s = self.string(e, key)?;
            if s.is_empty() || s.chars().any(char::is_control) {
                self.error(
                    e.span(),
                    format!("`{key}` must be non-empty, without control characters"),
                );
                return None;
            }
            Some(s.to_owned())
        };
        let audience = text("audience");
        let exchange_audience = text("exchange_audience");
        let resource = text("resource");
        let scope = text("scope");
        let id_token_env = t.get("id_token_env").and_then(|e| {
            let s = self.string(e, "id_token_env")?;
            let valid = s.starts_with(|c: char| c.is_ascii_alphabetic() || c == '_')
                && s.chars().all(|c| c.is_ascii_alphanumeric() || c == '_');
            if !valid {
                self.error(
                    e.span(),
                    format!("`id_token_env` \"{s}\" is not an environment variable name"),
                );
                return None;
            }
            Some(s.to_owned())
        });
        if t.get("audience").is_none() && t.get("id_token_env").is_none() {
            self.error(
                v.span(),
                "[rule.sts] needs `audience` (the ID token's audience, asked of GitHub Actions) \
                 or `id_token_env` (the GitLab CI `id_tokens` variable holding it)",
            );
        }
        let subject_token_type = match t.get("subject_token_type") {
            None => Some(ID_TOKEN_TYPE.to_owned()),
            Some(s) => match self.string(s, "subject_token_type") {
                Some("id_token") => Some(ID_TOKEN_TYPE.to_owned()),
                Some("jwt") => Some(JWT_TYPE.to_owned()),
                Some(other) => {
                    self.error(
                        s.span(),
                        format!(
                            "unknown subject_token_type `{}` (expected \"id_token\" or \"jwt\")",
                            crate::redact::sanitize(other)
                        ),
                    );
                    None
                }
                None => None,
            },
        };
        let cache = self.cache(t);
        Some(StsConfig {
            token_endpoint: token_endpoint?,
            audience,
            id_token_env,
            subject_token_type: subject_token_type?,
            exchange_audience,
            resource,
            scope,
            cache,
        })
    }
}
