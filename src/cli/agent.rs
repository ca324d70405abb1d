//! `gocred agent`: the workstation side (a socket that answers forwarded requests,
//! [`crate::agent::server`]), and the remote side: with `GOCRED_AGENT=SOCKET` (or `[agent]
//! socket` in the policy), `get`/`store`/`erase`, `netrc`, `goauth` and `status` are answered by
//! the agent ([`forward`]) and `exec` takes its netrc from it ([`exec_parts`]). The remote keeps
//! nothing on disk; an agent it cannot reach is one line on stderr and a miss.

use super::context::Context;
use super::netrc::check_output_path;
use super::{Cli, Command, CommandError};
use crate::agent::client::{self, Client, ClientError};
use crate::agent::server::{Agent, Ran, Runner, Settings};
use crate::agent::{Allow, wire::Message};
use crate::netrc::Built;
use crate::policy::Policy;
use crate::secret::SecretBytes;
use clap::Parser;
use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use std::sync::Arc;

pub(super) const LONG_ABOUT: &str = "Serve credentials to SSH hosts and dev containers over a Unix \
socket, decided by this machine's policy AND the --allow list; the remote keeps nothing on disk.

The socket is SOCKET (default $XDG_RUNTIME_DIR/gocred/agent/socket), in a directory of mode 0700, \
mode 0600 itself. On the remote side (or in the container) point gocred at it with \
GOCRED_AGENT=PATH, or `[agent] socket = \"PATH\"` in its config: `get`, `store`, `erase`, \
`netrc`, `exec`, `goauth` and `status` then go to the agent. `gocred ssh HOST` forwards the socket \
and sets GOCRED_AGENT on the other side; `gocred agent --print-devcontainer` prints the \
devcontainer.json fragment.

A remote gets a credential only for a URL the --allow list covers and the policy maps: a netrc \
names only hosts allowed whole, a GOAUTH answer only URL prefixes allowed whole. `store` is refused \
unless --read-write; `erase` only marks the credential rejected for the agent's lifetime unless \
--allow-erase. Each request carries a label (the remote's host name, or GOCRED_AGENT_LABEL) that \
the agent prints with what it answered.";

#[derive(Debug, clap::Args)]
pub struct AgentArgs {
    /// A host (`gitlab.corp.example`, `host:port`: https) or URL prefix
    /// (`https://github.corp.example/team/`) remotes may ask for; may be given several times
    #[arg(
        long = "allow",
        value_name = "URL",
        required_unless_present = "print_devcontainer"
    )]
    pub allow: Vec<String>,
    /// The socket to listen on (default $XDG_RUNTIME_DIR/gocred/agent/socket)
    #[arg(long, value_name = "PATH")]
    pub socket: Option<PathBuf>,
    /// Refuse `store` from remotes (the default)
    #[arg(long, conflicts_with = "read_write")]
    pub read_only: bool,
    /// Let remotes `store` into the stores the policy names
    #[arg(long)]
    pub read_write: bool,
    /// Let remotes `erase` stored credentials (default: an erase only marks the credential
    /// rejected for this agent's lifetime)
    #[arg(long)]
    pub allow_erase: bool,
    /// Ask at this terminal before the first answer for each host
    #[arg(long)]
    pub confirm: bool,
    /// Print the devcontainer.json `mounts`/`remoteEnv` fragment for this agent's socket, and exit
    #[arg(long)]
    pub print_devcontainer: bool,
}

/// Where the socket is in a container set up by `--print-devcontainer`.
const CONTAINER_DIR: &str = "/run/gocred-agent";

/// The default socket: `<runtime dir>/agent/socket` (`$XDG_RUNTIME_DIR/gocred/agent/socket`).
pub fn default_socket() -> Result<PathBuf, CommandError> {
    crate::paths::runtime_dir()
        .map(|d| d.join("agent").join("socket"))
        .ok_or_else(|| {
            CommandError::user("cannot tell where to put the agent's socket: set XDG_RUNTIME_DIR or HOME, or give --socket")
        })
}

pub fn cmd_agent(ctx: &mut Context, args: AgentArgs) -> Result<(), CommandError> {
    let socket = match &args.socket {
        Some(s) if !s.is_absolute() => {
            return Err(CommandError::user(format!(
                "--socket {}: give an absolute path",
                s.display()
            )));
        }
        Some(s) => s.clone(),
        None => default_socket()?,
    };
    let dir = socket
        .parent()
        .ok_or_else(|| CommandError::user("--socket: no directory"))?
        .to_owned();
    if args.print_devcontainer {
        // Created now (0700), so the container's bind mount has its source before the agent
        // first starts; the agent keeps it when it stops.
        crate::fs::create_private_dir(&dir).map_err(|e| {
            CommandError::user(format!("cannot create {}", dir.display())).caused_by(&e)
        })?;
        let fragment = serde_json::json!({
            "mounts": [format!("source={},target={CONTAINER_DIR},type=bind", dir.display())],
            "remoteEnv": {
                client::SOCKET_VAR: format!("{CONTAINER_DIR}/{}", socket.file_name().map(|n| n.to_string_lossy()).unwrap_or_default()),
            },
        });
        let text = serde_json::to_string_pretty(&fragment)
            .map_err(|e| CommandError::internal(format!("BUG: {e}")))?;
        return writeln!(ctx.stdout, "{text}")
            .map_err(|e| CommandError::user(format!("cannot write to stdout: {e}")));
    }
    let allow = args
        .allow
        .iter()
        .map(|a| Allow::parse(a))
        .collect::<Result<Vec<_>, _>>()
        .map_err(CommandError::user)?;
    let policy = ctx.load_policy()?;
    if policy.agent_socket.is_some() {
        return Err(CommandError::config(format!(
            "{} has an [agent] socket: this machine asks another agent, so it cannot be one; remove [agent] here",
            policy.path.display()
        )));
    }
    let confirm = if args.confirm {
        Some(
            std::fs::OpenOptions::new()
                .read(true)
                .write(true)
                .open("/dev/tty")
                .map_err(|e| {
                    CommandError::user("--confirm needs a terminal to ask on").caused_by(&e)
                })?,
        )
    } else {
        None
    };
    let listener = listen(&dir, &socket)?;
    cleanup::remove_on_exit(&socket);
    let _ = writeln!(
        ctx.stderr,
        "gocred agent: listening on {} for {} ({}); on the remote: GOCRED_AGENT=<forwarded socket>, or `gocred ssh HOST`",
        socket.display(),
        allow
            .iter()
            .map(Allow::shown)
            .collect::<Vec<_>>()
            .join(", "),
        if args.read_write {
            "read-write"
        } else {
            "read-only"
        },
    );
    let _ = ctx.stderr.flush();
    let settings = Settings {
        socket,
        allow,
        read_write: args.read_write,
        allow_erase: args.allow_erase,
        confirm,
    };
    let runner = InProcess {
        config_path: ctx.config_path.clone(),
    };
    let agent = Arc::new(Agent::new(
        settings,
        Box::new(runner),
        Box::new(std::io::stderr()),
    ));
    agent.serve(listener);
    Ok(())
}

/// Creates the private directory and binds the socket in it, mode 0600. An existing directory
/// must be this user's, 0700, not a symlink; a live agent already there is refused, a stale
/// socket replaced.
fn listen(dir: &Path, socket: &Path) -> Result<std::os::unix::net::UnixListener, CommandError> {
    use std::os::unix::fs::{FileTypeExt, MetadataExt, PermissionsExt};
    crate::fs::create_private_dir(dir).map_err(|e| {
        CommandError::user(format!("cannot create {}", dir.display())).caused_by(&e)
    })?;
    let meta = std::fs::symlink_metadata(dir)
        .map_err(|e| CommandError::user(format!("cannot read {}", dir.display())).caused_by(&e))?;
    // SAFETY: geteuid cannot fail.
    let uid = unsafe { libc::geteuid() };
    if !meta.is_dir() || meta.uid() != uid || meta.mode() & 0o077 != 0 {
        return Err(CommandError::user(format!(
            "refusing {}: the agent's directory must be a directory of yours with mode 0700 (not a symlink)",
            dir.display()
        ))
        .hinted(format!("remove it, or `chmod 700 {}`", dir.display())));
    }
    match std::fs::symlink_metadata(socket) {
        Ok(m) if m.file_type().is_socket() => {
            if std::os::unix::net::UnixStream::connect(socket).is_ok() {
                return Err(CommandError::user(format!(
                    "an agent already listens on {}: stop it, or give another --socket",
                    socket.display()
                )));
            }
            let _ = std::fs::remove_file(socket);
        }
        Ok(_) => {
            return Err(CommandError::user(format!(
                "refusing {}: something that is not a socket is there; remove it",
                socket.display()
            )));
        }
        Err(_) => {}
    }
    // Created 0600 from the start: no moment where another user could connect.
    // SAFETY: umask only changes this process's file creation mask; set back right after.
    let old = unsafe { libc::umask(0o177) };
    let bound = std::os::unix::net::UnixListener::bind(socket);
    // SAFETY: as above.
    unsafe { libc::umask(old) };
    let listener = bound.map_err(|e| {
        CommandError::user(format!("cannot listen on {}", socket.display()))
            .caused_by(&e)
            .hinted("a socket path is at most 107 bytes: give a shorter --socket")
    })?;
    std::fs::set_permissions(socket, std::fs::Permissions::from_mode(0o600)).map_err(|e| {
        CommandError::user(format!("cannot chmod {}", socket.display())).caused_by(&e)
    })?;
    Ok(listener)
}

/// Runs gocred's own commands in this process, against this machine's policy.
struct InProcess {
    config_path: Option<PathBuf>,
}

impl Runner for InProcess {
    fn run(&self, args: &[&str], stdin: &[u8]) -> Ran {
        let mut out: Vec<u8> = Vec::new();
        let mut err: Vec<u8> = Vec::new();
        let ok = match Cli::try_parse_from(std::iter::once("gocred").chain(args.iter().copied())) {
            Err(e) => {
                err.extend_from_slice(format!("BUG: {e}").as_bytes());
                false
            }
            Ok(cli) => {
                let mut ctx = Context {
                    stdin: Box::new(stdin),
                    stdout: Box::new(&mut out),
                    stderr: Box::new(&mut err),
                    config_path: self.config_path.clone(),
                    env: Box::new(|name| std::env::var(name).ok()),
                    now: crate::source::now(),
                };
                let result = super::run(cli.command, &mut ctx);
                if let Err(e) = &result {
                    let _ = ctx.stderr.write_all(e.render().as_bytes());
                }
                drop(ctx);
                result.is_ok()
            }
        };
        Ran {
            ok,
            stdout: SecretBytes(out),
            stderr: String::from_utf8_lossy(&err).into_owned(),
        }
    }

    fn policy(&self) -> Result<Policy, String> {
        let path = self
            .config_path
            .as_ref()
            .ok_or_else(|| "no config path".to_owned())?;
        crate::policy::load(path).map_err(|e| e.to_string())
    }
}

/// Removes the socket when the agent is stopped (SIGINT, SIGTERM, SIGHUP). The directory stays:
/// a dev container bind-mounts it, and sees the next agent's socket there.
mod cleanup {
    use std::ffi::CString;
    use std::path::Path;
    use std::sync::OnceLock;

    static SOCKET: OnceLock<CString> = OnceLock::new();

    /// Async-signal-safe: unlink and _exit only.
    extern "C" fn on_signal(sig: libc::c_int) {
        if let Some(socket) = SOCKET.get() {
            // SAFETY: unlink is async-signal-safe; the string lives forever.
            unsafe { libc::unlink(socket.as_ptr()) };
        }
        // SAFETY: _exit is async-signal-safe.
        unsafe { libc::_exit(128 + sig) };
    }

    pub fn remove_on_exit(socket: &Path) {
        use std::os::unix::ffi::OsStrExt;
        let Ok(s) = CString::new(socket.as_os_str().as_bytes()) else {
            return;
        };
        let _ = SOCKET.set(s);
        for sig in [libc::SIGINT, libc::SIGTERM, libc::SIGHUP] {
            // SAFETY: a zeroed sigaction is valid; the handler is async-signal-safe.
            unsafe {
                let mut action: libc::sigaction = std::mem::zeroed();
                action.sa_sigaction = on_signal as *const () as usize;
                libc::sigemptyset(&mut action.sa_mask);
                libc::sigaction(sig, &action, std::ptr::null_mut());
            }
        }
    }
}

// ---------------------------------------------------------------------------------------------
// The remote side.

/// The agent this gocred forwards to: `$GOCRED_AGENT`, else `[agent] socket` in the policy.
pub fn agent_socket(ctx: &Context) -> Result<Option<(PathBuf, &'static str)>, CommandError> {
    if let Some(s) = (ctx.env)(client::SOCKET_VAR).filter(|s| !s.is_empty()) {
        let path = PathBuf::from(&s);
        if !path.is_absolute() {
            return Err(CommandError::config(format!(
                "{}={}: give the socket's absolute path",
                client::SOCKET_VAR,
                crate::redact::clean(&s)
            )));
        }
        return Ok(Some((path, "GOCRED_AGENT")));
    }
    let Some(path) = ctx.config_path.as_ref().filter(|p| p.is_absolute()) else {
        return Ok(None);
    };
    // The command reads and checks the policy itself: parse it here only when it may have an
    // `[agent]` table at all, so a local `get` over a large policy does not pay twice. A file
    // that cannot be read is the command's to report.
    let mentions_agent = crate::fs::read_regular(path, crate::policy::MAX_CONFIG_BYTES)
        .ok()
        .flatten()
        .is_some_and(|(text, _)| std::str::from_utf8(&text.0).is_ok_and(|t| t.contains("agent")));
    if !mentions_agent {
        return Ok(None);
    }
    let policy = crate::policy::load_for_host(path, None)?;
    Ok(policy.agent_socket.map(|s| (s, "[agent] socket")))
}

fn client_for(ctx: &Context, socket: PathBuf) -> Result<Client, CommandError> {
    let timeout = client::timeout_from_env(&*ctx.env).map_err(CommandError::config)?;
    Ok(Client::new(
        socket,
        client::default_label(&*ctx.env),
        timeout,
    ))
}

/// The one line a remote prints when the agent cannot answer (then it behaves as on a miss).
fn lost(ctx: &mut Context, e: &ClientError) {
    let _ = writeln!(ctx.stderr, "gocred: {e}: no credential from it");
}

/// Notes the agent sent (refusals): shown unless quiet.
fn show_notes(ctx: &mut Context, answer: &Message) {
    let notes: Vec<String> = answer
        .all("note")
        .filter(|n| !n.is_empty())
        .map(str::to_owned)
        .collect();
    for note in notes {
        ctx.note(Some("agent"), &note);
    }
}

/// When a gocred agent is configured: the command answered through it. `None`: run it here.
pub fn forward(ctx: &mut Context, command: &Command) -> Option<Result<(), CommandError>> {
    if !matches!(
        command,
        Command::Get
            | Command::Store
            | Command::Erase
            | Command::Netrc(_)
            | Command::Goauth(_)
            | Command::Status(_)
    ) {
        return None;
    }
    let (socket, from) = match agent_socket(ctx) {
        Ok(Some(found)) => found,
        Ok(None) => return None,
        Err(e) => return Some(Err(e)),
    };
    ctx.filter_output(command.stdout_is_for_a_person());
    let client = match client_for(ctx, socket) {
        Ok(c) => c,
        Err(e) => return Some(Err(e)),
    };
    Some(match command {
        Command::Get | Command::Store | Command::Erase => {
            let op = match command {
                Command::Get => "get",
                Command::Store => "store",
                _ => "erase",
            };
            forward_git(ctx, &client, op)
        }
        Command::Netrc(args) => forward_netrc(ctx, &client, &args.hosts, args.output.as_deref()),
        Command::Goauth(args) => forward_goauth(ctx, &client, args.url.as_deref()),
        Command::Status(args) => status(ctx, &client, from, args.json),
        _ => return None,
    })
}

fn forward_git(ctx: &mut Context, client: &Client, op: &str) -> Result<(), CommandError> {
    let mut body = SecretBytes::default();
    (&mut ctx.stdin)
        .take(crate::agent::wire::MAX_FRAME as u64 - 1024)
        .read_to_end(&mut body.0)
        .map_err(|e| CommandError::user(format!("cannot read git's request: {e}")))?;
    let answer = match client.request(op, &[], &body.0) {
        Ok(a) => a,
        Err(e) => {
            lost(ctx, &e);
            return Ok(());
        }
    };
    show_notes(ctx, &answer);
    if answer.get("status") == Some("ok") && op == "get" {
        ctx.stdout
            .write_all(&answer.body.0)
            .and_then(|()| ctx.stdout.flush())
            .map_err(|e| CommandError::user(format!("cannot answer git: {e}")))?;
    }
    Ok(())
}

fn forward_netrc(
    ctx: &mut Context,
    client: &Client,
    hosts: &[String],
    output: Option<&Path>,
) -> Result<(), CommandError> {
    if let Some(path) = output {
        check_output_path(path)?;
    }
    let built = netrc_from(ctx, client, hosts)?;
    for note in &built.notes {
        ctx.note(Some("netrc"), note);
    }
    match output {
        Some(path) => crate::fs::write_private_atomic(path, &built.text.0).map_err(|e| {
            CommandError::user(format!("cannot write {}", path.display())).caused_by(&e)
        }),
        None => ctx
            .stdout
            .write_all(&built.text.0)
            .and_then(|()| ctx.stdout.flush())
            .map_err(|e| CommandError::user(format!("cannot write to stdout: {e}"))),
    }
}

/// The netrc the agent gives for `hosts` (all it allows when empty); an unreachable agent is
/// one line on stderr and an empty netrc.
fn netrc_from(ctx: &mut Context, client: &Client, hosts: &[String]) -> Result<Built, CommandError> {
    let hosts = hosts
        .iter()
        .map(|h| super::netrc::normalize_host_arg(h))
        .collect::<Result<Vec<_>, _>>()?;
    let fields: Vec<(&str, &str)> = hosts.iter().map(|h| ("host", h.as_str())).collect();
    let mut built = empty_netrc();
    match client.request("netrc", &fields, b"") {
        Ok(mut answer) => {
            show_notes(ctx, &answer);
            built.text = std::mem::take(&mut answer.body);
        }
        Err(e) => lost(ctx, &e),
    }
    Ok(built)
}

fn forward_goauth(
    ctx: &mut Context,
    client: &Client,
    url: Option<&str>,
) -> Result<(), CommandError> {
    // go writes the response head and closes: read it so go never blocks on a full pipe.
    let mut head = SecretBytes::default();
    let _ = (&mut ctx.stdin).take(64 * 1024).read_to_end(&mut head.0);
    if url.is_some_and(|u| u.starts_with('-')) {
        return Err(CommandError::user(
            "goauth: the URL starts with '-': expected a URL or module path, not an option",
        ));
    }
    let fields: Vec<(&str, &str)> = url.map(|u| ("url", u)).into_iter().collect();
    match client.request("goauth", &fields, b"") {
        Ok(answer) => {
            show_notes(ctx, &answer);
            ctx.stdout
                .write_all(&answer.body.0)
                .and_then(|()| ctx.stdout.flush())
                .map_err(|e| CommandError::user(format!("cannot answer go: {e}")))
        }
        Err(e) => {
            lost(ctx, &e);
            Ok(())
        }
    }
}

/// `gocred exec` on a remote: the netrc from the agent, and git told to ask gocred (which
/// forwards too) for every origin the agent allows, in exec's own private directory. An
/// unreachable agent: one line, and the command runs without credentials.
pub fn exec_prepare(
    ctx: &mut Context,
    socket: PathBuf,
    hosts: &[String],
    git_config_count: Option<&str>,
    notes: &mut Vec<String>,
) -> Result<Result<crate::exec::Prepared, crate::exec::Error>, CommandError> {
    let client = client_for(ctx, socket)?;
    let helper = crate::exec::own_helper().map_err(super::exec::command_error)?;
    let mut pairs = Vec::new();
    let built = match client.request("hello", &[], b"") {
        Ok(hello) => {
            for origin in hello.all("origin") {
                pairs.push((format!("credential.{origin}.helper"), String::new()));
                pairs.push((format!("credential.{origin}.helper"), helper.clone()));
            }
            for prefix in hello.all("usehttppath") {
                pairs.push((format!("credential.{prefix}.useHttpPath"), "true".into()));
            }
            netrc_from(ctx, &client, hosts)?
        }
        Err(e) => {
            lost(ctx, &e);
            empty_netrc()
        }
    };
    notes.extend(built.notes.iter().cloned());
    Ok(crate::exec::prepare_with(built, &pairs, git_config_count))
}

fn empty_netrc() -> Built {
    Built {
        text: SecretBytes::default(),
        machines: Vec::new(),
        notes: Vec::new(),
    }
}

/// `gocred status` on a remote: which agent, and what it may ask for.
fn status(ctx: &mut Context, client: &Client, from: &str, json: bool) -> Result<(), CommandError> {
    let hello = client.request("hello", &[], b"");
    let socket = client.socket.display().to_string();
    if json {
        let v = match &hello {
            Ok(h) => serde_json::json!({
                "schema": 1,
                "agent": {
                    "socket": socket, "from": from, "label": client.label, "reachable": true,
                    "allow": h.all("allow").collect::<Vec<_>>(),
                    "store": h.get("store") == Some("yes"),
                    "erase": h.get("erase"),
                    "confirm": h.get("confirm") == Some("yes"),
                },
            }),
            Err(e) => serde_json::json!({
                "schema": 1,
                "agent": {"socket": socket, "from": from, "label": client.label, "reachable": false, "problem": e.to_string()},
            }),
        };
        writeln!(ctx.stdout, "{v}")
            .map_err(|e| CommandError::user(format!("cannot write to stdout: {e}")))?;
    } else {
        let mut out = format!(
            "gocred uses the agent at {socket} (from {from}); requests are labelled {}\n",
            client.label
        );
        match &hello {
            Ok(h) => {
                out.push_str("it may ask for:\n");
                for a in h.all("allow") {
                    out.push_str(&format!("  {a}\n"));
                }
                out.push_str(&format!(
                    "store: {}; erase: {}{}\n",
                    if h.get("store") == Some("yes") {
                        "kept on the workstation"
                    } else {
                        "refused (read-only agent)"
                    },
                    if h.get("erase") == Some("yes") {
                        "forgets on the workstation"
                    } else {
                        "marks the credential rejected for the agent's session"
                    },
                    if h.get("confirm") == Some("yes") {
                        "; each host is confirmed at the workstation first"
                    } else {
                        ""
                    },
                ));
            }
            Err(e) => out.push_str(&format!("but {e}\n")),
        }
        ctx.stdout
            .write_all(out.as_bytes())
            .map_err(|e| CommandError::user(format!("cannot write to stdout: {e}")))?;
    }
    match hello {
        Ok(_) => Ok(()),
        Err(e) => Err(CommandError::user(e.to_string())),
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn the_default_socket_is_in_a_directory_of_its_own() {
        if let Ok(s) = super::default_socket() {
            assert!(s.ends_with("gocred/agent/socket"), "{}", s.display());
        }
    }
}
