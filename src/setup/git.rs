//! `setup git`: for every origin of a rule, `credential.<origin>.helper` as exactly two
//! values: an empty one (git forgets the helpers it collected so far, so no other helper answers
//! for that origin) and gocred; plus `credential.<origin>/<prefix>.useHttpPath = true` under the
//! prefix of every path-scoped rule (such a rule matches only when git sends the path; elsewhere
//! git sends none, so an entry stored without a path keeps answering there). Idempotent: what is already
//! right is left alone. Every value it replaces is named on stderr, and what it wrote and what
//! that replaced is recorded in the same git config scope ([`RECORD_KEY`]). `--dry-run` prints
//! the exact `git config` commands; `--undo` puts back exactly what the record says was there,
//! on the keys that still hold what setup wrote, and touches nothing else (a key someone changed
//! since is left alone, with a note naming what it had replaced).

use super::{Error, Outcome, sh_unquote, shell_quote};
use crate::gitconfig::{ScopeError, ScopeFile};
use crate::policy::{Policy, rule_machine, rule_origin, rule_path_prefix};
use std::collections::BTreeMap;

/// Where and how `setup git` writes.
#[derive(Debug, Clone, Copy)]
pub struct Options {
    /// `--global`, `--system` or `--local`.
    pub scope: &'static str,
    /// Print the `git config` commands instead of running them.
    pub dry_run: bool,
    /// Put back what setup replaced.
    pub undo: bool,
}

/// The helper value git should run: `gocred` when `git-credential-gocred` is on PATH (what
/// `cargo install` gives), else this binary's absolute path.
pub fn helper_value(env: &dyn Fn(&str) -> Option<String>) -> Result<String, Error> {
    let on_path = env("PATH").is_some_and(|path| {
        std::env::split_paths(&path).any(|dir| dir.join("git-credential-gocred").is_file())
    });
    if on_path {
        return Ok("gocred".into());
    }
    super::own_helper_value()
}

/// The origins of the policy's rules, in rule order, once each, and the `<origin>/<prefix>` of
/// every path-scoped rule (where git must send the path: `useHttpPath`), once each. Only the
/// rules of `hosts` (`host[:port]`, as [`crate::policy::rule_machine`] names them), when given.
pub fn origins(policy: &Policy, hosts: &[String]) -> (Vec<String>, Vec<String>) {
    let (mut origins, mut prefixes) = (Vec::new(), Vec::new());
    for rule in &policy.rules {
        if !hosts.is_empty() && !hosts.contains(&rule_machine(rule)) {
            continue;
        }
        let origin = rule_origin(rule);
        if !origins.contains(&origin) {
            origins.push(origin);
        }
        if let Some(prefix) = rule_path_prefix(rule)
            && !prefixes.contains(&prefix)
        {
            prefixes.push(prefix);
        }
    }
    (origins, prefixes)
}

/// The `credential.<url>` keys, each with its values in order, that make git ask `helper` (and
/// nobody else) for `origins`: an empty `helper` first (git forgets the helpers collected so
/// far), then `helper`. `useHttpPath` is turned on only under `prefixes`: there git must send
/// the path for a path-scoped rule to match, and elsewhere on the host git keeps asking without
/// one, so a host-wide entry (stored without a path) still answers, as git's own helpers match
/// entries.
pub fn wanted(origins: &[String], prefixes: &[String], helper: &str) -> Vec<(String, Vec<String>)> {
    let helpers = origins.iter().map(|o| {
        (
            format!("credential.{o}.helper"),
            vec![String::new(), helper.to_owned()],
        )
    });
    let paths = prefixes.iter().map(|p| {
        (
            format!("credential.{p}.useHttpPath"),
            vec!["true".to_owned()],
        )
    });
    helpers.chain(paths).collect()
}

/// One git config file, changed as `--dry-run` says: every command shown (`out`), run unless
/// dry.
struct Git<'a> {
    file: ScopeFile,
    dry_run: bool,
    out: &'a mut Vec<String>,
}

impl Git<'_> {
    fn get_all(&self, key: &str) -> Result<Vec<String>, Error> {
        self.file.get_all(key).map_err(|e| match e {
            ScopeError::Failed(stderr) => Error(format!(
                "git config {} --get-all {key} failed: {stderr}",
                self.file.scope
            )),
            e => Error(e.to_string()),
        })
    }

    fn run(&mut self, args: &[&str]) -> Result<(), Error> {
        let mut line = format!("git config {}", self.file.scope);
        for a in args {
            line.push(' ');
            line.push_str(&shell_quote(a));
        }
        // What is shown passes through redaction: a replaced helper value in a record may be a
        // shell snippet holding a token.
        let line = crate::redact::shown(&line).to_string();
        if self.dry_run {
            self.out.push(line);
            return Ok(());
        }
        self.file.run(args).map_err(|e| match e {
            ScopeError::Failed(stderr) => Error(format!("`{line}` failed: {stderr}")),
            e => Error(e.to_string()),
        })?;
        self.out.push(format!("ran: {line}"));
        Ok(())
    }
}

/// The git config key (in the scope setup writes) that records what setup wrote: one value per
/// key it changed, a JSON object `{"key": K, "wrote": [...], "replaced": [...]}` (every value of
/// K before and after, in order). Kept in git's config rather than a file of gocred's own: each
/// scope (`--global`, `--system`, one repository's `--local`) carries its own record with the
/// values it describes, a copied or reset config takes its record along, and there is no second
/// file that could disagree with the config. git ignores a section it does not know.
const RECORD_KEY: &str = "gocred.setup";

/// One key setup changed: what it wrote there and what was there before.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Record {
    key: String,
    wrote: Vec<String>,
    replaced: Vec<String>,
}

impl Record {
    fn to_json(&self) -> String {
        serde_json::json!({"key": self.key, "wrote": self.wrote, "replaced": self.replaced})
            .to_string()
    }

    fn from_json(text: &str) -> Option<Record> {
        let v: serde_json::Value = serde_json::from_str(text).ok()?;
        let list = |name: &str| -> Option<Vec<String>> {
            v.get(name)?
                .as_array()?
                .iter()
                .map(|s| s.as_str().map(str::to_owned))
                .collect()
        };
        let key = v.get("key")?.as_str()?;
        // Only keys setup writes: a record is never a way to make undo touch another key (or
        // pass git an option).
        let lower = key.to_ascii_lowercase();
        if !lower.starts_with("credential.")
            || !(lower.ends_with(".helper") || lower.ends_with(".usehttppath"))
        {
            return None;
        }
        Some(Record {
            key: key.to_owned(),
            wrote: list("wrote")?,
            replaced: list("replaced")?,
        })
    }
}

/// `value` as a note shows it: redacted and sanitized, the empty value named.
fn shown_value(value: &str) -> String {
    if value.is_empty() {
        "(empty: git forgets the helpers configured before it)".to_owned()
    } else {
        crate::redact::shown(value).to_string()
    }
}

impl Git<'_> {
    /// Sets `key` to exactly `values`, in order.
    fn set_all(&mut self, key: &str, values: &[String]) -> Result<(), Error> {
        match values.split_first() {
            None => self.run(&["--unset-all", key]),
            Some((first, rest)) => {
                self.run(&["--replace-all", key, first])?;
                for v in rest {
                    self.run(&["--add", key, v])?;
                }
                Ok(())
            }
        }
    }

    fn records(&self) -> Result<Vec<Result<Record, String>>, Error> {
        Ok(self
            .get_all(RECORD_KEY)?
            .into_iter()
            .map(|text| Record::from_json(&text).ok_or(text))
            .collect())
    }
}

/// Sets git up (or, with `undo`, back) for `policy`'s rules; `env` is the environment (its PATH
/// says whether `gocred` is on it, and where git's helpers are).
pub fn setup_git(
    policy: &Policy,
    env: &dyn Fn(&str) -> Option<String>,
    args: Options,
) -> Result<Outcome, Error> {
    let scope = args.scope;
    let mut out = Vec::new();
    let mut notes = Vec::new();
    let mut git = Git {
        file: ScopeFile { scope },
        dry_run: args.dry_run,
        out: &mut out,
    };
    let (origins, prefixes) = origins(policy, &[]);
    if args.undo {
        undo_git(&mut git, &origins, &prefixes, &mut notes)?;
    } else {
        let helper = helper_value(env)?;
        let wanted = wanted(&origins, &prefixes, &helper);
        let before = (!args.dry_run)
            .then(|| running_helpers(env, &origins))
            .flatten();
        let mut records = git.records()?;
        let mut changed = false;
        for (key, values) in &wanted {
            let current = git.get_all(key)?;
            if current == *values {
                continue;
            }
            let verb = if args.dry_run {
                "would replace"
            } else {
                "replacing"
            };
            for old in &current {
                notes.push(format!("{verb} {key} = {}", shown_value(old)));
            }
            git.set_all(key, values)?;
            records.retain(|r| !matches!(r, Ok(r) if r.key.eq_ignore_ascii_case(key)));
            records.push(Ok(Record {
                key: key.clone(),
                wrote: values.clone(),
                replaced: current,
            }));
            changed = true;
        }
        if let Some(before) = before
            && let Some(after) = running_helpers(env, &origins)
        {
            for (origin, was) in &before {
                let now = after.get(origin).map_or(&[][..], Vec::as_slice);
                for (key, value, described) in was {
                    // Named above already when it was a value of a key setup replaced.
                    let replaced_here = wanted.iter().any(|(k, _)| {
                        key.eq_ignore_ascii_case(&format!("{}\0{k}", scope.trim_start_matches('-')))
                    });
                    if !replaced_here && !now.iter().any(|(k, v, _)| k == key && v == value) {
                        notes.push(format!(
                            "git no longer runs {} for {origin}: the empty helper value gocred \
                             setup writes first resets the helpers configured before it",
                            crate::redact::shown(described)
                        ));
                    }
                }
            }
        }
        if changed {
            if !git.get_all(RECORD_KEY)?.is_empty() {
                git.run(&["--unset-all", RECORD_KEY])?;
            }
            for record in &records {
                let text = match record {
                    Ok(r) => r.to_json(),
                    Err(text) => text.clone(),
                };
                git.run(&["--add", RECORD_KEY, &text])?;
            }
        }
    }
    if policy.rules.is_empty() && !args.undo {
        notes.push(format!(
            "{} has no rules: nothing to set up",
            policy.path.display()
        ));
    } else if out.is_empty() && !args.undo {
        notes.push(format!("git ({scope}) is already set up for every rule"));
    }
    let mut stdout = out.join("\n");
    if !stdout.is_empty() {
        stdout.push('\n');
    }
    Ok(Outcome {
        stdout,
        notes,
        ..Outcome::default()
    })
}

/// For each origin, the helpers git runs for it other than gocred (`scope\0key`, value,
/// description),
/// as git resolves them from every scope; `None` when git's config cannot be read (the notes
/// these feed are then left out, nothing else).
type Running = BTreeMap<String, Vec<(String, String, String)>>;

fn running_helpers(env: &dyn Fn(&str) -> Option<String>, origins: &[String]) -> Option<Running> {
    let config = crate::gitconfig::read(env("PATH").map(Into::into)).ok()?;
    let mut running = BTreeMap::new();
    for origin in origins {
        let (protocol, host) = origin.split_once("://")?;
        let url = crate::gitconfig::CredentialUrl {
            protocol: protocol.to_owned(),
            host: host.to_owned(),
            path: None,
        };
        let helpers = config.helpers(&config.resolve(&url));
        let list = helpers
            .iter()
            .filter(|h| !h.gocred)
            .map(|h| {
                (
                    format!("{}\0{}", h.entry.scope, h.entry.key),
                    h.entry.value.clone().unwrap_or_default(),
                    h.entry.describe(),
                )
            })
            .collect();
        running.insert(origin.clone(), list);
    }
    Some(running)
}

/// `setup git --undo`: every key the record names gets back exactly what was there before,
/// when it still holds exactly what setup wrote; a key someone changed since is left as it is,
/// with a note naming what it had replaced. Then the record goes. A scope with no record (set
/// up by a version that kept none) falls back to removing the helper lists that are exactly
/// what setup writes.
fn undo_git(
    git: &mut Git<'_>,
    origins: &[String],
    prefixes: &[String],
    notes: &mut Vec<String>,
) -> Result<(), Error> {
    let records = git.records()?;
    if records.is_empty() {
        return undo_git_unrecorded(git, origins, prefixes, notes);
    }
    for record in &records {
        let record = match record {
            Ok(r) => r,
            Err(text) => {
                notes.push(format!(
                    "{RECORD_KEY} holds a value gocred cannot read ({}); ignored",
                    crate::redact::shown(text)
                ));
                continue;
            }
        };
        let current = git.get_all(&record.key)?;
        if current == record.wrote {
            git.set_all(&record.key, &record.replaced)?;
        } else {
            let had = if record.replaced.is_empty() {
                "it was not set before".to_owned()
            } else {
                let list: Vec<String> = record.replaced.iter().map(|v| shown_value(v)).collect();
                format!("it had replaced: {}", list.join("; "))
            };
            notes.push(format!(
                "{} changed since gocred setup git wrote it; left as it is ({had})",
                record.key
            ));
        }
    }
    git.run(&["--unset-all", RECORD_KEY])?;
    if !git.dry_run {
        // An empty [gocred] section would be the one trace left.
        let left = git
            .file
            .any_matching(r"^gocred\.")
            .map_err(|e| Error(e.to_string()))?;
        if !left {
            let _ = git.file.run(&["--remove-section", "gocred"]);
        }
    }
    Ok(())
}

fn undo_git_unrecorded(
    git: &mut Git<'_>,
    origins: &[String],
    prefixes: &[String],
    notes: &mut Vec<String>,
) -> Result<(), Error> {
    for origin in origins {
        let helper_key = format!("credential.{origin}.helper");
        let current = git.get_all(&helper_key)?;
        let is_ours = current.len() == 2 && current[0].is_empty() && is_gocred(&current[1]);
        if is_ours {
            git.run(&["--unset-all", &helper_key])?;
            // Earlier versions turned useHttpPath on for the whole origin.
            let origin_path_key = format!("credential.{origin}.useHttpPath");
            let path_rule_here = prefixes
                .iter()
                .any(|p| p.starts_with(&format!("{origin}/")));
            if path_rule_here && git.get_all(&origin_path_key)? == ["true"] {
                git.run(&["--unset-all", &origin_path_key])?;
            }
        } else if !current.is_empty() {
            notes.push(format!(
                "{helper_key} is not what gocred setup writes; left as it is"
            ));
        }
    }
    for prefix in prefixes {
        let path_key = format!("credential.{prefix}.useHttpPath");
        if git.get_all(&path_key)? == ["true"] {
            git.run(&["--unset-all", &path_key])?;
        }
    }
    Ok(())
}

/// A helper value that runs gocred: `gocred`, a path ending in `/gocred` (as older versions
/// wrote it, quoted or not), or `!` and such a path sh-quoted (what [`git_helper_value`] writes
/// for a path that needs quoting). Only `--undo` asks: it removes such a value.
fn is_gocred(value: &str) -> bool {
    let is_path = |p: &str| p.starts_with('/') && p.ends_with("/gocred");
    value == "gocred"
        || is_path(value)
        || value
            .strip_prefix('!')
            .and_then(sh_unquote)
            .is_some_and(|p| is_path(&p))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::setup::git_helper_value;

    #[test]
    fn setup_git_quoting_undo_recognises_every_helper_value_setup_writes() {
        for path in [
            "/usr/bin/gocred",
            "/opt/my tools/gocred",
            "/x/it's;$(touch y)`z`\\\"\n*/gocred",
        ] {
            let value = git_helper_value(path);
            assert!(is_gocred(&value), "{value}");
            assert_eq!(
                value.strip_prefix('!').and_then(sh_unquote).as_deref(),
                (value != path).then_some(path),
                "{value}"
            );
        }
        assert!(!is_gocred("!'/usr/bin/other'"));
    }

    #[test]
    fn setup_git_undo_leaves_a_helper_that_runs_gocred_with_more_words() {
        assert!(!is_gocred("!'/x/gocred' --config /tmp/other"));
    }

    #[test]
    fn setup_git_undo_record_names_only_keys_setup_writes() {
        let record = |key: &str| {
            Record::from_json(&format!(
                r#"{{"key":{key:?},"wrote":["true"],"replaced":[]}}"#
            ))
        };
        assert!(record("credential.https://h.example/g.useHttpPath").is_some());
        assert!(record("credential.https://h.example.helper").is_some());
        assert!(record("core.sshCommand").is_none());
        assert!(record("--file=/etc/gitconfig").is_none());
        let r = Record {
            key: "credential.https://h.example.helper".into(),
            wrote: vec![String::new(), "gocred".into()],
            replaced: vec!["a\nb\"c".into()],
        };
        assert_eq!(Record::from_json(&r.to_json()), Some(r));
    }
}
