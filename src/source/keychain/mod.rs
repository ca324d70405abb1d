//! The OS keychain, through keyring-core and the platform's store crate (chosen in `backend`).
//!
//! Layout: one entry per scope key, service `gocred`, user name = the scope key
//! (`https://gitlab.corp.example`, `https://h:8443/group/repo.git`). Its secret is
//! [`record::encode`] of every credential stored under that scope (several users per host), so
//! the keychain and the file store share one encoding and the [`select`] / [`upsert`] /
//! [`erase_matches`] rules. A second entry, user name `gocred:index`, lists the scope keys that
//! have an entry (one per line), so `gocred status` can enumerate them on every backend.
//!
//! Nothing is opened before the first get/store/erase/list. A store or erase reads, changes and
//! writes an entry and the index under an exclusive lock file in the user's lock directory
//! ([`crate::paths::lock_dir`], the same whatever the caller's environment), so two gocred
//! processes never lose each other's update; a get takes no lock.
//!
//! A store takes that lock before it even opens the keychain, so concurrent stores talk to the
//! keyring one process at a time. gnome-keyring 42 to 50 aborts now and then (SIGTRAP after
//! "assertion 'client' failed" in `gkd_secret_service_get_pkcs11_session`; upstream issue 190)
//! when clients connect and disconnect in bursts; a dozen concurrent approves, each with a
//! probe connection and a session while the others wrote, did it about once in ten runs of the
//! test below, and no more in fourteen once stores took turns. A crashed keyring restarts
//! locked. Bursts of gets (two hundred parallel fills) can still trigger it, about once in
//! forty runs here, as reported against other clients: it is gnome-keyring's to fix. (Erase
//! keeps its lock-free read: after a failed fill there is usually nothing to erase.)
//!
//! keyring-core errors are matched, never formatted: `BadEncoding` and `BadDataFormat` carry the
//! secret's bytes.

mod backend;
#[cfg(target_os = "linux")]
mod dh;
#[cfg(target_os = "linux")]
mod secret_service;
#[cfg(test)]
mod tests;

use super::{
    Credential, Query, Record, Source, SourceError, Store, StoredInfo, Want, erase_matches, record,
    select, upsert,
};
use crate::policy::{KeychainBackend, ScopeKey};
use crate::secret::SecretBytes;
pub use backend::COMPILED_IN;
use backend::{Kind, Opened};
use keyring_core::{Entry, Error as KeyringError};
use std::path::PathBuf;
use std::sync::OnceLock;

/// The keychain service every gocred entry is filed under.
const SERVICE: &str = "gocred";
/// The user name of the index entry (scope keys always contain `://`, so never clash with it).
const INDEX_USER: &str = "gocred:index";
/// The lock file's name in [`crate::paths::lock_dir`].
const LOCK_FILE: &str = "keychain.lock";

pub struct Keychain {
    backend: KeychainBackend,
    /// The store, once the first call opened it; `Err` holds the Unavailable message.
    opened: OnceLock<Result<Opened, String>>,
    /// Where the store/erase lock lives, when not in the runtime directory (tests).
    lock_path: Option<PathBuf>,
}

impl Keychain {
    /// Connects to nothing yet: the backend is chosen on first use.
    pub fn new(backend: KeychainBackend) -> Self {
        Keychain {
            backend,
            opened: OnceLock::new(),
            lock_path: None,
        }
    }

    fn opened(&self) -> Result<&Opened, SourceError> {
        self.opened
            .get_or_init(|| backend::open(self.backend))
            .as_ref()
            .map_err(|message| SourceError::Unavailable(message.clone()))
    }

    /// `keychain (keyutils)`, or `keychain (auto: keyutils)`: who says what follows.
    fn who(&self, opened: &Opened) -> String {
        self.who_kind(opened.kind)
    }

    fn who_kind(&self, kind: Kind) -> String {
        match self.backend {
            KeychainBackend::Auto => format!("keychain (auto: {})", kind.name()),
            _ => format!("keychain ({})", kind.name()),
        }
    }

    /// The store/erase lock. Taken before the keychain may be opened, so its messages name the
    /// configured backend (`keychain (auto)`), not the one it resolved to.
    fn lock(&self) -> Result<std::fs::File, SourceError> {
        let who = format!("keychain ({})", self.backend.name());
        let path = match &self.lock_path {
            Some(p) => p.clone(),
            // One per user whatever the caller's environment (XDG_RUNTIME_DIR, HOME).
            None => crate::paths::lock_dir()
                .map_err(|e| SourceError::Fatal(format!("{who}: {e}")))?
                .join(LOCK_FILE),
        };
        crate::fs::lock_exclusive(&path)
            .map_err(|e| SourceError::Fatal(format!("{who}: cannot lock {}: {e}", path.display())))
    }

    fn entry(&self, opened: &Opened, user: &str) -> Result<Entry, SourceError> {
        let label = if user == INDEX_USER {
            "gocred: index of stored scopes".to_owned()
        } else {
            format!("gocred: {user}")
        };
        opened
            .entry(user, &label)
            .map_err(|e| self.error(opened, user, e))
    }

    /// The secret of `entry` (user name `user`), `None` when there is no such entry.
    fn read(
        &self,
        opened: &Opened,
        entry: &Entry,
        user: &str,
    ) -> Result<Option<SecretBytes>, SourceError> {
        match entry.get_secret() {
            Ok(bytes) => Ok(Some(SecretBytes(bytes))),
            Err(KeyringError::NoEntry) => Ok(None),
            Err(e) => Err(self.error(opened, user, e)),
        }
    }

    fn write(
        &self,
        opened: &Opened,
        entry: &Entry,
        user: &str,
        bytes: &[u8],
    ) -> Result<(), SourceError> {
        entry
            .set_secret(bytes)
            .map_err(|e| self.error(opened, user, e))
    }

    /// Deletes `entry`; one that is already gone is fine.
    fn delete(&self, opened: &Opened, entry: &Entry, user: &str) -> Result<(), SourceError> {
        match entry.delete_credential() {
            Ok(()) | Err(KeyringError::NoEntry) => Ok(()),
            Err(e) => Err(self.error(opened, user, e)),
        }
    }

    /// Every record filed under `scope` (none when there is no entry).
    fn records(
        &self,
        opened: &Opened,
        entry: &Entry,
        scope: &ScopeKey,
    ) -> Result<Vec<Record>, SourceError> {
        let Some(bytes) = self.read(opened, entry, scope.as_str())? else {
            return Ok(Vec::new());
        };
        self.decode(opened.kind, &bytes, scope)
    }

    /// The records in the secret of `scope`'s entry, read from a `kind` keychain.
    fn decode(
        &self,
        kind: Kind,
        bytes: &SecretBytes,
        scope: &ScopeKey,
    ) -> Result<Vec<Record>, SourceError> {
        let records = record::decode(&bytes.0)
            .map_err(|e| self.corrupt_in(kind, scope.as_str(), &e.to_string()))?;
        if records.iter().any(|r| r.scope != *scope) {
            return Err(self.corrupt_in(
                kind,
                scope.as_str(),
                "it holds a credential filed under another scope",
            ));
        }
        Ok(records)
    }

    /// `get` on the Secret Service's hit path ([`secret_service::lookup`]): `Some` when it
    /// decided (a hit, or a service that stopped answering), `None` to take the store's path;
    /// a Secret Service it found unusable is recorded as the store's `open` would have.
    #[cfg(target_os = "linux")]
    fn secret_service_hit(
        &self,
        query: &Query<'_>,
    ) -> Option<Result<Option<Credential>, SourceError>> {
        use secret_service::Lookup;
        let start_if_needed = match self.backend {
            KeychainBackend::Auto => false,
            KeychainBackend::SecretService => true,
            _ => return None,
        };
        if self.opened.get().is_some() {
            return None;
        }
        let first_answer = if start_if_needed {
            backend::DEADLINE
        } else {
            backend::AUTO_FIRST_ANSWER
        };
        match secret_service::lookup(
            start_if_needed,
            first_answer,
            backend::DEADLINE,
            SERVICE,
            query.scope.as_str(),
        ) {
            Lookup::Hit(bytes) => Some(
                self.decode(Kind::SecretService, &bytes, query.scope)
                    .map(|records| select(&records, query).map(|r| r.cred.clone())),
            ),
            Lookup::Stalled(problem) => Some(Err(SourceError::Unavailable(format!(
                "{}: {}; {}",
                self.who_kind(Kind::SecretService),
                problem.what(),
                problem.fix()
            )))),
            Lookup::Unusable(problem) => {
                // Nothing else has set it: this is the first use.
                let _ = self.opened.set(backend::unusable(self.backend, problem));
                None
            }
            Lookup::Undecided => None,
        }
    }

    fn index(&self, opened: &Opened, entry: &Entry) -> Result<Vec<String>, SourceError> {
        let Some(bytes) = self.read(opened, entry, INDEX_USER)? else {
            return Ok(Vec::new());
        };
        let text = std::str::from_utf8(&bytes.0)
            .map_err(|_| self.corrupt(opened, INDEX_USER, "it is not UTF-8"))?;
        Ok(text
            .split('\n')
            .filter(|l| !l.is_empty())
            .map(str::to_owned)
            .collect())
    }

    /// Adds or removes `scope` in the index; the caller holds the lock.
    fn update_index(
        &self,
        opened: &Opened,
        scope: &ScopeKey,
        present: bool,
    ) -> Result<(), SourceError> {
        let entry = self.entry(opened, INDEX_USER)?;
        let mut scopes = self.index(opened, &entry)?;
        let listed = scopes.iter().any(|s| s == scope.as_str());
        if listed == present {
            return Ok(());
        }
        if present {
            scopes.push(scope.as_str().to_owned());
        } else {
            scopes.retain(|s| s != scope.as_str());
        }
        if scopes.is_empty() {
            // keyutils cannot hold an empty key.
            self.delete(opened, &entry, INDEX_USER)
        } else {
            let mut text = scopes.join("\n");
            text.push('\n');
            self.write(opened, &entry, INDEX_USER, text.as_bytes())
        }
    }

    fn corrupt(&self, opened: &Opened, user: &str, why: &str) -> SourceError {
        self.corrupt_in(opened.kind, user, why)
    }

    fn corrupt_in(&self, kind: Kind, user: &str, why: &str) -> SourceError {
        SourceError::Fatal(format!(
            "{}: the entry for {user} is corrupt ({why}); remove it with {} and store the credential again",
            self.who_kind(kind),
            kind.removal(user)
        ))
    }

    /// A keyring-core error about the entry with user name `user`, in words that hold no secret.
    fn error(&self, opened: &Opened, user: &str, error: KeyringError) -> SourceError {
        let who = self.who(opened);
        let kind = opened.kind;
        match error {
            KeyringError::NoStorageAccess(_) => {
                let what = match (kind, &opened.passed_over) {
                    (Kind::SecretService, _) => {
                        "the Secret Service refused access (the login keyring is locked, or there is none)"
                            .to_owned()
                    }
                    (Kind::Keyutils, Some(why)) => format!(
                        "no usable Secret Service ({why}), and kernel keyutils refused access"
                    ),
                    (Kind::Keyutils, None) => "kernel keyutils refused access".to_owned(),
                    _ => "the keychain refused access".to_owned(),
                };
                SourceError::Unavailable(format!("{who}: {what}; {}", kind.access_fix()))
            }
            KeyringError::PlatformFailure(_) => SourceError::Unavailable(format!(
                "{who}: reading or writing the entry for {user} failed ({}); try again, or use \
                 the file store for this host",
                platform_detail(kind, &error)
            )),
            KeyringError::BadEncoding(_) => self.corrupt(opened, user, "it is not UTF-8"),
            KeyringError::BadDataFormat(_, _) => {
                self.corrupt(opened, user, "the store cannot decode it")
            }
            KeyringError::Ambiguous(items) => SourceError::Fatal(format!(
                "{who}: {} items match the entry for {user}; remove them with {} and store the credential again",
                items.len(),
                kind.removal(user)
            )),
            KeyringError::TooLong(attribute, limit) => SourceError::Fatal(format!(
                "{who}: the entry for {user} is too long for this keychain ({attribute} is limited to {limit}); \
                 erase credentials you no longer use, or use the file store for this host"
            )),
            KeyringError::Invalid(attribute, reason) => SourceError::Fatal(format!(
                "{who}: the keychain refused the entry for {user} ({attribute}: {reason})"
            )),
            KeyringError::BadStoreFormat(_) => SourceError::Fatal(format!(
                "{who}: the keychain itself is damaged; repair it with the platform's keychain tool, or use the file store"
            )),
            KeyringError::NoEntry
            | KeyringError::NoDefaultStore
            | KeyringError::NotSupportedByStore(_) => SourceError::Fatal(format!(
                "{who}: BUG: unexpected answer for the entry for {user}"
            )),
            _ => SourceError::Unavailable(format!(
                "{who}: unexpected error for the entry for {user}; {}",
                kind.access_fix()
            )),
        }
    }
}

/// What a store's own error says, as far as it can hold no secret: errno-style names for
/// keyutils and the native stores, D-Bus error names for the Secret Service.
fn platform_detail(kind: Kind, error: &KeyringError) -> String {
    let inner = match error {
        KeyringError::PlatformFailure(inner) | KeyringError::NoStorageAccess(inner) => inner,
        _ => return "unexpected error".to_owned(),
    };
    match kind {
        Kind::SecretService => {
            #[cfg(target_os = "linux")]
            {
                let mut cur: Option<&(dyn std::error::Error + 'static)> = Some(&**inner);
                while let Some(err) = cur {
                    if let Some(z) = err.downcast_ref::<zbus::Error>() {
                        return secret_service::error_name(z);
                    }
                    cur = err.source();
                }
            }
            "Secret Service error".to_owned()
        }
        // keyutils errors are errno names; macOS and Windows ones are status codes.
        _ => inner.to_string(),
    }
}

impl Source for Keychain {
    fn name(&self) -> &'static str {
        "keychain"
    }

    fn get(&self, query: &Query<'_>) -> Result<Option<Credential>, SourceError> {
        #[cfg(target_os = "linux")]
        if let Some(decided) = self.secret_service_hit(query) {
            return decided;
        }
        let opened = self.opened()?;
        let entry = self.entry(opened, query.scope.as_str())?;
        let records = self.records(opened, &entry, query.scope)?;
        Ok(select(&records, query).map(|r| r.cred.clone()))
    }
}

impl Store for Keychain {
    fn store_record(&self, record: Record) -> Result<(), SourceError> {
        // Before opening: one storing process at a time talks to the keyring (module doc).
        let _lock = self.lock()?;
        let opened = self.opened()?;
        let scope = record.scope.clone();
        let entry = self.entry(opened, scope.as_str())?;
        let mut records = self.records(opened, &entry, &scope)?;
        // git stores after every successful request: don't write to change nothing.
        if !upsert(&mut records, record) {
            return Ok(());
        }
        let encoded = record::encode(&records).map_err(|e| {
            SourceError::Fatal(format!(
                "{}: cannot store the credential for {scope}: {e}",
                self.who(opened)
            ))
        })?;
        // Index first: an index line without an entry is harmless (list skips it), an entry
        // without an index line would be invisible to `gocred status`.
        self.update_index(opened, &scope, true)?;
        self.write(opened, &entry, scope.as_str(), encoded.as_bytes())
    }

    fn erase_matching(&self, want: &Want<'_>) -> Result<usize, SourceError> {
        let opened = self.opened()?;
        let scope = want.scope;
        let entry = self.entry(opened, scope.as_str())?;
        let matches = |records: &[Record]| records.iter().any(|r| erase_matches(r, want));
        // Nothing to erase (the usual case after a failed fill): no lock, no write.
        if !matches(&self.records(opened, &entry, scope)?) {
            return Ok(0);
        }
        let _lock = self.lock()?;
        let mut records = self.records(opened, &entry, scope)?;
        let before = records.len();
        records.retain(|r| !erase_matches(r, want));
        let erased = before - records.len();
        if erased == 0 {
            return Ok(0);
        }
        if records.is_empty() {
            self.delete(opened, &entry, scope.as_str())?;
            self.update_index(opened, scope, false)?;
        } else {
            let encoded = record::encode(&records).map_err(|e| {
                SourceError::Fatal(format!(
                    "{}: cannot rewrite the entry for {scope}: {e}",
                    self.who(opened)
                ))
            })?;
            self.write(opened, &entry, scope.as_str(), encoded.as_bytes())?;
        }
        Ok(erased)
    }

    fn list(&self) -> Result<Vec<StoredInfo>, SourceError> {
        let opened = self.opened()?;
        let index = self.entry(opened, INDEX_USER)?;
        let mut infos = Vec::new();
        for scope in self.index(opened, &index)? {
            let scope = ScopeKey(scope);
            let entry = self.entry(opened, scope.as_str())?;
            // A scope whose entry is gone (an interrupted erase) lists nothing; one that cannot
            // be read is listed as such, and does not hide the others.
            match self.records(opened, &entry, &scope) {
                Ok(records) => infos.extend(records.iter().map(Record::info)),
                Err(SourceError::Fatal(problem)) => infos.push(StoredInfo {
                    scope,
                    username: String::new(),
                    password_expiry_utc: None,
                    has_refresh_token: false,
                    problem: Some(problem),
                }),
                Err(e) => return Err(e),
            }
        }
        Ok(infos)
    }

    fn location(&self) -> String {
        match self.opened.get() {
            Some(Ok(opened)) => opened.kind.location().to_owned(),
            _ => format!("keychain ({})", self.backend.name()),
        }
    }
}
