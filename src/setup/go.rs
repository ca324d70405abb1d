//! `setup go`: adds the policy's hosts (a wildcard rule becomes Go's `*.corp.example`) to Go's
//! privacy variables as `go help private` describes, never overriding a company's routing (see
//! [`go_plan`]): every existing entry is kept, GONOSUMDB/GONOPROXY left unset follow GOPRIVATE,
//! `GONOPROXY=none` and a company GOPROXY's GONOPROXY are kept. It prints the lines for a shell
//! (from `go env -json`, or without go from the environment alone) or writes go's env file with
//! `go env -w` (`--write`), never copying a value that only the process environment holds into
//! it (the environment overrides that file: setup says where to set it instead); go's own
//! warnings are shown.

use super::{Error, Outcome, Shell, quote, shell_quote};
use crate::goenv::GoEnv;
use crate::policy::{HostPattern, Policy};
use std::process::Command;

/// Go's pattern for a rule's host (`*.corp.example` for a wildcard); Go's GOPRIVATE globs match
/// module path prefixes, which carry no port.
pub fn go_pattern(host: &HostPattern) -> String {
    match host {
        HostPattern::Exact(h) => h.clone(),
        HostPattern::Wildcard(s) => format!("*.{s}"),
    }
}

/// `a,b` + `c` → `a,b,c`: existing entries kept in their order, ours appended once.
fn merge_list(existing: &str, ours: &[String]) -> String {
    let mut items: Vec<String> = existing
        .split(',')
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(str::to_owned)
        .collect();
    for p in ours {
        if !items.contains(p) {
            items.push(p.clone());
        }
    }
    items.join(",")
}

/// `go1.27.3` → `(1, 27)`.
fn go_minor(version: &str) -> Option<(u32, u32)> {
    let v = version.strip_prefix("go")?;
    let mut parts = v.split(['.', '-', ' ']);
    Some((parts.next()?.parse().ok()?, parts.next()?.parse().ok()?))
}

/// Go's module-privacy variables: what `setup go` reads and may set.
const PRIVACY: [&str; 5] = ["GOPRIVATE", "GONOSUMDB", "GONOPROXY", "GOPROXY", "GOSUMDB"];

/// [`PRIVACY`] and what the notes need, as go sees them now (or the environment, without go).
fn read_go_env(env: &dyn Fn(&str) -> Option<String>) -> Result<GoEnv, Error> {
    let mut names = PRIVACY.to_vec();
    names.extend(["GOAUTH", "GOVERSION", "GOENV"]);
    GoEnv::read(env, &names).map_err(|e| Error(e.to_string()))
}

/// Whether `goproxy` sends modules through a proxy other than Go's public one: a company's.
fn company_proxy(goproxy: &str) -> bool {
    goproxy.split([',', '|']).map(str::trim).any(|p| {
        !matches!(
            p,
            "" | "direct" | "off" | "https://proxy.golang.org" | "proxy.golang.org"
        )
    })
}

/// What `setup go` sets: each variable and its new value, and the notes that say why a value was
/// kept. As `go help private` describes: GOPRIVATE gets the policy's hosts; GONOSUMDB and
/// GONOPROXY default to GOPRIVATE, so when unset they stay unset and follow it. A GONOSUMDB
/// list gets the hosts too. GONOPROXY is routing, the company's call: `none` is kept, and so
/// is any value when GOPROXY is a company proxy; with a company proxy and no GONOPROXY, it is
/// pinned to what it was (GOPRIVATE before, or `none`) so the hosts keep going through the
/// proxy. Only with Go's public proxy does a GONOPROXY list get the hosts (a private module
/// path must not go to proxy.golang.org).
fn go_plan(now: &GoEnv, ours: &[String]) -> (Vec<(&'static str, String)>, Vec<String>) {
    let (mut set, mut notes) = (Vec::new(), Vec::new());
    let private = now.get("GOPRIVATE");
    let merged = merge_list(private, ours);
    set.push(("GOPRIVATE", merged.clone()));
    let nosumdb = now.get("GONOSUMDB");
    if now.explicit("GONOSUMDB") {
        if nosumdb.trim() == "none" {
            notes.push(format!(
                "GONOSUMDB=none kept: go checks the policy's modules against GOSUMDB ({})",
                now.get("GOSUMDB")
            ));
            set.push(("GONOSUMDB", nosumdb.to_owned()));
        } else {
            set.push(("GONOSUMDB", merge_list(nosumdb, ours)));
        }
    }
    let noproxy = now.get("GONOPROXY");
    let proxy = now.get("GOPROXY");
    let company = company_proxy(proxy);
    if now.explicit("GONOPROXY") {
        if noproxy.trim() == "none" || company {
            notes.push(format!(
                "GONOPROXY={noproxy} kept: {} decides which modules go fetches directly",
                if company { "your GOPROXY" } else { "it" }
            ));
            set.push(("GONOPROXY", noproxy.to_owned()));
        } else {
            set.push(("GONOPROXY", merge_list(noproxy, ours)));
        }
    } else if company && merged != private {
        let pinned = if private.trim().is_empty() {
            "none".to_owned()
        } else {
            private.to_owned()
        };
        notes.push(format!(
            "GOPROXY is a company proxy ({proxy}): GONOPROXY={pinned} keeps routing as it was \
             (the policy's hosts still go through the proxy); set GONOPROXY yourself to fetch them \
             directly"
        ));
        set.push(("GONOPROXY", pinned));
    }
    (set, notes)
}

/// Why gocred will not pass `value` on: go shows bytes that are not UTF-8 as U+FFFD, so printing
/// or writing it back would change the value; and go's config file is line-based (`go env -w`
/// refuses a control character), so `--write` cannot hold one. Printed for a shell, any other
/// value is quoted as data.
fn refused(value: &str, write: bool) -> Option<String> {
    if value.contains('\u{FFFD}') {
        return Some("is not valid UTF-8".into());
    }
    value
        .chars()
        .find(|c| write && c.is_control())
        .map(|c| format!("holds a control character (U+{:04X})", u32::from(c)))
}

/// What `setup go` prints (or, with `write`, writes with `go env -w`) for `policy`'s hosts;
/// `env` is the environment go would see.
pub fn setup_go(
    policy: &Policy,
    env: &dyn Fn(&str) -> Option<String>,
    write: bool,
    shell: Option<Shell>,
) -> Result<Outcome, Error> {
    let mut ours: Vec<String> = Vec::new();
    for rule in &policy.rules {
        let p = go_pattern(&rule.pattern.host);
        if !ours.contains(&p) {
            ours.push(p);
        }
    }
    let now = read_go_env(env)?;
    if write && !now.have_go {
        return Err(Error(
            "cannot run `go env -w`: `go` is not on PATH (install Go, or use `gocred setup go \
             --shell sh|fish` to print the lines for your shell)"
                .into(),
        ));
    }
    for name in ["GOPRIVATE", "GONOSUMDB", "GONOPROXY"] {
        if let Some(why) = refused(now.get(name), write) {
            return Err(Error(format!(
                "{name} (from the environment or go's config) {why}: gocred will not rewrite it; \
                 fix {name} first (`go env {name}` shows it, `go env -u {name}` clears go's copy)"
            )));
        }
    }
    let (set, mut notes) = go_plan(&now, &ours);
    let shell = shell.unwrap_or(Shell::Sh);
    let mut out = String::new();
    let mut go_stderr = String::new();
    if write {
        let mut write = Vec::new();
        for (name, value) in &set {
            if now.get(name) == value {
                continue;
            }
            // Entries that are in neither go's env file (for this name or GOPRIVATE) nor the
            // policy come from the environment: they are not copied into go's file.
            let file_has = |entry: &str| {
                [name, &"GOPRIVATE"].iter().any(|n| {
                    now.file
                        .get(**n)
                        .is_some_and(|v| v.split(',').any(|e| e.trim() == entry))
                })
            };
            let env_only = value.split(',').map(str::trim).any(|e| {
                !e.is_empty() && e != "none" && !ours.iter().any(|o| o == e) && !file_has(e)
            });
            if now.in_environment(name) || env_only {
                notes.push(format!(
                    "{name} is set in the environment, which overrides go's env file ({}): not \
                     written there; set {name}={} where you set it",
                    now.goenv,
                    quote(shell, value)
                ));
                continue;
            }
            write.push((*name, value.clone()));
        }
        if !write.is_empty() {
            let mut cmd = Command::new("go");
            cmd.args(["env", "-w"]);
            for (k, v) in &write {
                cmd.arg(format!("{k}={v}"));
            }
            let result = cmd
                .output()
                .map_err(|e| Error(format!("cannot run `go env -w`: {e}")))?;
            go_stderr = String::from_utf8_lossy(&result.stderr).into_owned();
            if !result.status.success() {
                return Err(Error(format!(
                    "`go env -w` failed: {}",
                    crate::redact::shown(go_stderr.trim())
                )));
            }
        }
        for (k, v) in &write {
            out += &format!("go env -w {k}={}\n", shell_quote(v));
        }
    } else {
        for (k, v) in &set {
            let v = quote(shell, v);
            out += &match shell {
                Shell::Sh => format!("export {k}={v}\n"),
                Shell::Fish => format!("set -gx {k} {v}\n"),
            };
        }
        if !now.have_go {
            notes.push(
                "`go` is not on PATH: these lines start from the environment's values alone \
                 (go's env file was not read)"
                    .into(),
            );
        }
    }
    let (goauth, version) = (now.get("GOAUTH"), now.get("GOVERSION"));
    if go_minor(version).is_some_and(|v| v >= (1, 24)) && !goauth.contains("gocred goauth") {
        let value = if goauth.is_empty() || goauth == "netrc" {
            "gocred goauth".to_owned()
        } else {
            format!("gocred goauth;{goauth}")
        };
        notes.push(format!(
            "{version} reads GOAUTH: `go env -w GOAUTH={}` makes go ask gocred for these hosts with no netrc (see `go help goauth`)",
            quote(shell, &value)
        ));
    }
    if ours.is_empty() {
        notes.push(format!(
            "{} has no rules: nothing to add",
            policy.path.display()
        ));
    }
    Ok(Outcome {
        stdout: out,
        // go's own warnings (a variable the environment overrides, ...), as go said them.
        go_says: go_stderr
            .lines()
            .filter(|l| !l.trim().is_empty())
            .map(str::to_owned)
            .collect(),
        notes,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn privacy(env: &[(&str, &str)], file: &[(&str, &str)]) -> GoEnv {
        GoEnv::simulated(env, file)
    }

    #[test]
    fn setup_go_company_routing_plan_follows_go_help_private() {
        let ours = vec!["git.corp.example".to_owned()];
        let plan =
            |env: &[(&str, &str)], file: &[(&str, &str)]| go_plan(&privacy(env, file), &ours).0;
        // Nothing set: GOPRIVATE alone; the other two follow it.
        assert_eq!(
            plan(&[], &[]),
            [("GOPRIVATE", "git.corp.example".to_owned())]
        );
        // GONOPROXY=none and a company proxy: routing kept.
        assert_eq!(
            plan(
                &[("GOPROXY", "https://proxy.corp.example")],
                &[("GONOPROXY", "none")]
            ),
            [
                ("GOPRIVATE", "git.corp.example".to_owned()),
                ("GONOPROXY", "none".to_owned())
            ]
        );
        // A company proxy, no GONOPROXY: pinned to what GOPRIVATE was.
        assert_eq!(
            plan(
                &[("GOPROXY", "https://proxy.corp.example|direct")],
                &[("GOPRIVATE", "a.example")]
            ),
            [
                ("GOPRIVATE", "a.example,git.corp.example".to_owned()),
                ("GONOPROXY", "a.example".to_owned())
            ]
        );
        // The public proxy and lists: merged; GONOSUMDB=none kept.
        assert_eq!(
            plan(&[("GONOPROXY", "b.example")], &[("GONOSUMDB", "none")]),
            [
                ("GOPRIVATE", "git.corp.example".to_owned()),
                ("GONOSUMDB", "none".to_owned()),
                ("GONOPROXY", "b.example,git.corp.example".to_owned())
            ]
        );
        assert!(!company_proxy("https://proxy.golang.org,direct"));
        assert!(!company_proxy("off"));
        assert!(company_proxy(
            "https://proxy.golang.org|https://athens.corp.example"
        ));
    }
}
