//! What `main` does first, before any secret is read, for every command (each may read one):
//!
//! - a panic prints where it happened and never its message: a message formatted from a value
//!   may hold a password (the default hook prints it to stderr, where git shows it);
//! - on Linux the process is made non-dumpable (`PR_SET_DUMPABLE` 0): no core file with its
//!   memory, and no ptrace or `/proc/PID/mem` access by other processes of the same user;
//! - SIGXFSZ (a write past `RLIMIT_FSIZE`) no longer kills the process half-way: the write fails
//!   with EFBIG and the atomic writer reports it, the old file intact. A handler, unlike
//!   `SIG_IGN`, is reset to the default in any program gocred runs (`gocred exec`), and so is
//!   the dumpable flag.

/// Applies everything above; called once, first thing in `main`.
pub fn harden_process() {
    std::panic::set_hook(Box::new(|info| {
        eprintln!("{}", panic_report(info.location()));
    }));
    #[cfg(target_os = "linux")]
    // SAFETY: PR_SET_DUMPABLE takes plain integers and touches no memory of ours.
    unsafe {
        libc::prctl(libc::PR_SET_DUMPABLE, 0, 0, 0, 0);
    }
    #[cfg(unix)]
    catch_sigxfsz();
    #[cfg(debug_assertions)]
    if let Some(value) = std::env::var_os("GOCRED_TEST_PANIC") {
        // Debug builds only: lets the tests see what a panic holding a secret prints.
        let secret = crate::secret::Secret::new(value.to_string_lossy().into_owned());
        panic!("BUG: test panic holding {}", secret.expose());
    }
}

/// The one line a panic prints: the location only.
pub fn panic_report(location: Option<&std::panic::Location<'_>>) -> String {
    let at = location
        .map(|l| format!(" at {}:{}", l.file(), l.line()))
        .unwrap_or_default();
    format!(
        "gocred: internal error{at}: this is a bug, please report it \
         (the panic message is not shown, as it may contain a secret)"
    )
}

#[cfg(unix)]
fn catch_sigxfsz() {
    extern "C" fn on_sigxfsz(_: libc::c_int) {}
    // SAFETY: a zeroed sigaction is valid; the handler does nothing, so it is async-signal-safe.
    unsafe {
        let mut action: libc::sigaction = std::mem::zeroed();
        action.sa_sigaction = on_sigxfsz as extern "C" fn(libc::c_int) as libc::sighandler_t;
        libc::sigemptyset(&mut action.sa_mask);
        libc::sigaction(libc::SIGXFSZ, &action, std::ptr::null_mut());
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_panic_report_names_the_place_and_never_the_message() {
        // The hook only ever sees the payload through `info`; the report is built from the
        // location alone, so whatever the payload held cannot reach it.
        let here = std::panic::Location::caller();
        let report = panic_report(Some(here));
        assert!(
            report.contains(&format!("{}:{}", here.file(), here.line())),
            "{report}"
        );
        assert!(!report.contains('\n'));
        assert_eq!(
            panic_report(None),
            "gocred: internal error: this is a bug, please report it (the panic message is not shown, as it may contain a secret)"
        );
    }
}
