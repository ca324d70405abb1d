//! `gocred setup git|go`: configure git and the go command for the hosts policy names.
//!
//! `setup git` writes, for every origin of a rule, `credential.<origin>.helper` as exactly two
//! values: an empty one (git forgets the helpers it collected so far, so no other helper answers
//! for that origin) and gocred; plus `credential.<origin>.useHttpPath = true` where a rule has a
//! path prefix (such a rule matches only when git sends the path). Idempotent: what is already
//! right is left alone. `--dry-run` prints the exact `git config` commands; `--undo` removes
//! exactly what setup wrote (a helper list someone changed since is left alone, with a note).
//!
//! `setup go` computes GOPRIVATE, GONOSUMDB and GONOPROXY from the policy (a wildcard rule
//! becomes Go's `*.corp.example`), merged with what `go env` already has (never dropping an
//! entry), and prints them for a shell or writes them with `go env -w`.

use super::CommandError;
use super::context::Context;
use super::exec::rule_origin;
use crate::policy::{HostPattern, Policy};
use std::io::Write;
use std::process::Command;

#[derive(Debug, clap::Subcommand)]
pub enum SetupCommand {
    /// Make git ask gocred, and only gocred, for the hosts policy names
    Git(SetupGitArgs),
    /// Keep the policy's hosts private in Go (GOPRIVATE, GONOSUMDB, GONOPROXY)
    Go(SetupGoArgs),
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
    /// Remove what `gocred setup git` wrote
    #[arg(long)]
    pub undo: bool,
}

#[derive(Debug, clap::Args)]
pub struct SetupGoArgs {
    /// Write the values with `go env -w` (into Go's own config file)
    #[arg(long, conflicts_with = "shell")]
    pub write: bool,
    /// Print `export` lines for this shell (default: sh)
    #[arg(long, value_name = "SHELL", value_parser = ["sh", "fish"])]
    pub shell: Option<String>,
}

pub fn cmd_setup(ctx: &mut Context, command: SetupCommand) -> Result<(), CommandError> {
    match command {
        SetupCommand::Git(args) => setup_git(ctx, args),
        SetupCommand::Go(args) => setup_go(ctx, args),
    }
}

/// `'value'` for sh, when it needs quoting at all.
pub fn shell_quote(s: &str) -> String {
    if !s.is_empty()
        && s.bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"/._+-:=,@".contains(&b))
    {
        s.to_owned()
    } else {
        format!("'{}'", s.replace('\'', "'\\''"))
    }
}

/// The helper value git should run: `gocred` when `git-credential-gocred` is on PATH (what
/// `cargo install` gives), else this binary's absolute path.
fn helper_value(ctx: &Context) -> Result<String, CommandError> {
    let on_path = (ctx.env)("PATH").is_some_and(|path| {
        std::env::split_paths(&path).any(|dir| dir.join("git-credential-gocred").is_file())
    });
    if on_path {
        return Ok("gocred".into());
    }
    let exe = std::env::current_exe()
        .map_err(|e| CommandError::user(format!("cannot tell where gocred is installed: {e}")))?;
    exe.to_str()
        .map(str::to_owned)
        .ok_or_else(|| CommandError::user("gocred's own path is not UTF-8"))
}

/// The (origin, needs useHttpPath) pairs of the policy, in rule order, once each.
pub fn origins(policy: &Policy) -> Vec<(String, bool)> {
    let mut out: Vec<(String, bool)> = Vec::new();
    for rule in &policy.rules {
        let origin = rule_origin(rule);
        let path = rule.pattern.path.is_some();
        match out.iter_mut().find(|(o, _)| *o == origin) {
            Some((_, p)) => *p |= path,
            None => out.push((origin, path)),
        }
    }
    out
}

struct Git<'a> {
    scope: &'static str,
    dry_run: bool,
    out: &'a mut Vec<String>,
}

impl Git<'_> {
    fn get_all(&self, key: &str) -> Result<Vec<String>, CommandError> {
        let output = Command::new("git")
            .args(["config", self.scope, "--get-all", key])
            .output()
            .map_err(|e| CommandError::user(format!("cannot run git: {e}")))?;
        match output.status.code() {
            Some(0) => Ok(String::from_utf8_lossy(&output.stdout)
                .lines()
                .map(str::to_owned)
                .collect()),
            Some(1) => Ok(Vec::new()), // not set
            _ => Err(CommandError::user(format!(
                "git config {} --get-all {key} failed: {}",
                self.scope,
                String::from_utf8_lossy(&output.stderr).trim()
            ))),
        }
    }

    fn run(&mut self, args: &[&str]) -> Result<(), CommandError> {
        let mut line = format!("git config {}", self.scope);
        for a in args {
            line.push(' ');
            line.push_str(&shell_quote(a));
        }
        if self.dry_run {
            self.out.push(line);
            return Ok(());
        }
        let output = Command::new("git")
            .args(["config", self.scope])
            .args(args)
            .output()
            .map_err(|e| CommandError::user(format!("cannot run git: {e}")))?;
        if !output.status.success() {
            return Err(CommandError::user(format!(
                "`{line}` failed: {}",
                String::from_utf8_lossy(&output.stderr).trim()
            )));
        }
        self.out.push(format!("ran: {line}"));
        Ok(())
    }
}

fn setup_git(ctx: &mut Context, args: SetupGitArgs) -> Result<(), CommandError> {
    let policy = ctx.load_policy()?;
    let scope = if args.system {
        "--system"
    } else if args.local {
        "--local"
    } else {
        "--global"
    };
    let helper = helper_value(ctx)?;
    let mut out = Vec::new();
    let mut notes = Vec::new();
    let mut git = Git {
        scope,
        dry_run: args.dry_run,
        out: &mut out,
    };
    let ours = vec![String::new(), helper.clone()];
    for (origin, path) in origins(&policy) {
        let helper_key = format!("credential.{origin}.helper");
        let path_key = format!("credential.{origin}.useHttpPath");
        let current = git.get_all(&helper_key)?;
        let is_ours = current.len() == 2 && current[0].is_empty() && is_gocred(&current[1]);
        if args.undo {
            if is_ours {
                git.run(&["--unset-all", &helper_key])?;
                if path && git.get_all(&path_key)? == ["true"] {
                    git.run(&["--unset-all", &path_key])?;
                }
            } else if !current.is_empty() {
                notes.push(format!(
                    "{helper_key} is not what gocred setup writes; left as it is"
                ));
            }
            continue;
        }
        if current != ours {
            git.run(&["--replace-all", &helper_key, ""])?;
            git.run(&["--add", &helper_key, &helper])?;
        }
        if path && git.get_all(&path_key)? != ["true"] {
            git.run(&["--replace-all", &path_key, "true"])?;
        }
    }
    if policy.rules.is_empty() {
        notes.push(format!(
            "{} has no rules: nothing to set up",
            policy.path.display()
        ));
    } else if out.is_empty() {
        notes.push(format!("git ({scope}) is already set up for every rule"));
    }
    let mut text = out.join("\n");
    if !text.is_empty() {
        text.push('\n');
    }
    ctx.stdout
        .write_all(text.as_bytes())
        .map_err(|e| CommandError::user(format!("cannot write to stdout: {e}")))?;
    for n in notes {
        let _ = writeln!(ctx.stderr, "gocred setup git: {n}");
    }
    Ok(())
}

/// A helper value that runs gocred: `gocred`, or a path ending in `/gocred`.
fn is_gocred(value: &str) -> bool {
    value == "gocred" || value.ends_with("/gocred")
}

/// Go's pattern for a rule's host (`*.corp.example` for a wildcard); Go's GOPRIVATE globs match
/// module path prefixes, which carry no port.
pub fn go_pattern(host: &HostPattern) -> String {
    match host {
        HostPattern::Exact(h) => h.clone(),
        HostPattern::Wildcard(s) => format!("*.{s}"),
    }
}

/// `a,b` + `c` → `a,b,c`: existing entries kept in their order, ours appended once.
fn merge_list(existing: &str, ours: &[String]) -> String {
    let mut items: Vec<String> = existing
        .split(',')
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(str::to_owned)
        .collect();
    for p in ours {
        if !items.contains(p) {
            items.push(p.clone());
        }
    }
    items.join(",")
}

/// `go1.27.3` → `(1, 27)`.
fn go_minor(version: &str) -> Option<(u32, u32)> {
    let v = version.strip_prefix("go")?;
    let mut parts = v.split(['.', '-', ' ']);
    Some((parts.next()?.parse().ok()?, parts.next()?.parse().ok()?))
}

fn setup_go(ctx: &mut Context, args: SetupGoArgs) -> Result<(), CommandError> {
    const VARS: [&str; 5] = ["GOPRIVATE", "GONOSUMDB", "GONOPROXY", "GOAUTH", "GOVERSION"];
    let policy = ctx.load_policy()?;
    let mut ours: Vec<String> = Vec::new();
    for rule in &policy.rules {
        let p = go_pattern(&rule.pattern.host);
        if !ours.contains(&p) {
            ours.push(p);
        }
    }
    let output = Command::new("go")
        .arg("env")
        .args(VARS)
        .output()
        .map_err(|e| {
            CommandError::user(format!(
                "cannot run `go env` ({e}): is Go installed and on PATH?"
            ))
        })?;
    if !output.status.success() {
        return Err(CommandError::user(format!(
            "`go env` failed: {}",
            String::from_utf8_lossy(&output.stderr).trim()
        )));
    }
    let text = String::from_utf8_lossy(&output.stdout).into_owned();
    let values: Vec<&str> = text.lines().collect();
    let get = |i: usize| values.get(i).copied().unwrap_or("");
    let merged = [
        ("GOPRIVATE", merge_list(get(0), &ours)),
        ("GONOSUMDB", merge_list(get(1), &ours)),
        ("GONOPROXY", merge_list(get(2), &ours)),
    ];
    let mut out = String::new();
    let mut notes = Vec::new();
    if args.write {
        let mut cmd = Command::new("go");
        cmd.args(["env", "-w"]);
        for (k, v) in &merged {
            cmd.arg(format!("{k}={v}"));
        }
        let result = cmd
            .output()
            .map_err(|e| CommandError::user(format!("cannot run `go env -w`: {e}")))?;
        if !result.status.success() {
            return Err(CommandError::user(format!(
                "`go env -w` failed: {}",
                String::from_utf8_lossy(&result.stderr).trim()
            )));
        }
        for (k, v) in &merged {
            out += &format!("go env -w {k}={}\n", shell_quote(v));
        }
    } else {
        let fish = args.shell.as_deref() == Some("fish");
        for (k, v) in &merged {
            out += &if fish {
                format!("set -gx {k} {}\n", shell_quote(v))
            } else {
                format!("export {k}={}\n", shell_quote(v))
            };
        }
    }
    let (goauth, version) = (get(3), get(4));
    if go_minor(version).is_some_and(|v| v >= (1, 24)) && !goauth.contains("gocred goauth") {
        let value = if goauth.is_empty() || goauth == "netrc" {
            "gocred goauth".to_owned()
        } else {
            format!("gocred goauth;{goauth}")
        };
        notes.push(format!(
            "{version} reads GOAUTH: `go env -w GOAUTH={}` makes go ask gocred for these hosts with no netrc (see `go help goauth`)",
            shell_quote(&value)
        ));
    }
    if ours.is_empty() {
        notes.push(format!(
            "{} has no rules: nothing to add",
            policy.path.display()
        ));
    }
    ctx.stdout
        .write_all(out.as_bytes())
        .map_err(|e| CommandError::user(format!("cannot write to stdout: {e}")))?;
    for n in notes {
        let _ = writeln!(ctx.stderr, "gocred setup go: {n}");
    }
    Ok(())
}
