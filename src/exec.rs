//! `gocred exec [--host H...] -- CMD [ARGS...]`: runs CMD with the credentials policy allows,
//! for exactly as long as CMD runs ([`prepare`], then [`Prepared::run`]).
//!
//! - A fresh private directory (0700) under `$XDG_RUNTIME_DIR/gocred` (else gocred's cache dir)
//!   holds `netrc` (0600, what `gocred netrc` prints), and CMD gets `NETRC` pointing at it: the
//!   go command reads it for its own HTTPS requests.
//! - git, which reads no `$NETRC`, gets gocred as the credential helper of every origin policy
//!   names, through `GIT_CONFIG_COUNT` / `GIT_CONFIG_KEY_n` / `GIT_CONFIG_VALUE_n` appended to
//!   any the caller already set: an empty `helper` first (no other helper answers for that
//!   origin), then gocred's absolute path; `useHttpPath` under the prefix of each path-scoped rule.
//! - SIGINT, SIGTERM and SIGHUP sent to gocred by a process are passed on to CMD (a terminal's
//!   ^C already reaches CMD, which shares the foreground process group, and is not sent twice).
//!   gocred waits for CMD, removes the directory, and exits with CMD's status (128 + N when CMD
//!   was killed by signal N).
//! - A SIGKILLed gocred cannot clean up: the directory's name holds its pid, and the next
//!   `gocred exec` removes every directory whose pid no longer runs.

use crate::policy::Policy;
use crate::source::sources::Sources;
use crate::{gitconfig, setup};
use std::ffi::OsString;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::ExitStatus;

/// Why exec could not set CMD up or lost it: one line, what caused it, and the fix when known.
#[derive(Debug, thiserror::Error)]
#[error("{message}")]
pub struct Error {
    pub message: String,
    #[source]
    pub cause: Option<std::io::Error>,
    pub hint: Option<&'static str>,
}

impl Error {
    fn new(message: impl Into<String>) -> Self {
        Error {
            message: message.into(),
            cause: None,
            hint: None,
        }
    }
}

/// CMD's world, ready: the private directory with its netrc (removed when this is dropped) and
/// the environment CMD gets on top of gocred's.
pub struct Prepared {
    dir: RunDir,
    env: Vec<(String, OsString)>,
}

/// How CMD ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Ended {
    /// The status to exit with: CMD's, or 128 + N when it (or gocred, before CMD started) was
    /// killed by signal N.
    Exited(i32),
    /// CMD could not be started: 127 when there is no such program, else 126, and why.
    NotStarted { code: i32, why: String },
}

/// Sets up what CMD gets for `sources`' policy (only `hosts`, when given): the netrc of
/// [`crate::netrc::build`] in a fresh private directory, and git's config through
/// `GIT_CONFIG_*` after the caller's `git_config_count` entries. Forwarding of SIGINT, SIGTERM
/// and SIGHUP starts here. `notes` gets a line per host left out of the netrc (also when this
/// then fails).
pub fn prepare(
    sources: &mut Sources<'_>,
    hosts: &[String],
    git_config_count: Option<&str>,
    notes: &mut Vec<String>,
) -> Result<Prepared, Error> {
    signals::install();
    let policy = sources.policy();
    base_dir()?;
    let built = crate::netrc::build(sources, hosts);
    notes.extend(built.notes.iter().cloned());
    let helper = own_helper()?;
    let git_config = git_helper_config(policy, hosts, &helper);
    prepare_with(built, &git_config, git_config_count)
}

/// How git runs this gocred (its absolute path, quoted for git when it must be).
pub fn own_helper() -> Result<String, Error> {
    setup::own_helper_value().map_err(|e| Error::new(e.0))
}

/// [`prepare`] with a netrc and git config made elsewhere: a gocred agent's, on a remote
/// (src/agent). The same private directory, netrc file and environment.
pub fn prepare_with(
    built: crate::netrc::Built,
    git_config: &[(String, String)],
    git_config_count: Option<&str>,
) -> Result<Prepared, Error> {
    signals::install();
    let base = base_dir()?;
    sweep(&base);
    let first = gitconfig::env_config_count(git_config_count).map_err(Error::new)?;

    let dir = create_run_dir(&base)?;
    let netrc = dir.path.join("netrc");
    write_netrc(&netrc, &built.text.0).map_err(|e| Error {
        message: format!("cannot write the private netrc {}", netrc.display()),
        cause: Some(e),
        hint: None,
    })?;
    drop(built);

    let mut env: Vec<(String, OsString)> = vec![("NETRC".into(), netrc.into_os_string())];
    env.extend(
        gitconfig::env_config(first, git_config)
            .into_iter()
            .map(|(k, v)| (k, v.into())),
    );
    Ok(Prepared { dir, env })
}

impl Prepared {
    /// Sets `name` to `value` in CMD's environment too.
    pub fn set_env(&mut self, name: &str, value: &str) {
        self.env.push((name.into(), value.into()));
    }

    /// Runs `command` (program and arguments) in the prepared world, passing signals on, and
    /// removes the directory when it ends.
    pub fn run(self, command: &[OsString]) -> Result<Ended, Error> {
        let Prepared { dir, env } = self;
        let (program, rest) = command
            .split_first()
            .ok_or_else(|| Error::new("no command to run after --"))?;
        let mut command = std::process::Command::new(program);
        command.args(rest).envs(env);

        if let Some(sig) = signals::pending() {
            drop(dir);
            return Ok(Ended::Exited(128 + sig));
        }
        let mut child = match command.spawn() {
            Ok(child) => child,
            Err(e) => {
                drop(dir);
                let code = if e.kind() == std::io::ErrorKind::NotFound {
                    127
                } else {
                    126
                };
                return Ok(Ended::NotStarted {
                    code,
                    why: format!("cannot run {}: {e}", program.to_string_lossy()),
                });
            }
        };
        signals::forward_to(child.id());
        let status = child.wait();
        signals::forward_to(0);
        drop(dir);
        match status {
            Ok(status) => Ok(Ended::Exited(exit_code(status))),
            Err(e) => Err(Error::new(format!(
                "lost track of {}: {e}",
                program.to_string_lossy()
            ))),
        }
    }
}

/// Directory names are `exec-<pid>-<nonce>`.
const PREFIX: &str = "exec-";

/// The private directory, removed on drop.
struct RunDir {
    path: PathBuf,
}

impl Drop for RunDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.path);
    }
}

fn base_dir() -> Result<PathBuf, Error> {
    crate::paths::runtime_dir().ok_or_else(|| {
        Error::new("cannot tell where to put the private netrc: set XDG_RUNTIME_DIR or HOME")
    })
}

/// Removes what a gocred exec killed with SIGKILL left behind: directories whose pid is gone.
fn sweep(base: &Path) {
    let Ok(entries) = std::fs::read_dir(base) else {
        return;
    };
    for entry in entries.flatten() {
        let name = entry.file_name();
        let Some(pid) = name
            .to_str()
            .and_then(|n| n.strip_prefix(PREFIX))
            .and_then(|n| n.split('-').next())
            .and_then(|p| p.parse::<u32>().ok())
        else {
            continue;
        };
        if pid != std::process::id() && !process_alive(pid) {
            let _ = std::fs::remove_dir_all(entry.path());
        }
    }
}

#[cfg(unix)]
fn process_alive(pid: u32) -> bool {
    let Ok(pid) = libc::pid_t::try_from(pid) else {
        return true;
    };
    // SAFETY: kill with signal 0 only checks that the process exists; it sends nothing.
    let r = unsafe { libc::kill(pid, 0) };
    r == 0 || std::io::Error::last_os_error().raw_os_error() != Some(libc::ESRCH)
}

#[cfg(not(unix))]
fn process_alive(_pid: u32) -> bool {
    true // never sweep what we cannot check
}

fn create_run_dir(base: &Path) -> Result<RunDir, Error> {
    crate::fs::create_private_dir(base).map_err(|e| Error {
        message: format!("cannot create {}", base.display()),
        cause: Some(e),
        hint: Some("set XDG_RUNTIME_DIR to a directory of yours (mode 0700)"),
    })?;
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.subsec_nanos());
    for attempt in 0..100u32 {
        let path = base.join(format!(
            "{PREFIX}{}-{:08x}",
            std::process::id(),
            nanos.wrapping_add(attempt)
        ));
        let mut builder = std::fs::DirBuilder::new();
        #[cfg(unix)]
        std::os::unix::fs::DirBuilderExt::mode(&mut builder, 0o700);
        match builder.create(&path) {
            Ok(()) => return Ok(RunDir { path }),
            Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => continue,
            Err(e) => {
                return Err(Error::new(format!("cannot create {}: {e}", path.display())));
            }
        }
    }
    Err(Error::new(format!(
        "cannot create a fresh directory in {}",
        base.display()
    )))
}

/// Creates the netrc in the fresh private directory: `O_EXCL` (a file or symlink already there
/// is an error, never followed or reused) and `O_NOFOLLOW`, mode 0600 from the start.
fn write_netrc(path: &Path, contents: &[u8]) -> std::io::Result<()> {
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600).custom_flags(libc::O_NOFOLLOW);
    }
    options.open(path)?.write_all(contents)
}

/// The `credential.<url>` entries, one value each, that make git ask `helper` (and nobody else)
/// for the rules' origins ([`setup::git::wanted`]); `hosts` limits them as it limits the netrc.
fn git_helper_config(policy: &Policy, hosts: &[String], helper: &str) -> Vec<(String, String)> {
    let (origins, prefixes) = setup::git::origins(policy, hosts);
    setup::git::wanted(&origins, &prefixes, helper)
        .into_iter()
        .flat_map(|(key, values)| values.into_iter().map(move |v| (key.clone(), v)))
        .collect()
}

fn exit_code(status: ExitStatus) -> i32 {
    #[cfg(unix)]
    if let Some(sig) = std::os::unix::process::ExitStatusExt::signal(&status) {
        return 128 + sig;
    }
    status.code().unwrap_or(1)
}

/// SIGINT, SIGTERM, SIGHUP: passed on to the child while it runs; remembered before it starts.
#[cfg(unix)]
mod signals {
    use std::sync::atomic::{AtomicI32, Ordering};

    static CHILD: AtomicI32 = AtomicI32::new(0);
    static PENDING: AtomicI32 = AtomicI32::new(0);
    const SIGNALS: [libc::c_int; 3] = [libc::SIGINT, libc::SIGTERM, libc::SIGHUP];

    /// Async-signal-safe: atomics and kill(2) only.
    extern "C" fn on_signal(sig: libc::c_int, info: *mut libc::siginfo_t, _: *mut libc::c_void) {
        // si_code > 0: the kernel sent it (a terminal's ^C or hang-up), to the whole foreground
        // process group, so the child has it already. <= 0: a process sent it to gocred alone.
        // SAFETY: the kernel passes a valid siginfo_t to an SA_SIGINFO handler.
        let from_process = info.is_null() || unsafe { (*info).si_code } <= 0;
        let child = CHILD.load(Ordering::SeqCst);
        if child > 0 {
            if from_process {
                // SAFETY: kill is async-signal-safe; child is the pid of our own unreaped child.
                unsafe { libc::kill(child, sig) };
            }
        } else {
            PENDING.store(sig, Ordering::SeqCst);
        }
    }

    pub fn install() {
        for sig in SIGNALS {
            // SAFETY: a zeroed sigaction is valid; the handler only touches atomics and kill.
            unsafe {
                let mut action: libc::sigaction = std::mem::zeroed();
                action.sa_sigaction = on_signal as *const () as usize;
                action.sa_flags = libc::SA_SIGINFO | libc::SA_RESTART;
                libc::sigemptyset(&mut action.sa_mask);
                libc::sigaction(sig, &action, std::ptr::null_mut());
            }
        }
    }

    /// Starts (pid > 0) or stops (0) passing signals on; a signal that came before the child
    /// existed is passed on now.
    pub fn forward_to(pid: u32) {
        let pid = i32::try_from(pid).unwrap_or(0);
        CHILD.store(pid, Ordering::SeqCst);
        if pid > 0 {
            let sig = PENDING.swap(0, Ordering::SeqCst);
            if sig != 0 {
                // SAFETY: pid is our child, not yet reaped.
                unsafe { libc::kill(pid, sig) };
            }
        }
    }

    /// A signal that arrived before the child started.
    pub fn pending() -> Option<i32> {
        match PENDING.load(Ordering::SeqCst) {
            0 => None,
            sig => Some(sig),
        }
    }
}

#[cfg(not(unix))]
mod signals {
    pub fn install() {}
    pub fn forward_to(_pid: u32) {}
    pub fn pending() -> Option<i32> {
        None
    }
}
