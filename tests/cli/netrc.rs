//! `gocred netrc`: one entry per exact https host that policy allows and that has a credential
//! now; everything else left out with a reason on stderr; `--output` private and atomic.

use crate::common::{TestEnv, set_mode};
use std::os::unix::fs::PermissionsExt;

const POLICY: &str = r#"
[[rule]]
url = "https://git.corp.example"
sources = ["file"]
store = "file"

[[rule]]
url = "https://ghe.corp.example:8443"
sources = ["file"]
store = "file"

[[rule]]
url = "https://team.corp.example/release-team/"
sources = ["file"]
store = "file"

[[rule]]
url = "https://*.mirror.corp.example"
sources = ["file"]
store = "file"

[[rule]]
url = "http://legacy.corp.example"
sources = ["file"]
store = "file"
allow_http = true

[[rule]]
url = "https://ci.corp.example"
sources = ["env"]
username = "gitlab-ci-token"
token_env = "CI_JOB_TOKEN"

[[rule]]
url = "https://empty.corp.example"
sources = ["file"]
store = "file"

[[rule]]
url = "https://expired.corp.example"
sources = ["file"]
store = "file"
"#;

fn store(env: &TestEnv, protocol: &str, host: &str, path: Option<&str>, user: &str, pass: &str) {
    let mut req = format!("protocol={protocol}\nhost={host}\nusername={user}\npassword={pass}\n");
    if let Some(p) = path {
        req += &format!("path={p}\n");
    }
    env.gocred(&["store"]).stdin(req).success();
}

fn setup() -> TestEnv {
    let mut env = TestEnv::new();
    env.policy(POLICY);
    env.set_env("CI_JOB_TOKEN", "ci-SENTINEL-7");
    store(
        &env,
        "https",
        "git.corp.example",
        None,
        "alice",
        "git-SENTINEL-1",
    );
    store(
        &env,
        "https",
        "ghe.corp.example:8443",
        None,
        "x-access-token",
        "ghe-SENTINEL-2",
    );
    store(
        &env,
        "https",
        "team.corp.example",
        Some("release-team/app.git"),
        "rel",
        "path-SENTINEL-3",
    );
    store(
        &env,
        "https",
        "a.mirror.corp.example",
        None,
        "m",
        "mirror-SENTINEL-4",
    );
    store(
        &env,
        "http",
        "legacy.corp.example",
        None,
        "l",
        "http-SENTINEL-5",
    );
    // Expired: the file store keeps what an older gocred wrote; write it by hand.
    let mut text = env.file_store().unwrap();
    text += "scope=https://expired.corp.example\nusername=old\npassword=old-SENTINEL-6\npassword_expiry_utc=1000\n\n";
    // A credential for a host no rule names (written by hand, as gocred would never store it).
    text += "scope=https://other.example\nusername=o\npassword=other-SENTINEL-8\n\n";
    std::fs::write(env.file_store_path(), text).unwrap();
    env
}

#[test]
fn one_entry_per_allowed_host_with_a_credential_and_a_reason_for_every_rule_left_out() {
    let env = setup();
    let out = env.gocred(&["netrc"]).success();
    assert_eq!(
        out.stdout,
        "machine git.corp.example login alice password git-SENTINEL-1\n\
         machine ghe.corp.example:8443 login x-access-token password ghe-SENTINEL-2\n\
         machine ci.corp.example login gitlab-ci-token password ci-SENTINEL-7\n",
        "{out}"
    );
    let notes = out.stderr_lines();
    for (url, why) in [
        (
            "https://team.corp.example/release-team/",
            "covers the whole host",
        ),
        ("https://*.mirror.corp.example", "wildcard"),
        ("http://legacy.corp.example", "clear text"),
        ("https://empty.corp.example", "no credential now"),
        ("https://expired.corp.example", "no credential now"),
    ] {
        assert!(
            notes.iter().any(
                |n| n.starts_with(&format!("gocred netrc: {url}: left out: ")) && n.contains(why)
            ),
            "no note for {url} ({why}): {out}"
        );
    }
    assert_eq!(notes.len(), 5, "{out}");
    assert!(!out.stderr.contains("SENTINEL"), "{out}");

    // What gocred wrote reads back as the same entries (gocred's model of Go's reader; the real
    // readers: netrc_differential.rs).
    let parsed = gocred::netrc::go::entries(out.stdout.as_bytes());
    assert_eq!(parsed.len(), 3);
    assert_eq!(parsed[1].machine, "ghe.corp.example:8443");
}

#[test]
fn host_filter_keeps_only_the_hosts_asked_for() {
    let env = setup();
    let out = env
        .gocred(&[
            "netrc",
            "--host",
            "ghe.corp.example:8443",
            "--host",
            "nowhere.example",
        ])
        .success();
    assert_eq!(
        out.stdout,
        "machine ghe.corp.example:8443 login x-access-token password ghe-SENTINEL-2\n"
    );
    assert!(
        out.stderr
            .contains("nowhere.example: left out: no exact-host https rule"),
        "{out}"
    );
    // The default port is the bare host.
    let out = env
        .gocred(&["netrc", "--host", "git.corp.example:443"])
        .success();
    assert!(
        out.stdout
            .starts_with("machine git.corp.example login alice "),
        "{out}"
    );
}

#[test]
fn output_file_is_private_atomic_and_never_replaces_a_readable_one() {
    let env = setup();
    let target = env.root().join("out/netrc");
    let out = env
        .gocred(&["netrc", "--output", target.to_str().unwrap()])
        .success();
    assert_eq!(out.stdout, "");
    let text = std::fs::read_to_string(&target).unwrap();
    assert!(text.contains("machine git.corp.example login alice password git-SENTINEL-1\n"));
    let mode = std::fs::metadata(&target).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode, 0o600);
    assert_eq!(
        std::fs::read_dir(target.parent().unwrap()).unwrap().count(),
        1,
        "no temp file left"
    );

    // A file others can read is refused and left as it was.
    let shared = env.write_file("shared-netrc", "machine keep login k password k\n");
    set_mode(&shared, 0o644);
    let out = env
        .gocred(&["netrc", "--output", shared.to_str().unwrap()])
        .run();
    out.assert_code(1);
    assert!(
        out.stderr.contains("mode 0644") && out.stderr.contains("chmod 600"),
        "{out}"
    );
    assert_eq!(
        std::fs::read_to_string(&shared).unwrap(),
        "machine keep login k password k\n"
    );
    assert!(!out.stderr.contains("SENTINEL"));
}

#[test]
fn a_broken_file_store_fails_nothing_but_its_hosts_and_says_why() {
    let env = setup();
    set_mode(&env.file_store_path(), 0o644);
    let out = env.gocred(&["netrc"]).success();
    // Only the env rule still answers; the file rules say what to fix.
    assert_eq!(
        out.stdout,
        "machine ci.corp.example login gitlab-ci-token password ci-SENTINEL-7\n"
    );
    assert!(
        out.stderr
            .contains("gocred netrc: 4 rules left out (https://git.corp.example, https://ghe.corp.example:8443, https://empty.corp.example, https://expired.corp.example): file store "),
        "{out}"
    );
    assert!(out.stderr.contains("chmod 600"), "{out}");
    // The one broken store is said once, not under each of its rules.
    assert_eq!(out.stderr.matches("chmod 600").count(), 1, "{out}");
    assert!(!out.stderr.contains("SENTINEL"), "{out}");
}

#[test]
fn an_empty_policy_gives_an_empty_netrc() {
    let env = TestEnv::new();
    let out = env.gocred(&["netrc"]).success();
    assert_eq!((out.stdout.as_str(), out.stderr.as_str()), ("", ""));
}

/// Stored values no netrc reader may misread: each left out with a note naming its rule (and
/// never the value). The first [`ADVERSARIAL_OK`] are written as usual.
pub const ADVERSARIAL_OK: usize = 2;
pub const ADVERSARIAL: &[(&str, &str, &str)] = &[
    ("ok.corp.example", "alice", "ok-SENTINEL-0"),
    ("q.corp.example", "o'brien", "q'SENTINEL-16,=;$()"),
    ("k1.corp.example", "machine", "k1-SENTINEL-1"),
    ("k2.corp.example", "u", "PASSWORD"),
    ("k3.corp.example", "Default", "k3-SENTINEL-3"),
    ("k4.corp.example", "u", "macdef"),
    ("k5.corp.example", "ACCOUNT", "k5-SENTINEL-5"),
    ("k6.corp.example", "u", "#k6-SENTINEL-6"),
    ("k7.corp.example", "u", "k7 SENTINEL-7"),
    ("k8.corp.example", "u", "k8\\SENTINEL-8"),
    ("k9.corp.example", "u", "\"k9-SENTINEL-9\""),
    ("k10.corp.example", "u", "k10\u{a0}SENTINEL-10"),
    ("k11.corp.example", "u", "k11\u{b}SENTINEL-11"),
    ("k12.corp.example", "u\tmachine", "k12-SENTINEL-12"),
    ("k13.corp.example", "user", "k13-SENTINEL-13"),
    ("default", "u", "host-SENTINEL-14"),
    ("machine", "u", "host-SENTINEL-15"),
];

/// A policy with one file-store rule per host of [`ADVERSARIAL`] (and `extra` after them), each
/// host's credential stored.
pub fn adversarial_env(extra: &str) -> TestEnv {
    let env = TestEnv::new();
    adversarial_setup(&env, extra);
    env
}

/// [`adversarial_env`] in an existing environment.
pub fn adversarial_setup(env: &TestEnv, extra: &str) {
    let mut policy = String::new();
    for (host, _, _) in ADVERSARIAL {
        policy += &format!(
            "[[rule]]\nurl = \"https://{host}\"\nsources = [\"file\"]\nstore = \"file\"\n\n"
        );
    }
    env.policy(&(policy + extra));
    for (host, user, pass) in ADVERSARIAL {
        store(env, "https", host, None, user, pass);
    }
}

#[test]
fn generated_netrc_never_holds_a_keyword_as_a_value() {
    let env = adversarial_env("");
    // One more, too long for curl's line buffer (git would never see it).
    let long = format!("long-SENTINEL-{}", "x".repeat(4100));
    let out = env.gocred(&["netrc"]).success();
    assert_eq!(
        out.stdout,
        "machine ok.corp.example login alice password ok-SENTINEL-0\n\
         machine q.corp.example login o'brien password q'SENTINEL-16,=;$()\n",
        "{out}"
    );
    for (host, _, _) in &ADVERSARIAL[ADVERSARIAL_OK..] {
        let prefix = format!("gocred netrc: https://{host}: left out: the ");
        assert!(
            out.stderr_lines().iter().any(|n| n.starts_with(&prefix)),
            "no note for {host}: {out}"
        );
    }
    assert_eq!(
        out.stderr_lines().len(),
        ADVERSARIAL.len() - ADVERSARIAL_OK,
        "{out}"
    );
    assert!(
        out.stderr
            .contains("https://k2.corp.example: left out: the password is a netrc keyword"),
        "{out}"
    );
    assert!(
        out.stderr
            .contains("https://default: left out: the host name is a netrc keyword"),
        "{out}"
    );
    assert!(!out.stderr.contains("SENTINEL"), "{out}");

    let env = TestEnv::new();
    env.policy(
        "[[rule]]\nurl = \"https://long.corp.example\"\nsources = [\"file\"]\nstore = \"file\"\n",
    );
    store(&env, "https", "long.corp.example", None, "u", &long);
    let out = env.gocred(&["netrc"]).success();
    assert_eq!(out.stdout, "", "{out}");
    assert!(out.stderr.contains("more than 4094 bytes"), "{out}");
    assert!(!out.stderr.contains("SENTINEL"), "{out}");
}

/// Rules that share a host name across ports, schemes, paths and a wildcard; see
/// [`ports_setup`].
pub const PORTS_POLICY: &str = r#"
[[rule]]
url = "https://solo.corp.example"
sources = ["file"]
store = "file"

[[rule]]
url = "https://ports.corp.example"
sources = ["file"]
store = "file"

[[rule]]
url = "https://ports.corp.example:8443"
sources = ["file"]
store = "file"

[[rule]]
url = "https://clear.corp.example"
sources = ["file"]
store = "file"

[[rule]]
url = "http://clear.corp.example"
sources = ["file"]
store = "file"
allow_http = true

[[rule]]
url = "https://team.corp.example:8443"
sources = ["file"]
store = "file"

[[rule]]
url = "https://team.corp.example:8443/team/"
sources = ["file"]
store = "file"

[[rule]]
url = "https://w.mirror.corp.example"
sources = ["file"]
store = "file"

[[rule]]
url = "https://*.mirror.corp.example:9443"
sources = ["file"]
store = "file"
"#;

/// Stores a credential for every rule of [`PORTS_POLICY`] (which the caller writes).
pub fn ports_setup(env: &TestEnv) {
    for (proto, host, path, user, pass) in [
        (
            "https",
            "solo.corp.example",
            None,
            "solo",
            "solo-SENTINEL-1",
        ),
        (
            "https",
            "ports.corp.example",
            None,
            "p443",
            "ports-SENTINEL-2",
        ),
        (
            "https",
            "ports.corp.example:8443",
            None,
            "p8443",
            "ports-SENTINEL-3",
        ),
        (
            "https",
            "clear.corp.example",
            None,
            "tls",
            "clear-SENTINEL-4",
        ),
        (
            "http",
            "clear.corp.example",
            None,
            "plain",
            "clear-SENTINEL-5",
        ),
        (
            "https",
            "team.corp.example:8443",
            None,
            "all",
            "team-SENTINEL-6",
        ),
        (
            "https",
            "team.corp.example:8443",
            Some("team/x.git"),
            "t",
            "team-SENTINEL-7",
        ),
        (
            "https",
            "w.mirror.corp.example",
            None,
            "w",
            "mirror-SENTINEL-8",
        ),
        (
            "https",
            "w.mirror.corp.example:9443",
            None,
            "w9",
            "mirror-SENTINEL-9",
        ),
        // Two users for one host: the rule answers with one of them, and only one is written.
        (
            "https",
            "solo.corp.example",
            None,
            "solo2",
            "solo-SENTINEL-10",
        ),
    ] {
        store(env, proto, host, path, user, pass);
    }
}

#[test]
fn generated_netrc_has_one_login_per_machine_and_no_default() {
    let env = TestEnv::new();
    env.policy(PORTS_POLICY);
    ports_setup(&env);
    let out = env.gocred(&["netrc"]).success();
    // curl matches `machine` without the port (and for every scheme and path), go with it: a
    // bare host name is written only when no other rule names that host; a host:port only when
    // no path-scoped rule shares it.
    // The host with two users gets the one `get` answers with, once.
    let got = env
        .gocred(&["get"])
        .stdin("protocol=https\nhost=solo.corp.example\n")
        .success()
        .stdout;
    let (user, pass) = (got.lines().next().unwrap(), got.lines().nth(1).unwrap());
    assert_eq!(
        out.stdout,
        format!(
            "machine solo.corp.example login {} password {}\n\
             machine ports.corp.example:8443 login p8443 password ports-SENTINEL-3\n",
            user.strip_prefix("username=").unwrap(),
            pass.strip_prefix("password=").unwrap()
        ),
        "{out}"
    );
    let text = &out.stdout;
    assert!(!text.to_ascii_lowercase().contains("default"), "{out}");
    for (url, other) in [
        (
            "https://ports.corp.example",
            "https://ports.corp.example:8443",
        ),
        ("https://clear.corp.example", "http://clear.corp.example"),
        (
            "https://team.corp.example:8443",
            "https://team.corp.example:8443/team/",
        ),
        (
            "https://w.mirror.corp.example",
            "https://*.mirror.corp.example:9443",
        ),
    ] {
        assert!(
            out.stderr_lines().iter().any(|n| n
                .starts_with(&format!("gocred netrc: {url}: left out: "))
                && n.contains(&format!("rule {other} (line "))),
            "{url}: {out}"
        );
    }
    assert!(
        out.stderr
            .contains("http://clear.corp.example: left out: an http rule"),
        "{out}"
    );
    assert!(!out.stderr.contains("SENTINEL"), "{out}");
}
