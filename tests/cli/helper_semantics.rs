//! git's own helper semantics (issue 9 §1), through real `git credential fill/approve/reject`
//! with gocred as the helper, over the file store, kernel keyutils (in a user namespace of its
//! own, so the persistent keyring is the namespace's, never the developer's) and the Secret
//! Service, each compared step by step with git's own storage helpers as the oracle:
//! `git credential-store` for paths, empty values and erase, `git credential-cache` for the
//! git 2.41+ attributes.

use crate::common::keyring::{Login, SecretService, require_program};
use crate::common::{GOCRED, TestEnv, value_of};
use std::fmt::Write as _;

/// One `git credential ACTION` with `input` on stdin, with or without `credential.useHttpPath`.
struct Step {
    action: &'static str,
    use_path: bool,
    input: String,
}

fn step(action: &'static str, use_path: bool, url: &str, extra: &str) -> Step {
    Step {
        action,
        use_path,
        input: format!("url={url}\n{extra}\n"),
    }
}

fn approve(use_path: bool, url: &str, user: &str, password: &str) -> Step {
    step(
        "approve",
        use_path,
        url,
        &format!("username={user}\npassword={password}\n"),
    )
}

fn fill(use_path: bool, url: &str) -> Step {
    step("fill", use_path, url, "")
}

/// What git printed for one step: stdout and exit code (stderr only for messages).
#[derive(Debug, Clone, PartialEq)]
struct Outcome {
    stdout: String,
    code: i32,
}

/// Runs `steps` in order in one shell, git configured with `helper`, inside `wrapper` (e.g. a
/// user namespace with its own session keyring) when given. Returns each step's outcome.
fn run(env: &TestEnv, helper: &str, steps: &[Step], wrapper: &[&str]) -> Vec<Outcome> {
    let dir = env.root().join(format!("steps-{}", steps.len()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    let mut script = String::from("set -u\n");
    for (i, s) in steps.iter().enumerate() {
        std::fs::write(dir.join(format!("{i}.in")), &s.input).unwrap();
        writeln!(
            script,
            "git -c credential.helper= -c 'credential.helper={helper}' -c credential.useHttpPath={} \
             credential {} <{d}/{i}.in >{d}/{i}.out 2>{d}/{i}.err; echo $? >{d}/{i}.code",
            s.use_path,
            s.action,
            d = dir.display()
        )
        .unwrap();
    }
    let script_path = dir.join("run.sh");
    std::fs::write(&script_path, script).unwrap();
    let mut argv: Vec<&str> = wrapper.to_vec();
    argv.extend(["sh", script_path.to_str().unwrap()]);
    env.command(argv[0])
        .args(&argv[1..])
        .env("GIT_TERMINAL_PROMPT", "0")
        .run()
        .assert_success();
    (0..steps.len())
        .map(|i| {
            let read = |ext: &str| std::fs::read_to_string(dir.join(format!("{i}.{ext}"))).unwrap();
            let err = read("err");
            assert!(
                !err.contains("gocred"),
                "step {i} ({}): gocred complained: {err}",
                steps[i].action
            );
            Outcome {
                stdout: read("out"),
                code: read("code").trim().parse().unwrap(),
            }
        })
        .collect()
}

/// A file-store policy, or a keychain one with `backend`, for `origins`.
fn policy(backend: Option<&str>, origins: &[&str]) -> String {
    let (head, store) = match backend {
        None => (String::new(), "file"),
        Some(b) => (format!("[keychain]\nbackend = \"{b}\"\n\n"), "keychain"),
    };
    let mut text = head;
    for origin in origins {
        write!(
            text,
            "[[rule]]\nurl = \"{origin}\"\nsources = [\"{store}\"]\nstore = \"{store}\"\n\n"
        )
        .unwrap();
    }
    text
}

/// Where gocred may run: the file store, keyutils in a user namespace of its own, the Secret
/// Service on a private bus.
#[derive(Debug, Clone, Copy, PartialEq)]
enum Backend {
    File,
    Keyutils,
    SecretService,
}

const BACKENDS: [Backend; 3] = [Backend::File, Backend::Keyutils, Backend::SecretService];

/// Runs `steps` with gocred over `backend` for rules on `origins`.
fn run_gocred(backend: Backend, origins: &[&str], steps: &[Step]) -> Vec<Outcome> {
    let mut env = TestEnv::new();
    match backend {
        Backend::File => {
            env.policy(&policy(None, origins));
            run(&env, GOCRED, steps, &[])
        }
        Backend::Keyutils => {
            env.policy(&policy(Some("keyutils"), origins));
            require_program("keyctl");
            let unshare = require_program("unshare");
            run(
                &env,
                GOCRED,
                steps,
                &[
                    unshare.to_str().unwrap(),
                    "--user",
                    "--map-root-user",
                    "keyctl",
                    "session",
                    "-",
                ],
            )
        }
        Backend::SecretService => {
            env.policy(&policy(Some("secret-service"), origins));
            let _service = SecretService::start(&mut env, Login::Unlocked);
            run(&env, GOCRED, steps, &[])
        }
    }
}

/// git's own credential-store (a file of its own) on the same steps.
fn run_credential_store(steps: &[Step]) -> Vec<Outcome> {
    let env = TestEnv::new();
    let file = env.root().join("git-credentials");
    run(
        &env,
        &format!("store --file {}", file.display()),
        steps,
        &[],
    )
}

/// git's own credential-cache (a daemon of its own, stopped afterwards) on the same steps.
fn run_credential_cache(steps: &[Step]) -> Vec<Outcome> {
    let env = TestEnv::new();
    let socket = env.root().join("cache/socket");
    let helper = format!("cache --socket {}", socket.display());
    let outcomes = run(&env, &helper, steps, &[]);
    env.git(&[
        "credential-cache",
        "--socket",
        socket.to_str().unwrap(),
        "exit",
    ])
    .run();
    outcomes
}

/// Each gocred backend answers every step exactly as the oracle did.
#[track_caller]
fn assert_same_as(oracle: &[Outcome], origins: &[&str], steps: &[Step]) {
    for backend in BACKENDS {
        let got = run_gocred(backend, origins, steps);
        for (i, (g, o)) in got.iter().zip(oracle).enumerate() {
            assert_eq!(
                g, o,
                "{backend:?}, step {i} ({} {:?}, useHttpPath={}): gocred answered differently \
                 from git's own helper",
                steps[i].action, steps[i].input, steps[i].use_path
            );
        }
    }
}

/// git found nothing: no helper had a credential and prompting is off.
#[track_caller]
fn assert_nothing(o: &Outcome) {
    assert_eq!((o.code, o.stdout.as_str()), (128, ""), "{o:?}");
}

#[track_caller]
fn assert_user(o: &Outcome, user: &str, password: &str) {
    assert_eq!(o.code, 0, "{o:?}");
    assert_eq!(value_of(&o.stdout, "username"), Some(user), "{o:?}");
    assert_eq!(value_of(&o.stdout, "password"), Some(password), "{o:?}");
}

const PATHS: &str = "https://paths.sem.example";

#[test]
fn helper_semantics_paths_and_erase_match_git_credential_store() {
    let at = |path: &str| format!("{PATHS}/{path}");
    let steps = vec![
        /* 0 */ approve(true, &at("foo.git"), "alice", "pa"),
        // Stored with a path: another path gets nothing, even under the host-level rule.
        /* 1 */
        fill(true, &at("bar.git")),
        /* 2 */ fill(true, &at("foo.git")),
        // A request without a path may use it.
        /* 3 */
        fill(false, &at("anything.git")),
        /* 4 */ approve(false, PATHS, "bob", "pb"),
        // Without a path nor a user name: the newest entry, whatever its path.
        /* 5 */
        fill(false, PATHS),
        /* 6 */ fill(false, "https://bob@paths.sem.example"),
        // The same user and path again: replaced.
        /* 7 */
        approve(true, &at("foo.git"), "alice", "pa2"),
        /* 8 */ fill(true, &at("foo.git")),
        // An erase for another path leaves it.
        /* 9 */
        step(
            "reject",
            true,
            &at("bar.git"),
            "username=alice\npassword=pa2\n",
        ),
        /* 10 */ fill(true, &at("foo.git")),
        // An erase with another password leaves it.
        /* 11 */
        step("reject", false, PATHS, "username=alice\npassword=wrong\n"),
        /* 12 */ fill(true, &at("foo.git")),
        /* 13 */ approve(true, &at("qux.git"), "carol", "pc"),
        // Without a path, the password names the entry, whatever its path.
        /* 14 */
        step("reject", false, PATHS, "password=pa2\n"),
        /* 15 */ fill(true, "https://alice@paths.sem.example/foo.git"),
        /* 16 */ fill(true, "https://carol@paths.sem.example/qux.git"),
        /* 17 */ fill(false, "https://bob@paths.sem.example"),
        // Neither user name nor password: every entry of the host goes.
        /* 18 */
        step("reject", false, PATHS, ""),
        /* 19 */ fill(true, &at("qux.git")),
        /* 20 */ fill(false, PATHS),
    ];
    let oracle = run_credential_store(&steps);
    // What git's own store did, spelled out.
    assert_nothing(&oracle[1]);
    assert_user(&oracle[2], "alice", "pa");
    assert_user(&oracle[3], "alice", "pa");
    assert_user(&oracle[5], "bob", "pb");
    assert_user(&oracle[6], "bob", "pb");
    assert_user(&oracle[10], "alice", "pa2");
    assert_user(&oracle[12], "alice", "pa2");
    assert_nothing(&oracle[15]);
    assert_user(&oracle[16], "carol", "pc");
    assert_user(&oracle[17], "bob", "pb");
    assert_nothing(&oracle[19]);
    assert_nothing(&oracle[20]);
    assert_same_as(&oracle, &[PATHS], &steps);
}

const WIDE: &str = "https://wide.sem.example";

/// An entry stored without a path (git without `useHttpPath`, `import-netrc`, `login
/// --with-token`) answers a request with a path exactly as git's credential-store answers it:
/// not at all. A request that has a path takes only entries stored for that very path.
#[test]
fn helper_semantics_a_pathless_entry_does_not_answer_a_request_with_a_path() {
    let at = |path: &str| format!("{WIDE}/{path}");
    let steps = vec![
        /* 0 */ approve(false, WIDE, "alice", "pa"),
        /* 1 */ fill(true, &at("x.git")),
        /* 2 */ fill(false, &at("x.git")),
        /* 3 */ approve(true, &at("y.git"), "alice", "py"),
        /* 4 */ fill(true, &at("y.git")),
        /* 5 */ fill(true, &at("x.git")),
        /* 6 */ approve(false, WIDE, "bob", "pb"),
        /* 7 */ fill(true, "https://alice@wide.sem.example/y.git"),
        /* 8 */ fill(false, "https://bob@wide.sem.example/z.git"),
        /* 9 */ fill(true, "https://bob@wide.sem.example/z.git"),
        // A 401 for y.git takes y.git's entry only; the host-wide ones stay.
        /* 10 */
        step(
            "reject",
            true,
            &at("y.git"),
            "username=alice\npassword=py\n",
        ),
        /* 11 */ fill(true, &at("y.git")),
        /* 12 */ fill(false, "https://alice@wide.sem.example"),
    ];
    let oracle = run_credential_store(&steps);
    assert_nothing(&oracle[1]);
    assert_user(&oracle[2], "alice", "pa");
    assert_user(&oracle[4], "alice", "py");
    assert_nothing(&oracle[5]);
    assert_user(&oracle[7], "alice", "py");
    assert_user(&oracle[8], "bob", "pb");
    assert_nothing(&oracle[9]);
    assert_nothing(&oracle[11]);
    assert_user(&oracle[12], "alice", "pa");
    assert_same_as(&oracle, &[WIDE], &steps);
}

const EMPTY: &str = "https://empty.sem.example";

#[test]
fn helper_semantics_empty_username_and_password_are_values() {
    let steps = vec![
        /* 0 */ step("approve", false, EMPTY, "username=\npassword=\n"),
        /* 1 */ fill(false, EMPTY),
        /* 2 */ approve(false, EMPTY, "alice", "pa"),
        // Asked for the empty user name: the empty entry, not alice's.
        /* 3 */
        step("fill", false, EMPTY, "username=\n"),
        /* 4 */ fill(false, "https://alice@empty.sem.example"),
        // Erasing the empty user's empty password leaves alice.
        /* 5 */
        step("reject", false, EMPTY, "username=\npassword=\n"),
        /* 6 */ step("fill", false, EMPTY, "username=\n"),
        /* 7 */ fill(false, "https://alice@empty.sem.example"),
        // alice with an empty password.
        /* 8 */
        step("approve", false, EMPTY, "username=alice\npassword=\n"),
        /* 9 */ fill(false, "https://alice@empty.sem.example"),
    ];
    let oracle = run_credential_store(&steps);
    let empty = "protocol=https\nhost=empty.sem.example\nusername=\npassword=\n";
    assert_eq!((oracle[1].code, oracle[1].stdout.as_str()), (0, empty));
    assert_eq!((oracle[3].code, oracle[3].stdout.as_str()), (0, empty));
    assert_user(&oracle[4], "alice", "pa");
    assert_nothing(&oracle[6]);
    assert_user(&oracle[7], "alice", "pa");
    assert_user(&oracle[9], "alice", "");
    assert_same_as(&oracle, &[EMPTY], &steps);
}

const ATTRS: &str = "https://attrs.sem.example";

#[test]
fn helper_semantics_git_2_41_attributes_round_trip_as_stored() {
    let steps = vec![
        /* 0 */
        step(
            "approve",
            false,
            ATTRS,
            "username=alice\npassword=pa\npassword_expiry_utc=4102444800\n\
             oauth_refresh_token=RT-sem-1\n",
        ),
        /* 1 */ fill(false, ATTRS),
        /* 2 */ step("approve", false, ATTRS, "username=alice\npassword=pa2\n"),
        /* 3 */ fill(false, ATTRS),
    ];
    let oracle = run_credential_cache(&steps);
    assert_eq!(
        oracle[1].stdout,
        "protocol=https\nhost=attrs.sem.example\nusername=alice\npassword=pa\n\
         oauth_refresh_token=RT-sem-1\npassword_expiry_utc=4102444800\n",
        "{:?}",
        oracle[1]
    );
    assert_eq!(
        oracle[3].stdout,
        "protocol=https\nhost=attrs.sem.example\nusername=alice\npassword=pa2\n"
    );
    assert_same_as(&oracle, &[ATTRS], &steps);
}

/// gocred's own `oauth` rules keep their refresh token: a fresh token from the store is answered
/// without it.
#[test]
fn helper_semantics_oauth_rules_keep_their_refresh_token() {
    let env = TestEnv::new();
    env.policy(
        "[[rule]]\nurl = \"https://gl.sem.example\"\nsources = [\"oauth\"]\nstore = \"file\"\n\
         [rule.oauth]\nprovider = \"gitlab\"\nclient_id = \"x\"\n",
    );
    let path = env.file_store_path();
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    std::fs::write(
        &path,
        "scope=https://gl.sem.example\nusername=oauth2\npassword=AT-sem\n\
         password_expiry_utc=4102444800\noauth_refresh_token=RT-sem-secret\n\n",
    )
    .unwrap();
    crate::common::set_mode(&path, 0o600);
    let out = env
        .gocred(&["get"])
        .stdin("protocol=https\nhost=gl.sem.example\n\n")
        .success();
    assert_eq!(
        out.stdout,
        "username=oauth2\npassword=AT-sem\npassword_expiry_utc=4102444800\n"
    );
}
