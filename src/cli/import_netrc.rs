//! `gocred import-netrc [FILE] [--save] [--remove]`: moves the credentials of a plaintext netrc
//! into the stores policy names, so the file can go.
//!
//! Each `machine` entry is filed under the rule that serves `https://<machine>` (its `store`); a
//! machine no rule serves gets a new exact-host rule storing in the keychain, printed for the
//! user to add, or appended to the config with `--save` (atomically, existing content kept, the
//! result validated first, as `login --save` does). `default` entries are reported and skipped
//! (Go ignores them). `--remove` deletes the file only when every entry was stored and read back
//! through the resolver under the policy on disk, exactly what `get` would answer; anything that
//! would be lost with the file (a `default` entry, a macro, an entry that could not be imported)
//! keeps it. Messages never hold a password.

use super::CommandError;
use super::context::Context;
use super::resolve::Resolver;
use crate::netrc;
use crate::policy::{Decision, SourceKind, Target};
use crate::secret::Secret;
use crate::source::Credential;
use std::io::Write;
use std::path::PathBuf;

#[derive(Debug, clap::Args)]
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

/// One entry to import.
struct Item {
    machine: String,
    line: usize,
    target: Target,
    username: String,
    password: Secret,
    /// Where it goes; `None` until stored.
    store: SourceKind,
    /// `Some(rule text)` when no rule serves the machine yet.
    new_rule: Option<String>,
    stored: bool,
}

fn default_file(ctx: &Context) -> Option<PathBuf> {
    if let Some(p) = (ctx.env)("NETRC").filter(|p| !p.is_empty()) {
        return Some(PathBuf::from(p));
    }
    (ctx.env)("HOME")
        .filter(|h| !h.is_empty())
        .map(|h| PathBuf::from(h).join(".netrc"))
}

pub fn new_rule_text(origin: &str) -> String {
    format!("[[rule]]\nurl = \"{origin}\"\nsources = [\"keychain\"]\nstore = \"keychain\"\n")
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
    let meta = std::fs::metadata(&path)
        .map_err(|e| CommandError::user(format!("cannot read {shown}: {e}")))?;
    if let Some(mode) = crate::fs::loose_mode(&meta) {
        let _ = writeln!(
            ctx.stderr,
            "gocred import-netrc: warning: {shown} has mode {mode:04o}: other users on this machine can read its passwords (`chmod 600 {shown}` until it is gone; revoke tokens that may have been read)"
        );
    }
    let text = std::fs::read(&path)
        .map_err(|e| CommandError::user(format!("cannot read {shown}: {e}")))?;
    let text = crate::secret::Secret::new(
        String::from_utf8(text)
            .map_err(|_| CommandError::user(format!("{shown}: not UTF-8 text, not a netrc")))?,
    );
    let parsed =
        netrc::parse(text.expose()).map_err(|e| CommandError::user(format!("{shown}: {e}")))?;
    drop(text);

    let policy = ctx.load_policy()?;
    let mut notes: Vec<String> = Vec::new();
    // What keeps the file under --remove (its content would be lost).
    let mut keep: Vec<String> = Vec::new();
    let mut items: Vec<Item> = Vec::new();
    for m in &parsed.macros {
        keep.push(format!("macro `{m}`"));
    }
    for e in &parsed.entries {
        let Some(machine) = &e.machine else {
            notes.push(format!(
                "line {}: `default` entry skipped: Go ignores it and gocred serves named hosts only",
                e.line
            ));
            keep.push(format!("the `default` entry (line {})", e.line));
            continue;
        };
        let (Some(login), Some(password)) = (&e.login, &e.password) else {
            notes.push(format!(
                "line {}: {machine}: skipped: no {} (Go needs machine, login and password)",
                e.line,
                if e.login.is_none() {
                    "login"
                } else {
                    "password"
                }
            ));
            keep.push(format!("{machine} (line {})", e.line));
            continue;
        };
        let Some(target) = Target::new("https", machine, None) else {
            notes.push(format!(
                "line {}: skipped: `{machine}` is not a host name",
                e.line
            ));
            keep.push(format!("line {}", e.line));
            continue;
        };
        if login.is_empty() || password.is_empty() {
            notes.push(format!(
                "line {}: {machine}: skipped: empty login or password",
                e.line
            ));
            keep.push(format!("{machine} (line {})", e.line));
            continue;
        }
        let (store, new_rule) = match policy.decide(target.clone()) {
            Decision::NotManaged => (SourceKind::Keychain, Some(new_rule_text(&target.origin()))),
            Decision::Managed { rule, .. } => {
                if rule.oauth.is_some() {
                    notes.push(format!(
                        "line {}: {machine}: skipped: its rule {} (line {}) gets OAuth tokens from `gocred login {machine}`",
                        e.line, rule.url, rule.line
                    ));
                    keep.push(format!("{machine} (line {})", e.line));
                    continue;
                }
                let Some(store) = rule.store else {
                    notes.push(format!(
                        "line {}: {machine}: not imported: its rule {} (line {} of {}) names no `store`; add `store = \"keychain\"` (or \"file\") to it",
                        e.line,
                        rule.url,
                        rule.line,
                        policy.path.display()
                    ));
                    keep.push(format!("{machine} (line {})", e.line));
                    continue;
                };
                (store, None)
            }
        };
        items.push(Item {
            machine: machine.clone(),
            line: e.line,
            target,
            username: login.clone(),
            password: password.clone(),
            store,
            new_rule,
            stored: false,
        });
    }

    // New rules: one per origin, in file order.
    let mut rules: Vec<String> = Vec::new();
    for it in &items {
        if let Some(r) = &it.new_rule
            && !rules.contains(r)
        {
            rules.push(r.clone());
        }
    }
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
                    it.username,
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
    let mut unverified: Vec<String> = Vec::new();
    let mut resolver = Resolver::new(ctx, &on_disk);
    for it in &items {
        let why = match on_disk.decide(it.target.clone()) {
            Decision::NotManaged => Some(
                "no rule in the config serves it (add the rule above, or use --save)".to_owned(),
            ),
            Decision::Managed { rule, scope, .. } => match resolver.resolve(rule, &scope, None) {
                Ok(Some(c)) if c.username == it.username && c.password == it.password => None,
                Ok(Some(_)) => Some(format!(
                    "its rule {} answers with another credential (an earlier source)",
                    rule.url
                )),
                Ok(None) => Some(match &rule.username {
                    Some(u) if *u != it.username => format!(
                        "its rule {} asks for user {u}, the file has another",
                        rule.url
                    ),
                    _ => "not found when read back".to_owned(),
                }),
                Err(e) => Some(format!("cannot read it back: {}", e.message)),
            },
        };
        if let Some(why) = why {
            unverified.push(format!("{} ({why})", it.machine));
        }
    }
    drop(resolver);
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
