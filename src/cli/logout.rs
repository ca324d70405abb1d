//! `gocred logout HOST|URL`: revoke the stored OAuth tokens where the server offers RFC 7009
//! revocation (the refresh token first: on most servers that ends the whole grant), then erase
//! them locally, whatever the server said. A failed revocation is reported, not fatal: the local
//! copy goes anyway, and the message says where to revoke by hand.

use super::CommandError;
use super::context::Context;
use crate::net::{Net, Options};
use crate::oauth::Client;
use crate::policy::{Decision, Input, OAuthProvider, normalize};
use crate::source::oauth::{origin, token_scope, username};
use clap::Args;
use std::io::Write;

#[derive(Debug, Args)]
pub struct LogoutArgs {
    /// The host or URL to log out of
    #[arg(value_name = "HOST|URL")]
    pub target: String,
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
            "no rule in {} serves {}: there is nothing gocred could have logged in to",
            policy.path.display(),
            target.origin()
        )));
    };
    let Some(config) = &rule.oauth else {
        return Err(CommandError::user(format!(
            "the rule for {} has no `oauth` source: gocred holds no login for it (use `git \
             credential reject` for passwords)",
            rule.url
        )));
    };
    let key = token_scope(rule, &scope);
    let user = username(rule, config);
    let oauth = ctx.oauth(&policy);
    let store = oauth.store(config)?;
    let Some(cred) = oauth.read(&*store, rule, &key, &user)? else {
        writeln!(ctx.stdout, "Not logged in to {key}: nothing stored.")
            .map_err(|e| CommandError::user(format!("cannot write to stdout: {e}")))?;
        return Ok(());
    };
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
        (Ok(false), _) => {
            "erased here; the server offers no revocation, so the token stays valid there until \
             it expires"
                .to_owned()
        }
        (Err(e), _) => format!("erased here, but revoking failed ({e}); revoke it on the server"),
    };
    store.erase(&key, Some(&user), None)?;
    writeln!(ctx.stdout, "Logged out of {key}: {note}.")
        .map_err(|e| CommandError::user(format!("cannot write to stdout: {e}")))?;
    Ok(())
}
