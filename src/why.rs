//! `gocred why`: what every gocred command would do for one URL, module path or git remote, and
//! why (issue 11). This module holds the explanation (which rules match and which wins, what each
//! source holds, what git and go will do) and its two renderings, text and JSON (schema 1,
//! documented in gocred-why(1)); `cli/why.rs` gathers the facts. Nothing here holds a secret: a
//! source's answer is reduced to its state, user name and expiry before it gets here.

use crate::policy::{HostPattern, Policy, Rule, Target};
use serde_json::{Value, json};
use std::fmt::Write as _;

/// The version of `--json`'s shape.
pub const SCHEMA: u64 = 1;

/// What the argument was taken as.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Input {
    Url,
    Module,
    /// A git remote of the repository gocred runs in: its name.
    Remote(String),
}

/// One rule that matches the target.
#[derive(Debug, Clone)]
pub struct RuleMatch {
    pub url: String,
    /// The policy file it is written in, and its layer (`user`, or `machine` for the machine
    /// policy's own rules).
    pub file: String,
    pub layer: &'static str,
    pub line: usize,
    /// In words: `exact host`, `wildcard *.corp.example (2 labels)`, `+ path prefix team/ (1 segment)`.
    pub specificity: String,
    pub wins: bool,
}

/// What one source of the winning rule holds for the target.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SourceState {
    pub source: &'static str,
    /// `present`, `expired`, `missing variable`, `not found`, `locked`, `unavailable`, `error`,
    /// `not asked` (an earlier source answers; or `oauth` without `--probe`, when the state
    /// comes from its store alone).
    pub state: &'static str,
    pub detail: String,
    pub username: Option<String>,
    /// Seconds since the epoch.
    pub expires: Option<u64>,
}

/// One helper git runs for the URL, in git's order.
#[derive(Debug, Clone)]
pub struct GitHelper {
    /// `credential.helper` as written, and where (`file:line`).
    pub value: String,
    pub from: String,
    /// The program git runs, or why it is not there.
    pub program: String,
    pub gocred: bool,
}

/// What git does for the URL (gitconfig's helper chain, as `doctor` and `status` read it).
#[derive(Debug, Clone, Default)]
pub struct GitReport {
    /// The URL git's config was matched against.
    pub url: String,
    pub helpers: Vec<GitHelper>,
    pub use_http_path: bool,
    pub asks_gocred: bool,
    /// (code, message, fix)
    pub problems: Vec<(String, String, String)>,
    /// git's config could not be read: why.
    pub error: Option<String>,
}

/// What go does for the module.
#[derive(Debug, Clone, Default)]
pub struct GoReport {
    pub module: String,
    /// `direct` (GONOPROXY/GOPRIVATE or GOPROXY=direct), `proxy URL`, `off`.
    pub routing: String,
    /// Whether go asks the checksum database, and which.
    pub checksum: String,
    pub goauth: String,
    /// `go env` could not be read: why.
    pub error: Option<String>,
}

/// The explanation for one target.
#[derive(Debug, Clone)]
pub struct Explanation {
    pub input_text: String,
    pub input: Input,
    /// The normalized URL (`https://host[:port][/path]`).
    pub url: String,
    pub module: Option<String>,
    pub policy_file: String,
    pub rules: Vec<RuleMatch>,
    /// The winning rule's URL, file and line, and the scope key stores file it under.
    pub decision: Option<(String, String, usize, String)>,
    /// Why nothing is managed, when `decision` is `None`.
    pub not_managed: Option<String>,
    /// The machine policy's say, or why there is none.
    pub machine: String,
    pub sources: Vec<SourceState>,
    /// What each command would do: (command, what).
    pub commands: Vec<(&'static str, String)>,
    pub git: Option<GitReport>,
    pub go: Option<GoReport>,
}

/// Every rule of `policy` that matches `target`, the most specific marked as the winner (as
/// [`Policy::decide`] picks it).
pub fn matching_rules(policy: &Policy, target: &Target) -> Vec<RuleMatch> {
    let winner = match policy.decide(target.clone()) {
        crate::policy::Decision::Managed { rule, .. } => Some((rule.url.clone(), rule.line)),
        crate::policy::Decision::NotManaged => None,
    };
    policy
        .rules
        .iter()
        .filter(|r| r.pattern.scheme != "http" || r.allow_http)
        .filter(|r| r.pattern.matches(target).is_some())
        .map(|r| RuleMatch {
            url: r.url.clone(),
            file: crate::audit::rule_file(policy, r).display().to_string(),
            layer: r.machine.layer(),
            line: r.line,
            specificity: specificity(r),
            wins: winner
                .as_ref()
                .is_some_and(|(u, l)| *u == r.url && *l == r.line),
        })
        .collect()
}

/// A rule's specificity in words.
pub fn specificity(rule: &Rule) -> String {
    let mut s = match &rule.pattern.host {
        HostPattern::Exact(_) => "exact host".to_owned(),
        HostPattern::Wildcard(suffix) => {
            let labels = suffix.split('.').count();
            format!("wildcard *.{suffix} ({labels} labels)")
        }
    };
    if let Some(path) = &rule.pattern.path {
        let n = path.trim_matches('/').split('/').count();
        let _ = write!(
            s,
            ", path prefix {}/ ({n} segment{})",
            path.trim_matches('/'),
            if n == 1 { "" } else { "s" }
        );
    }
    s
}

/// Why a target no rule matches is not managed: a rule for the same host that wants a path
/// git does not send, another port or scheme, or nothing at all.
pub fn why_not_managed(policy: &Policy, target: &Target) -> String {
    let same_host = |r: &&Rule| match &r.pattern.host {
        HostPattern::Exact(h) => *h == target.host,
        HostPattern::Wildcard(s) => target.host.ends_with(&format!(".{s}")),
    };
    let near: Vec<&Rule> = policy.rules.iter().filter(same_host).collect();
    if near.is_empty() {
        return format!(
            "no rule names {}: default deny (git gets nothing from gocred and asks its next \
             helper)",
            target.host
        );
    }
    let described: Vec<String> = near
        .iter()
        .map(|r| {
            let why = if r.pattern.scheme != target.scheme {
                format!("scheme {}", r.pattern.scheme)
            } else if r.pattern.scheme == "http" && !r.allow_http {
                "http without allow_http".to_owned()
            } else if r.pattern.port != target.port {
                match r.pattern.port {
                    Some(p) => format!("port {p}"),
                    None => "the default port".to_owned(),
                }
            } else if r.pattern.path.is_some() && target.path.is_none() {
                "a path prefix, and no path was given (git sends one only with \
                 credential.useHttpPath)"
                    .to_owned()
            } else if r.pattern.path.is_some() && !target.path_is_clean {
                "a path prefix, and this path has an unsafe segment".to_owned()
            } else {
                "another path prefix".to_owned()
            };
            format!("{} (line {}) wants {why}", r.url, r.line)
        })
        .collect();
    format!(
        "no rule matches; for this host: {}: default deny",
        described.join("; ")
    )
}

/// What the machine policy says about `target`: none, or its file, how it takes user rules,
/// whether it denies the target, and what it did to the rules for this host.
pub fn machine_says(policy: &Policy, target: &Target, winner: Option<&Rule>) -> String {
    let Some(m) = &policy.machine else {
        return format!(
            "none ({} does not exist): only the user's policy applies",
            crate::policy::machine::PATH
        );
    };
    let mut parts = vec![format!(
        "{} (user_rules = \"{}\")",
        m.path.display(),
        m.user_rules.name()
    )];
    if m.denies(target) {
        parts.push(format!(
            "it denies {}: no user rule may serve it",
            target.url()
        ));
    }
    if let Some(rule) = winner {
        match rule.machine.own_line {
            Some(line) => parts.push(format!("the rule that decides is its own (line {line})")),
            None if rule.machine.narrowed_by.is_empty() => {
                parts.push("it allows the user's rule as written".to_owned())
            }
            None => parts.push(format!(
                "it narrowed the user's rule (its lines {})",
                rule.machine
                    .narrowed_by
                    .iter()
                    .map(usize::to_string)
                    .collect::<Vec<_>>()
                    .join(", ")
            )),
        }
        if let Some(line) = rule.machine.no_secret_files {
            parts.push(format!(
                "no netrc or exec file may hold this host's secret (its line {line})"
            ));
        }
    }
    for r in &m.refused {
        if let Ok(p) = crate::policy::UrlPattern::parse(&r.url)
            && p.matches(target).is_some()
        {
            parts.push(format!(
                "it refused the user's rule {} (line {}): {} (its line {})",
                r.url, r.line, r.why, r.machine_line
            ));
        }
    }
    parts.join("; ")
}

/// What `get`, `store`, `erase`, `netrc` and `goauth` do under `rule` (`None`: not managed).
pub fn commands(
    rule: Option<&Rule>,
    target: &Target,
    answer: Option<&SourceState>,
) -> Vec<(&'static str, String)> {
    let Some(rule) = rule else {
        let nothing = "nothing: not managed".to_owned();
        return vec![
            (
                "get",
                "answers nothing (exit 0): git asks its next helper".to_owned(),
            ),
            ("store", nothing.clone()),
            ("erase", nothing.clone()),
            ("netrc", "no entry".to_owned()),
            ("goauth", "answers nothing".to_owned()),
        ];
    };
    let get = match answer {
        Some(a) => format!(
            "answers from {}{}",
            a.source,
            a.username
                .as_deref()
                .map(|u| format!(" as {u}"))
                .unwrap_or_default()
        ),
        None => "answers nothing now (no source has a credential): git prompts or asks its next \
                 helper"
            .to_owned(),
    };
    let store = if rule.oauth.is_some() {
        "ignored: gocred keeps the OAuth tokens itself".to_owned()
    } else {
        match rule.store {
            Some(s) => format!("keeps what git used in {}", s.name()),
            None => "ignored: the rule has no `store`".to_owned(),
        }
    };
    let erase = if rule.oauth.is_some() {
        "marks the OAuth token expired, so the next get refreshes it".to_owned()
    } else {
        match rule.store {
            Some(s) => format!("forgets the rejected credential in {}", s.name()),
            None => "ignored: the rule has no `store`".to_owned(),
        }
    };
    let netrc = if rule.pattern.scheme != "https" {
        "no entry: http would send the token in clear text".to_owned()
    } else if matches!(rule.pattern.host, HostPattern::Wildcard(_)) {
        "no entry: a wildcard rule names no host (use GOAUTH='gocred goauth')".to_owned()
    } else if rule.pattern.path.is_some() {
        "no entry: a netrc entry covers the whole host, and this rule has a path".to_owned()
    } else if answer.is_some() {
        format!("an entry for machine {}", target.host_port())
    } else {
        "no entry now: no source has a credential".to_owned()
    };
    let goauth = if rule.pattern.scheme != "https" {
        "answers nothing: not https".to_owned()
    } else if rule.goauth_preemptive {
        "answers on go's first call (goauth = \"preemptive\") and after a 4xx".to_owned()
    } else {
        "answers after the server asks (a 4xx; goauth = \"on-challenge\")".to_owned()
    };
    vec![
        ("get", get),
        ("store", store),
        ("erase", erase),
        ("netrc", netrc),
        ("goauth", goauth),
    ]
}

impl Explanation {
    pub fn to_json(&self) -> Value {
        let rules: Vec<Value> = self
            .rules
            .iter()
            .map(|r| {
                json!({"url": r.url, "file": r.file, "layer": r.layer, "line": r.line,
                       "specificity": r.specificity, "wins": r.wins})
            })
            .collect();
        let sources: Vec<Value> = self
            .sources
            .iter()
            .map(|s| {
                json!({"source": s.source, "state": s.state, "detail": s.detail,
                       "username": s.username, "expires": s.expires
                           .map(|t| crate::time::rfc3339_millis(t.saturating_mul(1000)))})
            })
            .collect();
        let input = match &self.input {
            Input::Url => json!({"kind": "url"}),
            Input::Module => json!({"kind": "module"}),
            Input::Remote(name) => json!({"kind": "remote", "remote": name}),
        };
        let git = self.git.as_ref().map(|g| {
            json!({
                "url": g.url,
                "helpers": g.helpers.iter().map(|h| json!({
                    "value": h.value, "from": h.from, "program": h.program, "gocred": h.gocred
                })).collect::<Vec<_>>(),
                "use_http_path": g.use_http_path,
                "asks_gocred": g.asks_gocred,
                "problems": g.problems.iter().map(|(c, m, f)| json!({
                    "code": c, "message": m, "fix": f
                })).collect::<Vec<_>>(),
                "error": g.error,
            })
        });
        let go = self.go.as_ref().map(|g| {
            json!({"module": g.module, "routing": g.routing, "checksum": g.checksum,
                   "goauth": g.goauth, "error": g.error})
        });
        json!({
            "schema": SCHEMA,
            "input": self.input_text,
            "as": input,
            "url": self.url,
            "module": self.module,
            "policy": self.policy_file,
            "rules": rules,
            "decision": match &self.decision {
                Some((url, file, line, scope)) => json!({"managed": true, "rule": {"url": url,
                    "file": file, "line": line}, "scope": scope}),
                None => json!({"managed": false, "why": self.not_managed}),
            },
            "machine_policy": self.machine,
            "sources": sources,
            "commands": self.commands.iter().map(|(c, w)| (c.to_string(), json!(w)))
                .collect::<serde_json::Map<_, _>>(),
            "git": git,
            "go": go,
        })
    }

    pub fn to_text(&self) -> String {
        let mut o = String::new();
        let taken = match &self.input {
            Input::Url => "URL".to_owned(),
            Input::Module => "module path".to_owned(),
            Input::Remote(name) => format!("git remote {name}"),
        };
        let _ = writeln!(o, "{} ({taken}) is {}", self.input_text, self.url);
        let _ = writeln!(o, "policy: {}", self.policy_file);
        if self.rules.is_empty() {
            let _ = writeln!(o, "rules: none matches");
        } else {
            let _ = writeln!(o, "rules that match (the most specific wins):");
            for r in &self.rules {
                let _ = writeln!(
                    o,
                    "  {} {} ({} line {}): {}",
                    if r.wins { "*" } else { "-" },
                    r.url,
                    r.file,
                    r.line,
                    r.specificity
                );
            }
        }
        match (&self.decision, &self.not_managed) {
            (Some((url, file, line, scope)), _) => {
                let _ = writeln!(
                    o,
                    "decision: managed by {url} ({file} line {line}); stored under {scope}"
                );
            }
            (None, Some(why)) => {
                let _ = writeln!(o, "decision: not managed: {why}");
            }
            (None, None) => {}
        }
        let _ = writeln!(o, "machine policy: {}", self.machine);
        if !self.sources.is_empty() {
            let _ = writeln!(o, "sources, in order:");
            for s in &self.sources {
                let mut line = format!("  {}: {}", s.source, s.state);
                if !s.detail.is_empty() {
                    let _ = write!(line, " ({})", s.detail);
                }
                let _ = writeln!(o, "{line}");
            }
        }
        let _ = writeln!(o, "what each command does:");
        for (c, w) in &self.commands {
            let _ = writeln!(o, "  {c}: {w}");
        }
        if let Some(g) = &self.git {
            match &g.error {
                Some(e) => {
                    let _ = writeln!(o, "git: cannot read its config: {e}");
                }
                None => {
                    let _ = writeln!(
                        o,
                        "git ({}): {}",
                        g.url,
                        if g.asks_gocred {
                            "asks gocred first"
                        } else {
                            "does not ask gocred"
                        }
                    );
                    if g.helpers.is_empty() {
                        let _ = writeln!(o, "  no credential helper");
                    }
                    for (i, h) in g.helpers.iter().enumerate() {
                        let _ = writeln!(o, "  {}. {} ({}): {}", i + 1, h.value, h.from, h.program);
                    }
                    for (_, m, f) in &g.problems {
                        let _ = writeln!(o, "  ✗ {m}; fix: {f}");
                    }
                }
            }
        }
        if let Some(g) = &self.go {
            match &g.error {
                Some(e) => {
                    let _ = writeln!(o, "go: {e}");
                }
                None => {
                    let _ = writeln!(o, "go ({}):", g.module);
                    let _ = writeln!(o, "  routing: {}", g.routing);
                    let _ = writeln!(o, "  checksum: {}", g.checksum);
                    let _ = writeln!(o, "  GOAUTH: {}", g.goauth);
                }
            }
        }
        o
    }
}
