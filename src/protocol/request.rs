//! Decoding what git writes to a helper's stdin.

use super::line::{ProtocolError, forbidden_char};
use super::parse_bool;
use super::url::parse_url;
use crate::secret::{Secret, SecretBytes};
use std::io::BufRead;

/// Bounds on what a helper will read. git's own requests are a few hundred bytes; `wwwauth[]`
/// headers and JWT-sized tokens are the largest values seen in practice.
#[derive(Debug, Clone, Copy)]
pub struct Limits {
    pub max_line: usize,
    pub max_request: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            max_line: 64 * 1024,
            max_request: 1024 * 1024,
        }
    }
}

/// Every attribute of git-credential(1). A new attribute must be added here, to [`decode`]'s match,
/// and to the `Debug` impl's destructuring, which forces a decision on whether it is secret.
#[derive(Default, Clone, PartialEq)]
pub struct Request {
    pub protocol: Option<String>,
    /// May carry `:port`.
    pub host: Option<String>,
    /// Only sent by git with `credential.useHttpPath` (or for `cert` credentials).
    pub path: Option<String>,
    pub username: Option<String>,
    pub password: Option<Secret>,
    /// Seconds since the Unix epoch (git 2.41+).
    pub password_expiry_utc: Option<u64>,
    /// git 2.41+.
    pub oauth_refresh_token: Option<Secret>,
    /// The `url` attribute as given; [`decode`] has already merged its parts into the fields above.
    pub url: Option<String>,
    /// `wwwauth[]`: the server's WWW-Authenticate headers, in order.
    pub wwwauth: Vec<String>,
    /// `capability[]`: what this git understands (`authtype`, `state`).
    pub capability: Vec<String>,
    pub authtype: Option<String>,
    pub credential: Option<Secret>,
    pub ephemeral: Option<bool>,
    /// `state[]`: opaque values a helper asked git to hand back.
    pub state: Vec<String>,
    pub continue_: Option<bool>,
    pub quit: Option<bool>,
}

impl Request {
    pub fn has_capability(&self, name: &str) -> bool {
        self.capability.iter().any(|c| c == name)
    }

    /// The protocol, which [`decode`] callers that need one check with [`Request::require_target`].
    pub fn require_target(&self) -> Result<(&str, &str), ProtocolError> {
        let protocol = self.protocol.as_deref().filter(|p| !p.is_empty());
        let host = self.host.as_deref().filter(|h| !h.is_empty());
        match (protocol, host) {
            (None, _) => Err(ProtocolError::Missing { key: "protocol" }),
            (_, None) => Err(ProtocolError::Missing { key: "host" }),
            (Some(p), Some(h)) => Ok((p, h)),
        }
    }
}

/// Never shows a secret: `url` may carry a password and `state[]` is opaque, so both are hidden.
/// Destructures the whole struct so that a new field forces a decision.
impl std::fmt::Debug for Request {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let Request {
            protocol,
            host,
            path,
            username,
            password,
            password_expiry_utc,
            oauth_refresh_token,
            url,
            wwwauth,
            capability,
            authtype,
            credential,
            ephemeral,
            state,
            continue_,
            quit,
        } = self;
        f.debug_struct("Request")
            .field("protocol", protocol)
            .field("host", host)
            .field("path", path)
            .field("username", username)
            .field("password", password)
            .field("password_expiry_utc", password_expiry_utc)
            .field("oauth_refresh_token", oauth_refresh_token)
            .field("url", &url.as_ref().map(|_| "REDACTED"))
            .field("wwwauth", wwwauth)
            .field("capability", capability)
            .field("authtype", authtype)
            .field("credential", credential)
            .field("ephemeral", ephemeral)
            .field("state", &format_args!("[{} value(s)]", state.len()))
            .field("continue", continue_)
            .field("quit", quit)
            .finish()
    }
}

/// Reads one request: lines up to a blank line or EOF, bounded by `limits`.
pub fn read_request<R: BufRead>(mut input: R, limits: Limits) -> Result<Request, ProtocolError> {
    let mut raw = SecretBytes::default();
    let mut line = SecretBytes::default();
    let mut number = 0;
    loop {
        line.0.clear();
        number += 1;
        let n = std::io::Read::take(input.by_ref(), limits.max_line as u64 + 1)
            .read_until(b'\n', &mut line.0)?;
        if n == 0 {
            break;
        }
        let content_len = line.0.len() - usize::from(line.0.last() == Some(&b'\n'));
        if content_len > limits.max_line {
            return Err(ProtocolError::LineTooLong {
                line: number,
                max: limits.max_line,
            });
        }
        if raw.0.len() + n > limits.max_request {
            return Err(ProtocolError::RequestTooLarge {
                max: limits.max_request,
            });
        }
        if line.0 == b"\n" {
            break;
        }
        raw.0.extend_from_slice(&line.0);
    }
    decode(&raw.0)
}

/// Every attribute [`decode`] knows (the keys of its `match`).
const ATTRIBUTES: &[&str] = &[
    "protocol",
    "host",
    "path",
    "username",
    "password",
    "password_expiry_utc",
    "oauth_refresh_token",
    "url",
    "wwwauth[]",
    "capability[]",
    "authtype",
    "credential",
    "ephemeral",
    "state[]",
    "continue",
    "quit",
];

/// Decodes the `key=value` lines of one request (without the terminating blank line).
pub fn decode(input: &[u8]) -> Result<Request, ProtocolError> {
    let mut req = Request::default();
    let mut body = input;
    if let Some(stripped) = body.strip_suffix(b"\n") {
        body = stripped;
    }
    if body.is_empty() {
        return Ok(req);
    }
    for (index, raw) in body.split(|&b| b == b'\n').enumerate() {
        let number = index + 1;
        if raw.is_empty() {
            break; // a blank line ends the request
        }
        let line = std::str::from_utf8(raw).map_err(|_| ProtocolError::NotUtf8 { line: number })?;
        let Some((key, value)) = line.split_once('=') else {
            return Err(ProtocolError::NoEquals { line: number });
        };
        if let Some(what) = forbidden_char(value) {
            // Only an attribute git defines is named: an unknown "key" may be part of a secret.
            return Err(if ATTRIBUTES.contains(&key) {
                ProtocolError::ForbiddenChar {
                    key: key.to_owned(),
                    what,
                }
            } else {
                ProtocolError::ForbiddenCharInLine { line: number, what }
            });
        }
        if let Some(what) = forbidden_char(key) {
            return Err(ProtocolError::ForbiddenCharInLine { line: number, what });
        }
        let text = || Some(value.to_owned());
        let secret = || Some(Secret::from(value));
        let boolean = || {
            parse_bool(value).ok_or_else(|| ProtocolError::NotABool {
                key: key.to_owned(),
            })
        };
        // An empty value for a multi-valued key clears the list, as in git.
        let push = |list: &mut Vec<String>| {
            if value.is_empty() {
                list.clear()
            } else {
                list.push(value.to_owned())
            }
        };
        match key {
            "protocol" => req.protocol = text(),
            "host" => req.host = text(),
            "path" => req.path = text(),
            "username" => req.username = text(),
            "password" => req.password = secret(),
            "password_expiry_utc" => {
                // git treats an unparsable expiry as "never expires"; we refuse it instead of guessing.
                req.password_expiry_utc = if value.is_empty() {
                    None
                } else {
                    Some(value.parse().map_err(|_| ProtocolError::NotATimestamp {
                        key: key.to_owned(),
                    })?)
                };
            }
            "oauth_refresh_token" => req.oauth_refresh_token = secret(),
            "url" => req.url = text(),
            "wwwauth[]" => push(&mut req.wwwauth),
            "capability[]" => push(&mut req.capability),
            "authtype" => req.authtype = text(),
            "credential" => req.credential = secret(),
            "ephemeral" => req.ephemeral = Some(boolean()?),
            "state[]" => push(&mut req.state),
            "continue" => req.continue_ = Some(boolean()?),
            "quit" => req.quit = Some(boolean()?),
            _ => {} // unknown keys are ignored, as git-credential(1) asks
        }
    }
    if let Some(url) = req.url.clone() {
        merge_url(&mut req, &url)?;
    }
    Ok(req)
}

/// Merges `url=`'s parts into the explicit fields, refusing any disagreement.
fn merge_url(req: &mut Request, url: &str) -> Result<(), ProtocolError> {
    let parts = parse_url(url)?;
    fn merge(
        field: &mut Option<String>,
        from_url: Option<String>,
        key: &'static str,
        same: fn(&str, &str) -> bool,
    ) -> Result<(), ProtocolError> {
        match (field.as_deref(), from_url) {
            (Some(explicit), Some(u)) if !same(explicit, &u) => {
                Err(ProtocolError::UrlConflict { key })
            }
            (None, Some(u)) => {
                *field = Some(u);
                Ok(())
            }
            _ => Ok(()),
        }
    }
    let caseless = |a: &str, b: &str| a.eq_ignore_ascii_case(b);
    let exact = |a: &str, b: &str| a == b;
    merge(
        &mut req.protocol,
        Some(parts.protocol),
        "protocol",
        caseless,
    )?;
    merge(&mut req.host, Some(parts.host), "host", caseless)?;
    merge(&mut req.path, parts.path, "path", exact)?;
    merge(&mut req.username, parts.username, "username", exact)?;
    if req.password.is_none() {
        req.password = parts.password;
    }
    Ok(())
}
