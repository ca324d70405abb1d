//! A rule's names as git's config and a netrc spell them: `scheme://host[:port]` (git's
//! `credential.<url>`), `host[:port]` (a netrc `machine`, Go's `req.URL.Host`) and
//! `<origin>/<path prefix>` (where git must send the path).

use super::{HostPattern, Rule};

/// `host[:port]` as Go's `req.URL.Host` has it (and so the netrc `machine` it looks up).
pub fn machine_name(host: &str, port: Option<u16>) -> String {
    match port {
        Some(p) => format!("{host}:{p}"),
        None => host.to_owned(),
    }
}

/// `<origin>/<path prefix>` of a path-scoped rule (no trailing slash: git's URL matching takes
/// it as a prefix on a `/` boundary), `None` for a host-wide rule.
pub fn rule_path_prefix(rule: &Rule) -> Option<String> {
    rule.pattern
        .path
        .as_ref()
        .map(|path| format!("{}/{}", rule_origin(rule), path.trim_matches('/')))
}

/// `host[:port]` of a rule (`*.suffix` for a wildcard).
pub fn rule_machine(rule: &Rule) -> String {
    let host = match &rule.pattern.host {
        HostPattern::Exact(h) => h.clone(),
        HostPattern::Wildcard(s) => format!("*.{s}"),
    };
    machine_name(&host, rule.pattern.port)
}

/// `scheme://host[:port]` of a rule, as git's `credential.<url>` matches it.
pub fn rule_origin(rule: &Rule) -> String {
    format!("{}://{}", rule.pattern.scheme, rule_machine(rule))
}
