//! Issue 9, "No secret in any message" and "No control characters reach a terminal": every
//! command's messages go through one redaction and one sanitization (src/redact.rs), so a URL's
//! user-info, a token query parameter, a token pasted into the config, and an escape sequence
//! from a request, a stored entry, a file or an argument never reach stderr (or a report on
//! stdout) as themselves.

use crate::common::{Output, TestEnv};

/// A password in a URL's user-info: not token-shaped, so only the URL rule can hide it.
const USERINFO_SECRET: &str = "hunter2sentinel";
/// A token in a query parameter.
const QUERY_SECRET: &str = "qsentinel77";
/// A GitLab token pasted where a variable name belongs.
const PASTED_TOKEN: &str = "glpat-FAKE-pasted-1";

const POLICY: &str =
    "[[rule]]\nurl = \"https://git.red.example\"\nsources = [\"file\"]\nstore = \"file\"\n";

#[track_caller]
fn assert_no_secret(out: &Output, what: &str) {
    for secret in [USERINFO_SECRET, QUERY_SECRET, PASTED_TOKEN] {
        assert!(
            !out.stderr.contains(secret) && !out.stdout.contains(secret),
            "{what}: {secret} is shown: {out}"
        );
    }
}

/// ESC, BEL, CSI (C1), a bidi override and a bare CR never come out as themselves.
#[track_caller]
fn assert_no_control(out: &Output, what: &str) {
    for text in [&out.stderr, &out.stdout] {
        let bad = text.chars().find(|&c| {
            (c.is_control() && c != '\n' && c != '\t')
                || matches!(c, '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}')
        });
        assert!(bad.is_none(), "{what}: {bad:?} reaches the terminal: {out}");
    }
}

fn hostile_url() -> String {
    format!(
        "https://alice:{USERINFO_SECRET}@git.red.example/group/mod?private_token={QUERY_SECRET}"
    )
}

#[test]
fn no_secret_in_any_message_from_urls_given_on_the_command_line() {
    let env = TestEnv::new();
    env.policy(POLICY);
    let url = hostile_url();
    for args in [
        vec!["doctor", url.as_str()],
        vec!["doctor", "--json", url.as_str()],
        vec!["login", url.as_str()],
        vec!["logout", url.as_str()],
        vec!["netrc", "--host", url.as_str()],
        vec!["exec", "--host", url.as_str(), "--", "true"],
        vec!["goauth", url.as_str()],
    ] {
        let out = env
            .gocred(&args)
            .env("GOCRED_HTTP_TIMEOUT", "1")
            .stdin("")
            .run();
        assert_no_secret(&out, &args.join(" "));
    }
}

#[test]
fn no_secret_in_any_message_from_config_values_that_look_like_secrets() {
    let env = TestEnv::new();
    env.policy(&format!(
        "[[rule]]\nurl = \"https://alice:{USERINFO_SECRET}@git.red.example/?token={QUERY_SECRET}\"\n\
         sources = [\"env\"]\ntoken_env = \"{PASTED_TOKEN}\"\n\n\
         [[rule]]\nurl = \"https://other.red.example\"\nsources = [\"{PASTED_TOKEN}\"]\n"
    ));
    for args in [
        vec!["config", "check"],
        vec!["status"],
        vec!["doctor", "git.red.example/group/mod"],
    ] {
        let out = env.gocred(&args).env("GOCRED_HTTP_TIMEOUT", "1").run();
        assert_no_secret(&out, &args.join(" "));
    }
    let out = env
        .gocred(&["get"])
        .stdin("protocol=https\nhost=git.red.example\n")
        .run();
    assert_no_secret(&out, "get");
    assert_eq!(out.stdout, "", "get answers nothing from a broken config");
}

#[test]
fn no_control_characters_reach_a_terminal_from_arguments_requests_files_and_stored_entries() {
    let env = TestEnv::new();
    env.policy(POLICY);
    let esc = "\u{1b}]0;owned\u{7}\u{1b}[2J\u{9b}31m\u{202e}txt.exe\rspoof";

    // From argv.
    let module = format!("git.red.example/group/{esc}");
    for args in [
        vec!["doctor".to_owned(), module.clone()],
        vec!["login".to_owned(), format!("git.red{esc}.example")],
        vec!["netrc".to_owned(), "--host".to_owned(), format!("h{esc}")],
        vec![
            "goauth".to_owned(),
            format!("https://git.red.example/{esc}"),
        ],
    ] {
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        let out = env
            .gocred(&args)
            .env("GOCRED_HTTP_TIMEOUT", "1")
            .stdin("")
            .run();
        assert_no_control(&out, args[0]);
    }

    // From git's request: a user name git got from a URL.
    let out = env
        .gocred(&["store"])
        .stdin(format!(
            "protocol=https\nhost=git.red.example\nusername=al{}ice\npassword=pw\n",
            "\u{1b}[31m\u{202e}"
        ))
        .run();
    assert_no_control(&out, "store");
    // From a stored entry: status lists it.
    let out = env.gocred(&["status"]).run();
    assert_no_control(&out, "status");

    // From a file: the config itself.
    env.policy(&format!(
        "[[rule]]\nurl = \"https://git.red.example/{esc}\"\nsources = [\"file\"]\nstore = \"file\"\n"
    ));
    for args in [vec!["config", "check"], vec!["status"]] {
        let out = env.gocred(&args).run();
        assert_no_control(&out, &args.join(" "));
    }
}
