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
         machine ghe.corp.example:8443\n  login x-access-token\n  password \"ghe-SENTINEL-2\"\n\
         default login anonymous password default-SENTINEL-3\n",
    );
    set_mode(&netrc, 0o644);
    let out = env.gocred(&["import-netrc"]).arg(&netrc).success();
    assert!(out.stderr.contains("mode 0644"), "{out}");
    assert!(out.stderr.contains("`default` entry skipped"), "{out}");
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

#[test]
fn malformed_netrc_is_refused_with_its_line_and_nothing_is_stored() {
    let env = TestEnv::new();
    env.policy(FILE_POLICY);
    let netrc = env.write_file(
        "netrc",
        "machine git.corp.example login alice password p-SENTINEL\nmachine ghe.corp.example:8443 LOGIN bob\n",
    );
    let out = env.gocred(&["import-netrc"]).arg(&netrc).run();
    out.assert_code(1);
    assert!(out.stderr.contains("line 2"), "{out}");
    assert!(!out.stderr.contains("SENTINEL"), "{out}");
    assert!(env.file_store().is_none());
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
