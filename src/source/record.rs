//! The one on-disk / in-keychain encoding of stored credentials: git-credential style
//! `key=value` lines, one block per credential, blocks separated by a blank line. The encoder is
//! the protocol's own [`LineWriter`], so a stored value can never contain CR, LF or NUL.

use crate::policy::ScopeKey;
use crate::protocol::{LineWriter, ProtocolError};
use crate::secret::Secret;

#[derive(Debug, Clone, PartialEq)]
pub struct Credential {
    pub username: String,
    pub password: Secret,
    pub password_expiry_utc: Option<u64>,
    pub oauth_refresh_token: Option<Secret>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Record {
    pub scope: ScopeKey,
    pub cred: Credential,
}

#[derive(Debug, thiserror::Error)]
pub enum RecordError {
    #[error("entry {block} is malformed: {reason}")]
    Malformed { block: usize, reason: &'static str },
    #[error(transparent)]
    Encode(#[from] ProtocolError),
}

pub fn encode(records: &[Record]) -> Result<LineWriter, RecordError> {
    let mut w = LineWriter::new();
    for r in records {
        let c = &r.cred;
        w.field("scope", r.scope.as_str())?;
        w.field("username", &c.username)?;
        w.field("password", c.password.expose())?;
        w.opt(
            "password_expiry_utc",
            c.password_expiry_utc.map(|t| t.to_string()).as_deref(),
        )?;
        w.opt(
            "oauth_refresh_token",
            c.oauth_refresh_token.as_ref().map(Secret::expose),
        )?;
        w.blank_line();
    }
    Ok(w)
}

pub fn decode(bytes: &[u8]) -> Result<Vec<Record>, RecordError> {
    let text = std::str::from_utf8(bytes).map_err(|_| RecordError::Malformed {
        block: 1,
        reason: "not UTF-8",
    })?;
    let mut records = Vec::new();
    for (i, block) in text.split("\n\n").enumerate() {
        let block_no = i + 1;
        let bad = |reason| RecordError::Malformed {
            block: block_no,
            reason,
        };
        if block.trim_matches('\n').is_empty() {
            continue;
        }
        let (mut scope, mut username, mut password, mut expiry, mut refresh) =
            (None, None, None, None, None);
        for line in block.split('\n').filter(|l| !l.is_empty()) {
            if line.contains(['\r', '\0']) {
                return Err(bad("a value holds a control character"));
            }
            let (key, value) = line
                .split_once('=')
                .ok_or_else(|| bad("a line has no '='"))?;
            match key {
                "scope" => scope = Some(ScopeKey(value.to_owned())),
                "username" => username = Some(value.to_owned()),
                "password" => password = Some(Secret::from(value)),
                "password_expiry_utc" => {
                    expiry = Some(
                        value
                            .parse()
                            .map_err(|_| bad("the expiry is not a number"))?,
                    )
                }
                "oauth_refresh_token" => refresh = Some(Secret::from(value)),
                _ => {} // written by a newer gocred: keep reading
            }
        }
        let cred = Credential {
            username: username.ok_or_else(|| bad("no username"))?,
            password: password.ok_or_else(|| bad("no password"))?,
            password_expiry_utc: expiry,
            oauth_refresh_token: refresh,
        };
        records.push(Record {
            scope: scope.ok_or_else(|| bad("no scope"))?,
            cred,
        });
    }
    Ok(records)
}

impl Record {
    pub fn info(&self) -> super::StoredInfo {
        super::StoredInfo {
            scope: self.scope.clone(),
            username: self.cred.username.clone(),
            password_expiry_utc: self.cred.password_expiry_utc,
            has_refresh_token: self.cred.oauth_refresh_token.is_some(),
            problem: None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rec(scope: &str, user: &str, pass: &str) -> Record {
        Record {
            scope: ScopeKey(scope.into()),
            cred: Credential {
                username: user.into(),
                password: Secret::from(pass),
                password_expiry_utc: Some(1_900_000_000),
                oauth_refresh_token: Some(Secret::from("r=1")),
            },
        }
    }

    #[test]
    fn round_trips_and_keeps_order() {
        let records = vec![
            rec("https://a.example", "alice", "p=1"),
            rec("https://b.example:8443/g/r", "bob", ""),
        ];
        let bytes = encode(&records).unwrap();
        assert_eq!(decode(bytes.as_bytes()).unwrap(), records);
    }

    #[test]
    fn refuses_values_that_would_inject_a_line() {
        assert!(encode(&[rec("https://a.example", "alice\nscope=https://evil", "p")]).is_err());
        assert!(encode(&[rec("https://a.example", "alice", "p\r")]).is_err());
    }

    #[test]
    fn malformed_blocks_are_named() {
        let err =
            decode(b"scope=https://a\nusername=u\npassword=p\n\nscope=https://b\nusername=u\n")
                .unwrap_err();
        assert_eq!(err.to_string(), "entry 2 is malformed: no password");
        assert!(decode(b"scope=x\nusername\n").is_err());
        assert!(decode(b"").unwrap().is_empty());
    }
}
