//! `gocred store`: keep what git just used successfully, in the store the matching rule names.
//! Ignored (exit 0) when no rule matches, the rule has no `store`, the credential is ephemeral,
//! expired or incomplete (no user name or no password: an empty one is a value, kept as given),
//! or it is the `env` token itself (which must never be written anywhere). The entry keeps the
//! path git sent, under a rule whose scope key does not hold it (see [`entry_path`]).

use super::CommandError;
use super::context::{Context, decide};
use crate::policy::{Decision, SourceKind};
use crate::source::{Credential, Record, entry_path};

pub fn cmd_store(ctx: &mut Context) -> Result<(), CommandError> {
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
        // gocred keeps OAuth tokens itself (with the refresh token git never sees).
        return Ok(());
    }
    if rule.command.is_some() || rule.sources.contains(&SourceKind::Ci) {
        // The program (and its cache) or the CI job holds these; git's copy is not kept.
        return Ok(());
    }
    let Some(kind) = rule.store else {
        return Ok(());
    };
    let (Some(username), Some(password)) = (&request.username, &request.password) else {
        return Ok(());
    };
    if request.ephemeral == Some(true) {
        return Ok(());
    }
    if rule.sources.contains(&SourceKind::Env)
        && rule
            .token_env
            .as_deref()
            .and_then(|v| (ctx.env)(v))
            .is_some_and(|t| t == password.expose())
    {
        return Ok(());
    }
    if request.password_expiry_utc.is_some_and(|t| t <= ctx.now) {
        return Ok(());
    }
    let cred = Credential {
        username: username.clone(),
        password: password.clone(),
        password_expiry_utc: request.password_expiry_utc,
        oauth_refresh_token: request.oauth_refresh_token.clone(),
    };
    let path = entry_path(rule, &target).map(str::to_owned);
    // The store writes nothing when this is what it already holds.
    ctx.store(&policy, kind)?
        .store_record(Record::new(scope, path, cred))?;
    crate::audit::current(|a| a.outcome(None, &format!("stored in {}", kind.name())));
    Ok(())
}
