//! Encoding a helper's answer. Only attributes git understands are written, and only those we mean.

use super::line::{LineWriter, ProtocolError};
use crate::secret::Secret;
use std::io::Write;

#[derive(Debug, Default)]
pub struct Response {
    /// Capabilities this answer relies on (git requires them to be echoed before `authtype`/`state[]`).
    pub capability: Vec<String>,
    pub username: Option<String>,
    pub password: Option<Secret>,
    pub password_expiry_utc: Option<u64>,
    pub oauth_refresh_token: Option<Secret>,
    pub authtype: Option<String>,
    pub credential: Option<Secret>,
    pub ephemeral: Option<bool>,
    pub state: Vec<String>,
    pub continue_: Option<bool>,
    pub quit: Option<bool>,
}

impl Response {
    /// Encodes every field, refusing CR/LF/NUL in any value; on error nothing is written.
    pub fn encode(&self) -> Result<LineWriter, ProtocolError> {
        let Response {
            capability,
            username,
            password,
            password_expiry_utc,
            oauth_refresh_token,
            authtype,
            credential,
            ephemeral,
            state,
            continue_,
            quit,
        } = self;
        let mut w = LineWriter::new();
        let bool_str = |b: &bool| if *b { "true" } else { "false" };
        for c in capability {
            w.field("capability[]", c)?;
        }
        w.opt("authtype", authtype.as_deref())?;
        w.opt("credential", credential.as_ref().map(Secret::expose))?;
        w.opt("username", username.as_deref())?;
        w.opt("password", password.as_ref().map(Secret::expose))?;
        w.opt(
            "password_expiry_utc",
            password_expiry_utc.map(|t| t.to_string()).as_deref(),
        )?;
        w.opt(
            "oauth_refresh_token",
            oauth_refresh_token.as_ref().map(Secret::expose),
        )?;
        w.opt("ephemeral", ephemeral.as_ref().map(bool_str))?;
        for s in state {
            w.field("state[]", s)?;
        }
        w.opt("continue", continue_.as_ref().map(bool_str))?;
        w.opt("quit", quit.as_ref().map(bool_str))?;
        Ok(w)
    }

    pub fn write_to<W: Write>(&self, out: &mut W) -> Result<(), ProtocolError> {
        self.encode()?.finish(out)?;
        Ok(())
    }

    pub fn is_empty(&self) -> bool {
        self.username.is_none()
            && self.password.is_none()
            && self.credential.is_none()
            && self.quit.is_none()
    }
}
