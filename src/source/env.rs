//! The `env` source, for build servers: the rule's `token_env` variable with its fixed
//! `username`. Read-only, never stored. An unset or empty variable means "try the next source".

use super::{Credential, Query, Source, SourceError};
use crate::secret::Secret;

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
