//! The one error type of the command line. Its kind alone picks the exit code; its message is one
//! line that names the file or host and the fix, and never holds a secret.

use crate::policy::ConfigError;
use crate::protocol::ProtocolError;
use crate::source::SourceError;
use std::process::ExitCode;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// Bad input, a broken config, a store that needs fixing: exit 1.
    User,
    /// A command line clap refused: exit 2.
    Usage,
    /// Our own bug: exit 255.
    Internal,
}

#[derive(Debug)]
pub struct CommandError {
    pub kind: Kind,
    pub message: String,
}

impl CommandError {
    pub fn user(message: impl Into<String>) -> Self {
        CommandError {
            kind: Kind::User,
            message: message.into(),
        }
    }

    pub fn exit_code(&self) -> ExitCode {
        ExitCode::from(match self.kind {
            Kind::User => 1,
            Kind::Usage => 2,
            Kind::Internal => 255,
        })
    }
}

impl From<ProtocolError> for CommandError {
    fn from(e: ProtocolError) -> Self {
        CommandError::user(format!("refusing the credential request from git: {e}"))
    }
}

impl From<ConfigError> for CommandError {
    fn from(e: ConfigError) -> Self {
        CommandError::user(e.to_string())
    }
}

impl From<SourceError> for CommandError {
    fn from(e: SourceError) -> Self {
        CommandError::user(e.to_string())
    }
}
