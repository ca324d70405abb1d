//! Default deny, observed from outside: a request no rule matches touches no store, no D-Bus,
//! and never reveals a secret in a message.

use crate::common::{Output, TestEnv};
use std::os::unix::net::UnixListener;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

const POLICY: &str = "[keychain]\nbackend = \"secret-service\"\n\n\
    [[rule]]\nurl = \"https://git.corp.example\"\nsources = [\"keychain\", \"file\"]\nstore = \"file\"\n";

/// A fake session bus: a listening socket that counts connections and hangs up on each.
struct FakeBus {
    connections: Arc<AtomicUsize>,
    address: String,
}

impl FakeBus {
    fn new(env: &TestEnv) -> FakeBus {
        let path = env.root().join("bus");
        let listener = UnixListener::bind(&path).unwrap();
        let connections = Arc::new(AtomicUsize::new(0));
        let count = connections.clone();
        std::thread::spawn(move || {
            for conn in listener.incoming() {
                count.fetch_add(1, Ordering::SeqCst);
                drop(conn);
            }
        });
        FakeBus {
            connections,
            address: format!("unix:path={}", path.display()),
        }
    }

    fn connections(&self) -> usize {
        self.connections.load(Ordering::SeqCst)
    }
}

fn files_under(dir: &std::path::Path) -> Vec<String> {
    let mut out = Vec::new();
    let mut stack = vec![dir.to_owned()];
    while let Some(d) = stack.pop() {
        for e in std::fs::read_dir(&d).unwrap().flatten() {
            out.push(e.path().display().to_string());
            if e.file_type().unwrap().is_dir() {
                stack.push(e.path());
            }
        }
    }
    out.sort();
    out
}

#[test]
fn a_denied_host_touches_neither_the_file_store_nor_d_bus() {
    let mut env = TestEnv::new();
    env.policy(POLICY);
    let bus = FakeBus::new(&env);
    env.set_env("DBUS_SESSION_BUS_ADDRESS", &bus.address);

    // Control: a real D-Bus client is seen by the fake bus, so the check below can fail.
    let _ = env
        .command("dbus-send")
        .args([
            "--session",
            "--print-reply",
            "--reply-timeout=200",
            "--dest=org.freedesktop.DBus",
            "/",
            "org.freedesktop.DBus.Peer.Ping",
        ])
        .run();
    assert_eq!(bus.connections(), 1, "the fake bus does not see clients");

    let before = files_under(env.home());
    for action in ["get", "store", "erase"] {
        for request in [
            "protocol=https\nhost=github.com\nusername=u\npassword=p\n",
            "protocol=https\nhost=git.corp.example:8443\nusername=u\npassword=p\n",
            "protocol=http\nhost=git.corp.example\nusername=u\npassword=p\n",
            "protocol=https\nhost=evil.git.corp.example\nusername=u\npassword=p\n",
        ] {
            let out = env.gocred(&[action]).stdin(request).run();
            out.assert_success();
            assert_eq!(
                (out.stdout.as_str(), out.stderr.as_str()),
                ("", ""),
                "{out}"
            );
        }
    }
    assert_eq!(
        bus.connections(),
        1,
        "gocred talked to D-Bus for a denied host"
    );
    assert_eq!(
        files_under(env.home()),
        before,
        "gocred touched files for a denied host"
    );
}

#[test]
fn rule_order_in_the_file_does_not_matter() {
    let rules = [
        "[[rule]]\nurl = \"https://git.corp.example\"\nsources = [\"env\"]\nusername = \"host\"\ntoken_env = \"HOST_TOKEN\"\n",
        "[[rule]]\nurl = \"https://git.corp.example/team/\"\nsources = [\"env\"]\nusername = \"team\"\ntoken_env = \"TEAM_TOKEN\"\n",
        "[[rule]]\nurl = \"https://*.corp.example\"\nsources = [\"env\"]\nusername = \"wild\"\ntoken_env = \"WILD_TOKEN\"\n",
        "[[rule]]\nurl = \"https://*.eu.corp.example\"\nsources = [\"env\"]\nusername = \"eu\"\ntoken_env = \"EU_TOKEN\"\n",
    ];
    let requests = [
        ("host=git.corp.example\n", "host"),
        ("host=git.corp.example\npath=team\n", "team"),
        ("host=git.corp.example\npath=team/repo.git\n", "team"),
        ("host=git.corp.example\npath=teamwork/repo.git\n", "host"),
        ("host=x.corp.example\n", "wild"),
        ("host=a.b.corp.example\n", "wild"),
        ("host=x.eu.corp.example\n", "eu"),
        ("host=eu.corp.example\n", "wild"),
        ("host=corp.example\n", ""),
    ];
    let answers = |order: &[usize]| -> Vec<String> {
        let mut env = TestEnv::new();
        let policy: String = order
            .iter()
            .map(|&i| rules[i])
            .collect::<Vec<_>>()
            .join("\n");
        env.policy(&policy);
        for var in ["HOST", "TEAM", "WILD", "EU"] {
            env.set_env(
                format!("{var}_TOKEN"),
                format!("{}-token", var.to_lowercase()),
            );
        }
        requests
            .iter()
            .map(|(request, _)| {
                let out = env
                    .gocred(&["get"])
                    .stdin(format!("protocol=https\n{request}"))
                    .success();
                crate::common::value_of(&out.stdout, "username")
                    .unwrap_or("")
                    .to_owned()
            })
            .collect()
    };
    let expected: Vec<String> = requests.iter().map(|(_, who)| who.to_string()).collect();
    assert_eq!(answers(&[0, 1, 2, 3]), expected);
    assert_eq!(answers(&[3, 2, 1, 0]), expected);
    assert_eq!(answers(&[2, 0, 3, 1]), expected);
}

#[test]
fn no_message_ever_shows_a_secret() {
    let env = TestEnv::new();
    env.policy(
        "[[rule]]\nurl = \"https://git.corp.example\"\nsources = [\"file\"]\nstore = \"file\"\n",
    );
    const SECRET: &str = "Sentinel-7f3a";
    let requests = [
        format!("protocol=https\nhost=git.corp.example\npassword={SECRET}\nbroken line\n"),
        format!("protocol=https\nhost=git.corp.example\npassword={SECRET}\r\n"),
        format!("protocol=https\nhost=other.example\nurl=https://u:{SECRET}@git.corp.example/\n"),
        format!("url=https://u:{SECRET}%0a@git.corp.example/\n"),
        format!(
            "protocol=https\nhost=git.corp.example\noauth_refresh_token={SECRET}\nephemeral=perhaps\n"
        ),
        format!("protocol=https\npassword={SECRET}\n"),
    ];
    let check = |out: &Output| {
        assert!(!out.stderr.contains(SECRET), "secret in stderr: {out}");
        assert!(!out.stdout.contains(SECRET), "secret in stdout: {out}");
    };
    for action in ["get", "store", "erase"] {
        for request in &requests {
            let out = env.gocred(&[action]).stdin(request).run();
            out.assert_code(1);
            check(&out);
        }
    }
    // A stored secret does not show in errors about the store either.
    env.gocred(&["store"])
        .stdin(format!(
            "protocol=https\nhost=git.corp.example\nusername=u\npassword={SECRET}\n"
        ))
        .success();
    crate::common::set_mode(&env.file_store_path(), 0o644);
    for action in ["get", "status"] {
        let out = env
            .gocred(&[action])
            .stdin("protocol=https\nhost=git.corp.example\n")
            .run();
        check(&out);
    }
}
