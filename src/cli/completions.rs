//! `gocred completions SHELL`: the shell's completion script, generated from the clap definition
//! in `cli/mod.rs`, so it always knows every subcommand. The scripts the packages install are the
//! same bytes, committed under `completions/` (a test fails when they are stale).

use super::context::Context;
use super::{Cli, CommandError};
use clap::CommandFactory;
use clap_complete::Shell;
use std::io::Write;

#[derive(Debug, clap::Args)]
#[command(after_long_help = "\
Examples:
  gocred completions bash > ~/.local/share/bash-completion/completions/gocred
  gocred completions zsh > ~/.zfunc/_gocred    # with fpath+=(~/.zfunc) before compinit
  gocred completions fish > ~/.config/fish/completions/gocred.fish

The Debian and RPM packages and the Homebrew formula install these scripts already.")]
pub struct CompletionsArgs {
    /// The shell to print the script for
    #[arg(value_enum)]
    pub shell: Shell,
}

/// The completion script for `shell`, for the program name `gocred`.
pub fn script(shell: Shell) -> Vec<u8> {
    let mut out = Vec::new();
    clap_complete::generate(shell, &mut Cli::command(), "gocred", &mut out);
    out
}

pub fn cmd_completions(ctx: &mut Context, args: CompletionsArgs) -> Result<(), CommandError> {
    ctx.stdout
        .write_all(&script(args.shell))
        .and_then(|()| ctx.stdout.flush())
        .map_err(|e| CommandError::user(format!("cannot write to stdout: {e}")))
}
