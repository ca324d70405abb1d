//! `gocred setup git|go`: configure git and the go command for the hosts policy names.
//!
//! `setup git` writes, for every origin of a rule, `credential.<origin>.helper` as exactly two
//! values: an empty one (git forgets the helpers it collected so far, so no other helper answers
//! for that origin) and gocred; plus `credential.<origin>/<prefix>.useHttpPath = true` under the
//! prefix of every path-scoped rule (such a rule matches only when git sends the path; elsewhere
//! git sends none, so an entry stored without a path keeps answering there). Idempotent: what is already
//! right is left alone. `--dry-run` prints the exact `git config` commands; `--undo` removes
//! exactly what setup wrote (a helper list someone changed since is left alone, with a note).
//!
//! `setup go` computes GOPRIVATE, GONOSUMDB and GONOPROXY from the policy (a wildcard rule
//! becomes Go's `*.corp.example`), merged with what `go env` already has (never dropping an
//! entry), and prints them for a shell or writes them with `go env -w`.
//!
//! Whatever setup writes is data, never code. The values come from the environment and from
//! go's config, i.e. from anyone who can set them: go's environment is read as JSON (`go env
//! -json`), each variable by its name, so no value can shift into another; every value printed
//! for a shell is quoted for that shell ([`quote`]: sh and fish single quotes differ); `--write`
//! refuses a value go's line-based config file cannot hold. The helper value `setup git` writes
//! is one word to the shell git runs it with ([`git_helper_value`]).

use super::CommandError;
use super::context::Context;
use super::exec::rule_origin;
use crate::policy::{HostPattern, Policy};
use std::collections::BTreeMap;
use std::io::Write;
use std::process::Command;

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
    Git(SetupGitArgs),
    /// Keep the policy's hosts private in Go (GOPRIVATE, GONOSUMDB, GONOPROXY)
    ///
    /// Reads go's current values with `go env -json` (each by its name) and adds the policy's
    /// hosts, keeping every existing entry. Prints `export` lines for sh (or `set -gx` lines for
    /// fish), every value quoted for that shell so that whatever the values hold (quotes,
    /// backslashes, `$(...)`, newlines) is data to it; or writes them with `go env -w`
    /// (`--write`), which refuses a value holding a control character: fix the variable first.
    /// A value that is not valid UTF-8 is refused either way.
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
    /// Print `export` lines for this shell (default: sh), every value quoted for it
    #[arg(long, value_name = "SHELL", value_enum)]
    pub shell: Option<Shell>,
}

/// The shells `setup go` prints for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Shell {
    /// POSIX sh, dash, bash, zsh (export lines)
    Sh,
    /// fish (set -gx lines)
    Fish,
}

pub fn cmd_setup(ctx: &mut Context, command: SetupCommand) -> Result<(), CommandError> {
    match command {
        SetupCommand::Git(args) => setup_git(ctx, args),
        SetupCommand::Go(args) => setup_go(ctx, args),
    }
}

/// Bytes that mean nothing to sh or fish anywhere in a word: a word made only of these is
/// printed bare. Everything else (quotes, `\`, `$`, `;`, `~`, `*`, `{`, space, newline,
/// non-ASCII, ...) is quoted.
fn is_plain(s: &str) -> bool {
    !s.is_empty()
        && s.bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"/._+-:=,@".contains(&b))
}

/// `s` as one word of `shell`, standing for exactly `s`: bare when nothing in it is special,
/// else in single quotes. In sh nothing is special inside single quotes, so a `'` closes the
/// quote, is written `\'`, and a new quote opens (`'\''`). In fish `\'` and `\\` are escapes
/// inside single quotes, so `\` becomes `\\` and `'` becomes `\'`.
pub fn quote(shell: Shell, s: &str) -> String {
    if is_plain(s) {
        return s.to_owned();
    }
    match shell {
        Shell::Sh => format!("'{}'", s.replace('\'', r"'\''")),
        Shell::Fish => format!("'{}'", s.replace('\\', r"\\").replace('\'', r"\'")),
    }
}

/// `'value'` for sh, when it needs quoting at all.
pub fn shell_quote(s: &str) -> String {
    quote(Shell::Sh, s)
}

/// The word an sh-quoted word stands for, for the forms [`quote`] writes (bare, `'...'`, and
/// `\'` between quotes); `None` for anything else.
fn sh_unquote(word: &str) -> Option<String> {
    let mut out = String::new();
    let mut chars = word.chars();
    while let Some(c) = chars.next() {
        match c {
            '\'' => loop {
                match chars.next()? {
                    '\'' => break,
                    c => out.push(c),
                }
            },
            '\\' => out.push(chars.next()?),
            c if c.is_ascii_alphanumeric() || "/._+-:=,@".contains(c) => out.push(c),
            _ => return None,
        }
    }
    Some(out)
}

/// The `credential.helper` value that makes git run the program at `path` and nothing else.
///
/// git runs a helper value that starts with `/` as a command line through `sh -c` (with the
/// operation appended), and one that starts with `!` likewise; so a path holding a space or a
/// shell metacharacter would be split, or run as code. A plain path is written as it is (what
/// git's documentation shows); any other becomes `!` and the path as one sh-quoted word.
pub fn git_helper_value(path: &str) -> String {
    if is_plain(path) {
        path.to_owned()
    } else {
        format!("!{}", shell_quote(path))
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
        .map(git_helper_value)
        .ok_or_else(|| CommandError::user("gocred's own path is not UTF-8"))
}

/// The origins of the policy's rules, in rule order, once each, and the `<origin>/<prefix>` of
/// every path-scoped rule (where git must send the path: `useHttpPath`), once each.
pub fn origins(policy: &Policy) -> (Vec<String>, Vec<String>) {
    let (mut origins, mut prefixes) = (Vec::new(), Vec::new());
    for rule in &policy.rules {
        let origin = rule_origin(rule);
        if !origins.contains(&origin) {
            origins.push(origin);
        }
        if let Some(prefix) = super::exec::rule_path_prefix(rule)
            && !prefixes.contains(&prefix)
        {
            prefixes.push(prefix);
        }
    }
    (origins, prefixes)
}

struct Git<'a> {
    scope: &'static str,
    dry_run: bool,
    out: &'a mut Vec<String>,
}

impl Git<'_> {
    fn get_all(&self, key: &str) -> Result<Vec<String>, CommandError> {
        let output = Command::new("git")
            .args(["config", self.scope, "--null", "--get-all", key])
            .output()
            .map_err(|e| CommandError::user(format!("cannot run git: {e}")))?;
        match output.status.code() {
            // NUL-terminated: a value holding a newline stays one value.
            Some(0) => Ok(String::from_utf8_lossy(&output.stdout)
                .split_terminator('\0')
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
    let (origins, prefixes) = origins(&policy);
    for origin in &origins {
        let helper_key = format!("credential.{origin}.helper");
        let current = git.get_all(&helper_key)?;
        let is_ours = current.len() == 2 && current[0].is_empty() && is_gocred(&current[1]);
        if args.undo {
            if is_ours {
                git.run(&["--unset-all", &helper_key])?;
                // Earlier versions turned useHttpPath on for the whole origin.
                let origin_path_key = format!("credential.{origin}.useHttpPath");
                let path_rule_here = prefixes
                    .iter()
                    .any(|p| p.starts_with(&format!("{origin}/")));
                if path_rule_here && git.get_all(&origin_path_key)? == ["true"] {
                    git.run(&["--unset-all", &origin_path_key])?;
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
    }
    // git sends the repository path only under the path prefixes of path-scoped rules: elsewhere
    // on the host, an entry stored without a path keeps answering, as git's own helpers match.
    for prefix in &prefixes {
        let path_key = format!("credential.{prefix}.useHttpPath");
        let current = git.get_all(&path_key)?;
        if args.undo {
            if current == ["true"] {
                git.run(&["--unset-all", &path_key])?;
            }
        } else if current != ["true"] {
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

/// A helper value that runs gocred: `gocred`, a path ending in `/gocred` (as older versions
/// wrote it, quoted or not), or `!` and such a path sh-quoted (what [`git_helper_value`] writes
/// for a path that needs quoting). Only `--undo` asks: it removes such a value.
fn is_gocred(value: &str) -> bool {
    let is_path = |p: &str| p.starts_with('/') && p.ends_with("/gocred");
    value == "gocred"
        || is_path(value)
        || value
            .strip_prefix('!')
            .and_then(sh_unquote)
            .is_some_and(|p| is_path(&p))
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

/// go's own view of `names` (environment over go's config file over defaults), each value by
/// its name: `go env -json`, never lines, so a newline inside one value cannot shift the values
/// after it. A name go does not know reads as empty.
fn go_env(names: &[&str]) -> Result<BTreeMap<String, String>, CommandError> {
    let output = Command::new("go")
        .args(["env", "-json"])
        .args(names)
        .output()
        .map_err(|e| {
            CommandError::user(format!(
                "cannot run `go env` ({e}): is Go installed and on PATH?"
            ))
        })?;
    if !output.status.success() {
        return Err(CommandError::user(format!(
            "`go env -json` failed: {}",
            String::from_utf8_lossy(&output.stderr).trim()
        )));
    }
    let mut values: BTreeMap<String, String> = serde_json::from_slice(&output.stdout)
        .map_err(|e| {
            CommandError::user(format!(
                "`go env -json` printed something that is not an object of strings ({e}): is `go` on PATH the Go command?"
            ))
        })?;
    for name in names {
        values.entry((*name).to_owned()).or_default();
    }
    Ok(values)
}

/// Why gocred will not pass `value` on: go shows bytes that are not UTF-8 as U+FFFD, so printing
/// or writing it back would change the value; and go's config file is line-based (`go env -w`
/// refuses a control character), so `--write` cannot hold one. Printed for a shell, any other
/// value is quoted as data.
fn refused(value: &str, write: bool) -> Option<String> {
    if value.contains('\u{FFFD}') {
        return Some("is not valid UTF-8".into());
    }
    value
        .chars()
        .find(|c| write && c.is_control())
        .map(|c| format!("holds a control character (U+{:04X})", u32::from(c)))
}

fn setup_go(ctx: &mut Context, args: SetupGoArgs) -> Result<(), CommandError> {
    const LISTS: [&str; 3] = ["GOPRIVATE", "GONOSUMDB", "GONOPROXY"];
    let policy = ctx.load_policy()?;
    let mut ours: Vec<String> = Vec::new();
    for rule in &policy.rules {
        let p = go_pattern(&rule.pattern.host);
        if !ours.contains(&p) {
            ours.push(p);
        }
    }
    let env = go_env(&["GOPRIVATE", "GONOSUMDB", "GONOPROXY", "GOAUTH", "GOVERSION"])?;
    let get = |name: &str| env.get(name).map_or("", String::as_str);
    let mut merged = Vec::new();
    for name in LISTS {
        let value = get(name);
        if let Some(why) = refused(value, args.write) {
            return Err(CommandError::user(format!(
                "{name} (from the environment or go's config) {why}: gocred will not rewrite it; \
                 fix {name} first (`go env {name}` shows it, `go env -u {name}` clears go's copy)"
            )));
        }
        merged.push((name, merge_list(value, &ours)));
    }
    let shell = args.shell.unwrap_or(Shell::Sh);
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
        for (k, v) in &merged {
            let v = quote(shell, v);
            out += &match shell {
                Shell::Sh => format!("export {k}={v}\n"),
                Shell::Fish => format!("set -gx {k} {v}\n"),
            };
        }
    }
    let (goauth, version) = (get("GOAUTH"), get("GOVERSION"));
    if go_minor(version).is_some_and(|v| v >= (1, 24)) && !goauth.contains("gocred goauth") {
        let value = if goauth.is_empty() || goauth == "netrc" {
            "gocred goauth".to_owned()
        } else {
            format!("gocred goauth;{goauth}")
        };
        notes.push(format!(
            "{version} reads GOAUTH: `go env -w GOAUTH={}` makes go ask gocred for these hosts with no netrc (see `go help goauth`)",
            quote(shell, &value)
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn setup_git_quoting_undo_recognises_every_helper_value_setup_writes() {
        for path in [
            "/usr/bin/gocred",
            "/opt/my tools/gocred",
            "/x/it's;$(touch y)`z`\\\"\n*/gocred",
        ] {
            let value = git_helper_value(path);
            assert!(is_gocred(&value), "{value}");
            assert_eq!(
                value.strip_prefix('!').and_then(sh_unquote).as_deref(),
                (value != path).then_some(path),
                "{value}"
            );
        }
        assert!(!is_gocred("!'/usr/bin/other'"));
        assert!(!is_gocred("!'/x/gocred' --config /tmp/other"));
    }
}
