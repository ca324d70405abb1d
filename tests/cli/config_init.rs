//! `gocred config init HOST [--source ...]`: a starting policy that `config check` accepts, for
//! every source, 0600, every key explained; a policy already there is never lost; HOST goes
//! through the one normalization; a FIFO at the config path cannot hang it.

use crate::common::TestEnv;
use std::os::unix::fs::PermissionsExt;
use std::time::{Duration, Instant};

fn mode(path: &std::path::Path) -> u32 {
    std::fs::metadata(path).unwrap().permissions().mode() & 0o777
}

/// Every `key = value` line of `text` comes right after a comment line (or another comment's
/// continuation): the file explains each key it sets.
fn every_key_commented(text: &str) -> bool {
    let lines: Vec<&str> = text.lines().collect();
    lines.iter().enumerate().all(|(i, line)| {
        !line.contains(" = ") || line.starts_with('#') || (i > 0 && lines[i - 1].starts_with('#'))
    })
}

#[test]
fn config_init_each_source_writes_a_commented_0600_policy_that_config_check_accepts() {
    let cases: &[(&[&str], &str)] = &[
        (&[], "sources = [\"keychain\"]\n"),
        (&["--source", "keychain"], "store = \"keychain\"\n"),
        (&["--source", "file"], "store = \"file\"\n"),
        (
            &[
                "--source",
                "env",
                "--token-env",
                "CI_JOB_TOKEN",
                "--username",
                "gitlab-ci-token",
            ],
            "token_env = \"CI_JOB_TOKEN\"\n",
        ),
        (&["--source", "env"], "token_env = \"GOCRED_TOKEN\"\n"),
        (
            &[
                "--source",
                "oauth",
                "--provider",
                "gitlab",
                "--client-id",
                "abc123",
            ],
            "client_id = \"abc123\"\n",
        ),
        (
            &[
                "--source",
                "oauth",
                "--provider",
                "oidc",
                "--client-id",
                "gocred",
                "--issuer",
                "https://sso.corp.example",
            ],
            "issuer = \"https://sso.corp.example\"\n",
        ),
    ];
    for (flags, expect) in cases {
        let env = TestEnv::new();
        let mut args = vec!["config", "init", "git.corp.example"];
        args.extend_from_slice(flags);
        let out = env.gocred(&args).success();
        assert!(
            out.stdout.contains("one rule for https://git.corp.example"),
            "{flags:?}: {out}"
        );
        let path = env.policy_path();
        let text = std::fs::read_to_string(&path).unwrap();
        assert_eq!(mode(&path), 0o600, "{flags:?}");
        assert!(
            text.contains("url = \"https://git.corp.example\"\n"),
            "{text}"
        );
        assert!(text.contains(expect), "{flags:?}: {text}");
        assert!(
            every_key_commented(&text),
            "{flags:?}: a key without a comment:\n{text}"
        );
        let check = env.gocred(&["config", "check"]).success();
        assert!(check.stdout.contains(": ok, 1 rule"), "{flags:?}: {check}");
        assert_eq!(check.stderr, "", "{flags:?}: {check}");
    }
}

#[test]
fn config_init_host_goes_through_the_one_normalization() {
    let env = TestEnv::new();
    env.gocred(&["config", "init", "GIT.Corp.Example.:443"])
        .success();
    let text = std::fs::read_to_string(env.policy_path()).unwrap();
    assert!(
        text.contains("url = \"https://git.corp.example\"\n"),
        "{text}"
    );

    let env = TestEnv::new();
    env.gocred(&["config", "init", "https://git.corp.example:8443/group/sub"])
        .success();
    let text = std::fs::read_to_string(env.policy_path()).unwrap();
    assert!(
        text.contains("url = \"https://git.corp.example:8443/group/sub/\"\n"),
        "{text}"
    );

    for bad in [
        "user:pw@git.corp.example",
        "http://git.corp.example",
        "ftp://git.corp.example",
        "git corp",
        "--source=env",
    ] {
        let env = TestEnv::new();
        let out = env.gocred(&["config", "init", "--", bad]).run();
        out.assert_code(1);
        assert_eq!(out.stdout, "", "{bad}: {out}");
        assert!(!out.stderr.contains("pw"), "{bad}: {out}");
        assert!(!env.policy_path().exists(), "{bad}: a file was written");
    }
}

#[test]
fn config_init_never_loses_an_existing_policy() {
    let env = TestEnv::new();
    let old = "# the company's policy\n[[rule]]\nurl = \"https://old.example\"\nsources = [\"keychain\"]\nstore = \"keychain\"";
    let path = env.policy(old);
    let out = env.gocred(&["config", "init", "git.corp.example"]).run();
    out.assert_code(1);
    assert!(out.stderr.contains("already exists"), "{out}");
    assert!(out.stderr.contains("--force"), "{out}");
    assert_eq!(std::fs::read_to_string(&path).unwrap(), old);

    env.gocred(&["config", "init", "git.corp.example", "--force"])
        .success();
    let backup = path.with_file_name("config.toml.bak");
    assert_eq!(std::fs::read_to_string(&backup).unwrap(), old);
    assert_eq!(mode(&backup), 0o600);
    assert!(
        std::fs::read_to_string(&path)
            .unwrap()
            .contains("git.corp.example")
    );
}

#[test]
fn config_init_oauth_without_client_id_names_the_flag_and_writes_nothing() {
    let env = TestEnv::new();
    let out = env
        .gocred(&[
            "config",
            "init",
            "gitlab.corp.example",
            "--source",
            "oauth",
            "--provider",
            "gitlab",
        ])
        .run();
    out.assert_code(1);
    assert!(out.stderr.contains("--client-id"), "{out}");
    assert!(!env.policy_path().exists());
}

#[test]
fn config_init_fifo_at_the_config_path_is_refused_without_hanging() {
    let env = TestEnv::new();
    let path = env.policy_path();
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    let status = std::process::Command::new("mkfifo")
        .arg(&path)
        .status()
        .unwrap();
    assert!(status.success());
    let start = Instant::now();
    let out = env
        .gocred(&["config", "init", "git.corp.example", "--force"])
        .timeout(Duration::from_secs(10))
        .run();
    out.assert_code(1);
    assert!(start.elapsed() < Duration::from_secs(5), "{out}");
    assert!(out.stderr.contains("FIFO"), "{out}");
    assert!(
        std::fs::symlink_metadata(&path)
            .unwrap()
            .file_type()
            .is_fifo_like(),
        "the FIFO was replaced"
    );
}

trait FifoLike {
    fn is_fifo_like(&self) -> bool;
}

impl FifoLike for std::fs::FileType {
    fn is_fifo_like(&self) -> bool {
        use std::os::unix::fs::FileTypeExt;
        self.is_fifo()
    }
}
