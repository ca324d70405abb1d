//! Tokens minted on the machine (`github-app`, `sts`): kept in the rule's cache store until
//! shortly before they expire, and minted by one process at a time.
//!
//! The cache is a store like any other (the keychain unless the table says `cache = "file"`),
//! under the same key an `oauth` token of the rule would have ([`super::oauth::token_scope`]:
//! the request's origin plus the rule's path prefix), so `gocred status` shows it with the rule.
//! An entry of one GitHub App installation found from a repository's owner carries that owner
//! as its path (`installation/OWNER`), so one owner's token never answers for another's.
//!
//! Parallel gits: the first that finds no fresh token takes the rule's lock (the same lock
//! files as the OAuth refresh, [`super::oauth::lock_for`]), reads the cache again, mints only
//! if it is still stale, and stores; the others wait for the lock and find the fresh token. So
//! one mint (one `POST /app/installations/{id}/access_tokens`, one token exchange) serves any
//! number of concurrent gits. A cache that cannot work here (no keychain on a build machine)
//! costs a note and a mint per request, never the credential.

use super::oauth::{is_fresh, lock_for, note};
use super::{Credential, Query, Record, SourceError, Store, file::FileStore, keychain::Keychain};
use crate::policy::{KeychainBackend, MintCache, Rule, ScopeKey, SourceKind};
use std::path::PathBuf;

/// Where the cache stores live, as the `oauth` source is given them.
pub struct Stores<'e> {
    pub keychain_backend: KeychainBackend,
    pub file_path: Option<PathBuf>,
    pub env: &'e dyn Fn(&str) -> Option<String>,
    /// Where the locks live, when not in the runtime directory (tests).
    pub lock_dir: Option<PathBuf>,
}

/// One cache entry: the key, the path that tells installations apart, and the user name the
/// token is served with.
pub struct Slot<'a> {
    pub key: ScopeKey,
    pub path: Option<String>,
    pub user: &'a str,
}

impl Stores<'_> {
    fn store(&self, cache: MintCache) -> Result<Option<Box<dyn Store>>, SourceError> {
        Ok(match cache {
            MintCache::None => None,
            MintCache::Store(SourceKind::File) => Some(Box::new(FileStore::new(
                self.file_path.clone().ok_or_else(|| {
                    SourceError::Fatal(
                        "cannot tell where the file store lives: set [file] path in the \
                             config, or HOME"
                            .into(),
                    )
                })?,
            ))),
            MintCache::Store(_) => Some(Box::new(Keychain::new(self.keychain_backend))),
        })
    }

    /// The cached token of `slot` that has not expired yet, due or not.
    fn cached(
        store: &dyn Store,
        rule: &Rule,
        slot: &Slot<'_>,
    ) -> Result<Option<Credential>, SourceError> {
        store.get(&Query {
            scope: &slot.key,
            rule,
            path: slot.path.as_deref(),
            username: Some(slot.user),
            now: super::now(),
        })
    }

    /// The token of `slot`: the cached one while it has more than `margin` seconds left, else
    /// one from `mint` (once across processes), cached when `mint` says it may be (a token
    /// without an expiry is not).
    pub fn cached_or_mint(
        &self,
        source: &str,
        rule: &Rule,
        cache: MintCache,
        slot: &Slot<'_>,
        margin: u64,
        mint: impl FnOnce() -> Result<(Credential, bool), SourceError>,
    ) -> Result<Credential, SourceError> {
        let store = match self.store(cache) {
            Ok(store) => store,
            Err(e) => {
                note(&format!(
                    "{source}: no cache ({e}); minting a token for this request"
                ));
                None
            }
        };
        let Some(store) = store else {
            return mint().map(|(cred, _)| cred);
        };
        let hint = "set `cache = \"file\"` or `cache = \"none\"` in the rule's table";
        let due = |c: &Credential| !is_fresh(c, super::now(), margin);
        let seen = match Self::cached(&*store, rule, slot) {
            Ok(Some(cred)) if !due(&cred) => return Ok(cred),
            Ok(seen) => seen,
            Err(e) => {
                note(&format!(
                    "{source}: cannot read the cache ({e}); minting a token for this request \
                     ({hint})"
                ));
                return mint().map(|(cred, _)| cred);
            }
        };
        let _lock = match lock_for(
            self.lock_dir.as_deref(),
            &slot.key,
            self.env,
            source,
            "minting",
        ) {
            Ok(lock) => lock,
            // Another process holds the mint too long: the token git has still works.
            Err(SourceError::Unavailable(why)) if seen.is_some() => {
                note(&format!("{why}; using the cached token until it expires"));
                return Ok(seen.expect("BUG: checked above"));
            }
            Err(e) => return Err(e),
        };
        // Another process may have minted while we waited.
        let current = Self::cached(&*store, rule, slot).ok().flatten();
        if let Some(cred) = current.as_ref().filter(|c| !due(c)) {
            return Ok(cred.clone());
        }
        let (cred, keep) = match mint() {
            Ok(minted) => minted,
            // A passing failure (GitHub or the STS down, a rate limit) while the cached token
            // still works: git gets it, and the next request tries again.
            Err(SourceError::Unavailable(why)) if current.is_some() => {
                note(&format!("{why}; using the cached token until it expires"));
                return Ok(current.expect("BUG: checked above"));
            }
            Err(e) => return Err(e),
        };
        if keep {
            let record = Record::new(slot.key.clone(), slot.path.clone(), cred.clone());
            if let Err(e) = store.store_record(record) {
                note(&format!("{source}: cannot cache the token ({e}); {hint}"));
            }
        }
        Ok(cred)
    }
}

/// The store a rule's minted tokens are cached in, if any.
pub fn caches_in(rule: &Rule) -> Option<SourceKind> {
    let cache = match (&rule.github_app, &rule.sts) {
        (Some(app), _) => app.cache,
        (None, Some(sts)) => sts.cache,
        (None, None) => return None,
    };
    match cache {
        MintCache::Store(kind) => Some(kind),
        MintCache::None => None,
    }
}

/// What `gocred status` says of a rule's `github-app` or `sts` settings (never a secret): the
/// lines, and the JSON member (`github_app` or `sts`). The cached token itself is listed with
/// the rule's other stored entries.
pub fn status(
    rule: &Rule,
    env: &dyn Fn(&str) -> Option<String>,
) -> Option<(String, (&'static str, serde_json::Value))> {
    let mut text = String::new();
    let mut json = None;
    if let Some(app) = &rule.github_app {
        let key_state = match &app.private_key {
            crate::policy::KeyRef::File(path) => match std::fs::symlink_metadata(path) {
                Ok(meta) if !meta.is_file() => "not a regular file",
                Ok(meta) if crate::fs::loose_mode(&meta).is_some() => "readable by others: refused",
                Ok(_) => "present",
                Err(_) => "missing",
            },
            crate::policy::KeyRef::Command(_) => "printed by a program on each mint",
        };
        let key = super::github_app::key_origin(&app.private_key);
        let installation = app
            .installation_id
            .map_or("found from the repository".to_owned(), |id| id.to_string());
        text += &format!(
            "  github-app: app {}, installation {installation}, key {key} ({key_state}), tokens \
             cached in {}\n",
            app.app_id,
            app.cache.name()
        );
        json = Some((
            "github_app",
            serde_json::json!({
                "app_id": app.app_id,
                "installation_id": app.installation_id,
                "private_key_from": key,
                "private_key": key_state,
                "api_url": app.api_url,
                "repositories": app.repositories,
                "permissions": app.permissions.as_ref().map(|p| p.iter().map(|(k, v)| format!("{k}:{v}")).collect::<Vec<_>>()),
                "cache": app.cache.name(),
            }),
        ));
    }
    if let Some(sts) = &rule.sts {
        let from = super::sts::id_token_origin(sts, env);
        text += &format!(
            "  sts: ID token from {from}, exchanged at {}, tokens cached in {}\n",
            sts.token_endpoint,
            sts.cache.name()
        );
        json = Some((
            "sts",
            serde_json::json!({
                "token_endpoint": sts.token_endpoint,
                "audience": sts.audience,
                "id_token_env": sts.id_token_env,
                "id_token": from,
                "cache": sts.cache.name(),
            }),
        ));
    }
    json.map(|j| (text, j))
}

/// git says the server rejected `password` (`erase` after a 401): a cached minted token that
/// is this very password goes, so the next `get` mints a new one instead of serving a revoked
/// token until it expires. Nothing else is touched.
pub fn rejected(
    stores: &Stores<'_>,
    rule: &Rule,
    scope: &ScopeKey,
    password: Option<&crate::secret::Secret>,
) -> Result<(), SourceError> {
    let (Some(kind), Some(password)) = (caches_in(rule), password) else {
        return Ok(());
    };
    let store = stores
        .store(MintCache::Store(kind))?
        .ok_or_else(|| SourceError::Fatal("BUG: a cache store that is none".into()))?;
    let key = super::oauth::token_scope(rule, scope);
    store.erase_matching(&super::Want {
        scope: &key,
        path: None,
        username: None,
        password: Some(password),
    })?;
    Ok(())
}
