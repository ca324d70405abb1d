//! `gocred doctor`: the layers against real loopback peers (the https test server with a
//! test CA, real git config, real `go env`), each failure named with its fix, the exit status
//! saying whether all passed, and `--json` the same.

use crate::common::go::go_toolchain;
use crate::common::https::{HttpsServer, Request, Response, TestCa, basic_auth};
use crate::common::{Output, TestEnv};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

const USER: &str = "alice";
const TOKEN: &str = "doc-SENTINEL-1";

struct World {
    env: TestEnv,
    ca: TestCa,
    server: HttpsServer,
    module: String,
}

impl World {
    /// A git server on loopback (`localhost:PORT`) whose certificate `ca` signed, demanding
    /// alice's token; a rule for it with the file store; go on PATH.
    fn new(ca_name: &str) -> World {
        let mut env = TestEnv::new();
        let ca = TestCa::new(&env.root().join("ca"), ca_name);
        let users = Arc::new(Mutex::new(vec![(USER.to_owned(), TOKEN.to_owned())]));
        let handler = basic_auth(
            users,
            Arc::new(|req: &Request| {
                if req.path().ends_with("/info/refs") {
                    Response::new(
                        200,
                        "application/x-git-upload-pack-advertisement",
                        "001e# service=git-upload-pack\n0000",
                    )
                } else {
                    Response::not_found()
                }
            }),
        );
        let server = HttpsServer::start("127.0.0.1:0", ca.server_config(&["localhost"]), handler);
        let host = format!("localhost:{}", server.port());
        env.policy(&format!(
            "[[rule]]\nurl = \"https://{host}\"\nsources = [\"file\"]\nstore = \"file\"\n"
        ));
        // git asks gocred for the host (doctor checks it).
        env.gocred(&["setup", "git"]).success();
        let go_bin = go_toolchain().0.parent().unwrap().to_owned();
        env.prepend_path(go_bin);
        let root = env.root();
        for (k, v) in [
            ("GOROOT", go_toolchain().1.clone()),
            ("GOPATH", root.join("gopath")),
            ("GOCACHE", root.join("gocache")),
            ("GOENV", root.join("goenv")),
        ] {
            env.set_env(k, v);
        }
        env.set_env("GOTOOLCHAIN", "local");
        // go trusts the test CA; git only once a test says so (`trust_in_git`).
        env.set_env("SSL_CERT_FILE", &ca.pem);
        env.set_env("GOCRED_HTTP_TIMEOUT", "2");
        World {
            module: format!("{host}/group/mod"),
            env,
            ca,
            server,
        }
    }

    fn host(&self) -> String {
        format!("localhost:{}", self.server.port())
    }

    fn store(&self, expiry: Option<u64>) {
        let mut req = format!(
            "protocol=https\nhost={}\nusername={USER}\npassword={TOKEN}\n",
            self.host()
        );
        if let Some(t) = expiry {
            req += &format!("password_expiry_utc={t}\n");
        }
        self.env.gocred(&["store"]).stdin(req).success();
    }

    fn trust_in_git(&self) {
        self.env
            .command("git")
            .args(["config", "--global"])
            .arg(format!("http.https://{}/.sslCAInfo", self.host()))
            .arg(&self.ca.pem)
            .success();
    }

    fn go_private(&mut self, value: &str) {
        self.env.set_env("GOPRIVATE", value);
        self.env.set_env("GOAUTH", "gocred goauth");
    }

    fn doctor(&self, extra: &[&str]) -> Output {
        let out = self
            .env
            .gocred(&["doctor"])
            .arg(&self.module)
            .args(extra)
            .run();
        assert!(
            !out.stdout.contains("SENTINEL") && !out.stderr.contains("SENTINEL"),
            "{out}"
        );
        out
    }
}

/// The line of check `name` (its ✓/✗ line and the fix line after it, if any).
fn line(out: &Output, name: &str) -> String {
    let lines: Vec<&str> = out.stdout.lines().collect();
    let i = lines
        .iter()
        .position(|l| {
            let t = l.trim_start();
            t.strip_prefix("✓ ")
                .or_else(|| t.strip_prefix("✗ "))
                .or_else(|| t.strip_prefix("- "))
                .is_some_and(|r| r.starts_with(&format!("{name}:")))
        })
        .unwrap_or_else(|| panic!("no {name} line: {out}"));
    let mut s = lines[i].to_owned();
    if let Some(next) = lines
        .get(i + 1)
        .filter(|l| l.trim_start().starts_with("fix:"))
    {
        s += "\n";
        s += next;
    }
    s
}

fn now() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs()
}

#[test]
fn all_checks_pass_and_the_server_sees_the_credential_once() {
    let mut w = World::new("Corp Internal CA");
    w.store(None);
    w.trust_in_git();
    let host = w.host();
    w.go_private(&host);
    // Healthy: one line.
    let out = w.doctor(&[]);
    out.assert_success();
    assert_eq!(out.stdout.lines().count(), 1, "{out}");
    assert!(
        out.stdout.starts_with("✓ ") && out.stdout.contains("healthy"),
        "{out}"
    );
    w.server.clear_log();
    let out = w.doctor(&["--verbose"]);
    out.assert_success();
    assert!(!out.stdout.contains('✗'), "{out}");
    assert!(
        line(&out, "network.git.trust").contains("Corp Internal CA"),
        "{out}"
    );
    assert!(
        line(&out, "network.go.trust").contains("SSL_CERT_FILE"),
        "{out}"
    );
    assert!(
        line(&out, "routing.checksum").contains("not looked up"),
        "{out}"
    );
    assert!(
        line(&out, "auth.credential").contains("from file: user alice"),
        "{out}"
    );
    assert!(line(&out, "auth.server").contains("HTTP 200"), "{out}");
    assert!(
        line(&out, "git.helper").contains("git asks gocred"),
        "{out}"
    );
    let seen: Vec<_> = w
        .server
        .log()
        .into_iter()
        .filter(|l| l.authorization.is_some())
        .collect();
    assert_eq!(seen.len(), 1, "one authenticated request: {seen:?}");
    assert_eq!(seen[0].basic(), Some((USER.into(), TOKEN.into())));
    assert!(
        seen[0]
            .target
            .ends_with("/info/refs?service=git-upload-pack")
    );
    // --json says the same.
    let out = w.doctor(&["--json"]);
    out.assert_success();
    let v: serde_json::Value = serde_json::from_str(&out.stdout).unwrap();
    assert_eq!(v["schema"], 2);
    assert_eq!(v["healthy"], true);
    assert_eq!(v["first_failure"], serde_json::Value::Null);
    assert!(
        v["checks"]
            .as_array()
            .unwrap()
            .iter()
            .all(|c| c["status"] == "pass" && c["fix"].is_null()),
        "{v:#}"
    );
}

#[test]
fn a_resigning_ca_git_does_not_trust_is_named_with_the_sslcainfo_fix() {
    let mut w = World::new("Corp Egress Re-signing CA");
    w.store(None);
    let host = w.host();
    w.go_private(&host);
    let out = w.doctor(&[]);
    out.assert_code(1);
    let trust = line(&out, "network.git.trust");
    assert!(
        trust.contains('✗') && trust.contains("Corp Egress Re-signing CA"),
        "{out}"
    );
    assert!(trust.contains("re-signing proxy"), "{out}");
    // go trusts it through SSL_CERT_FILE: git is told to trust that same file.
    assert!(
        trust.contains(&format!(
            "`git config --global http.https://{host}/.sslCAInfo {}`",
            w.ca.pem.display()
        )),
        "{out}"
    );
    assert!(line(&out, "network.go.trust").contains('✓'), "{out}");
    assert!(line(&out, "auth.server").contains("not asked"), "{out}");
    assert!(
        w.server.authorizations().is_empty(),
        "no credential to an untrusted server"
    );
    let out = w.doctor(&["--json"]);
    out.assert_code(1);
    let v: serde_json::Value = serde_json::from_str(&out.stdout).unwrap();
    assert_eq!(v["healthy"], false);
    assert_eq!(v["first_failure"]["check"], "network.git.trust");
    assert_eq!(v["first_failure"]["layer"], "network");
    let trust = v["checks"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["check"] == "network.git.trust")
        .unwrap();
    assert_eq!(trust["status"], "fail");
    assert!(trust["fix"].as_str().unwrap().contains("sslCAInfo"));
}

#[test]
fn a_goprivate_that_misses_the_module_names_the_sum_db_leak_and_the_fix() {
    let mut w = World::new("Corp Internal CA");
    w.store(None);
    w.trust_in_git();
    w.go_private("other.corp.example");
    let out = w.doctor(&[]);
    out.assert_code(1);
    let sum = line(&out, "routing.checksum");
    assert!(sum.contains('✗') && sum.contains("sum.golang.org"), "{out}");
    assert!(sum.contains("leaks the module's name"), "{out}");
    let host = w.host();
    assert!(
        sum.contains(&format!("`export GOPRIVATE=other.corp.example,{host}`")),
        "{out}"
    );
    assert!(
        line(&out, "routing.proxy").contains("proxy.golang.org"),
        "{out}"
    );
    assert!(
        line(&out, "auth.server").contains('✓'),
        "the other layers still pass: {out}"
    );
}

#[test]
fn an_expired_token_is_named_with_when_and_the_fix() {
    let mut w = World::new("Corp Internal CA");
    w.store(Some(now() + 2));
    w.trust_in_git();
    let host = w.host();
    w.go_private(&host);
    std::thread::sleep(Duration::from_millis(2500));
    let out = w.doctor(&[]);
    out.assert_code(1);
    let cred = line(&out, "auth.credential");
    assert!(cred.contains('✗') && cred.contains("expired"), "{out}");
    assert!(cred.contains("gocred store"), "{out}");
    assert!(w.server.authorizations().is_empty(), "{:?}", w.server.log());
}

#[test]
fn a_host_that_does_not_answer_times_out_quickly() {
    let mut w = World::new("Corp Internal CA");
    // Accepts connections (the kernel's backlog) and never says a word.
    let silent = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = silent.local_addr().unwrap().port();
    w.env.policy(&format!(
        "[[rule]]\nurl = \"https://localhost:{port}\"\nsources = [\"file\"]\nstore = \"file\"\n"
    ));
    w.module = format!("localhost:{port}/group/mod");
    w.go_private(&format!("localhost:{port}"));
    w.env.set_env("GOCRED_HTTP_TIMEOUT", "1");
    let start = Instant::now();
    let out = w.doctor(&[]);
    let took = start.elapsed();
    out.assert_code(1);
    assert!(took < Duration::from_secs(8), "took {took:?}: {out}");
    let tls = line(&out, "network.go.tls");
    assert!(tls.contains('✗') && tls.contains("in time"), "{out}");
    assert!(tls.contains("GOCRED_HTTP_TIMEOUT"), "{out}");
    assert!(tls.contains("doctor does not know a fix"), "{out}");
    drop(silent);
}

#[test]
fn through_gits_http_proxy_every_step_goes_through_the_tunnel() {
    let mut w = World::new("Corp Internal CA");
    w.store(None);
    w.trust_in_git();
    let host = w.host();
    w.go_private(&host);
    let proxy = crate::common::connect_proxy::ConnectProxy::start();
    w.env
        .command("git")
        .args(["config", "--global", "http.proxy"])
        .arg(proxy.url())
        .success();
    let out = w.doctor(&["--verbose"]);
    out.assert_success();
    assert!(
        line(&out, "network.git.proxy").contains(&proxy.url()),
        "{out}"
    );
    assert!(line(&out, "network.go.proxy").contains("directly"), "{out}");
    // git's TLS probe and gocred's requests (which go where git goes) are tunnelled.
    let tunnels = proxy.tunnels();
    assert!(
        tunnels.len() >= 2 && tunnels.iter().all(|t| *t == host),
        "{tunnels:?} {out}"
    );
}

#[test]
fn doctor_says_whether_git_asks_gocred_for_the_module_and_names_the_fix() {
    let mut w = World::new("Corp Internal CA");
    w.store(None);
    w.trust_in_git();
    let host = w.host();
    w.go_private(&host);
    // Another helper, for every host, before what setup wrote: it answers first.
    w.env.gocred(&["setup", "git", "--undo"]).success();
    let other = w.env.script(
        "other-helper",
        "[ \"$1\" = get ] && printf 'username=o\\npassword=from-other\\n'; exit 0",
    );
    w.env
        .git_config("credential.helper", &other.display().to_string());
    w.env.git_config(
        &format!("credential.https://{host}.helper"),
        crate::common::GOCRED,
    );
    let out = w.doctor(&[]);
    out.assert_code(1);
    let git = line(&out, "git.helper");
    assert!(
        git.starts_with("  ✗ git.helper: git runs the helper"),
        "{out}"
    );
    assert!(git.contains("before gocred"), "{out}");
    assert!(git.contains("fix: `gocred setup git`"), "{out}");
    // What git really does: the other helper answers.
    let filled = w.env.credential_fill(&format!("https://{}.git", w.module));
    assert_eq!(
        crate::common::value_of(&filled.stdout, "password"),
        Some("from-other")
    );
    // The fix it names makes the check pass, and git then gets gocred's answer.
    w.env.gocred(&["setup", "git"]).success();
    let out = w.doctor(&["--json"]);
    let v: serde_json::Value = serde_json::from_str(&out.stdout).unwrap();
    let check = v["checks"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["check"] == "git.helper")
        .unwrap()
        .clone();
    assert_eq!(check["status"], "pass", "{v:#}");
    assert_eq!(check["layer"], "git");
    let filled = w.env.credential_fill(&format!("https://{}.git", w.module));
    assert_eq!(
        crate::common::value_of(&filled.stdout, "password"),
        Some(TOKEN)
    );
}

#[test]
fn doctor_names_the_fix_for_a_keychain_that_cannot_be_used() {
    let w = World::new("Corp Internal CA");
    // The Secret Service, and no D-Bus session in the test's environment: no keychain (and
    // never the keyutils keyring of whoever runs the tests).
    w.env.policy(&format!(
        "[keychain]\nbackend = \"secret-service\"\n\n[[rule]]\nurl = \"https://{}\"\nsources = [\"keychain\"]\n",
        w.host()
    ));
    let out = w.doctor(&[]);
    out.assert_code(1);
    let credential = line(&out, "auth.credential");
    assert!(
        credential.contains("✗ auth.credential: the keychain source: "),
        "{out}"
    );
    assert!(
        credential.contains("make the keychain usable for gocred"),
        "{out}"
    );
    // Not a fix doctor can vouch for: it says so.
    assert!(
        credential.contains("fix: doctor does not know a fix that it can check"),
        "{out}"
    );
    assert!(credential.contains("line 4 of"), "{out}");
    assert!(!out.stdout.contains("fix what the message names"), "{out}");
}
