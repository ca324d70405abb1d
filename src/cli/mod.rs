//! The command line: one clap definition, one dispatch `match`, one file per subcommand.

mod agent;
mod audit;
mod completions;
mod config;
mod context;
#[cfg(test)]
mod doc;
mod doctor;
mod erase;
mod error;
mod exec;
mod get;
mod goauth;
mod harden;
mod import_netrc;
mod login;
mod login_token;
mod logout;
mod netrc;
mod setup;
mod ssh;
mod status;
mod store;
mod version;
mod why;

pub use context::Context;
pub use error::{CommandError, Kind};

use clap::{Parser, Subcommand};
use std::io::{IsTerminal, Write};
use std::process::ExitCode;

#[derive(Debug, Parser)]
#[command(
    name = "gocred",
    version,
    long_version = version::long(),
    about = "Git credential helper and per-host credential policy for Go modules on self-hosted GitLab and GitHub Enterprise",
    long_about = None,
)]
pub struct Cli {
    /// Print no notes (why a host got nothing, what was left out): only errors. Same as
    /// GOCRED_QUIET=1, which `gocred exec` then hands to its command
    #[arg(long, short = 'q', global = true)]
    pub quiet: bool,
    /// Serve the CI job's own token to the CI server, as `[ci] job_token = true` does (what
    /// `gocred setup ci` puts in git's helper, before the action). Same as
    /// GOCRED_CI_JOB_TOKEN=1
    #[arg(long, hide = true)]
    pub ci_job_token: bool,
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Git credential helper: answer a request on stdin (git-credential(1))
    Get,
    /// Git credential helper: keep the credential on stdin, where the matching rule says
    Store,
    /// Git credential helper: forget the credential on stdin
    Erase,
    /// Show every rule, its sources and what is stored (never a secret)
    #[command(long_about = status::LONG_ABOUT)]
    Status(status::StatusArgs),
    /// Inspect the policy file
    #[command(subcommand)]
    Config(config::ConfigCommand),
    /// Print a netrc for Go with the credential of every host policy allows (never for others)
    Netrc(netrc::NetrcArgs),
    /// Run a command with a private netrc and gocred as git's helper, for as long as it runs
    Exec(exec::ExecArgs),
    /// Log in to a host: a personal access token (--with-token) or the OAuth device flow
    #[command(long_about = login::LONG_ABOUT)]
    Login(login::LoginArgs),
    /// Forget what is stored for a host (OAuth tokens are revoked first)
    #[command(long_about = logout::LONG_ABOUT)]
    Logout(logout::LogoutArgs),
    /// GOAUTH command for the go command: GOAUTH='gocred goauth' (see `go help goauth`)
    Goauth(goauth::GoauthArgs),
    /// Configure git or go for the hosts policy names
    #[command(subcommand)]
    Setup(setup::SetupCommand),
    /// Move the credentials of a plaintext netrc into the stores policy names
    ImportNetrc(import_netrc::ImportNetrcArgs),
    /// Check network, Go routing and auth for a private module, with the fix for each failure
    #[command(long_about = doctor::LONG_ABOUT)]
    Doctor(doctor::DoctorArgs),
    /// Serve credentials to SSH hosts and dev containers, scoped by policy and --allow
    #[command(long_about = agent::LONG_ABOUT)]
    Agent(agent::AgentArgs),
    /// ssh to HOST with the agent's socket forwarded and GOCRED_AGENT set there
    Ssh(ssh::SshArgs),
    /// Explain what gocred, git and go do for a URL, module path or git remote, and why
    #[command(long_about = why::LONG_ABOUT)]
    Why(why::WhyArgs),
    /// Print the audit log, filtered by host or time (never a secret)
    #[command(long_about = audit::LONG_ABOUT)]
    Audit(audit::AuditArgs),
    /// Print the completion script for a shell (bash, zsh, fish, elvish, powershell)
    Completions(completions::CompletionsArgs),
    /// What the completion scripts ask for (the policy's hosts)
    #[command(name = "__complete", hide = true, subcommand)]
    Complete(completions::CompleteCommand),
}

impl Command {
    /// Whether stdout is read by a person (a report) rather than by a program: git's helper
    /// protocol, a netrc, GOAUTH's headers, a shell script or completions are data, and pass
    /// through unchanged.
    pub fn stdout_is_for_a_person(&self) -> bool {
        match self {
            Command::Get
            | Command::Store
            | Command::Erase
            | Command::Netrc(_)
            | Command::Exec(_)
            | Command::Goauth(_)
            | Command::Setup(_)
            | Command::Agent(_)
            | Command::Ssh(_)
            | Command::Completions(_)
            | Command::Complete(_) => false,
            Command::Status(_)
            | Command::Config(_)
            | Command::Login(_)
            | Command::Logout(_)
            | Command::ImportNetrc(_)
            | Command::Doctor(_)
            | Command::Audit(_)
            | Command::Why(_) => true,
        }
    }
}

/// The git helper actions; git may add others, which a helper must ignore (gitcredentials(7)).
const HELPER_ACTIONS: &[&str] = &["get", "store", "erase"];

pub fn main() -> ExitCode {
    harden::harden_process();
    let args: Vec<std::ffi::OsString> = std::env::args_os().collect();
    let invoked_as_helper = args
        .first()
        .and_then(|a| {
            std::path::Path::new(a)
                .file_stem()
                .map(|s| s.to_string_lossy().into_owned())
        })
        .is_some_and(|name| name == "git-credential-gocred");
    // git appends the action to the helper's own arguments (`credential.helper = gocred
    // --quiet` runs `git-credential-gocred --quiet get`): the action is the last word.
    if invoked_as_helper
        && (args.len() < 2
            || args
                .last()
                .and_then(|a| a.to_str())
                .is_none_or(|a| !HELPER_ACTIONS.contains(&a)))
    {
        return ExitCode::SUCCESS; // an action this helper does not know: silently ignored
    }
    let cli = match helper_call(&args).map_or_else(|| Cli::try_parse_from(&args), Ok) {
        Ok(cli) => cli,
        Err(e) => {
            let _ = e.print();
            return ExitCode::from(if e.use_stderr() {
                Kind::Usage.exit_status()
            } else {
                0
            });
        }
    };
    let mut ctx = Context::from_process();
    for (flag, var) in [
        (cli.quiet, context::QUIET_VAR),
        (cli.ci_job_token, crate::ci::ENABLE_VAR),
    ] {
        if !flag {
            continue;
        }
        // `--quiet` is GOCRED_QUIET=1 for this process (one place decides what a note is), and
        // `--ci-job-token` GOCRED_CI_JOB_TOKEN=1.
        let env = std::mem::replace(&mut ctx.env, Box::new(|_| None));
        ctx.env = Box::new(move |name| {
            if name == var {
                Some("1".to_owned())
            } else {
                env(name)
            }
        });
    }
    if matches!(cli.command, Command::Get) && std::io::stdin().is_terminal() && !ctx.quiet() {
        // git never gives a helper a terminal: a person typed `gocred get`. It still works.
        let _ = writeln!(ctx.stderr, "{GET_AT_A_TERMINAL}");
    }
    // On a remote with a gocred agent, these commands are the agent's to answer.
    let result = match agent::forward(&mut ctx, &cli.command) {
        Some(result) => result,
        None => run(cli.command, &mut ctx),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            let _ = ctx.stdout.flush();
            let _ = ctx.stderr.flush();
            let _ = ctx.stderr.write_all(e.render().as_bytes());
            let _ = ctx.stderr.flush();
            e.exit_code()
        }
    }
}

/// What clap would parse from `args` when they are one helper action, at most one
/// `--quiet`/`-q` and at most one `--ci-job-token` before the action (how git runs a helper),
/// without building clap's definition of every
/// subcommand: git runs `get` on every fetch, and building it was a measurable part of a call
/// (issue 14). Anything else is `None`, for clap.
fn helper_call(args: &[std::ffi::OsString]) -> Option<Cli> {
    let mut quiet = false;
    let mut ci_job_token = false;
    let mut command = None;
    for arg in args.get(1..)? {
        match arg.to_str()? {
            "get" if command.is_none() => command = Some(Command::Get),
            "store" if command.is_none() => command = Some(Command::Store),
            "erase" if command.is_none() => command = Some(Command::Erase),
            "--quiet" | "-q" if !quiet => quiet = true,
            // Not a global flag: only before the action.
            "--ci-job-token" if !ci_job_token && command.is_none() => ci_job_token = true,
            _ => return None,
        }
    }
    Some(Cli {
        quiet,
        ci_job_token,
        command: command?,
    })
}

/// The hint `gocred get` prints when a person starts it at a terminal.
const GET_AT_A_TERMINAL: &str = "gocred: `gocred get` reads git's credential request on stdin \
    (lines such as protocol=https and host=HOST, then an empty line; Ctrl-D ends it); git runs it as a \
    credential helper, see `gocred status` and gitcredentials(7)";

pub fn run(command: Command, ctx: &mut Context) -> Result<(), CommandError> {
    // Everything gocred tells a person is redacted and sanitized on its way out (src/redact.rs):
    // stderr always; stdout when it is a report, not data for a program.
    ctx.filter_output(command.stdout_is_for_a_person());
    if !matches!(command, Command::Completions(_) | Command::Complete(_)) {
        // Refused before anything runs, whether or not this command talks to the network: a
        // typo must not silently leave the default in place.
        crate::net::timeout_from_env(&*ctx.env).map_err(|e| CommandError::config(e.to_string()))?;
    }
    // The audit trail (src/audit.rs): the command's decisions, written once, at the end.
    crate::audit::current(|a| a.begin(audit::command_name(&command)));
    let whole = audit::whole_command(&command);
    let result = match command {
        Command::Get => get::cmd_get(ctx),
        Command::Store => store::cmd_store(ctx),
        Command::Erase => erase::cmd_erase(ctx),
        Command::Status(args) => status::cmd_status(ctx, args),
        Command::Config(c) => config::cmd_config(ctx, c),
        Command::Netrc(args) => netrc::cmd_netrc(ctx, args),
        Command::Exec(args) => exec::cmd_exec(ctx, args),
        Command::Login(args) => login::cmd_login(ctx, args),
        Command::Logout(args) => logout::cmd_logout(ctx, args),
        Command::Goauth(args) => goauth::cmd_goauth(ctx, args),
        Command::Setup(c) => setup::cmd_setup(ctx, c),
        Command::ImportNetrc(args) => import_netrc::cmd_import_netrc(ctx, args),
        Command::Doctor(args) => doctor::cmd_doctor(ctx, args),
        Command::Agent(args) => agent::cmd_agent(ctx, args),
        Command::Ssh(args) => ssh::cmd_ssh(ctx, args),
        Command::Completions(a) => completions::cmd_completions(ctx, a),
        Command::Audit(args) => audit::cmd_audit(ctx, args),
        Command::Why(args) => why::cmd_why(ctx, args),
        Command::Complete(c) => completions::cmd_complete(ctx, c),
    };
    audit::record_command(whole, result.is_ok());
    let error = result.as_ref().err().map(|e| e.message.as_str());
    if let Some(failed) = crate::audit::current(|a| a.finish(error)) {
        let _ = writeln!(ctx.stderr, "{failed}");
    }
    result
}

#[cfg(test)]
mod tests;

#[cfg(test)]
mod shape {
    #[test]
    fn the_command_line_definition_is_consistent() {
        // clap's own checks: no two flags share a name or a short letter (`-q` is global).
        <super::Cli as clap::CommandFactory>::command().debug_assert();
    }

    #[test]
    fn the_helper_fast_path_parses_what_clap_parses_and_leaves_the_rest_to_it() {
        use clap::Parser;
        let argv = |words: &[&str]| -> Vec<std::ffi::OsString> {
            std::iter::once("git-credential-gocred")
                .chain(words.iter().copied())
                .map(Into::into)
                .collect()
        };
        for words in [
            &["get"][..],
            &["store"],
            &["erase"],
            &["--quiet", "get"],
            &["-q", "store"],
            &["erase", "--quiet"],
            &["get", "-q"],
            &["--ci-job-token", "get"],
            &["--ci-job-token", "-q", "erase"],
            &["-q", "--ci-job-token", "store"],
        ] {
            let fast = super::helper_call(&argv(words)).expect("a helper call");
            let clap = super::Cli::try_parse_from(argv(words)).expect("clap parses it");
            assert_eq!(format!("{fast:?}"), format!("{clap:?}"), "{words:?}");
        }
        // Everything else is clap's: other commands, help, version, typos, repeats, extras.
        for words in [
            &[][..],
            &["status"],
            &["--help"],
            &["get", "--help"],
            &["--version"],
            &["gett"],
            &["get", "store"],
            &["get", "get"],
            &["-q", "-q", "get"],
            &["--quiet", "--quiet", "get"],
            &["get", "extra"],
            &["--quiet"],
            &["-qq", "get"],
            &["get", "--ci-job-token"],
            &["--ci-job-token", "--ci-job-token", "get"],
        ] {
            assert!(super::helper_call(&argv(words)).is_none(), "{words:?}");
        }
    }
}
