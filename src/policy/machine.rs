//! The machine policy: what an administrator allows on this machine, which the user's policy
//! can only narrow (issue 11, "A machine policy").
//!
//! - It lives at [`PATH`], fixed when gocred is built (`/etc/gocred/policy.toml`,
//!   `C:\ProgramData\gocred\policy.toml` on Windows; a packager may set another with the build
//!   variable `GOCRED_MACHINE_POLICY`). Nothing at run time (no variable, no flag, no user file)
//!   can move or turn it off. A missing file is no machine policy.
//! - It is read only when root owns it and every directory above it and no one else can write
//!   them ([`super::trust`]); otherwise, or when it has any problem, every command refuses to
//!   run (one line naming the file and the fix): a broken machine policy must not mean none.
//! - Its shape is the user's policy (`[[rule]]`, `[keychain]`, `[file]`) plus a `[machine]`
//!   table: `user_rules` (`"allow"`, `"narrow"` or `"none"`), `deny` (URL patterns no user
//!   rule serves) and `[[machine.restrict]]` (per pattern: the allowed `sources`, whether
//!   `secret_files` may hold the host's secret, and `[machine.restrict.oauth]` values a user
//!   rule must use). Its own rules restrict the user rules they contain the same way.
//! - It is enforced where the policy is loaded ([`enforce`]): every command sees one effective
//!   policy, the machine's rules first, then the user's rules it allows (narrowed); each user
//!   rule it refuses is kept in [`Applied::refused`] for `config check`, never used.
//!
//! A `deny` or `restrict` pattern covers its host(s) on every scheme, and on every port unless it
//! names one; a path-scoped one also covers requests that carry no path (git sends the path only
//! with `credential.useHttpPath`), so the path cannot be left out to slip past it.

use super::load::{ConfigError, Diagnostic, Value};
use super::pattern::{HostPattern, UrlPattern};
use super::{OAuthProvider, Policy, Rule, SourceKind, Target};
use std::path::{Path, PathBuf};
use toml::de::DeTable;

/// Where gocred reads the machine policy; set when gocred is built, never at run time.
pub const PATH: &str = match option_env!("GOCRED_MACHINE_POLICY") {
    Some(path) => path,
    None => DEFAULT_PATH,
};

#[cfg(not(windows))]
const DEFAULT_PATH: &str = "/etc/gocred/policy.toml";
#[cfg(windows)]
const DEFAULT_PATH: &str = r"C:\ProgramData\gocred\policy.toml";

/// How far the user's own rules may go (`[machine] user_rules`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum UserRules {
    /// The user's rules are used, except where `deny` and the restrictions say otherwise.
    #[default]
    Allow,
    /// Only user rules inside a machine rule or a `[[machine.restrict]]` pattern are used
    /// (narrowed): the user adds no host.
    Narrow,
    /// No user rule is used: the machine policy is the whole policy.
    None,
}

impl UserRules {
    pub fn name(self) -> &'static str {
        match self {
            UserRules::Allow => "allow",
            UserRules::Narrow => "narrow",
            UserRules::None => "none",
        }
    }
}

/// What the machine policy says about one rule of the effective policy.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Mark {
    /// The rule is the machine policy's own, from this line of it.
    pub own_line: Option<usize>,
    /// The machine policy line that forbids writing this rule's secret to a file (netrc, exec).
    pub no_secret_files: Option<usize>,
    /// The machine policy lines that narrowed this user rule.
    pub narrowed_by: Vec<usize>,
}

impl Mark {
    pub fn is_machine_rule(&self) -> bool {
        self.own_line.is_some()
    }

    /// `"machine"` or `"user"`: the layer the rule comes from.
    pub fn layer(&self) -> &'static str {
        if self.is_machine_rule() {
            "machine"
        } else {
            "user"
        }
    }
}

/// A `deny` or `restrict` pattern: hosts, a port (`None`: every port), a path prefix.
#[derive(Debug, Clone)]
pub struct Scope {
    /// As written, for messages.
    pub url: String,
    pub line: usize,
    host: HostPattern,
    port: Option<u16>,
    path: Option<String>,
}

/// `[machine.restrict.oauth]`, or a machine rule's `[rule.oauth]`: the values a user rule
/// under it must use (a value it leaves out is filled in).
#[derive(Debug, Clone, Default)]
struct OAuthPin {
    provider: Option<OAuthProvider>,
    client_id: Option<String>,
    issuer: Option<String>,
    device_authorization_endpoint: Option<String>,
    token_endpoint: Option<String>,
    revocation_endpoint: Option<String>,
}

#[derive(Debug, Clone)]
struct Restriction {
    scope: Scope,
    /// Sources (and stores) a user rule under it may use; `None`: any.
    sources: Option<Vec<SourceKind>>,
    secret_files: bool,
    oauth: Option<OAuthPin>,
    /// `[machine.restrict.sts] token_endpoint`: the only place an `sts` rule may send the CI
    /// job's ID token.
    sts_endpoint: Option<String>,
    /// A machine rule's own restriction: it binds only the user rules it contains.
    own_rule: bool,
}

/// The machine policy as read from its file.
#[derive(Debug, Clone)]
pub struct Machine {
    pub path: PathBuf,
    user_rules: UserRules,
    /// Line of `user_rules`, for messages (the `[machine]` line when not set).
    user_rules_line: usize,
    deny: Vec<Scope>,
    restrictions: Vec<Restriction>,
    /// Its own rules and `[keychain]`/`[file]`, as the user's policy has them.
    policy: Policy,
    keychain_set: bool,
}

/// A user rule the machine policy forbids: not used, reported by `config check`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Refused {
    pub url: String,
    /// Its line in the user's policy.
    pub line: usize,
    /// The machine policy line that forbids it.
    pub machine_line: usize,
    pub why: String,
}

/// A user rule the machine policy narrowed: used, with less than it asked for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Narrowed {
    pub url: String,
    pub line: usize,
    pub machine_line: usize,
    pub what: String,
}

/// What the machine policy did to the user's policy: kept on the effective [`Policy`].
#[derive(Debug, Clone)]
pub struct Applied {
    pub path: PathBuf,
    pub user_rules: UserRules,
    pub deny: Vec<Scope>,
    /// How many rules of the effective policy are the machine's own.
    pub machine_rules: usize,
    pub refused: Vec<Refused>,
    pub narrowed: Vec<Narrowed>,
}

impl Applied {
    /// Whether `target` is one no user rule may serve.
    pub fn denies(&self, target: &Target) -> bool {
        self.deny.iter().any(|d| d.covers(target))
    }

    /// Whether an answer of the user's `rule` for `target` that the client applies to the
    /// rule's whole prefix on that host (Go's GOAUTH, a netrc entry) would also reach a URL
    /// that no user rule may serve.
    pub fn denies_prefix(&self, rule: &Rule, target: &Target) -> bool {
        !rule.machine.is_machine_rule()
            && self.deny.iter().any(|d| {
                d.covers_host(target)
                    && (path_contains(d.path.as_deref(), rule.pattern.path.as_deref())
                        || path_contains(rule.pattern.path.as_deref(), d.path.as_deref()))
            })
    }
}

/// The effective policy: `user` as the machine policy at [`PATH`] allows it (unchanged when
/// there is none). Refused when the machine policy is untrusted or has any problem.
pub fn enforce(user: Policy) -> Result<Policy, ConfigError> {
    enforce_from(Path::new(PATH), user)
}

/// [`enforce`] with the machine policy at `path` (tests).
#[doc(hidden)]
pub fn enforce_from(path: &Path, user: Policy) -> Result<Policy, ConfigError> {
    Ok(match read(path)? {
        Some(machine) => apply(user, &machine),
        None => user,
    })
}

/// The machine policy at `path`, `None` when there is no such file.
pub fn read(path: &Path) -> Result<Option<Machine>, ConfigError> {
    match super::trust::read_machine(path)? {
        Some(text) => parse(path, &text).map(Some),
        None => Ok(None),
    }
}

/// The machine policy in `text` (read from `path`); every problem with its line and column.
pub fn parse(path: &Path, text: &str) -> Result<Machine, ConfigError> {
    let base = super::load::load_str_layer(path, text, true);
    let mut ck = Check {
        text,
        diagnostics: Vec::new(),
    };
    let mut machine = Machine {
        path: path.to_owned(),
        user_rules: UserRules::Allow,
        user_rules_line: 1,
        deny: Vec::new(),
        restrictions: Vec::new(),
        policy: Policy::default(),
        keychain_set: false,
    };
    if let Ok(root) = DeTable::parse(text) {
        let root = root.get_ref();
        machine.keychain_set = root.get("keychain").is_some();
        if let Some(ci) = root.get("ci") {
            ck.error(
                ci.span(),
                "[ci] is for a user's config (the CI job's token is the job's own); in the \
                 machine policy, deny or restrict the CI server's URL instead (a restriction \
                 without `ci` in its `sources` keeps the job token out)",
            );
        }
        if let Some(v) = root.get("machine") {
            ck.machine(v, &mut machine);
        }
    }
    let mut diagnostics = match base {
        Ok(policy) => {
            machine.policy = policy;
            Vec::new()
        }
        Err(ConfigError::Invalid { diagnostics, .. }) => diagnostics,
        Err(e) => return Err(e),
    };
    diagnostics.append(&mut ck.diagnostics);
    if !diagnostics.is_empty() {
        diagnostics.sort_by_key(|d| (d.line, d.column));
        return Err(ConfigError::Invalid {
            path: path.to_owned(),
            diagnostics,
        });
    }
    for rule in &mut machine.policy.rules {
        rule.machine.own_line = Some(rule.line);
    }
    let own: Vec<Restriction> = machine
        .policy
        .rules
        .iter()
        .map(|rule| {
            let mut sources = rule.sources.clone();
            for store in rule
                .store
                .iter()
                .chain(rule.oauth.as_ref().map(|o| &o.store))
            {
                if !sources.contains(store) {
                    sources.push(*store);
                }
            }
            Restriction {
                scope: Scope::new(&rule.url, &rule.pattern, rule.line),
                sources: Some(sources),
                secret_files: true,
                oauth: rule.oauth.as_ref().map(|o| OAuthPin {
                    provider: Some(o.provider),
                    client_id: Some(o.client_id.clone()),
                    issuer: o.issuer.clone(),
                    device_authorization_endpoint: o.device_authorization_endpoint.clone(),
                    token_endpoint: o.token_endpoint.clone(),
                    revocation_endpoint: o.revocation_endpoint.clone(),
                }),
                sts_endpoint: rule.sts.as_ref().map(|s| s.token_endpoint.clone()),
                own_rule: true,
            }
        })
        .collect();
    machine.restrictions.extend(own);
    // The machine's own rules obey its restrictions on secret files too.
    let restrictions = machine.restrictions.clone();
    for rule in &mut machine.policy.rules {
        for r in restrictions
            .iter()
            .filter(|r| !r.own_rule && !r.secret_files)
        {
            if r.scope.overlaps(&rule.pattern) {
                rule.machine.no_secret_files.get_or_insert(r.scope.line);
            }
        }
    }
    Ok(machine)
}

/// `user` as `machine` allows it: the machine's rules first, then each user rule it allows,
/// narrowed; the refused ones and the narrowings recorded in [`Policy::machine`].
pub fn apply(mut user: Policy, machine: &Machine) -> Policy {
    let mut applied = Applied {
        path: machine.path.clone(),
        user_rules: machine.user_rules,
        deny: machine.deny.clone(),
        machine_rules: machine.policy.rules.len(),
        refused: Vec::new(),
        narrowed: Vec::new(),
    };
    let mut rules = machine.policy.rules.clone();
    for rule in std::mem::take(&mut user.rules) {
        match judge(machine, rule, &mut applied.narrowed) {
            Ok(rule) => rules.push(rule),
            Err(refused) => applied.refused.push(refused),
        }
    }
    user.rules = rules;
    if machine.keychain_set {
        user.keychain_backend = machine.policy.keychain_backend;
    }
    if machine.policy.file_path.is_some() {
        user.file_path = machine.policy.file_path.clone();
    }
    // The audit log: the machine's when it is `required`, else the user's (src/audit.rs).
    user.audit = crate::audit::effective(machine.policy.audit.as_ref(), user.audit.as_ref());
    user.machine = Some(applied);
    user
}

/// One user rule: narrowed as the machine policy says, or why it is refused.
fn judge(m: &Machine, mut rule: Rule, narrowed: &mut Vec<Narrowed>) -> Result<Rule, Refused> {
    let refuse = |rule: &Rule, machine_line: usize, why: String| Refused {
        url: rule.url.clone(),
        line: rule.line,
        machine_line,
        why,
    };
    if m.user_rules == UserRules::None {
        return Err(refuse(
            &rule,
            m.user_rules_line,
            "the machine policy uses no user rule (user_rules = \"none\")".into(),
        ));
    }
    for d in &m.deny {
        if d.contains(&rule.pattern) {
            return Err(refuse(
                &rule,
                d.line,
                format!("the machine policy denies {}", d.url),
            ));
        }
    }
    if let Some(own) = m.policy.rules.iter().find(|r| r.pattern == rule.pattern) {
        return Err(refuse(
            &rule,
            own.line,
            "the machine policy has its own rule for this url".into(),
        ));
    }
    if m.user_rules == UserRules::Narrow
        && !m
            .restrictions
            .iter()
            .any(|r| r.scope.contains(&rule.pattern))
    {
        return Err(refuse(
            &rule,
            m.user_rules_line,
            "the machine policy lets users only narrow its own rules and restrictions \
             (user_rules = \"narrow\"), and none covers this url"
                .into(),
        ));
    }
    let mut notes: Vec<(usize, String)> = Vec::new();
    for d in &m.deny {
        if d.overlaps(&rule.pattern) {
            notes.push((d.line, format!("not for {}, which it denies", d.url)));
        }
    }
    for r in &m.restrictions {
        let binds = if r.own_rule {
            r.scope.contains(&rule.pattern)
        } else {
            r.scope.overlaps(&rule.pattern)
        };
        if !binds {
            continue;
        }
        let line = r.scope.line;
        // No secret in a file there: the `file` store is one.
        let allowed = match (&r.sources, r.secret_files) {
            (Some(list), true) => Some(list.clone()),
            (list, false) => Some(
                list.as_deref()
                    .unwrap_or(ALL_SOURCES)
                    .iter()
                    .copied()
                    .filter(|s| *s != SourceKind::File)
                    .collect(),
            ),
            (None, true) => None,
        };
        if let Some(allowed) = &allowed {
            let names =
                |l: &[SourceKind]| l.iter().map(|s| s.name()).collect::<Vec<_>>().join(", ");
            let dropped: Vec<SourceKind> = rule
                .sources
                .iter()
                .copied()
                .filter(|s| !allowed.contains(s))
                .collect();
            if dropped.len() == rule.sources.len() {
                return Err(refuse(
                    &rule,
                    line,
                    format!(
                        "its sources ({}) are not allowed for {} (allowed: {})",
                        names(&rule.sources),
                        r.scope.url,
                        names(allowed)
                    ),
                ));
            }
            // Tokens in the keychain are part of the `oauth` source; in a file they are a file.
            if let Some(oauth) = &rule.oauth
                && !dropped.contains(&SourceKind::OAuth)
                && oauth.store == SourceKind::File
                && !allowed.contains(&oauth.store)
            {
                return Err(refuse(
                    &rule,
                    line,
                    format!(
                        "its OAuth tokens would be kept in `{}`, not allowed for {} (allowed: {})",
                        oauth.store.name(),
                        r.scope.url,
                        names(allowed)
                    ),
                ));
            }
            if !dropped.is_empty() {
                rule.sources.retain(|s| allowed.contains(s));
                // What configured a dropped source goes with it (`login` reads `oauth`).
                if dropped.contains(&SourceKind::OAuth) {
                    rule.oauth = None;
                }
                if dropped.contains(&SourceKind::Command) {
                    rule.command = None;
                }
                if dropped.contains(&SourceKind::Env) {
                    rule.token_env = None;
                }
                notes.push((line, format!("source {} not used", names(&dropped))));
            }
            // A command's cached answers are kept in the keychain.
            if let Some(command) = rule.command.as_mut()
                && command.cache != crate::source::command::Cache::None
                && !allowed.contains(&SourceKind::Keychain)
            {
                command.cache = crate::source::command::Cache::None;
                notes.push((
                    line,
                    "the command's answers not cached in the keychain".into(),
                ));
            }
            // A minted token's cache is a store too.
            for cache in [
                rule.github_app.as_mut().map(|g| &mut g.cache),
                rule.sts.as_mut().map(|s| &mut s.cache),
            ]
            .into_iter()
            .flatten()
            {
                if let super::fleet::MintCache::Store(kind) = *cache
                    && !allowed.contains(&kind)
                {
                    *cache = super::fleet::MintCache::None;
                    notes.push((
                        line,
                        format!("minted tokens not cached in `{}`", kind.name()),
                    ));
                }
            }
            if let Some(store) = rule.store
                && !allowed.contains(&store)
            {
                rule.store = None;
                notes.push((
                    line,
                    format!("git's `store` not kept in `{}`", store.name()),
                ));
            }
        }
        if !r.secret_files && rule.machine.no_secret_files.is_none() {
            rule.machine.no_secret_files = Some(line);
            notes.push((
                line,
                "its secret never written to a file (netrc, exec)".into(),
            ));
        }
        if let (Some(pin), Some(oauth)) = (&r.oauth, rule.oauth.as_mut()) {
            let mut wrong = None;
            if let Some(p) = pin.provider
                && p != oauth.provider
            {
                wrong = Some("provider");
            }
            let pins = [
                ("issuer", &pin.issuer, &mut oauth.issuer),
                (
                    "device_authorization_endpoint",
                    &pin.device_authorization_endpoint,
                    &mut oauth.device_authorization_endpoint,
                ),
                (
                    "token_endpoint",
                    &pin.token_endpoint,
                    &mut oauth.token_endpoint,
                ),
                (
                    "revocation_endpoint",
                    &pin.revocation_endpoint,
                    &mut oauth.revocation_endpoint,
                ),
            ];
            if pin
                .client_id
                .as_ref()
                .is_some_and(|c| *c != oauth.client_id)
            {
                wrong = wrong.or(Some("client_id"));
            }
            for (key, want, have) in &pins {
                if let (Some(want), Some(have)) = (want, have.as_ref())
                    && want != have
                {
                    wrong = wrong.or(Some(key));
                }
            }
            if let Some(key) = wrong {
                return Err(refuse(
                    &rule,
                    line,
                    format!(
                        "its OAuth `{key}` is not the one the machine policy sets for {}",
                        r.scope.url
                    ),
                ));
            }
            let mut filled = false;
            for (_, want, have) in pins {
                if have.is_none() && want.is_some() {
                    have.clone_from(want);
                    filled = true;
                }
            }
            if filled {
                notes.push((line, "OAuth endpoints set by the machine policy".into()));
            }
        }
        if let (Some(want), Some(sts)) = (&r.sts_endpoint, &rule.sts)
            && *want != sts.token_endpoint
        {
            return Err(refuse(
                &rule,
                line,
                format!(
                    "its sts `token_endpoint` is not the one the machine policy sets for {}",
                    r.scope.url
                ),
            ));
        }
        rule.machine.narrowed_by.push(line);
    }
    rule.machine.narrowed_by.dedup();
    for (machine_line, what) in notes {
        narrowed.push(Narrowed {
            url: rule.url.clone(),
            line: rule.line,
            machine_line,
            what,
        });
    }
    Ok(rule)
}

/// The first user rule at or after line `from` that the machine policy refused, as one line
/// (`login --save`, `config init`: what they would add must not be dead on arrival).
pub fn refusal_from(policy: &Policy, from: usize) -> Option<String> {
    let m = policy.machine.as_ref()?;
    let r = m.refused.iter().find(|r| r.line >= from)?;
    Some(format!(
        "the machine policy {}:{} forbids a rule for {}: {}",
        m.path.display(),
        r.machine_line,
        r.url,
        r.why
    ))
}

/// Which layer decided `rule` of the effective `policy`, for `status`: indented lines, or
/// nothing when there is no machine policy (every rule is then the user's).
pub fn decided_by(policy: &Policy, rule: &Rule) -> String {
    decided_by_lines(policy, rule)
        .iter()
        .map(|l| format!("  {l}\n"))
        .collect()
}

/// [`decided_by`]'s lines, unindented (`decided by: your policy F:3, narrowed by machine policy
/// M:2`, then `secret files: forbidden ...` when so): for `doctor`'s rule check too.
pub fn decided_by_lines(policy: &Policy, rule: &Rule) -> Vec<String> {
    let Some(m) = &policy.machine else {
        return Vec::new();
    };
    let mut out = vec![match rule.machine.own_line {
        Some(line) => format!("decided by: machine policy {}:{line}", m.path.display()),
        None => {
            let mut s = format!(
                "decided by: your policy {}:{}",
                policy.path.display(),
                rule.line
            );
            if !rule.machine.narrowed_by.is_empty() {
                let lines: Vec<String> = rule
                    .machine
                    .narrowed_by
                    .iter()
                    .map(|l| l.to_string())
                    .collect();
                s += &format!(
                    ", narrowed by machine policy {}:{}",
                    m.path.display(),
                    lines.join(",")
                );
            }
            s
        }
    }];
    if let Some(line) = rule.machine.no_secret_files {
        out.push(format!(
            "secret files: forbidden (machine policy line {line}): netrc and exec leave it out"
        ));
    }
    out
}

/// `decided_by` of a rule in `status --json`: `layer` ("machine" or "user"), `path` and `line`
/// of the file that decided it, `narrowed_by` (machine policy lines), `secret_files` (bool).
pub fn rule_json(policy: &Policy, rule: &Rule) -> serde_json::Value {
    let path = match (&policy.machine, rule.machine.own_line) {
        (Some(m), Some(_)) => &m.path,
        _ => &policy.path,
    };
    serde_json::json!({
        "layer": rule.machine.layer(),
        "path": path.display().to_string(),
        "line": rule.line,
        "narrowed_by": rule.machine.narrowed_by,
        "secret_files": rule.machine.no_secret_files.is_none(),
    })
}

/// The machine policy in `status`: a few lines, or nothing when there is none.
pub fn summary(policy: &Policy) -> String {
    let Some(m) = &policy.machine else {
        return String::new();
    };
    let mut out = format!(
        "machine policy: {} ({} rule{} of its own; user rules: {})\n",
        m.path.display(),
        m.machine_rules,
        if m.machine_rules == 1 { "" } else { "s" },
        m.user_rules.name()
    );
    if !m.deny.is_empty() {
        let urls: Vec<&str> = m.deny.iter().map(|d| d.url.as_str()).collect();
        out += &format!("  denied to your rules: {}\n", urls.join(", "));
    }
    if !m.refused.is_empty() {
        out += &format!(
            "  {} of your rules not used (forbidden): see `gocred config check`\n",
            m.refused.len()
        );
    }
    out
}

/// The machine policy in `status --json` (`null` when there is none): `path`, `user_rules`,
/// `deny` (patterns), `refused` (`url`, `line`, `machine_line`, `why`) and `narrowed` (`url`,
/// `line`, `machine_line`, `what`).
pub fn summary_json(policy: &Policy) -> serde_json::Value {
    let Some(m) = &policy.machine else {
        return serde_json::Value::Null;
    };
    serde_json::json!({
        "path": m.path.display().to_string(),
        "user_rules": m.user_rules.name(),
        "deny": m.deny.iter().map(|d| d.url.as_str()).collect::<Vec<_>>(),
        "refused": m.refused.iter().map(|r| serde_json::json!({
            "url": r.url, "line": r.line, "machine_line": r.machine_line, "why": r.why,
        })).collect::<Vec<_>>(),
        "narrowed": m.narrowed.iter().map(|n| serde_json::json!({
            "url": n.url, "line": n.line, "machine_line": n.machine_line, "what": n.what,
        })).collect::<Vec<_>>(),
    })
}

/// `config check`'s report of what the machine policy did: one line per user rule it refused
/// (both files and lines) and per narrowing; the number refused.
pub fn check_report(policy: &Policy) -> (Vec<String>, usize) {
    let Some(m) = &policy.machine else {
        return (Vec::new(), 0);
    };
    let mut lines = Vec::new();
    for r in &m.refused {
        lines.push(format!(
            "{}:{}: rule for \"{}\" is not used: {} ({}:{})",
            policy.path.display(),
            r.line,
            r.url,
            r.why,
            m.path.display(),
            r.machine_line
        ));
    }
    for n in &m.narrowed {
        lines.push(format!(
            "{}:{}: note: rule for \"{}\" narrowed: {} ({}:{})",
            policy.path.display(),
            n.line,
            n.url,
            n.what,
            m.path.display(),
            n.machine_line
        ));
    }
    (lines, m.refused.len())
}

/// When the machine policy denies `target` to the user's rules: the one line that says so
/// (naming the file and the line), for `doctor`.
pub fn denial(policy: &Policy, target: &Target) -> Option<String> {
    let m = policy.machine.as_ref()?;
    let d = m.deny.iter().find(|d| d.covers(target))?;
    Some(format!(
        "the machine policy {}:{} denies {} to your rules",
        m.path.display(),
        d.line,
        d.url
    ))
}

fn host_under(host: &str, suffix: &str) -> bool {
    host.strip_suffix(suffix)
        .and_then(|head| head.strip_suffix('.'))
        .is_some_and(|head| !head.is_empty())
}

/// Every host `inner` matches is one `outer` matches.
fn host_contains(outer: &HostPattern, inner: &HostPattern) -> bool {
    match (outer, inner) {
        (HostPattern::Exact(a), HostPattern::Exact(b)) => a == b,
        (HostPattern::Exact(_), HostPattern::Wildcard(_)) => false,
        (HostPattern::Wildcard(s), HostPattern::Exact(h)) => host_under(h, s),
        (HostPattern::Wildcard(s), HostPattern::Wildcard(t)) => s == t || host_under(t, s),
    }
}

/// `path` is `prefix` or under it on a `/` boundary.
fn path_under(path: &str, prefix: &str) -> bool {
    path.strip_prefix(prefix)
        .is_some_and(|rest| rest.is_empty() || rest.starts_with('/'))
}

fn path_contains(outer: Option<&str>, inner: Option<&str>) -> bool {
    match (outer, inner) {
        (None, _) => true,
        (Some(_), None) => false,
        (Some(p), Some(q)) => path_under(q, p),
    }
}

impl Scope {
    fn new(url: &str, pattern: &UrlPattern, line: usize) -> Scope {
        Scope {
            url: url.to_owned(),
            line,
            host: pattern.host.clone(),
            port: pattern.port,
            path: pattern.path.clone(),
        }
    }

    fn port_covers(&self, port: Option<u16>) -> bool {
        self.port.is_none() || self.port == port
    }

    /// Every URL `rule` matches is one this scope covers.
    fn contains(&self, rule: &UrlPattern) -> bool {
        self.port_covers(rule.port)
            && host_contains(&self.host, &rule.host)
            && path_contains(self.path.as_deref(), rule.path.as_deref())
    }

    /// Some URL `rule` matches is one this scope covers.
    fn overlaps(&self, rule: &UrlPattern) -> bool {
        self.port_covers(rule.port)
            && (host_contains(&self.host, &rule.host) || host_contains(&rule.host, &self.host))
            && (path_contains(self.path.as_deref(), rule.path.as_deref())
                || path_contains(rule.path.as_deref(), self.path.as_deref()))
    }

    /// This scope covers `target`'s host and port (whatever its path).
    fn covers_host(&self, t: &Target) -> bool {
        let host = match &self.host {
            HostPattern::Exact(h) => *h == t.host,
            HostPattern::Wildcard(s) => {
                host_under(&t.host, s)
                    && !t.host.starts_with('[')
                    && t.host.parse::<std::net::Ipv4Addr>().is_err()
            }
        };
        host && self.port_covers(t.port)
    }

    /// This scope covers `target` (a path-scoped one also every target without a clean path).
    pub fn covers(&self, t: &Target) -> bool {
        let path = match (&self.path, &t.path) {
            (Some(prefix), Some(path)) if t.path_is_clean => path_under(path, prefix),
            _ => true,
        };
        self.covers_host(t) && path
    }
}

/// Every source a restriction may allow.
const ALL_SOURCES: &[SourceKind] = &[
    SourceKind::Keychain,
    SourceKind::File,
    SourceKind::Env,
    SourceKind::OAuth,
    SourceKind::Command,
    SourceKind::Ci,
    SourceKind::GitHubApp,
    SourceKind::Sts,
];

/// The `[machine]` table's checker.
struct Check<'t> {
    text: &'t str,
    diagnostics: Vec<Diagnostic>,
}

const MACHINE_KEYS: &[&str] = &["user_rules", "deny", "restrict"];
const RESTRICT_KEYS: &[&str] = &["url", "sources", "secret_files", "oauth", "sts"];
const PIN_KEYS: &[&str] = &[
    "provider",
    "client_id",
    "issuer",
    "device_authorization_endpoint",
    "token_endpoint",
    "revocation_endpoint",
];

impl Check<'_> {
    fn line(&self, offset: usize) -> usize {
        let offset = offset.min(self.text.len());
        1 + self.text.as_bytes()[..offset]
            .iter()
            .filter(|&&b| b == b'\n')
            .count()
    }

    fn error(&mut self, span: std::ops::Range<usize>, message: impl Into<String>) {
        let offset = span.start.min(self.text.len());
        let start = self.text[..offset].rfind('\n').map_or(0, |i| i + 1);
        self.diagnostics.push(Diagnostic {
            line: self.line(offset),
            column: self.text[start..offset].chars().count() + 1,
            message: message.into(),
        });
    }

    fn table<'v, 'i>(&mut self, v: &'v Value<'i>, what: &str) -> Option<&'v DeTable<'i>> {
        let t = v.get_ref().as_table();
        if t.is_none() {
            self.error(v.span(), format!("`{what}` must be a table"));
        }
        t
    }

    fn string<'v>(&mut self, v: &'v Value<'_>, what: &str) -> Option<&'v str> {
        let s = v.get_ref().as_str();
        if s.is_none() {
            self.error(v.span(), format!("`{what}` must be a string"));
        }
        s
    }

    fn unknown(&mut self, t: &DeTable<'_>, known: &[&str], section: &str) {
        for key in t.keys() {
            if !known.contains(&key.get_ref().as_ref()) {
                self.error(
                    key.span(),
                    format!(
                        "unknown key `{}` in {section} (expected one of: {})",
                        key.get_ref(),
                        known.join(", ")
                    ),
                );
            }
        }
    }

    fn scope(&mut self, v: &Value<'_>, what: &str) -> Option<Scope> {
        let url = self.string(v, what)?;
        match UrlPattern::parse(url) {
            Ok(p) => Some(Scope::new(url, &p, self.line(v.span().start))),
            Err(reason) => {
                self.error(v.span(), format!("bad url \"{url}\" in `{what}`: {reason}"));
                None
            }
        }
    }

    fn machine(&mut self, v: &Value<'_>, m: &mut Machine) {
        let Some(t) = self.table(v, "machine") else {
            return;
        };
        m.user_rules_line = self.line(v.span().start);
        self.unknown(t, MACHINE_KEYS, "[machine]");
        if let Some(u) = t.get("user_rules")
            && let Some(name) = self.string(u, "user_rules")
        {
            m.user_rules_line = self.line(u.span().start);
            m.user_rules = match name {
                "allow" => UserRules::Allow,
                "narrow" => UserRules::Narrow,
                "none" => UserRules::None,
                other => {
                    self.error(
                        u.span(),
                        format!("unknown user_rules `{other}` (expected allow, narrow or none)"),
                    );
                    UserRules::None
                }
            };
        }
        if let Some(d) = t.get("deny") {
            match d.get_ref().as_array() {
                None => self.error(d.span(), "`deny` must be an array of url patterns"),
                Some(list) => {
                    for item in list.iter() {
                        if let Some(scope) = self.scope(item, "deny") {
                            m.deny.push(scope);
                        }
                    }
                }
            }
        }
        if let Some(r) = t.get("restrict") {
            match r.get_ref().as_array() {
                None => self.error(
                    r.span(),
                    "`restrict` must be an array of tables: write each as [[machine.restrict]]",
                ),
                Some(list) => {
                    for item in list.iter() {
                        if let Some(r) = self.restrict(item) {
                            m.restrictions.push(r);
                        }
                    }
                }
            }
        }
    }

    fn restrict(&mut self, v: &Value<'_>) -> Option<Restriction> {
        let t = self.table(v, "restrict")?;
        self.unknown(t, RESTRICT_KEYS, "[[machine.restrict]]");
        let Some(url) = t.get("url") else {
            self.error(v.span(), "this [[machine.restrict]] has no `url`");
            return None;
        };
        let mut scope = self.scope(url, "url");
        if let Some(s) = &mut scope {
            s.line = self.line(v.span().start);
        }
        let sources = t.get("sources").and_then(|s| {
            let Some(list) = s.get_ref().as_array() else {
                self.error(s.span(), "`sources` must be an array of strings");
                return None;
            };
            let mut kinds = Vec::new();
            for item in list.iter() {
                let name = self.string(item, "sources")?;
                let Some(kind) = ALL_SOURCES.iter().copied().find(|k| k.name() == name) else {
                    let names: Vec<&str> = ALL_SOURCES.iter().map(|k| k.name()).collect();
                    self.error(
                        item.span(),
                        format!("unknown source `{name}` (expected {})", names.join(", ")),
                    );
                    return None;
                };
                if !kinds.contains(&kind) {
                    kinds.push(kind);
                }
            }
            Some(kinds)
        });
        let secret_files = match t.get("secret_files") {
            None => true,
            Some(b) => b.get_ref().as_bool().unwrap_or_else(|| {
                self.error(b.span(), "`secret_files` must be true or false");
                true
            }),
        };
        let oauth = match t.get("oauth") {
            None => None,
            Some(o) => Some(self.pin(o)?),
        };
        let sts_endpoint = match t.get("sts") {
            None => None,
            Some(v) => {
                let t = self.table(v, "sts")?;
                self.unknown(t, &["token_endpoint"], "[machine.restrict.sts]");
                match t.get("token_endpoint") {
                    None => None,
                    Some(e) => Some(self.string(e, "token_endpoint")?.to_owned()),
                }
            }
        };
        Some(Restriction {
            scope: scope?,
            sources,
            secret_files,
            oauth,
            sts_endpoint,
            own_rule: false,
        })
    }

    fn pin(&mut self, v: &Value<'_>) -> Option<OAuthPin> {
        let t = self.table(v, "oauth")?;
        self.unknown(t, PIN_KEYS, "[machine.restrict.oauth]");
        let mut pin = OAuthPin::default();
        let mut ok = true;
        for key in PIN_KEYS {
            let Some(value) = t.get(*key) else { continue };
            let Some(s) = self.string(value, key) else {
                ok = false;
                continue;
            };
            let s = s.to_owned();
            match *key {
                "provider" => match OAuthProvider::parse(&s) {
                    Some(p) => pin.provider = Some(p),
                    None => {
                        self.error(
                            value.span(),
                            format!(
                                "unknown OAuth provider `{s}` (expected one of: {})",
                                OAuthProvider::NAMES.join(", ")
                            ),
                        );
                        ok = false;
                    }
                },
                "client_id" => pin.client_id = Some(s),
                "issuer" => pin.issuer = Some(s),
                "device_authorization_endpoint" => pin.device_authorization_endpoint = Some(s),
                "token_endpoint" => pin.token_endpoint = Some(s),
                _ => pin.revocation_endpoint = Some(s),
            }
        }
        ok.then_some(pin)
    }
}

#[cfg(test)]
mod tests;
