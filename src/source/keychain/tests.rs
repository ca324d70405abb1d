//! The keychain layout and semantics over keyring-core's in-memory mock store: no D-Bus, no
//! keyutils. The real backends are exercised by `tests/cli/keychain.rs`.

use super::backend::{Kind, Opened};
use super::*;
use crate::policy::{Policy, Rule, load_str};
use crate::secret::Secret;
use keyring_core::CredentialStore;
use keyring_core::mock;
use std::path::Path;
use std::sync::Arc;

const NOW: u64 = 1_800_000_000;
const A: &str = "https://gitlab.corp.example";
const B: &str = "https://h.example:8443/group/repo.git";

struct Fixture {
    store: Arc<mock::Store>,
    keychain: Keychain,
    policy: Policy,
    _dir: tempfile::TempDir,
    lock: PathBuf,
}

fn fixture() -> Fixture {
    let dir = tempfile::tempdir().unwrap();
    let lock = dir.path().join("run/gocred/keychain.lock");
    let store = mock::Store::new().unwrap();
    let dyn_store: Arc<CredentialStore> = store.clone();
    let keychain = Keychain {
        backend: KeychainBackend::Keyutils,
        opened: OnceLock::from(Ok(Opened {
            store: dyn_store,
            kind: Kind::Mock,
            passed_over: None,
        })),
        lock_path: Some(lock.clone()),
    };
    let policy = load_str(
        Path::new("/cfg/config.toml"),
        &format!("[[rule]]\nurl = \"{A}\"\nsources = [\"keychain\"]\nstore = \"keychain\"\n"),
    )
    .unwrap_or_else(|e| panic!("{}", e.report()));
    Fixture {
        store,
        keychain,
        policy,
        _dir: dir,
        lock,
    }
}

impl Fixture {
    fn rule(&self) -> &Rule {
        &self.policy.rules[0]
    }

    fn get(&self, scope: &str, user: Option<&str>) -> Result<Option<Credential>, SourceError> {
        let scope = ScopeKey(scope.into());
        self.keychain.get(&Query {
            scope: &scope,
            rule: self.rule(),
            path: None,
            username: user,
            now: NOW,
        })
    }

    fn password(&self, scope: &str, user: Option<&str>) -> Option<String> {
        self.get(scope, user)
            .unwrap()
            .map(|c| c.password.expose().to_owned())
    }

    fn store(&self, scope: &str, user: &str, password: &str) {
        self.keychain
            .store(&ScopeKey(scope.into()), cred(user, password))
            .unwrap();
    }

    fn erase(&self, scope: &str, user: Option<&str>, password: Option<&str>) -> usize {
        let password = password.map(Secret::from);
        self.keychain
            .erase(&ScopeKey(scope.into()), user, password.as_ref())
            .unwrap()
    }

    /// The raw secret of the mock entry (service gocred, user `user`), if any.
    fn raw(&self, user: &str) -> Option<Vec<u8>> {
        let entry =
            Entry::new_in_store(&(self.store.clone() as Arc<CredentialStore>), SERVICE, user)
                .unwrap();
        match entry.get_secret() {
            Ok(bytes) => Some(bytes),
            Err(KeyringError::NoEntry) => None,
            Err(e) => panic!("mock: {e}"),
        }
    }

    fn set_raw(&self, user: &str, bytes: &[u8]) {
        Entry::new_in_store(&(self.store.clone() as Arc<CredentialStore>), SERVICE, user)
            .unwrap()
            .set_secret(bytes)
            .unwrap();
    }

    /// Makes the next call on the mock entry `user` fail with `error`.
    fn fail_next(&self, user: &str, error: KeyringError) {
        let entry =
            Entry::new_in_store(&(self.store.clone() as Arc<CredentialStore>), SERVICE, user)
                .unwrap();
        let cred: &mock::Cred = entry.as_any().downcast_ref().unwrap();
        cred.set_error(error);
    }

    fn index(&self) -> Option<String> {
        self.raw(INDEX_USER).map(|b| String::from_utf8(b).unwrap())
    }
}

fn cred(user: &str, password: &str) -> Credential {
    Credential {
        username: user.into(),
        password: Secret::from(password),
        password_expiry_utc: None,
        oauth_refresh_token: None,
    }
}

#[test]
fn stores_and_reads_back_one_entry_per_scope() {
    let f = fixture();
    assert_eq!(f.password(A, None), None, "empty keychain");
    f.store(A, "alice", "pa");
    assert_eq!(f.password(A, Some("alice")).as_deref(), Some("pa"));
    assert_eq!(f.password(A, None).as_deref(), Some("pa"));
    // Another scope (port, path, scheme) gets nothing.
    for other in [
        "https://gitlab.corp.example:8443",
        "https://gitlab.corp.example/group",
        "http://gitlab.corp.example",
        "https://corp.example",
    ] {
        assert_eq!(f.password(other, None), None, "{other}");
    }
    // The entry is the record encoding, filed under the scope key.
    let raw = String::from_utf8(f.raw(A).unwrap()).unwrap();
    assert_eq!(raw, format!("scope={A}\nusername=alice\npassword=pa\n\n"));
}

#[test]
fn several_users_share_one_entry_and_the_newest_answers_without_a_user() {
    let f = fixture();
    f.store(A, "alice", "pa");
    f.store(A, "bob", "pb");
    assert_eq!(f.password(A, Some("alice")).as_deref(), Some("pa"));
    assert_eq!(f.password(A, Some("bob")).as_deref(), Some("pb"));
    assert_eq!(f.password(A, Some("carol")), None);
    assert_eq!(f.password(A, None).as_deref(), Some("pb"));
    // Replacing alice's password keeps one record for her and makes her the newest.
    f.store(A, "alice", "pa2");
    assert_eq!(f.password(A, Some("alice")).as_deref(), Some("pa2"));
    assert_eq!(f.password(A, None).as_deref(), Some("pa2"));
    let raw = String::from_utf8(f.raw(A).unwrap()).unwrap();
    assert_eq!(raw.matches("username=alice\n").count(), 1, "{raw}");
}

#[test]
fn expired_records_are_not_returned() {
    let f = fixture();
    let mut c = cred("alice", "old");
    c.password_expiry_utc = Some(NOW - 1);
    f.keychain.store(&ScopeKey(A.into()), c).unwrap();
    assert_eq!(f.password(A, Some("alice")), None);
}

#[test]
fn erase_removes_only_matching_records_and_a_wrong_password_keeps_them() {
    let f = fixture();
    f.store(A, "alice", "pa");
    f.store(A, "bob", "pb");
    assert_eq!(f.erase(A, Some("alice"), Some("wrong")), 0);
    assert_eq!(f.password(A, Some("alice")).as_deref(), Some("pa"));
    assert_eq!(f.erase(A, Some("carol"), None), 0);
    assert_eq!(f.erase(B, Some("alice"), Some("pa")), 0, "other scope");
    assert_eq!(f.erase(A, Some("alice"), Some("pa")), 1);
    assert_eq!(f.password(A, Some("alice")), None);
    assert_eq!(f.password(A, Some("bob")).as_deref(), Some("pb"));
    assert_eq!(f.index().as_deref(), Some(format!("{A}\n").as_str()));
}

#[test]
fn erasing_the_last_record_deletes_the_entry_and_its_index_line() {
    let f = fixture();
    f.store(A, "alice", "pa");
    f.store(B, "bob", "pb");
    assert_eq!(f.index().as_deref(), Some(format!("{A}\n{B}\n").as_str()));
    assert_eq!(f.erase(A, Some("alice"), None), 1);
    assert_eq!(f.raw(A), None, "entry deleted");
    assert_eq!(f.index().as_deref(), Some(format!("{B}\n").as_str()));
    // Without user name or password, every record of the scope goes.
    f.store(B, "carol", "pc");
    assert_eq!(f.erase(B, None, None), 2);
    assert_eq!(f.raw(B), None);
    assert_eq!(f.index(), None, "an empty index is deleted");
}

#[test]
fn list_enumerates_every_scope_through_the_index_without_secrets() {
    let f = fixture();
    assert_eq!(f.keychain.list().unwrap(), vec![]);
    f.store(A, "alice", "pa");
    let mut with_refresh = cred("bob", "pb");
    with_refresh.password_expiry_utc = Some(NOW + 60);
    with_refresh.oauth_refresh_token = Some(Secret::from("rt"));
    f.keychain.store(&ScopeKey(B.into()), with_refresh).unwrap();
    f.store(A, "carol", "pc");
    let listed = f.keychain.list().unwrap();
    let seen: Vec<(&str, &str)> = listed
        .iter()
        .map(|i| (i.scope.as_str(), i.username.as_str()))
        .collect();
    assert_eq!(seen, vec![(A, "alice"), (A, "carol"), (B, "bob")]);
    let bob = &listed[2];
    assert_eq!(bob.password_expiry_utc, Some(NOW + 60));
    assert!(bob.has_refresh_token);
    // Storing again does not duplicate the index line.
    f.store(A, "alice", "pa3");
    assert_eq!(f.index().as_deref(), Some(format!("{A}\n{B}\n").as_str()));
}

#[test]
fn a_stale_index_line_lists_nothing() {
    let f = fixture();
    f.store(A, "alice", "pa");
    f.set_raw(INDEX_USER, format!("{B}\n{A}\n").as_bytes());
    let listed = f.keychain.list().unwrap();
    assert_eq!(listed.len(), 1);
    assert_eq!(listed[0].scope.as_str(), A);
}

#[test]
fn a_corrupt_entry_is_fatal_and_named_without_its_content() {
    let f = fixture();
    f.set_raw(
        A,
        b"scope=https://gitlab.corp.example\nusername=alice\nSENTINEL-not-a-field\n",
    );
    let err = f.get(A, None).unwrap_err();
    let SourceError::Fatal(msg) = &err else {
        panic!("not fatal: {err:?}")
    };
    assert!(msg.contains(A), "{msg}");
    assert!(msg.contains("corrupt"), "{msg}");
    assert!(msg.contains("mock-remove"), "names the fix: {msg}");
    assert!(!msg.contains("SENTINEL"), "{msg}");
    // store and erase refuse to overwrite it too.
    assert!(matches!(
        f.keychain.store(&ScopeKey(A.into()), cred("alice", "p")),
        Err(SourceError::Fatal(_))
    ));
    assert!(f.raw(A).unwrap().ends_with(b"SENTINEL-not-a-field\n"));
}

#[test]
fn list_shows_a_corrupt_entry_as_a_problem_and_still_lists_the_others() {
    let f = fixture();
    f.store(A, "alice", "pa");
    f.store(B, "bob", "pb");
    f.set_raw(
        A,
        b"scope=https://gitlab.corp.example\nSENTINEL-not-a-field\n",
    );
    let listed = f.keychain.list().unwrap();
    assert_eq!(listed.len(), 2, "{listed:?}");
    let broken = listed.iter().find(|i| i.scope.as_str() == A).unwrap();
    let problem = broken.problem.as_deref().unwrap();
    assert!(
        problem.contains("corrupt") && !problem.contains("SENTINEL"),
        "{problem}"
    );
    let fine = listed.iter().find(|i| i.scope.as_str() == B).unwrap();
    assert_eq!(
        (fine.username.as_str(), fine.problem.as_deref()),
        ("bob", None)
    );
}

#[test]
fn a_record_for_another_scope_is_corrupt() {
    let f = fixture();
    f.set_raw(
        A,
        b"scope=https://evil.example\nusername=alice\npassword=SENTINEL\n\n",
    );
    let err = f.get(A, Some("alice")).unwrap_err();
    let SourceError::Fatal(msg) = &err else {
        panic!("not fatal: {err:?}")
    };
    assert!(msg.contains(A), "{msg}");
    assert!(msg.contains("another scope"), "{msg}");
    assert!(!msg.contains("evil") && !msg.contains("SENTINEL"), "{msg}");
}

#[test]
fn keyring_errors_never_show_the_secret_bytes() {
    let f = fixture();
    f.store(A, "alice", "pa");
    for error in [
        KeyringError::BadEncoding(b"SENTINEL-secret".to_vec()),
        KeyringError::BadDataFormat(b"SENTINEL-secret".to_vec(), "SENTINEL-inner".into()),
    ] {
        f.fail_next(A, error);
        let err = f.get(A, None).unwrap_err();
        let msg = err.to_string();
        assert!(matches!(err, SourceError::Fatal(_)), "{msg}");
        assert!(!msg.contains("SENTINEL"), "{msg}");
        assert!(msg.contains(A), "{msg}");
    }
    // The error was consumed: the entry still reads.
    assert_eq!(f.password(A, None).as_deref(), Some("pa"));
}

#[test]
fn refused_access_is_unavailable_with_a_fix() {
    let f = fixture();
    f.fail_next(A, KeyringError::NoStorageAccess("locked".into()));
    let err = f.get(A, None).unwrap_err();
    let SourceError::Unavailable(msg) = &err else {
        panic!("not unavailable: {err:?}")
    };
    assert!(msg.starts_with("keychain (mock): "), "{msg}");
    assert!(msg.contains("fix the mock"), "{msg}");
    assert!(!msg.contains('\n'), "{msg}");
}

#[test]
fn a_failed_write_leaves_the_previous_records() {
    let f = fixture();
    f.store(A, "alice", "pa");
    // The next call on A is the read inside store: it fails, nothing is written.
    f.fail_next(A, KeyringError::PlatformFailure("EIO".into()));
    let err = f
        .keychain
        .store(&ScopeKey(A.into()), cred("bob", "pb"))
        .unwrap_err();
    assert!(matches!(err, SourceError::Unavailable(_)), "{err}");
    assert_eq!(f.password(A, Some("alice")).as_deref(), Some("pa"));
    assert_eq!(f.password(A, Some("bob")), None);
}

#[test]
fn only_store_and_erase_take_the_lock() {
    let f = fixture();
    f.get(A, None).unwrap();
    f.keychain.list().unwrap();
    assert_eq!(f.erase(A, None, None), 0);
    assert!(!f.lock.exists(), "get, list and a no-op erase take no lock");
    f.store(A, "alice", "pa");
    assert!(f.lock.exists());
}

#[test]
fn store_waits_for_the_lock() {
    let f = fixture();
    let held = crate::fs::lock_exclusive(&f.lock).unwrap();
    std::thread::scope(|s| {
        let writer = s.spawn(|| f.store(A, "alice", "pa"));
        std::thread::sleep(std::time::Duration::from_millis(100));
        assert!(!writer.is_finished(), "store went ahead without the lock");
        assert_eq!(f.raw(A), None);
        drop(held);
        writer.join().unwrap();
    });
    assert_eq!(f.password(A, None).as_deref(), Some("pa"));
}

#[test]
fn location_names_the_backend_that_answered() {
    let f = fixture();
    assert_eq!(f.keychain.location(), "mock keychain");
    // Before the first call nothing is opened, and location says what was asked for.
    let lazy = Keychain::new(KeychainBackend::SecretService);
    assert_eq!(lazy.location(), "keychain (secret-service)");
    assert!(lazy.opened.get().is_none());
}

#[test]
fn path_entries_answer_only_their_path_and_unknown_fields_survive_rewrites() {
    let f = fixture();
    let scope = ScopeKey(A.into());
    // What a newer gocred wrote: alice with fields this version does not know.
    let planted = format!("scope={A}\nusername=alice\npassword=pa\nauthtype=Bearer\nx-new=1\n\n");
    f.set_raw(A, planted.as_bytes());
    f.keychain
        .store_record(Record::new(
            scope.clone(),
            Some("g/foo.git".into()),
            cred("bob", "pb"),
        ))
        .unwrap();
    let raw = String::from_utf8(f.raw(A).unwrap()).unwrap();
    assert!(raw.starts_with(&planted), "{raw}");
    let get = |path: Option<&str>, user: Option<&str>| {
        f.keychain
            .get(&Query {
                scope: &scope,
                rule: f.rule(),
                path,
                username: user,
                now: NOW,
            })
            .unwrap()
            .map(|c| c.password.expose().to_owned())
    };
    assert_eq!(get(Some("g/foo.git"), Some("bob")).as_deref(), Some("pb"));
    assert_eq!(get(Some("g/bar.git"), Some("bob")), None);
    assert_eq!(get(None, Some("bob")).as_deref(), Some("pb"));
    // alice's entry has no path: as in git, it answers only requests without a path.
    assert_eq!(get(Some("g/bar.git"), Some("alice")), None);
    assert_eq!(get(None, Some("alice")).as_deref(), Some("pa"));
    // An erase for another path leaves bob; one for his path takes him, and alice stays as is.
    let erase = |path| {
        f.keychain
            .erase_matching(&Want {
                scope: &scope,
                path,
                username: Some("bob"),
                password: None,
            })
            .unwrap()
    };
    assert_eq!(erase(Some("g/bar.git")), 0);
    assert_eq!(erase(Some("g/foo.git")), 1);
    assert_eq!(String::from_utf8(f.raw(A).unwrap()).unwrap(), planted);
}
