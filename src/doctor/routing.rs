//! The routing layer: where `go` sends its requests for the module, from `go env`: proxy or
//! direct (`GOPROXY`, `GONOPROXY`/`GOPRIVATE`, `GOPROXY=off`), the public checksum database
//! (`GONOSUMDB`/`GOPRIVATE`, `GOSUMDB`), `GOFLAGS` remnants that change what go does, GOINSECURE
//! and GOAUTH. A fix sets a variable where it is set: `export` for one set in the environment
//! (it overrides go's env file), `go env -w` otherwise.

use super::{Inputs, Layer, Report, Subject, sh_quote};
use crate::goenv;

const L: Layer = Layer::Routing;

/// The go environment doctor reads ([`crate::goenv`]), with what doctor derives from it.
#[derive(Debug, Default)]
pub struct GoEnv {
    /// When go could not be run or read: why.
    pub error: Option<String>,
    env: goenv::GoEnv,
}

const KEYS: &[&str] = &[
    "GOPROXY",
    "GOPRIVATE",
    "GONOPROXY",
    "GONOSUMDB",
    "GOINSECURE",
    "GOAUTH",
    "GOSUMDB",
    "GOFLAGS",
    "GOVERSION",
];

impl GoEnv {
    /// `go env -json` for the keys doctor needs.
    pub fn read(inputs: &Inputs<'_>) -> GoEnv {
        match goenv::GoEnv::read_go(inputs.env, KEYS) {
            Ok(env) => GoEnv { error: None, env },
            Err(e) => GoEnv {
                error: Some(match e {
                    goenv::Error::Run(e) => format!("cannot run go ({e})"),
                    goenv::Error::NotJson(_) => "`go env -json` printed no JSON".to_owned(),
                    goenv::Error::Failed(why) => {
                        format!(
                            "`go env -json` failed: {}",
                            crate::redact::shown(why.trim())
                        )
                    }
                }),
                env: goenv::GoEnv::default(),
            },
        }
    }

    pub fn get(&self, key: &str) -> &str {
        self.env.get(key)
    }

    /// The command that sets `key` to `value` where go will see it: `export` for a variable
    /// the environment sets (go's env file cannot override it), `go env -w` otherwise.
    pub fn set(&self, key: &str, value: &str) -> String {
        if self.env.in_environment(key) {
            format!("export {key}={}", sh_quote(value))
        } else {
            format!("go env -w {key}={}", sh_quote(value))
        }
    }

    /// The command that unsets `key` where go reads it.
    pub fn unset(&self, key: &str) -> String {
        if self.env.in_environment(key) {
            format!("unset {key}")
        } else {
            format!("go env -u {key}")
        }
    }

    pub fn routing(&self, module: &str) -> goenv::Routing {
        self.env.routing(module)
    }

    /// Whether go fetches `module` directly (with git), not through a proxy.
    pub fn direct(&self, module: &str) -> bool {
        self.routing(module).direct.is_some()
            || self
                .get("GOPROXY")
                .split([',', '|'])
                .next()
                .is_some_and(|p| p.trim() == "direct")
    }

    /// The proxies go tries for `module`, in order, when it does not go direct.
    pub fn proxies(&self, module: &str) -> Vec<String> {
        if self.routing(module).direct.is_some() {
            return Vec::new();
        }
        self.get("GOPROXY")
            .split([',', '|'])
            .map(str::trim)
            .take_while(|p| !matches!(*p, "direct" | "off" | ""))
            .map(str::to_owned)
            .collect()
    }

    /// GOAUTH's commands, as go splits it (`;`).
    pub fn goauth(&self) -> Vec<String> {
        match self.get("GOAUTH") {
            "" => vec!["netrc".into()],
            v => v
                .split(';')
                .map(str::trim)
                .filter(|c| !c.is_empty())
                .map(str::to_owned)
                .collect(),
        }
    }

    /// Whether go asks gocred (`GOAUTH` has a `gocred goauth` command).
    pub fn asks_gocred(&self) -> bool {
        self.goauth().iter().any(|c| {
            let mut words = c.split_whitespace();
            words
                .next()
                .is_some_and(|w| w == "gocred" || w.ends_with("/gocred"))
                && words.next() == Some("goauth")
        })
    }

    /// Whether go reads a netrc (`GOAUTH` has `netrc`; the default).
    pub fn reads_netrc(&self) -> bool {
        self.goauth().iter().any(|c| c == "netrc")
    }
}

/// `list` with `item` added (comma-separated, as go's pattern lists).
fn with(list: &str, item: &str) -> String {
    if list.is_empty() {
        item.to_owned()
    } else {
        format!("{list},{item}")
    }
}

pub fn check(report: &mut Report, subject: &Subject, go: &GoEnv) {
    let module = subject.module.as_str();
    if let Some(e) = &go.error {
        report.fail(
            L,
            "routing.go_env",
            e.clone(),
            "install Go, or put it on PATH",
        );
        return;
    }
    let host = module.split('/').next().unwrap_or_default();
    let private = go.get("GOPRIVATE");
    let add_private = format!("`{}`", go.set("GOPRIVATE", &with(private, host)));

    // GOFLAGS remnants: go refuses some outright, others change what it fetches.
    let flags = go.get("GOFLAGS");
    let bad_flags: Vec<&str> = flags
        .split_whitespace()
        .filter(|f| {
            let name = f.trim_start_matches('-');
            name == "insecure" || name.starts_with("insecure=") || *f == "-mod=vendor"
        })
        .collect();
    if bad_flags.is_empty() {
        report.pass(
            L,
            "routing.goflags",
            if flags.is_empty() {
                "GOFLAGS is empty".to_owned()
            } else if flags.split_whitespace().any(|f| f == "-mod=mod") {
                // Not a failure: go still fetches; but it rewrites go.mod and ignores vendor/.
                format!(
                    "GOFLAGS={flags}: -mod=mod lets go update go.mod and fetch what a vendored build would not (a remnant? `{}` drops it)",
                    go.set(
                        "GOFLAGS",
                        &flags
                            .split_whitespace()
                            .filter(|f| *f != "-mod=mod")
                            .collect::<Vec<_>>()
                            .join(" ")
                    )
                )
            } else {
                format!("GOFLAGS={flags}: nothing that changes what go fetches")
            },
        );
    } else {
        let kept: Vec<&str> = flags
            .split_whitespace()
            .filter(|f| !bad_flags.contains(f))
            .collect();
        let fix = if kept.is_empty() {
            go.unset("GOFLAGS")
        } else {
            go.set("GOFLAGS", &kept.join(" "))
        };
        let why = bad_flags
            .iter()
            .map(|f| {
                if f.contains("insecure") {
                    format!("{f} (go no longer knows it and stops: GOINSECURE replaced it)")
                } else {
                    format!("{f} (go builds from vendor/ only and never fetches the module)")
                }
            })
            .collect::<Vec<_>>()
            .join("; ");
        report.fail(
            L,
            "routing.goflags",
            format!("GOFLAGS={flags} holds {why}"),
            format!("`{fix}`"),
        );
    }

    // Proxy or direct.
    let proxy = go.get("GOPROXY");
    let routing = go.routing(module);
    match routing.direct.clone() {
        Some(p) => report.pass(
            L,
            "routing.proxy",
            format!(
                "{module} matches GONOPROXY/GOPRIVATE pattern {p}: fetched direct, with git (gocred as its helper)"
            ),
        ),
        None => {
            let first = proxy
                .split([',', '|'])
                .next()
                .unwrap_or_default()
                .trim()
                .to_owned();
            match first.as_str() {
                "direct" => report.pass(
                    L,
                    "routing.proxy",
                    "GOPROXY=direct: fetched direct, with git",
                ),
                "off" | "" => report.fail(
                    L,
                    "routing.proxy",
                    format!(
                        "GOPROXY={proxy}: go will not fetch {module} at all (\"module lookup disabled\")"
                    ),
                    add_private.clone(),
                ),
                p if p.contains("proxy.golang.org") => report.fail(
                    L,
                    "routing.proxy",
                    format!(
                        "{module} goes to the public proxy {p}, which cannot fetch a private module and learns its name"
                    ),
                    add_private.clone(),
                ),
                p => report.pass(
                    L,
                    "routing.proxy",
                    format!(
                        "{module} goes through the module proxy {p} (credentials from GOAUTH or a netrc)"
                    ),
                ),
            }
        }
    }

    // The public checksum database.
    let sumdb = match go.get("GOSUMDB") {
        "" => "sum.golang.org",
        s => s,
    };
    if sumdb == "off" {
        report.pass(L, "routing.checksum", "GOSUMDB=off: no checksum lookup");
    } else {
        match routing.no_sumdb.clone() {
            Some(p) => report.pass(
                L,
                "routing.checksum",
                format!(
                    "{module} matches GONOSUMDB/GOPRIVATE pattern {p}: its checksum is not looked up in {sumdb}"
                ),
            ),
            None => {
                // GOPRIVATE set through another variable (GONOPROXY) leaves GONOSUMDB empty.
                let via = goenv::match_prefix_patterns(go.get("GONOPROXY"), module)
                    .map(str::to_owned);
                let (detail, fix) = match via {
                    Some(p) if private.is_empty() => (
                        format!(
                            "GONOPROXY={} covers {module} (pattern {p}) but GOPRIVATE and GONOSUMDB do not: go fetches it direct, then looks its checksum up in the public database ({sumdb}), which leaks the module's name and fails",
                            go.get("GONOPROXY")
                        ),
                        format!("`{}`", go.set("GONOSUMDB", &with(go.get("GONOSUMDB"), &p))),
                    ),
                    _ => (
                        format!(
                            "GOPRIVATE{} does not cover {module}: go will look its checksum up in the public database ({sumdb}), which leaks the module's name and fails",
                            if private.is_empty() { " is empty and" } else { "" },
                        ),
                        add_private.clone(),
                    ),
                };
                report.fail(L, "routing.checksum", detail, fix);
            }
        }
    }

    match routing.insecure.clone() {
        Some(p) => report.fail(
            L,
            "routing.insecure",
            format!("GOINSECURE pattern {p} lets go fetch {module} without TLS checks"),
            format!(
                "`{}`; trust the CA instead (SSL_CERT_FILE)",
                go.unset("GOINSECURE")
            ),
        ),
        None => report.pass(L, "routing.insecure", "GOINSECURE does not cover it"),
    }

    let version = go.get("GOVERSION");
    let minor = version
        .strip_prefix("go1.")
        .and_then(|v| v.split(|c: char| !c.is_ascii_digit()).next())
        .and_then(|v| v.parse::<u32>().ok());
    if minor.is_some_and(|m| m < 24) {
        report.pass(
            L,
            "routing.goauth",
            format!("{version} predates GOAUTH: run go through `gocred exec -- go ...`"),
        );
    } else if go.asks_gocred() {
        report.pass(
            L,
            "routing.goauth",
            format!("GOAUTH={}: go asks gocred", go.get("GOAUTH")),
        );
    } else {
        // Whether go needs a credential of its own is the auth layer's question (a proxy,
        // or a discovery answer that needs one); here only what GOAUTH is.
        report.pass(
            L,
            "routing.goauth",
            format!(
                "GOAUTH={}: go's own requests (?go-get=1, GOPROXY) do not ask gocred",
                if go.get("GOAUTH").is_empty() {
                    "netrc (the default)"
                } else {
                    go.get("GOAUTH")
                }
            ),
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn go(environment: &[(&str, &str)], file: &[(&str, &str)]) -> GoEnv {
        GoEnv {
            error: None,
            env: goenv::GoEnv::simulated(environment, file),
        }
    }

    #[test]
    fn a_fix_sets_a_variable_where_go_reads_it() {
        let g = go(&[("GOPRIVATE", "a.example")], &[("GOFLAGS", "-insecure")]);
        // The environment overrides go's env file: `go env -w` would change nothing.
        assert_eq!(
            g.set("GOPRIVATE", "a.example,b.example"),
            "export GOPRIVATE=a.example,b.example"
        );
        assert_eq!(g.unset("GOFLAGS"), "go env -u GOFLAGS");
        assert_eq!(
            g.set("GOAUTH", "gocred goauth"),
            "go env -w GOAUTH='gocred goauth'"
        );
    }

    #[test]
    fn goproxy_hops_and_goauth_commands_are_split_as_go_splits_them() {
        let g = go(
            &[
                ("GOPROXY", "https://p.example|https://q.example,direct"),
                ("GOAUTH", "netrc; gocred goauth"),
            ],
            &[],
        );
        assert_eq!(
            g.proxies("m.example/x"),
            vec!["https://p.example", "https://q.example"]
        );
        assert!(g.asks_gocred() && g.reads_netrc());
        let g = go(&[("GOPRIVATE", "m.example")], &[]);
        assert!(g.proxies("m.example/x").is_empty() && g.direct("m.example/x"));
        assert!(
            !g.asks_gocred() && g.reads_netrc(),
            "GOAUTH defaults to netrc"
        );
    }
}
