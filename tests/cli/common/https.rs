//! A loopback HTTPS server for the Go tests: a test CA (rcgen), one certificate for every name the
//! test uses, rustls, one thread per connection and one request per connection.
//!
//! Each server has a [`Handler`] and logs every request with the `Authorization` header it carried,
//! so a test can assert exactly which host received which credential. [`basic_auth`] wraps a
//! handler so that every request needs one of the server's users (`401` with
//! `WWW-Authenticate: Basic` otherwise).

use super::git_server::decode_basic;
use std::io::{BufRead, BufReader, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};

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

/// One request as a handler sees it (and the log keeps it).
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
}

pub type Handler = Arc<dyn Fn(&Request) -> Response + Send + Sync>;

/// What the server saw: one entry per request.
#[derive(Debug, Clone)]
pub struct Logged {
    pub target: String,
    pub authorization: Option<String>,
    pub status: u16,
}

impl Logged {
    pub fn basic(&self) -> Option<(String, String)> {
        decode_basic(self.authorization.as_deref()?)
    }
}

pub struct HttpsServer {
    addr: SocketAddr,
    log: Arc<Mutex<Vec<Logged>>>,
    stop: Arc<AtomicBool>,
}

impl HttpsServer {
    /// Serves `handler` over TLS on `addr` (e.g. `127.0.0.2:443`, or port 0 for a free one).
    pub fn start(addr: &str, tls: Arc<rustls::ServerConfig>, handler: Handler) -> HttpsServer {
        let listener = TcpListener::bind(addr).unwrap_or_else(|e| panic!("bind {addr}: {e}"));
        let addr = listener.local_addr().unwrap();
        let log = Arc::new(Mutex::new(Vec::new()));
        let stop = Arc::new(AtomicBool::new(false));
        let (log2, stop2) = (log.clone(), stop.clone());
        std::thread::spawn(move || {
            for conn in listener.incoming() {
                if stop2.load(Ordering::SeqCst) {
                    break;
                }
                let Ok(conn) = conn else { continue };
                let (tls, handler, log) = (tls.clone(), handler.clone(), log2.clone());
                std::thread::spawn(move || {
                    let _ = serve(conn, tls, &*handler, &log);
                });
            }
        });
        HttpsServer { addr, log, stop }
    }

    pub fn port(&self) -> u16 {
        self.addr.port()
    }

    pub fn log(&self) -> Vec<Logged> {
        self.log.lock().unwrap().clone()
    }

    pub fn clear_log(&self) {
        self.log.lock().unwrap().clear();
    }

    /// Every Authorization header this server ever received.
    pub fn authorizations(&self) -> Vec<String> {
        self.log()
            .into_iter()
            .filter_map(|l| l.authorization)
            .collect()
    }
}

impl Drop for HttpsServer {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
        let _ = TcpStream::connect(self.addr);
    }
}

/// Wraps `inner` so that every request needs `user:password` as HTTP Basic credentials.
pub fn basic_auth(users: Arc<Mutex<Vec<(String, String)>>>, inner: Handler) -> Handler {
    Arc::new(move |req: &Request| {
        let ok = req
            .header("Authorization")
            .and_then(decode_basic)
            .is_some_and(|cred| users.lock().unwrap().contains(&cred));
        if ok {
            inner(req)
        } else {
            let mut r = Response::new(401, "text/plain", "authentication required\n");
            r.headers.push((
                "WWW-Authenticate".into(),
                "Basic realm=\"gocred-test\"".into(),
            ));
            r
        }
    })
}

fn serve(
    tcp: TcpStream,
    tls: Arc<rustls::ServerConfig>,
    handler: &(dyn Fn(&Request) -> Response + Send + Sync),
    log: &Mutex<Vec<Logged>>,
) -> std::io::Result<()> {
    tcp.set_read_timeout(Some(std::time::Duration::from_secs(30)))?;
    let conn = rustls::ServerConnection::new(tls).map_err(std::io::Error::other)?;
    let mut reader = BufReader::new(rustls::StreamOwned::new(conn, tcp));
    let Some(request) = read_request(&mut reader)? else {
        return Ok(());
    };
    let response = handler(&request);
    let stream = reader.get_mut();
    let reason = match response.status {
        200 => "OK",
        401 => "Unauthorized",
        403 => "Forbidden",
        404 => "Not Found",
        _ => "Status",
    };
    let mut head = format!("HTTP/1.1 {} {reason}\r\n", response.status);
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
    stream.conn.send_close_notify();
    let _ = stream.flush();
    log.lock().unwrap().push(Logged {
        authorization: request.header("Authorization").map(str::to_owned),
        target: request.target,
        status: response.status,
    });
    Ok(())
}

fn read_request<R: BufRead>(reader: &mut R) -> std::io::Result<Option<Request>> {
    let mut line = String::new();
    if reader.read_line(&mut line)? == 0 {
        return Ok(None);
    }
    let mut parts = line.split_whitespace();
    let (Some(method), Some(target)) = (parts.next(), parts.next()) else {
        return Ok(None);
    };
    let mut request = Request {
        method: method.to_owned(),
        target: target.to_owned(),
        headers: Vec::new(),
        body: Vec::new(),
    };
    loop {
        let mut h = String::new();
        reader.read_line(&mut h)?;
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
    if request
        .header("Transfer-Encoding")
        .is_some_and(|t| t.to_ascii_lowercase().contains("chunked"))
    {
        loop {
            let mut size = String::new();
            reader.read_line(&mut size)?;
            let n = usize::from_str_radix(size.trim().split(';').next().unwrap_or(""), 16)
                .map_err(|_| std::io::Error::other("bad chunk size"))?;
            if n == 0 {
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
            .map_err(|_| std::io::Error::other("bad length"))?;
        request.body.resize(len, 0);
        reader.read_exact(&mut request.body)?;
    }
    Ok(Some(request))
}

/// Runs `git http-backend` (CGI) for a request on the bare repositories under `root`.
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
        .stderr(Stdio::null());
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
    let raw = output.stdout;
    let (head, body) = match raw.windows(4).position(|w| w == b"\r\n\r\n") {
        Some(i) => (
            String::from_utf8_lossy(&raw[..i]).into_owned(),
            raw[i + 4..].to_vec(),
        ),
        None => match raw.windows(2).position(|w| w == b"\n\n") {
            Some(i) => (
                String::from_utf8_lossy(&raw[..i]).into_owned(),
                raw[i + 2..].to_vec(),
            ),
            None => (String::new(), raw),
        },
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
