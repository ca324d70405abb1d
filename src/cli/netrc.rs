//! `gocred netrc`: a netrc for the go command, built by [`crate::netrc::build`] (what it holds
//! and leaves out is said there).

use super::CommandError;
use super::context::Context;
use crate::fs::{loose_mode, write_private_atomic};
use crate::netrc::build;
use crate::policy::{Input, machine_name, normalize};
use std::io::Write;
use std::path::{Path, PathBuf};

#[derive(Debug, clap::Args)]
#[command(after_long_help = r#"What is written:
One line per host, `machine HOST login USER password TOKEN`, and only when curl (git's libcurl), the go command and Python's `netrc` module all read it back as exactly that entry. There is never a `default` entry, and never two entries for one machine.

Left out, each with a note on stderr that names the rule and never a secret: a wildcard rule (it names no host), an http rule (clear text), a path-scoped rule (an entry covers the whole host); a host name, user name or password that is a netrc keyword (`machine`, `default`, `login`, `password`, `account`, `macdef`, `user`) in any letter case, or holds whitespace, a quote, a backslash or a control character, or starts with `#`; an entry longer than the 4094-byte line git's libcurl reads.

libcurl matches `machine` without the port, for every scheme, port and path of the host; go matches `host[:port]` exactly, for every path. So `machine HOST` is left out when another rule names HOST on another port or scheme, or a path on it (the entry would answer that rule's requests), and `machine HOST:PORT` when a path-scoped rule shares that port.

git reads `~/.netrc`, never `$NETRC`: this netrc is for go (`gocred exec` hands it over through `NETRC`), and git gets its credentials from gocred as its helper. Written as `~/.netrc`, it would give a host's credential to every port and scheme of that host, plain http included, and some libcurl 8 releases before 8.11.1 refuse a whole netrc that holds a word over 127 bytes (a long token): git would then fail every fetch."#)]
pub struct NetrcArgs {
    /// Write the netrc to FILE (mode 0600, replaced atomically) instead of stdout
    #[arg(long, value_name = "FILE")]
    pub output: Option<PathBuf>,
    /// Only this host (`host` or `host:port`); may be given several times
    #[arg(long = "host", value_name = "HOST")]
    pub hosts: Vec<String>,
}

/// A `--host` argument (`host`, `host:port` or `https://host[:port]/`) as a normalized
/// `host[:port]` (default port dropped), through the one normalization of a target.
pub fn normalize_host_arg(arg: &str) -> Result<String, CommandError> {
    let bad = |why: &dyn std::fmt::Display| {
        CommandError::user(format!("--host {arg}: {why} (expected host or host:port)"))
    };
    let target = normalize(Input::Url(arg)).map_err(|e| bad(&e))?;
    if target.scheme != "https" {
        return Err(bad(&"only https hosts get netrc entries"));
    }
    if target.path.is_some() {
        return Err(bad(&"a netrc entry covers a whole host, not a path"));
    }
    Ok(machine_name(&target.host, target.port))
}

/// Refuses an existing file that group or others may read or write: someone may already hold it
/// open, or the directory may be meant for sharing.
pub fn check_output_path(path: &Path) -> Result<(), CommandError> {
    match std::fs::symlink_metadata(path) {
        Ok(meta) if meta.is_dir() => Err(CommandError::user(format!(
            "--output {}: is a directory",
            path.display()
        ))),
        Ok(meta) => match loose_mode(&meta) {
            Some(mode) => Err(CommandError::user(format!(
                "--output {}: mode {mode:04o} lets other users read it; remove it or `chmod 600 {}` first",
                path.display(),
                path.display()
            ))),
            None => Ok(()),
        },
        Err(_) => Ok(()),
    }
}

pub fn cmd_netrc(ctx: &mut Context, args: NetrcArgs) -> Result<(), CommandError> {
    let hosts = args
        .hosts
        .iter()
        .map(|h| normalize_host_arg(h))
        .collect::<Result<Vec<_>, _>>()?;
    if let Some(path) = &args.output {
        check_output_path(path)?;
    }
    let policy = ctx.load_policy()?;
    let built = build(&mut ctx.sources(&policy), &hosts);
    for note in &built.notes {
        ctx.note(Some("netrc"), note);
    }
    match &args.output {
        Some(path) => write_private_atomic(path, &built.text.0).map_err(|e| {
            CommandError::user(format!("cannot write {}", path.display())).caused_by(&e)
        }),
        None => ctx
            .stdout
            .write_all(&built.text.0)
            .and_then(|()| ctx.stdout.flush())
            .map_err(|e| CommandError::user(format!("cannot write to stdout: {e}"))),
    }
}
