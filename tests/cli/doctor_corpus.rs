//! Issue 16's corpus: realistic broken set-ups of a private Go module, each built with real go and
//! real git against a company network in a private namespace (`common::doctor_world`). For every
//! broken case: the real `go get` fails, `gocred doctor --json` names the right layer and check
//! first, and its fix, applied as printed (in a shell, so `export`/`unset` take effect), makes the
//! same `go get` succeed, after which doctor says healthy. Controls: go works and doctor says
//! healthy in one line. Cases run in parallel in the one namespace, sharing the servers.

use crate::common::doctor_world::{
    Case, DoctorWorld, GOOD, GOPROXY_HOST, HOST, MODULE, NOSCOPE, SUBMODULE, USER, VERSION,
};
use std::sync::Mutex;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Instant;

struct Broken {
    name: &'static str,
    /// The layer and the check doctor must name first; `None` for a control (healthy).
    first: Option<(&'static str, &'static str)>,
    module: &'static str,
    /// Whether the real go fails before the fix (a hazard, such as a readable netrc, does not).
    go_fails: bool,
    /// Whether the go command also loads a program that imports the module (`go list`).
    build: bool,
    /// Whether doctor must say it does not know a fix (a `null` fix) instead of printing one.
    unknown: bool,
    set_up: fn(&DoctorWorld, &mut Case),
}

fn git(c: &Case, args: &[&str]) {
    c.env.git(args).success();
}

fn cases() -> Vec<Broken> {
    vec![
        // Controls.
        Broken {
            name: "control: healthy, direct with git and gocred",
            first: None,
            module: MODULE,
            go_fails: false,
            build: false,
            unknown: false,
            set_up: |_, _| {},
        },
        Broken {
            name: "control: healthy, netrc-based (no rule, no helper)",
            first: None,
            module: MODULE,
            go_fails: false,
            build: false,
            unknown: false,
            set_up: |_, c| {
                c.env.gocred(&["setup", "git", "--undo"]).success();
                c.env.policy("");
                c.env.set_env("GOAUTH", "");
                let netrc = c.home().join(".netrc");
                std::fs::write(
                    &netrc,
                    format!("machine {HOST}\nlogin {USER}\npassword {GOOD}\n"),
                )
                .unwrap();
                crate::common::set_mode(&netrc, 0o600);
            },
        },
        Broken {
            name: "control: egress proxy bypassed with NO_PROXY",
            first: None,
            module: MODULE,
            go_fails: false,
            build: false,
            unknown: false,
            set_up: |w, c| {
                for v in ["HTTPS_PROXY", "https_proxy"] {
                    c.env.set_env(v, w.egress_proxy());
                }
                for v in ["NO_PROXY", "no_proxy"] {
                    c.env.set_env(v, HOST);
                }
            },
        },
        Broken {
            name: "control: re-signing proxy trusted by go and git",
            first: None,
            module: MODULE,
            go_fails: false,
            build: false,
            unknown: false,
            set_up: |w, c| {
                for v in ["HTTPS_PROXY", "https_proxy"] {
                    c.env.set_env(v, w.inspecting_proxy());
                }
                c.env.set_env("SSL_CERT_FILE", &w.bundle);
                git(c, &["config", "--global", "--unset-all", "http.sslCAInfo"]);
                c.env
                    .git_config("http.sslCAInfo", w.bundle.to_str().unwrap());
            },
        },
        Broken {
            name: "control: healthy, through the company GOPROXY with GOAUTH",
            first: None,
            module: MODULE,
            go_fails: false,
            build: false,
            unknown: false,
            set_up: |_, c| c.use_company_goproxy(),
        },
        Broken {
            name: "control: go trusts the company CA through SSL_CERT_DIR",
            first: None,
            module: MODULE,
            go_fails: false,
            build: false,
            unknown: false,
            set_up: |w, c| {
                c.env.set_env("SSL_CERT_FILE", "");
                c.env.set_env("SSL_CERT_DIR", w.ca.pem.parent().unwrap());
            },
        },
        // network: proxies.
        Broken {
            name: "HTTPS_PROXY points at a dead port",
            first: Some(("network", "network.go.proxy")),
            module: MODULE,
            go_fails: true,
            build: false,
            unknown: false,
            set_up: |_, c| {
                c.env.set_env("HTTPS_PROXY", "http://127.0.0.1:9");
            },
        },
        Broken {
            name: "https_proxy (lower case) points at a dead port",
            first: Some(("network", "network.go.proxy")),
            module: MODULE,
            go_fails: true,
            build: false,
            unknown: false,
            set_up: |_, c| {
                c.env.set_env("https_proxy", "http://127.0.0.1:9");
            },
        },
        Broken {
            name: "git's http.proxy points at a dead port (go itself goes direct)",
            first: Some(("network", "network.git.proxy")),
            module: MODULE,
            go_fails: true,
            build: false,
            unknown: false,
            set_up: |_, c| c.env.git_config("http.proxy", "http://127.0.0.1:9"),
        },
        Broken {
            name: "all_proxy points at a dead port: git reads it, go does not",
            first: Some(("network", "network.git.proxy")),
            module: MODULE,
            go_fails: true,
            build: false,
            unknown: false,
            set_up: |_, c| {
                c.env.set_env("all_proxy", "http://127.0.0.1:9");
            },
        },
        Broken {
            name: "an egress proxy in HTTPS_PROXY/https_proxy refuses the company host (403)",
            first: Some(("network", "network.go.proxy")),
            module: MODULE,
            go_fails: true,
            build: false,
            unknown: false,
            set_up: |w, c| {
                for v in ["HTTPS_PROXY", "https_proxy"] {
                    c.env.set_env(v, w.egress_proxy());
                }
            },
        },
        Broken {
            name: "an egress proxy in git's http.proxy refuses the company host (403)",
            first: Some(("network", "network.git.proxy")),
            module: MODULE,
            go_fails: true,
            build: false,
            unknown: false,
            set_up: |w, c| c.env.git_config("http.proxy", &w.egress_proxy()),
        },
        // network: split trust.
        Broken {
            name: "the company CA is trusted by git only (no SSL_CERT_FILE)",
            first: Some(("network", "network.go.trust")),
            module: MODULE,
            go_fails: true,
            build: false,
            unknown: false,
            set_up: |_, c| {
                c.env.set_env("SSL_CERT_FILE", "");
            },
        },
        Broken {
            name: "the company CA is trusted by go only (no http.sslCAInfo)",
            first: Some(("network", "network.git.trust")),
            module: MODULE,
            go_fails: true,
            build: false,
            unknown: false,
            set_up: |_, c| git(c, &["config", "--global", "--unset-all", "http.sslCAInfo"]),
        },
        Broken {
            name: "GIT_SSL_CAINFO names another CA and overrides http.sslCAInfo",
            first: Some(("network", "network.git.trust")),
            module: MODULE,
            go_fails: true,
            build: false,
            unknown: false,
            set_up: |w, c| {
                c.env.set_env("GIT_SSL_CAINFO", &w.resign.pem);
            },
        },
        Broken {
            name: "a TLS re-signing proxy whose CA git trusts and go does not",
            first: Some(("network", "network.go.trust")),
            module: MODULE,
            go_fails: true,
            build: false,
            unknown: false,
            set_up: |w, c| {
                for v in ["HTTPS_PROXY", "https_proxy"] {
                    c.env.set_env(v, w.inspecting_proxy());
                }
                git(c, &["config", "--global", "--unset-all", "http.sslCAInfo"]);
                c.env
                    .git_config("http.sslCAInfo", w.bundle.to_str().unwrap());
            },
        },
        Broken {
            name: "a TLS re-signing proxy whose CA go trusts and git does not",
            first: Some(("network", "network.git.trust")),
            module: MODULE,
            go_fails: true,
            build: false,
            unknown: false,
            set_up: |w, c| {
                for v in ["HTTPS_PROXY", "https_proxy"] {
                    c.env.set_env(v, w.inspecting_proxy());
                }
                c.env.set_env("SSL_CERT_FILE", &w.bundle);
            },
        },
        Broken {
            name: "the first GOPROXY hop is dead (a comma: go stops there)",
            first: Some(("network", "network.go.goproxy")),
            module: MODULE,
            go_fails: true,
            build: false,
            unknown: false,
            set_up: |_, c| {
                c.use_company_goproxy();
                c.env.set_env(
                    "GOPROXY",
                    format!("https://{GOPROXY_HOST}:8443,https://{GOPROXY_HOST}"),
                );
            },
        },
        // routing.
        Broken {
            name: "GOPROXY=off and no GOPRIVATE",
            first: Some(("routing", "routing.proxy")),
            module: MODULE,
            go_fails: true,
            build: false,
            unknown: false,
            set_up: |_, c| {
                c.env.set_env("GOPRIVATE", "");
                c.env.set_env("GOPROXY", "off");
            },
        },
        Broken {
            name: "no GOPRIVATE: the module goes to the public proxy",
            first: Some(("routing", "routing.proxy")),
            module: MODULE,
            go_fails: true,
            build: false,
            unknown: false,
            set_up: |_, c| {
                c.env.set_env("GOPRIVATE", "");
            },
        },
        Broken {
            name: "GONOPROXY set, GOPRIVATE and GONOSUMDB not: the public checksum database",
            first: Some(("routing", "routing.checksum")),
            module: MODULE,
            go_fails: true,
            build: false,
            unknown: false,
            set_up: |_, c| {
                c.env.set_env("GOPRIVATE", "");
                c.env.set_env("GONOPROXY", HOST);
            },
        },
        Broken {
            name: "GOPROXY=direct without GOPRIVATE: the public checksum database",
            first: Some(("routing", "routing.checksum")),
            module: MODULE,
            go_fails: true,
            build: false,
            unknown: false,
            set_up: |_, c| {
                c.env.set_env("GOPRIVATE", "");
                c.env.set_env("GOPROXY", "direct");
            },
        },
        Broken {
            name: "GOFLAGS keeps a -insecure remnant",
            first: Some(("routing", "routing.goflags")),
            module: MODULE,
            go_fails: true,
            build: false,
            unknown: false,
            set_up: |_, c| {
                c.env.set_env("GOFLAGS", "-modcacherw -insecure");
            },
        },
        Broken {
            name: "GOFLAGS keeps -mod=vendor in a module without vendor/",
            first: Some(("routing", "routing.goflags")),
            module: MODULE,
            go_fails: true,
            build: true,
            unknown: false,
            set_up: |_, c| {
                c.env.set_env("GOFLAGS", "-modcacherw -mod=vendor");
            },
        },
        // auth.
        Broken {
            name: "the first day: no gocred config, no helper, no token",
            first: Some(("auth", "auth.rule")),
            module: MODULE,
            go_fails: true,
            build: false,
            unknown: false,
            set_up: |_, c| {
                c.env.gocred(&["setup", "git", "--undo"]).success();
                std::fs::remove_file(c.env.policy_path()).unwrap();
                std::fs::remove_file(c.env.file_store_path()).unwrap();
            },
        },
        Broken {
            name: "no token stored",
            first: Some(("auth", "auth.credential")),
            module: MODULE,
            go_fails: true,
            build: false,
            unknown: false,
            set_up: |_, c| {
                c.env
                    .gocred(&["erase"])
                    .stdin(format!("protocol=https\nhost={HOST}\nusername={USER}\n"))
                    .success();
            },
        },
        Broken {
            name: "the stored token expired",
            first: Some(("auth", "auth.credential")),
            module: MODULE,
            go_fails: true,
            build: false,
            unknown: false,
            set_up: |_, c| {
                // gocred refuses to store an expired token: one that expires in a second.
                let soon = std::time::SystemTime::now()
                    .duration_since(std::time::UNIX_EPOCH)
                    .unwrap()
                    .as_secs()
                    + 1;
                c.env
                    .gocred(&["store"])
                    .stdin(format!(
                        "protocol=https\nhost={HOST}\nusername={USER}\npassword={GOOD}\npassword_expiry_utc={soon}\n"
                    ))
                    .success();
                std::thread::sleep(std::time::Duration::from_millis(2100));
            },
        },
        Broken {
            name: "a token without access: GitLab answers 404",
            first: Some(("auth", "auth.server")),
            module: MODULE,
            go_fails: true,
            build: false,
            unknown: false,
            set_up: |_, c| c.store(NOSCOPE),
        },
        Broken {
            // git erases a credential the server answers 401 to: doctor then finds none.
            name: "a revoked token: 401, and git erased it",
            first: Some(("auth", "auth.credential")),
            module: MODULE,
            go_fails: true,
            build: false,
            unknown: false,
            set_up: |_, c| c.store("glpat-FAKE-doctor-revoked"),
        },
        Broken {
            name: "a GitLab subgroup answers ?go-get=1 with its parent's path",
            first: Some(("auth", "auth.discovery")),
            module: SUBMODULE,
            go_fails: true,
            build: false,
            unknown: false,
            set_up: |_, _| {},
        },
        Broken {
            name: "a GitLab subgroup, and GOAUTH does not ask gocred either",
            first: Some(("auth", "auth.discovery")),
            module: SUBMODULE,
            go_fails: true,
            build: false,
            unknown: false,
            set_up: |_, c| {
                c.env.set_env("GOAUTH", "");
            },
        },
        Broken {
            name: "a typo in the module's host: doctor does not know the fix, and says so",
            first: Some(("network", "network.go.dns")),
            module: "gti.corp.example/group/mod",
            go_fails: true,
            build: false,
            unknown: true,
            set_up: |_, c| {
                c.env.set_env("GOPRIVATE", "*.corp.example");
            },
        },
        Broken {
            name: "~/.netrc holds a stale token go sends first",
            first: Some(("auth", "auth.netrc")),
            module: MODULE,
            go_fails: true,
            build: false,
            unknown: false,
            set_up: |_, c| {
                c.env.set_env("GOAUTH", "");
                let netrc = c.home().join(".netrc");
                std::fs::write(
                    &netrc,
                    format!("machine {HOST}\nlogin {USER}\npassword glpat-FAKE-doctor-stale\n"),
                )
                .unwrap();
                crate::common::set_mode(&netrc, 0o600);
            },
        },
        Broken {
            name: "~/.netrc readable by group and others (a hazard; go still works)",
            first: Some(("auth", "auth.netrc")),
            module: MODULE,
            go_fails: false,
            build: false,
            unknown: false,
            set_up: |_, c| {
                let netrc = c.home().join(".netrc");
                std::fs::write(
                    &netrc,
                    format!("machine {HOST}\nlogin {USER}\npassword {GOOD}\n"),
                )
                .unwrap();
                crate::common::set_mode(&netrc, 0o644);
            },
        },
        Broken {
            name: "the company GOPROXY wants a credential and GOAUTH does not ask gocred",
            first: Some(("auth", "auth.goproxy")),
            module: MODULE,
            go_fails: true,
            build: false,
            unknown: false,
            set_up: |_, c| {
                c.use_company_goproxy();
                c.env.set_env("GOAUTH", "");
            },
        },
        // git.
        Broken {
            name: "git has no helper",
            first: Some(("git", "git.helper")),
            module: MODULE,
            go_fails: true,
            build: false,
            unknown: false,
            set_up: |_, c| {
                c.env.gocred(&["setup", "git", "--undo"]).success();
            },
        },
        Broken {
            name: "another helper answers before gocred",
            first: Some(("git", "git.helper")),
            module: MODULE,
            go_fails: true,
            build: false,
            unknown: false,
            set_up: |_, c| {
                c.env.gocred(&["setup", "git", "--undo"]).success();
                let other = c.env.script(
                    "other-helper",
                    "[ \"$1\" = get ] && printf 'username=alice\\npassword=glpat-FAKE-other\\n'; exit 0",
                );
                c.env
                    .git_config("credential.helper", &other.display().to_string());
                c.env.git_config(
                    &format!("credential.https://{HOST}.helper"),
                    crate::common::GOCRED,
                );
            },
        },
        Broken {
            name: "a rule with a path, and git does not send the path (no useHttpPath)",
            first: Some(("git", "git.helper")),
            module: MODULE,
            go_fails: true,
            build: false,
            unknown: false,
            set_up: |_, c| {
                c.env.gocred(&["setup", "git", "--undo"]).success();
                c.env.policy(&format!(
                    "[[rule]]\nurl = \"https://{HOST}/group\"\nsources = [\"file\"]\nstore = \"file\"\n"
                ));
                c.env
                    .gocred(&["store"])
                    .stdin(format!(
                        "protocol=https\nhost={HOST}\npath=group/mod.git\nusername={USER}\npassword={GOOD}\n"
                    ))
                    .success();
                // What `setup git` writes, without useHttpPath.
                c.env
                    .git_config(&format!("credential.https://{HOST}.helper"), "");
                c.env.git_config(
                    &format!("credential.https://{HOST}.helper"),
                    crate::common::GOCRED,
                );
            },
        },
        Broken {
            name: "credential.helper = gocred, and git-credential-gocred is not on PATH",
            first: Some(("git", "git.helper")),
            module: MODULE,
            go_fails: true,
            build: false,
            unknown: false,
            set_up: |_, c| {
                c.env.gocred(&["setup", "git", "--undo"]).success();
                c.env.git_config("credential.helper", "gocred");
                std::fs::remove_file(c.env.root().join("bin/git-credential-gocred")).unwrap();
            },
        },
    ]
}

/// The fix as a shell script: each command in backquotes, in order, up to an alternative
/// ("or ..."). A policy edit (`goauth = "preemptive"` for the rule at line N of FILE) is made
/// as it says. Placeholders doctor prints for what only the user knows are filled in.
fn apply(fix: &str) -> Result<String, String> {
    let mut script = String::new();
    let parts: Vec<&str> = fix.split('`').collect();
    for (i, part) in parts.iter().enumerate() {
        if i % 2 == 0 {
            if i > 0 && part.split_whitespace().any(|w| w == "or") {
                break;
            }
            continue;
        }
        if let Some(setting) = part.strip_prefix("goauth = ") {
            // "... `goauth = "preemptive"` to the rule at line N of FILE ..."
            let after = parts.get(i + 1).copied().unwrap_or_default();
            let rest = after
                .split_once("to the rule at line ")
                .ok_or_else(|| format!("cannot read the policy edit in: {fix}"))?
                .1;
            let (line, rest) = rest.split_once(" of ").ok_or("no ' of '")?;
            let line: usize = line.parse().map_err(|_| format!("line in {fix}"))?;
            let file = rest.split(' ').next().unwrap_or_default();
            let text = std::fs::read_to_string(file).map_err(|e| format!("{file}: {e}"))?;
            let mut lines: Vec<String> = text.lines().map(str::to_owned).collect();
            lines.insert(line, format!("goauth = {setting}"));
            std::fs::write(file, lines.join("\n") + "\n").map_err(|e| e.to_string())?;
            continue;
        }
        script += &part
            .replace("password=TOKEN", &format!("password={GOOD}"))
            .replace("username=USER", &format!("username={USER}"));
        script += "\n";
    }
    Ok(script)
}

fn run_case(w: &DoctorWorld, b: &Broken) -> Result<String, String> {
    let start = Instant::now();
    let mut c = w.case();
    (b.set_up)(w, &mut c);
    let go = if b.build {
        std::fs::write(
            c.work.join("main.go"),
            format!(
                "package main\n\nimport mod \"{}\"\n\nfunc main() {{ println(mod.Hello) }}\n",
                b.module
            ),
        )
        .unwrap();
        format!("go get {}@{VERSION}\ngo list ./...\n", b.module)
    } else {
        format!("go get {}@{VERSION}\n", b.module)
    };
    let before = c.sh(&format!("set -e\n{go}"));
    match (b.go_fails, before.code() == Some(0)) {
        (true, true) => return Err(format!("go get worked before the fix:\n{before}")),
        (false, false) => return Err(format!("go get failed:\n{before}")),
        _ => {}
    }
    let took = Instant::now();
    let out = c.doctor(b.module, true);
    let took = took.elapsed();
    if std::env::var_os("GOCRED_DOCTOR_SHOW").is_some() {
        eprintln!("--- {}\n{}", b.name, c.doctor(b.module, false).stdout);
    }
    let v: serde_json::Value = serde_json::from_str(&out.stdout)
        .map_err(|e| format!("doctor --json is not JSON ({e}):\n{out}"))?;
    let Some((layer, check)) = b.first else {
        if v["healthy"] != true || out.code() != Some(0) {
            return Err(format!("a control is not healthy:\n{out}"));
        }
        let human = c.doctor(b.module, false);
        if human.code() != Some(0) || human.stdout.lines().count() != 1 {
            return Err(format!("healthy is not one line:\n{human}"));
        }
        return Ok(format!(
            "healthy (doctor {took:.1?}) in {:.1?}",
            start.elapsed()
        ));
    };
    let first = &v["first_failure"];
    if out.code() != Some(1) || first["layer"] != layer || first["check"] != check {
        return Err(format!(
            "doctor names {} / {} first, not {layer} / {check}:\n{out}\n(go said:\n{before})",
            first["layer"], first["check"]
        ));
    }
    if b.unknown {
        let human = c.doctor(b.module, false);
        return match (
            first["fix"].is_null(),
            human.stdout.contains("fix: doctor does not know"),
        ) {
            (true, true) => Ok(format!("{check}, no fix claimed, in {:?}", start.elapsed())),
            _ => Err(format!(
                "doctor claims a fix it cannot know:\n{out}\n{human}"
            )),
        };
    }
    let fix = first["fix"]
        .as_str()
        .ok_or_else(|| format!("no fix printed:\n{out}"))?;
    let script = apply(fix)?;
    let after = c.sh(&format!("set -e\n{script}{go}gocred doctor {}\n", b.module));
    if after.code() != Some(0) {
        return Err(format!(
            "the fix `{fix}`, applied, did not make go (and doctor) happy:\n{after}"
        ));
    }
    if !after.stdout.contains("healthy") {
        return Err(format!("doctor is not healthy after the fix:\n{after}"));
    }
    Ok(format!(
        "{check} (doctor {took:.1?}) in {:.1?}; fix: {fix}",
        start.elapsed()
    ))
}

#[test]
fn doctor_names_the_broken_layer_first_and_its_fix_makes_go_get_work() {
    if !nix_root() {
        eprintln!("skipped: the doctor corpus needs root for a private network namespace");
        return;
    }
    let start = Instant::now();
    let w = DoctorWorld::new();
    let cases = cases();
    let only = std::env::var("GOCRED_DOCTOR_CASE").ok();
    let next = AtomicUsize::new(0);
    let results: Mutex<Vec<(usize, Result<String, String>)>> = Mutex::new(Vec::new());
    std::thread::scope(|s| {
        for _ in 0..4 {
            s.spawn(|| {
                loop {
                    let i = next.fetch_add(1, Ordering::SeqCst);
                    let Some(b) = cases.get(i) else { break };
                    if only.as_deref().is_some_and(|o| !b.name.contains(o)) {
                        continue;
                    }
                    let r = run_case(&w, b);
                    results.lock().unwrap().push((i, r));
                }
            });
        }
    });
    let mut results = results.into_inner().unwrap();
    results.sort_by_key(|(i, _)| *i);
    let mut failed = Vec::new();
    for (i, r) in &results {
        match r {
            Ok(what) => eprintln!("ok   {}: {what}", cases[*i].name),
            Err(why) => {
                eprintln!("FAIL {}: {why}", cases[*i].name);
                failed.push(cases[*i].name);
            }
        }
    }
    let broken = cases
        .iter()
        .filter(|b| b.first.is_some() && !b.unknown)
        .count();
    eprintln!(
        "{} cases ({broken} broken with a fix that is applied and checked) in {:?}",
        results.len(),
        start.elapsed()
    );
    assert!(failed.is_empty(), "failed: {failed:#?}");
    assert!(
        only.is_some() || broken >= 20,
        "the corpus holds {broken} broken set-ups"
    );
}

fn nix_root() -> bool {
    // SAFETY: geteuid has no preconditions.
    unsafe { libc::geteuid() == 0 }
}
