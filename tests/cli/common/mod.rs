//! Test environment helpers (TestEnv: env_clear, temporary HOME/XDG dirs/git config).
//!
//! Every test builds its own [`TestEnv`]: a temporary directory that is HOME, with the XDG
//! directories under it, a private git global config and a policy file path in `GOCRED_CONFIG`.
//! Every command it spawns starts from `env_clear()` and gets only what is listed in
//! [`TestEnv::base_env`] plus what the test adds, so the machine's own CA variables, git config,
//! keyrings and credentials can never leak in, and tests can run in parallel. A keyutils test
//! (one that called `keyring::require_session_keyring` first, or whose policy names keyutils)
//! runs every command in a user namespace of its env's own, so the user's kernel keyrings are
//! never read or written; spawn through [`TestEnv::command`] or [`TestEnv::std_command`] only.
//!
//! ```ignore
//! let env = TestEnv::new();
//! env.policy(r#"[[rule]] ..."#);
//! let out = env.gocred(&["get"]).stdin("protocol=https\nhost=h.example\n").run();
//! out.assert_success();
//! assert_eq!(out.stdout, "username=...\npassword=...\n");
//! ```
#![allow(dead_code)]

pub mod ci_identity;
pub mod connect_proxy;
pub mod doctor_world;
pub mod git_server;
pub mod github_app_fake;
pub mod go;
pub mod http;
pub mod https;
pub mod keyring;
pub mod netrc_world;
pub mod oidc;
pub mod scripted;
pub mod vendor_fake;

use std::ffi::{OsStr, OsString};
use std::io::{Read, Write};
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::{Command, ExitStatus, Stdio};
use std::time::{Duration, Instant};

/// The built `gocred` binary.
pub const GOCRED: &str = env!("CARGO_BIN_EXE_gocred");
/// The built `git-credential-gocred` binary (what `credential.helper = gocred` runs).
pub const GIT_CREDENTIAL_GOCRED: &str = env!("CARGO_BIN_EXE_git-credential-gocred");

/// `/usr/local/bin` first: it holds git 2.47, which knows the 2.41+ credential attributes.
const SYSTEM_PATH: &str = "/usr/local/bin:/usr/bin:/bin:/usr/sbin:/sbin";

/// No spawned command may run longer than this; a hang (a prompt, a lock) fails the test.
const COMMAND_TIMEOUT: Duration = Duration::from_secs(120);

pub struct TestEnv {
    temp: tempfile::TempDir,
    home: PathBuf,
    /// Directories put in front of [`SYSTEM_PATH`], first one first.
    path_prepend: Vec<PathBuf>,
    /// Variables every command gets on top of the base environment (set with [`TestEnv::set_env`]).
    extra_env: Vec<(OsString, OsString)>,
    /// A keyutils test's own user namespace and keyrings (see `keyring::require_session_keyring`):
    /// every command runs in it. Dropped after the temporary directory's owner is done with it.
    /// Set at creation, or by the first [`TestEnv::policy`] that names keyutils.
    keyring: std::sync::OnceLock<keyring::KeyringNamespace>,
}

impl Default for TestEnv {
    fn default() -> Self {
        Self::new()
    }
}

impl TestEnv {
    pub fn new() -> Self {
        let temp = tempfile::Builder::new()
            .prefix("gocred-test-")
            .tempdir()
            .expect("create temp dir");
        // Canonical, so paths printed by the binaries compare equal to ours.
        let root = temp.path().canonicalize().expect("canonicalize temp dir");
        let home = root.join("home");
        let env = TestEnv {
            temp,
            home,
            path_prepend: Vec::new(),
            extra_env: Vec::new(),
            keyring: std::sync::OnceLock::new(),
        };
        if keyring::wants_own_keyring() {
            env.keyring.get_or_init(keyring::KeyringNamespace::start);
        }
        for dir in [
            env.home.clone(),
            env.config_home(),
            env.data_home(),
            env.cache_home(),
            env.runtime_dir(),
        ] {
            std::fs::create_dir_all(&dir).expect("create test dir");
            set_mode(&dir, 0o700);
        }
        std::fs::write(
            env.git_config_global(),
            "[user]\n\tname = gocred test\n\temail = test@gocred.invalid\n\
             [init]\n\tdefaultBranch = main\n\
             [advice]\n\tdetachedHead = false\n",
        )
        .expect("write git config");
        env
    }

    /// The temporary directory that holds HOME and anything else a test makes (repos, scripts).
    pub fn root(&self) -> PathBuf {
        self.home.parent().expect("home has a parent").to_owned()
    }

    pub fn home(&self) -> &Path {
        &self.home
    }

    pub fn config_home(&self) -> PathBuf {
        self.home.join(".config")
    }

    pub fn data_home(&self) -> PathBuf {
        self.home.join(".local/share")
    }

    pub fn cache_home(&self) -> PathBuf {
        self.home.join(".cache")
    }

    pub fn runtime_dir(&self) -> PathBuf {
        self.home.join(".run")
    }

    pub fn git_config_global(&self) -> PathBuf {
        self.home.join(".gitconfig")
    }

    /// Where `GOCRED_CONFIG` points. The file does not exist until [`TestEnv::policy`] writes it.
    pub fn policy_path(&self) -> PathBuf {
        self.config_home().join("gocred/config.toml")
    }

    /// The default file store (XDG_DATA_HOME/gocred/credentials).
    pub fn file_store_path(&self) -> PathBuf {
        self.data_home().join("gocred/credentials")
    }

    /// Writes the policy file (creating its directory) and returns its path. A policy that names
    /// keyutils moves every later command into a keyring namespace of this env's own (a safety
    /// net: keyutils tests say so up front with `keyring::require_session_keyring`).
    pub fn policy(&self, toml: &str) -> PathBuf {
        if toml.contains("keyutils") {
            self.keyring.get_or_init(keyring::KeyringNamespace::start);
        }
        let path = self.policy_path();
        std::fs::create_dir_all(path.parent().unwrap()).expect("create config dir");
        std::fs::write(&path, toml).expect("write policy");
        path
    }

    /// Writes `contents` to `name` under the test's root directory (creating parents).
    pub fn write_file(&self, name: &str, contents: &str) -> PathBuf {
        let path = self.root().join(name);
        std::fs::create_dir_all(path.parent().unwrap()).expect("create parent dir");
        std::fs::write(&path, contents).expect("write file");
        path
    }

    /// Writes an executable `#!/bin/sh` script under the root directory and returns its path.
    pub fn script(&self, name: &str, body: &str) -> PathBuf {
        let path = self.write_file(name, &format!("#!/bin/sh\n{body}\n"));
        set_mode(&path, 0o755);
        path
    }

    /// Reads the file store; `None` when it does not exist.
    pub fn file_store(&self) -> Option<String> {
        std::fs::read_to_string(self.file_store_path()).ok()
    }

    /// The file store's permission bits.
    pub fn file_store_mode(&self) -> u32 {
        std::fs::metadata(self.file_store_path())
            .expect("file store exists")
            .permissions()
            .mode()
            & 0o777
    }

    /// Adds a variable every later command gets (e.g. `DBUS_SESSION_BUS_ADDRESS`, `CI_JOB_TOKEN`).
    pub fn set_env(&mut self, key: impl AsRef<OsStr>, value: impl AsRef<OsStr>) -> &mut Self {
        let key = key.as_ref().to_owned();
        self.extra_env.retain(|(k, _)| *k != key);
        self.extra_env.push((key, value.as_ref().to_owned()));
        self
    }

    /// Puts `dir` in front of PATH for every later command.
    pub fn prepend_path(&mut self, dir: impl Into<PathBuf>) -> &mut Self {
        self.path_prepend.insert(0, dir.into());
        self
    }

    /// Makes `credential.helper = gocred` work: a directory on PATH holding `git-credential-gocred`
    /// (a symlink to the built binary, so argv[0] keeps the name git uses). Returns the directory.
    pub fn put_helper_on_path(&mut self) -> PathBuf {
        let dir = self.root().join("bin");
        std::fs::create_dir_all(&dir).expect("create bin dir");
        let link = dir.join("git-credential-gocred");
        if !link.exists() {
            std::os::unix::fs::symlink(GIT_CREDENTIAL_GOCRED, &link).expect("symlink helper");
        }
        if !self.path_prepend.contains(&dir) {
            self.prepend_path(dir.clone());
        }
        dir
    }

    /// PATH as commands see it.
    pub fn path_var(&self) -> OsString {
        let mut parts: Vec<OsString> = self
            .path_prepend
            .iter()
            .map(|p| p.as_os_str().to_owned())
            .collect();
        parts.push(SYSTEM_PATH.into());
        parts.join(OsStr::new(":"))
    }

    /// Every variable a spawned command starts with, before what the test adds.
    pub fn base_env(&self) -> Vec<(OsString, OsString)> {
        let mut vars: Vec<(OsString, OsString)> = vec![
            ("PATH".into(), self.path_var()),
            ("HOME".into(), self.home.clone().into()),
            ("XDG_CONFIG_HOME".into(), self.config_home().into()),
            ("XDG_DATA_HOME".into(), self.data_home().into()),
            ("XDG_CACHE_HOME".into(), self.cache_home().into()),
            ("XDG_RUNTIME_DIR".into(), self.runtime_dir().into()),
            ("LANG".into(), "C".into()),
            ("GIT_CONFIG_GLOBAL".into(), self.git_config_global().into()),
            ("GIT_CONFIG_NOSYSTEM".into(), "1".into()),
            ("GOCRED_CONFIG".into(), self.policy_path().into()),
        ];
        for (k, v) in &self.extra_env {
            vars.retain(|(key, _)| key != k);
            vars.push((k.clone(), v.clone()));
        }
        vars
    }

    /// The keyutils test's own keyring namespace, if this env has one.
    pub fn keyring_namespace(&self) -> Option<&keyring::KeyringNamespace> {
        self.keyring.get()
    }

    /// `program` as a plain `std::process::Command`, set up as [`TestEnv::command`] sets it up
    /// (cleared environment, test root as working directory, the env's keyring namespace): for a
    /// test that spawns many processes itself. Spawn every process of a test through this or
    /// [`TestEnv::command`], never `Command::new`, so a keyutils test stays in its own keyrings.
    pub fn std_command(&self, program: impl AsRef<OsStr>) -> Command {
        let mut cmd = match self.keyring.get() {
            Some(ns) => ns.command(program.as_ref()),
            None => Command::new(program),
        };
        cmd.env_clear()
            .envs(self.base_env())
            .current_dir(self.root());
        cmd
    }

    /// Any program, in the cleared environment, with the test root as working directory.
    pub fn command(&self, program: impl AsRef<OsStr>) -> TestCommand {
        let cmd = self.std_command(program);
        TestCommand {
            cmd,
            stdin: Vec::new(),
            timeout: COMMAND_TIMEOUT,
        }
    }

    /// The built `gocred` binary with `args`.
    pub fn gocred(&self, args: &[&str]) -> TestCommand {
        self.command(GOCRED).args(args)
    }

    /// The built `git-credential-gocred` binary with `args` (as git would run it).
    pub fn helper(&self, args: &[&str]) -> TestCommand {
        self.command(GIT_CREDENTIAL_GOCRED).args(args)
    }

    /// `git` from PATH (2.47 in /usr/local/bin). `GIT_TERMINAL_PROMPT=0` unless the test says
    /// otherwise: a test must fail, never wait on a terminal.
    pub fn git(&self, args: &[&str]) -> TestCommand {
        self.command("git")
            .env("GIT_TERMINAL_PROMPT", "0")
            .args(args)
    }

    /// `git config --global KEY VALUE`, asserting success.
    pub fn git_config(&self, key: &str, value: &str) {
        self.git(&["config", "--global", "--add", key, value])
            .run()
            .assert_success();
    }

    /// Points git at the built binary by absolute path (`credential.helper = /…/gocred`).
    pub fn use_gocred_by_path(&self) {
        self.git_config("credential.helper", GOCRED);
    }

    /// `git credential fill` for `url`; git asks its configured helpers.
    pub fn credential_fill(&self, url: &str) -> Output {
        self.git(&["credential", "fill"])
            .stdin(format!("url={url}\n\n"))
            .run()
    }

    /// `git credential approve` of user/password for `url` (git runs every helper's `store`).
    pub fn credential_approve(&self, url: &str, username: &str, password: &str) -> Output {
        self.git(&["credential", "approve"])
            .stdin(format!(
                "url={url}\nusername={username}\npassword={password}\n\n"
            ))
            .run()
    }

    /// `git credential reject` of user/password for `url` (git runs every helper's `erase`).
    pub fn credential_reject(&self, url: &str, username: &str, password: &str) -> Output {
        self.git(&["credential", "reject"])
            .stdin(format!(
                "url={url}\nusername={username}\npassword={password}\n\n"
            ))
            .run()
    }
}

/// A command about to run in a [`TestEnv`]; consumed by [`TestCommand::run`].
pub struct TestCommand {
    cmd: Command,
    stdin: Vec<u8>,
    timeout: Duration,
}

impl TestCommand {
    pub fn arg(mut self, arg: impl AsRef<OsStr>) -> Self {
        self.cmd.arg(arg);
        self
    }

    pub fn args<S: AsRef<OsStr>>(mut self, args: impl IntoIterator<Item = S>) -> Self {
        self.cmd.args(args);
        self
    }

    pub fn env(mut self, key: impl AsRef<OsStr>, value: impl AsRef<OsStr>) -> Self {
        self.cmd.env(key, value);
        self
    }

    pub fn env_remove(mut self, key: impl AsRef<OsStr>) -> Self {
        self.cmd.env_remove(key);
        self
    }

    pub fn current_dir(mut self, dir: impl AsRef<Path>) -> Self {
        self.cmd.current_dir(dir);
        self
    }

    /// What the command reads on stdin (empty if never called).
    pub fn stdin(mut self, input: impl AsRef<[u8]>) -> Self {
        self.stdin = input.as_ref().to_vec();
        self
    }

    pub fn timeout(mut self, timeout: Duration) -> Self {
        self.timeout = timeout;
        self
    }

    /// Runs to completion (killing it after the timeout) and returns everything it said.
    pub fn run(mut self) -> Output {
        // Program and arguments only: the environment may hold test secrets.
        let description = std::iter::once(self.cmd.get_program())
            .chain(self.cmd.get_args())
            .map(|a| a.to_string_lossy())
            .collect::<Vec<_>>()
            .join(" ");
        let mut child = self
            .cmd
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap_or_else(|e| panic!("cannot spawn {description}: {e}"));
        let mut stdin = child.stdin.take().unwrap();
        let input = std::mem::take(&mut self.stdin);
        // A command may exit without reading everything (that is a valid answer): ignore EPIPE.
        let writer = std::thread::spawn(move || {
            let _ = stdin.write_all(&input);
        });
        let mut out = child.stdout.take().unwrap();
        let mut err = child.stderr.take().unwrap();
        let out_reader = std::thread::spawn(move || {
            let mut buf = Vec::new();
            let _ = out.read_to_end(&mut buf);
            buf
        });
        let err_reader = std::thread::spawn(move || {
            let mut buf = Vec::new();
            let _ = err.read_to_end(&mut buf);
            buf
        });
        let deadline = Instant::now() + self.timeout;
        let status = loop {
            if let Some(status) = child.try_wait().expect("wait for child") {
                break status;
            }
            if Instant::now() > deadline {
                let _ = child.kill();
                let _ = child.wait();
                panic!("timed out after {:?}: {description}", self.timeout);
            }
            std::thread::sleep(Duration::from_millis(5));
        };
        writer.join().unwrap();
        let stdout_bytes = out_reader.join().unwrap();
        let stderr_bytes = err_reader.join().unwrap();
        Output {
            stdout: String::from_utf8_lossy(&stdout_bytes).into_owned(),
            stderr: String::from_utf8_lossy(&stderr_bytes).into_owned(),
            stdout_bytes,
            status,
            description,
        }
    }

    /// Runs and asserts exit 0; returns the output.
    pub fn success(self) -> Output {
        let out = self.run();
        out.assert_success();
        out
    }
}

/// Everything a finished command said, together.
#[derive(Debug)]
pub struct Output {
    pub stdout: String,
    pub stderr: String,
    pub stdout_bytes: Vec<u8>,
    pub status: ExitStatus,
    description: String,
}

impl Output {
    /// The exit code (`None` if killed by a signal).
    pub fn code(&self) -> Option<i32> {
        self.status.code()
    }

    #[track_caller]
    pub fn assert_success(&self) -> &Self {
        assert!(self.status.success(), "expected success: {self}");
        self
    }

    #[track_caller]
    pub fn assert_code(&self, code: i32) -> &Self {
        assert_eq!(
            self.status.code(),
            Some(code),
            "unexpected exit code: {self}"
        );
        self
    }

    #[track_caller]
    pub fn assert_failure(&self) -> &Self {
        assert!(
            !self.status.success() && self.status.code().is_some(),
            "expected a clean failure: {self}"
        );
        self
    }

    /// stderr as lines without trailing empties.
    pub fn stderr_lines(&self) -> Vec<&str> {
        self.stderr.lines().collect()
    }
}

impl std::fmt::Display for Output {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{}\n  status: {}\n  stdout: {:?}\n  stderr: {:?}",
            self.description, self.status, self.stdout, self.stderr
        )
    }
}

/// `chmod MODE path`.
pub fn set_mode(path: &Path, mode: u32) {
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(mode)).expect("chmod");
}

/// Parses `key=value` lines (as git and gocred print them) into pairs.
pub fn parse_pairs(text: &str) -> Vec<(String, String)> {
    text.lines()
        .filter_map(|l| l.split_once('='))
        .map(|(k, v)| (k.to_owned(), v.to_owned()))
        .collect()
}

/// The value of `key` in `key=value` output.
pub fn value_of<'t>(text: &'t str, key: &str) -> Option<&'t str> {
    text.lines()
        .find_map(|l| l.strip_prefix(key).and_then(|r| r.strip_prefix('=')))
}

/// `n` `gocred get`s for `host` started at once, as parallel gits start them (each is running
/// before the first is waited for), each asserted to succeed: the passwords they printed.
pub fn parallel_gets(env: &TestEnv, host: &str, n: usize) -> Vec<String> {
    use std::io::Write;
    let children: Vec<_> = (0..n)
        .map(|_| {
            let mut child = env
                .std_command(GOCRED)
                .arg("get")
                .stdin(std::process::Stdio::piped())
                .stdout(std::process::Stdio::piped())
                .stderr(std::process::Stdio::piped())
                .spawn()
                .unwrap();
            child
                .stdin
                .take()
                .unwrap()
                .write_all(format!("protocol=https\nhost={host}\n\n").as_bytes())
                .unwrap();
            child
        })
        .collect();
    children
        .into_iter()
        .map(|child| {
            let out = child.wait_with_output().unwrap();
            assert!(out.status.success(), "{out:?}");
            let stdout = String::from_utf8_lossy(&out.stdout);
            value_of(&stdout, "password")
                .unwrap_or_else(|| panic!("no password: {out:?}"))
                .to_owned()
        })
        .collect()
}
