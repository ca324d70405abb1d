//! The git credential wire protocol, as git-credential(1) and gitcredentials(7) define it.
//!
//! Pure: no I/O beyond a generic `BufRead`/`Write`. A request is `key=value` lines ending at a blank
//! line or EOF. Every attribute git 2.41+ sends has a typed field in [`Request`]; unknown keys are
//! skipped. Values containing CR, LF or NUL are refused on the way in *and* on the way out, so no
//! value can ever inject a line. Line length and request size are bounded ([`Limits`]).

mod line;
mod request;
mod response;
mod url;

pub(crate) use line::forbidden_char;
pub use line::{LineWriter, ProtocolError};
pub use request::{Limits, Request, decode, read_request};
pub use response::Response;
pub use url::{UrlParts, parse_url};

/// Parses a boolean the way git's `git_config_bool` does.
pub(crate) fn parse_bool(value: &str) -> Option<bool> {
    match value.to_ascii_lowercase().as_str() {
        "1" | "true" | "yes" | "on" => Some(true),
        "0" | "false" | "no" | "off" | "" => Some(false),
        _ => None,
    }
}

#[cfg(test)]
mod tests;
