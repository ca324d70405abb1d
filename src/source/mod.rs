//! Credential sources. A rule lists them in order; each answers a [`Query`] with a credential,
//! with "not found" (`Ok(None)`: ask the next source), with [`SourceError::Unavailable`] (this
//! source cannot work here: remember why, ask the next one) or [`SourceError::Fatal`] (stop).

pub mod ci;
pub mod command;
pub mod env;
pub mod file;
pub mod github_app;
pub mod jwt;
pub mod keychain;
pub mod mint;
pub mod oauth;
pub mod record;
pub mod sources;
pub mod sts;

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

/// Whether an entry stored for path `have` answers a request for path `want`: as git's
/// `credential_match` (credential-store, credential-cache), a request with a path takes only an
/// entry for that very path, and a request without one takes any entry.
fn path_fits(want: Option<&str>, have: Option<&str>) -> bool {
    want.is_none() || same(want, have)
}

/// Picks the credential a query asks for among the records of one scope, by git's rules
/// (credential-store's `credential_match`, with [`path_fits`] for the path): the user name must
/// match when the request gives one; expired entries are skipped; an entry stored for the
/// request's very path beats one stored without a path; else the most recently stored wins.
pub fn select<'r>(records: &'r [Record], query: &Query<'_>) -> Option<&'r Record> {
    pick(records, query.scope, query.path, query.username, query.now)
}

fn pick<'r>(
    records: &'r [Record],
    scope: &ScopeKey,
    path: Option<&str>,
    username: Option<&str>,
    now: u64,
) -> Option<&'r Record> {
    let fits = |r: &&Record| {
        r.scope == *scope
            && path_fits(path, r.path.as_deref())
            && same(username, Some(&r.cred.username))
            && r.cred.password_expiry_utc.is_none_or(|t| t > now)
    };
    let exact = |r: &&Record| path.is_some() && r.path.as_deref() == path;
    let mut newest = records.iter().rev().filter(fits);
    records
        .iter()
        .rev()
        .filter(fits)
        .find(exact)
        .or_else(|| newest.next())
}

/// The one erase rule for every store: same scope, and path ([`path_fits`]) / user name /
/// password when given, as git's helpers erase. So an erase without a user name removes every
/// user's entry, one without a path every path's, and one with a password only the entries that
/// hold that password; whatever `get` could have answered for the request can be erased by it.
pub fn erase_matches(record: &Record, want: &Want<'_>) -> bool {
    record.scope == *want.scope
        && path_fits(want.path, record.path.as_deref())
        && same(want.username, Some(&record.cred.username))
        && same(
            want.password.map(Secret::expose),
            Some(record.cred.password.expose()),
        )
}

/// Files `record` as git's credential-store does: every entry of the same scope and user name
/// whose path it names goes (all paths when it has none; only that path's entry when it has one),
/// and `record` becomes the newest. Returns false, and changes nothing, when `get` would already
/// answer this very credential for the same path and user (git stores after every successful
/// request, also of a host-wide entry for one repository): the entry keeps its place and what
/// this version does not know.
pub fn upsert(records: &mut Vec<Record>, record: Record) -> bool {
    let answered = pick(
        records,
        &record.scope,
        record.path.as_deref(),
        Some(&record.cred.username),
        0,
    );
    if answered.is_some_and(|r| r.cred == record.cred && r.path == record.path) {
        return false;
    }
    records.retain(|r| {
        !(r.scope == record.scope
            && r.cred.username == record.cred.username
            && same(record.path.as_deref(), r.path.as_deref()))
    });
    records.push(record);
    true
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rec(path: Option<&str>, user: &str, password: &str) -> Record {
        Record::new(
            ScopeKey("https://h.example".into()),
            path.map(str::to_owned),
            Credential {
                username: user.into(),
                password: Secret::from(password),
                password_expiry_utc: None,
                oauth_refresh_token: None,
            },
        )
    }

    fn erase(records: &mut Vec<Record>, path: Option<&str>, user: Option<&str>, pw: Option<&str>) {
        let password = pw.map(Secret::from);
        let scope = ScopeKey("https://h.example".into());
        let want = Want {
            scope: &scope,
            path,
            username: user,
            password: password.as_ref(),
        };
        records.retain(|r| !erase_matches(r, &want));
    }

    #[test]
    fn erase_takes_every_user_without_a_name_and_only_the_password_given() {
        let mut records = vec![
            rec(None, "a", "1"),
            rec(Some("x.git"), "a", "2"),
            rec(Some("y.git"), "b", "1"),
            rec(None, "", ""),
        ];
        erase(&mut records, Some("z.git"), None, Some("2"));
        assert_eq!(records.len(), 4, "x.git's entry is not z.git's");
        erase(&mut records, None, None, Some("1"));
        assert_eq!(records, [rec(Some("x.git"), "a", "2"), rec(None, "", "")]);
        erase(&mut records, None, Some(""), None);
        assert_eq!(records, [rec(Some("x.git"), "a", "2")]);
        erase(&mut records, None, None, None);
        assert!(records.is_empty());
    }

    #[test]
    fn storing_what_get_answers_changes_nothing_and_keeps_unknown_fields() {
        let mut kept = rec(None, "a", "1");
        kept.unknown.push(Secret::from("authtype=Bearer"));
        let mut records = vec![kept.clone()];
        assert!(!upsert(&mut records, rec(None, "a", "1")));
        assert_eq!(records, [kept.clone()]);
        // The same password for one path: git's get for that path did not take the host-wide
        // entry, so it is an entry of its own; the host-wide one stays.
        assert!(upsert(&mut records, rec(Some("x.git"), "a", "1")));
        assert!(!upsert(&mut records, rec(Some("x.git"), "a", "1")));
        assert_eq!(records, [kept.clone(), rec(Some("x.git"), "a", "1")]);
        // Another password for that path replaces its entry.
        assert!(upsert(&mut records, rec(Some("x.git"), "a", "2")));
        assert_eq!(records, [kept.clone(), rec(Some("x.git"), "a", "2")]);
        // A new host-wide password replaces every path's entry of that user.
        assert!(upsert(&mut records, rec(None, "a", "3")));
        assert_eq!(records, [rec(None, "a", "3")]);
    }
}
