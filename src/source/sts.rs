//! The `sts` source: the CI job's own identity (its OIDC ID token) exchanged at a security
//! token service for a short-lived git token (OAuth 2.0 Token Exchange, RFC 8693).
//!
//! The ID token comes from the CI:
//! - GitHub Actions (a job with `permissions: id-token: write`): `GET
//!   $ACTIONS_ID_TOKEN_REQUEST_URL&audience=AUDIENCE` with `Authorization: Bearer
//!   $ACTIONS_ID_TOKEN_REQUEST_TOKEN` answers `{"value": "<JWT>"}`.
//! - GitLab CI: the job's `id_tokens:` keyword puts the JWT (with the `aud` it names) in a
//!   variable; the rule names it with `id_token_env`.
//!
//! It goes to the rule's `token_endpoint` (https only) and nowhere else, as
//! `grant_type=urn:ietf:params:oauth:grant-type:token-exchange`, `subject_token`,
//! `subject_token_type` (`...:id_token`, or `...:jwt`), plus `audience`, `resource` and `scope`
//! when the rule sets them. The answer's `access_token` is served (as `x-access-token` unless
//! the rule names a `username`) until `expires_in` runs out, less a minute, cached and
//! exchanged once across parallel gits ([`super::mint`]). An answer without `expires_in` is
//! used for that one request. Outside the CI (no variables), the source is unavailable with a
//! line that says which variable is missing; nothing is sent.

use super::mint::{Slot, Stores};
use super::oauth::token_scope;
use super::{Credential, Query, Source, SourceError};
use crate::net::{Net, Options};
use crate::policy::StsConfig;
use crate::secret::Secret;

/// Exchange again when the token has less than this left.
pub const MARGIN: u64 = 60;

/// The user name git sends unless the rule names one.
pub const USERNAME: &str = "x-access-token";

pub const EXCHANGE_GRANT: &str = "urn:ietf:params:oauth:grant-type:token-exchange";

pub struct StsSource<'e> {
    pub stores: Stores<'e>,
}

/// Where the ID token comes from, for messages and `status`.
pub fn id_token_origin(config: &StsConfig, env: &dyn Fn(&str) -> Option<String>) -> String {
    let set = |name: &str| env(name).is_some_and(|v| !v.is_empty());
    match &config.id_token_env {
        Some(var) => format!("${var} ({})", if set(var) { "set" } else { "not set" }),
        None if set("ACTIONS_ID_TOKEN_REQUEST_URL") && set("ACTIONS_ID_TOKEN_REQUEST_TOKEN") => {
            "GitHub Actions (ID token request variables set)".into()
        }
        None => "GitHub Actions (ACTIONS_ID_TOKEN_REQUEST_URL/TOKEN not set)".into(),
    }
}

/// Whether a token is one line of visible characters (what may go into a form or to git).
fn plain(token: &str) -> bool {
    !token.is_empty() && !token.chars().any(|c| c.is_control() || c.is_whitespace())
}

impl StsSource<'_> {
    /// The job's ID token.
    fn id_token(&self, config: &StsConfig, net: &Net<'_>) -> Result<Secret, SourceError> {
        let env = self.stores.env;
        let unavailable = |why: String| SourceError::Unavailable(format!("sts: {why}"));
        if let Some(var) = &config.id_token_env {
            let token = env(var).filter(|t| !t.is_empty()).ok_or_else(|| {
                unavailable(format!(
                    "{var} is not set: name it under the job's `id_tokens:` (GitLab CI) with the \
                     audience the STS expects"
                ))
            })?;
            return if plain(token.trim()) {
                Ok(Secret::new(token.trim().to_owned()))
            } else {
                Err(unavailable(format!("{var} does not hold a JWT")))
            };
        }
        let (Some(url), Some(bearer)) = (
            env("ACTIONS_ID_TOKEN_REQUEST_URL").filter(|v| !v.is_empty()),
            env("ACTIONS_ID_TOKEN_REQUEST_TOKEN").filter(|v| !v.is_empty()),
        ) else {
            return Err(unavailable(
                "not in a GitHub Actions job that may ask for an ID token \
                 (ACTIONS_ID_TOKEN_REQUEST_URL and ACTIONS_ID_TOKEN_REQUEST_TOKEN are not set: \
                 give the job `permissions: id-token: write`)"
                    .into(),
            ));
        };
        let bearer = Secret::new(bearer);
        let audience = config.audience.as_deref().ok_or_else(|| {
            unavailable("[rule.sts] names no `audience` to ask GitHub Actions for".into())
        })?;
        let sep = if url.contains('?') { '&' } else { '?' };
        let url = format!("{url}{sep}audience={}", form_encode(audience));
        let auth = Secret::new(format!("Bearer {}", bearer.expose()));
        let reply = net
            .get(
                &url,
                &[
                    ("Authorization", auth.expose()),
                    ("Accept", "application/json"),
                ],
            )
            .map_err(|e| unavailable(format!("the GitHub Actions ID token request failed: {e}")))?;
        if reply.status != 200 {
            return Err(unavailable(format!(
                "the GitHub Actions ID token request answered HTTP {}",
                reply.status
            )));
        }
        serde_json::from_slice::<serde_json::Value>(&reply.body.0)
            .ok()
            .and_then(|v| v.get("value")?.as_str().map(str::to_owned))
            .filter(|t| plain(t))
            .map(Secret::new)
            .ok_or_else(|| unavailable("the GitHub Actions ID token answer has no `value`".into()))
    }

    fn exchange(&self, config: &StsConfig, user: &str) -> Result<(Credential, bool), SourceError> {
        let net = Net::new(Options::from_env(self.stores.env, false), self.stores.env);
        let id_token = self.id_token(config, &net)?;
        let now = super::now();
        if super::jwt::unverified_exp(id_token.expose()).is_some_and(|exp| exp <= now) {
            return Err(SourceError::Unavailable(
                "sts: the job's ID token has expired; a new job (or a new `id_tokens` value) \
                 brings a fresh one"
                    .into(),
            ));
        }
        let mut form = vec![
            ("grant_type", EXCHANGE_GRANT),
            ("subject_token", id_token.expose()),
            ("subject_token_type", config.subject_token_type.as_str()),
        ];
        for (k, v) in [
            ("audience", &config.exchange_audience),
            ("resource", &config.resource),
            ("scope", &config.scope),
        ] {
            if let Some(v) = v {
                form.push((k, v));
            }
        }
        let endpoint = &config.token_endpoint;
        let reply = net
            .post_form(endpoint, &[("Accept", "application/json")], &form)
            .map_err(|e| SourceError::Unavailable(format!("sts: {e}")))?;
        let answer = crate::secret::SecretJson::parse(&reply.body.0).ok();
        let field = |k: &str| {
            answer
                .as_ref()
                .and_then(|a| a.get(k)?.as_str().map(str::to_owned))
        };
        if reply.status != 200 {
            let error = field("error")
                .map(|e| {
                    let detail = field("error_description")
                        .map(|d| format!(": {}", crate::redact::shown(&d)))
                        .unwrap_or_default();
                    format!(" ({}{detail})", crate::redact::shown(&e))
                })
                .unwrap_or_default();
            let retry = reply
                .retry_after
                .map(|s| format!("; retry after {s} s"))
                .unwrap_or_default();
            return Err(SourceError::Unavailable(format!(
                "sts: {endpoint} refused the exchange with HTTP {}{error}{retry}",
                reply.status
            )));
        }
        let token = field("access_token").filter(|t| plain(t)).ok_or_else(|| {
            SourceError::Unavailable(format!("sts: {endpoint} answered without an access_token"))
        })?;
        let expires_in = answer.as_ref().and_then(|a| a.get("expires_in")?.as_u64());
        Ok((
            Credential {
                username: user.to_owned(),
                password: Secret::new(token),
                password_expiry_utc: expires_in.map(|s| now.saturating_add(s)),
                oauth_refresh_token: None,
            },
            expires_in.is_some(),
        ))
    }
}

/// `application/x-www-form-urlencoded` for one value.
fn form_encode(s: &str) -> String {
    let mut out = String::new();
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.' | b'~') {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

impl Source for StsSource<'_> {
    fn name(&self) -> &'static str {
        "sts"
    }

    fn get(&self, query: &Query<'_>) -> Result<Option<Credential>, SourceError> {
        let rule = query.rule;
        let Some(config) = &rule.sts else {
            return Ok(None);
        };
        let user = rule.username.as_deref().unwrap_or(USERNAME);
        if query.username.is_some_and(|asked| asked != user) {
            return Ok(None);
        }
        let slot = Slot {
            key: token_scope(rule, query.scope),
            path: None,
            user,
        };
        // A token without an expiry is served once and never cached.
        self.stores
            .cached_or_mint("sts", rule, config.cache, &slot, MARGIN, || {
                self.exchange(config, user)
            })
            .map(Some)
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn form_encode_escapes_everything_but_unreserved() {
        assert_eq!(
            super::form_encode("https://sts.example/a b"),
            "https%3A%2F%2Fsts.example%2Fa%20b"
        );
    }
}
