//! `gocred exec [--host H...] -- CMD [ARGS...]`: runs CMD with the credentials policy allows,
//! for exactly as long as CMD runs.
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

use super::CommandError;
use super::context::Context;
use super::netrc::{build, normalize_host_arg};
use crate::policy::{HostPattern, Policy, Rule};
use std::ffi::OsString;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::ExitStatus;

#[derive(Debug, clap::Args)]
pub struct ExecArgs {
    /// Only this host (`host` or `host:port`); may be given several times. Default: every host
    /// policy allows
    #[arg(long = "host", value_name = "HOST")]
    pub hosts: Vec<String>,
    /// The command to run, and its arguments
    #[arg(last = true, required = true, value_name = "CMD")]
    pub command: Vec<OsString>,
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

fn base_dir() -> Result<PathBuf, CommandError> {
    crate::paths::runtime_dir().ok_or_else(|| {
        CommandError::user(
            "cannot tell where to put the private netrc: set XDG_RUNTIME_DIR or HOME",
        )
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

fn create_run_dir(base: &Path) -> Result<RunDir, CommandError> {
    crate::fs::create_private_dir(base).map_err(|e| {
        CommandError::user(format!("cannot create {}", base.display()))
            .caused_by(&e)
            .hinted("set XDG_RUNTIME_DIR to a directory of yours (mode 0700)")
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
                return Err(CommandError::user(format!(
                    "cannot create {}: {e}",
                    path.display()
                )));
            }
        }
    }
    Err(CommandError::user(format!(
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

/// The `credential.<origin>` keys that make git ask gocred (and nobody else) for the rules'
/// origins; `hosts` limits them as it limits the netrc. `useHttpPath` is turned on only under
/// the path prefix of each path-scoped rule (`credential.<origin>/<prefix>.useHttpPath`): there
/// git must send the path for the rule to match, and elsewhere on the host git keeps asking
/// without one, so a host-wide entry (stored without a path) still answers, as git's own helpers
/// match entries.
pub fn git_helper_config(policy: &Policy, hosts: &[String], helper: &str) -> Vec<(String, String)> {
    let mut origins: Vec<String> = Vec::new();
    let mut path_prefixes: Vec<String> = Vec::new();
    for rule in &policy.rules {
        if !hosts.is_empty() && !hosts.contains(&rule_machine(rule)) {
            continue;
        }
        let origin = rule_origin(rule);
        if let Some(prefix) = rule_path_prefix(rule)
            && !path_prefixes.contains(&prefix)
        {
            path_prefixes.push(prefix);
        }
        if !origins.contains(&origin) {
            origins.push(origin);
        }
    }
    let mut pairs = Vec::new();
    for origin in origins {
        pairs.push((format!("credential.{origin}.helper"), String::new()));
        pairs.push((format!("credential.{origin}.helper"), helper.to_owned()));
    }
    for prefix in path_prefixes {
        pairs.push((format!("credential.{prefix}.useHttpPath"), "true".into()));
    }
    pairs
}

/// `<origin>/<path prefix>` of a path-scoped rule (no trailing slash: git's URL matching takes
/// it as a prefix on a `/` boundary), `None` for a host-wide rule.
pub fn rule_path_prefix(rule: &Rule) -> Option<String> {
    rule.pattern
        .path
        .as_ref()
        .map(|path| format!("{}/{}", rule_origin(rule), path.trim_matches('/')))
}

/// `host[:port]` of a rule (`*.suffix` for a wildcard).
pub fn rule_machine(rule: &Rule) -> String {
    let host = match &rule.pattern.host {
        HostPattern::Exact(h) => h.clone(),
        HostPattern::Wildcard(s) => format!("*.{s}"),
    };
    super::netrc::machine_name(&host, rule.pattern.port)
}

/// `scheme://host[:port]` of a rule, as git's `credential.<url>` matches it.
pub fn rule_origin(rule: &Rule) -> String {
    format!("{}://{}", rule.pattern.scheme, rule_machine(rule))
}

/// How git should run this gocred: its absolute path, through the shell only when it must be
/// quoted.
fn helper_command() -> Result<String, CommandError> {
    let exe = std::env::current_exe()
        .map_err(|e| CommandError::user(format!("cannot tell where gocred is installed: {e}")))?;
    let exe = exe
        .to_str()
        .ok_or_else(|| CommandError::user("gocred's own path is not UTF-8"))?;
    if exe
        .bytes()
        .all(|b| b.is_ascii_alphanumeric() || b"/._+-".contains(&b))
    {
        Ok(exe.to_owned())
    } else {
        Ok(format!("!'{}'", exe.replace('\'', "'\\''")))
    }
}

/// The caller's `GIT_CONFIG_COUNT` (its entries are kept; ours follow).
fn existing_config_count(ctx: &Context) -> Result<usize, CommandError> {
    match (ctx.env)("GIT_CONFIG_COUNT") {
        None => Ok(0),
        Some(v) if v.trim().is_empty() => Ok(0),
        Some(v) => v.trim().parse().map_err(|_| {
            CommandError::user(format!(
                "GIT_CONFIG_COUNT is '{}', not a number: git would refuse it too",
                crate::redact::sanitize(&v)
            ))
        }),
    }
}

pub fn cmd_exec(ctx: &mut Context, args: ExecArgs) -> Result<(), CommandError> {
    signals::install();
    let hosts = args
        .hosts
        .iter()
        .map(|h| normalize_host_arg(h))
        .collect::<Result<Vec<_>, _>>()?;
    let base = base_dir()?;
    sweep(&base);
    let helper = helper_command()?;
    // On a remote with a gocred agent: its netrc, and git asking gocred (which forwards).
    let (built, git_config) = match super::agent::agent_socket(ctx)? {
        Some((socket, _)) => super::agent::exec_parts(ctx, socket, &hosts, &helper)?,
        None => {
            let policy = ctx.load_policy()?;
            let built = build(ctx, &policy, &hosts)?;
            let git_config = git_helper_config(&policy, &hosts, &helper);
            (built, git_config)
        }
    };
    for note in &built.notes {
        ctx.note(Some("exec"), note);
    }
    let first = existing_config_count(ctx)?;

    let dir = create_run_dir(&base)?;
    let netrc = dir.path.join("netrc");
    write_netrc(&netrc, &built.text.0).map_err(|e| {
        CommandError::user(format!(
            "cannot write the private netrc {}",
            netrc.display()
        ))
        .caused_by(&e)
    })?;
    drop(built);

    let (program, rest) = args
        .command
        .split_first()
        .ok_or_else(|| CommandError::user("no command to run after --"))?;
    let mut command = std::process::Command::new(program);
    command.args(rest).env("NETRC", &netrc);
    for (i, (key, value)) in git_config.iter().enumerate() {
        command
            .env(format!("GIT_CONFIG_KEY_{}", first + i), key)
            .env(format!("GIT_CONFIG_VALUE_{}", first + i), value);
    }
    command.env("GIT_CONFIG_COUNT", (first + git_config.len()).to_string());
    if ctx.quiet() {
        // `gocred --quiet exec`: the gocred that git and go run under CMD is quiet too.
        command.env(super::context::QUIET_VAR, "1");
    }

    if let Some(sig) = signals::pending() {
        drop(dir);
        std::process::exit(128 + sig);
    }
    let _ = ctx.stdout.flush();
    let mut child = match command.spawn() {
        Ok(child) => child,
        Err(e) => {
            drop(dir);
            let code = if e.kind() == std::io::ErrorKind::NotFound {
                127
            } else {
                126
            };
            let _ = writeln!(
                ctx.stderr,
                "gocred: cannot run {}: {e}",
                program.to_string_lossy()
            );
            std::process::exit(code);
        }
    };
    signals::forward_to(child.id());
    let status = child.wait();
    signals::forward_to(0);
    drop(dir);
    match status {
        Ok(status) => std::process::exit(exit_code(status)),
        Err(e) => Err(CommandError::user(format!(
            "lost track of {}: {e}",
            program.to_string_lossy()
        ))),
    }
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
