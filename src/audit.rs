//! The audit trail: one JSON line per decision gocred takes for a credential (issue 11, "An
//! audit trail"), opt-in with `[audit] path = "..."` in the policy.
//!
//! A command carries one [`Recorder`] (in its `Context`); the places that decide fill it in
//! (the target and the rule, each source asked and what it said, the outcome) and `cli::run`
//! flushes it once, at the end, in [`Recorder::finish`]. Rules:
//!
//! - **Never a secret.** A line holds the normalized target, the rule (file, line, url), each
//!   source's name and result, the user name of what was answered and who asked. No password,
//!   no token, no prefix of one, no request attribute but the target's: nothing here is given a
//!   [`crate::secret::Secret`], and every free text (a source's reason, an error) goes through
//!   [`crate::redact::redact`].
//! - **Whole lines.** The lines of one command are written with one `write()` on a file opened
//!   `O_APPEND` ([`crate::fs::open_append_private`]: mode 0600, `O_NOFOLLOW`, a regular file
//!   only), so lines of concurrent gits never interleave.
//! - **Bounded.** Past [`Config::max_bytes`] the file is renamed to `PATH.1` (the one before
//!   that is dropped) under a lock, by whichever process notices first.
//! - **Never in git's way.** A log that cannot be written (full disk, read-only, refused) leaves
//!   the decision as it was; [`Recorder::finish`] returns the one line to print on stderr.
//!
//! Line schema 1 (documented in gocred-audit(1)):
//! `{"v":1,"time":RFC3339,"command","target","rule":{"url","file","line"}|null,"sources":
//! [{"source","result","detail"?}],"answered_by"?,"username"?,"outcome","detail"?,"pid",
//! "ppid","parent","caller","ancestry":[{"pid","comm"}]}`.

use crate::policy::{Rule, SourceKind};
use serde_json::{Map, Value, json};
use std::cell::RefCell;
use std::io::Write;
use std::path::{Path, PathBuf};

/// The version of the line format (`"v"`).
pub const SCHEMA: u64 = 1;
/// Rotation threshold when `[audit] max_size_mib` is not given.
pub const DEFAULT_MAX_BYTES: u64 = 10 << 20;
/// The commands whose decisions are logged; every other command leaves no line.
pub const COMMANDS: &[&str] = &[
    "get", "store", "erase", "netrc", "exec", "goauth", "login", "logout",
];

/// `[audit]` of a policy: where the log goes and when it rotates.
///
/// The machine policy (src/policy/machine.rs) builds one with `required = true` to force the
/// log on; [`effective`] is the one place that says which table wins.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Config {
    /// Absolute (a `~/` in the file is already expanded).
    pub path: PathBuf,
    /// Rotate once the file is larger than this.
    pub max_bytes: u64,
    /// Set only by the machine policy: a user's policy can then neither turn the log off nor
    /// move it.
    pub required: bool,
    /// Set only by the machine policy: the group that may read the log (the security team's).
    /// The log is then mode 0640 and belongs to that group, and the directories gocred creates
    /// for it are 0750 and belong to it too; without it, 0600 and 0700.
    pub group: Option<String>,
    /// The policy file and line of the `[audit]` table, for messages.
    pub declared_in: PathBuf,
    pub line: usize,
}

/// The audit table that applies: a machine policy's `required` one wins over anything the user
/// says; else the user's own; else the machine policy's (a default the user may move).
pub fn effective(machine: Option<&Config>, user: Option<&Config>) -> Option<Config> {
    match (machine, user) {
        (Some(m), _) if m.required => Some(m.clone()),
        (_, Some(u)) => Some(u.clone()),
        (m, None) => m.cloned(),
    }
}

/// The audit log in `status`: one line saying where it goes and which policy decided that
/// (`required` by the machine policy, or a policy's `[audit]` table); nothing when it is off.
pub fn summary(config: Option<&Config>) -> String {
    let Some(c) = config else {
        return String::new();
    };
    let by = format!("{}:{}", c.declared_in.display(), c.line);
    let decided = if c.required {
        format!("required by the machine policy {by}")
    } else {
        format!("from {by}")
    };
    let group = c
        .group
        .as_deref()
        .map(|g| format!("; group {g} may read it"))
        .unwrap_or_default();
    format!("audit log: {} ({decided}{group})\n", c.path.display())
}

/// [`summary`] in `status --json`: `null` when off, else `path`, `declared_in` (file and
/// line), `required` and `group` (null when none).
pub fn summary_json(config: Option<&Config>) -> Value {
    config.map_or(Value::Null, |c| {
        json!({
            "path": c.path.display().to_string(),
            "declared_in": {"path": c.declared_in.display().to_string(), "line": c.line},
            "required": c.required,
            "group": c.group,
        })
    })
}

/// What one source said, in the line's `sources` list.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SourceResult {
    /// It had a credential, and answered.
    Found,
    /// It had none for this scope and user (an expired entry counts as none).
    NotFound,
    /// The rule's `env` variable is unset or empty.
    MissingVariable,
    /// It cannot work here (no keychain, a locked one...): the next source was asked.
    Unavailable,
    /// It stopped the command (a store that needs fixing).
    Error,
}

impl SourceResult {
    pub fn name(self) -> &'static str {
        match self {
            SourceResult::Found => "found",
            SourceResult::NotFound => "not found",
            SourceResult::MissingVariable => "missing variable",
            SourceResult::Unavailable => "unavailable",
            SourceResult::Error => "error",
        }
    }
}

#[derive(Debug, Clone)]
struct Step {
    source: &'static str,
    result: SourceResult,
    detail: Option<String>,
}

#[derive(Debug, Clone, Default)]
struct Decision {
    target: String,
    /// (url, file, line)
    rule: Option<(String, PathBuf, usize)>,
    steps: Vec<Step>,
    answered_by: Option<&'static str>,
    username: Option<String>,
    outcome: Option<String>,
}

#[derive(Debug, Default)]
struct State {
    command: Option<&'static str>,
    config: Option<Config>,
    decisions: Vec<Decision>,
}

thread_local! {
    /// The label of the remote a `gocred agent` runs this thread's command for.
    static REMOTE: RefCell<Option<String>> = const { RefCell::new(None) };
    /// The recorder of the command running on this thread (`cli::run` runs one command per
    /// thread; the in-process tests run one per test thread).
    static CURRENT: Recorder = Recorder::default();
}

/// The recorder of the command running on this thread: the hooks (the `Sources` that ask each
/// source, the commands that decide) reach it here without a handle threaded through every
/// library call.
pub fn current<T>(f: impl FnOnce(&Recorder) -> T) -> T {
    CURRENT.with(f)
}

/// Runs `f` (a command the agent runs in-process for a remote) with `label` (the remote's
/// cleaned label) named as `remote` in every line it logs.
pub fn for_remote<T>(label: &str, f: impl FnOnce() -> T) -> T {
    REMOTE.with(|r| *r.borrow_mut() = Some(label.to_owned()));
    let out = f();
    REMOTE.with(|r| *r.borrow_mut() = None);
    out
}

/// The decisions of one command, flushed once by [`Recorder::finish`]. Inactive (every call a
/// no-op) until [`Recorder::begin`] names a logged command; nothing is written unless a policy
/// with `[audit]` was loaded ([`Recorder::configure`]).
#[derive(Debug, Default)]
pub struct Recorder {
    state: RefCell<State>,
}

impl Recorder {
    /// Starts recording for `command` (one of [`COMMANDS`]; any other leaves it inactive),
    /// forgetting whatever an earlier command on this thread left.
    pub fn begin(&self, command: &'static str) {
        *self.state.borrow_mut() = State {
            command: COMMANDS.contains(&command).then_some(command),
            ..State::default()
        };
    }

    fn active(&self) -> bool {
        self.state.borrow().command.is_some()
    }

    /// The policy's `[audit]` table (the last policy loaded wins; `None` leaves the one set).
    pub fn configure(&self, config: Option<&Config>) {
        if let Some(config) = config {
            self.state.borrow_mut().config = Some(config.clone());
        }
    }

    /// Whether a line would be written (a logged command and an `[audit]` table).
    pub fn enabled(&self) -> bool {
        let s = self.state.borrow();
        s.command.is_some() && s.config.is_some()
    }

    /// A new decision for `target` (a normalized URL), under `rule` of the policy read from
    /// `file`, or no rule.
    pub fn decision(&self, target: &str, rule: Option<&Rule>, file: &Path) {
        if !self.active() {
            return;
        }
        let outcome = rule.is_none().then(|| "not managed".to_owned());
        self.state.borrow_mut().decisions.push(Decision {
            target: target.to_owned(),
            rule: rule.map(|r| (r.url.clone(), file.to_owned(), r.line)),
            outcome,
            ..Decision::default()
        });
    }

    /// The sources of `rule` are about to be asked for `scope`: continues the decision the
    /// command opened for that rule, or opens one (netrc, goauth: one per host).
    pub fn resolving(&self, scope: &str, rule: &Rule, file: &Path) {
        if !self.active() {
            return;
        }
        let mut s = self.state.borrow_mut();
        let open = s.decisions.last().is_some_and(|d| {
            d.steps.is_empty()
                && d.outcome.is_none()
                && d.rule
                    .as_ref()
                    .is_some_and(|(url, _, line)| *url == rule.url && *line == rule.line)
        });
        if !open {
            s.decisions.push(Decision {
                target: scope.to_owned(),
                rule: Some((rule.url.clone(), file.to_owned(), rule.line)),
                ..Decision::default()
            });
        }
    }

    /// What `source` said for the open decision; `detail` (a reason, never a secret) is redacted.
    pub fn source(&self, source: SourceKind, result: SourceResult, detail: Option<&str>) {
        if !self.active() {
            return;
        }
        if let Some(d) = self.state.borrow_mut().decisions.last_mut() {
            d.steps.push(Step {
                source: source.name(),
                result,
                detail: detail.map(|t| crate::redact::redact(t).into_owned()),
            });
        }
    }

    /// The open decision ended with `source` answering `username` (or nobody answering).
    pub fn answered(&self, answer: Option<(SourceKind, &str)>) {
        if !self.active() {
            return;
        }
        if let Some(d) = self.state.borrow_mut().decisions.last_mut() {
            match answer {
                Some((kind, username)) => {
                    d.answered_by = Some(kind.name());
                    d.username = Some(crate::redact::redact(username).into_owned());
                    d.outcome = Some("answered".to_owned());
                }
                None => d.outcome = Some("no credential".to_owned()),
            }
        }
    }

    /// Sets the outcome of the open decision (`stored in keychain`, `erased 2`, `ignored: ...`);
    /// for a command that names no target yet (login, logout), `target` opens one.
    pub fn outcome(&self, target: Option<&str>, outcome: &str) {
        if !self.active() {
            return;
        }
        let mut s = self.state.borrow_mut();
        let open = match (target, s.decisions.last()) {
            (_, None) => false,
            (None, Some(_)) => true,
            (Some(t), Some(d)) => d.target == t,
        };
        if !open {
            s.decisions.push(Decision {
                target: target.unwrap_or_default().to_owned(),
                ..Decision::default()
            });
        }
        if let Some(d) = s.decisions.last_mut() {
            d.outcome = Some(outcome.to_owned());
        }
    }

    /// Writes the lines (one per decision; a command that failed before deciding gets one line
    /// with its error). `Some(line)`: the log could not be written, and this is the one line to
    /// print on stderr; the command's result stands either way.
    pub fn finish(&self, error: Option<&str>) -> Option<String> {
        let s = std::mem::take(&mut *self.state.borrow_mut());
        let (Some(command), Some(config)) = (s.command, s.config.as_ref()) else {
            return None;
        };
        let mut decisions = s.decisions;
        if let Some(error) = error {
            let error = crate::redact::redact(error).into_owned();
            match decisions.last_mut() {
                Some(d) => {
                    d.outcome = Some(format!("error: {error}"));
                }
                None => decisions.push(Decision {
                    outcome: Some(format!("error: {error}")),
                    ..Decision::default()
                }),
            }
        }
        if decisions.is_empty() {
            return None;
        }
        let who = Caller::of_this_process();
        let millis = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_millis() as u64);
        let time = crate::time::rfc3339_millis(millis);
        let mut text = Vec::with_capacity(512 * decisions.len());
        for d in &decisions {
            let line = render(command, &time, d, &who);
            // serde_json escapes every control character: one line is one line.
            let _ = serde_json::to_writer(&mut text, &line);
            text.push(b'\n');
        }
        match append(config, &text) {
            Ok(Shared::Yes) => None,
            Ok(Shared::Not(e)) => Some(format!(
                "gocred: the audit log {} was written but its group cannot read it: {e}",
                config.path.display()
            )),
            Err(e) => Some(format!(
                "gocred: cannot write the audit log {}: {e}; the {command} went ahead without \
                 its log line",
                config.path.display()
            )),
        }
    }
}

/// The file a rule of `policy` was written in: the machine policy for its own rules, else the
/// user's policy.
pub fn rule_file(policy: &crate::policy::Policy, rule: &Rule) -> PathBuf {
    match (&policy.machine, rule.machine.is_machine_rule()) {
        (Some(applied), true) => applied.path.clone(),
        _ => policy.path.clone(),
    }
}

/// Records the policy's decision for `target` (the normalized URL) in this thread's recorder.
pub fn record_decision(
    target: &str,
    decision: &crate::policy::Decision<'_>,
    policy: &crate::policy::Policy,
) {
    let rule = match decision {
        crate::policy::Decision::Managed { rule, .. } => Some(*rule),
        crate::policy::Decision::NotManaged => None,
    };
    let file = rule.map_or_else(|| policy.path.clone(), |r| rule_file(policy, r));
    current(|a| a.decision(target, rule, &file));
}

/// Records what source `kind` answered under `rule` (`env` reads the variable's name through
/// `lookup`, never its value): the one hook of the source cascade.
pub fn record_source(
    kind: SourceKind,
    answer: &Result<Option<crate::source::Credential>, crate::source::SourceError>,
    rule: &Rule,
    lookup: &dyn Fn(&str) -> Option<String>,
) {
    use crate::source::SourceError;
    current(|a| {
        if !a.active() {
            return;
        }
        match answer {
            Ok(Some(cred)) => {
                a.source(kind, SourceResult::Found, None);
                a.answered(Some((kind, &cred.username)));
            }
            Ok(None) => match (kind, crate::source::env::missing(rule, lookup)) {
                (SourceKind::Env, Some(m)) => {
                    a.source(kind, SourceResult::MissingVariable, Some(&m.describe()))
                }
                _ => a.source(kind, SourceResult::NotFound, None),
            },
            Err(SourceError::Unavailable(why)) => {
                a.source(kind, SourceResult::Unavailable, Some(why))
            }
            Err(SourceError::Fatal(why)) => a.source(kind, SourceResult::Error, Some(why)),
        }
    });
}

fn render(command: &str, time: &str, d: &Decision, who: &Caller) -> Value {
    let mut line = Map::new();
    line.insert("v".into(), json!(SCHEMA));
    line.insert("time".into(), json!(time));
    line.insert("command".into(), json!(command));
    line.insert(
        "target".into(),
        json!(crate::redact::redact(&d.target).into_owned()),
    );
    line.insert(
        "rule".into(),
        match &d.rule {
            Some((url, file, n)) => {
                json!({"url": url, "file": file.to_string_lossy(), "line": n})
            }
            None => Value::Null,
        },
    );
    let sources: Vec<Value> = d
        .steps
        .iter()
        .map(|s| {
            let mut v = json!({"source": s.source, "result": s.result.name()});
            if let Some(detail) = &s.detail {
                v["detail"] = json!(detail);
            }
            v
        })
        .collect();
    line.insert("sources".into(), Value::Array(sources));
    if let Some(by) = d.answered_by {
        line.insert("answered_by".into(), json!(by));
    }
    if let Some(user) = &d.username {
        line.insert("username".into(), json!(user));
    }
    line.insert(
        "outcome".into(),
        json!(
            d.outcome
                .as_deref()
                .unwrap_or(match (&d.rule, d.steps.is_empty()) {
                    // store/erase that the rule or the request leaves with nothing to do
                    (Some(_), true) => "ignored",
                    _ => "no decision",
                })
        ),
    );
    line.insert("pid".into(), json!(who.pid));
    line.insert("ppid".into(), json!(who.ppid));
    line.insert("parent".into(), json!(who.parent));
    line.insert("caller".into(), json!(who.caller));
    if let Some(label) = REMOTE.with(|r| r.borrow().clone()) {
        line.insert(
            "remote".into(),
            json!(crate::redact::redact(&label).into_owned()),
        );
    }
    line.insert(
        "ancestry".into(),
        Value::Array(
            who.ancestry
                .iter()
                .map(|(pid, comm)| json!({"pid": pid, "comm": comm}))
                .collect(),
        ),
    );
    Value::Object(line)
}

/// Whether the log is as `[audit] group` wants it, once the line is written.
enum Shared {
    /// Mode and group are right (or no group is asked for).
    Yes,
    /// The line is written, but the group could not be given the log: why.
    Not(String),
}

/// Appends `text` (whole lines) with one `write()`, then rotates when the file grew past the
/// threshold.
fn append(config: &Config, text: &[u8]) -> std::io::Result<Shared> {
    let gid = config.group.as_deref().map(|name| {
        crate::paths::group_id(name)
            .ok_or_else(|| format!("there is no group {name} (the machine policy's [audit] group)"))
    });
    let mut dir_problem = None;
    if let (Some(Ok(gid)), Some(dir)) = (&gid, config.path.parent()) {
        dir_problem = create_shared_dir(dir, *gid)?;
    }
    let mut file = crate::fs::open_append_private(&config.path)?;
    let shared = match (gid, dir_problem) {
        (None, _) => tighten(&file, None).map_or(Shared::Yes, Shared::Not),
        (Some(Ok(gid)), None) => tighten(&file, Some(gid)).map_or(Shared::Yes, Shared::Not),
        (Some(Err(why)), _) | (Some(Ok(_)), Some(why)) => {
            let _ = tighten(&file, None);
            Shared::Not(why)
        }
    };
    let written = file.write(text)?;
    if written != text.len() {
        // A short write (the disk filled up mid-line): the partial line is there, say so.
        return Err(std::io::Error::new(
            std::io::ErrorKind::StorageFull,
            format!("only {written} of {} bytes were written", text.len()),
        ));
    }
    if file.metadata()?.len() > config.max_bytes {
        rotate(config)?;
    }
    Ok(shared)
}

/// A log of ours gets exactly owner read/write, plus group read and group `gid` when a group is
/// asked for: group and others lose any other access (created 0600, but it may predate gocred
/// or the group). A log someone else owns is left as it is. `Some(why)` when the group could
/// not be given the log.
fn tighten(file: &std::fs::File, gid: Option<u32>) -> Option<String> {
    #[cfg(unix)]
    {
        use std::os::unix::fs::{MetadataExt, PermissionsExt};
        let meta = file.metadata().ok()?;
        crate::fs::foreign_owner(&meta).is_none().then_some(())?;
        if let Some(gid) = gid
            && meta.gid() != gid
            && let Err(e) = std::os::unix::fs::fchown(file, None, Some(gid))
        {
            let _ = file.set_permissions(std::fs::Permissions::from_mode(meta.mode() & 0o700));
            return Some(format!("cannot give it to group {gid}: {e}"));
        }
        let want = (meta.mode() & 0o700) | if gid.is_some() { 0o040 } else { 0 };
        if meta.mode() & 0o777 != want {
            let _ = file.set_permissions(std::fs::Permissions::from_mode(want));
        }
        None
    }
    #[cfg(not(unix))]
    {
        let _ = (file, gid);
        None
    }
}

/// Creates `dir` and the parents it lacks with mode 0750, each given to group `gid`, so the
/// group can reach the log (the directories above that already exist must let it through).
/// `Some(why)` when a directory could not be given to the group: it is then left 0700 (and the
/// log 0600).
fn create_shared_dir(dir: &Path, gid: u32) -> std::io::Result<Option<String>> {
    #[cfg(unix)]
    {
        use std::os::unix::fs::{DirBuilderExt, PermissionsExt};
        let missing: Vec<&Path> = dir
            .ancestors()
            .take_while(|d| !d.as_os_str().is_empty() && std::fs::symlink_metadata(d).is_err())
            .collect();
        let mut problem = None;
        for d in missing.into_iter().rev() {
            match std::fs::DirBuilder::new().mode(0o700).create(d) {
                Ok(()) if problem.is_none() => match std::os::unix::fs::chown(d, None, Some(gid)) {
                    // Opened to the group only once it is the group's (the umask aside).
                    Ok(()) => std::fs::set_permissions(d, std::fs::Permissions::from_mode(0o750))?,
                    Err(e) => {
                        problem = Some(format!("cannot give {} to group {gid}: {e}", d.display()))
                    }
                },
                Ok(()) => {}
                Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {}
                Err(e) => return Err(e),
            }
        }
        Ok(problem)
    }
    #[cfg(not(unix))]
    {
        let _ = gid;
        crate::fs::create_private_dir(dir).map(|()| None)
    }
}

/// `PATH` becomes `PATH.1` under `PATH.lock`, if it is still too large once the lock is held
/// (another process may have rotated it meanwhile). Writers that still hold the old file
/// finish their line in `PATH.1`: nothing is lost.
fn rotate(config: &Config) -> std::io::Result<()> {
    let lock = sibling(&config.path, ".lock");
    let _guard = crate::fs::lock_exclusive(&lock)?;
    match std::fs::symlink_metadata(&config.path) {
        Ok(meta) if meta.is_file() && meta.len() > config.max_bytes => {
            std::fs::rename(&config.path, sibling(&config.path, ".1"))
        }
        _ => Ok(()),
    }
}

/// `PATH` + `suffix` (`audit.log.1`).
pub fn sibling(path: &Path, suffix: &str) -> PathBuf {
    let mut name = path.as_os_str().to_owned();
    name.push(suffix);
    PathBuf::from(name)
}

/// Who asked: this process, its parent and the chain above it as `/proc` tells, and whether
/// that is git or go.
#[derive(Debug, Clone, Default)]
pub struct Caller {
    pub pid: u32,
    pub ppid: u32,
    /// The parent's command name (`/proc/PPID/comm`), empty when it cannot be read.
    pub parent: String,
    /// `git`, `go`, `go via git`, or `unknown`.
    pub caller: &'static str,
    /// Up to four ancestors, parent first: (pid, command name).
    pub ancestry: Vec<(u32, String)>,
}

impl Caller {
    pub fn of_this_process() -> Caller {
        let pid = std::process::id();
        let ancestry = ancestry(pid, 4);
        let ppid = ancestry.first().map_or(0, |(p, _)| *p);
        let parent = ancestry.first().map(|(_, c)| c.clone()).unwrap_or_default();
        let caller = identify(&ancestry);
        Caller {
            pid,
            ppid,
            parent,
            caller,
            ancestry,
        }
    }
}

/// `git` when the parent is git (`git`, `git-remote-http`, `git-credential-...`), `go` when it
/// is go (GOAUTH), `go via git` when git runs for go, else `unknown`. A shell right above
/// gocred is looked through: git runs a helper given by path or with `!` through `sh -c`.
pub fn identify(ancestry: &[(u32, String)]) -> &'static str {
    let is_git = |c: &str| c == "git" || c.starts_with("git-");
    let is_go = |c: &str| c == "go";
    let is_shell = |c: &str| matches!(c, "sh" | "dash" | "bash");
    let skip = ancestry.iter().take_while(|(_, c)| is_shell(c)).count();
    let ancestry = match ancestry.get(skip) {
        Some((_, c)) if is_git(c) || is_go(c) => &ancestry[skip..],
        _ => ancestry,
    };
    match ancestry.first() {
        Some((_, c)) if is_go(c) => "go",
        Some((_, c)) if is_git(c) => {
            if ancestry.iter().skip(1).any(|(_, c)| is_go(c)) {
                "go via git"
            } else {
                "git"
            }
        }
        _ => "unknown",
    }
}

/// The `depth` processes above `pid`, parent first, from `/proc/PID/stat`.
fn ancestry(pid: u32, depth: usize) -> Vec<(u32, String)> {
    let mut out = Vec::new();
    // One read of /proc/PID/stat per process: each gives its name and the next pid up.
    let Some((_, mut at)) = stat(pid) else {
        return out;
    };
    while at != 0 && out.len() < depth {
        let (comm, up) = stat(at).unwrap_or_default();
        out.push((at, comm));
        if at == 1 {
            break;
        }
        at = up;
    }
    out
}

/// (command name, parent pid) of `pid`: `PID (COMM) STATE PPID ...`; the name may hold
/// anything, so it ends at the last `)`.
fn stat(pid: u32) -> Option<(String, u32)> {
    let text = std::fs::read(format!("/proc/{pid}/stat")).ok()?;
    let text = String::from_utf8_lossy(&text);
    let open = text.find('(')?;
    let close = text.rfind(')')?;
    let comm = crate::redact::sanitize(&text[open + 1..close]).into_owned();
    let mut rest = text[close + 1..].split_ascii_whitespace();
    let _state = rest.next()?;
    let ppid = rest.next()?.parse().ok()?;
    Some((comm, ppid))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn identify_names_git_go_and_go_through_git() {
        let a = |names: &[&str]| -> Vec<(u32, String)> {
            names.iter().map(|n| (2, (*n).to_owned())).collect()
        };
        assert_eq!(identify(&a(&["git-remote-http", "git", "bash"])), "git");
        assert_eq!(identify(&a(&["git", "go", "bash"])), "go via git");
        assert_eq!(identify(&a(&["go", "bash"])), "go");
        assert_eq!(identify(&a(&["sh", "git", "bash"])), "git");
        assert_eq!(identify(&a(&["bash"])), "unknown");
        assert_eq!(identify(&a(&["bash", "sshd"])), "unknown");
        assert_eq!(identify(&[]), "unknown");
    }

    #[test]
    fn the_machine_policy_wins_only_when_it_requires_the_log() {
        let c = |p: &str, required| Config {
            group: None,
            path: p.into(),
            max_bytes: 1,
            required,
            declared_in: "/x".into(),
            line: 1,
        };
        let (m, u) = (c("/m", false), c("/u", false));
        assert_eq!(effective(Some(&m), Some(&u)).unwrap().path, Path::new("/u"));
        assert_eq!(effective(Some(&m), None).unwrap().path, Path::new("/m"));
        let m = c("/m", true);
        assert_eq!(effective(Some(&m), Some(&u)).unwrap().path, Path::new("/m"));
        assert_eq!(effective(None, None), None);
    }

    #[test]
    fn this_process_knows_its_parent() {
        let who = Caller::of_this_process();
        assert_eq!(who.pid, std::process::id());
        if cfg!(target_os = "linux") {
            assert!(who.ppid > 0);
            assert!(!who.parent.is_empty());
        }
    }
}
