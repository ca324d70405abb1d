//! `gocred config check|path`.

use super::CommandError;
use super::context::Context;
use crate::policy::{self, ConfigError};
use clap::Subcommand;

#[derive(Debug, Subcommand)]
pub enum ConfigCommand {
    /// Validate the policy file; report every problem with file, line and column
    Check,
    /// Print where the policy file is read from
    Path,
}

pub fn cmd_config(ctx: &mut Context, command: ConfigCommand) -> Result<(), CommandError> {
    let path = ctx.config_path()?.clone();
    let out = |ctx: &mut Context, line: String| {
        writeln!(ctx.stdout, "{line}")
            .map_err(|e| CommandError::user(format!("cannot write to stdout: {e}")))
    };
    use std::io::Write;
    match command {
        ConfigCommand::Path => out(ctx, path.display().to_string()),
        ConfigCommand::Check => match policy::load(&path) {
            Ok(p) if !p.exists => match ctx.missing_named_config(&p) {
                Some(missing) => Err(CommandError::user(missing)),
                None => out(
                    ctx,
                    format!(
                        "{}: no config file yet; every host is denied (see `gocred status` for how to start)",
                        path.display()
                    ),
                ),
            },
            Ok(p) => out(
                ctx,
                format!(
                    "{}: ok, {} rule{}",
                    path.display(),
                    p.rules.len(),
                    if p.rules.len() == 1 { "" } else { "s" }
                ),
            ),
            Err(e @ ConfigError::Invalid { .. }) => {
                let _ = writeln!(ctx.stderr, "{}", e.report());
                let n = match &e {
                    ConfigError::Invalid { diagnostics, .. } => diagnostics.len(),
                    _ => 1,
                };
                Err(CommandError::user(format!(
                    "{}: {n} problem{} found",
                    path.display(),
                    if n == 1 { "" } else { "s" }
                )))
            }
            Err(e) => Err(e.into()),
        },
    }
}
