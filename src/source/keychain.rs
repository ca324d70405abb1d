//! The OS keychain through keyring-core. (Placeholder: the backends arrive in the next commit.)

use super::{Credential, Query, Source, SourceError, Store, StoredInfo};
use crate::policy::{KeychainBackend, ScopeKey};
use crate::secret::Secret;

pub struct Keychain {
    backend: KeychainBackend,
}

impl Keychain {
    /// Connects to nothing yet: the backend is chosen on first use.
    pub fn new(backend: KeychainBackend) -> Self {
        Keychain { backend }
    }

    fn unavailable(&self) -> SourceError {
        SourceError::Unavailable(format!(
            "keychain backend {} is not implemented yet",
            self.backend.name()
        ))
    }
}

impl Source for Keychain {
    fn name(&self) -> &'static str {
        "keychain"
    }

    fn get(&self, _query: &Query<'_>) -> Result<Option<Credential>, SourceError> {
        Err(self.unavailable())
    }
}

impl Store for Keychain {
    fn store(&self, _scope: &ScopeKey, _cred: Credential) -> Result<(), SourceError> {
        Err(self.unavailable())
    }

    fn erase(
        &self,
        _scope: &ScopeKey,
        _username: Option<&str>,
        _password: Option<&Secret>,
    ) -> Result<usize, SourceError> {
        Err(self.unavailable())
    }

    fn list(&self) -> Result<Vec<StoredInfo>, SourceError> {
        Err(self.unavailable())
    }

    fn location(&self) -> String {
        format!("keychain ({})", self.backend.name())
    }
}
