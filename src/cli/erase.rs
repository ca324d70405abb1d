//! `gocred erase`: forget the credential git says was rejected, in the rule's store only, by
//! git's own rules: every entry of the scope that matches the path, the user name and the
//! password git gives (each only when given).

use super::CommandError;
use super::context::{Context, decide};
use crate::policy::Decision;
use crate::source::{Want, entry_path};

pub fn cmd_erase(ctx: &mut Context) -> Result<(), CommandError> {
    let request = ctx.read_request()?;
    let policy = ctx.load_policy()?;
    let Decision::Managed {
        rule,
        scope,
        target,
    } = decide(&policy, &request)
    else {
        return Ok(());
    };
    if rule.oauth.is_some() {
        // A rejected OAuth token is refreshed by the next `get`, not forgotten.
        return Ok(ctx
            .oauth(&policy)
            .rejected(rule, &scope, request.password.as_ref())?);
    }
    crate::source::command::rejected(
        policy.keychain_backend,
        rule,
        &scope,
        request.password.as_ref(),
    )?;
    // A rejected github-app or sts token leaves their cache: the next `get` mints anew.
    crate::source::mint::rejected(
        &ctx.mint_stores(&policy),
        rule,
        &scope,
        request.password.as_ref(),
    )?;
    let Some(kind) = rule.store else {
        return Ok(());
    };
    let store = ctx.store(&policy, kind)?;
    let erased = store.erase_matching(&Want {
        scope: &scope,
        path: entry_path(rule, &target),
        username: request.username.as_deref(),
        password: request.password.as_ref(),
    })?;
    crate::audit::current(|a| a.outcome(None, &format!("erased {erased} from {}", kind.name())));
    Ok(())
}
