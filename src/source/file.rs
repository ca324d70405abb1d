//! The opt-in plaintext `file` store, for machines with neither a keychain nor persistent
//! keyutils. Mode 0600, written atomically under an exclusive lock, and never read when group or
//! others could read or write it.

use super::{
    Credential, Query, Record, Source, SourceError, Store, StoredInfo, erase_matches, record,
    select, upsert,
};
use crate::fs::{lock_exclusive, loose_mode, write_private_atomic};
use crate::policy::ScopeKey;
use crate::secret::{Secret, SecretBytes};
use std::io::Read;
use std::path::{Path, PathBuf};

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
        let mut file = match std::fs::File::open(&self.path) {
            Ok(f) => f,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
            Err(e) => return Err(self.fatal(e)),
        };
        let meta = file.metadata().map_err(|e| self.fatal(e))?;
        if let Some(mode) = loose_mode(&meta) {
            return Err(self.fatal(format_args!(
                "mode {mode:04o} lets other users read or change it; run `chmod 600 {}`",
                self.path.display()
            )));
        }
        let mut bytes = SecretBytes::default();
        file.read_to_end(&mut bytes.0).map_err(|e| self.fatal(e))?;
        record::decode(&bytes.0)
            .map_err(|e| self.fatal(format_args!("{e}; fix or remove the file")))
    }

    fn modify<T>(&self, change: impl FnOnce(&mut Vec<Record>) -> T) -> Result<T, SourceError> {
        let _lock = lock_exclusive(&self.lock_path())
            .map_err(|e| self.fatal(format_args!("cannot lock: {e}")))?;
        let mut records = self.read_all()?;
        let result = change(&mut records);
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
    fn store(&self, scope: &ScopeKey, cred: Credential) -> Result<(), SourceError> {
        self.modify(|records| {
            upsert(
                records,
                Record {
                    scope: scope.clone(),
                    cred,
                },
            )
        })
    }

    fn erase(
        &self,
        scope: &ScopeKey,
        username: Option<&str>,
        password: Option<&Secret>,
    ) -> Result<usize, SourceError> {
        // Don't rewrite (or create) the file when nothing matches.
        if !self
            .read_all()?
            .iter()
            .any(|r| erase_matches(r, scope, username, password))
        {
            return Ok(0);
        }
        self.modify(|records| {
            let before = records.len();
            records.retain(|r| !erase_matches(r, scope, username, password));
            before - records.len()
        })
    }

    fn list(&self) -> Result<Vec<StoredInfo>, SourceError> {
        Ok(self.read_all()?.iter().map(Record::info).collect())
    }

    fn location(&self) -> String {
        format!("file {}", self.path.display())
    }
}
