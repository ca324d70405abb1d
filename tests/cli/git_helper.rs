//! Real `git credential fill/approve/reject` with gocred as the configured helper, named by
//! absolute path and by the bare word `gocred`, over the file store.

use crate::common::{TestEnv, value_of};

const MIRROR: &str = "https://a.mirror.example";

/// A policy with one file-store rule for `url`.
fn file_rule(url: &str) -> String {
    format!("[[rule]]\nurl = \"{url}\"\nsources = [\"file\"]\nstore = \"file\"\n")
}

/// git's answer when no helper had anything and prompting is off.
#[track_caller]
fn assert_nothing_filled(out: &crate::common::Output) {
    assert_eq!(
        out.code(),
        Some(128),
        "git should have found nothing: {out}"
    );
    assert!(out.stdout.is_empty(), "{out}");
    assert!(out.stderr.contains("terminal prompts disabled"), "{out}");
}

#[test]
fn approve_then_fill_through_the_helper_named_by_absolute_path() {
    let env = TestEnv::new();
    env.policy(&file_rule(MIRROR));
    env.use_gocred_by_path();

    env.credential_approve(&format!("{MIRROR}/group/repo.git"), "alice", "s3cret")
        .assert_success();
    let stored = env
        .file_store()
        .expect("git's approve reached gocred's file store");
    assert!(
        stored.contains("scope=https://a.mirror.example\n"),
        "{stored}"
    );
    assert!(
        stored.contains("username=alice\npassword=s3cret\n"),
        "{stored}"
    );
    assert_eq!(env.file_store_mode(), 0o600);

    let out = env.credential_fill(&format!("{MIRROR}/other/repo.git"));
    out.assert_success();
    assert_eq!(value_of(&out.stdout, "protocol"), Some("https"));
    assert_eq!(value_of(&out.stdout, "host"), Some("a.mirror.example"));
    assert_eq!(value_of(&out.stdout, "username"), Some("alice"));
    assert_eq!(value_of(&out.stdout, "password"), Some("s3cret"));
}

#[test]
fn bare_word_gocred_finds_git_credential_gocred_on_path() {
    let mut env = TestEnv::new();
    env.policy(&file_rule(MIRROR));
    let bin = env.put_helper_on_path();
    env.git_config("credential.helper", "gocred");

    env.credential_approve(MIRROR, "alice", "s3cret")
        .assert_success();
    assert!(env.file_store().unwrap().contains("password=s3cret"));
    let out = env.credential_fill(MIRROR);
    out.assert_success();
    assert_eq!(value_of(&out.stdout, "password"), Some("s3cret"));

    // Without the directory on PATH, git cannot find the helper and has nothing.
    std::fs::remove_file(bin.join("git-credential-gocred")).unwrap();
    let out = env.credential_fill(MIRROR);
    assert_nothing_filled(&out);
}

#[test]
fn reject_erases_what_approve_stored() {
    let mut env = TestEnv::new();
    env.policy(&file_rule(MIRROR));
    env.put_helper_on_path();
    env.git_config("credential.helper", "gocred");
    env.credential_approve(MIRROR, "alice", "old")
        .assert_success();
    env.credential_approve(MIRROR, "bob", "bobs")
        .assert_success();

    // A reject for a password that is not the stored one erases nothing.
    env.credential_reject(MIRROR, "alice", "something-else")
        .assert_success();
    assert!(env.file_store().unwrap().contains("password=old"));

    env.credential_reject(MIRROR, "alice", "old")
        .assert_success();
    let stored = env.file_store().unwrap();
    assert!(!stored.contains("alice"), "{stored}");
    assert!(
        stored.contains("username=bob"),
        "bob's entry stays: {stored}"
    );
    assert_eq!(env.file_store_mode(), 0o600);

    let out = env
        .git(&["credential", "fill"])
        .stdin("url=https://alice@a.mirror.example\n\n")
        .run();
    assert_nothing_filled(&out);
}

#[test]
fn approve_replaces_the_password_of_the_same_user() {
    let env = TestEnv::new();
    env.policy(&file_rule(MIRROR));
    env.use_gocred_by_path();
    env.credential_approve(MIRROR, "alice", "one")
        .assert_success();
    env.credential_approve(MIRROR, "alice", "two")
        .assert_success();
    let stored = env.file_store().unwrap();
    assert_eq!(stored.matches("username=alice").count(), 1, "{stored}");
    assert!(stored.contains("password=two") && !stored.contains("password=one"));
    let out = env.credential_fill(MIRROR);
    assert_eq!(value_of(&out.stdout, "password"), Some("two"), "{out}");
}

#[test]
fn host_not_in_policy_gets_no_answer_and_git_asks_the_next_helper() {
    let env = TestEnv::new();
    env.policy(&file_rule(MIRROR));
    env.use_gocred_by_path();
    let next = env.script(
        "next-helper",
        r#"[ "$1" = get ] && printf 'username=from-next\npassword=next-helper\n'; exit 0"#,
    );
    env.git_config("credential.helper", next.to_str().unwrap());

    // gocred alone: nothing on stdout, exit 0, nothing on stderr.
    let direct = env
        .gocred(&["get"])
        .stdin("protocol=https\nhost=elsewhere.example\n\n")
        .run();
    direct.assert_success();
    assert_eq!((direct.stdout.as_str(), direct.stderr.as_str()), ("", ""));

    let out = env.credential_fill("https://elsewhere.example/repo.git");
    out.assert_success();
    assert_eq!(value_of(&out.stdout, "username"), Some("from-next"));
    assert_eq!(value_of(&out.stdout, "password"), Some("next-helper"));

    // ... and an approve for that host stores nothing in gocred's store.
    env.credential_approve("https://elsewhere.example", "x", "y")
        .assert_success();
    assert_eq!(env.file_store(), None);

    // For the managed host, gocred answers first and git stops there.
    env.credential_approve(MIRROR, "alice", "s3cret")
        .assert_success();
    let out = env.credential_fill(MIRROR);
    assert_eq!(value_of(&out.stdout, "username"), Some("alice"), "{out}");
}

#[test]
fn managed_host_without_a_stored_credential_falls_through_too() {
    let env = TestEnv::new();
    env.policy(&file_rule(MIRROR));
    env.use_gocred_by_path();
    let next = env.script(
        "next-helper",
        r#"[ "$1" = get ] && printf 'username=from-next\npassword=next-helper\n'; exit 0"#,
    );
    env.git_config("credential.helper", next.to_str().unwrap());
    let out = env.credential_fill(MIRROR);
    out.assert_success();
    assert_eq!(
        value_of(&out.stdout, "username"),
        Some("from-next"),
        "{out}"
    );
}

#[test]
fn stored_for_one_origin_is_never_served_to_another() {
    let env = TestEnv::new();
    env.policy(&format!(
        "{}\n{}",
        file_rule(MIRROR),
        file_rule("https://*.mirror.example")
    ));
    env.use_gocred_by_path();
    env.credential_approve(MIRROR, "alice", "s3cret")
        .assert_success();
    assert_eq!(
        value_of(&env.credential_fill(MIRROR).stdout, "password"),
        Some("s3cret")
    );
    // Same host in another case and with the default port spelled out: same origin.
    assert_eq!(
        value_of(
            &env.credential_fill("https://A.Mirror.Example:443/x").stdout,
            "password"
        ),
        Some("s3cret")
    );
    for other in [
        "https://b.mirror.example", // another host, even under the wildcard rule
        "https://a.mirror.example:8443", // another port
        "http://a.mirror.example",  // another scheme
        "https://a.mirror.example.evil.com", // a lookalike
        "https://mirror.example",
    ] {
        assert_nothing_filled(&env.credential_fill(other));
    }
}

#[test]
fn path_scoped_rules_need_use_http_path_and_keep_paths_apart() {
    let env = TestEnv::new();
    env.policy(&file_rule("https://git.corp.example/team-a/"));
    env.use_gocred_by_path();
    env.git_config("credential.useHttpPath", "true");

    let one = "https://git.corp.example/team-a/one.git";
    env.credential_approve(one, "alice", "a1").assert_success();
    let stored = env.file_store().unwrap();
    assert!(
        stored.contains("scope=https://git.corp.example/team-a/one.git\n"),
        "{stored}"
    );
    assert_eq!(
        value_of(&env.credential_fill(one).stdout, "password"),
        Some("a1")
    );
    // Another repository under the prefix has its own scope; outside the prefix, nothing.
    for other in [
        "https://git.corp.example/team-a/two.git",
        "https://git.corp.example/team-b/one.git",
        "https://git.corp.example/team-a-lookalike/one.git",
        "https://git.corp.example/team-a/../team-b/x.git",
    ] {
        assert_nothing_filled(&env.credential_fill(other));
    }
    // An approve outside the prefix is not stored.
    env.credential_approve("https://git.corp.example/team-b/x.git", "eve", "e")
        .assert_success();
    assert!(!env.file_store().unwrap().contains("eve"));

    // Without useHttpPath git sends no path, so a path-scoped rule never matches.
    let env2 = TestEnv::new();
    env2.policy(&file_rule("https://git.corp.example/team-a/"));
    env2.use_gocred_by_path();
    env2.credential_approve(one, "alice", "a1").assert_success();
    assert_eq!(env2.file_store(), None);
}

#[test]
fn git_2_41_expiry_is_kept_and_expired_credentials_are_not_served() {
    let env = TestEnv::new();
    env.policy(&file_rule(MIRROR));
    env.use_gocred_by_path();
    let future = 4_102_444_800u64; // 2100-01-01
    env.git(&["credential", "approve"])
        .stdin(format!(
            "url={MIRROR}\nusername=alice\npassword=fresh\npassword_expiry_utc={future}\n\n"
        ))
        .success();
    let out = env.credential_fill(MIRROR);
    assert_eq!(value_of(&out.stdout, "password"), Some("fresh"), "{out}");
    assert_eq!(
        value_of(&out.stdout, "password_expiry_utc"),
        Some(future.to_string().as_str())
    );
    // An already expired credential is not stored (git itself already skips it; gocred's own
    // refusal is in tests/golden/store_ignores_already_expired).
    env.git(&["credential", "approve"])
        .stdin(format!(
            "url={MIRROR}\nusername=bob\npassword=stale\npassword_expiry_utc=1000\n\n"
        ))
        .success();
    assert!(!env.file_store().unwrap().contains("stale"));
}

#[test]
fn debian_git_2_39_drives_gocred_the_same_way() {
    let mut env = TestEnv::new();
    env.policy(&file_rule(MIRROR));
    env.put_helper_on_path();
    let old_git = |args: &[&str]| {
        env.command("/usr/bin/git")
            .env("GIT_TERMINAL_PROMPT", "0")
            .args(args)
    };
    let version = old_git(&["--version"]).success();
    assert!(version.stdout.starts_with("git version 2."), "{version}");
    old_git(&["config", "--global", "credential.helper", "gocred"]).success();
    old_git(&["credential", "approve"])
        .stdin(format!("url={MIRROR}\nusername=alice\npassword=s3cret\n\n"))
        .success();
    assert!(env.file_store().unwrap().contains("password=s3cret"));
    let out = old_git(&["credential", "fill"])
        .stdin(format!("url={MIRROR}/g/r.git\n\n"))
        .success();
    assert_eq!(value_of(&out.stdout, "password"), Some("s3cret"), "{out}");
    old_git(&["credential", "reject"])
        .stdin(format!("url={MIRROR}\nusername=alice\npassword=s3cret\n\n"))
        .success();
    assert!(!env.file_store().unwrap().contains("alice"));
}

/// git asks the helpers for a client certificate's password with `protocol=cert`, an empty
/// `host` and the certificate's path. No rule can ever match that: gocred must stay silent
/// and let the next helper answer, not print an error on every fetch.
#[test]
fn cert_password_request_from_git_is_not_managed() {
    let env = TestEnv::new();
    env.policy(&file_rule(MIRROR));
    env.use_gocred_by_path();
    let next = env.script(
        "next-helper",
        r#"[ "$1" = get ] && printf 'password=cert-pass\n'; exit 0"#,
    );
    env.git_config("credential.helper", next.to_str().unwrap());

    // What git 2.47 really sends (seen with http.sslCertPasswordProtected).
    let request = "protocol=cert\nhost=\npath=/home/u/client.pem\nusername=\n\n";
    for action in ["get", "store", "erase"] {
        let out = env.gocred(&[action]).stdin(request).run();
        out.assert_success();
        assert_eq!(
            (out.stdout.as_str(), out.stderr.as_str()),
            ("", ""),
            "{out}"
        );
    }

    // Through real git: the certificate password comes from the next helper, gocred says nothing.
    let cert = env.write_file("client.pem", "not really a certificate\n");
    let out = env
        .git(&[
            "-c",
            &format!("http.sslCert={}", cert.display()),
            "-c",
            "http.sslCertPasswordProtected=true",
            "ls-remote",
            "https://127.0.0.1:1/repo.git",
        ])
        .run();
    out.assert_failure(); // nothing listens on port 1
    assert!(!out.stderr.contains("gocred"), "gocred complained: {out}");
    assert!(
        !out.stderr.contains("could not read Password for 'cert:"),
        "the next helper was not asked: {out}"
    );
}
