//! `gocred login HOST --with-token` (issue 10, "Getting a credential in, and out"): a personal
//! access token from stdin or a prompt that does not echo, checked against the vendor's
//! documented user endpoint (the fakes check the header as the real APIs do), stored in the
//! rule's store with the user name git needs, and never shown, whatever happens.

use crate::common::keyring::{Login, SecretService};
use crate::common::vendor_fake::{Vendor, VendorFake, assert_one_line_failure};
use crate::common::{GOCRED, TestEnv, value_of};

/// A keychain-free rule for the fake's origin: the file store.
fn setup(vendor: Vendor, extra: &str) -> (TestEnv, VendorFake) {
    let mut env = TestEnv::new();
    env.set_env("GOCRED_HTTP_TIMEOUT", "5");
    let fake = VendorFake::start(&env, vendor);
    fake.trust_in_git(&env);
    env.policy(&format!(
        "[[rule]]\nurl = \"{}\"\nsources = [\"file\"]\nstore = \"file\"\n{extra}",
        fake.origin()
    ));
    (env, fake)
}

/// Neither stream of `out` holds `token`.
#[track_caller]
fn never_shown(out: &crate::common::Output, token: &str) {
    assert!(!out.stdout.contains(token), "the token on stdout: {out}");
    assert!(!out.stderr.contains(token), "the token on stderr: {out}");
}

#[test]
fn with_token_gitlab_checks_private_token_stores_the_pats_user_and_git_clones_with_it() {
    let (env, fake) = setup(Vendor::GitLab, "");
    let pat = fake.create_pat();
    let origin = fake.origin();
    let out = env
        .gocred(&["login", &origin, "--with-token", "--provider", "gitlab"])
        .stdin(format!("{pat}\n"))
        .success();
    never_shown(&out, &pat);
    let store = env.file_store_path();
    assert_eq!(
        out.stdout,
        format!(
            "Logged in to {origin} as alice. git gets user alice and the token from file {}.\n",
            store.display()
        )
    );
    // One check, with the header GitLab documents for personal access tokens.
    let checks = fake.seen_at("/api/v4/user");
    assert_eq!(checks.len(), 1, "{checks:?}");
    assert_eq!(checks[0].private_token.as_deref(), Some(pat.as_str()));
    let stored = env.file_store().unwrap();
    assert_eq!(value_of(&stored, "username"), Some("alice"));
    assert_eq!(value_of(&stored, "password"), Some(pat.as_str()));
    assert_eq!(env.file_store_mode() & 0o077, 0);

    // What git now gets, through a real clone.
    fake.create_repo(&env, "group/repo.git");
    env.use_gocred_by_path();
    let dest = env.root().join("clone");
    env.git(&["clone", "-q", &format!("{origin}/group/repo.git")])
        .arg(&dest)
        .success();
    assert!(dest.join("README").exists());
    assert!(fake.git_passwords().contains(&pat));
}

#[test]
fn with_token_github_enterprise_checks_api_v3_user_with_bearer_and_stores_the_login() {
    let (env, fake) = setup(Vendor::GitHub, "");
    fake.script(|s| s.account = "octocat");
    let pat = fake.create_pat();
    let out = env
        .gocred(&[
            "login",
            &fake.origin(),
            "--with-token",
            "--provider",
            "github",
        ])
        .stdin(&pat)
        .success();
    never_shown(&out, &pat);
    assert!(
        out.stdout.contains("as octocat. git gets user octocat"),
        "{out}"
    );
    let checks = fake.seen_at("/api/v3/user");
    assert_eq!(checks.len(), 1);
    assert_eq!(
        checks[0].authorization.as_deref(),
        Some(format!("Bearer {pat}").as_str())
    );
    let stored = env.file_store().unwrap();
    assert_eq!(value_of(&stored, "username"), Some("octocat"));
}

#[test]
fn with_token_a_rejected_token_is_one_line_with_host_and_status_and_nothing_is_stored() {
    for vendor in [Vendor::GitLab, Vendor::GitHub] {
        let (env, fake) = setup(vendor, "");
        let wrong = "glpat-FAKE-not-issued";
        let out = env
            .gocred(&[
                "login",
                &fake.origin(),
                "--with-token",
                "--provider",
                vendor.provider(),
            ])
            .stdin(wrong)
            .run();
        never_shown(&out, wrong);
        let line = assert_one_line_failure(
            &out,
            &format!("127.0.0.1:{}", fake.port()),
            &["HTTP 401", "nothing was stored"],
        );
        assert!(line.contains("the token was refused"), "{out}");
        assert_eq!(env.file_store(), None, "{vendor:?}");
    }
}

#[test]
fn with_token_the_rules_username_wins_and_no_verify_skips_the_check() {
    let (env, fake) = setup(Vendor::GitLab, "username = \"ci-bot\"\n");
    let out = env
        .gocred(&["login", &fake.origin(), "--with-token", "--no-verify"])
        .stdin("glpat-FAKE-anything\n")
        .success();
    assert!(out.stdout.contains("git gets user ci-bot"), "{out}");
    assert!(out.stdout.contains("not checked (--no-verify)"), "{out}");
    assert!(fake.seen().is_empty(), "--no-verify sent {:?}", fake.seen());
    assert_eq!(
        value_of(&env.file_store().unwrap(), "username"),
        Some("ci-bot")
    );
    // --user that disagrees with the rule is refused.
    let out = env
        .gocred(&[
            "login",
            &fake.origin(),
            "--with-token",
            "--no-verify",
            "--user",
            "bob",
        ])
        .stdin("glpat-FAKE-other\n")
        .run();
    out.assert_code(1);
    assert!(out.stderr.contains("disagrees with the rule"), "{out}");
}

#[test]
fn with_token_a_host_of_no_known_vendor_needs_provider_or_no_verify_and_a_user_name() {
    let (env, fake) = setup(Vendor::GitLab, "");
    let origin = fake.origin();
    let out = env
        .gocred(&["login", &origin, "--with-token"])
        .stdin("glpat-FAKE-x\n")
        .run();
    out.assert_code(1);
    assert!(out.stderr.contains("--provider gitlab"), "{out}");
    assert!(out.stderr.contains("--no-verify"), "{out}");
    let out = env
        .gocred(&["login", &origin, "--with-token", "--no-verify"])
        .stdin("glpat-FAKE-x\n")
        .run();
    out.assert_code(1);
    assert!(out.stderr.contains("--user NAME"), "{out}");
    assert_eq!(env.file_store(), None);
    assert!(fake.seen().is_empty());
    env.gocred(&[
        "login",
        &origin,
        "--with-token",
        "--no-verify",
        "--user",
        "me",
    ])
    .stdin("glpat-FAKE-x\n")
    .success();
    assert_eq!(value_of(&env.file_store().unwrap(), "username"), Some("me"));
}

#[test]
fn with_token_never_from_argv_and_bad_stdin_is_refused_with_nothing_stored() {
    let (env, fake) = setup(Vendor::GitLab, "");
    let origin = fake.origin();
    // A token as an argument is a usage error (clap: unexpected argument).
    env.gocred(&["login", &origin, "--with-token", "glpat-FAKE-on-argv"])
        .run()
        .assert_code(2);
    for (stdin, says) in [
        ("", "no token on stdin"),
        ("\n  \n", "no token on stdin"),
        ("glpat-FAKE-a\nglpat-FAKE-b\n", "more than one token"),
        ("glpat a\n", "more than one token"),
    ] {
        let out = env
            .gocred(&[
                "login",
                &origin,
                "--with-token",
                "--no-verify",
                "--user",
                "u",
            ])
            .stdin(stdin)
            .run();
        out.assert_code(1);
        assert!(out.stderr.contains(says), "{stdin:?}: {out}");
        assert!(out.stderr.contains("nothing was stored"), "{out}");
    }
    let long = "x".repeat(5000);
    let out = env
        .gocred(&[
            "login",
            &origin,
            "--with-token",
            "--no-verify",
            "--user",
            "u",
        ])
        .stdin(&long)
        .run();
    out.assert_code(1);
    assert!(out.stderr.contains("longer than 4096 bytes"), "{out}");
    assert_eq!(env.file_store(), None);
}

#[test]
fn with_token_a_rule_without_a_store_is_refused_and_no_rule_offers_a_keychain_rule() {
    let env = TestEnv::new();
    env.policy("[[rule]]\nurl = \"https://ci.corp.example\"\nsources = [\"env\"]\ntoken_env = \"CI_TOKEN\"\nusername = \"ci\"\n");
    let out = env
        .gocred(&["login", "ci.corp.example", "--with-token", "--no-verify"])
        .stdin("tok\n")
        .run();
    out.assert_code(1);
    assert!(
        out.stderr.contains("has no store git reads a token from"),
        "{out}"
    );
    let before = std::fs::read_to_string(env.policy_path()).unwrap();
    let out = env
        .gocred(&["login", "gitlab.other.example", "--with-token"])
        .stdin("tok\n")
        .run();
    out.assert_code(1);
    assert!(
        out.stderr.contains(
            "[[rule]]\nurl = \"https://gitlab.other.example\"\nsources = [\"keychain\"]\nstore = \"keychain\"\n"
        ),
        "{out}"
    );
    assert!(
        out.stderr
            .contains("run `gocred login gitlab.other.example --with-token` again"),
        "{out}"
    );
    assert_eq!(std::fs::read_to_string(env.policy_path()).unwrap(), before);
}

#[test]
fn with_token_save_adds_the_keychain_rule_and_stores_in_the_secret_service() {
    let mut env = TestEnv::new();
    env.set_env("GOCRED_HTTP_TIMEOUT", "5");
    let service = SecretService::start(&mut env, Login::Unlocked);
    let fake = VendorFake::start(&env, Vendor::GitLab);
    fake.trust_in_git(&env);
    env.policy("[keychain]\nbackend = \"secret-service\"\n");
    let pat = fake.create_pat();
    let origin = fake.origin();
    let out = env
        .gocred(&[
            "login",
            &origin,
            "--with-token",
            "--provider",
            "gitlab",
            "--save",
        ])
        .stdin(&pat)
        .success();
    never_shown(&out, &pat);
    assert!(out.stdout.starts_with("Added to "), "{out}");
    assert!(
        out.stdout
            .contains("git gets user alice and the token from Secret Service"),
        "{out}"
    );
    let entry = service
        .lookup(&env, &origin)
        .expect("nothing in the keychain");
    assert!(entry.contains(&pat));
    let request = format!("protocol=https\nhost=127.0.0.1:{}\n\n", fake.port());
    let got = env.gocred(&["get"]).stdin(&request).success();
    assert_eq!(value_of(&got.stdout, "username"), Some("alice"));
    assert_eq!(value_of(&got.stdout, "password"), Some(pat.as_str()));
}

#[test]
fn with_token_at_a_terminal_the_prompt_does_not_echo_the_token() {
    let (env, fake) = setup(Vendor::GitLab, "");
    let pat = fake.create_pat();
    // `script` gives gocred a terminal and copies what the terminal shows to its stdout; the
    // token is typed a second later, after the prompt turned echo off.
    let command = format!(
        "{GOCRED} login {} --with-token --provider gitlab",
        fake.origin()
    );
    let out = env
        .command("sh")
        .args([
            "-c",
            "(sleep 1; printf '%s\\n' \"$PAT\"; sleep 2) | script -q -e -c \"$CMD\" /dev/null",
        ])
        .env("PAT", &pat)
        .env("CMD", &command)
        .run();
    out.assert_success();
    assert!(out.stdout.contains("(it is not shown)"), "{out}");
    assert!(out.stdout.contains("Logged in to"), "{out}");
    never_shown(&out, &pat);
    assert_eq!(
        value_of(&env.file_store().unwrap(), "password"),
        Some(pat.as_str())
    );
}

#[test]
fn with_token_ctrl_c_at_the_prompt_cancels_and_gives_the_terminal_its_echo_back() {
    let (env, fake) = setup(Vendor::GitLab, "");
    // ^C typed at the prompt (the terminal turns it into SIGINT for the foreground group; the
    // shell around gocred survives it), then `stty -a` in the same terminal shows whether echo
    // came back.
    let command = format!(
        "trap : INT; {GOCRED} login {} --with-token --provider gitlab; echo \"exit=$?\"; stty -a",
        fake.origin()
    );
    let out = env
        .command("sh")
        .args([
            "-c",
            "(sleep 1; printf '\\003'; sleep 2) | script -q -e -c \"$CMD\" /dev/null",
        ])
        .env("CMD", &command)
        .run();
    assert!(out.stdout.contains("(it is not shown)"), "{out}");
    assert!(
        out.stdout.contains("gocred: cancelled, nothing changed"),
        "{out}"
    );
    assert!(out.stdout.contains("exit=130"), "{out}");
    let stty = out.stdout.split("exit=130").nth(1).unwrap_or_default();
    assert!(
        stty.split_whitespace().any(|w| w == "echo"),
        "echo is still off: {out}"
    );
    assert_eq!(env.file_store(), None);
    assert!(fake.seen().is_empty());
}

#[test]
fn with_token_at_a_terminal_asks_before_replacing_a_stored_token_and_no_keeps_it() {
    let (env, fake) = setup(Vendor::GitLab, "");
    let first = fake.create_pat();
    env.gocred(&[
        "login",
        &fake.origin(),
        "--with-token",
        "--provider",
        "gitlab",
    ])
    .stdin(&first)
    .success();
    let second = fake.create_pat();
    let command = format!(
        "{GOCRED} login {} --with-token --provider gitlab",
        fake.origin()
    );
    let out = env
        .command("sh")
        .args([
            "-c",
            "(sleep 1; printf 'n\\n'; sleep 1; printf '%s\\n' \"$PAT\"; sleep 1) | script -q -e -c \"$CMD\" /dev/null",
        ])
        .env("PAT", &second)
        .env("CMD", &command)
        .run();
    assert!(
        out.stdout.contains("(user alice) is already in file"),
        "{out}"
    );
    assert!(out.stdout.contains("Replace it? [y/N]"), "{out}");
    assert!(out.stdout.contains("not replaced"), "{out}");
    assert_eq!(
        value_of(&env.file_store().unwrap(), "password"),
        Some(first.as_str())
    );
    // Piped (no terminal), the new token is what the caller asks for: replaced, and said so.
    let out = env
        .gocred(&[
            "login",
            &fake.origin(),
            "--with-token",
            "--provider",
            "gitlab",
        ])
        .stdin(&second)
        .success();
    assert!(
        out.stdout.contains("It replaces the token stored before."),
        "{out}"
    );
    assert_eq!(
        value_of(&env.file_store().unwrap(), "password"),
        Some(second.as_str())
    );
}

#[test]
fn with_token_a_git_only_gitlab_token_passes_the_check_without_an_account() {
    let (env, fake) = setup(Vendor::GitLab, "");
    let pat = fake.create_git_only_pat();
    let out = env
        .gocred(&[
            "login",
            &fake.origin(),
            "--with-token",
            "--provider",
            "gitlab",
        ])
        .stdin(&pat)
        .success();
    never_shown(&out, &pat);
    assert!(out.stdout.contains("git gets user oauth2"), "{out}");
    assert!(
        out.stdout.contains("without the read_user or api scope"),
        "{out}"
    );
    assert_eq!(fake.seen_at("/api/v4/user").len(), 1);
    assert_eq!(
        value_of(&env.file_store().unwrap(), "password"),
        Some(pat.as_str())
    );
}

/// A terminal driven by tmux (its own server socket, killed on drop): what a person types and
/// what the screen shows.
struct Tmux<'e> {
    env: &'e TestEnv,
    socket: std::path::PathBuf,
}

impl<'e> Tmux<'e> {
    fn start(env: &'e TestEnv) -> Tmux<'e> {
        crate::common::keyring::require_program("tmux");
        let socket = env.root().join("tmux.sock");
        let tmux = Tmux { env, socket };
        tmux.run(&["new-session", "-d", "-x", "200", "-y", "50", "sh"]);
        tmux
    }

    fn run(&self, args: &[&str]) -> crate::common::Output {
        self.env
            .command("tmux")
            .env("TERM", "xterm")
            .arg("-S")
            .arg(&self.socket)
            .args(args)
            .success()
    }

    /// Types `text` and presses Enter.
    fn type_line(&self, text: &str) {
        self.run(&["send-keys", "-t", "0", "-l", text]);
        self.run(&["send-keys", "-t", "0", "Enter"]);
    }

    /// Everything the terminal shows (history included).
    fn screen(&self) -> String {
        self.run(&["capture-pane", "-p", "-J", "-S", "-", "-t", "0"])
            .stdout
    }

    /// Waits until the screen shows `text` (at least `times` times); returns the screen.
    #[track_caller]
    fn wait_for(&self, text: &str, times: usize) -> String {
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(30);
        loop {
            let screen = self.screen();
            if screen.matches(text).count() >= times {
                return screen;
            }
            assert!(
                std::time::Instant::now() < deadline,
                "the screen never showed {text:?}:\n{screen}"
            );
            std::thread::sleep(std::time::Duration::from_millis(100));
        }
    }
}

impl Drop for Tmux<'_> {
    fn drop(&mut self) {
        let _ = self
            .env
            .command("tmux")
            .arg("-S")
            .arg(&self.socket)
            .arg("kill-server")
            .run();
    }
}

/// The first day, at a terminal (issue 10's walk): a fresh HOME, `config init` and `config
/// check`, `login --with-token` with the token pasted at the prompt, `setup git`, a `git clone` with no prompt, `status`, `logout`,
/// and a clone that then gets nothing. The token is never on the screen.
#[test]
fn first_day_at_a_terminal_config_init_login_with_token_setup_git_clone_status_logout() {
    let mut env = TestEnv::new();
    env.set_env("GOCRED_HTTP_TIMEOUT", "5");
    env.set_env("GIT_TERMINAL_PROMPT", "0");
    let _service = SecretService::start(&mut env, Login::Unlocked);
    env.prepend_path(std::path::Path::new(GOCRED).parent().unwrap());
    let fake = VendorFake::start(&env, Vendor::GitLab);
    // The company's CA, as git already trusts it; the repository to clone.
    fake.trust_in_git(&env);
    fake.create_repo(&env, "group/repo.git");
    let pat = fake.create_pat();
    let origin = fake.origin();
    let term = Tmux::start(&env);
    term.type_line(&format!("cd {}", env.root().display()));

    // A fresh HOME: gocred writes the starting policy, which `config check` accepts.
    term.type_line(&format!(
        "gocred config init {origin} && gocred config check; echo \"[init $?]\""
    ));
    term.wait_for("[init 0]", 1);
    assert!(
        std::fs::read_to_string(env.policy_path())
            .unwrap()
            .contains(&format!("url = \"{origin}\"")),
        "config init wrote no rule for {origin}"
    );

    term.type_line(&format!(
        "gocred login {origin} --with-token --provider gitlab; echo \"[login $?]\""
    ));
    term.wait_for("(it is not shown) and press Enter:", 1);
    term.type_line(&pat);
    let screen = term.wait_for("[login 0]", 1);
    assert!(
        screen.contains(&format!(
            "Logged in to {origin} as alice. git gets user alice and the token from Secret Service"
        )),
        "{screen}"
    );

    term.type_line("gocred setup git; echo \"[setup $?]\"");
    term.wait_for("[setup 0]", 1);
    // The README is waited for too: the screen may show "[clone 0]" before `cat` printed.
    term.type_line(&format!(
        "git clone -q {origin}/group/repo.git first; echo \"[clone $?]\"; cat first/README; echo \"[cat $?]\""
    ));
    let screen = term.wait_for("[cat 0]", 1);
    assert!(screen.contains("[clone 0]"), "{screen}");
    assert!(screen.contains("group/repo.git\n"), "{screen}");

    term.type_line("gocred status; echo \"[status $?]\"");
    let screen = term.wait_for("[status 0]", 1);
    assert!(screen.contains("alice"), "{screen}");

    term.type_line(&format!("gocred logout {origin}; echo \"[logout $?]\""));
    let screen = term.wait_for("[logout 0]", 1);
    assert!(
        screen.contains(&format!(
            "Forgot 1 entry of user alice for {origin} in Secret Service"
        )),
        "{screen}"
    );
    term.type_line(&format!(
        "git clone -q {origin}/group/repo.git second; echo \"[clone $?]\""
    ));
    let screen = term.wait_for("[clone 128]", 1);
    assert!(
        !screen.contains(&pat),
        "the token was on the screen:\n{screen}"
    );
    // The first clone sent the token (from gocred, not typed).
    assert!(fake.git_passwords().contains(&pat));
}
