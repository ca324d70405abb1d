//! git's side of a credential: which helpers git runs for a URL, in which order, and whether it
//! sends the path: read from git's own config, through git, and resolved as git does it.
//!
//! git's `credential.c` (`credential_apply_config`) walks every config entry in order (system,
//! global, local, worktree, then `-c` / `GIT_CONFIG_COUNT`) through `urlmatch_config_entry` with
//! a `select_all` selector: every `credential.helper` and every `credential.<url>.helper` whose
//! `<url>` matches is taken, in config order (not by how specific the URL is); an empty value
//! empties the list collected so far; a `helper` without any value stops git. `<url>` matches as
//! `urlmatch.c` says: the same scheme, the same host (a `*` label matches one label), the same
//! port (a default port is no port), the path a prefix on a `/` boundary, and a user name only if
//! the URL has the same one. A `<url>` that is not a full URL (`gitlab.corp.example`, `/team`) is
//! matched field by field, exactly (`match_partial_url`). `useHttpPath` is the last matching
//! value (git sends the path only when it is true). git runs a helper `NAME` as
//! `git credential-NAME` (the program `git-credential-NAME`, in git's exec-path then on PATH), a
//! helper starting with `/` as that command line, one starting with `!` as a shell command.
//!
//! This module reads the entries once (`git config --null --show-scope --show-origin
//! --get-regexp`; nothing from the caller reaches git's argv) and answers, for any URL, without
//! running a helper. `tests/cli/status.rs` proves each answer against what `git credential fill`
//! then really runs, with git 2.47 and 2.39.

use std::ffi::OsString;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

/// One `credential.*` entry of git's config, in git's order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Entry {
    /// `system`, `global`, `local`, `worktree` or `command`.
    pub scope: String,
    /// Where git read it: `file:/home/me/.gitconfig`, `command line:`.
    pub origin: String,
    /// As git prints it: `credential.https://host.helper` (section and name in lower case).
    pub key: String,
    /// `None` for a key written with no `=` at all.
    pub value: Option<String>,
}

impl Entry {
    /// `key=value (scope, origin)`, for messages.
    pub fn describe(&self) -> String {
        let origin = self.origin.strip_prefix("file:").unwrap_or(&self.origin);
        match &self.value {
            Some(v) if v.is_empty() => format!(
                "the empty {} (in the {} config {origin})",
                self.key, self.scope
            ),
            Some(v) => format!("`{v}` ({} in the {} config {origin})", self.key, self.scope),
            None => format!(
                "{} with no value (in the {} config {origin})",
                self.key, self.scope
            ),
        }
    }
}

/// Why git's config could not be read.
#[derive(Debug, thiserror::Error)]
pub enum GitConfigError {
    #[error("cannot run git ({0}): is git installed and on PATH?")]
    NoGit(std::io::Error),
    #[error("git cannot read its config: {0}")]
    Unreadable(String),
}

impl GitConfigError {
    /// The one step that fixes it.
    pub fn fix(&self) -> &'static str {
        match self {
            GitConfigError::NoGit(_) => "install git, or put it on PATH",
            GitConfigError::Unreadable(_) => {
                "correct the file and line git names (`git config --list` reads it the same way)"
            }
        }
    }
}

/// git's credential config and what it needs to find helper programs.
#[derive(Debug, Clone, Default)]
pub struct GitConfig {
    pub entries: Vec<Entry>,
    /// `git --exec-path` (asked the first time a helper name needs it): git looks for
    /// `git-credential-NAME` there before PATH.
    pub exec_path: std::cell::OnceCell<Option<PathBuf>>,
    /// PATH as git's helpers see it (git puts its exec-path in front).
    pub path: Option<OsString>,
}

/// Reads every `credential.*` entry with the git on PATH, as git itself would see them from the
/// current directory (a repository's own config included).
pub fn read(path_var: Option<OsString>) -> Result<GitConfig, GitConfigError> {
    let output = git()
        .args([
            "config",
            "--null",
            "--show-scope",
            "--show-origin",
            "--get-regexp",
            r"^credential\.",
        ])
        .output()
        .map_err(GitConfigError::NoGit)?;
    // 1: no entry matched.
    let mut entries = match output.status.code() {
        Some(0) => parse(&output.stdout),
        Some(1) if output.stderr.is_empty() => Vec::new(),
        _ => {
            return Err(GitConfigError::Unreadable(
                String::from_utf8_lossy(&output.stderr).trim().to_owned(),
            ));
        }
    };
    // git names a repository's config relative to the current directory: say where it is.
    if let Ok(cwd) = std::env::current_dir() {
        for e in &mut entries {
            if let Some(file) = e.origin.strip_prefix("file:")
                && !file.starts_with('/')
            {
                e.origin = format!("file:{}", cwd.join(file).display());
            }
        }
    }
    Ok(GitConfig {
        entries,
        exec_path: std::cell::OnceCell::new(),
        path: path_var,
    })
}

fn git() -> Command {
    let mut cmd = Command::new("git");
    cmd.stdin(Stdio::null());
    cmd
}

/// `scope NUL origin NUL key LF value NUL`, repeated (`key NUL` when there is no value).
fn parse(bytes: &[u8]) -> Vec<Entry> {
    let mut fields = bytes.split(|&b| b == 0);
    let mut entries = Vec::new();
    while let (Some(scope), Some(origin), Some(item)) =
        (fields.next(), fields.next(), fields.next())
    {
        let text = String::from_utf8_lossy(item);
        let (key, value) = match text.split_once('\n') {
            Some((k, v)) => (k.to_owned(), Some(v.to_owned())),
            None => (text.into_owned(), None),
        };
        entries.push(Entry {
            scope: String::from_utf8_lossy(scope).into_owned(),
            origin: String::from_utf8_lossy(origin).into_owned(),
            key,
            value,
        });
    }
    entries
}

/// A URL as `urlmatch.c`'s `url_normalize` leaves it: scheme and host lower case, the default
/// port dropped, `%XX` escapes normalized, dot segments resolved. `rest` is everything from the
/// path on (query included), always starting with `/`.
#[derive(Debug, Clone, PartialEq, Eq)]
struct NormUrl {
    scheme: String,
    user: Option<String>,
    host: String,
    port: Option<String>,
    rest: String,
}

const HOST_CHARS: &[u8] = b"abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789.-_[:]";
const UNSAFE: &[u8] = b" <>\"%{}|\\^`";
const RESERVED: &[u8] = b":/?#[]@!$&'()*+,;=";

/// `append_normalized_escapes(.., "", URL_RESERVED)`: `None` for a bad `%` escape.
fn normalize_escapes(s: &[u8], out: &mut String) -> Option<()> {
    let mut i = 0;
    while i < s.len() {
        let (mut ch, mut was_esc) = (s[i], false);
        i += 1;
        if ch == b'%' {
            let hex = s.get(i..i + 2)?;
            ch = u8::from_str_radix(std::str::from_utf8(hex).ok()?, 16).ok()?;
            i += 2;
            was_esc = true;
        }
        if ch <= 0x1f || ch >= 0x7f || UNSAFE.contains(&ch) || (was_esc && RESERVED.contains(&ch)) {
            out.push_str(&format!("%{ch:02X}"));
        } else {
            out.push(char::from(ch));
        }
    }
    Some(())
}

/// `url_normalize_1(url, .., allow_globs)`; `None` where git's returns NULL.
fn normalize(url: &str, allow_globs: bool) -> Option<NormUrl> {
    let b = url.as_bytes();
    let scheme_len = b
        .iter()
        .take_while(|c| c.is_ascii_alphanumeric() || b"+.-".contains(c))
        .count();
    if scheme_len == 0 || !b[0].is_ascii_alphabetic() || !url[scheme_len..].starts_with("://") {
        return None;
    }
    let scheme = url[..scheme_len].to_ascii_lowercase();
    let mut rest = &url[scheme_len + 3..];
    let slash = rest.find(['/', '?', '#']).unwrap_or(rest.len());
    let mut user = None;
    if let Some(at) = rest.find('@').filter(|&at| at < slash) {
        let mut u = String::new();
        normalize_escapes(&rest.as_bytes()[..at], &mut u)?;
        user = Some(u.split(':').next().unwrap_or_default().to_owned());
        rest = &rest[at + 1..];
    }
    let slash = rest.find(['/', '?', '#']).unwrap_or(rest.len());
    if slash == 0 || rest.starts_with(':') {
        return None; // no host (only file: may have none; gocred never asks about file:)
    }
    let authority = &rest[..slash];
    let colon = authority
        .rfind([':', ']'])
        .filter(|&i| authority.as_bytes()[i] == b':');
    let (host, port) = match colon {
        Some(i) => (&authority[..i], Some(&authority[i + 1..])),
        None => (authority, None),
    };
    if !host
        .bytes()
        .all(|c| HOST_CHARS.contains(&c) || (allow_globs && c == b'*'))
    {
        return None;
    }
    let port = match port.map(|p| p.trim_start_matches('0')) {
        None => None,
        Some("") => {
            // ":" alone is the default port; ":000" is port 0, which git refuses.
            if port.is_some_and(|p| !p.is_empty()) {
                return None;
            }
            None
        }
        Some("80") if scheme == "http" => None,
        Some("443") if scheme == "https" => None,
        Some(p) => {
            if !p.bytes().all(|c| c.is_ascii_digit()) || p.len() > 5 {
                return None;
            }
            match p.parse::<u32>() {
                Ok(n) if (1..=65535).contains(&n) => Some(p.to_owned()),
                _ => return None,
            }
        }
    };
    // The path: escapes normalized, `.` and `..` segments resolved, then the query as it is.
    let tail = &rest[slash..];
    let path_end = tail.find(['?', '#']).unwrap_or(tail.len());
    let mut segments: Vec<String> = Vec::new();
    let raw = tail[..path_end]
        .strip_prefix('/')
        .unwrap_or(&tail[..path_end]);
    for seg in raw.split('/') {
        let mut s = String::new();
        normalize_escapes(seg.as_bytes(), &mut s)?;
        match s.as_str() {
            "." => {}
            ".." => {
                segments.pop()?;
            }
            _ => segments.push(s),
        }
    }
    let mut rest = format!("/{}", segments.join("/"));
    normalize_escapes(&tail.as_bytes()[path_end..], &mut rest)?;
    Some(NormUrl {
        scheme,
        user,
        host: host.to_ascii_lowercase(),
        port,
        rest,
    })
}

/// `match_host`: label by label, a `*` label of the pattern matching any one label.
fn match_host(url: &str, pattern: &str) -> bool {
    let (u, p): (Vec<&str>, Vec<&str>) = (url.split('.').collect(), pattern.split('.').collect());
    u.len() == p.len() && u.iter().zip(&p).all(|(u, p)| *p == "*" || u == p)
}

/// `url_match_prefix`: `prefix` is `path` or a prefix of it ending on a `/` boundary.
fn match_path(path: &str, prefix: &str) -> bool {
    if prefix.is_empty() || prefix == "/" {
        return path.is_empty() || path.starts_with('/');
    }
    let prefix = prefix.strip_suffix('/').unwrap_or(prefix);
    path.strip_prefix(prefix)
        .is_some_and(|r| r.is_empty() || r.starts_with('/'))
}

/// `match_urls`.
fn match_urls(url: &NormUrl, pattern: &NormUrl) -> bool {
    url.scheme == pattern.scheme
        && pattern
            .user
            .as_ref()
            .is_none_or(|u| url.user.as_ref() == Some(u))
        && match_host(&url.host, &pattern.host)
        && url.port == pattern.port
        && match_path(&url.rest, &pattern.rest)
}

/// The URL a credential request stands for, as git's `credential_format` writes it and as
/// `match_partial_url` compares it: protocol, `host[:port]`, and the path (without the slashes
/// around it).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CredentialUrl {
    pub protocol: String,
    /// `host` or `host:port` (a port only when not the scheme's default), as git sends it. A
    /// wildcard rule's host keeps its `*` label: then only config for every host under it applies.
    pub host: String,
    pub path: Option<String>,
}

impl CredentialUrl {
    fn format(&self) -> String {
        let mut url = format!("{}://{}", self.protocol, self.host);
        if let Some(path) = &self.path {
            url.push('/');
            for b in path.bytes() {
                if b.is_ascii_alphanumeric() || b"-._~/".contains(&b) {
                    url.push(char::from(b));
                } else {
                    url.push_str(&format!("%{b:02X}"));
                }
            }
        }
        url
    }

    /// `match_partial_url`: each part the key names must equal the request's.
    fn matches_partial(&self, key_url: &str) -> bool {
        let decode = |s: &str| percent_decode(s);
        let (protocol, rest) = match key_url.find("://") {
            Some(i) => (
                Some(&key_url[..i]).filter(|p| !p.is_empty()),
                &key_url[i + 3..],
            ),
            None => (None, key_url),
        };
        let slash = rest.find(['/', '?', '#']).unwrap_or(rest.len());
        // A key naming a user (even an empty one) never matches: git asks with none.
        if rest.find('@').is_some_and(|at| at < slash) {
            return false;
        }
        let host = &rest[..slash];
        let path = rest[slash..].trim_start_matches('/');
        let path = (!path.is_empty()).then(|| {
            let p = decode(path);
            match p.trim_end_matches('/') {
                "" => "/".to_owned(),
                t => t.to_owned(),
            }
        });
        let host = (!host.is_empty()).then(|| decode(host));
        if [&host, &path]
            .iter()
            .any(|v| v.as_ref().is_some_and(|v| v.contains('\n')))
        {
            return false;
        }
        // A `*` in the request's host stands for any host; no exact key names them all.
        protocol.is_none_or(|p| p == self.protocol)
            && host.is_none_or(|h| h == self.host && !self.host.contains('*'))
            && path.is_none_or(|p| Some(&p) == self.path.as_ref())
    }
}

fn percent_decode(s: &str) -> String {
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        if b[i] == b'%'
            && let Some(v) = b
                .get(i + 1..i + 3)
                .and_then(|h| std::str::from_utf8(h).ok())
                .and_then(|h| u8::from_str_radix(h, 16).ok())
        {
            out.push(v);
            i += 3;
            continue;
        }
        out.push(b[i]);
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// git's `git_config_bool`; `None` where git dies ("bad boolean config value").
fn config_bool(value: Option<&str>) -> Option<bool> {
    let Some(v) = value else { return Some(true) };
    match v.to_ascii_lowercase().as_str() {
        "true" | "yes" | "on" => Some(true),
        "false" | "no" | "off" | "" => Some(false),
        n => n.parse::<i64>().ok().map(|n| n != 0),
    }
}

/// What git's config says for one credential URL.
#[derive(Debug, Clone, Default)]
pub struct Resolved {
    /// Indexes into [`GitConfig::entries`] of the helpers git runs, in order.
    pub helpers: Vec<usize>,
    /// Whether git sends the path (`useHttpPath`), and the entry that said so last.
    pub use_http_path: bool,
    pub use_http_path_entry: Option<usize>,
    /// The entry that makes git stop reading its config (a value-less key, a bad boolean): git
    /// then fails before asking any helper.
    pub fatal: Option<usize>,
}

/// `credential_apply_config` over `entries`.
fn resolve_entries(entries: &[Entry], url: &CredentialUrl) -> Resolved {
    let norm = normalize(&url.format(), true);
    let mut r = Resolved::default();
    for (i, e) in entries.iter().enumerate() {
        let Some(key) = e.key.strip_prefix("credential.") else {
            continue;
        };
        let name = match key.rfind('.') {
            Some(dot) => {
                let key_url = &key[..dot];
                let matched = match normalize(key_url, true) {
                    Some(pattern) => norm.as_ref().is_some_and(|u| match_urls(u, &pattern)),
                    None => url.matches_partial(key_url),
                };
                if !matched {
                    continue;
                }
                &key[dot + 1..]
            }
            None => key,
        };
        let Some(value) = e.value.as_deref() else {
            r.fatal = Some(i);
            return r;
        };
        match name {
            "helper" if value.is_empty() => r.helpers.clear(),
            "helper" => r.helpers.push(i),
            "usehttppath" => match config_bool(Some(value)) {
                Some(b) => {
                    r.use_http_path = b;
                    r.use_http_path_entry = Some(i);
                }
                None => {
                    r.fatal = Some(i);
                    return r;
                }
            },
            _ => {}
        }
    }
    r
}

/// What running a helper value comes to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Program {
    /// The program git runs, found, and the arguments before the operation.
    Found { path: PathBuf, args: Vec<String> },
    /// The program git would run does not exist (or is not executable); `wanted` says what git
    /// looks for (`git-credential-gocred on PATH`, or the path).
    Missing { wanted: String, name: String },
    /// A shell command gocred does not look through.
    Shell,
}

/// One helper git runs.
#[derive(Debug, Clone)]
pub struct Helper<'c> {
    pub entry: &'c Entry,
    pub program: Program,
    /// Whether the program is a gocred (its file name, through symlinks, is `gocred` or
    /// `git-credential-gocred`).
    pub gocred: bool,
}

impl GitConfig {
    pub fn resolve(&self, url: &CredentialUrl) -> Resolved {
        resolve_entries(&self.entries, url)
    }

    /// The helpers git runs for `url`, in order, each with its program.
    pub fn helpers(&self, resolved: &Resolved) -> Vec<Helper<'_>> {
        resolved
            .helpers
            .iter()
            .map(|&i| {
                let entry = &self.entries[i];
                let program = self.program(entry.value.as_deref().unwrap_or_default());
                let gocred = match &program {
                    Program::Found { path, .. } => is_gocred_program(path),
                    Program::Missing { name, .. } => is_gocred_name(name),
                    Program::Shell => false,
                };
                Helper {
                    entry,
                    program,
                    gocred,
                }
            })
            .collect()
    }

    /// `credential_do`: `!cmd` is a shell command, an absolute path a command line, anything
    /// else `git credential-VALUE`; all run through `sh -c` with the operation appended.
    fn program(&self, value: &str) -> Program {
        let (line, dashed) = if let Some(cmd) = value.strip_prefix('!') {
            (cmd.to_owned(), false)
        } else if value.starts_with('/') {
            (value.to_owned(), false)
        } else {
            (format!("credential-{value}"), true)
        };
        let Some(words) = sh_words(&line) else {
            return Program::Shell;
        };
        let Some((first, args)) = words.split_first() else {
            return Program::Shell;
        };
        let args = args.to_vec();
        if dashed {
            let name = format!("git-{first}");
            return match self.lookup(&name) {
                Some(path) => Program::Found { path, args },
                None => Program::Missing {
                    wanted: format!("`{name}` in git's exec-path or on PATH"),
                    name,
                },
            };
        }
        let name = Path::new(first)
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        if first.contains('/') {
            let path = PathBuf::from(first);
            if is_executable(&path) {
                Program::Found { path, args }
            } else {
                Program::Missing {
                    wanted: format!("`{first}`"),
                    name,
                }
            }
        } else {
            match self.lookup(first) {
                Some(path) => Program::Found { path, args },
                None => Program::Missing {
                    wanted: format!("`{first}` on PATH"),
                    name,
                },
            }
        }
    }

    /// `name` in git's exec-path, then in PATH, as the shell git starts finds it.
    fn lookup(&self, name: &str) -> Option<PathBuf> {
        let exec_path = self.exec_path.get_or_init(|| {
            git()
                .arg("--exec-path")
                .output()
                .ok()
                .filter(|o| o.status.success())
                .map(|o| PathBuf::from(String::from_utf8_lossy(&o.stdout).trim_end_matches('\n')))
        });
        let dirs = exec_path
            .iter()
            .cloned()
            .chain(self.path.iter().flat_map(std::env::split_paths));
        for dir in dirs {
            let dir = if dir.as_os_str().is_empty() {
                PathBuf::from(".")
            } else {
                dir
            };
            let candidate = dir.join(name);
            if is_executable(&candidate) {
                return Some(candidate);
            }
        }
        None
    }
}

/// Something that keeps git from asking gocred for a URL, and the one step that fixes it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Problem {
    /// Stable: `git_config_unreadable`, `git_stops`, `no_helper`, `no_gocred`,
    /// `gocred_not_found`, `gocred_arguments`, `helper_before_gocred`, `no_use_http_path`.
    pub code: &'static str,
    pub message: String,
    pub fix: String,
}

/// Whether git asks gocred for one URL, and why not.
#[derive(Debug, Clone)]
pub struct GitSide<'c> {
    /// The URL git's config was matched against (`https://host/prefix`).
    pub url: String,
    /// The helpers git runs, in order.
    pub helpers: Vec<Helper<'c>>,
    /// Whether git sends the path; whether the rule needs it.
    pub use_http_path: bool,
    pub needs_path: bool,
    /// Empty when git asks gocred, first, with what the rule needs.
    pub problems: Vec<Problem>,
}

impl GitSide<'_> {
    pub fn asks_gocred(&self) -> bool {
        self.problems.is_empty()
    }
}

/// What `gocred setup git` writes for a rule: under `credential.<origin>.helper` an empty value
/// and gocred, and `credential.<origin>/<prefix>.useHttpPath = true` for a rule with a path.
#[derive(Debug, Clone)]
pub struct Wanted<'a> {
    pub url: CredentialUrl,
    pub origin: &'a str,
    pub prefix: Option<&'a str>,
}

/// Whether git asks gocred for `wanted.url`, as `config` stands.
pub fn check<'c>(config: &'c GitConfig, wanted: &Wanted<'_>) -> GitSide<'c> {
    let resolved = config.resolve(&wanted.url);
    let helpers = config.helpers(&resolved);
    let needs_path = wanted.prefix.is_some();
    let url = wanted.url.format();
    let mut problems = Vec::new();
    let fix = || setup_fix(config, wanted);
    if let Some(i) = resolved.fatal {
        let e = &config.entries[i];
        problems.push(Problem {
            code: "git_stops",
            message: format!(
                "git stops reading its config at {} and asks no helper at all",
                e.describe()
            ),
            fix: format!("give it a value or remove it ({})", where_(e)),
        });
        return GitSide {
            url,
            helpers,
            use_http_path: resolved.use_http_path,
            needs_path,
            problems,
        };
    }
    let works = |h: &Helper<'_>| {
        // `--quiet` (`-q`) is gocred's one global flag, and works before git's action.
        h.gocred
            && matches!(&h.program, Program::Found { args, .. }
                if args.iter().all(|a| a == "--quiet" || a == "-q"))
    };
    match helpers.iter().position(works) {
        Some(k) => {
            let before: Vec<&Helper<'_>> = helpers[..k]
                .iter()
                .filter(|h| !matches!(h.program, Program::Missing { .. }))
                .collect();
            if !before.is_empty() {
                let names: Vec<String> = before.iter().map(|h| h.entry.describe()).collect();
                problems.push(Problem {
                    code: "helper_before_gocred",
                    message: format!(
                        "git runs the helper {} before gocred for {url}; {} answers first whenever {} a credential for the host",
                        names.join(", then "),
                        if before.len() == 1 { "it" } else { "each" },
                        if before.len() == 1 { "it has" } else { "one has" },
                    ),
                    fix: fix(),
                });
            }
        }
        None => match helpers.iter().find(|h| h.gocred) {
            Some(h) => match &h.program {
                Program::Missing { wanted: what, .. } => problems.push(Problem {
                    code: "gocred_not_found",
                    message: format!(
                        "git runs the helper {} for {url}, but {what} does not exist or is not executable",
                        h.entry.describe()
                    ),
                    fix: match fix().as_str() {
                        "`gocred setup git`" if h.entry.value.as_deref() == Some("gocred") => {
                            "`gocred setup git` (it writes this gocred's absolute path), or put \
                             `git-credential-gocred` on PATH (a symlink to gocred)"
                                .to_owned()
                        }
                        other => other.to_owned(),
                    },
                }),
                _ => problems.push(Problem {
                    code: "gocred_arguments",
                    message: format!(
                        "git runs the helper {} for {url}, with arguments gocred does not take (git adds get, store or erase)",
                        h.entry.describe()
                    ),
                    fix: fix(),
                }),
            },
            None if helpers.is_empty() => problems.push(Problem {
                code: "no_helper",
                message: format!("git runs no credential helper for {url}"),
                fix: fix(),
            }),
            None => {
                let names: Vec<String> = helpers.iter().map(|h| h.entry.describe()).collect();
                problems.push(Problem {
                    code: "no_gocred",
                    message: format!(
                        "git runs only the helper {} for {url}, not gocred",
                        names.join(", then ")
                    ),
                    fix: fix(),
                });
            }
        },
    }
    if needs_path && !resolved.use_http_path {
        let why = match resolved.use_http_path_entry {
            Some(i) => format!("{} turns it off", config.entries[i].describe()),
            None => "credential.useHttpPath is not set there".to_owned(),
        };
        problems.push(Problem {
            code: "no_use_http_path",
            message: format!(
                "git does not send the repository path for {url} ({why}), so this rule, which has a path, never matches what git asks"
            ),
            fix: fix(),
        });
    }
    GitSide {
        url,
        helpers,
        use_http_path: resolved.use_http_path,
        needs_path,
        problems,
    }
}

/// How to remove one entry.
fn where_(e: &Entry) -> String {
    match (e.scope.as_str(), e.origin.strip_prefix("file:")) {
        ("command", _) => format!(
            "it comes from `git -c` or GIT_CONFIG_COUNT/GIT_CONFIG_PARAMETERS: drop `{}` there",
            e.key
        ),
        (_, Some(file)) => format!("edit {file}"),
        _ => format!("in {}", e.origin),
    }
}

/// `gocred setup git` when what it writes to the global config makes git ask gocred (first,
/// with the path where the rule needs it); else the later entry that undoes it.
fn setup_fix(config: &GitConfig, wanted: &Wanted<'_>) -> String {
    let helper_key = format!("credential.{}.helper", wanted.origin);
    let mut entries: Vec<Entry> = config
        .entries
        .iter()
        .filter(|e| !(e.scope == "global" && e.key == helper_key))
        .cloned()
        .collect();
    let at = entries
        .iter()
        .rposition(|e| e.scope == "global" || e.scope == "system")
        .map_or(0, |i| i + 1);
    let ours = |key: &str, value: &str| Entry {
        scope: "global".into(),
        origin: "gocred setup git".into(),
        key: key.to_owned(),
        value: Some(value.to_owned()),
    };
    let mut added = vec![ours(&helper_key, ""), ours(&helper_key, "gocred")];
    if let Some(prefix) = wanted.prefix {
        added.push(ours(&format!("credential.{prefix}.usehttppath"), "true"));
    }
    let ours_at = at + 1;
    entries.splice(at..at, added);
    let r = resolve_entries(&entries, &wanted.url);
    let first_ok = r.helpers.first() == Some(&ours_at);
    let path_ok = wanted.prefix.is_none() || r.use_http_path;
    if r.fatal.is_none() && first_ok && path_ok {
        return "`gocred setup git`".to_owned();
    }
    // What undoes it: the fatal entry, or the last entry after ours that matters.
    let culprit = r.fatal.or_else(|| {
        if !first_ok {
            // A reset after ours (ours gone), or a helper before it.
            r.helpers
                .first()
                .filter(|&&i| i < ours_at)
                .copied()
                .or_else(|| last_reset_after(&entries, &wanted.url, ours_at))
        } else {
            r.use_http_path_entry
        }
    });
    match culprit {
        Some(i) => format!(
            "{} comes after what `gocred setup git` writes to the global config and undoes it: {}",
            entries[i].describe(),
            where_(&entries[i])
        ),
        None => "`gocred setup git`".to_owned(),
    }
}

/// The last matching `helper = ''` after index `after`.
fn last_reset_after(entries: &[Entry], url: &CredentialUrl, after: usize) -> Option<usize> {
    (after + 1..entries.len()).rev().find(|&i| {
        let e = &entries[i];
        e.value.as_deref() == Some("")
            && e.key.ends_with(".helper")
            && resolve_entries(std::slice::from_ref(e), url)
                .helpers
                .is_empty()
            && {
                // It matches `url` when a helper under the same key would be taken.
                let probe = Entry {
                    value: Some("x".into()),
                    ..e.clone()
                };
                !resolve_entries(&[probe], url).helpers.is_empty()
            }
    })
}

fn is_executable(path: &Path) -> bool {
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::metadata(path).is_ok_and(|m| m.is_file() && m.permissions().mode() & 0o111 != 0)
    }
    #[cfg(not(unix))]
    {
        path.is_file()
    }
}

fn is_gocred_name(name: &str) -> bool {
    let name = name.strip_suffix(".exe").unwrap_or(name);
    name == "gocred" || name == "git-credential-gocred"
}

/// Whether `path` (or what its symlinks lead to) is named as gocred's binaries are.
fn is_gocred_program(path: &Path) -> bool {
    let named = |p: &Path| {
        p.file_name()
            .and_then(|n| n.to_str())
            .is_some_and(is_gocred_name)
    };
    named(path) || std::fs::canonicalize(path).is_ok_and(|p| named(&p))
}

/// The words of a plain shell command line: bare words, `'...'`, `"..."` (with `\` before
/// `"`, `\`, `$`, `` ` ``) and `\c`. `None` when anything in it makes the shell do more than
/// split words (`$`, `` ` ``, `;`, `|`, `&`, redirections, globs, `~`, `#`, an assignment, a
/// function definition).
pub fn sh_words(line: &str) -> Option<Vec<String>> {
    let mut words = Vec::new();
    let mut word: Option<String> = None;
    let mut chars = line.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            ' ' | '\t' => {
                if let Some(w) = word.take() {
                    words.push(w);
                }
            }
            '\'' => {
                let w = word.get_or_insert_with(String::new);
                loop {
                    match chars.next()? {
                        '\'' => break,
                        c => w.push(c),
                    }
                }
            }
            '"' => {
                let w = word.get_or_insert_with(String::new);
                loop {
                    match chars.next()? {
                        '"' => break,
                        '\\' => match chars.next()? {
                            c @ ('"' | '\\' | '$' | '`') => w.push(c),
                            '\n' => {}
                            c => {
                                w.push('\\');
                                w.push(c);
                            }
                        },
                        '$' | '`' => return None,
                        c => w.push(c),
                    }
                }
            }
            '\\' => word.get_or_insert_with(String::new).push(chars.next()?),
            '=' if words.is_empty() => return None,
            '~' if word.is_none() => return None,
            c if "\n$`;|&<>()*?[#{}".contains(c) => return None,
            c => word.get_or_insert_with(String::new).push(c),
        }
    }
    words.extend(word);
    Some(words)
}

/// One file of git's config (`--global`, `--system`, `--local`), read and changed through
/// `git config SCOPE`: what `setup git` writes and undoes. Arguments go to git as argv, never
/// through a shell.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ScopeFile {
    /// `--global`, `--system` or `--local`.
    pub scope: &'static str,
}

/// Why `git config SCOPE ...` did not do its part.
#[derive(Debug, thiserror::Error)]
pub enum ScopeError {
    #[error("cannot run git: {0}")]
    NoGit(std::io::Error),
    /// What git said on stderr.
    #[error("{0}")]
    Failed(String),
    #[error(
        "{key} ({scope}) holds a value that is not UTF-8: gocred will not rewrite it; fix it with \
         `git config {scope} --edit`"
    )]
    NotUtf8 { key: String, scope: &'static str },
}

impl ScopeFile {
    /// Every value of `key` in this file, in order (none when it is not set). A value holding a
    /// newline stays one value.
    pub fn get_all(&self, key: &str) -> Result<Vec<String>, ScopeError> {
        let output = git()
            .args(["config", self.scope, "--null", "--get-all", key])
            .output()
            .map_err(ScopeError::NoGit)?;
        match output.status.code() {
            // NUL-terminated: a value holding a newline stays one value.
            Some(0) => String::from_utf8(output.stdout)
                .map(|text| text.split_terminator('\0').map(str::to_owned).collect())
                .map_err(|_| ScopeError::NotUtf8 {
                    key: key.to_owned(),
                    scope: self.scope,
                }),
            Some(1) => Ok(Vec::new()), // not set
            _ => Err(ScopeError::Failed(
                String::from_utf8_lossy(&output.stderr).trim().to_owned(),
            )),
        }
    }

    /// Whether any key of this file matches `regexp` (`git config --get-regexp`).
    pub fn any_matching(&self, regexp: &str) -> Result<bool, ScopeError> {
        let output = git()
            .args(["config", self.scope, "--get-regexp", regexp])
            .output()
            .map_err(ScopeError::NoGit)?;
        Ok(output.status.code() != Some(1))
    }

    /// Runs `git config SCOPE ARGS...`.
    pub fn run(&self, args: &[&str]) -> Result<(), ScopeError> {
        let output = git()
            .args(["config", self.scope])
            .args(args)
            .output()
            .map_err(ScopeError::NoGit)?;
        if !output.status.success() {
            return Err(ScopeError::Failed(
                String::from_utf8_lossy(&output.stderr).trim().to_owned(),
            ));
        }
        Ok(())
    }
}

/// How many `GIT_CONFIG_KEY_n`/`GIT_CONFIG_VALUE_n` pairs the caller's `GIT_CONFIG_COUNT`
/// (`value`) already holds: entries appended after them keep theirs. Unset or blank is none;
/// anything but a number is refused, as git refuses it.
pub fn env_config_count(value: Option<&str>) -> Result<usize, String> {
    match value.map(str::trim) {
        None | Some("") => Ok(0),
        Some(v) => v.parse().map_err(|_| {
            format!(
                "GIT_CONFIG_COUNT is '{}', not a number: git would refuse it too",
                crate::redact::sanitize(v)
            )
        }),
    }
}

/// The environment that adds `entries` to git's config after the caller's `first` ones
/// ([`env_config_count`]): `GIT_CONFIG_KEY_n`, `GIT_CONFIG_VALUE_n` and the new
/// `GIT_CONFIG_COUNT`.
pub fn env_config(first: usize, entries: &[(String, String)]) -> Vec<(String, String)> {
    let mut vars = Vec::with_capacity(2 * entries.len() + 1);
    for (i, (key, value)) in entries.iter().enumerate() {
        vars.push((format!("GIT_CONFIG_KEY_{}", first + i), key.clone()));
        vars.push((format!("GIT_CONFIG_VALUE_{}", first + i), value.clone()));
    }
    vars.push((
        "GIT_CONFIG_COUNT".into(),
        (first + entries.len()).to_string(),
    ));
    vars
}

#[cfg(test)]
mod tests;
