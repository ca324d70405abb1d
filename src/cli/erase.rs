//! `gocred erase`: forget the credential git says was rejected, in the rule's store only. Only
//! matching entries go: the user name when given, and the password when given.

use super::CommandError;
use super::context::{Context, decide};
use crate::policy::Decision;

pub fn cmd_erase(ctx: &mut Context) -> Result<(), CommandError> {
    let request = ctx.read_request()?;
    let policy = ctx.load_policy()?;
    let Decision::Managed { rule, scope, .. } = decide(&policy, &request) else {
        return Ok(());
    };
    if rule.oauth.is_some() {
        // A rejected OAuth token is refreshed by the next `get`, not forgotten.
        return Ok(ctx
            .oauth(&policy)
            .rejected(rule, &scope, request.password.as_ref())?);
    }
    let Some(kind) = rule.store else {
        return Ok(());
    };
    let store = ctx.store(&policy, kind)?;
    store.erase(
        &scope,
        request.username.as_deref(),
        request.password.as_ref(),
    )?;
    Ok(())
}
