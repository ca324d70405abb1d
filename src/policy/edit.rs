//! Writing the policy file: `gocred config init` (a starting policy) and appending rules
//! (`login --save`, `import-netrc --save`). The one place gocred changes the policy.
//!
//! The rules of every edit:
//! - the existing file is read only through the loader's reader ([`super::trust`]): a regular
//!   file (never a FIFO or a device, so nothing can hang an edit), bounded, owned by this user or
//!   root and writable by no one else, UTF-8; whatever it refuses, the edit refuses too;
//! - what is there is kept byte for byte: an append adds a newline when the file does not end
//!   with one, a blank line, and the new text, nothing else;
//! - the result must load (every problem [`super::load_str`] finds refuses the edit) and, for an
//!   append, serve every target it is for;
//! - the file is replaced atomically, mode 0600 ([`crate::fs::write_private_atomic`]), under an
//!   exclusive lock beside it (`<file>.lock`), so two edits at once cannot lose one: a reader sees
//!   the old or the new policy, never half of one. A symlink at the path is replaced, never
//!   followed for writing.

use super::{ConfigError, Decision, Input, Policy, SourceKind, Target, normalize};
use std::path::{Path, PathBuf};

#[derive(Debug, thiserror::Error)]
pub enum EditError {
    /// The existing file cannot be read or is not trusted: nothing was written.
    #[error(transparent)]
    Read(#[from] ConfigError),
    /// The edit would leave a policy the loader refuses (one line per problem).
    #[error("not saving: the config would be invalid ({0})")]
    Invalid(String),
    /// The machine policy forbids a rule the edit would add (one line per rule).
    #[error("not saving: {0}")]
    Forbidden(String),
    /// `init` on a path that already holds a file.
    #[error(
        "{} already exists: gocred will not replace a policy; add a rule to it (`gocred login HOST \
         --save`), or pass --force to replace it (the old file is kept as {})",
        path.display(),
        backup_path(path).display()
    )]
    Exists { path: PathBuf },
    /// A rule written for a target does not serve it: a bug in the caller's rule text.
    #[error("BUG: the rule for {0} does not match it")]
    NoMatch(String),
    #[error("cannot write {} ({source}); it is unchanged", path.display())]
    Write {
        path: PathBuf,
        source: std::io::Error,
    },
}

/// Where `init --force` keeps the file it replaces: `<file>.bak`.
pub fn backup_path(path: &Path) -> PathBuf {
    let mut name = path.file_name().unwrap_or_default().to_os_string();
    name.push(".bak");
    path.with_file_name(name)
}

fn lock_path(path: &Path) -> PathBuf {
    let mut name = path.file_name().unwrap_or_default().to_os_string();
    name.push(".lock");
    path.with_file_name(name)
}

fn write_error(path: &Path) -> impl Fn(std::io::Error) -> EditError + '_ {
    move |source| EditError::Write {
        path: path.to_owned(),
        source,
    }
}

/// `text` loaded as every command will see it; the rules from line `new_from` on are the ones
/// the edit adds: one the machine policy forbids is not written.
fn check(path: &Path, text: &str, new_from: usize) -> Result<Policy, EditError> {
    let policy = super::load_str(path, text)
        .map_err(|e| EditError::Invalid(e.report().replace('\n', "; ")))?;
    let policy = super::machine::enforce(policy)?;
    if let Some(forbidden) = super::machine::refusal_from(&policy, new_from) {
        return Err(EditError::Forbidden(forbidden));
    }
    Ok(policy)
}

/// Appends `rules` (TOML text) to the policy at `path` (created when missing), atomically, after
/// checking that the result loads and that it serves every one of `targets`; the new policy.
pub fn append_rules(path: &Path, rules: &str, targets: &[Target]) -> Result<Policy, EditError> {
    let _lock = crate::fs::lock_exclusive(&lock_path(path)).map_err(write_error(path))?;
    let mut text = super::trust::read(path)?.unwrap_or_default();
    if !text.is_empty() && !text.ends_with('\n') {
        text.push('\n');
    }
    if !text.is_empty() {
        text.push('\n');
    }
    let new_from = 1 + text.matches('\n').count();
    text += rules;
    let new = check(path, &text, new_from)?;
    for target in targets {
        if matches!(new.decide(target.clone()), Decision::NotManaged) {
            return Err(EditError::NoMatch(target.origin()));
        }
    }
    crate::fs::write_private_atomic(path, text.as_bytes()).map_err(write_error(path))?;
    Ok(new)
}

/// What `gocred config init` writes for one host.
#[derive(Debug, Clone)]
pub struct InitOptions {
    /// The host (or URL) as the user typed it; it goes through [`normalize`].
    pub host: String,
    pub source: SourceKind,
    /// `env`: the user name git sends (default `oauth2`).
    pub username: Option<String>,
    /// `env`: the variable holding the token (default `GOCRED_TOKEN`).
    pub token_env: Option<String>,
    /// `oauth`: `gitlab`, `github` or `oidc`.
    pub provider: Option<String>,
    /// `oauth`: the OAuth application's client id.
    pub client_id: Option<String>,
    /// `oauth` with provider `oidc`: the issuer.
    pub issuer: Option<String>,
}

/// Why `config init` cannot write a policy from these options (before anything is read).
#[derive(Debug, thiserror::Error)]
pub enum InitError {
    #[error("cannot start a policy for '{host}': {reason}")]
    Host { host: String, reason: String },
    #[error("{0}")]
    Missing(String),
    #[error(transparent)]
    Edit(#[from] EditError),
}

/// `"..."`: `s` as a TOML basic string (every `"`, `\` and control character escaped).
fn toml_string(s: &str) -> String {
    let mut out = String::from("\"");
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            c if c.is_control() => out.push_str(&format!("\\u{:04X}", u32::from(c))),
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

/// The rule URL for `host`: `https://host[:port]`, plus `/path/` when a path was given.
fn rule_url(host: &str) -> Result<(String, Target), InitError> {
    let bad = |reason: String| InitError::Host {
        host: host.to_owned(),
        reason,
    };
    let target = normalize(Input::Url(host)).map_err(|e| bad(e.to_string()))?;
    if target.scheme != "https" {
        return Err(bad(
            "not https: `config init` writes https rules only (an http rule needs \
             `allow_http = true`, written by hand)"
                .into(),
        ));
    }
    if target.host.starts_with('*') {
        return Err(bad("a wildcard rule is written by hand".into()));
    }
    let mut url = target.origin();
    if let Some(path) = &target.path {
        url.push('/');
        url.push_str(path);
        url.push('/');
    }
    Ok((url, target))
}

/// The text of a starting policy for `options`, with a comment on every key; the target it is
/// for. Loads as it is (checked by [`init`]).
pub fn starting_policy(options: &InitOptions) -> Result<(String, Target), InitError> {
    let (url, target) = rule_url(&options.host)?;
    let mut text = String::from(
        "# gocred policy: which credential git and go get for which URL.\n\
         # Every host not matched by a [[rule]] is denied: gocred answers nothing for it.\n\
         # `gocred config check` validates this file; `man gocred-config` describes every key.\n\
         \n\
         # One [[rule]] per URL prefix. The most specific matching rule wins.\n\
         [[rule]]\n\
         # The URL this rule serves: scheme, host and port (as git sends them); a path makes it\n\
         # serve only repositories under that path.\n",
    );
    text += &format!("url = {}\n", toml_string(&url));
    let source = options.source;
    match source {
        SourceKind::Keychain | SourceKind::File => {
            let (what, store_note) = if source == SourceKind::Keychain {
                (
                    "the system keychain (Secret Service, keyutils, macOS or Windows)",
                    "# Where `gocred login HOST --with-token` and git's own `store` keep the credential.\n",
                )
            } else {
                (
                    "gocred's own 0600 file store (no keychain needed)",
                    "# Where `gocred login HOST --with-token` and git's own `store` keep the credential\n\
                     # (the file is $XDG_DATA_HOME/gocred/credentials unless [file] path says otherwise).\n",
                )
            };
            text += &format!(
                "# Where gocred looks for the credential, in order: here {what}.\n\
                 sources = [{}]\n{store_note}store = {}\n",
                toml_string(source.name()),
                toml_string(source.name()),
            );
        }
        SourceKind::Env => {
            let username = options.username.as_deref().unwrap_or("oauth2");
            let token_env = options.token_env.as_deref().unwrap_or("GOCRED_TOKEN");
            text += &format!(
                "# Where gocred looks for the credential: the environment variable below (read-only:\n\
                 # nothing is ever stored). When it is unset, `get` says so on stderr and answers nothing.\n\
                 sources = [\"env\"]\n\
                 # The variable holding the token (e.g. CI_JOB_TOKEN in GitLab CI, GITHUB_TOKEN).\n\
                 token_env = {}\n\
                 # The user name git sends with the token: \"gitlab-ci-token\" for a GitLab job token,\n\
                 # \"x-access-token\" for a GitHub App token, \"oauth2\" for a GitLab OAuth token.\n\
                 username = {}\n",
                toml_string(token_env),
                toml_string(username),
            );
        }
        SourceKind::Command | SourceKind::Ci | SourceKind::GitHubApp | SourceKind::Sts => {
            return Err(InitError::Missing(format!(
                "config init does not write `{}` rules: write one by hand (man gocred-config)",
                source.name()
            )));
        }
        SourceKind::OAuth => {
            let provider = options.provider.as_deref().ok_or_else(|| {
                InitError::Missing(
                    "--source oauth needs --provider gitlab|github|oidc and --client-id ID (the \
                     OAuth application registered for gocred; see `man gocred-config`)"
                        .into(),
                )
            })?;
            let client_id = options.client_id.as_deref().ok_or_else(|| {
                InitError::Missing(
                    "--source oauth needs --client-id ID: the client id of the OAuth application \
                     registered for gocred (there is no secret)"
                        .into(),
                )
            })?;
            text += "# Where gocred looks for the credential: OAuth tokens from `gocred login HOST`\n\
                     # (device flow), refreshed when they expire.\n\
                     sources = [\"oauth\"]\n\
                     # Where the tokens are kept: the system keychain.\n\
                     store = \"keychain\"\n\
                     \n\
                     # The OAuth application gocred logs in with.\n\
                     [rule.oauth]\n\
                     # Who runs the server: \"gitlab\", \"github\" or \"oidc\" (picks the endpoints).\n";
            text += &format!("provider = {}\n", toml_string(provider));
            text += "# The application's client id (gocred is a public client: no secret).\n";
            text += &format!("client_id = {}\n", toml_string(client_id));
            if let Some(issuer) = &options.issuer {
                text += "# The OpenID Connect issuer; its endpoints come from discovery.\n";
                text += &format!("issuer = {}\n", toml_string(issuer));
            }
        }
    }
    Ok((text, target))
}

/// Writes the starting policy for `options` at `path`, mode 0600, atomically. A file already
/// there is refused, or with `force` replaced after being copied to [`backup_path`] (through
/// the same checked reader, so a FIFO or an untrusted file is refused either way).
pub fn init(path: &Path, options: &InitOptions, force: bool) -> Result<Policy, InitError> {
    let (text, target) = starting_policy(options)?;
    let policy = check(path, &text, 1)?;
    if matches!(policy.decide(target.clone()), Decision::NotManaged) {
        return Err(EditError::NoMatch(target.origin()).into());
    }
    let _lock = crate::fs::lock_exclusive(&lock_path(path)).map_err(write_error(path))?;
    if let Some(old) = super::trust::read(path).map_err(EditError::from)? {
        if !force {
            return Err(EditError::Exists {
                path: path.to_owned(),
            }
            .into());
        }
        let backup = backup_path(path);
        crate::fs::write_private_atomic(&backup, old.as_bytes()).map_err(write_error(&backup))?;
    } else if std::fs::symlink_metadata(path).is_ok() {
        // A dangling symlink: trust::read saw no file, but a name is there.
        return Err(EditError::Exists {
            path: path.to_owned(),
        }
        .into());
    }
    crate::fs::write_private_atomic(path, text.as_bytes()).map_err(write_error(path))?;
    Ok(policy)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn config_init_toml_string_escapes_what_toml_needs() {
        assert_eq!(toml_string("a\"b\\c\nd"), "\"a\\\"b\\\\c\\u000Ad\"");
    }

    const RULE: &str =
        "[[rule]]\nurl = \"https://new.example\"\nsources = [\"keychain\"]\nstore = \"keychain\"\n";

    fn dir() -> (tempfile::TempDir, PathBuf) {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().canonicalize().unwrap().join("config.toml");
        (dir, path)
    }

    #[test]
    fn policy_edit_append_keeps_every_byte_before_the_new_rule() {
        let (_dir, path) = dir();
        // No final newline, CRLF, a comment and odd spacing: all kept as they are.
        let old = "# mine\r\n[[rule]]\r\nurl   = \"https://old.example\"\r\nsources = [\"keychain\"]\r\nstore = \"keychain\"";
        crate::fs::write_private_atomic(&path, old.as_bytes()).unwrap();
        let target = normalize(Input::Url("new.example")).unwrap();
        let policy = append_rules(&path, RULE, &[target]).unwrap();
        assert_eq!(policy.rules.len(), 2);
        let text = std::fs::read_to_string(&path).unwrap();
        assert_eq!(text, format!("{old}\n\n{RULE}"));
    }

    #[test]
    fn policy_edit_append_refuses_a_fifo_without_hanging_and_an_invalid_result() {
        let (_dir, path) = dir();
        let c = std::ffi::CString::new(path.to_str().unwrap()).unwrap();
        // SAFETY: a valid C string; mkfifo has no other precondition.
        assert_eq!(unsafe { libc::mkfifo(c.as_ptr(), 0o600) }, 0);
        let err = append_rules(&path, RULE, &[]).unwrap_err();
        assert!(err.to_string().contains("FIFO"), "{err}");

        let (_dir, path) = dir();
        crate::fs::write_private_atomic(&path, b"# kept\n").unwrap();
        let err = append_rules(&path, "[[rule]]\nurl = 3\n", &[]).unwrap_err();
        assert!(matches!(err, EditError::Invalid(_)), "{err}");
        assert_eq!(std::fs::read_to_string(&path).unwrap(), "# kept\n");
    }
}
