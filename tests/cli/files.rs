//! The files gocred keeps secrets in, attacked as a local user would (issue 9 "Files refuse to be
//! redirected", issue 15 "Only regular files" and "Nothing lost"), through the real binary and
//! real git.

use crate::common::keyring::{Login, SecretService, require_program};
use crate::common::{Output, TestEnv, set_mode, value_of};
use std::os::unix::fs::symlink;
use std::time::{Duration, Instant};

const HOST: &str = "files.example";

fn file_env() -> TestEnv {
    let env = TestEnv::new();
    env.policy(&format!(
        "[[rule]]\nurl = \"https://{HOST}\"\nsources = [\"file\"]\nstore = \"file\"\n\n\
         [[rule]]\nurl = \"https://other.{HOST}\"\nsources = [\"file\"]\nstore = \"file\"\n"
    ));
    env
}

fn get(env: &TestEnv) -> Output {
    env.gocred(&["get"])
        .stdin(format!("protocol=https\nhost={HOST}\n\n"))
        .timeout(Duration::from_secs(20))
        .run()
}

fn store(env: &TestEnv, host: &str, user: &str, password: &str) -> Output {
    env.gocred(&["store"])
        .stdin(format!(
            "protocol=https\nhost={host}\nusername={user}\npassword={password}\n\n"
        ))
        .timeout(Duration::from_secs(20))
        .run()
}

/// gocred refused: exit 1, stdout clean, one stderr line holding every piece of `says`.
#[track_caller]
fn assert_refused(out: &Output, says: &[&str]) {
    assert_eq!(out.code(), Some(1), "{out}");
    assert!(out.stdout.is_empty(), "{out}");
    let lines = out.stderr_lines();
    assert_eq!(lines.len(), 1, "one line: {out}");
    for s in says {
        assert!(lines[0].contains(s), "says {s:?}: {out}");
    }
}

fn store_dir(env: &TestEnv) -> std::path::PathBuf {
    env.file_store_path().parent().unwrap().to_owned()
}

fn plant_store(env: &TestEnv, text: &str) {
    let path = env.file_store_path();
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    set_mode(path.parent().unwrap(), 0o700);
    std::fs::write(&path, text).unwrap();
    set_mode(&path, 0o600);
}

#[test]
fn files_refuse_to_be_redirected_by_a_symlink_at_the_lock_path() {
    let env = file_env();
    let dir = store_dir(&env);
    std::fs::create_dir_all(&dir).unwrap();
    set_mode(&dir, 0o700);
    let victim = env.root().join("victim");
    let lock = dir.join("credentials.lock");
    symlink(&victim, &lock).unwrap();
    let out = store(&env, HOST, "alice", "pa");
    assert_refused(&out, &["credentials.lock", "symbolic link", "remove it"]);
    assert!(!victim.exists(), "the lock followed the symlink");
    assert_eq!(env.file_store(), None);

    // A symlink to an existing file: never opened for writing, never changed.
    std::fs::write(&victim, "precious").unwrap();
    assert_refused(&store(&env, HOST, "alice", "pa"), &["symbolic link"]);
    assert_eq!(std::fs::read_to_string(&victim).unwrap(), "precious");

    // Once the symlink is gone, the store works and the lock is a file of gocred's own.
    std::fs::remove_file(&lock).unwrap();
    store(&env, HOST, "alice", "pa").assert_success();
    assert!(std::fs::symlink_metadata(&lock).unwrap().is_file());
    assert_eq!(value_of(&get(&env).stdout, "password"), Some("pa"));
}

#[test]
fn files_refuse_a_store_directory_another_user_owns() {
    let env = file_env();
    store(&env, HOST, "alice", "pa").assert_success();
    let dir = store_dir(&env);
    // Tests run as root: give the directory to a uid nobody has.
    std::os::unix::fs::chown(&dir, Some(54_321), None).unwrap();
    let shown = dir.display().to_string();
    for out in [get(&env), store(&env, HOST, "bob", "pb")] {
        assert_refused(&out, &[&shown, "another user", "chown"]);
        assert!(!out.stderr.contains("pa"), "{out}");
    }
    std::os::unix::fs::chown(&dir, Some(0), None).unwrap();
    assert_eq!(value_of(&get(&env).stdout, "password"), Some("pa"));
}

#[test]
fn files_refuse_a_store_directory_others_can_write_unless_sticky() {
    let env = file_env();
    store(&env, HOST, "alice", "pa").assert_success();
    let dir = store_dir(&env);
    let shown = dir.display().to_string();
    for mode in [0o777, 0o770, 0o722] {
        set_mode(&dir, mode);
        for out in [get(&env), store(&env, HOST, "bob", "pb")] {
            assert_refused(&out, &[&shown, "writable by other users", "chmod go-w"]);
        }
    }
    // A directory above it counts as much.
    set_mode(&dir, 0o700);
    let above = dir.parent().unwrap();
    set_mode(above, 0o777);
    assert_refused(&get(&env), &[&above.display().to_string(), "chmod go-w"]);
    // Sticky (like /tmp): others cannot replace what is ours.
    set_mode(above, 0o1777);
    assert_eq!(value_of(&get(&env).stdout, "password"), Some("pa"));
    set_mode(above, 0o755);
    store(&env, HOST, "bob", "pb").assert_success();
    assert!(
        !env.file_store().unwrap().contains("tmp."),
        "no temp file left"
    );
}

/// `get` must not hang on, nor read without end from, a file store that is not a regular file.
#[track_caller]
fn assert_not_read(env: &TestEnv, what: &str) {
    let started = Instant::now();
    let out = get(env);
    assert!(started.elapsed() < Duration::from_secs(10), "{out}");
    let path = env.file_store_path().display().to_string();
    assert_refused(&out, &[&path, what]);
}

#[test]
fn files_only_a_regular_file_store_is_read() {
    let env = file_env();
    let path = env.file_store_path();
    let dir = store_dir(&env);
    std::fs::create_dir_all(&dir).unwrap();
    set_mode(&dir, 0o700);

    // A FIFO nobody writes to: opening it for reading would block forever.
    let fifo = std::ffi::CString::new(path.to_str().unwrap()).unwrap();
    // SAFETY: a valid NUL-terminated path.
    assert_eq!(unsafe { libc::mkfifo(fifo.as_ptr(), 0o600) }, 0);
    assert_not_read(&env, "is a FIFO");
    // store refuses it too, and leaves it as it was.
    assert_refused(&store(&env, HOST, "a", "b"), &["is a FIFO"]);
    std::fs::remove_file(&path).unwrap();

    // A symlink to /dev/zero: endless.
    symlink("/dev/zero", &path).unwrap();
    assert_not_read(&env, "is a symbolic link");
    std::fs::remove_file(&path).unwrap();

    // Even a symlink to a good store is not followed.
    let elsewhere = env.root().join("elsewhere");
    std::fs::write(
        &elsewhere,
        format!("scope=https://{HOST}\nusername=u\npassword=p\n\n"),
    )
    .unwrap();
    set_mode(&elsewhere, 0o600);
    symlink(&elsewhere, &path).unwrap();
    assert_not_read(&env, "is a symbolic link");
    std::fs::remove_file(&path).unwrap();

    // A directory.
    std::fs::create_dir(&path).unwrap();
    assert_not_read(&env, "is a directory");
    std::fs::remove_dir(&path).unwrap();

    // A regular file larger than the cap (sparse: costs no disk).
    let big = std::fs::File::create(&path).unwrap();
    big.set_len(64 * 1024 * 1024).unwrap();
    drop(big);
    set_mode(&path, 0o600);
    assert_not_read(&env, "is larger than");
    std::fs::remove_file(&path).unwrap();

    // And a plain file another user owns.
    plant_store(
        &env,
        &format!("scope=https://{HOST}\nusername=u\npassword=p\n\n"),
    );
    std::os::unix::fs::chown(&path, Some(54_321), None).unwrap();
    assert_not_read(&env, "belongs to another user");
}

#[test]
fn files_refuse_a_lock_path_that_is_a_fifo() {
    let env = file_env();
    let dir = store_dir(&env);
    std::fs::create_dir_all(&dir).unwrap();
    set_mode(&dir, 0o700);
    let lock = std::ffi::CString::new(dir.join("credentials.lock").to_str().unwrap()).unwrap();
    // SAFETY: a valid NUL-terminated path.
    assert_eq!(unsafe { libc::mkfifo(lock.as_ptr(), 0o600) }, 0);
    let started = Instant::now();
    let out = store(&env, HOST, "alice", "pa");
    assert!(started.elapsed() < Duration::from_secs(10), "{out}");
    assert_refused(&out, &["credentials.lock", "a FIFO"]);
}

/// What a newer gocred may have written: fields this version does not know.
const NEWER: &str = "scope=https://files.example\nusername=alice\npassword=pa\n\
    authtype=Bearer\ncredential=SENTINEL-cred\nx-written-by=gocred 9.9\n\n\
    scope=https://files.example\npath=group/repo.git\nusername=bob\npassword=pb\n\
    password_expiry_utc=4102444800\nx-future=\n\n";

#[test]
fn files_nothing_lost_unknown_fields_survive_a_rewrite_byte_for_byte() {
    let env = file_env();
    env.use_gocred_by_path();
    plant_store(&env, NEWER);
    // A store for another host rewrites the file: every byte of what was there stays.
    env.credential_approve(&format!("https://other.{HOST}"), "carol", "pc")
        .assert_success();
    let after = env.file_store().unwrap();
    assert!(after.starts_with(NEWER), "{after}");
    assert!(after.contains("username=carol\npassword=pc\n"), "{after}");
    // An erase of another entry rewrites it again.
    env.credential_reject(&format!("https://other.{HOST}"), "carol", "pc")
        .assert_success();
    assert_eq!(env.file_store().unwrap(), NEWER);
    // git approving what alice already has changes nothing (her unknown fields stay).
    env.credential_approve(&format!("https://{HOST}"), "alice", "pa")
        .assert_success();
    assert_eq!(env.file_store().unwrap(), NEWER);
    // And the entries still answer.
    let out = env.credential_fill(&format!("https://alice@{HOST}"));
    assert_eq!(value_of(&out.stdout, "password"), Some("pa"), "{out}");
}

#[test]
fn files_nothing_lost_a_keychain_entry_with_several_users_keeps_unknown_fields() {
    let mut env = TestEnv::new();
    env.policy(&format!(
        "[keychain]\nbackend = \"secret-service\"\n\n\
         [[rule]]\nurl = \"https://{HOST}\"\nsources = [\"keychain\"]\nstore = \"keychain\"\n"
    ));
    env.use_gocred_by_path();
    let service = SecretService::start(&mut env, Login::Unlocked);
    let scope = format!("https://{HOST}");
    let planted = NEWER.replace("SENTINEL-cred", "SENTINEL-kc");
    env.command(require_program("secret-tool"))
        .env("DBUS_SESSION_BUS_ADDRESS", service.address())
        .args([
            "store",
            "--label=gocred: planted",
            "service",
            "gocred",
            "username",
            &scope,
        ])
        .stdin(&planted)
        .success();
    // A third user on the same host: the entry is rewritten with all three.
    env.credential_approve(&scope, "carol", "pc")
        .assert_success();
    let raw = service.lookup(&env, &scope).expect("the entry");
    assert!(raw.starts_with(&planted), "{raw}");
    assert!(raw.ends_with("username=carol\npassword=pc\n\n"), "{raw}");
    // Erasing carol gives back exactly what was planted.
    env.credential_reject(&scope, "carol", "pc")
        .assert_success();
    assert_eq!(service.lookup(&env, &scope).unwrap(), planted);
}
