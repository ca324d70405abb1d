//! Issue 12, "`command`": a secrets manager's own CLI as a source. Real `pass` with a GnuPG key
//! made in the test (its gpg-agent in the test's own GNUPGHOME, killed at the end), real git
//! through the helper, and small stand-in programs for what a real one does badly: a non-zero
//! exit, a hang, a flood, an output that is no credential. Every refusal is one line naming the
//! rule; nothing the program printed reaches gocred's stderr or stdout.

use crate::common::git_server::GitServer;
use crate::common::{Output, TestEnv};
use std::time::{Duration, Instant};

/// A value no message may ever repeat.
const SENTINEL: &str = "glpat-FAKE-SENTINEL-C0FE";

fn command_rule(origin: &str, command: &str, extra: &str) -> String {
    format!(
        "# fleet\n[[rule]]\nurl = \"{origin}\"\nsources = [\"command\"]\ncommand = {command}\n\
         username = \"oauth2\"\nallow_http = true\n{extra}"
    )
}

fn get(env: &TestEnv, host: &str) -> Output {
    env.gocred(&["get"])
        .stdin(format!(
            "protocol=https\nhost={host}\npath=group/repo.git\n\n"
        ))
        .run()
}

/// gpg-agent of a test's GNUPGHOME, stopped when the test ends (pass or fail).
struct Agent {
    gnupghome: std::path::PathBuf,
}

impl Drop for Agent {
    fn drop(&mut self) {
        let _ = std::process::Command::new("gpgconf")
            .args(["--kill", "all"])
            .env("GNUPGHOME", &self.gnupghome)
            .status();
    }
}

#[test]
fn command_source_serves_a_real_pass_entry_to_git_and_nothing_to_another_host() {
    crate::common::keyring::require_program("pass");
    crate::common::keyring::require_program("gpg");
    let mut env = TestEnv::new();
    let gnupghome = env.root().join("gnupg");
    std::fs::create_dir_all(&gnupghome).unwrap();
    crate::common::set_mode(&gnupghome, 0o700);
    let _agent = Agent {
        gnupghome: gnupghome.clone(),
    };
    env.set_env("GNUPGHOME", &gnupghome);
    env.set_env("PASSWORD_STORE_DIR", env.root().join("password-store"));
    env.command("gpg")
        .args([
            "--batch",
            "--pinentry-mode",
            "loopback",
            "--passphrase",
            "",
            "--quick-gen-key",
            "gocred test <pass@gocred.invalid>",
            "default",
            "default",
            "never",
        ])
        .run()
        .assert_success();
    env.command("pass")
        .args(["init", "pass@gocred.invalid"])
        .run()
        .assert_success();
    let server = GitServer::start(&env);
    let entry = format!("git/127.0.0.1:{}", server.port());
    // pass's convention: the secret on the first line, notes after it.
    env.command("pass")
        .args(["insert", "--multiline", &entry])
        .stdin(format!(
            "{SENTINEL}\nlogin: oauth2\nurl: {}\n",
            server.origin()
        ))
        .run()
        .assert_success();
    server.set_user("oauth2", SENTINEL);
    server.create_repo(&env, "group/repo.git");
    env.policy(&command_rule(
        &server.origin(),
        &format!("[\"pass\", \"show\", \"{entry}\"]"),
        "",
    ));
    env.use_gocred_by_path();

    let out = env
        .git(&[
            "clone",
            "-q",
            &server.url("127.0.0.1", "group/repo.git"),
            "c",
        ])
        .run();
    out.assert_success();
    assert!(!out.stderr.contains(SENTINEL), "{out}");
    assert!(
        server
            .credentials_seen()
            .contains(&("oauth2".to_owned(), SENTINEL.to_owned())),
        "{:?}",
        server.credentials_seen()
    );

    // The same socket under another name: no rule, so pass is never asked, git gets nothing.
    server.clear_log();
    let out = env
        .git(&[
            "clone",
            "-q",
            &server.url("localhost", "group/repo.git"),
            "d",
        ])
        .run();
    out.assert_failure();
    assert!(
        server.credentials_seen().is_empty(),
        "{:?}",
        server.credentials_seen()
    );
}

#[test]
fn command_output_formats_and_gocred_variables_reach_git() {
    let env = TestEnv::new();
    // key=value, built from what the program was told.
    let kv = env.script(
        "kv",
        "printf 'username=bot\\npassword=tok-%s-%s-%s-%s-%s\\npassword_expiry_utc=4000000000\\n' \
         \"$GOCRED_PROTOCOL\" \"$GOCRED_HOST\" \"$GOCRED_PORT\" \"$GOCRED_PATH\" \"${GOCRED_USERNAME-none}\"\n\
         printf '%s\\n' \"$GOCRED_URL $GOCRED_RULE\" >&2",
    );
    env.policy(&command_rule(
        "https://kv.corp.example",
        &format!("[\"{}\"]", kv.display()),
        "",
    ));
    env.git_config("credential.useHttpPath", "true");
    env.use_gocred_by_path();
    let out = env.credential_fill("https://KV.corp.example:443/group/repo.git");
    out.assert_success();
    assert!(
        out.stdout.contains(
            "username=oauth2\npassword=tok-https-kv.corp.example-443-group/repo.git-oauth2\n"
        ),
        "the rule's username is what git asks with: {out}"
    );
    assert!(
        out.stdout.contains("password_expiry_utc=4000000000"),
        "{out}"
    );
    // The program's stderr reaches the user.
    assert!(
        out.stderr
            .contains("https://kv.corp.example/group/repo.git https://kv.corp.example"),
        "{out}"
    );

    // JSON, with an RFC 3339 expiry, and a user name of its own (the rule has none).
    let json = env.script(
        "json",
        "printf '{\"token\": \"%s\", \"username\": \"svc\", \"expires_at\": \"2096-10-02T07:06:40Z\"}\\n' \"tok-$GOCRED_HOST\"",
    );
    env.policy(&format!(
        "[[rule]]\nurl = \"https://json.corp.example\"\nsources = [\"command\"]\ncommand = [\"{}\"]\n",
        json.display()
    ));
    let out = env.credential_fill("https://json.corp.example/x.git");
    out.assert_success();
    assert!(
        out.stdout.contains(
            "username=svc\npassword=tok-json.corp.example\npassword_expiry_utc=4000000000\n"
        ),
        "{out}"
    );
}

/// One refusal: `gocred get` fails with one line naming the rule and the program, stdout stays
/// empty, and nothing the program printed is repeated.
#[track_caller]
fn assert_refused(out: &Output, policy_line: usize, why: &str) {
    out.assert_failure();
    assert_eq!(out.stdout, "", "{out}");
    assert!(!out.stderr.contains(SENTINEL), "output echoed: {out}");
    let line = out
        .stderr
        .lines()
        .find(|l| l.contains("command: rule https://bad.corp.example"))
        .unwrap_or_else(|| panic!("no line naming the rule: {out}"));
    assert!(
        line.contains(&format!("(line {policy_line})")) && line.contains(why),
        "{line}"
    );
}

#[test]
fn command_refuses_bad_exits_floods_garbage_and_hangs_naming_the_rule() {
    let env = TestEnv::new();
    let policy_for = |body: &str, extra: &str| {
        let program = env.script("prog", body);
        env.policy(&command_rule(
            "https://bad.corp.example",
            &format!("[\"{}\"]", program.display()),
            extra,
        ));
    };

    policy_for(
        &format!("echo {SENTINEL}; echo 'vault: permission denied' >&2; exit 3"),
        "",
    );
    let out = get(&env, "bad.corp.example");
    assert_refused(&out, 2, "exited with status 3");
    assert!(out.stderr.contains("vault: permission denied"), "{out}");

    policy_for(
        &format!("echo {SENTINEL}; head -c 70000 /dev/zero | tr '\\0' a"),
        "",
    );
    assert_refused(&get(&env, "bad.corp.example"), 2, "more than 64 KiB");

    policy_for(&format!("echo 'Error: no such secret {SENTINEL}'"), "");
    assert_refused(&get(&env, "bad.corp.example"), 2, "its output is none of");

    policy_for("exit 0", "");
    assert_refused(&get(&env, "bad.corp.example"), 2, "it printed nothing");

    policy_for(
        &format!("printf '{{\"token\": \"\", \"note\": \"{SENTINEL}\"}}'"),
        "",
    );
    assert_refused(&get(&env, "bad.corp.example"), 2, "no `token` string");

    // A hang: it and the child it started (holding stdout) are killed with the process group
    // when the timeout passes.
    let pids = env.root().join("pids");
    policy_for(
        &format!(
            "echo $$ > {p}; sleep 60 & echo $! >> {p}; echo {SENTINEL}; wait",
            p = pids.display()
        ),
        "command_timeout = 1\n",
    );
    let started = Instant::now();
    let out = get(&env, "bad.corp.example");
    let took = started.elapsed();
    assert_refused(&out, 2, "still running after 1 s and was killed");
    assert!(took < Duration::from_secs(8), "took {took:?}");
    for pid in std::fs::read_to_string(&pids).unwrap().split_whitespace() {
        let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap_or_default();
        // Gone, or a zombie of a parent that has not reaped it yet.
        assert!(
            stat.is_empty() || stat.contains(") Z "),
            "process {pid} still runs: {stat}"
        );
    }

    // A request for another host never runs the program at all.
    let ran = env.root().join("ran");
    policy_for(&format!("touch {}; echo tok", ran.display()), "");
    let out = get(&env, "other.corp.example");
    out.assert_success();
    assert_eq!(out.stdout, "");
    assert!(!ran.exists());
}

#[test]
fn command_config_check_names_each_bad_setting_with_line_and_column() {
    let env = TestEnv::new();
    env.policy(
        "[[rule]]\nurl = \"https://h.corp.example\"\nsources = [\"command\"]\n\
         command = \"pass show x\"\n\n[[rule]]\nurl = \"https://i.corp.example\"\n\
         sources = [\"keychain\"]\ncache = \"until-expiry\"\n",
    );
    let out = env.gocred(&["config", "check"]).run();
    out.assert_failure();
    let path = env.policy_path();
    assert!(
        out.stderr.contains(&format!(
            "{}:4:11: `command` must be an array of strings",
            path.display()
        )),
        "{out}"
    );
    assert!(
        out.stderr.contains(&format!(
            "{}:9:9: `cache` is set but this rule has no `command`",
            path.display()
        )),
        "{out}"
    );
}

#[test]
fn command_cache_answers_parallel_gits_with_one_run_and_forgets_a_rejected_token() {
    crate::common::keyring::require_session_keyring();
    let env = TestEnv::new();
    let runs = env.root().join("runs");
    let program = env.script(
        "slow",
        &format!(
            "echo run >> {}; sleep 0.3; n=$(wc -l < {}); echo \"tok-$n\"",
            runs.display(),
            runs.display()
        ),
    );
    env.policy(&format!(
        "[keychain]\nbackend = \"keyutils\"\n\n{}",
        command_rule(
            "https://cached.corp.example",
            &format!("[\"{}\"]", program.display()),
            "cache = \"300\"\n",
        )
    ));
    let request = "protocol=https\nhost=cached.corp.example\n\n";
    let children: Vec<_> = (0..6)
        .map(|_| {
            let mut cmd = env.std_command(crate::common::GOCRED);
            cmd.arg("get")
                .stdin(std::process::Stdio::piped())
                .stdout(std::process::Stdio::piped())
                .stderr(std::process::Stdio::piped());
            let mut child = cmd.spawn().unwrap();
            use std::io::Write;
            child
                .stdin
                .take()
                .unwrap()
                .write_all(request.as_bytes())
                .unwrap();
            child
        })
        .collect();
    for child in children {
        let out = child.wait_with_output().unwrap();
        let stdout = String::from_utf8_lossy(&out.stdout);
        assert!(
            out.status.success() && stdout.contains("username=oauth2\npassword=tok-1\n"),
            "{stdout} {}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
    let count = || std::fs::read_to_string(&runs).unwrap().lines().count();
    assert_eq!(count(), 1, "parallel gits ran the program once");

    // A hit: the program does not run.
    let out = env.gocred(&["get"]).stdin(request).run();
    assert!(out.stdout.contains("password=tok-1\n"), "{out}");
    assert_eq!(count(), 1);

    // git says the server refused it: the cached answer goes, the next get runs the program.
    env.gocred(&["erase"])
        .stdin("protocol=https\nhost=cached.corp.example\nusername=oauth2\npassword=tok-1\n\n")
        .run()
        .assert_success();
    let out = env.gocred(&["get"]).stdin(request).run();
    assert!(out.stdout.contains("password=tok-2\n"), "{out}");
    assert_eq!(count(), 2);

    // status shows the cached entry under its rule, without the token.
    let out = env.gocred(&["status"]).run();
    out.assert_success();
    assert!(
        out.stdout
            .contains("stored: https://cached.corp.example as oauth2"),
        "{out}"
    );
    assert!(!out.stdout.contains("tok-2"), "{out}");
    assert!(
        out.stdout.contains("  command: runs ")
            && out
                .stdout
                .contains("timeout 10 s, cached in the keychain for 300 s"),
        "{out}"
    );
    assert!(!out.stdout.contains("no rule serves it"), "{out}");
}
