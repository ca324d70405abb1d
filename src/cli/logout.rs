//! `gocred logout HOST|URL [--user NAME]`: forget what gocred keeps for the host
//! ([`crate::logout`]).

use super::CommandError;
use super::context::Context;
use crate::policy::{Decision, Input, normalize};
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
    let said = crate::logout::logout(&policy, &*ctx.env, rule, &scope, args.user.as_deref())?;
    for line in said {
        writeln!(ctx.stdout, "{line}")
            .map_err(|e| CommandError::user(format!("cannot write to stdout: {e}")))?;
    }
    Ok(())
}
