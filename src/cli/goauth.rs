//! `gocred goauth`: a GOAUTH command for the go command (Go ≥ 1.24, `go help goauth`):
//! `GOAUTH='gocred goauth'`; what it answers is [`crate::goauth`]'s.

use super::CommandError;
use super::context::Context;
use crate::goauth;
use crate::policy::{Input, TargetError, normalize};
use std::io::{Read, Write};

#[derive(Debug, clap::Args)]
pub struct GoauthArgs {
    /// The URL that got a 4xx (Go passes it; the response head comes on stdin)
    #[arg(value_name = "URL", allow_hyphen_values = true)]
    pub url: Option<String>,
}

/// The most of Go's response head gocred reads (it only needs to drain it).
const MAX_HEAD: u64 = 64 * 1024;

pub fn cmd_goauth(ctx: &mut Context, args: GoauthArgs) -> Result<(), CommandError> {
    // Go writes the response head and closes; read it so Go never blocks on a full pipe.
    let mut head = Vec::new();
    let _ = (&mut ctx.stdin).take(MAX_HEAD).read_to_end(&mut head);
    // Go passes a URL: an option in its place is someone else's input (CVE-2025-68119 class).
    let target = args.url.as_deref().map(|url| normalize(Input::Url(url)));
    if let Some(Err(e @ TargetError::OptionLike)) = &target {
        return Err(CommandError::user(format!("goauth: the URL {e}")));
    }
    let policy = ctx.load_policy()?;
    let (out, notes) = goauth::answer(&mut ctx.sources(&policy), target);
    for note in notes {
        ctx.note(Some("goauth"), &note);
    }
    ctx.stdout
        .write_all(&out.0)
        .and_then(|()| ctx.stdout.flush())
        .map_err(|e| CommandError::user(format!("cannot answer go: {e}")))
}
