//! Issue 10, "CI": a job whose `env` source finds its variable unset is told which variable and
//! which rule, on stderr (git shows a helper's stderr), while `get` still exits 0 with nothing on
//! stdout; `netrc` and `exec` name the variable once, not once per host; `--quiet` and
//! `GOCRED_QUIET=1` silence these notes and never an error.
//!
//! Each test runs real git (and go) as a CI job would: a cleared environment with `CI=true`, no
//! terminal prompt, no askpass, gocred as the only helper.

use crate::common::git_server::GitServer;
use crate::common::go::{GIT_HOST, GoWorld, MODULE, PROXY_HOST, VERSION};
use crate::common::{Output, TestEnv};

const USER: &str = "gitlab-ci-token";
const TOKEN: &str = "job-token-SENTINEL-7";

/// An env-source rule for `origin` reading `CI_JOB_TOKEN`, after a comment and a blank line
/// (so the rule's `[[rule]]` is on line 3, not 1).
fn env_rule(origin: &str) -> String {
    format!(
        "# CI policy\n\n[[rule]]\nurl = \"{origin}\"\nsources = [\"env\"]\n\
         username = \"{USER}\"\ntoken_env = \"CI_JOB_TOKEN\"\nallow_http = true\n"
    )
}

/// A CI job's environment: gocred the only helper, no prompt of any kind.
fn ci_env() -> TestEnv {
    let mut env = TestEnv::new();
    env.set_env("CI", "true");
    env.set_env("GITLAB_CI", "true");
    env.set_env("GIT_TERMINAL_PROMPT", "0");
    env.use_gocred_by_path();
    env
}

fn clone(env: &TestEnv, url: &str, dir: &str) -> Output {
    env.git(&["clone", "-q", url, dir]).run()
}

/// The lines of `stderr` that gocred printed.
fn gocred_lines(stderr: &str) -> Vec<&str> {
    stderr.lines().filter(|l| l.starts_with("gocred")).collect()
}

#[test]
fn ci_unset_env_variable_is_named_with_its_rule_and_the_clone_works_once_set() {
    let mut env = ci_env();
    let server = GitServer::start(&env);
    server.set_user(USER, TOKEN);
    server.create_repo(&env, "group/mod.git");
    let policy = env.policy(&env_rule(&server.origin()));
    let url = server.url("127.0.0.1", "group/mod.git");

    // 1. The variable is unset: git fails as it always did, and gocred's line names the cause.
    let out = clone(&env, &url, "one");
    out.assert_failure();
    assert!(out.stderr.contains("could not read Username"), "{out}");
    let expected = format!(
        "gocred: CI_JOB_TOKEN is not set: rule {} ({} line 3) has no token for git",
        server.origin(),
        policy.display()
    );
    let lines = gocred_lines(&out.stderr);
    assert_eq!(lines, [expected.as_str()], "{out}");
    assert!(server.credentials_seen().is_empty());

    // The helper itself: exit 0, nothing on stdout, the one line on stderr.
    let get = env
        .gocred(&["get"])
        .stdin(format!(
            "protocol=http\nhost=127.0.0.1:{}\n\n",
            server.port()
        ))
        .run();
    get.assert_success();
    assert_eq!(get.stdout, "", "{get}");
    assert_eq!(get.stderr, format!("{expected}\n"));

    // 2. Set but empty (a masked variable not exposed to this branch): said as such.
    let out = env
        .git(&["clone", "-q", &url, "two"])
        .env("CI_JOB_TOKEN", "")
        .run();
    out.assert_failure();
    assert!(
        out.stderr
            .contains("gocred: CI_JOB_TOKEN is empty: rule http://127.0.0.1"),
        "{out}"
    );

    // 3. Set: the clone works, with the job token on the wire, and no note.
    env.set_env("CI_JOB_TOKEN", TOKEN);
    let out = clone(&env, &url, "three");
    out.assert_success();
    assert_eq!(gocred_lines(&out.stderr), Vec::<&str>::new(), "{out}");
    assert!(env.root().join("three/README").exists());
    assert!(
        server
            .credentials_seen()
            .contains(&(USER.to_owned(), TOKEN.to_owned()))
    );
}

#[test]
fn ci_quiet_flag_and_gocred_quiet_silence_the_note_but_never_an_error() {
    let mut env = ci_env();
    let server = GitServer::start(&env);
    server.set_user(USER, TOKEN);
    server.create_repo(&env, "group/mod.git");
    env.policy(&env_rule(&server.origin()));
    let url = server.url("127.0.0.1", "group/mod.git");
    let request = format!("protocol=http\nhost=127.0.0.1:{}\n\n", server.port());

    // Loud by default, as the test above shows; --quiet (before or after the subcommand).
    for args in [&["--quiet", "get"][..], &["get", "--quiet"], &["get", "-q"]] {
        let out = env.gocred(args).stdin(&request).run();
        out.assert_success();
        assert_eq!(
            (out.stdout.as_str(), out.stderr.as_str()),
            ("", ""),
            "{args:?}"
        );
    }
    let out = env
        .gocred(&["get"])
        .env("GOCRED_QUIET", "1")
        .stdin(&request)
        .run();
    out.assert_success();
    assert_eq!(out.stderr, "");
    // GOCRED_QUIET=0 is not quiet.
    let out = env
        .gocred(&["get"])
        .env("GOCRED_QUIET", "0")
        .stdin(&request)
        .run();
    assert!(out.stderr.contains("CI_JOB_TOKEN is not set"), "{out}");

    // Through git: the note is gone, git's own failure stays.
    env.set_env("GOCRED_QUIET", "1");
    let out = clone(&env, &url, "one");
    out.assert_failure();
    assert_eq!(gocred_lines(&out.stderr), Vec::<&str>::new(), "{out}");

    // An error is never silenced: a broken policy still says so, with exit 1.
    env.policy("[[rule]]\nurl = \"https://x.example\"\nsources = [\"nope\"]\n");
    for args in [&["--quiet", "get"][..], &["get"]] {
        let out = env.gocred(args).stdin(&request).run();
        out.assert_code(1);
        assert!(out.stderr.starts_with("gocred: "), "{out}");
        assert!(out.stderr.contains("config.toml"), "{out}");
    }
}

#[test]
fn ci_netrc_and_exec_name_a_missing_variable_once_not_per_host() {
    let env = ci_env();
    let rules: String = ["a", "b", "c"]
        .iter()
        .map(|h| {
            format!(
                "[[rule]]\nurl = \"https://{h}.corp.example\"\nsources = [\"env\"]\n\
                 username = \"{USER}\"\ntoken_env = \"CI_JOB_TOKEN\"\n\n"
            )
        })
        .collect();
    let policy = env.policy(&format!(
        "{rules}[[rule]]\nurl = \"https://d.corp.example\"\nsources = [\"env\"]\n\
         username = \"deploy\"\ntoken_env = \"DEPLOY_TOKEN\"\n"
    ));
    let file = policy.display();
    let expected = [
        format!(
            "CI_JOB_TOKEN is not set: rules https://a.corp.example ({file} line 1), \
             https://b.corp.example ({file} line 7), https://c.corp.example ({file} line 13) \
             have no token for the netrc (left out)"
        ),
        format!(
            "DEPLOY_TOKEN is not set: rule https://d.corp.example ({file} line 19) has no token \
             for the netrc (left out)"
        ),
    ];

    let out = env.gocred(&["netrc"]).run();
    out.assert_success();
    assert_eq!(out.stdout, "");
    let want: Vec<String> = expected
        .iter()
        .map(|e| format!("gocred netrc: {e}"))
        .collect();
    assert_eq!(out.stderr_lines(), want, "{out}");

    let out = env.gocred(&["exec", "--", "true"]).run();
    out.assert_success();
    let want: Vec<String> = expected
        .iter()
        .map(|e| format!("gocred exec: {e}"))
        .collect();
    assert_eq!(out.stderr_lines(), want, "{out}");

    // GOAUTH='gocred goauth' after go's 401: the same variable, named for go.
    let out = env
        .gocred(&["goauth", "https://b.corp.example/group/mod?go-get=1"])
        .stdin("HTTP/1.1 401 Unauthorized\r\n\r\n")
        .run();
    out.assert_success();
    assert_eq!(out.stdout, "");
    assert_eq!(
        out.stderr,
        format!(
            "gocred goauth: CI_JOB_TOKEN is not set: rule https://b.corp.example ({file} line 7) \
             has no token for go\n"
        )
    );

    // Quiet: nothing at all, and the command still runs, with the gocred it runs quiet too.
    let out = env
        .gocred(&[
            "--quiet",
            "exec",
            "--",
            "sh",
            "-c",
            "echo \"quiet=$GOCRED_QUIET\"",
        ])
        .run();
    out.assert_success();
    assert_eq!(out.stderr, "");
    assert_eq!(out.stdout, "quiet=1\n");
    let out = env
        .gocred(&["exec", "--", "sh", "-c", "echo \"quiet=$GOCRED_QUIET\""])
        .run();
    assert_eq!(out.stdout, "quiet=\n", "not quiet unless asked");
    let out = env.gocred(&["netrc"]).env("GOCRED_QUIET", "yes").run();
    assert_eq!(out.stderr, "");

    // With the variable set, the netrc has the entries and no note.
    let out = env
        .gocred(&["netrc"])
        .env("CI_JOB_TOKEN", TOKEN)
        .env("DEPLOY_TOKEN", "deploy-token")
        .run();
    out.assert_success();
    assert_eq!(out.stderr, "");
    assert_eq!(out.stdout.lines().count(), 4, "{}", out.stdout.len());
}

#[test]
fn ci_gocred_exec_go_without_the_job_token_names_it_and_works_once_set() {
    let w = GoWorld::new();
    w.allow(USER, TOKEN);
    w.env.policy(&format!(
        "[[rule]]\nurl = \"https://{GIT_HOST}\"\nsources = [\"env\"]\nusername = \"{USER}\"\n\
         token_env = \"CI_JOB_TOKEN\"\n\n\
         [[rule]]\nurl = \"https://{PROXY_HOST}\"\nsources = [\"env\"]\nusername = \"{USER}\"\n\
         token_env = \"CI_JOB_TOKEN\"\n"
    ));
    let spec = format!("{MODULE}@{VERSION}");
    let download = || {
        w.gocred_exec_go(&["mod", "download", &spec])
            .env("CI", "true")
            .env("GOPROXY", "direct")
            .env("GOPRIVATE", GIT_HOST)
    };

    let out = download().run();
    out.assert_failure();
    let exec_notes: Vec<&str> = out
        .stderr
        .lines()
        .filter(|l| l.starts_with("gocred exec:"))
        .collect();
    assert_eq!(exec_notes.len(), 1, "{out}");
    assert!(
        exec_notes[0].starts_with("gocred exec: CI_JOB_TOKEN is not set: rules https://"),
        "{out}"
    );
    assert!(w.git.authorizations().is_empty(), "{out}");

    let out = download().env("CI_JOB_TOKEN", TOKEN).run();
    out.assert_success();
    assert!(
        !out.stderr.contains("gocred"),
        "no note once the variable is set: {out}"
    );
    assert!(
        w.git
            .log()
            .iter()
            .any(|l| l.target.contains("git-upload-pack")
                && l.status == 200
                && l.basic() == Some((USER.to_owned(), TOKEN.to_owned()))),
        "{out}"
    );
}

#[test]
fn ci_unset_variable_behind_an_unavailable_keychain_is_an_error_with_the_variable_as_its_hint() {
    // A laptop-and-CI rule (env first, then the keychain) in a job with no D-Bus session: the
    // keychain's failure is the error, and the unset variable is what to fix.
    let env = ci_env();
    let policy = env.policy(
        "[keychain]\nbackend = \"secret-service\"\n\n[[rule]]\nurl = \"https://gitlab.corp.example\"\n\
         sources = [\"env\", \"keychain\"]\nstore = \"keychain\"\nusername = \"gitlab-ci-token\"\n\
         token_env = \"CI_JOB_TOKEN\"\n",
    );
    let out = env
        .gocred(&["get"])
        .stdin("protocol=https\nhost=gitlab.corp.example\n\n")
        .run();
    out.assert_code(1);
    assert_eq!(out.stdout, "");
    let lines = out.stderr_lines();
    assert_eq!(lines.len(), 2, "{out}");
    assert!(
        lines[0].starts_with("gocred: keychain (secret-service): "),
        "{out}"
    );
    assert_eq!(
        lines[1],
        format!(
            "Hint: CI_JOB_TOKEN is not set: rule https://gitlab.corp.example ({} line 4) has \
             no token for git",
            policy.display()
        )
    );
    // --quiet keeps the error and its hint: they are not notes.
    let quiet = env
        .gocred(&["--quiet", "get"])
        .stdin("protocol=https\nhost=gitlab.corp.example\n\n")
        .run();
    assert_eq!(quiet.stderr, out.stderr);
}

/// A tmux session of its own (socket under the test root), killed on drop.
struct Tmux<'e> {
    env: &'e TestEnv,
    socket: std::path::PathBuf,
}

impl Tmux<'_> {
    fn cmd(&self, args: &[&str]) -> crate::common::TestCommand {
        self.env
            .command("tmux")
            .arg("-S")
            .arg(&self.socket)
            .args(args)
    }

    /// What the person sees: the pane's text, wrapped lines joined.
    fn screen(&self) -> String {
        self.cmd(&["capture-pane", "-p", "-J", "-S", "-", "-t", "ci"])
            .success()
            .stdout
    }

    /// Types `line` and Enter, then waits until the pane shows `until` followed by a digit
    /// (the exit status the line echoes; the typed line itself shows `$?` there).
    fn run(&self, line: &str, until: &str) -> String {
        self.cmd(&["send-keys", "-t", "ci", "-l", line]).success();
        self.cmd(&["send-keys", "-t", "ci", "Enter"]).success();
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(60);
        loop {
            let screen = self.screen();
            if screen
                .match_indices(until)
                .any(|(i, _)| screen[i + until.len()..].starts_with(|c: char| c.is_ascii_digit()))
            {
                return screen;
            }
            assert!(
                std::time::Instant::now() < deadline,
                "waited for {until:?}; the pane shows:\n{screen}"
            );
            std::thread::sleep(std::time::Duration::from_millis(50));
        }
    }
}

impl Drop for Tmux<'_> {
    fn drop(&mut self) {
        let _ = self.cmd(&["kill-server"]).run();
    }
}

#[test]
fn ci_job_walked_in_tmux_variable_unset_then_set_for_git_and_gocred_exec_go() {
    let w = GoWorld::new();
    w.allow(USER, TOKEN);
    let policy = w.env.policy(&format!(
        "[[rule]]\nurl = \"https://{GIT_HOST}\"\nsources = [\"env\"]\nusername = \"{USER}\"\n\
         token_env = \"CI_JOB_TOKEN\"\n\n\
         [[rule]]\nurl = \"https://{PROXY_HOST}\"\nsources = [\"env\"]\nusername = \"{USER}\"\n\
         token_env = \"CI_JOB_TOKEN\"\n"
    ));
    w.env.use_gocred_by_path();
    let work = w.env.root().join("job");
    std::fs::create_dir_all(&work).unwrap();
    // The job's shell: the test's cleared environment, Go's isolated one, CI's flags.
    let mut start = w.env.command("tmux");
    let tmux = Tmux {
        env: &w.env,
        socket: w.env.root().join("tmux.sock"),
    };
    start = start
        .arg("-S")
        .arg(&tmux.socket)
        .args([
            "-f",
            "/dev/null",
            "new-session",
            "-d",
            "-s",
            "ci",
            "-x",
            "250",
            "-y",
            "80",
        ])
        .arg("-c")
        .arg(&work);
    for (k, v) in w.go_env() {
        start = start.arg("-e").arg(format!("{k}={}", v.to_string_lossy()));
    }
    start
        .args(["-e", "CI=true", "-e", "PS1=$ "])
        .args(["bash", "--norc", "--noprofile", "-i"])
        .success();
    let go = crate::common::go::go_toolchain().0.display().to_string();
    let gocred = crate::common::GOCRED;
    let clone = format!("https://{GIT_HOST}/group/mod.git");
    let download = format!(
        "GOPROXY=direct GOPRIVATE={GIT_HOST} {gocred} exec -- {go} mod download {MODULE}@{VERSION}"
    );
    let file = policy.display();

    // 1. git without the job token: git's own failure, and gocred's line that names the cause.
    let screen = tmux.run(
        &format!("unset CI_JOB_TOKEN; git clone -q {clone} one; echo \"step1=$?\""),
        "step1=",
    );
    assert!(
        screen.contains(&format!(
            "gocred: CI_JOB_TOKEN is not set: rule https://{GIT_HOST} ({file} line 1) has no \
             token for git"
        )),
        "{screen}"
    );
    assert!(screen.contains("could not read Username"), "{screen}");
    assert!(screen.contains("step1=128"), "{screen}");

    // 2. With the token: the clone works and nothing from gocred shows.
    let screen = tmux.run(
        &format!("export CI_JOB_TOKEN={TOKEN}; git clone -q {clone} two; echo \"step2=$?\""),
        "step2=",
    );
    assert!(screen.contains("step2=0"), "{screen}");
    assert!(work.join("two/go.mod").exists(), "{screen}");

    // 3. gocred exec -- go without the token: one line for both hosts, go fails.
    let screen = tmux.run(
        &format!("unset CI_JOB_TOKEN; {download}; echo \"step3=$?\""),
        "step3=",
    );
    assert!(
        screen.contains(&format!(
            "gocred exec: CI_JOB_TOKEN is not set: rules https://{GIT_HOST} ({file} line 1), \
             https://{PROXY_HOST} ({file} line 7) have no token for the netrc (left out)"
        )),
        "{screen}"
    );
    assert!(!screen.contains("step3=0"), "{screen}");

    // 4. With the token: the download works.
    let screen = tmux.run(
        &format!("export CI_JOB_TOKEN={TOKEN}; {download}; echo \"step4=$?\""),
        "step4=",
    );
    assert!(screen.contains("step4=0"), "{screen}");
    assert!(
        w.env
            .root()
            .join(format!("gopath/pkg/mod/{MODULE}@{VERSION}/mod.go"))
            .exists(),
        "{screen}"
    );
    // Once the token is set, gocred says nothing.
    let after_set = screen.rsplit_once("step3=").map_or("", |(_, after)| after);
    assert!(!after_set.contains("CI_JOB_TOKEN is not set"), "{screen}");
}

#[test]
fn ci_quiet_flag_works_in_gits_helper_setting() {
    // `credential.helper = gocred --quiet`: git runs `git-credential-gocred --quiet get`.
    let mut env = TestEnv::new();
    env.set_env("GIT_TERMINAL_PROMPT", "0");
    env.put_helper_on_path();
    let server = GitServer::start(&env);
    server.set_user(USER, TOKEN);
    server.create_repo(&env, "group/mod.git");
    env.policy(&env_rule(&server.origin()));
    let url = server.url("127.0.0.1", "group/mod.git");

    env.git_config("credential.helper", "gocred --quiet");
    let status = env.gocred(&["status"]).success();
    assert!(status.stdout.contains("git asks gocred: yes"), "{status}");
    let out = clone(&env, &url, "one");
    out.assert_failure();
    assert_eq!(gocred_lines(&out.stderr), Vec::<&str>::new(), "{out}");
    assert!(out.stderr.contains("could not read Username"), "{out}");
    let out = env
        .git(&["clone", "-q", &url, "two"])
        .env("CI_JOB_TOKEN", TOKEN)
        .run();
    out.assert_success();

    // Without --quiet, the same helper name says why.
    env.git(&["config", "--global", "credential.helper", "gocred"])
        .success();
    let out = clone(&env, &url, "three");
    out.assert_failure();
    assert_eq!(gocred_lines(&out.stderr).len(), 1, "{out}");
    // An action git may add later is still ignored silently, flags or not.
    let out = env.helper(&["--quiet", "frobnicate"]).run();
    out.assert_success();
    assert_eq!((out.stdout.as_str(), out.stderr.as_str()), ("", ""));
}
