//! `gocred logout HOST|URL [--user NAME]`: forget what gocred keeps for the host, in every store
//! the host's rule names: the OAuth tokens of an `oauth` rule, revoked at the server first where
//! it offers RFC 7009 revocation (the refresh token first: on most servers that ends the whole
//! grant), and the entries of its `keychain` and `file` stores (a token from
//! `login --with-token`, a password git stored). `--user` forgets only that user's entries.
//!
//! A failed revocation is reported, not fatal: the local copy goes anyway, and the message says
//! where to revoke by hand. What was forgotten is named by store and user, never by secret.
//! Nothing stored is not an error (exit 0): logging out leaves the state asked for, so a
//! clean-up script can run it twice. A host no rule serves is (exit 1): likely a typo.

use super::CommandError;
use super::context::Context;
use crate::net::{Net, Options};
use crate::oauth::Client;
use crate::policy::{Decision, Input, OAuthProvider, SourceKind, normalize};
use crate::source::oauth::{origin, token_scope, username};
use clap::Args;
use std::io::Write;

/// The DESCRIPTION of `gocred help logout` and gocred-logout(1).
pub(super) const LONG_ABOUT: &str = "Forget what gocred keeps for a host, in every store its rule names: \
OAuth tokens from `gocred login` (revoked at the server first where it offers revocation), a \
token from `gocred login --with-token` or a password git stored, in the keychain or the file \
store. With --user, only that user's entries. Says what it forgot (store and user, never a \
secret). Exit status 0 also when nothing was stored (\"Nothing stored for HOST\"): the host is \
logged out either way, so running it twice is not an error; 1 for a host no rule serves (a \
typo, most likely) or a store that cannot be read.";

#[derive(Debug, Args)]
#[command(after_long_help = "Examples:
  gocred logout gitlab.corp.example
  gocred logout https://ghe.corp.example:8443 --user alice")]
pub struct LogoutArgs {
    /// The host or URL to log out of
    #[arg(value_name = "HOST|URL")]
    pub target: String,
    /// Forget only the entries of this user (default: every user's)
    #[arg(long, value_name = "NAME")]
    pub user: Option<String>,
}

pub fn cmd_logout(ctx: &mut Context, args: LogoutArgs) -> Result<(), CommandError> {
    let target = normalize(Input::Url(&args.target)).map_err(|e| {
        CommandError::user(format!(
            "`{}`: {e}; expected an https host or URL",
            args.target
        ))
    })?;
    let policy = ctx.load_policy()?;
    let Decision::Managed { rule, scope, .. } = policy.decide(target.clone()) else {
        return Err(CommandError::user(format!(
            "no rule in {} serves {}: there is nothing gocred could have stored for it",
            policy.path.display(),
            target.origin()
        )));
    };
    let wanted = args.user.as_deref();
    let mut said = Vec::new();

    if let Some(config) = &rule.oauth {
        let key = token_scope(rule, &scope);
        let user = username(rule, config);
        let oauth = ctx.oauth(&policy);
        let store = oauth.store(config)?;
        let cred = if wanted.is_none_or(|w| w == user) {
            oauth.read(&*store, rule, &key, &user)?
        } else {
            None
        };
        if let Some(cred) = cred {
            let env = &*ctx.env;
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
            store.erase(&key, Some(&user), None)?;
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
        let store = ctx.store(&policy, kind)?;
        let mut users: Vec<String> = store
            .list()?
            .into_iter()
            .filter(|i| i.scope == scope && i.problem.is_none())
            .map(|i| i.username)
            .filter(|u| wanted.is_none_or(|w| w == u))
            .collect();
        users.sort();
        users.dedup();
        let gone = store.erase(&scope, wanted, None)?;
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
    for line in said {
        writeln!(ctx.stdout, "{line}")
            .map_err(|e| CommandError::user(format!("cannot write to stdout: {e}")))?;
    }
    Ok(())
}
