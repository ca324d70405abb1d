//! The one way gocred writes a file that matters: a private temp file beside the target, fsync,
//! rename over the target, fsync the directory. A reader sees the old or the new content, never a
//! torn or empty file, and the mode is 0600 from the first byte. A writer killed before its rename
//! leaves its temp file behind; the next write of the same file removes it.

use std::fs::{self, File, OpenOptions};
use std::io::{self, Write};
use std::path::{Path, PathBuf};

#[cfg(unix)]
use std::os::unix::fs::{OpenOptionsExt, PermissionsExt};

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
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.subsec_nanos());
    target.with_file_name(format!(
        "{}{}.{nanos}",
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

/// Atomically replaces `target` with `contents`, mode 0600.
pub fn write_private_atomic(target: &Path, contents: &[u8]) -> io::Result<()> {
    let dir = target
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    create_private_dir(dir)?;
    #[cfg(unix)]
    sweep_stale_temps(dir, target);
    let tmp = temp_path(target);
    let mut options = OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    options.mode(0o600);
    let result = (|| {
        let mut file = options.open(&tmp)?;
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

/// An exclusive advisory lock on `path` (created 0600), released when the guard drops.
pub fn lock_exclusive(path: &Path) -> io::Result<File> {
    if let Some(dir) = path.parent() {
        create_private_dir(dir)?;
    }
    let mut options = OpenOptions::new();
    options.read(true).write(true).create(true).truncate(false);
    #[cfg(unix)]
    options.mode(0o600);
    let file = options.open(path)?;
    file.lock()?;
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
