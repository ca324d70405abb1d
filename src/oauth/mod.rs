//! OAuth 2.0 for gocred: the Device Authorization Grant ([RFC 8628]) behind `gocred login`,
//! the refresh grant ([RFC 6749 §6]) behind a transparent `get`, and token revocation
//! ([RFC 7009]) behind `gocred logout`.
//!
//! Endpoints come from `[rule.oauth]`, else from what the provider is known to serve on the
//! rule's host (GitLab `/oauth/authorize_device`, `/oauth/token`, `/oauth/revoke`; GitHub and
//! GHE `/login/device/code`, `/login/oauth/access_token`), else from OIDC discovery
//! (`<issuer>/.well-known/openid-configuration`). Every request asks for JSON and every answer
//! is also read as a form (GitHub without `Accept`), with errors looked for in any status
//! (GitHub answers them with 200). Tokens only ever live in [`Secret`]; an error is one line
//! that names the host, the endpoint and the server's error code, never a token.
//!
//! [RFC 8628]: https://www.rfc-editor.org/rfc/rfc8628
//! [RFC 6749 §6]: https://www.rfc-editor.org/rfc/rfc6749#section-6
//! [RFC 7009]: https://www.rfc-editor.org/rfc/rfc7009

mod answer;
pub mod device;
pub mod verify;

pub use device::{DeviceAuthorization, Poll};

use crate::net::{Net, NetError};
use crate::policy::{OAuthConfig, OAuthProvider};
use crate::secret::Secret;

/// The user name git sends with an OAuth token when the rule names none: GitLab's documented
/// `oauth2`, GitHub's `x-access-token`, and `oauth2` for any other server.
pub fn default_username(provider: OAuthProvider) -> &'static str {
    match provider {
        OAuthProvider::GitLab | OAuthProvider::Oidc => "oauth2",
        OAuthProvider::GitHub => "x-access-token",
    }
}

/// The scopes asked for when `[rule.oauth] scopes` is absent.
pub fn default_scopes(provider: OAuthProvider) -> &'static [&'static str] {
    match provider {
        OAuthProvider::GitLab => &["read_repository", "write_repository"],
        OAuthProvider::GitHub => &["repo"],
        OAuthProvider::Oidc => &["openid", "offline_access"],
    }
}

#[derive(Debug, thiserror::Error)]
pub enum OAuthError {
    #[error("{0}")]
    Net(#[from] NetError),
    /// The server answered with an OAuth error code.
    #[error("{host} refused the {what}: {code}{}{}", description.as_deref().map(|d| format!(" ({d})")).unwrap_or_default(), hint(code))]
    Server {
        what: &'static str,
        host: String,
        status: u16,
        code: String,
        description: Option<String>,
    },
    /// The answer is not one an OAuth endpoint gives.
    #[error("{host} answered the {what} with HTTP {status} and {reason}")]
    BadAnswer {
        what: &'static str,
        host: String,
        status: u16,
        reason: String,
    },
    #[error("{host}: {reason}")]
    Config { host: String, reason: String },
}

fn hint(code: &str) -> &'static str {
    match code {
        "invalid_client" | "unauthorized_client" | "incorrect_client_credentials" | "Not Found" => {
            "; check `client_id` in [rule.oauth] and that the application is a public client \
             with the device flow enabled"
        }
        "device_flow_disabled" => "; enable the device flow in the application's settings",
        "invalid_scope" => "; check `scopes` in [rule.oauth]",
        _ => "",
    }
}

impl OAuthError {
    /// The server refused the refresh token for good: RFC 6749 §5.2 `invalid_grant` ("invalid,
    /// expired, revoked ... or issued to another client"), or GitHub's documented equivalent
    /// `bad_refresh_token` ("incorrect or expired", in an HTTP 200). Only these may erase a
    /// stored token: anything else (429, 5xx, `temporarily_unavailable`, `slow_down`, a timeout,
    /// a reset connection, an HTML page, a client misconfiguration) may pass, and the refresh
    /// token is kept for the next try. A 429 or 5xx is never a refusal, whatever its body says.
    pub fn is_refusal(&self) -> bool {
        match self {
            OAuthError::Server { code, status, .. } => {
                matches!(code.as_str(), "invalid_grant" | "bad_refresh_token")
                    && *status != 429
                    && *status < 500
            }
            _ => false,
        }
    }

    /// The OAuth error code, if the server gave one.
    pub fn code(&self) -> Option<&str> {
        match self {
            OAuthError::Server { code, .. } => Some(code),
            _ => None,
        }
    }
}

/// One endpoint and what it is for (named in messages).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Endpoint {
    pub url: String,
    what: &'static str,
}

impl Endpoint {
    fn new(url: impl Into<String>, what: &'static str) -> Self {
        Endpoint {
            url: url.into(),
            what,
        }
    }

    /// `host[:port]` of the URL, for messages.
    pub fn host(&self) -> String {
        let rest = self.url.split_once("://").map_or(&*self.url, |(_, r)| r);
        rest.split(['/', '?']).next().unwrap_or_default().to_owned()
    }
}

/// Every endpoint of one server.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Endpoints {
    pub device_authorization: Endpoint,
    pub token: Endpoint,
    pub refresh: Endpoint,
    pub revocation: Option<Endpoint>,
    /// Who the token belongs to: OIDC userinfo, GitHub `/user`, GitLab `/api/v4/user`.
    pub account: Option<Endpoint>,
}

/// What a token endpoint gave.
#[derive(Debug)]
pub struct TokenSet {
    pub access_token: Secret,
    pub refresh_token: Option<Secret>,
    /// Seconds since the epoch (the local clock when the answer came, plus `expires_in`):
    /// `None` when the server gave no lifetime.
    pub expires_at: Option<u64>,
}

/// A server, as one rule describes it.
pub struct Client<'n, 'e> {
    net: &'n Net<'e>,
    pub client_id: String,
    pub provider: OAuthProvider,
    pub endpoints: Endpoints,
}

const ACCEPT_JSON: (&str, &str) = ("Accept", "application/json");

impl<'n, 'e> Client<'n, 'e> {
    /// The server of `config` for a rule on `origin` (`https://host[:port]`). Only OIDC without
    /// explicit endpoints makes a request (discovery).
    pub fn new(net: &'n Net<'e>, config: &OAuthConfig, origin: &str) -> Result<Self, OAuthError> {
        let origin = origin.trim_end_matches('/');
        let known = |path: &str, what| Endpoint::new(format!("{origin}{path}"), what);
        let mut endpoints = match config.provider {
            OAuthProvider::GitLab => Endpoints {
                device_authorization: known("/oauth/authorize_device", "device authorization"),
                token: known("/oauth/token", "device code"),
                refresh: known("/oauth/token", "token refresh"),
                revocation: Some(known("/oauth/revoke", "revocation")),
                account: Some(known("/api/v4/user", "user lookup")),
            },
            OAuthProvider::GitHub => {
                let github_com = origin == "https://github.com";
                Endpoints {
                    device_authorization: known("/login/device/code", "device authorization"),
                    token: known("/login/oauth/access_token", "device code"),
                    refresh: known("/login/oauth/access_token", "token refresh"),
                    // GitHub revokes only through its REST API with the client secret.
                    revocation: None,
                    account: Some(if github_com {
                        Endpoint::new("https://api.github.com/user", "user lookup")
                    } else {
                        known("/api/v3/user", "user lookup")
                    }),
                }
            }
            OAuthProvider::Oidc => match &config.issuer {
                Some(issuer) => discover(net, issuer, config)?,
                None => {
                    let configured = |url: &Option<String>, what| {
                        url.as_ref().map(|u| Endpoint::new(u.clone(), what))
                    };
                    let missing = || OAuthError::Config {
                        host: origin.to_owned(),
                        reason: "[rule.oauth] needs `issuer`, or `device_authorization_endpoint` \
                                 and `token_endpoint`"
                            .into(),
                    };
                    Endpoints {
                        device_authorization: configured(
                            &config.device_authorization_endpoint,
                            "device authorization",
                        )
                        .ok_or_else(missing)?,
                        token: configured(&config.token_endpoint, "device code")
                            .ok_or_else(missing)?,
                        refresh: configured(&config.token_endpoint, "token refresh")
                            .ok_or_else(missing)?,
                        revocation: None,
                        account: None,
                    }
                }
            },
        };
        // What the rule names beats what is known or discovered.
        if let Some(url) = &config.device_authorization_endpoint {
            endpoints.device_authorization = Endpoint::new(url.clone(), "device authorization");
        }
        if let Some(url) = &config.token_endpoint {
            endpoints.token = Endpoint::new(url.clone(), "device code");
            endpoints.refresh = Endpoint::new(url.clone(), "token refresh");
        }
        if let Some(url) = &config.revocation_endpoint {
            endpoints.revocation = Some(Endpoint::new(url.clone(), "revocation"));
        }
        Ok(Client {
            net,
            client_id: config.client_id.clone(),
            provider: config.provider,
            endpoints,
        })
    }

    fn post(
        &self,
        endpoint: &Endpoint,
        form: &[(&str, &str)],
    ) -> Result<answer::Fields, OAuthError> {
        let reply = self.net.post_form(&endpoint.url, &[ACCEPT_JSON], form)?;
        answer::parse(endpoint, &reply)
    }

    /// Exchanges a refresh token for new tokens. A server that sends no new refresh token
    /// leaves `refresh_token` empty: the caller keeps the old one.
    pub fn refresh(&self, refresh_token: &Secret, now: u64) -> Result<TokenSet, OAuthError> {
        let fields = self.post(
            &self.endpoints.refresh,
            &[
                ("grant_type", "refresh_token"),
                ("refresh_token", refresh_token.expose()),
                ("client_id", &self.client_id),
            ],
        )?;
        token_set(&self.endpoints.refresh, fields, now)
    }

    /// Revokes `token` (RFC 7009). `Ok(false)` when the server offers no revocation.
    pub fn revoke(&self, token: &Secret, hint: &str) -> Result<bool, OAuthError> {
        let Some(endpoint) = &self.endpoints.revocation else {
            return Ok(false);
        };
        let reply = self.net.post_form(
            &endpoint.url,
            &[ACCEPT_JSON],
            &[
                ("token", token.expose()),
                ("token_type_hint", hint),
                ("client_id", &self.client_id),
            ],
        )?;
        // RFC 7009 §2.2: 200 with any body, also for tokens the server no longer knows.
        if (200..300).contains(&reply.status) {
            return Ok(true);
        }
        answer::parse(endpoint, &reply).map(|_| true)
    }

    /// Who `access_token` belongs to, if the server says (best effort: `None` on any failure).
    pub fn account(&self, access_token: &Secret) -> Option<String> {
        let endpoint = self.endpoints.account.as_ref()?;
        let bearer = Secret::new(format!("Bearer {}", access_token.expose()));
        let reply = self
            .net
            .get(
                &endpoint.url,
                &[ACCEPT_JSON, ("Authorization", bearer.expose())],
            )
            .ok()?;
        let fields = answer::parse(endpoint, &reply).ok()?;
        [
            "preferred_username",
            "login",
            "username",
            "email",
            "name",
            "sub",
        ]
        .iter()
        .find_map(|k| fields.text(k))
        .map(|name| answer::one_line(&name, 100))
    }
}

/// An access token answer (RFC 6749 §5.1).
fn token_set(
    endpoint: &Endpoint,
    fields: answer::Fields,
    now: u64,
) -> Result<TokenSet, OAuthError> {
    let access_token = fields
        .secret("access_token")
        .ok_or_else(|| OAuthError::BadAnswer {
            what: endpoint.what,
            host: endpoint.host(),
            status: 200,
            reason: "no access_token".into(),
        })?;
    if access_token.expose().contains(['\r', '\n', '\0']) {
        return Err(OAuthError::BadAnswer {
            what: endpoint.what,
            host: endpoint.host(),
            status: 200,
            reason: "an access token holding a line break or NUL".into(),
        });
    }
    let refresh_token = fields
        .secret("refresh_token")
        .filter(|r| !r.expose().contains(['\r', '\n', '\0']));
    let expires_at = fields
        .number("expires_in")
        .filter(|&s| s > 0)
        .map(|s| now.saturating_add(s));
    Ok(TokenSet {
        access_token,
        refresh_token,
        expires_at,
    })
}

/// OIDC discovery: the endpoints under `issuer`, whose document must name the same issuer.
fn discover(net: &Net<'_>, issuer: &str, config: &OAuthConfig) -> Result<Endpoints, OAuthError> {
    let base = issuer.trim_end_matches('/');
    let endpoint = Endpoint::new(
        format!("{base}/.well-known/openid-configuration"),
        "discovery request",
    );
    let reply = net.get(&endpoint.url, &[ACCEPT_JSON])?;
    let fields = answer::parse(&endpoint, &reply)?;
    let host = endpoint.host();
    if fields
        .text("issuer")
        .is_none_or(|i| i.trim_end_matches('/') != base)
    {
        return Err(OAuthError::Config {
            host,
            reason: format!("the discovery document does not name the issuer {issuer}"),
        });
    }
    // An endpoint the rule names need not be in the document.
    let get = |key: &str, what| {
        let configured = match key {
            "device_authorization_endpoint" => config.device_authorization_endpoint.clone(),
            "token_endpoint" => config.token_endpoint.clone(),
            _ => None,
        };
        configured
            .or_else(|| fields.text(key))
            .map(|u| Endpoint::new(u, what))
    };
    let missing = |key: &str| OAuthError::Config {
        host: host.clone(),
        reason: format!(
            "the discovery document has no {key}: the server does not offer the device flow \
             (set `{key}` in [rule.oauth] if it does)"
        ),
    };
    let token = get("token_endpoint", "device code").ok_or_else(|| missing("token_endpoint"))?;
    Ok(Endpoints {
        device_authorization: get("device_authorization_endpoint", "device authorization")
            .ok_or_else(|| missing("device_authorization_endpoint"))?,
        refresh: Endpoint::new(token.url.clone(), "token refresh"),
        token,
        revocation: get("revocation_endpoint", "revocation"),
        account: get("userinfo_endpoint", "user lookup"),
    })
}

#[cfg(test)]
mod tests;
