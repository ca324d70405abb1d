//! `gocred status [--json]`: every rule, its sources, what is stored for it (user, expiry,
//! where), and whether git asks gocred for it (git's helper list as git resolves it, see
//! [`crate::gitconfig`]), with the fix when it does not. Never a secret. On a fresh machine it
//! says what to do next. `--json` prints the same as one object of a stable schema (`"schema":
//! 1`, every field described in gocred-status(1)).

use super::CommandError;
use super::context::Context;
use crate::gitconfig::{self, CredentialUrl, GitConfig, GitSide, Program, Wanted};
use crate::policy::{Decision, Policy, Rule, SourceKind, Target, machine};
use crate::source::StoredInfo;
use crate::time::{format_utc, relative};
use serde_json::{Value, json};
use std::io::Write;

#[derive(Debug, clap::Args)]
pub struct StatusArgs {
    /// Print the status as one JSON object (schema 1; see JSON OUTPUT below)
    #[arg(long)]
    pub json: bool,
}

pub(super) const LONG_ABOUT: &str =
    "Show every rule, its sources and what is stored (never a secret), \
and whether git asks gocred for it.

For each rule, `git asks gocred: yes` means git runs gocred first for the rule's URL \
(`https://host` or `https://host/prefix`) and, for a rule with a path, sends the path \
(`credential.useHttpPath`). Otherwise the line says `no`, why, and the fix: `gocred setup git`, \
or the config entry that undoes what it writes. gocred reads git's config through `git config` \
(from the current directory, so a repository's own config counts) and resolves \
`credential.helper` and `credential.<url>.helper` in git's order: every matching entry, in config \
order; an empty value empties the list so far; a `<url>` matches by scheme, host (`*.` matches \
one label), port and path prefix. For a wildcard rule (`https://*.corp.example`) that is the \
config every host under it gets; `gocred doctor` checks one host's own. A bare helper name `gocred` runs `git-credential-gocred` from \
git's exec-path or PATH; a helper before gocred answers first whenever it has a credential.

JSON OUTPUT (--json): an object with `schema` (1; a new number only when a field changes \
meaning or goes away), `policy` (`path`, `exists`), `git` (`error`: why git's config could not be \
read, or null) and `rules`, one per rule in file order, each with: `url` (as written), `line`, \
`sources` (names), `username` (or null), `store` (or null), `token_env` (`{\"name\", \
\"set\"}` or null), `oauth` (`{\"provider\", \"client_id\", \"store\"}` or null), `command` (what runs, its \
timeout and cache; only in a `command` rule), `ci` (where the CI job token comes from, or why there \
is none; only in a rule with the `ci` source), `stored` \
(entries: `scope`, `username`, `expires` (Unix seconds or null), `expired`, \
`refresh_token`, `location`, `problem` (or null)), `store_errors` (`{\"store\", \
\"error\"}`), and `git`: `asks_gocred` (bool), `url` (what git's config was matched \
against), `use_http_path` (bool), `needs_path` (bool), `helpers` (what git runs, in order: \
`value`, `key`, `scope`, `origin`, `program` (the path found, or null), `found`, `gocred`) and \
`problems` (`code`, `message`, `fix`; codes: git_config_unreadable, git_stops, no_helper, \
no_gocred, gocred_not_found, gocred_arguments, helper_before_gocred, no_use_http_path). \
`orphans` lists stored entries no rule serves (same fields as `stored`). `machine` is the \
machine policy (null when there is none): `path`, `user_rules`, `deny`, `refused` (user rules it \
forbids: `url`, `line`, `machine_line`, `why`) and `narrowed` (`url`, `line`, `machine_line`, \
`what`); each rule's `decided_by` says which layer decided it: `layer` (`machine` or `user`), \
`path` and `line` of that file, `narrowed_by` (machine policy lines), `secret_files` (false: \
netrc and exec leave it out).";

const EXAMPLE: &str = r#"[[rule]]
url = "https://gitlab.corp.example"
sources = ["keychain"]
store = "keychain""#;

pub fn cmd_status(ctx: &mut Context, args: StatusArgs) -> Result<(), CommandError> {
    let path = ctx.config_path()?.clone();
    let policy = ctx.load_policy()?;
    if let Some(missing) = ctx.missing_named_config(&policy) {
        return Err(CommandError::user(missing));
    }
    let mut out = String::new();
    if policy.rules.is_empty() {
        let what = if policy.exists {
            "has no rules"
        } else {
            "does not exist yet"
        };
        out += &format!("gocred policy: {} ({what})\n", path.display());
        out += &machine::summary(&policy);
        out += "\n";
        out += "Every host is denied until a rule allows it. To start, let gocred write one \
                (commented, for your host):\n\n    gocred config init gitlab.corp.example\n\n\
                or put a rule like this in that file:\n\n";
        out += EXAMPLE;
        out += "\n\nthen check it with `gocred config check`, and tell git to ask gocred for its \
                 hosts with `gocred setup git`.\n";
        if args.json {
            let v = json!({
                "schema": 1,
                "policy": {"path": path.display().to_string(), "exists": policy.exists},
                "machine": machine::summary_json(&policy),
                "git": {"error": null},
                "rules": [],
                "orphans": [],
            });
            return write(ctx, &format!("{v:#}\n"));
        }
        return write(ctx, &out);
    }
    out += &format!(
        "gocred policy: {} ({} rule{})\n",
        path.display(),
        policy.rules.len(),
        plural(policy.rules.len())
    );
    out += &machine::summary(&policy);
    // git's config, read once for every rule.
    let git =
        gitconfig::read((ctx.env)("PATH").map(Into::into)).map_err(|e| (e.to_string(), e.fix()));
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
    let mut rules_json = Vec::new();
    for (i, rule) in policy.rules.iter().enumerate() {
        let mut rule_json = json!({
            "url": rule.url,
            "line": rule.line,
            "sources": rule.sources.iter().map(|s| s.name()).collect::<Vec<_>>(),
            "username": rule.username,
            "store": rule.store.map(SourceKind::name),
            "token_env": null,
            "oauth": null,
        });
        out += &format!("\n{}\n", rule.url);
        out += &machine::decided_by(&policy, rule);
        rule_json["decided_by"] = machine::rule_json(&policy, rule);
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
            rule_json["oauth"] = json!({
                "provider": o.provider.name(),
                "client_id": o.client_id,
                "store": o.store.name(),
            });
        }
        if let Some(c) = &rule.command {
            let said = crate::source::command::describe(c);
            out += &format!("  command: {said}\n");
            rule_json["command"] = json!(said);
        }
        if rule.sources.contains(&SourceKind::Ci) {
            let said = crate::ci::describe(&*ctx.env);
            out += &format!("  ci: {said}\n");
            rule_json["ci"] = json!(said);
        }
        if let Some(var) = &rule.token_env {
            let set = (ctx.env)(var).is_some_and(|v| !v.is_empty());
            out += &format!("  env: {var} is {}\n", if set { "set" } else { "not set" });
            rule_json["token_env"] = json!({"name": var, "set": set});
        }
        let mut index = 0;
        let mut stored_json = Vec::new();
        let mut errors_json = Vec::new();
        for (kind, entries, location) in &stored {
            match entries {
                Err(e) if serves(rule, *kind) => {
                    out += &format!("  {}: unavailable (see above)\n", kind.name());
                    errors_json.push(json!({"store": kind.name(), "error": e}));
                }
                Err(_) => {}
                Ok(entries) => {
                    for entry in entries {
                        if owner(&policy, entry) == Some(i) && serves(rule, *kind) {
                            out += &format!("  stored: {}\n", describe(entry, location, ctx.now));
                            stored_json.push(entry_json(entry, location, ctx.now));
                            shown[index] = true;
                        }
                        index += 1;
                    }
                }
            }
        }
        rule_json["stored"] = Value::Array(stored_json);
        rule_json["store_errors"] = Value::Array(errors_json);
        let (line, git_json) = git_line(&git, rule);
        out += &line;
        rule_json["git"] = git_json;
        rules_json.push(rule_json);
    }
    let mut index = 0;
    let mut orphans = String::new();
    let mut orphans_json = Vec::new();
    for (_, entries, location) in &stored {
        for entry in entries.as_ref().map_or(&[][..], Vec::as_slice) {
            if !shown[index] {
                orphans += &format!("  {}\n", describe(entry, location, ctx.now));
                orphans_json.push(entry_json(entry, location, ctx.now));
            }
            index += 1;
        }
    }
    if !orphans.is_empty() {
        out += "\nStored, but no rule serves it from there (never returned):\n";
        out += &orphans;
    }
    if args.json {
        let v = json!({
            "schema": 1,
            "policy": {"path": path.display().to_string(), "exists": policy.exists},
            "machine": machine::summary_json(&policy),
            "git": {"error": git.as_ref().err().map(|e| &e.0)},
            "rules": rules_json,
            "orphans": orphans_json,
        });
        return write(ctx, &format!("{v:#}\n"));
    }
    write(ctx, &out)
}

/// What git's side of `rule` is: the URL git's config is matched against, and what
/// `gocred setup git` writes for it.
pub(super) fn wanted_for_rule<'a>(
    rule: &Rule,
    origin: &'a str,
    prefix: Option<&'a str>,
) -> Wanted<'a> {
    let host = crate::policy::rule_machine(rule);
    Wanted {
        url: CredentialUrl {
            protocol: rule.pattern.scheme.clone(),
            host,
            path: rule
                .pattern
                .path
                .as_ref()
                .map(|p| p.trim_matches('/').to_owned()),
        },
        origin,
        prefix,
    }
}

/// The `git asks gocred` line of a rule, and its JSON.
fn git_line(git: &Result<GitConfig, (String, &str)>, rule: &Rule) -> (String, Value) {
    let origin = crate::policy::rule_origin(rule);
    let prefix = crate::policy::rule_path_prefix(rule);
    let wanted = wanted_for_rule(rule, &origin, prefix.as_deref());
    match git {
        Ok(config) => {
            let side = gitconfig::check(config, &wanted);
            (render_git_side(&side, "  "), git_side_json(&side))
        }
        Err((e, fix)) => {
            let line = format!("  git asks gocred: no: {e}\n    fix: {fix}\n");
            let v = json!({
                "asks_gocred": false,
                "url": null,
                "use_http_path": false,
                "needs_path": prefix.is_some(),
                "helpers": [],
                "problems": [{"code": "git_config_unreadable", "message": e, "fix": fix}],
            });
            (line, v)
        }
    }
}

/// `git asks gocred: yes`, or `no: why` and `fix: ...` lines, indented by `indent`.
pub(super) fn render_git_side(side: &GitSide<'_>, indent: &str) -> String {
    let mut out = String::new();
    if side.asks_gocred() {
        out += &format!("{indent}git asks gocred: yes\n");
    }
    for (n, p) in side.problems.iter().enumerate() {
        let head = if n == 0 {
            "git asks gocred: no:"
        } else {
            "and:"
        };
        out += &format!("{indent}{head} {}\n{indent}  fix: {}\n", p.message, p.fix);
    }
    out
}

pub(super) fn git_side_json(side: &GitSide<'_>) -> Value {
    let helpers: Vec<Value> = side
        .helpers
        .iter()
        .map(|h| {
            let (program, found) = match &h.program {
                Program::Found { path, .. } => (Some(path.display().to_string()), true),
                Program::Missing { .. } => (None, false),
                Program::Shell => (None, true),
            };
            json!({
                "value": h.entry.value,
                "key": h.entry.key,
                "scope": h.entry.scope,
                "origin": h.entry.origin,
                "program": program,
                "found": found,
                "gocred": h.gocred,
            })
        })
        .collect();
    let problems: Vec<Value> = side
        .problems
        .iter()
        .map(|p| json!({"code": p.code, "message": p.message, "fix": p.fix}))
        .collect();
    json!({
        "asks_gocred": side.asks_gocred(),
        "url": side.url,
        "use_http_path": side.use_http_path,
        "needs_path": side.needs_path,
        "helpers": helpers,
        "problems": problems,
    })
}

fn entry_json(entry: &StoredInfo, location: &str, now: u64) -> Value {
    json!({
        "scope": entry.scope.as_str(),
        "username": entry.username,
        "expires": entry.password_expiry_utc,
        "expired": entry.password_expiry_utc.is_some_and(|t| t <= now),
        "refresh_token": entry.has_refresh_token,
        "location": location,
        "problem": entry.problem,
    })
}

/// Whether `rule` reads from the store `kind`: as a source, or as where its OAuth tokens live.
fn serves(rule: &crate::policy::Rule, kind: SourceKind) -> bool {
    rule.sources.contains(&kind)
        || rule.oauth.as_ref().is_some_and(|o| o.store == kind)
        || crate::source::command::caches_in(rule) == Some(kind)
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
