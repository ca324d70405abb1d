//! Issue 15, "every wait bounded": every call gocred makes to the Secret Service has a deadline,
//! not only opening it. A real D-Bus daemon, and on it a Secret Service (zbus, in the test
//! process) that does everything a healthy one does to be chosen and opened (owns the name,
//! names a default collection that is unlocked, accepts an encrypted session) and then never
//! answers a search: `get`, `store` and `erase` must each give up within the deadline with one
//! line that names the fix, and stdout stays empty.

use crate::common::TestEnv;
use crate::common::keyring::SecretService;
use std::collections::HashMap;
use std::os::unix::fs::PermissionsExt;
use std::time::{Duration, Instant};
use zbus::zvariant::{OwnedObjectPath, OwnedValue, Value};

const COLLECTION: &str = "/org/freedesktop/secrets/collection/login";

/// `org.freedesktop.Secret.Service`, up to the point where it stops answering.
struct Stalling {
    searches: std::sync::Arc<std::sync::atomic::AtomicUsize>,
}

#[zbus::interface(name = "org.freedesktop.Secret.Service")]
impl Stalling {
    /// Accepts the session, plain or Diffie-Hellman (any public key will do: nothing is ever
    /// encrypted with it).
    async fn open_session(
        &self,
        algorithm: &str,
        _input: OwnedValue,
    ) -> zbus::fdo::Result<(OwnedValue, OwnedObjectPath)> {
        let output = if algorithm == "plain" {
            Value::from("")
        } else {
            Value::from(vec![2u8])
        };
        Ok((
            output
                .try_into()
                .map_err(|_| zbus::fdo::Error::Failed("value".into()))?,
            OwnedObjectPath::try_from("/org/freedesktop/secrets/session/s1").unwrap(),
        ))
    }

    async fn read_alias(&self, _name: &str) -> OwnedObjectPath {
        OwnedObjectPath::try_from(COLLECTION).unwrap()
    }

    /// Never answers.
    async fn search_items(
        &self,
        _attributes: HashMap<String, String>,
    ) -> (Vec<OwnedObjectPath>, Vec<OwnedObjectPath>) {
        self.searches
            .fetch_add(1, std::sync::atomic::Ordering::SeqCst);
        std::future::pending().await
    }

    #[zbus(property)]
    fn collections(&self) -> Vec<OwnedObjectPath> {
        vec![OwnedObjectPath::try_from(COLLECTION).unwrap()]
    }
}

struct UnlockedCollection;

#[zbus::interface(name = "org.freedesktop.Secret.Collection")]
impl UnlockedCollection {
    #[zbus(property)]
    fn locked(&self) -> bool {
        false
    }
}

/// `gocred ACTION` with a lock directory of the test's own (`/run/user` mounted from the test's
/// directory, in a user and mount namespace): a store stuck on the service while it holds the
/// keychain lock must not hold up other tests' stores meanwhile.
fn private_locks(env: &TestEnv, action: &str) -> crate::common::TestCommand {
    let run_user = env.root().join("run-user");
    let mine = run_user.join("0"); // --map-root-user: uid 0 inside
    std::fs::create_dir_all(&mine).unwrap();
    std::fs::set_permissions(&mine, std::fs::Permissions::from_mode(0o700)).unwrap();
    env.command("unshare")
        .args([
            "--user",
            "--map-root-user",
            "--mount",
            "--propagation",
            "private",
            "sh",
            "-c",
            r#"mount --bind "$1" /run/user && shift && exec "$@""#,
            "sh",
        ])
        .arg(&run_user)
        .arg(crate::common::GOCRED)
        .arg(action)
}

#[test]
fn a_stalled_secret_service_search_times_out_with_a_fix() {
    let mut env = TestEnv::new();
    let bus = SecretService::start_bus(&mut env);
    env.set_env("DBUS_SESSION_BUS_ADDRESS", bus.address());
    let searches = std::sync::Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let _service = zbus::blocking::connection::Builder::address(bus.address())
        .unwrap()
        .name("org.freedesktop.secrets")
        .unwrap()
        .serve_at(
            "/org/freedesktop/secrets",
            Stalling {
                searches: searches.clone(),
            },
        )
        .unwrap()
        .serve_at(COLLECTION, UnlockedCollection)
        .unwrap()
        .build()
        .expect("serve the stalling Secret Service on the test bus");

    for (backend, actions) in [
        ("secret-service", &["get", "store", "erase"][..]),
        ("auto", &["get"][..]),
    ] {
        env.policy(&format!(
            "[keychain]\nbackend = \"{backend}\"\n\n[[rule]]\nurl = \"https://h.example\"\n\
             sources = [\"keychain\"]\nstore = \"keychain\"\n"
        ));
        for (action, input) in [
            ("get", "protocol=https\nhost=h.example\n\n"),
            (
                "store",
                "protocol=https\nhost=h.example\nusername=u\npassword=p-SECRET\n\n",
            ),
            (
                "erase",
                "protocol=https\nhost=h.example\nusername=u\npassword=p-SECRET\n\n",
            ),
        ]
        .into_iter()
        .filter(|(action, _)| actions.contains(action))
        {
            let before = searches.load(std::sync::atomic::Ordering::SeqCst);
            let started = Instant::now();
            let out = private_locks(&env, action)
                .stdin(input)
                .timeout(Duration::from_secs(60))
                .run();
            let took = started.elapsed();
            let what = format!("{backend} {action}");
            // The search was really asked for, and was really never answered.
            assert!(
                searches.load(std::sync::atomic::Ordering::SeqCst) > before,
                "{what}: no search reached the service: {out}"
            );
            assert!(
                took < Duration::from_secs(12),
                "{what}: took {took:?}: {out}"
            );
            assert_eq!(out.code(), Some(1), "{what}: {out}");
            assert_eq!(out.stdout, "", "{what}");
            assert_eq!(out.stderr_lines().len(), 1, "{what}: {out}");
            for says in [
                "did not answer within",
                "restart the Secret Service",
                "backend = \"keyutils\"",
            ] {
                assert!(out.stderr.contains(says), "{what}: says {says:?}: {out}");
            }
            assert!(!out.stderr.contains("p-SECRET"), "{what}: {out}");
        }
    }
}
