//! What the packages ship, seen through the real binary: `gocred completions SHELL` prints exactly
//! the committed script the packages install, the bash script completes, and `--version` names
//! the version, the commit and the keychain backends. (The unit tests in src/cli/doc/ check the
//! committed man pages and scripts against the code.)

use crate::common::TestEnv;
use std::path::{Path, PathBuf};

fn repo_file(path: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join(path)
}

#[test]
fn completions_print_the_committed_scripts() {
    let env = TestEnv::new();
    for (shell, file) in [
        ("bash", "completions/gocred.bash"),
        ("zsh", "completions/_gocred"),
        ("fish", "completions/gocred.fish"),
    ] {
        let out = env.gocred(&["completions", shell]).success();
        assert_eq!(out.stderr, "");
        let committed = std::fs::read(repo_file(file)).unwrap();
        assert!(
            out.stdout_bytes == committed,
            "`gocred completions {shell}` is not {file}: run scripts/generate-docs"
        );
    }
    for shell in ["elvish", "powershell"] {
        let out = env.gocred(&["completions", shell]).success();
        assert!(out.stdout.contains("gocred"), "{out}");
    }
    let out = env.gocred(&["completions", "tcsh"]).run();
    out.assert_code(2);
    assert_eq!(out.stdout, "");
    assert!(out.stderr.contains("[possible values: bash,"), "{out}");
}

#[test]
fn the_bash_script_completes_subcommands_and_shells() {
    let env = TestEnv::new();
    let complete = |words: &str| {
        let script = format!(
            "source \"$1\"; COMP_WORDS=({words}); COMP_CWORD=$((${{#COMP_WORDS[@]}} - 1)); \
             _gocred gocred \"${{COMP_WORDS[-1]}}\" \"${{COMP_WORDS[-2]}}\"; echo \"${{COMPREPLY[*]}}\""
        );
        let out = env
            .command("bash")
            .arg("-c")
            .arg(script)
            .arg("bash")
            .arg(repo_file("completions/gocred.bash"))
            .success();
        out.stdout.trim().to_owned()
    };
    assert_eq!(complete("gocred co"), "config completions");
    assert_eq!(complete("gocred completions f"), "fish");
    assert_eq!(
        complete("gocred config ''"),
        "-q -h --quiet --help check path init help"
    );
}

#[test]
fn version_names_the_version_the_commit_and_the_keychain_backends() {
    let env = TestEnv::new();
    let out = env.gocred(&["--version"]).success();
    assert_eq!(out.stderr, "");
    let lines: Vec<&str> = out.stdout.lines().collect();
    assert_eq!(lines.len(), 4, "{out}");
    assert_eq!(lines[0], format!("gocred {}", env!("CARGO_PKG_VERSION")));

    let commit = lines[1].strip_prefix("commit ").expect("a commit line");
    assert!(
        commit == "unknown" || (commit.len() >= 7 && commit.chars().all(|c| c.is_ascii_hexdigit())),
        "{out}"
    );
    // In a git checkout (development, CI), build.rs saw HEAD, or an ancestor of it when someone
    // committed since the build.
    let git = |args: &[&str]| {
        std::process::Command::new("git")
            .args(args)
            .current_dir(env!("CARGO_MANIFEST_DIR"))
            .output()
            .ok()
    };
    let in_git = git(&["rev-parse", "--git-dir"]).is_some_and(|o| o.status.success());
    if in_git && std::env::var_os("GOCRED_BUILD_COMMIT").is_none() {
        let ancestor = git(&["merge-base", "--is-ancestor", commit, "HEAD"]);
        assert!(
            ancestor.is_some_and(|o| o.status.success()),
            "the commit is not HEAD or before it: {out}"
        );
    }

    let backends = if cfg!(target_os = "linux") {
        "secret-service, keyutils"
    } else if cfg!(target_os = "macos") {
        "macos"
    } else if cfg!(target_os = "windows") {
        "windows"
    } else {
        "none (use the file store)"
    };
    assert_eq!(lines[2], format!("keychain backends: {backends}"));

    // -V stays one line: the version alone.
    let out = env.gocred(&["-V"]).success();
    assert_eq!(
        out.stdout,
        format!("gocred {}\n", env!("CARGO_PKG_VERSION"))
    );
}
