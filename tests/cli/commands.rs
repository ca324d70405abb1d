//! The user-facing commands: `status`, `config check`, `config path`, and the file store under
//! concurrent helpers.

use crate::common::{TestEnv, value_of};

#[test]
fn status_on_a_fresh_machine_says_what_to_do_next() {
    // No GOCRED_CONFIG: the default location under XDG_CONFIG_HOME, which does not exist yet.
    let env = TestEnv::new();
    let out = env.gocred(&["status"]).env_remove("GOCRED_CONFIG").run();
    out.assert_success();
    assert_eq!(out.stderr, "");
    let default = env.config_home().join("gocred/config.toml");
    assert!(
        out.stdout.starts_with(&format!(
            "gocred policy: {} (does not exist yet)\n",
            default.display()
        )),
        "{out}"
    );
    for next_step in [
        "Every host is denied",
        "[[rule]]",
        "gocred setup git",
        "gocred config check",
    ] {
        assert!(
            out.stdout.contains(next_step),
            "missing {next_step:?}: {out}"
        );
    }
    // Looking changed nothing on disk.
    assert!(!default.exists());
    assert!(!env.data_home().join("gocred").exists());

    // An existing but empty policy gets the same advice.
    env.policy("# nothing yet\n");
    let out = env.gocred(&["status"]).success();
    assert!(out.stdout.contains("(has no rules)"), "{out}");
    assert!(out.stdout.contains("Every host is denied"), "{out}");
}

#[test]
fn status_lists_rules_and_what_is_stored_but_never_a_secret() {
    let mut env = TestEnv::new();
    env.policy(
        "[[rule]]\nurl = \"https://git.corp.example\"\nsources = [\"file\"]\nstore = \"file\"\n\n\
         [[rule]]\nurl = \"https://ci.corp.example\"\nsources = [\"env\"]\n\
         username = \"gitlab-ci-token\"\ntoken_env = \"CI_JOB_TOKEN\"\n",
    );
    env.set_env("CI_JOB_TOKEN", "job-secret-1");
    env.gocred(&["store"])
        .stdin(
            "protocol=https\nhost=git.corp.example\nusername=alice\npassword=file-secret-2\n\
             password_expiry_utc=4102444800\n",
        )
        .success();
    let out = env.gocred(&["status"]).success();
    let store = env.file_store_path();
    assert!(out.stdout.contains("(2 rules)"), "{out}");
    assert!(
        out.stdout
            .contains("stored: https://git.corp.example as alice, expires 2100-01-01 00:00 UTC"),
        "{out}"
    );
    assert!(
        out.stdout.contains(&format!("in file {}", store.display())),
        "{out}"
    );
    assert!(out.stdout.contains("env: CI_JOB_TOKEN is set"), "{out}");
    assert!(!out.stdout.contains("secret"), "a secret leaked: {out}");
    assert!(!out.stderr.contains("secret"), "a secret leaked: {out}");
}

#[test]
fn config_check_reports_file_line_and_column_for_every_problem() {
    let env = TestEnv::new();
    let path = env.policy(concat!(
        "[[rule]]\n",                            // 1
        "url = \"ftp://git.corp.example\"\n",    // 2: bad scheme at col 7
        "sources = [\"file\", \"nope\"]\n",      // 3: unknown source at col 20
        "colour = \"blue\"\n",                   // 4: unknown key at col 1
        "\n",                                    // 5
        "[[rule]]\n",                            // 6
        "url = \"https://ci.corp.example\"\n",   // 7
        "sources = [\"env\"]\n",                 // 8: env without token_env/username at col 11
        "\n",                                    // 9
        "[[rule]]\n",                            // 10
        "url = \"http://plain.corp.example\"\n", // 11: http without allow_http at col 7
        "sources = [\"file\"]\n",                // 12
        "store = \"keychain\"\n",                // 13: store not among sources at col 9
    ));
    let out = env.gocred(&["config", "check"]).run();
    out.assert_code(1);
    assert_eq!(out.stdout, "");
    let p = path.display();
    let expected = [
        format!(
            "{p}:2:7: bad url \"ftp://git.corp.example\": scheme must be https or http, not 'ftp'"
        ),
        format!(
            "{p}:3:20: unknown source `nope` (expected keychain, file, env, oauth, command, ci, github-app or sts)"
        ),
        format!("{p}:4:1: unknown key `colour` in [[rule]]"),
        format!("{p}:8:11: source `env` needs `token_env`"),
        format!("{p}:8:11: source `env` needs `username`"),
        format!("{p}:13:9: `store = \"keychain\"` but `keychain` is not in `sources`"),
        format!("{p}:11:7: http:// sends credentials in clear text"),
    ];
    let lines = out.stderr_lines();
    for want in &expected {
        assert!(
            lines.iter().any(|l| l.starts_with(want.as_str())),
            "missing {want:?} in:\n{}",
            out.stderr
        );
    }
    assert_eq!(lines.len(), expected.len() + 1, "{}", out.stderr);
    assert_eq!(
        lines.last().unwrap(),
        &format!("gocred: {p}: 7 problems found")
    );

    // A TOML syntax error is located too.
    env.policy("[[rule]]\nurl = \"https://a.example\"\nsources = [\"file\"\n");
    let out = env.gocred(&["config", "check"]).run();
    out.assert_code(1);
    assert!(out.stderr.starts_with(&format!("{p}:3:")), "{out}");

    // Duplicates point at the first one.
    env.policy(
        "[[rule]]\nurl = \"https://a.example\"\nsources = [\"file\"]\n\
         [[rule]]\nurl = \"https://A.example:443/\"\nsources = [\"file\"]\n",
    );
    let out = env.gocred(&["config", "check"]).run();
    out.assert_code(1);
    assert!(
        out.stderr.contains(&format!(
            "{p}:4:1: rule for \"https://A.example:443/\" matches exactly what the rule on line 1 matches"
        )),
        "{out}"
    );
}

#[test]
fn config_check_accepts_a_good_policy_and_a_missing_one() {
    let env = TestEnv::new();
    // Missing at the default place (no GOCRED_CONFIG naming it): a fresh start, not an error.
    let out = env
        .gocred(&["config", "check"])
        .env_remove("GOCRED_CONFIG")
        .success();
    assert_eq!(
        out.stdout,
        format!(
            "{}: no config file yet; every host is denied (see `gocred status` for how to start)\n",
            env.policy_path().display()
        )
    );
    let path = env.policy(
        "[file]\npath = \"~/creds\"\n\n[[rule]]\nurl = \"https://*.corp.example\"\n\
         sources = [\"env\", \"file\"]\nstore = \"file\"\nusername = \"oauth2\"\ntoken_env = \"TOKEN\"\n\n\
         [[rule]]\nurl = \"https://git.corp.example/team/\"\nsources = [\"file\"]\n",
    );
    let out = env.gocred(&["config", "check"]).success();
    assert_eq!(out.stdout, format!("{}: ok, 2 rules\n", path.display()));
    assert_eq!(out.stderr, "");
}

#[test]
fn config_path_follows_gocred_config_then_xdg() {
    let env = TestEnv::new();
    let out = env.gocred(&["config", "path"]).success();
    assert_eq!(out.stdout, format!("{}\n", env.policy_path().display()));
    let custom = env.root().join("elsewhere.toml");
    let out = env
        .gocred(&["config", "path"])
        .env("GOCRED_CONFIG", &custom)
        .success();
    assert_eq!(out.stdout, format!("{}\n", custom.display()));
    let xdg = env.root().join("xdg");
    let out = env
        .gocred(&["config", "path"])
        .env_remove("GOCRED_CONFIG")
        .env("XDG_CONFIG_HOME", &xdg)
        .success();
    assert_eq!(
        out.stdout,
        format!("{}\n", xdg.join("gocred/config.toml").display())
    );
    // And `get` really reads that file.
    std::fs::create_dir_all(xdg.join("gocred")).unwrap();
    std::fs::write(
        xdg.join("gocred/config.toml"),
        "[[rule]]\nurl = \"https://h.example\"\nsources = [\"env\"]\nusername = \"u\"\ntoken_env = \"T\"\n",
    )
    .unwrap();
    let out = env
        .gocred(&["get"])
        .env_remove("GOCRED_CONFIG")
        .env("XDG_CONFIG_HOME", &xdg)
        .env("T", "tok")
        .stdin("protocol=https\nhost=h.example\n")
        .success();
    assert_eq!(out.stdout, "username=u\npassword=tok\n");
}

#[test]
fn file_store_path_from_the_config_is_honoured() {
    let env = TestEnv::new();
    env.policy(
        "[file]\npath = \"~/vault/creds\"\n\n[[rule]]\nurl = \"https://h.example\"\n\
         sources = [\"file\"]\nstore = \"file\"\n",
    );
    env.gocred(&["store"])
        .stdin("protocol=https\nhost=h.example\nusername=u\npassword=p\n")
        .success();
    let custom = env.home().join("vault/creds");
    assert!(
        std::fs::read_to_string(&custom)
            .unwrap()
            .contains("password=p")
    );
    assert!(!env.file_store_path().exists());
    let out = env
        .gocred(&["get"])
        .stdin("protocol=https\nhost=h.example\n")
        .success();
    assert_eq!(value_of(&out.stdout, "password"), Some("p"));
}

#[test]
fn concurrent_helpers_never_lose_an_update() {
    let env = TestEnv::new();
    env.policy("[[rule]]\nurl = \"https://h.example\"\nsources = [\"file\"]\nstore = \"file\"\n");
    std::thread::scope(|s| {
        for i in 0..16 {
            let env = &env;
            s.spawn(move || {
                env.gocred(&["store"])
                    .stdin(format!(
                        "protocol=https\nhost=h.example\nusername=user{i}\npassword=pass{i}\n"
                    ))
                    .success();
            });
        }
    });
    let stored = env.file_store().unwrap();
    for i in 0..16 {
        assert!(
            stored.contains(&format!("username=user{i}\npassword=pass{i}\n")),
            "user{i} lost:\n{stored}"
        );
    }
    assert_eq!(env.file_store_mode(), 0o600);
    // No temp files left beside the store.
    let names: Vec<_> = std::fs::read_dir(env.file_store_path().parent().unwrap())
        .unwrap()
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .collect();
    assert!(
        names
            .iter()
            .all(|n| n == "credentials" || n == "credentials.lock"),
        "{names:?}"
    );
}
