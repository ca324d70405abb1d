//! `.netrc` files: written so that every reader reads them back exactly, and read the way the
//! readers that matter read them.
//!
//! There is no one netrc format. ftp(1) and the GNU inetutils manual describe whitespace-separated
//! tokens (`machine NAME`, `default`, `login`, `password`, `account`, `macdef NAME` with a body up
//! to an empty line), and each reader departs from it its own way:
//! - [`curl`]: libcurl, so git (which reads `~/.netrc` through it, never `$NETRC`): keywords in
//!   any letter case, `#` comments at any token, quoted values, line rules of its `fgets` buffer,
//!   `machine` compared without the port;
//! - [`go`]: the go command (`$NETRC`, else `~/.netrc`): (keyword, value) pairs per line, no
//!   comments or quotes, `machine` compared exactly with `host[:port]`;
//! - Python's `netrc` module: backslash escapes even unquoted, `user` as `login`, the last entry
//!   for a name wins.
//!
//! [`render_entry`] writes only tokens on which all of them agree; [`import`] pairs each host of
//! a file with what git would send it. Errors never hold a value: a value may be a password.

use crate::secret::Secret;

pub mod build;
pub mod curl;
pub mod filing;
pub mod go;
pub mod import;

pub use build::{Built, build};

/// Why an entry cannot be written as a netrc line that Go and curl both read back exactly.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RenderError {
    #[error("the {what} is empty")]
    Empty { what: &'static str },
    #[error("the {what} is a netrc keyword, which a netrc reader could take for one")]
    Keyword { what: &'static str },
    #[error(
        "the {what} holds whitespace, a quote, a backslash or a control character, or starts with '#', which curl, Go or Python would read differently"
    )]
    Unrepresentable { what: &'static str },
    #[error("the entry would be a line of more than 4094 bytes, which git's libcurl drops")]
    TooLong,
}

/// Words every netrc reader treats as keywords somewhere (curl, Go, Python, inetutils: `user` is
/// Python's alias of `login`). A value spelled like one, in any letter case, is never written.
const KEYWORDS: [&str; 7] = [
    "machine", "default", "login", "password", "account", "macdef", "user",
];

/// The longest line curl 7.86 to 8.6 (Debian 12's libcurl, so git there) reads: a line of 4095
/// bytes or more before its newline is dropped whole; 7.61 to 7.85 split it in two.
pub const CURL_MAX_LINE: usize = 4094;

/// Whether `value` is a token that curl, Go's reader and Python's `netrc` all read back as
/// exactly itself, in a value position or a keyword position: not empty, not a keyword in any
/// letter case, no whitespace (Unicode's, which Go splits on) or control character, no `"`
/// (curl and Python unquote) or `\` (Python unescapes, even unquoted), no `#` first (curl
/// starts a comment at any token).
pub fn check_value(value: &str, what: &'static str) -> Result<(), RenderError> {
    if value.is_empty() {
        return Err(RenderError::Empty { what });
    }
    if KEYWORDS.iter().any(|k| value.eq_ignore_ascii_case(k)) {
        return Err(RenderError::Keyword { what });
    }
    if value.starts_with('#')
        || value
            .chars()
            .any(|c| c.is_whitespace() || c.is_control() || c == '"' || c == '\\')
    {
        return Err(RenderError::Unrepresentable { what });
    }
    Ok(())
}

/// One `machine HOST login USER password TOKEN` line (with its newline), checked first.
pub fn render_entry(machine: &str, login: &str, password: &Secret) -> Result<String, RenderError> {
    check_value(machine, "host name")?;
    check_value(login, "user name")?;
    check_value(password.expose(), "password")?;
    let line = format!(
        "machine {machine} login {login} password {}\n",
        password.expose()
    );
    if line.len() - 1 > CURL_MAX_LINE {
        let mut line = line;
        zeroize::Zeroize::zeroize(&mut line);
        return Err(RenderError::TooLong);
    }
    Ok(line)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn renders_one_line_every_reader_reads_back() {
        let line = render_entry("h.example:8443", "oauth2", &Secret::from("tok-1_x.y#z")).unwrap();
        assert_eq!(
            line,
            "machine h.example:8443 login oauth2 password tok-1_x.y#z\n"
        );
        let go = go::entries(line.as_bytes());
        assert_eq!(
            (
                go[0].machine.as_str(),
                go[0].login.as_str(),
                go[0].password.expose()
            ),
            ("h.example:8443", "oauth2", "tok-1_x.y#z")
        );
        let line = render_entry("h.example", "u", &Secret::from("p")).unwrap();
        let (l, p) = curl::lookup(line.as_bytes(), "h.example").sent().unwrap();
        assert_eq!((l.as_str(), p.expose()), ("u", "p"));
    }

    #[test]
    fn refuses_what_a_reader_would_misread_and_never_says_the_value() {
        for (m, l, p) in [
            ("h", "u", "has space-SENTINEL"),
            ("h", "u", "tab\tSENTINEL"),
            ("h", "u", "nbsp\u{a0}SENTINEL"),
            ("h", "u", "#SENTINEL"),
            ("h", "u", "\"SENTINEL"),
            ("h", "u", "back\\SENTINEL"),
            ("h", "u", "SENTINEL\n"),
            ("h", "u", "SENTINEL\u{b}"),
            ("h", "", "SENTINEL"),
            ("h", "u", ""),
            ("h h", "u", "SENTINEL"),
            ("h", "machine", "SENTINEL"),
            ("h", "u", "Password"),
            ("DEFAULT", "u", "SENTINEL"),
            ("h", "MacDef", "SENTINEL"),
            ("h", "account", "SENTINEL"),
            ("h", "user", "SENTINEL"),
        ] {
            let e = render_entry(m, l, &Secret::from(p)).unwrap_err();
            assert!(!e.to_string().contains("SENTINEL"), "{e}");
        }
        let long = "x".repeat(CURL_MAX_LINE);
        assert_eq!(
            render_entry("h", "u", &Secret::from(long.as_str())),
            Err(RenderError::TooLong)
        );
        let fits = "x".repeat(CURL_MAX_LINE - "machine h login u password ".len());
        assert!(render_entry("h", "u", &Secret::from(fits.as_str())).is_ok());
    }
}
