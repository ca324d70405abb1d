//! The netrc as the go command reads it (`cmd/go/internal/auth/netrc.go`, Go 1.27), checked
//! against the real `go` by `tests/cli/netrc_differential.rs`:
//!
//! - Lines split on LF only. A line is split into fields on Unicode whitespace and read as
//!   (keyword, value) pairs from its start: an odd last field is dropped, so a value on the next
//!   line is lost. Keywords are lower case only; there are no comments and no quotes.
//! - `machine NAME` starts an entry; `login`, `password` fill it (the last one wins); an entry is
//!   complete, and kept, as soon as all three are non-empty. `macdef` skips the lines up to the
//!   next empty one. A line whose odd last field is `default` ends the file.
//! - A host is served by the first complete entry whose NAME equals `host[:port]` of the URL
//!   exactly (letter case and port included); a NAME with `/` is a path prefix.

use crate::secret::Secret;

/// One complete entry as Go keeps it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GoEntry {
    pub machine: String,
    pub login: String,
    pub password: Secret,
    /// The line where the entry became complete.
    pub line: usize,
}

/// Splits `line` on Unicode whitespace (Go's `strings.Fields`); bytes that are not UTF-8 are
/// never spaces.
fn fields(line: &[u8]) -> Vec<Vec<u8>> {
    let mut out = Vec::new();
    let mut current: Vec<u8> = Vec::new();
    for chunk in line.utf8_chunks() {
        for c in chunk.valid().chars() {
            if c.is_whitespace() {
                if !current.is_empty() {
                    out.push(std::mem::take(&mut current));
                }
            } else {
                let mut buf = [0; 4];
                current.extend_from_slice(c.encode_utf8(&mut buf).as_bytes());
            }
        }
        current.extend_from_slice(chunk.invalid());
    }
    if !current.is_empty() {
        out.push(current);
    }
    out
}

fn text(word: &[u8]) -> String {
    String::from_utf8_lossy(word).into_owned()
}

/// Every complete entry, in file order.
pub fn entries(data: &[u8]) -> Vec<GoEntry> {
    let mut out = Vec::new();
    let (mut machine, mut login, mut password) = (Vec::new(), Vec::new(), Vec::new());
    let mut in_macro = false;
    for (i, line) in data.split(|&b| b == b'\n').enumerate() {
        if in_macro {
            if line.is_empty() {
                in_macro = false;
            }
            continue;
        }
        let f = fields(line);
        let mut j = 0;
        while j + 1 < f.len() {
            match f[j].as_slice() {
                b"machine" => {
                    machine = f[j + 1].clone();
                    login.clear();
                    password.clear();
                }
                b"login" => login = f[j + 1].clone(),
                b"password" => password = f[j + 1].clone(),
                b"macdef" => in_macro = true,
                _ => {}
            }
            if !machine.is_empty() && !login.is_empty() && !password.is_empty() {
                out.push(GoEntry {
                    machine: text(&machine),
                    login: text(&login),
                    password: Secret::new(text(&password)),
                    line: i + 1,
                });
                machine.clear();
                login.clear();
                password.clear();
            }
            j += 2;
        }
        if j < f.len() && f[j] == b"default" {
            break;
        }
    }
    out
}

/// The entry go uses for `https://<hostport>/`: the first whose name is exactly `hostport`.
pub fn lookup<'e>(entries: &'e [GoEntry], hostport: &str) -> Option<&'e GoEntry> {
    entries.iter().find(|e| e.machine == hostport)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn got(data: &str, host: &str) -> Option<(String, String)> {
        let e = entries(data.as_bytes());
        lookup(&e, host).map(|e| (e.login.clone(), e.password.expose().to_owned()))
    }

    #[test]
    fn pairs_per_line_exact_names_first_wins() {
        let two =
            "machine a.example login u1 password p1\nmachine a.example login u2 password p2\n";
        assert_eq!(got(two, "a.example"), Some(("u1".into(), "p1".into())));
        assert_eq!(got(two, "A.example"), None);
        assert_eq!(
            got("machine a.example login\nu password p\n", "a.example"),
            None
        );
        assert_eq!(
            got("MACHINE a.example login u password p\n", "a.example"),
            None
        );
        assert_eq!(
            got("machine h:8443 login u password p\n", "h:8443"),
            Some(("u".into(), "p".into()))
        );
        assert_eq!(got("machine h:8443 login u password p\n", "h"), None);
        // A `#` is just a word; quotes are kept.
        assert_eq!(
            got("machine a login u password #p\n", "a"),
            Some(("u".into(), "#p".into()))
        );
        assert_eq!(
            got("default\nmachine a login u password p\n", "a"),
            None,
            "a lone `default` ends the file"
        );
        assert_eq!(
            got("machine a login u password p\u{a0}q\n", "a"),
            Some(("u".into(), "p".into()))
        );
    }
}
