//! `gocred setup git` against real git (idempotent, dry-run, undo, and git then really asks
//! gocred and nobody else), and `gocred setup go` against real go's `go env` (merged, never
//! clobbering; `--write` through `go env -w`; the GOAUTH suggestion).

use crate::common::TestEnv;
use crate::common::go::go_toolchain;

const POLICY: &str = r#"
[[rule]]
url = "https://git.corp.example"
sources = ["file"]
store = "file"

[[rule]]
url = "https://git.corp.example/release-team/"
sources = ["file"]
store = "file"

[[rule]]
url = "https://*.mirror.corp.example"
sources = ["file"]
store = "file"
"#;

fn global_config(env: &TestEnv) -> String {
    std::fs::read_to_string(env.git_config_global()).unwrap()
}

#[test]
fn setup_git_writes_host_scoped_helpers_once_and_undo_takes_them_back() {
    let mut env = TestEnv::new();
    env.policy(POLICY);
    env.put_helper_on_path();
    let before = global_config(&env);

    // --dry-run: the exact commands, and nothing changes.
    let out = env.gocred(&["setup", "git", "--dry-run"]).success();
    assert_eq!(
        out.stdout,
        "git config --global --replace-all credential.https://git.corp.example.helper ''\n\
         git config --global --add credential.https://git.corp.example.helper gocred\n\
         git config --global --replace-all 'credential.https://*.mirror.corp.example.helper' ''\n\
         git config --global --add 'credential.https://*.mirror.corp.example.helper' gocred\n\
         git config --global --replace-all credential.https://git.corp.example/release-team.useHttpPath true\n\
         git config --global --add gocred.setup '{\"key\":\"credential.https://git.corp.example.helper\",\"replaced\":[],\"wrote\":[\"\",\"gocred\"]}'\n\
         git config --global --add gocred.setup '{\"key\":\"credential.https://*.mirror.corp.example.helper\",\"replaced\":[],\"wrote\":[\"\",\"gocred\"]}'\n\
         git config --global --add gocred.setup '{\"key\":\"credential.https://git.corp.example/release-team.useHttpPath\",\"replaced\":[],\"wrote\":[\"true\"]}'\n"
    );
    assert_eq!(global_config(&env), before);

    env.gocred(&["setup", "git"]).success();
    let get = |key: &str| {
        env.git(&["config", "--global", "--get-all", key])
            .run()
            .stdout
    };
    assert_eq!(
        get("credential.https://git.corp.example.helper"),
        "\ngocred\n"
    );
    // useHttpPath only under the path rule's prefix, not for the whole host.
    assert_eq!(
        get("credential.https://git.corp.example/release-team.usehttppath"),
        "true\n"
    );
    assert_eq!(get("credential.https://git.corp.example.usehttppath"), "");
    assert_eq!(
        get("credential.https://*.mirror.corp.example.helper"),
        "\ngocred\n"
    );
    // Idempotent: a second run changes nothing and says so.
    let after = global_config(&env);
    let out = env.gocred(&["setup", "git"]).success();
    assert_eq!(out.stdout, "");
    assert!(out.stderr.contains("already set up"), "{out}");
    assert_eq!(global_config(&env), after);

    // git now asks gocred (and no other helper) for the host, and the path-scoped rule gets its path.
    let other = env.script(
        "other-helper",
        "test \"$1\" = get && printf 'username=o\\npassword=OTHER\\n'",
    );
    let mut lines: Vec<String> = global_config(&env).lines().map(str::to_owned).collect();
    lines.insert(0, format!("[credential]\n\thelper = {}", other.display()));
    std::fs::write(env.git_config_global(), lines.join("\n") + "\n").unwrap();
    env.gocred(&["store"])
        .stdin("protocol=https\nhost=git.corp.example\npath=release-team/app.git\nusername=rel\npassword=rel-pass\n")
        .success();
    let out = env.credential_fill("https://git.corp.example/release-team/app.git");
    out.assert_success();
    assert!(
        out.stdout.contains("username=rel\npassword=rel-pass\n"),
        "{out}"
    );
    let out = env.credential_fill("https://git.corp.example/other/app.git");
    assert!(
        !out.stdout.contains("OTHER"),
        "another helper answered for a policy host: {out}"
    );
    // Outside the prefix git sends no path, so the host's entry (stored without a path) answers.
    env.gocred(&["store"])
        .stdin("protocol=https\nhost=git.corp.example\nusername=alice\npassword=host-pass\n")
        .success();
    let out = env.credential_fill("https://git.corp.example/other/app.git");
    assert!(
        out.stdout.contains("username=alice\npassword=host-pass\n"),
        "{out}"
    );

    // --undo removes exactly what setup wrote.
    env.gocred(&["setup", "git", "--undo"]).success();
    for key in [
        "credential.https://git.corp.example.helper",
        "credential.https://git.corp.example/release-team.usehttppath",
        "credential.https://*.mirror.corp.example.helper",
    ] {
        assert_eq!(get(key), "", "{key}");
    }
    let text = global_config(&env);
    assert!(!text.contains("helper = gocred"), "{text}");
    assert!(text.contains("other-helper"), "{text}");
}

#[test]
fn setup_go_merges_with_go_env_and_never_clobbers() {
    let mut env = TestEnv::new();
    env.policy(POLICY);
    let (go, goroot) = go_toolchain();
    env.prepend_path(go.parent().unwrap());
    env.set_env("GOROOT", goroot);
    env.set_env("GOENV", env.root().join("goenv"));
    env.set_env("GOTOOLCHAIN", "local");
    env.set_env("GOPRIVATE", "example.org/private");
    let out = env.gocred(&["setup", "go"]).success();
    // GONOSUMDB and GONOPROXY are unset: they follow GOPRIVATE (`go help private`), and stay so.
    assert_eq!(
        out.stdout,
        "export GOPRIVATE='example.org/private,git.corp.example,*.mirror.corp.example'\n",
        "{out}"
    );
    assert!(
        out.stderr
            .contains("reads GOAUTH: `go env -w GOAUTH='gocred goauth'`"),
        "{out}"
    );
    let fish = env.gocred(&["setup", "go", "--shell", "fish"]).success();
    assert!(
        fish.stdout
            .starts_with("set -gx GOPRIVATE 'example.org/private,"),
        "{fish}"
    );

    // --write goes through `go env -w`; a second run adds nothing twice.
    let mut env = env;
    env.set_env("GOPRIVATE", "");
    let goenv = env.root().join("goenv");
    std::fs::write(&goenv, "GONOSUMDB=keep.example\n").unwrap();
    env.gocred(&["setup", "go", "--write"]).success();
    env.gocred(&["setup", "go", "--write"]).success();
    let text = std::fs::read_to_string(&goenv).unwrap();
    assert!(
        text.contains("GOPRIVATE=git.corp.example,*.mirror.corp.example\n"),
        "{text}"
    );
    assert!(
        text.contains("GONOSUMDB=keep.example,git.corp.example,*.mirror.corp.example\n"),
        "{text}"
    );
    assert!(!text.contains("GONOPROXY"), "{text}");
}

/// A test env whose commands run the real go, with go's env file at `goenv` holding `file`.
fn go_env(file: &str) -> (TestEnv, std::path::PathBuf) {
    let mut env = TestEnv::new();
    env.policy(POLICY);
    let (go, goroot) = go_toolchain();
    env.prepend_path(go.parent().unwrap());
    env.set_env("GOROOT", goroot);
    let goenv = env.root().join("goenv");
    std::fs::write(&goenv, file).unwrap();
    env.set_env("GOENV", &goenv);
    env.set_env("GOTOOLCHAIN", "local");
    (env, goenv)
}

/// What the real go now uses for `names`.
fn go_sees(env: &TestEnv, names: &[&str]) -> std::collections::BTreeMap<String, String> {
    let out = env.command("go").args(["env", "-json"]).args(names).run();
    out.assert_success();
    serde_json::from_str(&out.stdout).unwrap()
}

const OURS: &str = "git.corp.example,*.mirror.corp.example";

#[test]
fn setup_go_company_routing_gonoproxy_none_and_a_company_goproxy_are_kept() {
    let company = "GOPROXY=https://proxy.corp.example\nGONOPROXY=none\nGOPRIVATE=*.old.example\nGONOSUMDB=sum.old.example\n";
    let (env, goenv) = go_env(company);
    let out = env.gocred(&["setup", "go"]).success();
    assert_eq!(
        out.stdout,
        format!(
            "export GOPRIVATE='*.old.example,{OURS}'\n\
             export GONOSUMDB='sum.old.example,{OURS}'\n\
             export GONOPROXY=none\n"
        ),
        "{out}"
    );
    assert!(out.stderr.contains("GONOPROXY=none kept"), "{out}");
    env.gocred(&["setup", "go", "--write"]).success();
    let seen = go_sees(&env, &["GOPROXY", "GONOPROXY", "GOPRIVATE", "GONOSUMDB"]);
    assert_eq!(seen["GOPROXY"], "https://proxy.corp.example");
    assert_eq!(seen["GONOPROXY"], "none");
    assert_eq!(seen["GOPRIVATE"], format!("*.old.example,{OURS}"));
    assert_eq!(seen["GONOSUMDB"], format!("sum.old.example,{OURS}"));
    let text = std::fs::read_to_string(&goenv).unwrap();
    // go rewrites its file sorted; the company's lines are there unchanged.
    for line in ["GOPROXY=https://proxy.corp.example\n", "GONOPROXY=none\n"] {
        assert!(text.contains(line), "{text}");
    }

    // A company GOPROXY and a GONOPROXY list: the list is the company's routing, kept as it is.
    let (env, _) =
        go_env("GOPROXY=https://proxy.corp.example,direct\nGONOPROXY=direct.corp.example\n");
    env.gocred(&["setup", "go", "--write"]).success();
    let seen = go_sees(&env, &["GONOPROXY", "GOPRIVATE"]);
    assert_eq!(seen["GONOPROXY"], "direct.corp.example");
    assert_eq!(seen["GOPRIVATE"], OURS);

    // A company GOPROXY and no GONOPROXY: adding to GOPRIVATE would route the hosts around the
    // proxy (GONOPROXY follows GOPRIVATE); it is pinned to what it was instead.
    let (env, _) = go_env("GOPROXY=https://proxy.corp.example\n");
    let before = go_sees(&env, &["GONOPROXY"]);
    assert_eq!(before["GONOPROXY"], "");
    env.gocred(&["setup", "go", "--write"]).success();
    let seen = go_sees(&env, &["GONOPROXY", "GOPRIVATE"]);
    assert_eq!(seen["GONOPROXY"], "none");
    assert_eq!(seen["GOPRIVATE"], OURS);

    // Go's public proxy and a GONOPROXY list: the hosts are added (a private module path must
    // not go to proxy.golang.org).
    let (env, _) = go_env("GONOPROXY=direct.example\n");
    env.gocred(&["setup", "go", "--write"]).success();
    assert_eq!(
        go_sees(&env, &["GONOPROXY"])["GONOPROXY"],
        format!("direct.example,{OURS}")
    );
}

#[test]
fn setup_go_environment_values_are_never_written_into_go_env_file() {
    let (mut env, goenv) = go_env("GONOSUMDB=file.example\n");
    env.set_env("GOPRIVATE", "env-only.example");
    env.set_env("GONOPROXY", "env-proxy.example");
    let out = env.gocred(&["setup", "go", "--write"]).success();
    let text = std::fs::read_to_string(&goenv).unwrap();
    assert_eq!(text, format!("GONOSUMDB=file.example,{OURS}\n"), "{out}");
    assert!(!text.contains("env-"), "{text}");
    for name in ["GOPRIVATE", "GONOPROXY"] {
        assert!(
            out.stderr
                .contains(&format!("{name} is set in the environment")),
            "{name}: {out}"
        );
    }
    assert_eq!(
        out.stdout,
        format!("go env -w GONOSUMDB='file.example,{OURS}'\n")
    );
}

#[test]
fn setup_go_shows_go_env_w_warnings() {
    let (mut env, _) = go_env("");
    // The real go, with a warning of its own on stderr (as go prints for a variable the
    // environment overrides).
    let (go, _) = go_toolchain();
    let bin = env.root().join("wrap");
    std::fs::create_dir_all(&bin).unwrap();
    let script = format!(
        "#!/bin/sh\n\"{}\" \"$@\" || exit\n[ \"$2\" = -w ] && echo 'go: warning: from go' >&2\nexit 0\n",
        go.display()
    );
    std::fs::write(bin.join("go"), script).unwrap();
    crate::common::set_mode(&bin.join("go"), 0o755);
    env.prepend_path(&bin);
    let out = env.gocred(&["setup", "go", "--write"]).success();
    assert!(
        out.stderr.contains("go says: go: warning: from go"),
        "{out}"
    );
}

#[test]
fn setup_go_without_go_shell_lines_come_from_the_environment() {
    let mut env = TestEnv::new();
    env.policy(POLICY);
    env.set_env("PATH", "/nonexistent");
    env.set_env("GOPRIVATE", "env.example");
    env.set_env("GONOSUMDB", "sum.example");
    let out = env.gocred(&["setup", "go", "--shell", "fish"]).success();
    assert_eq!(
        out.stdout,
        format!("set -gx GOPRIVATE 'env.example,{OURS}'\nset -gx GONOSUMDB 'sum.example,{OURS}'\n"),
        "{out}"
    );
    assert!(out.stderr.contains("`go` is not on PATH"), "{out}");
    let out = env.gocred(&["setup", "go", "--write"]).run();
    out.assert_code(1);
    assert_eq!(out.stdout, "");
    assert!(out.stderr.contains("--shell"), "{out}");
}

/// Every value of `key` in the global config, NUL-separated bytes (a value holding a newline
/// stays one value).
fn values(env: &TestEnv, key: &str) -> String {
    env.git(&["config", "--global", "--null", "--get-all", key])
        .run()
        .stdout
}

#[test]
fn setup_git_undo_restores_a_company_helper_setup_byte_for_byte() {
    let mut env = TestEnv::new();
    env.policy(POLICY);
    env.put_helper_on_path();
    let company = "[credential]\n\thelper = company-global\n\
                   [credential \"https://git.corp.example\"]\n\thelper =\n\
                   \thelper = \"/opt/company/helper --flag 'x'\"\n\thelper = second\n\
                   [credential \"https://git.corp.example/release-team\"]\n\tuseHttpPath = false\n";
    let mut text = global_config(&env);
    text += company;
    std::fs::write(env.git_config_global(), &text).unwrap();
    let keys = [
        "credential.https://git.corp.example.helper",
        "credential.https://git.corp.example/release-team.usehttppath",
        "credential.https://*.mirror.corp.example.helper",
        "credential.helper",
    ];
    let before: Vec<String> = keys.iter().map(|k| values(&env, k)).collect();
    assert_eq!(before[0], "\0/opt/company/helper --flag 'x'\0second\0");

    let out = env.gocred(&["setup", "git"]).success();
    for line in [
        "replacing credential.https://git.corp.example.helper = (empty",
        "replacing credential.https://git.corp.example.helper = /opt/company/helper --flag 'x'\n",
        "replacing credential.https://git.corp.example.helper = second\n",
        "replacing credential.https://git.corp.example/release-team.useHttpPath = false\n",
    ] {
        assert!(out.stderr.contains(line), "missing {line:?}: {out}");
    }
    // The generic helper no longer runs for the mirror (for git.corp.example the company's own
    // empty value had silenced it already): said once, where it is true.
    assert!(
        out.stderr.contains(
            "git no longer runs `company-global` (credential.helper in the global config"
        ) && out.stderr.contains(") for https://*.mirror.corp.example: "),
        "{out}"
    );
    assert_eq!(out.stderr.matches("git no longer runs").count(), 1, "{out}");
    // The mirror had nothing: nothing is named as replaced there.
    assert!(
        !out.stderr.contains("replacing credential.https://*.mirror"),
        "{out}"
    );
    assert_eq!(values(&env, keys[0]), "\0gocred\0");
    assert_eq!(values(&env, keys[1]), "true\0");
    // The record is in git's config, in the scope written.
    assert!(values(&env, "gocred.setup").contains("/opt/company/helper --flag 'x'"));

    // A second run changes nothing and keeps the record of the first.
    let record = values(&env, "gocred.setup");
    env.gocred(&["setup", "git"]).success();
    assert_eq!(values(&env, "gocred.setup"), record);

    let out = env.gocred(&["setup", "git", "--undo"]).success();
    let after: Vec<String> = keys.iter().map(|k| values(&env, k)).collect();
    assert_eq!(after, before, "{out}");
    assert_eq!(values(&env, "gocred.setup"), "");
    // No trace left: no record section, no section for the mirror setup had added. (git
    // rewrites a line it sets, so the values, not the file's bytes, are what comes back.)
    let text = global_config(&env);
    assert!(
        !text.contains("[gocred") && !text.contains("mirror"),
        "{text}"
    );
    // The helper list comes back in the order git runs it.
    let other = env
        .git(&[
            "config",
            "--global",
            "--get-regexp",
            r"^credential\..*helper$",
        ])
        .run()
        .stdout;
    assert_eq!(
        other,
        "credential.helper company-global\n\
         credential.https://git.corp.example.helper \n\
         credential.https://git.corp.example.helper /opt/company/helper --flag 'x'\n\
         credential.https://git.corp.example.helper second\n",
        "{text}"
    );
}

#[test]
fn setup_git_undo_touches_nothing_it_did_not_write() {
    let mut env = TestEnv::new();
    env.policy(POLICY);
    env.put_helper_on_path();
    // Already right before setup: setup writes nothing there, so undo must leave it.
    env.git_config(
        "credential.https://git.corp.example/release-team.useHttpPath",
        "true",
    );
    env.gocred(&["setup", "git"]).success();
    // Someone changes one of the lists setup wrote.
    env.git(&[
        "config",
        "--global",
        "--replace-all",
        "credential.https://*.mirror.corp.example.helper",
        "mine",
    ])
    .run()
    .assert_success();
    let out = env.gocred(&["setup", "git", "--undo"]).success();
    assert!(
        out.stderr.contains(
            "credential.https://*.mirror.corp.example.helper changed since gocred setup git wrote it; left as it is (it was not set before)"
        ),
        "{out}"
    );
    assert_eq!(
        values(&env, "credential.https://*.mirror.corp.example.helper"),
        "mine\0"
    );
    assert_eq!(
        values(
            &env,
            "credential.https://git.corp.example/release-team.usehttppath"
        ),
        "true\0"
    );
    assert_eq!(
        values(&env, "credential.https://git.corp.example.helper"),
        ""
    );
    assert_eq!(values(&env, "gocred.setup"), "");
}

#[test]
fn setup_git_replaced_helper_holding_a_token_is_named_redacted_and_restored_exactly() {
    let mut env = TestEnv::new();
    env.policy(POLICY);
    env.put_helper_on_path();
    let token = "glpat-FAKE-not-a-token";
    let helper = format!("!f() {{ echo username=ci; echo password={token}; }}; f");
    env.git_config("credential.https://git.corp.example.helper", &helper);
    let key = "credential.https://git.corp.example.helper";
    for args in [&["setup", "git", "--dry-run"][..], &["setup", "git"]] {
        let out = env.gocred(args).success();
        assert!(
            !out.stdout.contains(token) && !out.stderr.contains(token),
            "{out}"
        );
        assert!(
            out.stderr.contains(&format!("replace {key} = !f()"))
                || out.stderr.contains(&format!("replacing {key} = !f()")),
            "{out}"
        );
    }
    env.gocred(&["setup", "git", "--undo"]).success();
    assert_eq!(values(&env, key), format!("{helper}\0"));
}

#[test]
fn setup_git_undo_record_lives_in_the_scope_it_describes() {
    let mut env = TestEnv::new();
    env.policy(POLICY);
    env.put_helper_on_path();
    let repo = env.root().join("repo");
    env.git(&["init", "-q", repo.to_str().unwrap()])
        .run()
        .assert_success();
    let key = "credential.https://git.corp.example.helper";
    env.git(&["config", "--local", key, "repo-helper"])
        .current_dir(&repo)
        .run()
        .assert_success();
    let local = |args: &[&str]| env.git(args).current_dir(&repo).run().stdout;
    env.gocred(&["setup", "git", "--local"])
        .current_dir(&repo)
        .success();
    assert!(local(&["config", "--local", "--get-all", "gocred.setup"]).contains("repo-helper"));
    assert_eq!(
        values(&env, "gocred.setup"),
        "",
        "the global config holds no record"
    );
    // An undo of the global scope finds no record there and nothing of its own to remove.
    env.gocred(&["setup", "git", "--undo"])
        .current_dir(&repo)
        .success();
    assert_eq!(
        local(&["config", "--local", "--null", "--get-all", key]),
        "\0gocred\0"
    );
    env.gocred(&["setup", "git", "--local", "--undo"])
        .current_dir(&repo)
        .success();
    assert_eq!(
        local(&["config", "--local", "--null", "--get-all", key]),
        "repo-helper\0"
    );
}
