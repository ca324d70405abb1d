//! Go's environment as the go command sees it: named variables from `go env -json` (the
//! environment over go's env file over go's defaults), go's env file (`go env GOENV`) read as go
//! reads it, and how GOPRIVATE, GONOPROXY, GONOSUMDB and GOINSECURE route a module path
//! ([`GoEnv::routing`], matched as `go help module-private` says: [`match_prefix_patterns`]).
//! Used by `setup go` and `doctor`.

use std::collections::BTreeMap;
use std::process::{Command, Stdio};

/// Why `go env -json` gave no values.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// `go` could not be started (not on PATH, not executable...).
    #[error("cannot run `go env` ({0})")]
    Run(std::io::Error),
    /// `go env -json` exited non-zero; what it said on stderr.
    #[error("`go env -json` failed: {}", crate::redact::shown(.0.trim()))]
    Failed(String),
    /// `go env -json` printed something that is not a JSON object of strings.
    #[error(
        "`go env -json` printed something that is not an object of strings ({0}): is `go` on PATH the Go command?"
    )]
    NotJson(serde_json::Error),
}

/// What `go env -json NAMES...` printed, every name present (empty when go printed none).
pub fn go_env_json(names: &[&str]) -> Result<BTreeMap<String, String>, Error> {
    let output = Command::new("go")
        .args(["env", "-json"])
        .args(names)
        .stdin(Stdio::null())
        .output()
        .map_err(Error::Run)?;
    if !output.status.success() {
        return Err(Error::Failed(
            String::from_utf8_lossy(&output.stderr).into_owned(),
        ));
    }
    let mut values: BTreeMap<String, String> =
        serde_json::from_slice(&output.stdout).map_err(Error::NotJson)?;
    for name in names {
        values.entry((*name).to_owned()).or_default();
    }
    Ok(values)
}

/// The variables of go's env file (`go env GOENV`) as go reads them: one `NAME=value` a line,
/// a line that does not start with `A`-`Z` or has no `=` skipped, the first of a name kept.
/// Only a regular file is read (a FIFO there must not hang setup); none when there is none.
pub fn go_env_file(path: &str) -> BTreeMap<String, String> {
    let mut values = BTreeMap::new();
    if path.is_empty() || path == "off" {
        return values;
    }
    let path = std::path::Path::new(path);
    if !std::fs::metadata(path).is_ok_and(|m| m.is_file()) {
        return values;
    }
    let mut text = Vec::new();
    let mut open = std::fs::OpenOptions::new();
    open.read(true);
    // A FIFO swapped in after the look above must not hang the open.
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::custom_flags(&mut open, libc::O_NONBLOCK);
    let read = open
        .open(path)
        .and_then(|f| std::io::Read::read_to_end(&mut std::io::Read::take(f, 1 << 20), &mut text));
    if read.is_err() {
        return values;
    }
    for line in text.split(|&b| b == b'\n') {
        let Some(eq) = line.iter().position(|&b| b == b'=') else {
            continue;
        };
        if !line[0].is_ascii_uppercase() {
            continue;
        }
        let (k, v) = (&line[..eq], &line[eq + 1..]);
        values
            .entry(String::from_utf8_lossy(k).into_owned())
            .or_insert_with(|| String::from_utf8_lossy(v).into_owned());
    }
    values
}

/// Go's variables as they are now, and where each comes from.
#[derive(Debug, Default)]
pub struct GoEnv {
    /// What go uses (`go env -json`: the environment over go's env file over defaults), or,
    /// without go, the environment's values.
    effective: BTreeMap<String, String>,
    /// The names read that are non-empty in the process environment (which go's env file
    /// cannot override).
    from_env: Vec<String>,
    /// go's env file (`go env GOENV`), as go reads it; empty without go.
    pub file: BTreeMap<String, String>,
    /// Where go's env file is (`go env GOENV`); empty without go.
    pub goenv: String,
    /// Whether `go` ran (else the values are the environment's alone).
    pub have_go: bool,
}

impl GoEnv {
    /// `names` (and GOENV) as go sees them; without a `go` on PATH, as the environment `env`
    /// has them (and [`GoEnv::have_go`] false).
    pub fn read(env: &dyn Fn(&str) -> Option<String>, names: &[&str]) -> Result<Self, Error> {
        match GoEnv::read_go(env, names) {
            Err(Error::Run(e)) if e.kind() == std::io::ErrorKind::NotFound => {
                let env = |name: &str| env(name).filter(|v| !v.is_empty());
                Ok(GoEnv {
                    effective: names
                        .iter()
                        .chain(&["GOENV"])
                        .map(|n| ((*n).to_owned(), env(n).unwrap_or_default()))
                        .collect(),
                    from_env: from_env(&env, names),
                    ..GoEnv::default()
                })
            }
            read => read,
        }
    }

    /// `names` (and GOENV) as go sees them; an error when `go` cannot tell.
    pub fn read_go(env: &dyn Fn(&str) -> Option<String>, names: &[&str]) -> Result<Self, Error> {
        let env = |name: &str| env(name).filter(|v| !v.is_empty());
        let mut asked = names.to_vec();
        if !asked.contains(&"GOENV") {
            asked.push("GOENV");
        }
        let effective = go_env_json(&asked)?;
        let goenv = effective.get("GOENV").cloned().unwrap_or_default();
        Ok(GoEnv {
            file: go_env_file(&goenv),
            effective,
            from_env: from_env(&env, names),
            goenv,
            have_go: true,
        })
    }

    /// What go would report given `environment` and an env file holding `file` (the environment
    /// over the file; GONOPROXY and GONOSUMDB following GOPRIVATE unless set), as if go ran: for
    /// tests of what is planned from go's values.
    pub fn simulated(environment: &[(&str, &str)], file: &[(&str, &str)]) -> Self {
        let mut go = GoEnv {
            have_go: true,
            ..GoEnv::default()
        };
        for (k, v) in file {
            go.file.insert((*k).into(), (*v).into());
            go.effective.insert((*k).into(), (*v).into());
        }
        for (k, v) in environment {
            go.from_env.push((*k).into());
            go.effective.insert((*k).into(), (*v).into());
        }
        let private = go.get("GOPRIVATE").to_owned();
        for name in ["GONOPROXY", "GONOSUMDB"] {
            if !go.explicit(name) {
                go.effective.insert(name.into(), private.clone());
            }
        }
        go
    }

    /// The value go uses; empty when unset (or not read).
    pub fn get(&self, name: &str) -> &str {
        self.effective.get(name).map_or("", String::as_str)
    }

    /// Whether `name` is set (non-empty) in the process environment, which go's env file cannot
    /// override.
    pub fn in_environment(&self, name: &str) -> bool {
        self.from_env.iter().any(|n| n == name)
    }

    /// Whether `name` is set by the user (environment or go's env file), not defaulted by go
    /// (GONOPROXY and GONOSUMDB default to GOPRIVATE).
    pub fn explicit(&self, name: &str) -> bool {
        self.in_environment(name) || self.file.get(name).is_some_and(|v| !v.is_empty())
    }

    /// How go fetches `module` (a module path such as `git.corp.example/team/lib`), from
    /// GOPRIVATE, GONOPROXY, GONOSUMDB and GOINSECURE (read them first). GONOPROXY and
    /// GONOSUMDB, when empty, follow GOPRIVATE, as in go.
    pub fn routing(&self, module: &str) -> Routing {
        let private = self.get("GOPRIVATE");
        let or_private = |name: &str| match self.get(name) {
            "" => private,
            v => v,
        };
        let matching = |patterns: &str| match_prefix_patterns(patterns, module).map(str::to_owned);
        Routing {
            direct: matching(or_private("GONOPROXY")),
            no_sumdb: matching(or_private("GONOSUMDB")),
            insecure: matching(self.get("GOINSECURE")),
        }
    }
}

/// Those of `names` that `env` holds (non-empty).
fn from_env(env: &dyn Fn(&str) -> Option<String>, names: &[&str]) -> Vec<String> {
    names
        .iter()
        .filter(|n| env(n).is_some())
        .map(|n| (*n).to_owned())
        .collect()
}

/// How go treats one module path: each the pattern that decided it, `None` when none matches.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Routing {
    /// The GONOPROXY (else GOPRIVATE) pattern that makes go fetch it directly, not through
    /// GOPROXY.
    pub direct: Option<String>,
    /// The GONOSUMDB (else GOPRIVATE) pattern that keeps its checksum out of GOSUMDB.
    pub no_sumdb: Option<String>,
    /// The GOINSECURE pattern that lets go fetch it without TLS checks.
    pub insecure: Option<String>,
}

/// The first of the comma-separated glob `patterns` that matches a prefix of `module`, as go's
/// `module.MatchPrefixPatterns`: a pattern of N path elements matches the first N elements of
/// the path with `path.Match`; a trailing `/` is dropped, empty patterns skipped, a malformed
/// one matches nothing.
pub fn match_prefix_patterns<'p>(patterns: &'p str, module: &str) -> Option<&'p str> {
    patterns.split(',').find(|glob| {
        let glob = glob.strip_suffix('/').unwrap_or(glob);
        if glob.is_empty() {
            return false;
        }
        let n = glob.matches('/').count();
        let mut ends = module.match_indices('/').map(|(i, _)| i);
        let prefix = match ends.nth(n) {
            Some(end) => &module[..end],
            None if module.matches('/').count() == n => module,
            None => return false, // not enough path elements
        };
        path_match(glob, prefix)
    })
}

/// Go's `path.Match`: `*` any run of non-`/` characters, `?` one non-`/` character, `[...]` a
/// class (`[^...]` negated, `a-z` ranges), `\` quotes the next character. A malformed pattern
/// matches nothing (go returns `ErrBadPattern`).
pub fn path_match(pattern: &str, name: &str) -> bool {
    let p: Vec<char> = pattern.chars().collect();
    let s: Vec<char> = name.chars().collect();
    well_formed(&p) && matches(&p, &s)
}

fn well_formed(mut p: &[char]) -> bool {
    while let Some((&c, rest)) = p.split_first() {
        p = match c {
            '\\' => match rest.split_first() {
                Some((_, rest)) => rest,
                None => return false,
            },
            '[' => match class(rest, None) {
                Some((_, rest)) => rest,
                None => return false,
            },
            _ => rest,
        };
    }
    true
}

fn matches(p: &[char], s: &[char]) -> bool {
    match p.split_first() {
        None => s.is_empty(),
        Some(('*', rest)) => (0..=s.len())
            .take_while(|&i| i == 0 || s[i - 1] != '/')
            .any(|i| matches(rest, &s[i..])),
        Some(('?', rest)) => s.first().is_some_and(|&c| c != '/') && matches(rest, &s[1..]),
        Some(('[', rest)) => match (s.split_first(), class(rest, s.first().copied())) {
            (Some((_, tail)), Some((true, rest))) => matches(rest, tail),
            _ => false,
        },
        Some(('\\', rest)) => match rest.split_first() {
            Some((c, rest)) => s.first() == Some(c) && matches(rest, &s[1..]),
            None => false,
        },
        Some((c, rest)) => s.first() == Some(c) && matches(rest, &s[1..]),
    }
}

/// A class after its `[`: whether `c` is in it, and the pattern after its `]`; `None` when
/// malformed (empty, unclosed, a bare `-` or `]`).
fn class(mut p: &[char], c: Option<char>) -> Option<(bool, &[char])> {
    let negated = p.first() == Some(&'^');
    if negated {
        p = &p[1..];
    }
    let mut in_class = false;
    let mut ranges = 0;
    loop {
        if p.first() == Some(&']') && ranges > 0 {
            return Some((c.is_some() && in_class != negated, &p[1..]));
        }
        let (lo, rest) = class_char(p)?;
        p = rest;
        let mut hi = lo;
        if p.first() == Some(&'-') {
            let (h, rest) = class_char(&p[1..])?;
            (hi, p) = (h, rest); // `z-a` is no error in go: it holds nothing
        }
        in_class |= c.is_some_and(|c| lo <= c && c <= hi);
        ranges += 1;
    }
}

/// One character of a class, `\`-quoted or not; `None` for a bare `-` or `]` or the end.
fn class_char(p: &[char]) -> Option<(char, &[char])> {
    match p.split_first()? {
        ('-' | ']', _) => None,
        ('\\', rest) => rest.split_first().map(|(&c, rest)| (c, rest)),
        (&c, rest) => Some((c, rest)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn path_match_follows_gos_path_match() {
        for (pattern, name, want) in [
            ("abc", "abc", true),
            ("*", "abc", true),
            ("*c", "abc", true),
            ("a*", "a", true),
            ("a*", "ab/c", false),
            ("a*/b", "abc/b", true),
            ("a*/b", "a/c/b", false),
            ("a?c", "abc", true),
            ("a?c", "a/c", false),
            ("[a-c]x", "bx", true),
            ("[^a-c]x", "dx", true),
            ("[^a-c]x", "bx", false),
            ("a\\*b", "a*b", true),
            ("a\\*b", "axb", false),
            ("[]a]", "a", false),
            ("[", "a", false),
            ("a\\", "a", false),
            ("[z-a]", "b", false),
            ("[^z-a]", "b", true),
            ("*.corp.example", "git.corp.example", true),
            ("*.corp.example", "corp.example", false),
        ] {
            assert_eq!(path_match(pattern, name), want, "{pattern} vs {name}");
        }
    }

    #[test]
    fn match_prefix_patterns_matches_leading_path_elements_as_go_does() {
        let m = |p, t| match_prefix_patterns(p, t);
        assert_eq!(
            m("git.corp.example", "git.corp.example/a/b"),
            Some("git.corp.example")
        );
        assert_eq!(
            m("*.corp.example", "git.corp.example/a"),
            Some("*.corp.example")
        );
        assert_eq!(
            m("git.corp.example/team", "git.corp.example/team/x"),
            Some("git.corp.example/team")
        );
        assert_eq!(m("git.corp.example/team", "git.corp.example/other/x"), None);
        assert_eq!(
            m("git.corp.example/team/", "git.corp.example/team"),
            Some("git.corp.example/team/")
        );
        assert_eq!(m("git.corp.example/a/b", "git.corp.example/a"), None);
        assert_eq!(
            m("x,,git.corp.example", "git.corp.example"),
            Some("git.corp.example")
        );
        assert_eq!(m("", "git.corp.example"), None);
        assert_eq!(m("none", "git.corp.example/a"), None);
    }

    #[test]
    fn routing_follows_goprivate_when_gonoproxy_and_gonosumdb_are_unset() {
        let env = GoEnv::simulated(
            &[("GOPRIVATE", "*.corp.example"), ("GONOPROXY", "none")],
            &[("GOINSECURE", "git.corp.example")],
        );
        let r = env.routing("git.corp.example/team/lib");
        assert_eq!(r.direct, None);
        assert_eq!(r.no_sumdb.as_deref(), Some("*.corp.example"));
        assert_eq!(r.insecure.as_deref(), Some("git.corp.example"));
    }
}
