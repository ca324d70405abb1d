//! The one on-disk / in-keychain encoding of stored credentials: git-credential style
//! `key=value` lines, one block per credential, blocks separated by a blank line. The encoder is
//! the protocol's own [`LineWriter`], so a stored value can never contain CR, LF or NUL.
//!
//! A block holds `scope`, then `path` (only for an entry git stored with a path under a rule
//! whose scope key has none), `username`, `password`, `password_expiry_utc` and
//! `oauth_refresh_token`. Lines this version does not know (`authtype`, `credential`, whatever a
//! newer gocred writes) are kept with their entry, byte for byte and in their order, after the
//! known ones: rewriting the file or a keychain entry never loses them.

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
    /// The path git sent when it stored this entry (`credential.useHttpPath`), for a rule whose
    /// scope key does not hold the path. Such an entry answers only a request with the same path,
    /// or one without a path, as git's own helpers do.
    pub path: Option<String>,
    pub cred: Credential,
    /// `key=value` lines this version does not know, as read. They may hold secrets.
    pub unknown: Vec<Secret>,
}

impl Record {
    pub fn new(scope: ScopeKey, path: Option<String>, cred: Credential) -> Self {
        Record {
            scope,
            path,
            cred,
            unknown: Vec::new(),
        }
    }
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
        w.opt("path", r.path.as_deref())?;
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
        for line in &r.unknown {
            // decode split it at its first '=': the key holds none.
            let (key, value) = line.expose().split_once('=').unwrap_or((line.expose(), ""));
            w.field(key, value)?;
        }
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
        let (mut scope, mut path, mut username, mut password, mut expiry, mut refresh) =
            (None, None, None, None, None, None);
        let mut unknown = Vec::new();
        for line in block.split('\n').filter(|l| !l.is_empty()) {
            if line.contains(['\r', '\0']) {
                return Err(bad("a value holds a control character"));
            }
            let (key, value) = line
                .split_once('=')
                .ok_or_else(|| bad("a line has no '='"))?;
            match key {
                "scope" => scope = Some(ScopeKey(value.to_owned())),
                "path" => path = Some(value.to_owned()),
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
                _ => unknown.push(Secret::from(line)), // a newer gocred's: keep it
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
            path,
            cred,
            unknown,
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
        Record::new(
            ScopeKey(scope.into()),
            None,
            Credential {
                username: user.into(),
                password: Secret::from(pass),
                password_expiry_utc: Some(1_900_000_000),
                oauth_refresh_token: Some(Secret::from("r=1")),
            },
        )
    }

    #[test]
    fn unknown_fields_survive_a_rewrite_byte_for_byte() {
        let text = "scope=https://a.example\npath=g/r.git\nusername=\npassword=\n\
                    authtype=Bearer\ncredential=tok=en\nx-newer=\n\n\
                    scope=https://b.example\nusername=bob\npassword=pb\n\n";
        let records = decode(text.as_bytes()).unwrap();
        assert_eq!(records[0].path.as_deref(), Some("g/r.git"));
        assert_eq!(records[0].cred.username, "");
        assert_eq!(records[0].unknown.len(), 3);
        assert_eq!(encode(&records).unwrap().as_bytes(), text.as_bytes());
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
