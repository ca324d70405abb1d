//! Renders every man page: gocred(1) and one page per subcommand from the clap definition
//! (through clap_mangen), with the sections of `super` added, and gocred-config(5) from `super`
//! alone. Nothing here depends on the date or the commit, so the output changes only when the
//! definition, the text or the version in Cargo.toml does.

use super::pages::{COMMON_ENVIRONMENT, COMMON_FILES, SUBCOMMAND_PAGES, SubPage};
use super::{Block, CONFIG_5, CONFIG_NAME, GOCRED_1, Section};
use crate::cli::Cli;
use clap::{Command, CommandFactory};
use clap_mangen::Man;
use clap_mangen::roff::{Inline, Roff, bold, roman};

const VERSION: &str = env!("CARGO_PKG_VERSION");
const MANUAL: &str = "gocred manual";

/// What roff puts before every render: it defines the `Aq` string that apostrophes are set as.
const PREAMBLE: &str = ".ie \\n(.g .ds Aq \\(aq\n.el .ds Aq '\n";

/// Every page, as (file name in man/, roff source), in a fixed order.
pub(crate) fn pages() -> Vec<(String, String)> {
    // `--version` holds the commit; the pages show only the version.
    let mut root = without_help_subcommand(Cli::command().long_version(None::<&'static str>));
    root.build();

    let mut pages = vec![("gocred.1".to_owned(), gocred_1(&root))];
    subcommand_pages(&root, &mut pages);
    // git runs the same program under this name.
    pages.push((
        "git-credential-gocred.1".to_owned(),
        ".so man1/gocred.1\n".to_owned(),
    ));
    pages.push(("gocred-config.5".to_owned(), gocred_config_5(&root)));
    // clap_mangen ends a synopsis with a space; roff ignores it, diffs and editors show it.
    for (_, page) in &mut pages {
        *page = page
            .lines()
            .map(|l| l.trim_end().to_owned() + "\n")
            .collect();
    }
    pages
}

/// clap adds a `help` subcommand to every command with subcommands; it gets no page.
fn without_help_subcommand(cmd: Command) -> Command {
    let names: Vec<String> = cmd
        .get_subcommands()
        .map(|s| s.get_name().to_owned())
        .collect();
    let mut cmd = cmd.disable_help_subcommand(true);
    for name in names {
        cmd = cmd.mut_subcommand(name, without_help_subcommand);
    }
    cmd
}

fn man(cmd: &Command) -> Man {
    Man::new(cmd.clone())
        .source(format!("gocred {VERSION}"))
        .manual(MANUAL)
}

/// `.TH` for the page in `file` (`gocred-get.1`), with an empty date (roff would drop an empty
/// argument instead of quoting it, shifting the source and manual one place to the left). Then
/// no hyphenation and a ragged right margin: the text is full of paths, keys and commands.
fn title(file: &str) -> String {
    let (name, section) = file
        .rsplit_once('.')
        .expect("a man page file name has a section");
    format!(".TH {name} {section} \"\" \"gocred {VERSION}\" \"{MANUAL}\"\n.nh\n.ad l\n")
}

/// One part of a clap_mangen page, without the preamble that each of its renders starts with.
fn part(render: impl FnOnce(&mut Vec<u8>) -> std::io::Result<()>) -> String {
    let mut out = Vec::new();
    render(&mut out).expect("writing to a Vec cannot fail");
    let text = String::from_utf8(out).expect("roff of UTF-8 text is UTF-8");
    text.strip_prefix(PREAMBLE)
        .expect("roff starts every render with its apostrophe preamble")
        .to_owned()
}

fn gocred_1(root: &Command) -> String {
    let m = man(root);
    let (description, rest): (Vec<&Section>, Vec<&Section>) =
        GOCRED_1.iter().partition(|s| s.heading == "DESCRIPTION");
    let mut page = String::from(PREAMBLE);
    page += &title(&m.get_filename());
    page += &part(|w| m.render_name_section(w));
    page += &part(|w| m.render_synopsis_section(w));
    page += &sections(description);
    page += &part(|w| m.render_options_section(w));
    page += &subcommands(&part(|w| m.render_subcommands_section(w)));
    page += &sections(rest);
    page += &see_also(&[
        ("gocred-config", 5),
        ("git-credential", 1),
        ("gitcredentials", 7),
    ]);
    page
}

/// The subcommand that gets no page of its own: `man gocred-config` must open the policy
/// format, gocred-config(5), and a gocred-config(1) would come first. Its subcommands have
/// theirs, and gocred-config(5) lists them.
const NO_PAGE: &str = "gocred-config";

/// A page for each subcommand of `cmd` that is not hidden, and for theirs, depth first.
fn subcommand_pages(cmd: &Command, pages: &mut Vec<(String, String)>) {
    for sub in cmd.get_subcommands().filter(|s| !s.is_hide_set()) {
        let (name, page) = subcommand_page(sub);
        if name != format!("{NO_PAGE}.1") {
            pages.push((name, page));
        }
        subcommand_pages(sub, pages);
    }
}

/// The text of `doc/pages.rs` for the page named `name` (`gocred-get`), if it has one.
fn sub_page(name: &str) -> Option<&'static SubPage> {
    SUBCOMMAND_PAGES.iter().find(|p| p.name == name)
}

fn subcommand_page(cmd: &Command) -> (String, String) {
    let m = man(cmd);
    let mut page = String::from(PREAMBLE);
    page += &title(&m.get_filename());
    page += &part(|w| m.render_name_section(w));
    page += &part(|w| m.render_synopsis_section(w));
    page += &part(|w| m.render_description_section(w));
    let file = m.get_filename();
    let text = sub_page(file.trim_end_matches(".1"));
    if let Some(text) = text {
        let mut roff = Roff::new();
        for block in text.description {
            block_to_roff(&mut roff, block, false);
        }
        page += &body(&roff);
    }
    page += &part(|w| m.render_options_section(w));
    if cmd.get_subcommands().any(|s| !s.is_hide_set()) {
        page += &subcommands(&part(|w| m.render_subcommands_section(w)));
    }
    if let Some(text) = text {
        page += &reference(
            text.exit_status,
            text.environment,
            text.files,
            text.examples,
        );
    }
    if let Some(text) = cmd.get_after_long_help().or(cmd.get_after_help()) {
        page += &after_help(&text.to_string());
    }
    page += &see_also(&[("gocred", 1), ("gocred-config", 5)]);
    (file, page)
}

/// A SUBCOMMANDS section, where the subcommand without a page points at gocred-config(5).
fn subcommands(section: &str) -> String {
    section.replace(
        &format!("{}(1)", NO_PAGE.replace('-', "\\-")),
        &format!("{}(5)", NO_PAGE.replace('-', "\\-")),
    )
}

/// EXIT STATUS, ENVIRONMENT (the common rows first), FILES (the policy first) and, when there
/// are any, EXAMPLES.
fn reference(
    exit_status: &'static str,
    environment: &'static [(&'static str, &'static str)],
    files: &'static [(&'static str, &'static str)],
    examples: &'static str,
) -> String {
    let environment: Vec<(&str, &str)> = COMMON_ENVIRONMENT
        .iter()
        .chain(environment)
        .copied()
        .collect();
    let files: Vec<(&str, &str)> = COMMON_FILES.iter().chain(files).copied().collect();
    let mut roff = Roff::new();
    roff.control("SH", ["EXIT STATUS"]);
    roff.text(inlines(exit_status));
    for (heading, rows) in [("ENVIRONMENT", &environment), ("FILES", &files)] {
        roff.control("SH", [heading]);
        for (key, meaning) in rows {
            roff.control("TP", []);
            roff.text(inlines(key));
            roff.text(inlines(meaning));
        }
    }
    if !examples.is_empty() {
        roff.control("SH", ["EXAMPLES"]);
        code_block(&mut roff, examples, true);
    }
    body(&roff)
}

fn gocred_config_5(root: &Command) -> String {
    let mut roff = Roff::new();
    roff.control("SH", ["NAME"]);
    roff.text([roman(format!("gocred-config - {CONFIG_NAME}"))]);
    let mut page = String::from(PREAMBLE);
    page += &title("gocred-config.5");
    page += &body(&roff);
    let (head, rest) = CONFIG_5.split_at(
        CONFIG_5
            .iter()
            .position(|s| s.heading == "LOCATION")
            .expect("gocred-config(5) has a LOCATION"),
    );
    page += &sections(head);
    page += &config_commands(root);
    page += &sections(rest);
    page += &see_also(&[
        ("gocred", 1),
        ("gocred-config-check", 1),
        ("gitcredentials", 7),
        ("git-credential", 1),
    ]);
    page
}

/// COMMANDS: `gocred config`'s subcommands, each with its page, since `gocred config` has
/// none of its own.
fn config_commands(root: &Command) -> String {
    let config = root
        .find_subcommand("config")
        .expect("gocred has a config subcommand");
    let mut roff = Roff::new();
    roff.control("SH", ["COMMANDS"]);
    roff.text([roman(
        "gocred config works on this file; each subcommand has its own page:",
    )]);
    for sub in config.get_subcommands().filter(|s| !s.is_hide_set()) {
        roff.control("TP", []);
        roff.text([
            bold(format!("gocred config {}", sub.get_name())),
            roman(format!(" (gocred-config-{}(1))", sub.get_name())),
        ]);
        roff.text([roman(
            sub.get_about().map(ToString::to_string).unwrap_or_default(),
        )]);
    }
    body(&roff)
}

fn body(roff: &Roff) -> String {
    part(|w| roff.to_writer(w))
}

fn sections<'s>(sections: impl IntoIterator<Item = &'s Section>) -> String {
    let mut roff = Roff::new();
    for section in sections {
        roff.control("SH", [section.heading]);
        for (i, block) in section.blocks.iter().enumerate() {
            block_to_roff(&mut roff, block, i == 0);
        }
    }
    body(&roff)
}

fn block_to_roff(roff: &mut Roff, block: &Block, first: bool) {
    match block {
        Block::Heading(text) => {
            roff.control("SS", [*text]);
        }
        Block::Para(text) | Block::ManOnly(text) => {
            if !first {
                roff.control("PP", []);
            }
            roff.text(inlines(text));
        }
        Block::List(items) => {
            for item in *items {
                roff.control("IP", ["\\(bu", "2"]);
                roff.text(inlines(item.text));
                if !item.sub.is_empty() {
                    roff.control("RS", ["2"]);
                    for sub in item.sub {
                        roff.control("IP", ["\\(en", "2"]);
                        roff.text(inlines(sub));
                    }
                    roff.control("RE", []);
                }
            }
        }
        Block::Keys(rows) => {
            for (key, meaning) in *rows {
                roff.control("TP", []);
                roff.text(inlines(key));
                roff.text(inlines(meaning));
            }
        }
        Block::Code(_, code) => code_block(roff, code, first),
    }
}

fn code_block(roff: &mut Roff, code: &str, first: bool) {
    if !first {
        roff.control("PP", []);
    }
    roff.control("RS", ["4"]);
    roff.control("nf", []);
    for line in code.lines() {
        if line.is_empty() {
            roff.control("sp", []);
        } else {
            roff.text([roman(line)]);
        }
    }
    roff.control("fi", []);
    roff.control("RE", []);
}

/// A subcommand's `after_long_help`: a first line like `Examples:` names the section; lines
/// indented by two spaces are code, the others paragraphs; an empty line ends either.
fn after_help(text: &str) -> String {
    let mut lines = text.lines().peekable();
    let heading = match lines.peek().and_then(|l| l.strip_suffix(':')) {
        Some(h) if !h.starts_with(' ') => {
            lines.next();
            h.to_uppercase()
        }
        _ => "NOTES".to_owned(),
    };
    // (is code, text), in order.
    let mut blocks: Vec<(bool, String)> = Vec::new();
    let mut new_block = true;
    for line in lines {
        if line.trim().is_empty() {
            new_block = true;
            continue;
        }
        let (code, content) = match line.strip_prefix("  ") {
            Some(c) => (true, c),
            None => (false, line.trim()),
        };
        match blocks.last_mut() {
            Some((was_code, text)) if !new_block && *was_code == code => {
                text.push(if code { '\n' } else { ' ' });
                text.push_str(content);
            }
            _ => blocks.push((code, content.to_owned())),
        }
        new_block = false;
    }
    let mut roff = Roff::new();
    roff.control("SH", [heading.as_str()]);
    for (i, (code, text)) in blocks.iter().enumerate() {
        if *code {
            code_block(&mut roff, text, i == 0);
        } else {
            if i > 0 {
                roff.control("PP", []);
            }
            roff.text(inlines(text));
        }
    }
    body(&roff)
}

fn see_also(pages: &[(&str, u8)]) -> String {
    let mut line = Vec::new();
    for (i, (name, section)) in pages.iter().enumerate() {
        if i > 0 {
            line.push(roman(", "));
        }
        line.push(bold(*name));
        line.push(roman(format!("({section})")));
    }
    let mut roff = Roff::new();
    roff.control("SH", ["SEE ALSO"]);
    roff.text(line);
    body(&roff)
}

/// Markdown's `code` and **bold** become bold, a link (`[text](#anchor)` or `[text]`) its
/// text, and the rest is roman.
fn inlines(text: &str) -> Vec<Inline> {
    let mut out = Vec::new();
    let mut rest = text;
    loop {
        let next = [("`", rest.find('`')), ("**", rest.find("**"))]
            .into_iter()
            .filter_map(|(mark, at)| Some((at?, mark)))
            .min();
        let Some((at, mark)) = next else {
            out.extend(plain(rest));
            return out;
        };
        out.extend(plain(&rest[..at]));
        let after = &rest[at + mark.len()..];
        let end = after
            .find(mark)
            .unwrap_or_else(|| panic!("BUG: unclosed {mark} in doc text: {text}"));
        out.push(bold(&after[..end]));
        rest = &after[end + mark.len()..];
    }
}

/// Text outside code and bold: links become their text.
fn plain(text: &str) -> Option<Inline> {
    let mut out = String::new();
    let mut rest = text;
    while let Some(open) = rest.find('[') {
        let Some(close) = rest[open..].find(']').map(|c| open + c) else {
            break;
        };
        out.push_str(&rest[..open]);
        out.push_str(&rest[open + 1..close]);
        rest = &rest[close + 1..];
        if rest.starts_with('(')
            && let Some(end) = rest.find(')')
        {
            rest = &rest[end + 1..];
        }
    }
    out.push_str(rest);
    (!out.is_empty()).then(|| roman(out))
}
