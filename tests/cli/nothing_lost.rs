//! Issue 15, "Nothing lost", through the real binary.
//!
//! - A refresh that fails for a passing reason (429, 5xx, `temporarily_unavailable`,
//!   `slow_down`, a timeout, a reset connection) keeps the refresh token; git gets the current
//!   access token while it is valid, else nothing and one line saying gocred will retry.
//! - Only an explicit refusal (`invalid_grant`, GitHub's `bad_refresh_token`) erases, and only
//!   the token that was refused: one a `gocred login` stored meanwhile survives.
//! - The refresh and store locks are the same for every caller of one user, whatever its
//!   environment (`XDG_RUNTIME_DIR`, `HOME`).

use crate::common::scripted::{Action, Scripted};
use crate::common::{Output, TestEnv, value_of};
use std::os::unix::fs::PermissionsExt;
use std::path::Path;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

fn now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_secs()
}

/// An oauth rule for the scripted server's origin, tokens in the file store, its token endpoint
/// on the same server.
fn rule(server: &Scripted) -> String {
    let origin = server.origin();
    format!(
        "[[rule]]\nurl = \"{origin}\"\nsources = [\"oauth\"]\nstore = \"file\"\nallow_http = true\n\n\
         [rule.oauth]\nprovider = \"oidc\"\nclient_id = \"gocred-test\"\n\
         token_endpoint = \"{origin}/token\"\ndevice_authorization_endpoint = \"{origin}/device\"\n"
    )
}

/// The file store holding one oauth token for `server`'s origin (written as `gocred login`
/// would, atomically, mode 0600).
fn seed(path: &Path, server_origin: &str, access: &str, expiry: u64, refresh: &str) {
    let text = format!(
        "scope={server_origin}\nusername=oauth2\npassword={access}\n\
         password_expiry_utc={expiry}\noauth_refresh_token={refresh}\n\n"
    );
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    let tmp = path.with_extension("seed");
    std::fs::write(&tmp, text).unwrap();
    std::fs::set_permissions(&tmp, std::fs::Permissions::from_mode(0o600)).unwrap();
    std::fs::rename(&tmp, path).unwrap();
}

fn get(env: &TestEnv, server: &Scripted) -> Output {
    env.gocred(&["get"])
        .stdin(format!(
            "protocol=http\nhost=127.0.0.1:{}\n\n",
            server.port()
        ))
        .run()
}

fn setup() -> (TestEnv, Scripted) {
    let mut env = TestEnv::new();
    env.set_env("GOCRED_HTTP_TIMEOUT", "1");
    let server = Scripted::start(|_| Action::json(500, "{}"));
    env.policy(&rule(&server));
    (env, server)
}

#[test]
fn transient_refresh_failure_keeps_the_refresh_token() {
    let (env, server) = setup();
    let store = env.file_store_path();
    let host = format!("127.0.0.1:{}", server.port());
    let cases: Vec<(&str, Action)> = vec![
        (
            "HTTP 429",
            Action::Reply {
                status: 429,
                headers: vec![("Retry-After".into(), "30".into())],
                body: String::new(),
            },
        ),
        (
            "HTTP 503 page",
            Action::Reply {
                status: 503,
                headers: vec![("Content-Type".into(), "text/html".into())],
                body: "<html>down for maintenance</html>".into(),
            },
        ),
        (
            "server_error",
            Action::json(500, r#"{"error":"server_error"}"#),
        ),
        (
            "a 5xx whatever its body says",
            Action::json(502, r#"{"error":"invalid_grant"}"#),
        ),
        (
            "temporarily_unavailable",
            Action::json(400, r#"{"error":"temporarily_unavailable"}"#),
        ),
        ("slow_down", Action::json(400, r#"{"error":"slow_down"}"#)),
        ("a timeout", Action::Hang(Duration::from_secs(3))),
        ("a connection reset", Action::Reset),
    ];
    for (what, action) in cases {
        server.script(move |_| action.clone());
        // Expired: git gets nothing, and one line that names the host and says it will retry.
        seed(
            &store,
            &server.origin(),
            "at-expired",
            now() - 10,
            "rt-kept",
        );
        let before = std::fs::read(&store).unwrap();
        server.clear();
        let out = get(&env, &server);
        assert_eq!(out.code(), Some(1), "{what}: {out}");
        assert_eq!(out.stdout, "", "{what}: {out}");
        assert_eq!(out.stderr_lines().len(), 1, "{what}: {out}");
        for says in [host.as_str(), "cannot refresh", "will retry"] {
            assert!(out.stderr.contains(says), "{what}: says {says:?}: {out}");
        }
        assert!(!out.stderr.contains("rt-kept"), "{what}: {out}");
        assert_eq!(
            std::fs::read(&store).unwrap(),
            before,
            "{what}: store changed"
        );
        let seen = server.seen();
        assert_eq!(seen.len(), 1, "{what}: {seen:?}");
        assert_eq!(seen[0].field("refresh_token").as_deref(), Some("rt-kept"));

        // Within the refresh margin but still valid: git gets it, with a one-line note.
        seed(
            &store,
            &server.origin(),
            "at-still-valid",
            now() + 30,
            "rt-kept",
        );
        let before = std::fs::read(&store).unwrap();
        let out = get(&env, &server);
        out.assert_success();
        assert_eq!(
            value_of(&out.stdout, "password"),
            Some("at-still-valid"),
            "{what}: {out}"
        );
        assert_eq!(out.stderr_lines().len(), 1, "{what}: {out}");
        for says in [host.as_str(), "note", "will retry"] {
            assert!(out.stderr.contains(says), "{what}: says {says:?}: {out}");
        }
        assert_eq!(
            std::fs::read(&store).unwrap(),
            before,
            "{what}: store changed"
        );
    }

    // The kept refresh token still works once the server is back.
    server.script(|seen| {
        if seen.field("refresh_token").as_deref() == Some("rt-kept") {
            Action::json(
                200,
                r#"{"access_token":"at-new","refresh_token":"rt-new","expires_in":3600,"token_type":"Bearer"}"#,
            )
        } else {
            Action::json(400, r#"{"error":"invalid_grant"}"#)
        }
    });
    seed(
        &store,
        &server.origin(),
        "at-expired",
        now() - 10,
        "rt-kept",
    );
    let out = get(&env, &server);
    out.assert_success();
    assert_eq!(value_of(&out.stdout, "password"), Some("at-new"), "{out}");
    let text = std::fs::read_to_string(&store).unwrap();
    assert_eq!(value_of(&text, "oauth_refresh_token"), Some("rt-new"));
}

#[test]
fn invalid_grant_erases_only_the_token_that_was_refused() {
    let (env, server) = setup();
    let store = env.file_store_path();
    let login = format!("run `gocred login {}`", server.origin());

    // RFC 6749 §5.2 invalid_grant (HTTP 400), and GitHub's documented equivalent in an HTTP
    // 200: the dead token goes.
    for (status, body) in [
        (
            400,
            r#"{"error":"invalid_grant","error_description":"grant request is invalid"}"#,
        ),
        (200, r#"{"error":"bad_refresh_token"}"#),
    ] {
        server.script(move |_| Action::json(status, body));
        seed(&store, &server.origin(), "at-dead", now() - 10, "rt-dead");
        let out = get(&env, &server);
        assert_eq!(out.code(), Some(1), "{out}");
        assert_eq!(out.stdout, "");
        assert_eq!(out.stderr_lines().len(), 1, "{out}");
        assert!(
            out.stderr.contains("erased") && out.stderr.contains(&login),
            "{out}"
        );
        let left = std::fs::read_to_string(&store).unwrap_or_default();
        assert!(
            !left.contains("at-dead"),
            "the refused token is still stored: {left}"
        );
    }

    // A refusal that is not about the token (the client is unknown): kept.
    server.script(|_| Action::json(401, r#"{"error":"invalid_client"}"#));
    seed(&store, &server.origin(), "at-old", now() - 10, "rt-old");
    let before = std::fs::read(&store).unwrap();
    let out = get(&env, &server);
    assert_eq!(out.code(), Some(1), "{out}");
    assert!(out.stderr.contains("will retry"), "{out}");
    assert_eq!(std::fs::read(&store).unwrap(), before);

    // A new login lands while the server refuses the old refresh token: the new token is not
    // the one that was refused, so it stays, and git gets it.
    let (path, origin) = (store.clone(), server.origin());
    server.script(move |seen| {
        if seen.field("refresh_token").as_deref() == Some("rt-old") {
            seed(
                &path,
                &origin,
                "at-from-new-login",
                now() + 3600,
                "rt-from-new-login",
            );
        }
        Action::json(400, r#"{"error":"invalid_grant"}"#)
    });
    let out = get(&env, &server);
    out.assert_success();
    assert_eq!(
        value_of(&out.stdout, "password"),
        Some("at-from-new-login"),
        "{out}"
    );
    let text = std::fs::read_to_string(&store).unwrap();
    assert_eq!(value_of(&text, "password"), Some("at-from-new-login"));
    assert_eq!(
        value_of(&text, "oauth_refresh_token"),
        Some("rt-from-new-login")
    );
    // One that is itself already stale is kept too, but not handed out.
    let (path, origin) = (store.clone(), server.origin());
    server.script(move |seen| {
        if seen.field("refresh_token").as_deref() == Some("rt-old") {
            seed(&path, &origin, "at-other", now() - 5, "rt-other");
        }
        Action::json(400, r#"{"error":"invalid_grant"}"#)
    });
    seed(&store, &server.origin(), "at-old", now() - 10, "rt-old");
    let out = get(&env, &server);
    assert_eq!(out.code(), Some(1), "{out}");
    assert!(out.stderr.contains("changed meanwhile"), "{out}");
    let text = std::fs::read_to_string(&store).unwrap();
    assert_eq!(value_of(&text, "oauth_refresh_token"), Some("rt-other"));
}
