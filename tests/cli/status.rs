//! `gocred status` says whether git asks gocred for each rule, and each verdict is checked
//! against what real git (2.47 and Debian's 2.39) then does with `git credential fill`.

use crate::common::{GOCRED, Output, TestEnv, value_of};

const HOST: &str = "git.corp.example";
const SECRET: &str = "from-gocred-env";

/// A policy whose rule answers from an environment variable, so gocred's answer is known.
fn policy(url: &str) -> String {
    format!(
        "[[rule]]\nurl = \"{url}\"\nsources = [\"env\"]\nusername = \"u\"\ntoken_env = \"TOK\"\n"
    )
}

/// Each git on the machine: PATH's first (2.47), then Debian's /usr/bin/git (2.39).
fn envs() -> Vec<(String, TestEnv)> {
    let mut out = Vec::new();
    for first in [None, Some("/usr/bin")] {
        let mut env = TestEnv::new();
        if let Some(dir) = first {
            env.prepend_path(dir);
        }
        env.set_env("TOK", SECRET);
        let version = env.git(&["--version"]).success().stdout.trim().to_owned();
        out.push((version, env));
    }
    assert_ne!(out[0].0, out[1].0, "expected two different gits");
    out
}

/// A helper other than gocred that always has a credential.
fn other_helper(env: &TestEnv) -> String {
    env.script(
        "other-helper",
        "[ \"$1\" = get ] && printf 'username=o\\npassword=from-other\\n'; exit 0",
    )
    .display()
    .to_string()
}

fn status_json(env: &TestEnv) -> serde_json::Value {
    let out = env.gocred(&["status", "--json"]).success();
    serde_json::from_str(&out.stdout).unwrap_or_else(|e| panic!("{e}: {out}"))
}

/// The rule's verdict: `None` for yes, else the first problem's code; and the human line.
fn verdict(env: &TestEnv, version: &str) -> (Option<String>, Output) {
    let v = status_json(env);
    assert_eq!(v["schema"], 1);
    let git = &v["rules"][0]["git"];
    let code = git["problems"][0]["code"].as_str().map(str::to_owned);
    assert_eq!(
        git["asks_gocred"].as_bool(),
        Some(code.is_none()),
        "{version}: {v:#}"
    );
    let human = env.gocred(&["status"]).success();
    let line = if code.is_none() {
        "git asks gocred: yes"
    } else {
        "git asks gocred: no: "
    };
    assert!(human.stdout.contains(line), "{version}: {human}");
    (code, human)
}

/// The password real `git credential fill` ends up with (`None` when it gets none).
fn fill(env: &TestEnv, url: &str) -> Option<String> {
    let out = env.credential_fill(url);
    value_of(&out.stdout, "password").map(str::to_owned)
}

#[test]
fn status_says_git_asks_gocred_only_when_it_really_does() {
    let url = format!("https://{HOST}/group/repo.git");
    let helper_key = format!("credential.https://{HOST}.helper");
    for (version, mut env) in envs() {
        env.policy(&policy(&format!("https://{HOST}")));

        // 1. No helper at all.
        let (code, _) = verdict(&env, &version);
        assert_eq!(code.as_deref(), Some("no_helper"), "{version}");
        assert_eq!(fill(&env, &url), None, "{version}");

        // 2. Only another program, globally.
        let other = other_helper(&env);
        env.git_config("credential.helper", &other);
        let (code, human) = verdict(&env, &version);
        assert_eq!(code.as_deref(), Some("no_gocred"), "{version}");
        assert!(human.stdout.contains("fix: `gocred setup git`"), "{human}");
        assert_eq!(fill(&env, &url).as_deref(), Some("from-other"), "{version}");

        // 3. A helper before gocred: it answers first.
        env.put_helper_on_path();
        env.git_config(&helper_key, "gocred");
        let (code, _) = verdict(&env, &version);
        assert_eq!(code.as_deref(), Some("helper_before_gocred"), "{version}");
        assert_eq!(fill(&env, &url).as_deref(), Some("from-other"), "{version}");

        // 4. credential.<url>.helper: an empty reset, then gocred: only gocred runs.
        env.git(&["config", "--global", "--unset-all", &helper_key])
            .success();
        env.git_config(&helper_key, "");
        env.git_config(&helper_key, "gocred");
        let (code, _) = verdict(&env, &version);
        assert_eq!(code, None, "{version}");
        assert_eq!(fill(&env, &url).as_deref(), Some(SECRET), "{version}");
    }
}

#[test]
fn status_says_no_when_the_gocred_git_would_run_is_not_there() {
    let url = format!("https://{HOST}/group/repo.git");
    let helper_key = format!("credential.https://{HOST}.helper");
    for (version, env) in envs() {
        env.policy(&policy(&format!("https://{HOST}")));
        // A bare `gocred` with no git-credential-gocred on PATH.
        env.git_config(&helper_key, "");
        env.git_config(&helper_key, "gocred");
        let (code, human) = verdict(&env, &version);
        assert_eq!(code.as_deref(), Some("gocred_not_found"), "{version}");
        assert!(human.stdout.contains("git-credential-gocred"), "{human}");
        assert_eq!(fill(&env, &url), None, "{version}");

        // An absolute path that does not exist.
        let missing = env.root().join("nowhere/gocred");
        env.git(&["config", "--global", "--unset-all", &helper_key])
            .success();
        env.git_config(&helper_key, "");
        env.git_config(&helper_key, &missing.display().to_string());
        let (code, human) = verdict(&env, &version);
        assert_eq!(code.as_deref(), Some("gocred_not_found"), "{version}");
        assert!(
            human.stdout.contains(&missing.display().to_string()),
            "{human}"
        );
        assert_eq!(fill(&env, &url), None, "{version}");

        // The fix it names works: after `gocred setup git`, git gets gocred's answer.
        env.gocred(&["setup", "git"]).success();
        let (code, _) = verdict(&env, &version);
        assert_eq!(code, None, "{version}");
        assert_eq!(fill(&env, &url).as_deref(), Some(SECRET), "{version}");
        // And by absolute path too.
        env.git(&["config", "--global", "--unset-all", &helper_key])
            .success();
        env.git_config(&helper_key, "");
        env.git_config(&helper_key, GOCRED);
        assert_eq!(verdict(&env, &version).0, None, "{version}");
        assert_eq!(fill(&env, &url).as_deref(), Some(SECRET), "{version}");
    }
}

#[test]
fn status_says_no_for_a_path_rule_git_sends_no_path_for() {
    let url = format!("https://{HOST}/team/repo.git");
    let helper_key = format!("credential.https://{HOST}.helper");
    for (version, mut env) in envs() {
        env.put_helper_on_path();
        env.policy(&policy(&format!("https://{HOST}/team")));
        env.git_config(&helper_key, "");
        env.git_config(&helper_key, "gocred");
        let (code, human) = verdict(&env, &version);
        assert_eq!(code.as_deref(), Some("no_use_http_path"), "{version}");
        assert!(human.stdout.contains("useHttpPath"), "{human}");
        // git asks gocred without the path: the path rule does not match, nothing comes back.
        assert_eq!(fill(&env, &url), None, "{version}");

        // useHttpPath under the rule's prefix, as git matches it.
        env.git_config(
            &format!("credential.https://{HOST}/team.useHttpPath"),
            "true",
        );
        let (code, _) = verdict(&env, &version);
        assert_eq!(code, None, "{version}");
        assert_eq!(fill(&env, &url).as_deref(), Some(SECRET), "{version}");
        // Elsewhere on the host the rule does not apply, and nothing is sent.
        assert_eq!(fill(&env, &format!("https://{HOST}/other/repo.git")), None);
    }
}

#[test]
fn status_names_a_later_reset_that_setup_git_cannot_undo() {
    let url = format!("https://{HOST}/group/repo.git");
    for (version, env) in envs() {
        env.policy(&policy(&format!("https://{HOST}")));
        env.gocred(&["setup", "git"]).success();
        // A `-c` reset comes after every config file.
        let out = env
            .gocred(&["status", "--json"])
            .env("GIT_CONFIG_COUNT", "1")
            .env("GIT_CONFIG_KEY_0", "credential.helper")
            .env("GIT_CONFIG_VALUE_0", "")
            .success();
        let v: serde_json::Value = serde_json::from_str(&out.stdout).unwrap();
        let problem = &v["rules"][0]["git"]["problems"][0];
        assert_eq!(problem["code"], "no_helper", "{version}: {v:#}");
        let fix = problem["fix"].as_str().unwrap();
        assert!(fix.contains("GIT_CONFIG_COUNT"), "{version}: {fix}");
        let filled = env
            .git(&["credential", "fill"])
            .env("GIT_CONFIG_COUNT", "1")
            .env("GIT_CONFIG_KEY_0", "credential.helper")
            .env("GIT_CONFIG_VALUE_0", "")
            .stdin(format!("url={url}\n\n"))
            .run();
        assert_eq!(value_of(&filled.stdout, "password"), None, "{version}");
    }
}
