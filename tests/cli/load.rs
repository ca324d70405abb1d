//! Load: 200 `git credential fill` processes at once against one store (the file store, kernel
//! keyutils, gnome-keyring's Secret Service), each asking for its own user on a shared host or
//! for its own host: every one succeeds with exactly its own credential, nothing on stderr. And
//! 100 concurrent `git credential approve` of distinct hosts into the file store: all 100 kept.

use crate::common::{TestEnv, value_of};
use std::io::Write;
use std::process::{Child, Stdio};

/// One process per (host, user): half share one host with a user each, half have a host each.
fn credentials(n: usize, shared: &str, own: &str) -> Vec<(String, String, String)> {
    (0..n)
        .map(|i| {
            let host = if i % 2 == 0 {
                shared.to_owned()
            } else {
                format!("h{i}.{own}")
            };
            (
                host,
                format!("user{i}"),
                format!("pw-{i}-{}", i * 7919 % 1000),
            )
        })
        .collect()
}

fn git(env: &TestEnv, args: &[&str]) -> Child {
    // Through the env: a keyutils test's git must run in that test's own keyrings.
    env.std_command("git")
        .args(args)
        .env("GIT_TERMINAL_PROMPT", "0")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn git")
}

/// Starts one `git credential ACTION` per input, all waiting on stdin, then feeds them all at
/// once and collects every output.
fn all_at_once(env: &TestEnv, action: &str, inputs: &[String]) -> Vec<std::process::Output> {
    let mut children: Vec<Child> = inputs
        .iter()
        .map(|_| git(env, &["credential", action]))
        .collect();
    for (child, input) in children.iter_mut().zip(inputs) {
        let mut stdin = child.stdin.take().unwrap();
        stdin.write_all(input.as_bytes()).unwrap();
    }
    children
        .into_iter()
        .map(|c| c.wait_with_output().unwrap())
        .collect()
}

/// Each fill got its own user and password, and nothing else happened.
#[track_caller]
fn assert_each_got_its_own(outputs: &[std::process::Output], creds: &[(String, String, String)]) {
    for (out, (host, user, password)) in outputs.iter().zip(creds) {
        let stdout = String::from_utf8_lossy(&out.stdout);
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(
            out.status.success() && stderr.is_empty(),
            "{user}@{host}: {:?} stderr {stderr:?}",
            out.status
        );
        assert_eq!(value_of(&stdout, "username"), Some(user.as_str()), "{host}");
        assert_eq!(
            value_of(&stdout, "password"),
            Some(password.as_str()),
            "{user}@{host}"
        );
    }
}

fn fill_requests(creds: &[(String, String, String)]) -> Vec<String> {
    creds
        .iter()
        .map(|(host, user, _)| format!("protocol=https\nhost={host}\nusername={user}\n\n"))
        .collect()
}

fn policy(shared: &str, own: &str, backend: &str, source: &str) -> String {
    format!(
        "[keychain]\nbackend = \"{backend}\"\n\n\
         [[rule]]\nurl = \"https://{shared}\"\nsources = [\"{source}\"]\nstore = \"{source}\"\n\n\
         [[rule]]\nurl = \"https://*.{own}\"\nsources = [\"{source}\"]\nstore = \"{source}\"\n"
    )
}

/// Stores `creds` through gocred itself: one thread per host, that host's users in turn.
fn store_all(env: &TestEnv, creds: &[(String, String, String)]) {
    for out in try_store_all(env, creds) {
        out.assert_success();
    }
}

/// [`store_all`] without asserting: what each `gocred store` did.
fn try_store_all(env: &TestEnv, creds: &[(String, String, String)]) -> Vec<crate::common::Output> {
    let mut by_host: std::collections::BTreeMap<&str, Vec<String>> = Default::default();
    for (host, user, password) in creds {
        by_host.entry(host).or_default().push(format!(
            "protocol=https\nhost={host}\nusername={user}\npassword={password}\n"
        ));
    }
    std::thread::scope(|s| {
        let threads: Vec<_> = by_host
            .values()
            .map(|requests| {
                s.spawn(move || {
                    requests
                        .iter()
                        .map(|request| env.gocred(&["store"]).stdin(request).run())
                        .collect::<Vec<_>>()
                })
            })
            .collect();
        threads
            .into_iter()
            .flat_map(|t| t.join().unwrap())
            .collect()
    })
}

#[test]
fn two_hundred_concurrent_fills_from_the_file_store_each_get_their_own() {
    let env = TestEnv::new();
    env.policy(&policy(
        "shared.load.example",
        "load.example",
        "auto",
        "file",
    ));
    env.use_gocred_by_path();
    let creds = credentials(200, "shared.load.example", "load.example");
    // Planted in one write: the point is the 200 readers.
    let records: Vec<gocred::source::Record> = creds
        .iter()
        .map(|(host, user, password)| gocred::source::Record {
            scope: gocred::policy::ScopeKey(format!("https://{host}")),
            path: None,
            unknown: Vec::new(),
            cred: gocred::source::Credential {
                username: user.clone(),
                password: gocred::secret::Secret::new(password.clone()),
                password_expiry_utc: None,
                oauth_refresh_token: None,
            },
        })
        .collect();
    let bytes = gocred::source::record::encode(&records).unwrap();
    gocred::fs::write_private_atomic(&env.file_store_path(), bytes.as_bytes()).unwrap();

    let outputs = all_at_once(&env, "fill", &fill_requests(&creds));
    assert_each_got_its_own(&outputs, &creds);
}

#[test]
fn a_hundred_concurrent_approves_into_the_file_store_keep_all_hundred() {
    let env = TestEnv::new();
    env.policy(&policy(
        "shared.load.example",
        "load.example",
        "auto",
        "file",
    ));
    env.use_gocred_by_path();
    let creds = credentials(100, "shared.load.example", "load.example");
    let approvals: Vec<String> = creds
        .iter()
        .map(|(host, user, password)| {
            format!("protocol=https\nhost={host}\nusername={user}\npassword={password}\n\n")
        })
        .collect();
    for out in all_at_once(&env, "approve", &approvals) {
        assert!(out.status.success() && out.stderr.is_empty(), "{out:?}");
    }
    let stored = gocred::source::record::decode(env.file_store().unwrap().as_bytes()).unwrap();
    assert_eq!(stored.len(), 100);
    for (host, user, password) in &creds {
        assert!(
            stored.iter().any(|r| r.scope.0 == format!("https://{host}")
                && r.cred.username == *user
                && r.cred.password.expose() == password),
            "{user}@{host} was lost"
        );
    }
    // And they read back, all at once.
    let outputs = all_at_once(&env, "fill", &fill_requests(&creds));
    assert_each_got_its_own(&outputs, &creds);
}

/// Erases everything the keyutils test stored, even when it fails: entries and index lines live
/// in the user's persistent keyring.
struct EraseKeyutils<'e> {
    env: &'e TestEnv,
    hosts: Vec<String>,
}

impl Drop for EraseKeyutils<'_> {
    fn drop(&mut self) {
        for host in &self.hosts {
            let _ = self
                .env
                .gocred(&["erase"])
                .stdin(format!("protocol=https\nhost={host}\n"))
                .run();
            crate::common::keyring::keyutils_purge(self.env, &format!("https://{host}"));
        }
    }
}

#[test]
fn two_hundred_concurrent_fills_from_keyutils_each_get_their_own() {
    crate::common::keyring::require_session_keyring();
    let _turn = crate::keychain::keyutils_turn();
    let env = TestEnv::new();
    let tag = std::process::id();
    let shared = format!("shared-{tag}.load.example");
    let own = format!("own-{tag}.load.example");
    env.policy(&policy(&shared, &own, "keyutils", "keychain"));
    env.use_gocred_by_path();
    // 20 hosts: one shared by 100 users, 19 with their own (the rest of the 200 ask for those
    // too, each with its own user).
    let creds: Vec<(String, String, String)> = credentials(200, &shared, &own)
        .into_iter()
        .enumerate()
        .map(|(i, (host, user, password))| {
            let host = if host == shared {
                host
            } else {
                format!("h{}.{own}", i % 19)
            };
            (host, user, password)
        })
        .collect();
    let mut hosts: Vec<String> = creds.iter().map(|c| c.0.clone()).collect();
    hosts.sort();
    hosts.dedup();
    let _erase = EraseKeyutils {
        env: &env,
        hosts: hosts.clone(),
    };
    store_all(&env, &creds);
    let outputs = all_at_once(&env, "fill", &fill_requests(&creds));
    assert_each_got_its_own(&outputs, &creds);
}

#[test]
fn two_hundred_concurrent_fills_from_the_secret_service_each_get_their_own() {
    let (shared, own) = ("shared.load.example", "load.example");
    let creds: Vec<(String, String, String)> = credentials(200, shared, own)
        .into_iter()
        .enumerate()
        .map(|(i, (host, user, password))| {
            let host = if host == shared {
                host
            } else {
                format!("h{}.{own}", i % 19)
            };
            (host, user, password)
        })
        .collect();
    let (_env, _keyring, (stores, outputs)) = crate::common::keyring::with_a_keyring_that_survives(
        crate::common::keyring::Login::Unlocked,
        |env, _| {
            env.policy(&policy(shared, own, "secret-service", "keychain"));
            env.use_gocred_by_path();
            let stores = try_store_all(env, &creds);
            let outputs = all_at_once(env, "fill", &fill_requests(&creds));
            (stores, outputs)
        },
    );
    for out in stores {
        out.assert_success();
    }
    assert_each_got_its_own(&outputs, &creds);
}
