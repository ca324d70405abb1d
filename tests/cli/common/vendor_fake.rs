//! A fake GitHub (Enterprise) / GitLab OAuth server, only for what the vendors document and the
//! real `oidc-provider` (tests/cli/common/oidc.rs) never does:
//!
//! - GitHub: `POST /login/device/code` and `POST /login/oauth/access_token` answer form-encoded
//!   unless the request says `Accept: application/json`, and put errors (`authorization_pending`,
//!   `slow_down` with a new `interval`, `expired_token`, `access_denied`,
//!   `incorrect_client_credentials`, `bad_refresh_token`…) in HTTP 200 bodies;
//!   `device_flow_disabled` comes as an HTTP 400 from the device code endpoint. The account is
//!   `login` at GHE's `/api/v3/user`.
//! - GitLab: `POST /oauth/authorize_device`, `POST /oauth/token` (JSON, RFC 8628 errors with HTTP
//!   400), `POST /oauth/revoke`, and `username` at `/api/v4/user`.
//! - The user endpoints take a token as the real APIs document: GitLab in `PRIVATE-TOKEN` or
//!   `Authorization: Bearer`, GitHub in `Authorization: token` or `Bearer`; anything else (or a
//!   token the fake did not issue) is `401 {"message":"401 Unauthorized"}` (GitLab) or
//!   `401 {"message":"Bad credentials"}` (GitHub). [`VendorFake::create_pat`] issues a personal
//!   access token (no expiry, no refresh token) that these endpoints and git accept.
//!
//! Served over TLS on 127.0.0.1 (a port of its own) with a test CA that git and gocred are told
//! to trust through git's `http.<url>.sslCAInfo`. Every other path is git smart HTTP
//! (`git http-backend`) for the repositories under [`VendorFake::repo_root`], accepting any
//! user name with an access token the fake still considers valid.
//!
//! What the fake answers is a [`Script`] the test sets; every request is recorded with the
//! fake's own arrival time ([`Seen::at`]), so tests measure gocred's polling from the server
//! side. A server clock ahead of the test's ([`Script::clock_ahead`]) makes the fake consider
//! tokens expired that gocred's clock still calls valid.

use super::TestEnv;
use super::https::{HttpsServer, Request, Response, TestCa, git_http_backend};
use std::collections::VecDeque;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

/// The client id the fake knows (any other gets the vendor's wrong-client answer).
pub const CLIENT_ID: &str = "gocred-fake-client";

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Vendor {
    GitHub,
    GitLab,
}

impl Vendor {
    pub fn provider(self) -> &'static str {
        match self {
            Vendor::GitHub => "github",
            Vendor::GitLab => "gitlab",
        }
    }

    pub fn device_path(self) -> &'static str {
        match self {
            Vendor::GitHub => "/login/device/code",
            Vendor::GitLab => "/oauth/authorize_device",
        }
    }

    pub fn token_path(self) -> &'static str {
        match self {
            Vendor::GitHub => "/login/oauth/access_token",
            Vendor::GitLab => "/oauth/token",
        }
    }
}

/// What one device-code poll (or the device code request itself, [`Script::device`]) gets.
#[derive(Debug, Clone)]
pub enum Answer {
    /// `authorization_pending`.
    Pending,
    /// `slow_down`, with the new interval the server names (GitHub sends one).
    SlowDown(Option<u64>),
    /// An OAuth error code: HTTP 200 from GitHub (400 for `device_flow_disabled`), 400 from
    /// GitLab.
    Error(&'static str),
    /// The user approved: tokens.
    Approve,
    /// A proxy's or login page's HTML, HTTP 200.
    Html,
    /// No answer for this long (the request hangs).
    Hang(Duration),
}

/// What a refresh request gets.
#[derive(Debug, Clone)]
pub enum Refresh {
    /// New access and refresh tokens; the old ones stop working (GitLab, GitHub Apps).
    Rotate,
    /// A new access token only: the refresh token stays the same.
    KeepOld,
    /// The vendor's refusal with this code (GitHub: HTTP 200; GitLab: HTTP 400).
    Refuse(&'static str),
    Hang(Duration),
    Html,
}

/// How the fake behaves; tests change it with [`VendorFake::script`].
#[derive(Debug, Clone)]
pub struct Script {
    /// `interval` in the device code answer (`None`: not sent).
    pub interval: Option<u64>,
    /// An answer that replaces the device code (an error, HTML, a hang).
    pub device: Option<Answer>,
    /// Answers to successive polls; the last one repeats.
    pub polls: VecDeque<Answer>,
    pub refresh: Refresh,
    /// `expires_in` of access tokens (`None`: not sent, a token that does not expire).
    pub expires_in: Option<u64>,
    /// Whether tokens come with a refresh token.
    pub refresh_tokens: bool,
    /// Answer form-encoded even when JSON is asked for (a GHE behind a proxy that drops
    /// `Accept`). GitHub only.
    pub form_always: bool,
    /// The account `/api/v3/user` or `/api/v4/user` names.
    pub account: &'static str,
    /// Seconds the server's clock runs ahead of the test's.
    pub clock_ahead: u64,
}

impl Default for Script {
    fn default() -> Self {
        Script {
            interval: Some(1),
            device: None,
            polls: VecDeque::from([Answer::Approve]),
            refresh: Refresh::Rotate,
            expires_in: Some(7200),
            refresh_tokens: true,
            form_always: false,
            account: "alice",
            clock_ahead: 0,
        }
    }
}

/// One request, as the fake received it.
#[derive(Clone)]
pub struct Seen {
    /// When it arrived (the fake's clock).
    pub at: Instant,
    pub method: String,
    pub path: String,
    pub accept: Option<String>,
    pub authorization: Option<String>,
    /// GitLab's `PRIVATE-TOKEN` header.
    pub private_token: Option<String>,
    /// The form fields of a POST (may hold device codes and refresh tokens: never print them).
    pub form: Vec<(String, String)>,
}

impl Seen {
    pub fn field(&self, name: &str) -> Option<&str> {
        self.form
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    }
}

/// Prints path and grant type only: forms hold secrets.
impl std::fmt::Debug for Seen {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{} {} (grant_type={:?}, accept={:?})",
            self.method,
            self.path,
            self.field("grant_type"),
            self.accept
        )
    }
}

struct Issued {
    access: String,
    refresh: Option<String>,
    /// The server's clock when issued.
    issued_at: u64,
    expires_in: Option<u64>,
    /// Replaced by a refresh, or revoked.
    dead: bool,
    /// Its scopes reach the API (a GitLab PAT with only `read_repository` does not).
    api: bool,
}

struct State {
    script: Script,
    seen: Vec<Seen>,
    issued: Vec<Issued>,
    next: u64,
    device_code: Option<String>,
}

impl State {
    fn server_now(&self) -> u64 {
        now() + self.script.clock_ahead
    }

    fn issue(&mut self, vendor: Vendor, refresh: Option<String>) -> (String, Option<String>) {
        self.next += 1;
        let n = self.next;
        let (access_prefix, refresh_prefix) = match vendor {
            Vendor::GitHub => ("ghu_fake", "ghr_fake"),
            Vendor::GitLab => ("glat-fake", "glrt-fake"),
        };
        let access = format!("{access_prefix}{n}x{}", std::process::id());
        let refresh = refresh.or_else(|| {
            self.script
                .refresh_tokens
                .then(|| format!("{refresh_prefix}{n}x{}", std::process::id()))
        });
        self.issued.push(Issued {
            access: access.clone(),
            refresh: refresh.clone(),
            issued_at: self.server_now(),
            expires_in: self.script.expires_in,
            dead: false,
            api: true,
        });
        (access, refresh)
    }

    fn access_valid(&self, token: &str) -> bool {
        let now = self.server_now();
        self.issued.iter().any(|i| {
            i.access == token && !i.dead && i.expires_in.is_none_or(|e| i.issued_at + e > now)
        })
    }
}

pub struct VendorFake {
    pub vendor: Vendor,
    server: HttpsServer,
    state: Arc<Mutex<State>>,
    /// The CA certificate (PEM) to trust.
    pub ca_pem: PathBuf,
    repo_root: PathBuf,
}

fn now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_secs()
}

fn form_decode(body: &[u8]) -> Vec<(String, String)> {
    let text = String::from_utf8_lossy(body);
    text.split('&')
        .filter_map(|kv| kv.split_once('='))
        .map(|(k, v)| (decode(k), decode(v)))
        .collect()
}

fn decode(s: &str) -> String {
    let bytes = s.as_bytes();
    let mut out = Vec::new();
    let mut i = 0;
    while i < bytes.len() {
        let hex = bytes
            .get(i + 1..i + 3)
            .and_then(|h| std::str::from_utf8(h).ok())
            .and_then(|h| u8::from_str_radix(h, 16).ok());
        match (bytes[i], hex) {
            (b'+', _) => out.push(b' '),
            (b'%', Some(b)) => {
                out.push(b);
                i += 2;
            }
            (b, _) => out.push(b),
        }
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

fn encode(s: &str) -> String {
    s.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                (b as char).to_string()
            }
            b' ' => "+".into(),
            _ => format!("%{b:02X}"),
        })
        .collect()
}

/// A JSON object of string/number fields (values are test data: no escaping needed beyond
/// quotes and backslashes).
fn json(fields: &[(&str, Field)]) -> String {
    let body: Vec<String> = fields
        .iter()
        .map(|(k, v)| match v {
            Field::Str(s) => format!(
                "\"{k}\":\"{}\"",
                s.replace('\\', "\\\\")
                    .replace('"', "\\\"")
                    .replace('\n', "\\n")
            ),
            Field::Num(n) => format!("\"{k}\":{n}"),
        })
        .collect();
    format!("{{{}}}", body.join(","))
}

enum Field {
    Str(String),
    Num(u64),
}

fn s(v: impl Into<String>) -> Field {
    Field::Str(v.into())
}

const HTML: &str = "<!DOCTYPE html>\n<html><head><title>Sign in</title></head>\n\
                    <body><form action=\"/sso\"><input name=\"user\"></form></body></html>\n";

impl VendorFake {
    /// Starts a fake `vendor` on 127.0.0.1 with the default [`Script`] (interval 1 s, approval at
    /// the first poll, 2 h tokens with refresh tokens that rotate).
    pub fn start(env: &TestEnv, vendor: Vendor) -> VendorFake {
        let dir = env.root().join("vendor-fake");
        let ca = TestCa::new(&dir, "gocred vendor fake CA");
        let tls = ca.server_config(&["127.0.0.1", "localhost"]);
        let state = Arc::new(Mutex::new(State {
            script: Script::default(),
            seen: Vec::new(),
            issued: Vec::new(),
            next: 0,
            device_code: None,
        }));
        let repo_root = dir.join("repos");
        let cgi_home = dir.join("cgi-home");
        std::fs::create_dir_all(&repo_root).unwrap();
        std::fs::create_dir_all(&cgi_home).unwrap();
        let (state2, root2) = (state.clone(), repo_root.clone());
        let handler =
            Arc::new(move |req: &Request| handle(vendor, &state2, req, &root2, &cgi_home));
        let server = HttpsServer::start("127.0.0.1:0", tls, handler);
        VendorFake {
            vendor,
            server,
            state,
            ca_pem: ca.pem.clone(),
            repo_root,
        }
    }

    pub fn port(&self) -> u16 {
        self.server.port()
    }

    /// `https://127.0.0.1:PORT`.
    pub fn origin(&self) -> String {
        format!("https://127.0.0.1:{}", self.port())
    }

    /// Changes what the fake answers from now on.
    pub fn script(&self, change: impl FnOnce(&mut Script)) {
        change(&mut self.state.lock().unwrap().script);
    }

    /// `git config --global http.<origin>.sslCAInfo <ca>`: the only way git and gocred learn to
    /// trust the fake.
    pub fn trust_in_git(&self, env: &TestEnv) {
        env.git_config(
            &format!("http.{}.sslCAInfo", self.origin()),
            self.ca_pem.to_str().unwrap(),
        );
    }

    /// An oauth rule for the fake's origin, tokens in `store` (`"file"` or `"keychain"`), with
    /// extra lines for `[rule.oauth]`.
    pub fn rule(&self, store: &str, oauth_extra: &str) -> String {
        format!(
            "[[rule]]\nurl = \"{}\"\nsources = [\"oauth\"]\nstore = \"{store}\"\n\n\
             [rule.oauth]\nprovider = \"{}\"\nclient_id = \"{CLIENT_ID}\"\n{oauth_extra}",
            self.origin(),
            self.vendor.provider()
        )
    }

    /// Every request so far.
    pub fn seen(&self) -> Vec<Seen> {
        self.state.lock().unwrap().seen.clone()
    }

    /// Requests to `path`.
    pub fn seen_at(&self, path: &str) -> Vec<Seen> {
        self.seen().into_iter().filter(|s| s.path == path).collect()
    }

    /// Device-code polls of the token endpoint.
    pub fn polls(&self) -> Vec<Seen> {
        self.seen_at(self.vendor.token_path())
            .into_iter()
            .filter(|s| s.field("grant_type") == Some(DEVICE_GRANT))
            .collect()
    }

    /// Refresh requests of the token endpoint.
    pub fn refreshes(&self) -> Vec<Seen> {
        self.seen_at(self.vendor.token_path())
            .into_iter()
            .filter(|s| s.field("grant_type") == Some("refresh_token"))
            .collect()
    }

    /// Whether the fake accepts `access_token` now.
    pub fn accepts(&self, access_token: &str) -> bool {
        self.state.lock().unwrap().access_valid(access_token)
    }

    /// Whether `refresh_token` would still be accepted.
    pub fn refresh_token_live(&self, refresh_token: &str) -> bool {
        self.state
            .lock()
            .unwrap()
            .issued
            .iter()
            .any(|i| !i.dead && i.refresh.as_deref() == Some(refresh_token))
    }

    /// A personal access token the fake accepts from now on (no expiry, no refresh token).
    pub fn create_pat(&self) -> String {
        self.pat(true)
    }

    /// A GitLab personal access token with only `read_repository`: git takes it, and
    /// `/api/v4/user` answers `403 insufficient_scope` as GitLab does.
    pub fn create_git_only_pat(&self) -> String {
        self.pat(false)
    }

    fn pat(&self, api: bool) -> String {
        let mut st = self.state.lock().unwrap();
        st.next += 1;
        let prefix = match self.vendor {
            Vendor::GitHub => "ghp_FAKE_pat",
            Vendor::GitLab => "glpat-FAKE-pat",
        };
        let token = format!("{prefix}{}x{}", st.next, std::process::id());
        let issued_at = st.server_now();
        st.issued.push(Issued {
            access: token.clone(),
            refresh: None,
            issued_at,
            expires_in: None,
            dead: false,
            api,
        });
        token
    }

    /// Every grant ends, as an administrator revoking the application would do.
    pub fn revoke_all(&self) {
        for i in &mut self.state.lock().unwrap().issued {
            i.dead = true;
        }
    }

    /// Creates the bare repository `name` (e.g. `group/repo.git`) with one commit on `main`,
    /// served at `<origin>/<name>`.
    pub fn create_repo(&self, env: &TestEnv, name: &str) {
        super::git_server::create_bare_repo(env, &self.repo_root, name, "");
    }

    /// The Basic credentials git sent with each git request (not OAuth endpoints).
    pub fn git_passwords(&self) -> Vec<String> {
        self.seen()
            .iter()
            .filter(|s| !s.path.starts_with("/login/") && !s.path.starts_with("/oauth/"))
            .filter(|s| !s.path.starts_with("/api/"))
            .filter_map(|s| s.authorization.as_deref())
            .filter_map(super::git_server::decode_basic)
            .map(|(_, p)| p)
            .collect()
    }
}

pub const DEVICE_GRANT: &str = "urn:ietf:params:oauth:grant-type:device_code";

fn handle(
    vendor: Vendor,
    state: &Mutex<State>,
    req: &Request,
    repo_root: &std::path::Path,
    cgi_home: &std::path::Path,
) -> Response {
    let seen = Seen {
        at: Instant::now(),
        method: req.method.clone(),
        path: req.path().to_owned(),
        accept: req.header("Accept").map(str::to_owned),
        authorization: req.header("Authorization").map(str::to_owned),
        private_token: req.header("PRIVATE-TOKEN").map(str::to_owned),
        form: if req.method == "POST"
            && req
                .header("Content-Type")
                .is_some_and(|t| t.starts_with("application/x-www-form-urlencoded"))
        {
            form_decode(&req.body)
        } else {
            Vec::new()
        },
    };
    let mut st = state.lock().unwrap();
    st.seen.push(seen.clone());
    let wants_json = vendor == Vendor::GitLab
        || (!st.script.form_always
            && seen
                .accept
                .as_deref()
                .is_some_and(|a| a.contains("application/json")));
    // An OAuth answer in the vendor's encoding.
    let answer = |status: u16, fields: &[(&str, Field)]| -> Response {
        if wants_json {
            Response::new(status, "application/json; charset=utf-8", json(fields))
        } else {
            let body: Vec<String> = fields
                .iter()
                .map(|(k, v)| match v {
                    Field::Str(s) => format!("{k}={}", encode(s)),
                    Field::Num(n) => format!("{k}={n}"),
                })
                .collect();
            Response::new(
                status,
                "application/x-www-form-urlencoded; charset=utf-8",
                body.join("&"),
            )
        }
    };
    let error = |code: &str, description: &str| -> Response {
        let status = match (vendor, code) {
            (Vendor::GitHub, "device_flow_disabled") => 400,
            (Vendor::GitHub, _) => 200,
            (Vendor::GitLab, "invalid_client") => 401,
            (Vendor::GitLab, _) => 400,
        };
        let mut fields = vec![("error", s(code)), ("error_description", s(description))];
        if vendor == Vendor::GitHub {
            fields.push((
                "error_uri",
                s("https://docs.github.com/developers/apps/authorizing-oauth-apps"),
            ));
        }
        answer(status, &fields)
    };
    let wrong_client = || match vendor {
        Vendor::GitHub => error(
            "incorrect_client_credentials",
            "The client_id and/or client_secret passed are incorrect.",
        ),
        Vendor::GitLab => error(
            "invalid_client",
            "Client authentication failed due to unknown client, no client authentication \
             included, or unsupported authentication method.",
        ),
    };
    let path = seen.path.as_str();
    if req.method == "POST" && path == vendor.device_path() {
        if seen.field("client_id") != Some(CLIENT_ID) {
            return wrong_client();
        }
        if let Some(a) = st.script.device.clone() {
            drop(st);
            return scripted(a, &error);
        }
        let code = format!("devcode-{}", now());
        st.device_code = Some(code.clone());
        let origin = format!("https://127.0.0.1:{}", req_port(req));
        let verify = match vendor {
            Vendor::GitHub => format!("{origin}/login/device"),
            Vendor::GitLab => format!("{origin}/oauth/device"),
        };
        let mut fields = vec![
            ("device_code", s(code)),
            ("user_code", s("WDJB-MJHT")),
            ("verification_uri", s(verify.clone())),
            ("expires_in", Field::Num(900)),
        ];
        if vendor == Vendor::GitLab {
            fields.push((
                "verification_uri_complete",
                s(format!("{verify}?user_code=WDJB-MJHT")),
            ));
        }
        if let Some(i) = st.script.interval {
            fields.push(("interval", Field::Num(i)));
        }
        return answer(200, &fields);
    }
    if req.method == "POST" && path == vendor.token_path() {
        if seen.field("client_id") != Some(CLIENT_ID) {
            return wrong_client();
        }
        match seen.field("grant_type") {
            Some(DEVICE_GRANT) => {
                if seen.field("device_code") != st.device_code.as_deref() {
                    return match vendor {
                        Vendor::GitHub => error(
                            "incorrect_device_code",
                            "The device_code provided is not valid.",
                        ),
                        Vendor::GitLab => error("invalid_grant", "The device code is unknown."),
                    };
                }
                let a = if st.script.polls.len() > 1 {
                    st.script.polls.pop_front().unwrap()
                } else {
                    st.script.polls.front().cloned().unwrap_or(Answer::Pending)
                };
                if let Answer::Approve = a {
                    st.device_code = None;
                    let (access, refresh) = st.issue(vendor, None);
                    let tokens = token_fields(&st.script, access, refresh);
                    return answer(
                        200,
                        &tokens
                            .iter()
                            .map(|(k, v)| (*k, v.clone_field()))
                            .collect::<Vec<_>>(),
                    );
                }
                drop(st);
                scripted(a, &error)
            }
            Some("refresh_token") => {
                let given = seen.field("refresh_token").unwrap_or_default().to_owned();
                let live = st
                    .issued
                    .iter()
                    .position(|i| !i.dead && i.refresh.as_deref() == Some(given.as_str()));
                let refuse = |st: std::sync::MutexGuard<'_, State>| {
                    drop(st);
                    match vendor {
                        Vendor::GitHub => error(
                            "bad_refresh_token",
                            "The refresh token passed is incorrect or expired.",
                        ),
                        Vendor::GitLab => error(
                            "invalid_grant",
                            "The provided authorization grant is invalid, expired, revoked, \
                             does not match the redirection URI used in the authorization \
                             request, or was issued to another client.",
                        ),
                    }
                };
                let Some(i) = live else {
                    return refuse(st);
                };
                match st.script.refresh.clone() {
                    Refresh::Rotate | Refresh::KeepOld => {
                        let keep = matches!(st.script.refresh, Refresh::KeepOld);
                        st.issued[i].dead = true;
                        let (access, refresh) = st.issue(vendor, keep.then(|| given.clone()));
                        let refresh = if keep { None } else { refresh };
                        let tokens = token_fields(&st.script, access, refresh);
                        answer(
                            200,
                            &tokens
                                .iter()
                                .map(|(k, v)| (*k, v.clone_field()))
                                .collect::<Vec<_>>(),
                        )
                    }
                    Refresh::Refuse(code) => {
                        drop(st);
                        error(code, "The refresh token is no longer valid.")
                    }
                    Refresh::Hang(d) => {
                        drop(st);
                        std::thread::sleep(d);
                        error("server_error", "late")
                    }
                    Refresh::Html => Response::new(200, "text/html; charset=utf-8", HTML),
                }
            }
            _ => error("unsupported_grant_type", "The grant type is not supported."),
        }
    } else if req.method == "POST" && path == "/oauth/revoke" && vendor == Vendor::GitLab {
        let token = seen.field("token").unwrap_or_default().to_owned();
        for i in &mut st.issued {
            if i.access == token || i.refresh.as_deref() == Some(token.as_str()) {
                i.dead = true;
            }
        }
        Response::new(200, "application/json", "{}")
    } else if req.method == "GET"
        && ((vendor == Vendor::GitHub && path == "/api/v3/user")
            || (vendor == Vendor::GitLab && path == "/api/v4/user"))
    {
        let bearer = seen
            .authorization
            .as_deref()
            .and_then(|a| a.strip_prefix("Bearer "));
        let token = match vendor {
            Vendor::GitLab => seen.private_token.as_deref().or(bearer),
            Vendor::GitHub => bearer.or_else(|| {
                seen.authorization
                    .as_deref()
                    .and_then(|a| a.strip_prefix("token "))
            }),
        }
        .unwrap_or_default();
        let no_api = st.issued.iter().any(|i| i.access == token && !i.api);
        if vendor == Vendor::GitLab && no_api && st.access_valid(token) {
            return Response::new(
                403,
                "application/json",
                "{\"error\":\"insufficient_scope\",\"error_description\":\"The request requires \
                 higher privileges than provided by the access token.\",\"scope\":\"api read_user\"}",
            );
        }
        if !st.access_valid(token) {
            let message = match vendor {
                Vendor::GitLab => "401 Unauthorized",
                Vendor::GitHub => "Bad credentials",
            };
            return Response::new(
                401,
                "application/json",
                format!("{{\"message\":\"{message}\"}}"),
            );
        }
        let key = match vendor {
            Vendor::GitHub => "login",
            Vendor::GitLab => "username",
        };
        let account = st.script.account;
        Response::new(
            200,
            "application/json",
            json(&[
                ("id", Field::Num(42)),
                (key, s(account)),
                ("name", s("Alice Example")),
            ]),
        )
    } else {
        // git smart HTTP, for any user with a valid access token.
        let ok = seen
            .authorization
            .as_deref()
            .and_then(super::git_server::decode_basic)
            .is_some_and(|(_, p)| st.access_valid(&p));
        drop(st);
        if !ok {
            let mut r = Response::new(401, "text/plain", "HTTP Basic: Access denied\n");
            r.headers
                .push(("WWW-Authenticate".into(), "Basic realm=\"fake\"".into()));
            return r;
        }
        git_http_backend(req, repo_root, cgi_home)
    }
}

fn req_port(req: &Request) -> String {
    req.header("Host")
        .and_then(|h| h.rsplit_once(':'))
        .map(|(_, p)| p.to_owned())
        .unwrap_or_default()
}

impl Field {
    fn clone_field(&self) -> Field {
        match self {
            Field::Str(s) => Field::Str(s.clone()),
            Field::Num(n) => Field::Num(*n),
        }
    }
}

fn token_fields(
    script: &Script,
    access: String,
    refresh: Option<String>,
) -> Vec<(&'static str, Field)> {
    let mut fields = vec![
        ("access_token", s(access)),
        ("token_type", s("bearer")),
        ("scope", s("")),
    ];
    if let Some(e) = script.expires_in {
        fields.push(("expires_in", Field::Num(e)));
    }
    if let Some(r) = refresh {
        fields.push(("refresh_token", s(r)));
        fields.push(("refresh_token_expires_in", Field::Num(15_811_200)));
    }
    fields
}

/// The response for a scripted non-token answer.
fn scripted(a: Answer, error: &dyn Fn(&str, &str) -> Response) -> Response {
    match a {
        Answer::Pending => error(
            "authorization_pending",
            "The authorization request is still pending.",
        ),
        Answer::SlowDown(interval) => {
            let mut r = error(
                "slow_down",
                "Too many requests have been made in the same timeframe.",
            );
            if let Some(i) = interval {
                add_field(&mut r, "interval", i);
            }
            r
        }
        Answer::Error(code) => error(code, &format!("The request failed: {code}.")),
        Answer::Approve => error("server_error", "approval is not scripted here"),
        Answer::Html => Response::new(200, "text/html; charset=utf-8", HTML),
        Answer::Hang(d) => {
            std::thread::sleep(d);
            error("server_error", "late")
        }
    }
}

/// Adds a number field to an OAuth answer in either encoding.
fn add_field(r: &mut Response, key: &str, value: u64) {
    let body = String::from_utf8(std::mem::take(&mut r.body)).unwrap();
    r.body = match body.strip_suffix('}') {
        Some(head) => format!("{head},\"{key}\":{value}}}"),
        None => format!("{body}&{key}={value}"),
    }
    .into_bytes();
}

/// A failed `gocred login` / `get`: exit 1, stdout empty, and exactly one `gocred:` line on
/// stderr, the last one, naming `host` and saying each of `says`. Returns that line.
#[track_caller]
pub fn assert_one_line_failure<'o>(out: &'o super::Output, host: &str, says: &[&str]) -> &'o str {
    assert_eq!(out.code(), Some(1), "{out}");
    assert_eq!(out.stdout, "", "{out}");
    let lines = out.stderr_lines();
    let errors: Vec<&str> = lines
        .iter()
        .copied()
        .filter(|l| l.starts_with("gocred:"))
        .collect();
    assert_eq!(errors.len(), 1, "one error line: {out}");
    assert_eq!(
        lines.last(),
        Some(&errors[0]),
        "the error comes last: {out}"
    );
    assert!(errors[0].contains(host), "names {host}: {out}");
    for s in says {
        assert!(errors[0].contains(s), "says {s:?}: {out}");
    }
    errors[0]
}
