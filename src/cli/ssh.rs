//! `gocred ssh HOST [SSH_OPTION...] [-- COMMAND...]`: `ssh` with the agent's socket forwarded
//! and `GOCRED_AGENT` set on the other side.
//!
//! - The remote end of the forward is `/tmp/gocred-agent-<128 random bits>.sock`: a name nobody
//!   can guess or plant beforehand. sshd creates it with its `StreamLocalBindMask` (0177 by
//!   default: mode 0600, so only the remote user, and root, can connect).
//! - `GOCRED_AGENT` is passed by the remote command itself (`env GOCRED_AGENT=PATH ...`), which
//!   needs nothing in the server's config (`SetEnv` would need `AcceptEnv` there). Without a
//!   COMMAND, the remote user's login shell runs; the socket is removed when it ends.
//! - `ExitOnForwardFailure=yes`: if sshd refuses the forward (`AllowStreamLocalForwarding no`),
//!   ssh stops rather than log in without it.

use super::CommandError;
use super::context::Context;
use std::ffi::OsString;
use std::io::IsTerminal;
use std::path::PathBuf;

#[derive(Debug, clap::Args)]
pub struct SshArgs {
    /// The agent's socket on this machine (default $XDG_RUNTIME_DIR/gocred/agent/socket)
    #[arg(long, value_name = "PATH")]
    pub socket: Option<PathBuf>,
    /// The destination, as ssh takes it (`user@host`, a Host of ~/.ssh/config)
    #[arg(value_name = "HOST")]
    pub host: String,
    /// Options for ssh (`-p 2222`, `-i KEY`, `-o ...`), put before the destination
    #[arg(value_name = "SSH_OPTION", allow_hyphen_values = true)]
    pub ssh_options: Vec<OsString>,
    /// The command to run there (by the remote login shell, as ssh runs it); default: a login
    /// shell
    #[arg(last = true, value_name = "COMMAND")]
    pub command: Vec<String>,
}

/// The remote socket's name: 128 random bits in hex.
fn remote_socket() -> Result<String, CommandError> {
    let mut bytes = [0u8; 16];
    getrandom::fill(&mut bytes)
        .map_err(|e| CommandError::internal(format!("no randomness for the socket name: {e}")))?;
    let hex: String = bytes.iter().map(|b| format!("{b:02x}")).collect();
    Ok(format!("/tmp/gocred-agent-{hex}.sock"))
}

/// Single-quotes `s` for a POSIX shell.
fn quote(s: &str) -> String {
    format!("'{}'", s.replace('\'', "'\\''"))
}

/// The argv of ssh: the forward, then the caller's options, the destination and the remote
/// command that sets `GOCRED_AGENT`.
pub fn ssh_argv(
    local: &str,
    remote: &str,
    host: &str,
    options: &[OsString],
    command: &[String],
    tty: bool,
) -> Vec<OsString> {
    let mut argv: Vec<OsString> = vec![
        "-o".into(),
        "ExitOnForwardFailure=yes".into(),
        "-o".into(),
        "StreamLocalBindUnlink=yes".into(),
        "-R".into(),
        format!("{remote}:{local}").into(),
    ];
    if command.is_empty() && tty {
        argv.push("-t".into());
    }
    argv.extend(options.iter().cloned());
    // `--` ends ssh's options: a HOST starting with `-` cannot become one.
    argv.push("--".into());
    argv.push(host.into());
    let script = if command.is_empty() {
        "\"${SHELL:-/bin/sh}\" -l".to_owned()
    } else {
        command.join(" ")
    };
    // The socket goes when the command ends (sshd leaves it behind otherwise).
    let script = format!("{script}\ns=$?; rm -f {remote}; exit $s");
    argv.push(format!("env GOCRED_AGENT={remote} sh -c {}", quote(&script)).into());
    argv
}

pub fn cmd_ssh(ctx: &mut Context, args: SshArgs) -> Result<(), CommandError> {
    let local = match args.socket {
        Some(s) => s,
        None => super::agent::default_socket()?,
    };
    if std::os::unix::net::UnixStream::connect(&local).is_err() {
        return Err(
            CommandError::user(format!("no gocred agent listens on {}", local.display())).hinted(
                "start one first: gocred agent --allow HOST (in another terminal, or with &)",
            ),
        );
    }
    let local = local
        .to_str()
        .filter(|s| !s.contains(':'))
        .ok_or_else(|| {
            CommandError::user("the agent's socket path must be UTF-8 without ':' for ssh -R")
        })?
        .to_owned();
    let remote = remote_socket()?;
    // clap hands the options a `--` along with what follows it: that is the command.
    let (options, mut command) = match args.ssh_options.iter().position(|a| a == "--") {
        Some(i) => (
            args.ssh_options[..i].to_vec(),
            args.ssh_options[i + 1..]
                .iter()
                .map(|a| a.to_string_lossy().into_owned())
                .collect(),
        ),
        None => (args.ssh_options.clone(), Vec::new()),
    };
    command.extend(args.command);
    let argv = ssh_argv(
        &local,
        &remote,
        &args.host,
        &options,
        &command,
        std::io::stdin().is_terminal(),
    );
    use std::io::Write;
    use std::os::unix::process::CommandExt;
    let _ = ctx.stderr.flush();
    let e = std::process::Command::new("ssh").args(&argv).exec();
    Err(CommandError::user("cannot run ssh").caused_by(&e))
}

#[cfg(test)]
mod tests {
    #[test]
    fn the_remote_command_sets_the_variable_and_removes_the_socket() {
        let argv = super::ssh_argv(
            "/run/user/1/gocred/agent/socket",
            "/tmp/gocred-agent-ab.sock",
            "dev",
            &["-p".into(), "2222".into()],
            &["git".into(), "clone".into(), "it's".into()],
            false,
        );
        let argv: Vec<String> = argv
            .iter()
            .map(|a| a.to_string_lossy().into_owned())
            .collect();
        assert_eq!(
            argv[..6],
            [
                "-o",
                "ExitOnForwardFailure=yes",
                "-o",
                "StreamLocalBindUnlink=yes",
                "-R",
                "/tmp/gocred-agent-ab.sock:/run/user/1/gocred/agent/socket"
            ]
        );
        assert_eq!(argv[6..10], ["-p", "2222", "--", "dev"]);
        assert_eq!(
            argv[10],
            "env GOCRED_AGENT=/tmp/gocred-agent-ab.sock sh -c 'git clone it'\\''s\ns=$?; rm -f /tmp/gocred-agent-ab.sock; exit $s'"
        );
    }
}
