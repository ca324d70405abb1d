//! `gocred why` (issue 11) explains each of README.md's example policies correctly: the rules
//! that match and the one that wins, why a URL is not managed, each source's state (never its
//! secret), what git will call, and a git remote taken from the repository it runs in. The
//! policies are read from README.md itself, so the README and the explanation cannot drift.

use crate::common::TestEnv;
use crate::common::keyring::require_session_keyring;
use serde_json::Value;

/// The first ```toml block after `heading` in README.md.
fn readme_policy(heading: &str) -> String {
    let readme = include_str!("../../README.md");
    let at = readme
        .find(heading)
        .unwrap_or_else(|| panic!("README.md has no {heading:?}"));
    let rest = &readme[at..];
    let start = rest.find("```toml\n").expect("a toml block") + "```toml\n".len();
    let end = rest[start..].find("```").expect("the block's end");
    rest[start..start + end].to_owned()
}

fn why(env: &TestEnv, target: &str) -> Value {
    let out = env.gocred(&["why", "--json", target]).success();
    serde_json::from_str(&out.stdout).unwrap_or_else(|e| panic!("{e}: {}", out.stdout))
}

/// (url, line) of the rules that match, and the url of the winner.
fn rules(v: &Value) -> (Vec<String>, Option<String>) {
    let all = v["rules"].as_array().unwrap();
    let urls = all
        .iter()
        .map(|r| r["url"].as_str().unwrap().to_owned())
        .collect();
    let winner = all
        .iter()
        .find(|r| r["wins"] == true)
        .map(|r| r["url"].as_str().unwrap().to_owned());
    (urls, winner)
}

fn states(v: &Value) -> Vec<(String, String)> {
    v["sources"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| {
            (
                s["source"].as_str().unwrap().to_owned(),
                s["state"].as_str().unwrap().to_owned(),
            )
        })
        .collect()
}

fn pair(a: &str, b: &str) -> (String, String) {
    (a.to_owned(), b.to_owned())
}

#[test]
fn the_laptop_policy_most_specific_rule_wins_and_the_rest_is_denied() {
    require_session_keyring();
    let env = TestEnv::new();
    env.policy(&readme_policy(
        "### An example policy: a developer's laptop",
    ));

    let v = why(&env, "https://gitlab.corp.example/group/repo.git");
    assert_eq!(v["schema"], 1);
    assert_eq!(v["as"]["kind"], "url");
    assert_eq!(
        rules(&v),
        (
            vec!["https://gitlab.corp.example".to_owned()],
            Some("https://gitlab.corp.example".to_owned())
        )
    );
    assert_eq!(v["decision"]["scope"], "https://gitlab.corp.example");
    assert_eq!(states(&v), [pair("keychain", "not found")]);
    assert_eq!(v["commands"]["store"], "keeps what git used in keychain");

    // The team's path prefix beats the host-wide rule; both match.
    let v = why(&env, "https://gitlab.corp.example/release-team/app.git");
    let (matched, winner) = rules(&v);
    assert_eq!(matched.len(), 2, "{matched:?}");
    assert_eq!(
        winner.as_deref(),
        Some("https://gitlab.corp.example/release-team/")
    );
    assert_eq!(
        v["decision"]["scope"], "https://gitlab.corp.example/release-team/app.git",
        "a path-scoped rule files under the path"
    );
    assert!(
        v["commands"]["netrc"]
            .as_str()
            .unwrap()
            .contains("has a path")
    );

    // A module path is taken as https; GitHub Enterprise only on its port.
    let v = why(&env, "github.corp.example:8443/org/mod");
    assert_eq!(v["as"]["kind"], "module");
    assert_eq!(v["module"], "github.corp.example:8443/org/mod");
    assert_eq!(
        rules(&v).1.as_deref(),
        Some("https://github.corp.example:8443")
    );
    let v = why(&env, "https://github.corp.example/org/repo");
    assert_eq!(v["decision"]["managed"], false);
    let reason = v["decision"]["why"].as_str().unwrap();
    assert!(reason.contains("port 8443"), "{reason}");
    assert_eq!(states(&v), []);

    // The wildcard: any depth below, never the base itself, never a lookalike.
    let v = why(&env, "https://a.b.mirror.corp.example/x/y");
    assert_eq!(
        rules(&v).1.as_deref(),
        Some("https://*.mirror.corp.example")
    );
    assert_eq!(v["decision"]["scope"], "https://a.b.mirror.corp.example");
    assert!(
        v["commands"]["netrc"]
            .as_str()
            .unwrap()
            .contains("wildcard")
    );
    for denied in [
        "https://mirror.corp.example/x",
        "https://mirror.corp.example.evil.example/x",
    ] {
        let v = why(&env, denied);
        assert_eq!(v["decision"]["managed"], false, "{denied}");
        assert_eq!(v["rules"], serde_json::json!([]), "{denied}");
        assert!(
            v["commands"]["get"]
                .as_str()
                .unwrap()
                .contains("next helper"),
            "{denied}"
        );
    }
    // What go does with the module: from go's environment (here the process environment).
    let v = why(&env, "gitlab.corp.example/group/mod");
    assert!(
        v["go"]["checksum"].as_str().unwrap().contains("leaks"),
        "{}",
        v["go"]
    );
    let mut env = env;
    env.set_env("GOPRIVATE", "*.corp.example");
    env.set_env("GOAUTH", "gocred goauth");
    let v = why(&env, "gitlab.corp.example/group/mod");
    assert_eq!(v["go"]["module"], "gitlab.corp.example/group/mod");
    let routing = v["go"]["routing"].as_str().unwrap();
    assert!(
        routing.starts_with("direct (GONOPROXY/GOPRIVATE pattern *.corp.example)"),
        "{routing}"
    );
    assert!(
        v["go"]["checksum"]
            .as_str()
            .unwrap()
            .contains("not looked up")
    );
    assert!(
        v["go"]["goauth"]
            .as_str()
            .unwrap()
            .contains("go asks gocred")
    );
    // The text form says the same.
    let out = env
        .gocred(&["why", "https://gitlab.corp.example/release-team/app.git"])
        .success();
    let file = env.policy_path();
    assert!(
        out.stdout.contains(&format!(
            "* https://gitlab.corp.example/release-team/ ({} line",
            file.display()
        )),
        "{}",
        out.stdout
    );
    assert!(
        out.stdout.contains(&format!(
            "- https://gitlab.corp.example ({} line",
            file.display()
        )),
        "{}",
        out.stdout
    );
}

#[test]
fn the_build_server_policy_names_the_missing_variable_and_never_shows_a_token() {
    require_session_keyring();
    let mut env = TestEnv::new();
    // README's file store is /var/lib/ci/...: the test keeps it in its own directory.
    let store = env.root().join("ci/credentials");
    let policy = readme_policy("### An example policy: a build server")
        .replace("/var/lib/ci/gocred/credentials", store.to_str().unwrap());
    env.policy(&policy);

    let v = why(&env, "https://gitlab.corp.example/group/repo.git");
    assert_eq!(states(&v), [pair("env", "missing variable")]);
    assert_eq!(v["sources"][0]["detail"], "CI_JOB_TOKEN is not set");
    assert!(
        v["commands"]["get"]
            .as_str()
            .unwrap()
            .starts_with("answers nothing")
    );
    assert!(
        v["commands"]["store"]
            .as_str()
            .unwrap()
            .contains("no `store`")
    );

    // The GHE rule: env first, then the file store; an expired entry is told as expired, a
    // fresh one as present, with its user and never its password.
    let record = |password: &str, expiry: Option<u64>| gocred::source::Record {
        scope: gocred::policy::ScopeKey("https://github.corp.example:8443".into()),
        path: None,
        unknown: Vec::new(),
        cred: gocred::source::Credential {
            username: "x-access-token".into(),
            password: gocred::secret::Secret::new(password.to_owned()),
            password_expiry_utc: expiry,
            oauth_refresh_token: None,
        },
    };
    let write = |records: &[gocred::source::Record]| {
        let bytes = gocred::source::record::encode(records).unwrap();
        gocred::fs::write_private_atomic(&store, bytes.as_bytes()).unwrap();
    };
    write(&[record("old-SECRET-file-token", Some(1_000))]);
    let v = why(&env, "https://github.corp.example:8443/org/repo");
    assert_eq!(
        states(&v),
        [pair("env", "missing variable"), pair("file", "expired")]
    );
    write(&[record("file-SECRET-token", None)]);
    let v = why(&env, "https://github.corp.example:8443/org/repo");
    assert_eq!(
        states(&v),
        [pair("env", "missing variable"), pair("file", "present")]
    );
    assert_eq!(v["sources"][1]["username"], "x-access-token");
    assert_eq!(v["commands"]["get"], "answers from file as x-access-token");

    env.set_env("GHE_TOKEN", "ghe-SECRET-env-token");
    env.set_env("CI_JOB_TOKEN", "ci-SECRET-job-token");
    let out = env
        .gocred(&["why", "--json", "https://github.corp.example:8443/org/repo"])
        .success();
    let v: Value = serde_json::from_str(&out.stdout).unwrap();
    assert_eq!(
        states(&v),
        [pair("env", "present"), pair("file", "not asked")]
    );
    let ci = env
        .gocred(&["why", "https://gitlab.corp.example/g/r"])
        .success();
    for secret in ["ghe-SECRET", "ci-SECRET", "file-SECRET", "old-SECRET"] {
        assert!(!out.stdout.contains(secret) && !out.stderr.contains(secret));
        assert!(!ci.stdout.contains(secret) && !ci.stderr.contains(secret));
    }
    assert!(
        ci.stdout.contains("env: present (CI_JOB_TOKEN is set)"),
        "{}",
        ci.stdout
    );
}

#[test]
fn the_oauth_policies_report_a_missing_login_without_the_network() {
    require_session_keyring();
    for (heading, url, rule) in [
        (
            "### GitLab (self-managed or gitlab.com)",
            "https://gitlab.corp.example/g/r.git",
            "https://gitlab.corp.example",
        ),
        (
            "### GitHub Enterprise Server and github.com",
            "https://github.com/o/r",
            "https://github.com",
        ),
        (
            "### Any OIDC server (Keycloak, Dex, Authentik, ...)",
            "https://git.corp.example/g/r",
            "https://git.corp.example",
        ),
    ] {
        let env = TestEnv::new();
        env.policy(&readme_policy(heading));
        let v = why(&env, url);
        assert_eq!(rules(&v).1.as_deref(), Some(rule), "{heading}");
        let oauth = v["sources"]
            .as_array()
            .unwrap()
            .iter()
            .find(|s| s["source"] == "oauth")
            .unwrap_or_else(|| panic!("{heading}: {v}"));
        assert_eq!(oauth["state"], "not found", "{heading}: {oauth}");
        assert!(
            oauth["detail"].as_str().unwrap().contains("gocred login"),
            "{heading}: {oauth}"
        );
        assert!(v["commands"]["store"].as_str().unwrap().contains("OAuth"));
    }
}

#[test]
fn why_reads_the_helper_chain_git_will_call_and_a_remote_of_the_repository() {
    require_session_keyring();
    let env = TestEnv::new();
    env.policy(&readme_policy(
        "### An example policy: a developer's laptop",
    ));
    let v = why(&env, "https://gitlab.corp.example/group/repo.git");
    assert_eq!(v["git"]["asks_gocred"], false);
    assert_eq!(v["git"]["problems"][0]["code"], "no_helper");
    env.use_gocred_by_path();
    let v = why(&env, "https://gitlab.corp.example/group/repo.git");
    assert_eq!(v["git"]["asks_gocred"], true, "{}", v["git"]);
    assert_eq!(v["git"]["helpers"][0]["gocred"], true);

    // A remote name inside a repository.
    let repo = env.root().join("repo");
    env.git(&["init", "-q", repo.to_str().unwrap()]).success();
    env.git(&[
        "-C",
        repo.to_str().unwrap(),
        "remote",
        "add",
        "origin",
        "https://gitlab.corp.example/release-team/app.git",
    ])
    .success();
    env.git(&[
        "-C",
        repo.to_str().unwrap(),
        "remote",
        "add",
        "viassh",
        "git@gitlab.corp.example:group/repo.git",
    ])
    .success();
    let out = env
        .gocred(&["why", "--json", "origin"])
        .current_dir(&repo)
        .success();
    let v: Value = serde_json::from_str(&out.stdout).unwrap();
    assert_eq!(
        v["as"],
        serde_json::json!({"kind": "remote", "remote": "origin"})
    );
    assert_eq!(
        rules(&v).1.as_deref(),
        Some("https://gitlab.corp.example/release-team/")
    );
    let out = env.gocred(&["why", "viassh"]).current_dir(&repo).run();
    out.assert_code(1);
    assert!(out.stderr.contains("ssh"), "{}", out.stderr);
}

#[test]
fn why_says_what_the_machine_policy_denies_and_refuses() {
    require_session_keyring();
    let env = TestEnv::new();
    env.policy(
        "[[rule]]\nurl = \"https://git.internal.example\"\nsources = [\"keychain\"]\n\n\
         [[rule]]\nurl = \"https://gitlab.corp.example\"\nsources = [\"keychain\"]\n",
    );
    let machine = "[machine]\ndeny = [\"https://*.internal.example\"]\n";
    let Some(out) = crate::audit::under_machine_policy(
        &env,
        machine,
        &["why", "--json", "https://git.internal.example/g/r"],
        "",
    ) else {
        return;
    };
    out.assert_success();
    let v: Value = serde_json::from_str(&out.stdout).unwrap();
    assert_eq!(v["decision"]["managed"], false, "{v}");
    let m = v["machine_policy"].as_str().unwrap();
    assert!(m.starts_with("/etc/gocred/policy.toml"), "{m}");
    assert!(
        m.contains("it denies https://git.internal.example/g/r"),
        "{m}"
    );
    assert!(
        m.contains("it refused the user's rule https://git.internal.example (line 1)"),
        "{m}"
    );
    // Without a machine policy, why says so.
    let v = why(&env, "https://gitlab.corp.example/g/r");
    assert!(
        v["machine_policy"].as_str().unwrap().starts_with("none"),
        "{}",
        v["machine_policy"]
    );
}

#[test]
fn why_says_a_locked_keyring_is_locked_and_a_present_one_present() {
    use crate::common::keyring::{Login, SecretService};
    let mut env = TestEnv::new();
    let keyring = SecretService::start(&mut env, Login::Unlocked);
    env.policy(
        "[keychain]\nbackend = \"secret-service\"\n\n[[rule]]\n\
         url = \"https://locked.corp.example\"\nsources = [\"keychain\"]\nstore = \"keychain\"\n",
    );
    env.gocred(&["store"])
        .stdin(
            "protocol=https\nhost=locked.corp.example\nusername=alice\npassword=why-SECRET-pw\n\n",
        )
        .success();
    let v = why(&env, "https://locked.corp.example/g/r");
    assert_eq!(states(&v), [pair("keychain", "present")]);
    assert_eq!(v["sources"][0]["username"], "alice");
    keyring.lock(&env);
    let out = env
        .gocred(&["why", "--json", "https://locked.corp.example/g/r"])
        .success();
    let v: Value = serde_json::from_str(&out.stdout).unwrap();
    assert_eq!(states(&v), [pair("keychain", "locked")]);
    assert!(
        v["sources"][0]["detail"]
            .as_str()
            .unwrap()
            .contains("is locked"),
        "{v}"
    );
    assert!(!out.stdout.contains("why-SECRET") && !out.stderr.contains("why-SECRET"));
}
