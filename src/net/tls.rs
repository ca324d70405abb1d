//! rustls and webpki errors in words. Their `Display` is often their `Debug` in disguise
//! (`invalid peer certificate: Other(OtherError(CaUsedAsEndEntity))`, `received fatal alert:
//! HandshakeFailure`): a person should read what went wrong, never a Rust type.

use rustls::{CertificateError, Error};

/// What went wrong in the TLS handshake, in words.
pub fn words(e: &Error) -> String {
    match e {
        Error::InvalidCertificate(c) => format!("the server's certificate {}", certificate(c)),
        Error::NoCertificatesPresented => "the server sent no certificate".into(),
        Error::AlertReceived(alert) => format!(
            "the server ended the handshake ({})",
            identifier_words(&format!("{alert:?}"))
        ),
        Error::PeerIncompatible(why) => format!(
            "the server supports no TLS version or cipher gocred accepts ({})",
            identifier_words(&format!("{why:?}"))
        ),
        Error::PeerMisbehaved(why) => format!(
            "the server broke the TLS protocol ({})",
            identifier_words(&format!("{why:?}"))
        ),
        Error::InvalidMessage(_)
        | Error::InappropriateMessage { .. }
        | Error::InappropriateHandshakeMessage { .. } => {
            "the server's answer is not TLS (is it plain http on this port?)".into()
        }
        Error::DecryptError => "the server's data could not be decrypted".into(),
        Error::HandshakeNotComplete => "the handshake did not complete".into(),
        Error::General(why) => why.clone(),
        other => identifier_words(&other.to_string()),
    }
}

fn certificate(e: &CertificateError) -> String {
    #[allow(deprecated)]
    match e {
        CertificateError::BadEncoding => "is not a valid certificate".into(),
        CertificateError::Expired | CertificateError::ExpiredContext { .. } => "has expired".into(),
        CertificateError::NotValidYet | CertificateError::NotValidYetContext { .. } => {
            "is not valid yet (check this machine's clock)".into()
        }
        CertificateError::Revoked => "has been revoked".into(),
        CertificateError::UnknownIssuer => "is signed by a CA gocred does not trust".into(),
        CertificateError::BadSignature => "has a bad signature".into(),
        CertificateError::NotValidForName | CertificateError::NotValidForNameContext { .. } => {
            // rustls's own words for the context variant are good ones (names, not types).
            match e {
                CertificateError::NotValidForNameContext { .. } => {
                    format!("is not for this host: {e}")
                }
                _ => "is not for this host name".into(),
            }
        }
        CertificateError::InvalidPurpose | CertificateError::InvalidPurposeContext { .. } => {
            "is not for a TLS server".into()
        }
        CertificateError::Other(other) => webpki(&other.0.to_string()),
        other => format!("was refused ({})", identifier_words(&format!("{other:?}"))),
    }
}

/// webpki's error, whose `Display` is its `Debug` (`CaUsedAsEndEntity`, `CertExpired { .. }`).
fn webpki(debug: &str) -> String {
    let name = debug
        .split(|c: char| !c.is_ascii_alphanumeric())
        .next()
        .unwrap_or(debug);
    match name {
        "CaUsedAsEndEntity" => {
            "is a CA certificate, not a server's: the server must present its own certificate \
             signed by that CA"
                .into()
        }
        "EndEntityUsedAsCa" => "chain uses a server certificate as a CA".into(),
        "CertExpired" => "has expired".into(),
        "CertNotValidYet" => "is not valid yet (check this machine's clock)".into(),
        "CertNotValidForName" => "is not for this host name".into(),
        "CertRevoked" => "has been revoked".into(),
        "UnknownIssuer" => "is signed by a CA gocred does not trust".into(),
        "BadDer" | "BadDerTime" => "is not a valid certificate".into(),
        "RequiredEkuNotFound" => "is not for a TLS server".into(),
        _ => format!("was refused ({})", identifier_words(debug)),
    }
}

/// `CaUsedAsEndEntity` → `CA used as end entity`; `Foo(Bar)` → `foo bar`: a Rust identifier (or
/// a `Debug` of nested ones) in lower-case words. Text that holds spaces already is kept.
pub fn identifier_words(text: &str) -> String {
    if text.contains(' ') && !text.contains('(') && !text.contains('{') {
        return text.to_owned();
    }
    let mut words: Vec<String> = Vec::new();
    for part in text.split(|c: char| !c.is_ascii_alphanumeric() && c != ' ') {
        for token in part.split(' ').filter(|t| !t.is_empty()) {
            let mut word = String::new();
            let chars: Vec<char> = token.chars().collect();
            for (i, &c) in chars.iter().enumerate() {
                let next_lower = chars.get(i + 1).is_some_and(|n| n.is_ascii_lowercase());
                let prev_lower = i > 0 && chars[i - 1].is_ascii_lowercase();
                if c.is_ascii_uppercase() && !word.is_empty() && (prev_lower || next_lower) {
                    words.push(std::mem::take(&mut word));
                }
                word.push(c);
            }
            if !word.is_empty() {
                words.push(word);
            }
        }
    }
    let words: Vec<String> = words
        .into_iter()
        .filter(|w| !matches!(w.as_str(), "Other" | "Error"))
        .map(|w| {
            if w.len() > 1 && w.chars().all(|c| c.is_ascii_uppercase()) {
                w // an acronym: CA, TLS
            } else {
                w.to_ascii_lowercase()
            }
        })
        .collect();
    words.join(" ")
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Arc;

    /// As webpki's error: `Display` and `Debug` are both the variant's name.
    struct FakeWebpki(&'static str);
    impl std::fmt::Display for FakeWebpki {
        fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
            f.write_str(self.0)
        }
    }
    impl std::fmt::Debug for FakeWebpki {
        fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
            f.write_str(self.0)
        }
    }
    impl std::error::Error for FakeWebpki {}

    fn other(debug: &'static str) -> Error {
        Error::InvalidCertificate(CertificateError::Other(rustls::OtherError(Arc::new(
            FakeWebpki(debug),
        ))))
    }

    #[test]
    fn tls_errors_are_words_never_debug_text() {
        let e = other("CaUsedAsEndEntity");
        assert!(
            e.to_string()
                .contains("Other(OtherError(CaUsedAsEndEntity))"),
            "rustls itself prints Debug text: {e}"
        );
        let said = words(&e);
        assert!(
            said.starts_with("the server's certificate is a CA certificate"),
            "{said}"
        );
        for e in [
            other("SomethingNew"),
            Error::InvalidCertificate(CertificateError::UnknownIssuer),
            Error::InvalidCertificate(CertificateError::UnhandledCriticalExtension),
            Error::AlertReceived(rustls::AlertDescription::HandshakeFailure),
            Error::NoCertificatesPresented,
        ] {
            let said = words(&e);
            assert!(!said.contains(['{', '}', ':', '"']), "{said}");
            assert!(
                !said
                    .split(|c: char| !c.is_alphanumeric())
                    .any(|w| w.len() > 3
                        && w.chars().next().is_some_and(char::is_uppercase)
                        && w.chars().skip(1).any(char::is_uppercase)
                        && w.chars().any(char::is_lowercase)),
                "CamelCase left in {said}"
            );
        }
        assert_eq!(
            identifier_words("CaUsedAsEndEntity"),
            "ca used as end entity"
        );
        assert_eq!(identifier_words("HandshakeFailure"), "handshake failure");
    }
}
