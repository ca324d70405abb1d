//! `gocred import-netrc [FILE] [--save] [--remove]`: moves the credentials of a plaintext netrc
//! into the stores policy names, so the file can go.
//!
//! The file is read the way git reads it ([`crate::netrc::import`], which models git's libcurl):
//! each host gets exactly the credential git would send it, or nothing and a note saying why
//! (the first entry wins for a host and its aliases; curl's comment, quote, macro and line rules
//! apply; a `host:port` only when git and go agree; never the `default` entry). Where go would
//! use another entry, git's is imported and the note says so.
//!
//! Each host is filed under the rule that serves `https://<host>` (its `store`); a host no rule
//! serves gets a new exact-host rule storing in the keychain, printed for the user to add, or
//! appended to the config with `--save` (atomically, existing content kept, the result validated
//! first, as `login --save` does). `--remove` deletes the file only when every entry was stored
//! and read back through the resolver under the policy on disk, exactly what `get` would answer;
//! anything that would be lost with the file (a `default` entry, a macro, an entry that was not
//! imported) keeps it. Messages never hold a login's password.

use super::CommandError;
use super::context::Context;
use crate::netrc;
use crate::policy::Target;
use crate::source::Credential;
use std::io::Write;
use std::path::PathBuf;

#[derive(Debug, clap::Args)]
#[command(after_long_help = r#"How the file is read:
As git reads it, through libcurl: each host gets exactly the credential git would send it, or nothing and a note on stderr that says why (never with a password). Where libcurl and go read the file differently, gocred follows git, and the note says what go would use.

The first entry for a host wins, with its aliases: libcurl compares `machine` names case-insensitively, `machine HOST:443` is used by no reader for HOST, and a host is not imported when an entry for `HOST.` (trailing dot) gives another credential than HOST's, since gocred serves both as one host.

libcurl's rules: keywords in any letter case; `#` starts a comment at any word, even where a value is expected (the next word becomes the value); a double-quoted value is one word (a backslash escapes the character after it), and a quote not closed on its line makes libcurl give up on the file from there; `macdef` inside the entry of the host being looked up is not a macro; a line holding a NUL byte is dropped together with the next line, a NUL first on a line ends the file, and a line of 4095 bytes or more is dropped. go reads (keyword, value) pairs within a line, lower-case keywords only, with no comments or quotes, and compares names exactly, port included.

libcurl ignores the port in `machine` names, so git sends `machine HOST`'s credential to every port of HOST. An entry for `HOST:PORT` is imported only when that is also what go uses for `HOST:PORT`; otherwise git and go disagree and nothing is imported for that port.

Never imported: the `default` entry (git would send it to every host), a credential git would send with an empty user name or password, a name that is not a host name. Each keeps the file under `--remove`. These are the rules of Debian 12's libcurl (7.88.1 with its security fixes), which both git 2.47 and git 2.39 link here; tests/cli/netrc_differential.rs checks them against the real curl, git and go."#)]
pub struct ImportNetrcArgs {
    /// The netrc to import (default: $NETRC, else ~/.netrc)
    #[arg(value_name = "FILE")]
    pub file: Option<PathBuf>,
    /// Append the rules for machines no rule serves to the config file
    #[arg(long)]
    pub save: bool,
    /// Delete FILE once every entry is stored and read back
    #[arg(long)]
    pub remove: bool,
}

fn default_file(ctx: &Context) -> Option<PathBuf> {
    if let Some(p) = (ctx.env)("NETRC").filter(|p| !p.is_empty()) {
        return Some(PathBuf::from(p));
    }
    (ctx.env)("HOME")
        .filter(|h| !h.is_empty())
        .map(|h| PathBuf::from(h).join(".netrc"))
}

/// The largest netrc read (a real one is a few lines).
const MAX_NETRC: u64 = 1 << 20;

/// The file's bytes: a regular file (not a FIFO or device, whose read could hang), not a
/// symlink's target that is none, at most [`MAX_NETRC`], UTF-8.
fn read_netrc(
    path: &std::path::Path,
    shown: &str,
    ctx: &mut Context,
) -> Result<crate::secret::SecretBytes, CommandError> {
    use std::io::Read;
    let mut options = std::fs::OpenOptions::new();
    options.read(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::custom_flags(&mut options, libc::O_NONBLOCK);
    let file = options
        .open(path)
        .map_err(|e| CommandError::user(format!("cannot read {shown}: {e}")))?;
    let meta = file
        .metadata()
        .map_err(|e| CommandError::user(format!("cannot read {shown}: {e}")))?;
    if !meta.is_file() {
        return Err(CommandError::user(format!(
            "{shown}: not a regular file; name the netrc file itself"
        )));
    }
    if let Some(mode) = crate::fs::loose_mode(&meta) {
        let _ = writeln!(
            ctx.stderr,
            "gocred import-netrc: warning: {shown} has mode {mode:04o}: other users on this machine can read its passwords (`chmod 600 {shown}` until it is gone; revoke tokens that may have been read)"
        );
    }
    let mut data = crate::secret::SecretBytes::default();
    file.take(MAX_NETRC + 1)
        .read_to_end(&mut data.0)
        .map_err(|e| CommandError::user(format!("cannot read {shown}: {e}")))?;
    if data.0.len() as u64 > MAX_NETRC {
        return Err(CommandError::user(format!(
            "{shown}: larger than {MAX_NETRC} bytes, not a netrc"
        )));
    }
    if std::str::from_utf8(&data.0).is_err() {
        return Err(CommandError::user(format!(
            "{shown}: not UTF-8 text, not a netrc"
        )));
    }
    Ok(data)
}

pub fn cmd_import_netrc(ctx: &mut Context, args: ImportNetrcArgs) -> Result<(), CommandError> {
    let path = args
        .file
        .clone()
        .or_else(|| default_file(ctx))
        .ok_or_else(|| {
            CommandError::user(
                "cannot tell where the netrc is: name the file, or set NETRC or HOME",
            )
        })?;
    let shown = path.display().to_string();
    let data = read_netrc(&path, &shown, ctx)?;
    let plan = netrc::import::plan(&data.0);
    drop(data);

    let policy = ctx.load_policy()?;
    let netrc::filing::Filing {
        mut items,
        mut notes,
        keep,
        rules,
    } = netrc::filing::file(plan, &policy);

    if args.save && !rules.is_empty() {
        let targets: Vec<Target> = items
            .iter()
            .filter(|i| i.new_rule.is_some())
            .map(|i| i.target.clone())
            .collect();
        super::login::save_rules(ctx, &rules.join("\n"), &targets)?;
    }

    let mut failed = 0usize;
    for it in &mut items {
        let scope = crate::policy::ScopeKey(it.target.origin());
        let store = ctx.store(&policy, it.store)?;
        let cred = Credential {
            username: it.username.clone(),
            password: it.password.clone(),
            password_expiry_utc: None,
            oauth_refresh_token: None,
        };
        match store.store(&scope, cred) {
            Ok(()) => {
                it.stored = true;
                let _ = writeln!(
                    ctx.stderr,
                    "gocred import-netrc: {} ({}): stored in {}{}",
                    it.machine,
                    crate::redact::shown(&it.username),
                    store.location(),
                    if it.new_rule.is_some() {
                        " (no rule serves it yet: the keychain, by default)"
                    } else {
                        ""
                    }
                );
            }
            Err(e) => {
                failed += 1;
                notes.push(format!("line {}: {}: not stored: {e}", it.line, it.machine));
            }
        }
    }
    for n in &notes {
        let _ = writeln!(ctx.stderr, "gocred import-netrc: {n}");
    }
    if !rules.is_empty() {
        if args.save {
            let _ = writeln!(
                ctx.stdout,
                "Added to {}:\n\n{}",
                policy.path.display(),
                rules.join("\n")
            );
        } else {
            let _ = writeln!(
                ctx.stderr,
                "gocred import-netrc: no rule in {} serves {} of these hosts; add the rules on stdout (or run again with --save), or `gocred get` will not answer for them",
                policy.path.display(),
                rules.len()
            );
            let _ = write!(ctx.stdout, "{}", rules.join("\n"));
        }
    }
    let _ = ctx.stdout.flush();
    if failed > 0 {
        return Err(CommandError::user(format!(
            "{failed} entr{} of {shown} not stored (see above); the file is kept",
            if failed == 1 { "y" } else { "ies" }
        )));
    }
    if !args.remove {
        return Ok(());
    }

    // Read every entry back through the policy on disk, exactly as `get` answers a request
    // without a user name (what git and go send).
    let on_disk = ctx.load_policy()?;
    let unverified = netrc::filing::unverified(&mut ctx.sources(&on_disk), &items);
    if !unverified.is_empty() || !keep.is_empty() {
        let mut reasons = Vec::new();
        if !unverified.is_empty() {
            reasons.push(format!("not verified: {}", unverified.join(", ")));
        }
        if !keep.is_empty() {
            reasons.push(format!("would be lost with it: {}", keep.join(", ")));
        }
        return Err(CommandError::user(format!(
            "not removing {shown}: {}",
            reasons.join("; ")
        )));
    }
    std::fs::remove_file(&path)
        .map_err(|e| CommandError::user(format!("cannot remove {shown}: {e}")))?;
    let _ = writeln!(
        ctx.stderr,
        "gocred import-netrc: every entry is stored and reads back; removed {shown}"
    );
    Ok(())
}
