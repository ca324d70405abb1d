//! `gocred audit [--host H] [--since T] [--until T] [--json]`: the audit log (src/audit.rs),
//! filtered, oldest first: the rotated `PATH.1` and then `PATH`.

use super::context::Context;
use super::{Command, CommandError};
use crate::policy::{Input, normalize};
use serde_json::Value;
use std::io::Write;
use std::path::PathBuf;

pub const LONG_ABOUT: &str = "Print the audit log: one line per decision gocred took for a \
credential (get, store, erase, netrc, exec, goauth, login, logout), oldest first, from the log \
that the policy's [audit] table names (and its rotated PATH.1). Never a secret: the log holds \
none.";

#[derive(Debug, clap::Args)]
pub struct AuditArgs {
    /// Only decisions for this host (a host, host:port or URL; normalized as every host argument)
    #[arg(long, value_name = "HOST")]
    pub host: Vec<String>,
    /// Only decisions at or after T: RFC 3339 (2026-12-05T13:00:00Z), a date (2026-12-05), or
    /// a time ago (30m, 2h, 7d)
    #[arg(long, value_name = "T")]
    pub since: Option<String>,
    /// Only decisions before T (same forms as --since)
    #[arg(long, value_name = "T")]
    pub until: Option<String>,
    /// Print the matching log lines as they are (JSON lines, schema in gocred-audit(1))
    #[arg(long)]
    pub json: bool,
    /// Read this log instead of the one the policy names
    #[arg(long, value_name = "PATH")]
    pub file: Option<PathBuf>,
}

/// The name a command's decisions are logged under; `None`: not logged.
pub fn command_name(command: &Command) -> &'static str {
    match command {
        Command::Get => "get",
        Command::Store => "store",
        Command::Erase => "erase",
        Command::Netrc(_) => "netrc",
        Command::Exec(_) => "exec",
        Command::Goauth(_) => "goauth",
        Command::Login(_) => "login",
        Command::Logout(_) => "logout",
        _ => "",
    }
}

/// For `login` and `logout`, which decide about one host as a whole: the normalized target and
/// what success is called, logged by [`record_command`] once the command is done.
pub fn whole_command(command: &Command) -> Option<(String, &'static str)> {
    let (target, done) = match command {
        Command::Login(a) => (&a.target, "logged in"),
        Command::Logout(a) => (&a.target, "logged out"),
        _ => return None,
    };
    let target = normalize(Input::Url(target)).ok()?;
    Some((target.origin(), done))
}

/// Logs the outcome of a [`whole_command`] (its error, if any, is added by the recorder).
pub fn record_command(whole: Option<(String, &'static str)>, ok: bool) {
    if let Some((target, done)) = whole {
        crate::audit::current(|a| a.outcome(Some(&target), if ok { done } else { "failed" }));
    }
}

/// The most of one log file `gocred audit` reads (a rotated log is at most 4 GiB by the policy,
/// but a person reading it through this command wants the filter, not the whole).
const MAX_LOG_BYTES: u64 = 1 << 30;

pub fn cmd_audit(ctx: &mut Context, args: AuditArgs) -> Result<(), CommandError> {
    let now = ctx.now;
    let since = args
        .since
        .as_deref()
        .map(|t| when(t, now, "--since"))
        .transpose()?;
    let until = args
        .until
        .as_deref()
        .map(|t| when(t, now, "--until"))
        .transpose()?;
    let hosts = args
        .host
        .iter()
        .map(|h| {
            normalize(Input::Url(h)).map_err(|e| {
                CommandError::new(
                    super::Kind::Usage,
                    format!("--host {}: {e}", crate::redact::shown(h)),
                )
            })
        })
        .collect::<Result<Vec<_>, _>>()?;
    let path = match args.file {
        Some(p) => p,
        None => {
            let policy = ctx.load_policy()?;
            match policy.audit {
                Some(a) => a.path,
                None => {
                    return Err(CommandError::config(format!(
                        "the policy {} has no [audit] table, so nothing is logged; add \
                         `[audit]` with `path = \"~/.local/state/gocred/audit.log\"`",
                        policy.path.display()
                    )));
                }
            }
        }
    };
    let mut shown = 0usize;
    for file in [crate::audit::sibling(&path, ".1"), path.clone()] {
        let text = match crate::fs::read_regular(&file, MAX_LOG_BYTES) {
            Ok(Some((bytes, _))) => bytes,
            Ok(None) => continue,
            Err(e) => {
                return Err(CommandError::user(format!(
                    "cannot read the audit log {}: {e}",
                    file.display()
                )));
            }
        };
        for line in text.0.split(|&b| b == b'\n') {
            if line.is_empty() {
                continue;
            }
            let Ok(entry) = serde_json::from_slice::<Value>(line) else {
                // A torn last line (a full disk mid-write): skipped, and said.
                ctx.note(
                    Some("audit"),
                    &format!("{}: skipped a line that is not JSON", file.display()),
                );
                continue;
            };
            if !keep(&entry, &hosts, since, until) {
                continue;
            }
            shown += 1;
            let out = if args.json {
                String::from_utf8_lossy(line).into_owned()
            } else {
                human(&entry)
            };
            writeln!(ctx.stdout, "{out}").map_err(|e| {
                CommandError::user("cannot write the audit log to stdout").caused_by(&e)
            })?;
        }
    }
    if shown == 0 && !args.json {
        ctx.note(
            Some("audit"),
            &format!("no decision in {} matches", path.display()),
        );
    }
    Ok(())
}

/// Seconds since the epoch for `--since`/`--until`: RFC 3339, a date, or `N[smhd]` ago.
fn when(text: &str, now: u64, flag: &str) -> Result<u64, CommandError> {
    if let Some(t) = crate::time::parse_rfc3339(text) {
        return Ok(t);
    }
    let unit = text.chars().last().and_then(|c| match c {
        's' => Some(1),
        'm' => Some(60),
        'h' => Some(3600),
        'd' => Some(86_400),
        _ => None,
    });
    let n = text
        .get(..text.len().saturating_sub(1))
        .and_then(|n| n.parse::<u64>().ok());
    match (n, unit) {
        (Some(n), Some(unit)) => Ok(now.saturating_sub(n.saturating_mul(unit))),
        _ => Err(CommandError::new(
            super::Kind::Usage,
            format!(
                "{flag} {}: expected an RFC 3339 time (2026-12-05T13:00:00Z), a date (2026-12-05) \
             or a time ago (30m, 2h, 7d)",
                crate::redact::shown(text)
            ),
        )),
    }
}

fn keep(
    entry: &Value,
    hosts: &[crate::policy::Target],
    since: Option<u64>,
    until: Option<u64>,
) -> bool {
    if since.is_some() || until.is_some() {
        let Some(t) = entry["time"].as_str().and_then(crate::time::parse_rfc3339) else {
            return false;
        };
        if since.is_some_and(|s| t < s) || until.is_some_and(|u| t >= u) {
            return false;
        }
    }
    if !hosts.is_empty() {
        let target = entry["target"]
            .as_str()
            .and_then(|t| normalize(Input::Url(t)).ok());
        let Some(target) = target else { return false };
        if !hosts
            .iter()
            .any(|h| h.host == target.host && (h.port.is_none() || h.port == target.port))
        {
            return false;
        }
    }
    true
}

/// One line for a person: time, command, target, outcome, source, rule, who asked.
fn human(e: &Value) -> String {
    let s = |k: &str| e[k].as_str().unwrap_or("").to_owned();
    let mut out = format!("{} {} {}", s("time"), s("command"), s("target"));
    out.push_str(&format!(": {}", s("outcome")));
    if let Some(by) = e["answered_by"].as_str() {
        out.push_str(&format!(" by {by}"));
        if let Some(user) = e["username"].as_str() {
            out.push_str(&format!(" (user {user})"));
        }
    }
    let tried: Vec<String> = e["sources"]
        .as_array()
        .into_iter()
        .flatten()
        .filter(|st| st["result"] != "found")
        .map(|st| {
            let mut t = format!(
                "{} {}",
                st["source"].as_str().unwrap_or(""),
                st["result"].as_str().unwrap_or("")
            );
            if let Some(d) = st["detail"].as_str() {
                t.push_str(&format!(" ({d})"));
            }
            t
        })
        .collect();
    if !tried.is_empty() {
        out.push_str(&format!("; {}", tried.join(", ")));
    }
    match &e["rule"] {
        Value::Object(r) => out.push_str(&format!(
            "; rule {} ({} line {})",
            r.get("url").and_then(Value::as_str).unwrap_or(""),
            r.get("file").and_then(Value::as_str).unwrap_or(""),
            r.get("line").and_then(Value::as_u64).unwrap_or(0)
        )),
        _ => out.push_str("; no rule"),
    }
    out.push_str(&format!(
        "; asked by {} (pid {}, parent {} {})",
        s("caller"),
        e["pid"],
        e["ppid"],
        s("parent")
    ));
    out
}
