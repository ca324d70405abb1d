//! Credential sources. A rule lists them in order; each answers a [`Query`] with a credential,
//! with "not found" (`Ok(None)`: ask the next source), with [`SourceError::Unavailable`] (this
//! source cannot work here: remember why, ask the next one) or [`SourceError::Fatal`] (stop).

pub mod env;
pub mod file;
pub mod keychain;
pub mod oauth;
pub mod record;

use crate::policy::{Rule, ScopeKey};
use crate::secret::Secret;

pub use record::{Credential, Record};

/// What a source is asked: the scope the policy derived from the request, the rule that matched
/// it, and the user name git asked for (or the rule's fixed one).
#[derive(Debug, Clone, Copy)]
pub struct Query<'a> {
    pub scope: &'a ScopeKey,
    pub rule: &'a Rule,
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
    /// Files `cred` under `scope`, replacing an entry with the same user name.
    fn store(&self, scope: &ScopeKey, cred: Credential) -> Result<(), SourceError>;
    /// Removes the entries under `scope` whose user name (if given) and password (if given)
    /// match; returns how many went.
    fn erase(
        &self,
        scope: &ScopeKey,
        username: Option<&str>,
        password: Option<&Secret>,
    ) -> Result<usize, SourceError>;
    /// Every stored entry, without secrets.
    fn list(&self) -> Result<Vec<StoredInfo>, SourceError>;
    /// Where the entries live, for `status` (e.g. "Secret Service (login collection)", a path).
    fn location(&self) -> String;
}

/// The seconds since the Unix epoch.
pub fn now() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs())
}

/// Picks the credential a query asks for among the records of one scope: the user name must match
/// when one is asked for; expired entries are skipped; the most recently stored wins.
pub fn select<'r>(records: &'r [Record], query: &Query<'_>) -> Option<&'r Record> {
    records.iter().rev().find(|r| {
        r.scope == *query.scope
            && query.username.is_none_or(|u| u == r.cred.username)
            && r.cred.password_expiry_utc.is_none_or(|t| t > query.now)
    })
}

/// The one erase rule for every store: same scope, and user name / password when given.
pub fn erase_matches(
    record: &Record,
    scope: &ScopeKey,
    username: Option<&str>,
    password: Option<&Secret>,
) -> bool {
    record.scope == *scope
        && username.is_none_or(|u| u == record.cred.username)
        && password.is_none_or(|p| p.expose() == record.cred.password.expose())
}

/// Inserts or replaces the record for (scope, user name), keeping the newest last.
pub fn upsert(records: &mut Vec<Record>, record: Record) {
    records.retain(|r| !(r.scope == record.scope && r.cred.username == record.cred.username));
    records.push(record);
}
