//! The start and end of the process, shared by both binaries (`gocred` and
//! `git-credential-gocred`), without Rust's runtime set-up.
//!
//! git starts a helper on every fetch and push, so what runs before [`crate::cli::main`] counts
//! (issue 14). Rust's `fn main` first runs the standard library's runtime set-up, which on glibc
//! finds the main thread's stack by reading and parsing `/proc/self/maps` (to print "has
//! overflowed its stack"), installs an alternate signal stack and handlers, and checks fds 0-2:
//! about 100,000 instructions, a third of a minimal Rust program's whole run. The binaries
//! therefore define the C `main` themselves (`#![no_main]`) and call [`run`], which keeps what of
//! that set-up matters here:
//! - SIGPIPE is ignored, as the runtime does: a write to a reader that went away (git, a pipe)
//!   fails with EPIPE and is reported instead of killing the process; children get the default
//!   back, as before (`std::process::Command` resets it);
//! - stdout is flushed at exit ([`std::process::exit`] runs the standard library's clean-up);
//! - a stack overflow still ends the process (SIGSEGV on the guard page), without the message.
//!
//! The command line still comes from [`std::env::args_os`]: on glibc the standard library takes
//! it from the loader, not from `main`'s arguments.

use std::process::ExitCode;

/// Runs gocred and exits with its status.
pub fn run() -> ! {
    #[cfg(unix)]
    // SAFETY: setting a signal's disposition to SIG_IGN touches no memory of ours.
    unsafe {
        libc::signal(libc::SIGPIPE, libc::SIG_IGN);
    }
    let code = crate::cli::main();
    std::process::exit(status(code))
}

/// The number an [`ExitCode`] stands for (which the standard library does not expose stably).
fn status(code: ExitCode) -> i32 {
    (0..=u8::MAX)
        .find(|&n| ExitCode::from(n) == code)
        .map_or(1, i32::from)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_exit_code_keeps_its_number() {
        assert_eq!(status(ExitCode::SUCCESS), 0);
        assert_eq!(status(ExitCode::FAILURE), 1);
        for n in 0..=u8::MAX {
            assert_eq!(status(ExitCode::from(n)), i32::from(n));
        }
    }
}
