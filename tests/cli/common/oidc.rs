//! The real OAuth server of the oauth tests: npm `oidc-provider` (tests/support/oidc/server.mjs)
//! on 127.0.0.1 over TLS, with a certificate from a CA this module makes per test. gocred is
//! told to trust that CA the way a user would: git's `http.<issuer>.sslCAInfo` in the test's git
//! config ([`OidcServer::trust_in_git`]).
//!
//! A tiny "browser" ([`OidcServer::approve`]) approves a device code as a person would: it
//! fetches the verification page and submits the provider's own HTML forms (user code, confirm,
//! login, consent), following redirects and keeping cookies.
//!
//! [`gocred_login`] runs `gocred login` and approves the code it prints.

use super::git_server::Checker;
use super::{GOCRED, TestEnv};
use std::collections::HashMap;
use std::io::{BufRead, BufReader, Read, Write};
use std::path::PathBuf;
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::Arc;
use std::sync::mpsc;
use std::time::{Duration, Instant};

/// Where server.mjs and its node_modules live.
pub fn support_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/support/oidc")
}

/// Starts `script` (in [`support_dir`]) under node with `ca`'s server key pair and `vars`, its
/// stderr in `log`, and waits (30 s at most) for the JSON line it prints once it listens; what
/// it prints after that is read and dropped (the provider logs notices on stdout too: unread, it
/// dies of EPIPE). Panics with the log when it does not start; `what` names it there.
pub fn start_node(
    env: &TestEnv,
    script: &str,
    ca: &TestCa,
    vars: &[(&str, String)],
    log: &std::path::Path,
    what: &str,
) -> (Child, serde_json::Value) {
    let dir = support_dir();
    assert!(
        dir.join("node_modules/oidc-provider").is_dir(),
        "oidc-provider is not installed: run `npm ci` in {} (scripts/test does)",
        dir.display()
    );
    let mut child = Command::new("node")
        .arg(dir.join(script))
        .env_clear()
        .env("PATH", env.path_var())
        .env("HOME", env.home())
        .env("TLS_CERT", &ca.cert_pem)
        .env("TLS_KEY", &ca.key_pem)
        .envs(vars.iter().map(|(k, v)| (k, v)))
        .current_dir(&dir)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(std::fs::File::create(log).unwrap())
        .spawn()
        .expect("start node (is Node.js installed? scripts/test installs it)");
    let stdout = child.stdout.take().unwrap();
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        let mut reader = BufReader::new(stdout);
        let mut line = String::new();
        let _ = reader.read_line(&mut line);
        let _ = tx.send(line);
        let _ = std::io::copy(&mut reader, &mut std::io::sink());
    });
    let line = rx.recv_timeout(Duration::from_secs(30)).unwrap_or_default();
    let info = serde_json::from_str(&line).unwrap_or_else(|_| {
        panic!(
            "{what} did not start: {line:?}\n{}",
            std::fs::read_to_string(log).unwrap_or_default()
        )
    });
    (child, info)
}

/// A test CA and a server certificate for `localhost` and 127.0.0.1, as PEM files.
pub struct TestCa {
    pub ca_pem: PathBuf,
    pub cert_pem: PathBuf,
    pub key_pem: PathBuf,
}

impl TestCa {
    pub fn new(dir: &std::path::Path) -> TestCa {
        use rcgen::{BasicConstraints, CertificateParams, DnType, IsCa, KeyPair, KeyUsagePurpose};
        std::fs::create_dir_all(dir).unwrap();
        let ca_key = KeyPair::generate().unwrap();
        let mut ca_params = CertificateParams::new(Vec::<String>::new()).unwrap();
        ca_params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
        ca_params
            .distinguished_name
            .push(DnType::CommonName, "gocred test CA");
        ca_params.key_usages = vec![
            KeyUsagePurpose::KeyCertSign,
            KeyUsagePurpose::CrlSign,
            KeyUsagePurpose::DigitalSignature,
        ];
        let ca = rcgen::CertifiedIssuer::self_signed(ca_params, ca_key).unwrap();
        let leaf_key = KeyPair::generate().unwrap();
        let leaf_params =
            CertificateParams::new(vec!["localhost".to_owned(), "127.0.0.1".to_owned()]).unwrap();
        let leaf = leaf_params.signed_by(&leaf_key, &ca).unwrap();
        let paths = TestCa {
            ca_pem: dir.join("ca.pem"),
            cert_pem: dir.join("server.pem"),
            key_pem: dir.join("server.key"),
        };
        std::fs::write(&paths.ca_pem, ca.pem()).unwrap();
        std::fs::write(&paths.cert_pem, leaf.pem()).unwrap();
        std::fs::write(&paths.key_pem, leaf_key.serialize_pem()).unwrap();
        paths
    }
}

pub struct OidcServer {
    child: Child,
    /// `https://localhost:PORT`.
    pub issuer: String,
    admin: String,
    pub ca: TestCa,
    pub log: PathBuf,
}

/// The client every test rule names.
pub const CLIENT_ID: &str = "gocred-test";

impl OidcServer {
    /// Starts the server with access tokens living `access_ttl` seconds.
    pub fn start(env: &TestEnv, access_ttl: u64) -> OidcServer {
        let ca = TestCa::new(&env.root().join("oidc-tls"));
        let log = env.root().join("oidc-server.log");
        let (child, info) = start_node(
            env,
            "server.mjs",
            &ca,
            &[("ACCESS_TOKEN_TTL", access_ttl.to_string())],
            &log,
            "the OAuth server",
        );
        OidcServer {
            child,
            issuer: info["issuer"].as_str().unwrap().to_owned(),
            admin: info["admin"].as_str().unwrap().to_owned(),
            ca,
            log,
        }
    }

    /// `git config --global http.<issuer>.sslCAInfo <ca.pem>`: what a user behind a company CA
    /// does, and the only way gocred learns to trust this server.
    pub fn trust_in_git(&self, env: &TestEnv) {
        env.git_config(
            &format!("http.{}.sslCAInfo", self.issuer),
            self.ca.ca_pem.to_str().unwrap(),
        );
    }

    fn admin(&self, method: &str, path: &str, body: &str) -> String {
        let addr = self.admin.trim_start_matches("http://");
        let mut conn = std::net::TcpStream::connect(addr).expect("connect to the admin port");
        write!(
            conn,
            "{method} {path} HTTP/1.0\r\nHost: {addr}\r\nContent-Length: {}\r\n\r\n{body}",
            body.len()
        )
        .unwrap();
        let mut answer = String::new();
        conn.read_to_string(&mut answer).unwrap();
        answer
            .split_once("\r\n\r\n")
            .map(|(_, b)| b.to_owned())
            .unwrap_or_default()
    }

    /// The server's counters (see server.mjs).
    pub fn stats(&self) -> serde_json::Value {
        serde_json::from_str(&self.admin("GET", "/stats", "")).unwrap()
    }

    /// Token requests with `grant_type=refresh_token` so far, successful or not.
    pub fn refresh_requests(&self) -> u64 {
        self.stats()["grants"]["refresh_token"]
            .as_u64()
            .unwrap_or(0)
    }

    /// The account an access token belongs to, if the server still accepts it.
    pub fn check(&self, token: &str) -> Option<String> {
        self.admin("POST", "/check", token)
            .strip_prefix("active ")
            .map(str::to_owned)
    }

    /// Revokes the grant of `refresh_token` behind gocred's back, as an administrator would.
    pub fn revoke_grant(&self, refresh_token: &str) {
        assert_eq!(self.admin("POST", "/revoke", refresh_token), "revoked");
    }

    /// For the git server: user `oauth2` with an access token the server accepts.
    pub fn checker(self: &Arc<Self>) -> Checker {
        let me = self.clone();
        Arc::new(move |user, password| user == "oauth2" && me.check(password).is_some())
    }

    /// Approves the device code at `verification_uri` (complete or not) as `account`.
    pub fn approve(&self, verification_uri: &str, user_code: &str, account: &str) {
        let agent: ureq::Agent = ureq::Agent::config_builder()
            .max_redirects(0)
            .http_status_as_error(false)
            .timeout_global(Some(Duration::from_secs(20)))
            .tls_config(
                ureq::tls::TlsConfig::builder()
                    .root_certs(ureq::tls::RootCerts::new_with_certs(&[
                        ureq::tls::Certificate::from_pem(&std::fs::read(&self.ca.ca_pem).unwrap())
                            .unwrap(),
                    ]))
                    .build(),
            )
            .build()
            .into();
        let mut cookies: HashMap<String, String> = HashMap::new();
        let mut request: (String, Option<Vec<(String, String)>>) =
            (verification_uri.to_owned(), None);
        let mut pages = Vec::new();
        for _ in 0..20 {
            let (url, form) = request.clone();
            let cookie = cookies
                .iter()
                .map(|(k, v)| format!("{k}={v}"))
                .collect::<Vec<_>>()
                .join("; ");
            let result = match &form {
                None => agent.get(&url).header("Cookie", &cookie).call(),
                Some(fields) => agent
                    .post(&url)
                    .header("Cookie", &cookie)
                    .send_form(fields.iter().map(|(k, v)| (k.as_str(), v.as_str()))),
            };
            let mut response = result.unwrap_or_else(|e| panic!("browser: {url}: {e}"));
            for value in response.headers().get_all("set-cookie") {
                let pair = value.to_str().unwrap().split(';').next().unwrap();
                if let Some((k, v)) = pair.split_once('=') {
                    cookies.insert(k.trim().to_owned(), v.trim().to_owned());
                }
            }
            let status = response.status().as_u16();
            if (300..400).contains(&status) {
                let location = response.headers()["location"].to_str().unwrap();
                request = (self.absolute(location), None);
                continue;
            }
            let page = response.body_mut().read_to_string().unwrap();
            assert_eq!(status, 200, "browser: {url}: HTTP {status}: {page}");
            match parse_form(&page) {
                None => {
                    assert!(
                        page.contains("Sign-in Success"),
                        "the device flow ended on an unexpected page: {page}"
                    );
                    return;
                }
                Some((action, mut fields)) => {
                    for (name, value) in &mut fields {
                        if value.is_empty() {
                            *value = match name.as_str() {
                                "user_code" => user_code.to_owned(),
                                "login" => account.to_owned(),
                                "password" => "any password".to_owned(),
                                _ => String::new(),
                            };
                        }
                    }
                    pages.push(action.clone());
                    request = (self.absolute(&action), Some(fields));
                }
            }
        }
        panic!("the device flow did not end after 20 pages: {pages:?}");
    }

    fn absolute(&self, location: &str) -> String {
        if location.starts_with("https://") {
            location.to_owned()
        } else {
            format!("{}{location}", self.issuer)
        }
    }
}

impl Drop for OidcServer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// The first `<form>` of `page`: its action and its `<input>` fields (buttons are not sent).
fn parse_form(page: &str) -> Option<(String, Vec<(String, String)>)> {
    let start = page.find("<form")?;
    let end = page[start..]
        .find("</form>")
        .map_or(page.len(), |e| start + e);
    let form = &page[start..end];
    let tag_end = form.find('>')?;
    let action = attribute(&form[..tag_end], "action").unwrap_or_default();
    let mut fields = Vec::new();
    let mut rest = &form[tag_end..];
    while let Some(i) = rest.find("<input") {
        let tag = &rest[i..i + rest[i..].find('>')?];
        if let Some(name) = attribute(tag, "name") {
            fields.push((name, attribute(tag, "value").unwrap_or_default()));
        }
        rest = &rest[i + tag.len()..];
    }
    Some((action, fields))
}

fn attribute(tag: &str, name: &str) -> Option<String> {
    let needle = format!(" {name}=\"");
    let start = tag.find(&needle)? + needle.len();
    let value = &tag[start..start + tag[start..].find('"')?];
    Some(
        value
            .replace("&quot;", "\"")
            .replace("&#x2F;", "/")
            .replace("&#39;", "'")
            .replace("&lt;", "<")
            .replace("&gt;", ">")
            .replace("&amp;", "&"),
    )
}

/// What `gocred login` printed, with its exit status.
#[derive(Debug)]
pub struct LoginOutput {
    pub status: ExitStatus,
    pub stdout: String,
    pub stderr: String,
    pub user_code: String,
}

/// The code and URLs `gocred login` printed, read from its stderr as it runs.
pub struct Prompt {
    pub user_code: String,
    pub verification_uri: String,
    pub complete: Option<String>,
}

/// Runs `gocred login ARGS` in `env`; once it shows a code, calls `act` (approve it, deny it,
/// interrupt the process...) with the prompt and the child's pid, then waits for it to end.
pub fn gocred_login(env: &TestEnv, args: &[&str], act: impl FnOnce(&Prompt, u32)) -> LoginOutput {
    // Through the env (its keyring namespace, if it has one), as every other command of the test.
    let mut child = env
        .std_command(GOCRED)
        .arg("login")
        .args(args)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn gocred login");
    let stderr = child.stderr.take().unwrap();
    let mut stdout = child.stdout.take().unwrap();
    let (tx, rx) = mpsc::channel::<String>();
    let err_reader = std::thread::spawn(move || {
        let mut all = String::new();
        for line in BufReader::new(stderr).lines() {
            let Ok(line) = line else { break };
            all += &line;
            all.push('\n');
            let _ = tx.send(line);
        }
        all
    });
    let out_reader = std::thread::spawn(move || {
        let mut s = String::new();
        let _ = stdout.read_to_string(&mut s);
        s
    });
    let deadline = Instant::now() + Duration::from_secs(60);
    let mut lines = Vec::new();
    let prompt = loop {
        let Ok(line) = rx.recv_timeout(deadline.saturating_duration_since(Instant::now())) else {
            break None;
        };
        lines.push(line);
        if let Some(p) = prompt_from(&lines) {
            break Some(p);
        }
    };
    let mut user_code = String::new();
    if let Some(prompt) = &prompt {
        user_code = prompt.user_code.clone();
        act(prompt, child.id());
    }
    let status = loop {
        if let Some(status) = child.try_wait().unwrap() {
            break status;
        }
        if Instant::now() > deadline + Duration::from_secs(60) {
            let _ = child.kill();
            panic!("gocred login did not end: {lines:?}");
        }
        std::thread::sleep(Duration::from_millis(20));
    };
    LoginOutput {
        status,
        stdout: out_reader.join().unwrap(),
        stderr: err_reader.join().unwrap(),
        user_code,
    }
}

/// The prompt once every part of it has been printed.
fn prompt_from(lines: &[String]) -> Option<Prompt> {
    let after = |marker: &str| {
        let i = lines.iter().position(|l| l.contains(marker))?;
        lines[i + 1..]
            .iter()
            .find(|l| !l.trim().is_empty())
            .map(|l| l.trim().to_owned())
    };
    let verification_uri = after("To log in to")?;
    let user_code = after("and enter the code")?;
    // The QR code and the "not opening a browser" line come after the complete URL.
    let complete = after("which opens");
    if !lines.iter().any(|l| l.contains("browser")) {
        return None;
    }
    Some(Prompt {
        user_code,
        verification_uri,
        complete,
    })
}
