//! Issue 12, "Zero-config CI job tokens": in GitLab CI and GitHub Actions, `[ci] job_token =
//! true` (or `gocred setup ci`, no policy at all) serves the job token to exactly the CI
//! server's origin, and nothing when the variables are absent or inconsistent.
//!
//! The variables are the ones the CI systems document for a job (GitLab's predefined variables,
//! GitHub's default variables plus the `GITHUB_TOKEN` a workflow maps in). Real git over TLS
//! through the helper, real go for the private module, and the cross-host cases gh gets wrong:
//! another host on the same socket, a subdomain, another port, http.

use crate::common::git_server::GitServer;
use crate::common::go::{GIT_HOST, GoWorld, MODULE, VERSION};
use crate::common::https::TestCa;
use crate::common::{Output, TestEnv};

const JOB_TOKEN: &str = "glcbt-FAKE-job-token-SENTINEL";
const GH_TOKEN: &str = "ghs_FAKE_job_token_SENTINEL";

/// A GitLab CI job's variables for the server at `url` (as GitLab's predefined-variables
/// reference lists them).
fn gitlab_job(env: &mut TestEnv, url: &str) {
    let (host, port) = url
        .strip_prefix("https://")
        .map(|rest| match rest.split_once(':') {
            Some((h, p)) => (h.to_owned(), p.to_owned()),
            None => (rest.to_owned(), "443".to_owned()),
        })
        .unwrap_or_default();
    for (k, v) in [
        ("CI", "true".to_owned()),
        ("GITLAB_CI", "true".to_owned()),
        ("CI_SERVER", "yes".to_owned()),
        ("CI_SERVER_URL", url.to_owned()),
        ("CI_SERVER_HOST", host.clone()),
        ("CI_SERVER_PORT", port),
        ("CI_SERVER_PROTOCOL", "https".to_owned()),
        ("CI_SERVER_FQDN", host),
        ("CI_API_V4_URL", format!("{url}/api/v4")),
        ("CI_PROJECT_PATH", "group/repo".to_owned()),
        ("CI_PROJECT_ROOT_NAMESPACE", "group".to_owned()),
        ("CI_PROJECT_URL", format!("{url}/group/repo")),
        ("CI_JOB_TOKEN", JOB_TOKEN.to_owned()),
        ("GIT_TERMINAL_PROMPT", "0".to_owned()),
        // A job names no config: the default place (where `env.policy` writes), or none.
        ("GOCRED_CONFIG", String::new()),
    ] {
        env.set_env(k, v);
    }
}

/// A GitHub Actions job's variables (GitHub's default variables, and `GITHUB_TOKEN` mapped in
/// by the workflow).
fn github_job(env: &mut TestEnv, url: &str) {
    for (k, v) in [
        ("CI", "true".to_owned()),
        ("GITHUB_ACTIONS", "true".to_owned()),
        ("GITHUB_SERVER_URL", url.to_owned()),
        ("GITHUB_API_URL", format!("{url}/api/v3")),
        ("GITHUB_GRAPHQL_URL", format!("{url}/api/graphql")),
        ("GITHUB_REPOSITORY", "octo-org/repo".to_owned()),
        ("GITHUB_REPOSITORY_OWNER", "octo-org".to_owned()),
        ("RUNNER_OS", "Linux".to_owned()),
        ("GITHUB_TOKEN", GH_TOKEN.to_owned()),
        ("GIT_TERMINAL_PROMPT", "0".to_owned()),
        // A job names no config: the default place (where `env.policy` writes), or none.
        ("GOCRED_CONFIG", String::new()),
    ] {
        env.set_env(k, v);
    }
}

/// An https git server on 127.0.0.1 (also reachable as `localhost`), trusted by git.
fn tls_server(env: &TestEnv, ca: &TestCa) -> GitServer {
    let server = GitServer::start_tls(env, ca.server_config(&["127.0.0.1", "localhost"]));
    server.create_repo(env, "group/repo.git");
    server
}

fn get(env: &TestEnv, protocol: &str, host: &str) -> Output {
    env.gocred(&["get"])
        .stdin(format!("protocol={protocol}\nhost={host}\n\n"))
        .run()
}

#[test]
fn ci_job_token_clones_from_the_gitlab_server_and_never_from_another_host_or_port() {
    let mut env = TestEnv::new();
    let ca = TestCa::new(&env.root().join("ca"), "gocred ci CA");
    env.git_config("http.sslCAInfo", ca.pem.to_str().unwrap());
    let server = tls_server(&env, &ca);
    let other_port = tls_server(&env, &ca);
    for s in [&server, &other_port] {
        s.set_user("gitlab-ci-token", JOB_TOKEN);
    }
    gitlab_job(&mut env, &server.origin());
    env.policy("# the whole policy of a CI image\n[ci]\njob_token = true\n");
    env.use_gocred_by_path();

    let out = env
        .git(&[
            "clone",
            "-q",
            &server.url("127.0.0.1", "group/repo.git"),
            "a",
        ])
        .run();
    out.assert_success();
    assert_eq!(
        server.credentials_seen().last(),
        Some(&("gitlab-ci-token".to_owned(), JOB_TOKEN.to_owned()))
    );

    // The same socket under another name, and the same host on another port: nothing.
    server.clear_log();
    let out = env
        .git(&[
            "clone",
            "-q",
            &server.url("localhost", "group/repo.git"),
            "b",
        ])
        .run();
    out.assert_failure();
    let out = env
        .git(&[
            "clone",
            "-q",
            &other_port.url("127.0.0.1", "group/repo.git"),
            "c",
        ])
        .run();
    out.assert_failure();
    assert!(server.credentials_seen().is_empty());
    assert!(other_port.credentials_seen().is_empty());

    // status shows the job's rule and where the token comes from, never the token.
    let out = env.gocred(&["status"]).run();
    out.assert_success();
    assert!(out.stdout.contains(&server.origin()), "{out}");
    assert!(
        out.stdout
            .contains("ci: GitLab CI job token (CI_JOB_TOKEN) as gitlab-ci-token"),
        "{out}"
    );
    assert!(!out.stdout.contains(JOB_TOKEN), "{out}");
}

#[test]
fn ci_job_token_goes_to_exactly_the_ci_origin_for_both_ci_systems() {
    for github in [false, true] {
        let mut env = TestEnv::new();
        let (user, token) = if github {
            github_job(&mut env, "https://ghe.corp.example");
            ("x-access-token", GH_TOKEN)
        } else {
            gitlab_job(&mut env, "https://gitlab.corp.example");
            ("gitlab-ci-token", JOB_TOKEN)
        };
        let host = if github {
            "ghe.corp.example"
        } else {
            "gitlab.corp.example"
        };
        // A wildcard rule for the company's other hosts: the job token still goes to the CI
        // origin alone.
        env.policy(
            "[ci]\njob_token = true\n\n[[rule]]\nurl = \"https://*.corp.example\"\n\
             sources = [\"ci\"]\n",
        );
        let expected = format!("username={user}\npassword={token}\n");
        for same in [
            host.to_owned(),
            host.to_uppercase(),
            format!("{host}."),
            format!("{host}:443"),
        ] {
            let out = get(&env, "https", &same);
            out.assert_success();
            assert_eq!(out.stdout, expected, "{same}");
        }
        for (protocol, other) in [
            ("https", format!("sub.{host}")),
            ("https", format!("{host}:8443")),
            ("http", host.to_owned()),
            ("https", format!("{host}.evil.com")),
            ("https", "other.corp.example".to_owned()),
            ("https", "gitlab.com".to_owned()),
        ] {
            let out = get(&env, protocol, &other);
            assert_eq!(out.stdout, "", "{protocol}://{other}: {out}");
            assert!(!out.stderr.contains(token), "{out}");
        }
    }
}

#[test]
fn ci_job_token_is_never_served_when_variables_are_absent_or_inconsistent() {
    let host = "gitlab.corp.example";
    /// What is wrong, the variables changed for it, and what the note must say.
    type Case<'a> = (&'a str, Vec<(&'a str, &'a str)>, &'a str);
    let cases: Vec<Case> = vec![
        ("not turned on", vec![], ""),
        (
            "http server URL",
            vec![("CI_SERVER_URL", "http://gitlab.corp.example")],
            "CI_SERVER_URL \"http://gitlab.corp.example\" is not https",
        ),
        (
            "server URL on another host",
            vec![("CI_SERVER_URL", "https://evil.example")],
            "CI_SERVER_HOST \"gitlab.corp.example\" is not the host of CI_SERVER_URL",
        ),
        (
            "server URL with another port",
            vec![("CI_SERVER_URL", "https://gitlab.corp.example:8443")],
            "CI_SERVER_PORT \"443\" is not the port",
        ),
        (
            "no token",
            vec![("CI_JOB_TOKEN", "")],
            "CI_JOB_TOKEN is not set",
        ),
        ("no GITLAB_CI", vec![("GITLAB_CI", "")], ""),
        (
            "two CI systems",
            vec![("GITHUB_ACTIONS", "true")],
            "both GITLAB_CI and GITHUB_ACTIONS",
        ),
    ];
    for (what, changes, note) in cases {
        let mut env = TestEnv::new();
        gitlab_job(&mut env, "https://gitlab.corp.example");
        for (k, v) in &changes {
            env.set_env(k, v);
        }
        let policy = if what == "not turned on" {
            "[[rule]]\nurl = \"https://other.corp.example\"\nsources = [\"keychain\"]\n"
        } else {
            "[ci]\njob_token = true\n"
        };
        env.policy(policy);
        for protocol in ["https", "http"] {
            let out = get(&env, protocol, host);
            out.assert_success();
            assert_eq!(out.stdout, "", "{what}: {out}");
            assert!(!out.stderr.contains(JOB_TOKEN), "{out}");
            if !note.is_empty() {
                assert!(
                    out.stderr.contains("no CI job token is served") && out.stderr.contains(note),
                    "{what}: {out}"
                );
            }
        }
    }
}

#[test]
fn ci_setup_serves_a_github_actions_job_with_no_policy_and_writes_no_secret() {
    let mut env = TestEnv::new();
    let ca = TestCa::new(&env.root().join("ca"), "gocred ci CA");
    env.git_config("http.sslCAInfo", ca.pem.to_str().unwrap());
    let server = tls_server(&env, &ca);
    server.set_user("x-access-token", GH_TOKEN);
    github_job(&mut env, &server.origin());
    env.put_helper_on_path();

    let out = env.gocred(&["setup", "ci"]).run();
    out.assert_success();
    assert!(
        out.stdout
            .contains("export GOPRIVATE=127.0.0.1\nexport GONOSUMDB=127.0.0.1\n"),
        "{out}"
    );
    assert!(!env.policy_path().exists(), "setup ci writes no policy");
    let config = std::fs::read_to_string(env.git_config_global()).unwrap();
    assert!(!config.contains(GH_TOKEN), "{config}");
    let helpers = env
        .git(&[
            "config",
            "--global",
            "--get-all",
            &format!("credential.{}.helper", server.origin()),
        ])
        .run();
    assert_eq!(helpers.stdout, "\ngocred --ci-job-token\n", "{helpers}");
    // Run twice: still exactly those two values.
    env.gocred(&["setup", "ci"]).run().assert_success();
    let again = env
        .git(&[
            "config",
            "--global",
            "--get-all",
            &format!("credential.{}.helper", server.origin()),
        ])
        .run();
    assert_eq!(again.stdout, helpers.stdout);

    let out = env
        .git(&[
            "clone",
            "-q",
            &server.url("127.0.0.1", "group/repo.git"),
            "a",
        ])
        .run();
    out.assert_success();
    assert_eq!(
        server.credentials_seen().last(),
        Some(&("x-access-token".to_owned(), GH_TOKEN.to_owned()))
    );
    server.clear_log();
    env.git(&[
        "clone",
        "-q",
        &server.url("localhost", "group/repo.git"),
        "b",
    ])
    .run()
    .assert_failure();
    assert!(server.credentials_seen().is_empty());

    // status of a CI-only policy outside a job says the job token is on, and why it serves
    // nothing here.
    let mut local = TestEnv::new();
    local.set_env("GOCRED_CONFIG", "");
    local.policy("[ci]\njob_token = true\n");
    let out = local.gocred(&["status"]).run();
    out.assert_success();
    assert!(
        out.stdout.contains("[ci] job_token on line 1, no rules")
            && out.stdout.contains("ci: not in a CI job"),
        "{out}"
    );

    // Outside a CI job, or in an inconsistent one, setup refuses and changes nothing.
    let mut plain = TestEnv::new();
    plain.put_helper_on_path();
    let out = plain.gocred(&["setup", "ci"]).run();
    out.assert_failure();
    assert!(
        out.stderr.contains("not a GitLab CI or GitHub Actions job"),
        "{out}"
    );
    github_job(&mut plain, "http://ghe.corp.example");
    let out = plain.gocred(&["setup", "ci"]).run();
    out.assert_failure();
    assert!(out.stderr.contains("is not https"), "{out}");
    assert!(
        !std::fs::read_to_string(plain.git_config_global())
            .unwrap()
            .contains("credential")
    );
}

/// The values `export NAME=VALUE` lines set (single-quoted values unquoted).
fn exports(stdout: &str) -> Vec<(String, String)> {
    stdout
        .lines()
        .filter_map(|l| l.strip_prefix("export "))
        .filter_map(|l| l.split_once('='))
        .map(|(k, v)| {
            let v = v
                .strip_prefix('\'')
                .and_then(|v| v.strip_suffix('\''))
                .unwrap_or(v);
            (k.to_owned(), v.to_owned())
        })
        .collect()
}

#[test]
fn ci_setup_lets_real_go_fetch_the_ci_servers_private_module_with_the_job_token() {
    let mut w = GoWorld::new();
    w.allow("gitlab-ci-token", JOB_TOKEN);
    gitlab_job(&mut w.env, &format!("https://{GIT_HOST}"));
    w.env.put_helper_on_path();
    let out = w.env.gocred(&["setup", "ci"]).run();
    out.assert_success();
    let vars = exports(&out.stdout);
    let names: Vec<&str> = vars.iter().map(|(k, _)| k.as_str()).collect();
    assert_eq!(names, ["GOPRIVATE", "GONOSUMDB", "GOAUTH"], "{out}");
    assert_eq!(vars[0].1, GIT_HOST);
    let mut go = w.go(&["mod", "download", &format!("{MODULE}@{VERSION}")]);
    for (k, v) in &vars {
        go = go.env(k, v);
    }
    let out = go.run();
    out.assert_success();
    assert!(
        std::fs::read_to_string(
            w.env
                .root()
                .join(format!("gopath/pkg/mod/{MODULE}@{VERSION}/mod.go"))
        )
        .is_ok_and(|s| s.contains("private module")),
        "{out}"
    );
    let seen: Vec<_> = w.git.log().iter().filter_map(|l| l.basic()).collect();
    assert!(!seen.is_empty());
    assert!(
        seen.iter()
            .all(|c| *c == ("gitlab-ci-token".to_owned(), JOB_TOKEN.to_owned())),
        "{seen:?}"
    );
    assert!(w.other.authorizations().is_empty());
    assert!(w.proxy.authorizations().is_empty());
}

#[test]
fn ci_setup_keeps_what_go_env_w_made_private_regression() {
    // A job image that ran `go env -w GOPRIVATE=...`: setup ci's exports override go's env file,
    // so they must carry its entries along, as go itself reports them.
    let mut env = TestEnv::new();
    gitlab_job(&mut env, "https://gitlab.corp.example");
    let (go, goroot) = crate::common::go::go_toolchain();
    env.prepend_path(go.parent().unwrap());
    env.set_env("GOROOT", goroot);
    env.set_env("GOENV", env.root().join("goenv"));
    env.set_env("GOTOOLCHAIN", "local");
    env.command(go)
        .args(["env", "-w", "GOPRIVATE=old.corp.example/*", "GOAUTH=netrc"])
        .run()
        .assert_success();
    let out = env.gocred(&["setup", "ci", "--dry-run"]).run();
    out.assert_success();
    let vars = exports(&out.stdout);
    let home = env.home().display().to_string();
    assert_eq!(
        vars,
        [
            (
                "GOPRIVATE".into(),
                "old.corp.example/*,gitlab.corp.example".into()
            ),
            (
                "GONOSUMDB".into(),
                "old.corp.example/*,gitlab.corp.example".into()
            ),
            ("GOAUTH".into(), format!("netrc;git {home}")),
        ],
        "{out}"
    );
}
