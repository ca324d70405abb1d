//! Checking a personal access token before it is stored (`gocred login --with-token`), against
//! the one "who am I" call each vendor documents:
//!
//! - GitLab: `GET /api/v4/user` with the `PRIVATE-TOKEN` header (the header GitLab documents
//!   for personal, project and group access tokens in every version); the answer names
//!   `username`.
//! - GitHub: `GET https://api.github.com/user`, GitHub Enterprise Server:
//!   `GET https://HOST/api/v3/user`, with `Authorization: Bearer` (GitHub documents `token` and
//!   `Bearer` as equal, `Bearer` as the one that also takes JWTs); the answer names `login`.
//!
//! Any answer but a 2xx JSON object is a failure named by its HTTP status: nothing is stored.
//! One exception: GitLab answers a token it knows but whose scopes do not reach the API (a
//! git-only token: `read_repository`, `write_repository`) with `403` and
//! `{"error":"insufficient_scope"}`, where an unknown token gets `401`. Such a token is the
//! least-privilege one a user should make for git, so it passes, with no account name.
//! The token travels only in the header of that one request, never in a URL.

use super::{ACCEPT_JSON, Endpoint, answer};
use crate::net::{Net, NetError};
use crate::policy::OAuthProvider;
use crate::secret::Secret;

#[derive(Debug, thiserror::Error)]
pub enum VerifyError {
    #[error("{0}")]
    Net(#[from] NetError),
    /// The server answered, but not with the account: refused (401, 403) or anything else.
    #[error("the token was {} (HTTP {status} from {url})", if matches!(status, 401 | 403) { "refused" } else { "not accepted" })]
    Refused {
        host: String,
        url: String,
        status: u16,
    },
    /// A 2xx that is not the API's JSON (an SSO page of a proxy).
    #[error("{host} answered {url} with HTTP {status} but not with the account ({reason})")]
    BadAnswer {
        host: String,
        url: String,
        status: u16,
        reason: String,
    },
}

/// What the server said of a token it accepted.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Verified {
    /// The token's account, when the answer names one.
    Account(Option<String>),
    /// GitLab knows the token, but its scopes do not reach the API: it cannot say whose it is.
    NoApiScope,
}

/// The user endpoint of `provider` for a host at `origin` (`https://host[:port]`), or `None`
/// when gocred knows no documented one (OIDC servers have no token-for-git API).
pub fn user_endpoint(provider: OAuthProvider, origin: &str) -> Option<String> {
    let origin = origin.trim_end_matches('/');
    match provider {
        OAuthProvider::GitLab => Some(format!("{origin}/api/v4/user")),
        OAuthProvider::GitHub if origin == "https://github.com" => {
            Some("https://api.github.com/user".to_owned())
        }
        OAuthProvider::GitHub => Some(format!("{origin}/api/v3/user")),
        OAuthProvider::Oidc => None,
    }
}

/// Asks the server who `token` belongs to; the account name it gives (`None` when the answer
/// names none), or why the token was not accepted.
pub fn verify(
    net: &Net<'_>,
    provider: OAuthProvider,
    url: &str,
    token: &Secret,
) -> Result<Verified, VerifyError> {
    let endpoint = Endpoint::new(url, "user lookup");
    let host = endpoint.host();
    let header = match provider {
        OAuthProvider::GitLab => ("PRIVATE-TOKEN", Secret::new(token.expose().to_owned())),
        _ => (
            "Authorization",
            Secret::new(format!("Bearer {}", token.expose())),
        ),
    };
    let reply = net.get(url, &[ACCEPT_JSON, (header.0, header.1.expose())])?;
    if provider == OAuthProvider::GitLab
        && reply.status == 403
        && answer::parse(&endpoint, &reply)
            .err()
            .is_some_and(|e| e.code() == Some("insufficient_scope"))
    {
        return Ok(Verified::NoApiScope);
    }
    if !(200..300).contains(&reply.status) {
        return Err(VerifyError::Refused {
            host,
            url: url.to_owned(),
            status: reply.status,
        });
    }
    let bad = |reason: String| VerifyError::BadAnswer {
        host: host.clone(),
        url: url.to_owned(),
        status: reply.status,
        reason,
    };
    if reply.content_type != "application/json" {
        return Err(bad(format!("a {} body", reply.content_type)));
    }
    let fields = answer::parse(&endpoint, &reply).map_err(|e| bad(e.to_string()))?;
    let key = match provider {
        OAuthProvider::GitLab => "username",
        _ => "login",
    };
    Ok(Verified::Account(
        fields
            .text(key)
            .filter(|name| name.chars().all(|c| !c.is_control() && c != ' ') && name.len() <= 255)
            .map(|name| answer::one_line(&name, 100)),
    ))
}
