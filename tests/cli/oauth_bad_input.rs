//! OAuth servers misbehaving, through the real binary: a token endpoint that hangs, answers HTML,
//! gives a token with no lifetime, refuses a revoked refresh token, runs its clock ahead of
//! ours (through real git against the fake's own git endpoint), is not there at all, or (the
//! real `oidc-provider`) does not know the client. Each failure is one line on stderr naming
//! the host, stdout stays empty, the exit status is 1, and nothing is half-stored.

use crate::common::oidc::OidcServer;
use crate::common::vendor_fake::{Answer, Refresh, Vendor, VendorFake, assert_one_line_failure};
use crate::common::{Output, TestEnv, value_of};
use std::collections::VecDeque;
use std::time::{Duration, Instant};

fn setup(vendor: Vendor) -> (TestEnv, VendorFake) {
    let mut env = TestEnv::new();
    env.set_env("GOCRED_HTTP_TIMEOUT", "5");
    let fake = VendorFake::start(&env, vendor);
    fake.trust_in_git(&env);
    env.policy(&fake.rule("file", ""));
    (env, fake)
}

fn login(env: &TestEnv, origin: &str) -> Output {
    env.gocred(&["login", origin, "--no-browser"]).run()
}

fn get(env: &TestEnv, port: u16) -> Output {
    env.gocred(&["get"])
        .stdin(format!("protocol=https\nhost=127.0.0.1:{port}\n\n"))
        .run()
}

fn stored(env: &TestEnv, key: &str) -> Option<String> {
    value_of(&env.file_store()?, key).map(str::to_owned)
}

#[track_caller]
fn assert_nothing_stored(env: &TestEnv) {
    assert!(
        !env.file_store().unwrap_or_default().contains("password="),
        "a token was stored"
    );
}

/// A refresh failed for a passing reason while the token is still valid: git gets the token,
/// and stderr holds one note naming `host`, saying each of `says` and that gocred will retry.
#[track_caller]
fn assert_still_valid_token_with_a_note(out: &Output, host: &str, token: &str, says: &[&str]) {
    out.assert_success();
    assert_eq!(value_of(&out.stdout, "password"), Some(token), "{out}");
    assert_eq!(out.stderr_lines().len(), 1, "{out}");
    for s in [host, "gocred: note:", "will retry"].iter().chain(says) {
        assert!(out.stderr.contains(s), "says {s:?}: {out}");
    }
}

#[test]
fn a_hanging_token_endpoint_times_out_quickly_at_login_and_at_refresh_keeping_the_token() {
    let (mut env, fake) = setup(Vendor::GitLab);
    env.set_env("GOCRED_HTTP_TIMEOUT", "1");
    let host = format!("127.0.0.1:{}", fake.port());
    fake.script(|s| s.polls = VecDeque::from([Answer::Hang(Duration::from_secs(6))]));
    let started = Instant::now();
    let out = login(&env, &fake.origin());
    assert!(started.elapsed() < Duration::from_secs(5), "{out}");
    assert_one_line_failure(
        &out,
        &host,
        &[
            "no answer within 1 s",
            "GOCRED_HTTP_TIMEOUT=SECONDS waits longer",
        ],
    );
    assert_nothing_stored(&env);

    fake.script(|s| s.polls = VecDeque::from([Answer::Approve]));
    login(&env, &fake.origin()).assert_success();
    let token = stored(&env, "password").unwrap();
    fake.script(|s| s.refresh = Refresh::Hang(Duration::from_secs(6)));
    env.set_env("GOCRED_OAUTH_REFRESH_MARGIN", "100000");
    let started = Instant::now();
    let out = get(&env, fake.port());
    assert!(started.elapsed() < Duration::from_secs(5), "{out}");
    // The token is still valid (only within the margin): git gets it, with a note.
    assert_still_valid_token_with_a_note(
        &out,
        &host,
        &token,
        &[
            "cannot refresh",
            "no answer within 1 s",
            "GOCRED_HTTP_TIMEOUT",
        ],
    );
    // An outage is not a refusal: the token and its refresh token stay for the next try.
    assert_eq!(stored(&env, "password"), Some(token));
    assert!(stored(&env, "oauth_refresh_token").is_some());
}

#[test]
fn html_instead_of_an_oauth_answer_is_one_line_that_never_quotes_the_page() {
    let (mut env, fake) = setup(Vendor::GitHub);
    let host = format!("127.0.0.1:{}", fake.port());
    fake.script(|s| s.polls = VecDeque::from([Answer::Html]));
    let out = login(&env, &fake.origin());
    let line = assert_one_line_failure(&out, &host, &["HTML page", "right URL"]);
    assert!(!line.contains('<'), "{out}");
    assert_nothing_stored(&env);

    fake.script(|s| s.polls = VecDeque::from([Answer::Approve]));
    login(&env, &fake.origin()).assert_success();
    let token = stored(&env, "password").unwrap();
    fake.script(|s| s.refresh = Refresh::Html);
    env.set_env("GOCRED_OAUTH_REFRESH_MARGIN", "100000");
    let out = get(&env, fake.port());
    assert_still_valid_token_with_a_note(&out, &host, &token, &["cannot refresh", "HTML page"]);
    assert!(!out.stderr.contains('<'), "{out}");
    assert_eq!(stored(&env, "password"), Some(token));
}

#[test]
fn a_token_without_expires_in_is_stored_with_no_expiry_and_git_gets_no_expiry() {
    let (mut env, fake) = setup(Vendor::GitHub);
    // A classic GitHub OAuth App: tokens that do not expire, no refresh token.
    fake.script(|s| {
        s.expires_in = None;
        s.refresh_tokens = false;
    });
    let out = login(&env, &fake.origin());
    out.assert_success();
    assert!(out.stdout.contains("(no expiry)"), "{out}");
    let store = env.file_store().unwrap();
    assert!(
        !store.contains("password_expiry_utc"),
        "stored with an expiry"
    );
    assert!(!store.contains("oauth_refresh_token"));
    let token = stored(&env, "password").unwrap();
    // Whatever the margin, a token without expiry is never refreshed.
    env.set_env("GOCRED_OAUTH_REFRESH_MARGIN", "100000");
    let out = get(&env, fake.port());
    out.assert_success();
    assert_eq!(value_of(&out.stdout, "password"), Some(token.as_str()));
    assert_eq!(value_of(&out.stdout, "password_expiry_utc"), None, "{out}");
    env.use_gocred_by_path();
    let fill = env.credential_fill(&format!("{}/group/repo.git", fake.origin()));
    fill.assert_success();
    assert_eq!(value_of(&fill.stdout, "username"), Some("x-access-token"));
    assert_eq!(value_of(&fill.stdout, "password"), Some(token.as_str()));
    assert_eq!(
        value_of(&fill.stdout, "password_expiry_utc"),
        None,
        "{fill}"
    );
    assert!(fake.refreshes().is_empty());
}

#[test]
fn a_refresh_token_revoked_at_the_server_erases_the_token_in_one_line_github_200_gitlab_400() {
    let runs: Vec<_> = [
        (Vendor::GitHub, "bad_refresh_token"),
        (Vendor::GitLab, "invalid_grant"),
    ]
    .into_iter()
    .map(|(vendor, code)| {
        std::thread::spawn(move || {
            let (mut env, fake) = setup(vendor);
            login(&env, &fake.origin()).assert_success();
            let refresh = stored(&env, "oauth_refresh_token").unwrap();
            fake.revoke_all();
            env.set_env("GOCRED_OAUTH_REFRESH_MARGIN", "100000");
            let out = get(&env, fake.port());
            let line = assert_one_line_failure(
                &out,
                &format!("127.0.0.1:{}", fake.port()),
                &[code, &format!("run `gocred login {}`", fake.origin())],
            );
            assert!(!line.contains(&refresh));
            assert_nothing_stored(&env);
            assert_eq!(fake.refreshes().len(), 1);
        })
    })
    .collect();
    for run in runs {
        run.join().unwrap();
    }
}

#[test]
fn clock_skew_git_gets_401_then_erase_marks_the_token_expired_and_the_next_fetch_refreshes() {
    let (env, fake) = setup(Vendor::GitLab);
    // 4 minutes by our clock: more than the 60 s margin, so gocred calls it valid.
    fake.script(|s| s.expires_in = Some(240));
    fake.create_repo(&env, "group/repo.git");
    env.use_gocred_by_path();
    let askpass = env.script("askpass", "echo prompted >&2\nexit 1");
    login(&env, &fake.origin()).assert_success();
    let first = stored(&env, "password").unwrap();
    let url = format!("{}/group/repo.git", fake.origin());
    env.git(&["clone", "-q", &url, "work"])
        .env("GIT_ASKPASS", &askpass)
        .success();
    assert!(fake.git_passwords().iter().all(|p| *p == first));

    // The server's clock runs 5 minutes ahead: for it, the token has expired.
    fake.script(|s| s.clock_ahead = 300);
    assert!(!fake.accepts(&first));
    let work = env.root().join("work");
    let fetch = env
        .git(&["fetch", "-q", "origin"])
        .current_dir(&work)
        .env("GIT_ASKPASS", &askpass)
        .run();
    assert_eq!(fetch.code(), Some(128), "{fetch}");
    assert!(!fetch.stderr.contains("prompted"), "{fetch}");
    // git's erase after the 401 kept the token (with its refresh token) but marked it expired.
    assert_eq!(stored(&env, "password").as_deref(), Some(first.as_str()));
    assert_eq!(stored(&env, "password_expiry_utc").as_deref(), Some("1"));
    assert!(fake.refreshes().is_empty());

    let fetch = env
        .git(&["fetch", "-q", "origin"])
        .current_dir(&work)
        .env("GIT_ASKPASS", &askpass)
        .run();
    fetch.assert_success();
    assert_eq!(fake.refreshes().len(), 1);
    let second = stored(&env, "password").unwrap();
    assert_ne!(second, first);
    assert!(fake.accepts(&second));
    assert_eq!(fake.git_passwords().last(), Some(&second));
}

#[test]
fn an_unreachable_server_fails_login_and_refresh_in_one_line_naming_the_host() {
    let (mut env, fake) = setup(Vendor::GitLab);
    login(&env, &fake.origin()).assert_success();
    let token = stored(&env, "password").unwrap();
    let (origin, port) = (fake.origin(), fake.port());
    drop(fake);
    // The port is closed now (connection refused), wait until it is.
    let deadline = Instant::now() + Duration::from_secs(5);
    while std::net::TcpStream::connect(("127.0.0.1", port)).is_ok() {
        assert!(Instant::now() < deadline, "the fake still listens");
        std::thread::sleep(Duration::from_millis(20));
    }
    let host = format!("127.0.0.1:{port}");
    env.set_env("GOCRED_OAUTH_REFRESH_MARGIN", "100000");
    let out = get(&env, port);
    assert_still_valid_token_with_a_note(
        &out,
        &host,
        &token,
        &[
            "cannot refresh",
            "cannot connect",
            "check the host and port",
        ],
    );
    assert_eq!(stored(&env, "password"), Some(token.clone()));

    let out = login(&env, &origin);
    assert_one_line_failure(&out, &host, &["cannot connect", "check the host and port"]);
    // The old login is untouched by the failed new one.
    assert_eq!(stored(&env, "password"), Some(token));
}

#[test]
fn a_wrong_client_id_at_the_real_oidc_provider_is_one_line_naming_the_fix() {
    let env = TestEnv::new();
    let oidc = OidcServer::start(&env, 60);
    oidc.trust_in_git(&env);
    let origin = "https://git.corp.example";
    env.policy(&format!(
        "[[rule]]\nurl = \"{origin}\"\nsources = [\"oauth\"]\nstore = \"file\"\n\n\
         [rule.oauth]\nprovider = \"oidc\"\nclient_id = \"not-registered\"\nissuer = \"{}\"\n",
        oidc.issuer
    ));
    let out = login(&env, origin);
    let host = oidc.issuer.trim_start_matches("https://");
    assert_one_line_failure(
        &out,
        host,
        &["invalid_client", "check `client_id` in [rule.oauth]"],
    );
    assert_nothing_stored(&env);
}
