//! The `command` source: a program the rule names (a secrets manager's own CLI: `pass`, `bao`,
//! `op`, `aws`, `gcloud`...) prints the credential.
//!
//! - The rule gives an argv array (`command = ["pass", "show", "git/host"]`), never a shell
//!   string: nothing is split or expanded. The program is an absolute path or a bare name looked
//!   up on PATH; a relative path is refused at load (git runs gocred inside whatever repository
//!   it works in).
//! - The program gets the request's normalized target in `GOCRED_*` variables ([`VARIABLES`]);
//!   its environment is otherwise the caller's. Its stdin is empty, its stderr is the caller's
//!   (what it says reaches the user), its stdout is read (at most [`MAX_OUTPUT`] bytes, into
//!   memory that is wiped) and never echoed.
//! - Its output is one of: a token on the first line (the rest ignored, as `pass` keeps notes
//!   there); git-credential `key=value` lines (`username`, `password`, `password_expiry_utc`);
//!   or a JSON object with `token`, `username` and `expires_at` (RFC 3339 or Unix seconds).
//!   Anything else, an empty output, more than 64 KiB, a non-zero exit or a program still
//!   running after the rule's `command_timeout` (default 10 s; then its whole process group is
//!   killed) is refused with one line naming the rule and the program, never its output.
//! - `cache = "none" | "until-expiry" | "<seconds>"` keeps the answer in the keychain under the
//!   request's scope key (as any stored credential), so the program runs once per host and
//!   period. A miss runs the program under the same per-key lock as an OAuth refresh
//!   ([`super::oauth::lock_path`]): parallel gits start it once, the others wait and read what
//!   it stored.

use super::oauth::{is_fresh, lock_path};
use super::{Credential, Query, Record, Source, SourceError, Store, keychain::Keychain};
use crate::policy::{CommandKeys, KeychainBackend, Rule, ScopeKey};
use crate::secret::Secret;
use std::io::Read;
use std::ops::Range;
use std::path::PathBuf;
use std::time::{Duration, Instant};
use zeroize::Zeroizing;

/// The most a program may print: a token is a few hundred bytes, a JSON answer a few KiB.
pub const MAX_OUTPUT: usize = 64 * 1024;

/// How long a program may run unless the rule says otherwise (`command_timeout`).
pub const DEFAULT_TIMEOUT_SECS: u64 = 10;

/// The most `command_timeout` may be: git waits on gocred meanwhile.
pub const MAX_TIMEOUT_SECS: u64 = 600;

/// A cached answer is not served within this many seconds of its expiry.
const CACHE_MARGIN: u64 = 60;

/// The variables the program gets, each with what it holds (documented in gocred-config(5)).
pub const VARIABLES: &[(&str, &str)] = &[
    (
        "GOCRED_PROTOCOL",
        "the request's scheme: https (or http with allow_http)",
    ),
    ("GOCRED_HOST", "the host, lower case, without port"),
    (
        "GOCRED_PORT",
        "the port, always set (443 for https when none was given)",
    ),
    (
        "GOCRED_PATH",
        "the repository path git sent (credential.useHttpPath), else unset",
    ),
    (
        "GOCRED_USERNAME",
        "the user name git asked for, else the rule's `username`, else unset",
    ),
    ("GOCRED_URL", "scheme://host[:port][/path] of the request"),
    ("GOCRED_RULE", "the rule's `url` as written"),
];

/// `cache = ...`: whether and how long an answer is kept in the keychain.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Cache {
    /// Run the program for every request (the default).
    None,
    /// Keep an answer that says when it expires until a minute before then; one that does not
    /// say is not kept.
    UntilExpiry,
    /// Keep every answer this many seconds (less when it expires sooner).
    Seconds(u64),
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CommandConfig {
    /// The program and its arguments, exactly as written.
    pub argv: Vec<String>,
    pub timeout_secs: u64,
    pub cache: Cache,
}

/// Checks a rule's `command`, `command_timeout` and `cache` (`listed`: `sources` names
/// `command`), reporting each problem through `error` with the value's span.
pub fn check_rule(
    error: &mut dyn FnMut(Range<usize>, String),
    keys: &CommandKeys<'_, '_>,
    listed: bool,
    sources_span: &Range<usize>,
) -> Option<CommandConfig> {
    let Some(v) = keys.command else {
        if listed {
            error(
                sources_span.clone(),
                "source `command` needs `command = [\"program\", \"argument\", ...]`".into(),
            );
        }
        for (key, name) in [
            (keys.command_timeout, "command_timeout"),
            (keys.cache, "cache"),
        ] {
            if let Some(k) = key {
                error(
                    k.span(),
                    format!("`{name}` is set but this rule has no `command`"),
                );
            }
        }
        return None;
    };
    if !listed {
        error(
            v.span(),
            "`command` is set but `command` is not in `sources`".into(),
        );
    }
    let Some(list) = v.get_ref().as_array() else {
        error(
            v.span(),
            "`command` must be an array of strings: the program, then each argument (never a \
             shell command line)"
                .into(),
        );
        return None;
    };
    let mut argv = Vec::new();
    let mut bad = false;
    for item in list.iter() {
        match item.get_ref().as_str() {
            Some(word) if word.contains('\0') => {
                error(item.span(), "a word of `command` holds a NUL byte".into());
                bad = true;
            }
            Some(word) => argv.push(word.to_owned()),
            None => {
                error(
                    item.span(),
                    format!(
                        "each word of `command` must be a string, not {}",
                        item.get_ref().type_str()
                    ),
                );
                bad = true;
            }
        }
    }
    match argv.first().map(String::as_str) {
        None if !bad => error(
            v.span(),
            "`command` is empty: name the program first".into(),
        ),
        Some("") => error(v.span(), "`command` names an empty program".into()),
        Some(p) if !p.starts_with('/') && p.contains('/') => error(
            v.span(),
            format!(
                "`command` program \"{p}\" is a relative path, which would be found in whatever \
                 repository git runs gocred in: give an absolute path, or a bare name looked up \
                 on PATH"
            ),
        ),
        _ => {}
    }
    let timeout_secs = match keys.command_timeout {
        None => DEFAULT_TIMEOUT_SECS,
        Some(t) => match seconds(t.get_ref()) {
            Some(s) if (1..=MAX_TIMEOUT_SECS).contains(&s) => s,
            _ => {
                error(
                    t.span(),
                    format!(
                        "`command_timeout` must be a number of seconds from 1 to \
                         {MAX_TIMEOUT_SECS} (e.g. 30 or \"30\")"
                    ),
                );
                DEFAULT_TIMEOUT_SECS
            }
        },
    };
    let cache = match keys.cache {
        None => Cache::None,
        Some(c) => match c.get_ref().as_str() {
            Some("none") => Cache::None,
            Some("until-expiry") => Cache::UntilExpiry,
            Some(s) => match s.parse::<u64>() {
                Ok(n) if n > 0 => Cache::Seconds(n),
                _ => {
                    error(
                        c.span(),
                        format!(
                            "unknown cache mode \"{s}\" (expected \"none\", \"until-expiry\" or a \
                             number of seconds such as \"300\")"
                        ),
                    );
                    Cache::None
                }
            },
            None => {
                error(
                    c.span(),
                    "`cache` must be a string: \"none\", \"until-expiry\" or a number of \
                     seconds such as \"300\""
                        .into(),
                );
                Cache::None
            }
        },
    };
    Some(CommandConfig {
        argv,
        timeout_secs,
        cache,
    })
}

/// Seconds written as an integer or as a string of digits.
fn seconds(v: &toml::de::DeValue<'_>) -> Option<u64> {
    if let Some(i) = v.as_integer() {
        return u64::from_str_radix(i.as_str(), i.radix()).ok();
    }
    let s = v.as_str()?;
    s.bytes()
        .all(|b| b.is_ascii_digit())
        .then(|| s.parse().ok())
        .flatten()
}

/// Why a program's answer was refused: said in one line, with the rule and program named by
/// the caller. Never holds anything the program printed.
#[derive(Debug, PartialEq, Eq)]
pub enum Refusal {
    Start(String),
    Exit(String),
    Timeout(u64),
    TooLarge,
    Empty,
    NotText,
    Unknown(&'static str),
}

impl std::fmt::Display for Refusal {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Refusal::Start(e) => write!(f, "cannot start it: {e}"),
            Refusal::Exit(status) => write!(f, "it {status}"),
            Refusal::Timeout(s) => write!(
                f,
                "it was still running after {s} s and was killed (raise `command_timeout`, or \
                 see why it waits: a prompt, a locked vault, an unreachable server)"
            ),
            Refusal::TooLarge => write!(f, "it printed more than {} KiB", MAX_OUTPUT / 1024),
            Refusal::Empty => write!(f, "it printed nothing"),
            Refusal::NotText => write!(f, "its output is not UTF-8 text"),
            Refusal::Unknown(why) => write!(
                f,
                "its output is none of: a token on the first line, git-credential key=value \
                 lines, a JSON object with `token` ({why})"
            ),
        }
    }
}

/// What the program said: a token, maybe a user name and an expiry.
#[derive(Debug)]
pub struct Answer {
    pub token: Secret,
    pub username: Option<String>,
    pub expires_at: Option<u64>,
}

/// A value that may go to git: non-empty, no control character (CR, LF and NUL would inject a
/// protocol line).
fn clean(value: &str) -> bool {
    !value.is_empty() && !value.chars().any(char::is_control)
}

/// Reads what the program printed, in one of the three formats.
pub fn parse(output: &[u8]) -> Result<Answer, Refusal> {
    let text = std::str::from_utf8(output).map_err(|_| Refusal::NotText)?;
    let trimmed = text.trim();
    if trimmed.is_empty() {
        return Err(Refusal::Empty);
    }
    if trimmed.starts_with('{') {
        return parse_json(trimmed);
    }
    let lines: Vec<&str> = trimmed
        .lines()
        .map(|l| l.strip_suffix('\r').unwrap_or(l))
        .filter(|l| !l.is_empty())
        .collect();
    let is_key_value = |l: &&str| {
        l.split_once('=').is_some_and(|(k, _)| {
            !k.is_empty()
                && k.bytes()
                    .all(|b| b.is_ascii_lowercase() || b"_[]".contains(&b))
        })
    };
    if lines.iter().any(|l| l.starts_with("password=")) && lines.iter().all(is_key_value) {
        return parse_key_values(&lines);
    }
    let first = lines[0];
    if first.chars().any(|c| c.is_whitespace() || c.is_control()) {
        return Err(Refusal::Unknown("its first line holds spaces"));
    }
    Ok(Answer {
        token: Secret::from(first),
        username: None,
        expires_at: None,
    })
}

fn parse_key_values(lines: &[&str]) -> Result<Answer, Refusal> {
    let (mut token, mut username, mut expires_at) = (None, None, None);
    for line in lines {
        let (key, value) = line.split_once('=').unwrap_or_default();
        match key {
            "password" => token = Some(Secret::from(value)),
            "username" => username = Some(value.to_owned()),
            "password_expiry_utc" => {
                expires_at = Some(
                    value
                        .parse()
                        .map_err(|_| Refusal::Unknown("password_expiry_utc is not a number"))?,
                )
            }
            _ => {} // as git: a key it does not know is skipped
        }
    }
    let token = token.filter(|t| clean(t.expose()));
    let Some(token) = token else {
        return Err(Refusal::Unknown("its password= is empty"));
    };
    if username.as_deref().is_some_and(|u| !clean(u)) {
        return Err(Refusal::Unknown("its username= is empty"));
    }
    Ok(Answer {
        token,
        username,
        expires_at,
    })
}

fn parse_json(text: &str) -> Result<Answer, Refusal> {
    let value = crate::secret::SecretJson::parse(text.as_bytes())
        .map_err(|_| Refusal::Unknown("it starts with { but is not JSON"))?;
    json_answer(&value)
}

fn json_answer(value: &serde_json::Value) -> Result<Answer, Refusal> {
    let token = value
        .get("token")
        .and_then(|t| t.as_str())
        .filter(|t| clean(t))
        .ok_or(Refusal::Unknown("the JSON has no `token` string"))?;
    let username = match value.get("username") {
        None | Some(serde_json::Value::Null) => None,
        Some(u) => Some(
            u.as_str()
                .filter(|u| clean(u))
                .ok_or(Refusal::Unknown(
                    "the JSON's `username` is not a plain string",
                ))?
                .to_owned(),
        ),
    };
    let expires_at = match value.get("expires_at") {
        None | Some(serde_json::Value::Null) => None,
        Some(serde_json::Value::Number(n)) => Some(
            n.as_u64()
                .ok_or(Refusal::Unknown("`expires_at` is not a time"))?,
        ),
        Some(serde_json::Value::String(s)) => {
            Some(rfc3339(s).ok_or(Refusal::Unknown("`expires_at` is not an RFC 3339 time"))?)
        }
        Some(_) => return Err(Refusal::Unknown("`expires_at` is not a time")),
    };
    Ok(Answer {
        token: Secret::from(token),
        username,
        expires_at,
    })
}

/// `2026-12-05T14:00:00Z`, `2026-12-05T15:00:00.123+01:00`: Unix seconds
/// ([`crate::time::parse_rfc3339`], without its date-only form: an expiry names a time).
pub fn rfc3339(s: &str) -> Option<u64> {
    (s.len() > 10)
        .then(|| crate::time::parse_rfc3339(s))
        .flatten()
}

/// Runs `argv` with `vars` set (and `unset` removed), as this module's header says: stdin
/// empty, stderr passed through, stdout read into wiped memory, killed with its process group
/// after `timeout`.
pub fn run(
    argv: &[String],
    vars: &[(&str, String)],
    unset: &[&str],
    timeout: Duration,
) -> Result<Zeroizing<Vec<u8>>, Refusal> {
    use std::process::{Command, Stdio};
    let started = Instant::now();
    let mut cmd = Command::new(&argv[0]);
    cmd.args(&argv[1..])
        // Not inside whatever repository git works in.
        .current_dir("/")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit());
    for (name, value) in vars {
        cmd.env(name, value);
    }
    for name in unset {
        cmd.env_remove(name);
    }
    #[cfg(unix)]
    {
        use std::os::unix::process::CommandExt;
        cmd.process_group(0); // its own group: a timeout kills whatever it started too
    }
    let mut child = cmd.spawn().map_err(|e| Refusal::Start(e.to_string()))?;
    let mut stdout = child.stdout.take().expect("BUG: stdout is piped");
    let (tx, rx) = std::sync::mpsc::sync_channel(1);
    let reader = std::thread::Builder::new()
        .name("gocred-command-output".into())
        .spawn(move || {
            // Never grown (at most MAX_OUTPUT is kept): a reallocation would leave a copy unwiped.
            let mut buf = Zeroizing::new(Vec::with_capacity(MAX_OUTPUT));
            let mut chunk = Zeroizing::new([0u8; 8192]);
            let result = loop {
                match stdout.read(&mut chunk[..]) {
                    Ok(0) => break Ok(()),
                    Ok(n) if buf.len() + n > MAX_OUTPUT => break Err(Refusal::TooLarge),
                    Ok(n) => buf.extend_from_slice(&chunk[..n]),
                    Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
                    Err(e) => break Err(Refusal::Start(format!("cannot read its output: {e}"))),
                }
            };
            let _ = tx.send(result.map(|()| buf));
        })
        .map_err(|e| Refusal::Start(format!("cannot start a thread: {e}")))?;
    let kill = |child: &mut std::process::Child| {
        #[cfg(unix)]
        {
            let pgid = child.id() as libc::pid_t;
            // SAFETY: kill(2) with a negative pid signals the process group the child leads
            // (it was started with process_group(0)); no memory is involved.
            unsafe {
                libc::kill(-pgid, libc::SIGKILL);
            }
        }
        let _ = child.kill();
        let _ = child.wait();
    };
    let remaining = timeout.saturating_sub(started.elapsed());
    let output = match rx.recv_timeout(remaining) {
        Ok(Ok(buf)) => buf,
        Ok(Err(refusal)) => {
            kill(&mut child);
            let _ = reader.join();
            return Err(refusal);
        }
        Err(_) => {
            kill(&mut child);
            let _ = reader.join();
            return Err(Refusal::Timeout(timeout.as_secs()));
        }
    };
    let _ = reader.join();
    // Its stdout is closed: it has exited or is about to.
    loop {
        match child.try_wait() {
            Ok(Some(status)) if status.success() => return Ok(output),
            Ok(Some(status)) => {
                return Err(Refusal::Exit(match status.code() {
                    Some(code) => format!("exited with status {code}"),
                    None => "was killed by a signal".into(),
                }));
            }
            Ok(None) if started.elapsed() >= timeout => {
                kill(&mut child);
                return Err(Refusal::Timeout(timeout.as_secs()));
            }
            Ok(None) => std::thread::sleep(Duration::from_millis(2)),
            Err(e) => return Err(Refusal::Start(format!("cannot wait for it: {e}"))),
        }
    }
}

/// The parts of a scope key `scheme://host[:port][/path]`.
fn split_scope(scope: &str) -> (&str, &str, Option<&str>) {
    let (scheme, rest) = scope.split_once("://").unwrap_or(("https", scope));
    let default_port = if scheme == "http" { "80" } else { "443" };
    let (authority, path) = match rest.split_once('/') {
        Some((a, p)) => (a, Some(p)),
        None => (rest, None),
    };
    // An IPv6 literal keeps its brackets; the port follows the last `]`.
    let (host, port) = match authority.rfind(':') {
        Some(i) if !authority[i..].contains(']') => (&authority[..i], Some(&authority[i + 1..])),
        _ => (authority, None),
    };
    let port = port.unwrap_or(default_port);
    (host, port, path.filter(|p| !p.is_empty()))
}

/// The `GOCRED_*` variables for `query` (and the ones to remove because they do not apply).
pub fn variables<'q>(query: &Query<'q>) -> (Vec<(&'static str, String)>, Vec<&'static str>) {
    let scope = query.scope.as_str();
    let scheme = scope.split_once("://").map_or("https", |(s, _)| s);
    let (host, port, scope_path) = split_scope(scope);
    let path = query.path.or(scope_path);
    let mut url = query.scope.as_str().to_owned();
    if let (Some(p), None) = (query.path, scope_path) {
        url.push('/');
        url.push_str(p);
    }
    let mut set = vec![
        ("GOCRED_PROTOCOL", scheme.to_owned()),
        ("GOCRED_HOST", host.to_owned()),
        ("GOCRED_PORT", port.to_owned()),
        ("GOCRED_URL", url),
        ("GOCRED_RULE", query.rule.url.clone()),
    ];
    let mut unset = Vec::new();
    match path {
        Some(p) => set.push(("GOCRED_PATH", p.to_owned())),
        None => unset.push("GOCRED_PATH"),
    }
    match query.username {
        Some(u) => set.push(("GOCRED_USERNAME", u.to_owned())),
        None => unset.push("GOCRED_USERNAME"),
    }
    (set, unset)
}

pub struct CommandSource {
    keychain_backend: KeychainBackend,
    /// Where the single-flight locks live, when not in the runtime directory (tests).
    pub lock_dir: Option<PathBuf>,
}

impl CommandSource {
    /// Opens nothing: the keychain is opened only for a rule that caches. The program inherits
    /// this process's environment.
    pub fn new(keychain_backend: KeychainBackend) -> Self {
        CommandSource {
            keychain_backend,
            lock_dir: None,
        }
    }

    /// `rule {url} (line N)`: how every refusal names the rule.
    fn who(rule: &Rule) -> String {
        format!("rule {} (line {})", rule.url, rule.line)
    }

    /// Runs the rule's program for `query` and reads its answer.
    fn ask(&self, config: &CommandConfig, query: &Query<'_>) -> Result<Credential, SourceError> {
        let (set, unset) = variables(query);
        let refused = |why: Refusal| {
            SourceError::Unavailable(format!(
                "command: {}: `{}` gave no credential: {why}",
                Self::who(query.rule),
                crate::redact::sanitize(&config.argv[0])
            ))
        };
        let output = run(
            &config.argv,
            &set,
            &unset,
            Duration::from_secs(config.timeout_secs),
        )
        .map_err(refused)?;
        let answer = parse(&output).map_err(refused)?;
        // The rule's `username` (the policy's word) over the program's, over git's.
        let username = query
            .rule
            .username
            .clone()
            .or(answer.username)
            .or_else(|| query.username.map(str::to_owned))
            .ok_or_else(|| {
                SourceError::Unavailable(format!(
                    "command: {}: `{}` printed no user name and the rule has no `username`: set \
                     one (e.g. \"oauth2\", \"x-access-token\")",
                    Self::who(query.rule),
                    crate::redact::sanitize(&config.argv[0])
                ))
            })?;
        Ok(Credential {
            username,
            password: answer.token,
            password_expiry_utc: answer.expires_at,
            oauth_refresh_token: None,
        })
    }

    fn cached(
        &self,
        store: &dyn Store,
        query: &Query<'_>,
        now: u64,
        margin: u64,
    ) -> Option<Credential> {
        // A keychain that cannot be read is a miss: the program still answers.
        store
            .get(query)
            .ok()
            .flatten()
            .filter(|c| is_fresh(c, now, margin))
    }

    fn lock(&self, key: &ScopeKey, timeout_secs: u64) -> Result<std::fs::File, SourceError> {
        let dir = match &self.lock_dir {
            Some(dir) => dir.clone(),
            None => crate::paths::lock_dir()
                .map_err(|e| SourceError::Unavailable(format!("command: {e}")))?,
        };
        let path = lock_path(&dir, &ScopeKey(format!("command {key}")));
        let wait = Duration::from_secs(timeout_secs + 10);
        super::oauth::take_lock(&path, wait).map_err(|e| match e {
            Some(e) => {
                SourceError::Unavailable(format!("command: cannot lock {}: {e}", path.display()))
            }
            None => SourceError::Unavailable(format!(
                "command: another gocred process has held {} for {} s; see which with `fuser {}`",
                path.display(),
                wait.as_secs(),
                path.display()
            )),
        })
    }
}

/// Until when an answer is kept: `None` when it is not.
fn keep_until(cache: Cache, answer: &Credential, now: u64) -> Option<u64> {
    match cache {
        Cache::None => None,
        Cache::UntilExpiry => answer.password_expiry_utc,
        Cache::Seconds(s) => Some(
            answer
                .password_expiry_utc
                .map_or(now.saturating_add(s), |t| t.min(now.saturating_add(s))),
        ),
    }
}

impl Source for CommandSource {
    fn name(&self) -> &'static str {
        "command"
    }

    fn get(&self, query: &Query<'_>) -> Result<Option<Credential>, SourceError> {
        let Some(config) = &query.rule.command else {
            return Ok(None);
        };
        let asked = query.username;
        let query = Query {
            username: query.username.or(query.rule.username.as_deref()),
            ..*query
        };
        // git asked for another user's credential: not this one (as the env source).
        let theirs = |cred: Credential| asked.is_none_or(|a| a == cred.username).then_some(cred);
        if config.cache == Cache::None {
            return self.ask(config, &query).map(theirs);
        }
        let store = Keychain::new(self.keychain_backend);
        let now = super::now();
        // Not served within a minute of its end (half the period for a shorter `cache`).
        let margin = match config.cache {
            Cache::Seconds(s) => CACHE_MARGIN.min(s / 2),
            _ => CACHE_MARGIN,
        };
        if let Some(hit) = self.cached(&store, &query, now, margin) {
            return Ok(theirs(hit));
        }
        // Single flight: one program run per key, the others wait and read what it stored.
        let lock = self.lock(query.scope, config.timeout_secs);
        if lock.is_ok()
            && let Some(hit) = self.cached(&store, &query, super::now(), margin)
        {
            return Ok(theirs(hit));
        }
        let answer = self.ask(config, &query)?;
        if let Some(until) = keep_until(config.cache, &answer, now)
            && until > now + margin
        {
            let kept = Credential {
                password_expiry_utc: Some(until),
                ..answer.clone()
            };
            let record = Record::new(query.scope.clone(), query.path.map(str::to_owned), kept);
            if let Err(e) = store.store_record(record) {
                eprintln!(
                    "{}",
                    crate::redact::shown(&format!(
                        "gocred: note: command: {}: the answer is not cached: {e}",
                        Self::who(query.rule)
                    ))
                );
            }
        }
        drop(lock);
        Ok(theirs(answer))
    }
}

/// What `status` says of a rule's `command`: the program (never its arguments' output),
/// timeout and cache.
pub fn describe(config: &CommandConfig) -> String {
    let cache = match config.cache {
        Cache::None => "not cached".to_owned(),
        Cache::UntilExpiry => "cached in the keychain until it expires".to_owned(),
        Cache::Seconds(s) => format!("cached in the keychain for {s} s"),
    };
    format!(
        "runs {} ({} word{}), timeout {} s, {cache}",
        crate::redact::shown(&config.argv[0]),
        config.argv.len(),
        if config.argv.len() == 1 { "" } else { "s" },
        config.timeout_secs
    )
}

/// The store a rule's `command` answers are cached in, for `status`.
pub fn caches_in(rule: &Rule) -> Option<crate::policy::SourceKind> {
    rule.command
        .as_ref()
        .filter(|c| c.cache != Cache::None)
        .map(|_| crate::policy::SourceKind::Keychain)
}

/// git says the server refused `password` (`erase` after a 401): a cached answer holding it is
/// dropped, so the next `get` runs the program again.
pub fn rejected(
    backend: KeychainBackend,
    rule: &Rule,
    scope: &ScopeKey,
    password: Option<&Secret>,
) -> Result<(), SourceError> {
    let (Some(config), Some(password)) = (&rule.command, password) else {
        return Ok(());
    };
    if config.cache == Cache::None {
        return Ok(());
    }
    Keychain::new(backend).erase_matching(&super::Want {
        scope,
        path: None,
        username: None,
        password: Some(password),
    })?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::policy::load_str;
    use std::path::Path;

    #[test]
    fn the_three_output_formats_are_read_and_anything_else_refused() {
        let a = parse(b"glpat-FAKE-1\nlogin: me\nurl: x\n").unwrap();
        assert_eq!(
            (a.token.expose(), a.username, a.expires_at),
            ("glpat-FAKE-1", None, None)
        );
        let a = parse(b"username=bot\npassword=tok=en\npassword_expiry_utc=1800000000\n").unwrap();
        assert_eq!(
            (a.token.expose(), a.username.as_deref(), a.expires_at),
            ("tok=en", Some("bot"), Some(1_800_000_000))
        );
        let a = parse(br#"{"token": "t1", "username": "u", "expires_at": "2027-01-15T08:00:00Z"}"#)
            .unwrap();
        assert_eq!(
            (a.token.expose(), a.username.as_deref(), a.expires_at),
            ("t1", Some("u"), Some(1_800_000_000))
        );
        assert!(matches!(parse(b"  \n\n"), Err(Refusal::Empty)));
        assert!(matches!(
            parse(b"Error: item not found\n"),
            Err(Refusal::Unknown(_))
        ));
        assert!(matches!(parse(b"{\"tok\": 1}"), Err(Refusal::Unknown(_))));
        assert!(matches!(parse(b"{not json"), Err(Refusal::Unknown(_))));
        assert!(matches!(
            parse(b"username=u\npassword=\n"),
            Err(Refusal::Unknown(_))
        ));
        assert!(matches!(parse(b"\xff\xfe"), Err(Refusal::NotText)));
    }

    #[test]
    fn rfc3339_times_with_offsets_and_fractions() {
        assert_eq!(rfc3339("1970-01-01T00:00:00Z"), Some(0));
        assert_eq!(rfc3339("2027-01-15T08:00:00Z"), Some(1_800_000_000));
        assert_eq!(
            rfc3339("2027-01-15T09:30:00.5+01:30"),
            rfc3339("2027-01-15T08:00:00Z")
        );
        assert_eq!(rfc3339("2027-01-15"), None);
        assert_eq!(rfc3339("2027-13-15T08:00:00Z"), None);
    }

    #[test]
    fn config_check_names_each_bad_command_setting_with_its_position() {
        let bad = "[[rule]]\nurl = \"https://h.example\"\nsources = [\"command\"]\n\
                   command = [\"./bin/tok\"]\ncommand_timeout = 0\ncache = \"forever\"\n";
        let report = load_str(Path::new("/c.toml"), bad).unwrap_err().report();
        assert!(
            report.contains("/c.toml:4:11: `command` program \"./bin/tok\" is a relative path"),
            "{report}"
        );
        assert!(
            report.contains("/c.toml:5:19: `command_timeout` must be"),
            "{report}"
        );
        assert!(
            report.contains("/c.toml:6:9: unknown cache mode \"forever\""),
            "{report}"
        );
        let shell = "[[rule]]\nurl = \"https://h.example\"\nsources = [\"command\"]\ncommand = \"pass show x\"\n";
        let report = load_str(Path::new("/c.toml"), shell).unwrap_err().report();
        assert!(
            report.contains("4:11: `command` must be an array"),
            "{report}"
        );
        let missing = "[[rule]]\nurl = \"https://h.example\"\nsources = [\"command\"]\n";
        let report = load_str(Path::new("/c.toml"), missing)
            .unwrap_err()
            .report();
        assert!(
            report.contains("3:11: source `command` needs `command"),
            "{report}"
        );
        let ok = "[[rule]]\nurl = \"https://h.example\"\nsources = [\"command\"]\n\
                  command = [\"pass\", \"show\", \"git/h\"]\ncommand_timeout = \"30\"\ncache = \"300\"\n";
        let rule = load_str(Path::new("/c.toml"), ok).unwrap().rules.remove(0);
        assert_eq!(
            rule.command,
            Some(CommandConfig {
                argv: vec!["pass".into(), "show".into(), "git/h".into()],
                timeout_secs: 30,
                cache: Cache::Seconds(300),
            })
        );
    }

    #[test]
    fn the_program_sees_the_target_in_gocred_variables() {
        let policy = load_str(
            Path::new("/c.toml"),
            "[[rule]]\nurl = \"https://h.example:8443\"\nsources = [\"command\"]\ncommand = [\"x\"]\n",
        )
        .unwrap();
        let scope = ScopeKey("https://h.example:8443".into());
        let query = Query {
            scope: &scope,
            rule: &policy.rules[0],
            path: Some("group/repo.git"),
            username: None,
            now: 0,
        };
        let (set, unset) = variables(&query);
        let get = |n: &str| set.iter().find(|(k, _)| *k == n).map(|(_, v)| v.as_str());
        assert_eq!(get("GOCRED_PROTOCOL"), Some("https"));
        assert_eq!(get("GOCRED_HOST"), Some("h.example"));
        assert_eq!(get("GOCRED_PORT"), Some("8443"));
        assert_eq!(get("GOCRED_PATH"), Some("group/repo.git"));
        assert_eq!(
            get("GOCRED_URL"),
            Some("https://h.example:8443/group/repo.git")
        );
        assert_eq!(get("GOCRED_RULE"), Some("https://h.example:8443"));
        assert_eq!(unset, ["GOCRED_USERNAME"]);
    }
}
