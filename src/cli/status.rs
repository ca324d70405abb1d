//! `gocred status`: every rule, its sources, and what is stored for it (user, expiry, where).
//! Never a secret. On a fresh machine it says what to do next.

use super::CommandError;
use super::context::Context;
use crate::policy::{Decision, Policy, SourceKind, Target};
use crate::source::StoredInfo;
use crate::time::{format_utc, relative};
use std::io::Write;

const EXAMPLE: &str = r#"[[rule]]
url = "https://gitlab.corp.example"
sources = ["keychain"]
store = "keychain""#;

pub fn cmd_status(ctx: &mut Context) -> Result<(), CommandError> {
    let path = ctx.config_path()?.clone();
    let policy = ctx.load_policy()?;
    if let Some(missing) = ctx.missing_named_config(&policy) {
        return Err(CommandError::user(missing));
    }
    let mut out = String::new();
    if !policy.exists || policy.rules.is_empty() {
        let what = if policy.exists {
            "has no rules"
        } else {
            "does not exist yet"
        };
        out += &format!("gocred policy: {} ({what})\n\n", path.display());
        out += "Every host is denied until a rule allows it. To start, put a rule like this in that file:\n\n";
        out += EXAMPLE;
        out += "\n\nthen tell git to ask gocred for that host:\n\n";
        out += "    git config --global credential.https://gitlab.corp.example.helper ''\n";
        out += "    git config --global --add credential.https://gitlab.corp.example.helper gocred\n\n";
        out += "and check it with `gocred config check`.\n";
        return write(ctx, &out);
    }
    out += &format!(
        "gocred policy: {} ({} rule{})\n",
        path.display(),
        policy.rules.len(),
        plural(policy.rules.len())
    );
    // What each store holds, fetched once per store.
    let mut stored: Vec<(SourceKind, Result<Vec<StoredInfo>, String>, String)> = Vec::new();
    for kind in [SourceKind::Keychain, SourceKind::File] {
        if policy.rules.iter().any(|r| serves(r, kind)) {
            let store = ctx.store(&policy, kind)?;
            stored.push((
                kind,
                store.list().map_err(|e| e.to_string()),
                store.location(),
            ));
        }
    }
    // A store that cannot work here fails the same way for every rule: said once, up top.
    for (kind, entries, _) in &stored {
        if let Err(e) = entries {
            out += &format!("{}: unavailable: {e}\n", kind.name());
        }
    }
    let mut shown = vec![
        false;
        stored
            .iter()
            .map(|s| s.1.as_ref().map_or(0, Vec::len))
            .sum()
    ];
    for (i, rule) in policy.rules.iter().enumerate() {
        out += &format!("\n{}\n", rule.url);
        let names: Vec<&str> = rule.sources.iter().map(|s| s.name()).collect();
        out += &format!("  sources: {}\n", names.join(", "));
        if let Some(u) = &rule.username {
            out += &format!("  username: {u}\n");
        }
        match rule.store {
            _ if rule.oauth.is_some() => {
                out += "  git's store: ignored (gocred keeps the token); erase: refresh next time\n"
            }
            Some(s) => out += &format!("  git's store/erase go to: {}\n", s.name()),
            None => out += "  git's store/erase: ignored (no `store`)\n",
        }
        if let Some(o) = &rule.oauth {
            out += &format!(
                "  oauth: {}, client id {}, tokens kept in {} (`gocred login {}`)\n",
                o.provider.name(),
                o.client_id,
                o.store.name(),
                rule.url
            );
        }
        if let Some(var) = &rule.token_env {
            let set = (ctx.env)(var).is_some_and(|v| !v.is_empty());
            out += &format!("  env: {var} is {}\n", if set { "set" } else { "not set" });
        }
        let mut index = 0;
        for (kind, entries, location) in &stored {
            match entries {
                Err(_) if serves(rule, *kind) => {
                    out += &format!("  {}: unavailable (see above)\n", kind.name())
                }
                Err(_) => {}
                Ok(entries) => {
                    for entry in entries {
                        if owner(&policy, entry) == Some(i) && serves(rule, *kind) {
                            out += &format!("  stored: {}\n", describe(entry, location, ctx.now));
                            shown[index] = true;
                        }
                        index += 1;
                    }
                }
            }
        }
    }
    let mut index = 0;
    let mut orphans = String::new();
    for (_, entries, location) in &stored {
        for entry in entries.as_ref().map_or(&[][..], Vec::as_slice) {
            if !shown[index] {
                orphans += &format!("  {}\n", describe(entry, location, ctx.now));
            }
            index += 1;
        }
    }
    if !orphans.is_empty() {
        out += "\nStored, but no rule serves it from there (never returned):\n";
        out += &orphans;
    }
    write(ctx, &out)
}

/// Whether `rule` reads from the store `kind`: as a source, or as where its OAuth tokens live.
fn serves(rule: &crate::policy::Rule, kind: SourceKind) -> bool {
    rule.sources.contains(&kind) || rule.oauth.as_ref().is_some_and(|o| o.store == kind)
}

/// The index of the rule that serves `entry`'s scope, if any.
fn owner(policy: &Policy, entry: &StoredInfo) -> Option<usize> {
    let (scheme, rest) = entry.scope.as_str().split_once("://")?;
    let (host, path) = match rest.split_once('/') {
        Some((h, p)) => (h, Some(p)),
        None => (rest, None),
    };
    match policy.decide(Target::new(scheme, host, path)?) {
        Decision::Managed { rule, scope, .. } if scope == entry.scope => {
            policy.rules.iter().position(|r| std::ptr::eq(r, rule))
        }
        _ => None,
    }
}

fn describe(entry: &StoredInfo, location: &str, now: u64) -> String {
    if let Some(problem) = &entry.problem {
        return format!("{}: cannot be read: {problem}", entry.scope);
    }
    let expiry = match entry.password_expiry_utc {
        None => "no expiry".to_owned(),
        Some(t) if t <= now => format!("EXPIRED {} ({})", format_utc(t), relative(t, now)),
        Some(t) => format!("expires {} ({})", format_utc(t), relative(t, now)),
    };
    let refresh = if entry.has_refresh_token {
        ", refresh token held"
    } else {
        ""
    };
    format!(
        "{} as {}, {expiry}{refresh}, in {location}",
        entry.scope, entry.username
    )
}

fn plural(n: usize) -> &'static str {
    if n == 1 { "" } else { "s" }
}

fn write(ctx: &mut Context, text: &str) -> Result<(), CommandError> {
    ctx.stdout
        .write_all(text.as_bytes())
        .map_err(|e| CommandError::user(format!("cannot write to stdout: {e}")))
}
