//! The three netrc readers that matter, run for real against loopback hosts that log what each
//! one receives: curl (`--netrc-file`), git (`~/.netrc`, through its libcurl) and go (`$NETRC`),
//! plus Python's `netrc` module, which reads without a network.
//!
//! [`NetrcWorld::new`] moves the calling test thread (and so every process it starts) into
//! network and mount namespaces of its own (FIELD-NOTES, "The machine"): `lo` up and a private
//! `/etc/hosts` giving every name 127.0.0.1, where one HTTPS server on port 443 and one on 8443
//! (one certificate for every name, from a test CA) answer every request without an
//! `Authorization` with `401` and a Basic challenge, and log the `Host` and `Authorization` of
//! every request. Needs root.

use super::go::{enter_private_network, go_toolchain};
use super::https::{HttpsServer, Request, Response, TestCa};
use super::{TestEnv, set_mode};
use std::collections::BTreeMap;
use std::path::Path;
use std::sync::{Arc, Mutex};

/// What one reader sent to each `host[:port]` it was pointed at: the user name and password of
/// its Basic `Authorization` (bytes that are not UTF-8 shown as U+FFFD), or `None`.
pub type Sent = BTreeMap<String, Option<(String, String)>>;

/// The user name [`Sent`] shows for a host no request reached at all (the reader could not
/// resolve or connect to it): a probe that proves nothing, reported rather than taken for "sent
/// nothing".
pub const UNREACHED: &str = "<no request reached this host>";

/// Every request's `Host` and `Authorization`, in order.
type Log = Arc<Mutex<Vec<(String, Option<String>)>>>;

pub struct NetrcWorld {
    pub env: TestEnv,
    ca: TestCa,
    _servers: Vec<HttpsServer>,
    log: Log,
}

fn base64_decode(s: &str) -> Option<Vec<u8>> {
    let value = |c: u8| -> Option<u32> {
        Some(u32::from(match c {
            b'A'..=b'Z' => c - b'A',
            b'a'..=b'z' => c - b'a' + 26,
            b'0'..=b'9' => c - b'0' + 52,
            b'+' => 62,
            b'/' => 63,
            _ => return None,
        }))
    };
    let s = s.trim_end_matches('=').as_bytes();
    let mut out = Vec::new();
    for chunk in s.chunks(4) {
        let mut n = 0u32;
        for (i, &c) in chunk.iter().enumerate() {
            n |= value(c)? << (18 - 6 * i);
        }
        let bytes = n.to_be_bytes();
        out.extend_from_slice(&bytes[1..chunk.len()]);
    }
    Some(out)
}

/// `Basic base64(user:password)` as a pair, split at the first `:` (as servers do).
fn decode(header: &str) -> Option<(String, String)> {
    let b64 = header.strip_prefix("Basic ")?;
    let bytes = base64_decode(b64.trim())?;
    let text = String::from_utf8_lossy(&bytes);
    let (u, p) = text.split_once(':')?;
    Some((u.to_owned(), p.to_owned()))
}

impl NetrcWorld {
    /// A private network where every one of `names` is 127.0.0.1, served on 443 and 8443.
    pub fn new(names: &[String]) -> NetrcWorld {
        go_toolchain();
        let env = TestEnv::new();
        let mut hosts = String::from("127.0.0.1 localhost\n");
        for name in names {
            hosts += &format!("127.0.0.1 {name}\n");
        }
        let hosts = env.write_file("hosts", &hosts);
        enter_private_network(&hosts);
        let ca = TestCa::new(&env.root().join("ca"), "gocred netrc test CA");
        let sans: Vec<&str> = names.iter().map(String::as_str).collect();
        let tls = ca.server_config(&sans);
        let log: Log = Arc::new(Mutex::new(Vec::new()));
        let log2 = log.clone();
        let handler = Arc::new(move |req: &Request| {
            let host = req.header("Host").unwrap_or("").to_owned();
            let auth = req.header("Authorization").map(str::to_owned);
            log2.lock().unwrap().push((host, auth.clone()));
            if auth.is_some() {
                return Response::not_found();
            }
            let mut r = Response::new(401, "text/plain", "who are you?\n");
            r.headers
                .push(("WWW-Authenticate".into(), "Basic realm=\"netrc\"".into()));
            r
        });
        let servers = vec![
            HttpsServer::start("127.0.0.1:443", tls.clone(), handler.clone()),
            HttpsServer::start("127.0.0.1:8443", tls, handler),
        ];
        NetrcWorld {
            env,
            ca,
            _servers: servers,
            log,
        }
    }

    /// What the servers logged since the last call, as the credential each `Host` received.
    /// Panics when one host received two different credentials (each probe asks each host once).
    /// A probed host that no request reached shows as [`UNREACHED`] (never a credential).
    fn take(&self, probed: &[String]) -> Sent {
        let log = std::mem::take(&mut *self.log.lock().unwrap());
        let mut sent: Sent = probed
            .iter()
            .map(|h| (h.clone(), Some((UNREACHED.to_owned(), String::new()))))
            .collect();
        for (host, _) in &log {
            if let Some(slot) = sent.get_mut(host)
                && slot.as_ref().is_some_and(|(u, _)| u == UNREACHED)
            {
                *slot = None;
            }
        }
        for (host, auth) in log {
            let Some(auth) = auth else { continue };
            let cred = decode(&auth);
            let slot = sent.entry(host.clone()).or_insert(None);
            if let Some(earlier) = slot {
                assert_eq!(Some(&*earlier), cred.as_ref(), "{host} got two credentials");
            }
            *slot = cred;
        }
        sent
    }

    /// `curl --netrc-file NETRC https://HOST/` for each host (one process).
    pub fn curl(&self, netrc: &Path, hosts: &[String]) -> Sent {
        let mut cmd = self
            .env
            .command("curl")
            .args(["-s", "-o", "/dev/null", "--max-time", "20", "--netrc-file"])
            .arg(netrc)
            .arg("--cacert")
            .arg(&self.ca.pem);
        for h in hosts {
            cmd = cmd.arg(format!("https://{h}/"));
        }
        cmd.run();
        self.take(hosts)
    }

    /// `git ls-remote https://HOST/r.git` with NETRC as `~/.netrc`, for each host; `git` is
    /// the program (git 2.47 in /usr/local/bin, Debian's 2.39 in /usr/bin).
    pub fn git(&self, git: &str, netrc: &Path, hosts: &[String]) -> Sent {
        let home_netrc = self.env.home().join(".netrc");
        std::fs::copy(netrc, &home_netrc).unwrap();
        set_mode(&home_netrc, 0o600);
        for h in hosts {
            self.env
                .command(git)
                .args(["-c", "credential.helper=", "-c"])
                .arg(format!("http.sslCAInfo={}", self.ca.pem.display()))
                .args(["ls-remote", &format!("https://{h}/r.git")])
                .env("GIT_TERMINAL_PROMPT", "0")
                .run();
        }
        std::fs::remove_file(&home_netrc).unwrap();
        self.take(hosts)
    }

    /// `go mod download` through `GOPROXY=https://HOST|...` (after any error go asks the
    /// next proxy) with `NETRC`: one go process asks every host.
    pub fn go(&self, netrc: &Path, hosts: &[String]) -> Sent {
        let root = self.env.root();
        let proxies: Vec<String> = hosts.iter().map(|h| format!("https://{h}")).collect();
        self.env
            .command(&go_toolchain().0)
            .args(["mod", "download", "-json", "example.com/m@v1.0.0"])
            .env("GOROOT", &go_toolchain().1)
            .env("GOPATH", root.join("gopath"))
            .env("GOMODCACHE", root.join("gopath/pkg/mod"))
            .env("GOCACHE", root.join("gocache"))
            .env("GOENV", "off")
            .env("GOFLAGS", "-modcacherw")
            .env("GOTOOLCHAIN", "local")
            .env("GOSUMDB", "off")
            .env("GOPROXY", proxies.join("|"))
            .env("GONOPROXY", "")
            .env("GOPRIVATE", "")
            .env("SSL_CERT_FILE", &self.ca.pem)
            .env("NETRC", netrc)
            .current_dir(root)
            .run();
        self.take(hosts)
    }
}

/// Python's `netrc` module on NETRC: every host with its login and password, or its error.
pub fn python(env: &TestEnv, netrc: &Path) -> Result<BTreeMap<String, (String, String)>, String> {
    // Hex, so that no value can be mistaken for the separators.
    let script = "import netrc, sys\n\
                  n = netrc.netrc(sys.argv[1])\n\
                  for h, (login, account, password) in n.hosts.items():\n\
                  \x20   print(' '.join(v.encode().hex() for v in (h, login, password)))\n";
    let out = env.command("python3").args(["-c", script]).arg(netrc).run();
    if !out.status.success() {
        return Err(out.stderr);
    }
    let unhex = |h: &str| -> String {
        let bytes: Vec<u8> = (0..h.len())
            .step_by(2)
            .map(|i| u8::from_str_radix(&h[i..i + 2], 16).unwrap())
            .collect();
        String::from_utf8(bytes).unwrap()
    };
    let mut hosts = BTreeMap::new();
    for line in out.stdout.lines() {
        let f: Vec<String> = line.split(' ').map(unhex).collect();
        hosts.insert(f[0].clone(), (f[1].clone(), f[2].clone()));
    }
    Ok(hosts)
}
