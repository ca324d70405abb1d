//! Line-level encoding shared by the decoder, the encoder and the stores that reuse the format.

use crate::secret::SecretBytes;
use std::io::{self, Write};

/// Why a request, a response or a stored record was refused. Never carries a value: values may be secrets.
#[derive(Debug, thiserror::Error)]
pub enum ProtocolError {
    #[error("input line {line} is not of the form key=value")]
    NoEquals { line: usize },
    #[error("the value of '{key}' contains a {what}, which the credential protocol forbids")]
    ForbiddenChar { key: String, what: &'static str },
    #[error("input line {line} contains a {what}, which the credential protocol forbids")]
    ForbiddenCharInLine { line: usize, what: &'static str },
    #[error("input line {line} is not valid UTF-8")]
    NotUtf8 { line: usize },
    #[error("input line {line} is longer than {max} bytes")]
    LineTooLong { line: usize, max: usize },
    #[error("the request is larger than {max} bytes")]
    RequestTooLarge { max: usize },
    #[error("'{key}' is not a boolean (use true or false)")]
    NotABool { key: String },
    #[error("'{key}' is not a Unix timestamp")]
    NotATimestamp { key: String },
    #[error("the url attribute is not valid: {reason}")]
    BadUrl { reason: String },
    #[error("the url attribute disagrees with the explicit '{key}' attribute")]
    UrlConflict { key: &'static str },
    #[error("the request has no '{key}' attribute")]
    Missing { key: &'static str },
    #[error("could not read the request: {0}")]
    Io(#[from] io::Error),
}

/// Names the first forbidden character in `s`, if any.
pub(crate) fn forbidden_char(s: &str) -> Option<&'static str> {
    s.bytes().find_map(|b| match b {
        b'\r' => Some("carriage return (CR)"),
        b'\n' => Some("line feed (LF)"),
        0 => Some("NUL byte"),
        _ => None,
    })
}

/// Builds `key=value\n` lines in a buffer that is zeroed when dropped, refusing any
/// value that could break the line structure. Nothing reaches the sink until [`LineWriter::finish`].
#[derive(Default)]
pub struct LineWriter {
    buf: SecretBytes,
}

impl LineWriter {
    pub fn new() -> Self {
        Self::default()
    }

    pub fn field(&mut self, key: &str, value: &str) -> Result<&mut Self, ProtocolError> {
        if let Some(what) = forbidden_char(value) {
            return Err(ProtocolError::ForbiddenChar {
                key: key.to_owned(),
                what,
            });
        }
        debug_assert!(
            forbidden_char(key).is_none() && !key.contains('='),
            "BUG: bad key {key}"
        );
        self.buf.0.extend_from_slice(key.as_bytes());
        self.buf.0.push(b'=');
        self.buf.0.extend_from_slice(value.as_bytes());
        self.buf.0.push(b'\n');
        Ok(self)
    }

    pub fn opt(&mut self, key: &str, value: Option<&str>) -> Result<&mut Self, ProtocolError> {
        match value {
            Some(v) => self.field(key, v),
            None => Ok(self),
        }
    }

    pub fn blank_line(&mut self) -> &mut Self {
        self.buf.0.push(b'\n');
        self
    }

    pub fn as_bytes(&self) -> &[u8] {
        &self.buf.0
    }

    /// Writes everything in one call and flushes.
    pub fn finish<W: Write>(&self, out: &mut W) -> io::Result<()> {
        out.write_all(&self.buf.0)?;
        out.flush()
    }
}
