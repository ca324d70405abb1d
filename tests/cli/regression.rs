//! One test per bug found by the fuzzers, the property tests or the hygiene tests, named after
//! the bug. Fuzz inputs that found one are kept under `tests/fixtures/fuzz/<target>/` and replayed
//! by `fuzz_corpus.rs` as well.

use crate::common::TestEnv;

/// Found by `hygiene::malformed_requests_never_echo_a_value`: a CR, LF or NUL in the value of a
/// key git does not define made the error name that key, and a malformed line's "key" may be part
/// of a secret (`<token>=\r`). Now such a line is named by its number; a known attribute is still
/// named (see the golden test `get_refuses_cr_in_value`).
#[test]
fn unknown_key_with_a_forbidden_char_is_named_by_line_not_echoed() {
    let env = TestEnv::new();
    for (request, said) in [
        (
            "protocol=https\nhost=h.example\nglpat-FAKE-REGRESSION42=\r\n",
            "input line 3 contains a carriage return (CR)",
        ),
        (
            "protocol=https\nglpat-FAKE-REGRESSION42=a\0b\nhost=h.example\n",
            "input line 2 contains a NUL byte",
        ),
        (
            "protocol=https\nhost=h.example\nusername=a\rb\n",
            "the value of 'username' contains a carriage return (CR)",
        ),
    ] {
        let out = env.gocred(&["get"]).stdin(request).run();
        out.assert_code(1);
        assert!(out.stdout.is_empty(), "{out}");
        assert!(out.stderr.contains(said), "{out}");
        assert!(!out.stderr.contains("REGRESSION42"), "{out}");
    }
}

/// Found by `hygiene::a_broken_config_never_echoes_a_value`: a rule `url` carrying a password
/// (`https://user:TOKEN@host`) or a token in its query was quoted whole in the config error,
/// which `get` prints to git's stderr. Now such a url is named by line and column only; other bad
/// urls are still quoted.
#[test]
fn rule_url_with_credentials_or_query_is_not_echoed_in_config_errors() {
    let env = TestEnv::new();
    for (url, reason) in [
        (
            "https://alice:glpat-FAKE-REGRESSION42@git.example",
            "cannot carry a user name or password",
        ),
        (
            "https://git.example/?private_token=REGRESSION42",
            "cannot have a query or fragment",
        ),
        (
            "https://git.example/#REGRESSION42",
            "cannot have a query or fragment",
        ),
    ] {
        let path = env.policy(&format!(
            "[[rule]]\nurl = \"{url}\"\nsources = [\"file\"]\n"
        ));
        let out = env
            .gocred(&["get"])
            .stdin("protocol=https\nhost=git.example\n")
            .run();
        out.assert_code(1);
        let located = format!("{}:2:7: bad url: a rule url {reason}", path.display());
        assert!(out.stderr.contains(&located), "{out}");
        let check = env.gocred(&["config", "check"]).run();
        assert!(
            check.stdout.contains(&located) || check.stderr.contains(&located),
            "{check}"
        );
        for text in [&out.stdout, &out.stderr, &check.stdout, &check.stderr] {
            assert!(!text.contains("REGRESSION42"), "{out}\n{check}");
        }
    }
    env.policy("[[rule]]\nurl = \"ftp://git.example\"\nsources = [\"file\"]\n");
    let out = env.gocred(&["config", "check"]).run();
    assert!(
        format!("{}{}", out.stdout, out.stderr).contains("bad url \"ftp://git.example\""),
        "{out}"
    );
}
