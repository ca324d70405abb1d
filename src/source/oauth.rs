//! The `oauth` source: the token `gocred login` stored, refreshed when it has expired.
//!
//! Tokens live in the rule's `store` (the keychain unless the rule says `file`), one entry per
//! rule and host: the key is the request's `scheme://host[:port]` plus the rule's own path
//! prefix, whatever repository git asks about ([`token_scope`]). The user name is the rule's
//! `username`, else the provider's convention ([`crate::oauth::default_username`]).
//!
//! A token that expires within the margin (60 s, or `GOCRED_OAUTH_REFRESH_MARGIN` seconds) is
//! refreshed first, under an exclusive lock file per key in [`crate::paths::lock_dir`] (one per
//! user, whatever the caller's environment): the first process refreshes and stores, the others
//! wait for the lock (a bounded time), read the stored token again and find it fresh. So any
//! number of concurrent git processes send one refresh request, which matters because servers
//! rotate refresh tokens and treat a reused one as theft.
//!
//! Nothing is lost to a passing failure: only an explicit refusal of the refresh token
//! (`invalid_grant`, GitHub's `bad_refresh_token`: [`crate::oauth::OAuthError::is_refusal`])
//! erases it, and only if the store still holds the very token that was refused. Any other
//! failure (HTTP 429 or 5xx, `temporarily_unavailable`, `slow_down`, a timeout, a reset
//! connection) keeps it: git gets the current access token while it is still valid (with a
//! one-line note), else nothing and one line naming the host and saying gocred will retry.
//! Nothing here ever starts a device flow: `get` must never wait on a human.
//!
//! The refresh token is never given to git: gocred refreshes by itself, and git would only hand
//! it to its other helpers' `store`.

use super::{Credential, Query, Source, SourceError, Store, file::FileStore, keychain::Keychain};
use crate::net::{Net, Options};
use crate::oauth::{Client, default_username};
use crate::policy::{KeychainBackend, OAuthConfig, Rule, ScopeKey, SourceKind};
use crate::secret::Secret;
use std::path::PathBuf;

/// Refresh when the token has less than this left (clock skew, a long git operation).
const DEFAULT_MARGIN: u64 = 60;

/// The key OAuth tokens of `rule` are filed under, for a request whose scope key is `scope`:
/// the request's origin plus the rule's path prefix (one login per host and rule, not per
/// repository).
pub fn token_scope(rule: &Rule, scope: &ScopeKey) -> ScopeKey {
    let s = scope.as_str();
    let origin_end = s
        .find("://")
        .map(|i| i + 3)
        .and_then(|start| s[start..].find('/').map(|j| start + j))
        .unwrap_or(s.len());
    let mut key = s[..origin_end].to_owned();
    if let Some(prefix) = &rule.pattern.path {
        key.push('/');
        key.push_str(prefix);
    }
    ScopeKey(key)
}

/// The user name git sends with the token.
pub fn username(rule: &Rule, config: &OAuthConfig) -> String {
    rule.username
        .clone()
        .unwrap_or_else(|| default_username(config.provider).to_owned())
}

/// `scheme://host[:port]` of a token key.
pub fn origin(key: &ScopeKey) -> &str {
    let s = key.as_str();
    let start = s.find("://").map_or(0, |i| i + 3);
    s[start..].find('/').map_or(s, |j| &s[..start + j])
}

/// The file a refresh of `key` is serialized on.
pub fn lock_path(dir: &std::path::Path, key: &ScopeKey) -> PathBuf {
    // FNV-1a: a stable, file-name-safe name per key; a collision only shares a lock.
    let mut hash: u64 = 0xcbf2_9ce4_8422_2325;
    for b in key.as_str().bytes() {
        hash ^= u64::from(b);
        hash = hash.wrapping_mul(0x0100_0000_01b3);
    }
    dir.join(format!("oauth-{hash:016x}.lock"))
}

/// Takes the exclusive lock at `path`, waiting at most `wait` (on a thread: a holder that is
/// stopped or stuck must not hold git up forever; a lock taken after we gave up is released at
/// once, as the guard drops with the message). `Err(None)`: still held after `wait`.
pub fn take_lock(
    path: &std::path::Path,
    wait: std::time::Duration,
) -> Result<std::fs::File, Option<std::io::Error>> {
    let (tx, rx) = std::sync::mpsc::sync_channel(1);
    let taking = path.to_owned();
    std::thread::Builder::new()
        .name("gocred-refresh-lock".into())
        .spawn(move || {
            let _ = tx.send(crate::fs::lock_exclusive(&taking));
        })
        .map_err(Some)?;
    match rx.recv_timeout(wait) {
        Ok(result) => result.map_err(Some),
        Err(_) => Err(None),
    }
}

/// Seconds of validity below which a token is refreshed first.
pub fn margin(env: &dyn Fn(&str) -> Option<String>) -> u64 {
    env("GOCRED_OAUTH_REFRESH_MARGIN")
        .and_then(|v| v.trim().parse().ok())
        .unwrap_or(DEFAULT_MARGIN)
}

/// How long to wait for another process's refresh: what its two requests (discovery, refresh)
/// may take, plus time for its store calls.
fn lock_wait(env: &dyn Fn(&str) -> Option<String>) -> std::time::Duration {
    Options::from_env(env, false).timeout * 2 + std::time::Duration::from_secs(10)
}

/// The exclusive lock that makes one process of many do `doing` (refreshing, minting) for
/// `key`, waited for a bounded time ([`take_lock`]); `source` names who asks in messages. For
/// the sources that mint short-lived tokens (`github-app`, `sts`).
pub fn lock_for(
    lock_dir: Option<&std::path::Path>,
    key: &ScopeKey,
    env: &dyn Fn(&str) -> Option<String>,
    source: &str,
    doing: &str,
) -> Result<std::fs::File, SourceError> {
    let dir = match lock_dir {
        Some(dir) => dir.to_owned(),
        // One per user whatever the caller's environment (XDG_RUNTIME_DIR, HOME).
        None => {
            crate::paths::lock_dir().map_err(|e| SourceError::Fatal(format!("{source}: {e}")))?
        }
    };
    let path = lock_path(&dir, key);
    let wait = lock_wait(env);
    match take_lock(&path, wait) {
        Ok(file) => Ok(file),
        Err(Some(e)) => Err(SourceError::Fatal(format!(
            "{source}: cannot lock {}: {e}",
            path.display()
        ))),
        Err(None) => Err(SourceError::Unavailable(format!(
            "{source}: another gocred process has been {doing} the token for {key} for {} s \
             and still holds {}; see which with `fuser {}` (a stopped or hung one), or try \
             again",
            wait.as_secs(),
            path.display(),
            path.display()
        ))),
    }
}

/// A one-line note on stderr while git still gets an answer. Straight to stderr (a source has
/// no Context), so redacted here as the Context's filter would: a server's words are in it.
pub fn note(text: &str) {
    eprintln!("{}", crate::redact::shown(&format!("gocred: note: {text}")));
}

/// Whether `cred` can be handed to git as it is.
pub fn is_fresh(cred: &Credential, now: u64, margin: u64) -> bool {
    cred.password_expiry_utc
        .is_none_or(|t| t > now.saturating_add(margin))
}

pub struct OAuthSource<'e> {
    keychain_backend: KeychainBackend,
    file_path: Option<PathBuf>,
    env: &'e dyn Fn(&str) -> Option<String>,
    /// Where the refresh locks live, when not in the runtime directory (tests).
    lock_dir: Option<PathBuf>,
}

impl<'e> OAuthSource<'e> {
    /// Opens nothing: the store and the network are set up only when needed.
    pub fn new(
        keychain_backend: KeychainBackend,
        file_path: Option<PathBuf>,
        env: &'e dyn Fn(&str) -> Option<String>,
    ) -> Self {
        OAuthSource {
            keychain_backend,
            file_path,
            env,
            lock_dir: None,
        }
    }

    /// The store holding the tokens of a rule with `config`.
    pub fn store(&self, config: &OAuthConfig) -> Result<Box<dyn Store>, SourceError> {
        Ok(match config.store {
            SourceKind::File => Box::new(FileStore::new(self.file_path.clone().ok_or_else(
                || {
                    SourceError::Fatal(
                        "cannot tell where the file store lives: set [file] path in the config, or HOME"
                            .into(),
                    )
                },
            )?)),
            _ => Box::new(Keychain::new(self.keychain_backend)),
        })
    }

    /// The stored token for `key` and `user`, expired or not.
    pub fn read(
        &self,
        store: &dyn Store,
        rule: &Rule,
        key: &ScopeKey,
        user: &str,
    ) -> Result<Option<Credential>, SourceError> {
        store.get(&Query {
            scope: key,
            rule,
            path: None,
            username: Some(user),
            now: 0, // expired entries too: they hold the refresh token
        })
    }

    fn lock(&self, key: &ScopeKey) -> Result<std::fs::File, SourceError> {
        let dir = match &self.lock_dir {
            Some(dir) => dir.clone(),
            // One per user whatever the caller's environment (XDG_RUNTIME_DIR, HOME).
            None => {
                crate::paths::lock_dir().map_err(|e| SourceError::Fatal(format!("oauth: {e}")))?
            }
        };
        let path = lock_path(&dir, key);
        // The holder is bounded (its requests time out, its store calls too), but a holder that
        // is stopped or stuck must not hold git up forever: wait on a thread, for a while. A
        // lock taken after we gave up is released at once (the guard drops with the message).
        let wait = lock_wait(self.env);
        match take_lock(&path, wait) {
            Ok(file) => Ok(file),
            Err(Some(e)) => Err(SourceError::Fatal(format!(
                "oauth: cannot lock {}: {e}",
                path.display()
            ))),
            Err(None) => Err(SourceError::Unavailable(format!(
                "oauth: another gocred process has been refreshing the token for {key} for {} s \
                 and still holds {}; see which with `fuser {}` (a stopped or hung one), or try \
                 again",
                wait.as_secs(),
                path.display(),
                path.display()
            ))),
        }
    }

    /// Refreshes the token under `key` unless another process already did; the caller found it
    /// stale (`seen`).
    fn refresh(
        &self,
        store: &dyn Store,
        rule: &Rule,
        config: &OAuthConfig,
        key: &ScopeKey,
        user: &str,
        seen: &Credential,
    ) -> Result<Credential, SourceError> {
        let _lock = match self.lock(key) {
            Ok(lock) => lock,
            // Another process holds the refresh too long: the token git has is still good.
            Err(SourceError::Unavailable(why)) if is_fresh(seen, super::now(), 0) => {
                note(&format!("{why}; using the current token until it expires"));
                return Ok(seen.clone());
            }
            Err(e) => return Err(e),
        };
        let login = || format!("run `gocred login {key}`");
        let Some(cred) = self.read(store, rule, key, user)? else {
            return Err(SourceError::Unavailable(format!(
                "oauth: the token for {key} was erased meanwhile; {}",
                login()
            )));
        };
        let margin = margin(self.env);
        if is_fresh(&cred, super::now(), margin) {
            return Ok(cred); // another process refreshed it while we waited for the lock
        }
        let Some(refresh_token) = cred.oauth_refresh_token.clone() else {
            return Err(SourceError::Unavailable(format!(
                "oauth: the token for {key} has expired and no refresh token is held; {}",
                login()
            )));
        };
        let net = Net::new(Options::from_env(self.env, rule.allow_http), self.env);
        let result = Client::new(&net, config, origin(key))
            .and_then(|client| client.refresh(&refresh_token, super::now()));
        match result {
            Ok(tokens) => {
                let fresh = Credential {
                    username: user.to_owned(),
                    password: tokens.access_token,
                    password_expiry_utc: tokens.expires_at,
                    // Rotate when the server sent a new one, else keep ours.
                    oauth_refresh_token: Some(tokens.refresh_token.unwrap_or(refresh_token)),
                };
                store.store(key, fresh.clone())?;
                Ok(fresh)
            }
            Err(e) if e.is_refusal() => self.refused(store, rule, key, user, &cred, &e),
            // Anything else may pass (an outage, a rate limit, a timeout, a proxy's page): the
            // refresh token stays, and git gets the current token while it is still valid.
            Err(e) if is_fresh(&cred, super::now(), 0) => {
                note(&format!(
                    "oauth: cannot refresh the token for {key} now ({e}); using the current one \
                     until it expires, and will retry on the next request"
                ));
                Ok(cred)
            }
            Err(e) => Err(SourceError::Unavailable(format!(
                "oauth: cannot refresh the token for {key} now: {e}; the refresh token is kept and \
                 gocred will retry on the next request"
            ))),
        }
    }

    /// The server refused `cred`'s refresh token for good: erase that token, and only that one.
    /// The caller holds the refresh lock, so no other refresh ran meanwhile; `gocred login`
    /// stores without it, so the entry is read again, and `erase` with the refused access token
    /// removes an entry only if it still holds that token (checked under the store's own lock).
    fn refused(
        &self,
        store: &dyn Store,
        rule: &Rule,
        key: &ScopeKey,
        user: &str,
        cred: &Credential,
        e: &crate::oauth::OAuthError,
    ) -> Result<Credential, SourceError> {
        let login = format!("run `gocred login {key}`");
        let same = |now: &Credential| {
            now.password.expose() == cred.password.expose()
                && now.oauth_refresh_token.as_ref().map(Secret::expose)
                    == cred.oauth_refresh_token.as_ref().map(Secret::expose)
        };
        match self.read(store, rule, key, user)? {
            Some(now) if same(&now) => {
                store.erase(key, Some(user), Some(&cred.password))?;
                Err(SourceError::Unavailable(format!(
                    "oauth: {e}; the dead token for {key} is erased, {login}"
                )))
            }
            // A new login replaced it while the server was refusing the old one.
            Some(now) if is_fresh(&now, super::now(), margin(self.env)) => Ok(now),
            None => Err(SourceError::Unavailable(format!(
                "oauth: {e}; the token for {key} is gone already, {login}"
            ))),
            Some(_) => Err(SourceError::Unavailable(format!(
                "oauth: {e}; the token for {key} changed meanwhile and was kept, {login} if it \
                 does not work"
            ))),
        }
    }

    /// git says the server rejected `password` (`erase` after a 401): if it is the stored access
    /// token, mark it expired so that the next `get` refreshes it (the server's clock may run
    /// ahead, or it revoked the access token alone). Without a refresh token it is erased.
    pub fn rejected(
        &self,
        rule: &Rule,
        scope: &ScopeKey,
        password: Option<&Secret>,
    ) -> Result<(), SourceError> {
        let Some(config) = &rule.oauth else {
            return Ok(());
        };
        let Some(password) = password else {
            return Ok(()); // "forget everything" is `gocred logout`'s job
        };
        let store = self.store(config)?;
        let key = token_scope(rule, scope);
        let user = username(rule, config);
        let Some(cred) = self.read(&*store, rule, &key, &user)? else {
            return Ok(());
        };
        if cred.password.expose() != password.expose() {
            return Ok(()); // already replaced
        }
        if cred.oauth_refresh_token.is_none() {
            store.erase(&key, Some(&user), Some(password))?;
            return Ok(());
        }
        let _lock = self.lock(&key)?;
        if let Some(cred) = self.read(&*store, rule, &key, &user)?
            && cred.password.expose() == password.expose()
        {
            store.store(
                &key,
                Credential {
                    password_expiry_utc: Some(1),
                    ..cred
                },
            )?;
        }
        Ok(())
    }
}

impl Source for OAuthSource<'_> {
    fn name(&self) -> &'static str {
        "oauth"
    }

    fn get(&self, query: &Query<'_>) -> Result<Option<Credential>, SourceError> {
        let rule = query.rule;
        let Some(config) = &rule.oauth else {
            return Ok(None);
        };
        let user = username(rule, config);
        if query.username.is_some_and(|asked| asked != user) {
            return Ok(None);
        }
        let key = token_scope(rule, query.scope);
        let store = self.store(config)?;
        let Some(cred) = self.read(&*store, rule, &key, &user)? else {
            return Err(SourceError::Unavailable(format!(
                "oauth: no token for {key} yet; run `gocred login {key}`"
            )));
        };
        if is_fresh(&cred, query.now, margin(self.env)) {
            return Ok(Some(cred));
        }
        self.refresh(&*store, rule, config, &key, &user, &cred)
            .map(Some)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::policy::load_str;

    fn rule(url: &str) -> Rule {
        let toml = format!(
            "[[rule]]\nurl = \"{url}\"\nsources = [\"oauth\"]\n[rule.oauth]\nprovider = \"gitlab\"\nclient_id = \"x\"\n"
        );
        load_str(std::path::Path::new("/c.toml"), &toml)
            .unwrap()
            .rules
            .remove(0)
    }

    #[test]
    fn one_token_per_host_and_rule_prefix_not_per_repository() {
        let host = rule("https://gl.example");
        assert_eq!(
            token_scope(&host, &ScopeKey("https://gl.example:8443".into())).0,
            "https://gl.example:8443"
        );
        let team = rule("https://gl.example/team/");
        assert_eq!(
            token_scope(
                &team,
                &ScopeKey("https://gl.example/team/sub/repo.git".into())
            )
            .0,
            "https://gl.example/team"
        );
        assert_eq!(
            origin(&ScopeKey("https://gl.example/team".into())),
            "https://gl.example"
        );
        assert_eq!(
            origin(&ScopeKey("https://gl.example".into())),
            "https://gl.example"
        );
    }

    #[test]
    fn freshness_keeps_a_margin() {
        let cred = |t| Credential {
            username: "oauth2".into(),
            password: Secret::from("t"),
            password_expiry_utc: t,
            oauth_refresh_token: None,
        };
        assert!(is_fresh(&cred(None), 1_000, 60));
        assert!(is_fresh(&cred(Some(1_061)), 1_000, 60));
        assert!(!is_fresh(&cred(Some(1_060)), 1_000, 60));
        assert!(!is_fresh(&cred(Some(1)), 1_000, 0));
        assert_eq!(margin(&|_| Some("5".into())), 5);
        assert_eq!(margin(&|_| None), 60);
    }

    #[test]
    fn lock_names_are_stable_and_distinct() {
        let dir = std::path::Path::new("/run/gocred");
        let a = lock_path(dir, &ScopeKey("https://a.example".into()));
        assert_eq!(a, lock_path(dir, &ScopeKey("https://a.example".into())));
        assert_ne!(a, lock_path(dir, &ScopeKey("https://b.example".into())));
        assert!(
            a.file_name()
                .unwrap()
                .to_str()
                .unwrap()
                .starts_with("oauth-")
        );
    }
}
