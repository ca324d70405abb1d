//! The netrc as git's libcurl reads it: what it sends to a host, byte for byte.
//!
//! Modelled on the libcurl git links on Debian 12 (7.88.1-10+deb12u15, `lib/netrc.c` and
//! `lib/curl_get_line.c`, with the CVE-2024-11053 and CVE-2025-0167 fixes Debian backported), and
//! checked against the real curl and git by `tests/cli/netrc_differential.rs`:
//!
//! - **Lines.** Read with `fgets` into 4096 bytes. A line of 4095 bytes or more before its newline
//!   is dropped whole. A line holding NUL ends at the NUL and counts as a piece of a longer line,
//!   so the line after it is dropped too; a NUL first on a line ends the file. A last line without
//!   a newline is read (unless it is the tail of an over-long line).
//! - **Tokens.** Split on space and tab; a token ends at any of space, tab, LF, VT, FF, CR, so a
//!   CR (or VT, FF) where a token starts is an empty token. A token starting with `#` ends the
//!   line as a comment, wherever it is, even where a value is expected (the next token is then
//!   the value). A token starting with `"` is quoted (`\n`, `\r`, `\t` escapes, any other
//!   escaped byte is itself) and the byte after its closing quote is skipped; a quote not closed
//!   on its line makes curl refuse the file (the transfer fails).
//! - **Keywords**, in any letter case. `machine NAME` compares NAME with the host (without port,
//!   ASCII case-insensitively). After a match: `login`, `password`; a later `machine` or
//!   `default` starts over (forgetting what was found), and the first entry with both a login and
//!   a password ends the search. `default` matches any host. `macdef` starts a macro only
//!   between entries (not inside a matching one); the macro ends at a line starting with LF or
//!   CR, or, oddly, at an empty token on its own first line (`macdef x ` with a trailing space).
//! - **What is sent.** A match with a login and no password sends the login with an empty
//!   password; a password without a login sends an empty user name; neither sends nothing.

use crate::secret::Secret;

/// The line buffer of `fgets` in libcurl's netrc reader.
const BUFFER: usize = 4096;

/// What libcurl makes of a netrc for one host name.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Lookup {
    /// No entry applies: nothing is sent.
    NoMatch,
    /// libcurl refuses the file before it finds the host (an unclosed quote on `line`): the
    /// transfer fails and nothing is sent.
    Refused { line: usize },
    /// An entry applies (`line` is where its `machine` or `default` keyword is).
    Match {
        login: Option<String>,
        password: Option<Secret>,
        line: usize,
        default: bool,
    },
}

impl Lookup {
    /// The user name and password libcurl sends, if any.
    pub fn sent(&self) -> Option<(String, Secret)> {
        match self {
            Lookup::Match {
                login, password, ..
            } if login.is_some() || password.is_some() => Some((
                login.clone().unwrap_or_default(),
                password
                    .clone()
                    .unwrap_or_else(|| Secret::new(String::new())),
            )),
            _ => None,
        }
    }

    /// The line of the entry that applies, if one does.
    pub fn line(&self) -> Option<usize> {
        match self {
            Lookup::Match { line, .. } => Some(*line),
            _ => None,
        }
    }
}

/// The lines libcurl's `Curl_get_line` hands to the netrc parser: each with its 1-based number
/// and ending in a newline.
fn lines(data: &[u8]) -> Vec<(usize, Vec<u8>)> {
    let mut out = Vec::new();
    let (mut pos, mut line_no, mut partial) = (0usize, 1usize, false);
    while pos < data.len() {
        // fgets: up to BUFFER - 1 bytes, or through the first newline.
        let max = data.len().min(pos + BUFFER - 1);
        let (end, newline) = match data[pos..max].iter().position(|&b| b == b'\n') {
            Some(i) => (pos + i + 1, true),
            None => (max, false),
        };
        let piece = &data[pos..end];
        let start_line = line_no;
        let at_eof = !newline && piece.len() < BUFFER - 1;
        pos = end;
        if newline {
            line_no += 1;
        }
        // strlen: the piece ends at its first NUL.
        let rlen = piece.iter().position(|&b| b == 0).unwrap_or(piece.len());
        if rlen == 0 {
            break;
        }
        let text = &piece[..rlen];
        if text[rlen - 1] == b'\n' {
            if partial {
                partial = false;
                continue;
            }
            out.push((start_line, text.to_vec()));
        } else if at_eof {
            if !partial {
                let mut text = text.to_vec();
                text.push(b'\n');
                out.push((start_line, text));
            }
            break;
        } else {
            partial = true;
        }
    }
    out
}

fn is_blank(b: u8) -> bool {
    b == b' ' || b == b'\t'
}

fn is_space(b: u8) -> bool {
    is_blank(b) || (0x0a..=0x0d).contains(&b)
}

/// One token as libcurl's netrc parser sees it.
enum Token {
    Word(Vec<u8>),
    /// An unclosed quote: libcurl gives up on the file.
    Bad,
}

/// The tokens of one line (which ends in a newline), in order.
fn tokens(line: &[u8]) -> Vec<Token> {
    let mut out = Vec::new();
    let mut i = 0;
    loop {
        while i < line.len() && is_blank(line[i]) {
            i += 1;
        }
        if i >= line.len() || line[i] == b'#' {
            return out;
        }
        if line[i] == b'"' {
            let mut word = Vec::new();
            let (mut escape, mut closed) = (false, false);
            i += 1;
            while i < line.len() {
                let mut b = line[i];
                if escape {
                    escape = false;
                    b = match b {
                        b'n' => b'\n',
                        b'r' => b'\r',
                        b't' => b'\t',
                        other => other,
                    };
                } else if b == b'\\' {
                    escape = true;
                    i += 1;
                    continue;
                } else if b == b'"' {
                    i += 1;
                    closed = true;
                    break;
                }
                word.push(b);
                i += 1;
            }
            if escape || !closed {
                out.push(Token::Bad);
                return out;
            }
            out.push(Token::Word(word));
            // libcurl steps over one more byte after the closing quote, whatever it is.
            i += 1;
        } else {
            let start = i;
            while i < line.len() && !is_space(line[i]) {
                i += 1;
            }
            out.push(Token::Word(line[start..i].to_vec()));
            i += 1;
        }
    }
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum State {
    Nothing,
    HostFound,
    HostValid,
    Macdef,
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Keyword {
    None,
    Login,
    Password,
}

fn is(word: &[u8], keyword: &str) -> bool {
    word.eq_ignore_ascii_case(keyword.as_bytes())
}

fn text(word: Vec<u8>) -> String {
    String::from_utf8(word).unwrap_or_else(|e| String::from_utf8_lossy(e.as_bytes()).into_owned())
}

/// What libcurl finds in `data` for `host` (a host name as in the URL, without port).
pub fn lookup(data: &[u8], host: &str) -> Lookup {
    let mut state = State::Nothing;
    let mut keyword = Keyword::None;
    let (mut login, mut password): (Option<String>, Option<Secret>) = (None, None);
    let (mut found_login, mut found_password, mut our_login) = (false, false, false);
    let mut matched: Option<(usize, bool)> = None;
    // Where the entry being read started (its `machine` or `default` keyword).
    let mut entry_line = 0;
    for (line_no, line) in lines(data) {
        if state == State::Macdef {
            if line[0] == b'\n' || line[0] == b'\r' {
                state = State::Nothing;
            } else {
                continue;
            }
        }
        for token in tokens(&line) {
            let Token::Word(word) = token else {
                return Lookup::Refused { line: line_no };
            };
            match state {
                State::Nothing => {
                    if is(&word, "macdef") {
                        state = State::Macdef;
                    } else if is(&word, "machine") {
                        state = State::HostFound;
                        keyword = Keyword::None;
                        (found_login, found_password, our_login) = (false, false, false);
                        (login, password) = (None, None);
                        entry_line = line_no;
                    } else if is(&word, "default") {
                        state = State::HostValid;
                        matched = Some((line_no, true));
                    }
                }
                State::Macdef => {
                    if word.is_empty() {
                        state = State::Nothing;
                    }
                }
                State::HostFound => {
                    if word.eq_ignore_ascii_case(host.as_bytes()) {
                        state = State::HostValid;
                        matched = Some((entry_line, false));
                    } else {
                        state = State::Nothing;
                    }
                }
                State::HostValid => {
                    match keyword {
                        Keyword::Login => {
                            login = Some(text(word));
                            our_login = true;
                            found_login = true;
                            keyword = Keyword::None;
                        }
                        Keyword::Password => {
                            password = Some(Secret::new(text(word)));
                            found_password = true;
                            keyword = Keyword::None;
                        }
                        Keyword::None => {
                            if is(&word, "login") {
                                keyword = Keyword::Login;
                            } else if is(&word, "password") {
                                keyword = Keyword::Password;
                            } else if is(&word, "machine") {
                                state = State::HostFound;
                                (found_login, found_password) = (false, false);
                                (login, password) = (None, None);
                                entry_line = line_no;
                            } else if is(&word, "default") {
                                matched = Some((line_no, true));
                                (login, password) = (None, None);
                            }
                        }
                    }
                    if found_login && found_password && our_login {
                        return finish(matched, login, password, our_login);
                    }
                }
            }
        }
    }
    finish(matched, login, password, our_login)
}

fn finish(
    matched: Option<(usize, bool)>,
    login: Option<String>,
    password: Option<Secret>,
    our_login: bool,
) -> Lookup {
    let Some((line, default)) = matched else {
        return Lookup::NoMatch;
    };
    let password = match password {
        None if our_login => Some(Secret::new(String::new())),
        p => p,
    };
    if default && login.is_none() && password.is_none() {
        // CVE-2025-0167: a `default` without credentials is no match.
        return Lookup::NoMatch;
    }
    Lookup::Match {
        login,
        password,
        line,
        default,
    }
}

/// Every token libcurl compares with a host name (the word after `machine`), in file order,
/// each with its line: no host outside this list can match an entry.
pub fn machine_names(data: &[u8]) -> Vec<(usize, String)> {
    let mut out = Vec::new();
    let mut state = State::Nothing;
    for (line_no, line) in lines(data) {
        if state == State::Macdef {
            if line[0] == b'\n' || line[0] == b'\r' {
                state = State::Nothing;
            } else {
                continue;
            }
        }
        for token in tokens(&line) {
            let Token::Word(word) = token else {
                return out;
            };
            // The run of `lookup` for a host that matches nothing: until a host's own name,
            // its run is the same, so its name is in this list.
            state = match state {
                State::Nothing if is(&word, "macdef") => State::Macdef,
                State::Nothing if is(&word, "machine") => State::HostFound,
                State::Nothing if is(&word, "default") => State::HostValid,
                State::Nothing => State::Nothing,
                State::Macdef if word.is_empty() => State::Nothing,
                State::Macdef => State::Macdef,
                State::HostFound => {
                    out.push((line_no, text(word)));
                    State::Nothing
                }
                State::HostValid if is(&word, "machine") => State::HostFound,
                State::HostValid => State::HostValid,
            };
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sent(data: &str, host: &str) -> Option<(String, String)> {
        lookup(data.as_bytes(), host)
            .sent()
            .map(|(l, p)| (l, p.expose().to_owned()))
    }

    fn pair(l: &str, p: &str) -> Option<(String, String)> {
        Some((l.into(), p.into()))
    }

    // Each case below was seen with the real curl 7.88.1-10+deb12u15 on this machine.
    #[test]
    fn first_complete_entry_wins_and_keywords_ignore_case() {
        let two =
            "machine a.example login u1 password p1\nmachine a.example login u2 password p2\n";
        assert_eq!(sent(two, "a.example"), pair("u1", "p1"));
        assert_eq!(sent(two, "A.Example"), pair("u1", "p1"));
        let half = "machine a.example login u1\nmachine a.example login u2 password p2\n";
        assert_eq!(sent(half, "a.example"), pair("u2", "p2"));
        assert_eq!(
            sent("MACHINE a.example LOGIN u PASSWORD p", "a.example"),
            pair("u", "p")
        );
        assert_eq!(
            sent("machine a.example. login u password p\n", "a.example"),
            None
        );
        assert_eq!(
            sent("machine a.example:443 login u password p\n", "a.example"),
            None
        );
        assert_eq!(
            sent(
                "machine a.example login u\ndefault login d password dp\n",
                "a.example"
            ),
            pair("d", "dp")
        );
        assert_eq!(
            sent("machine a.example login u\n", "a.example"),
            pair("u", "")
        );
        assert_eq!(
            sent("machine a.example password p\n", "a.example"),
            pair("", "p")
        );
        assert_eq!(
            sent(
                "machine a.example login u\nmachine b.example login v password w\n",
                "a.example"
            ),
            pair("", "")
        );
        assert_eq!(
            sent(
                "machine a.example\nmachine b login v password w\n",
                "a.example"
            ),
            None
        );
        assert_eq!(
            sent(
                "machine b.example login v password w default\n",
                "a.example"
            ),
            None
        );
    }

    #[test]
    fn comments_quotes_and_macros() {
        let data = "machine a.example login u password #p\nmachine b.example login v password w\n";
        assert_eq!(sent(data, "a.example"), pair("u", "machine"));
        assert_eq!(sent(data, "b.example"), pair("v", "w"));
        assert_eq!(
            sent("machine a.example login u #c password p\n", "a.example"),
            pair("u", "")
        );
        assert_eq!(
            sent("machine a.example login u password p#x\n", "a.example"),
            pair("u", "p#x")
        );
        assert_eq!(
            sent(
                "machine a.example login \"u s\" password \"p\\\"q\"\n",
                "a.example"
            ),
            pair("u s", "p\"q")
        );
        assert_eq!(
            sent("machine a.example login \"u\"Xpassword p\n", "a.example"),
            pair("u", "p")
        );
        assert_eq!(
            lookup(b"machine a.example login u password \"p\n", "a.example"),
            Lookup::Refused { line: 1 }
        );
        let mac = "machine a.example login u\nmacdef m\npassword p\n\nmachine b.example login v password w\n";
        assert_eq!(sent(mac, "a.example"), pair("u", "p"));
        assert_eq!(sent(mac, "b.example"), pair("v", "w"));
        let mac =
            "macdef x\nmachine a.example login u password p\n  \nmachine b login v password w\n";
        assert_eq!(sent(mac, "a.example"), None);
        assert_eq!(sent(mac, "b"), None);
        assert_eq!(
            sent(
                "macdef x \nmachine a.example login u password p\n",
                "a.example"
            ),
            pair("u", "p")
        );
        assert_eq!(
            sent("machine a.example login\r\nu password p\r\n", "a.example"),
            pair("", "p")
        );
        assert_eq!(
            sent("machine\r\na.example login u password p\r\n", "a.example"),
            None
        );
    }

    #[test]
    fn line_rules() {
        let nul = "machine a.example login u password p\n\0x\nmachine b.example login v password w\nmachine c.example login c password c\n";
        assert_eq!(sent(nul, "a.example"), pair("u", "p"));
        assert_eq!(sent(nul, "b.example"), None);
        assert_eq!(sent(nul, "c.example"), None);
        let mid = "machine a.example login u password p\0x\nmachine b.example login v password w\nmachine c.example login c password c\n";
        assert_eq!(sent(mid, "a.example"), None);
        assert_eq!(sent(mid, "b.example"), None);
        assert_eq!(sent(mid, "c.example"), pair("c", "c"));
        assert_eq!(
            sent("machine a.example login u password p\0x", "a.example"),
            pair("u", "p")
        );
        let head = "machine a.example login u password ";
        for (len, newline, kept) in [
            (4094, true, true),
            (4095, true, false),
            (4096, true, false),
            (4094, false, true),
            (4095, false, false),
        ] {
            let a = format!("{head}{}", "x".repeat(len - head.len()));
            let b = "machine b.example login v password w\n";
            // The long line first, then another; or last, without its newline.
            let data = if newline {
                format!("{a}\n{b}")
            } else {
                format!("{b}{a}")
            };
            assert_eq!(sent(&data, "a.example").is_some(), kept, "{len} {newline}");
            assert_eq!(sent(&data, "b.example"), pair("v", "w"));
        }
        let long = format!(
            "machine b.example login v password w\n{} machine a.example login u password p",
            "x".repeat(5000)
        );
        assert_eq!(sent(&long, "a.example"), None);
        assert_eq!(sent(&long, "b.example"), pair("v", "w"));
    }

    #[test]
    fn machine_names_lists_every_name_a_host_can_match() {
        let data = "machine a.example login u macdef m\nmachine hidden login v password w\n\nmachine B.example login x password y\n";
        let names: Vec<String> = machine_names(data.as_bytes())
            .into_iter()
            .map(|(_, n)| n)
            .collect();
        assert_eq!(names, ["a.example", "B.example"]);
        assert_eq!(sent(data, "hidden"), None);
    }
}
