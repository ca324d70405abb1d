//! `gocred setup git|go`: configure git and the go command for the hosts policy names.
//!
//! `setup git` writes, for every origin of a rule, `credential.<origin>.helper` as exactly two
//! values: an empty one (git forgets the helpers it collected so far, so no other helper answers
//! for that origin) and gocred; plus `credential.<origin>/<prefix>.useHttpPath = true` under the
//! prefix of every path-scoped rule (such a rule matches only when git sends the path; elsewhere
//! git sends none, so an entry stored without a path keeps answering there). Idempotent: what is already
//! right is left alone. Every value it replaces is named on stderr, and what it wrote and what
//! that replaced is recorded in the same git config scope ([`RECORD_KEY`]). `--dry-run` prints
//! the exact `git config` commands; `--undo` puts back exactly what the record says was there,
//! on the keys that still hold what setup wrote, and touches nothing else (a key someone changed
//! since is left alone, with a note naming what it had replaced).
//!
//! `setup go` adds the policy's hosts (a wildcard rule becomes Go's `*.corp.example`) to Go's
//! privacy variables as `go help private` describes, never overriding a company's routing (see
//! [`go_plan`]): every existing entry is kept, GONOSUMDB/GONOPROXY left unset follow GOPRIVATE,
//! `GONOPROXY=none` and a company GOPROXY's GONOPROXY are kept. It prints the lines for a shell
//! (from `go env -json`, or without go from the environment alone) or writes go's env file with
//! `go env -w` (`--write`), never copying a value that only the process environment holds into
//! it (the environment overrides that file: setup says where to set it instead); go's own
//! warnings are shown.
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
        SetupCommand::Ci(args) => {
            let report = crate::ci::setup(&*ctx.env, &helper_value(ctx)?, args.dry_run)
                .map_err(CommandError::user)?;
            let verb = if args.dry_run { "would run" } else { "ran" };
            for line in &report.commands {
                ctx.note(None, &format!("setup ci: {verb}: {line}"));
            }
            ctx.stdout
                .write_all(report.exports.as_bytes())
                .map_err(|e| CommandError::user(format!("cannot write to stdout: {e}")))
        }
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
            Some(0) => String::from_utf8(output.stdout)
                .map(|text| text.split_terminator('\0').map(str::to_owned).collect())
                .map_err(|_| {
                    CommandError::user(format!(
                        "{key} ({}) holds a value that is not UTF-8: gocred will not rewrite it; \
                         fix it with `git config {} --edit`",
                        self.scope, self.scope
                    ))
                }),
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
        // What is shown passes through redaction: a replaced helper value in a record may be a
        // shell snippet holding a token.
        let line = crate::redact::shown(&line).to_string();
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

/// The git config key (in the scope setup writes) that records what setup wrote: one value per
/// key it changed, a JSON object `{"key": K, "wrote": [...], "replaced": [...]}` (every value of
/// K before and after, in order). Kept in git's config rather than a file of gocred's own: each
/// scope (`--global`, `--system`, one repository's `--local`) carries its own record with the
/// values it describes, a copied or reset config takes its record along, and there is no second
/// file that could disagree with the config. git ignores a section it does not know.
const RECORD_KEY: &str = "gocred.setup";

/// One key setup changed: what it wrote there and what was there before.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Record {
    key: String,
    wrote: Vec<String>,
    replaced: Vec<String>,
}

impl Record {
    fn to_json(&self) -> String {
        serde_json::json!({"key": self.key, "wrote": self.wrote, "replaced": self.replaced})
            .to_string()
    }

    fn from_json(text: &str) -> Option<Record> {
        let v: serde_json::Value = serde_json::from_str(text).ok()?;
        let list = |name: &str| -> Option<Vec<String>> {
            v.get(name)?
                .as_array()?
                .iter()
                .map(|s| s.as_str().map(str::to_owned))
                .collect()
        };
        let key = v.get("key")?.as_str()?;
        // Only keys setup writes: a record is never a way to make undo touch another key (or
        // pass git an option).
        let lower = key.to_ascii_lowercase();
        if !lower.starts_with("credential.")
            || !(lower.ends_with(".helper") || lower.ends_with(".usehttppath"))
        {
            return None;
        }
        Some(Record {
            key: key.to_owned(),
            wrote: list("wrote")?,
            replaced: list("replaced")?,
        })
    }
}

/// `value` as a note shows it: redacted and sanitized, the empty value named.
fn shown_value(value: &str) -> String {
    if value.is_empty() {
        "(empty: git forgets the helpers configured before it)".to_owned()
    } else {
        crate::redact::shown(value).to_string()
    }
}

impl Git<'_> {
    /// Sets `key` to exactly `values`, in order.
    fn set_all(&mut self, key: &str, values: &[String]) -> Result<(), CommandError> {
        match values.split_first() {
            None => self.run(&["--unset-all", key]),
            Some((first, rest)) => {
                self.run(&["--replace-all", key, first])?;
                for v in rest {
                    self.run(&["--add", key, v])?;
                }
                Ok(())
            }
        }
    }

    fn records(&self) -> Result<Vec<Result<Record, String>>, CommandError> {
        Ok(self
            .get_all(RECORD_KEY)?
            .into_iter()
            .map(|text| Record::from_json(&text).ok_or(text))
            .collect())
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
    let mut out = Vec::new();
    let mut notes = Vec::new();
    let mut git = Git {
        scope,
        dry_run: args.dry_run,
        out: &mut out,
    };
    let (origins, prefixes) = origins(&policy);
    if args.undo {
        undo_git(&mut git, &origins, &prefixes, &mut notes)?;
    } else {
        let helper = helper_value(ctx)?;
        let mut wanted: Vec<(String, Vec<String>)> = origins
            .iter()
            .map(|o| {
                (
                    format!("credential.{o}.helper"),
                    vec![String::new(), helper.clone()],
                )
            })
            .collect();
        // git sends the repository path only under the path prefixes of path-scoped rules:
        // elsewhere on the host, an entry stored without a path keeps answering, as git's own
        // helpers match.
        wanted.extend(prefixes.iter().map(|p| {
            (
                format!("credential.{p}.useHttpPath"),
                vec!["true".to_owned()],
            )
        }));
        let before = (!args.dry_run)
            .then(|| running_helpers(ctx, &origins))
            .flatten();
        let mut records = git.records()?;
        let mut changed = false;
        for (key, values) in &wanted {
            let current = git.get_all(key)?;
            if current == *values {
                continue;
            }
            let verb = if args.dry_run {
                "would replace"
            } else {
                "replacing"
            };
            for old in &current {
                notes.push(format!("{verb} {key} = {}", shown_value(old)));
            }
            git.set_all(key, values)?;
            records.retain(|r| !matches!(r, Ok(r) if r.key.eq_ignore_ascii_case(key)));
            records.push(Ok(Record {
                key: key.clone(),
                wrote: values.clone(),
                replaced: current,
            }));
            changed = true;
        }
        if let Some(before) = before
            && let Some(after) = running_helpers(ctx, &origins)
        {
            for (origin, was) in &before {
                let now = after.get(origin).map_or(&[][..], Vec::as_slice);
                for (key, value, described) in was {
                    // Named above already when it was a value of a key setup replaced.
                    let replaced_here = wanted.iter().any(|(k, _)| {
                        key.eq_ignore_ascii_case(&format!("{}\0{k}", scope.trim_start_matches('-')))
                    });
                    if !replaced_here && !now.iter().any(|(k, v, _)| k == key && v == value) {
                        notes.push(format!(
                            "git no longer runs {} for {origin}: the empty helper value gocred \
                             setup writes first resets the helpers configured before it",
                            crate::redact::shown(described)
                        ));
                    }
                }
            }
        }
        if changed {
            if !git.get_all(RECORD_KEY)?.is_empty() {
                git.run(&["--unset-all", RECORD_KEY])?;
            }
            for record in &records {
                let text = match record {
                    Ok(r) => r.to_json(),
                    Err(text) => text.clone(),
                };
                git.run(&["--add", RECORD_KEY, &text])?;
            }
        }
    }
    if policy.rules.is_empty() && !args.undo {
        notes.push(format!(
            "{} has no rules: nothing to set up",
            policy.path.display()
        ));
    } else if out.is_empty() && !args.undo {
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

/// For each origin, the helpers git runs for it other than gocred (`scope\0key`, value,
/// description),
/// as git resolves them from every scope; `None` when git's config cannot be read (the notes
/// these feed are then left out, nothing else).
type Running = BTreeMap<String, Vec<(String, String, String)>>;

fn running_helpers(ctx: &Context, origins: &[String]) -> Option<Running> {
    let config = crate::gitconfig::read((ctx.env)("PATH").map(Into::into)).ok()?;
    let mut running = BTreeMap::new();
    for origin in origins {
        let (protocol, host) = origin.split_once("://")?;
        let url = crate::gitconfig::CredentialUrl {
            protocol: protocol.to_owned(),
            host: host.to_owned(),
            path: None,
        };
        let helpers = config.helpers(&config.resolve(&url));
        let list = helpers
            .iter()
            .filter(|h| !h.gocred)
            .map(|h| {
                (
                    format!("{}\0{}", h.entry.scope, h.entry.key),
                    h.entry.value.clone().unwrap_or_default(),
                    h.entry.describe(),
                )
            })
            .collect();
        running.insert(origin.clone(), list);
    }
    Some(running)
}

/// `setup git --undo`: every key the record names gets back exactly what was there before,
/// when it still holds exactly what setup wrote; a key someone changed since is left as it is,
/// with a note naming what it had replaced. Then the record goes. A scope with no record (set
/// up by a version that kept none) falls back to removing the helper lists that are exactly
/// what setup writes.
fn undo_git(
    git: &mut Git<'_>,
    origins: &[String],
    prefixes: &[String],
    notes: &mut Vec<String>,
) -> Result<(), CommandError> {
    let records = git.records()?;
    if records.is_empty() {
        return undo_git_unrecorded(git, origins, prefixes, notes);
    }
    for record in &records {
        let record = match record {
            Ok(r) => r,
            Err(text) => {
                notes.push(format!(
                    "{RECORD_KEY} holds a value gocred cannot read ({}); ignored",
                    crate::redact::shown(text)
                ));
                continue;
            }
        };
        let current = git.get_all(&record.key)?;
        if current == record.wrote {
            git.set_all(&record.key, &record.replaced)?;
        } else {
            let had = if record.replaced.is_empty() {
                "it was not set before".to_owned()
            } else {
                let list: Vec<String> = record.replaced.iter().map(|v| shown_value(v)).collect();
                format!("it had replaced: {}", list.join("; "))
            };
            notes.push(format!(
                "{} changed since gocred setup git wrote it; left as it is ({had})",
                record.key
            ));
        }
    }
    git.run(&["--unset-all", RECORD_KEY])?;
    if !git.dry_run {
        // An empty [gocred] section would be the one trace left.
        let left = Command::new("git")
            .args(["config", git.scope, "--get-regexp", r"^gocred\."])
            .output()
            .map_err(|e| CommandError::user(format!("cannot run git: {e}")))?;
        if left.status.code() == Some(1) {
            let _ = Command::new("git")
                .args(["config", git.scope, "--remove-section", "gocred"])
                .output();
        }
    }
    Ok(())
}

fn undo_git_unrecorded(
    git: &mut Git<'_>,
    origins: &[String],
    prefixes: &[String],
    notes: &mut Vec<String>,
) -> Result<(), CommandError> {
    for origin in origins {
        let helper_key = format!("credential.{origin}.helper");
        let current = git.get_all(&helper_key)?;
        let is_ours = current.len() == 2 && current[0].is_empty() && is_gocred(&current[1]);
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
    }
    for prefix in prefixes {
        let path_key = format!("credential.{prefix}.useHttpPath");
        if git.get_all(&path_key)? == ["true"] {
            git.run(&["--unset-all", &path_key])?;
        }
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

/// What `go env -json` printed; `Ok(None)` when there is no `go` to run.
fn go_env_json(names: &[&str]) -> Result<Option<BTreeMap<String, String>>, CommandError> {
    let output = match Command::new("go")
        .args(["env", "-json"])
        .args(names)
        .output()
    {
        Ok(output) => output,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(CommandError::user(format!("cannot run `go env` ({e})"))),
    };
    if !output.status.success() {
        return Err(CommandError::user(format!(
            "`go env -json` failed: {}",
            crate::redact::shown(String::from_utf8_lossy(&output.stderr).trim())
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
    Ok(Some(values))
}

/// The variables of go's env file (`go env GOENV`) as go reads them: one `NAME=value` a line,
/// a line that does not start with `A`-`Z` or has no `=` skipped, the first of a name kept.
/// Only a regular file is read (a FIFO there must not hang setup); none when there is none.
fn go_env_file(path: &str) -> BTreeMap<String, String> {
    let mut values = BTreeMap::new();
    if path.is_empty() || path == "off" {
        return values;
    }
    let path = std::path::Path::new(path);
    if !std::fs::metadata(path).is_ok_and(|m| m.is_file()) {
        return values;
    }
    let mut text = Vec::new();
    let mut open = std::fs::OpenOptions::new();
    open.read(true);
    // A FIFO swapped in after the look above must not hang the open.
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::custom_flags(&mut open, libc::O_NONBLOCK);
    let read = open
        .open(path)
        .and_then(|f| std::io::Read::read_to_end(&mut std::io::Read::take(f, 1 << 20), &mut text));
    if read.is_err() {
        return values;
    }
    for line in text.split(|&b| b == b'\n') {
        let Some(eq) = line.iter().position(|&b| b == b'=') else {
            continue;
        };
        if !line[0].is_ascii_uppercase() {
            continue;
        }
        let (k, v) = (&line[..eq], &line[eq + 1..]);
        values
            .entry(String::from_utf8_lossy(k).into_owned())
            .or_insert_with(|| String::from_utf8_lossy(v).into_owned());
    }
    values
}

/// Go's module-privacy variables as they are now, and where each comes from.
#[derive(Debug, Default)]
struct GoPrivacy {
    /// What go uses (`go env -json`: the environment over go's env file over defaults), or,
    /// without go, the environment's values.
    effective: BTreeMap<String, String>,
    /// Non-empty in the process environment (which go's env file cannot override).
    from_env: Vec<String>,
    /// go's env file (`go env GOENV`), as go reads it; empty without go.
    file: BTreeMap<String, String>,
    goenv: String,
    /// Whether `go` ran (else the values are the environment's alone).
    have_go: bool,
}

const PRIVACY: [&str; 5] = ["GOPRIVATE", "GONOSUMDB", "GONOPROXY", "GOPROXY", "GOSUMDB"];

impl GoPrivacy {
    fn read(ctx: &Context) -> Result<Self, CommandError> {
        let env = |name: &str| (ctx.env)(name).filter(|v| !v.is_empty());
        let from_env: Vec<String> = PRIVACY
            .iter()
            .filter(|n| env(n).is_some())
            .map(|n| (*n).to_owned())
            .collect();
        let mut names = PRIVACY.to_vec();
        names.extend(["GOAUTH", "GOVERSION", "GOENV"]);
        match go_env_json(&names)? {
            Some(effective) => {
                let goenv = effective.get("GOENV").cloned().unwrap_or_default();
                Ok(GoPrivacy {
                    file: go_env_file(&goenv),
                    effective,
                    from_env,
                    goenv,
                    have_go: true,
                })
            }
            None => Ok(GoPrivacy {
                effective: names
                    .iter()
                    .map(|n| ((*n).to_owned(), env(n).unwrap_or_default()))
                    .collect(),
                from_env,
                ..GoPrivacy::default()
            }),
        }
    }

    fn get(&self, name: &str) -> &str {
        self.effective.get(name).map_or("", String::as_str)
    }

    /// Whether `name` is set by the user (environment or go's env file), not defaulted by go
    /// (GONOPROXY and GONOSUMDB default to GOPRIVATE).
    fn explicit(&self, name: &str) -> bool {
        self.from_env.iter().any(|n| n == name)
            || self.file.get(name).is_some_and(|v| !v.is_empty())
    }
}

/// Whether `goproxy` sends modules through a proxy other than Go's public one: a company's.
fn company_proxy(goproxy: &str) -> bool {
    goproxy.split([',', '|']).map(str::trim).any(|p| {
        !matches!(
            p,
            "" | "direct" | "off" | "https://proxy.golang.org" | "proxy.golang.org"
        )
    })
}

/// What `setup go` sets: each variable and its new value, and the notes that say why a value was
/// kept. As `go help private` describes: GOPRIVATE gets the policy's hosts; GONOSUMDB and
/// GONOPROXY default to GOPRIVATE, so when unset they stay unset and follow it. A GONOSUMDB
/// list gets the hosts too. GONOPROXY is routing, the company's call: `none` is kept, and so
/// is any value when GOPROXY is a company proxy; with a company proxy and no GONOPROXY, it is
/// pinned to what it was (GOPRIVATE before, or `none`) so the hosts keep going through the
/// proxy. Only with Go's public proxy does a GONOPROXY list get the hosts (a private module
/// path must not go to proxy.golang.org).
fn go_plan(now: &GoPrivacy, ours: &[String]) -> (Vec<(&'static str, String)>, Vec<String>) {
    let (mut set, mut notes) = (Vec::new(), Vec::new());
    let private = now.get("GOPRIVATE");
    let merged = merge_list(private, ours);
    set.push(("GOPRIVATE", merged.clone()));
    let nosumdb = now.get("GONOSUMDB");
    if now.explicit("GONOSUMDB") {
        if nosumdb.trim() == "none" {
            notes.push(format!(
                "GONOSUMDB=none kept: go checks the policy's modules against GOSUMDB ({})",
                now.get("GOSUMDB")
            ));
            set.push(("GONOSUMDB", nosumdb.to_owned()));
        } else {
            set.push(("GONOSUMDB", merge_list(nosumdb, ours)));
        }
    }
    let noproxy = now.get("GONOPROXY");
    let proxy = now.get("GOPROXY");
    let company = company_proxy(proxy);
    if now.explicit("GONOPROXY") {
        if noproxy.trim() == "none" || company {
            notes.push(format!(
                "GONOPROXY={noproxy} kept: {} decides which modules go fetches directly",
                if company { "your GOPROXY" } else { "it" }
            ));
            set.push(("GONOPROXY", noproxy.to_owned()));
        } else {
            set.push(("GONOPROXY", merge_list(noproxy, ours)));
        }
    } else if company && merged != private {
        let pinned = if private.trim().is_empty() {
            "none".to_owned()
        } else {
            private.to_owned()
        };
        notes.push(format!(
            "GOPROXY is a company proxy ({proxy}): GONOPROXY={pinned} keeps routing as it was \
             (the policy's hosts still go through the proxy); set GONOPROXY yourself to fetch them \
             directly"
        ));
        set.push(("GONOPROXY", pinned));
    }
    (set, notes)
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
    let policy = ctx.load_policy()?;
    let mut ours: Vec<String> = Vec::new();
    for rule in &policy.rules {
        let p = go_pattern(&rule.pattern.host);
        if !ours.contains(&p) {
            ours.push(p);
        }
    }
    let now = GoPrivacy::read(ctx)?;
    if args.write && !now.have_go {
        return Err(CommandError::user(
            "cannot run `go env -w`: `go` is not on PATH (install Go, or use `gocred setup go \
             --shell sh|fish` to print the lines for your shell)",
        ));
    }
    for name in ["GOPRIVATE", "GONOSUMDB", "GONOPROXY"] {
        if let Some(why) = refused(now.get(name), args.write) {
            return Err(CommandError::user(format!(
                "{name} (from the environment or go's config) {why}: gocred will not rewrite it; \
                 fix {name} first (`go env {name}` shows it, `go env -u {name}` clears go's copy)"
            )));
        }
    }
    let (set, mut notes) = go_plan(&now, &ours);
    let shell = args.shell.unwrap_or(Shell::Sh);
    let mut out = String::new();
    let mut go_stderr = String::new();
    if args.write {
        let mut write = Vec::new();
        for (name, value) in &set {
            if now.get(name) == value {
                continue;
            }
            // Entries that are in neither go's env file (for this name or GOPRIVATE) nor the
            // policy come from the environment: they are not copied into go's file.
            let file_has = |entry: &str| {
                [name, &"GOPRIVATE"].iter().any(|n| {
                    now.file
                        .get(**n)
                        .is_some_and(|v| v.split(',').any(|e| e.trim() == entry))
                })
            };
            let env_only = value.split(',').map(str::trim).any(|e| {
                !e.is_empty() && e != "none" && !ours.iter().any(|o| o == e) && !file_has(e)
            });
            if now.from_env.iter().any(|n| n == name) || env_only {
                notes.push(format!(
                    "{name} is set in the environment, which overrides go's env file ({}): not \
                     written there; set {name}={} where you set it",
                    now.goenv,
                    quote(shell, value)
                ));
                continue;
            }
            write.push((*name, value.clone()));
        }
        if !write.is_empty() {
            let mut cmd = Command::new("go");
            cmd.args(["env", "-w"]);
            for (k, v) in &write {
                cmd.arg(format!("{k}={v}"));
            }
            let result = cmd
                .output()
                .map_err(|e| CommandError::user(format!("cannot run `go env -w`: {e}")))?;
            go_stderr = String::from_utf8_lossy(&result.stderr).into_owned();
            if !result.status.success() {
                return Err(CommandError::user(format!(
                    "`go env -w` failed: {}",
                    crate::redact::shown(go_stderr.trim())
                )));
            }
        }
        for (k, v) in &write {
            out += &format!("go env -w {k}={}\n", shell_quote(v));
        }
    } else {
        for (k, v) in &set {
            let v = quote(shell, v);
            out += &match shell {
                Shell::Sh => format!("export {k}={v}\n"),
                Shell::Fish => format!("set -gx {k} {v}\n"),
            };
        }
        if !now.have_go {
            notes.push(
                "`go` is not on PATH: these lines start from the environment's values alone \
                 (go's env file was not read)"
                    .into(),
            );
        }
    }
    let (goauth, version) = (now.get("GOAUTH"), now.get("GOVERSION"));
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
    // go's own warnings (a variable the environment overrides, ...), as go said them.
    for line in go_stderr.lines().filter(|l| !l.trim().is_empty()) {
        let _ = writeln!(
            ctx.stderr,
            "gocred setup go: go says: {}",
            crate::redact::shown(line)
        );
    }
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
    }

    #[test]
    fn setup_git_undo_record_names_only_keys_setup_writes() {
        let record = |key: &str| {
            Record::from_json(&format!(
                r#"{{"key":{key:?},"wrote":["true"],"replaced":[]}}"#
            ))
        };
        assert!(record("credential.https://h.example/g.useHttpPath").is_some());
        assert!(record("credential.https://h.example.helper").is_some());
        assert!(record("core.sshCommand").is_none());
        assert!(record("--file=/etc/gitconfig").is_none());
        let r = Record {
            key: "credential.https://h.example.helper".into(),
            wrote: vec![String::new(), "gocred".into()],
            replaced: vec!["a\nb\"c".into()],
        };
        assert_eq!(Record::from_json(&r.to_json()), Some(r));
    }

    fn privacy(env: &[(&str, &str)], file: &[(&str, &str)]) -> GoPrivacy {
        let mut now = GoPrivacy {
            have_go: true,
            ..GoPrivacy::default()
        };
        for (k, v) in file {
            now.file.insert((*k).into(), (*v).into());
            now.effective.insert((*k).into(), (*v).into());
        }
        for (k, v) in env {
            now.from_env.push((*k).into());
            now.effective.insert((*k).into(), (*v).into());
        }
        // go's defaults: GONOPROXY and GONOSUMDB follow GOPRIVATE.
        let private = now.get("GOPRIVATE").to_owned();
        for name in ["GONOPROXY", "GONOSUMDB"] {
            if !now.explicit(name) {
                now.effective.insert(name.into(), private.clone());
            }
        }
        now
    }

    #[test]
    fn setup_go_company_routing_plan_follows_go_help_private() {
        let ours = vec!["git.corp.example".to_owned()];
        let plan =
            |env: &[(&str, &str)], file: &[(&str, &str)]| go_plan(&privacy(env, file), &ours).0;
        // Nothing set: GOPRIVATE alone; the other two follow it.
        assert_eq!(
            plan(&[], &[]),
            [("GOPRIVATE", "git.corp.example".to_owned())]
        );
        // GONOPROXY=none and a company proxy: routing kept.
        assert_eq!(
            plan(
                &[("GOPROXY", "https://proxy.corp.example")],
                &[("GONOPROXY", "none")]
            ),
            [
                ("GOPRIVATE", "git.corp.example".to_owned()),
                ("GONOPROXY", "none".to_owned())
            ]
        );
        // A company proxy, no GONOPROXY: pinned to what GOPRIVATE was.
        assert_eq!(
            plan(
                &[("GOPROXY", "https://proxy.corp.example|direct")],
                &[("GOPRIVATE", "a.example")]
            ),
            [
                ("GOPRIVATE", "a.example,git.corp.example".to_owned()),
                ("GONOPROXY", "a.example".to_owned())
            ]
        );
        // The public proxy and lists: merged; GONOSUMDB=none kept.
        assert_eq!(
            plan(&[("GONOPROXY", "b.example")], &[("GONOSUMDB", "none")]),
            [
                ("GOPRIVATE", "git.corp.example".to_owned()),
                ("GONOSUMDB", "none".to_owned()),
                ("GONOPROXY", "b.example,git.corp.example".to_owned())
            ]
        );
        assert!(!company_proxy("https://proxy.golang.org,direct"));
        assert!(!company_proxy("off"));
        assert!(company_proxy(
            "https://proxy.golang.org|https://athens.corp.example"
        ));
        assert!(!is_gocred("!'/x/gocred' --config /tmp/other"));
    }
}
