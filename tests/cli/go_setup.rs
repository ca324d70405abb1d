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
         git config --global --replace-all credential.https://git.corp.example/release-team.useHttpPath true\n"
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
    assert_eq!(
        out.stdout,
        "export GOPRIVATE='example.org/private,git.corp.example,*.mirror.corp.example'\n\
         export GONOSUMDB='example.org/private,git.corp.example,*.mirror.corp.example'\n\
         export GONOPROXY='example.org/private,git.corp.example,*.mirror.corp.example'\n",
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
}
