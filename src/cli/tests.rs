//! The helper loop driven over in-memory buffers: no processes, no real environment.

use super::{Command, Context, run};
use std::collections::HashMap;
use std::path::Path;

struct Outcome {
    stdout: String,
    error: Option<String>,
}

/// Runs one command with `stdin` against the policy in `dir`, with `vars` as the environment.
fn helper(dir: &Path, command: Command, stdin: &str, vars: &HashMap<&str, &str>) -> Outcome {
    let mut stdout = Vec::new();
    let mut stderr = Vec::new();
    let vars: HashMap<String, String> = vars
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
    let result = {
        let mut ctx = Context {
            stdin: Box::new(stdin.as_bytes()),
            stdout: Box::new(&mut stdout),
            stderr: Box::new(&mut stderr),
            config_path: Some(dir.join("config.toml")),
            env: Box::new(move |k| vars.get(k).cloned()),
            now: 1_800_000_000,
        };
        run(command, &mut ctx)
    };
    Outcome {
        stdout: String::from_utf8(stdout).unwrap(),
        error: result.err().map(|e| e.message),
    }
}

fn setup(policy: &str) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    let store = dir.path().join("store/credentials");
    let text = format!("[file]\npath = \"{}\"\n\n{policy}", store.display());
    std::fs::write(dir.path().join("config.toml"), text).unwrap();
    dir
}

const FILE_RULE: &str =
    "[[rule]]\nurl = \"https://git.example\"\nsources = [\"file\"]\nstore = \"file\"\n";

#[test]
fn store_then_get_then_erase_round_trip() {
    let dir = setup(FILE_RULE);
    let none = HashMap::new();
    let stored = "protocol=https\nhost=git.example\nusername=alice\npassword=pw1\npassword_expiry_utc=1900000000\n";
    assert_eq!(
        helper(dir.path(), Command::Store, stored, &none).error,
        None
    );
    let got = helper(
        dir.path(),
        Command::Get,
        "protocol=https\nhost=git.example\n",
        &none,
    );
    assert_eq!(
        got.stdout,
        "username=alice\npassword=pw1\npassword_expiry_utc=1900000000\n"
    );
    // Erase with the wrong password keeps it; with the right one removes it.
    helper(
        dir.path(),
        Command::Erase,
        "protocol=https\nhost=git.example\nusername=alice\npassword=nope\n",
        &none,
    );
    assert!(
        !helper(
            dir.path(),
            Command::Get,
            "protocol=https\nhost=git.example\n",
            &none
        )
        .stdout
        .is_empty()
    );
    helper(
        dir.path(),
        Command::Erase,
        "protocol=https\nhost=git.example\nusername=alice\npassword=pw1\n",
        &none,
    );
    assert_eq!(
        helper(
            dir.path(),
            Command::Get,
            "protocol=https\nhost=git.example\n",
            &none
        )
        .stdout,
        ""
    );
}

#[test]
fn several_users_per_host() {
    let dir = setup(FILE_RULE);
    let none = HashMap::new();
    for (user, pw) in [("alice", "a1"), ("bob", "b1")] {
        let req = format!("protocol=https\nhost=git.example\nusername={user}\npassword={pw}\n");
        assert_eq!(helper(dir.path(), Command::Store, &req, &none).error, None);
    }
    let get = |user: &str| {
        helper(
            dir.path(),
            Command::Get,
            &format!("protocol=https\nhost=git.example\nusername={user}\n"),
            &none,
        )
        .stdout
    };
    assert_eq!(get("alice"), "username=alice\npassword=a1\n");
    assert_eq!(get("bob"), "username=bob\npassword=b1\n");
    assert_eq!(get("carol"), "");
    helper(
        dir.path(),
        Command::Erase,
        "protocol=https\nhost=git.example\nusername=alice\n",
        &none,
    );
    assert_eq!(get("alice"), "");
    assert_eq!(get("bob"), "username=bob\npassword=b1\n");
}

#[test]
fn expired_credentials_are_not_returned_nor_stored() {
    let dir = setup(FILE_RULE);
    let none = HashMap::new();
    let past = "protocol=https\nhost=git.example\nusername=a\npassword=old\npassword_expiry_utc=1700000000\n";
    helper(dir.path(), Command::Store, past, &none);
    assert!(!dir.path().join("store/credentials").exists());
}

#[test]
fn env_token_is_served_with_the_rule_username_and_never_stored() {
    let dir = setup(
        "[[rule]]\nurl = \"https://gitlab.example\"\nsources = [\"file\", \"env\"]\nstore = \"file\"\nusername = \"gitlab-ci-token\"\ntoken_env = \"CI_JOB_TOKEN\"\n",
    );
    let vars = HashMap::from([("CI_JOB_TOKEN", "job-token-1")]);
    let got = helper(
        dir.path(),
        Command::Get,
        "protocol=https\nhost=gitlab.example\n",
        &vars,
    );
    assert_eq!(
        got.stdout,
        "username=gitlab-ci-token\npassword=job-token-1\n"
    );
    // git stores what worked: the env token must not land in the file store.
    let store =
        "protocol=https\nhost=gitlab.example\nusername=gitlab-ci-token\npassword=job-token-1\n";
    assert_eq!(helper(dir.path(), Command::Store, store, &vars).error, None);
    assert!(!dir.path().join("store/credentials").exists());
    // An empty variable means "try the next source", which has nothing either.
    let empty = HashMap::from([("CI_JOB_TOKEN", "")]);
    assert_eq!(
        helper(
            dir.path(),
            Command::Get,
            "protocol=https\nhost=gitlab.example\n",
            &empty
        )
        .stdout,
        ""
    );
}

#[test]
fn unmanaged_hosts_get_nothing_and_no_error() {
    let dir = setup(FILE_RULE);
    let none = HashMap::new();
    for req in [
        "protocol=https\nhost=other.example\n",
        "protocol=http\nhost=git.example\n",
        "protocol=https\nhost=git.example:8443\n",
        "protocol=smtp\nhost=git.example\n",
        "protocol=https\nhost=git.example.evil.com\n",
    ] {
        let out = helper(
            dir.path(),
            Command::Store,
            &format!("{req}username=u\npassword=p\n"),
            &none,
        );
        assert_eq!(out.error, None, "{req}");
        let out = helper(dir.path(), Command::Get, req, &none);
        assert_eq!((out.stdout.as_str(), out.error), ("", None), "{req}");
    }
    assert!(
        !dir.path().join("store/credentials").exists(),
        "nothing was stored for unmanaged hosts"
    );
}

#[test]
fn bad_requests_and_broken_configs_fail_with_one_line_and_no_output() {
    let dir = setup(FILE_RULE);
    let none = HashMap::new();
    for req in [
        "host=git.example\n",
        "protocol=https\n",
        "protocol=https\nhost=git.example\nusername=a\rb\n",
        "junk\n",
    ] {
        let out = helper(dir.path(), Command::Get, req, &none);
        let e = out.error.expect(req);
        assert!(out.stdout.is_empty() && !e.contains('\n'), "{req}: {e}");
    }
    std::fs::write(
        dir.path().join("config.toml"),
        "[[rule]]\nurl = \"https://git.example\"\n",
    )
    .unwrap();
    let out = helper(
        dir.path(),
        Command::Get,
        "protocol=https\nhost=git.example\n",
        &none,
    );
    let e = out.error.unwrap();
    assert!(
        e.contains("config.toml:1:1") && !e.contains('\n') && out.stdout.is_empty(),
        "{e}"
    );
}
