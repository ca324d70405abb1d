//! The one error type of the command line, shaped as jj's `CommandError`: a [`Kind`] that alone
//! picks the exit code, a message of one line that names the file or host and the fix, the
//! chain of causes under it, and hints. [`CommandError::render`] prints
//!
//! ```text
//! gocred: <message>
//! Caused by: <cause>            (or "Caused by:" and one numbered line per cause)
//! Hint: <hint>
//! ```
//!
//! and `cli::main` sends that through the redaction filter on stderr. No part of it is ever Rust
//! `Debug` text: causes are taken from `Display`, and library errors whose `Display` is Debug
//! in disguise (rustls, webpki) are put into words where they are made (`crate::net::tls`).

use crate::policy::ConfigError;
use crate::protocol::ProtocolError;
use crate::source::SourceError;
use std::process::ExitCode;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// Bad input, a store that needs fixing, a refused request: exit 1.
    User,
    /// The policy file or a `GOCRED_*` variable is wrong: exit 1.
    Config,
    /// A command line clap refused: exit 2.
    Usage,
    /// Our own bug: exit 255.
    Internal,
}

impl Kind {
    pub fn exit_status(self) -> u8 {
        match self {
            Kind::User | Kind::Config => 1,
            Kind::Usage => 2,
            Kind::Internal => 255,
        }
    }
}

#[derive(Debug, Clone)]
pub struct CommandError {
    pub kind: Kind,
    /// One line: what failed, naming the file, host or variable.
    pub message: String,
    /// Why, outermost first (each a `Display`, never a `Debug`).
    pub causes: Vec<String>,
    /// What to do about it.
    pub hints: Vec<String>,
}

impl CommandError {
    pub fn new(kind: Kind, message: impl Into<String>) -> Self {
        CommandError {
            kind,
            message: message.into(),
            causes: Vec::new(),
            hints: Vec::new(),
        }
    }

    pub fn user(message: impl Into<String>) -> Self {
        Self::new(Kind::User, message)
    }

    pub fn config(message: impl Into<String>) -> Self {
        Self::new(Kind::Config, message)
    }

    /// Our own bug: the message should start with "BUG:".
    pub fn internal(message: impl Into<String>) -> Self {
        Self::new(Kind::Internal, message)
    }

    /// Adds `error` and every `source()` under it to the causes.
    pub fn caused_by(mut self, error: &(dyn std::error::Error + 'static)) -> Self {
        let mut next = Some(error);
        while let Some(e) = next {
            self.causes.push(e.to_string());
            next = e.source();
        }
        self
    }

    /// Adds one cause given as words.
    pub fn because(mut self, cause: impl Into<String>) -> Self {
        self.causes.push(cause.into());
        self
    }

    pub fn hinted(mut self, hint: impl Into<String>) -> Self {
        self.hints.push(hint.into());
        self
    }

    pub fn exit_code(&self) -> ExitCode {
        ExitCode::from(self.kind.exit_status())
    }

    /// What a person sees: the message, the causes and the hints, one per line, each line
    /// ending in `\n`. Causes that repeat the message or an earlier cause are left out.
    pub fn render(&self) -> String {
        let one_line = |s: &str| s.trim().replace(['\r', '\n'], " ");
        let mut out = format!("gocred: {}\n", one_line(&self.message));
        let mut causes: Vec<String> = Vec::new();
        for c in self.causes.iter().map(|c| one_line(c)) {
            if !c.is_empty() && !self.message.contains(&c) && !causes.contains(&c) {
                causes.push(c);
            }
        }
        match causes.as_slice() {
            [] => {}
            [one] => out.push_str(&format!("Caused by: {one}\n")),
            many => {
                out.push_str("Caused by:\n");
                for (i, c) in many.iter().enumerate() {
                    out.push_str(&format!("{}: {c}\n", i + 1));
                }
            }
        }
        for h in &self.hints {
            out.push_str(&format!("Hint: {}\n", one_line(h)));
        }
        out
    }
}

impl std::fmt::Display for CommandError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.message)
    }
}

impl From<ProtocolError> for CommandError {
    fn from(e: ProtocolError) -> Self {
        CommandError::user(format!("refusing the credential request from git: {e}"))
    }
}

impl From<ConfigError> for CommandError {
    fn from(e: ConfigError) -> Self {
        CommandError::config(e.to_string())
    }
}

impl From<crate::source::sources::Error> for CommandError {
    fn from(e: crate::source::sources::Error) -> Self {
        use crate::source::sources::Error;
        match e {
            Error::NoFileStore { .. } => CommandError::config(e.to_string()),
            Error::NotAStore { .. } => CommandError::internal(e.to_string()),
            Error::Source { error, .. } => error.into(),
        }
    }
}

impl From<SourceError> for CommandError {
    fn from(e: SourceError) -> Self {
        CommandError::user(e.to_string())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Debug, thiserror::Error)]
    #[error("outer")]
    struct Outer(#[source] std::io::Error);

    #[test]
    fn render_prints_causes_and_hints_one_line_each() {
        let e = CommandError::user("cannot write /x")
            .caused_by(&Outer(std::io::Error::other("disk full")))
            .hinted("free some space\nthen retry");
        assert_eq!(
            e.render(),
            "gocred: cannot write /x\nCaused by:\n1: outer\n2: disk full\nHint: free some space then retry\n"
        );
        let e = CommandError::config("bad").because("bad").because("why");
        assert_eq!(e.render(), "gocred: bad\nCaused by: why\n");
        assert_eq!(e.kind.exit_status(), 1);
        assert_eq!(CommandError::internal("BUG: x").kind.exit_status(), 255);
    }
}
