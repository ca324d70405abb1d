//! `gocred doctor`: why `go get` of a private module fails, as a list of [`Check`]s in four
//! layers, in the order a failure in one makes the next meaningless:
//!
//! 1. [`network`]: for go and for git separately (they read different settings): the proxy each
//!    uses (dead port, an egress proxy refusing the host), DNS, TCP, the TLS handshake and whether
//!    each client's own trust accepts the chain (go: the system pool, `SSL_CERT_FILE`,
//!    `SSL_CERT_DIR`; git: `http.sslCAInfo` / `GIT_SSL_CAINFO` and its defaults);
//! 2. [`routing`]: from `go env`: proxy or direct, `GOPROXY=off`, the public checksum database,
//!    `GOFLAGS` remnants, GOINSECURE, GOAUTH;
//! 3. [`auth`]: the rule, the credential, what the server says to it (404 as GitLab's "no
//!    access"), GitLab's subgroup discovery answer, `~/.netrc` drift and exposure;
//! 4. [`git`]: whether git asks gocred for the module's URL (git's helper chain).
//!
//! Rules (issue 16): every failing check carries one fix that, applied as printed, makes the
//! failing `go` command work, or says that doctor does not know one (`fix` is `None`). The first
//! failing check is the one to act on; a healthy set-up is one line. Nothing printed holds a
//! secret. Every network step has a short timeout (3 s, or `GOCRED_HTTP_TIMEOUT`).

pub mod auth;
pub mod git;
pub mod network;
pub mod routing;

use crate::policy::{Input, Policy, SourceKind, Target, normalize};
use crate::secret::Secret;
use crate::source::Credential;
use std::time::Duration;

/// The layer a check belongs to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Layer {
    Network,
    Routing,
    Auth,
    Git,
}

impl Layer {
    pub fn name(self) -> &'static str {
        match self {
            Layer::Network => "network",
            Layer::Routing => "routing",
            Layer::Auth => "auth",
            Layer::Git => "git",
        }
    }
}

/// What a check found.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Status {
    Pass,
    Fail,
    /// Not run: an earlier failure makes it meaningless (the detail says which).
    Skip,
}

impl Status {
    pub fn name(self) -> &'static str {
        match self {
            Status::Pass => "pass",
            Status::Fail => "fail",
            Status::Skip => "skip",
        }
    }
}

/// One check: its layer, a stable id (`network.go.proxy`, `auth.server`, ...), what it found,
/// and for a failure the fix (`None`: doctor does not know one, and says so).
#[derive(Debug, Clone)]
pub struct Check {
    pub layer: Layer,
    pub id: String,
    pub status: Status,
    pub detail: String,
    pub fix: Option<String>,
}

/// What doctor found for one module.
#[derive(Debug, Default)]
pub struct Report {
    /// The repository URL checked.
    pub url: String,
    pub module: String,
    pub checks: Vec<Check>,
}

/// The words for a failure whose fix doctor does not know.
pub const NO_FIX: &str = "doctor does not know a fix that it can check";

impl Report {
    pub fn pass(&mut self, layer: Layer, id: impl Into<String>, detail: impl Into<String>) {
        self.push(layer, id, Status::Pass, detail, None);
    }

    pub fn fail(
        &mut self,
        layer: Layer,
        id: impl Into<String>,
        detail: impl Into<String>,
        fix: impl Into<String>,
    ) {
        self.push(layer, id, Status::Fail, detail, Some(fix.into()));
    }

    /// A failure without a fix doctor can vouch for.
    pub fn fail_unknown(&mut self, layer: Layer, id: impl Into<String>, detail: impl Into<String>) {
        self.push(layer, id, Status::Fail, detail, None);
    }

    pub fn skip(&mut self, layer: Layer, id: impl Into<String>, detail: impl Into<String>) {
        self.push(layer, id, Status::Skip, detail, None);
    }

    fn push(
        &mut self,
        layer: Layer,
        id: impl Into<String>,
        status: Status,
        detail: impl Into<String>,
        fix: Option<String>,
    ) {
        self.checks.push(Check {
            layer,
            id: id.into(),
            status,
            detail: detail.into(),
            fix,
        });
    }

    /// The first failing check: the one to act on.
    pub fn first_failure(&self) -> Option<&Check> {
        self.checks.iter().find(|c| c.status == Status::Fail)
    }

    pub fn healthy(&self) -> bool {
        self.first_failure().is_none()
    }

    pub fn failures(&self) -> usize {
        self.checks
            .iter()
            .filter(|c| c.status == Status::Fail)
            .count()
    }

    /// For a person: one line when healthy (every check with `verbose`); otherwise the first
    /// failure and its fix, then every check by layer.
    pub fn human(&self, verbose: bool) -> String {
        let passed = self
            .checks
            .iter()
            .filter(|c| c.status == Status::Pass)
            .count();
        let mut out = String::new();
        match self.first_failure() {
            None => {
                out += &format!(
                    "✓ {}: healthy: network, routing, auth and git ({passed} checks passed)\n",
                    self.module
                );
                if !verbose {
                    return out;
                }
            }
            Some(first) => {
                out += &format!(
                    "✗ {}: the {} layer fails first: {}: {}\n",
                    self.module,
                    first.layer.name(),
                    first.id,
                    first.detail
                );
                out += &format!("  fix: {}\n", first.fix.as_deref().unwrap_or(NO_FIX));
            }
        }
        let mut layer = None;
        for c in &self.checks {
            if layer != Some(c.layer) {
                layer = Some(c.layer);
                out += &format!("\n{}\n", c.layer.name());
            }
            let mark = match c.status {
                Status::Pass => "✓",
                Status::Fail => "✗",
                Status::Skip => "-",
            };
            out += &format!("  {mark} {}: {}\n", c.id, c.detail);
            if c.status == Status::Fail {
                out += &format!("      fix: {}\n", c.fix.as_deref().unwrap_or(NO_FIX));
            }
        }
        out
    }

    /// The `--json` document (schema 2, documented in gocred-doctor(1)).
    pub fn json(&self) -> String {
        let checks: Vec<serde_json::Value> = self
            .checks
            .iter()
            .map(|c| {
                serde_json::json!({
                    "layer": c.layer.name(),
                    "check": c.id,
                    "status": c.status.name(),
                    "detail": c.detail,
                    "fix": c.fix,
                })
            })
            .collect();
        let first = self
            .first_failure()
            .map(|c| serde_json::json!({"layer": c.layer.name(), "check": c.id, "fix": c.fix}));
        let v = serde_json::json!({
            "schema": 2,
            "url": self.url,
            "module": self.module,
            "healthy": self.healthy(),
            "first_failure": first,
            "checks": checks,
        });
        format!("{v:#}\n")
    }
}

/// What doctor is asked about: the module and the repository URL it lives at.
#[derive(Debug, Clone)]
pub struct Subject {
    /// `https://host/path`.
    pub url: String,
    /// `host/path`.
    pub module: String,
    pub target: Target,
}

/// The repository URL and the module path for a `MODULE|URL` argument, through the one
/// normalization of a target. A path that could reach somewhere else than it seems
/// (`..`, `%2e%2e`, `%2F`, ...) is refused: doctor would probe one place and report on another.
pub fn parse_subject(arg: &str) -> Result<Subject, String> {
    let bad = |why: &dyn std::fmt::Display| {
        format!(
            "{}: {why}; expected a module path (git.corp.example/group/mod) or an https:// URL",
            crate::redact::shown(arg)
        )
    };
    let mut target = normalize(Input::Url(arg)).map_err(|e| bad(&e))?;
    if let Some(repo) = target.path.as_deref().and_then(|p| p.strip_suffix(".git")) {
        let repo = repo.to_owned();
        target = normalize(Input::Attributes {
            protocol: &target.scheme,
            host: &target.host_port(),
            path: Some(&repo),
        })
        .map_err(|e| bad(&e))?;
    }
    if target.scheme != "https" {
        return Err(bad(&"not https"));
    }
    if !target.path_is_clean {
        return Err(bad(
            &"its path has an empty, '.' or '..' segment, or a '?', '#', '%', ';' or '\\' once decoded",
        ));
    }
    let module = match &target.path {
        Some(p) => format!("{}/{p}", target.host_port()),
        None => target.host_port(),
    };
    Ok(Subject {
        url: target.url(),
        module,
        target,
    })
}

/// The source's answer for a rule: the first source that has a credential, and its name; or
/// the kind of the source that failed and why.
pub type Answer = Result<Option<(&'static str, Credential)>, (SourceKind, String)>;

/// `Basic base64(user:password)`, as GOAUTH answers go.
pub(crate) fn basic(cred: &Credential) -> Secret {
    let mut header = crate::secret::SecretBytes::default();
    header.0.extend_from_slice(b"Basic ");
    crate::goauth::basic_into(cred, &mut header);
    Secret::new(String::from_utf8_lossy(&header.0).into_owned())
}

/// Everything doctor reads, given.
pub struct Inputs<'a> {
    pub env: &'a dyn Fn(&str) -> Option<String>,
    pub now: u64,
    pub policy: Result<Policy, String>,
    pub timeout: Duration,
}

impl Inputs<'_> {
    /// A variable, `None` when unset or empty.
    pub fn var(&self, name: &str) -> Option<String> {
        (self.env)(name).filter(|v| !v.is_empty())
    }
}

/// Every check, in layer order.
pub fn run(subject: &Subject, inputs: &Inputs<'_>) -> Report {
    let mut report = Report {
        url: subject.url.clone(),
        module: subject.module.clone(),
        checks: Vec::new(),
    };
    let go = routing::GoEnv::read(inputs);
    let network_ok = network::check(&mut report, subject, inputs, &go);
    routing::check(&mut report, subject, &go);
    let netrc_only = auth::check(&mut report, subject, inputs, &go, network_ok);
    git::check(&mut report, subject, inputs, netrc_only);
    report
}

/// `3 ms`.
pub(crate) fn ms(d: Duration) -> String {
    format!("{} ms", d.as_millis())
}

/// `v` as one sh word (bare when nothing in it is special).
pub(crate) use crate::setup::shell_quote as sh_quote;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_healthy_report_is_one_line_and_a_failing_one_leads_with_the_first_failure() {
        let mut r = Report {
            url: "https://h.example/m".into(),
            module: "h.example/m".into(),
            checks: Vec::new(),
        };
        r.pass(Layer::Network, "network.go.proxy", "direct");
        assert_eq!(r.human(false).lines().count(), 1);
        assert!(r.human(true).contains("network.go.proxy"));
        r.fail(
            Layer::Routing,
            "routing.proxy",
            "public proxy",
            "`go env -w GOPRIVATE=h.example`",
        );
        r.fail_unknown(Layer::Auth, "auth.server", "HTTP 500");
        let human = r.human(false);
        let first = human.lines().next().unwrap();
        assert!(
            first.contains("the routing layer fails first: routing.proxy"),
            "{human}"
        );
        assert!(
            human
                .lines()
                .nth(1)
                .unwrap()
                .contains("fix: `go env -w GOPRIVATE=h.example`")
        );
        assert!(human.contains(NO_FIX), "{human}");
        let v: serde_json::Value = serde_json::from_str(&r.json()).unwrap();
        assert_eq!(v["schema"], 2);
        assert_eq!(v["healthy"], false);
        assert_eq!(v["first_failure"]["layer"], "routing");
        assert_eq!(v["first_failure"]["check"], "routing.proxy");
        assert_eq!(v["checks"][2]["status"], "fail");
        assert!(v["checks"][2]["fix"].is_null());
        assert_eq!(v["checks"][0]["layer"], "network");
    }

    #[test]
    fn values_in_a_fix_are_quoted_for_the_shell_only_when_needed() {
        assert_eq!(sh_quote("/tmp/ca.pem"), "/tmp/ca.pem");
        assert_eq!(sh_quote("gocred goauth"), "'gocred goauth'");
        assert_eq!(sh_quote("it's"), "'it'\\''s'");
        assert_eq!(sh_quote(""), "''");
    }
}
