//! `gocred setup git|go`: configure git and the go command for the hosts policy names
//! ([`crate::setup`]).

use super::CommandError;
use super::context::Context;
use crate::setup::{self, Shell};
use std::io::Write;

#[derive(Debug, clap::Subcommand)]
pub enum SetupCommand {
    /// Make git ask gocred, and only gocred, for the hosts policy names
    ///
    /// For every origin of a rule, writes `credential.<origin>.helper` twice: an empty value (so
    /// no helper configured before answers for it) and gocred; and
    /// `credential.<origin>/<prefix>.useHttpPath = true` under every rule's path prefix. The helper is
    /// `gocred` when `git-credential-gocred` is on PATH, else this binary's absolute path. git
    /// runs a helper value through the shell, so a path holding a space or a shell
    /// metacharacter is written as `!'/the/path/gocred'`: one word, never code.
    ///
    /// Each value it replaces is named on stderr (`replacing credential.https://HOST.helper =
    /// OLD`), and so is every helper from elsewhere in git's config that its empty value stops
    /// for a host (`git no longer runs ...`); what it wrote and replaced is recorded in the same
    /// scope under `gocred.setup`
    /// (one JSON value per key). `--undo` restores exactly the recorded values, in order (an
    /// empty reset and multi-valued lists included), on every key that still holds what setup
    /// wrote; a key changed since is left as it is, with a note naming what it had replaced.
    /// Nothing setup did not write is touched.
    Git(SetupGitArgs),
    /// Keep the policy's hosts private in Go (GOPRIVATE, GONOSUMDB, GONOPROXY)
    ///
    /// Reads go's current values with `go env -json` (each by its name) and merges the policy's
    /// hosts in as `go help private` describes, keeping every existing entry and the company's
    /// routing: GOPRIVATE gets the hosts; GONOSUMDB and GONOPROXY, when unset, follow GOPRIVATE
    /// and stay unset; a GONOSUMDB list gets the hosts; `GONOPROXY=none` is kept, and so is any
    /// GONOPROXY when GOPROXY is a company proxy (with none set, it is pinned to its old value so
    /// the hosts keep going through the proxy). Prints `export` lines for sh (or `set -gx` lines
    /// for fish), every value quoted for that shell so that whatever the values hold (quotes,
    /// backslashes, `$(...)`, newlines) is data to it; without `go` on PATH the lines start from
    /// the environment's values. `--write` writes go's env file (`go env GOENV`) with `go env -w`
    /// and shows go's warnings; a variable set in the environment overrides that file, so it is
    /// not written there (setup says so): set it where you set it. `--write` refuses a value
    /// holding a control character: fix the variable first. A value that is not valid UTF-8 is
    /// refused either way.
    Go(SetupGoArgs),
    /// In a CI job: git asks gocred for the CI server, which serves the job's own token
    ///
    /// In GitLab CI (GITLAB_CI, CI_SERVER_URL, CI_JOB_TOKEN) or GitHub Actions (GITHUB_ACTIONS,
    /// GITHUB_SERVER_URL, GITHUB_TOKEN): writes `credential.<CI origin>.helper` in the global git
    /// config (an empty value, then gocred with `--ci-job-token`), and prints `export` lines
    /// for GOPRIVATE and GONOSUMDB (the CI host, or on github.com and gitlab.com the job's
    /// namespace) and GOAUTH (`git $HOME`): `eval "$(gocred setup ci)"`. Writes no secret and
    /// needs no policy: the token is read from the job's variables on each request, and only
    /// the CI server's exact origin gets it. Refused outside a CI job, and in a job whose
    /// variables are inconsistent (an http server URL, a host that disagrees).
    Ci(SetupCiArgs),
}

#[derive(Debug, clap::Args)]
pub struct SetupCiArgs {
    /// Print the git config commands instead of running them
    #[arg(long)]
    pub dry_run: bool,
}

#[derive(Debug, clap::Args)]
pub struct SetupGitArgs {
    /// Write to the user's global git config (the default)
    #[arg(long, conflicts_with_all = ["system", "local"])]
    pub global: bool,
    /// Write to the system git config
    #[arg(long, conflicts_with = "local")]
    pub system: bool,
    /// Write to the current repository's config
    #[arg(long)]
    pub local: bool,
    /// Print the git config commands instead of running them
    #[arg(long)]
    pub dry_run: bool,
    /// Put back what `gocred setup git` replaced, where it still holds what setup wrote
    #[arg(long)]
    pub undo: bool,
}

#[derive(Debug, clap::Args)]
pub struct SetupGoArgs {
    /// Write the values with `go env -w` (into Go's own config file)
    #[arg(long, conflicts_with = "shell")]
    pub write: bool,
    /// Print `export` lines for this shell (default: sh), every value quoted for it
    #[arg(long, value_name = "SHELL", value_enum)]
    pub shell: Option<Shell>,
}

pub fn cmd_setup(ctx: &mut Context, command: SetupCommand) -> Result<(), CommandError> {
    if let SetupCommand::Ci(args) = &command {
        // No policy needed: the CI job's variables say everything ([`crate::ci::setup`]).
        let helper =
            crate::setup::git::helper_value(&*ctx.env).map_err(|e| CommandError::user(e.0))?;
        let report =
            crate::ci::setup(&*ctx.env, &helper, args.dry_run).map_err(CommandError::user)?;
        let verb = if args.dry_run { "would run" } else { "ran" };
        for line in &report.commands {
            ctx.note(None, &format!("setup ci: {verb}: {line}"));
        }
        return ctx
            .stdout
            .write_all(report.exports.as_bytes())
            .map_err(|e| CommandError::user(format!("cannot write to stdout: {e}")));
    }
    let policy = ctx.load_policy()?;
    let (who, outcome) = match command {
        SetupCommand::Git(args) => {
            let scope = if args.system {
                "--system"
            } else if args.local {
                "--local"
            } else {
                "--global"
            };
            let options = setup::git::Options {
                scope,
                dry_run: args.dry_run,
                undo: args.undo,
            };
            ("git", setup::git::setup_git(&policy, &*ctx.env, options))
        }
        SetupCommand::Go(args) => (
            "go",
            setup::go::setup_go(&policy, &*ctx.env, args.write, args.shell),
        ),
        SetupCommand::Ci(_) => return Ok(()), // answered above, before the policy is read
    };
    let outcome = outcome.map_err(|e| CommandError::user(e.0))?;
    ctx.stdout
        .write_all(outcome.stdout.as_bytes())
        .map_err(|e| CommandError::user(format!("cannot write to stdout: {e}")))?;
    for line in &outcome.go_says {
        let _ = writeln!(
            ctx.stderr,
            "gocred setup {who}: go says: {}",
            crate::redact::shown(line)
        );
    }
    for n in &outcome.notes {
        let _ = writeln!(ctx.stderr, "gocred setup {who}: {n}");
    }
    Ok(())
}
