//! The one loopback HTTP server of the tests, plain or TLS: what git, go, curl and gocred talk to.
//!
//! Std only plus rustls for TLS (a test CA from rcgen, [`TestCa`]); one thread per connection, one
//! request per connection (`Connection: close`). A [`Handler`] answers each [`Request`]; every
//! request is logged ([`Logged`]) with the `Authorization` header it carried, so a test can assert
//! exactly which host received which credential. [`basic_auth`] wraps a handler so that every
//! request needs one of a table's users; [`git_http_backend`] runs `git http-backend` (CGI) for a
//! request. `git_server::GitServer` (smart-HTTP git behind Basic auth) and the `https` module's
//! names are thin layers over this.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// The realm of every `WWW-Authenticate: Basic` challenge.
pub const REALM: &str = "gocred-test";

/// A read on a connection that waits longer than this fails it: a stuck client cannot hang a test.
const READ_TIMEOUT: Duration = Duration::from_secs(30);

/// A CA and the PEM file a client trusts it through.
pub struct TestCa {
    issuer: rcgen::CertifiedIssuer<'static, rcgen::KeyPair>,
    /// The CA certificate (what `SSL_CERT_FILE` and `http.sslCAInfo` point at).
    pub pem: PathBuf,
}

impl TestCa {
    /// A new CA whose certificate says `common_name` (e.g. "Corp Egress Inspection CA").
    pub fn new(dir: &Path, common_name: &str) -> TestCa {
        use rcgen::{BasicConstraints, CertificateParams, DnType, IsCa, KeyPair, KeyUsagePurpose};
        let key = KeyPair::generate().unwrap();
        let mut params = CertificateParams::new(Vec::<String>::new()).unwrap();
        params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
        params
            .distinguished_name
            .push(DnType::CommonName, common_name);
        params
            .distinguished_name
            .push(DnType::OrganizationName, common_name);
        params.key_usages = vec![
            KeyUsagePurpose::KeyCertSign,
            KeyUsagePurpose::DigitalSignature,
        ];
        let issuer = rcgen::CertifiedIssuer::self_signed(params, key).unwrap();
        std::fs::create_dir_all(dir).unwrap();
        let pem = dir.join(format!("{}.pem", common_name.replace(' ', "-")));
        std::fs::write(&pem, issuer.pem()).unwrap();
        TestCa { issuer, pem }
    }

    /// A rustls server configuration with a certificate for `names` (DNS names or IPs).
    pub fn server_config(&self, names: &[&str]) -> Arc<rustls::ServerConfig> {
        let key = rcgen::KeyPair::generate().unwrap();
        let params =
            rcgen::CertificateParams::new(names.iter().map(|n| n.to_string()).collect::<Vec<_>>())
                .unwrap();
        let cert = params.signed_by(&key, &self.issuer).unwrap();
        let chain = vec![cert.der().clone()];
        let key = rustls::pki_types::PrivateKeyDer::Pkcs8(key.serialize_der().into());
        let config = rustls::ServerConfig::builder_with_provider(Arc::new(
            rustls::crypto::ring::default_provider(),
        ))
        .with_safe_default_protocol_versions()
        .unwrap()
        .with_no_client_auth()
        .with_single_cert(chain, key)
        .unwrap();
        Arc::new(config)
    }
}

/// One request as a handler sees it (the body de-chunked).
#[derive(Debug, Clone)]
pub struct Request {
    pub method: String,
    /// Path and query, e.g. `/group/mod?go-get=1`.
    pub target: String,
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
}

impl Request {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    pub fn path(&self) -> &str {
        self.target.split('?').next().unwrap_or("")
    }

    pub fn query(&self) -> &str {
        self.target.split_once('?').map_or("", |(_, q)| q)
    }

    /// The body came with `Transfer-Encoding: chunked`.
    pub fn chunked(&self) -> bool {
        self.header("Transfer-Encoding")
            .is_some_and(|t| t.to_ascii_lowercase().contains("chunked"))
    }
}

pub struct Response {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
}

impl Response {
    pub fn new(status: u16, content_type: &str, body: impl Into<Vec<u8>>) -> Response {
        Response {
            status,
            headers: vec![("Content-Type".into(), content_type.into())],
            body: body.into(),
        }
    }

    pub fn not_found() -> Response {
        Response::new(404, "text/plain", "not found\n")
    }

    /// `401` with `WWW-Authenticate: Basic realm="gocred-test"`.
    pub fn unauthorized() -> Response {
        let mut r = Response::new(401, "text/plain", "authentication required\n");
        r.headers.push((
            "WWW-Authenticate".into(),
            format!("Basic realm=\"{REALM}\""),
        ));
        r
    }
}

pub type Handler = Arc<dyn Fn(&Request) -> Response + Send + Sync>;

/// One request as the server saw it, logged after its answer went out.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Logged {
    pub method: String,
    /// Path and query, e.g. `/repo.git/info/refs?service=git-upload-pack`.
    pub target: String,
    /// The raw `Authorization` header, if any.
    pub authorization: Option<String>,
    pub status: u16,
    /// The body came with `Transfer-Encoding: chunked` (git does that above `http.postBuffer`).
    pub chunked: bool,
    /// The body's length after de-chunking.
    pub body_len: usize,
}

impl Logged {
    /// `(user, password)` of a Basic Authorization header.
    pub fn basic(&self) -> Option<(String, String)> {
        decode_basic(self.authorization.as_deref()?)
    }
}

#[derive(Default)]
struct Log {
    entries: Vec<Logged>,
    /// Requests read and not yet logged: a request is logged after its answer went out, so a
    /// client can be done before its entry is there; [`HttpServer::log`] waits for them.
    in_flight: usize,
}

/// A server on one loopback socket, plain HTTP or TLS; stops accepting when dropped.
pub struct HttpServer {
    addr: SocketAddr,
    tls: bool,
    log: Arc<Mutex<Log>>,
    stop: Arc<AtomicBool>,
}

impl HttpServer {
    /// Serves `handler` on `addr` (e.g. `127.0.0.2:443`, or port 0 for a free one), over TLS with
    /// `tls` (an `Arc<rustls::ServerConfig>`, e.g. from [`TestCa::server_config`]) or plain HTTP
    /// with `None`.
    pub fn start(
        addr: &str,
        tls: impl Into<Option<Arc<rustls::ServerConfig>>>,
        handler: Handler,
    ) -> HttpServer {
        let tls = tls.into();
        let listener = TcpListener::bind(addr).unwrap_or_else(|e| panic!("bind {addr}: {e}"));
        let server = HttpServer {
            addr: listener.local_addr().unwrap(),
            tls: tls.is_some(),
            log: Arc::default(),
            stop: Arc::default(),
        };
        let (log, stop) = (server.log.clone(), server.stop.clone());
        std::thread::spawn(move || {
            for conn in listener.incoming() {
                if stop.load(Ordering::SeqCst) {
                    break;
                }
                let Ok(conn) = conn else { continue };
                let (tls, handler, log) = (tls.clone(), handler.clone(), log.clone());
                std::thread::spawn(move || {
                    if let Err(e) = serve(conn, tls, &*handler, &log) {
                        eprintln!("test http server: {e}");
                    }
                });
            }
        });
        server
    }

    /// Plain HTTP on 127.0.0.1, on a free port.
    pub fn plain(handler: Handler) -> HttpServer {
        HttpServer::start("127.0.0.1:0", None, handler)
    }

    pub fn port(&self) -> u16 {
        self.addr.port()
    }

    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// `https` or `http`.
    pub fn scheme(&self) -> &'static str {
        if self.tls { "https" } else { "http" }
    }

    /// Every request so far, in order (after waiting, up to 5 s, for the ones being answered).
    pub fn log(&self) -> Vec<Logged> {
        let deadline = Instant::now() + Duration::from_secs(5);
        loop {
            let log = self.log.lock().unwrap();
            if log.in_flight == 0 || Instant::now() > deadline {
                return log.entries.clone();
            }
            drop(log);
            std::thread::sleep(Duration::from_millis(5));
        }
    }

    /// Forgets the log, e.g. between a first and a second clone.
    pub fn clear_log(&self) {
        self.log.lock().unwrap().entries.clear();
    }

    /// Every Authorization header this server received, in order.
    pub fn authorizations(&self) -> Vec<String> {
        self.log()
            .into_iter()
            .filter_map(|l| l.authorization)
            .collect()
    }
}

impl Drop for HttpServer {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
        let _ = TcpStream::connect(self.addr); // wakes the accept loop so it sees `stop`
    }
}

/// Wraps `inner` so that every request needs one of `users` (`user`, `password`) as HTTP Basic
/// credentials; anything else gets [`Response::unauthorized`].
pub fn basic_auth(users: Arc<Mutex<Vec<(String, String)>>>, inner: Handler) -> Handler {
    Arc::new(move |req: &Request| {
        let ok = req
            .header("Authorization")
            .and_then(decode_basic)
            .is_some_and(|cred| users.lock().unwrap().contains(&cred));
        if ok {
            inner(req)
        } else {
            Response::unauthorized()
        }
    })
}

/// A connection, plain or TLS.
enum Stream {
    Plain(TcpStream),
    Tls(Box<rustls::StreamOwned<rustls::ServerConnection, TcpStream>>),
}

impl Read for Stream {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        match self {
            Stream::Plain(s) => s.read(buf),
            Stream::Tls(s) => s.read(buf),
        }
    }
}

impl Write for Stream {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        match self {
            Stream::Plain(s) => s.write(buf),
            Stream::Tls(s) => s.write(buf),
        }
    }

    fn flush(&mut self) -> std::io::Result<()> {
        match self {
            Stream::Plain(s) => s.flush(),
            Stream::Tls(s) => s.flush(),
        }
    }
}

fn serve(
    tcp: TcpStream,
    tls: Option<Arc<rustls::ServerConfig>>,
    handler: &(dyn Fn(&Request) -> Response + Send + Sync),
    log: &Mutex<Log>,
) -> std::io::Result<()> {
    tcp.set_read_timeout(Some(READ_TIMEOUT))?;
    let stream = match tls {
        None => Stream::Plain(tcp),
        Some(config) => {
            let conn = rustls::ServerConnection::new(config).map_err(std::io::Error::other)?;
            Stream::Tls(Box::new(rustls::StreamOwned::new(conn, tcp)))
        }
    };
    let mut reader = BufReader::new(stream);
    let Some(head) = read_head(&mut reader)? else {
        return Ok(()); // the wake-up connection from Drop, or a client that gave up
    };
    log.lock().unwrap().in_flight += 1;
    let result = answer(head, &mut reader, handler);
    let mut log = log.lock().unwrap();
    log.in_flight -= 1;
    log.entries.extend(result?);
    Ok(())
}

/// Reads the body, asks the handler, writes the answer; the log entry once it went out.
fn answer(
    mut request: Request,
    reader: &mut BufReader<Stream>,
    handler: &(dyn Fn(&Request) -> Response + Send + Sync),
) -> std::io::Result<Option<Logged>> {
    read_body(&mut request, reader)?;
    let response = handler(&request);
    let stream = reader.get_mut();
    let mut head = format!(
        "HTTP/1.1 {} {}\r\n",
        response.status,
        reason(response.status)
    );
    for (k, v) in &response.headers {
        head += &format!("{k}: {v}\r\n");
    }
    head += &format!(
        "Content-Length: {}\r\nConnection: close\r\n\r\n",
        response.body.len()
    );
    stream.write_all(head.as_bytes())?;
    stream.write_all(&response.body)?;
    stream.flush()?;
    if let Stream::Tls(tls) = stream {
        tls.conn.send_close_notify();
        let _ = tls.flush();
    }
    Ok(Some(Logged {
        chunked: request.chunked(),
        body_len: request.body.len(),
        authorization: request.header("Authorization").map(str::to_owned),
        method: request.method,
        target: request.target,
        status: response.status,
    }))
}

fn reason(status: u16) -> &'static str {
    match status {
        200 => "OK",
        201 => "Created",
        204 => "No Content",
        301 => "Moved Permanently",
        302 => "Found",
        304 => "Not Modified",
        307 => "Temporary Redirect",
        308 => "Permanent Redirect",
        400 => "Bad Request",
        401 => "Unauthorized",
        403 => "Forbidden",
        404 => "Not Found",
        405 => "Method Not Allowed",
        429 => "Too Many Requests",
        500 => "Internal Server Error",
        502 => "Bad Gateway",
        503 => "Service Unavailable",
        _ => "Status",
    }
}

/// The request line and headers; `None` for a connection closed before a request line.
fn read_head(reader: &mut BufReader<Stream>) -> std::io::Result<Option<Request>> {
    let mut line = String::new();
    if reader.read_line(&mut line)? == 0 {
        return Ok(None);
    }
    let mut parts = line.split_whitespace();
    let (Some(method), Some(target)) = (parts.next(), parts.next()) else {
        return Err(std::io::Error::other(format!("bad request line {line:?}")));
    };
    let mut request = Request {
        method: method.to_owned(),
        target: target.to_owned(),
        headers: Vec::new(),
        body: Vec::new(),
    };
    loop {
        let mut h = String::new();
        if reader.read_line(&mut h)? == 0 {
            break;
        }
        let h = h.trim_end_matches(['\r', '\n']);
        if h.is_empty() {
            break;
        }
        if let Some((k, v)) = h.split_once(':') {
            request
                .headers
                .push((k.trim().to_owned(), v.trim().to_owned()));
        }
    }
    Ok(Some(request))
}

/// The body (after `100 Continue` when the client waits for it), chunked or by Content-Length.
fn read_body(request: &mut Request, reader: &mut BufReader<Stream>) -> std::io::Result<()> {
    if request
        .header("Expect")
        .is_some_and(|e| e.eq_ignore_ascii_case("100-continue"))
    {
        reader
            .get_mut()
            .write_all(b"HTTP/1.1 100 Continue\r\n\r\n")?;
        reader.get_mut().flush()?;
    }
    if request.chunked() {
        loop {
            let mut size = String::new();
            reader.read_line(&mut size)?;
            let size = size.trim().split(';').next().unwrap_or("");
            let n = usize::from_str_radix(size, 16)
                .map_err(|_| std::io::Error::other(format!("bad chunk size {size:?}")))?;
            if n == 0 {
                // Trailers, then the final blank line.
                let mut t = String::new();
                while reader.read_line(&mut t)? > 0 && !t.trim().is_empty() {
                    t.clear();
                }
                break;
            }
            let start = request.body.len();
            request.body.resize(start + n, 0);
            reader.read_exact(&mut request.body[start..])?;
            let mut crlf = [0; 2];
            reader.read_exact(&mut crlf)?;
        }
    } else if let Some(len) = request.header("Content-Length") {
        let len: usize = len
            .parse()
            .map_err(|_| std::io::Error::other(format!("bad Content-Length {len:?}")))?;
        request.body.resize(len, 0);
        reader.read_exact(&mut request.body)?;
    }
    Ok(())
}

/// Runs `git http-backend` (CGI) for a request on the bare repositories under `root`, with
/// `home` as its HOME and the Basic user (if any) as `REMOTE_USER`.
pub fn git_http_backend(request: &Request, root: &Path, home: &Path) -> Response {
    use std::process::{Command, Stdio};
    let user = request
        .header("Authorization")
        .and_then(decode_basic)
        .map(|(u, _)| u)
        .unwrap_or_default();
    let mut cmd = Command::new("git");
    cmd.arg("http-backend")
        .env_clear()
        .env("PATH", "/usr/local/bin:/usr/bin:/bin")
        .env("HOME", home)
        .env("GIT_CONFIG_NOSYSTEM", "1")
        .env("GIT_CONFIG_GLOBAL", "/dev/null")
        .env("GIT_PROJECT_ROOT", root)
        .env("GIT_HTTP_EXPORT_ALL", "1")
        .env("REMOTE_USER", user)
        .env("REMOTE_ADDR", "127.0.0.1")
        .env("GATEWAY_INTERFACE", "CGI/1.1")
        .env("SERVER_PROTOCOL", "HTTP/1.1")
        .env("REQUEST_METHOD", &request.method)
        .env("PATH_INFO", request.path())
        .env("QUERY_STRING", request.query())
        .env("CONTENT_LENGTH", request.body.len().to_string())
        .env("CONTENT_TYPE", request.header("Content-Type").unwrap_or(""))
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    for (header, var) in [
        ("Git-Protocol", "HTTP_GIT_PROTOCOL"),
        ("Content-Encoding", "HTTP_CONTENT_ENCODING"),
    ] {
        if let Some(v) = request.header(header) {
            cmd.env(var, v);
        }
    }
    let mut child = cmd.spawn().expect("git http-backend");
    let mut stdin = child.stdin.take().unwrap();
    let body = request.body.clone();
    let feeder = std::thread::spawn(move || {
        let _ = stdin.write_all(&body);
    });
    let output = child.wait_with_output().expect("git http-backend output");
    let _ = feeder.join();
    if !output.stderr.is_empty() {
        eprintln!(
            "git http-backend: {}",
            String::from_utf8_lossy(&output.stderr)
        );
    }
    // CGI answer: headers, a blank line, the body.
    let raw = output.stdout;
    let split = find(&raw, b"\r\n\r\n")
        .map(|i| (i, 4))
        .or_else(|| find(&raw, b"\n\n").map(|i| (i, 2)));
    let (head, body) = match split {
        Some((i, sep)) => (
            String::from_utf8_lossy(&raw[..i]).into_owned(),
            raw[i + sep..].to_vec(),
        ),
        None => (String::new(), raw),
    };
    let mut response = Response {
        status: 200,
        headers: Vec::new(),
        body,
    };
    for line in head.lines() {
        let Some((k, v)) = line.split_once(':') else {
            continue;
        };
        if k.eq_ignore_ascii_case("Status") {
            response.status = v
                .trim()
                .split(' ')
                .next()
                .and_then(|c| c.parse().ok())
                .unwrap_or(500);
        } else {
            response
                .headers
                .push((k.trim().to_owned(), v.trim().to_owned()));
        }
    }
    response
}

fn find(hay: &[u8], needle: &[u8]) -> Option<usize> {
    hay.windows(needle.len()).position(|w| w == needle)
}

/// `Basic base64(user:password)` → `(user, password)`.
pub fn decode_basic(header: &str) -> Option<(String, String)> {
    let (scheme, b64) = header.split_once(' ')?;
    if !scheme.eq_ignore_ascii_case("basic") {
        return None;
    }
    let text = String::from_utf8(base64_decode(b64.trim())?).ok()?;
    let (u, p) = text.split_once(':')?;
    Some((u.to_owned(), p.to_owned()))
}

fn base64_decode(s: &str) -> Option<Vec<u8>> {
    let value = |c: u8| -> Option<u32> {
        Some(match c {
            b'A'..=b'Z' => c - b'A',
            b'a'..=b'z' => c - b'a' + 26,
            b'0'..=b'9' => c - b'0' + 52,
            b'+' => 62,
            b'/' => 63,
            _ => return None,
        } as u32)
    };
    let s = s.trim_end_matches('=').as_bytes();
    let mut out = Vec::with_capacity(s.len() * 3 / 4);
    for chunk in s.chunks(4) {
        let mut n = 0u32;
        for (i, &c) in chunk.iter().enumerate() {
            n |= value(c)? << (18 - 6 * i);
        }
        let bytes = n.to_be_bytes();
        match chunk.len() {
            4 => out.extend_from_slice(&bytes[1..4]),
            3 => out.extend_from_slice(&bytes[1..3]),
            2 => out.push(bytes[1]),
            _ => return None,
        }
    }
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decodes_basic_headers() {
        assert_eq!(
            decode_basic("Basic YWxpY2U6czNjcmV0"),
            Some(("alice".into(), "s3cret".into()))
        );
        assert_eq!(
            decode_basic("basic dTpwOng="),
            Some(("u".into(), "p:x".into()))
        );
        assert_eq!(decode_basic("Bearer abc"), None);
    }
}

/// The harness itself: one server, plain and TLS, carries a real git clone and push with the
/// credential gocred gives git, and logs exactly what arrived.
#[test]
fn one_test_server_serves_git_plain_and_over_tls() {
    use super::TestEnv;
    use super::git_server::GitServer;
    for tls in [false, true] {
        let env = TestEnv::new();
        let ca = TestCa::new(&env.root().join("ca"), "Test Server CA");
        let server = if tls {
            GitServer::start_tls(&env, ca.server_config(&["127.0.0.1"]))
        } else {
            GitServer::start(&env)
        };
        assert_eq!(server.server().scheme(), if tls { "https" } else { "http" });
        server.set_user("alice", "s3cret");
        server.create_repo(&env, "group/repo.git");
        env.policy(&format!(
            "[[rule]]\nurl = \"{}\"\nallow_http = {}\nsources = [\"file\"]\nstore = \"file\"\n",
            server.origin(),
            !tls
        ));
        env.use_gocred_by_path();
        if tls {
            env.git_config("http.sslCAInfo", ca.pem.to_str().unwrap());
        }
        env.gocred(&["store"])
            .stdin(format!(
                "protocol={}\nhost=127.0.0.1:{}\nusername=alice\npassword=s3cret\n",
                server.server().scheme(),
                server.port()
            ))
            .success();
        let url = server.url("127.0.0.1", "group/repo.git");
        env.git(&["clone", "-q", &url, "work"]).success();
        let work = env.root().join("work");
        assert_eq!(
            std::fs::read_to_string(work.join("README")).unwrap(),
            "group/repo.git\n"
        );
        std::fs::write(work.join("NEW"), "pushed\n").unwrap();
        env.git(&["add", "NEW"]).current_dir(&work).success();
        env.git(&["commit", "-q", "-m", "new"])
            .current_dir(&work)
            .success();
        env.git(&["push", "-q", "origin", "main"])
            .current_dir(&work)
            .success();

        let log = server.log();
        assert_eq!(
            (log[0].status, log[0].authorization.as_deref()),
            (401, None),
            "{log:?}"
        );
        let seen = server.credentials_seen();
        assert!(
            !seen.is_empty() && seen.iter().all(|c| *c == ("alice".into(), "s3cret".into())),
            "tls={tls}: {seen:?}"
        );
        let push = log
            .iter()
            .find(|l| l.method == "POST" && l.target.ends_with("/git-receive-pack"))
            .unwrap_or_else(|| panic!("no push logged: {log:?}"));
        assert!(push.status == 200 && push.body_len > 0, "{push:?}");
    }
}
