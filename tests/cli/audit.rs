//! The audit trail (issue 11): one JSON line per decision, whole under concurrency, never a
//! secret, never in git's way (a read-only or full log, a planted symlink), rotated past its
//! size, and `gocred audit` filtering it by host and time.

use crate::common::{TestEnv, value_of};
use serde_json::Value;
use std::io::Write;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Stdio};

const SECRET_ENV: &str = "env-SECRET-0123456789abcdef";

/// A wildcard rule served by the file store, an env rule and the `[audit]` table (log at `log`).
fn policy(log: &Path, extra_audit: &str) -> String {
    format!(
        "[[rule]]\nurl = \"https://*.audit.example\"\nsources = [\"file\"]\nstore = \"file\"\n\n\
         [[rule]]\nurl = \"https://ci.example\"\nsources = [\"env\"]\nusername = \"ci\"\n\
         token_env = \"AUDIT_TOKEN\"\n\n\
         [audit]\npath = \"{}\"\n{extra_audit}",
        log.display()
    )
}

fn password(i: usize) -> String {
    format!("pw-SECRET-{i:02}-{}", i * 7919 % 1000)
}

/// Plants one credential per host `h{i}.audit.example` in the file store, in one write.
fn plant(env: &TestEnv, n: usize) {
    let records: Vec<gocred::source::Record> = (0..n)
        .map(|i| gocred::source::Record {
            scope: gocred::policy::ScopeKey(format!("https://h{i}.audit.example")),
            path: None,
            unknown: Vec::new(),
            cred: gocred::source::Credential {
                username: format!("user{i}"),
                password: gocred::secret::Secret::new(password(i)),
                password_expiry_utc: None,
                oauth_refresh_token: None,
            },
        })
        .collect();
    let bytes = gocred::source::record::encode(&records).unwrap();
    gocred::fs::write_private_atomic(&env.file_store_path(), bytes.as_bytes()).unwrap();
}

fn lines(log: &Path) -> Vec<Value> {
    std::fs::read_to_string(log)
        .unwrap_or_default()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("not JSON ({e}): {l:?}")))
        .collect()
}

/// Each line's (command, target, outcome).
fn decisions(entries: &[Value]) -> Vec<(String, String, String)> {
    entries
        .iter()
        .map(|e| {
            (
                e["command"].as_str().unwrap().to_owned(),
                e["target"].as_str().unwrap().to_owned(),
                e["outcome"].as_str().unwrap().to_owned(),
            )
        })
        .collect()
}

fn spawn_git(env: &TestEnv, args: &[&str]) -> Child {
    env.std_command("git")
        .args(args)
        .env("GIT_TERMINAL_PROMPT", "0")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn git")
}

#[test]
fn sixty_four_parallel_git_fills_leave_one_whole_correct_line_each_and_no_secret() {
    let env = TestEnv::new();
    let log = env.root().join("state/audit.log");
    env.policy(&policy(&log, ""));
    env.use_gocred_by_path();
    const N: usize = 64;
    plant(&env, N);
    let mut children: Vec<Child> = (0..N)
        .map(|_| spawn_git(&env, &["credential", "fill"]))
        .collect();
    for (i, child) in children.iter_mut().enumerate() {
        let mut stdin = child.stdin.take().unwrap();
        write!(stdin, "protocol=https\nhost=h{i}.audit.example\n\n").unwrap();
    }
    for (i, child) in children.into_iter().enumerate() {
        let out = child.wait_with_output().unwrap();
        let stdout = String::from_utf8_lossy(&out.stdout);
        assert!(
            out.status.success() && out.stderr.is_empty(),
            "{i}: {out:?}"
        );
        assert_eq!(value_of(&stdout, "password"), Some(password(i).as_str()));
    }
    let entries = lines(&log);
    assert_eq!(entries.len(), N, "one line per decision");
    let mut hosts: Vec<String> = Vec::new();
    for e in &entries {
        assert_eq!(e["v"], 1);
        assert_eq!(e["command"], "get");
        assert_eq!(e["outcome"], "answered", "{e}");
        assert_eq!(e["answered_by"], "file");
        assert_eq!(e["rule"]["url"], "https://*.audit.example");
        assert_eq!(e["rule"]["line"], 1);
        assert_eq!(e["rule"]["file"], env.policy_path().to_str().unwrap());
        assert_eq!(
            e["sources"],
            serde_json::json!([{"source": "file", "result": "found"}])
        );
        assert_eq!(e["caller"], "git", "git runs the helper: {e}");
        // git runs a helper given by path through `sh -c`: the parent is that shell, git above.
        assert!(
            e["ancestry"].as_array().unwrap()[..2]
                .iter()
                .any(|a| a["comm"] == "git"),
            "{e}"
        );
        assert_eq!(e["ancestry"][0]["pid"], e["ppid"]);
        assert_eq!(e["ancestry"][0]["comm"], e["parent"]);
        assert!(e["pid"].as_u64().unwrap() > 0 && e["ppid"].as_u64().unwrap() > 0);
        let t = e["time"].as_str().unwrap();
        assert!(
            gocred::time::parse_rfc3339(t).is_some() && t.ends_with('Z'),
            "{t}"
        );
        let target = e["target"].as_str().unwrap();
        let i: usize = target
            .strip_prefix("https://h")
            .and_then(|r| r.strip_suffix(".audit.example"))
            .and_then(|n| n.parse().ok())
            .unwrap_or_else(|| panic!("target {target}"));
        assert_eq!(e["username"], format!("user{i}"));
        hosts.push(target.to_owned());
    }
    hosts.sort();
    hosts.dedup();
    assert_eq!(hosts.len(), N, "each fill logged once");
    let mode = std::fs::metadata(&log).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode, 0o600);
    let text = std::fs::read_to_string(&log).unwrap();
    for i in 0..N {
        assert!(!text.contains(&password(i)), "password {i} in the log");
        assert!(
            !text.contains(&password(i)[..8]),
            "a prefix of password {i} in the log"
        );
    }
}

#[test]
fn store_erase_env_and_denied_requests_are_logged_without_their_secrets() {
    let mut env = TestEnv::new();
    let log = env.root().join("state/audit.log");
    env.policy(&policy(&log, ""));
    env.use_gocred_by_path();
    env.set_env("AUDIT_TOKEN", SECRET_ENV);
    let stored = "stored-SECRET-pass-42";
    env.credential_approve("https://a.audit.example/g/r.git", "alice", stored)
        .assert_success();
    let out = env.credential_fill("https://ci.example/g/r.git");
    assert_eq!(value_of(&out.stdout, "password"), Some(SECRET_ENV));
    env.credential_reject("https://a.audit.example/g/r.git", "alice", stored)
        .assert_success();
    // A host no rule names: git gets nothing from gocred; the refusal is logged.
    env.gocred(&["get"])
        .stdin("protocol=https\nhost=evil.example\npassword=request-SECRET-pw\n\n")
        .success();
    let entries = lines(&log);
    let summary = decisions(&entries);
    let s = |a: &str, b: &str, c: &str| (a.to_owned(), b.to_owned(), c.to_owned());
    assert_eq!(
        summary,
        vec![
            s("store", "https://a.audit.example", "stored in file"),
            s("get", "https://ci.example", "answered"),
            s("erase", "https://a.audit.example", "erased 1 from file"),
            s("get", "https://evil.example", "not managed"),
        ]
    );
    assert_eq!(entries[3]["rule"], Value::Null);
    assert_eq!(entries[1]["answered_by"], "env");
    let text = std::fs::read_to_string(&log).unwrap();
    for secret in [SECRET_ENV, stored, "request-SECRET-pw", &SECRET_ENV[..10]] {
        assert!(!text.contains(secret), "{secret} in the log:\n{text}");
    }
}

#[test]
fn a_missing_env_variable_is_named_in_the_line() {
    let env = TestEnv::new();
    let log = env.root().join("audit.log");
    env.policy(&policy(&log, ""));
    env.gocred(&["get"])
        .stdin("protocol=https\nhost=ci.example\n\n")
        .success();
    let e = &lines(&log)[0];
    assert_eq!(e["outcome"], "no credential");
    assert_eq!(
        e["sources"],
        serde_json::json!([{"source": "env", "result": "missing variable",
                            "detail": "AUDIT_TOKEN is not set"}])
    );
}

/// The one stderr line git shows when the log cannot be written; the answer is still there.
#[track_caller]
fn assert_answered_with_one_log_line(out: &crate::common::Output, i: usize) {
    assert!(out.status.success(), "{out:?}");
    assert_eq!(
        value_of(&out.stdout, "password"),
        Some(password(i).as_str())
    );
    let errs = out.stderr_lines();
    assert_eq!(errs.len(), 1, "one line: {:?}", out.stderr);
    assert!(
        errs[0].contains("cannot write the audit log") && errs[0].contains("went ahead"),
        "{}",
        errs[0]
    );
}

#[test]
fn an_unwritable_or_planted_log_keeps_git_working_with_one_stderr_line() {
    let env = TestEnv::new();
    plant(&env, 2);
    env.use_gocred_by_path();
    // A directory where the log should be: not a file gocred can append to.
    let dir_log = env.root().join("state/audit.log");
    std::fs::create_dir_all(&dir_log).unwrap();
    env.policy(&policy(&dir_log, ""));
    let out = env.credential_fill("https://h0.audit.example");
    assert_answered_with_one_log_line(&out, 0);
    // A symlink planted at the log's name is never followed.
    let target = env.root().join("elsewhere");
    std::fs::write(&target, "").unwrap();
    let link = env.root().join("link.log");
    std::os::unix::fs::symlink(&target, &link).unwrap();
    env.policy(&policy(&link, ""));
    let out = env.credential_fill("https://h1.audit.example");
    assert_answered_with_one_log_line(&out, 1);
    assert!(out.stderr.contains("symbolic link"), "{}", out.stderr);
    assert_eq!(
        std::fs::read_to_string(&target).unwrap(),
        "",
        "written through the link"
    );
}

/// Runs `git credential fill` for `h0.audit.example` with `DIR` a fresh tmpfs mounted with
/// `options`, after `prepare` (a shell line) ran, inside a private mount namespace; `None` when
/// this test cannot make one (not root).
fn fill_on_tmpfs(
    env: &TestEnv,
    dir: &Path,
    options: &str,
    prepare: &str,
) -> Option<crate::common::Output> {
    if unsafe_euid() != 0 {
        eprintln!("skipped: a private tmpfs needs root (unshare -m)");
        return None;
    }
    std::fs::create_dir_all(dir).unwrap();
    let script = format!(
        "mount -t tmpfs -o {options} gocred-audit-test \"$1\" && {prepare} && shift && exec \"$@\""
    );
    let out = env
        .command("unshare")
        .args(["-m", "--propagation", "private", "sh", "-c", &script, "sh"])
        .arg(dir)
        .args(["git", "credential", "fill"])
        .env("GIT_TERMINAL_PROMPT", "0")
        .stdin("protocol=https\nhost=h0.audit.example\n\n")
        .run();
    Some(out)
}

fn unsafe_euid() -> u32 {
    // SAFETY: geteuid has no preconditions.
    unsafe { libc::geteuid() }
}

#[test]
fn a_full_disk_keeps_git_working_with_one_stderr_line() {
    let env = TestEnv::new();
    plant(&env, 1);
    env.use_gocred_by_path();
    let dir = env.root().join("full");
    env.policy(&policy(&dir.join("audit.log"), ""));
    // The log exists; then every block of the 64 KiB tmpfs is taken.
    let prepare = ": > \"$1/audit.log\" && chmod 600 \"$1/audit.log\" && \
         (dd if=/dev/zero of=\"$1/fill\" bs=4096 count=64 2>/dev/null; true)";
    let Some(out) = fill_on_tmpfs(&env, &dir, "size=64k,mode=0700", prepare) else {
        return;
    };
    assert_answered_with_one_log_line(&out, 0);
    assert!(out.stderr.contains("No space left"), "{}", out.stderr);
}

#[test]
fn a_read_only_log_keeps_git_working_with_one_stderr_line() {
    let env = TestEnv::new();
    plant(&env, 1);
    env.use_gocred_by_path();
    let dir = env.root().join("ro");
    env.policy(&policy(&dir.join("audit.log"), ""));
    let Some(out) = fill_on_tmpfs(&env, &dir, "ro,size=64k", "true") else {
        return;
    };
    assert_answered_with_one_log_line(&out, 0);
    assert!(out.stderr.contains("Read-only"), "{}", out.stderr);
}

#[test]
fn the_log_rotates_to_dot_one_past_its_size_and_audit_reads_both() {
    let env = TestEnv::new();
    plant(&env, 2);
    let log = env.root().join("state/audit.log");
    env.policy(&policy(&log, "max_size_mib = 1\n"));
    std::fs::create_dir_all(log.parent().unwrap()).unwrap();
    // Just under 1 MiB of older decisions.
    let old = r#"{"v":1,"time":"2026-01-01T00:00:00.000Z","command":"get","target":"https://old.example","rule":null,"sources":[],"outcome":"not managed","pid":1,"ppid":1,"parent":"git","caller":"git","ancestry":[]}"#;
    let mut text = String::new();
    while text.len() + old.len() < (1 << 20) - 10 {
        text.push_str(old);
        text.push('\n');
    }
    std::fs::write(&log, &text).unwrap();
    std::fs::set_permissions(&log, std::fs::Permissions::from_mode(0o600)).unwrap();
    let get = |i: usize| {
        env.gocred(&["get"])
            .stdin(format!("protocol=https\nhost=h{i}.audit.example\n\n"))
            .success()
    };
    get(0);
    let rotated: PathBuf = log.with_file_name("audit.log.1");
    assert!(!log.exists(), "the log past 1 MiB is moved away");
    let in_rotated = std::fs::read_to_string(&rotated).unwrap();
    assert!(in_rotated.starts_with(&text) && in_rotated.contains("h0.audit.example"));
    get(1);
    assert_eq!(lines(&log).len(), 1);
    // `gocred audit` reads PATH.1 then PATH: oldest first.
    let out = env.gocred(&["audit", "--json"]).success();
    let shown: Vec<&str> = out.stdout.lines().collect();
    assert_eq!(shown.len(), text.lines().count() + 2);
    assert!(shown[shown.len() - 2].contains("h0.audit.example"));
    assert!(shown[shown.len() - 1].contains("h1.audit.example"));
}

#[test]
fn audit_filters_by_host_and_time() {
    let env = TestEnv::new();
    let log = env.root().join("audit.log");
    env.policy(&policy(&log, ""));
    let line = |time: &str, target: &str| {
        format!(
            r#"{{"v":1,"time":"{time}","command":"get","target":"{target}","rule":null,"sources":[],"outcome":"not managed","pid":7,"ppid":6,"parent":"git-remote-http","caller":"git","ancestry":[]}}"#
        )
    };
    let text = [
        line("2026-12-01T10:00:00.000Z", "https://a.example/x"),
        line("2026-12-02T10:00:00.000Z", "https://b.example:8443"),
        line("2026-12-03T10:00:00.000Z", "https://a.example"),
    ]
    .join("\n");
    std::fs::write(&log, text + "\n").unwrap();
    let targets = |args: &[&str]| -> Vec<String> {
        let mut all = vec!["audit", "--json"];
        all.extend_from_slice(args);
        env.gocred(&all)
            .success()
            .stdout
            .lines()
            .map(|l| {
                serde_json::from_str::<Value>(l).unwrap()["target"]
                    .as_str()
                    .unwrap()
                    .to_owned()
            })
            .collect()
    };
    assert_eq!(
        targets(&["--host", "a.example"]),
        ["https://a.example/x", "https://a.example"]
    );
    assert_eq!(
        targets(&["--host", "b.example:8443"]),
        ["https://b.example:8443"]
    );
    assert_eq!(
        targets(&["--host", "https://B.EXAMPLE:8443/"]),
        ["https://b.example:8443"]
    );
    assert_eq!(
        targets(&["--since", "2026-12-02"]),
        ["https://b.example:8443", "https://a.example"]
    );
    assert_eq!(
        targets(&["--since", "2026-12-01T12:00:00Z", "--until", "2026-12-03"]),
        ["https://b.example:8443"]
    );
    assert!(targets(&["--since", "1h"]).is_empty());
    // The human form: one line per decision, naming who asked.
    let out = env.gocred(&["audit", "--host", "b.example:8443"]).success();
    assert_eq!(out.stdout.lines().count(), 1);
    assert!(
        out.stdout
            .contains("get https://b.example:8443: not managed; no rule"),
        "{}",
        out.stdout
    );
    assert!(out.stdout.contains("git-remote-http"), "{}", out.stdout);
    // A bad time is a usage error naming the flag.
    env.gocred(&["audit", "--since", "yesterday"])
        .run()
        .assert_code(2);
}

#[test]
fn audit_without_an_audit_table_says_how_to_turn_it_on() {
    let env = TestEnv::new();
    env.policy("[[rule]]\nurl = \"https://a.example\"\nsources = [\"keychain\"]\n");
    let out = env.gocred(&["audit"]).run();
    out.assert_code(1);
    assert!(out.stderr.contains("[audit]"), "{}", out.stderr);
}

#[test]
fn a_bad_audit_table_is_a_config_error_with_its_line() {
    let env = TestEnv::new();
    env.policy("[audit]\npath = \"relative.log\"\nmax_size_mib = 0\n");
    let out = env.gocred(&["config", "check"]).run();
    out.assert_failure();
    assert!(
        out.stderr.contains(":2:") && out.stderr.contains("absolute"),
        "{}",
        out.stderr
    );
    assert!(
        out.stderr.contains(":3:") && out.stderr.contains("max_size_mib"),
        "{}",
        out.stderr
    );
}

#[test]
fn netrc_exec_and_goauth_log_one_line_per_host_they_decide() {
    let mut env = TestEnv::new();
    let log = env.root().join("audit.log");
    env.set_env("A_TOKEN", "a-SECRET-token-1");
    env.set_env("B_TOKEN", "b-SECRET-token-2");
    env.policy(&format!(
        "[[rule]]\nurl = \"https://a.example\"\nsources = [\"env\"]\nusername = \"u\"\n\
         token_env = \"A_TOKEN\"\n\n\
         [[rule]]\nurl = \"https://b.example\"\nsources = [\"env\"]\nusername = \"u\"\n\
         token_env = \"B_TOKEN\"\n\n\
         [audit]\npath = \"{}\"\n",
        log.display()
    ));
    let out = env.gocred(&["netrc"]).success();
    assert!(out.stdout.contains("machine a.example"));
    env.gocred(&["exec", "--", "true"]).success();
    let out = env
        .gocred(&["goauth", "https://b.example/g/mod?go-get=1"])
        .success();
    assert!(out.stdout.contains("b.example"));
    let entries = lines(&log);
    let got = decisions(&entries);
    let s = |a: &str, b: &str| (a.to_owned(), b.to_owned(), "answered".to_owned());
    assert_eq!(
        got,
        [
            s("netrc", "https://a.example"),
            s("netrc", "https://b.example"),
            s("exec", "https://a.example"),
            s("exec", "https://b.example"),
            s("goauth", "https://b.example"),
        ]
    );
    let text = std::fs::read_to_string(&log).unwrap();
    assert!(!text.contains("SECRET"), "{text}");
}

#[test]
fn logout_logs_one_line_for_its_host() {
    let env = TestEnv::new();
    let log = env.root().join("audit.log");
    env.policy(&policy(&log, ""));
    env.gocred(&["store"])
        .stdin("protocol=https\nhost=h1.audit.example\nusername=u\npassword=logout-SECRET-pw\n\n")
        .success();
    env.gocred(&["logout", "h1.audit.example"]).success();
    // A host no rule names: the failure is logged with its error.
    env.gocred(&["logout", "nowhere.example"]).run();
    let entries = lines(&log);
    let got: Vec<(&str, &str, &str)> = entries
        .iter()
        .map(|e| {
            (
                e["command"].as_str().unwrap(),
                e["target"].as_str().unwrap(),
                e["outcome"].as_str().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        got[0],
        ("store", "https://h1.audit.example", "stored in file")
    );
    assert_eq!(got[1], ("logout", "https://h1.audit.example", "logged out"));
    assert_eq!(got.len(), 3, "{got:?}");
    assert_eq!(got[2].0, "logout");
    assert_eq!(got[2].1, "https://nowhere.example");
    assert!(got[2].2.starts_with("error: no rule"), "{got:?}");
    assert!(
        !std::fs::read_to_string(&log)
            .unwrap()
            .contains("logout-SECRET")
    );
}

/// Runs `gocred get` for `h0.audit.example` with `machine` as `/etc/gocred/policy.toml`, in a
/// private mount namespace whose `/etc` is an overlay on a tmpfs (the host's `/etc` is never
/// touched); `None` when not root.
fn get_under_machine_policy(env: &TestEnv, machine: &str) -> Option<crate::common::Output> {
    under_machine_policy(
        env,
        machine,
        &["get"],
        "protocol=https\nhost=h0.audit.example\n\n",
    )
}

/// The group the security team reads the log with, created inside the namespace only.
const AUDIT_GROUP: (&str, u32) = ("gocredaudit", 59124);

/// `gocred ARGS` with `machine` as `/etc/gocred/policy.toml` (see [`get_under_machine_policy`]).
pub fn under_machine_policy(
    env: &TestEnv,
    machine: &str,
    args: &[&str],
    stdin: &str,
) -> Option<crate::common::Output> {
    if unsafe_euid() != 0 {
        eprintln!("skipped: a machine policy in a private /etc needs root (unshare -m)");
        return None;
    }
    let ov = env.root().join("ov");
    std::fs::create_dir_all(&ov).unwrap();
    let source = env.write_file("machine.toml", machine);
    let script = "set -e\n\
         mount -t tmpfs tmpfs \"$OV\"\n\
         mkdir \"$OV/upper\" \"$OV/work\"\n\
         mount -t overlay overlay -o \"lowerdir=/etc,upperdir=$OV/upper,workdir=$OV/work\" /etc\n\
         mkdir -p -m 755 /etc/gocred\n\
         cp \"$MSRC\" /etc/gocred/policy.toml\n\
         chmod 644 /etc/gocred/policy.toml\n\
         groupadd -g \"$AGID\" \"$AGROUP\" 2>/dev/null || true # not in every namespace\n\
         exec \"$@\"\n";
    Some(
        env.command("unshare")
            .args([
                "--mount",
                "--propagation",
                "private",
                "sh",
                "-c",
                script,
                "sh",
            ])
            .arg(crate::common::GOCRED)
            .args(args)
            .env("OV", &ov)
            .env("MSRC", &source)
            .env("AGROUP", AUDIT_GROUP.0)
            .env("AGID", AUDIT_GROUP.1.to_string())
            .stdin(stdin)
            .run(),
    )
}

#[test]
fn a_machine_policy_that_requires_the_log_wins_over_the_users_own() {
    let env = TestEnv::new();
    plant(&env, 1);
    let user_log = env.root().join("user.log");
    let machine_log = env.root().join("machine.log");
    env.policy(&policy(&user_log, ""));
    let machine = format!(
        "[audit]\npath = \"{}\"\nrequired = true\n",
        machine_log.display()
    );
    let Some(out) = get_under_machine_policy(&env, &machine) else {
        return;
    };
    out.assert_success();
    assert_eq!(
        crate::common::value_of(&out.stdout, "password"),
        Some(password(0).as_str())
    );
    assert_eq!(lines(&machine_log).len(), 1, "{out:?}");
    assert!(!user_log.exists(), "the user's log replaced the machine's");
    // status says which log it is and which layer decided it.
    let out = under_machine_policy(&env, &machine, &["status"], "").unwrap();
    assert!(
        out.stdout.contains(&format!(
            "audit log: {} (required by the machine policy /etc/gocred/policy.toml:1)\n",
            machine_log.display()
        )),
        "{out:?}"
    );
    let out = under_machine_policy(&env, &machine, &["status", "--json"], "").unwrap();
    let json: Value = serde_json::from_str(&out.stdout).unwrap();
    assert_eq!(json["audit"]["required"], true, "{json}");
    assert_eq!(json["audit"]["declared_in"]["line"], 1, "{json}");
    // A user policy without [audit] cannot turn it off either.
    env.policy("[[rule]]\nurl = \"https://*.audit.example\"\nsources = [\"file\"]\n");
    get_under_machine_policy(&env, &machine)
        .unwrap()
        .assert_success();
    assert_eq!(lines(&machine_log).len(), 2);
    // Not required: the user's own table decides.
    env.policy(&policy(&user_log, ""));
    let optional = machine.replace("required = true", "required = false");
    get_under_machine_policy(&env, &optional)
        .unwrap()
        .assert_success();
    assert_eq!(lines(&machine_log).len(), 2);
    assert_eq!(lines(&user_log).len(), 1);
    // `required` is the machine policy's word alone.
    env.policy(&policy(&user_log, "required = true\n"));
    let out = env.gocred(&["config", "check"]).run();
    out.assert_failure();
    assert!(out.stderr.contains("`required`"), "{}", out.stderr);
}

#[test]
fn a_machine_policy_group_reads_the_log_and_the_directories_gocred_made_for_it() {
    use std::os::unix::fs::MetadataExt;
    let env = TestEnv::new();
    plant(&env, 1);
    let log = env.root().join("logs/team/audit.log");
    env.policy("[[rule]]\nurl = \"https://*.audit.example\"\nsources = [\"file\"]\n");
    let machine = |group: &str| {
        format!(
            "[audit]\npath = \"{}\"\nrequired = true\ngroup = \"{group}\"\n",
            log.display()
        )
    };
    let Some(out) = get_under_machine_policy(&env, &machine(AUDIT_GROUP.0)) else {
        return;
    };
    out.assert_success();
    assert_eq!(out.stderr, "", "{out:?}");
    assert_eq!(lines(&log).len(), 1);
    let mode_and_group = |p: &Path| {
        let meta = std::fs::metadata(p).unwrap();
        (meta.mode() & 0o7777, meta.gid())
    };
    assert_eq!(mode_and_group(&log), (0o640, AUDIT_GROUP.1));
    for dir in ["logs", "logs/team"] {
        assert_eq!(
            mode_and_group(&env.root().join(dir)),
            (0o750, AUDIT_GROUP.1),
            "{dir}"
        );
    }
    // A log that predates the group (0600, the user's group) is handed over on the next line.
    std::fs::set_permissions(&log, std::os::unix::fs::PermissionsExt::from_mode(0o600)).unwrap();
    std::os::unix::fs::chown(&log, None, Some(0)).unwrap();
    get_under_machine_policy(&env, &machine(AUDIT_GROUP.0))
        .unwrap()
        .assert_success();
    assert_eq!(mode_and_group(&log), (0o640, AUDIT_GROUP.1));
    // A group the machine does not have: git still gets its answer and the line is written, the
    // log stays private, and one stderr line names the group.
    let out = get_under_machine_policy(&env, &machine("nosuchgroupx")).unwrap();
    out.assert_success();
    assert_eq!(
        crate::common::value_of(&out.stdout, "password"),
        Some(password(0).as_str())
    );
    assert_eq!(lines(&log).len(), 3);
    assert_eq!(mode_and_group(&log).0, 0o600);
    assert_eq!(out.stderr.lines().count(), 1, "{out:?}");
    assert!(
        out.stderr.contains("there is no group nosuchgroupx"),
        "{out:?}"
    );
    // `group` is the machine policy's word alone.
    env.policy(&policy(&log, "group = \"gocredaudit\"\n"));
    let out = env.gocred(&["config", "check"]).run();
    out.assert_failure();
    assert!(out.stderr.contains("`group`"), "{}", out.stderr);
}
