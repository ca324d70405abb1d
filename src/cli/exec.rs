//! `gocred exec [--host H...] -- CMD [ARGS...]`: runs CMD with the credentials policy allows,
//! for exactly as long as CMD runs ([`crate::exec`] says how).

use super::CommandError;
use super::context::Context;
use super::netrc::normalize_host_arg;
use crate::exec::{self, Ended};
use std::ffi::OsString;
use std::io::Write;

#[derive(Debug, clap::Args)]
pub struct ExecArgs {
    /// Only this host (`host` or `host:port`); may be given several times. Default: every host
    /// policy allows
    #[arg(long = "host", value_name = "HOST")]
    pub hosts: Vec<String>,
    /// The command to run, and its arguments
    #[arg(last = true, required = true, value_name = "CMD")]
    pub command: Vec<OsString>,
}

pub fn cmd_exec(ctx: &mut Context, args: ExecArgs) -> Result<(), CommandError> {
    let hosts = args
        .hosts
        .iter()
        .map(|h| normalize_host_arg(h))
        .collect::<Result<Vec<_>, _>>()?;
    let count = (ctx.env)("GIT_CONFIG_COUNT");
    let mut notes = Vec::new();
    // On a remote with a gocred agent: its netrc, and git asking gocred (which forwards).
    let prepared = match super::agent::agent_socket(ctx)? {
        Some((socket, _)) => {
            super::agent::exec_prepare(ctx, socket, &hosts, count.as_deref(), &mut notes)?
        }
        None => {
            let policy = ctx.load_policy()?;
            exec::prepare(
                &mut ctx.sources(&policy),
                &hosts,
                count.as_deref(),
                &mut notes,
            )
        }
    };
    for note in &notes {
        ctx.note(Some("exec"), note);
    }
    let mut prepared = prepared.map_err(command_error)?;
    if ctx.quiet() {
        // `gocred --quiet exec`: the gocred that git and go run under CMD is quiet too.
        prepared.set_env(super::context::QUIET_VAR, "1");
    }
    // The netrc's decisions go to the audit log now: this process ends with CMD's exit.
    if let Some(failed) = crate::audit::current(|a| a.finish(None)) {
        let _ = writeln!(ctx.stderr, "{failed}");
    }
    let _ = ctx.stdout.flush();
    match prepared.run(&args.command).map_err(command_error)? {
        Ended::Exited(code) => std::process::exit(code),
        Ended::NotStarted { code, why } => {
            let _ = writeln!(ctx.stderr, "gocred: {why}");
            std::process::exit(code);
        }
    }
}

pub(super) fn command_error(e: exec::Error) -> CommandError {
    let mut error = CommandError::user(e.message.clone());
    if let Some(cause) = &e.cause {
        error = error.caused_by(cause);
    }
    match e.hint {
        Some(hint) => error.hinted(hint),
        None => error,
    }
}
