//! `gocred get`: answer git's request from the first source of the matching rule that has a
//! credential. A request no rule matches gets no output and exit 0, so git asks the next helper.

use super::CommandError;
use super::context::{Context, decide};
use crate::policy::Decision;
use crate::protocol::Response;
use crate::source::{Query, SourceError};

pub fn cmd_get(ctx: &mut Context) -> Result<(), CommandError> {
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
    let query = Query {
        scope: &scope,
        rule,
        username: request.username.as_deref().or(rule.username.as_deref()),
        now: ctx.now,
    };
    let mut unavailable: Option<SourceError> = None;
    let mut found = None;
    for &kind in &rule.sources {
        match ctx.source(&policy, kind)?.get(&query) {
            Ok(Some(cred)) => {
                found = Some(cred);
                break;
            }
            Ok(None) => {}
            Err(e @ SourceError::Unavailable(_)) => {
                unavailable.get_or_insert(e);
            }
            Err(e @ SourceError::Fatal(_)) => return Err(e.into()),
        }
    }
    let Some(cred) = found else {
        return unavailable.map_or(Ok(()), |e| Err(e.into()));
    };
    let response = Response {
        username: Some(cred.username),
        password: Some(cred.password),
        password_expiry_utc: cred.password_expiry_utc,
        ..Response::default()
    };
    response
        .write_to(&mut ctx.stdout)
        .map_err(|e| CommandError::user(format!("cannot answer git for {}: {e}", target.host)))
}
