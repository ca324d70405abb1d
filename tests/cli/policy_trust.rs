//! The policy file as a trust boundary (issue 9 §2, issue 15), each class through the binary:
//!
//! - the policy in force is the file as it is now: no cache, so an in-place edit of the same
//!   size with the old mtime, or a rename swap, takes effect on the next `get`;
//! - the file is trusted only when only its owner can change it (StrictModes), for the file and
//!   every directory above it; a relative `GOCRED_CONFIG` is refused; an explicitly named file
//!   that does not exist is an error for `config check` and `status`, a note from `get`;
//! - only regular files, with a size cap: a FIFO or `/dev/zero` neither hangs nor feeds `get`;
//! - a wildcard on a public suffix is refused at load.

use crate::common::{Output, TestEnv, set_mode};
use std::io::{Seek, Write};
use std::path::Path;
use std::time::{Duration, SystemTime};

/// `sources = ["file"]` rules for each host; the hosts all have the same length, so two
/// policies with the same number of rules have the same size.
fn file_rules(hosts: &[&str]) -> String {
    hosts
        .iter()
        .map(|h| {
            format!("[[rule]]\nurl = \"https://{h}\"\nsources = [\"file\"]\nstore = \"file\"\n\n")
        })
        .collect()
}

/// Puts a credential for every host in the file store (the format of src/source/record.rs).
fn store_all(env: &TestEnv, hosts: &[&str]) {
    let text: String = hosts
        .iter()
        .map(|h| format!("scope=https://{h}\nusername=u-{h}\npassword=p-{h}\n\n"))
        .collect();
    let path = env.file_store_path();
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    std::fs::write(&path, text).unwrap();
    set_mode(&path, 0o600);
}

fn get(env: &TestEnv, host: &str) -> Output {
    env.gocred(&["get"])
        .stdin(format!("protocol=https\nhost={host}\n\n"))
        .timeout(Duration::from_secs(20))
        .run()
}

#[track_caller]
fn assert_answers(env: &TestEnv, host: &str) {
    let out = get(env, host);
    out.assert_success();
    assert_eq!(
        out.stdout,
        format!("username=u-{host}\npassword=p-{host}\n"),
        "{out}"
    );
}

#[track_caller]
fn assert_nothing(env: &TestEnv, host: &str) {
    let out = get(env, host);
    out.assert_success();
    assert_eq!(out.stdout, "", "{out}");
}

/// Overwrites `path` in place (same inode, no truncation first) and puts its mtime back.
fn overwrite_in_place_keeping_mtime(path: &Path, text: &str) {
    let meta = std::fs::metadata(path).unwrap();
    assert_eq!(meta.len(), text.len() as u64, "the edit must keep the size");
    let mtime = meta.modified().unwrap();
    let mut f = std::fs::OpenOptions::new().write(true).open(path).unwrap();
    f.seek(std::io::SeekFrom::Start(0)).unwrap();
    f.write_all(text.as_bytes()).unwrap();
    f.set_modified(mtime).unwrap();
    drop(f);
    assert_eq!(std::fs::metadata(path).unwrap().modified().unwrap(), mtime);
}

/// A refusal: non-zero exit, nothing on stdout, one line on stderr holding every `needle`.
#[track_caller]
fn assert_refused(out: &Output, needles: &[&str]) {
    out.assert_failure();
    assert_eq!(out.stdout, "", "{out}");
    assert_eq!(out.stderr_lines().len(), 1, "one line: {out}");
    for needle in needles {
        assert!(out.stderr.contains(needle), "missing {needle:?}: {out}");
    }
}

// ---------------------------------------------------------------------------------------------
// The policy in force is the file as it is now

#[test]
fn policy_in_force_is_the_file_as_it_is_now_after_same_size_inplace_edit() {
    let env = TestEnv::new();
    let (a, b) = ("aaa.corp.example", "bbb.corp.example");
    store_all(&env, &[a, b]);
    let path = env.policy(&file_rules(&[a]));
    // An old mtime, as `cp -p`, `rsync --inplace` or `touch -d` leave it.
    let old = SystemTime::now() - Duration::from_secs(3600);
    std::fs::File::options()
        .write(true)
        .open(&path)
        .unwrap()
        .set_modified(old)
        .unwrap();
    assert_answers(&env, a);
    assert_nothing(&env, b);
    // Revoke a, grant b: same size, same inode, same mtime.
    overwrite_in_place_keeping_mtime(&path, &file_rules(&[b]));
    assert_nothing(&env, a);
    assert_answers(&env, b);
    // And back, twice within the same second.
    overwrite_in_place_keeping_mtime(&path, &file_rules(&[a]));
    assert_answers(&env, a);
    overwrite_in_place_keeping_mtime(&path, &file_rules(&[b]));
    assert_nothing(&env, a);
}

#[test]
fn policy_in_force_is_the_file_as_it_is_now_after_rename_swap() {
    let env = TestEnv::new();
    let (a, b) = ("aaa.corp.example", "bbb.corp.example");
    store_all(&env, &[a, b]);
    let path = env.policy(&file_rules(&[a]));
    let mtime = std::fs::metadata(&path).unwrap().modified().unwrap();
    assert_answers(&env, a);
    let next = path.with_file_name("config.toml.new");
    std::fs::write(&next, file_rules(&[b])).unwrap();
    std::fs::File::options()
        .write(true)
        .open(&next)
        .unwrap()
        .set_modified(mtime)
        .unwrap();
    std::fs::rename(&next, &path).unwrap();
    assert_nothing(&env, a);
    assert_answers(&env, b);
}

#[test]
fn policy_in_force_is_the_file_as_it_is_now_after_rename_swaps_during_gets() {
    // The old cache keyed what a get had parsed on what it stat'ed afterwards: a swap in
    // between left the revoked policy answering for good. Swap while gets run, end on the
    // policy that revokes `a`: every get saw one whole file, and the last word is the file's.
    let env = TestEnv::new();
    let (a, b) = ("aaa.corp.example", "bbb.corp.example");
    store_all(&env, &[a, b]);
    let path = env.policy(&file_rules(&[a]));
    let mtime = std::fs::metadata(&path).unwrap().modified().unwrap();
    let stop = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    let swapper = {
        let (path, stop) = (path.clone(), stop.clone());
        std::thread::spawn(move || {
            let mut round = 0usize;
            while !stop.load(std::sync::atomic::Ordering::SeqCst) {
                let next = path.with_file_name(format!("config.toml.{round}"));
                let host = if round.is_multiple_of(2) { b } else { a };
                std::fs::write(&next, file_rules(&[host])).unwrap();
                std::fs::File::options()
                    .write(true)
                    .open(&next)
                    .unwrap()
                    .set_modified(mtime)
                    .unwrap();
                std::fs::rename(&next, &path).unwrap();
                round += 1;
            }
        })
    };
    for _ in 0..30 {
        let out = get(&env, a);
        out.assert_success();
        let whole =
            out.stdout.is_empty() || out.stdout == format!("username=u-{a}\npassword=p-{a}\n");
        assert!(whole, "{out}");
    }
    stop.store(true, std::sync::atomic::Ordering::SeqCst);
    swapper.join().unwrap();
    let next = path.with_file_name("config.toml.last");
    std::fs::write(&next, file_rules(&[b])).unwrap();
    std::fs::rename(&next, &path).unwrap();
    assert_nothing(&env, a);
    assert_answers(&env, b);
}

#[test]
fn policy_in_force_is_never_half_served_when_an_edit_makes_it_invalid() {
    let env = TestEnv::new();
    let (a, b) = ("aaa.corp.example", "bbb.corp.example");
    store_all(&env, &[a, b]);
    let path = env.policy(&file_rules(&[a, b]));
    assert_answers(&env, a);
    // Same size: `file` becomes `fil3` in b's rule (line 7); a's rule is untouched.
    let broken = {
        let text = file_rules(&[a, b]);
        let i = text.rfind("[\"file\"]").unwrap();
        format!("{}[\"fil3\"]{}", &text[..i], &text[i + 8..])
    };
    overwrite_in_place_keeping_mtime(&path, &broken);
    for host in [a, b] {
        let out = get(&env, host);
        out.assert_failure();
        assert_eq!(out.stdout, "", "{out}");
        assert!(
            out.stderr.contains(&format!("{}:8:", path.display())),
            "names file:line: {out}"
        );
    }
    let check = env.gocred(&["config", "check"]).run();
    check.assert_failure();
    assert!(
        check.stderr.contains(&format!("{}:8:", path.display())),
        "{check}"
    );
}

// ---------------------------------------------------------------------------------------------
// The policy file is trusted only when only its owner can change it

#[test]
fn group_writable_config_is_refused_with_chmod_fix() {
    let env = TestEnv::new();
    let host = "aaa.corp.example";
    store_all(&env, &[host]);
    let path = env.policy(&file_rules(&[host]));
    assert_answers(&env, host);
    let fix = format!("chmod go-w {}", path.display());
    for mode in [0o664, 0o646, 0o666] {
        set_mode(&path, mode);
        assert_refused(&get(&env, host), &[&path.display().to_string(), &fix]);
        assert_refused(&env.gocred(&["config", "check"]).run(), &[&fix]);
        assert_refused(&env.gocred(&["status"]).run(), &[&fix]);
    }
    set_mode(&path, 0o644);
    assert_answers(&env, host);
}

#[test]
fn writable_directory_above_config_is_refused_with_chmod_fix_unless_sticky() {
    let env = TestEnv::new();
    let host = "aaa.corp.example";
    store_all(&env, &[host]);
    let path = env.policy(&file_rules(&[host]));
    for dir in [
        path.parent().unwrap(),
        env.config_home().as_path(),
        env.home(),
    ] {
        let before = std::fs::metadata(dir).unwrap().permissions();
        set_mode(dir, 0o777);
        let fix = format!("chmod go-w {}", dir.display());
        assert_refused(&get(&env, host), &[&path.display().to_string(), &fix]);
        // Sticky, like /tmp: no one can rename or remove another user's entry there.
        set_mode(dir, 0o1777);
        assert_answers(&env, host);
        std::fs::set_permissions(dir, before).unwrap();
    }
    assert_answers(&env, host);
}

#[test]
fn writable_directory_behind_a_symlinked_config_is_refused() {
    let env = TestEnv::new();
    let host = "aaa.corp.example";
    store_all(&env, &[host]);
    // The real file lives in a directory anyone can write; the config path is a symlink in a
    // private directory. What counts is where the link leads.
    let shared = env.root().join("shared");
    std::fs::create_dir(&shared).unwrap();
    let real = shared.join("policy.toml");
    std::fs::write(&real, file_rules(&[host])).unwrap();
    std::fs::create_dir_all(env.policy_path().parent().unwrap()).unwrap();
    std::os::unix::fs::symlink(&real, env.policy_path()).unwrap();
    set_mode(&shared, 0o755);
    assert_answers(&env, host); // a symlink to a regular file in a safe place is fine
    set_mode(&shared, 0o777);
    let fix = format!("chmod go-w {}", shared.display());
    assert_refused(&get(&env, host), &[&fix]);
}

#[test]
fn config_owned_by_another_user_is_refused_with_chown_fix() {
    let env = TestEnv::new();
    let host = "aaa.corp.example";
    store_all(&env, &[host]);
    let path = env.policy(&file_rules(&[host]));
    // SAFETY: geteuid cannot fail.
    let me = unsafe { libc::geteuid() };
    assert_eq!(
        me, 0,
        "this test builds another user's file with chown: run it as root"
    );
    // A uid no account uses: chown works for root whether or not it exists.
    let stranger = 54_321;
    std::os::unix::fs::chown(&path, Some(stranger), None).unwrap();
    let fix = format!("chown {me} {}", path.display());
    assert_refused(
        &get(&env, host),
        &[&path.display().to_string(), "uid 54321", &fix],
    );
    assert_refused(&env.gocred(&["config", "check"]).run(), &[&fix]);
    std::os::unix::fs::chown(&path, Some(me), None).unwrap();
    assert_answers(&env, host);
    // The same for a directory above it.
    let dir = path.parent().unwrap();
    std::os::unix::fs::chown(dir, Some(stranger), None).unwrap();
    let fix = format!("chown {me} {}", dir.display());
    assert_refused(&get(&env, host), &[&fix]);
    std::os::unix::fs::chown(dir, Some(me), None).unwrap();
    assert_answers(&env, host);
}

#[test]
fn relative_gocred_config_is_refused() {
    let env = TestEnv::new();
    let host = "aaa.corp.example";
    store_all(&env, &[host]);
    // A repository git works in could hold a `config.toml` of its own choosing.
    std::fs::write(env.root().join("config.toml"), file_rules(&[host])).unwrap();
    for args in [
        &["get"][..],
        &["config", "check"],
        &["config", "path"],
        &["status"],
    ] {
        let out = env
            .gocred(args)
            .env("GOCRED_CONFIG", "config.toml")
            .stdin(format!("protocol=https\nhost={host}\n\n"))
            .run();
        assert_refused(&out, &["config.toml", "absolute"]);
    }
}

#[test]
fn named_config_that_does_not_exist_fails_check_and_status_and_get_notes_it() {
    let env = TestEnv::new();
    let missing = env.root().join("typo/config.toml");
    let named = missing.display().to_string();
    for args in [&["config", "check"][..], &["status"]] {
        let out = env.gocred(args).env("GOCRED_CONFIG", &missing).run();
        assert_refused(&out, &[&named, "does not exist", "GOCRED_CONFIG"]);
    }
    // get: no answer, exit 0 (git moves on to the next helper either way), one line saying why.
    let out = env
        .gocred(&["get"])
        .env("GOCRED_CONFIG", &missing)
        .stdin("protocol=https\nhost=aaa.corp.example\n\n")
        .run();
    out.assert_success();
    assert_eq!(out.stdout, "", "{out}");
    assert_eq!(out.stderr_lines().len(), 1, "{out}");
    assert!(
        out.stderr.contains(&named) && out.stderr.contains("does not exist"),
        "{out}"
    );
    // Without GOCRED_CONFIG a missing default config is the documented fresh start, not an error.
    let out = env
        .gocred(&["config", "check"])
        .env_remove("GOCRED_CONFIG")
        .run();
    out.assert_success();
    assert!(out.stdout.contains("no config file yet"), "{out}");
}

// ---------------------------------------------------------------------------------------------
// Only regular files

#[test]
fn fifo_config_does_not_hang_get() {
    let env = TestEnv::new();
    let fifo = env.root().join("config.fifo");
    let c = std::ffi::CString::new(fifo.to_str().unwrap()).unwrap();
    // SAFETY: a valid NUL-terminated path.
    assert_eq!(unsafe { libc::mkfifo(c.as_ptr(), 0o600) }, 0);
    for args in [&["get"][..], &["config", "check"], &["status"]] {
        let out = env
            .gocred(args)
            .env("GOCRED_CONFIG", &fifo)
            .stdin("protocol=https\nhost=aaa.corp.example\n\n")
            .timeout(Duration::from_secs(20))
            .run();
        assert_refused(&out, &[&fifo.display().to_string(), "FIFO", "regular file"]);
    }
}

#[test]
fn device_config_does_not_exhaust_get() {
    let env = TestEnv::new();
    let link = env.root().join("zero.toml");
    std::os::unix::fs::symlink("/dev/zero", &link).unwrap();
    for config in [Path::new("/dev/zero"), link.as_path()] {
        let out = env
            .gocred(&["get"])
            .env("GOCRED_CONFIG", config)
            .stdin("protocol=https\nhost=aaa.corp.example\n\n")
            .timeout(Duration::from_secs(20))
            .run();
        assert_refused(
            &out,
            &[
                &config.display().to_string(),
                "character device",
                "regular file",
            ],
        );
    }
}

#[test]
fn config_larger_than_the_cap_is_refused() {
    let env = TestEnv::new();
    let path = env.policy("");
    // A sparse file one byte over 8 MiB.
    std::fs::File::options()
        .write(true)
        .open(&path)
        .unwrap()
        .set_len((8 << 20) + 1)
        .unwrap();
    assert_refused(
        &get(&env, "aaa.corp.example"),
        &[&path.display().to_string(), "8 MiB"],
    );
    // Exactly at the cap it is read (and here found not to be TOML text of rules).
    std::fs::File::options()
        .write(true)
        .open(&path)
        .unwrap()
        .set_len(8 << 20)
        .unwrap();
    let out = get(&env, "aaa.corp.example");
    out.assert_failure();
    assert!(!out.stderr.contains("8 MiB"), "{out}");
}

// ---------------------------------------------------------------------------------------------
// Wildcards cannot span organisations

#[test]
fn wildcard_on_public_suffix_is_refused() {
    let env = TestEnv::new();
    let path = env.policy(
        "[[rule]]\nurl = \"https://*.co.uk\"\nsources = [\"file\"]\n\n\
         [[rule]]\nurl = \"https://*.github.io\"\nsources = [\"file\"]\n\n\
         [[rule]]\nurl = \"https://*.COM.AU.\"\nsources = [\"file\"]\n\n\
         [[rule]]\nurl = \"https://*.corp.co.uk\"\nsources = [\"file\"]\n",
    );
    let out = env.gocred(&["config", "check"]).run();
    out.assert_failure();
    let p = path.display();
    for (line, suffix) in [(2, "co.uk"), (6, "github.io"), (10, "com.au")] {
        let want = format!("{p}:{line}:7: ");
        let hit = out
            .stderr
            .lines()
            .find(|l| l.starts_with(&want))
            .unwrap_or_else(|| panic!("no {want}: {out}"));
        assert!(hit.contains(&format!("public suffix '{suffix}'")), "{hit}");
    }
    assert!(
        !out.stderr.contains(":14:"),
        "*.corp.co.uk is one organisation's: {out}"
    );
    // get refuses the whole file, for any host.
    let out = get(&env, "evil.co.uk");
    out.assert_failure();
    assert_eq!(out.stdout, "", "{out}");
    // The organisation's own wildcard alone is fine.
    env.policy("[[rule]]\nurl = \"https://*.corp.co.uk\"\nsources = [\"file\"]\n");
    env.gocred(&["config", "check"]).success();
}

#[test]
fn version_shows_the_public_suffix_list() {
    let env = TestEnv::new();
    let out = env.gocred(&["--version"]).success();
    let line = out
        .stdout
        .lines()
        .find(|l| l.starts_with("public suffix list: psl "))
        .unwrap_or_else(|| panic!("{out}"));
    assert!(line.len() > "public suffix list: psl ".len(), "{line}");
}
