//! The keychain store against real peers: gnome-keyring's Secret Service on a private bus, and
//! kernel keyutils in the test process's session keyring, driven through real
//! `git credential fill/approve/reject` with gocred as the helper, and checked with the
//! backends' own tools (`secret-tool`, `keyctl`).

use crate::common::keyring::{
    Login, SecretService, keyutils_lookup, keyutils_purge, require_program, require_session_keyring,
};
use crate::common::{Output, TestEnv, value_of};
/// keyutils keys (and gocred's index key) live in the user's persistent keyring, shared by every
/// keyutils test, and nextest runs each test in a process of its own: keyutils tests take turns
/// through an exclusive lock on one file, which works across processes and across threads.
pub(crate) struct KeyutilsTurn(#[allow(dead_code)] std::fs::File);

pub(crate) fn keyutils_turn() -> KeyutilsTurn {
    let path = std::env::temp_dir().join("gocred-tests-keyutils.lock");
    let file = std::fs::OpenOptions::new()
        .create(true)
        .truncate(false)
        .write(true)
        .open(&path)
        .unwrap_or_else(|e| panic!("cannot open {}: {e}", path.display()));
    file.lock()
        .unwrap_or_else(|e| panic!("cannot lock {}: {e}", path.display()));
    KeyutilsTurn(file)
}

/// A host name of this test run alone, so leftovers of an earlier run can never answer.
fn host(tag: &str) -> String {
    format!("{tag}-{}.keychain.example", std::process::id())
}

fn policy(backend: Option<&str>, base: &str) -> String {
    let keychain = backend
        .map(|b| format!("[keychain]\nbackend = \"{b}\"\n\n"))
        .unwrap_or_default();
    format!(
        "{keychain}[[rule]]\nurl = \"{base}\"\nsources = [\"keychain\"]\nstore = \"keychain\"\n"
    )
}

/// git's answer when no helper had anything and prompting is off.
#[track_caller]
fn assert_nothing_filled(out: &Output) {
    assert_eq!(
        out.code(),
        Some(128),
        "git should have found nothing: {out}"
    );
    assert!(out.stdout.is_empty(), "{out}");
    assert!(out.stderr.contains("terminal prompts disabled"), "{out}");
}

#[track_caller]
fn assert_filled(out: &Output, username: &str, password: &str) {
    out.assert_success();
    assert_eq!(value_of(&out.stdout, "username"), Some(username), "{out}");
    assert_eq!(value_of(&out.stdout, "password"), Some(password), "{out}");
}

/// gocred failed cleanly: exit 1, nothing on stdout, one line on stderr that says `what` and
/// names the fix `fix`.
#[track_caller]
fn assert_one_line_failure(out: &Output, what: &str, fix: &str) {
    assert_eq!(out.code(), Some(1), "{out}");
    assert!(out.stdout.is_empty(), "{out}");
    let lines = out.stderr_lines();
    assert_eq!(lines.len(), 1, "one line: {out}");
    assert!(lines[0].starts_with("gocred: keychain ("), "{out}");
    assert!(lines[0].contains(what), "says {what:?}: {out}");
    assert!(lines[0].contains(fix), "names the fix {fix:?}: {out}");
}

fn get_request(host: &str) -> String {
    format!("protocol=https\nhost={host}\n\n")
}

/// What a backend holds under gocred's entry for a user name (a scope key or `gocred:index`),
/// read with the backend's own tool.
type Peek<'a> = &'a dyn Fn(&str) -> Option<String>;

/// approve / fill / reject through git, for `base` (`https://host`), checked with `peek`.
fn git_round_trip(env: &TestEnv, base: &str, location: &str, peek: Peek<'_>) {
    let scope = base;
    let index_lists = |scope: &str| {
        peek("gocred:index").is_some_and(|index| index.lines().any(|line| line == scope))
    };

    // approve: into the keychain, filed under the scope key, and listed in the index.
    env.credential_approve(&format!("{base}/group/repo.git"), "alice", "pa-1")
        .assert_success();
    assert_eq!(
        peek(scope).expect("approve reached the keychain"),
        format!("scope={scope}\nusername=alice\npassword=pa-1\n\n")
    );
    assert!(index_lists(scope), "{:?}", peek("gocred:index"));

    // fill: any repository on that host.
    assert_filled(
        &env.credential_fill(&format!("{base}/other/repo.git")),
        "alice",
        "pa-1",
    );

    // A second user on the same host: one entry holds both, each user gets their own.
    env.credential_approve(&format!("{base}/group/repo.git"), "bob", "pb-1")
        .assert_success();
    let raw = peek(scope).unwrap();
    assert!(raw.contains("username=alice\npassword=pa-1\n"), "{raw}");
    assert!(raw.contains("username=bob\npassword=pb-1\n"), "{raw}");
    let with_user = |user: &str| base.replacen("https://", &format!("https://{user}@"), 1);
    assert_filled(&env.credential_fill(&with_user("alice")), "alice", "pa-1");
    assert_filled(&env.credential_fill(&with_user("bob")), "bob", "pb-1");

    // Another port, host or scheme gets nothing.
    let host = base.strip_prefix("https://").unwrap();
    for other in [
        format!("https://{host}:8443/group/repo.git"),
        format!("https://x{host}/group/repo.git"),
        format!("http://{host}/group/repo.git"),
    ] {
        assert_nothing_filled(&env.credential_fill(&other));
    }

    // reject with a wrong password keeps the entry.
    env.credential_reject(&format!("{base}/group/repo.git"), "alice", "wrong")
        .assert_success();
    assert_filled(&env.credential_fill(&with_user("alice")), "alice", "pa-1");

    // reject with the right password erases alice only.
    env.credential_reject(&format!("{base}/group/repo.git"), "alice", "pa-1")
        .assert_success();
    assert_nothing_filled(&env.credential_fill(&with_user("alice")));
    assert_filled(&env.credential_fill(&with_user("bob")), "bob", "pb-1");
    assert_eq!(
        peek(scope).unwrap(),
        format!("scope={scope}\nusername=bob\npassword=pb-1\n\n")
    );

    // status lists what is stored, and where, without the secret.
    let status = env.gocred(&["status"]).success();
    assert!(
        status
            .stdout
            .contains(&format!("stored: {scope} as bob, no expiry, in {location}")),
        "{status}"
    );
    assert!(!status.stdout.contains("pb-1"), "{status}");

    // The last user gone: the entry and its index line go too.
    env.credential_reject(&format!("{base}/group/repo.git"), "bob", "pb-1")
        .assert_success();
    assert_eq!(peek(scope), None);
    assert!(!index_lists(scope));
    assert_nothing_filled(&env.credential_fill(&with_user("bob")));
}

#[test]
fn secret_service_serves_git_approve_fill_reject() {
    let mut env = TestEnv::new();
    let keyring = SecretService::start(&mut env, Login::Unlocked);
    let base = "https://gitlab.corp.example";
    env.policy(&policy(Some("secret-service"), base));
    env.use_gocred_by_path();

    let peek = |user: &str| keyring.lookup(&env, user);
    git_round_trip(&env, base, "Secret Service (default collection)", &peek);

    // The items are labelled for keyring UIs, and nothing else was left behind.
    env.credential_approve(base, "carol", "pc-1")
        .assert_success();
    let found = keyring.secret_tool(&env, &["search", "--all", "service", "gocred"]);
    found.assert_success();
    assert!(
        found.stdout.contains(&format!("label = gocred: {base}\n")),
        "{found}"
    );
    // (secret-tool prints the attributes on stderr.)
    let items = found.stdout.lines().filter(|l| l.starts_with("[/")).count();
    assert_eq!(items, 2, "carol's entry and the index: {found}");
    assert!(
        found.stderr.contains("attribute.username = gocred:index\n"),
        "{found}"
    );
}

/// gocred's `get` reads the keyring over its own Diffie-Hellman session (src/source/keychain/dh.rs)
/// and gnome-keyring encrypts for it: what libsecret (`secret-tool store`, its own session)
/// wrote comes back through gocred byte for byte, for secrets of one block, exactly one block
/// and many blocks, with `secret-service` and with `auto` (no auto-start); and what gocred
/// stores, `secret-tool lookup` reads.
#[test]
fn secret_tool_reads_what_gocred_writes_and_back() {
    let mut env = TestEnv::new();
    let keyring = SecretService::start(&mut env, Login::Unlocked);
    let base = "https://interop.corp.example";
    let host = "interop.corp.example";
    let long = "x".repeat(300);
    for backend in [Some("secret-service"), None] {
        env.policy(&policy(backend, base));
        // 49 bytes of record around a 16-byte block boundary, and several blocks.
        for password in ["p", "abcdefghijklmnop", long.as_str()] {
            let record = format!("scope={base}\nusername=alice\npassword={password}\n\n");
            env.command(require_program("secret-tool"))
                .env("DBUS_SESSION_BUS_ADDRESS", keyring.address())
                .args([
                    "store",
                    &format!("--label=gocred: {base}"),
                    "service",
                    "gocred",
                    "username",
                    base,
                ])
                .stdin(record)
                .run()
                .assert_success();
            let out = env.gocred(&["get"]).stdin(get_request(host)).run();
            assert_filled(&out, "alice", password);
            assert!(out.stderr.is_empty(), "{backend:?}: {out}");
        }
    }
    env.gocred(&["store"])
        .stdin(format!(
            "protocol=https\nhost={host}\nusername=bob\npassword=pb-1\n\n"
        ))
        .success();
    let raw = keyring.lookup(&env, base).expect("gocred's item");
    assert!(
        raw.contains(&format!("username=alice\npassword={long}\n"))
            && raw.contains("username=bob\npassword=pb-1\n"),
        "{raw}"
    );
}

/// A Secret Service hit is one connection and three calls to the keyring (`OpenSession` and
/// `SearchItems` sent together, then `GetSecrets`): no probe connection, no `NameHasOwner`, no
/// `ReadAlias`, no `Locked` property read (what the bus's answers already say). Watched with
/// `dbus-monitor` on the test bus, for `secret-service` and `auto`.
#[test]
fn a_secret_service_hit_is_one_connection_and_three_calls() {
    let mut env = TestEnv::new();
    let keyring = SecretService::start(&mut env, Login::Unlocked);
    let base = "https://calls.corp.example";
    env.policy(&policy(Some("secret-service"), base));
    env.gocred(&["store"])
        .stdin("protocol=https\nhost=calls.corp.example\nusername=alice\npassword=pa-1\n\n")
        .success();
    let log = env.root().join("monitor.log");
    let mut monitor = std::process::Command::new(require_program("dbus-monitor"))
        .args(["--address", keyring.address(), "type='method_call'"])
        .env_clear()
        .stdin(std::process::Stdio::null())
        .stdout(std::fs::File::create(&log).unwrap())
        .stderr(std::process::Stdio::null())
        .spawn()
        .expect("start dbus-monitor");
    let seen = |marker: &str| {
        std::fs::read_to_string(&log)
            .unwrap_or_default()
            .contains(marker)
    };
    let mark = |marker: &str| {
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(20);
        while !seen(marker) {
            assert!(
                std::time::Instant::now() < deadline,
                "dbus-monitor never saw {marker}"
            );
            keyring.dbus_send(
                &env,
                &[
                    "--dest=org.freedesktop.DBus",
                    "/org/freedesktop/DBus",
                    "org.freedesktop.DBus.NameHasOwner",
                    &format!("string:{marker}"),
                ],
            );
            std::thread::sleep(std::time::Duration::from_millis(50));
        }
    };
    let mut calls_per_backend = Vec::new();
    for (i, backend) in [Some("secret-service"), None].into_iter().enumerate() {
        env.policy(&policy(backend, base));
        mark(&format!("gocred.test.before{i}"));
        let out = env
            .gocred(&["get"])
            .stdin(get_request("calls.corp.example"))
            .run();
        assert_filled(&out, "alice", "pa-1");
        mark(&format!("gocred.test.after{i}"));
        let text = std::fs::read_to_string(&log).unwrap();
        let window = text
            .split(&format!("gocred.test.before{i}"))
            .nth(1)
            .and_then(|rest| rest.split(&format!("gocred.test.after{i}")).next())
            .unwrap()
            .to_owned();
        // gocred's connection is the one that opened a session.
        let sender = window
            .lines()
            .find(|l| l.contains("member=OpenSession"))
            .and_then(|l| l.split_whitespace().find(|w| w.starts_with("sender=")))
            .unwrap_or_else(|| panic!("no OpenSession from gocred: {window}"))
            .to_owned();
        let members: Vec<String> = window
            .lines()
            .filter(|l| l.starts_with("method call") && l.contains(&format!("{sender} ")))
            .filter_map(|l| l.split_whitespace().find(|w| w.starts_with("member=")))
            .map(str::to_owned)
            .collect();
        // One connection: every other method call in the window is the markers' dbus-send.
        let others = window
            .lines()
            .filter(|l| l.starts_with("method call") && !l.contains(&format!("{sender} ")))
            .filter(|l| !l.contains("member=Hello") && !l.contains("member=NameHasOwner"))
            .count();
        calls_per_backend.push((backend, members, others));
    }
    let _ = monitor.kill();
    let _ = monitor.wait();
    for (backend, members, others) in calls_per_backend {
        assert_eq!(
            members,
            [
                "member=Hello",
                "member=OpenSession",
                "member=SearchItems",
                "member=GetSecrets"
            ],
            "{backend:?}"
        );
        assert_eq!(others, 0, "{backend:?}: a second connection made calls");
    }
}

#[test]
fn keyutils_serves_git_approve_fill_reject() {
    require_session_keyring();
    let _turn = keyutils_turn();
    let env = TestEnv::new();
    let base = format!("https://{}", host("ku-round-trip"));
    env.policy(&policy(Some("keyutils"), &base));
    env.use_gocred_by_path();

    let peek = |user: &str| keyutils_lookup(&env, user);
    git_round_trip(&env, &base, "kernel keyutils (persistent keyring)", &peek);
    keyutils_cleanup(&env, &base);
}

#[test]
fn auto_picks_an_unlocked_secret_service() {
    let mut env = TestEnv::new();
    let keyring = SecretService::start(&mut env, Login::Unlocked);
    let base = "https://auto.corp.example";
    env.policy(&policy(None, base));
    env.use_gocred_by_path();

    env.credential_approve(base, "alice", "pa-1")
        .assert_success();
    assert_eq!(
        keyring.lookup(&env, base).as_deref(),
        Some("scope=https://auto.corp.example\nusername=alice\npassword=pa-1\n\n")
    );
    assert_filled(&env.credential_fill(base), "alice", "pa-1");
    let status = env.gocred(&["status"]).success();
    assert!(
        status
            .stdout
            .contains("as alice, no expiry, in Secret Service (default collection)"),
        "{status}"
    );
}

/// Forgets everything gocred keeps for `base` in keyutils: through gocred (which also drops the
/// index line), then by hand for whatever a failed test left.
fn keyutils_cleanup(env: &TestEnv, base: &str) {
    let host = base.strip_prefix("https://").unwrap();
    let _ = env.gocred(&["erase"]).stdin(get_request(host)).run();
    keyutils_purge(env, base);
}

/// `auto` in `env` (whose Secret Service is unusable) stores into keyutils.
fn assert_auto_uses_keyutils(env: &TestEnv, base: &str) {
    env.credential_approve(base, "alice", "pa-1")
        .assert_success();
    let stored = keyutils_lookup(env, base);
    keyutils_cleanup(env, base);
    assert_eq!(
        stored,
        Some(format!("scope={base}\nusername=alice\npassword=pa-1\n\n"))
    );
}

#[test]
fn auto_uses_keyutils_when_no_session_bus_answers() {
    require_session_keyring();
    let _turn = keyutils_turn();
    // TestEnv sets no DBUS_SESSION_BUS_ADDRESS, and $XDG_RUNTIME_DIR/bus does not exist.
    let env = TestEnv::new();
    let base = format!("https://{}", host("auto-no-bus"));
    env.policy(&policy(None, &base));
    env.use_gocred_by_path();

    env.credential_approve(&base, "alice", "pa-1")
        .assert_success();
    assert_filled(&env.credential_fill(&base), "alice", "pa-1");
    let status = env.gocred(&["status"]).success();
    assert!(
        status
            .stdout
            .contains("as alice, no expiry, in kernel keyutils (persistent keyring)"),
        "{status}"
    );
    let stored = keyutils_lookup(&env, &base);
    keyutils_cleanup(&env, &base);
    assert_eq!(
        stored,
        Some(format!("scope={base}\nusername=alice\npassword=pa-1\n\n"))
    );
}

#[test]
fn auto_passes_over_a_locked_keyring_and_a_bus_without_secret_service() {
    require_session_keyring();
    let _turn = keyutils_turn();

    let mut env = TestEnv::new();
    let keyring = SecretService::start(&mut env, Login::Unlocked);
    keyring.lock(&env);
    let base = format!("https://{}", host("auto-locked"));
    env.policy(&policy(None, &base));
    env.use_gocred_by_path();
    assert_auto_uses_keyutils(&env, &base);

    let mut env = TestEnv::new();
    let _bus = SecretService::start_bus(&mut env);
    let base = format!("https://{}", host("auto-bare-bus"));
    env.set_env("DBUS_SESSION_BUS_ADDRESS", _bus.address());
    env.policy(&policy(None, &base));
    env.use_gocred_by_path();
    assert_auto_uses_keyutils(&env, &base);
}

#[test]
fn a_locked_keyring_named_explicitly_fails_in_one_line_naming_the_fix() {
    let mut env = TestEnv::new();
    let keyring = SecretService::start(&mut env, Login::Unlocked);
    let base = "https://locked.corp.example";
    env.policy(&policy(Some("secret-service"), base));
    env.gocred(&["store"])
        .stdin("protocol=https\nhost=locked.corp.example\nusername=alice\npassword=pa-1\n\n")
        .success();
    keyring.lock(&env);

    let fix = "unlock the login keyring";
    let get = env
        .gocred(&["get"])
        .stdin(get_request("locked.corp.example"))
        .run();
    assert_one_line_failure(
        &get,
        "the default collection (login keyring) is locked",
        fix,
    );
    assert!(!get.stderr.contains("pa-1"));
    let store = env
        .gocred(&["store"])
        .stdin("protocol=https\nhost=locked.corp.example\nusername=bob\npassword=pb-1\n\n")
        .run();
    assert_one_line_failure(&store, "is locked", fix);
    let status = env.gocred(&["status"]).success();
    assert!(
        status.stdout.contains("keychain: unavailable: keychain (secret-service): the default collection (login keyring) is locked"),
        "{status}"
    );
}

#[test]
fn a_missing_login_keyring_named_explicitly_fails_in_one_line_naming_the_fix() {
    let mut env = TestEnv::new();
    let keyring = SecretService::start(&mut env, Login::Absent);
    assert_eq!(keyring.default_collection(&env), None);
    env.policy(&policy(
        Some("secret-service"),
        "https://nologin.corp.example",
    ));
    let get = env
        .gocred(&["get"])
        .stdin(get_request("nologin.corp.example"))
        .run();
    assert_one_line_failure(
        &get,
        "the Secret Service has no default collection",
        "create and unlock a login keyring",
    );
}

#[test]
fn a_missing_session_bus_named_explicitly_fails_in_one_line_naming_the_fix() {
    let env = TestEnv::new();
    env.policy(&policy(
        Some("secret-service"),
        "https://nobus.corp.example",
    ));
    let get = env
        .gocred(&["get"])
        .stdin(get_request("nobus.corp.example"))
        .run();
    assert_one_line_failure(&get, "no D-Bus session bus", "backend = \"keyutils\"");

    // A bus without a Secret Service on it: not started on demand by this bus, so named as such.
    let mut env = TestEnv::new();
    let _bus = SecretService::start_bus(&mut env);
    env.set_env("DBUS_SESSION_BUS_ADDRESS", _bus.address());
    env.policy(&policy(
        Some("secret-service"),
        "https://nobus.corp.example",
    ));
    let get = env
        .gocred(&["get"])
        .stdin(get_request("nobus.corp.example"))
        .run();
    assert_one_line_failure(
        &get,
        "no Secret Service on the session bus",
        "start gnome-keyring-daemon",
    );
}

#[test]
fn a_backend_of_another_os_fails_in_one_line_naming_the_fix() {
    let env = TestEnv::new();
    for backend in ["macos", "windows"] {
        env.policy(&policy(Some(backend), "https://other-os.corp.example"));
        let get = env
            .gocred(&["get"])
            .stdin(get_request("other-os.corp.example"))
            .run();
        assert_one_line_failure(
            &get,
            &format!("({backend}): not available on linux"),
            "backend = \"auto\"",
        );
    }
}

#[test]
fn the_keychain_is_not_contacted_for_a_host_the_policy_denies() {
    let mut env = TestEnv::new();
    // A "bus" that accepts connections into its backlog and never answers.
    let socket = env.root().join("silent-bus");
    let listener = std::os::unix::net::UnixListener::bind(&socket).unwrap();
    listener.set_nonblocking(true).unwrap();
    env.set_env(
        "DBUS_SESSION_BUS_ADDRESS",
        format!("unix:path={}", socket.display()),
    );
    env.policy(&policy(None, "https://allowed.corp.example"));

    let out = env
        .gocred(&["get"])
        .stdin(get_request("denied.corp.example"))
        .run();
    out.assert_success();
    assert!(out.stdout.is_empty() && out.stderr.is_empty(), "{out}");
    assert_eq!(
        listener.accept().map(|_| ()).map_err(|e| e.kind()),
        Err(std::io::ErrorKind::WouldBlock),
        "gocred connected to the bus for a denied host"
    );

    // For the allowed host `auto` asks that bus, and gives up on it within its deadline.
    let started = std::time::Instant::now();
    let out = env
        .gocred(&["get"])
        .stdin(get_request("allowed.corp.example"))
        .run();
    let took = started.elapsed();
    assert!(
        listener.accept().is_ok(),
        "gocred never tried the bus: {out}"
    );
    assert!(
        took < std::time::Duration::from_secs(3),
        "auto waited {took:?} on a silent bus: {out}"
    );
    assert!(out.stdout.is_empty(), "{out}");
}

#[test]
fn concurrent_stores_lose_no_user_and_no_index_line() {
    let hosts = ["one.corp.example", "two.corp.example"];
    let users: Vec<String> = (0..6).map(|i| format!("user{i}")).collect();
    let (env, keyring, outputs) = crate::common::keyring::with_a_keyring_that_survives(
        Login::Unlocked,
        |env, _| {
            env.policy(&format!(
                "{}\n{}",
                policy(Some("secret-service"), &format!("https://{}", hosts[0])),
                policy(None, &format!("https://{}", hosts[1]))
            ));
            let env = &*env;
            std::thread::scope(|s| {
                let stores: Vec<_> = hosts
                    .iter()
                    .flat_map(|host| users.iter().map(move |user| (host, user)))
                    .map(|(host, user)| {
                        s.spawn(move || {
                            env.gocred(&["store"])
                                .stdin(format!(
                                    "protocol=https\nhost={host}\nusername={user}\npassword=p-{user}\n\n"
                                ))
                                .run()
                        })
                    })
                    .collect();
                stores
                    .into_iter()
                    .map(|t| t.join().unwrap())
                    .collect::<Vec<_>>()
            })
        },
    );
    for out in &outputs {
        out.assert_success();
    }
    for host in hosts {
        let raw = keyring.lookup(&env, &format!("https://{host}")).unwrap();
        for user in &users {
            assert!(
                raw.contains(&format!("username={user}\npassword=p-{user}\n")),
                "{user} lost on {host}: {raw}"
            );
        }
    }
    let index = keyring.lookup(&env, "gocred:index").unwrap();
    let mut lines: Vec<&str> = index.lines().collect();
    lines.sort();
    assert_eq!(
        lines,
        vec!["https://one.corp.example", "https://two.corp.example"]
    );
}
