//! Set-up writes exactly what it means (issue 15): what `gocred setup go` prints is evaluated by
//! the real shells it targets (dash for `--shell sh`, fish for `--shell fish`) and every variable
//! read back byte for byte; go's environment is read by name, so a newline in one variable never
//! moves text into another; and `gocred setup git` installed at a path full of shell
//! metacharacters makes real git run exactly that binary. Each hostile value carries canaries
//! (`touch canary-…`): a canary file appearing means some shell ran our data as code.

use crate::common::go::go_toolchain;
use crate::common::{GOCRED, TestEnv, set_mode};
use std::collections::BTreeMap;
use std::os::unix::ffi::OsStrExt;
use std::path::{Path, PathBuf};

const POLICY: &str = r#"
[[rule]]
url = "https://git.corp.example"
sources = ["file"]
store = "file"
"#;

/// Values that are code in one shell or another, for each of go's three list variables. No
/// comma-separated item starts or ends with white space (setup trims those, on purpose).
const HOSTILE: [(&str, &str); 3] = [
    (
        "GOPRIVATE",
        "it's\\'q\\\\$(touch canary-dollar)`touch canary-tick`;touch canary-semi\n\
         GONOSUMDB=shifted.example\n|&<>*?[x]~#%self{a,b}\"$HOME\"(touch canary-fish)",
    ),
    (
        "GONOSUMDB",
        "-e\t\r\u{1b}[31mé'\\''x'\\\\'\"; touch canary-nosumdb #",
    ),
    ("GONOPROXY", "~/x\\n\\'$GOPRIVATE'; echo \\"),
];

/// A test environment whose commands find the real go (no GOPROXY traffic: `go env` only).
fn go_env() -> TestEnv {
    let mut env = TestEnv::new();
    let (go, goroot) = go_toolchain();
    env.prepend_path(go.parent().unwrap());
    env.set_env("GOROOT", goroot);
    env.set_env("GOENV", env.root().join("goenv"));
    env.set_env("GOTOOLCHAIN", "local");
    env
}

/// The canary files some shell created under `dir` (none, when all data stayed data).
fn canaries(dir: &Path) -> Vec<String> {
    let mut found = Vec::new();
    for entry in walk(dir) {
        let name = entry.file_name().unwrap().to_string_lossy().into_owned();
        if name.starts_with("canary") {
            found.push(entry.display().to_string());
        }
    }
    found
}

fn walk(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    let Ok(entries) = std::fs::read_dir(dir) else {
        return out;
    };
    for entry in entries.flatten() {
        let path = entry.path();
        if entry.file_type().is_ok_and(|t| t.is_dir()) {
            out.extend(walk(&path));
        }
        out.push(path);
    }
    out
}

/// Runs `script` in the real `shell` (dash or fish), then `env -0`: the environment it exported.
fn eval_in(env: &TestEnv, shell: &str, script: &str) -> BTreeMap<Vec<u8>, Vec<u8>> {
    let script = format!("{script}\nexec /usr/bin/env -0\n");
    let out = match shell {
        "fish" => env.command("fish").args(["--no-config", "-c", &script]),
        _ => env.command("dash").args(["-c", &script]),
    }
    .run();
    out.assert_success();
    out.stdout_bytes
        .split(|&b| b == 0)
        .filter(|kv| !kv.is_empty())
        .filter_map(|kv| {
            let at = kv.iter().position(|&b| b == b'=')?;
            Some((kv[..at].to_vec(), kv[at + 1..].to_vec()))
        })
        .collect()
}

#[test]
fn setup_go_quoting_dash_and_fish_read_back_every_hostile_value_byte_for_byte() {
    let mut env = go_env();
    for (name, value) in HOSTILE {
        env.set_env(name, value);
    }
    // GOAUTH ends with a backslash: in fish, `'…\'` would escape the closing quote.
    let goauth = "git /tmp/d';touch canary-goauth;'\\";
    env.set_env("GOAUTH", goauth);
    for (policy, ours) in [(POLICY, ",git.corp.example"), ("", "")] {
        env.policy(policy);
        for shell in ["sh", "fish"] {
            let out = env
                .gocred(&["setup", "go", "--shell", shell])
                .current_dir(env.home())
                .success();
            let exported = eval_in(
                &env,
                if shell == "sh" { "dash" } else { "fish" },
                &out.stdout,
            );
            for (name, value) in HOSTILE {
                let want = format!("{value}{ours}");
                let got = exported
                    .get(name.as_bytes())
                    .unwrap_or_else(|| panic!("{shell}: {name} not exported by:\n{}", out.stdout));
                assert_eq!(
                    String::from_utf8_lossy(got),
                    want,
                    "{shell}: {name} came back changed from:\n{}",
                    out.stdout
                );
            }
            // The GOAUTH suggestion on stderr is one word of the same shell, standing for itself.
            let suggested = out
                .stderr
                .split_once("`go env -w GOAUTH=")
                .and_then(|(_, rest)| rest.split_once("` makes go"))
                .unwrap_or_else(|| panic!("no GOAUTH suggestion: {out}"))
                .0;
            let script = match shell {
                "sh" => format!("export SUGGESTED={suggested}"),
                _ => format!("set -gx SUGGESTED {suggested}"),
            };
            let exported = eval_in(&env, if shell == "sh" { "dash" } else { "fish" }, &script);
            assert_eq!(
                String::from_utf8_lossy(&exported[b"SUGGESTED".as_slice()]),
                format!("gocred goauth;{goauth}"),
                "{shell}: {out}"
            );
        }
    }
    let ran = canaries(&env.root());
    assert!(ran.is_empty(), "a shell ran data as code: {ran:?}");
}

#[test]
fn setup_go_structured_env_never_moves_one_variable_into_another() {
    let mut env = go_env();
    env.policy(POLICY);
    let goenv = env.root().join("goenv");
    std::fs::write(&goenv, "GONOSUMDB=s.example\nGONOPROXY=x.example\n").unwrap();

    // A newline in GOPRIVATE: line-splitting `go env` output would have read its second line as
    // GONOSUMDB and written it there. go's config file cannot hold it: refused, nothing written.
    env.set_env("GOPRIVATE", "p.example\nGONOSUMDB=moved.example");
    let out = env.gocred(&["setup", "go", "--write"]).run();
    out.assert_failure();
    assert_eq!(out.stdout, "", "{out}");
    assert!(
        out.stderr.contains("GOPRIVATE") && out.stderr.contains("control character (U+000A)"),
        "{out}"
    );
    assert_eq!(
        std::fs::read_to_string(&goenv).unwrap(),
        "GONOSUMDB=s.example\nGONOPROXY=x.example\n",
    );
    // Printed for a shell, the same values stay each in its own variable.
    let out = env.gocred(&["setup", "go"]).success();
    let exported = eval_in(&env, "dash", &out.stdout);
    let get = |k: &str| String::from_utf8_lossy(&exported[k.as_bytes()]).into_owned();
    assert_eq!(
        get("GOPRIVATE"),
        "p.example\nGONOSUMDB=moved.example,git.corp.example"
    );
    assert_eq!(get("GONOSUMDB"), "s.example,git.corp.example");
    assert_eq!(get("GONOPROXY"), "x.example,git.corp.example");

    // Bytes that are not UTF-8 reach gocred as U+FFFD (go's JSON): passing that on would change
    // the value, so neither printing nor --write does.
    env.set_env(
        "GOPRIVATE",
        std::ffi::OsStr::from_bytes(b"p.example,caf\xe9.example"),
    );
    for args in [&["setup", "go"][..], &["setup", "go", "--write"]] {
        let out = env.gocred(args).run();
        out.assert_failure();
        assert_eq!(out.stdout, "", "{out}");
        assert!(
            out.stderr.contains("GOPRIVATE") && out.stderr.contains("not valid UTF-8"),
            "{out}"
        );
    }
    assert_eq!(
        std::fs::read_to_string(&goenv).unwrap(),
        "GONOSUMDB=s.example\nGONOPROXY=x.example\n",
    );

    // --write: each variable gets its own old value plus ours, quotes and all; GOPRIVATE comes
    // from the environment, so it is not copied into go's file.
    std::fs::write(
        &goenv,
        "GOPRIVATE=it's.example\nGONOSUMDB=s.example\nGONOPROXY=x.example\n",
    )
    .unwrap();
    env.set_env("GOPRIVATE", "");
    env.gocred(&["setup", "go", "--write"]).success();
    let text = std::fs::read_to_string(&goenv).unwrap();
    let mut lines: Vec<&str> = text.lines().collect();
    lines.sort();
    assert_eq!(
        lines,
        [
            "GONOPROXY=x.example,git.corp.example",
            "GONOSUMDB=s.example,git.corp.example",
            "GOPRIVATE=it's.example,git.corp.example",
        ],
        "{text}"
    );
}

/// A directory name that is code to sh in every way we know of (no `/`, no newline).
const HOSTILE_DIR: &str = "it's a dir;touch canary-semi;$(touch canary-dollar)`touch canary-tick`\
                           \\\"q\" *?[x] #~%!|&<>{a,b}";

/// The built gocred, linked to `dir/gocred` (so `current_exe()` is that path).
fn install_gocred_at(dir: &Path) -> PathBuf {
    std::fs::create_dir_all(dir).unwrap();
    let exe = dir.join("gocred");
    if std::fs::hard_link(GOCRED, &exe).is_err() {
        std::fs::copy(GOCRED, &exe).unwrap();
        set_mode(&exe, 0o755);
    }
    exe
}

#[test]
fn setup_git_quoting_helper_path_with_metacharacters_is_one_word_to_git() {
    let env = TestEnv::new();
    env.policy(POLICY);
    let exe = install_gocred_at(&env.root().join(HOSTILE_DIR).join("bin"));
    // PATH holds git alone: a git-credential-gocred installed on this machine (the Debian package
    // check installs one for a while) would make setup write `gocred` instead of the path.
    let git_only = env.root().join("git-only");
    std::fs::create_dir_all(&git_only).unwrap();
    let git = ["/usr/local/bin/git", "/usr/bin/git"]
        .into_iter()
        .find(|g| Path::new(g).is_file())
        .expect("git installed");
    std::os::unix::fs::symlink(git, git_only.join("git")).unwrap();
    let run = |args: &[&str]| {
        env.command(&exe)
            .args(args)
            .env("PATH", &git_only)
            .success()
    };

    // --dry-run prints sh commands; run by dash they configure exactly what setup itself would.
    let dry = run(&["setup", "git", "--dry-run"]);
    let script = dry.stdout.clone();
    env.command("dash")
        .args(["-c", &script])
        .current_dir(env.home())
        .success();
    let out = run(&["setup", "git"]);
    assert!(
        out.stdout.is_empty() && out.stderr.contains("already set up"),
        "the dry-run commands wrote something else than setup would: {dry}\n{out}"
    );
    let helper = env
        .git(&[
            "config",
            "--global",
            "--null",
            "--get-all",
            "credential.https://git.corp.example.helper",
        ])
        .success()
        .stdout;
    assert!(
        helper.starts_with("\0!'"),
        "a path that needs quoting is written as `!'…'`: {helper:?}"
    );

    // Real git runs that binary, and only it, for the host.
    env.gocred(&["store"])
        .stdin("protocol=https\nhost=git.corp.example\nusername=u\npassword=p4ss\n")
        .success();
    let out = env.credential_fill("https://git.corp.example/group/repo.git");
    out.assert_success();
    assert!(out.stdout.contains("username=u\npassword=p4ss\n"), "{out}");

    // --undo recognises the quoted value as gocred's and removes it.
    run(&["setup", "git", "--undo"]);
    let left = env
        .git(&[
            "config",
            "--global",
            "--get-all",
            "credential.https://git.corp.example.helper",
        ])
        .run();
    assert_eq!(left.stdout, "", "{left}");

    let ran = canaries(&env.root());
    assert!(
        ran.is_empty(),
        "a shell ran the helper path as code: {ran:?}"
    );
}
