//! Table-driven tests of matching, specificity, scope keys and the loader's diagnostics.

use super::*;
use std::path::Path;

fn policy(toml: &str) -> Policy {
    load_str(Path::new("/cfg/config.toml"), toml).unwrap_or_else(|e| panic!("{}", e.report()))
}

fn rules(urls: &[&str]) -> Policy {
    let mut text = String::new();
    for url in urls {
        let extra = if url.starts_with("http://") {
            "allow_http = true\n"
        } else {
            ""
        };
        text += &format!(
            "[[rule]]\nurl = \"{url}\"\nsources = [\"file\"]\nstore = \"file\"\n{extra}\n"
        );
    }
    policy(&text)
}

/// The url of the winning rule and the scope key, or None when not managed.
fn decide(p: &Policy, protocol: &str, host: &str, path: Option<&str>) -> Option<(String, String)> {
    match p.decide(Target::new(protocol, host, path)?) {
        Decision::NotManaged => None,
        Decision::Managed { rule, scope, .. } => Some((rule.url.clone(), scope.0)),
    }
}

#[test]
fn exact_host_matching_table() {
    let p = rules(&["https://gitlab.corp.example"]);
    let yes = "https://gitlab.corp.example";
    for (protocol, host, path, expected) in [
        ("https", "gitlab.corp.example", None, Some(yes)),
        ("https", "GITLAB.Corp.Example", None, Some(yes)),
        ("https", "gitlab.corp.example.", None, Some(yes)),
        ("https", "gitlab.corp.example:443", None, Some(yes)),
        (
            "HTTPS",
            "gitlab.corp.example",
            Some("any/repo.git"),
            Some(yes),
        ),
        ("http", "gitlab.corp.example", None, None),
        ("https", "gitlab.corp.example:8443", None, None),
        ("https", "gitlab.corp.example:80", None, None),
        ("https", "gitlab.corp.example.evil.com", None, None),
        ("https", "evilgitlab.corp.example", None, None),
        ("https", "x.gitlab.corp.example", None, None),
        ("https", "gitlab.corp.exampl", None, None),
        ("https", "gitlab-corp.example", None, None),
        ("https", "gitlab.corp.example..", None, None),
        ("ssh", "gitlab.corp.example", None, None),
    ] {
        let got = decide(&p, protocol, host, path).map(|(u, _)| u);
        assert_eq!(got.as_deref(), expected, "{protocol}://{host} {path:?}");
    }
}

#[test]
fn wildcard_matches_one_or_more_labels_under_it_and_nothing_else() {
    let p = rules(&["https://*.corp.example"]);
    for (host, matches) in [
        ("a.corp.example", true),
        ("a.b.corp.example", true),
        ("A.CORP.EXAMPLE.", true),
        ("corp.example", false),
        ("corp.example.evil.com", false),
        ("a.corp.example.evil.com", false),
        ("acorp.example", false),
        ("a-corp.example", false),
        ("a.corp.example:8443", false),
        ("a.corp.examples", false),
    ] {
        assert_eq!(decide(&p, "https", host, None).is_some(), matches, "{host}");
    }
}

#[test]
fn ports_and_schemes_must_be_exact() {
    let p = rules(&["https://h.example:8443", "http://plain.example"]);
    assert!(decide(&p, "https", "h.example:8443", None).is_some());
    assert!(decide(&p, "https", "h.example", None).is_none());
    assert!(decide(&p, "http", "h.example:8443", None).is_none());
    assert!(decide(&p, "http", "plain.example", None).is_some());
    assert!(decide(&p, "http", "plain.example:80", None).is_some());
    assert!(decide(&p, "https", "plain.example", None).is_none());
}

#[test]
fn path_prefix_matches_on_a_slash_boundary_only_with_a_path() {
    let p = rules(&["https://h.example/group/"]);
    for (path, matches) in [
        (Some("group"), true),
        (Some("group/repo.git"), true),
        (Some("/group/sub/repo.git/"), true),
        // git's path holds what followed the host, query and fragment included: never clean.
        (Some("group/repo?go-get=1"), false),
        (Some("group?/../other/x.git"), false),
        (Some("group#/../other"), false),
        (Some("group/%2e%2e/other"), false),
        (Some("group%2F..%2Fother"), false),
        (Some("group/..;/other"), false),
        (Some("groupie/repo.git"), false),
        (Some("grou"), false),
        (Some("other/group/repo"), false),
        (Some("group/../other/repo"), false),
        (Some("group/./repo"), false),
        (Some("Group/repo"), false),
        (None, false),
    ] {
        assert_eq!(
            decide(&p, "https", "h.example", path).is_some(),
            matches,
            "{path:?}"
        );
    }
}

#[test]
fn ip_literals_match_only_themselves() {
    let p = rules(&[
        "https://127.0.0.1",
        "https://[::1]:8443",
        "https://*.corp.example",
    ]);
    for (host, expected) in [
        ("127.0.0.1", Some("https://127.0.0.1")),
        ("127.0.0.1:443", Some("https://127.0.0.1")),
        ("127.0.0.1.", None),
        ("127.0.0.1.:443", None),
        ("127.1", None),
        ("0x7f.0.0.1", None),
        ("2130706433", None),
        ("[::1]:8443", Some("https://[::1]:8443")),
        ("[0::1]:8443", Some("https://[::1]:8443")),
        ("[::1].:8443", None),
        ("[::ffff:127.0.0.1]", None),
    ] {
        let got = decide(&p, "https", host, None).map(|(u, _)| u);
        assert_eq!(got.as_deref(), expected, "{host}");
    }
}

#[test]
fn most_specific_rule_wins() {
    let p = rules(&[
        "https://*.corp.example",
        "https://*.eu.corp.example",
        "https://git.eu.corp.example",
        "https://git.eu.corp.example/team/",
        "https://git.eu.corp.example/team/secret/",
    ]);
    let winner = |host, path| decide(&p, "https", host, path).map(|(u, _)| u).unwrap();
    assert_eq!(winner("x.corp.example", None), "https://*.corp.example");
    assert_eq!(
        winner("x.eu.corp.example", None),
        "https://*.eu.corp.example"
    );
    assert_eq!(
        winner("git.eu.corp.example", None),
        "https://git.eu.corp.example"
    );
    assert_eq!(
        winner("git.eu.corp.example", Some("team/a")),
        "https://git.eu.corp.example/team/"
    );
    assert_eq!(
        winner("git.eu.corp.example", Some("team/secret/b")),
        "https://git.eu.corp.example/team/secret/"
    );
    assert_eq!(
        winner("git.eu.corp.example", Some("other/b")),
        "https://git.eu.corp.example"
    );
    // The order of the rules in the file does not matter.
    let reversed = rules(&["https://git.example/a/", "https://git.example"]);
    assert_eq!(
        decide(&reversed, "https", "git.example", Some("a/b"))
            .unwrap()
            .0,
        "https://git.example/a/"
    );
}

#[test]
fn scope_keys_name_exactly_what_was_asked() {
    let p = rules(&[
        "https://*.mirror.example",
        "https://h.example/group/",
        "https://h.example:8443",
    ]);
    let scope = |proto, host, path| decide(&p, proto, host, path).map(|(_, s)| s);
    assert_eq!(
        scope("https", "A.mirror.example.", None).as_deref(),
        Some("https://a.mirror.example")
    );
    assert_eq!(
        scope("https", "a.mirror.example", Some("x/y")).as_deref(),
        Some("https://a.mirror.example")
    );
    assert_eq!(
        scope("https", "h.example", Some("group/r.git/")).as_deref(),
        Some("https://h.example/group/r.git")
    );
    assert_eq!(
        scope("https", "h.example:8443", Some("group/r")).as_deref(),
        Some("https://h.example:8443")
    );
    // The isolation invariant: different hosts, ports, schemes and paths never share a key.
    let keys: Vec<_> = [
        scope("https", "a.mirror.example", None),
        scope("https", "b.mirror.example", None),
        scope("https", "h.example", Some("group/a")),
        scope("https", "h.example", Some("group/b")),
        scope("https", "h.example:8443", None),
    ]
    .into_iter()
    .map(Option::unwrap)
    .collect();
    let unique: std::collections::HashSet<_> = keys.iter().collect();
    assert_eq!(unique.len(), keys.len(), "{keys:?}");
}

#[test]
fn default_is_deny() {
    let p = policy("");
    assert!(decide(&p, "https", "github.com", None).is_none());
    let p = load(Path::new("/nonexistent/gocred/config.toml")).unwrap();
    assert!(!p.exists && p.rules.is_empty());
}

#[test]
fn a_full_policy_loads() {
    let p = policy(
        r#"
[keychain]
backend = "keyutils"

[file]
path = "/var/lib/ci/gocred-credentials"

[[rule]]
url = "https://gitlab.corp.example"
sources = ["keychain", "env"]
username = "oauth2"
token_env = "CI_JOB_TOKEN"
store = "keychain"
allow_http = false
"#,
    );
    assert_eq!(p.keychain_backend, KeychainBackend::Keyutils);
    assert_eq!(
        p.file_path.as_deref(),
        Some(Path::new("/var/lib/ci/gocred-credentials"))
    );
    let r = &p.rules[0];
    assert_eq!(r.sources, [SourceKind::Keychain, SourceKind::Env]);
    assert_eq!(
        (r.username.as_deref(), r.token_env.as_deref()),
        (Some("oauth2"), Some("CI_JOB_TOKEN"))
    );
    assert_eq!(
        (r.store, r.allow_http, r.line),
        (Some(SourceKind::Keychain), false, 8)
    );
}

/// (line, column, a fragment of the message) for each diagnostic.
fn problems(toml: &str) -> Vec<(usize, usize, String)> {
    match load_str(Path::new("/cfg/config.toml"), toml) {
        Ok(_) => panic!("expected problems in:\n{toml}"),
        Err(ConfigError::Invalid { diagnostics, .. }) => diagnostics
            .into_iter()
            .map(|d| (d.line, d.column, d.message))
            .collect(),
        Err(e) => panic!("{e}"),
    }
}

#[test]
fn every_problem_is_reported_with_line_and_column() {
    let found = problems(
        "[[rule]]\nurl = \"https://a.example\"\nsorces = [\"keychain\"]\n\n[[rule]]\nurl = \"ftp://b.example\"\nsources = [\"keychain\", \"vault\"]\n",
    );
    let summary: Vec<_> = found
        .iter()
        .map(|(l, c, m)| (*l, *c, m.split(' ').take(2).collect::<Vec<_>>().join(" ")))
        .collect();
    assert_eq!(
        summary,
        [
            (1, 1, "this [[rule]]".to_owned()),
            (3, 1, "unknown key".to_owned()),
            (6, 7, "bad url".to_owned()),
            (7, 24, "unknown source".to_owned()),
        ],
        "{found:#?}"
    );
}

#[test]
fn each_kind_of_mistake_is_named() {
    let cases: &[(&str, &str)] = &[
        ("x = 1", "unknown key `x` in the top level"),
        (
            "[keychain]\nbackend = \"kwallet\"",
            "unknown keychain backend `kwallet`",
        ),
        ("[file]\npath = \"relative/creds\"", "must be absolute"),
        ("rule = 5", "array of tables"),
        ("[[rule]]\nsources = [\"file\"]", "has no `url`"),
        (
            "[[rule]]\nurl = 5\nsources = [\"file\"]",
            "`url` must be a string",
        ),
        (
            "[[rule]]\nurl = \"https://*.example\"\nsources = [\"file\"]",
            "too broad",
        ),
        (
            "[[rule]]\nurl = \"https://a.*.example\"\nsources = [\"file\"]",
            "only wildcard",
        ),
        (
            "[[rule]]\nurl = \"https://u:p@a.example\"\nsources = [\"file\"]",
            "user name or password",
        ),
        (
            "[[rule]]\nurl = \"https://a.example?x=1\"\nsources = [\"file\"]",
            "query",
        ),
        (
            "[[rule]]\nurl = \"https://a.example:99999\"\nsources = [\"file\"]",
            "port",
        ),
        (
            "[[rule]]\nurl = \"https://a.example/x/../y\"\nsources = [\"file\"]",
            "plain segments",
        ),
        (
            "[[rule]]\nurl = \"a.example\"\nsources = [\"file\"]",
            "expected scheme://",
        ),
        (
            "[[rule]]\nurl = \"http://a.example\"\nsources = [\"file\"]",
            "allow_http = true",
        ),
        (
            "[[rule]]\nurl = \"https://a.example\"\nsources = []",
            "is empty",
        ),
        (
            "[[rule]]\nurl = \"https://a.example\"\nsources = [\"file\", \"file\"]",
            "listed twice",
        ),
        (
            "[[rule]]\nurl = \"https://a.example\"\nsources = [\"oauth\"]",
            "needs a [rule.oauth] table",
        ),
        (
            "[[rule]]\nurl = \"https://a.example\"\nsources = [\"env\"]\nusername = \"u\"",
            "needs `token_env`",
        ),
        (
            "[[rule]]\nurl = \"https://a.example\"\nsources = [\"env\"]\ntoken_env = \"T\"",
            "needs `username`",
        ),
        (
            "[[rule]]\nurl = \"https://a.example\"\nsources = [\"file\"]\ntoken_env = \"T\"",
            "`env` is not in `sources`",
        ),
        (
            "[[rule]]\nurl = \"https://a.example\"\nsources = [\"env\"]\nusername = \"u\"\ntoken_env = \"1X\"",
            "not an environment variable",
        ),
        (
            "[[rule]]\nurl = \"https://a.example\"\nsources = [\"file\"]\nusername = \"a:b\"",
            "without ':'",
        ),
        (
            "[[rule]]\nurl = \"https://a.example\"\nsources = [\"file\"]\nstore = \"env\"",
            "read-only",
        ),
        (
            "[[rule]]\nurl = \"https://a.example\"\nsources = [\"file\"]\nstore = \"keychain\"",
            "could never be read back",
        ),
        (
            "[[rule]]\nurl = \"https://a.example\"\nsources = [\"file\"]\nallow_http = \"yes\"",
            "true or false",
        ),
        (
            "[[rule]]\nurl = \"https://A.example\"\nsources = [\"file\"]\n[[rule]]\nurl = \"https://a.example:443/\"\nsources = [\"file\"]",
            "matches exactly what the rule on line 1",
        ),
        ("[[rule]\nurl = 1", "unclosed array table"),
        // An IP literal has one spelling, and no trailing dot (then it is a DNS name).
        (
            "[[rule]]\nurl = \"https://127.0.0.1.\"\nsources = [\"file\"]",
            "write '127.0.0.1'",
        ),
        (
            "[[rule]]\nurl = \"https://0x7f.0.0.1\"\nsources = [\"file\"]",
            "four decimal numbers",
        ),
        (
            "[[rule]]\nurl = \"https://*.0.0.1\"\nsources = [\"file\"]",
            "not a valid host pattern",
        ),
        (
            "[[rule]]\nurl = \"https://a.example/gr%6fup/\"\nsources = [\"file\"]",
            "written decoded",
        ),
        (
            "[[rule]]\nurl = \"https://a.example/group;x/\"\nsources = [\"file\"]",
            "written decoded",
        ),
    ];
    for (toml, fragment) in cases {
        let found = problems(toml);
        assert!(
            found.iter().any(|(_, _, m)| m.contains(fragment)),
            "{toml:?}: expected {fragment:?} in {found:#?}"
        );
    }
}

#[test]
fn the_one_line_error_names_the_file_and_the_fix() {
    let e = load_str(
        Path::new("/cfg/config.toml"),
        "[[rule]]\nurl = 1\nsources = [\"x\"]\n",
    )
    .unwrap_err();
    let line = e.to_string();
    assert!(!line.contains('\n'));
    assert!(
        line.starts_with("/cfg/config.toml:2:7: `url` must be a string"),
        "{line}"
    );
    assert!(
        line.contains("(and 1 more problem)") && line.contains("gocred config check"),
        "{line}"
    );
}

#[test]
fn every_example_policy_in_the_readme_is_valid() {
    let readme = include_str!("../../README.md");
    let blocks: Vec<&str> = readme
        .split("```toml\n")
        .skip(1)
        .map(|b| b.split("```").next().unwrap())
        .collect();
    assert!(blocks.len() >= 2, "the README shows example policies");
    for block in blocks {
        // The machine policy's example: checked as one.
        if block.starts_with("# /etc/gocred/policy.toml") {
            let m = super::machine::parse(Path::new("/etc/gocred/policy.toml"), block);
            assert!(m.is_ok(), "{}", m.unwrap_err().report());
            continue;
        }
        let p = policy(block);
        assert!(!p.rules.is_empty() || p.ci_job_token.is_some(), "{block}");
    }
}
