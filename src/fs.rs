//! The one way gocred writes a file that matters: a private temp file beside the target, fsync,
//! rename over the target, fsync the directory. A reader sees the old or the new content, never a
//! torn or empty file, and the mode is 0600 from the first byte. A writer killed before its rename
//! leaves its temp file behind; the next write of the same file removes it.
//!
//! Nothing here can be redirected: temp and lock files are created with `O_CREAT|O_EXCL|
//! O_NOFOLLOW` (a planted symlink or file is never followed nor reused as ours), an existing lock
//! file is opened with `O_NOFOLLOW` and must be a regular file, and a directory that holds them
//! (or any directory above it) that another user owns, or that group or others may write without
//! the sticky bit, is refused with the `chmod`/`chown` that fixes it. [`read_regular`] reads a
//! secret-holding file only when it is a regular file (never a symlink, FIFO or device) of
//! bounded size.

use crate::secret::SecretBytes;
use std::fs::{self, File, OpenOptions};
use std::io::{self, Read, Write};
use std::path::{Path, PathBuf};

#[cfg(unix)]
use std::os::unix::fs::{MetadataExt, OpenOptionsExt, PermissionsExt};

/// `O_NOFOLLOW` (and no controlling terminal, no blocking on a FIFO) for every open here.
#[cfg(unix)]
const NOFOLLOW: i32 = libc::O_NOFOLLOW | libc::O_NOCTTY | libc::O_NONBLOCK;

fn refused(message: String) -> io::Error {
    io::Error::new(io::ErrorKind::PermissionDenied, message)
}

/// The effective user id (what owns the files gocred creates), asked once: gocred never
/// changes it, and the trust checks ask for every directory above a file.
#[cfg(unix)]
pub fn euid() -> u32 {
    static EUID: std::sync::OnceLock<u32> = std::sync::OnceLock::new();
    // SAFETY: geteuid has no preconditions and cannot fail.
    *EUID.get_or_init(|| unsafe { libc::geteuid() })
}

/// Refuses `dir` when it, or a directory above it, is owned by another user (root excepted) or
/// may be written by group or others without the sticky bit: whoever can do that can swap the
/// files gocred keeps there. The error names the directory and the fix. A directory that does
/// not exist (yet) is fine: nothing can be read from it, and gocred creates it 0700.
#[cfg(unix)]
pub fn check_trusted_dir(dir: &Path) -> io::Result<()> {
    let canonical = match dir.canonicalize() {
        Ok(c) => c,
        Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(()),
        Err(e) => return Err(e),
    };
    let me = euid();
    // The path as given (its symlinks live in these directories) and where it resolves to.
    let mut seen: Vec<&Path> = Vec::new();
    for d in dir.ancestors().chain(canonical.ancestors()) {
        if d.as_os_str().is_empty() || seen.contains(&d) {
            continue;
        }
        seen.push(d);
        let meta = match fs::metadata(d) {
            Ok(m) => m,
            Err(e) if e.kind() == io::ErrorKind::NotFound => continue,
            Err(e) => return Err(e),
        };
        let (owner, mode) = (meta.uid(), meta.mode() & 0o7777);
        if owner != me && owner != 0 {
            return Err(refused(format!(
                "the directory {} belongs to another user (uid {owner}), who could replace what \
                 gocred keeps there; run `chown {me} {}` or use a directory of your own",
                d.display(),
                d.display()
            )));
        }
        if mode & 0o022 != 0 && mode & 0o1000 == 0 {
            return Err(refused(format!(
                "the directory {} is writable by other users (mode {:04o}), who could replace \
                 what gocred keeps there; run `chmod go-w {}`",
                d.display(),
                mode,
                d.display()
            )));
        }
    }
    Ok(())
}

#[cfg(not(unix))]
pub fn check_trusted_dir(_dir: &Path) -> io::Result<()> {
    Ok(())
}

/// What kind of non-regular file `meta` is, in words.
fn kind_of(meta: &fs::Metadata) -> &'static str {
    let t = meta.file_type();
    #[cfg(unix)]
    {
        use std::os::unix::fs::FileTypeExt;
        if t.is_fifo() {
            return "a FIFO";
        }
        if t.is_char_device() || t.is_block_device() {
            return "a device";
        }
        if t.is_socket() {
            return "a socket";
        }
    }
    if t.is_symlink() {
        "a symbolic link"
    } else if t.is_dir() {
        "a directory"
    } else {
        "not a regular file"
    }
}

/// The contents of `path` and its metadata, read only when it is a regular file (not a symlink,
/// FIFO, device or directory) of at most `max` bytes; `Ok(None)` when there is no such file. The
/// checks happen before anything is read, so a FIFO or `/dev/zero` cannot hang or exhaust gocred.
pub fn read_regular(path: &Path, max: u64) -> io::Result<Option<(SecretBytes, fs::Metadata)>> {
    let not_regular = |meta: &fs::Metadata| {
        refused(format!(
            "is {}; gocred reads it only as a regular file: replace it with one",
            kind_of(meta)
        ))
    };
    match fs::symlink_metadata(path) {
        Ok(meta) if !meta.is_file() => return Err(not_regular(&meta)),
        Ok(_) => {}
        Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(e),
    }
    let mut options = OpenOptions::new();
    options.read(true);
    #[cfg(unix)]
    options.custom_flags(NOFOLLOW);
    let file = match options.open(path) {
        Ok(f) => f,
        Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(None),
        #[cfg(unix)]
        Err(e) if e.raw_os_error() == Some(libc::ELOOP) => {
            return Err(refused(
                "is a symbolic link; gocred reads it only as a regular file: replace it with one"
                    .to_owned(),
            ));
        }
        Err(e) => return Err(e),
    };
    // Swapped between the two looks: check what was really opened.
    let meta = file.metadata()?;
    if !meta.is_file() {
        return Err(not_regular(&meta));
    }
    let too_large = || {
        refused(format!(
            "is larger than {max} bytes, more than gocred ever writes there; check what it holds"
        ))
    };
    if meta.len() > max {
        return Err(too_large());
    }
    // Sized once from the file's length (+1 to see the end): two reads instead of a ladder of
    // growing ones, and no reallocation that would leave an unwiped copy of a secret behind.
    let mut bytes = SecretBytes(Vec::with_capacity(meta.len() as usize + 1));
    file.take(max + 1).read_to_end(&mut bytes.0)?;
    if bytes.0.len() as u64 > max {
        return Err(too_large());
    }
    Ok(Some((bytes, meta)))
}

/// `Some(uid)` when `meta`'s file belongs to another user than the one running (root excepted).
pub fn foreign_owner(meta: &fs::Metadata) -> Option<u32> {
    #[cfg(unix)]
    {
        let owner = meta.uid();
        (owner != euid() && owner != 0).then_some(owner)
    }
    #[cfg(not(unix))]
    {
        let _ = meta;
        None
    }
}

/// Creates `dir` (and parents) with mode 0700 where it does not exist.
pub fn create_private_dir(dir: &Path) -> io::Result<()> {
    let mut builder = fs::DirBuilder::new();
    builder.recursive(true);
    #[cfg(unix)]
    std::os::unix::fs::DirBuilderExt::mode(&mut builder, 0o700);
    builder.create(dir)
}

/// `.NAME.tmp.`: every temp file of `target` starts with this, then `PID.NANOS`.
fn temp_prefix(target: &Path) -> String {
    let name = target
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    format!(".{name}.tmp.")
}

fn temp_path(target: &Path) -> PathBuf {
    use std::sync::atomic::{AtomicU32, Ordering};
    static COUNTER: AtomicU32 = AtomicU32::new(0);
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.subsec_nanos());
    let n = COUNTER.fetch_add(1, Ordering::Relaxed);
    target.with_file_name(format!(
        "{}{}.{nanos}{n}",
        temp_prefix(target),
        std::process::id()
    ))
}

/// Whether process `pid` is gone (so its temp files are garbage). Unsure means no.
#[cfg(unix)]
fn process_is_gone(pid: u32) -> bool {
    let Ok(pid) = libc::pid_t::try_from(pid) else {
        return false;
    };
    // SAFETY: signal 0 only checks that the process exists; nothing is sent.
    let alive = unsafe { libc::kill(pid, 0) } == 0;
    !alive && io::Error::last_os_error().raw_os_error() == Some(libc::ESRCH)
}

/// Removes the temp files of `target` that a writer killed before its rename left behind: they
/// hold a full copy of the secrets, including ones erased since. Another process's live temp file
/// is never touched (its pid still runs), so writers without a common lock stay safe.
#[cfg(unix)]
fn sweep_stale_temps(dir: &Path, target: &Path) {
    let prefix = temp_prefix(target);
    let Ok(entries) = fs::read_dir(dir) else {
        return;
    };
    for entry in entries.flatten() {
        let name = entry.file_name();
        let Some(rest) = name.to_str().and_then(|n| n.strip_prefix(&prefix)) else {
            continue;
        };
        let pid = rest.split('.').next().and_then(|p| p.parse::<u32>().ok());
        if pid.is_some_and(|pid| pid != std::process::id() && process_is_gone(pid)) {
            let _ = fs::remove_file(entry.path());
        }
    }
}

/// Creates `path`, mode 0600, failing with `AlreadyExists` when anything (a symlink, a FIFO, a
/// file) is there already: `O_CREAT|O_EXCL|O_NOFOLLOW`.
fn create_new_private(path: &Path) -> io::Result<File> {
    let mut options = OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    options.mode(0o600).custom_flags(NOFOLLOW);
    options.open(path)
}

/// Creates a new temp file for `target`, mode 0600, never following or reusing what is already at
/// its name (`O_EXCL|O_NOFOLLOW`): a name someone planted is passed over for the next one.
fn create_temp(target: &Path) -> io::Result<(PathBuf, File)> {
    let mut attempt = 0;
    loop {
        let tmp = temp_path(target);
        match create_new_private(&tmp) {
            Ok(file) => return Ok((tmp, file)),
            Err(e) if e.kind() == io::ErrorKind::AlreadyExists && attempt < 16 => attempt += 1,
            Err(e) => return Err(e),
        }
    }
}

/// Atomically replaces `target` with `contents`, mode 0600.
pub fn write_private_atomic(target: &Path, contents: &[u8]) -> io::Result<()> {
    let dir = target
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    create_private_dir(dir)?;
    check_trusted_dir(dir)?;
    #[cfg(unix)]
    sweep_stale_temps(dir, target);
    let (tmp, mut file) = create_temp(target)?;
    let result = (|| {
        file.write_all(contents)?;
        file.sync_all()?;
        drop(file);
        fs::rename(&tmp, target)?;
        // Make the rename itself durable.
        #[cfg(unix)]
        File::open(dir)?.sync_all()?;
        Ok(())
    })();
    if result.is_err() {
        let _ = fs::remove_file(&tmp);
    }
    result
}

/// `Some(mode)` when group or others may read or write `meta`'s file.
pub fn loose_mode(meta: &fs::Metadata) -> Option<u32> {
    #[cfg(unix)]
    {
        let mode = meta.permissions().mode() & 0o777;
        (mode & 0o066 != 0).then_some(mode)
    }
    #[cfg(not(unix))]
    {
        let _ = meta;
        None
    }
}

/// An exclusive advisory lock on `path`, released when the guard drops. The lock file is created
/// 0600 with `O_EXCL|O_NOFOLLOW`, or, when it exists, opened with `O_NOFOLLOW` and used only if it
/// is a regular file: a symlink or FIFO planted there is refused, never followed.
pub fn lock_exclusive(path: &Path) -> io::Result<File> {
    if let Some(dir) = path.parent().filter(|p| !p.as_os_str().is_empty()) {
        create_private_dir(dir)?;
        check_trusted_dir(dir)?;
    }
    let mut create = OpenOptions::new();
    create.read(true).write(true).create_new(true);
    let mut existing = OpenOptions::new();
    existing.read(true).write(true);
    #[cfg(unix)]
    {
        create.mode(0o600).custom_flags(NOFOLLOW);
        existing.custom_flags(NOFOLLOW);
    }
    let file = match create.open(path) {
        Ok(f) => f,
        Err(e) if e.kind() == io::ErrorKind::AlreadyExists => match existing.open(path) {
            Ok(f) => f,
            #[cfg(unix)]
            Err(e) if e.raw_os_error() == Some(libc::ELOOP) => {
                return Err(refused(format!(
                    "{} is a symbolic link, not gocred's lock file; remove it",
                    path.display()
                )));
            }
            Err(e) => return Err(e),
        },
        Err(e) => return Err(e),
    };
    let meta = file.metadata()?;
    if !meta.is_file() {
        return Err(refused(format!(
            "{} is {}, not gocred's lock file; remove it",
            path.display(),
            kind_of(&meta)
        )));
    }
    file.lock()?;
    Ok(file)
}

/// Opens `path` for appending (the audit log), creating it mode 0600 in a 0700 directory where
/// it does not exist; never through a symlink (`O_NOFOLLOW`), and only as a regular file: a
/// FIFO, device or directory planted there is refused. With `O_APPEND` every `write` lands at
/// the end, whole, however many processes append at once.
pub fn open_append_private(path: &Path) -> io::Result<File> {
    if let Some(dir) = path.parent().filter(|p| !p.as_os_str().is_empty())
        && !dir.exists()
    {
        create_private_dir(dir)?;
    }
    let mut options = OpenOptions::new();
    options.append(true).create(true);
    #[cfg(unix)]
    options.mode(0o600).custom_flags(NOFOLLOW | libc::O_CLOEXEC);
    let file = match options.open(path) {
        Ok(f) => f,
        #[cfg(unix)]
        Err(e) if e.raw_os_error() == Some(libc::ELOOP) => {
            return Err(refused(
                "is a symbolic link; gocred appends only to a regular file: replace it with one"
                    .to_owned(),
            ));
        }
        Err(e) => return Err(e),
    };
    let meta = file.metadata()?;
    if !meta.is_file() {
        return Err(refused(format!(
            "is {}; gocred appends only to a regular file: replace it with one",
            kind_of(&meta)
        )));
    }
    Ok(file)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn writes_private_and_replaces() {
        let dir = tempfile::tempdir().unwrap();
        let target = dir.path().join("sub/creds");
        write_private_atomic(&target, b"one").unwrap();
        write_private_atomic(&target, b"two").unwrap();
        assert_eq!(fs::read(&target).unwrap(), b"two");
        let meta = fs::metadata(&target).unwrap();
        assert_eq!(meta.permissions().mode() & 0o777, 0o600);
        assert_eq!(
            fs::metadata(target.parent().unwrap())
                .unwrap()
                .permissions()
                .mode()
                & 0o777,
            0o700
        );
        assert_eq!(loose_mode(&meta), None);
        // no temp files left behind
        assert_eq!(fs::read_dir(target.parent().unwrap()).unwrap().count(), 1);
    }

    #[test]
    fn a_write_sweeps_temp_files_of_dead_writers_only() {
        let dir = tempfile::tempdir().unwrap();
        let target = dir.path().join("creds");
        // A child that has exited (and been reaped): its pid no longer runs.
        let mut child = std::process::Command::new("true").spawn().unwrap();
        let dead = child.id();
        child.wait().unwrap();
        let stale = dir.path().join(format!(".creds.tmp.{dead}.1"));
        let live = dir
            .path()
            .join(format!(".creds.tmp.{}.2", std::process::id()));
        let other = dir.path().join(format!(".other.tmp.{dead}.3"));
        for f in [&stale, &live, &other] {
            fs::write(f, "old secret").unwrap();
        }
        write_private_atomic(&target, b"new").unwrap();
        assert!(!stale.exists(), "a dead writer's temp file is swept");
        assert!(
            live.exists() && other.exists(),
            "a live writer's and another file's are kept"
        );
    }

    #[test]
    fn a_planted_symlink_at_a_temp_name_is_never_written_through() {
        let dir = tempfile::tempdir().unwrap();
        let victim = dir.path().join("victim");
        let link = dir.path().join(".creds.tmp.1.1");
        std::os::unix::fs::symlink(&victim, &link).unwrap();
        let e = create_new_private(&link).unwrap_err();
        assert_eq!(e.kind(), io::ErrorKind::AlreadyExists);
        assert!(!victim.exists());
        fs::write(&victim, "precious").unwrap();
        assert!(create_new_private(&link).is_err());
        assert_eq!(fs::read(&victim).unwrap(), b"precious");
    }

    #[test]
    fn a_symlink_at_the_target_is_replaced_not_written_through() {
        let dir = tempfile::tempdir().unwrap();
        let victim = dir.path().join("victim");
        fs::write(&victim, "precious").unwrap();
        let target = dir.path().join("creds");
        std::os::unix::fs::symlink(&victim, &target).unwrap();
        write_private_atomic(&target, b"new").unwrap();
        assert_eq!(fs::read(&victim).unwrap(), b"precious");
        assert!(fs::symlink_metadata(&target).unwrap().is_file());
        assert_eq!(fs::read(&target).unwrap(), b"new");
    }

    #[test]
    fn a_lock_path_that_is_a_symlink_is_refused_and_not_followed() {
        let dir = tempfile::tempdir().unwrap();
        let victim = dir.path().join("victim");
        let lock = dir.path().join("x.lock");
        std::os::unix::fs::symlink(&victim, &lock).unwrap();
        let e = lock_exclusive(&lock).unwrap_err().to_string();
        assert!(e.contains("symbolic link"), "{e}");
        assert!(!victim.exists());
        fs::remove_file(&lock).unwrap();
        drop(lock_exclusive(&lock).unwrap());
        // Reused, not recreated, the next time.
        drop(lock_exclusive(&lock).unwrap());
    }

    #[test]
    fn read_regular_refuses_what_is_not_a_regular_file() {
        let dir = tempfile::tempdir().unwrap();
        assert!(
            read_regular(&dir.path().join("none"), 10)
                .unwrap()
                .is_none()
        );
        let message = |path: &Path, max| match read_regular(path, max) {
            Err(e) => e.to_string(),
            Ok(_) => panic!("{} was read", path.display()),
        };
        let e = message(Path::new("/dev/zero"), 10);
        assert!(e.contains("is a device"), "{e}");
        let f = dir.path().join("f");
        fs::write(&f, "0123456789A").unwrap();
        assert!(message(&f, 10).contains("larger"));
        assert_eq!(read_regular(&f, 11).unwrap().unwrap().0.0, b"0123456789A");
    }

    #[test]
    fn loose_modes_are_seen() {
        let dir = tempfile::tempdir().unwrap();
        let f = dir.path().join("f");
        fs::write(&f, "x").unwrap();
        for (mode, loose) in [
            (0o600, false),
            (0o400, false),
            (0o640, true),
            (0o604, true),
            (0o620, true),
        ] {
            fs::set_permissions(&f, fs::Permissions::from_mode(mode)).unwrap();
            assert_eq!(
                loose_mode(&fs::metadata(&f).unwrap()).is_some(),
                loose,
                "{mode:o}"
            );
        }
    }
}
