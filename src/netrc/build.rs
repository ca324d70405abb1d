//! The netrc `gocred netrc` and `gocred exec` hand the go command (which reads `$NETRC` or `~/.netrc` for its own
//! HTTPS requests: `?go-get=1` discovery and GOPROXY mirrors), with one `machine` entry per host
//! that policy allows and that has a credential now (resolved like `get`).
//!
//! Every entry is one line `machine HOST login USER password TOKEN` that curl (git's libcurl),
//! Go's reader and Python's `netrc` all read back as exactly that entry, and nothing else
//! ([`super::render_entry`]; proved against the real readers by
//! `tests/cli/netrc_differential.rs`). Left out, each with a note on stderr that names the rule
//! and never a secret:
//! - a wildcard rule (it names no host: each host under it has a credential of its own);
//! - an http rule (its credential would cross the network in clear text);
//! - a path-scoped rule (an entry covers the whole host);
//! - a host another rule also names ([`contested`]): curl matches `machine` without the port
//!   and for every scheme and path, so `machine HOST` would answer the other rule's requests;
//! - a value a reader would split or misread: a netrc keyword in any letter case, whitespace, a
//!   quote, a backslash, a control character, a leading `#`, or a line curl would drop.
//!
//! There is never a `default` entry, and never two entries for one machine. Go matches
//! `machine` on host and port, so a non-default port is part of the name (curl never reads it).

use super::render_entry;
use crate::policy::{Decision, HostPattern, Policy, Rule, ScopeKey, machine_name};
use crate::secret::SecretBytes;
use crate::source::sources::{Sources, some_of};

/// A netrc built from the policy: its text (secret), the hosts it names, and what was left out.
pub struct Built {
    pub text: SecretBytes,
    /// `host[:port]` of every entry, in policy order.
    pub machines: Vec<String>,
    /// One line per rule or host left out, saying why.
    pub notes: Vec<String>,
}

/// Builds the netrc for every exact https host the policy allows (only `hosts`, when given).
pub fn build(resolver: &mut Sources<'_>, hosts: &[String]) -> Built {
    let policy = resolver.policy();
    let mut built = Built {
        text: SecretBytes::default(),
        machines: Vec::new(),
        notes: Vec::new(),
    };
    let mut seen = Vec::new();
    let index = HostIndex::new(policy);
    // Each distinct failure, with the rules it left out, in the order first met.
    let mut failures: Vec<(String, Vec<String>)> = Vec::new();
    for rule in &policy.rules {
        let p = &rule.pattern;
        let host = match &p.host {
            HostPattern::Exact(h) => h,
            HostPattern::Wildcard(suffix) => {
                if hosts.is_empty() {
                    built.notes.push(format!(
                        "{}: left out: a wildcard rule names no host, and each host under *.{suffix} has its own credential",
                        rule.url
                    ));
                }
                continue;
            }
        };
        let machine = machine_name(host, p.port);
        if !hosts.is_empty() && !hosts.contains(&machine) {
            continue;
        }
        seen.push(machine.clone());
        if let Some(line) = rule.machine.no_secret_files {
            built.notes.push(format!(
                "{}: left out: the machine policy ({}:{line}) forbids writing this host's secret to a file",
                rule.url,
                crate::policy::machine::PATH
            ));
            continue;
        }
        if p.scheme != "https" {
            built.notes.push(format!(
                "{}: left out: an http rule's credential would cross the network in clear text",
                rule.url
            ));
            continue;
        }
        if p.path.is_some() {
            built.notes.push(format!(
                "{}: left out: a netrc entry covers the whole host, and this rule allows only a path on it (git still gets it through `gocred get`)",
                rule.url
            ));
            continue;
        }
        if let Some(other) = contested(&index, rule, host) {
            built.notes.push(format!(
                "{}: left out: {}, and rule {} (line {}) answers for some of them",
                rule.url,
                if p.port.is_none() {
                    format!("curl (and so git) uses `machine {host}` for every port, scheme and path of {host}")
                } else {
                    format!("go uses `machine {machine}` for every path on {machine}")
                },
                other.url,
                other.line
            ));
            continue;
        }
        // The rule policy picks for the bare host is this one: an exact host beats every
        // wildcard, path-scoped rules never match a request without a path, and two rules for
        // the same URL are a config error. So the scope is the host's origin, exactly what
        // `Policy::decide` would file it under, without a scan of every rule per host.
        let Some(target) = crate::policy::https_target(&machine) else {
            continue;
        };
        if !rule.machine.is_machine_rule()
            && policy.machine.as_ref().is_some_and(|m| m.denies(&target))
        {
            built.notes.push(format!(
                "{}: left out: the machine policy ({}) denies part of {machine}",
                rule.url,
                crate::policy::machine::PATH
            ));
            continue;
        }
        debug_assert!(matches!(
            policy.decide(target.clone()),
            Decision::Managed { rule: chosen, .. } if std::ptr::eq(chosen, rule)
        ));
        let scope = ScopeKey(target.origin());
        let cred = match resolver.resolve(rule, &scope, None) {
            Ok(Some(cred)) => cred,
            // Said once per variable, below, however many hosts read it.
            Ok(None) if resolver.missing_for(rule) => continue,
            Ok(None) => {
                built.notes.push(format!(
                    "{}: left out: no credential now (sources: {})",
                    rule.url,
                    rule.sources
                        .iter()
                        .map(|s| s.name())
                        .collect::<Vec<_>>()
                        .join(", ")
                ));
                continue;
            }
            Err(e) => {
                // A keychain that cannot work here fails the same way for every rule: one
                // note for all of them.
                let message = e.to_string();
                match failures.iter_mut().find(|(m, _)| *m == message) {
                    Some((_, urls)) => urls.push(rule.url.clone()),
                    None => failures.push((message, vec![rule.url.clone()])),
                }
                continue;
            }
        };
        match render_entry(&machine, &cred.username, &cred.password) {
            Ok(line) => {
                built.text.0.extend_from_slice(line.as_bytes());
                let mut line = line;
                zeroize::Zeroize::zeroize(&mut line);
                built.machines.push(machine);
            }
            Err(e) => built.notes.push(format!("{}: left out: {e}", rule.url)),
        }
    }
    for (message, urls) in failures {
        built.notes.push(match urls.as_slice() {
            [one] => format!("{one}: left out: {message}"),
            many => format!(
                "{} rules left out ({}): {message}",
                many.len(),
                some_of(many)
            ),
        });
    }
    built
        .notes
        .extend(resolver.missing_notes("the netrc (left out)"));
    for h in hosts {
        if !seen.contains(h) {
            built.notes.push(format!(
                "{h}: left out: no exact-host https rule in {} names it",
                policy.path.display()
            ));
        }
    }
    built
}

/// Another rule that policy picks for a request a reader would answer with `rule`'s entry.
///
/// curl (so git, when this netrc is its `~/.netrc`) compares `machine` with the host name alone,
/// so `machine HOST` answers every scheme, port and path of HOST; go compares `host[:port]` and
/// answers every path. An entry is written only when no other rule could apply to any of those:
/// otherwise a reader would send this rule's credential where policy maps another one (or none).
/// `machine HOST:PORT` is never read by curl, so only a path-scoped rule there contests it.
fn contested<'p>(rules: &HostIndex<'p>, rule: &Rule, host: &str) -> Option<&'p Rule> {
    let p = &rule.pattern;
    rules
        .exact
        .get(host)
        .into_iter()
        .flatten()
        .chain(&rules.wildcards)
        .copied()
        .filter(|other| {
            if std::ptr::eq(*other, rule) {
                return false;
            }
            let o = &other.pattern;
            let same_origin = o.scheme == p.scheme && o.port == p.port;
            let names_host = match &o.host {
                HostPattern::Exact(h) => h == host,
                // On the same origin an exact host beats every wildcard.
                HostPattern::Wildcard(suffix) => {
                    !same_origin
                        && host
                            .strip_suffix(suffix.as_str())
                            .and_then(|h| h.strip_suffix('.'))
                            .is_some_and(|h| !h.is_empty())
                }
            };
            names_host && (p.port.is_none() || (same_origin && o.path.is_some()))
        })
        // The first in the file, as a scan of the policy in order would find.
        .min_by_key(|other| other.line)
}

/// The rules by exact host, and the wildcard rules: what [`contested`] looks through, so a netrc
/// for thousands of hosts does not compare every rule with every other.
struct HostIndex<'p> {
    exact: std::collections::HashMap<&'p str, Vec<&'p Rule>>,
    wildcards: Vec<&'p Rule>,
}

impl<'p> HostIndex<'p> {
    fn new(policy: &'p Policy) -> Self {
        let mut index = HostIndex {
            exact: std::collections::HashMap::new(),
            wildcards: Vec::new(),
        };
        for rule in &policy.rules {
            match &rule.pattern.host {
                HostPattern::Exact(h) => index.exact.entry(h.as_str()).or_default().push(rule),
                HostPattern::Wildcard(_) => index.wildcards.push(rule),
            }
        }
        index
    }
}
