//! The auth layer: the rule policy picks, the credential its sources give, what the server says
//! to it (GitLab answers 404, not 401, for a private project a token cannot read), what go's
//! discovery request (`?go-get=1`) gets without a credential (GitLab answers a subgroup's with
//! 200 and the parent's path, so go never asks for one), and the `~/.netrc` that go and curl
//! read besides gocred: a token that drifted from gocred's (file and line, never the secret),
//! and a file group or others can read.

use super::routing::GoEnv;
use super::{Inputs, Layer, Report, Subject, sh_quote};
use crate::net::{Net, Options};
use crate::policy::ScopeKey;
use crate::policy::{Decision, HostPattern, Policy, Rule, SourceKind};
use crate::source::Credential;
use crate::source::sources::Sources;
use crate::time::{format_utc, relative};
use std::os::unix::fs::PermissionsExt;
use std::path::PathBuf;

const L: Layer = Layer::Auth;

/// The credential `get` would give for `rule` and `scope` (git's `path` as `get` matches it),
/// and which source answered. An OAuth refresh gets doctor's short timeout unless the user set
/// one.
pub fn credential(
    inputs: &Inputs<'_>,
    policy: &Policy,
    rule: &Rule,
    scope: &ScopeKey,
    path: Option<&str>,
) -> super::Answer {
    let env = |name: &str| match (inputs.env)(name) {
        None if name == crate::net::TIMEOUT_VAR => Some("3".to_owned()),
        v => v,
    };
    Sources::new(policy, &env, inputs.now)
        .resolve_for(rule, scope, path, None)
        .map(|found| found.map(|(kind, cred)| (kind.name(), cred)))
        .map_err(|e| (e.kind(), e.to_string()))
}

/// What policy decides for the module's repository as git asks for it: its URL with `.git`
/// (as go-import names it on GitLab and GitHub), under which a rule whose scope holds the path
/// keeps the credential; the module's URL when no rule takes that.
fn decide_repo<'p>(policy: &'p Policy, target: &crate::policy::Target) -> Decision<'p> {
    let repo = target.path.as_deref().and_then(|p| {
        crate::policy::normalize(crate::policy::Input::Attributes {
            protocol: &target.scheme,
            host: &target.host_port(),
            path: Some(&format!("{p}.git")),
        })
        .ok()
    });
    match repo.map(|r| policy.decide(r)) {
        Some(d @ Decision::Managed { .. }) => d,
        _ => policy.decide(target.clone()),
    }
}

/// When the rule's store holds an expired entry for `scope`.
fn expired_at(inputs: &Inputs<'_>, policy: &Policy, rule: &Rule, scope: &ScopeKey) -> Option<u64> {
    Sources::new(policy, inputs.env, inputs.now).expired_at(rule, scope)
}

/// The `go-import` prefix of a `?go-get=1` page, if it has one.
fn go_import_prefix(html: &str) -> Option<String> {
    let mut rest = html;
    while let Some(i) = rest.find("<meta") {
        rest = &rest[i + 5..];
        let tag = &rest[..rest.find('>').unwrap_or(rest.len())];
        if !(tag.contains("name=\"go-import\"") || tag.contains("name='go-import'")) {
            continue;
        }
        let c = tag.find("content=")?;
        let value = &tag[c + 8..];
        let quote = value.chars().next()?;
        let value = &value[1..];
        let value = &value[..value.find(quote)?];
        return value.split_whitespace().next().map(str::to_owned);
    }
    None
}

/// The netrc go reads (`$NETRC`, else `~/.netrc`) and the one git's libcurl reads (`~/.netrc`).
fn netrc_files(inputs: &Inputs<'_>) -> Vec<PathBuf> {
    let home = inputs.var("HOME").map(|h| PathBuf::from(h).join(".netrc"));
    let go = inputs
        .var("NETRC")
        .map(PathBuf::from)
        .or_else(|| home.clone());
    let mut files: Vec<PathBuf> = go.into_iter().collect();
    if let Some(h) = home
        && !files.contains(&h)
    {
        files.push(h);
    }
    files
}

/// The lines `first..=last` of an entry when they hold that entry alone.
fn entry_lines(data: &[u8], machine: &str, last: usize) -> Option<(usize, usize)> {
    let lines: Vec<&[u8]> = data.split(|&b| b == b'\n').collect();
    let first = (1..=last).rev().find(|&n| {
        let words: Vec<&[u8]> = lines
            .get(n - 1)
            .map(|l| {
                l.split(|b| b.is_ascii_whitespace())
                    .filter(|w| !w.is_empty())
                    .collect()
            })
            .unwrap_or_default();
        words.first() == Some(&&b"machine"[..]) && words.get(1) == Some(&machine.as_bytes())
    })?;
    let machines = (first..=last)
        .filter_map(|n| lines.get(n - 1))
        .map(|l| {
            l.split(|b| b.is_ascii_whitespace())
                .filter(|w| *w == b"machine" || *w == b"default")
                .count()
        })
        .sum::<usize>();
    (machines == 1).then_some((first, last))
}

/// Layer 3. Returns whether a netrc, not a rule, serves the module (git's curl reads it too).
pub fn check(
    report: &mut Report,
    subject: &Subject,
    inputs: &Inputs<'_>,
    go: &GoEnv,
    network_ok: bool,
) -> bool {
    let netrc_only = module_host(report, subject, inputs, go, network_ok);
    if let Ok(policy) = &inputs.policy {
        goproxy(report, subject, inputs, go, policy);
    }
    netrc_only
}

/// go's credential for each company module proxy it asks: a proxy that answers 401 without
/// one needs GOAUTH to ask gocred (with a rule for the proxy's host), or a netrc entry.
fn goproxy(
    report: &mut Report,
    subject: &Subject,
    inputs: &Inputs<'_>,
    go: &GoEnv,
    policy: &Policy,
) {
    const ID: &str = "auth.goproxy";
    let options = Options {
        allow_http: false,
        connect_timeout: inputs.timeout,
        timeout: inputs.timeout,
    };
    let net = Net::new(options, inputs.env);
    let escaped: String = subject
        .module
        .chars()
        .flat_map(|c| {
            if c.is_ascii_uppercase() {
                vec!['!', c.to_ascii_lowercase()]
            } else {
                vec![c]
            }
        })
        .collect();
    for hop in go.proxies(&subject.module) {
        let Ok(t) = crate::policy::normalize(crate::policy::Input::Url(&hop)) else {
            continue;
        };
        if t.scheme != "https" || t.host == "proxy.golang.org" {
            continue;
        }
        let list = format!("{}/{escaped}/@v/list", hop.trim_end_matches('/'));
        let Ok(r) = net.get(&list, &[]) else {
            continue; // the network layer says why
        };
        if !matches!(r.status, 401 | 403) {
            report.pass(
                L,
                ID,
                format!("GET {list} without a credential: HTTP {}", r.status),
            );
            continue;
        }
        let hostport = t.host_port();
        let netrc_has = go.reads_netrc()
            && netrc_files(inputs).first().is_some_and(|f| {
                crate::fs::read_regular(f, 1024 * 1024)
                    .ok()
                    .flatten()
                    .is_some_and(|(d, _)| {
                        crate::netrc::go::lookup(&crate::netrc::go::entries(&d.0), &hostport)
                            .is_some()
                    })
            });
        let decision = policy.decide(t.clone());
        let gocred_has = match &decision {
            Decision::Managed { rule, scope, .. } => {
                matches!(credential(inputs, policy, rule, scope, None), Ok(Some(_)))
            }
            Decision::NotManaged => false,
        };
        if netrc_has || (go.asks_gocred() && gocred_has) {
            report.pass(
                L,
                ID,
                format!(
                    "the module proxy {hostport} answers {} without a credential; go has one ({})",
                    r.status,
                    if netrc_has { "netrc" } else { "GOAUTH, gocred" }
                ),
            );
            continue;
        }
        let detail = format!(
            "the module proxy {hostport} answers HTTP {} without a credential, and go has none for it (GOAUTH={})",
            r.status,
            go.goauth().join("; ")
        );
        match (&decision, gocred_has) {
            (Decision::Managed { .. }, true) => report.fail(
                L,
                ID,
                detail,
                format!("`{}`", go.set("GOAUTH", "gocred goauth")),
            ),
            (Decision::Managed { .. }, false) => report.fail(
                L,
                ID,
                format!("{detail}; gocred's rule for it has no credential either"),
                format!(
                    "store a token for it: `printf 'protocol=https\\nhost={hostport}\\nusername=USER\\npassword=TOKEN\\n' | gocred store`"
                ),
            ),
            (Decision::NotManaged, _) => report.fail_unknown(
                L,
                ID,
                format!("{detail}; no gocred rule serves it: add one (`gocred config init {hostport}` for a new config)"),
            ),
        }
    }
}

fn module_host(
    report: &mut Report,
    subject: &Subject,
    inputs: &Inputs<'_>,
    go: &GoEnv,
    network_ok: bool,
) -> bool {
    let target = &subject.target;
    let url = &subject.url;
    let host = target.host_port();
    let policy = match &inputs.policy {
        Ok(p) => p,
        Err(e) => {
            report.fail_unknown(
                L,
                "auth.rule",
                format!("the policy cannot be read: {e} (`gocred config check` shows where)"),
            );
            return false;
        }
    };
    let netrc = netrc_check(report, subject, inputs, go, policy);
    let Decision::Managed { rule, scope, .. } = decide_repo(policy, target) else {
        if let Some(denied) = crate::policy::machine::denial(policy, target) {
            report.fail_unknown(
                L,
                "auth.rule",
                format!("{denied}: ask the administrator of this machine"),
            );
            return false;
        }
        if let Some(entry) = &netrc {
            report.pass(
                L,
                "auth.rule",
                format!(
                    "no gocred rule serves {url}; {} line {} has its credential (go and git's curl read it)",
                    entry.0.display(),
                    entry.1
                ),
            );
            return true;
        }
        let store = format!(
            "`printf 'protocol=https\\nhost={host}\\nusername=USER\\npassword=TOKEN\\n' | gocred store`"
        );
        let fix = if policy.exists {
            let text = crate::login::keychain_rule(&target.origin());
            format!(
                "add this rule to {}:\n{}\n      then store the token: {store}, and `gocred setup git`",
                policy.path.display(),
                text.lines()
                    .map(|l| format!("        {l}"))
                    .collect::<Vec<_>>()
                    .join("\n")
            )
        } else {
            format!(
                "`gocred config init {host} --source file`, then store the token: {store}, then `gocred setup git`"
            )
        };
        report.fail(
            L,
            "auth.rule",
            format!(
                "no rule in {}{} serves {url}, and no netrc has its credential",
                policy.path.display(),
                if policy.exists {
                    ""
                } else {
                    " (there is no such file)"
                }
            ),
            fix,
        );
        return false;
    };
    let names: Vec<&str> = rule.sources.iter().map(|s| s.name()).collect();
    // Under a machine policy: which layer decided the rule (issue 11).
    let layer: String = crate::policy::machine::decided_by_lines(policy, rule)
        .iter()
        .map(|l| format!("; {l}"))
        .collect();
    report.pass(
        L,
        "auth.rule",
        format!(
            "{} (line {} of {}): sources {}{}{layer}",
            rule.url,
            rule.line,
            policy.file_of(rule).display(),
            names.join(", "),
            rule.store
                .map(|s| format!(", store {}", s.name()))
                .unwrap_or_default()
        ),
    );
    // USER and TOKEN stand for what only the user knows.
    let store_fix = |host: &str, user: Option<&str>| {
        if rule.oauth.is_some() {
            format!("`gocred login {host}`")
        } else {
            format!(
                "create a new token with read access (GitLab: read_repository; GitHub: contents) and store it: `printf 'protocol=https\\nhost={host}\\nusername={}\\npassword=TOKEN\\n' | gocred store`",
                user.or(rule.username.as_deref()).unwrap_or("USER")
            )
        }
    };
    let cred = match credential(inputs, policy, rule, &scope, None) {
        Ok(Some((source, cred))) => {
            let expiry = match cred.password_expiry_utc {
                Some(t) => format!("expires {} ({})", relative(t, inputs.now), format_utc(t)),
                None => "no expiry".into(),
            };
            report.pass(
                L,
                "auth.credential",
                format!("from {source}: user {}, {expiry}", cred.username),
            );
            cred
        }
        Ok(None) => {
            match expired_at(inputs, policy, rule, &scope) {
                Some(t) => report.fail(
                    L,
                    "auth.credential",
                    format!(
                        "the stored token expired {} ({})",
                        relative(t, inputs.now),
                        format_utc(t)
                    ),
                    store_fix(&host, None),
                ),
                None => report.fail(
                    L,
                    "auth.credential",
                    format!(
                        "no source ({}) has a credential for {scope}",
                        names.join(", ")
                    ),
                    store_fix(&host, None),
                ),
            }
            return false;
        }
        Err((kind, e)) => {
            let detail = format!("the {} source: {e}", kind.name());
            match kind {
                SourceKind::Keychain => report.fail_unknown(
                    L,
                    "auth.credential",
                    format!(
                        "{detail}: make the keychain usable for gocred (gocred status names the \
                         backend: the Secret Service needs an unlocked default collection, keyutils \
                         a session keyring), or put another source before keychain in the rule at \
                         line {} of {}",
                        rule.line,
                        policy.file_of(rule).display()
                    ),
                ),
                SourceKind::OAuth => report.fail(
                    L,
                    "auth.credential",
                    detail,
                    format!("`gocred login {host}`"),
                ),
                SourceKind::Env => report.fail(
                    L,
                    "auth.credential",
                    detail,
                    format!(
                        "set the variable the rule at line {} of {} names (token_env)",
                        rule.line,
                        policy.file_of(rule).display()
                    ),
                ),
                SourceKind::Command => report.fail_unknown(
                    L,
                    "auth.credential",
                    format!(
                        "{detail} (run the `command` of the rule at line {} of {} by hand and make it print the token)",
                        rule.line,
                        policy.file_of(rule).display()
                    ),
                ),
                SourceKind::GitHubApp | SourceKind::Sts => report.fail_unknown(
                    L,
                    "auth.credential",
                    format!(
                        "{detail} (fix what the message names in [rule.{}] of the rule at line {} of {})",
                        if kind == SourceKind::Sts { "sts" } else { "github_app" },
                        rule.line,
                        policy.file_of(rule).display()
                    ),
                ),
                SourceKind::Ci => report.fail_unknown(
                    L,
                    "auth.credential",
                    format!(
                        "{detail} (check the CI variables the message names: CI_SERVER_URL and CI_JOB_TOKEN, or GITHUB_SERVER_URL and GITHUB_TOKEN)"
                    ),
                ),
                SourceKind::File => report.fail_unknown(
                    L,
                    "auth.credential",
                    format!(
                        "{detail} (repair what the message names, or move the file aside and store the token again)"
                    ),
                ),
            }
            return false;
        }
    };
    if !network_ok {
        report.skip(
            L,
            "auth.server",
            "not asked: the network checks above failed",
        );
        return false;
    }
    let options = Options {
        allow_http: false,
        connect_timeout: inputs.timeout,
        timeout: inputs.timeout,
    };
    let net = Net::new(options, inputs.env);
    let header = super::basic(&cred);
    // Only to the host the rule matched: `url` is that host.
    let refs = format!("{url}/info/refs?service=git-upload-pack");
    match net.get(&refs, &[("Authorization", header.expose())]) {
        Ok(r) if (200..300).contains(&r.status) => report.pass(
            L,
            "auth.server",
            format!("GET {url}/info/refs: HTTP {}: the server accepts the credential", r.status),
        ),
        Ok(r) if r.status == 401 || r.status == 403 => report.fail(
            L,
            "auth.server",
            format!(
                "GET {url}/info/refs: HTTP {}: the server refuses the credential (revoked, expired or without read access)",
                r.status
            ),
            store_fix(&host, Some(&cred.username)),
        ),
        Ok(r) if r.status == 404 => {
            // Without a credential: a 401 says the repository is there for someone.
            let anonymous = net.get(&refs, &[]).map(|r| r.status).ok();
            if anonymous == Some(401) {
                report.fail(
                    L,
                    "auth.server",
                    format!(
                        "GET {url}/info/refs: HTTP 404 with the credential, 401 without: the server hides a private project from a token that cannot read it (GitLab does): the token is wrong, for another user, or lacks the read_repository scope"
                    ),
                    store_fix(&host, Some(&cred.username)),
                );
            } else {
                report.fail_unknown(
                    L,
                    "auth.server",
                    format!(
                        "GET {url}/info/refs: HTTP 404 with and without the credential: no repository there; check the module path (a module in a subdirectory needs the repository's path), or the token may lack access"
                    ),
                );
            }
        }
        Ok(r) => report.fail_unknown(
            L,
            "auth.server",
            format!("GET {url}/info/refs: HTTP {}", r.status),
        ),
        Err(e) => report.fail_unknown(L, "auth.server", format!("GET {url}/info/refs failed: {e}")),
    }
    // go's own request, once the server takes the credential (else that is what to fix).
    if report
        .checks
        .last()
        .is_some_and(|c| c.id == "auth.server" && c.status == super::Status::Pass)
    {
        discovery(
            report,
            subject,
            go,
            &net,
            rule,
            policy,
            &cred,
            netrc.is_some(),
        );
    }
    false
}

/// go's `?go-get=1` request, as go sends it: without a credential unless a netrc or a
/// preemptive GOAUTH answer gives one.
#[allow(clippy::too_many_arguments)]
fn discovery(
    report: &mut Report,
    subject: &Subject,
    go: &GoEnv,
    net: &Net<'_>,
    rule: &Rule,
    policy: &Policy,
    cred: &Credential,
    netrc_has_it: bool,
) {
    const ID: &str = "auth.discovery";
    let module = &subject.module;
    if !go.direct(module) {
        report.pass(
            L,
            ID,
            "go asks the module proxy, not the host: no ?go-get=1 request",
        );
        return;
    }
    let discover = format!("{}?go-get=1", subject.url);
    let preemptive = rule.goauth_preemptive && go.asks_gocred();
    let sends = preemptive || (go.reads_netrc() && netrc_has_it);
    let anonymous = match net.get(&discover, &[]) {
        Ok(r) => r,
        Err(e) => {
            report.fail_unknown(L, ID, format!("GET {discover} failed: {e}"));
            return;
        }
    };
    let body = String::from_utf8_lossy(&anonymous.body.0).into_owned();
    let prefix = go_import_prefix(&body);
    let covers = |p: &str| module == p || module.starts_with(&format!("{p}/"));
    let preemptive_fix = || {
        let rule_ok =
            matches!(rule.pattern.host, HostPattern::Exact(_)) && rule.pattern.path.is_none();
        if !rule_ok {
            return None;
        }
        let mut fix = String::new();
        if !go.asks_gocred() {
            fix += &format!("`{}`, then ", go.set("GOAUTH", "gocred goauth"));
        }
        fix += &format!(
            "add `goauth = \"preemptive\"` to the rule at line {} of {} (go then sends the credential with its first request)",
            rule.line,
            policy.file_of(rule).display()
        );
        Some(fix)
    };
    match (anonymous.status, prefix) {
        (200, Some(p)) if p == *module => report.pass(
            L,
            ID,
            format!("GET {discover} without a credential: HTTP 200, go-import {p}"),
        ),
        (200, Some(p)) if covers(&p) && !sends => {
            // GitLab's answer for a subgroup: the parent's path. With the credential?
            let header = super::basic(cred);
            let with = net
                .get(&discover, &[("Authorization", header.expose())])
                .ok()
                .filter(|r| r.status == 200)
                .and_then(|r| go_import_prefix(&String::from_utf8_lossy(&r.body.0)));
            match with {
                Some(q) if q.len() > p.len() && covers(&q) => {
                    let detail = format!(
                        "GET {discover} without a credential: HTTP 200 with go-import {p}, the parent's path (GitLab's answer for a subgroup); with the credential: {q}. go never gets a 401 there, so GOAUTH never fires, and go clones the parent's repository, which does not hold the module"
                    );
                    match preemptive_fix() {
                        Some(fix) => report.fail(L, ID, detail, fix),
                        None => report.fail(
                            L,
                            ID,
                            detail,
                            format!("run go through gocred, which hands it a netrc: `gocred exec -- go get {module}`"),
                        ),
                    }
                }
                _ => report.pass(
                    L,
                    ID,
                    format!(
                        "GET {discover}: HTTP 200, go-import {p} (the repository holds the module in a subdirectory)"
                    ),
                ),
            }
        }
        (200, Some(p)) => report.pass(
            L,
            ID,
            format!("GET {discover}: HTTP 200, go-import {p}; go sends the credential with it"),
        ),
        (401 | 403 | 404, _) if !sends && !go.asks_gocred() => report.fail(
            L,
            ID,
            format!(
                "GET {discover} without a credential: HTTP {}; go sends none and GOAUTH does not ask gocred",
                anonymous.status
            ),
            format!("`{}`", go.set("GOAUTH", "gocred goauth")),
        ),
        (401, _) => report.pass(
            L,
            ID,
            format!("GET {discover} without a credential: HTTP 401; go then asks GOAUTH (gocred)"),
        ),
        (status, _) => match preemptive_fix() {
            Some(fix) if !sends => report.fail(
                L,
                ID,
                format!(
                    "GET {discover} without a credential: HTTP {status} and no go-import tag for {module}: go only asks GOAUTH after a 401"
                ),
                fix,
            ),
            _ => report.pass(
                L,
                ID,
                format!("GET {discover} without a credential: HTTP {status}; go sends the credential with it"),
            ),
        },
    }
}

/// The `~/.netrc` go and curl read for the host: exposure and drift. Returns the file and the
/// line of the host's entry when there is one.
fn netrc_check(
    report: &mut Report,
    subject: &Subject,
    inputs: &Inputs<'_>,
    go: &GoEnv,
    policy: &Policy,
) -> Option<(PathBuf, usize)> {
    const ID: &str = "auth.netrc";
    let host = subject.target.host_port();
    let mut found = None;
    for file in netrc_files(inputs) {
        let Ok(Some((data, meta))) = crate::fs::read_regular(&file, 1024 * 1024) else {
            continue;
        };
        let mode = meta.permissions().mode() & 0o777;
        let entries = crate::netrc::go::entries(&data.0);
        if mode & 0o077 != 0 {
            // gocred can take every entry only when each host has a rule with a store.
            let all_stored = entries.iter().all(|e| {
                crate::policy::normalize(crate::policy::Input::Url(&e.machine))
                    .ok()
                    .is_some_and(|t| match policy.decide(t) {
                        Decision::Managed { rule, .. } => rule.store.is_some(),
                        Decision::NotManaged => false,
                    })
            });
            let fix = if all_stored && !entries.is_empty() {
                "`gocred import-netrc --remove` (its tokens go into gocred's store, the file goes)"
                    .to_owned()
            } else {
                format!("`chmod 600 {}`", sh_quote(&file.display().to_string()))
            };
            report.fail(
                L,
                ID,
                format!(
                    "{} (mode {mode:03o}) holds passwords that group or others can read",
                    file.display()
                ),
                fix,
            );
            return None;
        }
        if let Some(entry) = crate::netrc::go::lookup(&entries, &host) {
            // Drift: the entry's token against gocred's, when gocred has one.
            let ours = match decide_repo(policy, &subject.target) {
                Decision::Managed { rule, scope, .. } => {
                    credential(inputs, policy, rule, &scope, None)
                        .ok()
                        .flatten()
                        .map(|(_, c)| c)
                }
                Decision::NotManaged => None,
            };
            if let Some(ours) = ours
                && ours.password.expose() != entry.password.expose()
            {
                let detail = format!(
                    "{} line {} (machine {}) holds a token that differs from the one gocred holds for {host}: go and curl send the stale one",
                    file.display(),
                    entry.line,
                    entry.machine
                );
                match entry_lines(&data.0, &entry.machine, entry.line) {
                    Some((a, b)) => report.fail(
                        L,
                        ID,
                        detail,
                        format!(
                            "delete the stale entry (gocred holds the current token and answers git{}): `sed -i '{a},{b}d' {}`",
                            if go.asks_gocred() {
                                " and go"
                            } else {
                                ""
                            },
                            sh_quote(&file.display().to_string())
                        ),
                    ),
                    None => report.fail_unknown(L, ID, format!("{detail}; delete that entry")),
                }
                return None;
            }
            found.get_or_insert((file.clone(), entry.line));
        }
    }
    match &found {
        Some((f, line)) => report.pass(
            L,
            ID,
            format!(
                "{} line {line} has an entry for {host}, readable by you alone",
                f.display()
            ),
        ),
        None => report.pass(L, ID, format!("no netrc entry for {host}")),
    }
    found
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_go_import_prefix_is_read_from_the_tag_go_reads() {
        let page = "<html><head><meta name=\"go-source\" content=\"x y z\">\
                    <meta name=\"go-import\" content=\"git.corp.example/group/sub git https://git.corp.example/group/sub.git\"></head>";
        assert_eq!(
            go_import_prefix(page).as_deref(),
            Some("git.corp.example/group/sub")
        );
        assert_eq!(
            go_import_prefix("<meta name='go-import' content='h/a git https://h/a.git'>")
                .as_deref(),
            Some("h/a")
        );
        assert_eq!(go_import_prefix("<html>no tag</html>"), None);
    }

    #[test]
    fn a_netrc_entry_is_deleted_by_line_only_when_its_lines_hold_it_alone() {
        let data =
            b"machine a.example\nlogin u\npassword p\nmachine b.example\nlogin v\npassword q\n";
        assert_eq!(entry_lines(data, "a.example", 3), Some((1, 3)));
        assert_eq!(entry_lines(data, "b.example", 6), Some((4, 6)));
        // One line, two entries: a line-range delete would take both.
        let one = b"machine a.example login u password p machine b.example login v password q\n";
        assert_eq!(entry_lines(one, "b.example", 1), None);
        assert_eq!(entry_lines(data, "c.example", 6), None);
    }
}
