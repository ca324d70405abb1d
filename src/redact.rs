//! The one way anything from outside reaches a person: redacted, then sanitized.
//!
//! - [`redact`] hides what may be a secret: the user-info of a URL (`https://user:pass@host` →
//!   `https://REDACTED@host`), the value of a query or form parameter that carries a token
//!   (`?private_token=…`, `&access_token=…`, `token=…`), the credential of an `Authorization`
//!   header, and any word that looks like a token ([`looks_like_secret`]: vendor prefixes such as
//!   `glpat-` or `ghp_`, JWTs, long random-looking words).
//! - [`sanitize`] shows every control character (C0 but tab and newline, DEL, C1) and every bidi
//!   override or isolate escaped as `\uXXXX`, so that a host name, a path, a user name or a
//!   server's message cannot move the cursor, recolour, retitle or reorder a terminal. The escape
//!   is also a valid JSON escape, so `--json` output stays JSON.
//! - [`shown`] does both, for a value placed into a message.
//!
//! [`Filtered`] applies both to whole lines of a stream: every command's stderr goes through it,
//! and the stdout of the commands that talk to a person (see `cli::run`). Protocol output (git's
//! `get` answer, a netrc, GOAUTH headers, a shell script) never does: it is data for a program.

use std::borrow::Cow;
use std::fmt;
use std::io::{self, Write};

/// What replaces a hidden value.
pub const REDACTED: &str = "REDACTED";

/// Query, form and `key=value` names whose value is a secret (compared without case).
const SECRET_PARAMS: &[&str] = &[
    "access_token",
    "api_key",
    "apikey",
    "auth",
    "client_secret",
    "code",
    "device_code",
    "id_token",
    "job_token",
    "key",
    "password",
    "passwd",
    "private_token",
    "pwd",
    "refresh_token",
    "secret",
    "sig",
    "signature",
    "token",
    "x-amz-signature",
    "x-goog-signature",
];

/// Prefixes of tokens that vendors publish so that scanners can find them.
const TOKEN_PREFIXES: &[&str] = &[
    // GitLab
    "glpat-",
    "gloas-",
    "gldt-",
    "glrt-",
    "glrtr-",
    "glcbt-",
    "glptt-",
    "glft-",
    "glimt-",
    "glagent-",
    "glsoat-",
    "glffct-",
    "glwt-", // GitHub
    "ghp_",
    "gho_",
    "ghu_",
    "ghs_",
    "ghr_",
    "github_pat_", // Gitea / Forgejo, Bitbucket, Atlassian
    "gta_",
    "ATBB",
    "ATATT", // Slack, npm, PyPI, Hugging Face
    "xoxb-",
    "xoxp-",
    "npm_",
    "pypi-",
    "hf_", // cloud
    "AKIA",
    "ASIA",
    "AIza",
    "sk-",
];

/// The characters of a token's body: base64url, plus `+` (base64).
fn is_piece_char(c: char) -> bool {
    c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '+')
}

/// One piece (a maximal run of [`is_piece_char`]) that is a credential: a vendor token prefix,
/// or a long word mixing upper case, lower case and digits (random: not a word, not a name such
/// as `GOPRIVATE`, not a lowercase hex digest).
fn piece_is_secret(piece: &str) -> bool {
    if TOKEN_PREFIXES
        .iter()
        .any(|p| piece.starts_with(p) && piece.len() >= p.len() + 8)
    {
        return true;
    }
    let count = |f: fn(&char) -> bool| piece.chars().filter(f).count();
    piece.len() >= 24
        && count(char::is_ascii_uppercase) >= 2
        && count(char::is_ascii_lowercase) >= 2
        && count(char::is_ascii_digit) >= 2
}

/// The JWTs in `text`: `eyJ…` (base64url of `{"`) with at least two dots, as byte ranges.
fn jwt_ranges(text: &str) -> Vec<std::ops::Range<usize>> {
    let mut ranges = Vec::new();
    let mut from = 0;
    while let Some(i) = text[from..].find("eyJ").map(|i| i + from) {
        let len = text[i..]
            .find(|c: char| !(is_piece_char(c) || c == '.'))
            .unwrap_or(text.len() - i);
        let candidate = &text[i..i + len];
        if candidate.matches('.').count() >= 2 && len >= 20 {
            ranges.push(i..i + len);
        }
        from = i + len.max(3);
    }
    ranges
}

/// Whether a value (a config value, a word of a message) holds something that looks like a
/// credential: a vendor token, a JWT, a long random-looking piece.
pub fn looks_like_secret(value: &str) -> bool {
    !jwt_ranges(value).is_empty() || value.split(|c| !is_piece_char(c)).any(piece_is_secret)
}

/// Replaces every JWT and secret-looking piece of `word` with [`REDACTED`].
fn redact_pieces(word: &str) -> Option<String> {
    if !looks_like_secret(word) {
        return None;
    }
    let jwts = jwt_ranges(word);
    let mut out = String::with_capacity(word.len());
    let mut piece_start: Option<usize> = None;
    let mut i = 0;
    let flush = |out: &mut String, piece: &str| {
        if piece_is_secret(piece) {
            out.push_str(REDACTED);
        } else {
            out.push_str(piece);
        }
    };
    while i < word.len() {
        if let Some(r) = jwts.iter().find(|r| r.start == i) {
            if let Some(s) = piece_start.take() {
                flush(&mut out, &word[s..i]);
            }
            out.push_str(REDACTED);
            i = r.end;
            continue;
        }
        let c = word[i..].chars().next().unwrap_or(' ');
        if is_piece_char(c) {
            piece_start.get_or_insert(i);
        } else {
            if let Some(s) = piece_start.take() {
                flush(&mut out, &word[s..i]);
            }
            out.push(c);
        }
        i += c.len_utf8();
    }
    if let Some(s) = piece_start {
        flush(&mut out, &word[s..]);
    }
    Some(out)
}

/// Hides what may be a secret in `text` (see the module docs). Never longer in meaning: a hidden
/// value becomes [`REDACTED`], the rest is kept as is.
pub fn redact(text: &str) -> Cow<'_, str> {
    let mut out = String::with_capacity(text.len());
    let mut changed = false;
    let mut rest = text;
    // Split on whitespace and quote-like delimiters, keeping them.
    while !rest.is_empty() {
        let end = rest
            .find(|c: char| c.is_whitespace() || matches!(c, '"' | '\'' | '`' | '<' | '>'))
            .unwrap_or(rest.len());
        let (word, tail) = rest.split_at(end);
        if !word.is_empty() {
            let r = redact_word(word, tail_of(out.trim_end(), 48));
            changed |= *r != *word;
            out.push_str(&r);
        }
        let delim_len = tail.chars().next().map_or(0, char::len_utf8);
        out.push_str(&tail[..delim_len]);
        rest = &tail[delim_len..];
    }
    if changed {
        Cow::Owned(out)
    } else {
        Cow::Borrowed(text)
    }
}

/// The last `n` bytes of `s` (or a little more, to stay on a character boundary).
fn tail_of(s: &str, n: usize) -> &str {
    let mut start = s.len().saturating_sub(n);
    while !s.is_char_boundary(start) {
        start -= 1;
    }
    &s[start..]
}

/// One whitespace-free word; `before` is what precedes it (to spot `Authorization: Bearer X`).
fn redact_word<'w>(word: &'w str, before: &str) -> Cow<'w, str> {
    // The scheme word of an `Authorization` value: `Bearer X`, `Basic X`, `token X`.
    let previous = before
        .rsplit(char::is_whitespace)
        .next()
        .unwrap_or("")
        .to_ascii_lowercase();
    let authorization = before.to_ascii_lowercase().contains("authorization");
    if previous == "bearer" || previous == "basic" || (previous == "token" && authorization) {
        return Cow::Borrowed(REDACTED);
    }
    let mut word: Cow<'w, str> = Cow::Borrowed(word);
    if let Some(w) = redact_userinfo(&word) {
        word = Cow::Owned(w);
    }
    if let Some(w) = redact_params(&word) {
        word = Cow::Owned(w);
    }
    if let Some(w) = redact_pieces(&word) {
        word = Cow::Owned(w);
    }
    word
}

/// `scheme://userinfo@host…` → `scheme://REDACTED@host…`, for every URL in `word`.
fn redact_userinfo(word: &str) -> Option<String> {
    let mut out = String::new();
    let mut rest = word;
    let mut changed = false;
    if !word.contains("://") {
        // `user:password@host…` without a scheme (an argument echoed back); `git@host:path`
        // (scp-like, no colon before the `@`) is left alone.
        let authority_end = word.find(['/', '?', '#']).unwrap_or(word.len());
        return match word[..authority_end].rfind('@') {
            Some(at) if word[..at].contains(':') => Some(format!("{REDACTED}{}", &word[at..])),
            _ => None,
        };
    }
    while let Some(i) = rest.find("://") {
        let (head, tail) = rest.split_at(i + 3);
        out.push_str(head);
        let authority_end = tail.find(['/', '?', '#']).unwrap_or(tail.len());
        let authority = &tail[..authority_end];
        match authority.rfind('@') {
            Some(at) => {
                out.push_str(REDACTED);
                out.push_str(&authority[at..]);
                changed = true;
            }
            None => out.push_str(authority),
        }
        rest = &tail[authority_end..];
    }
    out.push_str(rest);
    changed.then_some(out)
}

/// `name=value` pairs (after `?`, `&`, `;`, `,` or at the word's start) whose name carries a
/// secret get their value replaced.
fn redact_params(word: &str) -> Option<String> {
    let mut out = String::with_capacity(word.len());
    let mut changed = false;
    let mut start = 0;
    let bytes = word.as_bytes();
    let mut i = 0;
    while i <= bytes.len() {
        let at_end = i == bytes.len();
        if at_end || matches!(bytes[i], b'?' | b'&' | b';' | b',' | b'#') {
            let part = &word[start..i];
            match part.split_once([':', '=']) {
                Some((name, value))
                    if !value.is_empty()
                        && value != REDACTED
                        && is_secret_param(name, start > 0)
                        && part.as_bytes()[name.len()] == b'=' =>
                {
                    out.push_str(&part[..=name.len()]);
                    out.push_str(REDACTED);
                    changed = true;
                }
                _ => out.push_str(part),
            }
            if !at_end {
                out.push(bytes[i] as char);
            }
            start = i + 1;
        }
        i += 1;
    }
    changed.then_some(out)
}

/// `in_query`: after `?`, `&`, ...; at the start of a word only the unambiguous names count
/// (`key=value` in prose is no secret, `?key=...` in a URL may be).
fn is_secret_param(name: &str, in_query: bool) -> bool {
    let name = name.trim_start_matches(|c: char| !c.is_ascii_alphanumeric());
    let lower = name.to_ascii_lowercase();
    (SECRET_PARAMS.contains(&lower.as_str())
        && (in_query || !matches!(lower.as_str(), "key" | "code" | "auth" | "sig" | "pwd")))
        || lower.ends_with("_token")
        || lower.ends_with("-token")
        || lower.ends_with("_secret")
        || lower.ends_with("password")
}

/// Whether `c` must not reach a terminal as itself.
fn is_unsafe(c: char) -> bool {
    match c {
        '\t' | '\n' => false,
        c if c.is_control() => true, // C0, DEL, C1
        // Bidi embeddings, overrides and isolates, and the marks (Trojan Source, CVE-2021-42574).
        '\u{061c}'
        | '\u{200e}'
        | '\u{200f}'
        | '\u{202a}'..='\u{202e}'
        | '\u{2066}'..='\u{2069}' => true,
        // Line and paragraph separators: a new line to some terminals and viewers.
        '\u{2028}' | '\u{2029}' => true,
        _ => false,
    }
}

/// Shows every control character, bidi control and line separator of `text` as `\uXXXX`.
pub fn sanitize(text: &str) -> Cow<'_, str> {
    if !text.chars().any(is_unsafe) {
        return Cow::Borrowed(text);
    }
    let mut out = String::with_capacity(text.len() + 8);
    for c in text.chars() {
        if is_unsafe(c) {
            out.push_str(&format!("\\u{:04x}", u32::from(c)));
        } else {
            out.push(c);
        }
    }
    Cow::Owned(out)
}

/// Redacts, then sanitizes: for a value from outside that goes into a message.
pub fn clean(text: &str) -> String {
    sanitize(&redact(text)).into_owned()
}

/// A value from outside, as a message shows it: `format!("host {}", shown(host))`.
pub fn shown(text: &str) -> Shown<'_> {
    Shown(text)
}

pub struct Shown<'a>(&'a str);

impl fmt::Display for Shown<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&sanitize(&redact(self.0)))
    }
}

impl fmt::Debug for Shown<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:?}", sanitize(&redact(self.0)))
    }
}

/// A stream that redacts and sanitizes every line written through it (see the module docs).
///
/// Lines are held until their newline (or a flush), so a URL written in pieces is judged whole.
/// One exception keeps a live status line working: a carriage return as the very first byte of a
/// write that starts a new line (`"\rWaiting… 4:59"`) passes; anywhere else it is escaped, so
/// outside text cannot overwrite what gocred printed before it on the line.
pub struct Filtered<W: Write> {
    inner: W,
    line: Vec<u8>,
}

impl<W: Write> Filtered<W> {
    pub fn new(inner: W) -> Self {
        Filtered {
            inner,
            line: Vec::new(),
        }
    }

    fn emit_line(&mut self, newline: bool) -> io::Result<()> {
        if self.line.is_empty() && !newline {
            return Ok(());
        }
        let text = String::from_utf8_lossy(&self.line);
        let mut cleaned = clean(&text);
        if newline {
            cleaned.push('\n');
        }
        self.line.clear();
        self.inner.write_all(cleaned.as_bytes())
    }
}

impl<W: Write> Write for Filtered<W> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        let mut rest = buf;
        if self.line.is_empty() {
            let crs = rest.iter().take_while(|&&b| b == b'\r').count();
            if crs > 0 {
                self.inner.write_all(b"\r")?;
                rest = &rest[crs..];
            }
        }
        while let Some(i) = rest.iter().position(|&b| b == b'\n') {
            self.line.extend_from_slice(&rest[..i]);
            self.emit_line(true)?;
            rest = &rest[i + 1..];
        }
        self.line.extend_from_slice(rest);
        // A line that never ends is still bounded.
        if self.line.len() > 64 * 1024 {
            self.emit_line(false)?;
        }
        Ok(buf.len())
    }

    fn flush(&mut self) -> io::Result<()> {
        self.emit_line(false)?;
        self.inner.flush()
    }
}

impl<W: Write> Drop for Filtered<W> {
    fn drop(&mut self) {
        let _ = self.flush();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn url_user_info_is_hidden_whole() {
        assert_eq!(
            redact("fetching https://alice:hunter2@gitlab.corp.example/g/x.git now"),
            "fetching https://REDACTED@gitlab.corp.example/g/x.git now"
        );
        assert_eq!(
            redact("--host alice:pw@h.example/x is not a host"),
            "--host REDACTED@h.example/x is not a host"
        );
        assert_eq!(redact("git@h.example:g/x.git"), "git@h.example:g/x.git");
        assert_eq!(
            redact("url = \"https://ghp_FAKE_abc@github.com\""),
            "url = \"https://REDACTED@github.com\""
        );
        // No user-info: nothing changes, and the text is borrowed.
        assert!(matches!(
            redact("https://gitlab.corp.example:8443/g/"),
            Cow::Borrowed(_)
        ));
    }

    #[test]
    fn token_parameters_are_hidden_keeping_the_rest() {
        assert_eq!(
            redact("GET https://h.example/api/v4/user?private_token=s3cr3t&per_page=1"),
            "GET https://h.example/api/v4/user?private_token=REDACTED&per_page=1"
        );
        assert_eq!(
            redact("access_token=abc;token_type=bearer"),
            "access_token=REDACTED;token_type=bearer"
        );
        assert_eq!(
            redact("x?Token=a&REFRESH_TOKEN=b&job_token=c&password=d#frag"),
            "x?Token=REDACTED&REFRESH_TOKEN=REDACTED&job_token=REDACTED&password=REDACTED#frag"
        );
        assert_eq!(redact("go-get=1&page=2"), "go-get=1&page=2");
    }

    #[test]
    fn token_looking_words_are_hidden() {
        for secret in [
            "glpat-FAKE-not-a-token",
            "ghp_FAKE_not_a_token",
            "github_pat_FAKE_test_value_not_a_token",
            "eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiIxIn0.c2lnbmF0dXJl",
            "FAKE9random8Looking7Word6x",
        ] {
            let text = format!("token_env must be a variable name, not '{secret}'");
            let out = redact(&text);
            assert!(!out.contains(secret), "{out}");
            assert!(out.contains(REDACTED), "{out}");
        }
        for plain in [
            "gitlab.corp.example",
            "GITLAB_TOKEN",
            "/home/alice/.config/gocred/config.toml",
            "0123456789abcdef0123456789abcdef01234567", // a commit id: lowercase hex
            "fix: `go env -w GOPRIVATE=localhost:34441/group/mod`",
            "input line 3 is not of the form key=value",
            "secret-service",
            "password_expiry_utc",
            "CI_JOB_TOKEN",
        ] {
            assert_eq!(redact(plain), plain);
        }
    }

    #[test]
    fn authorization_credentials_are_hidden() {
        assert_eq!(
            redact("Authorization: Bearer abc.def"),
            "Authorization: Bearer REDACTED"
        );
        assert_eq!(
            redact("Authorization: Basic YTpi"),
            "Authorization: Basic REDACTED"
        );
    }

    #[test]
    fn control_and_bidi_characters_are_escaped() {
        assert_eq!(
            sanitize("host\x1b]0;owned\x07.example"),
            "host\\u001b]0;owned\\u0007.example"
        );
        assert_eq!(sanitize("a\u{202e}b\u{2066}c"), "a\\u202eb\\u2066c");
        assert_eq!(sanitize("a\u{9b}31m"), "a\\u009b31m");
        assert_eq!(sanitize("line\rover"), "line\\u000dover");
        assert_eq!(sanitize("tab\tand\nnewline"), "tab\tand\nnewline");
        assert!(matches!(sanitize("plain é 漢"), Cow::Borrowed(_)));
    }

    #[test]
    fn escaped_output_stays_valid_json() {
        let json = serde_json::json!({ "host": "a\u{1b}[2J\u{202e}b" }).to_string();
        let cleaned = clean(&json);
        assert!(!cleaned.contains('\u{1b}') && !cleaned.contains('\u{202e}'));
        let back: serde_json::Value = serde_json::from_str(&cleaned).unwrap();
        assert_eq!(back["host"], "a\u{1b}[2J\u{202e}b");
    }

    #[test]
    fn the_filter_cleans_whole_lines_even_when_written_in_pieces() {
        let mut out = Vec::new();
        {
            let mut f = Filtered::new(&mut out);
            write!(f, "cannot reach https://al").unwrap();
            write!(f, "ice:pw@h.example/\x1b[31m").unwrap();
            writeln!(f, " (red)").unwrap();
            write!(f, "\rWaiting 4:59 ").unwrap();
            f.flush().unwrap();
            write!(f, "\rWaiting 4:58 ").unwrap();
            writeln!(f, "then\rspoof").unwrap();
            write!(f, "unterminated ghp_FAKE_test_value").unwrap();
        }
        let out = String::from_utf8(out).unwrap();
        assert_eq!(
            out,
            "cannot reach https://REDACTED@h.example/\\u001b[31m (red)\n\
             \rWaiting 4:59 \rWaiting 4:58 then\\u000dspoof\nunterminated REDACTED"
        );
    }
}
