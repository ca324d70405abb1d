//! The one way a command turns (rule, scope) into a credential: the rule's sources in order, the
//! first that has one answers. `get`, `netrc`, `exec`, `goauth`, `import-netrc` and `doctor` all
//! call [`Sources::resolve`], so whatever a source does (an expired OAuth token refreshed first, a
//! world-readable file store refused) happens the same way for git, for Go's netrc and for GOAUTH.
//!
//! [`Sources`] opens each source once and keeps it: a netrc for thousands of hosts opens the
//! keychain once and reads the file store once (a snapshot indexed by scope, answered with the
//! same [`select`] rule the file store uses).
//!
//! A new kind of source is one arm in [`Sources::open`] (and, if it needs something from the
//! outside world, one field in [`Sources`], set by [`Sources::new`]'s callers through
//! `cli::Context::sources`).

use super::env::{self, Missing};
use super::file::FileStore;
use super::keychain::Keychain;
use super::oauth::OAuthSource;
use super::{Credential, Query, Record, Source, SourceError, Store, select};
use crate::paths;
use crate::policy::{Policy, Rule, ScopeKey, SourceKind};
use std::collections::HashMap;
use std::sync::OnceLock;

/// Reads an environment variable; a function so tests need not touch the process environment.
pub type Lookup<'e> = &'e dyn Fn(&str) -> Option<String>;

/// Why a source could not be opened or asked.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// Neither the config's `[file] path` nor HOME says where the file store lives: a config
    /// problem, not a source's.
    #[error("cannot tell where the file store lives: set [file] path in the config, or HOME")]
    NoFileStore { kind: SourceKind },
    /// A caller asked for `kind` as a store, which it is not (our bug).
    #[error("BUG: {} is not a store", kind.name())]
    NotAStore { kind: SourceKind },
    /// `kind` cannot work here ([`SourceError::Unavailable`], returned only when no other source
    /// answered) or must be fixed ([`SourceError::Fatal`]).
    #[error("{error}")]
    Source {
        kind: SourceKind,
        error: SourceError,
    },
}

impl Error {
    /// The source that failed.
    pub fn kind(&self) -> SourceKind {
        match self {
            Error::NoFileStore { kind }
            | Error::NotAStore { kind }
            | Error::Source { kind, .. } => *kind,
        }
    }
}

/// The credential sources of one policy, opened on first use and kept.
pub struct Sources<'a> {
    policy: &'a Policy,
    env: Lookup<'a>,
    now: u64,
    /// Each source the rules asked for so far, opened once.
    opened: Vec<(SourceKind, Box<dyn Source + 'a>)>,
    /// The `env` variables that left a rule without a credential, each with those rules (URL
    /// and line), in the order first seen: one note per variable, however many hosts use it.
    missing: Vec<(Missing, Vec<(String, usize)>)>,
}

impl<'a> Sources<'a> {
    /// Opens nothing yet. `env` is the environment the sources read (`env` tokens, OAuth's
    /// `GOCRED_HTTP_TIMEOUT`...), `now` the seconds since the Unix epoch expiry is judged by.
    pub fn new(policy: &'a Policy, env: Lookup<'a>, now: u64) -> Self {
        Sources {
            policy,
            env,
            now,
            opened: Vec::new(),
            missing: Vec::new(),
        }
    }

    /// The policy whose rules these sources answer.
    pub fn policy(&self) -> &'a Policy {
        self.policy
    }

    /// Opens the source `kind` (touching neither D-Bus, disk nor network yet): one arm per kind.
    fn open(&self, kind: SourceKind) -> Result<Box<dyn Source + 'a>, Error> {
        Ok(match kind {
            SourceKind::Keychain => Box::new(Keychain::new(self.policy.keychain_backend)),
            SourceKind::File => Box::new(FileSnapshot {
                store: file_store(self.policy, kind)?,
                records: OnceLock::new(),
            }),
            SourceKind::Env => {
                let env = self.env;
                Box::new(env::Env::new(move |name: &str| env(name)))
            }
            SourceKind::OAuth => Box::new(oauth(self.policy, self.env)),
            SourceKind::Command => Box::new(super::command::CommandSource::new(
                self.policy.keychain_backend,
            )),
            SourceKind::Ci => Box::new(super::ci::CiSource::new(self.env)),
            SourceKind::GitHubApp => Box::new(super::github_app::GitHubAppSource {
                stores: mint_stores(self.policy, self.env),
            }),
            SourceKind::Sts => Box::new(super::sts::StsSource {
                stores: mint_stores(self.policy, self.env),
            }),
        })
    }

    fn source(&mut self, kind: SourceKind) -> Result<&dyn Source, Error> {
        let index = match self.opened.iter().position(|(k, _)| *k == kind) {
            Some(i) => i,
            None => {
                let source = self.open(kind)?;
                self.opened.push((kind, source));
                self.opened.len() - 1
            }
        };
        Ok(&*self.opened[index].1)
    }

    /// The credential for `scope` under `rule`, for `username` (git's, else the rule's fixed one).
    /// `Ok(None)`: no source has one. A source that cannot work here ([`SourceError::Unavailable`])
    /// is skipped, and its reason returned only when no other source answers; a fatal one stops.
    pub fn resolve(
        &mut self,
        rule: &Rule,
        scope: &ScopeKey,
        username: Option<&str>,
    ) -> Result<Option<Credential>, Error> {
        Ok(self
            .resolve_for(rule, scope, None, username)?
            .map(|(_, cred)| cred))
    }

    /// [`Sources::resolve`] for a request that may carry a path (git's `get`): stored entries
    /// are matched on it as git's own helpers match them ([`Query::path`]). Also says which
    /// source answered.
    pub fn resolve_for(
        &mut self,
        rule: &Rule,
        scope: &ScopeKey,
        path: Option<&str>,
        username: Option<&str>,
    ) -> Result<Option<(SourceKind, Credential)>, Error> {
        let query = Query {
            scope,
            rule,
            path,
            username: username.or(rule.username.as_deref()),
            now: self.now,
        };
        let mut unavailable: Option<Error> = None;
        // The audit trail (src/audit.rs): each source's answer, never the credential.
        if crate::audit::current(|a| a.enabled()) {
            let file = crate::audit::rule_file(self.policy, rule);
            crate::audit::current(|a| a.resolving(scope.as_str(), rule, &file));
        }
        for &kind in &rule.sources {
            let answer = self.source(kind)?.get(&query);
            crate::audit::record_source(kind, &answer, rule, self.env);
            match answer {
                Ok(Some(cred)) => return Ok(Some((kind, cred))),
                Ok(None) => {}
                Err(error @ SourceError::Unavailable(_)) => {
                    unavailable.get_or_insert(Error::Source { kind, error });
                }
                Err(error @ SourceError::Fatal(_)) => return Err(Error::Source { kind, error }),
            }
        }
        crate::audit::current(|a| a.answered(None));
        self.note_missing(rule);
        unavailable.map_or(Ok(None), Err)
    }

    /// When the store of `rule` (its OAuth tokens' store, else its `store`) holds an entry for
    /// `scope` that has expired: the latest such expiry. `None` also when the store cannot be read.
    pub fn expired_at(&self, rule: &Rule, scope: &ScopeKey) -> Option<u64> {
        let kind = rule.oauth.as_ref().map(|o| o.store).or(rule.store)?;
        store(self.policy, kind)
            .ok()?
            .list()
            .ok()?
            .into_iter()
            .filter(|i| i.scope == *scope)
            .filter_map(|i| i.password_expiry_utc)
            .filter(|&t| t <= self.now)
            .max()
    }

    /// Whether `rule` was left without a credential by an unset `env` variable.
    pub fn missing_for(&self, rule: &Rule) -> bool {
        self.missing.iter().any(|(_, rules)| {
            rules
                .iter()
                .any(|(url, line)| *url == rule.url && *line == rule.line)
        })
    }

    /// One line per unset (or empty) `env` variable that left rules without a credential:
    /// `CI_JOB_TOKEN is not set: rule URL (FILE line N) has no token for WHAT`.
    pub fn missing_notes(&self, what: &str) -> Vec<String> {
        // The file each rule is in: the machine policy's own rules are in its file.
        let file = |url: &String, line: &usize| {
            let rule = self
                .policy
                .rules
                .iter()
                .find(|r| r.url == *url && r.line == *line);
            rule.map_or(&*self.policy.path, |r| self.policy.file_of(r))
                .display()
        };
        self.missing
            .iter()
            .map(|(m, rules)| {
                let named: Vec<String> = rules
                    .iter()
                    .map(|(url, line)| format!("{url} ({} line {line})", file(url, line)))
                    .collect();
                match named.as_slice() {
                    [one] => format!("{}: rule {one} has no token for {what}", m.describe()),
                    many => format!(
                        "{}: rules {} have no token for {what}",
                        m.describe(),
                        some_of(many)
                    ),
                }
            })
            .collect()
    }

    /// Remembers the unset `env` variable of `rule`, which just resolved to nothing.
    fn note_missing(&mut self, rule: &Rule) {
        if !rule.sources.contains(&SourceKind::Env) {
            return;
        }
        let Some(m) = env::missing(rule, self.env) else {
            return;
        };
        let who = (rule.url.clone(), rule.line);
        match self.missing.iter_mut().find(|(seen, _)| *seen == m) {
            Some((_, rules)) if rules.contains(&who) => {}
            Some((_, rules)) => rules.push(who),
            None => self.missing.push((m, vec![who])),
        }
    }
}

/// The file store of `policy` (its `[file] path`, else the default), for the source `kind`
/// that needs it. Creating it touches no disk.
pub fn file_store(policy: &Policy, kind: SourceKind) -> Result<FileStore, Error> {
    policy
        .file_path
        .clone()
        .or_else(paths::default_file_store)
        .map(FileStore::new)
        .ok_or(Error::NoFileStore { kind })
}

/// The store named by `kind` (keychain or file). Creating one touches neither D-Bus nor disk.
pub fn store(policy: &Policy, kind: SourceKind) -> Result<Box<dyn Store>, Error> {
    Ok(match kind {
        SourceKind::Keychain => Box::new(Keychain::new(policy.keychain_backend)),
        SourceKind::File => Box::new(file_store(policy, kind)?),
        _ => return Err(Error::NotAStore { kind }),
    })
}

/// The `oauth` source, which also keeps and rejects tokens (login, logout, erase).
pub fn oauth<'e>(policy: &Policy, env: Lookup<'e>) -> OAuthSource<'e> {
    let file = policy.file_path.clone().or_else(paths::default_file_store);
    OAuthSource::new(policy.keychain_backend, file, env)
}

/// Where the `github-app` and `sts` sources cache what they mint (and forget what git rejects).
pub fn mint_stores<'e>(policy: &Policy, env: Lookup<'e>) -> super::mint::Stores<'e> {
    super::mint::Stores {
        keychain_backend: policy.keychain_backend,
        file_path: policy.file_path.clone().or_else(paths::default_file_store),
        env,
        lock_dir: None,
    }
}

/// The first few of `names`, and how many more: one line stays readable for any policy.
pub fn some_of(names: &[String]) -> String {
    const SHOWN: usize = 5;
    match names.len() {
        n if n <= SHOWN => names.join(", "),
        n => format!("{} and {} more", names[..SHOWN].join(", "), n - SHOWN),
    }
}

/// The file store read once, on first use, and indexed by scope.
struct FileSnapshot {
    store: FileStore,
    records: OnceLock<Result<HashMap<ScopeKey, Vec<Record>>, String>>,
}

impl Source for FileSnapshot {
    fn name(&self) -> &'static str {
        "file"
    }

    fn get(&self, query: &Query<'_>) -> Result<Option<Credential>, SourceError> {
        let records = self.records.get_or_init(|| {
            let mut by_scope: HashMap<ScopeKey, Vec<Record>> = HashMap::new();
            for r in self.store.read_all().map_err(|e| e.to_string())? {
                by_scope.entry(r.scope.clone()).or_default().push(r);
            }
            Ok(by_scope)
        });
        match records {
            Err(message) => Err(SourceError::Fatal(message.clone())),
            Ok(by_scope) => Ok(by_scope
                .get(query.scope)
                .and_then(|rs| select(rs, query))
                .map(|r| r.cred.clone())),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::Sources;
    use crate::policy::{Decision, SourceKind, Target, load_str};
    use std::path::Path;

    const TWO_HOSTS: &str = r#"
[[rule]]
url = "https://a.example"
sources = ["env"]
token_env = "CI_TOKEN"
username = "ci"

[[rule]]
url = "https://b.example"
sources = ["env"]
token_env = "CI_TOKEN"
username = "ci"
"#;

    #[test]
    fn sources_an_unset_env_variable_is_a_miss_named_once_for_every_rule_it_leaves_out() {
        let policy = load_str(Path::new("/c.toml"), TWO_HOSTS).unwrap();
        let env = |_: &str| None;
        let mut sources = Sources::new(&policy, &env, 0);
        for host in ["a.example", "b.example"] {
            let Decision::Managed { rule, scope, .. } =
                policy.decide(Target::new("https", host, None).unwrap())
            else {
                panic!("{host} not managed");
            };
            assert!(sources.resolve(rule, &scope, None).unwrap().is_none());
            assert!(sources.missing_for(rule));
        }
        assert_eq!(
            sources.missing_notes("git"),
            [
                "CI_TOKEN is not set: rules https://a.example (/c.toml line 2), \
              https://b.example (/c.toml line 8) have no token for git"
            ]
        );
    }

    #[test]
    fn sources_a_set_env_variable_answers_and_says_which_source() {
        let policy = load_str(Path::new("/c.toml"), TWO_HOSTS).unwrap();
        let env = |name: &str| (name == "CI_TOKEN").then(|| "glpat-FAKE-1".to_owned());
        let mut sources = Sources::new(&policy, &env, 0);
        let Decision::Managed { rule, scope, .. } =
            policy.decide(Target::new("https", "a.example", None).unwrap())
        else {
            panic!("not managed");
        };
        let (kind, cred) = sources
            .resolve_for(rule, &scope, None, None)
            .unwrap()
            .unwrap();
        assert_eq!(kind, SourceKind::Env);
        assert_eq!(cred.username, "ci");
        assert_eq!(cred.password.expose(), "glpat-FAKE-1");
        assert!(sources.missing_notes("git").is_empty());
    }

    #[test]
    fn some_of_names_five_and_counts_the_rest() {
        let names: Vec<String> = (1..=7).map(|i| format!("r{i}")).collect();
        assert_eq!(super::some_of(&names[..2]), "r1, r2");
        assert_eq!(super::some_of(&names), "r1, r2, r3, r4, r5 and 2 more");
    }
}
