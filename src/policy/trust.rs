//! Whether the policy file may be believed, and reading it without being led astray.
//!
//! The policy decides which host gets which credential, so it is trusted only when no one but
//! its owner can change it, like ssh's `StrictModes`:
//! - the path is absolute (git runs helpers inside whatever repository it works in);
//! - it is a regular file (a symlink to one is fine), never a FIFO or a device: a FIFO would
//!   block `get` and `/dev/zero` would never end; at most [`MAX_CONFIG_BYTES`] are read;
//! - the file is owned by this user or root, and neither group nor others can write it;
//! - so is every directory above it, on the path as given and on the path symlinks lead to,
//!   except that a sticky directory (`/tmp`) may be writable by all: there no one can rename
//!   or remove another user's entry.
//!
//! Every refusal is one line naming the path and the `chmod`/`chown` that fixes it.

use super::load::{ConfigError, MAX_CONFIG_BYTES};
use std::io::Read;
use std::path::{Path, PathBuf};

/// The text of the policy at `path`, `None` when there is no such file.
pub(super) fn read(path: &Path) -> Result<Option<String>, ConfigError> {
    read_owned(path, false)
}

/// [`read`] for the machine policy ([`super::machine`]): the file and every directory above it
/// must belong to root (whoever runs gocred), and no one else may write them.
pub(super) fn read_machine(path: &Path) -> Result<Option<String>, ConfigError> {
    read_owned(path, true)
}

fn read_owned(path: &Path, root_only: bool) -> Result<Option<String>, ConfigError> {
    if !path.is_absolute() {
        return Err(ConfigError::Relative {
            path: path.to_owned(),
        });
    }
    let io = |source: std::io::Error| ConfigError::Io {
        path: path.to_owned(),
        source,
    };
    // Looked at before it is opened: opening a FIFO would wait for a writer, opening a device
    // may do something.
    let meta = match std::fs::metadata(path) {
        Ok(meta) => meta,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(io(e)),
    };
    regular(path, &meta)?;
    let file = open(path).map_err(io)?;
    // What was opened is what is checked: it may have been swapped since the look above.
    let meta = file.metadata().map_err(io)?;
    regular(path, &meta)?;
    #[cfg(unix)]
    owner_only(path, &meta, path, || "it".to_owned(), root_only)?;
    #[cfg(unix)]
    directories(path, &file, root_only)?;
    let mut bytes = Vec::with_capacity(meta.len().min(MAX_CONFIG_BYTES) as usize + 1);
    file.take(MAX_CONFIG_BYTES + 1)
        .read_to_end(&mut bytes)
        .map_err(io)?;
    if bytes.len() as u64 > MAX_CONFIG_BYTES {
        return Err(ConfigError::TooLarge {
            path: path.to_owned(),
        });
    }
    String::from_utf8(bytes).map(Some).map_err(|e| {
        // Named by line and column (1-based, in bytes), as every other problem in the file.
        let bytes = e.as_bytes();
        let at = e.utf8_error().valid_up_to();
        let line = 1 + bytes[..at].iter().filter(|&&b| b == b'\n').count();
        let column = 1 + at - bytes[..at].iter().rposition(|&b| b == b'\n').map_or(0, |i| i + 1);
        io(std::io::Error::new(
            std::io::ErrorKind::InvalidData,
            format!(
                "line {line}, column {column}: not UTF-8 text (byte 0x{:02x}); save the file as UTF-8",
                bytes[at]
            ),
        ))
    })
}

fn regular(path: &Path, meta: &std::fs::Metadata) -> Result<(), ConfigError> {
    let kind = meta.file_type();
    if kind.is_file() {
        return Ok(());
    }
    let kind = if kind.is_dir() {
        "a directory"
    } else {
        special_kind(&kind)
    };
    Err(ConfigError::NotRegular {
        path: path.to_owned(),
        kind,
    })
}

#[cfg(unix)]
fn special_kind(kind: &std::fs::FileType) -> &'static str {
    use std::os::unix::fs::FileTypeExt;
    if kind.is_fifo() {
        "a FIFO"
    } else if kind.is_char_device() {
        "a character device"
    } else if kind.is_block_device() {
        "a block device"
    } else if kind.is_socket() {
        "a socket"
    } else {
        "not a plain file"
    }
}

#[cfg(not(unix))]
fn special_kind(_: &std::fs::FileType) -> &'static str {
    "not a plain file"
}

#[cfg(unix)]
fn open(path: &Path) -> std::io::Result<std::fs::File> {
    use std::os::unix::fs::OpenOptionsExt;
    // Non-blocking, so that a FIFO swapped in after the check above cannot hang the open; no
    // controlling terminal from a tty swapped in either. Both are refused right after by fstat.
    std::fs::OpenOptions::new()
        .read(true)
        .custom_flags(libc::O_NONBLOCK | libc::O_NOCTTY)
        .open(path)
}

#[cfg(not(unix))]
fn open(path: &Path) -> std::io::Result<std::fs::File> {
    std::fs::File::open(path)
}

/// `meta` (of `what`, shown as `name`) belongs to this user or root (only root when
/// `root_only`), and only its owner can write it (a sticky directory excepted).
#[cfg(unix)]
fn owner_only(
    config: &Path,
    meta: &std::fs::Metadata,
    what: &Path,
    name: impl Fn() -> String,
    root_only: bool,
) -> Result<(), ConfigError> {
    use std::os::unix::fs::MetadataExt;
    let me = crate::fs::euid();
    let untrusted = |why: String, fix: String| ConfigError::Untrusted {
        path: config.to_owned(),
        why,
        fix,
    };
    if root_only && meta.uid() != 0 {
        return Err(untrusted(
            format!(
                "{} is owned by uid {}, not by root (a machine policy is root's alone)",
                name(),
                meta.uid()
            ),
            format!("sudo chown root {}", what.display()),
        ));
    }
    if meta.uid() != me && meta.uid() != 0 {
        return Err(untrusted(
            format!(
                "{} is owned by uid {}, not by you (uid {me}) or root",
                name(),
                meta.uid()
            ),
            format!("chown {me} {}", what.display()),
        ));
    }
    let sticky = meta.is_dir() && meta.mode() & 0o1000 != 0;
    if meta.mode() & 0o022 != 0 && !sticky {
        let who = match meta.mode() & 0o022 {
            0o020 => "its group",
            0o002 => "anyone",
            _ => "its group and anyone",
        };
        return Err(untrusted(
            format!("{who} can write {}", name()),
            format!(
                "{}chmod go-w {}",
                if root_only { "sudo " } else { "" },
                what.display()
            ),
        ));
    }
    Ok(())
}

/// Every directory above `config`, on the path as given and on the path it resolves to.
#[cfg(unix)]
fn directories(config: &Path, file: &std::fs::File, root_only: bool) -> Result<(), ConfigError> {
    let io = |source: std::io::Error| ConfigError::Io {
        path: config.to_owned(),
        source,
    };
    let real = real_path(config, file).map_err(io)?;
    let mut seen: Vec<PathBuf> = Vec::new();
    for dir in config.ancestors().skip(1).chain(real.ancestors().skip(1)) {
        if dir.as_os_str().is_empty() || seen.iter().any(|d| d == dir) {
            continue;
        }
        let meta = std::fs::metadata(dir).map_err(io)?;
        // The name is only needed for a refusal: not formatted for every directory that passes.
        let name = || format!("the directory {} above it", dir.display());
        owner_only(config, &meta, dir, name, root_only)?;
        seen.push(dir.to_owned());
    }
    Ok(())
}

/// Where `file` (opened at `path`) really is, every symlink resolved: on Linux the kernel's own
/// record of the open file (`/proc/self/fd/N`: one call, and the file that was opened rather
/// than whatever the path names now), else `realpath` (a `readlink` per path component).
#[cfg(unix)]
fn real_path(path: &Path, file: &std::fs::File) -> std::io::Result<PathBuf> {
    #[cfg(target_os = "linux")]
    {
        use std::os::fd::AsRawFd;
        use std::os::unix::ffi::OsStrExt;
        if let Ok(real) = std::fs::read_link(format!("/proc/self/fd/{}", file.as_raw_fd()))
            // Not a path when the file was removed since ("... (deleted)"), or /proc is not
            // the usual one: then ask realpath.
            && real.is_absolute()
            && !real.as_os_str().as_bytes().ends_with(b" (deleted)")
        {
            return Ok(real);
        }
    }
    #[cfg(not(target_os = "linux"))]
    let _ = file;
    std::fs::canonicalize(path)
}
