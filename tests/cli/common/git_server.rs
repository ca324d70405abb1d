//! A loopback smart-HTTP git server: `git http-backend` as CGI behind HTTP Basic auth, on the one
//! test server of `common::http`.
//!
//! Every request must carry `Authorization: Basic` for a user in the server's table (or one its
//! [`Checker`] accepts), else it gets `401` with `WWW-Authenticate: Basic realm="gocred-test"`.
//! Every request is logged with the Authorization header it carried, so tests can assert what
//! git (through gocred) really sent. Plain HTTP on 127.0.0.1 by default (policy rules for it need
//! `allow_http = true`); [`GitServer::start_tls`] serves the same over TLS.

use super::TestEnv;
use super::http::{HttpServer, Request, Response, git_http_backend};
use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

// What tests imported from here before the servers became one: kept so their imports stand.
#[allow(unused_imports)]
pub use super::http::{Logged, REALM, decode_basic};

/// Decides whether a (user, password) pair not in the table is accepted (e.g. an OAuth token
/// the test's OAuth server still considers active).
pub type Checker = Arc<dyn Fn(&str, &str) -> bool + Send + Sync>;

#[derive(Default)]
struct Users {
    table: HashMap<String, String>,
    checker: Option<Checker>,
}

impl Users {
    fn accept(users: &Mutex<Users>, user: &str, password: &str) -> bool {
        let (known, checker) = {
            let users = users.lock().unwrap();
            (
                users.table.get(user).is_some_and(|p| p == password),
                users.checker.clone(),
            )
        };
        known || checker.is_some_and(|check| check(user, password))
    }
}

pub struct GitServer {
    server: HttpServer,
    root: PathBuf,
    users: Arc<Mutex<Users>>,
}

impl GitServer {
    /// Serves the bare repositories under `<env root>/srv-<port>` on 127.0.0.1, on a free port,
    /// over plain HTTP.
    pub fn start(env: &TestEnv) -> GitServer {
        GitServer::start_with(env, None)
    }

    /// The same over TLS with `tls` (e.g. `TestCa::server_config(&["127.0.0.1", "localhost"])`);
    /// [`GitServer::url`] and [`GitServer::origin`] then say `https`.
    pub fn start_tls(env: &TestEnv, tls: Arc<rustls::ServerConfig>) -> GitServer {
        GitServer::start_with(env, Some(tls))
    }

    fn start_with(env: &TestEnv, tls: Option<Arc<rustls::ServerConfig>>) -> GitServer {
        let users = Arc::new(Mutex::new(Users::default()));
        // The root is named after the port, which is known once bound: the handler reads it
        // from here.
        let paths: Arc<Mutex<Option<(PathBuf, PathBuf)>>> = Arc::default();
        let handler = {
            let (users, paths) = (users.clone(), paths.clone());
            Arc::new(move |req: &Request| {
                let authorized = req
                    .header("Authorization")
                    .and_then(decode_basic)
                    .is_some_and(|(u, p)| Users::accept(&users, &u, &p));
                if !authorized {
                    return Response::unauthorized();
                }
                let (root, home) = paths.lock().unwrap().clone().expect("server paths");
                git_http_backend(req, &root, &home)
            })
        };
        let server = HttpServer::start("127.0.0.1:0", tls, handler);
        let root = env.root().join(format!("srv-{}", server.port()));
        let cgi_home = env.root().join(format!("srv-{}-home", server.port()));
        std::fs::create_dir_all(&root).unwrap();
        std::fs::create_dir_all(&cgi_home).unwrap();
        *paths.lock().unwrap() = Some((root.clone(), cgi_home));
        GitServer {
            server,
            root,
            users,
        }
    }

    pub fn port(&self) -> u16 {
        self.server.port()
    }

    /// The one server underneath (plain or TLS).
    pub fn server(&self) -> &HttpServer {
        &self.server
    }

    /// Where the bare repositories live.
    pub fn root(&self) -> &Path {
        &self.root
    }

    /// `http://<host>:<port>/<repo>` (`https` over TLS); `host` is `127.0.0.1` or `localhost`
    /// (same socket).
    pub fn url(&self, host: &str, repo: &str) -> String {
        format!("{}://{host}:{}/{repo}", self.server.scheme(), self.port())
    }

    /// `http://127.0.0.1:<port>` (`https` over TLS), the origin a policy rule names.
    pub fn origin(&self) -> String {
        format!("{}://127.0.0.1:{}", self.server.scheme(), self.port())
    }

    /// Adds or changes a user's password.
    pub fn set_user(&self, user: &str, password: &str) -> &Self {
        self.users
            .lock()
            .unwrap()
            .table
            .insert(user.to_owned(), password.to_owned());
        self
    }

    /// Also accepts what `checker` accepts (asked for credentials not in the user table).
    pub fn set_checker(&self, checker: Checker) -> &Self {
        self.users.lock().unwrap().checker = Some(checker);
        self
    }

    /// Every request so far, in order (after waiting, up to 5 s, for the ones being answered).
    pub fn log(&self) -> Vec<Logged> {
        self.server.log()
    }

    /// Forgets the log, e.g. between a first and a second clone.
    pub fn clear_log(&self) {
        self.server.clear_log();
    }

    /// The decoded Basic credentials of every request that carried one, in order.
    pub fn credentials_seen(&self) -> Vec<(String, String)> {
        self.log().iter().filter_map(Logged::basic).collect()
    }

    /// Creates the bare repository `name` (e.g. `group/repo.git`) holding one commit with
    /// `README` on `main`.
    pub fn create_repo(&self, env: &TestEnv, name: &str) -> PathBuf {
        create_bare_repo(env, &self.root, name, &format!("{}-", self.port()))
    }
}

/// Creates the bare repository `root/name` (e.g. `group/repo.git`) holding one commit with
/// `README` (its text: `name`) on `main`, pushed from a seed clone in the test's directory
/// (`seed-TAGname`; a tag keeps two servers of one test apart). Every fake git host's
/// `create_repo`.
pub fn create_bare_repo(env: &TestEnv, root: &Path, name: &str, tag: &str) -> PathBuf {
    let bare = root.join(name);
    let seed = env
        .root()
        .join(format!("seed-{tag}{}", name.replace('/', "_")));
    env.git(&["init", "-q", "--bare"]).arg(&bare).success();
    env.git(&["init", "-q"]).arg(&seed).success();
    std::fs::write(seed.join("README"), format!("{name}\n")).unwrap();
    env.git(&["add", "README"]).current_dir(&seed).success();
    env.git(&["commit", "-q", "-m", "first"])
        .current_dir(&seed)
        .success();
    env.git(&["push", "-q"])
        .arg(&bare)
        .arg("main")
        .current_dir(&seed)
        .success();
    bare
}
