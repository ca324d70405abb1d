//! An oauth rule with the keychain store, end to end against real keyrings: gnome-keyring's
//! Secret Service on a private bus, and kernel keyutils in the session keyring `scripts/test`
//! gives the tests. `gocred login` (against the GitLab fake) stores there, `get` returns it, a
//! refresh rewrites it, `logout` revokes and erases it. Checked with the keyrings' own tools.

use crate::common::keyring::{
    Login, SecretService, keyutils_lookup, keyutils_purge, require_session_keyring,
};
use crate::common::vendor_fake::{Vendor, VendorFake};
use crate::common::{TestEnv, value_of};

/// Runs login / get / refresh / logout with `backend` (which `status` and `login` call
/// `location`), reading the keyring with `peek` (the raw entry gocred filed under a scope key).
fn round_trip(
    env: &mut TestEnv,
    fake: &VendorFake,
    backend: &str,
    location: &str,
    peek: &dyn Fn(&TestEnv, &str) -> Option<String>,
) {
    env.set_env("GOCRED_HTTP_TIMEOUT", "5");
    fake.trust_in_git(env);
    // No `store` in the rule: oauth tokens go to the keychain by default.
    env.policy(&format!(
        "[keychain]\nbackend = \"{backend}\"\n\n{}",
        fake.rule("keychain", "")
            .replace("store = \"keychain\"\n", "")
    ));
    let key = fake.origin();
    assert_eq!(peek(env, &key), None, "a leftover entry for {key}");

    let out = env.gocred(&["login", &key, "--no-browser"]).success();
    assert!(
        out.stdout.contains(&format!("Logged in to {key} as alice")),
        "{out}"
    );
    assert!(
        out.stdout
            .contains(&format!("the token from {location} (expires")),
        "{out}"
    );
    assert_eq!(env.file_store(), None, "tokens went to the file store");
    let entry = peek(env, &key).expect("login stored nothing in the keychain");
    // The first token the fake issued, and its refresh token, are in the entry.
    let first = fake.seen_at("/api/v4/user")[0]
        .authorization
        .clone()
        .unwrap()
        .trim_start_matches("Bearer ")
        .to_owned();
    assert!(
        entry.contains(&first),
        "the access token is not in the entry"
    );
    assert!(fake.accepts(&first));

    let request = format!("protocol=https\nhost=127.0.0.1:{}\n\n", fake.port());
    let out = env.gocred(&["get"]).stdin(&request).success();
    assert_eq!(value_of(&out.stdout, "username"), Some("oauth2"));
    assert_eq!(value_of(&out.stdout, "password"), Some(first.as_str()));
    assert!(fake.refreshes().is_empty());

    // Inside the margin: get refreshes and rewrites the keychain entry.
    let out = env
        .gocred(&["get"])
        .env("GOCRED_OAUTH_REFRESH_MARGIN", "100000")
        .stdin(&request)
        .success();
    assert_eq!(fake.refreshes().len(), 1);
    let second = value_of(&out.stdout, "password").unwrap().to_owned();
    assert_ne!(second, first);
    assert!(fake.accepts(&second) && !fake.accepts(&first));
    let entry = peek(env, &key).expect("the refresh erased the entry");
    assert!(
        entry.contains(&second) && !entry.contains(&first),
        "the entry was not rewritten"
    );
    let out = env.gocred(&["get"]).stdin(&request).success();
    assert_eq!(value_of(&out.stdout, "password"), Some(second.as_str()));

    let out = env.gocred(&["logout", &key]).success();
    assert!(
        out.stdout.contains("revoked at the server and erased here"),
        "{out}"
    );
    assert!(!fake.accepts(&second));
    assert_eq!(peek(env, &key), None, "logout left the entry");
    let out = env.gocred(&["get"]).stdin(&request).run();
    out.assert_code(1);
    assert!(out.stderr.contains("no token for"), "{out}");
}

#[test]
fn oauth_tokens_live_in_the_secret_service_login_get_refresh_logout() {
    let mut env = TestEnv::new();
    let service = SecretService::start(&mut env, Login::Unlocked);
    let fake = VendorFake::start(&env, Vendor::GitLab);
    round_trip(
        &mut env,
        &fake,
        "secret-service",
        "Secret Service (default collection)",
        &|env, user| service.lookup(env, user),
    );
}

#[test]
fn oauth_tokens_live_in_kernel_keyutils_login_get_refresh_logout() {
    let _turn = crate::keychain::keyutils_turn();
    require_session_keyring();
    let mut env = TestEnv::new();
    let fake = VendorFake::start(&env, Vendor::GitLab);
    // A port is reused across runs: an entry left by a crashed run must not answer.
    keyutils_purge(&env, &fake.origin());
    round_trip(
        &mut env,
        &fake,
        "keyutils",
        "kernel keyutils (persistent keyring)",
        &|env, user| keyutils_lookup(env, user),
    );
    keyutils_purge(&env, &fake.origin());
}
