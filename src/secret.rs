//! `Secret`: the only type a password, token or refresh token may live in.
//!
//! Its memory is zeroed on drop, `Debug` and `Display` print `REDACTED`, and
//! [`Secret::expose`] is the one way to read it: grep for `expose(` to audit
//! every place a secret leaves this type.

use std::fmt;
use zeroize::Zeroize;

#[derive(Clone, PartialEq, Eq)]
pub struct Secret(String);

impl Secret {
    pub fn new(value: String) -> Self {
        Secret(value)
    }

    /// The secret itself. Call sites are the audit trail: keep them few.
    pub fn expose(&self) -> &str {
        &self.0
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

impl From<&str> for Secret {
    fn from(value: &str) -> Self {
        Secret(value.to_owned())
    }
}

impl Drop for Secret {
    fn drop(&mut self) {
        self.0.zeroize();
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("REDACTED")
    }
}

impl fmt::Display for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("REDACTED")
    }
}

/// A byte buffer that is zeroed when dropped: for raw input that may hold secrets.
#[derive(Default)]
pub struct SecretBytes(pub Vec<u8>);

impl Drop for SecretBytes {
    fn drop(&mut self) {
        self.0.zeroize();
    }
}

/// A parsed JSON answer that holds a secret (a token endpoint's, a command's): every string in
/// it is zeroed when it is dropped. Read it as a [`serde_json::Value`] (`Deref`).
pub struct SecretJson(serde_json::Value);

impl SecretJson {
    pub fn parse(bytes: &[u8]) -> Result<Self, serde_json::Error> {
        serde_json::from_slice(bytes).map(SecretJson)
    }
}

impl std::ops::Deref for SecretJson {
    type Target = serde_json::Value;
    fn deref(&self) -> &serde_json::Value {
        &self.0
    }
}

impl Drop for SecretJson {
    fn drop(&mut self) {
        fn wipe(value: &mut serde_json::Value) {
            match value {
                serde_json::Value::String(s) => s.zeroize(),
                serde_json::Value::Array(items) => items.iter_mut().for_each(wipe),
                serde_json::Value::Object(map) => map.values_mut().for_each(wipe),
                _ => {}
            }
        }
        wipe(&mut self.0);
    }
}

impl fmt::Debug for SecretJson {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("REDACTED")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn debug_and_display_never_show_the_value() {
        let s = Secret::from("hunter2-sentinel");
        assert_eq!(format!("{s:?}"), "REDACTED");
        assert_eq!(format!("{s}"), "REDACTED");
        assert_eq!(format!("{:?}", Some(&s)), "Some(REDACTED)");
        assert_eq!(s.expose(), "hunter2-sentinel");
    }
}
