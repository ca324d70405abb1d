//! `.netrc`: parsed the way Go and curl read it, and rendered so that both read it back.
//!
//! Format (ftp(1), the GNU inetutils manual, curl's and Go's readers): whitespace-separated tokens,
//! where a token may span lines. Keywords: `machine NAME`, `default`, `login NAME`,
//! `password VALUE`, `account VALUE`, `macdef NAME` (its body is every following line up to an
//! empty one). A line whose first token starts with `#` is a comment (curl), and so is the rest of a
//! line from a `#` token where a keyword is expected. A value may be double-quoted as curl ≥ 7.84
//! accepts (`"a b"`, with `\"`, `\\`, `\n`, `\r`, `\t` escapes); Go does not unquote, so
//! [`render`] refuses values that would need quotes rather than write what Go would misread.
//!
//! Go reads `machine` names with their port (`machine h.example:8443`), stops at `default` and
//! ignores it, and needs `machine`, `login` and `password` on every entry.
//!
//! Errors carry a line number and never a value: a value may be a password.

use crate::secret::Secret;

pub mod curl;
pub mod go;
pub mod import;

/// One `machine` (or the `default`) entry.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Entry {
    /// `None` for the `default` entry.
    pub machine: Option<String>,
    pub login: Option<String>,
    pub password: Option<Secret>,
    pub account: Option<Secret>,
    /// 1-based line of the `machine`/`default` keyword.
    pub line: usize,
}

/// A parsed file: entries in file order, and the names of macros (their bodies are skipped).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Netrc {
    pub entries: Vec<Entry>,
    pub macros: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("line {line}: {message}")]
pub struct ParseError {
    pub line: usize,
    pub message: String,
}

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

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Keyword {
    Machine,
    Default,
    Login,
    Password,
    Account,
    Macdef,
}

impl Keyword {
    fn parse(token: &str) -> Option<Keyword> {
        Some(match token {
            "machine" => Keyword::Machine,
            "default" => Keyword::Default,
            "login" => Keyword::Login,
            "password" => Keyword::Password,
            "account" => Keyword::Account,
            "macdef" => Keyword::Macdef,
            _ => return None,
        })
    }

    fn name(self) -> &'static str {
        match self {
            Keyword::Machine => "machine",
            Keyword::Default => "default",
            Keyword::Login => "login",
            Keyword::Password => "password",
            Keyword::Account => "account",
            Keyword::Macdef => "macdef",
        }
    }
}

struct Token {
    text: String,
    line: usize,
    quoted: bool,
}

/// Splits the input into tokens, skipping `macdef` bodies and comments on the way: both depend
/// on where a line starts, which the token stream alone no longer knows.
struct Lexer<'t> {
    lines: std::iter::Peekable<std::iter::Enumerate<std::str::Split<'t, char>>>,
    /// The rest of the current line and its 1-based number.
    current: Option<(usize, &'t str)>,
}

impl<'t> Lexer<'t> {
    fn new(text: &'t str) -> Self {
        Lexer {
            lines: text.split('\n').enumerate().peekable(),
            current: None,
        }
    }

    /// Skips every line up to and including the next empty (or CR-only) one.
    fn skip_macro_body(&mut self) {
        self.current = None;
        for (_, line) in self.lines.by_ref() {
            if line.trim_end_matches('\r').is_empty() {
                break;
            }
        }
    }

    /// Drops the rest of the current line.
    fn skip_line(&mut self) {
        self.current = None;
    }

    fn next_token(&mut self) -> Result<Option<Token>, ParseError> {
        loop {
            let (line_no, rest) = match self.current.take() {
                Some(c) => c,
                None => match self.lines.next() {
                    Some((i, line)) => (i + 1, line),
                    None => return Ok(None),
                },
            };
            let rest = rest.trim_start_matches(|c: char| c.is_ascii_whitespace());
            if rest.is_empty() {
                continue;
            }
            if let Some(body) = rest.strip_prefix('"') {
                let mut text = String::new();
                let mut chars = body.char_indices();
                let end = loop {
                    match chars.next() {
                        None => {
                            return Err(ParseError {
                                line: line_no,
                                message: "a quoted value has no closing '\"' on its line".into(),
                            });
                        }
                        Some((i, '"')) => break i + 1,
                        Some((_, '\\')) => match chars.next() {
                            Some((_, 'n')) => text.push('\n'),
                            Some((_, 'r')) => text.push('\r'),
                            Some((_, 't')) => text.push('\t'),
                            Some((_, c)) => text.push(c),
                            None => {
                                return Err(ParseError {
                                    line: line_no,
                                    message: "a quoted value has no closing '\"' on its line"
                                        .into(),
                                });
                            }
                        },
                        Some((_, c)) => text.push(c),
                    }
                };
                let after = &body[end..];
                if after
                    .chars()
                    .next()
                    .is_some_and(|c| !c.is_ascii_whitespace())
                {
                    return Err(ParseError {
                        line: line_no,
                        message: "a quoted value must be followed by whitespace".into(),
                    });
                }
                self.current = Some((line_no, after));
                return Ok(Some(Token {
                    text,
                    line: line_no,
                    quoted: true,
                }));
            }
            let end = rest
                .find(|c: char| c.is_ascii_whitespace())
                .unwrap_or(rest.len());
            self.current = Some((line_no, &rest[end..]));
            return Ok(Some(Token {
                text: rest[..end].to_owned(),
                line: line_no,
                quoted: false,
            }));
        }
    }
}

/// Parses a whole netrc file.
pub fn parse(text: &str) -> Result<Netrc, ParseError> {
    let mut lexer = Lexer::new(text);
    let mut netrc = Netrc::default();
    let mut current: Option<Entry> = None;
    let mut seen_default = false;
    while let Some(token) = lexer.next_token()? {
        if !token.quoted && token.text.starts_with('#') {
            // curl: a line starting with '#' is a comment; elsewhere a '#' where a keyword is
            // expected starts a comment too (a value that starts with '#' is still a value).
            lexer.skip_line();
            continue;
        }
        let err = |message: String| ParseError {
            line: token.line,
            message,
        };
        let keyword = match (token.quoted, Keyword::parse(&token.text)) {
            (false, Some(k)) => k,
            _ => {
                let known = Keyword::parse(&token.text.to_ascii_lowercase());
                // Only a keyword's own spelling is echoed: any other word may be part of a secret.
                return Err(err(match known {
                    Some(k) => format!("`{}`: netrc keywords are lower case (`{}`)", token.text, k.name()),
                    None => "expected one of machine, default, login, password, account, macdef (a value with spaces must be in double quotes)".into(),
                }));
            }
        };
        match keyword {
            Keyword::Machine | Keyword::Default => {
                if seen_default {
                    return Err(err(format!(
                        "`{}` after `default`: `default` must come last (Go ignores everything after it)",
                        keyword.name()
                    )));
                }
                netrc.entries.extend(current.take());
                let machine = if keyword == Keyword::Machine {
                    let name = value(&mut lexer, keyword, token.line)?;
                    if name.is_empty() {
                        return Err(err("`machine` needs a host name".into()));
                    }
                    Some(name)
                } else {
                    seen_default = true;
                    None
                };
                current = Some(Entry {
                    machine,
                    login: None,
                    password: None,
                    account: None,
                    line: token.line,
                });
            }
            Keyword::Macdef => {
                value(&mut lexer, keyword, token.line).map(|name| netrc.macros.push(name))?;
                lexer.skip_macro_body();
            }
            Keyword::Login | Keyword::Password | Keyword::Account => {
                let v = value(&mut lexer, keyword, token.line)?;
                let Some(entry) = current.as_mut() else {
                    return Err(err(format!(
                        "`{}` before any `machine` or `default`",
                        keyword.name()
                    )));
                };
                let twice = match keyword {
                    Keyword::Login => entry.login.replace(v).is_some(),
                    Keyword::Password => entry.password.replace(Secret::new(v)).is_some(),
                    _ => entry.account.replace(Secret::new(v)).is_some(),
                };
                if twice {
                    return Err(err(format!(
                        "a second `{}` for the entry that starts on line {}",
                        keyword.name(),
                        entry.line
                    )));
                }
            }
        }
    }
    netrc.entries.extend(current);
    Ok(netrc)
}

/// The value after `keyword`; it may be on a later line, but must exist.
fn value(lexer: &mut Lexer<'_>, keyword: Keyword, line: usize) -> Result<String, ParseError> {
    match lexer.next_token()? {
        Some(t) => Ok(t.text),
        None => Err(ParseError {
            line,
            message: format!(
                "`{}` has no value before the end of the file",
                keyword.name()
            ),
        }),
    }
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

    fn entry(machine: Option<&str>, login: &str, password: &str, line: usize) -> Entry {
        Entry {
            machine: machine.map(str::to_owned),
            login: Some(login.into()),
            password: Some(Secret::from(password)),
            account: None,
            line,
        }
    }

    fn parsed(text: &str) -> Vec<Entry> {
        parse(text)
            .unwrap_or_else(|e| panic!("{e}: {text:?}"))
            .entries
    }

    #[test]
    fn one_line_and_many_line_entries() {
        assert_eq!(
            parsed(
                "machine a.example login alice password s1\nmachine b.example:8443 login bob password s2\n"
            ),
            [
                entry(Some("a.example"), "alice", "s1", 1),
                entry(Some("b.example:8443"), "bob", "s2", 2)
            ]
        );
        // Tokens split by any whitespace, across lines, tabs, CRLF.
        assert_eq!(
            parsed("machine\ta.example\r\n  login alice\r\n\tpassword   s1\r\n"),
            [entry(Some("a.example"), "alice", "s1", 1)]
        );
        assert_eq!(
            parsed("machine\na.example\nlogin\nalice\npassword\ns1"),
            [entry(Some("a.example"), "alice", "s1", 1)]
        );
        // Order within an entry does not matter; account is kept apart.
        let e = &parsed("machine h password p account acct login u")[0];
        assert_eq!(
            (e.login.as_deref(), e.password.as_ref().map(Secret::expose)),
            (Some("u"), Some("p"))
        );
        assert_eq!(e.account.as_ref().map(Secret::expose), Some("acct"));
    }

    #[test]
    fn default_comments_and_macros() {
        let text = "# my hosts\n\
                    machine a.example login alice password s1 # trailing comment\n\
                    macdef init\n\
                    cd /pub\n\
                    machine fake login x password y\n\
                    \n\
                    machine b.example login bob password #not-a-comment\n\
                    default login anonymous password me@example\n";
        let n = parse(text).unwrap();
        assert_eq!(n.macros, ["init"]);
        assert_eq!(
            n.entries,
            [
                entry(Some("a.example"), "alice", "s1", 2),
                entry(Some("b.example"), "bob", "#not-a-comment", 7),
                entry(None, "anonymous", "me@example", 8),
            ]
        );
        // A macro at the end of the file, without a blank line after it.
        assert_eq!(parse("macdef x\nline\n").unwrap().entries, []);
        assert!(parsed("").is_empty() && parsed("\n\n  \n# only a comment\n").is_empty());
    }

    #[test]
    fn quoted_values_as_curl_reads_them() {
        let e = &parsed(r#"machine h login "a user" password "p\"w\\x y\tz""#)[0];
        assert_eq!(e.login.as_deref(), Some("a user"));
        assert_eq!(e.password.as_ref().unwrap().expose(), "p\"w\\x y\tz");
        assert_eq!(
            parsed(r#"machine h login u password """#)[0]
                .password
                .as_ref()
                .unwrap()
                .expose(),
            ""
        );
    }

    #[test]
    fn incomplete_entries_are_kept_for_the_caller_to_judge() {
        let n = parsed("machine a.example login alice\nmachine b.example password p\n");
        assert_eq!(n[0].password, None);
        assert_eq!(n[1].login, None);
    }

    #[test]
    fn malformed_files_name_the_line_and_never_a_value() {
        for (text, line, words) in [
            ("machine h login u password", 1, "`password` has no value"),
            (
                "machine h\nlogin u\npassword p1 p2-SENTINEL\n",
                3,
                "a value with spaces must be in double quotes",
            ),
            ("login u password p-SENTINEL\n", 1, "before any `machine`"),
            (
                "machine h login u\n\npassword \"p-SENTINEL\n",
                3,
                "no closing",
            ),
            (
                "machine h password \"p-SENTINEL\"x\n",
                1,
                "followed by whitespace",
            ),
            ("Machine h login u password p-SENTINEL\n", 1, "lower case"),
            (
                "default login u password p\nmachine h login u password p-SENTINEL\n",
                2,
                "after `default`",
            ),
            (
                "machine h login u password p-SENTINEL password q-SENTINEL\n",
                1,
                "a second `password`",
            ),
            (
                "machine h login u password p\nhost x\n",
                2,
                "expected one of",
            ),
        ] {
            let e = parse(text).unwrap_err();
            assert_eq!(e.line, line, "{text:?}: {e}");
            assert!(e.to_string().contains(words), "{text:?}: {e}");
            assert!(!e.to_string().contains("SENTINEL"), "{e}");
        }
    }

    #[test]
    fn renders_what_go_and_this_parser_read_back() {
        let line = render_entry("h.example:8443", "oauth2", &Secret::from("tok-1_x.y")).unwrap();
        assert_eq!(
            line,
            "machine h.example:8443 login oauth2 password tok-1_x.y\n"
        );
        assert_eq!(
            parsed(&line),
            [entry(Some("h.example:8443"), "oauth2", "tok-1_x.y", 1)]
        );
        for (m, l, p) in [
            ("h", "u", "has space-SENTINEL"),
            ("h", "u", "tab\tSENTINEL"),
            ("h", "u", "#SENTINEL"),
            ("h", "u", "\"SENTINEL"),
            ("h", "u", "SENTINEL\n"),
            ("h", "", "SENTINEL"),
            ("h", "u", ""),
            ("h h", "u", "SENTINEL"),
        ] {
            let e = render_entry(m, l, &Secret::from(p)).unwrap_err();
            assert!(!e.to_string().contains("SENTINEL"), "{e}");
        }
    }
}
