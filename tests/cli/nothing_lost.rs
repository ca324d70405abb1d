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

#[test]
fn a_refresh_lock_held_forever_is_waited_for_a_bounded_time() {
    use std::io::Write;
    let (env, server) = setup(); // GOCRED_HTTP_TIMEOUT=1: a 12 s wait for the lock
    let store = env.file_store_path();
    seed(
        &store,
        &server.origin(),
        "at-expired",
        now() - 10,
        "rt-kept",
    );
    let before = std::fs::read(&store).unwrap();
    server.script(|_| Action::Hang(Duration::from_secs(120)));
    let mut holder = env
        .std_command(crate::common::GOCRED)
        .arg("get")
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    holder
        .stdin
        .take()
        .unwrap()
        .write_all(format!("protocol=http\nhost=127.0.0.1:{}\n\n", server.port()).as_bytes())
        .unwrap();
    // Once its refresh request arrived, it holds the lock: stop it there, for good.
    let deadline = std::time::Instant::now() + Duration::from_secs(20);
    while server.seen().is_empty() {
        assert!(
            std::time::Instant::now() < deadline,
            "the first get sent no refresh"
        );
        std::thread::sleep(Duration::from_millis(10));
    }
    let pid = i32::try_from(holder.id()).unwrap();
    // SAFETY: signalling our own child.
    unsafe { libc::kill(pid, libc::SIGSTOP) };
    let started = std::time::Instant::now();
    let out = get(&env, &server);
    let took = started.elapsed();
    let after = std::fs::read(&store).unwrap();
    // A token still valid (only within the refresh margin) is given to git after the wait.
    seed(
        &store,
        &server.origin(),
        "at-still-valid",
        now() + 40,
        "rt-kept",
    );
    let valid = get(&env, &server);
    let _ = holder.kill();
    let _ = holder.wait();
    valid.assert_success();
    assert_eq!(value_of(&valid.stdout, "password"), Some("at-still-valid"));
    assert!(
        valid.stderr.contains("gocred: note:") && valid.stderr.contains("still holds"),
        "{valid}"
    );
    assert_eq!(out.code(), Some(1), "{out}");
    assert_eq!(out.stdout, "");
    assert_eq!(out.stderr_lines().len(), 1, "{out}");
    for says in ["still holds", "fuser", &server.origin()] {
        assert!(out.stderr.contains(says), "says {says:?}: {out}");
    }
    assert!(
        took >= Duration::from_secs(11) && took < Duration::from_secs(30),
        "waited {took:?}"
    );
    assert_eq!(server.seen().len(), 1, "a waiting get refreshed too");
    assert_eq!(after, before, "the waiting get changed the store");
}

#[test]
fn a_user_without_a_passwd_home_gets_a_fix_not_a_lock_where_home_points() {
    // A uid with no passwd entry and no /run/user/UID: HOME points at a directory it owns, and
    // gocred must still not take its locks there (another git of the same uid with another
    // HOME would not meet them).
    const UID: &str = "54321";
    let (env, server) = setup();
    let store = env.file_store_path();
    seed(
        &store,
        &server.origin(),
        "at-expired",
        now() - 10,
        "rt-kept",
    );
    std::process::Command::new("chown")
        .args(["-R", &format!("{UID}:{UID}")])
        .arg(env.root())
        .status()
        .unwrap()
        .success()
        .then_some(())
        .expect("chown the test directory to the test uid");
    let out = env
        .command("setpriv")
        .args([
            &format!("--reuid={UID}"),
            &format!("--regid={UID}"),
            "--clear-groups",
            crate::common::GOCRED,
            "get",
        ])
        .stdin(format!(
            "protocol=http\nhost=127.0.0.1:{}\n\n",
            server.port()
        ))
        .run();
    assert_eq!(out.code(), Some(1), "{out}");
    assert_eq!(out.stdout, "");
    assert_eq!(out.stderr_lines().len(), 1, "{out}");
    for says in [
        &format!("/run/user/{UID}") as &str,
        "passwd database",
        "give the user a home directory",
    ] {
        assert!(out.stderr.contains(says), "says {says:?}: {out}");
    }
    assert!(server.seen().is_empty(), "refreshed without the lock");
    let planted: Vec<_> = walk(&env.root())
        .into_iter()
        .filter(|p| p.extension().is_some_and(|e| e == "lock"))
        .collect();
    assert!(
        planted.is_empty(),
        "lock files where the environment points: {planted:?}"
    );
}

fn walk(dir: &Path) -> Vec<std::path::PathBuf> {
    let mut found = Vec::new();
    for entry in std::fs::read_dir(dir).into_iter().flatten().flatten() {
        let path = entry.path();
        if path.is_dir() {
            found.extend(walk(&path));
        } else {
            found.push(path);
        }
    }
    found
}

/// The effective uid (inside the test's user namespace: 0).
fn euid() -> u32 {
    // SAFETY: geteuid cannot fail.
    unsafe { libc::geteuid() }
}

/// Runs [`mixed_environments_inner`] for `backend` in a user, mount and session-keyring
/// namespace of its own, with a temporary directory mounted on `/run/user` (so the uid's lock
/// directory is the test's, and keyutils is the namespace's own persistent keyring, never the
/// developer's). Returns the names in the lock directory afterwards.
fn in_namespace(backend: &str) -> Vec<String> {
    let tmp = tempfile::tempdir().unwrap();
    let run_user = tmp.path().join("run-user");
    // --map-root-user: uid 0 inside.
    let mine = run_user.join("0");
    std::fs::create_dir_all(&mine).unwrap();
    std::fs::set_permissions(&mine, std::fs::Permissions::from_mode(0o700)).unwrap();
    let out = std::process::Command::new("unshare")
        .args([
            "--user",
            "--map-root-user",
            "--mount",
            "--propagation",
            "private",
            "sh",
            "-c",
            r#"mount --bind "$1" /run/user && exec keyctl session - "$2" --exact \
               nothing_lost::mixed_environments_inner --include-ignored --nocapture"#,
            "sh",
        ])
        .arg(&run_user)
        .arg(std::env::current_exe().unwrap())
        .env("GOCRED_TEST_BACKEND", backend)
        .output()
        .expect("run unshare (util-linux)");
    let text = format!(
        "{}\n{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(out.status.success(), "{backend}: {text}");
    assert!(
        text.contains("1 passed"),
        "{backend}: the inner test did not run: {text}"
    );
    let mut names: Vec<String> = std::fs::read_dir(mine.join("gocred"))
        .unwrap_or_else(|e| panic!("{backend}: no lock directory under /run/user/0: {e}"))
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    names
}

#[test]
fn locks_do_not_depend_on_the_callers_environment() {
    for backend in ["secret-service", "keyutils"] {
        let names = in_namespace(backend);
        // Every process, whatever its XDG_RUNTIME_DIR and HOME, locked in the uid's directory.
        assert!(
            names.iter().any(|n| n == "keychain.lock"),
            "{backend}: {names:?}"
        );
        assert!(
            names
                .iter()
                .any(|n| n.starts_with("oauth-") && n.ends_with(".lock")),
            "{backend}: {names:?}"
        );
    }
}

/// 12 gocred processes at once, in three environments (as TestEnv sets it; another HOME and no
/// XDG variables at all; another HOME and another XDG_RUNTIME_DIR): 6 store a user each under
/// one host (one keychain entry holds them all), 6 ask for an expired OAuth token from the real
/// oidc-provider, which rotates refresh tokens and revokes the whole grant when one is used
/// twice. Every user and every token must survive, with exactly one refresh.
#[test]
#[ignore = "run in a namespace of its own by locks_do_not_depend_on_the_callers_environment"]
fn mixed_environments_inner() {
    use crate::common::keyring::{Login, SecretService, require_session_keyring};
    use crate::common::oidc::{CLIENT_ID, OidcServer, gocred_login};
    use std::sync::{Arc, Barrier};

    let backend = std::env::var("GOCRED_TEST_BACKEND")
        .expect("run by locks_do_not_depend_on_the_callers_environment");
    assert!(
        Path::new(&format!("/run/user/{}", euid())).is_dir(),
        "not inside the test's namespace"
    );
    require_session_keyring();
    let mut env = TestEnv::new();
    env.set_env("GOCRED_HTTP_TIMEOUT", "30");
    let _service =
        (backend == "secret-service").then(|| SecretService::start(&mut env, Login::Unlocked));
    let oidc = OidcServer::start(&env, 3600);
    oidc.trust_in_git(&env);
    let git = "https://git.example";
    env.policy(&format!(
        "[keychain]\nbackend = \"{backend}\"\n\n\
         [[rule]]\nurl = \"https://store.example\"\nsources = [\"keychain\"]\nstore = \"keychain\"\n\n\
         [[rule]]\nurl = \"{git}\"\nsources = [\"oauth\"]\n\n\
         [rule.oauth]\nprovider = \"oidc\"\nclient_id = \"{CLIENT_ID}\"\nissuer = \"{}\"\n",
        oidc.issuer
    ));
    let login = gocred_login(&env, &[git, "--no-browser"], |p, _| {
        let uri = p.complete.clone().unwrap_or(p.verification_uri.clone());
        oidc.approve(&uri, &p.user_code, "alice");
    });
    assert!(login.status.success(), "{}", login.stderr);
    let ask = "protocol=https\nhost=git.example\n\n";
    let first = env.gocred(&["get"]).stdin(ask).success();
    let first = value_of(&first.stdout, "password").unwrap().to_owned();
    // As git does after a 401: the token is marked expired, so the next get must refresh.
    env.gocred(&["erase"])
        .stdin(format!(
            "protocol=https\nhost=git.example\nusername=oauth2\npassword={first}\n\n"
        ))
        .success();
    assert_eq!(oidc.refresh_requests(), 0);

    let root = env.root();
    for dir in ["home-b", "home-c", "run-c"] {
        std::fs::create_dir_all(root.join(dir)).unwrap();
        std::fs::set_permissions(root.join(dir), std::fs::Permissions::from_mode(0o700)).unwrap();
    }
    let env = Arc::new(env);
    let start = Arc::new(Barrier::new(12));
    let runs: Vec<_> = (0..12)
        .map(|i| {
            let (env, start, root) = (env.clone(), start.clone(), root.clone());
            std::thread::spawn(move || {
                let cmd = if i % 2 == 0 {
                    env.gocred(&["store"]).stdin(format!(
                        "protocol=https\nhost=store.example\nusername=user{i}\npassword=pw{i}\n\n"
                    ))
                } else {
                    env.gocred(&["get"]).stdin(ask)
                };
                let cmd = match i % 3 {
                    0 => cmd,
                    1 => cmd
                        .env("HOME", root.join("home-b"))
                        .env_remove("XDG_RUNTIME_DIR")
                        .env_remove("XDG_CACHE_HOME")
                        .env_remove("XDG_CONFIG_HOME")
                        .env_remove("XDG_DATA_HOME"),
                    _ => cmd
                        .env("HOME", root.join("home-c"))
                        .env("XDG_RUNTIME_DIR", root.join("run-c")),
                };
                start.wait();
                (i, cmd.run())
            })
        })
        .collect();
    let mut tokens = Vec::new();
    for run in runs {
        let (i, out) = run.join().unwrap();
        out.assert_success();
        if i % 2 == 1 {
            tokens.push(value_of(&out.stdout, "password").unwrap().to_owned());
        }
    }
    let second = tokens[0].clone();
    assert_ne!(second, first);
    assert!(tokens.iter().all(|t| *t == second), "{tokens:?}");
    assert_eq!(oidc.refresh_requests(), 1, "{}", oidc.stats());
    assert_eq!(oidc.check(&second).as_deref(), Some("alice"));
    for i in (0..12).step_by(2) {
        let out = env
            .gocred(&["get"])
            .stdin(format!(
                "protocol=https\nhost=store.example\nusername=user{i}\n\n"
            ))
            .success();
        assert_eq!(
            value_of(&out.stdout, "password"),
            Some(format!("pw{i}").as_str()),
            "user{i} was lost: {out}"
        );
    }
    // And no lock file went where an environment variable points.
    for dir in [
        env.runtime_dir().join("gocred"),
        env.cache_home().join("gocred"),
        root.join("home-b/.cache/gocred"),
        root.join("home-c/.cache/gocred"),
        root.join("run-c/gocred"),
    ] {
        let locks: Vec<_> = std::fs::read_dir(&dir)
            .into_iter()
            .flatten()
            .flatten()
            .filter(|e| e.file_name().to_string_lossy().ends_with(".lock"))
            .collect();
        assert!(
            locks.is_empty(),
            "lock files in {}: {locks:?}",
            dir.display()
        );
    }
    println!("{backend}: 6 stores and 6 refreshes in 3 environments, nothing lost");
}
