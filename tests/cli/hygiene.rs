//! Secret hygiene, observed from outside: a sentinel secret sent through every command, through
//! malformed requests, a broken config, a corrupt file store, a corrupt keychain entry and a
//! panic never shows up on stderr (which git shows to the user and CI logs keep), and shows up
//! on stdout only where it is the answer. gocred has no logging or verbose mode to turn up: its
//! only diagnostics are the one-line errors and notes checked here.
//!
//! Also: while it runs, a gocred process is not dumpable (no core file, no same-user ptrace or
//! `/proc/PID/mem`), seen through `/proc/PID`'s owner.

use crate::common::{Output, TestEnv};
use std::io::Write;
use std::os::unix::fs::{MetadataExt, PermissionsExt};
use std::os::unix::process::CommandExt;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

/// Every secret in these tests starts with this; nothing else does.
const SENTINEL: &str = "SENTINEL-5f1e9d";

fn secret(tag: &str) -> String {
    format!("{SENTINEL}-{tag}")
}

/// Standard base64, to catch a secret inside an `Authorization: Basic` header.
fn base64(data: &[u8]) -> String {
    const ALPHABET: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = String::new();
    for chunk in data.chunks(3) {
        let b = [
            chunk[0],
            *chunk.get(1).unwrap_or(&0),
            *chunk.get(2).unwrap_or(&0),
        ];
        let n = (u32::from(b[0]) << 16) | (u32::from(b[1]) << 8) | u32::from(b[2]);
        for i in 0..4 {
            if i <= chunk.len() {
                out.push(ALPHABET[(n >> (18 - 6 * i)) as usize & 63] as char);
            } else {
                out.push('=');
            }
        }
    }
    out
}

/// The sentinel in clear, or base64-encoded at any of the three byte alignments (the middle
/// of each encoding does not depend on what precedes it).
fn leaks(text: &str) -> bool {
    if text.contains(SENTINEL) {
        return true;
    }
    (0..3).any(|pad| {
        let mut padded = vec![b'x'; pad];
        padded.extend_from_slice(SENTINEL.as_bytes());
        let encoded = base64(&padded);
        // Drop the characters that depend on the padding and on what follows.
        let stable = &encoded[(pad * 4).div_ceil(3) + 1..encoded.len() - 4];
        text.contains(stable)
    })
}

/// Nothing on stderr and nothing on stdout holds the sentinel.
#[track_caller]
fn assert_silent(out: &Output, what: &str) {
    assert!(
        !leaks(&out.stderr),
        "{what}: the secret is on stderr: {out}"
    );
    assert!(
        !leaks(&out.stdout),
        "{what}: the secret is on stdout: {out}"
    );
}

/// The secret is the answer on stdout, and nowhere on stderr.
#[track_caller]
fn assert_answers(out: &Output, what: &str) {
    out.assert_success();
    assert!(
        !leaks(&out.stderr),
        "{what}: the secret is on stderr: {out}"
    );
    assert!(
        leaks(&out.stdout),
        "{what}: expected the secret as the answer: {out}"
    );
}

const POLICY: &str = "[[rule]]\nurl = \"https://git.hyg.example\"\nsources = [\"file\"]\nstore = \"file\"\ngoauth = \"preemptive\"\n\n\
    [[rule]]\nurl = \"https://ci.hyg.example\"\nsources = [\"env\"]\nusername = \"gitlab-ci-token\"\ntoken_env = \"CI_JOB_TOKEN\"\n";

fn setup() -> TestEnv {
    let mut env = TestEnv::new();
    env.policy(POLICY);
    env.set_env("CI_JOB_TOKEN", secret("env"));
    env
}

/// The same policy without the env token: then no command has a secret to answer with.
fn setup_without_answers() -> TestEnv {
    let env = TestEnv::new();
    env.policy(POLICY);
    env
}

fn request(host: &str, extra: &str) -> String {
    format!("protocol=https\nhost={host}\n{extra}")
}

#[test]
fn every_command_shows_the_secret_only_as_its_answer() {
    let env = setup();
    let stored = secret("stored");
    let refresh = secret("refresh");
    let with_secret = format!(
        "username=alice\npassword={stored}\npassword_expiry_utc=4000000000\noauth_refresh_token={refresh}\n"
    );
    assert_silent(
        &env.gocred(&["store"])
            .stdin(request("git.hyg.example", &with_secret))
            .success(),
        "store",
    );
    assert_silent(
        &env.helper(&["store"])
            .stdin(request("git.hyg.example", &with_secret))
            .success(),
        "git-credential-gocred store",
    );
    // The env token is never stored, and storing it says nothing about it.
    assert_silent(
        &env.gocred(&["store"])
            .stdin(request(
                "ci.hyg.example",
                &format!("username=gitlab-ci-token\npassword={}\n", secret("env")),
            ))
            .success(),
        "store of the env token",
    );
    let file = env.file_store().unwrap();
    assert!(
        file.contains(&stored) && !file.contains(&secret("env")),
        "{file}"
    );

    assert_answers(
        &env.gocred(&["get"])
            .stdin(request("git.hyg.example", ""))
            .run(),
        "get",
    );
    assert_answers(
        &env.helper(&["get"])
            .stdin(request("ci.hyg.example", ""))
            .run(),
        "get from env",
    );
    // A denied host gets nothing, whatever the request carries.
    assert_silent(
        &env.gocred(&["get"])
            .stdin(request("evil.example", &with_secret))
            .success(),
        "get of a denied host",
    );
    for args in [
        &["status"][..],
        &["config", "check"],
        &["config", "path"],
        &["netrc", "--host", "other.example"],
        &["login", "git.hyg.example"],
        // Another user's: logout now forgets the host's stored entries, which the checks
        // below still read (tests/cli/logout.rs checks what a real logout says).
        &["logout", "git.hyg.example", "--user", "nobody"],
        &["exec", "--", "true"],
        &["exec", "--", "sh", "-c", "exit 3"],
        &["goauth", "http://git.hyg.example/x"],
        &["goauth", "https://evil.example/x"],
        &["setup", "git"],
        &["setup", "go"],
        &["import-netrc", "/nonexistent/netrc"],
        &["doctor", "git.hyg.example/group/mod"],
        &["doctor", "--json", "https://ci.hyg.example/group/mod"],
    ] {
        assert_silent(&env.gocred(args).run(), &args.join(" "));
    }
    let netrc_file = env.root().join("netrc");
    assert_silent(
        &env.gocred(&["netrc", "--output", netrc_file.to_str().unwrap()])
            .success(),
        "netrc --output",
    );
    assert!(
        std::fs::read_to_string(&netrc_file)
            .unwrap()
            .contains(&stored)
    );
    assert_answers(&env.gocred(&["netrc"]).run(), "netrc");
    assert_answers(&env.gocred(&["goauth"]).run(), "goauth");
    assert_answers(
        &env.gocred(&["goauth", "https://git.hyg.example/group/mod"])
            .stdin("HTTP/1.1 401 Unauthorized\r\n\r\n")
            .run(),
        "goauth URL",
    );
    // exec: gocred's own output is clean; the child sees the netrc it was given.
    let out = env
        .gocred(&["exec", "--", "sh", "-c", "cat \"$NETRC\" >/dev/null"])
        .run();
    assert_silent(&out, "exec");

    // erase with a wrong and with the right password.
    for pw in [secret("wrong"), stored.clone()] {
        assert_silent(
            &env.gocred(&["erase"])
                .stdin(request(
                    "git.hyg.example",
                    &format!("username=alice\npassword={pw}\n"),
                ))
                .success(),
            "erase",
        );
    }
    assert_silent(
        &env.gocred(&["get"])
            .stdin(request("git.hyg.example", ""))
            .success(),
        "get after erase",
    );
}

#[test]
fn malformed_requests_never_echo_a_value() {
    let env = setup();
    let s = secret("bad");
    let bad_requests = [
        format!("protocol=https\nhost=git.hyg.example\npassword={s}\rx\n"),
        format!("protocol=https\nhost=git.hyg.example\nusername=u\0{s}\n"),
        format!("protocol=https\nhost=git.hyg.example\n{s}\n"),
        format!("protocol=https\nhost=git.hyg.example\n{s}=\r\n"),
        format!("protocol=https\nhost=git.hyg.example\nx{s}\0=1\n"),
        format!("protocol=https\nhost=git.hyg.example\npassword_expiry_utc={s}\n"),
        format!("protocol=https\nhost=git.hyg.example\nephemeral={s}\n"),
        format!("protocol=https\nhost=git.hyg.example\ncontinue={s}\n"),
        format!("url=https://alice:{s}@git hyg.example/\n"),
        format!("url=https://alice:{s}@git.hyg.example:99999/\n"),
        format!("url=https://alice:{s}@evil.example/\nhost=git.hyg.example\n"),
        format!("url=https://alice:{s}@git.hyg.example/\nusername=bob\n"),
        format!("url={s}\n"),
        format!(
            "protocol=https\nhost=git.hyg.example\npassword={}\n",
            s.repeat(5000)
        ),
        format!("protocol=https\n{s}"),
    ];
    let mut bad_requests: Vec<Vec<u8>> = bad_requests.into_iter().map(String::into_bytes).collect();
    bad_requests.push(
        [
            format!("protocol=https\nhost=git.hyg.example\npassword={s}").as_bytes(),
            b"\xff\n",
        ]
        .concat(),
    );
    for req in &bad_requests {
        for command in [&["get"][..], &["store"], &["erase"]] {
            let out = env.gocred(command).stdin(req).run();
            let shown = String::from_utf8_lossy(&req[..req.len().min(80)]).into_owned();
            assert_silent(&out, &format!("{command:?} {shown:?}"));
        }
        let out = env.helper(&["get"]).stdin(req).run();
        assert_silent(&out, "git-credential-gocred get");
    }
    // goauth reads the response head on stdin: a header may carry a token too.
    let out = env
        .gocred(&["goauth", "https://git.hyg.example/x"])
        .stdin(format!(
            "HTTP/1.1 401\r\nWWW-Authenticate: Bearer {s}\r\nX: {s}\0\r\n\r\n"
        ))
        .run();
    assert_silent(&out, "goauth with a secret in the response head");
}

#[test]
fn import_netrc_never_echoes_a_password() {
    // A machine no rule serves goes to the keychain (keyutils here, with no session bus): in a
    // keyring namespace of the test's own, never the user's persistent keyring.
    crate::common::keyring::require_session_keyring();
    let env = setup_without_answers();
    let s = secret("netrc");
    // Secrets where a netrc holds them: passwords (and what a broken line may turn into one).
    // A machine name is a host, not a secret place.
    let netrcs = [
        format!("machine git.hyg.example login alice password {s}\n"),
        format!("machine new.hyg.example login bob password {s}\ndefault login x password {s}\n"),
        format!("machine git.hyg.example login alice password {s} password {s}\n"),
        format!("machine git.hyg.example login alice PASSWORD {s}\n"),
        format!("machine git.hyg.example login alice password \"{s}\n"),
        format!("machine git.hyg.example login alice password \"{s}\"x\n"),
        format!("machine git.hyg.example {s} alice\n"),
        format!("{s} git.hyg.example\n"),
        format!("password {s}\nmachine git.hyg.example\n"),
        format!("machine git.hyg.example login alice password {s}\0\n"),
        format!("machine git.hyg.example:99999 login alice password {s}\n"),
        format!("machine git.hyg.example login {s} password \n"),
    ];
    for text in &netrcs {
        let path = env.write_file("netrc", text);
        crate::common::set_mode(&path, 0o600);
        let file = path.to_str().unwrap();
        for args in [
            &["import-netrc", file][..],
            &["import-netrc", "--remove", file],
            &["import-netrc", "--save", file],
        ] {
            let out = env.gocred(args).run();
            assert_silent(&out, &format!("{args:?} of {text:?}"));
        }
        env.policy(POLICY);
    }
    // A netrc others can read is refused without showing it.
    let path = env.write_file("netrc", &netrcs[0]);
    crate::common::set_mode(&path, 0o644);
    assert_silent(
        &env.gocred(&["import-netrc", path.to_str().unwrap()]).run(),
        "import-netrc of a readable netrc",
    );
}

#[test]
fn a_broken_config_never_echoes_a_value() {
    let env = setup_without_answers();
    let s = secret("config");
    // Where a config could hold a secret: a url with a user name, password or query, a string
    // value under any key, a string left open. (Key and source names are not secret places.)
    let broken = [
        format!("[[rule]]\nurl = \"https://alice:{s}@git.hyg.example\"\nsources = [\"file\"]\n"),
        format!("[[rule]]\nurl = \"https://{s}@git.hyg.example/\"\nsources = [\"file\"]\n"),
        format!(
            "[[rule]]\nurl = \"https://git.hyg.example/?private_token={s}\"\nsources = [\"file\"]\n"
        ),
        format!("[[rule]]\nurl = \"https://git.hyg.example/#{s}\"\nsources = [\"file\"]\n"),
        format!(
            "[[rule]]\nurl = \"https://git.hyg.example\"\nsources = [\"file\"]\npassword = \"{s}\"\n"
        ),
        format!(
            "[[rule]]\nurl = \"https://git.hyg.example\"\nsources = [\"env\"]\ntoken_env = \"T\"\nusername = {s}\n"
        ),
        format!("token = \"{s}\n"),
        format!("token = '{s}\n"),
        format!("token = \"\"\"{s}"),
        format!(
            "[[rule]]\nurl = \"https://git.hyg.example\"\nsources = [\"oauth\"]\n[rule.oauth]\nprovider = \"gitlab\"\nclient_id = \"x\"\nclient_secret = \"{s}\"\n"
        ),
        format!("[file]\npath = 1\ntoken = \"{s}\"\n"),
    ];
    for config in &broken {
        env.policy(config);
        for (args, stdin) in [
            (&["get"][..], request("git.hyg.example", "")),
            (
                &["store"],
                request("git.hyg.example", "username=u\npassword=p\n"),
            ),
            (&["status"], String::new()),
            (&["config", "check"], String::new()),
            (&["netrc"], String::new()),
            (&["goauth"], String::new()),
        ] {
            let out = env.gocred(args).stdin(stdin).run();
            if args == ["get"] || args == ["config", "check"] {
                assert!(!out.status.success(), "{config:?} was accepted: {out}");
            }
            assert_silent(&out, &format!("{args:?} with config {config:?}"));
        }
    }
}

#[test]
fn a_corrupt_file_store_never_echoes_a_value() {
    let env = setup_without_answers();
    let s = secret("store");
    let store = env.file_store_path();
    std::fs::create_dir_all(store.parent().unwrap()).unwrap();
    let corrupt: [Vec<u8>; 5] = [
        format!("scope=https://git.hyg.example\nusername=u\n{s}\n").into_bytes(),
        format!("scope=https://git.hyg.example\nusername=u\npassword=p\npassword_expiry_utc={s}\n")
            .into_bytes(),
        format!("scope=https://git.hyg.example\nusername=u\npassword={s}\r\n").into_bytes(),
        [
            format!("scope=https://git.hyg.example\nusername=u\npassword={s}").as_bytes(),
            b"\xff\n",
        ]
        .concat(),
        format!("scope=https://git.hyg.example\n{s}=x\n").into_bytes(),
    ];
    for (i, bytes) in corrupt.iter().enumerate() {
        for mode in [0o600, 0o644] {
            std::fs::write(&store, bytes).unwrap();
            std::fs::set_permissions(&store, std::fs::Permissions::from_mode(mode)).unwrap();
            for (args, stdin) in [
                (&["get"][..], request("git.hyg.example", "")),
                (
                    &["store"],
                    request("git.hyg.example", "username=u\npassword=p\n"),
                ),
                (&["erase"], request("git.hyg.example", "username=u\n")),
                (&["status"], String::new()),
                (&["netrc"], String::new()),
                (&["goauth"], String::new()),
                (&["exec", "--", "true"], String::new()),
            ] {
                let out = env.gocred(args).stdin(stdin).run();
                assert_silent(
                    &out,
                    &format!("{args:?} with corrupt store {i} mode {mode:o}"),
                );
            }
        }
    }
}

/// Puts a valid entry back and erases it through gocred (which drops its index line too), even
/// when the test fails: a corrupt entry left in the persistent keyring would break every later
/// keyutils `status`.
struct RestoreKeyutils<'e> {
    env: &'e TestEnv,
    host: String,
    id: String,
}

impl Drop for RestoreKeyutils<'_> {
    fn drop(&mut self) {
        let base = format!("https://{}", self.host);
        let valid = format!("scope={base}\nusername=u\npassword=p\n\n");
        let _ = crate::common::keyring::keyctl(self.env, &["update", &self.id, &valid]);
        let _ = self
            .env
            .gocred(&["erase"])
            .stdin(request(&self.host, "username=u\n"))
            .run();
        crate::common::keyring::keyutils_purge(self.env, &base);
    }
}

#[test]
fn a_corrupt_keyutils_entry_never_echoes_a_value() {
    crate::common::keyring::require_session_keyring();
    // keyutils entries and gocred's index live in the user's persistent keyring: take turns
    // with the other keyutils tests, which a corrupt entry would disturb.
    let _turn = crate::keychain::keyutils_turn();
    let env = TestEnv::new();
    let host = format!("hyg-{}.keychain.example", std::process::id());
    let base = format!("https://{host}");
    env.policy(&format!(
        "[keychain]\nbackend = \"keyutils\"\n\n[[rule]]\nurl = \"{base}\"\nsources = [\"keychain\"]\nstore = \"keychain\"\n"
    ));
    env.gocred(&["store"])
        .stdin(request(&host, "username=u\npassword=p\n"))
        .success();
    let keyctl = |args: &[&str]| crate::common::keyring::keyctl(&env, args);
    let id = keyctl(&["search", "@s", "user", &format!("keyring:{base}@gocred")]);
    id.assert_success();
    let id = id.stdout.trim().to_owned();
    let _restore = RestoreKeyutils {
        env: &env,
        host: host.clone(),
        id: id.clone(),
    };
    let s = secret("keychain");
    for blob in [
        format!("scope={base}\nusername=u\n{s}\n\n"),
        format!("scope={base}\nusername=u\npassword=p\npassword_expiry_utc={s}\n\n"),
        format!("scope={base}\n{s}=u\npassword=p\n\n"),
        s.clone(),
    ] {
        keyctl(&["update", &id, &blob]).assert_success();
        for (args, stdin) in [
            (&["get"][..], request(&host, "")),
            (&["store"], request(&host, "username=v\npassword=q\n")),
            (&["erase"], request(&host, "username=u\n")),
            (&["status"], String::new()),
            (&["netrc"], String::new()),
        ] {
            let out = env.gocred(args).stdin(stdin).run();
            assert_silent(&out, &format!("{args:?} with keyutils blob {blob:?}"));
        }
    }
}

#[test]
fn a_panic_holding_a_secret_prints_where_and_never_what() {
    let env = setup();
    for program in [crate::common::GOCRED, crate::common::GIT_CREDENTIAL_GOCRED] {
        let out = env
            .command(program)
            .arg("get")
            .env("GOCRED_TEST_PANIC", secret("panic"))
            .stdin(request("git.hyg.example", ""))
            .run();
        assert!(!out.status.success(), "{out}");
        assert_silent(&out, "panic");
        assert!(
            out.stderr.contains("internal error at src/") && out.stderr.lines().count() == 1,
            "{out}"
        );
    }
}

/// The owner of `/proc/PID/status`: the process's user while it is dumpable, root once it is not.
fn proc_owner(pid: u32) -> u32 {
    std::fs::metadata(format!("/proc/{pid}/status"))
        .unwrap()
        .uid()
}

/// Spawns `program args` as an unprivileged user with stdin left open (so it blocks reading),
/// and returns the owner of its `/proc/PID` once it differs from that user, or after `wait`.
fn proc_owner_while_blocked(program: &str, args: &[&str], wait: Duration) -> (u32, u32) {
    // SAFETY: getuid cannot fail.
    let me = unsafe { libc::getuid() };
    // As root, run the child as nobody, whose /proc entries are not root's.
    let user = if me == 0 { 65534 } else { me };
    let mut command = Command::new(program);
    command
        .args(args)
        .env_clear()
        .env("PATH", "/usr/bin:/bin")
        .env("HOME", "/nonexistent")
        .env("GOCRED_CONFIG", "/nonexistent/gocred.toml")
        .current_dir("/")
        .stdin(Stdio::piped())
        .stdout(Stdio::null())
        .stderr(Stdio::null());
    if me == 0 {
        command.uid(user).gid(user);
    }
    let mut child = command.spawn().unwrap();
    let started = Instant::now();
    let mut owner = proc_owner(child.id());
    while owner == user && started.elapsed() < wait {
        std::thread::sleep(Duration::from_millis(10));
        owner = proc_owner(child.id());
    }
    let mut stdin = child.stdin.take().unwrap();
    let _ = stdin.write_all(b"protocol=https\nhost=x.example\n\n");
    drop(stdin);
    child.wait().unwrap();
    (owner, user)
}

#[cfg(target_os = "linux")]
#[test]
fn gocred_is_not_dumpable_while_it_runs() {
    // The control: an ordinary program blocked the same way stays dumpable.
    let (owner, user) = proc_owner_while_blocked("/bin/cat", &[], Duration::from_millis(300));
    assert_eq!(owner, user, "the check cannot tell dumpable from not");
    for (program, args) in [
        (crate::common::GOCRED, &["get"][..]),
        (crate::common::GIT_CREDENTIAL_GOCRED, &["get"]),
        (crate::common::GOCRED, &["store"]),
    ] {
        let (owner, user) = proc_owner_while_blocked(program, args, Duration::from_secs(10));
        assert_ne!(user, 0);
        assert_eq!(
            owner, 0,
            "{program} {args:?} is still dumpable while it waits for git's request"
        );
    }
}
