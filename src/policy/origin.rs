//! A rule's names as git's config and a netrc spell them: `scheme://host[:port]` (git's
//! `credential.<url>`), `host[:port]` (a netrc `machine`, Go's `req.URL.Host`) and
//! `<origin>/<path prefix>` (where git must send the path).

use super::{HostPattern, Input, Rule, Target, normalize};

/// `host[:port]` as Go's `req.URL.Host` has it (and so the netrc `machine` it looks up).
pub fn machine_name(host: &str, port: Option<u16>) -> String {
    match port {
        Some(p) => format!("{host}:{p}"),
        None => host.to_owned(),
    }
}

/// The request `https://MACHINE/` (`host[:port]`, as [`machine_name`] writes it) through the
/// one normalization of a target; `None` for a name no request could carry.
pub fn https_target(machine: &str) -> Option<Target> {
    normalize(Input::Attributes {
        protocol: "https",
        host: machine,
        path: None,
    })
    .ok()
}

/// Where git must send the path (`credential.<url>.useHttpPath`): `<origin>/<path prefix>` of a
/// path-scoped rule (no trailing slash: git's URL matching takes it as a prefix on a `/`
/// boundary); the origin itself for a host-wide `github-app` rule without `installation_id`,
/// which finds the installation from the repository's path; `None` for any other rule.
pub fn rule_path_prefix(rule: &Rule) -> Option<String> {
    match &rule.pattern.path {
        Some(path) => Some(format!("{}/{}", rule_origin(rule), path.trim_matches('/'))),
        None if rule
            .github_app
            .as_ref()
            .is_some_and(|app| app.installation_id.is_none()) =>
        {
            Some(rule_origin(rule))
        }
        None => None,
    }
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
