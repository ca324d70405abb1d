//! Reading the policy file. Every problem is reported with file, line and column, all of them at
//! once: a typo in one rule should not hide a wrong URL in the next.

use super::{
    HostPattern, KeychainBackend, OAuthConfig, OAuthProvider, Policy, Rule, SourceKind, UrlPattern,
};
use std::fmt;
use std::ops::Range;

mod minted;
use std::path::{Path, PathBuf};
use toml::Spanned;
use toml::de::{DeTable, DeValue};

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Diagnostic {
    pub line: usize,
    pub column: usize,
    pub message: String,
}

#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("cannot read the gocred config {}: {source}", path.display())]
    Io {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("{}", first_line(path, diagnostics))]
    Invalid {
        path: PathBuf,
        diagnostics: Vec<Diagnostic>,
    },
    /// git runs helpers inside whatever repository it is working in: a relative path would
    /// name a file of that repository.
    #[error(
        "refusing the gocred config {}: GOCRED_CONFIG must be an absolute path (git runs gocred \
         inside whatever repository it works in); set it to the file's full path",
        path.display()
    )]
    Relative { path: PathBuf },
    /// Someone other than its owner (or root) could change the policy: it is not read.
    #[error("refusing the gocred config {}: {why}; fix: `{fix}`", path.display())]
    Untrusted {
        path: PathBuf,
        why: String,
        fix: String,
    },
    #[error(
        "refusing the gocred config {}: it is {kind}, not a regular file; point GOCRED_CONFIG \
         at a regular file",
        path.display()
    )]
    NotRegular { path: PathBuf, kind: &'static str },
    #[error(
        "refusing the gocred config {}: it is larger than {} MiB, the most gocred reads; \
         a policy is a few rules",
        path.display(),
        MAX_CONFIG_BYTES >> 20
    )]
    TooLarge { path: PathBuf },
}

fn first_line(path: &Path, diagnostics: &[Diagnostic]) -> String {
    let d = &diagnostics[0];
    let more = match diagnostics.len() - 1 {
        0 => String::new(),
        n => format!(" (and {n} more problem{})", if n == 1 { "" } else { "s" }),
    };
    format!(
        "{}:{}:{}: {}{more}; run `gocred config check` to see every problem",
        path.display(),
        d.line,
        d.column,
        d.message
    )
}

impl ConfigError {
    /// Every problem, one `file:line:col: message` per line.
    pub fn report(&self) -> String {
        match self {
            ConfigError::Io { .. }
            | ConfigError::Relative { .. }
            | ConfigError::Untrusted { .. }
            | ConfigError::NotRegular { .. }
            | ConfigError::TooLarge { .. } => self.to_string(),
            ConfigError::Invalid { path, diagnostics } => diagnostics
                .iter()
                .map(|d| format!("{}:{}:{}: {}", path.display(), d.line, d.column, d.message))
                .collect::<Vec<_>>()
                .join("\n"),
        }
    }
}

impl fmt::Display for Diagnostic {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}: {}", self.line, self.column, self.message)
    }
}

/// The largest policy file gocred reads: 8 MiB is over 100,000 rules, and a FIFO or a device
/// standing in for the file must not feed `get` without end.
pub const MAX_CONFIG_BYTES: u64 = 8 << 20;

/// Reads the policy at `path`, as it is now: every call reads and checks the whole file (there
/// is no cache), so `get` and `config check` always see the same policy. A missing file is an
/// empty policy (everything denied); the caller says whether that is an error (an explicitly
/// named config). The file is read only when it is trusted ([`super::trust`]): an absolute
/// path, a regular file of at most [`MAX_CONFIG_BYTES`], that only its owner (this user or
/// root) can change, in directories only their owners can change.
pub fn load(path: &Path) -> Result<Policy, ConfigError> {
    load_keeping(path, None, &mut |_| {})
}

/// [`load`] (or [`load_for_host`] when `only_host` is set) with `extend` run on the user's
/// policy before the machine policy judges it: what `extend` adds (the CI job token's implicit
/// rule) is narrowed or refused like any rule the user wrote.
pub fn load_extended(
    path: &Path,
    only_host: Option<Option<&str>>,
    extend: &mut dyn FnMut(&mut Policy),
) -> Result<Policy, ConfigError> {
    load_keeping(path, only_host.map(Option::unwrap_or_default), extend)
}

/// [`load`] for one request (`get`): the file is read and checked whole, exactly as by
/// [`load`], but the policy keeps only the rules that could match `host` (a normalized host
/// name; `None`: no rule), so [`Policy::decide`] for any target on that host picks what it
/// picks over the whole policy: a rule for another host never matches. Not for anything that
/// lists or writes rules.
pub fn load_for_host(path: &Path, host: Option<&str>) -> Result<Policy, ConfigError> {
    load_keeping(path, Some(host.unwrap_or_default()), &mut |_| {})
}

fn load_keeping(
    path: &Path,
    only_host: Option<&str>,
    extend: &mut dyn FnMut(&mut Policy),
) -> Result<Policy, ConfigError> {
    let mut user = match super::trust::read(path)? {
        Some(text) => load_str_keeping(path, &text, only_host)?,
        None => Policy {
            path: path.to_owned(),
            exists: false,
            ..Policy::default()
        },
    };
    extend(&mut user);
    // What the machine policy allows of it: the one policy every command uses.
    super::machine::enforce(user)
}

/// The policy in `text` (read from `path`). Plain files are read by a fast reader
/// ([`super::scan`]) and checked like any other; anything it does not know, and any file with a
/// problem, goes through the full `toml` parser ([`load_str_full`]), which reports every
/// problem. Both give the same policy for every file the fast reader accepts.
pub fn load_str(path: &Path, text: &str) -> Result<Policy, ConfigError> {
    load_str_keeping(path, text, None)
}

/// [`load_str`], keeping only the rules that could match `only_host` when it is set (see
/// [`load_for_host`]). Then no rule is kept for the duplicate check: each rule's pattern is
/// hashed instead, and two equal hashes (a duplicate, or a rare collision) send the file to
/// the full parser, which keeps every rule and names the duplicate.
#[doc(hidden)]
pub fn load_str_keeping(
    path: &Path,
    text: &str,
    only_host: Option<&str>,
) -> Result<Policy, ConfigError> {
    let mut ck = Checker::new(text);
    ck.only_host = only_host;
    let mut policy = Policy {
        path: path.to_owned(),
        exists: true,
        ..Policy::default()
    };
    // Each rule is checked as soon as it is read, while its table is still in the cache.
    if let Some(root) = super::scan::parse(text, |keys, span| ck.rule_keys(keys, span, &mut policy))
    {
        ck.top(&root, &mut policy);
        if only_host.is_none() {
            ck.duplicates(&policy);
        }
        if ck.diagnostics.is_empty() && !ck.collided {
            return Ok(policy);
        }
    }
    load_str_full(path, text)
}

/// [`load_str`] through the full `toml` parser only (the fast reader's reference in tests).
#[doc(hidden)]
pub fn load_str_full(path: &Path, text: &str) -> Result<Policy, ConfigError> {
    load_str_layer(path, text, false)
}

/// [`load_str_full`]; `machine`: the machine policy, whose `[machine]` table is allowed here and
/// checked by [`super::machine`].
pub(super) fn load_str_layer(
    path: &Path,
    text: &str,
    machine: bool,
) -> Result<Policy, ConfigError> {
    let mut ck = Checker::new(text);
    ck.machine = machine;
    let (root, errors) = DeTable::parse_recoverable(text);
    let mut policy = Policy {
        path: path.to_owned(),
        exists: true,
        ..Policy::default()
    };
    if errors.is_empty() {
        ck.policy(root.get_ref(), &mut policy);
    } else {
        for e in errors {
            ck.error(
                e.span().unwrap_or(0..0),
                e.message().trim().replace('\n', " "),
            );
        }
    }
    ck.diagnostics.sort_by_key(|d| (d.line, d.column));
    if ck.diagnostics.is_empty() {
        Ok(policy)
    } else {
        Err(ConfigError::Invalid {
            path: path.to_owned(),
            diagnostics: ck.diagnostics,
        })
    }
}

/// The keys of one `[[rule]]` table, each looked up once (the checker asks for most of them
/// several times), whether they come from a `toml` table or from the fast reader.
#[derive(Default)]
pub(super) struct RuleKeys<'v, 'i> {
    url: Option<&'v Value<'i>>,
    sources: Option<&'v Value<'i>>,
    username: Option<&'v Value<'i>>,
    token_env: Option<&'v Value<'i>>,
    store: Option<&'v Value<'i>>,
    allow_http: Option<&'v Value<'i>>,
    oauth: Option<&'v Value<'i>>,
    goauth: Option<&'v Value<'i>>,
    command: Option<&'v Value<'i>>,
    command_timeout: Option<&'v Value<'i>>,
    cache: Option<&'v Value<'i>>,
    github_app: Option<&'v Value<'i>>,
    sts: Option<&'v Value<'i>>,
    /// Keys that no rule has, each an error.
    unknown: Vec<(&'v str, Range<usize>)>,
}

impl<'v, 'i> RuleKeys<'v, 'i> {
    #[cfg(test)]
    pub(super) fn unknown_count(&self) -> usize {
        self.unknown.len()
    }

    /// Records `key = value`; `false` if `key` was already recorded (TOML forbids that: only
    /// the fast reader can ask, and it then leaves the file to the full parser).
    pub(super) fn set(
        &mut self,
        key: &'v Spanned<toml::de::DeString<'i>>,
        value: &'v Value<'i>,
    ) -> bool {
        let slot = match key.get_ref().as_ref() {
            "url" => &mut self.url,
            "sources" => &mut self.sources,
            "username" => &mut self.username,
            "token_env" => &mut self.token_env,
            "store" => &mut self.store,
            "allow_http" => &mut self.allow_http,
            "oauth" => &mut self.oauth,
            "goauth" => &mut self.goauth,
            "command" => &mut self.command,
            "command_timeout" => &mut self.command_timeout,
            "cache" => &mut self.cache,
            "github_app" => &mut self.github_app,
            "sts" => &mut self.sts,
            other => {
                if self.unknown.iter().any(|(k, _)| *k == other) {
                    return false;
                }
                self.unknown.push((other, key.span()));
                return true;
            }
        };
        slot.replace(value).is_none()
    }
}

pub(super) struct Checker<'t> {
    text: &'t str,
    /// Byte offset of every line's first character, made on the first position asked for out
    /// of order: positions then cost a binary search, not a scan from the top (a policy of
    /// 10,000 rules asks for one per rule).
    line_starts: std::cell::OnceCell<Vec<usize>>,
    /// The last position asked for: (offset, 0-based line, that line's start). Rules ask in
    /// file order, so each counts only the newlines since the one before.
    cursor: std::cell::Cell<(usize, usize, usize)>,
    diagnostics: Vec<Diagnostic>,
    /// Keep only the rules that could match this host ([`load_for_host`]).
    only_host: Option<&'t str>,
    /// With `only_host`: the hash of every rule's pattern, and whether two were equal.
    hashes: std::collections::HashSet<u64, Fnv>,
    collided: bool,
    /// The machine policy: its `[machine]` table is checked by [`super::machine`].
    machine: bool,
}

pub(super) type Value<'i> = Spanned<DeValue<'i>>;

/// The keys of a rule that configure its `command` source, for
/// [`crate::source::command::check_rule`].
pub struct CommandKeys<'v, 'i> {
    pub command: Option<&'v Spanned<DeValue<'i>>>,
    pub command_timeout: Option<&'v Spanned<DeValue<'i>>>,
    pub cache: Option<&'v Spanned<DeValue<'i>>>,
}

pub(super) const RULE_KEYS: &[&str] = &[
    "url",
    "sources",
    "username",
    "token_env",
    "store",
    "allow_http",
    "oauth",
    "goauth",
    "command",
    "command_timeout",
    "cache",
    "github_app",
    "sts",
];

const OAUTH_KEYS: &[&str] = &[
    "provider",
    "client_id",
    "scopes",
    "issuer",
    "device_authorization_endpoint",
    "token_endpoint",
    "revocation_endpoint",
];

impl<'t> Checker<'t> {
    pub(super) fn new(text: &'t str) -> Self {
        Checker {
            text,
            line_starts: std::cell::OnceCell::new(),
            cursor: std::cell::Cell::new((0, 0, 0)),
            only_host: None,
            hashes: std::collections::HashSet::default(),
            collided: false,
            machine: false,
            diagnostics: Vec::new(),
        }
    }
}

impl Checker<'_> {
    /// 1-based line and column (in characters) of the byte `offset`.
    fn position(&self, offset: usize) -> (usize, usize) {
        let offset = offset.min(self.text.len());
        let (at, line, start) = self.cursor.get();
        let (index, line_start) = if offset >= at {
            let gap = &self.text.as_bytes()[at..offset];
            let newlines = gap.iter().filter(|&&b| b == b'\n').count();
            let line_start = match gap.iter().rposition(|&b| b == b'\n') {
                Some(i) => at + i + 1,
                None => start,
            };
            self.cursor.set((offset, line + newlines, line_start));
            (line + newlines, line_start)
        } else {
            let starts = self.line_starts.get_or_init(|| {
                std::iter::once(0)
                    .chain(self.text.match_indices('\n').map(|(i, _)| i + 1))
                    .collect()
            });
            let index = starts.partition_point(|&start| start <= offset) - 1;
            (index, starts[index])
        };
        let column = self.text[line_start..offset].chars().count() + 1;
        (index + 1, column)
    }

    fn error(&mut self, span: Range<usize>, message: impl Into<String>) {
        let (line, column) = self.position(span.start);
        self.diagnostics.push(Diagnostic {
            line,
            column,
            message: message.into(),
        });
    }

    fn unknown_keys(&mut self, table: &DeTable<'_>, known: &[&str], section: &str) {
        for key in table.keys() {
            if !known.contains(&key.get_ref().as_ref()) {
                let hint = match known {
                    [] => String::new(),
                    _ => format!(" (expected one of: {})", known.join(", ")),
                };
                self.error(
                    key.span(),
                    format!("unknown key `{}` in {section}{hint}", key.get_ref()),
                );
            }
        }
    }

    fn string<'v>(&mut self, v: &'v Value<'_>, what: &str) -> Option<&'v str> {
        let s = v.get_ref().as_str();
        if s.is_none() {
            self.error(
                v.span(),
                format!("`{what}` must be a string, not {}", v.get_ref().type_str()),
            );
        }
        s
    }

    fn table<'v, 'i>(&mut self, v: &'v Value<'i>, what: &str) -> Option<&'v DeTable<'i>> {
        let t = v.get_ref().as_table();
        if t.is_none() {
            self.error(
                v.span(),
                format!("`{what}` must be a table, not {}", v.get_ref().type_str()),
            );
        }
        t
    }

    fn policy(&mut self, root: &DeTable<'_>, policy: &mut Policy) {
        self.top(root, policy);
        if let Some(v) = root.get("rule") {
            match v.get_ref().as_array() {
                Some(rules) => {
                    for r in rules.iter() {
                        self.rule_entry(r, policy);
                    }
                }
                None => self.error(
                    v.span(),
                    "`rule` must be an array of tables: write each rule as [[rule]]",
                ),
            }
        }
        self.duplicates(policy);
    }

    /// One `[[rule]]` table, added to `policy` when it has no problem.
    fn rule_entry(&mut self, r: &Value<'_>, policy: &mut Policy) {
        if let Some(t) = self.table(r, "rule") {
            let mut keys = RuleKeys::default();
            for (key, value) in t.iter() {
                keys.set(key, value);
            }
            self.rule_keys(&keys, r.span(), policy);
        }
    }

    /// The keys of one `[[rule]]` whose table spans `span`, added to `policy` when they have
    /// no problem.
    pub(super) fn rule_keys(
        &mut self,
        keys: &RuleKeys<'_, '_>,
        span: Range<usize>,
        policy: &mut Policy,
    ) {
        let line = self.position(span.start).0;
        let Some(rule) = self.rule(keys, span, line) else {
            return;
        };
        match self.only_host {
            None => policy.rules.push(rule),
            Some(host) => {
                use std::hash::BuildHasher;
                if !self.hashes.insert(Fnv.hash_one(&rule.pattern)) {
                    self.collided = true;
                }
                if could_match(&rule.pattern, host) {
                    policy.rules.push(rule);
                }
            }
        }
    }

    /// Everything but the rules: the top-level keys, `[keychain]` and `[file]`.
    pub(super) fn top(&mut self, root: &DeTable<'_>, policy: &mut Policy) {
        let known: &[&str] = if self.machine {
            &["rule", "keychain", "file", "ci", "audit", "machine"]
        } else {
            &["rule", "keychain", "file", "ci", "agent", "audit"]
        };
        self.unknown_keys(root, known, "the top level");
        if let Some(v) = root.get("ci")
            && let Some(t) = self.table(v, "ci")
        {
            self.unknown_keys(t, &["job_token"], "[ci]");
            if let Some(b) = t.get("job_token") {
                match b.get_ref().as_bool() {
                    Some(true) => policy.ci_job_token = Some(self.position(v.span().start).0),
                    Some(false) => {}
                    None => self.error(b.span(), "`job_token` must be true or false"),
                }
            }
        }
        if let Some(v) = root.get("keychain")
            && let Some(t) = self.table(v, "keychain")
        {
            self.unknown_keys(t, &["backend"], "[keychain]");
            if let Some(b) = t.get("backend")
                && let Some(name) = self.string(b, "backend")
            {
                match KeychainBackend::parse(name) {
                    Some(backend) => policy.keychain_backend = backend,
                    None => self.error(
                        b.span(),
                        format!(
                            "unknown keychain backend `{name}` (expected one of: {})",
                            KeychainBackend::NAMES.join(", ")
                        ),
                    ),
                }
            }
        }
        if let Some(v) = root.get("file")
            && let Some(t) = self.table(v, "file")
        {
            self.unknown_keys(t, &["path"], "[file]");
            if let Some(p) = t.get("path")
                && let Some(s) = self.string(p, "path")
            {
                match expand_home(s) {
                    Some(path) => policy.file_path = Some(path),
                    None => self.error(p.span(), "`path` must be absolute or start with ~/"),
                }
            }
        }
        if let Some(v) = root.get("agent")
            && let Some(t) = self.table(v, "agent")
        {
            self.unknown_keys(t, &["socket"], "[agent]");
            if let Some(p) = t.get("socket")
                && let Some(s) = self.string(p, "socket")
            {
                match expand_home(s) {
                    Some(path) => policy.agent_socket = Some(path),
                    None => self.error(p.span(), "`socket` must be absolute or start with ~/"),
                }
            }
        }
        if let Some(v) = root.get("audit")
            && let Some(t) = self.table(v, "audit")
        {
            self.audit(v.span(), t, policy);
        }
    }

    /// `[audit]`: `path` (absolute or `~/`, required) and `max_size_mib` (a whole number of
    /// MiB, at least 1; default 10) (src/audit.rs).
    fn audit(&mut self, span: Range<usize>, t: &DeTable<'_>, policy: &mut Policy) {
        let known: &[&str] = if self.machine {
            &["path", "max_size_mib", "required", "group"]
        } else {
            &["path", "max_size_mib"]
        };
        self.unknown_keys(t, known, "[audit]");
        let mut required = false;
        if let Some(r) = t.get("required").filter(|_| self.machine) {
            match r.get_ref().as_bool() {
                Some(b) => required = b,
                None => self.error(r.span(), "`required` must be true or false"),
            }
        }
        let mut group = None;
        if let Some(g) = t.get("group").filter(|_| self.machine) {
            group = self.string(g, "group").and_then(|name| {
                // What useradd/groupadd accept (portable names), at most 32 bytes.
                let portable = !name.is_empty()
                    && name.len() <= 32
                    && !name.starts_with('-')
                    && name
                        .bytes()
                        .all(|b| b.is_ascii_alphanumeric() || b"._-".contains(&b));
                if !portable {
                    self.error(
                        g.span(),
                        "`group` must be a group name (letters, digits, `.`, `_`, `-`)",
                    );
                }
                portable.then(|| name.to_owned())
            });
        }
        let path = match t.get("path") {
            None => {
                self.error(span.clone(), "[audit] needs `path`: where the log goes");
                None
            }
            Some(p) => self.string(p, "path").and_then(|s| {
                let path = expand_home(s);
                if path.is_none() {
                    self.error(p.span(), "`path` must be absolute or start with ~/");
                }
                path
            }),
        };
        let mut max_bytes = crate::audit::DEFAULT_MAX_BYTES;
        if let Some(m) = t.get("max_size_mib") {
            match m
                .get_ref()
                .as_integer()
                .and_then(|i| u64::from_str_radix(i.as_str(), i.radix()).ok())
            {
                Some(n @ 1..=4096) => max_bytes = n << 20,
                _ => self.error(
                    m.span(),
                    "`max_size_mib` must be a whole number of MiB from 1 to 4096",
                ),
            }
        }
        if let Some(path) = path {
            policy.audit = Some(crate::audit::Config {
                path,
                max_bytes,
                required,
                group,
                declared_in: policy.path.clone(),
                line: self.position(span.start).0,
            });
        }
    }

    fn rule(&mut self, k: &RuleKeys<'_, '_>, span: Range<usize>, line: usize) -> Option<Rule> {
        let before = self.diagnostics.len();
        for (key, key_span) in &k.unknown {
            self.error(
                key_span.clone(),
                format!(
                    "unknown key `{key}` in [[rule]] (expected one of: {})",
                    RULE_KEYS.join(", ")
                ),
            );
        }
        let url = match k.url {
            None => {
                self.error(span.clone(), "this [[rule]] has no `url`");
                None
            }
            Some(v) => self
                .string(v, "url")
                .and_then(|s| match UrlPattern::parse(s) {
                    Ok(p) => Some((s.to_owned(), p, v.span())),
                    Err(reason) => {
                        // A user name, password, query or fragment may hold a token: then
                        // the line and column alone say which url.
                        let shown = if s.contains(['@', '?', '#']) {
                            String::new()
                        } else {
                            format!(" \"{s}\"")
                        };
                        self.error(v.span(), format!("bad url{shown}: {reason}"));
                        None
                    }
                }),
        };
        let mut sources = Vec::new();
        let mut sources_span = span.clone();
        match k.sources {
            None => self.error(
                span.clone(),
                "this [[rule]] has no `sources` (e.g. sources = [\"keychain\"])",
            ),
            Some(v) => {
                sources_span = v.span();
                match v.get_ref().as_array() {
                    None => self.error(v.span(), "`sources` must be an array of strings"),
                    Some(list) if list.is_empty() => {
                        self.error(v.span(), "`sources` is empty: name at least one source")
                    }
                    Some(list) => {
                        for item in list.iter() {
                            let Some(name) = self.string(item, "sources") else {
                                continue;
                            };
                            let kind = match name {
                                "keychain" => SourceKind::Keychain,
                                "file" => SourceKind::File,
                                "env" => SourceKind::Env,
                                "oauth" => SourceKind::OAuth,
                                "command" => SourceKind::Command,
                                "ci" => SourceKind::Ci,
                                "github-app" => SourceKind::GitHubApp,
                                "sts" => SourceKind::Sts,
                                other => {
                                    self.error(item.span(), format!("unknown source `{other}` (expected keychain, file, env, oauth, command, ci, github-app or sts)"));
                                    continue;
                                }
                            };
                            if sources.contains(&kind) {
                                self.error(item.span(), format!("source `{name}` is listed twice"));
                            } else {
                                sources.push(kind);
                            }
                        }
                    }
                }
            }
        }
        let username = k.username.and_then(|v| {
            let s = self.string(v, "username")?;
            if s.is_empty() || s.contains(':') || s.chars().any(char::is_control) {
                self.error(
                    v.span(),
                    "`username` must be non-empty, without ':' or control characters",
                );
                return None;
            }
            Some(s.to_owned())
        });
        let token_env = k.token_env.and_then(|v| {
            let s = self.string(v, "token_env")?;
            let valid = s.starts_with(|c: char| c.is_ascii_alphabetic() || c == '_')
                && s.chars().all(|c| c.is_ascii_alphanumeric() || c == '_');
            if !valid {
                self.error(
                    v.span(),
                    format!("`token_env` \"{s}\" is not an environment variable name"),
                );
                return None;
            }
            Some(s.to_owned())
        });
        let store = k.store.and_then(|v| {
            let name = self.string(v, "store")?;
            let kind = match name {
                "keychain" => SourceKind::Keychain,
                "file" => SourceKind::File,
                "env" => {
                    self.error(v.span(), "`store = \"env\"` is impossible: the env source is read-only");
                    return None;
                }
                other => {
                    self.error(v.span(), format!("unknown store `{other}` (expected keychain or file)"));
                    return None;
                }
            };
            if !sources.is_empty()
                && !sources.contains(&kind)
                && !sources.contains(&SourceKind::OAuth)
            {
                self.error(v.span(), format!("`store = \"{name}\"` but `{name}` is not in `sources`: what git stores could never be read back"));
            }
            Some(kind)
        });
        let allow_http = match k.allow_http {
            None => false,
            Some(v) => v.get_ref().as_bool().unwrap_or_else(|| {
                self.error(v.span(), "`allow_http` must be true or false");
                false
            }),
        };
        let oauth = self.oauth(k.oauth, &sources, &sources_span, store, allow_http);
        let wildcard = url.as_ref().is_some_and(|(_, p, _)| p.is_wildcard());
        let github_app = self.github_app(k.github_app, &sources, &sources_span, wildcard);
        let sts = self.sts(k.sts, &sources, &sources_span);
        let goauth_preemptive = match k.goauth {
            None => false,
            Some(v) => match self.string(v, "goauth") {
                None => false,
                Some("on-challenge") => false,
                Some("preemptive") => {
                    if let Some((_, pattern, _)) = &url
                        && (pattern.scheme != "https"
                            || pattern.is_wildcard()
                            || pattern.path.is_some())
                    {
                        self.error(v.span(), "`goauth = \"preemptive\"` needs an https url with an exact host and no path: Go is told, before asking, which URL prefix the credential is for");
                    }
                    true
                }
                Some(other) => {
                    self.error(v.span(), format!("unknown goauth mode `{other}` (expected \"on-challenge\" or \"preemptive\")"));
                    false
                }
            },
        };
        if sources.contains(&SourceKind::Env) {
            if token_env.is_none() && k.token_env.is_none() {
                self.error(
                    sources_span.clone(),
                    "source `env` needs `token_env` (the variable holding the token)",
                );
            }
            if username.is_none() && k.username.is_none() {
                self.error(sources_span.clone(), "source `env` needs `username` (e.g. \"gitlab-ci-token\", \"x-access-token\" or \"oauth2\")");
            }
        } else if let (Some(_), Some(v)) = (&token_env, k.token_env) {
            self.error(v.span(), "`token_env` is set but `env` is not in `sources`");
        }
        if let Some((_, pattern, url_span)) = &url
            && pattern.scheme == "http"
            && !allow_http
        {
            self.error(
                url_span.clone(),
                "http:// sends credentials in clear text: set `allow_http = true` on this rule if you really mean it",
            );
        }
        let command = crate::source::command::check_rule(
            &mut |span, message| self.error(span, message),
            &CommandKeys {
                command: k.command,
                command_timeout: k.command_timeout,
                cache: k.cache,
            },
            sources.contains(&SourceKind::Command),
            &sources_span,
        );
        let (url, pattern, _) = url?;
        (self.diagnostics.len() == before).then_some(Rule {
            url,
            pattern,
            sources,
            username,
            token_env,
            store,
            allow_http,
            oauth,
            goauth_preemptive,
            command,
            github_app,
            sts,
            line,
            machine: Default::default(),
        })
    }

    /// `[rule.oauth]`, checked against the rule's `sources`: the table exactly when `oauth` is
    /// listed, and `oauth` combined with `env` only (its tokens live in `store`).
    fn oauth(
        &mut self,
        oauth: Option<&Value<'_>>,
        sources: &[SourceKind],
        sources_span: &Range<usize>,
        store: Option<SourceKind>,
        allow_http: bool,
    ) -> Option<OAuthConfig> {
        let listed = sources.contains(&SourceKind::OAuth);
        let Some(v) = oauth else {
            if listed {
                self.error(
                    sources_span.clone(),
                    "source `oauth` needs a [rule.oauth] table with `provider` and `client_id`",
                );
            }
            return None;
        };
        let t = self.table(v, "oauth")?;
        if !listed {
            self.error(
                v.span(),
                "[rule.oauth] is set but `oauth` is not in `sources`",
            );
        }
        if listed
            && let Some(other) = sources
                .iter()
                .find(|s| matches!(s, SourceKind::Keychain | SourceKind::File))
        {
            self.error(
                sources_span.clone(),
                format!(
                    "source `oauth` reads its tokens from the rule's `store`; list `{}` in a \
                     rule of its own, or only `oauth` (and `env`) here",
                    other.name()
                ),
            );
        }
        self.unknown_keys(t, OAUTH_KEYS, "[rule.oauth]");
        let provider = match t.get("provider") {
            None => {
                self.error(
                    v.span(),
                    format!(
                        "[rule.oauth] has no `provider` (one of: {})",
                        OAuthProvider::NAMES.join(", ")
                    ),
                );
                None
            }
            Some(p) => self.string(p, "provider").and_then(|name| {
                let parsed = OAuthProvider::parse(name);
                if parsed.is_none() {
                    self.error(
                        p.span(),
                        format!(
                            "unknown OAuth provider `{name}` (expected one of: {})",
                            OAuthProvider::NAMES.join(", ")
                        ),
                    );
                }
                parsed
            }),
        };
        let client_id = match t.get("client_id") {
            None => {
                self.error(
                    v.span(),
                    "[rule.oauth] has no `client_id` (the application id the server gave you)",
                );
                None
            }
            Some(c) => self.string(c, "client_id").and_then(|id| {
                if id.is_empty() || id.chars().any(|c| c.is_control() || c.is_whitespace()) {
                    self.error(
                        c.span(),
                        "`client_id` must be non-empty, without spaces or control characters",
                    );
                    return None;
                }
                Some(id.to_owned())
            }),
        };
        let scopes = t.get("scopes").and_then(|s| {
            let Some(list) = s.get_ref().as_array() else {
                self.error(s.span(), "`scopes` must be an array of strings");
                return None;
            };
            let mut scopes = Vec::new();
            for item in list.iter() {
                let scope = self.string(item, "scopes")?;
                if scope.is_empty() || scope.chars().any(|c| c.is_control() || c.is_whitespace()) {
                    self.error(
                        item.span(),
                        "each scope must be non-empty, without spaces or control characters",
                    );
                    return None;
                }
                scopes.push(scope.to_owned());
            }
            Some(scopes)
        });
        let mut endpoint = |key: &str| {
            let e = t.get(key)?;
            let url = self.string(e, key)?;
            match check_endpoint(url, allow_http) {
                Ok(()) => Some(url.to_owned()),
                Err(why) => {
                    self.error(e.span(), format!("`{key}` \"{url}\": {why}"));
                    None
                }
            }
        };
        let issuer = endpoint("issuer");
        let device_authorization_endpoint = endpoint("device_authorization_endpoint");
        let token_endpoint = endpoint("token_endpoint");
        let revocation_endpoint = endpoint("revocation_endpoint");
        if provider == Some(OAuthProvider::Oidc)
            && t.get("issuer").is_none()
            && (t.get("device_authorization_endpoint").is_none()
                || t.get("token_endpoint").is_none())
        {
            self.error(
                v.span(),
                "provider `oidc` needs `issuer` (for discovery), or both \
                 `device_authorization_endpoint` and `token_endpoint`",
            );
        }
        if let (Some(p), Some(i)) = (provider, t.get("issuer"))
            && p != OAuthProvider::Oidc
        {
            self.error(
                i.span(),
                format!(
                    "`issuer` is for provider `oidc`; {} endpoints are known",
                    p.name()
                ),
            );
        }
        Some(OAuthConfig {
            provider: provider?,
            client_id: client_id?,
            scopes,
            issuer,
            device_authorization_endpoint,
            token_endpoint,
            revocation_endpoint,
            store: store.unwrap_or(SourceKind::Keychain),
        })
    }

    pub(super) fn duplicates(&mut self, policy: &Policy) {
        let mut seen: std::collections::HashMap<&UrlPattern, usize, Fnv> =
            std::collections::HashMap::with_capacity_and_hasher(policy.rules.len(), Fnv);
        let mut dups = Vec::new();
        for rule in &policy.rules {
            if let Some(first) = seen.insert(&rule.pattern, rule.line) {
                dups.push((rule.line, first, rule.url.clone()));
                seen.insert(&rule.pattern, first);
            }
        }
        for (line, first, url) in dups {
            self.diagnostics.push(Diagnostic {
                line,
                column: 1,
                message: format!("rule for \"{url}\" matches exactly what the rule on line {first} matches; merge them"),
            });
        }
    }
}

/// Whether `pattern` could match some request for `host` (on some scheme, port or path): a
/// superset of [`UrlPattern::matches`] for that host.
fn could_match(pattern: &UrlPattern, host: &str) -> bool {
    match &pattern.host {
        HostPattern::Exact(h) => h == host,
        HostPattern::Wildcard(suffix) => host
            .strip_suffix(suffix.as_str())
            .and_then(|head| head.strip_suffix('.'))
            .is_some_and(|head| !head.is_empty()),
    }
}

/// FNV-1a for the duplicate check: the patterns come from the user's own file (nothing to
/// defend against), and SipHash was a tenth of a 10,000-rule `get`.
#[derive(Clone, Copy, Default)]
struct Fnv;

impl std::hash::BuildHasher for Fnv {
    type Hasher = FnvHasher;
    fn build_hasher(&self) -> FnvHasher {
        FnvHasher(0xcbf2_9ce4_8422_2325)
    }
}

struct FnvHasher(u64);

impl std::hash::Hasher for FnvHasher {
    fn finish(&self) -> u64 {
        self.0
    }
    fn write(&mut self, bytes: &[u8]) {
        for &b in bytes {
            self.0 = (self.0 ^ u64::from(b)).wrapping_mul(0x100_0000_01b3);
        }
    }
}

/// An OAuth endpoint: an absolute https URL (http only with `allow_http`), with a host, and
/// no user name, password or fragment.
fn check_endpoint(url: &str, allow_http: bool) -> Result<(), String> {
    let (scheme, rest) = url
        .split_once("://")
        .ok_or("expected an absolute URL such as \"https://login.corp.example\"")?;
    match scheme.to_ascii_lowercase().as_str() {
        "https" => {}
        "http" if allow_http => {}
        "http" => return Err("http:// needs `allow_http = true` on this rule".into()),
        other => return Err(format!("scheme must be https, not '{other}'")),
    }
    let authority = rest.split(['/', '?']).next().unwrap_or_default();
    if authority.is_empty() {
        return Err("the URL has no host".into());
    }
    if authority.contains('@') {
        return Err("an endpoint cannot carry a user name or password".into());
    }
    if url.contains('#') || url.chars().any(|c| c.is_control() || c.is_whitespace()) {
        return Err("an endpoint cannot have a fragment, spaces or control characters".into());
    }
    Ok(())
}

fn expand_home(path: &str) -> Option<PathBuf> {
    if let Some(rest) = path.strip_prefix("~/") {
        return std::env::var_os("HOME")
            .filter(|h| !h.is_empty())
            .map(|h| PathBuf::from(h).join(rest));
    }
    let p = PathBuf::from(path);
    p.is_absolute().then_some(p)
}
