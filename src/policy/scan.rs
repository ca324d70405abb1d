//! A fast reader for the plain TOML that policies are written in, so that `get` can read and
//! check a policy of thousands of rules on every call instead of trusting a cached copy.
//!
//! It accepts a strict subset of TOML: comments, the headers `[[rule]]`, `[rule.oauth]`,
//! `[keychain]`, `[file]`, `[ci]` and `[audit]`, and `key = value` lines with a bare key and a value that is a
//! string without escapes (`"..."` or `'...'`), `true`, `false`, a plain decimal integer
//! (`123456`: digits only, no sign, underscore or leading zero; a GitHub App's `app_id`), or an
//! array of such strings (over several lines too). It hands each rule's keys to the same checker that checks what
//! the full parser reads (`RuleKeys`, in `load.rs`), and builds the same [`DeTable`] that
//! `toml` builds for the rest. On anything else (an escape,
//! a number, an inline table, a dotted key, a repeated key or table, a CR...) it gives up and the
//! loader uses the full `toml` parser; it also does whenever the checker finds a problem, so
//! every diagnostic comes from the full parser. So the fast reader can only ever speed up a file
//! that the full parser reads to the same policy: `tests/cli/proptests.rs` and the
//! `policy_load` fuzz target check exactly that.

use super::load::{RuleKeys, Value};
use std::ops::Range;
use toml::Spanned;
use toml::de::{DeArray, DeString, DeTable, DeValue};

/// The tables being filled: where a `key = value` line goes.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Section {
    Root,
    Keychain,
    File,
    Ci,
    Audit,
    Rule,
    /// `[rule.NAME]`: the open rule's sub-table of that name.
    RuleTable,
}

/// The sub-tables a `[[rule]]` may have, each as a `[rule.NAME]` header.
const RULE_TABLES: &[&str] = &["oauth", "github_app", "sts"];

type Entry<'i> = (Spanned<DeString<'i>>, Value<'i>);

/// The `[[rule]]` being read: its `key = value` lines, in a list reused from rule to rule.
struct OpenRule<'i> {
    start: usize,
    /// Each `[rule.NAME]` so far: name, table, header offset (the last one is being filled).
    tables: Vec<(&'static str, DeTable<'i>, usize)>,
}

/// The policy's TOML, or `None` when the file is not in the subset this reader knows. Each
/// `[[rule]]` goes to `each_rule` (its keys and its span) as soon as it is complete, in file
/// order, and is then dropped: the returned table holds everything but the rules. (A `None`
/// after some rules went to `each_rule` means: forget them, the file is for the full parser.)
pub(super) fn parse<'i>(
    text: &'i str,
    mut each_rule: impl FnMut(&RuleKeys<'_, 'i>, Range<usize>),
) -> Option<DeTable<'i>> {
    let mut s = Scanner { text, at: 0 };
    let mut root = DeTable::new();
    let mut keychain: Option<(DeTable<'_>, usize)> = None;
    let mut file: Option<(DeTable<'_>, usize)> = None;
    let mut ci: Option<(DeTable<'_>, usize)> = None;
    let mut audit: Option<(DeTable<'_>, usize)> = None;
    let mut rule: Option<OpenRule<'_>> = None;
    let mut entries: Vec<Entry<'i>> = Vec::new();
    let mut section = Section::Root;
    loop {
        s.skip_blank();
        let Some(b) = s.peek() else { break };
        match b {
            b'\n' => s.at += 1,
            b'#' => s.skip_comment()?,
            b'[' => {
                let start = s.at;
                section = if s.eat("[[rule]]") {
                    if let Some(done) = rule.take() {
                        close_rule(done, &mut entries, start, &mut each_rule)?;
                    }
                    rule = Some(OpenRule {
                        start,
                        tables: Vec::new(),
                    });
                    Section::Rule
                } else if let Some(&name) = RULE_TABLES
                    .iter()
                    .find(|name| s.eat(&format!("[rule.{name}]")))
                {
                    let open = rule.as_mut()?;
                    if open.tables.iter().any(|(n, _, _)| *n == name)
                        || entries.iter().any(|(k, _)| k.get_ref() == name)
                    {
                        return None;
                    }
                    open.tables.push((name, DeTable::new(), start));
                    Section::RuleTable
                } else if s.eat("[keychain]") {
                    if keychain.is_some() {
                        return None;
                    }
                    keychain = Some((DeTable::new(), start));
                    Section::Keychain
                } else if s.eat("[file]") {
                    if file.is_some() {
                        return None;
                    }
                    file = Some((DeTable::new(), start));
                    Section::File
                } else if s.eat("[ci]") {
                    if ci.is_some() {
                        return None;
                    }
                    ci = Some((DeTable::new(), start));
                    Section::Ci
                } else if s.eat("[audit]") {
                    if audit.is_some() {
                        return None;
                    }
                    audit = Some((DeTable::new(), start));
                    Section::Audit
                } else {
                    return None;
                };
                s.end_of_line()?;
            }
            b if is_bare(b) => {
                let (key, value) = s.key_value()?;
                let table = match section {
                    Section::Root => return None,
                    Section::Rule => {
                        // A repeated key is found when the rule is closed.
                        entries.push((key, value));
                        continue;
                    }
                    Section::Keychain => &mut keychain.as_mut()?.0,
                    Section::File => &mut file.as_mut()?.0,
                    Section::Ci => &mut ci.as_mut()?.0,
                    Section::Audit => &mut audit.as_mut()?.0,
                    Section::RuleTable => &mut rule.as_mut()?.tables.last_mut()?.1,
                };
                if table.contains_key(key.get_ref().as_ref()) {
                    return None;
                }
                table.insert(key, value);
            }
            _ => return None,
        }
    }
    let end = text.len();
    if let Some(done) = rule.take() {
        close_rule(done, &mut entries, end, &mut each_rule)?;
    }
    for (name, table) in [
        ("keychain", keychain),
        ("file", file),
        ("ci", ci),
        ("audit", audit),
    ] {
        if let Some((table, start)) = table {
            root.insert(
                Spanned::new(start + 1..start + 1 + name.len(), name.into()),
                Spanned::new(start..end, DeValue::Table(table)),
            );
        }
    }
    Some(root)
}

/// Hands the rule that ends at `end` to `each_rule`; `None` for a repeated key.
fn close_rule<'i>(
    open: OpenRule<'i>,
    entries: &mut Vec<Entry<'i>>,
    end: usize,
    each_rule: &mut impl FnMut(&RuleKeys<'_, 'i>, Range<usize>),
) -> Option<()> {
    // Each table spans from its header to the next one (the last to the rule's end).
    let mut ends: Vec<usize> = open.tables.iter().skip(1).map(|t| t.2).collect();
    ends.push(end);
    for ((name, table, start), end) in open.tables.into_iter().zip(ends) {
        let key = start + "[rule.".len();
        entries.push((
            Spanned::new(key..key + name.len(), name.into()),
            Spanned::new(start..end, DeValue::Table(table)),
        ));
    }
    let mut keys = RuleKeys::default();
    for (key, value) in entries.iter() {
        if !keys.set(key, value) {
            return None;
        }
    }
    each_rule(&keys, open.start..end);
    drop(keys);
    entries.clear();
    Some(())
}

/// What TOML forbids in comments and strings (all but tab), and LF, which ends both.
fn is_control(b: u8) -> bool {
    (b < 0x20 && b != b'\t') || b == 0x7f
}

fn is_bare(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b == b'_' || b == b'-'
}

struct Scanner<'i> {
    text: &'i str,
    at: usize,
}

impl<'i> Scanner<'i> {
    fn peek(&self) -> Option<u8> {
        self.text.as_bytes().get(self.at).copied()
    }

    fn eat(&mut self, word: &str) -> bool {
        let hit = self.text[self.at..].starts_with(word);
        if hit {
            self.at += word.len();
        }
        hit
    }

    /// Spaces and tabs.
    fn skip_blank(&mut self) {
        while matches!(self.peek(), Some(b' ' | b'\t')) {
            self.at += 1;
        }
    }

    /// From `#` to the end of the line (the newline stays); `None` for a control character
    /// in it (TOML forbids them all but tab; CR is left to the full parser too).
    fn skip_comment(&mut self) -> Option<()> {
        let rest = &self.text.as_bytes()[self.at..];
        let len = rest.iter().position(|&b| b == b'\n').unwrap_or(rest.len());
        if rest[..len].iter().any(|&b| is_control(b)) {
            return None;
        }
        self.at += len;
        Some(())
    }

    /// Blanks, an optional comment, then a newline or the end of the file.
    fn end_of_line(&mut self) -> Option<()> {
        self.skip_blank();
        if self.peek() == Some(b'#') {
            self.skip_comment()?;
        }
        match self.peek() {
            None => Some(()),
            Some(b'\n') => {
                self.at += 1;
                Some(())
            }
            Some(_) => None,
        }
    }

    /// Blanks, newlines and comments (between the items of an array).
    fn skip_space(&mut self) {
        loop {
            match self.peek() {
                Some(b' ' | b'\t' | b'\n') => self.at += 1,
                Some(b'#') => {
                    if self.skip_comment().is_none() {
                        return;
                    }
                }
                _ => return,
            }
        }
    }

    fn key_value(&mut self) -> Option<(Spanned<std::borrow::Cow<'i, str>>, Value<'i>)> {
        let start = self.at;
        while self.peek().is_some_and(is_bare) {
            self.at += 1;
        }
        let key = Spanned::new(start..self.at, self.text[start..self.at].into());
        self.skip_blank();
        if !self.eat("=") {
            return None;
        }
        self.skip_blank();
        let value = match self.peek()? {
            b'"' | b'\'' => self.string()?,
            b'[' => self.array()?,
            b'0'..=b'9' => self.integer()?,
            _ => self.boolean()?,
        };
        self.end_of_line()?;
        Some((key, value))
    }

    /// `"..."` without escapes, or `'...'`, on one line.
    fn string(&mut self) -> Option<Value<'i>> {
        let start = self.at;
        let quote = self.peek()?;
        let rest = &self.text[start + 1..];
        if rest.as_bytes().first() == Some(&quote) && rest.as_bytes().get(1) == Some(&quote) {
            return None; // a multi-line string
        }
        // Ends at the quote; a newline, an escape or a control character first: not ours.
        let len = rest
            .bytes()
            .position(|b| b == quote || b == b'\\' || is_control(b))?;
        if rest.as_bytes()[len] != quote {
            return None;
        }
        self.at = start + 1 + len + 1;
        Some(Spanned::new(
            start..self.at,
            DeValue::String(rest[..len].into()),
        ))
    }

    fn boolean(&mut self) -> Option<Value<'i>> {
        let start = self.at;
        let value = if self.eat("true") {
            true
        } else if self.eat("false") {
            false
        } else {
            return None;
        };
        // `trueish` is not `true`.
        if self.peek().is_some_and(is_bare) {
            return None;
        }
        Some(Spanned::new(start..self.at, DeValue::Boolean(value)))
    }

    /// Digits only, without a leading zero (TOML forbids it) and not run into a bare word;
    /// anything else numeric (`+1`, `1_000`, `0x1`, `1.5`, a date) is left to the full parser.
    fn integer(&mut self) -> Option<Value<'i>> {
        let start = self.at;
        while self.peek().is_some_and(|b| b.is_ascii_digit()) {
            self.at += 1;
        }
        let digits = &self.text[start..self.at];
        if (digits.len() > 1 && digits.starts_with('0'))
            || digits.len() > 18
            || self
                .peek()
                .is_some_and(|b| is_bare(b) || b == b'.' || b == b':')
        {
            return None;
        }
        // toml's own integer, so the checker sees exactly what the full parser gives it.
        let value = DeValue::parse(digits).ok()?.into_inner();
        matches!(value, DeValue::Integer(_)).then(|| Spanned::new(start..self.at, value))
    }

    /// `[` strings separated by commas, a trailing comma allowed, `]`.
    fn array(&mut self) -> Option<Value<'i>> {
        let start = self.at;
        self.at += 1;
        let mut items = DeArray::new();
        loop {
            self.skip_space();
            match self.peek()? {
                b']' => break,
                b'"' | b'\'' => items.push(self.string()?),
                _ => return None,
            }
            self.skip_space();
            match self.peek()? {
                b',' => self.at += 1,
                b']' => break,
                _ => return None,
            }
        }
        self.at += 1;
        Some(Spanned::new(start..self.at, DeValue::Array(items)))
    }
}

#[cfg(test)]
mod tests {
    use super::parse;
    use crate::policy::{load_str, load_str_full};
    use std::path::Path;

    /// The fast reader took `text`, and the policy is the full parser's, field for field.
    #[track_caller]
    fn same_as_toml(text: &str) {
        assert!(
            parse(text, |_, _| {}).is_some(),
            "the fast reader gave up on:\n{text}"
        );
        let fast = load_str(Path::new("/p.toml"), text);
        let full = load_str_full(Path::new("/p.toml"), text);
        assert!(fast.is_ok(), "{fast:?}");
        assert_eq!(format!("{fast:?}"), format!("{full:?}"), "{text}");
    }

    #[test]
    fn fast_reader_reads_plain_policies_as_toml_does() {
        same_as_toml("");
        same_as_toml("# nothing yet\n\n");
        same_as_toml(
            "# a laptop\n[keychain]\nbackend = \"keyutils\"   # pinned\n\n\
             [file]\npath = '/srv/creds'\n\n\
             [[rule]]\nurl = \"https://gitlab.corp.example\"\nsources = [\"keychain\"]\nstore = \"keychain\"\n\n\
             \t[[rule]] # indented\n  url = \"https://*.corp.example/team/\"\n  sources = [\n    \"env\", # CI\n    \"file\",\n  ]\n  \
             username = \"gitlab-ci-token\"\n  token_env = \"CI_JOB_TOKEN\"\n  store = \"file\"\n  allow_http=false\n\n\
             [[rule]]\nurl = \"https://ghe.corp.example\"\nsources = [\"oauth\"]\ngoauth = \"on-challenge\"\n\
             [rule.oauth]\nprovider = \"github\"\nclient_id = \"Iv1.abc\"\nscopes = [\"repo\", 'read:org']\n\n\
             [[rule]]\nurl = \"https://x.example\"\nsources = [\"file\"] # naïve ünïcode\n",
        );
        // Valid: the comparison above was of two policies, not of two reports.
        assert!(
            load_str(
                Path::new("/p.toml"),
                "[[rule]]\nurl = 'https://a.example'\nsources = ['file']"
            )
            .is_ok()
        );
        // The CI job token and a command rule.
        same_as_toml(
            "# fleet\n\n[ci]\njob_token = true\n\n[[rule]]\nurl = \"https://vault.corp.example\"\n\
             sources = [\"command\", \"ci\"]\ncommand = [\"pass\", \"show\", 'git/x']\n\
             command_timeout = \"30\"\ncache = \"until-expiry\"\nusername = \"oauth2\"\n",
        );
        // The audit table, after the rules.
        same_as_toml(
            "[[rule]]\nurl = \"https://a.example\"\nsources = [\"file\"]\n\n\
             [audit]\npath = \"~/.local/state/gocred/audit.log\"\n",
        );
        // The minting sources' tables, with the App ID and installation as integers.
        same_as_toml(
            "[[rule]]\nurl = \"https://github.com\"\nsources = [\"github-app\"]\n\
             [rule.github_app]\napp_id = 123456\ninstallation_id = 7 # ours\n\
             private_key_file = \"/k.pem\"\npermissions = [\"contents:read\"]\n\n\
             [[rule]]\nurl = \"https://gitlab.corp.example\"\nsources = [\"sts\"]\n\
             [rule.sts]\ntoken_endpoint = \"https://sts.corp.example/token\"\n\
             id_token_env = \"STS_ID_TOKEN\"\n",
        );
        // Tables in any order; the last line without a newline.
        same_as_toml(
            "[[rule]]\nurl = \"https://a.example\"\nsources = [\"file\"]\n[keychain]\nbackend = \"auto\"\n\
             [[rule]]\nurl = \"https://b.example\"\nsources = [\"file\"]",
        );
    }

    #[test]
    fn fast_reader_gives_up_on_what_it_does_not_know() {
        for text in [
            "[[rule]]\nurl = \"https://a\\u0065.example\"\n",
            "[[rule]]\nurl = \"\"\"https://a.example\"\"\"\n",
            "[[rule]]\nurl = '''https://a.example'''\n",
            "[[rule]]\r\nurl = \"https://a.example\"\r\n",
            "[[rule]]\nurl = \"https://a.example\"\nurl = \"https://b.example\"\n",
            "[[ rule ]]\nurl = \"https://a.example\"\n",
            "[[rule]]\n\"url\" = \"https://a.example\"\n",
            "[[rule]]\nrule.url = \"https://a.example\"\n",
            "[[rule]]\noauth = { provider = \"gitlab\" }\n",
            "[[rule]]\nallow_http = 01\n",
            "[[rule]]\nallow_http = 1_000\n",
            "[[rule]]\nallow_http = 1.5\n",
            "[[rule]]\nallow_http = 0x1\n",
            "[[rule]]\nallow_http = +1\n",
            "[[rule]]\nallow_http = 1979-05-27\n",
            "[[rule]]\nallow_http = trueish\n",
            "[[rule]]\nurl = \"https://a.example\" \"x\"\n",
            "[[rule]]\nsources = [\"file\" \"env\"]\n",
            "[[rule]]\nsources = [[\"file\"]]\n",
            "[[rule]]\nsources = [\"file\"\n",
            "[[rule]]\nurl = \"https://a.example\n\"\n",
            "url = \"https://a.example\"\n",
            "[rule.oauth]\nprovider = \"gitlab\"\n",
            "[[rule]]\n[rule.oauth]\n[rule.oauth]\n",
            "[keychain]\n[keychain]\n",
            "[rule]\nurl = \"https://a.example\"\n",
            "[keychain] x\n",
            "\u{feff}[[rule]]\n",
            "[[rule]]\n# a bell \u{7}\n",
        ] {
            assert!(parse(text, |_, _| {}).is_none(), "took:\n{text}");
        }
    }

    #[test]
    fn every_rule_key_the_reference_lists_is_known_to_the_fast_reader() {
        for key in crate::policy::load::RULE_KEYS {
            let text = format!("[[rule]]\n{key} = true\n");
            let mut unknown = None;
            assert!(parse(&text, |keys, _| unknown = Some(keys.unknown_count())).is_some());
            assert_eq!(unknown, Some(0), "{key}");
        }
        let mut unknown = None;
        parse("[[rule]]\nurls = true\n", |keys, _| {
            unknown = Some(keys.unknown_count())
        });
        assert_eq!(unknown, Some(1));
    }

    #[test]
    fn a_file_with_a_problem_is_reported_by_the_full_parser() {
        // In the fast reader's subset, but invalid: the report is the full parser's.
        let text = "[[rule]]\nurl = \"https://*.co.uk\"\nsources = [\"file\"]\n";
        assert!(parse(text, |_, _| {}).is_some());
        let fast = load_str(Path::new("/p.toml"), text).unwrap_err();
        let full = load_str_full(Path::new("/p.toml"), text).unwrap_err();
        assert_eq!(fast.report(), full.report());
        assert!(
            fast.report().starts_with("/p.toml:2:7: bad url"),
            "{}",
            fast.report()
        );
    }
}
