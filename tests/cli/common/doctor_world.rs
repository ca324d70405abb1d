//! A company network for `gocred doctor`'s corpus, in a private network namespace
//! (`go::enter_private_network`), shared by every case:
//!
//! | name / address                    | what                                                        |
//! |-----------------------------------|-------------------------------------------------------------|
//! | `git.corp.example` 127.0.0.2:443  | GitLab-like: `?go-get=1` and `git http-backend`, Basic auth  |
//! | `proxy.corp.example` 127.0.0.3:443 | the company GOPROXY for [`MODULE`], Basic auth (alice) |
//! | `egress.corp.example` 127.0.0.5:3128 | an egress proxy: `CONNECT` to `*.corp.example` gets 403   |
//! | `egress.corp.example` 127.0.0.5:3129 | an inspecting proxy: every `CONNECT` goes to the re-signer |
//! | 127.0.0.6:443                     | the re-signer: the same GitLab, a certificate from the re-signing CA |
//!
//! The GitLab answers as GitLab does: `?go-get=1` without a credential gets 200 and a go-import
//! tag for the first two path elements (a subgroup's module gets its parent's path); with
//! alice's token the module's own path. git requests without a credential get 401; with a token
//! that cannot read the project ([`NOSCOPE`]) 404; with any other wrong one 401.

use super::go::{enter_private_network, go_toolchain, zip};
use super::http::{HttpServer, Request, Response, TestCa, decode_basic, git_http_backend};
use super::{Output, TestEnv};
use std::io::Write;
use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::sync::Arc;

pub const HOST: &str = "git.corp.example";
pub const GOPROXY_HOST: &str = "proxy.corp.example";
pub const EGRESS: &str = "egress.corp.example";
pub const USER: &str = "alice";
pub const GOOD: &str = "glpat-FAKE-doctor-good";
/// A real token that cannot read the projects: GitLab answers 404.
pub const NOSCOPE: &str = "glpat-FAKE-doctor-noscope";
pub const MODULE: &str = "git.corp.example/group/mod";
/// A module in a GitLab subgroup.
pub const SUBMODULE: &str = "git.corp.example/group/sub/mod";
pub const VERSION: &str = "v1.0.0";

/// Every module the GitLab holds (its repository is the module path plus `.git`).
const MODULES: &[&str] = &["group/mod", "group/sub/mod"];

pub struct DoctorWorld {
    pub env: TestEnv,
    /// The company CA: signs the GitLab's certificate.
    pub ca: TestCa,
    /// The inspecting proxy's re-signing CA.
    pub resign: TestCa,
    /// Both CAs in one PEM file.
    pub bundle: PathBuf,
    /// go's build cache, shared by the cases.
    pub gocache: PathBuf,
    _servers: Vec<HttpServer>,
}

fn gitlab(srv: PathBuf, cgi_home: PathBuf) -> Arc<dyn Fn(&Request) -> Response + Send + Sync> {
    Arc::new(move |req: &Request| {
        #[derive(PartialEq)]
        enum Who {
            Anonymous,
            Alice,
            NoAccess,
            Wrong,
        }
        let who = match req.header("Authorization").and_then(decode_basic) {
            None => Who::Anonymous,
            Some((u, p)) if u == USER && p == GOOD => Who::Alice,
            Some((_, p)) if p == NOSCOPE => Who::NoAccess,
            Some(_) => Who::Wrong,
        };
        let path = req.path().trim_matches('/').to_owned();
        if req.query().split('&').any(|q| q == "go-get=1") {
            let prefix = match who {
                Who::Wrong => return Response::unauthorized(),
                Who::Alice => match MODULES
                    .iter()
                    .filter(|m| path == **m || path.starts_with(&format!("{m}/")))
                    .max_by_key(|m| m.len())
                {
                    Some(m) => (*m).to_owned(),
                    None => return Response::not_found(),
                },
                // GitLab never says whether a private project exists: the first two elements.
                Who::Anonymous | Who::NoAccess => {
                    let parts: Vec<&str> = path.split('/').take(2).collect();
                    parts.join("/")
                }
            };
            let body = format!(
                "<html><head><meta name=\"go-import\" content=\"{HOST}/{prefix} git https://{HOST}/{prefix}.git\"></head></html>\n"
            );
            return Response::new(200, "text/html; charset=utf-8", body);
        }
        match who {
            Who::Anonymous | Who::Wrong => Response::unauthorized(),
            Who::NoAccess => Response::not_found(),
            Who::Alice => git_http_backend(req, &srv, &cgi_home),
        }
    })
}

/// A `CONNECT` proxy on `addr`: refuses (403) targets under `.corp.example` when `to` is `None`,
/// else tunnels every target to `to`.
fn connect_proxy(addr: &str, to: Option<&'static str>) {
    let listener = TcpListener::bind(addr).unwrap_or_else(|e| panic!("bind {addr}: {e}"));
    std::thread::spawn(move || {
        for conn in listener.incoming().flatten() {
            std::thread::spawn(move || {
                let _ = tunnel(conn, to);
            });
        }
    });
}

fn tunnel(client: TcpStream, to: Option<&str>) -> std::io::Result<()> {
    let (reader, target) = super::connect_proxy::read_connect(&client)?;
    let mut c = client.try_clone()?;
    let Some(target) = target else {
        c.write_all(b"HTTP/1.1 405 Method Not Allowed\r\nContent-Length: 0\r\n\r\n")?;
        return Ok(());
    };
    let host = target.rsplit_once(':').map_or(target.as_str(), |(h, _)| h);
    let upstream = match to {
        None if host.ends_with(".corp.example") => {
            c.write_all(
                b"HTTP/1.1 403 Forbidden\r\nContent-Type: text/plain\r\nContent-Length: 24\r\n\r\nblocked by egress policy",
            )?;
            return Ok(());
        }
        None => TcpStream::connect(&target),
        Some(to) => TcpStream::connect(to),
    };
    let Ok(upstream) = upstream else {
        c.write_all(b"HTTP/1.1 502 Bad Gateway\r\nContent-Length: 0\r\n\r\n")?;
        return Ok(());
    };
    super::connect_proxy::splice(reader, client, upstream)
}

impl DoctorWorld {
    /// Enters the private network (this thread and every thread it starts later), and starts
    /// the servers.
    pub fn new() -> DoctorWorld {
        go_toolchain();
        let env = TestEnv::new();
        let hosts = env.write_file(
            "hosts",
            &format!(
                "127.0.0.1 localhost\n127.0.0.2 {HOST}\n127.0.0.3 {GOPROXY_HOST}\n127.0.0.5 {EGRESS}\n"
            ),
        );
        enter_private_network(&hosts);
        let ca = TestCa::new(&env.root().join("ca"), "Corp Internal CA");
        let resign = TestCa::new(&env.root().join("ca"), "Corp Egress Re-signing CA");
        let bundle = env.root().join("ca/bundle.pem");
        std::fs::write(
            &bundle,
            std::fs::read_to_string(&ca.pem).unwrap()
                + &std::fs::read_to_string(&resign.pem).unwrap(),
        )
        .unwrap();

        let srv = env.root().join("git-srv");
        for module in MODULES {
            let bare = srv.join(format!("{module}.git"));
            let seed = env.root().join(format!("seed/{module}"));
            env.git(&["init", "-q", "--bare"]).arg(&bare).success();
            env.git(&["init", "-q"]).arg(&seed).success();
            std::fs::write(
                seed.join("go.mod"),
                format!("module {HOST}/{module}\n\ngo 1.21\n"),
            )
            .unwrap();
            std::fs::write(
                seed.join("mod.go"),
                "package mod\n\nconst Hello = \"hello\"\n",
            )
            .unwrap();
            env.git(&["add", "."]).current_dir(&seed).success();
            env.git(&["commit", "-q", "-m", "first"])
                .current_dir(&seed)
                .success();
            env.git(&["tag", VERSION]).current_dir(&seed).success();
            env.git(&["push", "-q"])
                .arg(&bare)
                .args(["main", VERSION])
                .current_dir(&seed)
                .success();
        }
        let cgi_home = env.root().join("cgi-home");
        std::fs::create_dir_all(&cgi_home).unwrap();
        let handler = gitlab(srv, cgi_home);
        let go_mod = format!("module {MODULE}\n\ngo 1.21\n");
        let zip_bytes = zip(&[
            (format!("{MODULE}@{VERSION}/go.mod"), go_mod.as_bytes()),
            (
                format!("{MODULE}@{VERSION}/mod.go"),
                b"package mod\n\nconst Hello = \"hello\"\n",
            ),
        ]);
        let goproxy = Arc::new(move |req: &Request| {
            if req.header("Authorization").and_then(decode_basic)
                != Some((USER.to_owned(), GOOD.to_owned()))
            {
                return Response::unauthorized();
            }
            let Some(rest) = req.path().strip_prefix(&format!("/{MODULE}/@v/")) else {
                return Response::not_found();
            };
            match rest {
                "list" => Response::new(200, "text/plain", format!("{VERSION}\n")),
                r if r == format!("{VERSION}.info") => Response::new(
                    200,
                    "application/json",
                    format!("{{\"Version\":\"{VERSION}\",\"Time\":\"2026-01-01T00:00:00Z\"}}"),
                ),
                r if r == format!("{VERSION}.mod") => {
                    Response::new(200, "text/plain", go_mod.clone())
                }
                r if r == format!("{VERSION}.zip") => {
                    Response::new(200, "application/zip", zip_bytes.clone())
                }
                _ => Response::not_found(),
            }
        });
        let servers = vec![
            HttpServer::start("127.0.0.3:443", ca.server_config(&[GOPROXY_HOST]), goproxy),
            HttpServer::start("127.0.0.2:443", ca.server_config(&[HOST]), handler.clone()),
            HttpServer::start("127.0.0.6:443", resign.server_config(&[HOST]), handler),
        ];
        connect_proxy("127.0.0.5:3128", None);
        connect_proxy("127.0.0.5:3129", Some("127.0.0.6:443"));
        let gocache = env.root().join("gocache");
        DoctorWorld {
            env,
            ca,
            resign,
            bundle,
            gocache,
            _servers: servers,
        }
    }

    /// The egress proxy that refuses company hosts.
    pub fn egress_proxy(&self) -> String {
        format!("http://{EGRESS}:3128")
    }

    /// The inspecting proxy that re-signs everything.
    pub fn inspecting_proxy(&self) -> String {
        format!("http://{EGRESS}:3129")
    }

    /// A healthy set-up in a fresh HOME: a rule with the file store holding alice's token, git
    /// asking gocred (`setup git`), git and go trusting the company CA, `GOPRIVATE` and
    /// `GOAUTH='gocred goauth'` in the environment, and a module to `go get` into.
    pub fn case(&self) -> Case {
        let mut env = TestEnv::new();
        let root = env.root();
        let bin = env.put_helper_on_path();
        let gocred = bin.join("gocred");
        if !gocred.exists() {
            std::os::unix::fs::symlink(super::GOCRED, &gocred).unwrap();
        }
        env.prepend_path(go_toolchain().0.parent().unwrap().to_owned());
        for (k, v) in [
            ("GOROOT", go_toolchain().1.clone().into_os_string()),
            ("GOPATH", root.join("gopath").into()),
            ("GOMODCACHE", root.join("gopath/pkg/mod").into()),
            ("GOCACHE", self.gocache.clone().into()),
            ("GOENV", root.join("goenv").into()),
            ("GOFLAGS", "-modcacherw".into()),
            ("GOTOOLCHAIN", "local".into()),
            ("CGO_ENABLED", "0".into()),
            ("GOPRIVATE", HOST.into()),
            ("GOAUTH", "gocred goauth".into()),
            ("SSL_CERT_FILE", self.ca.pem.clone().into()),
            ("GIT_TERMINAL_PROMPT", "0".into()),
            ("GOCRED_HTTP_TIMEOUT", "10".into()), // a loaded machine; no case waits on it
        ] {
            env.set_env(k, v);
        }
        env.policy(&format!(
            "[[rule]]\nurl = \"https://{HOST}\"\nsources = [\"file\"]\nstore = \"file\"\n"
        ));
        env.gocred(&["setup", "git"]).success();
        env.git_config("http.sslCAInfo", self.ca.pem.to_str().unwrap());
        let work = root.join("work");
        std::fs::create_dir_all(&work).unwrap();
        std::fs::write(work.join("go.mod"), "module example.com/app\n\ngo 1.21\n").unwrap();
        let case = Case { env, work };
        case.store(GOOD);
        case
    }
}

/// One set-up.
pub struct Case {
    pub env: TestEnv,
    pub work: PathBuf,
}

impl Case {
    /// Stores `token` as alice's for the host.
    pub fn store(&self, token: &str) {
        self.env
            .gocred(&["store"])
            .stdin(format!(
                "protocol=https\nhost={HOST}\nusername={USER}\npassword={token}\n"
            ))
            .success();
    }

    /// go through the company GOPROXY for the module (GONOSUMDB for its checksum), with a rule
    /// and alice's token for the proxy's host.
    pub fn use_company_goproxy(&mut self) {
        self.env.set_env("GOPRIVATE", "");
        self.env
            .set_env("GOPROXY", format!("https://{GOPROXY_HOST}"));
        self.env.set_env("GONOSUMDB", HOST);
        self.env.policy(&format!(
            "[[rule]]\nurl = \"https://{HOST}\"\nsources = [\"file\"]\nstore = \"file\"\n\n\
             [[rule]]\nurl = \"https://{GOPROXY_HOST}\"\nsources = [\"file\"]\nstore = \"file\"\n"
        ));
        self.store(GOOD);
        self.env
            .gocred(&["store"])
            .stdin(format!(
                "protocol=https\nhost={GOPROXY_HOST}\nusername={USER}\npassword={GOOD}\n"
            ))
            .success();
    }

    /// `go get MODULE@v1.0.0` in the case's module.
    pub fn go_get(&self, module: &str) -> Output {
        self.env
            .command("go")
            .args(["get", &format!("{module}@{VERSION}")])
            .current_dir(&self.work)
            .run()
    }

    pub fn doctor(&self, module: &str, json: bool) -> Output {
        let mut cmd = self.env.gocred(&["doctor", module]);
        if json {
            cmd = cmd.arg("--json");
        }
        cmd.current_dir(&self.work).run()
    }

    /// `sh -c SCRIPT` in the case's module, with its environment.
    pub fn sh(&self, script: &str) -> Output {
        self.env
            .command("sh")
            .args(["-c", script])
            .current_dir(&self.work)
            .run()
    }

    pub fn home(&self) -> &Path {
        self.env.home()
    }
}
