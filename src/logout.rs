//! What `gocred logout HOST|URL [--user NAME]` does ([`logout`]): forget what gocred keeps for the host, in every store
//! the host's rule names: the OAuth tokens of an `oauth` rule, revoked at the server first where
//! it offers RFC 7009 revocation (the refresh token first: on most servers that ends the whole
//! grant), and the entries of its `keychain` and `file` stores (a token from
//! `login --with-token`, a password git stored). `--user` forgets only that user's entries.
//!
//! A failed revocation is reported, not fatal: the local copy goes anyway, and the message says
//! where to revoke by hand. What was forgotten is named by store and user, never by secret.
//! Nothing stored is not an error (exit 0): logging out leaves the state asked for, so a
//! clean-up script can run it twice. A host no rule serves is (exit 1): likely a typo.

use crate::net::{Net, Options};
use crate::oauth::Client;
use crate::policy::{OAuthProvider, Policy, Rule, ScopeKey, SourceKind};
use crate::source::SourceError;
use crate::source::oauth::{origin, token_scope, username};
use crate::source::sources::{self, Lookup};

/// Forgets what gocred keeps for `scope` under `rule` (only `wanted`'s entries, when given),
/// revoking OAuth tokens at the server first; `env` is the environment (proxy, timeouts). One
/// line per thing forgotten, or the one that says nothing was stored.
pub fn logout(
    policy: &Policy,
    env: Lookup<'_>,
    rule: &Rule,
    scope: &ScopeKey,
    wanted: Option<&str>,
) -> Result<Vec<String>, sources::Error> {
    let failed =
        |kind: SourceKind| move |error: SourceError| sources::Error::Source { kind, error };
    let mut said = Vec::new();

    if let Some(config) = &rule.oauth {
        let key = token_scope(rule, scope);
        let user = username(rule, config);
        let oauth = sources::oauth(policy, env);
        let store = oauth.store(config).map_err(failed(SourceKind::OAuth))?;
        let cred = if wanted.is_none_or(|w| w == user) {
            oauth
                .read(&*store, rule, &key, &user)
                .map_err(failed(SourceKind::OAuth))?
        } else {
            None
        };
        if let Some(cred) = cred {
            let net = Net::new(Options::from_env(env, rule.allow_http), env);
            let revoked = Client::new(&net, config, origin(&key)).and_then(|client| {
                let mut offered = false;
                if let Some(refresh) = &cred.oauth_refresh_token {
                    offered |= client.revoke(refresh, "refresh_token")?;
                }
                offered |= client.revoke(&cred.password, "access_token")?;
                Ok(offered)
            });
            let note = match (&revoked, config.provider) {
                (Ok(true), _) => "revoked at the server and erased here".to_owned(),
                (Ok(false), OAuthProvider::GitHub) => format!(
                    "erased here; GitHub offers this client no revocation: revoke the app under \
                     {}/settings/applications",
                    origin(&key)
                ),
                (Ok(false), _) => "erased here; the server offers no revocation, so the token \
                                   stays valid there until it expires"
                    .to_owned(),
                (Err(e), _) => {
                    format!("erased here, but revoking failed ({e}); revoke it on the server")
                }
            };
            store
                .erase(&key, Some(&user), None)
                .map_err(failed(SourceKind::OAuth))?;
            said.push(format!(
                "Logged out of {key}: the OAuth token of user {user} was {note}."
            ));
        }
    }

    // The rule's own stores: its `store`, and the keychain or file it reads from.
    let mut kinds: Vec<SourceKind> = Vec::new();
    for kind in rule.store.iter().chain(rule.sources.iter()).copied() {
        if kind.is_store() && !kinds.contains(&kind) {
            kinds.push(kind);
        }
    }
    for kind in kinds {
        let store = sources::store(policy, kind)?;
        let mut users: Vec<String> = store
            .list()
            .map_err(failed(kind))?
            .into_iter()
            .filter(|i| i.scope == *scope && i.problem.is_none())
            .map(|i| i.username)
            .filter(|u| wanted.is_none_or(|w| w == u))
            .collect();
        users.sort();
        users.dedup();
        let gone = store.erase(scope, wanted, None).map_err(failed(kind))?;
        if gone == 0 {
            continue;
        }
        let who = if users.is_empty() {
            String::new()
        } else {
            format!(
                " of user{} {}",
                if users.len() == 1 { "" } else { "s" },
                users.join(", ")
            )
        };
        said.push(format!(
            "Forgot {gone} entr{}{who} for {scope} in {}.",
            if gone == 1 { "y" } else { "ies" },
            store.location()
        ));
    }

    if said.is_empty() {
        let for_user = wanted.map(|u| format!(" for user {u}")).unwrap_or_default();
        said.push(format!(
            "Nothing stored for {scope}{for_user}: nothing to forget."
        ));
    }
    Ok(said)
}
