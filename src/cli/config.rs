//! `gocred config check|path|init`.

use super::CommandError;
use super::context::Context;
use crate::policy::{self, ConfigError, SourceKind, edit};
use clap::Subcommand;

#[derive(Debug, Subcommand)]
pub enum ConfigCommand {
    /// Validate the policy file; report every problem with file, line and column
    Check,
    /// Print where the policy file is read from
    Path,
    /// Write a starting policy for HOST, every key explained in a comment
    ///
    /// Writes one rule for `https://HOST` (HOST as git or a URL has it: `host[:port][/path]`)
    /// at the config path, mode 0600, atomically, and checks it loads. A file already there is
    /// never touched: refused, or with `--force` replaced after being copied to `<file>.bak`.
    Init(InitArgs),
}

/// Where the starting rule finds the credential.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum InitSource {
    /// The system keychain; `gocred login HOST --with-token` or git's `store` fills it
    Keychain,
    /// An environment variable (CI): `--token-env` (default GOCRED_TOKEN), `--username`
    Env,
    /// OAuth device flow (`gocred login HOST`): needs `--provider` and `--client-id`
    Oauth,
    /// gocred's own 0600 file store (no keychain needed)
    File,
}

#[derive(Debug, clap::Args)]
pub struct InitArgs {
    /// The host (or URL) the rule is for, e.g. git.corp.example or github.com
    #[arg(value_name = "HOST")]
    pub host: String,
    /// Where the rule finds the credential
    #[arg(long, value_enum, default_value = "keychain")]
    pub source: InitSource,
    /// env: the user name git sends with the token (default oauth2)
    #[arg(long, value_name = "NAME")]
    pub username: Option<String>,
    /// env: the variable holding the token (default GOCRED_TOKEN)
    #[arg(long, value_name = "VAR")]
    pub token_env: Option<String>,
    /// oauth: who runs the server (gitlab, github or oidc)
    #[arg(long, value_name = "PROVIDER", value_parser = ["gitlab", "github", "oidc"])]
    pub provider: Option<String>,
    /// oauth: the OAuth application's client id
    #[arg(long, value_name = "ID")]
    pub client_id: Option<String>,
    /// oauth with provider oidc: the issuer URL
    #[arg(long, value_name = "URL")]
    pub issuer: Option<String>,
    /// Replace an existing policy (it is kept as `<file>.bak`)
    #[arg(long)]
    pub force: bool,
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
        ConfigCommand::Init(args) => {
            let options = edit::InitOptions {
                host: args.host,
                source: match args.source {
                    InitSource::Keychain => SourceKind::Keychain,
                    InitSource::Env => SourceKind::Env,
                    InitSource::Oauth => SourceKind::OAuth,
                    InitSource::File => SourceKind::File,
                },
                username: args.username,
                token_env: args.token_env,
                provider: args.provider,
                client_id: args.client_id,
                issuer: args.issuer,
            };
            let policy = edit::init(&path, &options, args.force)
                .map_err(|e| CommandError::user(e.to_string()))?;
            let rule = &policy.rules[0];
            let host = rule
                .url
                .trim_start_matches("https://")
                .trim_end_matches('/');
            let next = match options.source {
                SourceKind::Env => format!(
                    "set {} in the environment, then `gocred setup git`",
                    rule.token_env.as_deref().unwrap_or_default()
                ),
                SourceKind::OAuth => format!("`gocred setup git`, then `gocred login {host}`"),
                _ => format!("`gocred setup git`, then `gocred login {host} --with-token`"),
            };
            out(
                ctx,
                format!(
                    "wrote {}: one rule for {} (source {}); next: {next}",
                    path.display(),
                    rule.url,
                    options.source.name()
                ),
            )
        }
        ConfigCommand::Check => match policy::load(&path) {
            Ok(p) if !p.exists => {
                machine_lines(ctx, &p)?;
                match ctx.missing_named_config(&p) {
                    Some(missing) => Err(CommandError::user(missing)),
                    None => out(
                        ctx,
                        format!(
                            "{}: no config file yet; every host {}is denied (see `gocred status` for how to start)",
                            path.display(),
                            if p.rules.is_empty() {
                                ""
                            } else {
                                "the machine policy does not serve "
                            }
                        ),
                    ),
                }
            }
            Ok(p) => {
                let refused = machine_lines(ctx, &p)?;
                let n = p
                    .rules
                    .iter()
                    .filter(|r| !r.machine.is_machine_rule())
                    .count();
                out(
                    ctx,
                    format!(
                        "{}: ok, {n} rule{}",
                        path.display(),
                        if n == 1 { "" } else { "s" }
                    ),
                )?;
                match refused {
                    0 => Ok(()),
                    n => Err(CommandError::user(format!(
                        "{}: {n} rule{} forbidden by the machine policy, not used (see above)",
                        path.display(),
                        if n == 1 { "" } else { "s" }
                    ))),
                }
            }
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

/// The machine policy's part of `config check`: its own line on stdout, then on stderr each user
/// rule it forbids or narrows (both files and lines); how many it forbids.
fn machine_lines(ctx: &mut Context, p: &policy::Policy) -> Result<usize, CommandError> {
    use std::io::Write;
    let Some(m) = &p.machine else {
        return Ok(0);
    };
    let own = p
        .rules
        .iter()
        .filter(|r| r.machine.is_machine_rule())
        .count();
    writeln!(
        ctx.stdout,
        "{}: machine policy, ok, {own} rule{} of its own; user rules: {}",
        m.path.display(),
        if own == 1 { "" } else { "s" },
        m.user_rules.name()
    )
    .map_err(|e| CommandError::user(format!("cannot write to stdout: {e}")))?;
    let (lines, refused) = policy::machine::check_report(p);
    for line in lines {
        let _ = writeln!(ctx.stderr, "{line}");
    }
    Ok(refused)
}
