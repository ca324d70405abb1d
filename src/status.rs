//! What `gocred status` (and `doctor`) report of a policy: every rule, its sources, what is
//! stored for it (user, expiry, where), and whether git asks gocred for it (git's helper list as
//! git resolves it, see [`crate::gitconfig`]), with the fix when it does not. Never a secret.
//! [`Status::collect`] gathers it once (git's config read once, each store listed once);
//! [`Status::render`] shows it as text and as JSON (`"schema": 1`, every field described in
//! gocred-status(1)); [`fresh`] is what a machine with no rules is told.

use crate::gitconfig::{self, CredentialUrl, GitConfig, GitSide, Program, Wanted};
use crate::policy::{Decision, Policy, Rule, SourceKind, Target, machine};
use crate::source::StoredInfo;
use crate::source::sources::{self, Lookup};
use crate::time::{format_utc, relative};
use serde_json::{Value, json};

const EXAMPLE: &str = r#"[[rule]]
url = "https://gitlab.corp.example"
sources = ["keychain"]
store = "keychain""#;

/// What a policy with no rules (or no file) is told, as text and as JSON.
pub fn fresh(policy: &Policy) -> (String, Value) {
    let path = &policy.path;
    let what = if policy.exists {
        "has no rules"
    } else {
        "does not exist yet"
    };
    let mut out = format!("gocred policy: {} ({what})\n", path.display());
    out += &machine::summary(policy);
    out += &crate::audit::summary(policy.audit.as_ref());
    out += "\n";
    out += "Every host is denied until a rule allows it. To start, let gocred write one \
            (commented, for your host):\n\n    gocred config init gitlab.corp.example\n\n\
            or put a rule like this in that file:\n\n";
    out += EXAMPLE;
    out += "\n\nthen check it with `gocred config check`, and tell git to ask gocred for its \
             hosts with `gocred setup git`.\n";
    let v = json!({
        "schema": 1,
        "policy": {"path": path.display().to_string(), "exists": policy.exists},
        "machine": machine::summary_json(policy),
        "audit": crate::audit::summary_json(policy.audit.as_ref()),
        "git": {"error": null},
        "rules": [],
        "orphans": [],
    });
    (out, v)
}

/// What one store holds, listed once for every rule.
pub struct Listing {
    pub kind: SourceKind,
    /// Every entry (never a secret), or why the store cannot be listed here.
    pub entries: Result<Vec<StoredInfo>, String>,
    /// Where the entries live (a path, "Secret Service (login collection)").
    pub location: String,
}

/// A policy's status, gathered once.
pub struct Status<'p> {
    pub policy: &'p Policy,
    /// Seconds since the Unix epoch: what "expired" is judged by.
    pub now: u64,
    /// git's credential config, or why it cannot be read and the fix.
    pub git: Result<GitConfig, (String, &'static str)>,
    /// The stores some rule reads (keychain, then file).
    pub stores: Vec<Listing>,
    /// For each rule, whether its `token_env` variable is set (non-empty).
    pub token_env_set: Vec<Option<bool>>,
    /// Where the CI job token comes from, or why there is none (when a rule has the `ci`
    /// source).
    pub ci: Option<String>,
    /// For each rule, what its github-app or sts source says of itself (text and JSON field).
    pub mint: Vec<Option<(String, (&'static str, serde_json::Value))>>,
}

impl<'p> Status<'p> {
    /// Reads git's config (with `env`'s PATH) and lists every store a rule of `policy` reads.
    pub fn collect(policy: &'p Policy, env: Lookup<'_>, now: u64) -> Result<Self, sources::Error> {
        let git =
            gitconfig::read(env("PATH").map(Into::into)).map_err(|e| (e.to_string(), e.fix()));
        let mut stores = Vec::new();
        for kind in [SourceKind::Keychain, SourceKind::File] {
            if policy.rules.iter().any(|r| serves(r, kind)) {
                let store = sources::store(policy, kind)?;
                stores.push(Listing {
                    kind,
                    entries: store.list().map_err(|e| e.to_string()),
                    location: store.location(),
                });
            }
        }
        let token_env_set = policy
            .rules
            .iter()
            .map(|r| {
                r.token_env
                    .as_deref()
                    .map(|var| env(var).is_some_and(|v| !v.is_empty()))
            })
            .collect();
        let ci = policy
            .rules
            .iter()
            .any(|r| r.sources.contains(&SourceKind::Ci))
            .then(|| crate::ci::describe(env));
        let mint = policy
            .rules
            .iter()
            .map(|r| crate::source::mint::status(r, env))
            .collect();
        Ok(Status {
            policy,
            now,
            git,
            stores,
            token_env_set,
            ci,
            mint,
        })
    }

    /// Every stored entry with its store's location, and the rule (its index) that serves it
    /// from there, if any; in store order, then the store's.
    pub fn entries(&self) -> Vec<(&StoredInfo, &Listing, Option<usize>)> {
        let mut all = Vec::new();
        for listing in &self.stores {
            for entry in listing.entries.as_ref().map_or(&[][..], Vec::as_slice) {
                let rule = owner(self.policy, entry)
                    .filter(|&i| serves(&self.policy.rules[i], listing.kind));
                all.push((entry, listing, rule));
            }
        }
        all
    }

    /// The report as a person reads it, and as one JSON object (schema 1).
    pub fn render(&self) -> (String, Value) {
        let (policy, now) = (self.policy, self.now);
        let path = &policy.path;
        // The user's rules in use (the machine policy's line counts its own).
        let users = policy
            .rules
            .iter()
            .filter(|r| !r.machine.is_machine_rule())
            .count();
        let mut out = format!(
            "gocred policy: {} ({users} rule{})\n",
            path.display(),
            plural(users)
        );
        out += &machine::summary(policy);
        out += &crate::audit::summary(policy.audit.as_ref());
        // A store that cannot work here fails the same way for every rule: said once, up top.
        for listing in &self.stores {
            if let Err(e) = &listing.entries {
                out += &format!("{}: unavailable: {e}\n", listing.kind.name());
            }
        }
        let entries = self.entries();
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
                "github_app": null,
                "sts": null,
            });
            out += &format!("\n{}\n", rule.url);
            out += &machine::decided_by(policy, rule);
            rule_json["decided_by"] = machine::rule_json(policy, rule);
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
            if let Some(said) = self
                .ci
                .as_ref()
                .filter(|_| rule.sources.contains(&SourceKind::Ci))
            {
                out += &format!("  ci: {said}\n");
                rule_json["ci"] = json!(said);
            }
            if let Some((text, (field, value))) = &self.mint[i] {
                out += text;
                rule_json[*field] = value.clone();
            }
            if let (Some(var), Some(set)) = (&rule.token_env, self.token_env_set[i]) {
                out += &format!("  env: {var} is {}\n", if set { "set" } else { "not set" });
                rule_json["token_env"] = json!({"name": var, "set": set});
            }
            let mut stored_json = Vec::new();
            let mut errors_json = Vec::new();
            for listing in &self.stores {
                if let Err(e) = &listing.entries
                    && serves(rule, listing.kind)
                {
                    out += &format!("  {}: unavailable (see above)\n", listing.kind.name());
                    errors_json.push(json!({"store": listing.kind.name(), "error": e}));
                }
                let served = entries
                    .iter()
                    .filter(|(_, l, owner)| std::ptr::eq(*l, listing) && *owner == Some(i));
                for (entry, _, _) in served {
                    out += &format!("  stored: {}\n", describe(entry, &listing.location, now));
                    stored_json.push(entry_json(entry, &listing.location, now));
                }
            }
            rule_json["stored"] = Value::Array(stored_json);
            rule_json["store_errors"] = Value::Array(errors_json);
            let (line, git_json) = git_line(&self.git, rule);
            out += &line;
            rule_json["git"] = git_json;
            rules_json.push(rule_json);
        }
        let mut orphans = String::new();
        let mut orphans_json = Vec::new();
        for (entry, listing, owner) in &entries {
            if owner.is_none() {
                orphans += &format!("  {}\n", describe(entry, &listing.location, now));
                orphans_json.push(entry_json(entry, &listing.location, now));
            }
        }
        if !orphans.is_empty() {
            out += "\nStored, but no rule serves it from there (never returned):\n";
            out += &orphans;
        }
        let v = json!({
            "schema": 1,
            "policy": {"path": path.display().to_string(), "exists": policy.exists},
            "machine": machine::summary_json(policy),
            "audit": crate::audit::summary_json(policy.audit.as_ref()),
            "git": {"error": self.git.as_ref().err().map(|e| &e.0)},
            "rules": rules_json,
            "orphans": orphans_json,
        });
        (out, v)
    }
}

/// What git's side of `rule` is: the URL git's config is matched against, and what
/// `gocred setup git` writes for it.
pub fn wanted_for_rule<'a>(rule: &Rule, origin: &'a str, prefix: Option<&'a str>) -> Wanted<'a> {
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
pub fn render_git_side(side: &GitSide<'_>, indent: &str) -> String {
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

pub fn git_side_json(side: &GitSide<'_>) -> Value {
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
        || crate::source::mint::caches_in(rule) == Some(kind)
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
