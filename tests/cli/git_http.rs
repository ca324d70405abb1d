//! Real `git clone` and `git push` over the loopback smart-HTTP server, with gocred as the only
//! credential helper and the file store or the env source behind it.

use crate::common::git_server::GitServer;
use crate::common::{Output, TestEnv};
use std::path::PathBuf;

/// A file-store rule for the server's origin (plain HTTP on loopback needs `allow_http`).
fn file_rule(origin: &str) -> String {
    format!(
        "[[rule]]\nurl = \"{origin}\"\nsources = [\"file\"]\nstore = \"file\"\nallow_http = true\n"
    )
}

/// An askpass script answering the user name and password prompts, logging each prompt.
fn askpass(env: &TestEnv, user: &str, password: &str) -> PathBuf {
    let log = env.root().join("askpass.log");
    env.script(
        "askpass",
        &format!(
            "echo \"$1\" >> '{}'\ncase \"$1\" in\n  Username*) echo '{user}' ;;\n  *) echo '{password}' ;;\nesac",
            log.display()
        ),
    )
}

/// An askpass script that fails the test's expectations if git ever needs it.
fn no_askpass(env: &TestEnv) -> PathBuf {
    let log = env.root().join("askpass-unwanted.log");
    env.script(
        "no-askpass",
        &format!("echo \"$1\" >> '{}'\nexit 1", log.display()),
    )
}

fn prompts(env: &TestEnv) -> String {
    std::fs::read_to_string(env.root().join("askpass.log")).unwrap_or_default()
}

fn unwanted_prompts(env: &TestEnv) -> String {
    std::fs::read_to_string(env.root().join("askpass-unwanted.log")).unwrap_or_default()
}

fn clone(env: &TestEnv, url: &str, dir: &str, askpass: &PathBuf) -> Output {
    env.git(&["clone", "-q", url, dir])
        .env("GIT_ASKPASS", askpass)
        .env("GIT_TERMINAL_PROMPT", "0")
        .run()
}

#[test]
fn first_clone_stores_through_gocred_second_needs_no_prompt_push_works_and_a_changed_password_is_erased()
 {
    let env = TestEnv::new();
    let server = GitServer::start(&env);
    server.set_user("alice", "first-pass");
    server.create_repo(&env, "group/repo.git");
    env.policy(&file_rule(&server.origin()));
    env.use_gocred_by_path();
    let url = server.url("127.0.0.1", "group/repo.git");

    // 1. Nothing stored: git asks askpass, the clone works, and git's `store` lands in the file.
    let out = clone(&env, &url, "one", &askpass(&env, "alice", "first-pass"));
    out.assert_success();
    assert!(prompts(&env).contains("Username for"), "{}", prompts(&env));
    let first = server.log();
    assert_eq!(first[0].status, 401, "{first:?}");
    assert_eq!(first[0].authorization, None);
    assert!(env.root().join("one/README").exists());
    let stored = env.file_store().expect("the credential was stored");
    assert!(
        stored.contains(&format!("scope={}\n", server.origin())),
        "{stored}"
    );
    assert!(
        stored.contains("username=alice\npassword=first-pass\n"),
        "{stored}"
    );
    assert_eq!(env.file_store_mode(), 0o600);

    // 2. A second clone: gocred answers, no prompt at all, the right Basic header on the wire.
    server.clear_log();
    let out = clone(&env, &url, "two", &no_askpass(&env));
    out.assert_success();
    assert_eq!(
        unwanted_prompts(&env),
        "",
        "git prompted although gocred had it"
    );
    let seen = server.credentials_seen();
    assert!(!seen.is_empty());
    assert!(
        seen.iter()
            .all(|c| *c == ("alice".into(), "first-pass".into())),
        "{seen:?}"
    );

    // 3. A push with the stored credential.
    let work = env.root().join("two");
    std::fs::write(work.join("NEW"), "pushed\n").unwrap();
    env.git(&["add", "NEW"]).current_dir(&work).success();
    env.git(&["commit", "-q", "-m", "second"])
        .current_dir(&work)
        .success();
    env.git(&["push", "-q", "origin", "main"])
        .current_dir(&work)
        .env("GIT_ASKPASS", no_askpass(&env))
        .success();
    assert_eq!(unwanted_prompts(&env), "");
    let log = server.log();
    assert!(
        log.iter()
            .any(|r| r.target.ends_with("/git-receive-pack") && r.status == 200),
        "{log:?}"
    );
    let pushed = env
        .git(&["log", "--format=%s", "main"])
        .env("GIT_DIR", server.root().join("group/repo.git"))
        .success();
    assert_eq!(pushed.stdout, "second\nfirst\n");

    // 4. The server's password changes: the stored one gets a 401, and git's `erase` removes it.
    server.set_user("alice", "second-pass");
    server.clear_log();
    let out = clone(&env, &url, "three", &no_askpass(&env));
    out.assert_failure();
    assert!(out.stderr.contains("Authentication failed"), "{out}");
    assert!(
        server
            .log()
            .iter()
            .any(|r| r.status == 401 && r.basic() == Some(("alice".into(), "first-pass".into())))
    );
    let stored = env.file_store().unwrap();
    assert!(
        !stored.contains("first-pass"),
        "rejected password kept: {stored}"
    );
    assert_eq!(env.file_store_mode(), 0o600);

    // 5. The next clone prompts again and stores the new password.
    let out = clone(&env, &url, "four", &askpass(&env, "alice", "second-pass"));
    out.assert_success();
    assert!(env.file_store().unwrap().contains("password=second-pass\n"));
}

#[test]
fn ci_job_token_from_env_serves_a_clone_and_is_never_stored() {
    let mut env = TestEnv::new();
    let server = GitServer::start(&env);
    server.set_user("gitlab-ci-token", "job-token-123");
    server.create_repo(&env, "group/mod.git");
    env.policy(&format!(
        "[[rule]]\nurl = \"{}\"\nsources = [\"env\", \"file\"]\nstore = \"file\"\n\
         username = \"gitlab-ci-token\"\ntoken_env = \"CI_JOB_TOKEN\"\nallow_http = true\n",
        server.origin()
    ));
    env.use_gocred_by_path();
    env.set_env("CI_JOB_TOKEN", "job-token-123");

    let out = clone(
        &env,
        &server.url("127.0.0.1", "group/mod.git"),
        "mod",
        &no_askpass(&env),
    );
    out.assert_success();
    assert_eq!(unwanted_prompts(&env), "");
    assert!(
        server
            .credentials_seen()
            .contains(&("gitlab-ci-token".into(), "job-token-123".into()))
    );
    // git asked gocred to `store` it after the success; the env token is never written anywhere.
    assert_eq!(env.file_store(), None, "the job token must not be stored");
    let everything = walk(env.root());
    for file in everything {
        if let Ok(text) = std::fs::read_to_string(&file) {
            assert!(
                !text.contains("job-token-123"),
                "token written to {}",
                file.display()
            );
        }
    }

    // Without the variable the env source has nothing and (with no prompt) the clone fails.
    let env2 = {
        let mut e = TestEnv::new();
        e.policy(&std::fs::read_to_string(env.policy_path()).unwrap());
        e.use_gocred_by_path();
        e.set_env("CI_JOB_TOKEN", "");
        e
    };
    let out = clone(
        &env2,
        &server.url("127.0.0.1", "group/mod.git"),
        "mod",
        &no_askpass(&env2),
    );
    out.assert_failure();
    assert!(
        server
            .credentials_seen()
            .iter()
            .all(|(_, p)| p == "job-token-123")
    );
}

fn walk(dir: PathBuf) -> Vec<PathBuf> {
    let mut out = Vec::new();
    let mut stack = vec![dir];
    while let Some(d) = stack.pop() {
        for entry in std::fs::read_dir(&d).into_iter().flatten().flatten() {
            let path = entry.path();
            match entry.file_type() {
                Ok(t) if t.is_dir() => stack.push(path),
                Ok(t) if t.is_file() => out.push(path),
                _ => {}
            }
        }
    }
    out
}

#[test]
fn a_credential_stored_for_one_origin_is_not_sent_to_another_host_name_or_port() {
    let env = TestEnv::new();
    let server = GitServer::start(&env);
    let other_port = GitServer::start(&env);
    for s in [&server, &other_port] {
        s.set_user("alice", "s3cret");
        s.create_repo(&env, "repo.git");
    }
    // Rules for all three origins, so each is managed: only the stored scope may differ.
    let localhost = format!("http://localhost:{}", server.port());
    env.policy(&format!(
        "{}\n{}\n{}",
        file_rule(&server.origin()),
        file_rule(&localhost),
        file_rule(&other_port.origin())
    ));
    env.use_gocred_by_path();
    clone(
        &env,
        &server.url("127.0.0.1", "repo.git"),
        "first",
        &askpass(&env, "alice", "s3cret"),
    )
    .assert_success();
    assert!(env.file_store().unwrap().contains("password=s3cret"));

    // Same socket, other host name; same host, other port: gocred has nothing, git can't prompt.
    for (url, dir) in [
        (server.url("localhost", "repo.git"), "by-name"),
        (other_port.url("127.0.0.1", "repo.git"), "other-port"),
    ] {
        server.clear_log();
        other_port.clear_log();
        let out = clone(&env, &url, dir, &no_askpass(&env));
        out.assert_failure();
        assert!(
            server.credentials_seen().is_empty() && other_port.credentials_seen().is_empty(),
            "a credential was sent to {url}"
        );
        assert!(
            unwanted_prompts(&env).contains("Username for"),
            "git should have had to ask for {url}"
        );
    }
}

#[test]
fn path_scoped_rule_serves_only_its_repositories_with_use_http_path() {
    let env = TestEnv::new();
    let server = GitServer::start(&env);
    server.set_user("alice", "team-a-pass");
    server.create_repo(&env, "team-a/one.git");
    server.create_repo(&env, "team-b/one.git");
    env.policy(&file_rule(&format!("{}/team-a/", server.origin())));
    env.use_gocred_by_path();
    env.git_config("credential.useHttpPath", "true");

    clone(
        &env,
        &server.url("127.0.0.1", "team-a/one.git"),
        "a1",
        &askpass(&env, "alice", "team-a-pass"),
    )
    .assert_success();
    let stored = env.file_store().unwrap();
    assert!(
        stored.contains(&format!("scope={}/team-a/one.git\n", server.origin())),
        "{stored}"
    );
    // The same repository again: served, no prompt.
    clone(
        &env,
        &server.url("127.0.0.1", "team-a/one.git"),
        "a1-again",
        &no_askpass(&env),
    )
    .assert_success();
    assert_eq!(unwanted_prompts(&env), "");

    // team-b has no rule: gocred gives nothing, and what git approves there is not stored.
    server.clear_log();
    clone(
        &env,
        &server.url("127.0.0.1", "team-b/one.git"),
        "b1",
        &no_askpass(&env),
    )
    .assert_failure();
    assert!(server.credentials_seen().is_empty());
    clone(
        &env,
        &server.url("127.0.0.1", "team-b/one.git"),
        "b1",
        &askpass(&env, "alice", "team-a-pass"),
    )
    .assert_success();
    assert_eq!(
        env.file_store().unwrap(),
        stored,
        "team-b's credential was stored"
    );
}

#[test]
fn unmanaged_server_falls_through_to_the_next_helper_during_a_clone() {
    let env = TestEnv::new();
    let server = GitServer::start(&env);
    server.set_user("bob", "from-store");
    server.create_repo(&env, "repo.git");
    // The policy knows another host only.
    env.policy(&file_rule("http://127.0.0.2:1"));
    env.use_gocred_by_path();
    // git's own credential-store as the next helper, holding bob's password.
    let store_file = env.root().join("git-credentials");
    std::fs::write(
        &store_file,
        format!("http://bob:from-store@127.0.0.1:{}\n", server.port()),
    )
    .unwrap();
    env.git_config(
        "credential.helper",
        &format!("store --file={}", store_file.display()),
    );
    let out = clone(
        &env,
        &server.url("127.0.0.1", "repo.git"),
        "r",
        &no_askpass(&env),
    );
    out.assert_success();
    assert_eq!(unwanted_prompts(&env), "");
    assert_eq!(
        env.file_store(),
        None,
        "gocred stored for an unmanaged host"
    );
}

#[test]
fn the_setup_gocred_status_suggests_works_with_real_git() {
    let mut env = TestEnv::new();
    let server = GitServer::start(&env);
    server.set_user("alice", "s3cret");
    server.create_repo(&env, "repo.git");
    // Another helper configured globally first, as on a real machine: the advice must override it.
    let other = env.script(
        "other-helper",
        "[ \"$1\" = get ] && echo password=wrong; exit 0",
    );
    env.git_config("credential.helper", other.to_str().unwrap());
    env.put_helper_on_path();

    // A fresh machine: no config at the default path, and none named by GOCRED_CONFIG (a named
    // one that does not exist is an error of its own).
    let advice = env
        .gocred(&["status"])
        .env_remove("GOCRED_CONFIG")
        .success()
        .stdout;
    assert!(advice.contains("`gocred setup git`"), "{advice}");
    env.policy(&file_rule(&server.origin()));
    env.gocred(&["setup", "git"]).success();
    let status = env.gocred(&["status"]).success();
    assert!(status.stdout.contains("git asks gocred: yes"), "{status}");
    clone(
        &env,
        &server.url("127.0.0.1", "repo.git"),
        "first",
        &askpass(&env, "alice", "s3cret"),
    )
    .assert_success();
    clone(
        &env,
        &server.url("127.0.0.1", "repo.git"),
        "second",
        &no_askpass(&env),
    )
    .assert_success();
    assert_eq!(unwanted_prompts(&env), "");
    assert!(
        !server
            .log()
            .iter()
            .any(|r| r.basic().is_some_and(|(_, p)| p == "wrong")),
        "the other helper was still asked"
    );
}

#[test]
fn a_large_push_streams_a_chunked_body_with_the_stored_credential() {
    let env = TestEnv::new();
    let server = GitServer::start(&env);
    server.set_user("alice", "s3cret");
    server.create_repo(&env, "big.git");
    env.policy(&file_rule(&server.origin()));
    env.use_gocred_by_path();
    let url = server.url("127.0.0.1", "big.git");
    clone(&env, &url, "work", &askpass(&env, "alice", "s3cret")).assert_success();

    // 3 MiB that zlib cannot shrink below git's 1 MiB http.postBuffer.
    let work = env.root().join("work");
    let mut x: u64 = 0x9E37_79B9_7F4A_7C15;
    let noise: Vec<u8> = (0..3 << 20)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            x as u8
        })
        .collect();
    std::fs::write(work.join("noise.bin"), &noise).unwrap();
    env.git(&["add", "noise.bin"]).current_dir(&work).success();
    env.git(&["commit", "-q", "-m", "big"])
        .current_dir(&work)
        .success();
    server.clear_log();
    env.git(&["push", "-q", "origin", "main"])
        .current_dir(&work)
        .env("GIT_ASKPASS", no_askpass(&env))
        .success();
    assert_eq!(unwanted_prompts(&env), "");
    let log = server.log();
    // git first probes with a tiny POST, then streams the pack chunked.
    let pack = log
        .iter()
        .find(|r| r.target.ends_with("/git-receive-pack") && r.chunked)
        .unwrap_or_else(|| panic!("no chunked receive-pack: {log:?}"));
    assert_eq!(pack.status, 200, "{pack:?}");
    assert!(pack.body_len > 3 << 20, "{pack:?}");
    assert_eq!(pack.basic(), Some(("alice".into(), "s3cret".into())));

    // The server really has it.
    clone(&env, &url, "check", &no_askpass(&env)).assert_success();
    assert_eq!(
        std::fs::read(env.root().join("check/noise.bin")).unwrap(),
        noise
    );
}
