//! `gocred agent` (issue 13): a workstation agent on a Unix socket, and gocred on a "remote" (its
//! own HOME, no policy, `GOCRED_AGENT` pointing at the socket) forwarding to it. What the remote
//! gets is what the workstation's policy AND the agent's `--allow` list both grant; bad input on
//! the socket never stops the agent; a real sshd forwards the socket for a real `git clone`.

use crate::common::git_server::GitServer;
use crate::common::{GOCRED, TestEnv};
use std::io::{Read, Write};
use std::os::unix::net::UnixStream;
use std::path::{Path, PathBuf};
use std::process::{Child, Stdio};
use std::time::{Duration, Instant};

/// A running `gocred agent`, killed (and its stderr kept) on drop.
struct RunningAgent {
    child: Child,
    socket: PathBuf,
    log: PathBuf,
}

impl RunningAgent {
    fn start(env: &TestEnv, args: &[&str]) -> RunningAgent {
        let socket = env.root().join("agent-dir").join("socket");
        let log = env.root().join("agent.log");
        let child = env
            .std_command(GOCRED)
            .arg("agent")
            .arg("--socket")
            .arg(&socket)
            .args(args)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(std::fs::File::create(&log).unwrap())
            .spawn()
            .expect("start gocred agent");
        let started = Instant::now();
        while UnixStream::connect(&socket).is_err() {
            assert!(
                started.elapsed() < Duration::from_secs(10),
                "the agent never listened: {}",
                std::fs::read_to_string(&log).unwrap_or_default()
            );
            std::thread::sleep(Duration::from_millis(20));
        }
        RunningAgent { child, socket, log }
    }

    fn pid(&self) -> u32 {
        self.child.id()
    }

    fn log(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }

    fn open_fds(&self) -> usize {
        std::fs::read_dir(format!("/proc/{}/fd", self.pid()))
            .unwrap()
            .count()
    }
}

impl Drop for RunningAgent {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A "remote": a HOME of its own, no policy, `GOCRED_AGENT` set.
fn remote(socket: &Path) -> TestEnv {
    let mut env = TestEnv::new();
    env.set_env("GOCRED_AGENT", socket);
    env.set_env("GOCRED_AGENT_LABEL", "test-remote");
    env
}

fn get(env: &TestEnv, host: &str, path: Option<&str>) -> crate::common::Output {
    let mut req = format!("protocol=https\nhost={host}\n");
    if let Some(p) = path {
        req.push_str(&format!("path={p}\n"));
    }
    req.push('\n');
    env.gocred(&["get"]).stdin(req).run()
}

/// The workstation: three hosts in policy, each with a credential in the file store.
fn workstation() -> TestEnv {
    let env = TestEnv::new();
    env.policy(
        "[[rule]]\nurl = \"https://git.corp.example\"\nsources = [\"file\"]\nstore = \"file\"\n\n\
         [[rule]]\nurl = \"https://gh.corp.example\"\nsources = [\"file\"]\nstore = \"file\"\n\n\
         [[rule]]\nurl = \"https://secret.corp.example\"\nsources = [\"file\"]\nstore = \"file\"\n",
    );
    for (host, user, pw) in [
        ("git.corp.example", "alice", "git-FAKE-token"),
        ("gh.corp.example", "bob", "gh-FAKE-token"),
        ("secret.corp.example", "carol", "secret-FAKE-token"),
    ] {
        env.gocred(&["store"])
            .stdin(format!(
                "protocol=https\nhost={host}\nusername={user}\npassword={pw}\n\n"
            ))
            .success();
    }
    env
}

#[test]
fn a_remote_gets_only_what_both_the_policy_and_the_allow_list_grant() {
    let ws = workstation();
    let agent = RunningAgent::start(
        &ws,
        &[
            "--allow",
            "git.corp.example",
            "--allow",
            "https://gh.corp.example/team/",
            "--allow",
            "https://unknown.corp.example",
        ],
    );
    let rm = remote(&agent.socket);

    let out = get(&rm, "git.corp.example", None);
    out.assert_success();
    assert_eq!(out.stdout, "username=alice\npassword=git-FAKE-token\n");
    // In policy, not on --allow: nothing, and the remote is told why.
    let out = get(&rm, "secret.corp.example", None);
    out.assert_success();
    assert_eq!(out.stdout, "");
    assert!(
        out.stderr.contains("not on the agent's --allow list"),
        "{}",
        out.stderr
    );
    // On --allow, not in policy: nothing.
    assert_eq!(get(&rm, "unknown.corp.example", None).stdout, "");
    // A path-scoped allow entry: only with a path under it.
    assert_eq!(get(&rm, "gh.corp.example", None).stdout, "");
    assert_eq!(
        get(&rm, "gh.corp.example", Some("other/repo.git")).stdout,
        ""
    );
    assert_eq!(get(&rm, "gh.corp.example", Some("team/../x")).stdout, "");
    assert_eq!(
        get(&rm, "gh.corp.example", Some("team/repo.git")).stdout,
        "username=bob\npassword=gh-FAKE-token\n"
    );
    // Another port or scheme of an allowed host is another origin.
    assert_eq!(get(&rm, "git.corp.example:8443", None).stdout, "");

    // The netrc names only hosts allowed whole.
    let out = rm.gocred(&["netrc"]).run();
    out.assert_success();
    assert_eq!(
        out.stdout,
        "machine git.corp.example login alice password git-FAKE-token\n"
    );
    // GOAUTH: a URL off the list gets nothing; gh's answer would cover the whole host, more than
    // `/team/`, so it is not given either.
    let out = rm
        .gocred(&["goauth", "https://secret.corp.example/x/y"])
        .run();
    assert_eq!(out.stdout, "");
    let out = rm
        .gocred(&["goauth", "https://gh.corp.example/team/mod"])
        .run();
    assert_eq!(out.stdout, "");
    let out = rm
        .gocred(&["goauth", "https://git.corp.example/x/mod"])
        .run();
    assert_eq!(
        out.stdout,
        "https://git.corp.example/\n\nAuthorization: Basic YWxpY2U6Z2l0LUZBS0UtdG9rZW4=\n\n"
    );

    // The agent's log names the label and what happened, never a secret.
    let log = agent.log();
    assert!(
        log.contains("[test-remote] get: https://git.corp.example: answered"),
        "{log}"
    );
    assert!(log.contains("refused (not on --allow)"), "{log}");
    assert!(!log.contains("FAKE-token"), "{log}");
    // The remote's HOME holds nothing.
    assert_no_secret_under(rm.root().as_path());
}

/// Fails if any file under `dir` holds one of the test's tokens.
fn assert_no_secret_under(dir: &Path) {
    let mut stack = vec![dir.to_owned()];
    while let Some(d) = stack.pop() {
        let Ok(entries) = std::fs::read_dir(&d) else {
            continue;
        };
        for e in entries.flatten() {
            let p = e.path();
            let Ok(meta) = std::fs::symlink_metadata(&p) else {
                continue;
            };
            if meta.is_dir() {
                stack.push(p);
            } else if meta.is_file() {
                let bytes = std::fs::read(&p).unwrap_or_default();
                let text = String::from_utf8_lossy(&bytes);
                assert!(!text.contains("FAKE-token"), "a secret in {}", p.display());
            }
        }
    }
}

#[test]
fn store_is_refused_and_erase_only_rejects_for_the_session_unless_allowed() {
    let ws = workstation();
    let agent = RunningAgent::start(&ws, &["--allow", "git.corp.example"]);
    let rm = remote(&agent.socket);
    let before = ws.file_store().unwrap();
    rm.gocred(&["store"])
        .stdin("protocol=https\nhost=git.corp.example\nusername=mallory\npassword=planted-FAKE-token\n\n")
        .success();
    assert_eq!(ws.file_store().unwrap(), before, "a read-only agent stored");

    // An erase of a credential the agent never answers marks nothing (the remote cannot fill
    // the agent's memory): the real one is still answered.
    rm.gocred(&["erase"])
        .stdin("protocol=https\nhost=git.corp.example\nusername=alice\npassword=made-up\n\n")
        .success();
    assert_eq!(
        get(&rm, "git.corp.example", None).stdout,
        "username=alice\npassword=git-FAKE-token\n"
    );
    assert!(agent.log().contains("nothing to mark"), "{}", agent.log());
    // erase: the credential is rejected for this session, still stored on the workstation.
    rm.gocred(&["erase"])
        .stdin("protocol=https\nhost=git.corp.example\nusername=alice\npassword=git-FAKE-token\n\n")
        .success();
    assert_eq!(ws.file_store().unwrap(), before);
    assert_eq!(get(&rm, "git.corp.example", None).stdout, "");
    // The workstation itself still gets it.
    let out = get(&ws, "git.corp.example", None);
    assert_eq!(out.stdout, "username=alice\npassword=git-FAKE-token\n");
    drop(agent);

    // --read-write --allow-erase: both reach the store.
    let agent = RunningAgent::start(
        &ws,
        &[
            "--allow",
            "git.corp.example",
            "--read-write",
            "--allow-erase",
        ],
    );
    let rm = remote(&agent.socket);
    rm.gocred(&["store"])
        .stdin("protocol=https\nhost=git.corp.example\nusername=alice\npassword=new-FAKE-token\n\n")
        .success();
    assert_eq!(
        get(&ws, "git.corp.example", None).stdout,
        "username=alice\npassword=new-FAKE-token\n"
    );
    rm.gocred(&["erase"])
        .stdin("protocol=https\nhost=git.corp.example\nusername=alice\npassword=new-FAKE-token\n\n")
        .success();
    assert_eq!(get(&ws, "git.corp.example", None).stdout, "");
}

#[test]
fn losing_the_agent_is_one_line_naming_the_socket_and_a_miss() {
    let ws = workstation();
    let agent = RunningAgent::start(&ws, &["--allow", "git.corp.example"]);
    let socket = agent.socket.clone();
    let rm = remote(&socket);
    drop(agent);
    let out = get(&rm, "git.corp.example", None);
    out.assert_success();
    assert_eq!(out.stdout, "");
    let lines = out.stderr_lines();
    assert_eq!(lines.len(), 1, "{}", out.stderr);
    assert!(
        lines[0].contains(&socket.display().to_string()),
        "{}",
        out.stderr
    );
    assert!(lines[0].contains("not reachable"), "{}", out.stderr);
    // goauth and netrc: a miss too (a failing GOAUTH command would stop go).
    let out = rm.gocred(&["goauth", "https://git.corp.example/m"]).run();
    out.assert_success();
    assert_eq!(out.stdout, "");
}

#[test]
fn status_on_the_remote_names_the_agent_and_what_it_may_ask_for() {
    let ws = workstation();
    let agent = RunningAgent::start(
        &ws,
        &[
            "--allow",
            "git.corp.example",
            "--allow",
            "https://gh.corp.example/team/",
        ],
    );
    let rm = remote(&agent.socket);
    let out = rm.gocred(&["status"]).run();
    out.assert_success();
    assert!(
        out.stdout
            .contains(&format!("agent at {}", agent.socket.display())),
        "{}",
        out.stdout
    );
    assert!(
        out.stdout.contains("  https://git.corp.example/\n"),
        "{}",
        out.stdout
    );
    assert!(
        out.stdout.contains("  https://gh.corp.example/team/\n"),
        "{}",
        out.stdout
    );
    assert!(
        !out.stdout.contains("secret.corp.example"),
        "{}",
        out.stdout
    );
    let out = rm.gocred(&["status", "--json"]).run();
    out.assert_success();
    let v: serde_json::Value = serde_json::from_str(&out.stdout).unwrap();
    assert_eq!(v["agent"]["reachable"], true);
    assert_eq!(v["agent"]["allow"][1], "https://gh.corp.example/team/");
}

// ---------------------------------------------------------------------------------------------
// Bad input on the socket.

fn frame(payload: &[u8]) -> Vec<u8> {
    let mut f = (payload.len() as u32).to_be_bytes().to_vec();
    f.extend_from_slice(payload);
    f
}

/// Sends `bytes` and reads whatever comes back until the agent closes (at most 15 s).
fn exchange(socket: &Path, bytes: &[u8]) -> Vec<u8> {
    let mut s = UnixStream::connect(socket).unwrap();
    s.set_read_timeout(Some(Duration::from_secs(15))).unwrap();
    let _ = s.write_all(bytes);
    let _ = s.shutdown(std::net::Shutdown::Write);
    let mut out = Vec::new();
    let _ = s.read_to_end(&mut out);
    out
}

/// The payload of the answer frame in `bytes`.
fn answer(bytes: &[u8]) -> String {
    assert!(bytes.len() >= 4, "no answer: {bytes:?}");
    let len = u32::from_be_bytes(bytes[..4].try_into().unwrap()) as usize;
    assert_eq!(bytes.len(), 4 + len, "one frame");
    String::from_utf8_lossy(&bytes[4..]).into_owned()
}

fn get_request(host: &str) -> Vec<u8> {
    frame(format!("gocred-agent/1\nop=get\nlabel=t\n\nprotocol=https\nhost={host}\n\n").as_bytes())
}

#[test]
fn bad_input_on_the_socket_never_stops_the_agent_nor_leaks_a_descriptor() {
    let ws = workstation();
    let agent = RunningAgent::start(&ws, &["--allow", "git.corp.example"]);
    let ok = |a: &RunningAgent| {
        let got = answer(&exchange(&a.socket, &get_request("git.corp.example")));
        assert!(got.contains("status=ok"), "{got}");
        assert!(
            got.ends_with("username=alice\npassword=git-FAKE-token\n"),
            "{got}"
        );
    };
    ok(&agent);
    let baseline = agent.open_fds();

    // Oversized: refused by its length alone.
    let got = answer(&exchange(&agent.socket, &(64 * 1024 + 1u32).to_be_bytes()));
    assert!(
        got.contains("status=error") && got.contains("65537 bytes"),
        "{got}"
    );
    // Truncated: half a length, half a payload.
    assert!(exchange(&agent.socket, &[0, 0]).is_empty());
    assert!(
        exchange(
            &agent.socket,
            &frame(b"gocred-agent/1\nop=get\n\nprotocol")[..12]
        )
        .is_empty()
    );
    // Another version: refused by name.
    let got = answer(&exchange(
        &agent.socket,
        &frame(b"gocred-agent/2\nop=get\n\n"),
    ));
    assert!(got.contains("status=error"), "{got}");
    assert!(got.contains("\"gocred-agent/2\""), "{got}");
    // Garbage, an unknown op, a forged field.
    for junk in [
        &b"\xff\xfe\x00garbage"[..],
        b"gocred-agent/1\nop=shell\n\n",
        b"gocred-agent/1\nop=get\nno-equals\n\n",
    ] {
        let got = answer(&exchange(&agent.socket, &frame(junk)));
        assert!(got.contains("status=error"), "{got}");
    }
    // A peer that never sends, and one that never reads: the agent serves others meanwhile.
    let silent = UnixStream::connect(&agent.socket).unwrap();
    let deaf = UnixStream::connect(&agent.socket).unwrap();
    (&deaf).write_all(&get_request("git.corp.example")).unwrap();
    ok(&agent);

    // 200 at once, half of them for a host off the list.
    let threads: Vec<_> = (0..200)
        .map(|i| {
            let socket = agent.socket.clone();
            std::thread::spawn(move || {
                let host = if i % 2 == 0 {
                    "git.corp.example"
                } else {
                    "secret.corp.example"
                };
                (i, answer(&exchange(&socket, &get_request(host))))
            })
        })
        .collect();
    for t in threads {
        let (i, got) = t.join().unwrap();
        if i % 2 == 0 {
            assert!(got.ends_with("password=git-FAKE-token\n"), "{i}: {got}");
        } else {
            assert!(
                got.contains("status=refused") && !got.contains("password="),
                "{i}: {got}"
            );
        }
    }
    drop(silent);
    drop(deaf);
    ok(&agent);
    // Every connection's descriptor is closed again (the threads end a moment after answering).
    let started = Instant::now();
    while agent.open_fds() > baseline && started.elapsed() < Duration::from_secs(5) {
        std::thread::sleep(Duration::from_millis(50));
    }
    assert_eq!(agent.open_fds(), baseline, "descriptors leaked");
    assert!(!agent.log().contains("FAKE-token"));
}

#[test]
fn the_socket_is_0600_in_a_0700_directory_and_a_second_agent_is_refused() {
    use std::os::unix::fs::PermissionsExt;
    let ws = workstation();
    let agent = RunningAgent::start(&ws, &["--allow", "git.corp.example"]);
    let mode = |p: &Path| std::fs::metadata(p).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode(&agent.socket), 0o600);
    assert_eq!(mode(agent.socket.parent().unwrap()), 0o700);
    let out = ws
        .gocred(&["agent", "--allow", "git.corp.example", "--socket"])
        .arg(&agent.socket)
        .run();
    out.assert_failure();
    assert!(out.stderr.contains("already listens"), "{}", out.stderr);
    // Stopped with SIGTERM, the agent removes its socket; the directory stays for the next one
    // (a dev container has it bind-mounted).
    // SAFETY: the pid is our own child's.
    unsafe { libc::kill(agent.pid() as i32, libc::SIGTERM) };
    let started = Instant::now();
    while agent.socket.exists() && started.elapsed() < Duration::from_secs(5) {
        std::thread::sleep(Duration::from_millis(20));
    }
    assert!(!agent.socket.exists());
    assert!(agent.socket.parent().unwrap().is_dir());
}

#[test]
fn print_devcontainer_names_the_socket_directory_and_the_variable() {
    let ws = TestEnv::new();
    let out = ws.gocred(&["agent", "--print-devcontainer"]).run();
    out.assert_success();
    let v: serde_json::Value = serde_json::from_str(&out.stdout).unwrap();
    let dir = ws.runtime_dir().join("gocred/agent");
    assert_eq!(
        v["mounts"][0],
        format!(
            "source={},target=/run/gocred-agent,type=bind",
            dir.display()
        )
    );
    assert_eq!(v["remoteEnv"]["GOCRED_AGENT"], "/run/gocred-agent/socket");
    // The mount's source exists before the agent first runs, and is private.
    use std::os::unix::fs::PermissionsExt;
    assert_eq!(
        std::fs::metadata(&dir).unwrap().permissions().mode() & 0o777,
        0o700
    );
}

#[test]
fn a_git_clone_on_the_remote_gets_its_credential_through_the_agent() {
    let ws = TestEnv::new();
    let server = GitServer::start(&ws);
    server.set_user("alice", "clone-FAKE-token");
    server.create_repo(&ws, "group/repo.git");
    ws.policy(&format!(
        "[[rule]]\nurl = \"{}\"\nsources = [\"file\"]\nstore = \"file\"\nallow_http = true\n",
        server.origin()
    ));
    ws.gocred(&["store"])
        .stdin(format!(
            "url={}\nusername=alice\npassword=clone-FAKE-token\n\n",
            server.origin()
        ))
        .success();
    let agent = RunningAgent::start(&ws, &["--allow", &server.origin()]);
    let rm = remote(&agent.socket);
    let url = server.url("127.0.0.1", "group/repo.git");
    // `gocred exec` on the remote: git asks gocred, which asks the agent.
    rm.gocred(&["exec", "--", "git", "clone", "-q", &url, "repo"])
        .env("GIT_TERMINAL_PROMPT", "0")
        .success();
    assert!(rm.root().join("repo/README").exists());
    assert!(
        server
            .credentials_seen()
            .contains(&("alice".into(), "clone-FAKE-token".into()))
    );
    assert_no_secret_under(rm.root().as_path());
}

// ---------------------------------------------------------------------------------------------
// A real sshd.

/// The user on the "remote" side: not root, as on a real remote.
const REMOTE_USER: &str = "gocredremote";
const REMOTE_UID: u32 = 47113;

/// A free loopback port (bound, then released for sshd).
fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// sshd on 127.0.0.1 with the test's own config, host key and authorized key, in a private
/// mount namespace (its privilege-separation directory on a tmpfs /run, so the machine's /run
/// is untouched). Killed on drop.
struct Sshd {
    child: Child,
    port: u16,
    key: PathBuf,
}

impl Drop for Sshd {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Sshd {
    fn start(env: &TestEnv, remote_home: &Path) -> Option<Sshd> {
        // SAFETY: geteuid cannot fail.
        if unsafe { libc::geteuid() } != 0 || !Path::new("/usr/sbin/sshd").exists() {
            eprintln!("skipped: needs root and /usr/sbin/sshd (apt-get install openssh-server)");
            return None;
        }
        let dir = env.root().join("sshd");
        std::fs::create_dir_all(&dir).unwrap();
        for (name, _) in [("host_key", ()), ("user_key", ())] {
            env.command("ssh-keygen")
                .args(["-q", "-t", "ed25519", "-N", "", "-f"])
                .arg(dir.join(name))
                .success();
        }
        std::fs::copy(dir.join("user_key.pub"), dir.join("authorized_keys")).unwrap();
        let port = free_port();
        // `AllowTcpForwarding no` (or `local`) makes sshd deny every remote forward, Unix
        // sockets included, whatever AllowStreamLocalForwarding says (OpenSSH 9.2).
        let config = dir.join("sshd_config");
        std::fs::write(
            &config,
            format!(
                "Port {port}\nListenAddress 127.0.0.1\nHostKey {d}/host_key\nPidFile none\n\
                 AuthorizedKeysFile {d}/authorized_keys\nStrictModes no\nUsePAM no\n\
                 PermitRootLogin prohibit-password\nPasswordAuthentication no\n\
                 KbdInteractiveAuthentication no\nAllowStreamLocalForwarding yes\n\
                 AllowTcpForwarding remote\nX11Forwarding no\nPrintMotd no\nLogLevel VERBOSE\n",
                d = dir.display()
            ),
        )
        .unwrap();
        // The remote user is REMOTE_USER, who exists only in sshd's own namespace (copies of /etc/passwd, shadow and group with
        // one more line each, bind-mounted over the originals there).
        let mut etc = Vec::new();
        for (name, line) in [
            (
                "passwd",
                format!(
                    "{REMOTE_USER}:x:{REMOTE_UID}:{REMOTE_UID}::{}:/bin/sh\n",
                    remote_home.display()
                ),
            ),
            ("shadow", format!("{REMOTE_USER}:*:19000:0:99999:7:::\n")),
            ("group", format!("{REMOTE_USER}:x:{REMOTE_UID}:\n")),
        ] {
            let mut text = std::fs::read_to_string(format!("/etc/{name}")).unwrap();
            text.push_str(&line);
            let copy = dir.join(name);
            std::fs::write(&copy, text).unwrap();
            etc.push(copy);
        }
        let log = std::fs::File::create(dir.join("sshd.log")).unwrap();
        let child = env
            .std_command("unshare")
            .args(["--mount", "--propagation", "private", "sh", "-c"])
            .arg(
                "mount -t tmpfs -o mode=0755 tmpfs /run && mkdir -m 0755 /run/sshd \
                 && mount --bind \"$2\" /etc/passwd && mount --bind \"$3\" /etc/shadow \
                 && mount --bind \"$4\" /etc/group && exec /usr/sbin/sshd -D -e -f \"$1\"",
            )
            .arg("sh")
            .arg(&config)
            .args(&etc)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(log)
            .spawn()
            .unwrap();
        let started = Instant::now();
        while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
            assert!(
                started.elapsed() < Duration::from_secs(10),
                "sshd did not start: {}",
                std::fs::read_to_string(dir.join("sshd.log")).unwrap_or_default()
            );
            std::thread::sleep(Duration::from_millis(50));
        }
        Some(Sshd {
            child,
            port,
            key: dir.join("user_key"),
        })
    }

    /// `gocred ssh` to this sshd as root, running `command` there.
    fn gocred_ssh(&self, ws: &TestEnv, socket: &Path, command: &[&str]) -> crate::common::Output {
        ws.gocred(&["ssh", "--socket"])
            .arg(socket)
            .arg(format!("{REMOTE_USER}@127.0.0.1"))
            .args(["-p", &self.port.to_string(), "-i"])
            .arg(&self.key)
            .args([
                "-F",
                "/dev/null",
                "-o",
                "UserKnownHostsFile=/dev/null",
                "-o",
                "StrictHostKeyChecking=no",
                "-o",
                "BatchMode=yes",
                "-o",
                "LogLevel=ERROR",
                "--",
            ])
            .args(command)
            .run()
    }
}

/// The forwarded sockets `gocred ssh` left in /tmp.
fn remote_sockets() -> Vec<PathBuf> {
    std::fs::read_dir("/tmp")
        .unwrap()
        .flatten()
        .map(|e| e.path())
        .filter(|p| {
            p.file_name()
                .and_then(|n| n.to_str())
                .is_some_and(|n| n.starts_with("gocred-agent-") && n.ends_with(".sock"))
        })
        .collect()
}

#[test]
fn over_a_real_sshd_git_clone_works_through_the_forwarded_socket_and_nothing_stays_there() {
    let ws = TestEnv::new();
    // The remote user's HOME: outside the workstation's (private) test root, theirs alone.
    let remote_dir = tempfile::Builder::new()
        .prefix("gocred-remote-")
        .tempdir()
        .unwrap();
    let rhome = remote_dir.path().to_owned();
    let Some(sshd) = Sshd::start(&ws, &rhome) else {
        return;
    };
    let server = GitServer::start(&ws);
    server.set_user("alice", "ssh-FAKE-token");
    server.create_repo(&ws, "group/repo.git");
    ws.policy(&format!(
        "[[rule]]\nurl = \"{}\"\nsources = [\"file\"]\nstore = \"file\"\nallow_http = true\n\n\
         [[rule]]\nurl = \"https://secret.corp.example\"\nsources = [\"file\"]\nstore = \"file\"\n",
        server.origin()
    ));
    for req in [
        format!(
            "url={}\nusername=alice\npassword=ssh-FAKE-token\n\n",
            server.origin()
        ),
        "protocol=https\nhost=secret.corp.example\nusername=c\npassword=secret-FAKE-token\n\n"
            .to_owned(),
    ] {
        ws.gocred(&["store"]).stdin(req).success();
    }
    let agent = RunningAgent::start(&ws, &["--allow", &server.origin()]);
    let before = remote_sockets();

    // The "remote": a HOME of its own, git with gocred as its only helper.
    let rgitconfig = rhome.join("gitconfig");
    std::fs::write(
        &rgitconfig,
        format!("[credential]\n\thelper =\n\thelper = {GOCRED}\n"),
    )
    .unwrap();
    let req = rhome.join("req");
    std::fs::write(&req, "protocol=https\nhost=secret.corp.example\n\n").unwrap();
    std::os::unix::fs::chown(&rhome, Some(REMOTE_UID), Some(REMOTE_UID)).unwrap();
    let home = format!("HOME={}", rhome.display());
    let gitconfig = format!("GIT_CONFIG_GLOBAL={}", rgitconfig.display());
    let url = server.url("127.0.0.1", "group/repo.git");
    let dest = rhome.join("repo");
    let dest = dest.to_str().unwrap();
    let out = sshd.gocred_ssh(
        &ws,
        &agent.socket,
        &[
            "env",
            "-i",
            &home,
            &gitconfig,
            "GIT_CONFIG_NOSYSTEM=1",
            "GIT_TERMINAL_PROMPT=0",
            "PATH=/usr/local/bin:/usr/bin:/bin",
            "GOCRED_AGENT_LABEL=sshd-remote",
            "GOCRED_AGENT=\"$GOCRED_AGENT\"",
            "git",
            "clone",
            "-q",
            &url,
            dest,
        ],
    );
    out.assert_success();
    assert!(rhome.join("repo/README").exists(), "{out}");
    assert!(
        server
            .credentials_seen()
            .contains(&("alice".into(), "ssh-FAKE-token".into()))
    );
    assert!(
        agent.log().contains("[sshd-remote] get: http://127.0.0.1:"),
        "{}",
        agent.log()
    );

    // A host the allow-list does not name gets nothing, even though policy maps it.
    let out = sshd.gocred_ssh(
        &ws,
        &agent.socket,
        &[
            "env",
            "-i",
            &home,
            "GOCRED_AGENT=\"$GOCRED_AGENT\"",
            GOCRED,
            "get",
            "<",
            req.to_str().unwrap(),
        ],
    );
    out.assert_success();
    assert_eq!(out.stdout, "");
    assert!(
        out.stderr.contains("not on the agent's --allow list"),
        "{out}"
    );

    // Nothing of the secrets on the remote side, and its end of the forward is gone.
    assert_no_secret_under(&rhome);
    let after: Vec<_> = remote_sockets()
        .into_iter()
        .filter(|p| !before.contains(p))
        .collect();
    assert!(after.is_empty(), "left behind: {after:?}");
}

// ---------------------------------------------------------------------------------------------
// A container-like run: a private mount namespace that sees the agent's socket and nothing else
// of the workstation's.

#[test]
fn in_a_container_that_sees_only_the_socket_go_fetches_a_private_module_through_exec_and_goauth() {
    use crate::common::go::{GIT_HOST, GoWorld, MODULE, PROXY_HOST, VERSION, go_toolchain};
    // SAFETY: geteuid cannot fail.
    if unsafe { libc::geteuid() } != 0 {
        eprintln!("skipped: needs root for the private network and mount namespaces");
        return;
    }
    const TOKEN: &str = "container-FAKE-token";
    let w = GoWorld::new();
    w.allow("alice", TOKEN);
    w.env.policy(&format!(
        "[[rule]]\nurl = \"https://{GIT_HOST}\"\nsources = [\"file\"]\nstore = \"file\"\n\n\
         [[rule]]\nurl = \"https://{PROXY_HOST}\"\nsources = [\"file\"]\nstore = \"file\"\n\n\
         [[rule]]\nurl = \"https://other.example\"\nsources = [\"file\"]\nstore = \"file\"\n"
    ));
    for host in [GIT_HOST, PROXY_HOST, "other.example"] {
        w.env
            .gocred(&["store"])
            .stdin(format!(
                "protocol=https\nhost={host}\nusername=alice\npassword={TOKEN}\n\n"
            ))
            .success();
    }
    let agent = RunningAgent::start(&w.env, &["--allow", GIT_HOST, "--allow", PROXY_HOST]);

    // The container's own files: nothing of the workstation's.
    let c = tempfile::Builder::new()
        .prefix("gocred-container-")
        .tempdir()
        .unwrap();
    let c = c.path();
    for d in ["home", "work", "agent"] {
        std::fs::create_dir_all(c.join(d)).unwrap();
    }
    let mut run = std::fs::DirBuilder::new();
    std::os::unix::fs::DirBuilderExt::mode(&mut run, 0o700);
    run.create(c.join("run")).unwrap();
    std::fs::copy(&w.ca.pem, c.join("ca.pem")).unwrap();
    std::fs::write(
        c.join("gitconfig"),
        format!("[http]\n\tsslCAInfo = {}\n", c.join("ca.pem").display()),
    )
    .unwrap();
    let in_container = |args: &[&str], extra: &[(&str, String)]| {
        let mut vars: Vec<(String, String)> = vec![
            ("HOME".into(), c.join("home").display().to_string()),
            (
                "XDG_RUNTIME_DIR".into(),
                c.join("run").display().to_string(),
            ),
            ("PATH".into(), "/usr/local/bin:/usr/bin:/bin".into()),
            (
                "GOCRED_AGENT".into(),
                c.join("agent/socket").display().to_string(),
            ),
            ("GOCRED_AGENT_LABEL".into(), "container-1".into()),
            (
                "GIT_CONFIG_GLOBAL".into(),
                c.join("gitconfig").display().to_string(),
            ),
            ("GIT_CONFIG_NOSYSTEM".into(), "1".into()),
            ("GIT_TERMINAL_PROMPT".into(), "0".into()),
            ("GOROOT".into(), go_toolchain().1.display().to_string()),
            ("GOPATH".into(), c.join("gopath").display().to_string()),
            ("GOCACHE".into(), c.join("gocache").display().to_string()),
            ("GOENV".into(), c.join("goenv").display().to_string()),
            ("GOFLAGS".into(), "-modcacherw".into()),
            ("GOTOOLCHAIN".into(), "local".into()),
            ("CGO_ENABLED".into(), "0".into()),
            (
                "SSL_CERT_FILE".into(),
                c.join("ca.pem").display().to_string(),
            ),
        ];
        for (k, v) in extra {
            vars.push(((*k).into(), v.clone()));
        }
        w.env
            .command("unshare")
            .args(["--mount", "--propagation", "private", "sh", "-c"])
            .arg(
                "mount --bind \"$1\" \"$2\" && mount -t tmpfs tmpfs \"$3\" && shift 3 \
                 && exec \"$@\"",
            )
            .arg("sh")
            .arg(agent.socket.parent().unwrap())
            .arg(c.join("agent"))
            .arg(w.env.root())
            .args(["env", "-i"])
            .args(vars.iter().map(|(k, v)| format!("{k}={v}")))
            .args(args)
            .current_dir(c.join("work"))
            .run()
    };
    let go = go_toolchain().0.display().to_string();
    let spec = format!("{MODULE}@{VERSION}");
    let downloaded = |cache: &str| {
        c.join(format!("{cache}/{MODULE}@{VERSION}/mod.go"))
            .is_file()
    };

    // The workstation's policy and file store are not there to read.
    let out = in_container(&["cat", w.env.policy_path().to_str().unwrap()], &[]);
    out.assert_failure();

    // 1. `gocred exec -- go mod download`: the netrc for go, gocred as git's helper.
    let out = in_container(
        &[GOCRED, "exec", "--", &go, "mod", "download", &spec],
        &[
            ("GOMODCACHE", c.join("cache1").display().to_string()),
            ("GOPROXY", "direct".into()),
            ("GOPRIVATE", GIT_HOST.into()),
        ],
    );
    out.assert_success();
    assert!(downloaded("cache1"), "{out}");

    // 2. GOAUTH alone, through the proxy: no netrc anywhere.
    let out = in_container(
        &[&go, "mod", "download", &spec],
        &[
            ("GOMODCACHE", c.join("cache2").display().to_string()),
            ("GOAUTH", format!("{GOCRED} goauth")),
            ("NETRC", c.join("no-netrc").display().to_string()),
            (
                "GOPROXY",
                format!("https://other.example|https://{PROXY_HOST}"),
            ),
            ("GONOSUMDB", GIT_HOST.into()),
        ],
    );
    out.assert_success();
    assert!(downloaded("cache2"), "{out}");
    assert!(
        w.proxy
            .log()
            .iter()
            .any(|l| l.status == 200 && l.basic() == Some(("alice".into(), TOKEN.into())))
    );
    // other.example is in policy but not on --allow: it never saw a credential.
    assert!(w.other.authorizations().is_empty());
    assert!(agent.log().contains("[container-1]"), "{}", agent.log());
    // Nothing of the token stayed in the container's files (exec's netrc is gone too).
    let mut stack = vec![c.to_owned()];
    while let Some(d) = stack.pop() {
        for e in std::fs::read_dir(&d).unwrap().flatten() {
            let p = e.path();
            let meta = std::fs::symlink_metadata(&p).unwrap();
            if meta.is_dir() {
                stack.push(p);
            } else if meta.is_file() {
                let text = String::from_utf8_lossy(&std::fs::read(&p).unwrap()).into_owned();
                assert!(!text.contains(TOKEN), "the token in {}", p.display());
            }
        }
    }
}

#[test]
fn an_agent_that_never_answers_costs_the_remote_its_timeout_and_one_line() {
    let rm_dir = TestEnv::new();
    let socket = rm_dir.root().join("mute.sock");
    // Accepts, reads, never answers.
    let listener = std::os::unix::net::UnixListener::bind(&socket).unwrap();
    let held = std::thread::spawn(move || {
        let (mut s, _) = listener.accept().unwrap();
        let mut buf = [0u8; 1024];
        let _ = s.read(&mut buf);
        std::thread::sleep(Duration::from_millis(1500));
    });
    let rm = remote(&socket);
    let started = Instant::now();
    let out = get_with(&rm, "git.corp.example", &[("GOCRED_AGENT_TIMEOUT", "1")]);
    out.assert_success();
    assert!(
        started.elapsed() < Duration::from_secs(3),
        "{:?}",
        started.elapsed()
    );
    assert_eq!(out.stdout, "");
    assert_eq!(out.stderr_lines().len(), 1, "{}", out.stderr);
    assert!(
        out.stderr.contains("no answer within 1 s"),
        "{}",
        out.stderr
    );
    held.join().unwrap();
    // A typo in the timeout is said, not ignored.
    let out = get_with(&rm, "git.corp.example", &[("GOCRED_AGENT_TIMEOUT", "1m")]);
    assert!(
        out.stderr.contains("GOCRED_AGENT_TIMEOUT"),
        "{}",
        out.stderr
    );
}

fn get_with(env: &TestEnv, host: &str, vars: &[(&str, &str)]) -> crate::common::Output {
    let mut cmd = env
        .gocred(&["get"])
        .stdin(format!("protocol=https\nhost={host}\n\n"));
    for (k, v) in vars {
        cmd = cmd.env(k, v);
    }
    cmd.run()
}

#[test]
fn the_agent_socket_can_come_from_the_remotes_policy() {
    let ws = workstation();
    let agent = RunningAgent::start(&ws, &["--allow", "git.corp.example"]);
    let rm = TestEnv::new();
    rm.policy(&format!(
        "[agent]\nsocket = \"{}\"\n",
        agent.socket.display()
    ));
    assert_eq!(
        get(&rm, "git.corp.example", None).stdout,
        "username=alice\npassword=git-FAKE-token\n"
    );
    let out = rm.gocred(&["status"]).run();
    out.assert_success();
    assert!(
        out.stdout.contains("(from [agent] socket)"),
        "{}",
        out.stdout
    );
    // The agent itself refuses to run with one: it would ask itself.
    let out = rm
        .gocred(&["agent", "--allow", "git.corp.example", "--socket"])
        .arg(rm.root().join("s/socket"))
        .run();
    out.assert_failure();
    assert!(out.stderr.contains("[agent]"), "{}", out.stderr);
}

/// `gocred agent --confirm` on a terminal of its own (`script` gives it a pty); what it prints
/// there is collected, and answers are typed into it.
struct ConfirmingAgent {
    child: Child,
    stdin: std::process::ChildStdin,
    screen: std::sync::Arc<std::sync::Mutex<String>>,
    socket: PathBuf,
}

impl Drop for ConfirmingAgent {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl ConfirmingAgent {
    fn start(env: &TestEnv, allow: &str) -> ConfirmingAgent {
        let socket = env.root().join("confirm-dir/socket");
        let mut child = env
            .std_command("script")
            .args(["-qfec"])
            .arg(format!(
                "{GOCRED} agent --confirm --allow {allow} --socket {}",
                socket.display()
            ))
            .arg("/dev/null")
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        let stdin = child.stdin.take().unwrap();
        let mut stdout = child.stdout.take().unwrap();
        let screen = std::sync::Arc::new(std::sync::Mutex::new(String::new()));
        let sink = screen.clone();
        std::thread::spawn(move || {
            let mut buf = [0u8; 4096];
            while let Ok(n @ 1..) = stdout.read(&mut buf) {
                sink.lock()
                    .unwrap()
                    .push_str(&String::from_utf8_lossy(&buf[..n]));
            }
        });
        let started = Instant::now();
        while UnixStream::connect(&socket).is_err() {
            assert!(started.elapsed() < Duration::from_secs(10), "no agent");
            std::thread::sleep(Duration::from_millis(20));
        }
        ConfirmingAgent {
            child,
            stdin,
            screen,
            socket,
        }
    }

    /// Waits for the `n`th question on the terminal, then types `answer`.
    fn answer(&mut self, n: usize, answer: &str) {
        let started = Instant::now();
        while self.screen.lock().unwrap().matches("Answer? [y/N]").count() < n {
            assert!(
                started.elapsed() < Duration::from_secs(10),
                "no question: {}",
                self.screen.lock().unwrap()
            );
            std::thread::sleep(Duration::from_millis(20));
        }
        self.stdin.write_all(answer.as_bytes()).unwrap();
        self.stdin.flush().unwrap();
    }

    fn questions(&self) -> usize {
        self.screen.lock().unwrap().matches("Answer? [y/N]").count()
    }
}

#[test]
fn confirm_asks_at_the_workstation_once_per_host_and_a_no_gives_nothing() {
    if !Path::new("/usr/bin/script").exists() {
        eprintln!("skipped: needs script (bsdutils)");
        return;
    }
    let ws = workstation();
    let mut agent = ConfirmingAgent::start(&ws, "git.corp.example");
    let rm = remote(&agent.socket);
    let asked = |rm: &TestEnv| get(rm, "git.corp.example", None);
    // No: nothing, and the remote is told.
    let out = std::thread::scope(|s| {
        let h = s.spawn(|| asked(&rm));
        agent.answer(1, "n\n");
        h.join().unwrap()
    });
    assert_eq!(out.stdout, "");
    assert!(out.stderr.contains("not confirmed"), "{}", out.stderr);
    // Asked again; yes.
    let out = std::thread::scope(|s| {
        let h = s.spawn(|| asked(&rm));
        agent.answer(2, "y\n");
        h.join().unwrap()
    });
    assert_eq!(out.stdout, "username=alice\npassword=git-FAKE-token\n");
    let screen = agent.screen.lock().unwrap().clone();
    assert!(
        screen.contains("test-remote asks for a credential for git.corp.example"),
        "{screen}"
    );
    // Yes holds for the session: no third question.
    assert_eq!(
        get(&rm, "git.corp.example", None).stdout,
        "username=alice\npassword=git-FAKE-token\n"
    );
    assert_eq!(agent.questions(), 2);
}

#[test]
fn exec_on_the_remote_makes_git_ask_gocred_for_the_allowed_origins_with_paths_where_needed() {
    let ws = workstation();
    let agent = RunningAgent::start(
        &ws,
        &[
            "--allow",
            "git.corp.example",
            "--allow",
            "https://gh.corp.example/team/",
        ],
    );
    let rm = remote(&agent.socket);
    let out = rm
        .gocred(&["exec", "--", "sh", "-c"])
        .arg("git config --get-regexp '^credential\\.'; cat \"$NETRC\"")
        .run();
    out.assert_success();
    let lines: Vec<&str> = out.stdout.lines().collect();
    let helper = |origin: &str| {
        lines
            .iter()
            .filter(|l| l.starts_with(&format!("credential.{origin}.helper")))
            .count()
    };
    // An empty helper (no other helper answers), then gocred, for each allowed origin.
    assert_eq!(helper("https://git.corp.example"), 2, "{}", out.stdout);
    assert_eq!(helper("https://gh.corp.example"), 2, "{}", out.stdout);
    assert_eq!(helper("https://secret.corp.example"), 0, "{}", out.stdout);
    // git must send the path under the path-scoped allow entry for the agent to check it.
    assert!(
        lines.contains(&"credential.https://gh.corp.example/team.usehttppath true"),
        "{}",
        out.stdout
    );
    // The netrc holds the host allowed whole, and nothing else.
    assert!(lines.contains(&"machine git.corp.example login alice password git-FAKE-token"));
    assert!(!out.stdout.contains("gh-FAKE-token") && !out.stdout.contains("secret-FAKE"));
    assert_no_secret_under(rm.root().as_path());
}
