//! `gocred setup git|go`: configure git ([`git`]) and the go command ([`go`]) for the hosts
//! policy names.
//!
//! Whatever setup writes is data, never code. The values come from the environment and from
//! go's config, i.e. from anyone who can set them: go's environment is read as JSON (`go env
//! -json`), each variable by its name, so no value can shift into another; every value printed
//! for a shell is quoted for that shell ([`quote`]: sh and fish single quotes differ); `--write`
//! refuses a value go's line-based config file cannot hold. The helper value `setup git` writes
//! is one word to the shell git runs it with ([`git_helper_value`]).

pub mod git;
pub mod go;

/// Why setup stopped: one line naming what and the fix.
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct Error(pub String);

/// What setup says: `stdout` (the commands it ran or would run, the lines for a shell), what go
/// itself warned (`go_says`, one line each) and `notes` (why something was kept or not done).
#[derive(Debug, Default)]
pub struct Outcome {
    pub stdout: String,
    pub go_says: Vec<String>,
    pub notes: Vec<String>,
}

/// The shells `setup go` prints for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Shell {
    /// POSIX sh, dash, bash, zsh (export lines)
    Sh,
    /// fish (set -gx lines)
    Fish,
}

/// Bytes that mean nothing to sh or fish anywhere in a word: a word made only of these is
/// printed bare. Everything else (quotes, `\`, `$`, `;`, `~`, `*`, `{`, space, newline,
/// non-ASCII, ...) is quoted.
fn is_plain(s: &str) -> bool {
    !s.is_empty()
        && s.bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"/._+-:=,@".contains(&b))
}

/// `s` as one word of `shell`, standing for exactly `s`: bare when nothing in it is special,
/// else in single quotes. In sh nothing is special inside single quotes, so a `'` closes the
/// quote, is written `\'`, and a new quote opens (`'\''`). In fish `\'` and `\\` are escapes
/// inside single quotes, so `\` becomes `\\` and `'` becomes `\'`.
pub fn quote(shell: Shell, s: &str) -> String {
    if is_plain(s) {
        return s.to_owned();
    }
    match shell {
        Shell::Sh => format!("'{}'", s.replace('\'', r"'\''")),
        Shell::Fish => format!("'{}'", s.replace('\\', r"\\").replace('\'', r"\'")),
    }
}

/// `'value'` for sh, when it needs quoting at all.
pub fn shell_quote(s: &str) -> String {
    quote(Shell::Sh, s)
}

/// The word an sh-quoted word stands for (the forms [`quote`] writes among them); `None` for
/// anything that is not exactly one plain word to sh.
fn sh_unquote(word: &str) -> Option<String> {
    match crate::gitconfig::sh_words(word)?.as_slice() {
        [one] => Some(one.clone()),
        _ => None,
    }
}

/// The `credential.helper` value that makes git run the program at `path` and nothing else.
///
/// git runs a helper value that starts with `/` as a command line through `sh -c` (with the
/// operation appended), and one that starts with `!` likewise; so a path holding a space or a
/// shell metacharacter would be split, or run as code. A plain path is written as it is (what
/// git's documentation shows); any other becomes `!` and the path as one sh-quoted word.
pub fn git_helper_value(path: &str) -> String {
    if is_plain(path) {
        path.to_owned()
    } else {
        format!("!{}", shell_quote(path))
    }
}

/// This gocred as git should run it: its absolute path, as [`git_helper_value`] writes it.
pub fn own_helper_value() -> Result<String, Error> {
    let exe = std::env::current_exe()
        .map_err(|e| Error(format!("cannot tell where gocred is installed: {e}")))?;
    exe.to_str()
        .map(git_helper_value)
        .ok_or_else(|| Error("gocred's own path is not UTF-8".into()))
}
