//! `gocred why URL|MODULE|REMOTE [--json] [--probe]`: gathers what src/why.rs explains. No
//! network unless `--probe` (then the sources are asked exactly as `get` asks them, and an
//! `oauth` token near its expiry is refreshed).

use super::CommandError;
use super::context::Context;
use crate::policy::{Decision, Input, Policy, Rule, ScopeKey, SourceKind, Target, normalize};
use crate::source::{SourceError, entry_path, env};
use crate::why::{self, Explanation, GitHelper, GitReport, GoReport, SourceState};
use std::io::Write;

pub const LONG_ABOUT: &str = "Explain what every gocred command would do for a URL, a Go \
module path, or a git remote of the repository you are in, and why: the rules that match and \
the one that wins, what the machine policy allows, each source of that rule in order and what \
it holds (present, expired, missing variable, locked; never a secret), what git will call (its \
helper chain), and what go will do (GOPRIVATE, GONOSUMDB, GOPROXY, GOAUTH). No network unless \
--probe.";

#[derive(Debug, clap::Args)]
pub struct WhyArgs {
    /// A URL (https://gitlab.corp.example/group/repo.git), a module path
    /// (gitlab.corp.example/group/mod) or a git remote name (origin)
    #[arg(value_name = "URL|MODULE|REMOTE")]
    pub target: String,
    /// Print the explanation as JSON (schema in gocred-why(1))
    #[arg(long)]
    pub json: bool,
    /// Ask the sources as `get` does, network included (an OAuth token near its expiry is
    /// refreshed); without it nothing leaves this machine
    #[arg(long)]
    pub probe: bool,
}

pub fn cmd_why(ctx: &mut Context, args: WhyArgs) -> Result<(), CommandError> {
    let (input, text) = resolve_input(ctx, &args.target)?;
    let bad = |e: &dyn std::fmt::Display| {
        CommandError::user(format!(
            "{}: {e}; expected a URL, a module path or a git remote name",
            crate::redact::shown(&args.target)
        ))
    };
    let target = normalize(Input::Url(&text)).map_err(|e| bad(&e))?;
    let module = (target.scheme == "https").then(|| {
        let path = target
            .path
            .as_deref()
            .map(|p| p.strip_suffix(".git").unwrap_or(p));
        match path {
            Some(p) => format!("{}/{p}", target.host_port()),
            None => target.host_port(),
        }
    });
    let policy = ctx.load_policy()?;
    if let Some(note) = ctx.missing_named_config(&policy) {
        return Err(CommandError::config(note));
    }
    let rules = why::matching_rules(&policy, &target);
    let managed_rule = match policy.decide(target.clone()) {
        Decision::Managed { rule, .. } => Some(rule),
        Decision::NotManaged => None,
    };
    let git = git_report(ctx, managed_rule, &target);
    let (decision, not_managed, sources, commands) = match policy.decide(target.clone()) {
        Decision::Managed {
            rule,
            scope,
            target: t,
        } => {
            // git sends the path only with useHttpPath: stored entries are matched as it asks.
            let path = if git.use_http_path {
                entry_path(rule, &t)
            } else {
                None
            };
            let sources = inspect_sources(ctx, &policy, rule, &scope, path, args.probe);
            let answer = sources.iter().find(|s| s.state == "present");
            let commands = why::commands(Some(rule), &t, answer);
            (
                Some((
                    rule.url.clone(),
                    crate::audit::rule_file(&policy, rule).display().to_string(),
                    rule.line,
                    scope.0.clone(),
                )),
                None,
                sources,
                commands,
            )
        }
        Decision::NotManaged => (
            None,
            Some(why::why_not_managed(&policy, &target)),
            Vec::new(),
            why::commands(None, &target, None),
        ),
    };
    let explanation = Explanation {
        input_text: args.target.clone(),
        input,
        url: target.url(),
        module: module.clone(),
        policy_file: policy.path.display().to_string(),
        rules,
        decision,
        not_managed,
        machine: why::machine_says(&policy, &target, managed_rule),
        sources,
        commands,
        git: Some(git),
        go: module.map(|m| go_report(ctx, m)),
    };
    let out = if args.json {
        let mut s = serde_json::to_string_pretty(&explanation.to_json())
            .map_err(|e| CommandError::internal(format!("BUG: why JSON: {e}")))?;
        s.push('\n');
        s
    } else {
        explanation.to_text()
    };
    ctx.stdout
        .write_all(out.as_bytes())
        .and_then(|()| ctx.stdout.flush())
        .map_err(|e| CommandError::user(format!("cannot write to stdout: {e}")))
}

/// The argument as a URL: a git remote's URL when it names one of the current repository (a
/// bare word), else the argument itself (a URL, or a module path taken as https).
fn resolve_input(ctx: &Context, arg: &str) -> Result<(why::Input, String), CommandError> {
    if arg.starts_with('-') {
        return Err(CommandError::user(format!(
            "{}: a target cannot start with '-'",
            crate::redact::shown(arg)
        )));
    }
    if arg.contains("://") {
        return Ok((why::Input::Url, arg.to_owned()));
    }
    if !arg.contains(['/', ':']) {
        let mut git = std::process::Command::new("git");
        git.args(["remote", "get-url", arg])
            .stdin(std::process::Stdio::null())
            .stderr(std::process::Stdio::null());
        if let Some(path) = (ctx.env)("PATH") {
            git.env("PATH", path);
        }
        if let Ok(out) = git.output()
            && out.status.success()
        {
            let url = String::from_utf8_lossy(&out.stdout).trim().to_owned();
            if !url.contains("://") || url.starts_with("ssh://") || url.starts_with("git://") {
                return Err(CommandError::user(format!(
                    "git remote {arg} is {}: git reaches it over ssh (or git://), and asks no \
                     credential helper for it; gocred explains https URLs",
                    crate::redact::shown(&url)
                )));
            }
            return Ok((why::Input::Remote(arg.to_owned()), url));
        }
    }
    Ok((why::Input::Module, arg.to_owned()))
}

/// Each source of `rule`, in order, and what it holds for `scope` (never the secret). Once one
/// has a credential the rest are `not asked`, as `get` would not ask them.
fn inspect_sources(
    ctx: &Context,
    policy: &Policy,
    rule: &Rule,
    scope: &ScopeKey,
    path: Option<&str>,
    probe: bool,
) -> Vec<SourceState> {
    let mut out: Vec<SourceState> = Vec::new();
    let mut sources = ctx.sources(policy);
    for &kind in &rule.sources {
        let state = |state: &'static str, detail: String| SourceState {
            source: kind.name(),
            state,
            detail,
            username: None,
            expires: None,
        };
        if out.iter().any(|s| s.state == "present") {
            out.push(state("not asked", "an earlier source answers".to_owned()));
            continue;
        }
        if kind == SourceKind::Env {
            out.push(match env::missing(rule, |n| (ctx.env)(n)) {
                Some(m) => state("missing variable", m.describe()),
                None => SourceState {
                    username: rule.username.clone(),
                    ..state(
                        "present",
                        format!("{} is set", rule.token_env.as_deref().unwrap_or("")),
                    )
                },
            });
            continue;
        }
        if kind == SourceKind::OAuth && !probe {
            out.push(oauth_from_store(ctx, policy, rule, scope));
            continue;
        }
        // This one source, asked as `get` asks it (the library's `Sources`, no copy of it).
        let one = Rule {
            sources: vec![kind],
            ..rule.clone()
        };
        let answer = match sources.resolve_for(&one, scope, path, None) {
            Ok(found) => Ok(found.map(|(_, cred)| cred)),
            Err(crate::source::sources::Error::Source { error, .. }) => Err(error),
            Err(e) => Err(SourceError::Fatal(e.to_string())),
        };
        out.push(match answer {
            Ok(Some(cred)) => SourceState {
                username: Some(cred.username.clone()),
                expires: cred.password_expiry_utc,
                ..state("present", String::new())
            },
            Ok(None) => match expired(ctx, policy, kind, scope) {
                Some(t) => SourceState {
                    expires: Some(t),
                    ..state("expired", format!("expired {}", crate::time::format_utc(t)))
                },
                None => state("not found", format!("nothing stored for {scope}")),
            },
            Err(SourceError::Unavailable(m)) if m.contains("locked") => state("locked", m),
            Err(SourceError::Unavailable(m)) => state("unavailable", m),
            Err(SourceError::Fatal(m)) => state("error", m),
        });
    }
    out
}

/// The newest expiry of an expired entry `kind` holds for `scope`.
fn expired(ctx: &Context, policy: &Policy, kind: SourceKind, scope: &ScopeKey) -> Option<u64> {
    if !kind.is_store() {
        return None;
    }
    ctx.store(policy, kind)
        .ok()?
        .list()
        .ok()?
        .into_iter()
        .filter(|i| i.scope == *scope)
        .filter_map(|i| i.password_expiry_utc)
        .filter(|&t| t <= ctx.now)
        .max()
}

/// The `oauth` source from its store alone: no refresh, no network.
fn oauth_from_store(ctx: &Context, policy: &Policy, rule: &Rule, scope: &ScopeKey) -> SourceState {
    let state = |state: &'static str, detail: String| SourceState {
        source: "oauth",
        state,
        detail,
        username: None,
        expires: None,
    };
    let Some(config) = &rule.oauth else {
        return state("error", "the rule has no [rule.oauth]".to_owned());
    };
    let oauth = ctx.oauth(policy);
    let key = crate::source::oauth::token_scope(rule, scope);
    let user = crate::source::oauth::username(rule, config);
    let found = oauth
        .store(config)
        .and_then(|store| oauth.read(&*store, rule, &key, &user));
    let margin = crate::source::oauth::margin(&*ctx.env);
    match found {
        Ok(Some(cred)) if crate::source::oauth::is_fresh(&cred, ctx.now, margin) => SourceState {
            username: Some(cred.username.clone()),
            expires: cred.password_expiry_utc,
            ..state(
                "present",
                format!("token from `gocred login`, in {}", config.store.name()),
            )
        },
        Ok(Some(cred)) => SourceState {
            username: Some(cred.username.clone()),
            expires: cred.password_expiry_utc,
            ..state(
                "expired",
                if cred.oauth_refresh_token.is_some() {
                    "get refreshes it first (a request to the token endpoint; --probe does)"
                        .to_owned()
                } else {
                    format!("no refresh token: run `gocred login {}`", key.0)
                },
            )
        },
        Ok(None) => state(
            "not found",
            format!(
                "no token: run `gocred login {}`",
                crate::source::oauth::origin(&key)
            ),
        ),
        Err(SourceError::Unavailable(m)) if m.contains("locked") => state("locked", m),
        Err(SourceError::Unavailable(m)) => state("unavailable", m),
        Err(SourceError::Fatal(m)) => state("error", m),
    }
}

/// The helpers git runs for the target, as `doctor` and `status` read git's config.
fn git_report(ctx: &Context, rule: Option<&Rule>, target: &Target) -> GitReport {
    let config = match crate::gitconfig::read((ctx.env)("PATH").map(Into::into)) {
        Ok(c) => c,
        Err(e) => {
            return GitReport {
                error: Some(format!("{e}; {}", e.fix())),
                ..GitReport::default()
            };
        }
    };
    let url = crate::gitconfig::CredentialUrl {
        protocol: target.scheme.clone(),
        host: target.host_port(),
        path: target.path.clone(),
    };
    let helper = |h: &crate::gitconfig::Helper<'_>| GitHelper {
        value: h.entry.value.clone().unwrap_or_default(),
        from: format!(
            "{} config {}",
            h.entry.scope,
            h.entry
                .origin
                .strip_prefix("file:")
                .unwrap_or(&h.entry.origin)
        ),
        program: match &h.program {
            crate::gitconfig::Program::Found { path, .. } => path.display().to_string(),
            crate::gitconfig::Program::Missing { wanted, .. } => format!("{wanted} is missing"),
            crate::gitconfig::Program::Shell => "a shell command".to_owned(),
        },
        gocred: h.gocred,
    };
    match rule {
        Some(rule) => {
            let origin = crate::policy::rule_origin(rule);
            let prefix = crate::policy::rule_path_prefix(rule);
            let mut wanted = crate::status::wanted_for_rule(rule, &origin, prefix.as_deref());
            wanted.url = url;
            let side = crate::gitconfig::check(&config, &wanted);
            GitReport {
                url: side.url.clone(),
                helpers: side.helpers.iter().map(helper).collect(),
                use_http_path: side.use_http_path,
                asks_gocred: side.asks_gocred(),
                problems: side
                    .problems
                    .iter()
                    .map(|p| (p.code.to_owned(), p.message.clone(), p.fix.clone()))
                    .collect(),
                error: None,
            }
        }
        None => {
            let resolved = config.resolve(&url);
            let helpers = config.helpers(&resolved);
            GitReport {
                url: target.url(),
                asks_gocred: helpers.first().is_some_and(|h| h.gocred),
                helpers: helpers.iter().map(helper).collect(),
                use_http_path: resolved.use_http_path,
                problems: Vec::new(),
                error: None,
            }
        }
    }
}

/// What go does with `module`, from go's environment as `src/goenv.rs` reads it.
fn go_report(ctx: &Context, module: String) -> GoReport {
    const NAMES: &[&str] = &[
        "GOPROXY",
        "GOPRIVATE",
        "GONOPROXY",
        "GONOSUMDB",
        "GOINSECURE",
        "GOSUMDB",
        "GOAUTH",
    ];
    let go = match crate::goenv::GoEnv::read(&*ctx.env, NAMES) {
        Ok(go) => go,
        Err(e) => {
            return GoReport {
                module,
                error: Some(format!("cannot read go's environment: {e}")),
                ..GoReport::default()
            };
        }
    };
    let routes = go.routing(&module);
    let proxy = go.get("GOPROXY");
    let proxy = if proxy.is_empty() && !go.have_go {
        "https://proxy.golang.org,direct"
    } else {
        proxy
    };
    let first = proxy.split([',', '|']).next().unwrap_or_default().trim();
    let mut routing = match (&routes.direct, first) {
        (Some(p), _) => format!(
            "direct (GONOPROXY/GOPRIVATE pattern {p}): go runs git, which asks its credential \
             helpers, and its ?go-get=1 request asks GOAUTH"
        ),
        (None, "direct") => "direct (GOPROXY=direct): go runs git".to_owned(),
        (None, "off" | "") => format!("GOPROXY={proxy}: go does not fetch {module}"),
        (None, p) if p.contains("proxy.golang.org") => format!(
            "the public proxy {p}: it cannot fetch a private module, and learns its name (set \
             GOPRIVATE, or `gocred setup go`)"
        ),
        (None, p) => format!("the module proxy {p} (credentials from GOAUTH or a netrc)"),
    };
    if let Some(p) = &routes.insecure {
        routing.push_str(&format!("; GOINSECURE pattern {p} turns TLS checks off"));
    }
    let sumdb = match go.get("GOSUMDB") {
        "" => "sum.golang.org",
        s => s,
    };
    let checksum = match (&routes.no_sumdb, sumdb) {
        (_, "off") => "not looked up (GOSUMDB=off)".to_owned(),
        (Some(p), _) => format!("not looked up (GONOSUMDB/GOPRIVATE pattern {p})"),
        (None, db) => format!(
            "looked up in {db}: that leaks the module's name, and fails for a private module \
             (set GOPRIVATE or GONOSUMDB)"
        ),
    };
    let goauth = match go.get("GOAUTH") {
        v if v.contains("gocred goauth") => format!("{v}: go asks gocred for its own requests"),
        "" | "netrc" => "netrc (go's default): go's own requests read $NETRC or ~/.netrc; \
                         GOAUTH='gocred goauth' makes them ask gocred"
            .to_owned(),
        v => format!("{v}: go's own requests (?go-get=1, GOPROXY) do not ask gocred"),
    };
    GoReport {
        module,
        routing,
        checksum,
        goauth: if go.have_go {
            goauth
        } else {
            format!("{goauth} (no go on PATH: from the environment alone)")
        },
        error: None,
    }
}
