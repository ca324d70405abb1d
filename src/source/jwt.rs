//! The GitHub App's JSON Web Token (RS256, RFC 7519), as GitHub documents it for
//! "Generating a JSON Web Token (JWT) for a GitHub App": `iat` 60 seconds in the past (clock
//! drift), `exp` at most 10 minutes after that, `iss` the App ID; signed with the app's RSA
//! private key (PKCS#1 `RSA PRIVATE KEY` as GitHub hands it out, or PKCS#8) through ring.
//! Also the unverified payload of a JWT, for the expiry of an ID token.

use crate::secret::{Secret, SecretBytes};
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use ring::signature::{RSA_PKCS1_SHA256, RsaKeyPair};
use rustls::pki_types::PrivateKeyDer;
use rustls::pki_types::pem::PemObject;

/// `iat` this far back, as GitHub recommends against clock drift.
pub const BACKDATE: u64 = 60;
/// `exp` this long after `iat`: GitHub refuses more than 10 minutes.
pub const LIFETIME: u64 = 540;

#[derive(Debug, thiserror::Error)]
pub enum KeyError {
    #[error("not a PEM private key ({0})")]
    Pem(String),
    #[error("not an RSA private key GitHub could have issued ({0})")]
    Rejected(String),
}

/// What is wrong with a PEM text, in words of our own: the parser's own messages quote the
/// offending line (a key squashed onto one line is the key itself, as a list of bytes).
fn pem_problem(e: &rustls::pki_types::pem::Error) -> String {
    use rustls::pki_types::pem::Error;
    match e {
        Error::NoItemsFound => "no PEM private key block in it",
        Error::MissingSectionEnd { .. } => "a PEM block has no END line",
        Error::IllegalSectionStart { .. } | Error::Base64Decode(_) => {
            "not a well-formed PEM block (are its line breaks intact?)"
        }
        Error::SectionTooLarge => "a PEM block is too large",
        _ => "not a PEM private key",
    }
    .to_owned()
}

/// The app's private key, parsed once.
pub struct AppKey(RsaKeyPair);

impl std::fmt::Debug for AppKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("AppKey(REDACTED)")
    }
}

impl AppKey {
    /// From the PEM text of the key.
    pub fn from_pem(pem: &SecretBytes) -> Result<AppKey, KeyError> {
        let der =
            PrivateKeyDer::from_pem_slice(&pem.0).map_err(|e| KeyError::Pem(pem_problem(&e)))?;
        let pair = match &der {
            PrivateKeyDer::Pkcs1(k) => RsaKeyPair::from_der(k.secret_pkcs1_der()),
            PrivateKeyDer::Pkcs8(k) => RsaKeyPair::from_pkcs8(k.secret_pkcs8_der()),
            _ => return Err(KeyError::Rejected("an EC key; GitHub Apps use RSA".into())),
        }
        .map_err(|e| KeyError::Rejected(e.to_string()))?;
        Ok(AppKey(pair))
    }

    /// The app's JWT at `now` (seconds since the epoch).
    pub fn jwt(&self, app_id: u64, now: u64) -> Secret {
        let header = URL_SAFE_NO_PAD.encode(br#"{"alg":"RS256","typ":"JWT"}"#);
        let iat = now.saturating_sub(BACKDATE);
        let claims = serde_json::json!({
            "iat": iat,
            "exp": iat + LIFETIME,
            "iss": app_id.to_string(),
        });
        let payload = URL_SAFE_NO_PAD.encode(claims.to_string());
        let signing_input = format!("{header}.{payload}");
        let mut signature = vec![0; self.0.public().modulus_len()];
        self.0
            .sign(
                &RSA_PKCS1_SHA256,
                &ring::rand::SystemRandom::new(),
                signing_input.as_bytes(),
                &mut signature,
            )
            .expect("BUG: RSA signing with a buffer of the modulus' size failed");
        Secret::new(format!(
            "{signing_input}.{}",
            URL_SAFE_NO_PAD.encode(&signature)
        ))
    }
}

/// The `exp` claim of a JWT, read without checking the signature (the issuer's audience does
/// that): only to tell an ID token that has expired before sending it anywhere.
pub fn unverified_exp(token: &str) -> Option<u64> {
    let payload = token.split('.').nth(1)?;
    let bytes = URL_SAFE_NO_PAD.decode(payload.trim_end_matches('=')).ok()?;
    let claims: serde_json::Value = serde_json::from_slice(&bytes).ok()?;
    claims.get("exp")?.as_u64()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Regression: a key whose line breaks were lost (a vault or variable that keeps one line)
    /// made the PEM parser's error quote the key's bytes, and that error reached stderr.
    #[test]
    fn a_broken_pem_key_is_never_quoted_in_its_error() {
        let key = throwaway_key();
        let text = String::from_utf8(key).unwrap();
        let body: String = text.lines().filter(|l| !l.starts_with("-----")).collect();
        for squashed in [
            text.replace('\n', " "),
            text.replace('\n', "\\n"),
            format!("-----BEGIN RSA PRIVATE KEY-----\n{body}"),
            format!(
                "-----BEGIN RSA PRIVATE KEY-----\n{}!\n-----END RSA PRIVATE KEY-----\n",
                &body[..64]
            ),
        ] {
            let err = AppKey::from_pem(&SecretBytes(squashed.into_bytes())).unwrap_err();
            let said = err.to_string();
            assert!(
                !said.contains(&body[..16]) && !said.contains(", "),
                "{said}"
            );
            let first: Vec<String> = body.bytes().take(4).map(|b| b.to_string()).collect();
            assert!(!said.contains(&first.join(", ")), "{said}");
        }
    }

    /// A throwaway 2048-bit key in GitHub's format (PKCS#1), made by openssl for this test.
    fn throwaway_key() -> Vec<u8> {
        let out = std::process::Command::new("openssl")
            .args(["genrsa", "-traditional", "2048"])
            .output()
            .expect("openssl (scripts/test installs it)");
        assert!(out.status.success());
        assert!(out.stdout.starts_with(b"-----BEGIN RSA PRIVATE KEY-----"));
        out.stdout
    }

    #[test]
    fn jwt_claims_follow_githubs_rules_and_the_signature_verifies() {
        let key = AppKey::from_pem(&SecretBytes(throwaway_key())).unwrap();
        let jwt = key.jwt(4242, 1_000_000);
        let parts: Vec<&str> = jwt.expose().split('.').collect();
        assert_eq!(parts.len(), 3);
        let claims: serde_json::Value =
            serde_json::from_slice(&URL_SAFE_NO_PAD.decode(parts[1]).unwrap()).unwrap();
        assert_eq!(claims["iss"], "4242");
        assert_eq!(claims["iat"], 1_000_000 - 60);
        assert!(claims["exp"].as_u64().unwrap() - claims["iat"].as_u64().unwrap() <= 600);
        assert_eq!(unverified_exp(jwt.expose()), claims["exp"].as_u64());
        let public = ring::signature::UnparsedPublicKey::new(
            &ring::signature::RSA_PKCS1_2048_8192_SHA256,
            key.0.public().as_ref(),
        );
        let sig = URL_SAFE_NO_PAD.decode(parts[2]).unwrap();
        let input = format!("{}.{}", parts[0], parts[1]);
        assert!(public.verify(input.as_bytes(), &sig).is_ok());
        assert!(public.verify(b"something else", &sig).is_err());
    }

    #[test]
    fn a_key_that_is_not_pem_is_refused_without_echoing_it() {
        let e = AppKey::from_pem(&SecretBytes(b"hunter2-not-a-key".to_vec())).unwrap_err();
        assert!(!e.to_string().contains("hunter2"), "{e}");
    }
}
