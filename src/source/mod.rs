//! Credential sources. A rule lists them in order; each answers a [`Query`] with a credential,
//! with "not found" (`Ok(None)`: ask the next source), with [`SourceError::Unavailable`] (this
//! source cannot work here: remember why, ask the next one) or [`SourceError::Fatal`] (stop).

pub mod env;
pub mod file;
pub mod keychain;
pub mod oauth;
pub mod record;

use crate::policy::{Rule, ScopeKey, Target};
use crate::secret::Secret;

pub use record::{Credential, Record};

/// What a source is asked: the scope the policy derived from the request, the rule that matched
/// it, the request's path (see [`Record::path`]) and the user name git asked for (or the rule's
/// fixed one).
#[derive(Debug, Clone, Copy)]
pub struct Query<'a> {
    pub scope: &'a ScopeKey,
    pub rule: &'a Rule,
    /// The path git sent (`credential.useHttpPath`) under a rule whose scope key does not hold it
    /// already; `None` matches entries stored with any path or none, as in git.
    pub path: Option<&'a str>,
    pub username: Option<&'a str>,
    /// Seconds since the Unix epoch; records that expired before this are not returned.
    pub now: u64,
}

#[derive(Debug, thiserror::Error)]
pub enum SourceError {
    /// This source cannot serve here (no keychain on this machine, ...): try the next one, and
    /// report this only if none answers. The message names the source and the fix.
    #[error("{0}")]
    Unavailable(String),
    /// Stop: the user must fix something (a world-readable file store, a corrupt entry, ...).
    #[error("{0}")]
    Fatal(String),
}

pub trait Source {
    fn name(&self) -> &'static str;
    fn get(&self, query: &Query<'_>) -> Result<Option<Credential>, SourceError>;
}

/// What `gocred status` shows of a stored entry: never the secret.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredInfo {
    pub scope: ScopeKey,
    pub username: String,
    pub password_expiry_utc: Option<u64>,
    pub has_refresh_token: bool,
    /// Why this scope's entry could not be read (then the other fields are empty): shown by
    /// `status` in place of the entry, without failing the whole listing.
    pub problem: Option<String>,
}

/// A source that also keeps what git asks it to `store`, and forgets on `erase`.
pub trait Store: Source {
    /// Files `record`, replacing the entries [`upsert`] says it replaces. Storing what is already
    /// there writes nothing.
    fn store_record(&self, record: Record) -> Result<(), SourceError>;
    /// Removes the entries [`erase_matches`] picks; returns how many went.
    fn erase_matching(&self, want: &Want<'_>) -> Result<usize, SourceError>;
    /// Every stored entry, without secrets.
    fn list(&self) -> Result<Vec<StoredInfo>, SourceError>;
    /// Where the entries live, for `status` (e.g. "Secret Service (login collection)", a path).
    fn location(&self) -> String;

    /// Files `cred` under `scope` with no path, replacing the same user's entries.
    fn store(&self, scope: &ScopeKey, cred: Credential) -> Result<(), SourceError> {
        self.store_record(Record::new(scope.clone(), None, cred))
    }

    /// Removes the entries under `scope` (any path) whose user name (if given) and password (if
    /// given) match; returns how many went.
    fn erase(
        &self,
        scope: &ScopeKey,
        username: Option<&str>,
        password: Option<&Secret>,
    ) -> Result<usize, SourceError> {
        self.erase_matching(&Want {
            scope,
            path: None,
            username,
            password,
        })
    }
}

/// What `erase` names: the scope, and the path, user name and password when git gave them.
#[derive(Debug, Clone, Copy)]
pub struct Want<'a> {
    pub scope: &'a ScopeKey,
    pub path: Option<&'a str>,
    pub username: Option<&'a str>,
    pub password: Option<&'a Secret>,
}

/// The seconds since the Unix epoch.
pub fn now() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs())
}

/// The path a request's entries are stored and matched under ([`Record::path`]): the request's
/// path for a rule whose scope key does not hold it already, else none.
pub fn entry_path<'t>(rule: &Rule, target: &'t Target) -> Option<&'t str> {
    if rule.pattern.path.is_some() {
        None // the scope key is origin + path: entries of other paths are under other keys
    } else {
        target.path.as_deref()
    }
}

/// git's `credential_match` for one attribute: one the request leaves out matches anything;
/// one it gives (even empty) must be there with the same value.
fn same(want: Option<&str>, have: Option<&str>) -> bool {
    want.is_none_or(|w| have == Some(w))
}

/// Picks the credential a query asks for among the records of one scope, by git's rules
/// (credential-store's `credential_match`): the path and the user name must match when the
/// request gives them; expired entries are skipped; the most recently stored wins.
pub fn select<'r>(records: &'r [Record], query: &Query<'_>) -> Option<&'r Record> {
    records.iter().rev().find(|r| {
        r.scope == *query.scope
            && same(query.path, r.path.as_deref())
            && same(query.username, Some(&r.cred.username))
            && r.cred.password_expiry_utc.is_none_or(|t| t > query.now)
    })
}

/// The one erase rule for every store, git's: same scope, and path / user name / password when
/// given. So an erase without a user name removes every user's entry, one without a path every
/// path's, and one with a password only the entries that hold that password.
pub fn erase_matches(record: &Record, want: &Want<'_>) -> bool {
    record.scope == *want.scope
        && same(want.path, record.path.as_deref())
        && same(want.username, Some(&record.cred.username))
        && same(
            want.password.map(Secret::expose),
            Some(record.cred.password.expose()),
        )
}

/// Files `record` as git's credential-store does: every entry of the same scope and user name
/// whose path it matches ([`erase_matches`] without a password) goes, and `record` becomes the
/// newest. Returns false (and changes nothing) when the only such entry already holds `record`'s
/// credential (git stores after every successful request): then the entry keeps its place and
/// what this version does not know.
pub fn upsert(records: &mut Vec<Record>, record: Record) -> bool {
    let want = Want {
        scope: &record.scope,
        path: record.path.as_deref(),
        username: Some(&record.cred.username),
        password: None,
    };
    let replaced: Vec<usize> = (0..records.len())
        .filter(|&i| erase_matches(&records[i], &want))
        .collect();
    if let [only] = replaced[..]
        && records[only].path == record.path
        && records[only].cred == record.cred
    {
        return false;
    }
    records.retain(|r| !erase_matches(r, &want));
    records.push(record);
    true
}
