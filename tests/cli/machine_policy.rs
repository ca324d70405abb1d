//! The machine policy (issue 11, "A machine policy") through the binary, as a real unprivileged
//! user under a real root-owned `/etc/gocred/policy.toml`:
//!
//! - each gocred run happens in a private mount namespace (`unshare --mount`) whose `/etc` is an
//!   overlay of the host's on a tmpfs: the test user is created there (`groupadd`, `useradd`),
//!   the machine policy is written there, and both vanish with the namespace: the host's `/etc`
//!   is never touched;
//! - gocred runs as that user (`setpriv --reuid`), in a cleared environment, with a HOME the
//!   user owns;
//! - the user tries every way out the issue names: their own config, `GOCRED_CONFIG`, variables,
//!   a `file` store rule, an OAuth endpoint elsewhere, `netrc --output`, `exec`, `login --save`,
//!   writing the machine policy; and a machine policy the user could change (owned, writable,
//!   a symlink to their file, their directory) is refused by every command.
//!
//! Needs root (for the namespace, the overlay and setpriv): skipped with a message otherwise.

use crate::common::GOCRED;
use std::io::Write;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

/// The test user, created inside each namespace only.
const UID: u32 = 59123;
const USER: &str = "gocredmp";
const MACHINE: &str = "/etc/gocred/policy.toml";

/// How the machine policy sits in `/etc/gocred`.
enum Machine {
    Absent,
    /// Owned by root, mode 0644, in a root-owned 0755 directory: the right way.
    Root(String),
    /// Owned by the test user.
    OwnedByUser(String),
    /// Mode 0666.
    WritableByAll(String),
    /// `/etc/gocred` belongs to the test user.
    DirOwnedByUser(String),
    /// `/etc/gocred/policy.toml` is a symlink to a file in the user's HOME.
    SymlinkToUserFile(String),
}

struct World {
    _temp: tempfile::TempDir,
    root: PathBuf,
    home: PathBuf,
    machine: Machine,
}

struct Out {
    code: i32,
    stdout: String,
    stderr: String,
}

impl std::fmt::Debug for Out {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "exit {}\n--- stdout\n{}--- stderr\n{}",
            self.code, self.stdout, self.stderr
        )
    }
}

/// `None` (with a message) when this cannot run here: not root, or no namespace tools.
fn world(machine: Machine) -> Option<World> {
    // SAFETY: geteuid has no preconditions.
    if unsafe { libc::geteuid() } != 0 {
        eprintln!(
            "SKIPPED: the machine policy tests need root (a private mount namespace, useradd \
             in it, setpriv); run them as root or in CI"
        );
        return None;
    }
    for tool in ["unshare", "setpriv", "useradd", "groupadd"] {
        let found = ["/usr/bin", "/usr/sbin", "/bin", "/sbin"]
            .iter()
            .any(|d| Path::new(d).join(tool).exists());
        if !found {
            eprintln!("SKIPPED: the machine policy tests need `{tool}` (util-linux, passwd)");
            return None;
        }
    }
    let temp = tempfile::Builder::new()
        .prefix("gocred-machine-")
        .tempdir()
        .unwrap();
    let root = temp.path().canonicalize().unwrap();
    std::fs::set_permissions(&root, std::fs::Permissions::from_mode(0o755)).unwrap();
    let home = root.join("home");
    std::fs::create_dir_all(home.join(".config/gocred")).unwrap();
    std::fs::create_dir(root.join("ov")).unwrap();
    if let Machine::Root(t)
    | Machine::OwnedByUser(t)
    | Machine::WritableByAll(t)
    | Machine::DirOwnedByUser(t) = &machine
    {
        std::fs::write(root.join("machine.toml"), t).unwrap();
    }
    if let Machine::SymlinkToUserFile(t) = &machine {
        std::fs::write(home.join("policy.toml"), t).unwrap();
    }
    Some(World {
        _temp: temp,
        root,
        home,
        machine,
    })
}

impl World {
    fn config_path(&self) -> PathBuf {
        self.home.join(".config/gocred/config.toml")
    }

    /// The user's own policy (theirs, 0600), at the default place.
    fn user_config(&self, toml: &str) {
        self.user_file(&self.config_path(), toml);
    }

    fn user_file(&self, path: &Path, text: &str) {
        std::fs::write(path, text).unwrap();
        std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o600)).unwrap();
    }

    /// Runs `program args` as the test user in a fresh namespace, with `env` on top of HOME and
    /// PATH, and `stdin`.
    fn run_program(&self, program: &str, args: &[&str], stdin: &str, env: &[(&str, &str)]) -> Out {
        // Everything under HOME is the user's (as their own files would be).
        let status = Command::new("chown")
            .args(["-R", &format!("{UID}:{UID}")])
            .arg(&self.home)
            .status()
            .unwrap();
        assert!(status.success());
        let machine = match &self.machine {
            Machine::Absent => "",
            Machine::Root(_) => "mkdir -m 755 /etc/gocred; cp \"$MSRC\" $MP; chmod 644 $MP",
            Machine::OwnedByUser(_) => {
                "mkdir -m 755 /etc/gocred; cp \"$MSRC\" $MP; chmod 644 $MP; chown $TUID $MP"
            }
            Machine::WritableByAll(_) => {
                "mkdir -m 755 /etc/gocred; cp \"$MSRC\" $MP; chmod 666 $MP"
            }
            Machine::DirOwnedByUser(_) => {
                "mkdir -m 755 /etc/gocred; cp \"$MSRC\" $MP; chmod 644 $MP; chown $TUID /etc/gocred"
            }
            Machine::SymlinkToUserFile(_) => {
                "mkdir -m 755 /etc/gocred; ln -s \"$TESTHOME/policy.toml\" $MP"
            }
        };
        let script = format!(
            "set -e\n\
             mount -t tmpfs tmpfs \"$OV\"\n\
             mkdir \"$OV/upper\" \"$OV/work\"\n\
             mount -t overlay overlay -o \"lowerdir=/etc,upperdir=$OV/upper,workdir=$OV/work\" /etc\n\
             groupadd -g $TUID {USER}\n\
             useradd -M -N -u $TUID -g $TUID -s /usr/sbin/nologin {USER}\n\
             {machine}\n\
             exec setpriv --reuid={USER} --regid={USER} --init-groups env -i \"$@\"\n"
        );
        let mut command = Command::new("unshare");
        command
            .args([
                "--mount",
                "--propagation",
                "private",
                "sh",
                "-c",
                &script,
                "sh",
            ])
            .arg(format!("HOME={}", self.home.display()))
            .arg("PATH=/usr/local/bin:/usr/bin:/bin")
            .args(env.iter().map(|(k, v)| format!("{k}={v}")))
            .arg(program)
            .args(args)
            .env_clear()
            .env("PATH", "/usr/sbin:/usr/bin:/sbin:/bin")
            .env("OV", self.root.join("ov"))
            .env("MSRC", self.root.join("machine.toml"))
            .env("MP", MACHINE)
            .env("TUID", UID.to_string())
            .env("TESTHOME", &self.home)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        let mut child = command.spawn().expect("run unshare");
        child
            .stdin
            .take()
            .unwrap()
            .write_all(stdin.as_bytes())
            .unwrap();
        let out = child.wait_with_output().unwrap();
        Out {
            code: out.status.code().unwrap_or(-1),
            stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
            stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
        }
    }

    fn gocred(&self, args: &[&str], stdin: &str, env: &[(&str, &str)]) -> Out {
        self.run_program(GOCRED, args, stdin, env)
    }

    fn get(&self, host: &str, env: &[(&str, &str)]) -> Out {
        self.gocred(&["get"], &format!("protocol=https\nhost={host}\n\n"), env)
    }
}

const TOKEN: (&str, &str) = ("GOCRED_TOKEN", "tok-FAKE-machine-1");

fn env_rule(url: &str) -> String {
    format!(
        "[[rule]]\nurl = \"{url}\"\nsources = [\"env\"]\ntoken_env = \"GOCRED_TOKEN\"\nusername = \"u\"\n\n"
    )
}

const DENY: &str = "# company rules\n[machine]\ndeny = [\"https://*.internal.example\"]\n";

#[test]
fn machine_policy_deny_holds_for_the_user_config_gocred_config_and_variables() {
    let user = format!(
        "{}{}",
        env_rule("https://git.internal.example"),
        env_rule("https://ok.example")
    );
    // The control: without a machine policy the user's rule serves the host.
    let Some(free) = world(Machine::Absent) else {
        return;
    };
    free.user_config(&user);
    let out = free.get("git.internal.example", &[TOKEN]);
    assert!(
        out.stdout.contains("password=tok-FAKE-machine-1"),
        "{out:?}"
    );

    let w = world(Machine::Root(DENY.into())).unwrap();
    w.user_config(&user);
    let out = w.get("git.internal.example", &[TOKEN]);
    assert_eq!((out.code, out.stdout.as_str()), (0, ""), "{out:?}");
    let out = w.get("ok.example", &[TOKEN]);
    assert!(
        out.stdout.contains("password=tok-FAKE-machine-1"),
        "{out:?}"
    );

    // What git itself gets, with gocred as its only helper.
    let helper = format!("credential.helper=!{GOCRED}");
    let fill = |host: &str| {
        w.run_program(
            "git",
            &[
                "-c",
                "credential.helper=",
                "-c",
                &helper,
                "credential",
                "fill",
            ],
            &format!("protocol=https\nhost={host}\n\n"),
            &[TOKEN, ("GIT_TERMINAL_PROMPT", "0")],
        )
    };
    let out = fill("git.internal.example");
    assert_ne!(out.code, 0, "{out:?}");
    assert!(!out.stdout.contains("tok-FAKE"), "{out:?}");
    let out = fill("ok.example");
    assert!(
        out.stdout.contains("password=tok-FAKE-machine-1"),
        "{out:?}"
    );

    // Another config named by GOCRED_CONFIG, wider still, and a variable that looks like a way
    // to move the machine policy: nothing changes.
    let other = w.home.join("other.toml");
    w.user_file(&other, &env_rule("https://*.internal.example"));
    let other = other.display().to_string();
    for env in [
        vec![TOKEN, ("GOCRED_CONFIG", other.as_str())],
        vec![TOKEN, ("GOCRED_MACHINE_POLICY", "/nonexistent")],
        vec![TOKEN, ("XDG_CONFIG_HOME", "/tmp")],
    ] {
        let out = w.get("git.internal.example", &env);
        assert_eq!((out.code, out.stdout.as_str()), (0, ""), "{env:?}: {out:?}");
        let out = w.get("x.git.internal.example", &env);
        assert_eq!(out.stdout, "", "{env:?}: {out:?}");
    }

    // config check names the user's rule and the machine policy line that forbids it.
    let config = w.config_path().display().to_string();
    let out = w.gocred(&["config", "check"], "", &[]);
    assert_ne!(out.code, 0, "{out:?}");
    assert!(
        out.stderr.contains(&format!(
            "{config}:1: rule for \"https://git.internal.example\" is not used"
        )) && out.stderr.contains(&format!("{MACHINE}:3)")),
        "{out:?}"
    );
    assert!(
        out.stdout
            .contains(&format!("{MACHINE}: machine policy, ok")),
        "{out:?}"
    );

    // status says which layer decided each rule.
    let out = w.gocred(&["status"], "", &[]);
    assert!(
        out.stdout.contains(&format!("machine policy: {MACHINE}")),
        "{out:?}"
    );
    assert!(
        out.stdout
            .contains(&format!("decided by: your policy {config}:7")),
        "{out:?}"
    );
    assert!(
        !out.stdout.contains("https://git.internal.example\n"),
        "{out:?}"
    );

    // The user cannot change the machine policy itself.
    let out = w.run_program(
        "sh",
        &["-c", &format!("echo '[machine]' > {MACHINE}")],
        "",
        &[],
    );
    assert_ne!(out.code, 0, "{out:?}");
    let out = w.run_program("sh", &["-c", "rm -f /etc/gocred/policy.toml"], "", &[]);
    assert_ne!(out.code, 0, "{out:?}");
}

#[test]
fn machine_policy_login_save_refuses_a_rule_it_forbids() {
    let machine = format!(
        "{DENY}[[machine.restrict]]\nurl = \"https://gitlab.corp.example\"\n\
         sources = [\"oauth\"]\n[machine.restrict.oauth]\nclient_id = \"corp-app\"\n"
    );
    let Some(w) = world(Machine::Root(machine)) else {
        return;
    };
    let before = env_rule("https://ok.example");
    w.user_config(&before);
    let out = w.gocred(
        &[
            "login",
            "git.internal.example",
            "--with-token",
            "--save",
            "--no-verify",
            "--user",
            "u",
        ],
        "tok-FAKE-login-1\n",
        &[],
    );
    assert_ne!(out.code, 0, "{out:?}");
    assert!(
        out.stderr.contains(
            "not logging in: the machine policy /etc/gocred/policy.toml:3 denies \
             https://*.internal.example"
        ),
        "{out:?}"
    );
    assert_eq!(std::fs::read_to_string(w.config_path()).unwrap(), before);
    // A keychain rule where only OAuth is allowed, and an OAuth rule with another client id:
    // neither is written (and no device flow starts: nothing listens for it).
    for (args, why) in [
        (
            &["--with-token", "--save", "--no-verify", "--user", "u"][..],
            "its sources (keychain) are not allowed",
        ),
        (
            &[
                "--save",
                "--provider",
                "gitlab",
                "--client-id",
                "mine",
                "--no-browser",
            ][..],
            "its OAuth `client_id` is not the one",
        ),
    ] {
        let mut argv = vec!["login", "gitlab.corp.example"];
        argv.extend_from_slice(args);
        let out = w.gocred(&argv, "tok-FAKE-login-1\n", &[]);
        assert_ne!(out.code, 0, "{out:?}");
        assert!(
            out.stderr.contains(
                "not saving: the machine policy /etc/gocred/policy.toml:4 forbids a rule for \
                 https://gitlab.corp.example"
            ) && out.stderr.contains(why),
            "{out:?}"
        );
        assert_eq!(std::fs::read_to_string(w.config_path()).unwrap(), before);
    }
    // config init writes no rule it forbids either, not even into a new file.
    let fresh = w.home.join("fresh.toml");
    let fresh_var = fresh.display().to_string();
    let out = w.gocred(
        &["config", "init", "git.internal.example"],
        "",
        &[("GOCRED_CONFIG", fresh_var.as_str())],
    );
    assert_ne!(out.code, 0, "{out:?}");
    assert!(out.stderr.contains("machine policy"), "{out:?}");
    assert!(!fresh.exists(), "{out:?}");
    let out = w.gocred(
        &["config", "init", "ok.example"],
        "",
        &[("GOCRED_CONFIG", fresh_var.as_str())],
    );
    assert_eq!(out.code, 0, "{out:?}");
    // Nothing of the token anywhere in HOME.
    let out = w.run_program(
        "grep",
        &["-r", "tok-FAKE-login-1", &w.home.display().to_string()],
        "",
        &[],
    );
    assert_eq!(out.code, 1, "{out:?}");
}

#[test]
fn machine_policy_restrict_narrows_file_stores_netrc_and_exec() {
    let machine = "[machine]\n\
                   [[machine.restrict]]\n\
                   url = \"https://*.corp.example\"\n\
                   sources = [\"env\", \"keychain\"]\n\
                   secret_files = false\n\
                   [[machine.restrict]]\n\
                   url = \"https://ci.example\"\n\
                   sources = [\"keychain\", \"oauth\"]\n";
    let Some(w) = world(Machine::Root(machine.into())) else {
        return;
    };
    // No `env` source for ci.example: the variable is not read for it.
    w.user_config(&env_rule("https://ci.example"));
    let out = w.get("ci.example", &[TOKEN]);
    assert_eq!((out.code, out.stdout.as_str()), (0, ""), "{out:?}");
    let out = w.gocred(&["config", "check"], "", &[]);
    assert!(
        out.stderr
            .contains("its sources (env) are not allowed for https://ci.example"),
        "{out:?}"
    );
    w.user_config(&format!(
        "[[rule]]\nurl = \"https://a.corp.example\"\nsources = [\"env\", \"file\"]\nstore = \"file\"\ntoken_env = \"GOCRED_TOKEN\"\nusername = \"u\"\n\n\
         [[rule]]\nurl = \"https://c.example\"\nsources = [\"file\"]\nstore = \"file\"\n\n{}",
        env_rule("https://b.example")
    ));
    // Still served (from env), but git's `store` no longer lands in a plaintext file.
    let out = w.get("a.corp.example", &[TOKEN]);
    assert!(
        out.stdout.contains("password=tok-FAKE-machine-1"),
        "{out:?}"
    );
    let store = |host: &str, password: &str| {
        w.gocred(
            &["store"],
            &format!("protocol=https\nhost={host}\nusername=u\npassword={password}\n\n"),
            &[],
        )
    };
    let out = store("a.corp.example", "pw-FAKE-corp-1");
    assert_eq!(out.code, 0, "{out:?}");
    let file = w.home.join(".local/share/gocred/credentials");
    assert!(
        !file.exists(),
        "the file store was written for a keychain-only host"
    );
    // doctor's rule check says which layer decided the rule (every check is in --json).
    let out = w.gocred(
        &["doctor", "--json", "a.corp.example/group/mod"],
        "",
        &[TOKEN],
    );
    assert!(
        out.stdout.contains(&format!(
            "decided by: your policy {}:1, narrowed by machine policy {MACHINE}:2; \
             secret files: forbidden (machine policy line 2)",
            w.home.join(".config/gocred/config.toml").display()
        )),
        "{out:?}"
    );
    // The control: a host the machine policy leaves alone gets its file.
    let out = store("c.example", "pw-FAKE-c-1");
    assert_eq!(out.code, 0, "{out:?}");
    let text = std::fs::read_to_string(&file).unwrap();
    assert!(
        text.contains("pw-FAKE-c-1") && !text.contains("pw-FAKE-corp-1"),
        "{text}"
    );

    // netrc --output and exec: the corp host's secret is never written to a file.
    let netrc = w.home.join("netrc");
    let out = w.gocred(
        &["netrc", "--output", &netrc.display().to_string()],
        "",
        &[TOKEN],
    );
    assert_eq!(out.code, 0, "{out:?}");
    let text = std::fs::read_to_string(&netrc).unwrap();
    assert!(text.contains("machine b.example"), "{text}");
    assert!(!text.contains("a.corp.example"), "{text}");
    assert!(
        out.stderr.contains(
            "https://a.corp.example: left out: the machine policy (/etc/gocred/policy.toml:2)"
        ),
        "{out:?}"
    );
    let out = w.gocred(&["exec", "--", "sh", "-c", "cat \"$NETRC\""], "", &[TOKEN]);
    assert_eq!(out.code, 0, "{out:?}");
    assert!(out.stdout.contains("machine b.example"), "{out:?}");
    assert!(!out.stdout.contains("a.corp.example"), "{out:?}");
}

#[test]
fn machine_policy_oauth_endpoints_are_the_machine_policy_s() {
    let machine = "[machine]\n\
                   [[machine.restrict]]\n\
                   url = \"https://gitlab.corp.example\"\n\
                   [machine.restrict.oauth]\n\
                   client_id = \"corp-app\"\n\
                   token_endpoint = \"https://gitlab.corp.example/oauth/token\"\n";
    let Some(w) = world(Machine::Root(machine.into())) else {
        return;
    };
    w.user_config(
        "[[rule]]\nurl = \"https://gitlab.corp.example\"\nsources = [\"oauth\"]\n\
         [rule.oauth]\nprovider = \"gitlab\"\nclient_id = \"corp-app\"\n\
         token_endpoint = \"https://collector.evil.example/token\"\n",
    );
    let out = w.gocred(&["config", "check"], "", &[]);
    assert_ne!(out.code, 0, "{out:?}");
    assert!(
        out.stderr
            .contains("its OAuth `token_endpoint` is not the one the machine policy sets")
            && out.stderr.contains(&format!("{MACHINE}:2)")),
        "{out:?}"
    );
    let out = w.get("gitlab.corp.example", &[]);
    assert_eq!((out.code, out.stdout.as_str()), (0, ""), "{out:?}");
    let out = w.gocred(&["status", "--json"], "", &[]);
    let v: serde_json::Value = serde_json::from_str(&out.stdout).expect("status --json");
    assert_eq!(v["machine"]["refused"][0]["machine_line"], 2, "{out:?}");
    assert_eq!(v["rules"].as_array().map(Vec::len), Some(0), "{out:?}");
}

#[test]
fn machine_policy_user_rules_none_serves_only_its_own_rules() {
    let machine = format!(
        "{}[machine]\nuser_rules = \"none\"\n",
        env_rule("https://ok.example")
    );
    let Some(w) = world(Machine::Root(machine)) else {
        return;
    };
    w.user_config(&env_rule("https://mine.example"));
    let out = w.get("ok.example", &[TOKEN]);
    assert!(
        out.stdout.contains("password=tok-FAKE-machine-1"),
        "{out:?}"
    );
    let out = w.get("mine.example", &[TOKEN]);
    assert_eq!(out.stdout, "", "{out:?}");
    // A note about the machine's rule names the machine policy's file and line.
    let out = w.get("ok.example", &[]);
    assert!(
        out.stderr
            .contains(&format!("https://ok.example ({MACHINE} line 1)")),
        "{out:?}"
    );
    let out = w.gocred(&["status", "--json"], "", &[TOKEN]);
    let v: serde_json::Value = serde_json::from_str(&out.stdout).expect("status --json");
    assert_eq!(v["rules"][0]["decided_by"]["layer"], "machine", "{out:?}");
    assert_eq!(v["rules"][0]["decided_by"]["path"], MACHINE, "{out:?}");
    assert_eq!(v["machine"]["user_rules"], "none", "{out:?}");
}

#[test]
fn machine_policy_the_user_could_change_is_refused_by_every_command() {
    let text = || env_rule("https://ok.example");
    let cases = [
        (Machine::OwnedByUser(text()), "not by root"),
        (Machine::WritableByAll(text()), "anyone can write it"),
        (
            Machine::DirOwnedByUser(text()),
            "the directory /etc/gocred above it",
        ),
        (Machine::SymlinkToUserFile(text()), "not by root"),
        (
            Machine::Root("[machine]\nuser_rules = \"some\"\n".into()),
            ":2:",
        ),
    ];
    for (machine, why) in cases {
        let Some(w) = world(machine) else {
            return;
        };
        w.user_config(&env_rule("https://ok.example"));
        for args in [&["get"][..], &["config", "check"], &["status"]] {
            let out = w.gocred(args, "protocol=https\nhost=ok.example\n\n", &[TOKEN]);
            assert_ne!(out.code, 0, "{args:?}: {out:?}");
            assert!(!out.stdout.contains("tok-FAKE"), "{args:?}: {out:?}");
            assert!(
                out.stderr.contains(MACHINE) && out.stderr.contains(why),
                "{args:?}: {why}: {out:?}"
            );
        }
    }
}

#[test]
fn machine_policy_goauth_gives_go_nothing_whose_prefix_reaches_a_denied_path() {
    let machine =
        "[machine]\ndeny = [\"https://git.example/secret/\", \"https://*.internal.example\"]\n";
    let Some(w) = world(Machine::Root(machine.into())) else {
        return;
    };
    w.user_config(&format!(
        "{}{}{}",
        env_rule("https://git.example"),
        env_rule("https://git.example/open/"),
        env_rule("https://ok.example"),
    ));
    let goauth = |url: &str| w.gocred(&["goauth", url], "", &[TOKEN]);
    // Go would apply a host-wide answer to /secret/ too: none.
    let out = goauth("https://git.example/team/mod?go-get=1");
    assert_eq!((out.code, out.stdout.as_str()), (0, ""), "{out:?}");
    let out = goauth("https://git.internal.example/mod?go-get=1");
    assert_eq!((out.code, out.stdout.as_str()), (0, ""), "{out:?}");
    // The path-scoped rule's answer covers /open/ only: given.
    let out = goauth("https://git.example/open/mod?go-get=1");
    // base64("u:tok-FAKE-machine-1")
    let basic = "Authorization: Basic dTp0b2stRkFLRS1tYWNoaW5lLTE=";
    assert!(out.stdout.contains("https://git.example/open/"), "{out:?}");
    assert!(out.stdout.contains(basic), "{out:?}");
    let out = goauth("https://ok.example/mod?go-get=1");
    assert!(out.stdout.contains(basic), "{out:?}");
}

/// Regression: the CI job token's implicit rule was added after the machine policy had judged
/// the user's rules, so `[ci] job_token = true` (or the variable) served a host the machine
/// policy denies. It is judged like any user rule now.
#[test]
fn machine_policy_judges_the_ci_job_token_like_a_user_rule() {
    let gitlab = |host: &str| {
        vec![
            ("GITLAB_CI", "true".to_string()),
            ("CI_SERVER_URL", format!("https://{host}")),
            ("CI_SERVER_HOST", host.to_string()),
            ("CI_SERVER_PROTOCOL", "https".to_string()),
            ("CI_SERVER_PORT", "443".to_string()),
            ("CI_JOB_TOKEN", "tok-FAKE-ci-job-1".to_string()),
        ]
    };
    let policy = "[ci]\njob_token = true\n";
    let run = |w: &World, host: &str| {
        let env = gitlab(host);
        let env: Vec<(&str, &str)> = env.iter().map(|(k, v)| (*k, v.as_str())).collect();
        w.get(host, &env)
    };
    // The control: no machine policy, the CI server gets its job token.
    let Some(free) = world(Machine::Absent) else {
        return;
    };
    free.user_config(policy);
    let out = run(&free, "git.internal.example");
    assert!(out.stdout.contains("password=tok-FAKE-ci-job-1"), "{out:?}");

    let w = world(Machine::Root(DENY.into())).unwrap();
    w.user_config(policy);
    let out = run(&w, "git.internal.example");
    assert_eq!((out.code, out.stdout.as_str()), (0, ""), "{out:?}");
    let out = run(&w, "ok.example");
    assert!(out.stdout.contains("password=tok-FAKE-ci-job-1"), "{out:?}");

    // A restriction to the keychain leaves the job token no source.
    let w = world(Machine::Root(
        "[[machine.restrict]]\nurl = \"https://*.corp.example\"\nsources = [\"keychain\"]\n".into(),
    ))
    .unwrap();
    w.user_config(policy);
    let out = run(&w, "git.corp.example");
    assert_eq!(out.stdout, "", "{out:?}");
}

#[test]
fn machine_policy_user_rules_narrow_lets_the_user_narrow_but_not_add() {
    let machine = format!(
        "{}[machine]\nuser_rules = \"narrow\"\n",
        env_rule("https://*.corp.example")
    );
    let Some(w) = world(Machine::Root(machine)) else {
        return;
    };
    // The user's own token variable for one team's repositories, and a host of their own.
    w.user_config(
        "[[rule]]\nurl = \"https://git.corp.example/team/\"\nsources = [\"env\"]\n\
         token_env = \"TEAM_TOKEN\"\nusername = \"t\"\n\n\
         [[rule]]\nurl = \"https://github.com\"\nsources = [\"env\"]\n\
         token_env = \"GOCRED_TOKEN\"\nusername = \"u\"\n",
    );
    let env = [TOKEN, ("TEAM_TOKEN", "tok-FAKE-team-1")];
    let out = w.gocred(
        &["get"],
        "protocol=https\nhost=git.corp.example\npath=team/app.git\n\n",
        &env,
    );
    assert!(out.stdout.contains("password=tok-FAKE-team-1"), "{out:?}");
    let out = w.get("git.corp.example", &env);
    assert!(
        out.stdout.contains("password=tok-FAKE-machine-1"),
        "{out:?}"
    );
    let out = w.get("github.com", &env);
    assert_eq!(out.stdout, "", "{out:?}");
    let out = w.gocred(&["config", "check"], "", &[]);
    assert!(
        out.stderr
            .contains("config.toml:7: rule for \"https://github.com\" is not used")
            && out.stderr.contains("(user_rules = \"narrow\")"),
        "{out:?}"
    );
}
