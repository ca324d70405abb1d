//! The `env` source, for build servers: the rule's `token_env` variable with its fixed
//! `username`. Read-only, never stored. An unset or empty variable means "try the next source";
//! [`missing`] says which one it was, so that a CI job whose variable is not set is told so
//! (`gocred get` prints one note naming it and the rule) instead of git's bare "could not read
//! Username".

use super::{Credential, Query, Source, SourceError};
use crate::secret::Secret;

/// Why a rule's `env` source has nothing: its variable, and whether it is unset or empty.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Missing {
    pub variable: String,
    /// Set, but to the empty string.
    pub empty: bool,
}

impl Missing {
    /// `CI_JOB_TOKEN is not set`, `CI_JOB_TOKEN is empty`.
    pub fn describe(&self) -> String {
        let state = if self.empty { "is empty" } else { "is not set" };
        format!("{} {state}", self.variable)
    }
}

/// The variable `rule`'s `env` source reads, when it is unset or empty; `None` when the rule has
/// no `token_env` or the variable holds a value.
pub fn missing(
    rule: &crate::policy::Rule,
    lookup: impl Fn(&str) -> Option<String>,
) -> Option<Missing> {
    let var = rule.token_env.as_deref()?;
    match lookup(var) {
        Some(v) if !v.is_empty() => None,
        value => Some(Missing {
            variable: var.to_owned(),
            empty: value.is_some(),
        }),
    }
}

/// Reads variables through a function so tests need not touch the process environment.
pub struct Env<F: Fn(&str) -> Option<String>> {
    lookup: F,
}

impl Env<fn(&str) -> Option<String>> {
    pub fn from_process() -> Self {
        Env {
            lookup: |name| std::env::var(name).ok(),
        }
    }
}

impl<F: Fn(&str) -> Option<String>> Env<F> {
    pub fn new(lookup: F) -> Self {
        Env { lookup }
    }
}

impl<F: Fn(&str) -> Option<String>> Source for Env<F> {
    fn name(&self) -> &'static str {
        "env"
    }

    fn get(&self, query: &Query<'_>) -> Result<Option<Credential>, SourceError> {
        let (Some(var), Some(user)) = (&query.rule.token_env, &query.rule.username) else {
            return Ok(None); // config check refuses such a rule; nothing to give
        };
        if query.username.is_some_and(|asked| asked != user) {
            return Ok(None);
        }
        let Some(token) = (self.lookup)(var)
            .map(Secret::new)
            .filter(|t| !t.is_empty())
        else {
            return Ok(None);
        };
        if token.expose().contains(['\r', '\n', '\0']) {
            return Err(SourceError::Fatal(format!(
                "the variable {var} holds a line break or NUL byte; set it to the token alone"
            )));
        }
        Ok(Some(Credential {
            username: user.clone(),
            password: token,
            password_expiry_utc: None,
            oauth_refresh_token: None,
        }))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn missing_says_unset_or_empty_and_nothing_for_a_value() {
        let policy = crate::policy::load_str(
            std::path::Path::new("/c.toml"),
            "[[rule]]\nurl = \"https://h.example\"\nsources = [\"env\"]\n\
             username = \"u\"\ntoken_env = \"TOK\"\n",
        )
        .unwrap();
        let rule = &policy.rules[0];
        let unset = missing(rule, |_| None).unwrap();
        assert_eq!(unset.describe(), "TOK is not set");
        let empty = missing(rule, |_| Some(String::new())).unwrap();
        assert_eq!(empty.describe(), "TOK is empty");
        assert_eq!(missing(rule, |_| Some("t".into())), None);
        // The source agrees: nothing exactly when `missing` says why.
        let scope = crate::policy::ScopeKey("https://h.example".into());
        let query = || Query {
            scope: &scope,
            rule,
            path: None,
            username: None,
            now: 0,
        };
        assert!(
            Env::new(|_| Some(String::new()))
                .get(&query())
                .unwrap()
                .is_none()
        );
        assert!(
            Env::new(|_| Some("t".into()))
                .get(&query())
                .unwrap()
                .is_some()
        );
    }
}
