//! A loopback smart-HTTP git server: `git http-backend` as CGI behind HTTP Basic auth.
//!
//! Std only, one thread per connection, one request per connection (`Connection: close`).
//! Every request must carry `Authorization: Basic` for a user in the server's table, else it gets
//! `401` with `WWW-Authenticate: Basic realm="gocred-test"`. Every request is logged with the
//! Authorization header it carried, so tests can assert what git (through gocred) really sent.
//! Plain HTTP on 127.0.0.1 (policy rules for it need `allow_http = true`).

use super::TestEnv;
use std::collections::HashMap;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};

pub const REALM: &str = "gocred-test";

/// One request as the server saw it.
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

/// Decides whether a (user, password) pair not in the table is accepted (e.g. an OAuth token
/// the test's OAuth server still considers active).
pub type Checker = Arc<dyn Fn(&str, &str) -> bool + Send + Sync>;

#[derive(Default)]
struct State {
    users: HashMap<String, String>,
    checker: Option<Checker>,
    log: Vec<Logged>,
    /// Connections accepted and not yet logged: a request is logged after its answer went out,
    /// so a client can be done before its entry is there; [`GitServer::log`] waits for them.
    in_flight: usize,
}

pub struct GitServer {
    addr: SocketAddr,
    root: PathBuf,
    state: Arc<Mutex<State>>,
    stop: Arc<AtomicBool>,
}

impl GitServer {
    /// Serves the bare repositories under `<env root>/srv-<port>` on 127.0.0.1, on a free port.
    pub fn start(env: &TestEnv) -> GitServer {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind 127.0.0.1:0");
        let addr = listener.local_addr().unwrap();
        let root = env.root().join(format!("srv-{}", addr.port()));
        std::fs::create_dir_all(&root).unwrap();
        let state = Arc::new(Mutex::new(State::default()));
        let stop = Arc::new(AtomicBool::new(false));
        let server = GitServer {
            addr,
            root: root.clone(),
            state: state.clone(),
            stop: stop.clone(),
        };
        let cgi_home = env.root().join(format!("srv-{}-home", addr.port()));
        std::fs::create_dir_all(&cgi_home).unwrap();
        std::thread::spawn(move || {
            for conn in listener.incoming() {
                if stop.load(Ordering::SeqCst) {
                    break;
                }
                let Ok(conn) = conn else { continue };
                let (state, root, cgi_home) = (state.clone(), root.clone(), cgi_home.clone());
                state.lock().unwrap().in_flight += 1;
                std::thread::spawn(move || {
                    if let Err(e) = serve(conn, &state, &root, &cgi_home) {
                        eprintln!("git test server: {e}");
                    }
                    state.lock().unwrap().in_flight -= 1;
                });
            }
        });
        server
    }

    pub fn port(&self) -> u16 {
        self.addr.port()
    }

    /// Where the bare repositories live.
    pub fn root(&self) -> &Path {
        &self.root
    }

    /// `http://<host>:<port>/<repo>`; `host` is `127.0.0.1` or `localhost` (same socket).
    pub fn url(&self, host: &str, repo: &str) -> String {
        format!("http://{host}:{}/{repo}", self.port())
    }

    /// `http://127.0.0.1:<port>`, the origin a policy rule names.
    pub fn origin(&self) -> String {
        format!("http://127.0.0.1:{}", self.port())
    }

    /// Adds or changes a user's password.
    pub fn set_user(&self, user: &str, password: &str) -> &Self {
        self.state
            .lock()
            .unwrap()
            .users
            .insert(user.to_owned(), password.to_owned());
        self
    }

    /// Also accepts what `checker` accepts (asked for credentials not in the user table).
    pub fn set_checker(&self, checker: Checker) -> &Self {
        self.state.lock().unwrap().checker = Some(checker);
        self
    }

    /// Every request so far, in order (after waiting, up to 5 s, for the ones being answered).
    pub fn log(&self) -> Vec<Logged> {
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(5);
        loop {
            let state = self.state.lock().unwrap();
            if state.in_flight == 0 || std::time::Instant::now() > deadline {
                return state.log.clone();
            }
            drop(state);
            std::thread::sleep(std::time::Duration::from_millis(5));
        }
    }

    /// Forgets the log, e.g. between a first and a second clone.
    pub fn clear_log(&self) {
        self.state.lock().unwrap().log.clear();
    }

    /// The decoded Basic credentials of every request that carried one, in order.
    pub fn credentials_seen(&self) -> Vec<(String, String)> {
        self.log().iter().filter_map(Logged::basic).collect()
    }

    /// Creates the bare repository `name` (e.g. `group/repo.git`) holding one commit with
    /// `README` on `main`.
    pub fn create_repo(&self, env: &TestEnv, name: &str) -> PathBuf {
        let bare = self.root.join(name);
        let seed = env
            .root()
            .join(format!("seed-{}-{}", self.port(), name.replace('/', "_")));
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
}

impl Drop for GitServer {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
        let _ = TcpStream::connect(self.addr); // wakes the accept loop so it sees `stop`
    }
}

struct Request {
    method: String,
    target: String,
    headers: Vec<(String, String)>,
    body: Vec<u8>,
}

impl Request {
    fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }
}

fn serve(
    conn: TcpStream,
    state: &Mutex<State>,
    root: &Path,
    cgi_home: &Path,
) -> std::io::Result<()> {
    let mut writer = conn.try_clone()?;
    let mut reader = BufReader::new(conn);
    let Some(request) = read_request(&mut reader, &mut writer)? else {
        return Ok(());
    };
    let authorization = request.header("Authorization").map(str::to_owned);
    let user = authorization
        .as_deref()
        .and_then(decode_basic)
        .filter(|(u, p)| {
            let (known, checker) = {
                let state = state.lock().unwrap();
                (state.users.get(u) == Some(p), state.checker.clone())
            };
            known || checker.is_some_and(|check| check(u, p))
        })
        .map(|(u, _)| u);
    let status = match user {
        None => {
            let body = "authentication required\n";
            write!(
                writer,
                "HTTP/1.1 401 Unauthorized\r\nWWW-Authenticate: Basic realm=\"{REALM}\"\r\n\
                 Content-Type: text/plain\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
                body.len()
            )?;
            401
        }
        Some(user) => run_cgi(&request, &user, root, cgi_home, &mut writer)?,
    };
    writer.flush()?;
    let chunked = request
        .header("Transfer-Encoding")
        .is_some_and(|t| t.to_ascii_lowercase().contains("chunked"));
    state.lock().unwrap().log.push(Logged {
        method: request.method,
        target: request.target,
        authorization,
        status,
        chunked,
        body_len: request.body.len(),
    });
    Ok(())
}

fn read_request(
    reader: &mut BufReader<TcpStream>,
    writer: &mut TcpStream,
) -> std::io::Result<Option<Request>> {
    let mut line = String::new();
    if reader.read_line(&mut line)? == 0 {
        return Ok(None); // the wake-up connection from Drop, or a client that gave up
    }
    let mut parts = line.split_whitespace();
    let (Some(method), Some(target)) = (parts.next(), parts.next()) else {
        return Err(std::io::Error::other(format!("bad request line {line:?}")));
    };
    let (method, target) = (method.to_owned(), target.to_owned());
    let mut headers = Vec::new();
    loop {
        let mut h = String::new();
        reader.read_line(&mut h)?;
        let h = h.trim_end_matches(['\r', '\n']);
        if h.is_empty() {
            break;
        }
        if let Some((k, v)) = h.split_once(':') {
            headers.push((k.trim().to_owned(), v.trim().to_owned()));
        }
    }
    let mut request = Request {
        method,
        target,
        headers,
        body: Vec::new(),
    };
    if request
        .header("Expect")
        .is_some_and(|e| e.eq_ignore_ascii_case("100-continue"))
    {
        writer.write_all(b"HTTP/1.1 100 Continue\r\n\r\n")?;
    }
    if request
        .header("Transfer-Encoding")
        .is_some_and(|t| t.to_ascii_lowercase().contains("chunked"))
    {
        loop {
            let mut size = String::new();
            reader.read_line(&mut size)?;
            let size = size.trim().split(';').next().unwrap_or("");
            let n = usize::from_str_radix(size, 16)
                .map_err(|_| std::io::Error::other(format!("bad chunk size {size:?}")))?;
            if n == 0 {
                // Trailers, then the final blank line.
                loop {
                    let mut t = String::new();
                    if reader.read_line(&mut t)? == 0 || t.trim().is_empty() {
                        break;
                    }
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
            .map_err(|_| std::io::Error::other("bad Content-Length"))?;
        request.body.resize(len, 0);
        reader.read_exact(&mut request.body)?;
    }
    Ok(Some(request))
}

/// Runs `git http-backend` for an authenticated request and relays its answer; returns the status.
fn run_cgi(
    request: &Request,
    user: &str,
    root: &Path,
    home: &Path,
    out: &mut TcpStream,
) -> std::io::Result<u16> {
    let (path, query) = request
        .target
        .split_once('?')
        .unwrap_or((&request.target, ""));
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
        .env("PATH_INFO", path)
        .env("QUERY_STRING", query)
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
    let mut child = cmd.spawn()?;
    let mut stdin = child.stdin.take().unwrap();
    let body = request.body.clone();
    let feeder = std::thread::spawn(move || {
        let _ = stdin.write_all(&body);
    });
    let output = child.wait_with_output()?;
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
            &raw[i + sep..],
        ),
        None => (String::new(), &raw[..]),
    };
    let mut status = 200u16;
    let mut reason = "OK".to_owned();
    let mut headers = String::new();
    for line in head.lines() {
        let Some((k, v)) = line.split_once(':') else {
            continue;
        };
        if k.eq_ignore_ascii_case("Status") {
            let v = v.trim();
            let (code, why) = v.split_once(' ').unwrap_or((v, ""));
            status = code.parse().unwrap_or(500);
            reason = why.to_owned();
        } else {
            headers += &format!("{}: {}\r\n", k.trim(), v.trim());
        }
    }
    write!(
        out,
        "HTTP/1.1 {status} {reason}\r\n{headers}Content-Length: {}\r\nConnection: close\r\n\r\n",
        body.len()
    )?;
    out.write_all(body)?;
    Ok(status)
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
