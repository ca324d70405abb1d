//! The remote side: one request to the agent over its (forwarded) socket, with a hard deadline
//! for the whole exchange. Nothing is written to disk here.

use super::wire::{Deadline, Message, WireError, read_frame, write_frame};
use std::os::unix::net::UnixStream;
use std::path::{Path, PathBuf};
use std::time::Duration;

/// The variable that points a remote gocred at its agent.
pub const SOCKET_VAR: &str = "GOCRED_AGENT";
/// The variable that overrides the label sent with each request (default: the host name).
pub const LABEL_VAR: &str = "GOCRED_AGENT_LABEL";
/// The longest a remote waits for one answer (connect, send, answer), `--confirm` included.
pub const TIMEOUT: Duration = Duration::from_secs(30);
/// The variable that changes [`TIMEOUT`] (whole seconds, 1 to 600).
pub const TIMEOUT_VAR: &str = "GOCRED_AGENT_TIMEOUT";

/// The per-request deadline: `$GOCRED_AGENT_TIMEOUT` seconds, else [`TIMEOUT`].
pub fn timeout_from_env(env: &dyn Fn(&str) -> Option<String>) -> Result<Duration, String> {
    match env(TIMEOUT_VAR) {
        None => Ok(TIMEOUT),
        Some(v) if v.trim().is_empty() => Ok(TIMEOUT),
        Some(v) => match v.trim().parse::<u64>() {
            Ok(n @ 1..=600) => Ok(Duration::from_secs(n)),
            _ => Err(format!(
                "{TIMEOUT_VAR}={}: give whole seconds from 1 to 600",
                crate::redact::clean(&v)
            )),
        },
    }
}

#[derive(Debug, thiserror::Error)]
pub enum ClientError {
    #[error("the gocred agent at {socket} is not reachable ({reason})")]
    Unreachable { socket: String, reason: String },
    #[error("the gocred agent at {socket} failed: {source}")]
    Wire {
        socket: String,
        #[source]
        source: WireError,
    },
    #[error("the gocred agent at {socket} says: {note}")]
    Refused { socket: String, note: String },
}

pub struct Client {
    pub socket: PathBuf,
    pub label: String,
    pub timeout: Duration,
}

impl Client {
    pub fn new(socket: PathBuf, label: String, timeout: Duration) -> Self {
        Client {
            socket,
            label,
            timeout,
        }
    }

    fn shown(&self) -> String {
        crate::redact::clean(&self.socket.display().to_string())
    }

    /// Sends `op` with `fields` and `body`; the answer's status is `ok` or `refused` (an
    /// `error` becomes [`ClientError::Refused`]).
    pub fn request(
        &self,
        op: &str,
        fields: &[(&str, &str)],
        body: &[u8],
    ) -> Result<Message, ClientError> {
        let deadline = Deadline::after(self.timeout);
        let wire = |source| ClientError::Wire {
            socket: self.shown(),
            source,
        };
        let mut message = Message::new();
        message.push("op", op).map_err(wire)?;
        message.push("label", &self.label).map_err(wire)?;
        for (k, v) in fields {
            message.push(k, v).map_err(wire)?;
        }
        message.body.0.extend_from_slice(body);
        let payload = message.encode().map_err(wire)?;
        let mut stream = connect(&self.socket).map_err(|e| ClientError::Unreachable {
            socket: self.shown(),
            reason: e.to_string(),
        })?;
        write_frame(&mut stream, &payload.0, deadline).map_err(wire)?;
        let _ = stream.shutdown(std::net::Shutdown::Write);
        let answer = read_frame(&mut stream, deadline).map_err(|e| match e {
            WireError::Closed => wire(WireError::Truncated),
            e => wire(e),
        })?;
        let answer = Message::decode(&answer.0).map_err(wire)?;
        if answer.get("status") == Some("error") {
            return Err(ClientError::Refused {
                socket: self.shown(),
                note: answer.all("note").collect::<Vec<_>>().join("; "),
            });
        }
        Ok(answer)
    }
}

fn connect(path: &Path) -> std::io::Result<UnixStream> {
    // connect(2) on a Unix socket does not block on a live listener (a full backlog is an
    // error, not a wait), so the deadline starts with the first write.
    UnixStream::connect(path)
}

/// The label for this machine: `$GOCRED_AGENT_LABEL`, else the host name (a container's is
/// its id).
pub fn default_label(env: &dyn Fn(&str) -> Option<String>) -> String {
    if let Some(label) = env(LABEL_VAR).filter(|l| !l.trim().is_empty()) {
        return super::clean_label(label.trim());
    }
    let mut buf = [0u8; 256];
    // SAFETY: gethostname writes at most buf.len() bytes into the buffer we own.
    let r = unsafe { libc::gethostname(buf.as_mut_ptr().cast(), buf.len()) };
    let name = if r == 0 {
        let end = buf.iter().position(|&b| b == 0).unwrap_or(buf.len());
        String::from_utf8_lossy(&buf[..end]).into_owned()
    } else {
        String::new()
    };
    super::clean_label(&name)
}
