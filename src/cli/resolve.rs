//! The one way a command turns (rule, scope) into a credential: the rule's sources in order, the
//! first that has one answers. `get`, `netrc`, `exec` and `goauth` all call [`Resolver::resolve`],
//! so whatever a source does (an expired OAuth token refreshed first, a world-readable file store
//! refused) happens the same way for git, for Go's netrc and for GOAUTH.
//!
//! A resolver opens each source once and keeps it: a netrc for thousands of hosts opens the
//! keychain once and reads the file store once (a snapshot indexed by scope, answered with the
//! same [`select`] rule the file store uses).

use super::CommandError;
use super::context::Context;
use crate::policy::{Policy, Rule, ScopeKey, SourceKind};
use crate::source::env::{self, Missing};
use crate::source::{Credential, Query, Record, Source, SourceError, file::FileStore, select};
use std::collections::HashMap;
use std::sync::OnceLock;

pub struct Resolver<'c, 'io> {
    ctx: &'c Context<'io>,
    policy: &'c Policy,
    /// Each source the rules asked for so far, opened once.
    opened: Vec<(SourceKind, Box<dyn Source + 'c>)>,
    /// The `env` variables that left a rule without a credential, each with those rules (URL
    /// and line), in the order first seen: one note per variable, however many hosts use it.
    missing: Vec<(Missing, Vec<(String, usize)>)>,
}

impl<'c, 'io> Resolver<'c, 'io> {
    pub fn new(ctx: &'c Context<'io>, policy: &'c Policy) -> Self {
        Resolver {
            ctx,
            policy,
            opened: Vec::new(),
            missing: Vec::new(),
        }
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
        let file = self.policy.path.display();
        self.missing
            .iter()
            .map(|(m, rules)| {
                let named: Vec<String> = rules
                    .iter()
                    .map(|(url, line)| format!("{url} ({file} line {line})"))
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
        let Some(m) = env::missing(rule, |name| (self.ctx.env)(name)) else {
            return;
        };
        let who = (rule.url.clone(), rule.line);
        match self.missing.iter_mut().find(|(seen, _)| *seen == m) {
            Some((_, rules)) if rules.contains(&who) => {}
            Some((_, rules)) => rules.push(who),
            None => self.missing.push((m, vec![who])),
        }
    }

    fn source(&mut self, kind: SourceKind) -> Result<&dyn Source, CommandError> {
        let index = match self.opened.iter().position(|(k, _)| *k == kind) {
            Some(i) => i,
            None => {
                let source: Box<dyn Source + 'c> = if kind == SourceKind::File {
                    Box::new(FileSnapshot {
                        store: self.ctx.file_store(self.policy)?,
                        records: OnceLock::new(),
                    })
                } else {
                    self.ctx.source(self.policy, kind)?
                };
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
    ) -> Result<Option<Credential>, CommandError> {
        Ok(self
            .resolve_for(rule, scope, None, username)?
            .map(|(_, cred)| cred))
    }

    /// [`Resolver::resolve`] for a request that may carry a path (git's `get`): stored entries
    /// are matched on it as git's own helpers match them ([`Query::path`]). Also says which
    /// source answered.
    pub fn resolve_for(
        &mut self,
        rule: &Rule,
        scope: &ScopeKey,
        path: Option<&str>,
        username: Option<&str>,
    ) -> Result<Option<(SourceKind, Credential)>, CommandError> {
        let query = Query {
            scope,
            rule,
            path,
            username: username.or(rule.username.as_deref()),
            now: self.ctx.now,
        };
        let mut unavailable: Option<SourceError> = None;
        crate::audit::current(|a| a.resolving(scope.as_str(), rule, &self.policy.path));
        for &kind in &rule.sources {
            let answer = self.source(kind)?.get(&query);
            crate::audit::record_source(kind, &answer, rule, &*self.ctx.env);
            match answer {
                Ok(Some(cred)) => return Ok(Some((kind, cred))),
                Ok(None) => {}
                Err(e @ SourceError::Unavailable(_)) => {
                    unavailable.get_or_insert(e);
                }
                Err(e @ SourceError::Fatal(_)) => return Err(e.into()),
            }
        }
        crate::audit::current(|a| a.answered(None));
        self.note_missing(rule);
        unavailable.map_or(Ok(None), |e| Err(e.into()))
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
    #[test]
    fn some_of_names_five_and_counts_the_rest() {
        let names: Vec<String> = (1..=7).map(|i| format!("r{i}")).collect();
        assert_eq!(super::some_of(&names[..2]), "r1, r2");
        assert_eq!(super::some_of(&names), "r1, r2, r3, r4, r5 and 2 more");
    }
}
