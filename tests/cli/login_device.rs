//! What `gocred login` (device flow) tells the person in front of it (issue 10, "Messages"):
//! what it is contacting while it waits, a browser said to be open only when the opener said
//! so, "cancelled, nothing changed" on Ctrl-C, and a valid stored token that is not replaced
//! without a yes at a terminal or `--force`.

use crate::common::keyring::{Login, SecretService};
use crate::common::vendor_fake::{Answer, Vendor, VendorFake};
use crate::common::{GOCRED, TestEnv, value_of};
use std::collections::VecDeque;
use std::io::{BufRead, BufReader};
use std::process::Stdio;
use std::time::{Duration, Instant};

fn setup(vendor: Vendor) -> (TestEnv, VendorFake) {
    let mut env = TestEnv::new();
    env.set_env("GOCRED_HTTP_TIMEOUT", "5");
    let fake = VendorFake::start(&env, vendor);
    fake.trust_in_git(&env);
    env.policy(&fake.rule("file", ""));
    (env, fake)
}

#[test]
fn device_login_says_what_it_is_contacting_and_whom_it_waits_for() {
    let (env, fake) = setup(Vendor::GitHub);
    let out = env
        .gocred(&["login", &fake.origin(), "--no-browser"])
        .success();
    let origin = fake.origin();
    let lines = out.stderr_lines();
    assert_eq!(
        lines[0],
        format!("Contacting {origin}/login/device/code for a device code ..."),
        "{out}"
    );
    assert!(
        out.stderr.contains(&format!(
            "Waiting for approval from 127.0.0.1:{} (asking every 1 s; the code expires in 15:00) ...",
            fake.port()
        )),
        "{out}"
    );
}

#[test]
fn device_login_says_a_browser_opened_only_when_the_opener_succeeded() {
    let (mut env, fake) = setup(Vendor::GitLab);
    fake.script(|s| s.polls = VecDeque::from([Answer::Error("access_denied")]));
    let bin = env.root().join("fakebin");
    std::fs::create_dir_all(&bin).unwrap();
    env.prepend_path(&bin);
    // No opener on PATH at all: PATH is the test's own directory and git only (the machine may
    // have xdg-utils: `pass` pulls it in; gocred reads git's http.sslCAInfo through git).
    let only_git = env.root().join("only-git");
    std::fs::create_dir_all(&only_git).unwrap();
    let git = ["/usr/bin/git", "/bin/git", "/usr/local/bin/git"]
        .into_iter()
        .find(|p| std::path::Path::new(p).exists())
        .expect("git");
    std::os::unix::fs::symlink(git, only_git.join("git")).unwrap();
    let path = std::env::join_paths([&bin, &only_git]).unwrap();
    let out = env
        .gocred(&["login", &fake.origin()])
        .env("DISPLAY", ":0")
        .env("PATH", &path)
        .run();
    out.assert_code(1);
    assert!(
        out.stderr
            .contains("Could not open a browser (no xdg-open on PATH): open the URL yourself."),
        "{out}"
    );
    // An opener that fails (no browser configured: xdg-open exits 3).
    env.script("fakebin/xdg-open", "exit 3");
    let out = env
        .gocred(&["login", &fake.origin()])
        .env("DISPLAY", ":0")
        .run();
    out.assert_code(1);
    assert!(
        out.stderr
            .contains("Could not open a browser (xdg-open exited with status 3)"),
        "{out}"
    );
    assert!(!out.stderr.contains("Opened"), "{out}");
}

/// Runs `gocred ARGS`, waits until it says it is waiting for approval and has polled, sends it
/// SIGINT (as a terminal's ^C does) and returns its exit code and what it printed after that.
fn interrupt_while_waiting(
    env: &TestEnv,
    fake: &VendorFake,
    args: &[&str],
) -> (Option<i32>, String) {
    let mut child = env
        .std_command(GOCRED)
        .args(args)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut stderr = BufReader::new(child.stderr.take().unwrap());
    let mut seen = String::new();
    let deadline = Instant::now() + Duration::from_secs(20);
    while !seen.contains("Waiting for approval") && Instant::now() < deadline {
        let mut line = String::new();
        if stderr.read_line(&mut line).unwrap() == 0 {
            break;
        }
        seen += &line;
    }
    assert!(seen.contains("Waiting for approval"), "{seen}");
    while fake.polls().is_empty() && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(50));
    }
    assert!(!fake.polls().is_empty(), "it never polled");
    env.command("kill")
        .args(["-INT", &child.id().to_string()])
        .success();
    let status = child.wait().unwrap();
    let mut rest = String::new();
    std::io::Read::read_to_string(&mut stderr, &mut rest).unwrap();
    (status.code(), rest)
}

#[test]
fn ctrl_c_while_waiting_for_approval_says_cancelled_nothing_changed() {
    let (env, fake) = setup(Vendor::GitLab);
    fake.script(|s| s.polls = VecDeque::from([Answer::Pending]));
    let (code, rest) =
        interrupt_while_waiting(&env, &fake, &["login", &fake.origin(), "--no-browser"]);
    assert_eq!(code, Some(130), "{rest}");
    assert_eq!(rest.trim(), "gocred: cancelled, nothing changed");
    assert_eq!(env.file_store(), None);
}

#[test]
fn ctrl_c_after_save_added_the_rule_says_the_rule_stays_and_no_token_was_stored() {
    let (mut env, fake) = setup(Vendor::GitLab);
    // The rule --save writes keeps tokens in the keychain.
    let service = SecretService::start(&mut env, Login::Unlocked);
    env.policy("[keychain]\nbackend = \"secret-service\"\n");
    fake.script(|s| s.polls = VecDeque::from([Answer::Pending]));
    let origin = fake.origin();
    let (code, rest) = interrupt_while_waiting(
        &env,
        &fake,
        &[
            "login",
            &origin,
            "--no-browser",
            "--save",
            "--provider",
            "gitlab",
            "--client-id",
            crate::common::vendor_fake::CLIENT_ID,
        ],
    );
    assert_eq!(code, Some(130), "{rest}");
    assert_eq!(
        rest.trim(),
        "gocred: cancelled: no token was stored (the rule added by --save stays)"
    );
    let config = std::fs::read_to_string(env.policy_path()).unwrap();
    assert!(config.contains(&format!("url = \"{origin}\"")), "{config}");
    assert_eq!(service.lookup(&env, &origin), None);
}

#[test]
fn a_valid_stored_token_is_replaced_only_with_force_or_a_yes_at_a_terminal() {
    let (env, fake) = setup(Vendor::GitLab);
    let origin = fake.origin();
    env.gocred(&["login", &origin, "--no-browser"]).success();
    let first = value_of(&env.file_store().unwrap(), "password")
        .unwrap()
        .to_owned();

    // No terminal, no --force: refused with the hint, no new device code asked for.
    let out = env.gocred(&["login", &origin, "--no-browser"]).run();
    out.assert_code(1);
    assert!(
        out.stderr.contains(&format!(
            "Already logged in to {origin} as alice: the token in file"
        )),
        "{out}"
    );
    assert!(out.stderr.contains("--force"), "{out}");
    assert_eq!(fake.seen_at("/oauth/authorize_device").len(), 1);

    // At a terminal: asked; "n" keeps it.
    let at_terminal = |answer: &str| {
        let command = format!("{GOCRED} login {origin} --no-browser");
        env.command("sh")
            .args([
                "-c",
                "(sleep 1; printf '%s\\n' \"$ANSWER\"; sleep 4) | script -q -e -c \"$CMD\" /dev/null",
            ])
            .env("ANSWER", answer)
            .env("CMD", &command)
            .run()
    };
    let out = at_terminal("n");
    out.assert_code(1);
    assert!(
        out.stdout.contains("Log in again and replace it? [y/N]"),
        "{out}"
    );
    assert!(out.stdout.contains("the token stored for"), "{out}");
    assert_eq!(fake.seen_at("/oauth/authorize_device").len(), 1);
    assert_eq!(
        value_of(&env.file_store().unwrap(), "password"),
        Some(first.as_str())
    );
    let out = at_terminal("y");
    out.assert_success();
    assert_eq!(fake.seen_at("/oauth/authorize_device").len(), 2);
    let second = value_of(&env.file_store().unwrap(), "password")
        .unwrap()
        .to_owned();
    assert_ne!(second, first);

    // --force: no question.
    env.gocred(&["login", &origin, "--no-browser", "--force"])
        .success();
    assert_eq!(fake.seen_at("/oauth/authorize_device").len(), 3);

    // A token the server no longer accepts is not "valid": a plain login replaces it.
    fake.revoke_all();
    let out = env.gocred(&["login", &origin, "--no-browser"]).success();
    assert!(!out.stderr.contains("Already logged in"), "{out}");
}
