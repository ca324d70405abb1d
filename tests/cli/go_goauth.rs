//! `gocred goauth` as Go calls it (FIELD-NOTES: "GOAUTH, as Go 1.27.3 really calls it"), without
//! Go: the exact answer format of `go help goauth`, pre-emptive answers only for rules that opt
//! in, URL answers for that URL's host alone, nothing for a host policy denies.

use crate::common::TestEnv;

const POLICY: &str = r#"
[[rule]]
url = "https://git.corp.example"
sources = ["file"]
store = "file"
goauth = "preemptive"

[[rule]]
url = "https://ghe.corp.example:8443"
sources = ["file"]
store = "file"

[[rule]]
url = "https://ghe.corp.example:8443/team/"
sources = ["file"]
store = "file"
goauth = "on-challenge"

[[rule]]
url = "http://legacy.corp.example"
sources = ["file"]
store = "file"
allow_http = true
"#;

/// What Go writes on stdin after a 4xx (FIELD-NOTES).
const HEAD_401: &str = "HTTP/1.1 401 Unauthorized\nContent-Length: 24\nWww-Authenticate: Basic realm=\"x\"\nContent-Type: text/plain\n\n";

fn setup() -> TestEnv {
    let env = TestEnv::new();
    env.policy(POLICY);
    for (protocol, host, path, user, pass) in [
        ("https", "git.corp.example", None, "alice", "s3cret"),
        (
            "https",
            "ghe.corp.example:8443",
            None,
            "x-access-token",
            "ghe-pass",
        ),
        (
            "https",
            "ghe.corp.example:8443",
            Some("team/mod"),
            "t",
            "team-pass",
        ),
        ("http", "legacy.corp.example", None, "l", "http-pass"),
    ] {
        let mut req =
            format!("protocol={protocol}\nhost={host}\nusername={user}\npassword={pass}\n");
        if let Some(p) = path {
            req += &format!("path={p}\n");
        }
        env.gocred(&["store"]).stdin(req).success();
    }
    env
}

#[test]
fn without_a_url_only_preemptive_rules_answer_in_gos_format() {
    let env = setup();
    let out = env.gocred(&["goauth"]).success();
    // base64("alice:s3cret")
    assert_eq!(
        out.stdout,
        "https://git.corp.example/\n\nAuthorization: Basic YWxpY2U6czNjcmV0\n\n"
    );
    assert_eq!(out.stderr, "");
}

#[test]
fn with_a_url_the_answer_is_for_that_host_alone() {
    let env = setup();
    // base64("x-access-token:ghe-pass")
    let out = env
        .gocred(&["goauth", "https://ghe.corp.example:8443/group/mod?go-get=1"])
        .stdin(HEAD_401)
        .success();
    assert_eq!(
        out.stdout,
        "https://ghe.corp.example:8443/\n\nAuthorization: Basic eC1hY2Nlc3MtdG9rZW46Z2hlLXBhc3M=\n\n"
    );
    // A proxy-style URL on the same host: the same answer.
    let again = env
        .gocred(&[
            "goauth",
            "https://ghe.corp.example:8443/proxy/group/mod/@v/list",
        ])
        .stdin(HEAD_401)
        .success();
    assert_eq!(again.stdout, out.stdout);
    // A path-scoped rule answers only under its prefix: base64("t:team-pass").
    let out = env
        .gocred(&["goauth", "https://ghe.corp.example:8443/team/mod?go-get=1"])
        .stdin(HEAD_401)
        .success();
    assert_eq!(
        out.stdout,
        "https://ghe.corp.example:8443/team/\n\nAuthorization: Basic dDp0ZWFtLXBhc3M=\n\n"
    );
}

#[test]
fn nothing_for_denied_hosts_other_ports_plain_http_or_lookalikes() {
    let env = setup();
    for url in [
        "https://other.example/group/mod?go-get=1",
        "https://ghe.corp.example/group/mod?go-get=1",
        "https://ghe.corp.example:9443/group/mod",
        "https://git.corp.example.evil.example/mod",
        "https://evil.example/git.corp.example/mod",
        "http://legacy.corp.example/mod?go-get=1",
        "https://alice@git.corp.example/mod",
        "not a url",
    ] {
        let out = env.gocred(&["goauth", url]).stdin(HEAD_401).success();
        assert_eq!(
            (out.stdout.as_str(), out.stderr.as_str()),
            ("", ""),
            "{url}"
        );
    }
}

#[test]
fn the_goauth_key_is_checked_with_line_and_column() {
    let env = TestEnv::new();
    env.policy(
        "[[rule]]\nurl = \"https://*.corp.example\"\nsources = [\"file\"]\ngoauth = \"preemptive\"\n\n\
         [[rule]]\nurl = \"https://a.example\"\nsources = [\"file\"]\ngoauth = \"always\"\n",
    );
    let out = env.gocred(&["config", "check"]).run();
    out.assert_code(1);
    let path = env.policy_path();
    let p = path.display();
    assert!(
        out.stderr.contains(&format!(
            "{p}:4:10: `goauth = \"preemptive\"` needs an https url with an exact host"
        )),
        "{out}"
    );
    assert!(
        out.stderr
            .contains(&format!("{p}:9:10: unknown goauth mode `always`")),
        "{out}"
    );
    // And a broken config makes goauth fail loudly (Go reports it), never answer.
    let out = env.gocred(&["goauth"]).run();
    out.assert_code(1);
    assert_eq!(out.stdout, "");
}
