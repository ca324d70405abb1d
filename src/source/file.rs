//! The opt-in plaintext `file` store, for machines with neither a keychain nor persistent
//! keyutils. Mode 0600, written atomically under an exclusive lock, and read only when it is a
//! regular file of bounded size that is ours alone: not a symlink, FIFO or device, not readable
//! or writable by group or others, not another user's, in a directory no other user can change.

use super::{
    Credential, Query, Record, Source, SourceError, Store, StoredInfo, Want, erase_matches, record,
    select, upsert,
};
use crate::fs::{
    check_trusted_dir, foreign_owner, lock_exclusive, loose_mode, read_regular,
    write_private_atomic,
};
use std::path::{Path, PathBuf};

/// The largest file store gocred reads: thousands of entries with JWT-sized tokens fit.
pub const MAX_FILE_STORE: u64 = 16 * 1024 * 1024;

pub struct FileStore {
    path: PathBuf,
}

impl FileStore {
    pub fn new(path: PathBuf) -> Self {
        FileStore { path }
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    fn lock_path(&self) -> PathBuf {
        let mut name = self
            .path
            .file_name()
            .map(|n| n.to_os_string())
            .unwrap_or_default();
        name.push(".lock");
        self.path.with_file_name(name)
    }

    fn fatal(&self, what: impl std::fmt::Display) -> SourceError {
        SourceError::Fatal(format!("file store {}: {what}", self.path.display()))
    }

    /// All records; a missing file is an empty store.
    pub fn read_all(&self) -> Result<Vec<Record>, SourceError> {
        if let Some(dir) = self.path.parent().filter(|d| !d.as_os_str().is_empty()) {
            check_trusted_dir(dir).map_err(|e| self.fatal(e))?;
        }
        let Some((bytes, meta)) =
            read_regular(&self.path, MAX_FILE_STORE).map_err(|e| self.fatal(e))?
        else {
            return Ok(Vec::new());
        };
        if let Some(mode) = loose_mode(&meta) {
            return Err(self.fatal(format_args!(
                "mode {mode:04o} lets other users read or change it; run `chmod 600 {}`",
                self.path.display()
            )));
        }
        if let Some(owner) = foreign_owner(&meta) {
            return Err(self.fatal(format_args!(
                "it belongs to another user (uid {owner}); remove it, or take it over with `chown \
                 $(id -u) {}` if you trust what it holds",
                self.path.display()
            )));
        }
        record::decode(&bytes.0)
            .map_err(|e| self.fatal(format_args!("{e}; fix or remove the file")))
    }

    /// Reads, changes and writes the records under the lock; `change` says whether it changed
    /// anything (if not, nothing is written).
    fn modify<T>(
        &self,
        change: impl FnOnce(&mut Vec<Record>) -> (T, bool),
    ) -> Result<T, SourceError> {
        let _lock = lock_exclusive(&self.lock_path())
            .map_err(|e| self.fatal(format_args!("cannot lock: {e}")))?;
        let mut records = self.read_all()?;
        let (result, changed) = change(&mut records);
        if !changed {
            return Ok(result);
        }
        let encoded = record::encode(&records).map_err(|e| self.fatal(e))?;
        write_private_atomic(&self.path, encoded.as_bytes()).map_err(|e| {
            self.fatal(format_args!(
                "cannot write ({e}); the previous contents are intact"
            ))
        })?;
        Ok(result)
    }
}

impl Source for FileStore {
    fn name(&self) -> &'static str {
        "file"
    }

    fn get(&self, query: &Query<'_>) -> Result<Option<Credential>, SourceError> {
        Ok(select(&self.read_all()?, query).map(|r| r.cred.clone()))
    }
}

impl Store for FileStore {
    fn store_record(&self, record: Record) -> Result<(), SourceError> {
        // git stores after every successful request: don't take the lock to change nothing.
        let mut records = self.read_all()?;
        if !upsert(&mut records, record.clone()) {
            return Ok(());
        }
        self.modify(|records| ((), upsert(records, record)))
    }

    fn erase_matching(&self, want: &Want<'_>) -> Result<usize, SourceError> {
        // Don't rewrite (or create) the file when nothing matches.
        if !self.read_all()?.iter().any(|r| erase_matches(r, want)) {
            return Ok(0);
        }
        self.modify(|records| {
            let before = records.len();
            records.retain(|r| !erase_matches(r, want));
            let erased = before - records.len();
            (erased, erased > 0)
        })
    }

    fn list(&self) -> Result<Vec<StoredInfo>, SourceError> {
        Ok(self.read_all()?.iter().map(Record::info).collect())
    }

    fn location(&self) -> String {
        format!("file {}", self.path.display())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::policy::ScopeKey;
    use crate::secret::Secret;
    use std::os::unix::fs::PermissionsExt;

    fn cred(user: &str, pass: &str) -> Credential {
        Credential {
            username: user.into(),
            password: Secret::from(pass),
            password_expiry_utc: None,
            oauth_refresh_token: None,
        }
    }

    #[test]
    fn refuses_to_read_a_file_others_can_read_and_says_how_to_fix_it() {
        let dir = tempfile::tempdir().unwrap();
        let store = FileStore::new(dir.path().join("credentials"));
        store
            .store(
                &ScopeKey("https://a.example".into()),
                cred("u", "SENTINEL-pw"),
            )
            .unwrap();
        std::fs::set_permissions(store.path(), std::fs::Permissions::from_mode(0o644)).unwrap();
        let e = store.read_all().unwrap_err().to_string();
        assert!(
            e.contains("mode 0644") && e.contains("chmod 600") && e.contains("credentials"),
            "{e}"
        );
        assert!(!e.contains("SENTINEL"));
        // Nothing is lost: a store attempt fails too, and the content is intact.
        assert!(
            store
                .store(&ScopeKey("https://b.example".into()), cred("v", "x"))
                .is_err()
        );
        std::fs::set_permissions(store.path(), std::fs::Permissions::from_mode(0o600)).unwrap();
        assert_eq!(store.read_all().unwrap().len(), 1);
    }

    #[test]
    fn a_corrupt_file_is_named_not_shown() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("credentials");
        std::fs::write(&path, "scope=https://a\nusername=u\nSENTINEL-no-equals\n").unwrap();
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o600)).unwrap();
        let e = FileStore::new(path).read_all().unwrap_err().to_string();
        assert!(
            e.contains("entry 1 is malformed") && !e.contains("SENTINEL"),
            "{e}"
        );
    }

    #[test]
    fn erase_of_nothing_creates_nothing() {
        let dir = tempfile::tempdir().unwrap();
        let store = FileStore::new(dir.path().join("credentials"));
        assert_eq!(
            store
                .erase(&ScopeKey("https://a.example".into()), None, None)
                .unwrap(),
            0
        );
        assert!(!store.path().exists());
    }
}
