//! The committed man pages and completion scripts are what the code renders now, README.md says
//! what the man pages say, and the reference documents exactly the keys the loader accepts.
//!
//! After changing the clap definition or `doc/mod.rs`, run `scripts/generate-docs` (the same as
//! `GOCRED_BLESS=1 cargo test --lib cli::doc`) and commit what it rewrote.

use super::{
    Block, CONFIG_5, EXAMPLE_BUILD_SERVER, EXAMPLE_CI, EXAMPLE_COMMAND_1PASSWORD,
    EXAMPLE_COMMAND_AWS, EXAMPLE_COMMAND_GCP, EXAMPLE_COMMAND_JSON, EXAMPLE_COMMAND_PASS,
    EXAMPLE_COMMAND_VAULT, EXAMPLE_LAPTOP, EXAMPLE_OAUTH_GITLAB, EXAMPLE_OAUTH_OIDC, GOCRED_1,
    OAUTH_KEYS, OTHER_KEYS, RULE_KEYS, minted, pages,
};
use crate::cli::completions;
use crate::policy::{self, KeychainBackend};
use clap_complete::Shell;
use std::path::{Path, PathBuf};

const HOW_TO_BLESS: &str = "run scripts/generate-docs (GOCRED_BLESS=1 cargo test --lib cli::doc) \
                            and commit the result";

/// The completion scripts that the packages install, by shell.
const COMPLETIONS: &[(Shell, &str)] = &[
    (Shell::Bash, "gocred.bash"),
    (Shell::Zsh, "_gocred"),
    (Shell::Fish, "gocred.fish"),
];

fn repo() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// Every generated file: its path in the repository and its contents.
fn generated() -> Vec<(PathBuf, Vec<u8>)> {
    let mut files: Vec<(PathBuf, Vec<u8>)> = pages()
        .into_iter()
        .map(|(name, text)| (Path::new("man").join(name), text.into_bytes()))
        .collect();
    for (shell, name) in COMPLETIONS {
        files.push((
            Path::new("completions").join(name),
            completions::script(*shell),
        ));
    }
    files
}

/// What is in man/ and completions/ now, except the READMEs.
fn on_disk() -> Vec<PathBuf> {
    let mut found = Vec::new();
    for dir in ["man", "completions"] {
        let Ok(entries) = std::fs::read_dir(repo().join(dir)) else {
            continue;
        };
        for entry in entries {
            let name = entry.expect("list a generated-files directory").file_name();
            if name != "README.md" {
                found.push(Path::new(dir).join(name));
            }
        }
    }
    found.sort();
    found
}

#[test]
fn the_generated_files_are_up_to_date() {
    let bless = std::env::var_os("GOCRED_BLESS").is_some_and(|v| v == "1");
    let expected = generated();
    let mut stale = Vec::new();
    for (path, contents) in &expected {
        let full = repo().join(path);
        if std::fs::read(&full).ok().as_deref() == Some(contents.as_slice()) {
            continue;
        }
        if bless {
            std::fs::create_dir_all(full.parent().expect("a file in a directory")).unwrap();
            std::fs::write(&full, contents).unwrap();
        }
        stale.push(path.display().to_string());
    }
    for path in on_disk() {
        if !expected.iter().any(|(p, _)| *p == path) {
            if bless {
                std::fs::remove_file(repo().join(&path)).unwrap();
            }
            stale.push(format!("{} (no longer generated)", path.display()));
        }
    }
    if bless {
        if stale.is_empty() {
            eprintln!("the generated files are up to date");
        } else {
            eprintln!("rewrote: {}", stale.join(", "));
        }
    } else {
        assert!(
            stale.is_empty(),
            "stale generated files: {}; {HOW_TO_BLESS}",
            stale.join(", ")
        );
    }
}

#[test]
fn every_subcommand_has_a_page_and_the_config_file_has_one_too() {
    let names: Vec<String> = pages().into_iter().map(|(name, _)| name).collect();
    for name in [
        "gocred.1",
        "gocred-get.1",
        "gocred-store.1",
        "gocred-erase.1",
        "gocred-status.1",
        "gocred-config-check.1",
        "gocred-config-path.1",
        "gocred-completions.1",
        "git-credential-gocred.1",
        "gocred-config.5",
    ] {
        assert!(names.iter().any(|n| n == name), "no {name} in {names:?}");
    }
    assert!(!names.iter().any(|n| n.contains("help")), "{names:?}");
}

/// `man gocred-config` searches section 1 first: a gocred-config(1) for the `config`
/// subcommand would hide the policy format behind a list of two subcommands.
#[test]
fn man_gocred_config_reaches_the_policy_format() {
    let pages = pages();
    assert!(
        pages
            .iter()
            .all(|(name, _)| !name.starts_with("gocred-config.") || name == "gocred-config.5"),
        "{:?}",
        pages.iter().map(|(n, _)| n).collect::<Vec<_>>()
    );
    let page = |name: &str| &pages.iter().find(|(n, _)| n == name).unwrap().1;
    assert!(page("gocred.1").contains("gocred\\-config(5)\n"));
    assert!(!page("gocred.1").contains("gocred\\-config(1)"));
    let format = page("gocred-config.5");
    assert!(format.contains("[[rule]]"), "{format}");
    for sub in ["check", "path"] {
        assert!(format.contains(&format!("gocred config {sub}")), "{sub}");
    }
}

/// The sections that man-pages(7) expects of a command's page, and this project of every page.
const REQUIRED_SECTIONS: &[&str] = &[
    "NAME",
    "SYNOPSIS",
    "DESCRIPTION",
    "EXIT STATUS",
    "ENVIRONMENT",
    "FILES",
    "EXAMPLES",
];

#[test]
fn every_page_holds_the_sections_a_reader_looks_for() {
    let mut missing = Vec::new();
    for (name, page) in pages() {
        if page.starts_with(".so ") {
            continue;
        }
        let headings: Vec<&str> = page
            .lines()
            .filter_map(|l| l.strip_prefix(".SH "))
            .map(|h| h.trim_matches('"'))
            .collect();
        for section in REQUIRED_SECTIONS {
            match headings.iter().filter(|h| *h == section).count() {
                1 => {}
                n => missing.push(format!("{name}: {n} {section} sections")),
            }
        }
        // A DESCRIPTION that only repeats the one-line summary says no behaviour.
        let description: Vec<&str> = page
            .lines()
            .skip_while(|l| *l != ".SH DESCRIPTION")
            .skip(1)
            .take_while(|l| !l.starts_with(".SH"))
            .filter(|l| !l.starts_with('.'))
            .collect();
        if description.concat().len() < 120 {
            missing.push(format!(
                "{name}: a DESCRIPTION of one line: {description:?}"
            ));
        }
    }
    assert!(
        missing.is_empty(),
        "add the text to src/cli/doc/pages.rs (or doc/mod.rs):\n{}",
        missing.join("\n")
    );
}

#[test]
fn the_pages_depend_on_the_version_but_not_on_the_commit() {
    for (name, page) in pages() {
        if name.starts_with("git-credential") {
            continue;
        }
        assert!(
            page.contains(&format!("\"gocred {}\"", env!("CARGO_PKG_VERSION"))),
            "{name}: {}",
            page.lines()
                .find(|l| l.starts_with(".TH"))
                .unwrap_or_default()
        );
        assert!(!page.contains(env!("GOCRED_COMMIT")), "{name}");
        assert!(!page.contains("keychain backends"), "{name}");
    }
}

/// Pieces of README.md that say what `block` says.
fn markdown(block: &Block) -> Vec<String> {
    match block {
        Block::Heading(text) => vec![format!("### {text}")],
        Block::Para(text) => vec![text.to_string()],
        Block::List(items) => items
            .iter()
            .flat_map(|item| {
                std::iter::once(format!("- {}", item.text))
                    .chain(item.sub.iter().map(|sub| format!("- {sub}")))
            })
            .collect(),
        Block::Keys(rows) => rows
            .iter()
            .map(|(key, meaning)| format!("| {key} | {meaning} |"))
            .collect(),
        Block::Code(lang, code) => vec![format!("```{lang}\n{code}```\n")],
        Block::ManOnly(_) => Vec::new(),
    }
}

fn one_line(text: &str) -> String {
    text.split_whitespace().collect::<Vec<_>>().join(" ")
}

#[test]
fn the_readme_says_what_the_man_pages_say() {
    let readme = std::fs::read_to_string(repo().join("README.md")).unwrap();
    let flat = one_line(&readme);
    let mut missing = Vec::new();
    for section in CONFIG_5.iter().chain(GOCRED_1).filter(|s| s.in_readme) {
        for block in section.blocks {
            for piece in markdown(block) {
                let found = match block {
                    Block::Code(..) => readme.contains(&piece),
                    _ => flat.contains(&one_line(&piece)),
                };
                if !found {
                    missing.push(format!("({}) {piece}", section.heading));
                }
            }
        }
    }
    assert!(
        missing.is_empty(),
        "README.md lacks what the man pages say (src/cli/doc/mod.rs); change both:\n\n{}",
        missing.join("\n\n")
    );
}

/// The keys the loader lists when it meets an unknown one in `toml`, sorted.
fn accepted_keys(toml: &str) -> Vec<String> {
    let report = policy::load_str(Path::new("config.toml"), toml)
        .expect_err("an unknown key is an error")
        .report();
    let list = report
        .split("(expected one of: ")
        .nth(1)
        .and_then(|rest| rest.split(')').next())
        .unwrap_or_else(|| panic!("no list of keys in: {report}"));
    let mut keys: Vec<String> = list.split(", ").map(str::to_owned).collect();
    keys.sort();
    keys
}

/// The keys a table documents, sorted: a row may name several (`a`, `b`), and a table key is
/// written as its header (`[rule.oauth]` is the key `oauth`).
fn documented(rows: &[(&str, &str)]) -> Vec<String> {
    let mut keys: Vec<String> = rows
        .iter()
        .flat_map(|(key, _)| key.split(", "))
        .map(|key| {
            let key = key.replace('`', "");
            match key.strip_prefix("[rule.") {
                Some(table) => table.trim_end_matches(']').to_owned(),
                None => key,
            }
        })
        .collect();
    keys.sort();
    keys
}

const RULE: &str = "[[rule]]\nurl = \"https://h.example\"\n";

#[test]
fn the_reference_documents_exactly_the_keys_the_loader_accepts() {
    assert_eq!(
        documented(RULE_KEYS),
        accepted_keys(&format!("{RULE}sources = [\"keychain\"]\nx = 1\n")),
        "[[rule]] keys: RULE_KEYS in src/cli/doc/mod.rs and README.md's table"
    );
    assert_eq!(
        documented(OAUTH_KEYS),
        accepted_keys(&format!(
            "{RULE}sources = [\"oauth\"]\n[rule.oauth]\nprovider = \"gitlab\"\nclient_id = \"c\"\nx = 1\n"
        )),
        "[rule.oauth] keys: OAUTH_KEYS in src/cli/doc/mod.rs and README.md's table"
    );
    assert_eq!(
        documented(minted::GITHUB_APP_KEYS),
        accepted_keys(&format!(
            "{RULE}sources = [\"github-app\"]\n[rule.github_app]\napp_id = 1\nprivate_key_file = \"/k\"\nx = 1\n"
        )),
        "[rule.github_app] keys: GITHUB_APP_KEYS in src/cli/doc/minted.rs and README.md's table"
    );
    assert_eq!(
        documented(minted::STS_KEYS),
        accepted_keys(&format!(
            "{RULE}sources = [\"sts\"]\n[rule.sts]\ntoken_endpoint = \"https://s\"\naudience = \"a\"\nx = 1\n"
        )),
        "[rule.sts] keys: STS_KEYS in src/cli/doc/minted.rs and README.md's table"
    );
    assert_eq!(
        accepted_keys("x = 1\n"),
        ["agent", "audit", "ci", "file", "keychain", "rule"]
    );
    let mut other: Vec<String> = ["keychain", "file", "ci", "agent", "audit"]
        .iter()
        .flat_map(|table| {
            accepted_keys(&format!("[{table}]\nx = 1\n"))
                .into_iter()
                .map(move |key| format!("[{table}] {key}"))
        })
        .collect();
    other.sort();
    assert_eq!(documented(OTHER_KEYS), other);

    let backend = OTHER_KEYS[0].1;
    for name in KeychainBackend::NAMES {
        assert!(backend.contains(&format!("`{name}`")), "{name}: {backend}");
    }
    for name in crate::source::keychain::COMPILED_IN {
        assert!(KeychainBackend::parse(name).is_some(), "{name}");
    }
}

#[test]
fn the_example_policies_are_valid() {
    for example in [
        EXAMPLE_LAPTOP,
        EXAMPLE_BUILD_SERVER,
        EXAMPLE_OAUTH_GITLAB,
        EXAMPLE_OAUTH_OIDC,
        EXAMPLE_COMMAND_PASS,
        EXAMPLE_COMMAND_VAULT,
        EXAMPLE_COMMAND_1PASSWORD,
        EXAMPLE_COMMAND_AWS,
        EXAMPLE_COMMAND_GCP,
        EXAMPLE_COMMAND_JSON,
        minted::EXAMPLE_GITHUB_APP,
        minted::EXAMPLE_STS,
    ] {
        let policy = policy::load_str(Path::new("config.toml"), example).unwrap();
        assert!(!policy.rules.is_empty());
    }
    let ci = policy::load_str(Path::new("config.toml"), EXAMPLE_CI).unwrap();
    assert!(ci.ci_job_token.is_some());
}

/// groff checks the syntax when it is installed (man-db needs it, so it usually is).
#[test]
fn groff_formats_every_page_without_a_warning() {
    if std::process::Command::new("groff")
        .arg("--version")
        .output()
        .is_err()
    {
        eprintln!("groff is not installed: not checking the man pages' syntax");
        return;
    }
    for (name, page) in pages() {
        if page.starts_with(".so ") {
            continue;
        }
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join(&name);
        std::fs::write(&file, &page).unwrap();
        let out = std::process::Command::new("groff")
            .args(["-man", "-Tutf8", "-ww", "-z"])
            .arg(&file)
            .output()
            .unwrap();
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(
            out.status.success() && stderr.is_empty(),
            "{name}: {stderr}"
        );
    }
}

#[test]
fn the_machine_policy_example_loads_and_means_what_it_says() {
    use crate::policy::{Decision, Input, machine, normalize};
    let m = machine::parse(Path::new("/etc/gocred/policy.toml"), super::EXAMPLE_MACHINE)
        .unwrap_or_else(|e| panic!("{}", e.report()));
    let user = policy::load_str(
        Path::new("/c.toml"),
        "[[rule]]\nurl = \"https://wiki.corp.example\"\nsources = [\"file\"]\nstore = \"file\"\n\n\
         [[rule]]\nurl = \"https://git.internal.example\"\nsources = [\"keychain\"]\n",
    )
    .unwrap();
    let p = machine::apply(user, &m);
    assert_eq!(p.machine.as_ref().unwrap().refused.len(), 2);
    assert_eq!(p.rules.len(), 1);
    let Decision::Managed { rule, .. } =
        p.decide(normalize(Input::Url("https://gitlab.corp.example/")).unwrap())
    else {
        panic!("the machine's own rule serves its host");
    };
    assert_eq!(rule.machine.own_line, Some(2));
    assert_eq!(rule.machine.no_secret_files, Some(13));
}
