//! Real keyrings for the keychain tests, never the developer's own:
//!
//! - [`SecretService`]: a private D-Bus session bus on a socket in the test's temporary directory
//!   (no service activation), with gnome-keyring's Secret Service started in the test's HOME/XDG
//!   directories and, unless asked otherwise, a login keyring unlocked with a non-empty password.
//!   Both daemons are killed by pid when it drops.
//! - [`KeyringNamespace`]: kernel keyutils in a user namespace of the test's own. keyutils keys
//!   live in the session keyring and in the user's *persistent* keyring, which is one per uid
//!   and per user namespace, shared by every session: a test that stored there wrote into the
//!   developer's real keyring and left keys behind (issue 9). A keyutils test calls
//!   [`require_session_keyring`] first; every [`TestEnv`] it creates afterwards runs each of its
//!   commands inside one user namespace of that env's own (`unshare --user`), each in a new
//!   session keyring holding the namespace's persistent keyring (what a fresh login session
//!   sees), so keys stored by one command are found by the next, `keyctl` included, and all of
//!   them go when the env drops: nothing is left behind, and the user's keyrings are never read.
//!
//! A missing prerequisite fails the test with a message that says to run `scripts/test`.

use super::{Output, TestEnv};
use std::cell::Cell;
use std::ffi::OsStr;
use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

const RUN_SCRIPTS_TEST: &str = "the keychain tests need dbus-daemon, gnome-keyring-daemon, secret-tool, \
     keyctl, unshare and nsenter, and user namespaces: run the tests with `scripts/test` (it installs \
     what is missing)";

/// How long a daemon may take to come up before the test fails.
const STARTUP: Duration = Duration::from_secs(10);

/// The login keyring's password in every test keyring.
pub const KEYRING_PASSWORD: &str = "gocred-test-keyring-password";

/// `program` must be installed: a test that needs it fails otherwise.
#[track_caller]
pub fn require_program(program: &str) -> PathBuf {
    for dir in ["/usr/local/bin", "/usr/bin", "/bin", "/usr/sbin", "/sbin"] {
        let path = Path::new(dir).join(program);
        if path.is_file() {
            return path;
        }
    }
    panic!("{program} is not installed: {RUN_SCRIPTS_TEST}");
}

/// What the login keyring looks like when the daemon starts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Login {
    /// Created (or opened) and unlocked with [`KEYRING_PASSWORD`].
    Unlocked,
    /// Started without a password: headless, no login collection exists.
    Absent,
}

/// A private session bus with gnome-keyring's Secret Service on it.
pub struct SecretService {
    bus: Child,
    keyring: Option<Child>,
    /// gnome-keyring-daemon's stderr, kept in the test's directory: when the daemon dies during
    /// a test (it aborts on its own assertions), the test's output says so and shows why.
    keyring_log: Option<PathBuf>,
    address: String,
}

impl SecretService {
    /// Starts the bus and the keyring in `env`'s directories and points every later command of
    /// `env` at the bus (`DBUS_SESSION_BUS_ADDRESS`).
    #[track_caller]
    pub fn start(env: &mut TestEnv, login: Login) -> SecretService {
        let service = Self::start_bus(env);
        env.set_env("DBUS_SESSION_BUS_ADDRESS", &service.address);
        service.start_keyring(env, login)
    }

    /// Only the bus, nobody serving the Secret Service on it.
    #[track_caller]
    pub fn start_bus(env: &mut TestEnv) -> SecretService {
        let dbus = require_program("dbus-daemon");
        let socket = env.root().join("bus");
        let config = env.write_file(
            "bus.conf",
            &format!(
                r#"<!DOCTYPE busconfig PUBLIC "-//freedesktop//DTD D-Bus Bus Configuration 1.0//EN"
 "http://www.freedesktop.org/standards/dbus/1.0/busconfig.dtd">
<busconfig>
  <type>session</type>
  <listen>unix:path={}</listen>
  <auth>EXTERNAL</auth>
  <!-- A desktop session bus's limits (Debian's session.conf): dbus-daemon's defaults admit only
       64 connections still authenticating, so a burst of gocred processes would be refused. -->
  <limit name="max_completed_connections">100000</limit>
  <limit name="max_incomplete_connections">10000</limit>
  <limit name="max_connections_per_user">100000</limit>
  <limit name="auth_timeout">240000</limit>
  <policy context="default">
    <allow send_destination="*" eavesdrop="true"/>
    <allow eavesdrop="true"/>
    <allow own="*"/>
  </policy>
</busconfig>
"#,
                socket.display()
            ),
        );
        let bus = Command::new(dbus)
            .arg(format!("--config-file={}", config.display()))
            .arg("--nofork")
            .env_clear()
            .envs(env.base_env())
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("start dbus-daemon");
        let address = format!("unix:path={}", socket.display());
        let mut service = SecretService {
            bus,
            keyring: None,
            keyring_log: None,
            address,
        };
        let deadline = Instant::now() + STARTUP;
        // The socket file appears at bind(), before listen(): wait until it accepts (seen
        // refusing a client under load otherwise).
        while std::os::unix::net::UnixStream::connect(&socket).is_err() {
            if let Ok(Some(status)) = service.bus.try_wait() {
                panic!("dbus-daemon exited at start ({status}): {RUN_SCRIPTS_TEST}");
            }
            assert!(
                Instant::now() < deadline,
                "dbus-daemon did not listen on {} within {STARTUP:?}",
                socket.display()
            );
            std::thread::sleep(Duration::from_millis(10));
        }
        service
    }

    #[track_caller]
    fn start_keyring(mut self, env: &TestEnv, login: Login) -> SecretService {
        let daemon = require_program("gnome-keyring-daemon");
        let log_path = env.root().join("gnome-keyring.log");
        let log = std::fs::File::create(&log_path).expect("create gnome-keyring.log");
        let mut command = Command::new(daemon);
        command.args(["--foreground", "--components=secrets"]);
        if login == Login::Unlocked {
            command.arg("--unlock");
        }
        let mut child = command
            .env_clear()
            .envs(env.base_env())
            .env("DBUS_SESSION_BUS_ADDRESS", &self.address)
            .stdin(Stdio::piped())
            .stdout(Stdio::null())
            .stderr(log)
            .spawn()
            .expect("start gnome-keyring-daemon");
        self.keyring_log = Some(log_path);
        {
            use std::io::Write;
            let mut stdin = child.stdin.take().unwrap();
            if login == Login::Unlocked {
                stdin
                    .write_all(KEYRING_PASSWORD.as_bytes())
                    .expect("give gnome-keyring-daemon its password");
            }
        } // closed: the daemon reads the password to EOF
        self.keyring = Some(child);
        let deadline = Instant::now() + STARTUP;
        while !self.name_has_owner(env, "org.freedesktop.secrets") {
            if let Some(Ok(Some(status))) = self.keyring.as_mut().map(Child::try_wait) {
                panic!("gnome-keyring-daemon exited at start ({status}): {RUN_SCRIPTS_TEST}");
            }
            assert!(
                Instant::now() < deadline,
                "gnome-keyring-daemon did not take org.freedesktop.secrets within {STARTUP:?}"
            );
            std::thread::sleep(Duration::from_millis(20));
        }
        if login == Login::Unlocked {
            // --unlock creates the login collection just after taking the name.
            while self.default_collection(env).is_none() {
                assert!(
                    Instant::now() < deadline,
                    "gnome-keyring-daemon made no login collection within {STARTUP:?}"
                );
                std::thread::sleep(Duration::from_millis(20));
            }
        }
        self
    }

    pub fn address(&self) -> &str {
        &self.address
    }

    /// Whether gnome-keyring aborted on its own race: the daemon is gone and its last words are
    /// "assertion 'client' failed" (`gkd_secret_service_get_pkcs11_session`, then `g_variant_new`
    /// of a NULL value and SIGTRAP). gnome-keyring 42 to 50 does this now and then when clients
    /// connect and disconnect in bursts (upstream issue 190, reported against go-keyring and
    /// other clients too; unfixed in Debian's 42.1): seen here about once in forty runs of two
    /// hundred parallel fills.
    pub fn aborted_on_its_client_race(&mut self) -> bool {
        let gone = matches!(
            self.keyring.as_mut().map(Child::try_wait),
            Some(Ok(Some(_)))
        );
        gone && self.keyring_log.as_ref().is_some_and(|log| {
            std::fs::read_to_string(log).is_ok_and(|said| {
                said.contains("gkd_secret_service_get_pkcs11_session: assertion 'client' failed")
            })
        })
    }

    /// `dbus-send --print-reply` on this bus, asserting success.
    #[track_caller]
    pub fn dbus_send(&self, env: &TestEnv, args: &[&str]) -> Output {
        let out = env
            .command(require_program("dbus-send"))
            .env("DBUS_SESSION_BUS_ADDRESS", &self.address)
            .arg(format!("--bus={}", self.address))
            .arg("--print-reply")
            .args(args)
            .run();
        out.assert_success();
        out
    }

    fn name_has_owner(&self, env: &TestEnv, name: &str) -> bool {
        self.dbus_send(
            env,
            &[
                "--dest=org.freedesktop.DBus",
                "/org/freedesktop/DBus",
                "org.freedesktop.DBus.NameHasOwner",
                &format!("string:{name}"),
            ],
        )
        .stdout
        .contains("boolean true")
    }

    /// The object path of the `default` alias, if there is one.
    pub fn default_collection(&self, env: &TestEnv) -> Option<String> {
        let out = self.dbus_send(
            env,
            &[
                "--dest=org.freedesktop.secrets",
                "/org/freedesktop/secrets",
                "org.freedesktop.Secret.Service.ReadAlias",
                "string:default",
            ],
        );
        let path = out.stdout.split('"').nth(1)?.to_owned();
        (path != "/").then_some(path)
    }

    /// Locks the login collection (as a screen lock or `Lock` from a keyring UI would).
    #[track_caller]
    pub fn lock(&self, env: &TestEnv) {
        let collection = self
            .default_collection(env)
            .expect("a login collection to lock");
        self.dbus_send(
            env,
            &[
                "--dest=org.freedesktop.secrets",
                "/org/freedesktop/secrets",
                "org.freedesktop.Secret.Service.Lock",
                &format!("array:objpath:{collection}"),
            ],
        );
    }

    /// `secret-tool ARGS` against this keyring (libsecret, independent of gocred's code).
    #[track_caller]
    pub fn secret_tool(&self, env: &TestEnv, args: &[&str]) -> Output {
        env.command(require_program("secret-tool"))
            .env("DBUS_SESSION_BUS_ADDRESS", &self.address)
            .args(args)
            .run()
    }

    /// The raw secret gocred filed under `user` (a scope key, or `gocred:index`), read back with
    /// `secret-tool lookup`; `None` when there is no such item.
    #[track_caller]
    pub fn lookup(&self, env: &TestEnv, user: &str) -> Option<String> {
        let out = self.secret_tool(env, &["lookup", "service", "gocred", "username", user]);
        match out.code() {
            Some(0) => Some(out.stdout),
            Some(1) if out.stdout.is_empty() => None,
            _ => panic!("secret-tool lookup failed: {out}"),
        }
    }
}

impl Drop for SecretService {
    fn drop(&mut self) {
        // A daemon that is gone before the test ends died during it: say so, with its last
        // words, next to whatever the test reported (a NoReply, a missing item).
        if let (Some(Ok(Some(status))), Some(log)) = (
            self.keyring.as_mut().map(Child::try_wait),
            self.keyring_log.as_ref(),
        ) {
            let said = std::fs::read_to_string(log).unwrap_or_default();
            eprintln!("gnome-keyring-daemon died during the test ({status}); its stderr:\n{said}");
        }
        for child in self
            .keyring
            .iter_mut()
            .chain(std::iter::once(&mut self.bus))
        {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

thread_local! {
    /// Set by [`require_session_keyring`]: the TestEnvs this test thread creates from then on get
    /// a [`KeyringNamespace`] of their own.
    static OWN_KEYRING: Cell<bool> = const { Cell::new(false) };
}

/// Marks the calling test as a keyutils test: every [`TestEnv`] it creates after this call runs
/// its commands in a [`KeyringNamespace`] of its own (so call it before `TestEnv::new`). Fails the
/// test when the tools for that are missing.
#[track_caller]
pub fn require_session_keyring() {
    for program in ["keyctl", "unshare", "nsenter"] {
        require_program(program);
    }
    OWN_KEYRING.with(|own| own.set(true));
}

/// Whether [`require_session_keyring`] was called on this thread.
pub fn wants_own_keyring() -> bool {
    OWN_KEYRING.with(Cell::get)
}

/// A user namespace that exists for one [`TestEnv`]: its uid mapped to itself (file ownership
/// reads the same inside), with a persistent keyring of its own. A holder process (`cat` on a
/// pipe from us) keeps it alive; it goes, with every key in it, when this drops or when the test
/// process dies (the pipe closes).
pub struct KeyringNamespace {
    holder: Child,
    /// `/proc/<holder>/ns/user`.
    ns: PathBuf,
    keyctl: PathBuf,
    nsenter: PathBuf,
}

impl KeyringNamespace {
    #[track_caller]
    pub fn start() -> KeyringNamespace {
        let keyctl = require_program("keyctl");
        let nsenter = require_program("nsenter");
        let mut holder = Command::new(require_program("unshare"))
            .args(["--user", "--map-current-user", "--", "/bin/sh", "-c"])
            .arg("echo ready && exec cat >/dev/null")
            .env_clear()
            .env("PATH", "/usr/bin:/bin")
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("start unshare --user");
        let mut ready = String::new();
        let _ = BufReader::new(holder.stdout.take().unwrap()).read_line(&mut ready);
        if ready != "ready\n" {
            let _ = holder.kill();
            let out = holder.wait_with_output().expect("wait for unshare");
            panic!(
                "cannot make a user namespace for the keyutils test ({}): {}; {RUN_SCRIPTS_TEST}",
                out.status,
                String::from_utf8_lossy(&out.stderr).trim()
            );
        }
        let ns = PathBuf::from(format!("/proc/{}/ns/user", holder.id()));
        assert_ne!(
            std::fs::read_link(&ns).ok(),
            std::fs::read_link("/proc/self/ns/user").ok(),
            "BUG: the keyring holder is not in a user namespace of its own"
        );
        KeyringNamespace {
            holder,
            ns,
            keyctl,
            nsenter,
        }
    }

    /// `program` to run inside the namespace, in a new session keyring that holds the
    /// namespace's persistent keyring; its arguments follow. Exit status, stdin and stdout are
    /// the program's own; the environment and working directory are the caller's to set.
    pub fn command(&self, program: &OsStr) -> Command {
        let keyctl = self.keyctl.display();
        let mut cmd = Command::new(&self.nsenter);
        cmd.arg(format!("--user={}", self.ns.display()))
            .args(["--preserve-credentials", "--", "/bin/sh", "-c"])
            .arg(format!(
                "{keyctl} new_session >/dev/null && {keyctl} get_persistent @s >/dev/null && exec \"$@\""
            ))
            .arg("sh")
            .arg(program);
        cmd
    }

    /// `/proc/<holder>/ns/user`: the namespace, for `nsenter --user=`.
    pub fn ns_path(&self) -> &Path {
        &self.ns
    }

    /// The pid of the process that keeps the namespace alive.
    pub fn holder_pid(&self) -> u32 {
        self.holder.id()
    }
}

impl Drop for KeyringNamespace {
    fn drop(&mut self) {
        drop(self.holder.stdin.take());
        let _ = self.holder.kill();
        let _ = self.holder.wait();
    }
}

/// `keyctl ARGS` in `env`: in its [`KeyringNamespace`] when it has one (a keyutils test), where
/// `@s` holds that namespace's persistent keyring and so every key gocred stored there.
pub fn keyctl(env: &TestEnv, args: &[&str]) -> Output {
    env.command(require_program("keyctl")).args(args).run()
}

/// The payload of gocred's keyutils key for `user` (a scope key, or `gocred:index`), read with
/// `keyctl`; `None` when there is no such key.
#[track_caller]
pub fn keyutils_lookup(env: &TestEnv, user: &str) -> Option<String> {
    // linux-keyutils-keyring-store's description: `keyring:<user>@<service>`.
    let description = format!("keyring:{user}@gocred");
    let found = keyctl(env, &["search", "@s", "user", &description]);
    if !found.status.success() {
        // An erased key is invalidated and may still be found, revoked, until the kernel's
        // garbage collector unlinks it; the store reads both as "no entry" too.
        assert!(
            [
                "Required key not available",
                "Key has been revoked",
                "Key has expired"
            ]
            .iter()
            .any(|gone| found.stderr.contains(gone)),
            "keyctl search failed: {found}"
        );
        return None;
    }
    let id = found.stdout.trim().to_owned();
    let printed = keyctl(env, &["pipe", &id]);
    printed.assert_success();
    Some(printed.stdout)
}

/// Removes gocred's keyutils key for `user`, if any (cleanup).
pub fn keyutils_purge(env: &TestEnv, user: &str) {
    let description = format!("keyring:{user}@gocred");
    let _ = keyctl(env, &["purge", "-s", "user", &description]);
}

/// The harness itself: what a keyutils test stores stays in its own namespace (found there by
/// the next gocred and by `keyctl`), never reaches this process's session keyring or the user's
/// persistent keyring, and is gone with the namespace when the env drops.
#[test]
fn keyutils_tests_keep_to_a_keyring_of_their_own() {
    require_session_keyring();
    let env = TestEnv::new();
    let host = format!("isolation-{}.keyring.example", std::process::id());
    let base = format!("https://{host}");
    env.policy(&format!(
        "[keychain]\nbackend = \"keyutils\"\n\n[[rule]]\nurl = \"{base}\"\nsources = [\"keychain\"]\nstore = \"keychain\"\n"
    ));
    let request = format!("protocol=https\nhost={host}\nusername=u\n");
    env.gocred(&["store"])
        .stdin(format!("{request}password=isolated-secret\n"))
        .success();
    let inside = keyutils_lookup(&env, &base).expect("the key, inside the namespace");
    assert!(inside.contains("password=isolated-secret"), "{inside}");
    let got = env.gocred(&["get"]).stdin(&request).success();
    assert!(got.stdout.contains("password=isolated-secret"), "{got}");

    let description = format!("keyring:{base}@gocred");
    let outside = |keyring: &str| {
        Command::new(require_program("keyctl"))
            .args(["session", "-", "/bin/sh", "-c"])
            .arg(format!("keyctl search {keyring} user \"$1\""))
            .args(["sh", &description])
            .env_clear()
            .env("PATH", "/usr/bin:/bin")
            .output()
            .expect("run keyctl")
    };
    for keyring in ["@s", "\"$(keyctl get_persistent @s)\"", "@u"] {
        let out = outside(keyring);
        assert!(
            !out.status.success()
                && String::from_utf8_lossy(&out.stderr).contains("Required key not available"),
            "the test's key is visible outside its namespace in {keyring}: {out:?}"
        );
    }
    let holder = env.keyring_namespace().expect("a namespace").holder_pid();
    drop(env);
    assert!(
        !Path::new(&format!("/proc/{holder}")).exists(),
        "the namespace's holder {holder} outlived the test env"
    );
}

/// Runs `scenario` in a new env with a new keyring (`login`), and, when gnome-keyring aborted on
/// its own client race during it ([`SecretService::aborted_on_its_client_race`]), once more
/// from scratch, saying so on stderr: a burst test's assertions are about gocred, and a daemon
/// that crashed in gnome-keyring's code cannot tell us anything about it. A second abort, or any
/// other failure, is the test's to report. `scenario` returns what the test then asserts on.
pub fn with_a_keyring_that_survives<T>(
    login: Login,
    scenario: impl Fn(&mut TestEnv, &SecretService) -> T,
) -> (TestEnv, SecretService, T) {
    let mut attempt = 1;
    loop {
        let mut env = TestEnv::new();
        let mut keyring = SecretService::start(&mut env, login);
        let result = scenario(&mut env, &keyring);
        if attempt == 1 && keyring.aborted_on_its_client_race() {
            eprintln!(
                "gnome-keyring-daemon aborted on its own client race (upstream issue 190); \
                 running the scenario once more with a new keyring"
            );
            attempt += 1;
            continue;
        }
        return (env, keyring, result);
    }
}
