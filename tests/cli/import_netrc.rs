//! `gocred import-netrc`: real netrc files moved into the file store and kernel keyutils, the
//! rules to add printed or saved, and the plaintext file removed only when every entry reads back.

use crate::common::keyring::{keyutils_lookup, keyutils_purge, require_session_keyring};
use crate::common::{TestEnv, set_mode};
use crate::keychain::keyutils_turn;

const FILE_POLICY: &str = r#"# my policy, kept as it is
[[rule]]
url = "https://git.corp.example"
sources = ["file"]
store = "file"

[[rule]]
url = "https://ghe.corp.example:8443"
sources = ["file"]
store = "file"

[[rule]]
url = "https://ghe.corp.example"
sources = ["file"]
store = "file"
"#;

fn get(env: &TestEnv, host: &str) -> String {
    env.gocred(&["get"])
        .stdin(format!("protocol=https\nhost={host}\n"))
        .success()
        .stdout
}

#[test]
fn imports_into_the_rules_store_warns_on_loose_mode_and_skips_default() {
    let env = TestEnv::new();
    env.policy(FILE_POLICY);
    let netrc = env.write_file(
        "netrc",
        "# work\nmachine git.corp.example login alice password git-SENTINEL-1\n\
         machine ghe.corp.example\n  login x-access-token\n  password \"ghe-SENTINEL-2\"\n\
         machine ghe.corp.example:8443 login x-access-token password ghe-SENTINEL-2\n\
         default login anonymous password default-SENTINEL-3\n",
    );
    set_mode(&netrc, 0o644);
    let out = env.gocred(&["import-netrc"]).arg(&netrc).success();
    assert!(out.stderr.contains("mode 0644"), "{out}");
    assert!(
        out.stderr
            .contains("line 7: the `default` entry is not imported"),
        "{out}"
    );
    // The :8443 entry is what git sends there too (libcurl ignores the port, so it sends
    // `machine ghe.corp.example`'s) and what go uses, so it is imported.
    assert!(
        out.stderr
            .contains("ghe.corp.example:8443 (x-access-token): stored in file"),
        "{out}"
    );
    assert!(
        !out.stderr.contains("SENTINEL") && !out.stdout.contains("SENTINEL"),
        "{out}"
    );
    assert_eq!(
        out.stdout, "",
        "every machine has a rule: nothing to add: {out}"
    );
    assert_eq!(
        get(&env, "git.corp.example"),
        "username=alice\npassword=git-SENTINEL-1\n"
    );
    assert_eq!(
        get(&env, "ghe.corp.example:8443"),
        "username=x-access-token\npassword=ghe-SENTINEL-2\n"
    );
    assert_eq!(env.file_store_mode(), 0o600);
    // --remove keeps the file: the default entry would be lost with it.
    let out = env.gocred(&["import-netrc", "--remove"]).arg(&netrc).run();
    out.assert_code(1);
    assert!(
        out.stderr.contains("not removing") && out.stderr.contains("default"),
        "{out}"
    );
    assert!(netrc.exists());
}

#[test]
fn remove_deletes_the_file_only_when_every_entry_reads_back() {
    let mut env = TestEnv::new();
    env.policy(
        r#"[[rule]]
url = "https://git.corp.example"
sources = ["env", "file"]
username = "alice"
token_env = "CI_TOKEN"
store = "file"
"#,
    );
    let netrc = env.home().join(".netrc");
    std::fs::write(
        &netrc,
        "machine git.corp.example login alice password git-SENTINEL-1\n",
    )
    .unwrap();
    set_mode(&netrc, 0o600);
    // The env source answers first with another credential: not what the file held.
    env.set_env("CI_TOKEN", "ci-SENTINEL-9");
    let out = env.gocred(&["import-netrc", "--remove"]).run();
    out.assert_code(1);
    assert!(out.stderr.contains("another credential"), "{out}");
    assert!(!out.stderr.contains("SENTINEL"), "{out}");
    assert!(netrc.exists());
    // Without it, the file store answers: the file goes ($HOME/.netrc is the default).
    env.set_env("CI_TOKEN", "");
    let out = env.gocred(&["import-netrc", "--remove"]).run();
    out.assert_success();
    assert!(!netrc.exists(), "{out}");
    assert!(out.stderr.contains("removed"), "{out}");
    assert_eq!(
        get(&env, "git.corp.example"),
        "username=alice\npassword=git-SENTINEL-1\n"
    );
}

const WILDCARD_POLICY: &str = r#"[[rule]]
url = "https://*.corp.example"
sources = ["file"]
store = "file"

[[rule]]
url = "https://*.corp.example:8443"
sources = ["file"]
store = "file"
"#;

/// Imports `text` under [`WILDCARD_POLICY`]; returns the run and `get` for each host.
fn import(text: &[u8], hosts: &[&str]) -> (crate::common::Output, Vec<String>) {
    let env = TestEnv::new();
    env.policy(WILDCARD_POLICY);
    let netrc = env.root().join("netrc");
    std::fs::write(&netrc, text).unwrap();
    set_mode(&netrc, 0o600);
    let out = env.gocred(&["import-netrc"]).arg(&netrc).run();
    let got = hosts.iter().map(|h| get(&env, h)).collect();
    (out, got)
}

fn cred(user: &str, pass: &str) -> String {
    format!("username={user}\npassword={pass}\n")
}

#[test]
fn import_netrc_first_entry_wins_for_a_host_and_its_aliases() {
    let text = "machine ONE.corp.example login first password one-SENTINEL-1\n\
                machine one.corp.example login second password one-SENTINEL-2\n\
                machine two.corp.example:443 login x password two-SENTINEL-3\n\
                machine two.corp.example login y password two-SENTINEL-4\n\
                machine three.corp.example. login a password three-SENTINEL-5\n\
                machine three.corp.example login b password three-SENTINEL-6\n\
                machine four.corp.example login a password four-SENTINEL-7\n\
                machine four.corp.example login b password four-SENTINEL-8\n\
                machine five.corp.example:443 login a password five-SENTINEL-9\n\
                machine six.corp.example login a password six-SENTINEL-10\n\
                machine six.corp.example:8443 login b password six-SENTINEL-11\n";
    let hosts = [
        "one.corp.example",
        "two.corp.example",
        "three.corp.example",
        "four.corp.example",
        "five.corp.example",
        "six.corp.example",
        "six.corp.example:8443",
    ];
    let (out, got) = import(text.as_bytes(), &hosts);
    out.assert_success();
    assert_eq!(
        got,
        [
            // libcurl compares names case-insensitively: the first entry (go would use the
            // second: it compares exactly, and the note says so).
            cred("first", "one-SENTINEL-1"),
            // `:443` is never a name libcurl (or go) matches for the host.
            cred("y", "two-SENTINEL-4"),
            // git sends one credential for `three.corp.example.` and another for
            // `three.corp.example`: gocred serves both as one host, so neither.
            String::new(),
            cred("a", "four-SENTINEL-7"),
            String::new(),
            cred("a", "six-SENTINEL-10"),
            // libcurl ignores the port: git sends `machine six.corp.example`'s credential to
            // :8443, go the :8443 entry's; they disagree, so nothing.
            String::new(),
        ],
        "{out}"
    );
    for words in [
        "line 1: one.corp.example: go would use the entry of line 2",
        "three.corp.example: not imported: git's libcurl uses the entry of line 6 for three.corp.example but the entry of line 5 for three.corp.example.",
        "five.corp.example: not imported: git's libcurl uses no entry",
        "six.corp.example:8443: not imported: git's libcurl matches `machine` names without the port, so for six.corp.example:8443 git sends the entry of line 10",
    ] {
        assert!(out.stderr.contains(words), "{words}: {out}");
    }
    assert!(!out.stderr.contains("SENTINEL"), "{out}");
}

#[test]
fn import_netrc_follows_curl_line_rules() {
    let long = "x".repeat(4100);
    let text = format!(
        "machine a.corp.example login u password #a-SENTINEL-1\n\
         machine b.corp.example login v password b-SENTINEL-2\n\
         machine c.corp.example login w password c-SENTINEL-3\0tail\n\
         machine d.corp.example login x password d-SENTINEL-4\n\
         machine e.corp.example login y password e-SENTINEL-{long}\n\
         machine f.corp.example login z\nmacdef init\npassword f-SENTINEL-6\n\n\
         MACHINE g.corp.example LOGIN gg PASSWORD g-SENTINEL-7\n\
         machine h.corp.example login \"h h\" password \"h\\\"SENTINEL-8\"\n"
    );
    let hosts = [
        "a.corp.example",
        "b.corp.example",
        "c.corp.example",
        "d.corp.example",
        "e.corp.example",
        "f.corp.example",
        "g.corp.example",
        "h.corp.example",
    ];
    let (out, got) = import(text.as_bytes(), &hosts);
    out.assert_success();
    assert_eq!(
        got,
        [
            // `#` starts a comment even where the password is expected: libcurl takes the next
            // word, `machine`, as the password.
            cred("u", "machine"),
            cred("v", "b-SENTINEL-2"),
            // The line holding NUL is dropped, and the line after it.
            String::new(),
            String::new(),
            // A line of 4095 bytes or more is dropped.
            String::new(),
            // `macdef` inside a matching entry is no macro to libcurl.
            cred("z", "f-SENTINEL-6"),
            cred("gg", "g-SENTINEL-7"),
            cred("h h", "h\"SENTINEL-8"),
        ],
        "{out}"
    );
    for words in [
        "a.corp.example: go would use the entry of line 1",
        "c.corp.example: not imported: git's libcurl uses no entry",
        "d.corp.example: not imported",
        "e.corp.example: not imported",
    ] {
        assert!(out.stderr.contains(words), "{words}: {out}");
    }
    assert!(!out.stderr.contains("SENTINEL"), "{out}");

    // An unclosed quote: libcurl refuses the file where it reads it, so git sends nothing to a
    // host it had not found before that line.
    let text = "machine a.corp.example login a password a-SENTINEL-1\n\
                machine b.corp.example login b password \"b-SENTINEL-2\n\
                machine c.corp.example login c password c-SENTINEL-3\n";
    let (out, got) = import(text.as_bytes(), &hosts[..3]);
    out.assert_success();
    assert_eq!(
        got,
        [cred("a", "a-SENTINEL-1"), String::new(), String::new()],
        "{out}"
    );
    assert!(
        out.stderr
            .contains("c.corp.example: not imported: git's libcurl refuses this file at line 2"),
        "{out}"
    );
    assert!(!out.stderr.contains("SENTINEL"), "{out}");
}

#[test]
fn hosts_without_a_rule_go_to_keyutils_and_save_adds_their_rules() {
    let _turn = keyutils_turn();
    require_session_keyring();
    let env = TestEnv::new();
    let host = format!("imp-{}.netrc.example", std::process::id());
    let original = "[keychain]\nbackend = \"keyutils\"\n\n# a comment kept\n[[rule]]\nurl = \"https://git.corp.example\"\nsources = [\"file\"]\nstore = \"file\"\n";
    let policy = env.policy(original);
    let netrc = env.write_file(
        "netrc",
        &format!(
            "machine git.corp.example login alice password git-SENTINEL-1\nmachine {host} login bob password kr-SENTINEL-2\n"
        ),
    );
    set_mode(&netrc, 0o600);
    let origin = format!("https://{host}");
    // Without --save: stored in the keychain, the rule printed, the config untouched.
    let out = env.gocred(&["import-netrc"]).arg(&netrc).run();
    let in_keyutils = keyutils_lookup(&env, &origin);
    // --remove refuses: no rule on disk serves the new host yet.
    let refused = env.gocred(&["import-netrc", "--remove"]).arg(&netrc).run();
    let kept = netrc.exists();
    // --save --remove: the rule is appended (content kept), everything reads back, file gone.
    let saved_out = env
        .gocred(&["import-netrc", "--save", "--remove"])
        .arg(&netrc)
        .run();
    let saved = std::fs::read_to_string(&policy).unwrap();
    let _ = env
        .gocred(&["erase"])
        .stdin(format!("protocol=https\nhost={host}\n"))
        .run();
    keyutils_purge(&env, &origin);

    out.assert_success();
    assert!(out.stderr.contains("kernel keyutils"), "{out}");
    assert!(out.stderr.contains("keychain, by default"), "{out}");
    assert!(out.stdout.contains(&format!("url = \"{origin}\"")), "{out}");
    assert!(
        in_keyutils.is_some_and(|v| v.contains("kr-SENTINEL-2")),
        "the key is in keyutils"
    );
    refused.assert_code(1);
    assert!(
        refused.stderr.contains("no rule in the config serves it"),
        "{refused}"
    );
    assert!(kept);
    saved_out.assert_success();
    assert!(saved.starts_with(original), "{saved}");
    assert!(saved.contains(&format!("url = \"{origin}\"")), "{saved}");
    assert!(!netrc.exists(), "{saved_out}");
    env.gocred(&["config", "check"]).success();
}
