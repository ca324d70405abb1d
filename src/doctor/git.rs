//! The git layer: whether git asks gocred for the module's URL, as git resolves its helper
//! chain ([`crate::gitconfig`]): another helper first, no helper, `git-credential-gocred` not
//! found, `useHttpPath` missing for a rule with a path. A module a netrc serves without a rule
//! needs no helper: git's libcurl reads `~/.netrc` itself.

use super::{Inputs, Layer, Report, Subject};
use crate::gitconfig::{self, CredentialUrl, Program, Wanted};
use crate::policy::Decision;

const L: Layer = Layer::Git;
const ID: &str = "git.helper";

pub fn check(report: &mut Report, subject: &Subject, inputs: &Inputs<'_>, netrc_only: bool) {
    let Ok(policy) = &inputs.policy else {
        report.skip(L, ID, "not checked: the policy cannot be read");
        return;
    };
    let Decision::Managed { rule, .. } = policy.decide(subject.target.clone()) else {
        if netrc_only {
            report.pass(
                L,
                ID,
                "git's curl reads the same ~/.netrc entry; no helper needed",
            );
        } else {
            report.skip(L, ID, "not checked: no rule serves the module");
        }
        return;
    };
    let config = match gitconfig::read(inputs.var("PATH").map(Into::into)) {
        Ok(c) => c,
        Err(e) => {
            report.fail(L, ID, e.to_string(), e.fix());
            return;
        }
    };
    let origin = crate::policy::rule_origin(rule);
    let prefix = crate::policy::rule_path_prefix(rule);
    let wanted = Wanted {
        url: CredentialUrl {
            protocol: rule.pattern.scheme.clone(),
            // The module's own URL: git's config may name a deeper path than the rule.
            host: subject.target.host_port(),
            path: subject.target.path.clone(),
        },
        origin: &origin,
        prefix: prefix.as_deref(),
    };
    let side = gitconfig::check(&config, &wanted);
    match side.problems.split_first() {
        None => {
            let via = side
                .helpers
                .iter()
                .find(|h| h.gocred)
                .and_then(|h| match &h.program {
                    Program::Found { path, .. } => Some(format!(" ({})", path.display())),
                    _ => None,
                })
                .unwrap_or_default();
            report.pass(
                L,
                ID,
                format!(
                    "git asks gocred{via} first for {}{}",
                    side.url,
                    if side.needs_path {
                        ", with the path (useHttpPath)"
                    } else {
                        ""
                    }
                ),
            );
        }
        Some((first, rest)) => {
            let mut detail = first.message.clone();
            let mut fix = first.fix.clone();
            for p in rest {
                detail += &format!("; and {}", p.message);
                if !fix.contains(p.fix.as_str()) {
                    fix += &format!("; and {}", p.fix);
                }
            }
            report.fail(L, ID, detail, fix);
        }
    }
}
