//! Where gocred keeps things. Every location can be overridden for tests and unusual machines.

use std::path::PathBuf;

/// `$GOCRED_CONFIG`, else `<config dir>/gocred/config.toml` (XDG on Linux).
pub fn config_file() -> Option<PathBuf> {
    if let Some(p) = std::env::var_os("GOCRED_CONFIG").filter(|p| !p.is_empty()) {
        return Some(PathBuf::from(p));
    }
    directories::BaseDirs::new().map(|d| d.config_dir().join("gocred").join("config.toml"))
}

/// `<data dir>/gocred/credentials`: the default file store.
pub fn default_file_store() -> Option<PathBuf> {
    directories::BaseDirs::new().map(|d| d.data_local_dir().join("gocred").join("credentials"))
}

/// A private directory for per-run files (`gocred exec`'s netrc): `$XDG_RUNTIME_DIR/gocred`,
/// else the cache dir. Not for locks: see [`lock_dir`].
pub fn runtime_dir() -> Option<PathBuf> {
    let base = directories::BaseDirs::new()?;
    Some(
        base.runtime_dir()
            .unwrap_or_else(|| base.cache_dir())
            .join("gocred"),
    )
}

/// The one directory for gocred's lock files (keychain store/erase, OAuth refresh), derived from
/// the effective uid and the passwd database, never from the environment: two gits of one user,
/// one with `XDG_RUNTIME_DIR` and one without, or with different `HOME`s, contend for the same
/// locks (issue 15, "nothing lost").
///
/// `/run/user/<uid>/gocred` when `/run/user/<uid>` is a real directory owned by the uid with
/// mode 0700 (systemd-logind's, while the user has a session); else
/// `<passwd home>/.cache/gocred/locks`. Never `/tmp`: anyone could plant a directory or a
/// symlink there first. The directory is created 0700; an existing one that is a symlink, is
/// owned by someone else or that group or others can write is refused, as is a directory above
/// it in the home that others could swap (sticky ones excepted), each with its fix.
///
/// A process started while `/run/user/<uid>` is absent and one started after it appeared (the
/// user's first login) use different directories; both are short-lived, so only a refresh in
/// flight at that very moment could race.
#[cfg(unix)]
pub fn lock_dir() -> Result<PathBuf, String> {
    static DIR: std::sync::OnceLock<Result<PathBuf, String>> = std::sync::OnceLock::new();
    DIR.get_or_init(|| {
        // SAFETY: geteuid cannot fail.
        let uid = unsafe { libc::geteuid() };
        let run = PathBuf::from(format!("/run/user/{uid}"));
        if private_dir_of(&run, uid) {
            let dir = run.join("gocred");
            ensure_lock_dir(&dir, uid)?;
            return Ok(dir);
        }
        let home = passwd_home(uid).ok_or_else(|| {
            format!(
                "cannot tell where to put lock files: {} does not exist and uid {uid} has no home \
                 directory in the passwd database; give the user a home directory (or a login \
                 session with /run/user/{uid})",
                run.display()
            )
        })?;
        let cache = home.join(".cache");
        let gocred = cache.join("gocred");
        if !home.is_dir() {
            return Err(format!(
                "cannot put lock files anywhere: {} does not exist, and neither does {}, the home \
                 directory of uid {uid} in the passwd database; create that directory (or run \
                 gocred in a login session, which has /run/user/{uid})",
                run.display(),
                home.display()
            ));
        }
        for parent in [&home, &cache, &gocred] {
            if parent != &home {
                create_dir_0700(parent)
                    .map_err(|e| format!("cannot create {}: {e}", parent.display()))?;
            }
            check_parent(parent, uid)?;
        }
        let dir = gocred.join("locks");
        ensure_lock_dir(&dir, uid)?;
        Ok(dir)
    })
    .clone()
}

#[cfg(not(unix))]
pub fn lock_dir() -> Result<PathBuf, String> {
    directories::BaseDirs::new()
        .map(|d| d.cache_dir().join("gocred").join("locks"))
        .ok_or_else(|| "cannot tell where to put lock files: no home directory".to_owned())
}

/// Whether `dir` is a directory (not a symlink) owned by `uid` that only it can use.
#[cfg(unix)]
fn private_dir_of(dir: &std::path::Path, uid: u32) -> bool {
    use std::os::unix::fs::MetadataExt;
    std::fs::symlink_metadata(dir)
        .is_ok_and(|m| m.file_type().is_dir() && m.uid() == uid && m.mode() & 0o077 == 0)
}

#[cfg(unix)]
fn create_dir_0700(dir: &std::path::Path) -> std::io::Result<()> {
    use std::os::unix::fs::DirBuilderExt;
    match std::fs::DirBuilder::new().mode(0o700).create(dir) {
        Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => Ok(()),
        other => other,
    }
}

/// Creates the lock directory itself (0700) or checks the one that is there: a real directory,
/// owned by `uid`, that group and others cannot write.
#[cfg(unix)]
fn ensure_lock_dir(dir: &std::path::Path, uid: u32) -> Result<(), String> {
    use std::os::unix::fs::MetadataExt;
    create_dir_0700(dir).map_err(|e| format!("cannot create {}: {e}", dir.display()))?;
    let meta =
        std::fs::symlink_metadata(dir).map_err(|e| format!("cannot use {}: {e}", dir.display()))?;
    let shown = dir.display();
    if !meta.file_type().is_dir() {
        return Err(format!(
            "the lock directory {shown} is not a directory (a symlink?); remove it (`rm {shown}`) \
             and gocred makes a private one"
        ));
    }
    if meta.uid() != uid {
        return Err(format!(
            "the lock directory {shown} belongs to uid {}, not to you (uid {uid}); remove it \
             (`sudo rm -r {shown}`) and gocred makes a private one",
            meta.uid()
        ));
    }
    if meta.mode() & 0o022 != 0 {
        return Err(format!(
            "the lock directory {shown} is writable by others (mode {:04o}); run `chmod 700 {shown}`",
            meta.mode() & 0o7777
        ));
    }
    Ok(())
}

/// A directory above the lock directory: it may be a symlink the user made (`~/.cache` on
/// another disk), but what it resolves to must be owned by `uid` or root, and not writable by
/// group or others unless sticky (else they could swap what lies below).
#[cfg(unix)]
fn check_parent(dir: &std::path::Path, uid: u32) -> Result<(), String> {
    use std::os::unix::fs::MetadataExt;
    let meta = std::fs::metadata(dir).map_err(|e| format!("cannot use {}: {e}", dir.display()))?;
    let shown = dir.display();
    if meta.uid() != uid && meta.uid() != 0 {
        return Err(format!(
            "{shown} (above gocred's lock directory) belongs to uid {}, not to you (uid {uid}) \
             or root; run `sudo chown {uid} {shown}`",
            meta.uid()
        ));
    }
    if meta.mode() & 0o022 != 0 && meta.mode() & 0o1000 == 0 {
        return Err(format!(
            "{shown} (above gocred's lock directory) is writable by others (mode {:04o}); run \
             `chmod go-w {shown}`",
            meta.mode() & 0o7777
        ));
    }
    Ok(())
}

/// The id of group `name` in the group database (`getgrnam_r`); `None` when there is none.
#[cfg(unix)]
pub fn group_id(name: &str) -> Option<u32> {
    let name = std::ffi::CString::new(name).ok()?;
    let mut buf = vec![0 as libc::c_char; 16 * 1024];
    loop {
        // SAFETY: an all-zero group is a valid value to be filled in.
        let mut grp: libc::group = unsafe { std::mem::zeroed() };
        let mut found: *mut libc::group = std::ptr::null_mut();
        // SAFETY: every pointer is valid for the call and buf's length is passed.
        let rc = unsafe {
            libc::getgrnam_r(
                name.as_ptr(),
                &mut grp,
                buf.as_mut_ptr(),
                buf.len(),
                &mut found,
            )
        };
        if rc == libc::ERANGE && buf.len() < 1024 * 1024 {
            buf.resize(buf.len() * 4, 0);
            continue;
        }
        return (rc == 0 && !found.is_null()).then_some(grp.gr_gid);
    }
}

/// No group database here: no group is known.
#[cfg(not(unix))]
pub fn group_id(_name: &str) -> Option<u32> {
    None
}

/// The home directory of `uid` in the passwd database (`getpwuid_r`), not `$HOME`.
#[cfg(unix)]
fn passwd_home(uid: u32) -> Option<PathBuf> {
    use std::ffi::CStr;
    use std::os::unix::ffi::OsStrExt;
    let mut buf = vec![0 as libc::c_char; 16 * 1024];
    loop {
        // SAFETY: an all-zero passwd is a valid value to be filled in.
        let mut pwd: libc::passwd = unsafe { std::mem::zeroed() };
        let mut found: *mut libc::passwd = std::ptr::null_mut();
        // SAFETY: every pointer is valid for the call and buf's length is passed.
        let rc =
            unsafe { libc::getpwuid_r(uid, &mut pwd, buf.as_mut_ptr(), buf.len(), &mut found) };
        if rc == libc::ERANGE && buf.len() < 1024 * 1024 {
            buf.resize(buf.len() * 4, 0);
            continue;
        }
        if rc != 0 || found.is_null() || pwd.pw_dir.is_null() {
            return None;
        }
        // SAFETY: getpwuid_r succeeded, so pw_dir points to a NUL-terminated string in buf.
        let dir = unsafe { CStr::from_ptr(pwd.pw_dir) };
        let dir = std::ffi::OsStr::from_bytes(dir.to_bytes());
        return (!dir.is_empty() && dir.as_bytes().starts_with(b"/")).then(|| PathBuf::from(dir));
    }
}

#[cfg(all(test, unix))]
mod tests {
    use super::*;
    use std::os::unix::fs::PermissionsExt;

    fn uid() -> u32 {
        // SAFETY: geteuid cannot fail.
        unsafe { libc::geteuid() }
    }

    #[test]
    fn the_passwd_home_is_found_whatever_home_says() {
        let home = passwd_home(uid()).expect("the test user has a passwd entry");
        assert!(home.is_absolute());
        assert_eq!(passwd_home(u32::MAX - 7), None);
    }

    #[test]
    fn a_lock_dir_that_others_could_change_is_refused_with_its_fix() {
        let tmp = tempfile::tempdir().unwrap();
        let dir = tmp.path().join("locks");
        ensure_lock_dir(&dir, uid()).unwrap();
        let mode = std::fs::metadata(&dir).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode, 0o700);
        assert!(private_dir_of(&dir, uid()));

        std::fs::set_permissions(&dir, std::fs::Permissions::from_mode(0o777)).unwrap();
        let e = ensure_lock_dir(&dir, uid()).unwrap_err();
        assert!(
            e.contains("writable by others") && e.contains("chmod 700"),
            "{e}"
        );
        assert!(!private_dir_of(&dir, uid()));

        let link = tmp.path().join("planted");
        std::os::unix::fs::symlink(&dir, &link).unwrap();
        let e = ensure_lock_dir(&link, uid()).unwrap_err();
        assert!(e.contains("not a directory") && e.contains("rm "), "{e}");
        assert!(!private_dir_of(&link, uid()));

        let e = ensure_lock_dir(&dir, uid() + 1).unwrap_err();
        assert!(e.contains("belongs to uid") && e.contains("rm -r"), "{e}");

        let e = check_parent(&dir, uid()).unwrap_err();
        assert!(e.contains("chmod go-w"), "{e}");
        std::fs::set_permissions(&dir, std::fs::Permissions::from_mode(0o1777)).unwrap();
        check_parent(&dir, uid()).unwrap(); // sticky, like /tmp
    }
}
