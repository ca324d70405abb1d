//! Which keychain answers: the keyring-core store behind `[keychain] backend`, opened on first
//! use. `auto` means the platform's keychain; on Linux, the Secret Service when a session bus
//! and an unlocked default collection answer quickly, else kernel keyutils.

use super::SERVICE;
use crate::policy::KeychainBackend;
use keyring_core::{CredentialStore, Entry};
use std::collections::HashMap;
use std::sync::Arc;

/// The `[keychain] backend` names this build can open, for `gocred --version`.
pub const COMPILED_IN: &[&str] = if cfg!(target_os = "linux") {
    &["secret-service", "keyutils"]
} else if cfg!(target_os = "macos") {
    &["macos"]
} else if cfg!(target_os = "windows") {
    &["windows"]
} else {
    &[]
};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[allow(dead_code)] // each platform builds only its own kinds
pub(super) enum Kind {
    SecretService,
    Keyutils,
    MacOs,
    Windows,
    #[cfg(test)]
    Mock,
}

impl Kind {
    /// The `[keychain] backend` name.
    pub(super) fn name(self) -> &'static str {
        match self {
            Kind::SecretService => "secret-service",
            Kind::Keyutils => "keyutils",
            Kind::MacOs => "macos",
            Kind::Windows => "windows",
            #[cfg(test)]
            Kind::Mock => "mock",
        }
    }

    /// Where the entries live, for `gocred status`.
    pub(super) fn location(self) -> &'static str {
        match self {
            Kind::SecretService => "Secret Service (default collection)",
            Kind::Keyutils => "kernel keyutils (persistent keyring)",
            Kind::MacOs => "macOS login keychain",
            Kind::Windows => "Windows Credential Manager",
            #[cfg(test)]
            Kind::Mock => "mock keychain",
        }
    }

    /// How to remove gocred's entry for `user` by hand (when gocred cannot read it).
    pub(super) fn removal(self, user: &str) -> String {
        match self {
            Kind::SecretService => {
                format!("`secret-tool clear service {SERVICE} username '{user}'`")
            }
            // linux-keyutils-keyring-store's default description: `keyring:<user>@<service>`.
            Kind::Keyutils => format!("`keyctl purge -s user 'keyring:{user}@{SERVICE}'`"),
            Kind::MacOs => {
                format!("`security delete-generic-password -s {SERVICE} -a '{user}'`")
            }
            Kind::Windows => format!("Credential Manager (the {SERVICE} entry for {user})"),
            #[cfg(test)]
            Kind::Mock => format!("mock-remove {user}"),
        }
    }

    /// What to do when the store refuses access.
    pub(super) fn access_fix(self) -> &'static str {
        match self {
            Kind::SecretService => {
                "unlock the login keyring (log in to the desktop, or `gnome-keyring-daemon --unlock`), \
                 or set [keychain] backend = \"keyutils\", or use the file store"
            }
            Kind::Keyutils => {
                "run inside a session keyring (`keyctl session -`, or a login through pam_keyinit), \
                 or set [keychain] backend = \"secret-service\", or use the file store"
            }
            Kind::MacOs => {
                "unlock the login keychain (`security unlock-keychain`), or use the file store"
            }
            Kind::Windows => {
                "log in interactively so Credential Manager is available, or use the file store"
            }
            #[cfg(test)]
            Kind::Mock => "fix the mock",
        }
    }
}

/// An opened store.
pub(super) struct Opened {
    pub(super) store: Arc<CredentialStore>,
    pub(super) kind: Kind,
    /// Why `auto` did not use the Secret Service, when it fell back to keyutils.
    pub(super) passed_over: Option<String>,
}

impl Opened {
    /// gocred's entry with user name `user`; `label` is what keyring UIs show (Secret Service).
    /// Building an entry stores nothing.
    pub(super) fn entry(&self, user: &str, label: &str) -> keyring_core::Result<Entry> {
        match self.kind {
            Kind::SecretService => {
                let modifiers = HashMap::from([("label", label)]);
                self.store.build(SERVICE, user, Some(&modifiers))
            }
            _ => self.store.build(SERVICE, user, None),
        }
    }
}

fn elsewhere(backend: KeychainBackend) -> String {
    format!(
        "keychain ({}): not available on {}; set [keychain] backend = \"auto\" (or remove it), \
         or use the file store",
        backend.name(),
        std::env::consts::OS
    )
}

/// A store whose constructor failed, in words without any detail that could hold a secret (there
/// is none yet, but keyring-core errors are never formatted here).
#[allow(dead_code)]
fn cannot_open(kind: Kind) -> String {
    format!(
        "keychain ({}): cannot open the store; {}",
        kind.name(),
        kind.access_fix()
    )
}

/// `auto` must not hold git up: a bus that has not said by then whether a Secret Service runs
/// is passed over.
#[cfg(target_os = "linux")]
pub(super) const AUTO_FIRST_ANSWER: std::time::Duration = std::time::Duration::from_secs(1);
/// A running (or, named explicitly, activatable) Secret Service may be slow: wait longer, but
/// not forever.
#[cfg(target_os = "linux")]
pub(super) const DEADLINE: std::time::Duration = std::time::Duration::from_secs(5);

#[cfg(target_os = "linux")]
pub(super) fn open(backend: KeychainBackend) -> Result<Opened, String> {
    use super::secret_service;

    let secret_service = |store| Opened {
        store,
        kind: Kind::SecretService,
        passed_over: None,
    };
    match backend {
        KeychainBackend::Auto => match secret_service::open(false, AUTO_FIRST_ANSWER, DEADLINE) {
            Ok(store) => Ok(secret_service(store)),
            Err(problem) => unusable(backend, problem),
        },
        KeychainBackend::SecretService => secret_service::open(true, DEADLINE, DEADLINE)
            .map(secret_service)
            .or_else(|problem| unusable(backend, problem)),
        KeychainBackend::Keyutils => keyutils(None),
        KeychainBackend::MacOs | KeychainBackend::Windows => Err(elsewhere(backend)),
    }
}

/// What `backend` comes to when the Secret Service showed `problem`: `auto` uses keyutils
/// instead, `secret-service` fails with the problem and its fix.
#[cfg(target_os = "linux")]
pub(super) fn unusable(
    backend: KeychainBackend,
    problem: super::secret_service::Problem,
) -> Result<Opened, String> {
    match backend {
        KeychainBackend::Auto => keyutils(Some(problem.what())),
        _ => Err(format!(
            "keychain (secret-service): {}; {}",
            problem.what(),
            problem.fix()
        )),
    }
}

/// kernel keyutils; `passed_over` is why `auto` did not use the Secret Service.
#[cfg(target_os = "linux")]
fn keyutils(passed_over: Option<String>) -> Result<Opened, String> {
    if let Err(why) = session_keyring() {
        return Err(match &passed_over {
            None => format!(
                "keychain (keyutils): {why}; {}",
                Kind::Keyutils.access_fix()
            ),
            Some(ss) => format!(
                "keychain (auto): no usable Secret Service ({ss}), and kernel keyutils cannot \
                 keep credentials here ({why}); run inside `keyctl session -` (or a login \
                 through pam_keyinit), start and unlock a Secret Service keyring, or use the \
                 file store"
            ),
        });
    }
    let store: Arc<CredentialStore> =
        linux_keyutils_keyring_store::Store::new().map_err(|_| cannot_open(Kind::Keyutils))?;
    Ok(Opened {
        store,
        kind: Kind::Keyutils,
        passed_over,
    })
}

/// `Ok` when this process has a session keyring of its own. Without one (a container shell, a
/// service started without pam_keyinit) the kernel resolves the session keyring to the shared
/// user-session keyring `_uid_ses.<uid>`, and the store's first lookup in a process misses what
/// an earlier process stored: every `get` would come back empty. Refuse instead.
#[cfg(target_os = "linux")]
fn session_keyring() -> Result<(), String> {
    use linux_keyutils::{KeyRing, KeyRingIdentifier};
    let ring = KeyRing::from_special_id(KeyRingIdentifier::Session, false)
        .map_err(|e| format!("no session keyring ({e})"))?;
    let metadata = ring
        .metadata()
        .map_err(|e| format!("cannot inspect the session keyring ({e})"))?;
    let description = metadata.get_description();
    if description.starts_with("_uid_ses.") {
        return Err(format!(
            "this process has no session keyring, only the user-session keyring {description}"
        ));
    }
    Ok(())
}

#[cfg(target_os = "macos")]
pub(super) fn open(backend: KeychainBackend) -> Result<Opened, String> {
    match backend {
        KeychainBackend::Auto | KeychainBackend::MacOs => {
            let store: Arc<CredentialStore> = apple_native_keyring_store::keychain::Store::new()
                .map_err(|_| cannot_open(Kind::MacOs))?;
            Ok(Opened {
                store,
                kind: Kind::MacOs,
                passed_over: None,
            })
        }
        other => Err(elsewhere(other)),
    }
}

#[cfg(target_os = "windows")]
pub(super) fn open(backend: KeychainBackend) -> Result<Opened, String> {
    match backend {
        KeychainBackend::Auto | KeychainBackend::Windows => {
            let store: Arc<CredentialStore> = windows_native_keyring_store::Store::new()
                .map_err(|_| cannot_open(Kind::Windows))?;
            Ok(Opened {
                store,
                kind: Kind::Windows,
                passed_over: None,
            })
        }
        other => Err(elsewhere(other)),
    }
}

#[cfg(not(any(target_os = "linux", target_os = "macos", target_os = "windows")))]
pub(super) fn open(backend: KeychainBackend) -> Result<Opened, String> {
    Err(match backend {
        KeychainBackend::Auto => format!(
            "keychain: gocred has no keychain backend for {}; use the file store",
            std::env::consts::OS
        ),
        other => elsewhere(other),
    })
}
