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

        // gocred with an argument git passes on before the operation.
        env.git(&["config", "--global", "--unset-all", &helper_key])
            .success();
        env.git_config(&helper_key, "");
        env.git_config(&helper_key, &format!("{GOCRED} --verbose"));
        let (code, _) = verdict(&env, &version);
        assert_eq!(code.as_deref(), Some("gocred_arguments"), "{version}");
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

/// A tiny deterministic generator: the same configurations every run, no extra crate.
struct Lcg(u64);

impl Lcg {
    fn below(&mut self, n: usize) -> usize {
        self.0 = self
            .0
            .wrapping_mul(6_364_136_223_846_793_005)
            .wrapping_add(1_442_695_040_888_963_407);
        ((self.0 >> 33) % n as u64) as usize
    }
}

#[test]
fn status_helper_order_matches_what_git_credential_fill_runs_for_random_configs() {
    // Config URLs around the rules' URLs: case, default and other ports, path prefixes on and
    // off a `/` boundary, `%XX` escapes, wildcards, a user, partial URLs, another scheme.
    const SUBS: &[&str] = &[
        "",
        "",
        "https://h.example",
        "https://H.Example",
        "https://h.example/",
        "https://h.example:443",
        "https://h.example:0443/",
        "https://h.example:8443",
        "http://h.example",
        "https://*.example",
        "https://*.h.example",
        "https://h.example/team",
        "https://h.example/team/",
        "https://h.example/tea",
        "https://h.example/Team",
        "https://h.example/%74eam",
        "https://h.example/x/../team",
        "https://h.example/team/repo",
        "https://user@h.example",
        "h.example",
        "h.example:8443",
        "https://",
        "/team",
        "team",
    ];
    let rule_urls = [
        "https://h.example",
        "https://h.example/team",
        "https://h.example:8443",
    ];
    let mut policy_text = String::new();
    for u in rule_urls {
        policy_text += &format!(
            "[[rule]]\nurl = \"{u}\"\nsources = [\"env\"]\nusername = \"u\"\ntoken_env = \"TOK\"\n\n"
        );
    }
    let mut rng = Lcg(0x5eed);
    let (mut compared, mut nonempty, mut with_path) = (0, 0, 0);
    for (version, env) in envs() {
        env.policy(&policy_text);
        let rec = env.script(
            "rec",
            "log=\"$(dirname \"$0\")/helper.log\"\n\
             if [ \"$2\" = get ]; then\n\
               if grep -q '^path=' ; then echo \"$1+path\" >>\"$log\"; else echo \"$1\" >>\"$log\"; fi\n\
             fi\nexit 0",
        );
        let log = env.root().join("helper.log");
        let base = std::fs::read_to_string(env.git_config_global()).unwrap();
        for round in 0..40 {
            let mut config = base.clone();
            for n in 0..(2 + rng.below(6)) {
                let sub = SUBS[rng.below(SUBS.len())];
                let section = if sub.is_empty() {
                    "[credential]".to_owned()
                } else {
                    format!("[credential \"{sub}\"]")
                };
                let line = match rng.below(8) {
                    0 => "\thelper =".to_owned(),
                    1 | 2 => format!("\tuseHttpPath = {}", ["true", "false", "1"][rng.below(3)]),
                    _ => format!("\thelper = {} h{n}", rec.display()),
                };
                config += &format!("{section}\n{line}\n");
            }
            std::fs::write(env.git_config_global(), &config).unwrap();
            let v = status_json(&env);
            for (i, url) in rule_urls.iter().enumerate() {
                let git = &v["rules"][i]["git"];
                let mut expected: Vec<String> = git["helpers"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .map(|h| {
                        let value = h["value"].as_str().unwrap();
                        value.rsplit(' ').next().unwrap().to_owned()
                    })
                    .collect();
                if git["use_http_path"] == true {
                    for e in &mut expected {
                        e.push_str("+path");
                    }
                }
                let _ = std::fs::remove_file(&log);
                env.credential_fill(url);
                let ran: Vec<String> = std::fs::read_to_string(&log)
                    .unwrap_or_default()
                    .lines()
                    .map(str::to_owned)
                    .collect();
                // Only a URL with a path can show whether git sends it.
                let ran: Vec<String> = if url.ends_with("/team") {
                    ran
                } else {
                    expected.iter_mut().for_each(|e| {
                        *e = e.trim_end_matches("+path").to_owned();
                    });
                    ran.into_iter()
                        .map(|r| r.trim_end_matches("+path").to_owned())
                        .collect()
                };
                assert_eq!(
                    ran, expected,
                    "{version}, round {round}, {url}, config:\n{config}\nstatus: {git:#}"
                );
                compared += 1;
                nonempty += usize::from(!ran.is_empty());
                with_path += usize::from(ran.iter().any(|r| r.ends_with("+path")));
            }
        }
    }
    assert_eq!(compared, 2 * 40 * 3);
    // The configurations exercised something: helpers ran, and git sent the path some times.
    assert!(nonempty > 80 && with_path > 5, "{nonempty} {with_path}");
}

#[test]
fn status_says_no_with_the_fix_when_git_cannot_read_its_config() {
    for (version, env) in envs() {
        env.policy(&policy(&format!("https://{HOST}")));
        let config = std::fs::read_to_string(env.git_config_global()).unwrap();
        std::fs::write(env.git_config_global(), config + "[credential\n").unwrap();
        let out = env.gocred(&["status"]).success();
        assert!(
            out.stdout
                .contains("git asks gocred: no: git cannot read its config"),
            "{version}: {out}"
        );
        assert!(
            out.stdout
                .contains("fix: correct the file and line git names"),
            "{out}"
        );
        assert!(out.stdout.contains(".gitconfig"), "{out}");
        let v = status_json(&env);
        assert_eq!(
            v["rules"][0]["git"]["problems"][0]["code"],
            "git_config_unreadable"
        );
        assert!(
            v["git"]["error"]
                .as_str()
                .unwrap()
                .contains("bad config line"),
            "{v:#}"
        );
        // git itself then asks no helper.
        let filled = env.credential_fill(&format!("https://{HOST}/group/repo.git"));
        assert!(filled.stderr.contains("bad config line"), "{filled}");
    }
}

#[test]
fn status_checks_a_wildcard_rule_against_the_config_every_host_under_it_gets() {
    for (version, mut env) in envs() {
        env.put_helper_on_path();
        env.policy(&policy("https://*.corp.example"));
        let (code, _) = verdict(&env, &version);
        assert_eq!(code.as_deref(), Some("no_helper"), "{version}");
        env.gocred(&["setup", "git"]).success();
        let (code, _) = verdict(&env, &version);
        assert_eq!(code, None, "{version}");
        for host in ["a.corp.example", "b.corp.example"] {
            assert_eq!(
                fill(&env, &format!("https://{host}/group/repo.git")).as_deref(),
                Some(SECRET),
                "{version}: {host}"
            );
        }
        // A later reset for every host under it undoes that, and status says so.
        env.git_config("credential.https://*.corp.example.helper", "");
        let (code, _) = verdict(&env, &version);
        assert_eq!(code.as_deref(), Some("no_helper"), "{version}");
        assert_eq!(fill(&env, "https://a.corp.example/group/repo.git"), None);
    }
}

#[test]
fn status_in_a_repository_names_its_own_config_that_undoes_setup_git() {
    for (version, mut env) in envs() {
        env.put_helper_on_path();
        env.policy(&policy(&format!("https://{HOST}")));
        env.gocred(&["setup", "git"]).success();
        let repo = env.root().join("repo");
        env.git(&["init", "-q", repo.to_str().unwrap()]).success();
        env.git(&["config", "--local", "credential.helper", ""])
            .current_dir(&repo)
            .success();
        // Outside the repository git asks gocred; inside, the repository's reset empties the list.
        assert_eq!(verdict(&env, &version).0, None, "{version}");
        let out = env
            .gocred(&["status", "--json"])
            .current_dir(&repo)
            .success();
        let v: serde_json::Value = serde_json::from_str(&out.stdout).unwrap();
        let problem = &v["rules"][0]["git"]["problems"][0];
        assert_eq!(problem["code"], "no_helper", "{version}: {v:#}");
        let fix = problem["fix"].as_str().unwrap();
        assert!(
            fix.starts_with("the empty credential.helper (in the local config ")
                && fix.ends_with(&format!("edit {}", repo.join(".git/config").display())),
            "{version}: {fix}"
        );
        let filled = env
            .git(&["credential", "fill"])
            .current_dir(&repo)
            .stdin(format!("url=https://{HOST}/group/repo.git\n\n"))
            .run();
        assert_eq!(value_of(&filled.stdout, "password"), None, "{version}");
        assert_eq!(
            fill(&env, &format!("https://{HOST}/group/repo.git")).as_deref(),
            Some(SECRET)
        );
    }
}

#[test]
fn status_says_no_when_a_value_less_credential_key_stops_git() {
    for (version, mut env) in envs() {
        env.put_helper_on_path();
        env.policy(&policy(&format!("https://{HOST}")));
        env.gocred(&["setup", "git"]).success();
        let config = std::fs::read_to_string(env.git_config_global()).unwrap();
        // Only for another host: git never looks at it for ours.
        let other = config.clone() + "[credential \"https://other.example\"]\n\tuseHttpPath\n";
        std::fs::write(env.git_config_global(), &other).unwrap();
        assert_eq!(verdict(&env, &version).0, None, "{version}");
        assert_eq!(
            fill(&env, &format!("https://{HOST}/g/r.git")).as_deref(),
            Some(SECRET)
        );
        // For every host: git stops before asking any helper.
        std::fs::write(
            env.git_config_global(),
            config + "[credential]\n\tuseHttpPath\n",
        )
        .unwrap();
        let (code, human) = verdict(&env, &version);
        assert_eq!(code.as_deref(), Some("git_stops"), "{version}");
        assert!(
            human
                .stdout
                .contains("credential.usehttppath with no value"),
            "{human}"
        );
        let filled = env.credential_fill(&format!("https://{HOST}/g/r.git"));
        assert!(
            filled.stderr.contains("missing value"),
            "{version}: {filled}"
        );
        assert_eq!(value_of(&filled.stdout, "password"), None);
    }
}

#[test]
fn status_without_git_on_path_says_no_and_to_install_git() {
    let env = TestEnv::new();
    env.policy(&policy(&format!("https://{HOST}")));
    let empty = env.root().join("empty-bin");
    std::fs::create_dir_all(&empty).unwrap();
    let out = env.gocred(&["status"]).env("PATH", &empty).success();
    assert!(
        out.stdout.contains("git asks gocred: no: cannot run git"),
        "{out}"
    );
    assert!(
        out.stdout.contains("fix: install git, or put it on PATH"),
        "{out}"
    );
}
