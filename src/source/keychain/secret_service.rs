//! The Secret Service store, every call bounded. Before it is used, a probe over a plain D-Bus
//! connection (no encrypted session, no secret on it) checks that a Secret Service answers and
//! that its default collection exists and is unlocked; meanwhile the store opens its own
//! connection and encrypted session, so the probe costs no extra wall time. Both run in threads:
//! whatever has not answered by the deadline is abandoned (the process does not wait for it).
//!
//! Opening is not the only wait: a service that accepts the session and then never answers a
//! search (a hung gnome-keyring, a prompt nobody can see) would block git forever. So the store
//! handed out is [`Bounded`]: every call it makes (search, read, write, delete, each a D-Bus
//! round trip or several inside the store crate) runs on a thread of its own and is abandoned
//! after the deadline, with an error that says what to do (issue 15, "every wait bounded").
//!
//! `get` first tries [`lookup`] (issue 14): one connection, our own Diffie-Hellman session
//! ([`super::dh`]), `OpenSession` and `SearchItems` in flight together, then `GetSecrets`. When
//! one unlocked item answers, that is the answer, with no probe and no store. Anything else
//! (no item, a locked or duplicated one, an unexpected error) goes the store's way above, so
//! misses and failures say exactly what they said before.

use super::Kind;
use keyring_core::api::{CredentialApi, CredentialStoreApi};
use keyring_core::{Credential, CredentialStore, Entry};
use std::collections::HashMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc;
use std::time::{Duration, Instant};
use zbus::blocking::Connection;
use zbus::zvariant::{OwnedObjectPath, OwnedValue, Value};

const SECRETS: &str = "org.freedesktop.secrets";
/// How long one call of the opened store may take. Longer than opening's deadline: the keyring
/// has answered already, and a busy one (hundreds of fills at once, a loaded machine) queues
/// calls; a hung one still fails the request in one line instead of holding git forever.
const CALL_DEADLINE: Duration = Duration::from_secs(10);
const SERVICE_PATH: &str = "/org/freedesktop/secrets";

#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) enum Problem {
    /// No session bus to connect to (the detail says why).
    NoBus(String),
    /// Nothing owns `org.freedesktop.secrets` (and it was not, or could not be, started).
    NotRunning(String),
    /// `ReadAlias("default")` answered `/`: no login collection.
    NoDefaultCollection,
    Locked,
    Timeout(Duration),
    /// The bus or the service answered with an error (a D-Bus error name, never a payload).
    Failed(String),
    /// The probe passed but the store could not open its session.
    Session(String),
}

impl Problem {
    /// What is wrong, for a message.
    pub(super) fn what(&self) -> String {
        match self {
            Problem::NoBus(detail) => format!("no D-Bus session bus: {detail}"),
            Problem::NotRunning(detail) => {
                format!("no Secret Service on the session bus ({detail})")
            }
            Problem::NoDefaultCollection => {
                "the Secret Service has no default collection (login keyring)".to_owned()
            }
            Problem::Locked => "the default collection (login keyring) is locked".to_owned(),
            Problem::Timeout(d) => {
                format!(
                    "the Secret Service did not answer within {} ms",
                    d.as_millis()
                )
            }
            Problem::Failed(detail) => format!("the Secret Service failed ({detail})"),
            Problem::Session(detail) => {
                format!("the Secret Service refused a session ({detail})")
            }
        }
    }

    /// What to do about it, for a message.
    pub(super) fn fix(&self) -> &'static str {
        match self {
            Problem::NoBus(_) => {
                "run gocred in a desktop session (DBUS_SESSION_BUS_ADDRESS), or set [keychain] backend = \"keyutils\", or use the file store"
            }
            Problem::NotRunning(_) => {
                "start gnome-keyring-daemon (or another Secret Service), or set [keychain] backend = \"keyutils\", or use the file store"
            }
            Problem::NoDefaultCollection => {
                "create and unlock a login keyring (e.g. `gnome-keyring-daemon --unlock` with a non-empty password on stdin), or set [keychain] backend = \"keyutils\", or use the file store"
            }
            Problem::Locked => {
                "unlock the login keyring (log in to the desktop, or `gnome-keyring-daemon --unlock`), or set [keychain] backend = \"keyutils\", or use the file store"
            }
            Problem::Timeout(_) | Problem::Failed(_) | Problem::Session(_) => {
                "restart the Secret Service (gnome-keyring-daemon), or set [keychain] backend = \"keyutils\", or use the file store"
            }
        }
    }
}

/// The store, when a Secret Service with an unlocked default collection answered in time.
///
/// Unless `start_if_needed`, a Secret Service that is not already running is not started (D-Bus
/// activation could start a second daemon, or one with no unlocked keyring), and the store is
/// opened only once the probe saw one running. The bus itself must say within `first_answer`
/// whether a Secret Service is running; once it has said yes, the keyring gets until `total`:
/// a keyring that is merely slow (a loaded machine, its first call) is still used, rather than
/// silently filing credentials in another backend.
pub(super) fn open(
    start_if_needed: bool,
    first_answer: Duration,
    total: Duration,
) -> Result<Arc<CredentialStore>, Problem> {
    if let Some(why) = no_bus_socket() {
        return Err(Problem::NoBus(why));
    }
    let started = Instant::now();
    let running = Arc::new(AtomicBool::new(start_if_needed));
    let (go, go_rx) = mpsc::sync_channel::<()>(1);
    let (store_tx, store_rx) = mpsc::sync_channel(1);
    spawn("gocred-secret-service", move || {
        if go_rx.recv().is_ok() {
            let store = zbus_secret_service_keyring_store::Store::new()
                .map(|s| -> Arc<CredentialStore> { s })
                .map_err(|e| Problem::Session(super::platform_detail(Kind::SecretService, &e)));
            let _ = store_tx.send(store);
        }
    })?;
    if start_if_needed {
        let _ = go.send(());
    }
    let (probe_tx, probe_rx) = mpsc::sync_channel(1);
    let seen_running = Arc::clone(&running);
    spawn("gocred-secret-service-probe", move || {
        let _ = probe_tx.send(ask(start_if_needed, go, &seen_running));
    })?;
    let left = |limit: Duration| limit.saturating_sub(started.elapsed());
    match probe_rx.recv_timeout(first_answer) {
        Ok(probe) => probe?,
        Err(_) if running.load(Ordering::SeqCst) => probe_rx
            .recv_timeout(left(total))
            .unwrap_or(Err(Problem::Timeout(total)))?,
        Err(_) => return Err(Problem::Timeout(first_answer)),
    }
    let store = store_rx
        .recv_timeout(left(total))
        .unwrap_or(Err(Problem::Timeout(total)))?;
    Ok(Arc::new(Bounded {
        inner: store,
        deadline: CALL_DEADLINE,
    }))
}

/// What [`lookup`] found.
pub(super) enum Lookup {
    /// The secret of the one unlocked item filed under the service and user name.
    Hit(crate::secret::SecretBytes),
    /// Not decided here: no such item, a locked or duplicated one, or an answer the full path
    /// (the store, after its probe) words better. Nothing was lost but the time.
    Undecided,
    /// No usable Secret Service: what [`open`] would have found.
    Unusable(Problem),
    /// The Secret Service was reached and then did not answer in time.
    Stalled(Problem),
}

/// The hit path of `get`, on one connection, without the store or the probe: `OpenSession`
/// (our own constant-time Diffie-Hellman, [`super::dh`]) and `SearchItems` sent together, then
/// `GetSecrets` for the one unlocked item. An unlocked item answers for its collection, so the
/// probe's `ReadAlias` and `Locked` (and `NameHasOwner`: with `NoAutoStart` the bus itself
/// answers `ServiceUnknown`) would only repeat what the bus already said: three calls to the
/// keyring, two of them in flight at once, on one connection (the store's path: a probe
/// connection and a store connection, seven calls).
///
/// Deadlines as in [`open`] and [`Bounded`]: the bus must accept the connection within
/// `first_answer`, the session must be open before `total` has passed since the start, and
/// each call then has [`CALL_DEADLINE`].
pub(super) fn lookup(
    start_if_needed: bool,
    first_answer: Duration,
    total: Duration,
    service: &str,
    user: &str,
) -> Lookup {
    if let Some(why) = no_bus_socket() {
        return Lookup::Unusable(Problem::NoBus(why));
    }
    let started = Instant::now();
    // Our half of the key agreement, here and now: an exponentiation, less than a thread costs
    // to start and be scheduled on a busy machine (measured: a keypair thread sometimes held
    // `OpenSession` back by 3 ms). (Computing it while the connection waits gains nothing: the
    // connection's first wait is for the socket to be writable, which it is at once.)
    let Ok(keypair) = super::dh::Keypair::generate() else {
        return Lookup::Undecided;
    };
    async_io::block_on(async {
        let conn = match within(first_answer, connect()).await {
            None if start_if_needed => return Lookup::Stalled(Problem::Timeout(first_answer)),
            None => return Lookup::Unusable(Problem::Timeout(first_answer)),
            Some(Err(e)) => return Lookup::Unusable(Problem::NoBus(io_detail(&e))),
            Some(Ok(conn)) => conn,
        };
        // This thread runs the connection's tasks (its socket reader) while it waits: no
        // executor thread, and no hop between threads for every reply.
        let executor = conn.executor().clone();
        let ticking = async move {
            loop {
                executor.tick().await;
            }
        };
        futures_lite::future::or(
            converse(
                conn,
                keypair,
                started,
                start_if_needed,
                total,
                service,
                user,
            ),
            ticking,
        )
        .await
    })
}

/// The session bus, connected from this thread: a plain `unix:path=` address (the usual one)
/// is connected here without zbus's connecting thread; anything else goes through zbus.
async fn connect() -> zbus::Result<zbus::Connection> {
    let builder = match plain_socket_path() {
        Some(path) => {
            let stream = async_io::Async::<std::os::unix::net::UnixStream>::connect(&path)
                .await
                .map_err(|e| {
                    zbus::Error::InputOutput(Arc::new(std::io::Error::new(
                        e.kind(),
                        format!("unix:path={}: {e}", path.display()),
                    )))
                })?
                .into_inner()?;
            zbus::connection::Builder::async_io_unix_stream(stream)
        }
        None => zbus::connection::Builder::session()?,
    };
    builder.internal_executor(false).build().await
}

/// The socket of a session bus address that is one `unix:path=` (optionally with a `guid`),
/// without escapes; `$XDG_RUNTIME_DIR/bus` when the variable is unset (what zbus would use).
fn plain_socket_path() -> Option<std::path::PathBuf> {
    let Some(address) = std::env::var_os("DBUS_SESSION_BUS_ADDRESS") else {
        return std::env::var_os("XDG_RUNTIME_DIR")
            .map(|dir| std::path::PathBuf::from(dir).join("bus"));
    };
    let address = address.to_str()?;
    let rest = address.strip_prefix("unix:")?;
    if rest.contains([';', '%']) {
        return None;
    }
    let mut path = None;
    for pair in rest.split(',') {
        match pair.split_once('=')? {
            ("path", p) if !p.is_empty() => path = Some(std::path::PathBuf::from(p)),
            ("guid", _) => {}
            _ => return None,
        }
    }
    path
}

/// [`lookup`] once connected.
async fn converse(
    conn: zbus::Connection,
    keypair: super::dh::Keypair,
    started: Instant,
    start_if_needed: bool,
    total: Duration,
    service: &str,
    user: &str,
) -> Lookup {
    {
        let left = || total.saturating_sub(started.elapsed());
        let Ok(proxy) = service_proxy(&conn).await else {
            return Lookup::Undecided;
        };
        let attributes = HashMap::from([("service", service), ("username", user)]);
        let open_args = (super::dh::ALGORITHM, Value::from(keypair.public.clone()));
        let search_args = (attributes,);
        let open = call::<(OwnedValue, OwnedObjectPath)>(
            &proxy,
            start_if_needed,
            "OpenSession",
            &open_args,
        );
        let search = call::<(Vec<OwnedObjectPath>, Vec<OwnedObjectPath>)>(
            &proxy,
            start_if_needed,
            "SearchItems",
            &search_args,
        );
        // Opening the session has what is left of `total`, as the store's opening does; the
        // search, a call, has the store's per-call deadline.
        let (opened, found) =
            futures_lite::future::zip(within(left(), open), within(CALL_DEADLINE, search)).await;
        let Some(opened) = opened else {
            return Lookup::Stalled(Problem::Timeout(total));
        };
        let Some(found) = found else {
            return Lookup::Stalled(Problem::Timeout(CALL_DEADLINE));
        };
        let (output, session) = match opened {
            Ok(reply) => reply,
            Err(e) => {
                let name = error_name(&e);
                if name.ends_with(".ServiceUnknown")
                    || name.ends_with(".NameHasNoOwner")
                    || name.contains(".Spawn.")
                {
                    return Lookup::Unusable(Problem::NotRunning(name));
                }
                return Lookup::Undecided;
            }
        };
        let item = match found {
            Ok((unlocked, locked)) if unlocked.len() == 1 && locked.is_empty() => {
                unlocked.into_iter().next()
            }
            _ => None,
        };
        let Some(item) = item else {
            return Lookup::Undecided;
        };
        let Ok(theirs) = Vec::<u8>::try_from(output) else {
            return Lookup::Undecided;
        };
        type Secrets = HashMap<OwnedObjectPath, (OwnedObjectPath, Vec<u8>, Vec<u8>, String)>;
        let get_args = (vec![&item], &session);
        let get = call::<Secrets>(&proxy, start_if_needed, "GetSecrets", &get_args);
        // `GetSecrets` needs the session, not the key: it is sent first (the first poll writes
        // it), and the key is agreed (the second exponentiation) while the keyring answers.
        let (got, key) =
            futures_lite::future::zip(within(CALL_DEADLINE, get), async { keypair.agree(&theirs) })
                .await;
        let secrets = match got {
            None => return Lookup::Stalled(Problem::Timeout(CALL_DEADLINE)),
            Some(Ok(secrets)) => secrets,
            Some(Err(_)) => return Lookup::Undecided,
        };
        let Ok(key) = key else {
            return Lookup::Undecided;
        };
        let Some((_, iv, value, _)) = secrets.get(&item) else {
            return Lookup::Undecided;
        };
        match key.decrypt(iv, value) {
            Ok(plain) => Lookup::Hit(crate::secret::SecretBytes(plain)),
            Err(_) => Lookup::Undecided,
        }
    }
}

/// A proxy for `org.freedesktop.Secret.Service` that caches nothing (no call on the wire).
async fn service_proxy(conn: &zbus::Connection) -> zbus::Result<zbus::Proxy<'static>> {
    zbus::proxy::Builder::<zbus::Proxy<'static>>::new(conn)
        .destination(SECRETS)?
        .path(SERVICE_PATH)?
        .interface("org.freedesktop.Secret.Service")?
        .cache_properties(zbus::proxy::CacheProperties::No)
        .build()
        .await
}

/// `fut`, or `None` once `limit` has passed.
async fn within<T>(limit: Duration, fut: impl std::future::Future<Output = T>) -> Option<T> {
    futures_lite::future::or(async { Some(fut.await) }, async {
        async_io::Timer::after(limit).await;
        None
    })
    .await
}

/// One method call on the Secret Service; unless `start_if_needed`, flagged `NoAutoStart` so
/// that a bus without one answers at once rather than starting a daemon.
async fn call<R>(
    proxy: &zbus::Proxy<'_>,
    start_if_needed: bool,
    method: &str,
    body: &(impl zbus::export::serde::Serialize + zbus::zvariant::DynamicType),
) -> zbus::Result<R>
where
    R: for<'d> zbus::zvariant::DynamicDeserialize<'d>,
{
    if start_if_needed {
        proxy.call(method, body).await
    } else {
        proxy
            .call_with_flags(method, zbus::proxy::MethodFlags::NoAutoStart.into(), body)
            .await?
            .ok_or_else(|| zbus::Error::Failure("BUG: no reply to a method call".into()))
    }
}

/// The Secret Service store with a deadline on every call that can reach D-Bus.
struct Bounded {
    inner: Arc<CredentialStore>,
    deadline: Duration,
}

/// One entry of [`Bounded`].
struct BoundedEntry {
    inner: Arc<Entry>,
    deadline: Duration,
}

/// Runs `call` on a thread of its own; after `deadline` it is abandoned and the answer is an
/// error naming the wait and the fix. Its zbus error inside is what [`super::platform_detail`]
/// shows (an I/O error's text: no payload, no secret).
fn bounded<T: Send + 'static>(
    deadline: Duration,
    call: impl FnOnce() -> keyring_core::Result<T> + Send + 'static,
) -> keyring_core::Result<T> {
    let failure = |text: String| {
        keyring_core::Error::PlatformFailure(Box::new(zbus::Error::InputOutput(Arc::new(
            std::io::Error::new(std::io::ErrorKind::TimedOut, text),
        ))))
    };
    let (tx, rx) = mpsc::sync_channel(1);
    std::thread::Builder::new()
        .name("gocred-secret-service-call".into())
        .spawn(move || {
            let _ = tx.send(call());
        })
        .map_err(|e| failure(format!("cannot start a thread: {e}")))?;
    rx.recv_timeout(deadline).unwrap_or_else(|_| {
        let problem = Problem::Timeout(deadline);
        Err(failure(format!("{}; {}", problem.what(), problem.fix())))
    })
}

impl CredentialStoreApi for Bounded {
    fn vendor(&self) -> String {
        self.inner.vendor()
    }

    fn id(&self) -> String {
        self.inner.id()
    }

    /// Building an entry makes no D-Bus call (it only names the item), so it is not bounded.
    fn build(
        &self,
        service: &str,
        user: &str,
        modifiers: Option<&HashMap<&str, &str>>,
    ) -> keyring_core::Result<Entry> {
        let entry = self.inner.build(service, user, modifiers)?;
        let bounded: Arc<Credential> = Arc::new(BoundedEntry {
            inner: Arc::new(entry),
            deadline: self.deadline,
        });
        Ok(Entry::new_with_credential(bounded))
    }

    fn search(&self, spec: &HashMap<&str, &str>) -> keyring_core::Result<Vec<Entry>> {
        let inner = Arc::clone(&self.inner);
        let spec: HashMap<String, String> = spec
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect();
        let deadline = self.deadline;
        let found = bounded(deadline, move || {
            let spec: HashMap<&str, &str> =
                spec.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
            inner.search(&spec)
        })?;
        Ok(found
            .into_iter()
            .map(|entry| {
                let bounded: Arc<Credential> = Arc::new(BoundedEntry {
                    inner: Arc::new(entry),
                    deadline,
                });
                Entry::new_with_credential(bounded)
            })
            .collect())
    }

    fn as_any(&self) -> &dyn std::any::Any {
        self
    }

    fn persistence(&self) -> keyring_core::api::CredentialPersistence {
        self.inner.persistence()
    }

    fn debug_fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Bounded Secret Service store")
    }
}

impl CredentialApi for BoundedEntry {
    fn set_secret(&self, secret: &[u8]) -> keyring_core::Result<()> {
        let inner = Arc::clone(&self.inner);
        let secret = crate::secret::SecretBytes(secret.to_vec());
        bounded(self.deadline, move || inner.set_secret(&secret.0))
    }

    fn get_secret(&self) -> keyring_core::Result<Vec<u8>> {
        let inner = Arc::clone(&self.inner);
        bounded(self.deadline, move || inner.get_secret())
    }

    fn get_attributes(&self) -> keyring_core::Result<HashMap<String, String>> {
        let inner = Arc::clone(&self.inner);
        bounded(self.deadline, move || inner.get_attributes())
    }

    fn update_attributes(&self, attributes: &HashMap<&str, &str>) -> keyring_core::Result<()> {
        let inner = Arc::clone(&self.inner);
        let attributes: HashMap<String, String> = attributes
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect();
        bounded(self.deadline, move || {
            let attributes: HashMap<&str, &str> = attributes
                .iter()
                .map(|(k, v)| (k.as_str(), v.as_str()))
                .collect();
            inner.update_attributes(&attributes)
        })
    }

    fn delete_credential(&self) -> keyring_core::Result<()> {
        let inner = Arc::clone(&self.inner);
        bounded(self.deadline, move || inner.delete_credential())
    }

    /// A wrapper already: the caller keeps using this one (keyring-core's convention).
    fn get_credential(&self) -> keyring_core::Result<Option<Arc<Credential>>> {
        let inner = Arc::clone(&self.inner);
        bounded(self.deadline, move || inner.get_credential().map(drop))?;
        Ok(None)
    }

    fn get_specifiers(&self) -> Option<(String, String)> {
        self.inner.get_specifiers()
    }

    fn as_any(&self) -> &dyn std::any::Any {
        self
    }

    fn debug_fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Bounded Secret Service entry")
    }
}

/// Why there is certainly no session bus, found without starting a thread: with no
/// `DBUS_SESSION_BUS_ADDRESS`, zbus would try `$XDG_RUNTIME_DIR/bus` (else `/run/user/<uid>/bus`),
/// and that socket does not exist. (The usual case in containers and CI, where `auto` then uses
/// keyutils.)
fn no_bus_socket() -> Option<String> {
    use std::os::unix::fs::MetadataExt;
    if std::env::var_os("DBUS_SESSION_BUS_ADDRESS").is_some() {
        return None;
    }
    let dir = match std::env::var_os("XDG_RUNTIME_DIR") {
        Some(dir) => std::path::PathBuf::from(dir),
        // /proc/self belongs to the process's effective uid, as zbus's fallback does.
        None => format!("/run/user/{}", std::fs::metadata("/proc/self").ok()?.uid()).into(),
    };
    let socket = dir.join("bus");
    (!socket.exists()).then(|| {
        format!(
            "DBUS_SESSION_BUS_ADDRESS is not set and {} does not exist",
            socket.display()
        )
    })
}

fn spawn(name: &str, f: impl FnOnce() + Send + 'static) -> Result<(), Problem> {
    std::thread::Builder::new()
        .name(name.into())
        .spawn(f)
        .map(drop)
        .map_err(|e| Problem::Failed(format!("cannot start a thread: {e}")))
}

/// The probe. `running` is set and `go` is told when a Secret Service is known to be running.
fn ask(
    start_if_needed: bool,
    go: mpsc::SyncSender<()>,
    running: &AtomicBool,
) -> Result<(), Problem> {
    let conn = Connection::session().map_err(|e| Problem::NoBus(io_detail(&e)))?;
    if !start_if_needed {
        let owned: bool = conn
            .call_method(
                Some("org.freedesktop.DBus"),
                "/org/freedesktop/DBus",
                Some("org.freedesktop.DBus"),
                "NameHasOwner",
                &(SECRETS,),
            )
            .and_then(|reply| reply.body().deserialize())
            .map_err(|e| Problem::Failed(error_name(&e)))?;
        if !owned {
            return Err(Problem::NotRunning(format!("{SECRETS} has no owner")));
        }
        running.store(true, Ordering::SeqCst);
        let _ = go.send(());
    }
    let read_default_alias = || -> Result<OwnedObjectPath, Problem> {
        let reply = conn
            .call_method(
                Some(SECRETS),
                SERVICE_PATH,
                Some("org.freedesktop.Secret.Service"),
                "ReadAlias",
                &("default",),
            )
            .map_err(|e| {
                let name = error_name(&e);
                if name.ends_with(".ServiceUnknown")
                    || name.ends_with(".NameHasNoOwner")
                    || name.contains(".Spawn.")
                {
                    Problem::NotRunning(name)
                } else {
                    Problem::Failed(name)
                }
            })?;
        reply
            .body()
            .deserialize()
            .map_err(|e| Problem::Failed(error_name(&e)))
    };
    // gnome-keyring 42 now and then answers "/" although the login collection exists (seen
    // about once in 500 calls right after it starts). A missing collection answers "/" every
    // time, so ask again before concluding there is none.
    let mut collection = read_default_alias()?;
    for _ in 0..2 {
        if collection.as_str() != "/" {
            break;
        }
        std::thread::sleep(Duration::from_millis(5));
        collection = read_default_alias()?;
    }
    if collection.as_str() == "/" {
        return Err(Problem::NoDefaultCollection);
    }
    let reply = conn
        .call_method(
            Some(SECRETS),
            collection.as_str(),
            Some("org.freedesktop.DBus.Properties"),
            "Get",
            &("org.freedesktop.Secret.Collection", "Locked"),
        )
        .map_err(|e| Problem::Failed(error_name(&e)))?;
    let body = reply.body();
    let locked: Value<'_> = body
        .deserialize()
        .map_err(|e| Problem::Failed(error_name(&e)))?;
    match locked {
        Value::Bool(false) => Ok(()),
        Value::Bool(true) => Err(Problem::Locked),
        _ => Err(Problem::Failed("Locked is not a boolean".to_owned())),
    }
}

/// A D-Bus error's name (e.g. `org.freedesktop.DBus.Error.ServiceUnknown`), or a short
/// description of a local failure. Never an error's free-text payload.
pub(super) fn error_name(e: &zbus::Error) -> String {
    match e {
        zbus::Error::MethodError(name, _, _) => name.to_string(),
        zbus::Error::FDO(fdo) => zbus::DBusError::name(&**fdo).to_string(),
        other => io_detail(other),
    }
}

/// Why a connection failed (`unix:path=/run/user/1000/bus: No such file or directory`), else a
/// generic description.
fn io_detail(e: &zbus::Error) -> String {
    match e {
        zbus::Error::Connection(io, address) => format!("{address}: {io}"),
        zbus::Error::InputOutput(io) => io.to_string(),
        zbus::Error::Address(_) => "bad DBUS_SESSION_BUS_ADDRESS".to_owned(),
        zbus::Error::Handshake(_) => "authentication with the bus failed".to_owned(),
        _ => "D-Bus protocol error".to_owned(),
    }
}
