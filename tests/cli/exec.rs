//! `gocred exec`: a private netrc for exactly as long as the command runs, gocred as git's only
//! helper for the policy's origins, signals passed on, the command's exit status, and no
//! leftovers (not even after a SIGKILL, by the next run).

use crate::common::{GOCRED, TestEnv};
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

const POLICY: &str = r#"
[[rule]]
url = "https://git.corp.example"
sources = ["file"]
store = "file"

[[rule]]
url = "https://git.corp.example/release-team/"
sources = ["file"]
store = "file"

[[rule]]
url = "https://ghe.corp.example:8443"
sources = ["file"]
store = "file"
"#;

fn setup() -> TestEnv {
    let env = TestEnv::new();
    env.policy(POLICY);
    env.gocred(&["store"])
        .stdin("protocol=https\nhost=git.corp.example\nusername=alice\npassword=git-SENTINEL-1\n")
        .success();
    env.gocred(&["store"])
        .stdin("protocol=https\nhost=ghe.corp.example:8443\nusername=x-access-token\npassword=ghe-SENTINEL-2\n")
        .success();
    env
}

/// Where `gocred exec` makes its directories in a TestEnv.
fn exec_base(env: &TestEnv) -> PathBuf {
    env.runtime_dir().join("gocred")
}

fn leftovers(env: &TestEnv) -> Vec<String> {
    std::fs::read_dir(exec_base(env))
        .map(|d| {
            d.flatten()
                .map(|e| e.file_name().to_string_lossy().into_owned())
                .filter(|n| n.starts_with("exec-"))
                .collect()
        })
        .unwrap_or_default()
}

fn mode(path: &Path) -> u32 {
    std::fs::metadata(path).unwrap().permissions().mode() & 0o777
}

#[test]
fn the_command_gets_a_private_netrc_that_is_gone_when_it_exits_with_its_status() {
    let env = setup();
    let seen = env.root().join("seen");
    let script = format!(
        "echo \"$NETRC\" > '{seen}'; stat -c '%a' \"$NETRC\" \"$(dirname \"$NETRC\")\"; cat \"$NETRC\"; exit 3",
        seen = seen.display()
    );
    let out = env.gocred(&["exec", "--", "sh", "-c", &script]).run();
    out.assert_code(3);
    assert_eq!(
        out.stdout,
        "600\n700\nmachine ghe.corp.example:8443 login x-access-token password ghe-SENTINEL-2\n",
        "{out}"
    );
    let netrc = PathBuf::from(std::fs::read_to_string(&seen).unwrap().trim_end());
    assert!(netrc.starts_with(exec_base(&env)), "{}", netrc.display());
    assert!(!netrc.exists() && !netrc.parent().unwrap().exists());
    assert!(leftovers(&env).is_empty());
    // The path-scoped rule is left out of the netrc, and so is the host-wide rule of the same
    // host (a reader would send its credential for the team's paths too); each says why; no
    // secret on stderr.
    assert!(
        out.stderr
            .contains("https://git.corp.example/release-team/: left out"),
        "{out}"
    );
    assert!(
        out.stderr.contains(
            "https://git.corp.example: left out: curl (and so git) uses `machine git.corp.example` for every port, scheme and path"
        ),
        "{out}"
    );
    assert!(!out.stderr.contains("SENTINEL"));
}

#[test]
fn git_asks_only_gocred_for_the_policy_origins_and_keeps_the_callers_config() {
    let env = setup();
    // Another helper in the user's global config that would answer for any host.
    let other = env.script(
        "other-helper",
        "test \"$1\" = get && printf 'username=other\\npassword=OTHER-HELPER-SECRET\\n'",
    );
    env.git_config("credential.helper", other.to_str().unwrap());
    let script = "git config --get-all credential.https://git.corp.example.helper; \
                  git config --get credential.https://git.corp.example/release-team.usehttppath; \
                  git config --get-all credential.https://ghe.corp.example:8443.helper; \
                  git config --get caller.kept; \
                  printf 'url=https://git.corp.example/group/repo.git\\n\\n' | git credential fill; \
                  printf 'url=https://unrelated.example/x.git\\n\\n' | git credential fill";
    let out = env
        .gocred(&["exec", "--", "sh", "-c", script])
        .env("GIT_CONFIG_COUNT", "1")
        .env("GIT_CONFIG_KEY_0", "caller.kept")
        .env("GIT_CONFIG_VALUE_0", "yes")
        .env("GIT_TERMINAL_PROMPT", "0")
        .run();
    out.assert_success();
    let lines: Vec<&str> = out.stdout.lines().collect();
    assert_eq!(
        &lines[..7],
        ["", GOCRED, "true", "", GOCRED, "yes", "protocol=https"],
        "{out}"
    );
    // Our host: gocred's credential, never the other helper's. Outside the path rule's prefix
    // git sends no path, so the host's entry (stored without one) answers.
    assert!(
        out.stdout
            .contains("host=git.corp.example\nusername=alice\npassword=git-SENTINEL-1\n"),
        "{out}"
    );
    // Any other host: git's own configuration is untouched (the other helper still answers).
    assert!(
        out.stdout
            .contains("host=unrelated.example\nusername=other\npassword=OTHER-HELPER-SECRET\n"),
        "{out}"
    );
    assert_eq!(
        out.stdout.matches("OTHER-HELPER-SECRET").count(),
        1,
        "{out}"
    );
}

#[test]
fn host_filter_limits_netrc_and_git_config() {
    let env = setup();
    let script =
        "cat \"$NETRC\"; echo \"count=$GIT_CONFIG_COUNT\"; env | grep '^GIT_CONFIG_KEY' | sort";
    let out = env
        .gocred(&[
            "exec",
            "--host",
            "ghe.corp.example:8443",
            "--",
            "sh",
            "-c",
            script,
        ])
        .success();
    assert_eq!(
        out.stdout,
        "machine ghe.corp.example:8443 login x-access-token password ghe-SENTINEL-2\n\
         count=2\nGIT_CONFIG_KEY_0=credential.https://ghe.corp.example:8443.helper\n\
         GIT_CONFIG_KEY_1=credential.https://ghe.corp.example:8443.helper\n",
        "{out}"
    );
}

#[test]
fn a_command_that_cannot_start_is_127_and_leaves_nothing() {
    let env = setup();
    let out = env.gocred(&["exec", "--", "/nonexistent/cmd"]).run();
    out.assert_code(127);
    assert!(out.stderr.contains("cannot run /nonexistent/cmd"), "{out}");
    assert!(leftovers(&env).is_empty());
    // `--` and a command are required.
    env.gocred(&["exec"]).run().assert_code(2);
}

/// Starts `gocred exec -- sh -c 'echo $NETRC > F; echo $$ > P; exec sleep 60'` in the background
/// and waits until the netrc exists; returns the child, the netrc path and the sleep's pid.
fn start_sleeper(env: &TestEnv) -> (Child, PathBuf, String) {
    let seen = env.root().join("seen");
    let pidfile = env.root().join("pid");
    let _ = std::fs::remove_file(&seen);
    let _ = std::fs::remove_file(&pidfile);
    let script = format!(
        "echo \"$$\" > '{p}.tmp' && mv '{p}.tmp' '{p}'; echo \"$NETRC\" > '{s}.tmp' && mv '{s}.tmp' '{s}'; exec sleep 60",
        p = pidfile.display(),
        s = seen.display()
    );
    let child = Command::new(GOCRED)
        .args(["exec", "--", "sh", "-c", &script])
        .env_clear()
        .envs(env.base_env())
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let deadline = Instant::now() + Duration::from_secs(20);
    while !seen.exists() {
        assert!(Instant::now() < deadline, "the command never started");
        std::thread::sleep(Duration::from_millis(10));
    }
    let netrc = PathBuf::from(std::fs::read_to_string(&seen).unwrap().trim_end());
    let pid = std::fs::read_to_string(&pidfile).unwrap().trim().to_owned();
    assert!(netrc.exists());
    assert_eq!(
        (mode(&netrc), mode(netrc.parent().unwrap())),
        (0o600, 0o700)
    );
    (child, netrc, pid)
}

fn wait(child: &mut Child) -> std::process::ExitStatus {
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        if let Some(status) = child.try_wait().unwrap() {
            return status;
        }
        assert!(Instant::now() < deadline, "gocred exec did not exit");
        std::thread::sleep(Duration::from_millis(10));
    }
}

fn kill(signal: &str, pid: &str) {
    let ok = Command::new("kill").args([signal, pid]).status().unwrap();
    assert!(ok.success(), "kill {signal} {pid}");
}

#[test]
fn sigint_sigterm_and_sighup_reach_the_command_and_the_netrc_goes() {
    let env = setup();
    for (signal, number) in [("-INT", 2), ("-TERM", 15), ("-HUP", 1)] {
        let (mut child, netrc, sleeper) = start_sleeper(&env);
        kill(signal, &child.id().to_string());
        let status = wait(&mut child);
        // sleep died of the signal gocred passed on: 128 + N, as a shell reports it.
        assert_eq!(status.code(), Some(128 + number), "{signal}");
        assert!(
            !netrc.exists() && !netrc.parent().unwrap().exists(),
            "{signal}"
        );
        assert!(
            !Path::new(&format!("/proc/{sleeper}")).exists()
                || std::fs::read_to_string(format!("/proc/{sleeper}/stat"))
                    .is_ok_and(|s| s.contains(") Z ")),
            "{signal}: the command still runs"
        );
    }
    assert!(leftovers(&env).is_empty());
}

#[test]
fn what_a_sigkill_left_behind_is_swept_by_the_next_run() {
    let env = setup();
    let (mut child, netrc, sleeper) = start_sleeper(&env);
    kill("-KILL", &child.id().to_string());
    wait(&mut child);
    kill("-KILL", &sleeper);
    assert!(netrc.exists(), "nothing could clean up after SIGKILL");
    // A directory of a live process is left alone: this test process is alive.
    let live = exec_base(&env).join(format!("exec-{}-live", std::process::id()));
    std::fs::create_dir(&live).unwrap();
    env.gocred(&["exec", "--", "true"]).success();
    assert!(!netrc.parent().unwrap().exists(), "the leftover was swept");
    assert!(live.exists());
    std::fs::remove_dir(&live).unwrap();
    assert!(leftovers(&env).is_empty());
}
