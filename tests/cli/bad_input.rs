//! What gocred does with input it must refuse: malformed requests, broken configs, unsafe or
//! unreadable stores. Each refusal is one line on stderr, nothing on stdout, a non-zero exit,
//! and nothing stored is lost.

use crate::common::{Output, TestEnv, set_mode};

const RULE: &str =
    "[[rule]]\nurl = \"https://git.corp.example\"\nsources = [\"file\"]\nstore = \"file\"\n";
const GOOD: &str = "protocol=https\nhost=git.corp.example\n\n";

fn get(env: &TestEnv, request: impl AsRef<[u8]>) -> Output {
    env.gocred(&["get"]).stdin(request).run()
}

/// Exit 1, empty stdout, exactly one `gocred: ...` line on stderr containing `needle`.
#[track_caller]
fn assert_refused(out: &Output, needle: &str) {
    out.assert_code(1);
    assert_eq!(out.stdout, "", "{out}");
    let lines = out.stderr_lines();
    assert_eq!(lines.len(), 1, "expected one line: {out}");
    assert!(lines[0].starts_with("gocred: "), "{out}");
    assert!(lines[0].contains(needle), "expected {needle:?}: {out}");
}

/// A store holding alice's credential for git.corp.example, written through gocred itself.
fn env_with_stored_credential() -> TestEnv {
    let env = TestEnv::new();
    env.policy(RULE);
    env.gocred(&["store"])
        .stdin("protocol=https\nhost=git.corp.example\nusername=alice\npassword=s3cret\n\n")
        .success();
    let out = get(&env, GOOD);
    out.assert_success();
    assert_eq!(out.stdout, "username=alice\npassword=s3cret\n");
    env
}

#[test]
fn malformed_protocol_lines_are_refused() {
    let env = env_with_stored_credential();
    for (request, needle) in [
        (
            &b"protocol=https\nhost=git.corp.example\njust-words\n"[..],
            "line 3 is not of the form key=value",
        ),
        (
            b"protocol=https\nhost=git.corp.example\n\xff\xfe=1\n",
            "line 3 is not valid UTF-8",
        ),
        (
            b"protocol=https\nhost=git.corp.example\nephemeral=maybe\n",
            "'ephemeral' is not a boolean",
        ),
        (
            b"protocol=https\nhost=git.corp.example\npassword_expiry_utc=soon\n",
            "not a Unix timestamp",
        ),
        (
            b"protocol=https\nhost=git.corp.example\nurl=git.corp.example/x\n",
            "url attribute is not valid",
        ),
    ] {
        assert_refused(&get(&env, request), needle);
    }
}

#[test]
fn cr_lf_and_nul_in_values_are_refused_never_passed_on() {
    let env = env_with_stored_credential();
    for (request, needle) in [
        (
            &b"protocol=https\nhost=git.corp.example\r\n"[..],
            "'host' contains a carriage return",
        ),
        (
            b"protocol=https\nhost=git.corp.example\nusername=al\rice\n",
            "'username' contains a carriage return",
        ),
        (
            b"protocol=https\nhost=git.corp.ex\0ample\n",
            "'host' contains a NUL byte",
        ),
        (
            b"protocol=https\nhost=git.corp.example\npath=a\0b\n",
            "'path' contains a NUL byte",
        ),
        // LF cannot sit in a value on the wire, but it can hide percent-encoded in url=.
        (
            b"url=https://git.corp.example/x%0ahost=evil.example\n",
            "path contains a line feed",
        ),
        (
            b"url=https://git.corp.example%0d/\n",
            "host contains a carriage return",
        ),
        (
            b"url=https://al%00ice@git.corp.example/\n",
            "username contains a NUL byte",
        ),
    ] {
        assert_refused(&get(&env, request), needle);
    }
}

#[test]
fn an_over_long_line_or_request_is_refused() {
    let env = env_with_stored_credential();
    let long = format!(
        "protocol=https\nhost=git.corp.example\npath={}\n",
        "a".repeat(70_000)
    );
    assert_refused(&get(&env, long), "line 3 is longer than 65536 bytes");
    // Many lines, each fine, still too much in total.
    let mut big = String::from("protocol=https\nhost=git.corp.example\n");
    for _ in 0..40 {
        big += &format!("wwwauth[]=Basic realm=\"{}\"\n", "r".repeat(30_000));
    }
    assert_refused(&get(&env, big), "larger than 1048576 bytes");
}

#[test]
fn url_conflicting_with_explicit_attributes_is_refused() {
    let env = env_with_stored_credential();
    for (request, key) in [
        (
            "protocol=https\nhost=git.corp.example\nurl=https://evil.example/\n",
            "'host'",
        ),
        (
            "protocol=http\nhost=git.corp.example\nurl=https://git.corp.example/\n",
            "'protocol'",
        ),
        (
            "protocol=https\nhost=git.corp.example\nusername=bob\nurl=https://alice@git.corp.example/\n",
            "'username'",
        ),
    ] {
        assert_refused(
            &get(&env, request),
            &format!("disagrees with the explicit {key}"),
        );
    }
    // Agreeing (modulo case) is fine, and url alone is expanded (its path too: a request with
    // a path takes only an entry stored for that path, as git's helpers match).
    let out = get(
        &env,
        "host=GIT.corp.example\nurl=https://git.corp.example/group/x\n",
    );
    assert_eq!(out.stdout, "", "{out}");
    let out = get(
        &env,
        "host=GIT.corp.example\nurl=https://git.corp.example\n",
    );
    assert_eq!(out.stdout, "username=alice\npassword=s3cret\n", "{out}");
    let out = get(&env, "url=https://git.corp.example\n");
    assert_eq!(out.stdout, "username=alice\npassword=s3cret\n", "{out}");
}

#[test]
fn missing_protocol_or_host_is_refused() {
    let env = env_with_stored_credential();
    assert_refused(
        &get(&env, "host=git.corp.example\n"),
        "no 'protocol' attribute",
    );
    assert_refused(&get(&env, "protocol=https\n"), "no 'host' attribute");
    assert_refused(
        &get(&env, "protocol=\nhost=git.corp.example\n"),
        "no 'protocol' attribute",
    );
    assert_refused(&get(&env, "protocol=HTTPS\nhost=\n"), "no 'host' attribute");
    assert_refused(&get(&env, "protocol=https\nhost=\n"), "no 'host' attribute");
    assert_refused(&get(&env, ""), "no 'protocol' attribute");
    // store and erase refuse the same way and leave the store alone.
    let before = env.file_store().unwrap();
    for action in ["store", "erase"] {
        let out = env
            .gocred(&[action])
            .stdin("protocol=https\nusername=alice\npassword=x\n")
            .run();
        assert_refused(&out, "no 'host' attribute");
    }
    assert_eq!(env.file_store().unwrap(), before);
}

#[test]
fn a_broken_config_makes_get_print_one_line_naming_the_file() {
    let env = env_with_stored_credential();
    let path = env.policy("[[rule]\nurl = 3\n");
    let out = get(&env, GOOD);
    assert_refused(&out, &format!("{}:1:", path.display()));
    assert!(
        out.stderr.contains("gocred config check"),
        "names the next step: {out}"
    );

    // Several problems: still one line, naming the first and counting the rest.
    env.policy(
        "[[rule]]\nurl = \"ftp://git.corp.example\"\nsources = [\"nope\"]\n\n\
         [[rule]]\nurl = \"http://git.corp.example\"\nsources = [\"file\"]\n",
    );
    let out = get(&env, GOOD);
    assert_refused(
        &out,
        &format!("{}:2:7: bad url \"ftp://git.corp.example\"", path.display()),
    );
    assert!(out.stderr.contains("(and 2 more problems)"), "{out}");

    // A config that cannot be read at all (a directory): one line, naming it.
    std::fs::remove_file(&path).unwrap();
    std::fs::create_dir(&path).unwrap();
    assert_refused(
        &get(&env, GOOD),
        &format!(
            "refusing the gocred config {}: it is a directory, not a regular file",
            path.display()
        ),
    );
}

#[test]
fn a_world_readable_file_store_is_refused_with_the_chmod_fix_and_nothing_is_lost() {
    let env = env_with_stored_credential();
    let store = env.file_store_path();
    let before = env.file_store().unwrap();
    for mode in [0o644, 0o640, 0o606, 0o620] {
        set_mode(&store, mode);
        let fix = format!("run `chmod 600 {}`", store.display());
        assert_refused(&get(&env, GOOD), &fix);
        let out = env
            .gocred(&["store"])
            .stdin("protocol=https\nhost=git.corp.example\nusername=bob\npassword=b\n")
            .run();
        assert_refused(&out, &fix);
        let out = env
            .gocred(&["erase"])
            .stdin("protocol=https\nhost=git.corp.example\nusername=alice\n")
            .run();
        assert_refused(&out, &fix);
        assert_eq!(env.file_store().unwrap(), before, "mode {mode:o}");
        assert_eq!(
            env.file_store_mode(),
            mode,
            "gocred must not chmod behind the user's back"
        );
    }
    // `status` shows the problem but still works.
    let out = env.gocred(&["status"]).success();
    assert!(out.stdout.contains("chmod 600"), "{out}");

    // The fix works.
    set_mode(&store, 0o600);
    assert_eq!(get(&env, GOOD).stdout, "username=alice\npassword=s3cret\n");
}

#[test]
fn an_unreadable_or_corrupt_file_store_is_refused_and_kept() {
    let env = env_with_stored_credential();
    let store = env.file_store_path();
    let before = env.file_store().unwrap();

    // Not UTF-8 / malformed: named, with the fix, never overwritten.
    std::fs::write(&store, "scope=https://git.corp.example\nusername=alice\n").unwrap();
    assert_refused(
        &get(&env, GOOD),
        "entry 1 is malformed: no password; fix or remove the file",
    );
    let out = env
        .gocred(&["store"])
        .stdin("protocol=https\nhost=git.corp.example\nusername=bob\npassword=b\n")
        .run();
    assert_refused(&out, "malformed");
    assert_eq!(
        std::fs::read_to_string(&store).unwrap(),
        "scope=https://git.corp.example\nusername=alice\n"
    );

    // Unreadable: a directory where the file should be (root reads any file, so this is the
    // portable way to make a read fail) ...
    std::fs::remove_file(&store).unwrap();
    std::fs::create_dir(&store).unwrap();
    assert_refused(&get(&env, GOOD), &format!("file store {}", store.display()));
    std::fs::remove_dir(&store).unwrap();

    // ... and mode 000 when we are not root.
    std::fs::write(&store, &before).unwrap();
    set_mode(&store, 0o000);
    if std::fs::read(&store).is_err() {
        assert_refused(&get(&env, GOOD), "Permission denied");
        set_mode(&store, 0o600);
        assert_eq!(std::fs::read_to_string(&store).unwrap(), before);
    }
}

#[test]
fn unknown_helper_actions_are_ignored_and_bad_command_lines_are_usage_errors() {
    let env = env_with_stored_credential();
    // git may add actions; a helper must ignore them silently.
    let out = env.helper(&["frobnicate"]).stdin(GOOD).run();
    out.assert_success();
    assert_eq!((out.stdout.as_str(), out.stderr.as_str()), ("", ""));
    // Under its own name, gocred is strict.
    let out = env.gocred(&["frobnicate"]).run();
    out.assert_code(2);
    assert_eq!(out.stdout, "");
    let out = env.gocred(&["get", "extra"]).stdin(GOOD).run();
    out.assert_code(2);
    assert_eq!(out.stdout, "");
    // As a helper, the real actions work.
    let out = env.helper(&["get"]).stdin(GOOD).run();
    assert_eq!(out.stdout, "username=alice\npassword=s3cret\n", "{out}");
}

#[test]
fn requests_no_rule_can_match_get_no_answer_and_no_complaint() {
    // No config at all (a fresh machine: no GOCRED_CONFIG, nothing at the default place):
    // every host is denied, get answers nothing and succeeds.
    let env = TestEnv::new();
    let out = env
        .gocred(&["get"])
        .env_remove("GOCRED_CONFIG")
        .stdin(GOOD)
        .run();
    out.assert_success();
    assert_eq!((out.stdout.as_str(), out.stderr.as_str()), ("", ""));
    // Unmanageable targets (not http/https, odd hosts) are simply not managed.
    env.policy(RULE);
    for request in [
        "protocol=smtp\nhost=git.corp.example\n",
        "protocol=https\nhost=git.corp.example:99999\n",
        "protocol=https\nhost=user@git.corp.example\n",
        "protocol=https\nhost=git.corp.example.evil.com\n",
    ] {
        let out = get(&env, request);
        out.assert_success();
        assert_eq!(
            (out.stdout.as_str(), out.stderr.as_str()),
            ("", ""),
            "{request}"
        );
    }
}

#[test]
fn an_env_token_holding_a_line_break_is_refused_not_injected() {
    let env = TestEnv::new();
    env.policy(
        "[[rule]]\nurl = \"https://ci.corp.example\"\nsources = [\"env\"]\n\
         username = \"gitlab-ci-token\"\ntoken_env = \"CI_JOB_TOKEN\"\n",
    );
    // (A NUL cannot be put in an environment variable at all.)
    for token in ["tok\nusername=evil", "tok\r"] {
        let out = env
            .gocred(&["get"])
            .env("CI_JOB_TOKEN", token)
            .stdin("protocol=https\nhost=ci.corp.example\n")
            .run();
        assert_refused(
            &out,
            "the variable CI_JOB_TOKEN holds a line break or NUL byte",
        );
    }
}
