//! `gocred get`: answer git's request from the first source of the matching rule that has a
//! credential. A request no rule matches gets no output and exit 0, so git asks the next helper.

use super::CommandError;
use super::context::Context;
use crate::policy::{Decision, Target};
use crate::protocol::Response;
use crate::source::entry_path;
use std::io::Write;

pub fn cmd_get(ctx: &mut Context) -> Result<(), CommandError> {
    let request = ctx.read_request()?;
    // The one normalization of the request: it picks the rule.
    let target = Target::from_request(&request);
    // The file as it is now, read and checked whole on every call; only the rules for this
    // host are kept.
    let policy = ctx.load_policy_for_host(target.as_ref().map(|t| t.host.as_str()))?;
    if let Some(note) = ctx.missing_named_config(&policy) {
        // git ignores a helper's exit status (it moves on to the next helper either way), so
        // the note on stderr is what a person sees; exit 0 with no answer, as for a denied host.
        let _ = writeln!(ctx.stderr, "gocred: {note}");
        return Ok(());
    }
    let Some(target) = target else {
        return Ok(()); // a protocol or host no rule could ever name
    };
    let shown = crate::audit::current(|a| a.enabled()).then(|| target.url());
    let decision = policy.decide(target);
    if let Some(shown) = shown {
        crate::audit::record_decision(&shown, &decision, &policy);
    }
    let Decision::Managed {
        rule,
        scope,
        target,
    } = decision
    else {
        return Ok(());
    };
    let mut resolver = ctx.sources(&policy);
    let found = resolver.resolve_for(
        rule,
        &scope,
        entry_path(rule, &target),
        request.username.as_deref(),
    );
    // An `env` variable that is not set (a CI job without its token): git would only say
    // "could not read Username", so the note that names the variable and the rule is the one
    // line that tells the cause. Still exit 0 and no answer: git moves on as for any miss.
    let notes = resolver.missing_notes("git");
    drop(resolver);
    let found = match found {
        Ok(found) => found,
        Err(e) => return Err(notes.into_iter().fold(e.into(), CommandError::hinted)),
    };
    let Some((source, cred)) = found else {
        for note in &notes {
            ctx.note(None, note);
        }
        return Ok(());
    };
    let response = Response {
        username: Some(cred.username),
        password: Some(cred.password),
        password_expiry_utc: cred.password_expiry_utc,
        // What git stored comes back as stored (git-credential-oauth and the like rely on it);
        // an `oauth` rule's refresh token is gocred's own and never leaves it.
        oauth_refresh_token: cred
            .oauth_refresh_token
            .filter(|_| source.is_store() && rule.oauth.is_none()),
        ..Response::default()
    };
    response.write_to(&mut ctx.stdout).map_err(|e| {
        CommandError::user(format!("cannot answer git for {}", target.host)).caused_by(&e)
    })
}
