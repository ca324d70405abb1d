//! The agent's wire protocol: one request frame from the remote, one response frame back, then
//! the connection closes.
//!
//! A frame is a 4-byte big-endian length and that many bytes, at most [`MAX_FRAME`] (64 KiB); a
//! longer length is refused before anything is read or allocated. Its payload:
//!
//! ```text
//! gocred-agent/1          the version, alone on the first line
//! op=get                  key=value header lines (no NUL, CR or LF in a value)
//! label=devbox
//!                         an empty line
//! protocol=https ...      the body: raw bytes (git's request, a netrc, GOAUTH's answer)
//! ```
//!
//! A peer that speaks another version gets an `error` response naming both versions, and the
//! connection ends. Every read and write has a deadline ([`Deadline`]): a peer that sends half a
//! frame, or never reads the answer, costs the other side at most that long.

use crate::secret::SecretBytes;
use std::io::{self, Read, Write};
use std::os::unix::net::UnixStream;
use std::time::{Duration, Instant};

/// The version line this build speaks.
pub const VERSION: &str = "gocred-agent/1";
/// The largest payload either side sends or accepts.
pub const MAX_FRAME: usize = 64 * 1024;
/// The most header lines a message may carry (hosts for a netrc, notes in an answer).
const MAX_FIELDS: usize = 1024;

#[derive(Debug, thiserror::Error)]
pub enum WireError {
    #[error("the frame announces {0} bytes, more than the {MAX_FRAME} allowed")]
    Oversized(usize),
    #[error("the connection ended in the middle of a frame")]
    Truncated,
    #[error("the connection ended before a frame")]
    Closed,
    #[error("no answer within {0} s")]
    TimedOut(u64),
    #[error("unsupported protocol version \"{0}\" (this gocred speaks \"{VERSION}\")")]
    Version(String),
    #[error("malformed message: {0}")]
    Malformed(&'static str),
    #[error("{0}")]
    Io(io::Error),
}

/// A point in time after which a read or write gives up.
#[derive(Debug, Clone, Copy)]
pub struct Deadline {
    at: Instant,
    total: Duration,
}

impl Deadline {
    pub fn after(total: Duration) -> Self {
        Deadline {
            at: Instant::now() + total,
            total,
        }
    }

    fn remaining(&self) -> Result<Duration, WireError> {
        let left = self.at.saturating_duration_since(Instant::now());
        if left.is_zero() {
            Err(self.timed_out())
        } else {
            Ok(left)
        }
    }

    fn timed_out(&self) -> WireError {
        WireError::TimedOut(self.total.as_secs().max(1))
    }
}

/// One message: its header fields in order, and its body.
#[derive(Default)]
pub struct Message {
    pub fields: Vec<(String, String)>,
    /// May hold secrets (a git request with a password, a netrc): zeroed on drop.
    pub body: SecretBytes,
}

impl std::fmt::Debug for Message {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Message")
            .field("fields", &self.fields)
            .field("body", &format_args!("{} bytes", self.body.0.len()))
            .finish()
    }
}

impl Message {
    pub fn new() -> Self {
        Message::default()
    }

    /// Adds `key=value`; a value with NUL, CR or LF would forge a field and is refused.
    pub fn with(mut self, key: &str, value: &str) -> Result<Self, WireError> {
        self.push(key, value)?;
        Ok(self)
    }

    pub fn push(&mut self, key: &str, value: &str) -> Result<(), WireError> {
        if key.is_empty() || key.contains(['=', '\0', '\r', '\n']) {
            return Err(WireError::Malformed("a bad key"));
        }
        if value.contains(['\0', '\r', '\n']) {
            return Err(WireError::Malformed("a value with a control character"));
        }
        self.fields.push((key.to_owned(), value.to_owned()));
        Ok(())
    }

    /// The first value of `key`.
    pub fn get(&self, key: &str) -> Option<&str> {
        self.fields
            .iter()
            .find(|(k, _)| k == key)
            .map(|(_, v)| v.as_str())
    }

    /// Every value of `key`, in order.
    pub fn all<'m>(&'m self, key: &'m str) -> impl Iterator<Item = &'m str> + 'm {
        self.fields
            .iter()
            .filter(move |(k, _)| k == key)
            .map(|(_, v)| v.as_str())
    }

    /// The payload: version line, fields, empty line, body.
    pub fn encode(&self) -> Result<SecretBytes, WireError> {
        let mut out = SecretBytes::default();
        out.0.extend_from_slice(VERSION.as_bytes());
        out.0.push(b'\n');
        for (k, v) in &self.fields {
            out.0.extend_from_slice(k.as_bytes());
            out.0.push(b'=');
            out.0.extend_from_slice(v.as_bytes());
            out.0.push(b'\n');
        }
        out.0.push(b'\n');
        out.0.extend_from_slice(&self.body.0);
        if out.0.len() > MAX_FRAME {
            return Err(WireError::Oversized(out.0.len()));
        }
        Ok(out)
    }

    /// Reads a payload; a first line other than [`VERSION`] is [`WireError::Version`] with what
    /// the peer sent (sanitized, at most 64 characters).
    pub fn decode(payload: &[u8]) -> Result<Message, WireError> {
        let (first, mut rest) = split_line(payload).ok_or(WireError::Malformed("no version"))?;
        if first != VERSION.as_bytes() {
            let shown: String = String::from_utf8_lossy(first).chars().take(64).collect();
            return Err(WireError::Version(crate::redact::clean(&shown)));
        }
        let mut message = Message::new();
        loop {
            let (line, after) = split_line(rest).ok_or(WireError::Malformed("no end of header"))?;
            rest = after;
            if line.is_empty() {
                break;
            }
            if message.fields.len() == MAX_FIELDS {
                return Err(WireError::Malformed("too many fields"));
            }
            let line = std::str::from_utf8(line).map_err(|_| WireError::Malformed("not UTF-8"))?;
            let (k, v) = line
                .split_once('=')
                .ok_or(WireError::Malformed("a line without '='"))?;
            message.push(k, v)?;
        }
        message.body.0.extend_from_slice(rest);
        Ok(message)
    }
}

fn split_line(bytes: &[u8]) -> Option<(&[u8], &[u8])> {
    let i = bytes.iter().position(|&b| b == b'\n')?;
    Some((&bytes[..i], &bytes[i + 1..]))
}

/// Writes one frame before `deadline`.
pub fn write_frame(
    stream: &mut UnixStream,
    payload: &[u8],
    deadline: Deadline,
) -> Result<(), WireError> {
    if payload.len() > MAX_FRAME {
        return Err(WireError::Oversized(payload.len()));
    }
    let len = u32::try_from(payload.len()).map_err(|_| WireError::Oversized(payload.len()))?;
    let mut written = 0;
    let mut head = len.to_be_bytes().to_vec();
    head.extend_from_slice(payload);
    let frame = SecretBytes(head);
    while written < frame.0.len() {
        stream
            .set_write_timeout(Some(deadline.remaining()?))
            .map_err(WireError::Io)?;
        match stream.write(&frame.0[written..]) {
            Ok(0) => return Err(WireError::Closed),
            Ok(n) => written += n,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) if is_timeout(&e) => return Err(deadline.timed_out()),
            Err(e) => return Err(WireError::Io(e)),
        }
    }
    Ok(())
}

/// Reads one frame before `deadline`. A length over [`MAX_FRAME`] is refused unread.
pub fn read_frame(stream: &mut UnixStream, deadline: Deadline) -> Result<SecretBytes, WireError> {
    let mut head = [0u8; 4];
    match read_full(stream, &mut head, deadline)? {
        0 => return Err(WireError::Closed),
        4 => {}
        _ => return Err(WireError::Truncated),
    }
    let len = u32::from_be_bytes(head) as usize;
    if len > MAX_FRAME {
        return Err(WireError::Oversized(len));
    }
    let mut payload = SecretBytes(vec![0; len]);
    if read_full(stream, &mut payload.0, deadline)? != len {
        return Err(WireError::Truncated);
    }
    Ok(payload)
}

/// Fills `buf` unless the peer closes first; returns how much was read.
fn read_full(
    stream: &mut UnixStream,
    buf: &mut [u8],
    deadline: Deadline,
) -> Result<usize, WireError> {
    let mut filled = 0;
    while filled < buf.len() {
        stream
            .set_read_timeout(Some(deadline.remaining()?))
            .map_err(WireError::Io)?;
        match stream.read(&mut buf[filled..]) {
            Ok(0) => break,
            Ok(n) => filled += n,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) if is_timeout(&e) => return Err(deadline.timed_out()),
            Err(e) => return Err(WireError::Io(e)),
        }
    }
    Ok(filled)
}

fn is_timeout(e: &io::Error) -> bool {
    matches!(
        e.kind(),
        io::ErrorKind::WouldBlock | io::ErrorKind::TimedOut
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_message_survives_encoding_and_forged_fields_are_refused() {
        let mut m = Message::new().with("op", "get").unwrap();
        m.body
            .0
            .extend_from_slice(b"protocol=https\nhost=h.example\n\n");
        let back = Message::decode(&m.encode().unwrap().0).unwrap();
        assert_eq!(back.get("op"), Some("get"));
        assert_eq!(back.body.0, b"protocol=https\nhost=h.example\n\n");
        assert!(Message::new().with("label", "x\nop=store").is_err());
        assert!(Message::new().with("op=x", "y").is_err());
    }

    #[test]
    fn another_version_is_refused_by_name() {
        let e = Message::decode(b"gocred-agent/7\nop=get\n\n").unwrap_err();
        assert_eq!(
            e.to_string(),
            "unsupported protocol version \"gocred-agent/7\" (this gocred speaks \"gocred-agent/1\")"
        );
        assert!(matches!(
            Message::decode(b"gocred-agent/1\nop=get\n"),
            Err(WireError::Malformed(_))
        ));
    }

    #[test]
    fn frames_over_the_limit_are_refused_before_reading() {
        let (mut a, mut b) = UnixStream::pair().unwrap();
        a.write_all(&(MAX_FRAME as u32 + 1).to_be_bytes()).unwrap();
        let e = read_frame(&mut b, Deadline::after(Duration::from_secs(2)))
            .err()
            .unwrap();
        assert!(
            matches!(e, WireError::Oversized(n) if n == MAX_FRAME + 1),
            "{e}"
        );
        // Half a frame, then silence: the deadline ends the wait.
        a.write_all(&10u32.to_be_bytes()).unwrap();
        a.write_all(b"abc").unwrap();
        let started = Instant::now();
        let e = read_frame(&mut b, Deadline::after(Duration::from_millis(300)))
            .err()
            .unwrap();
        assert!(matches!(e, WireError::TimedOut(_)), "{e}");
        assert!(started.elapsed() < Duration::from_secs(2));
        // Half a frame, then the peer goes away.
        a.write_all(&10u32.to_be_bytes()).unwrap();
        a.write_all(b"abc").unwrap();
        drop(a);
        let e = read_frame(&mut b, Deadline::after(Duration::from_secs(2)))
            .err()
            .unwrap();
        assert!(matches!(e, WireError::Truncated), "{e}");
    }
}
