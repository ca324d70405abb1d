//! A fake GitHub Enterprise Server for GitHub App installation tokens, answering as GitHub's
//! REST API documents it ("Authenticating as a GitHub App installation", "Create an installation
//! access token for an app", "Get a repository installation for the authenticated app"), under
//! `/api/v3` on 127.0.0.1 over TLS (a test CA gocred trusts through git's
//! `http.<url>.sslCAInfo`):
//!
//! - Every `/api/v3/app...`, `/repos/.../installation` and `/orgs/.../installation` request
//!   must carry `Authorization: Bearer <JWT>`. The fake **verifies the JWT's RS256 signature
//!   with the app's public key through `openssl dgst -verify`** (an implementation that is not
//!   gocred's), then its claims: `alg` RS256, `iss` the App ID, `iat` not in the future (60 s of
//!   drift allowed), `exp` after now and at most 10 minutes after `iat`. Anything else: `401
//!   {"message": "A JSON web token could not be decoded"}` as GitHub answers.
//! - `GET /api/v3/repos/{owner}/{repo}/installation` and `GET /api/v3/orgs/{org}/installation`:
//!   `200 {"id": ..}` for an owner the app is installed on, else `404 {"message": "Not Found"}`.
//! - `POST /api/v3/app/installations/{id}/access_tokens`: `201 {"token": "ghs_FAKE_..",
//!   "expires_at": "..Z", "permissions": .., "repository_selection": ..}`; 404 for an unknown
//!   installation; the body's `repositories` and `permissions` are recorded.
//! - A scripted rate limit: `403` (with `Retry-After` and GitHub's "API rate limit exceeded"
//!   message) or `429` with `Retry-After`.
//!
//! Every other path is git smart HTTP for the repositories under the fake's root, for user
//! `x-access-token` with a token the fake issued and that has not expired.

use super::TestEnv;
use super::https::{HttpsServer, Request, Response, TestCa, git_http_backend};
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::{SystemTime, UNIX_EPOCH};

pub const APP_ID: u64 = 31337;

/// An RSA key pair made by openssl: the private key as GitHub hands it out (PKCS#1 PEM).
pub struct AppKeys {
    pub private_pem: PathBuf,
    pub public_pem: PathBuf,
}

impl AppKeys {
    pub fn generate(dir: &Path, name: &str) -> AppKeys {
        std::fs::create_dir_all(dir).unwrap();
        let private_pem = dir.join(format!("{name}.private-key.pem"));
        let public_pem = dir.join(format!("{name}.public.pem"));
        let run = |args: &[&str]| {
            let out = std::process::Command::new("openssl")
                .args(args)
                .output()
                .expect("openssl (scripts/test installs it)");
            assert!(out.status.success(), "openssl {args:?}: {out:?}");
        };
        run(&[
            "genrsa",
            "-traditional",
            "-out",
            private_pem.to_str().unwrap(),
            "2048",
        ]);
        run(&[
            "rsa",
            "-in",
            private_pem.to_str().unwrap(),
            "-pubout",
            "-out",
            public_pem.to_str().unwrap(),
        ]);
        super::set_mode(&private_pem, 0o600);
        AppKeys {
            private_pem,
            public_pem,
        }
    }
}

/// What the API answers besides the documented defaults.
#[derive(Debug, Clone, Default)]
pub struct Script {
    /// Lifetime of issued tokens (GitHub: one hour).
    pub token_ttl: Option<u64>,
    /// Answer every API request with this rate limit: `(status, retry_after)`.
    pub rate_limited: Option<(u16, u64)>,
    /// GitHub's primary rate limit: `403` with `x-ratelimit-remaining: 0` and
    /// `x-ratelimit-reset` this many seconds from now (no `Retry-After`).
    pub primary_limit_resets_in: Option<u64>,
    /// Delay before answering a token request (to make parallel gits overlap).
    pub mint_delay_ms: u64,
}

/// One API request as the fake saw it.
#[derive(Debug, Clone)]
pub struct Seen {
    pub method: String,
    pub path: String,
    pub status: u16,
    /// Whether the JWT verified (None: no JWT needed).
    pub jwt_ok: Option<bool>,
    pub body: serde_json::Value,
}

struct Issued {
    token: String,
    installation: u64,
    expires_at: u64,
}

struct State {
    script: Script,
    /// owner (lower case) -> installation id.
    installations: Vec<(String, u64)>,
    seen: Vec<Seen>,
    issued: Vec<Issued>,
    public_pem: PathBuf,
    scratch: PathBuf,
    next: u64,
}

pub struct GitHubAppFake {
    server: HttpsServer,
    state: Arc<Mutex<State>>,
    ca_pem: PathBuf,
    repo_root: PathBuf,
    pub keys: AppKeys,
}

fn now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_secs()
}

/// `2016-07-11T22:14:10Z`.
pub fn iso(secs: u64) -> String {
    let out = std::process::Command::new("date")
        .args(["-u", "-d", &format!("@{secs}"), "+%Y-%m-%dT%H:%M:%SZ"])
        .output()
        .unwrap();
    String::from_utf8(out.stdout).unwrap().trim().to_owned()
}

fn json(status: u16, value: serde_json::Value) -> Response {
    Response::new(status, "application/json; charset=utf-8", value.to_string())
}

impl State {
    /// Verifies the request's app JWT: signature (openssl, the app's public key), then claims.
    fn jwt_ok(&mut self, req: &Request) -> bool {
        let Some(jwt) = req
            .header("Authorization")
            .and_then(|h| h.strip_prefix("Bearer "))
        else {
            return false;
        };
        let parts: Vec<&str> = jwt.split('.').collect();
        let [header, payload, signature] = parts[..] else {
            return false;
        };
        let (Ok(h), Ok(p), Ok(sig)) = (
            URL_SAFE_NO_PAD.decode(header),
            URL_SAFE_NO_PAD.decode(payload),
            URL_SAFE_NO_PAD.decode(signature),
        ) else {
            return false;
        };
        self.next += 1;
        let input = self.scratch.join(format!("jwt-{}.in", self.next));
        let sig_file = self.scratch.join(format!("jwt-{}.sig", self.next));
        std::fs::write(&input, format!("{header}.{payload}")).unwrap();
        std::fs::write(&sig_file, &sig).unwrap();
        let verified = std::process::Command::new("openssl")
            .args(["dgst", "-sha256", "-verify"])
            .arg(&self.public_pem)
            .arg("-signature")
            .arg(&sig_file)
            .arg(&input)
            .output()
            .is_ok_and(|o| o.status.success());
        let (Ok(h), Ok(c)) = (
            serde_json::from_slice::<serde_json::Value>(&h),
            serde_json::from_slice::<serde_json::Value>(&p),
        ) else {
            return false;
        };
        let t = now();
        // GitHub's documented form: the App ID as a string.
        let iss = APP_ID.to_string();
        let (iat, exp) = (
            c["iat"].as_u64().unwrap_or(0),
            c["exp"].as_u64().unwrap_or(0),
        );
        verified
            && h["alg"] == "RS256"
            && c["iss"].as_str() == Some(iss.as_str())
            && iat <= t + 60
            && exp > t
            && exp > iat
            && exp - iat <= 600
    }

    fn live(&self, token: &str) -> bool {
        self.issued
            .iter()
            .any(|i| i.token == token && i.expires_at > now())
    }
}

fn handle(state: &Mutex<State>, req: &Request, root: &Path, cgi_home: &Path) -> Response {
    let path = req.path().to_owned();
    if let Some(api) = path.strip_prefix("/api/v3/") {
        let mut st = state.lock().unwrap();
        let body: serde_json::Value =
            serde_json::from_slice(&req.body).unwrap_or(serde_json::Value::Null);
        let jwt_ok = st.jwt_ok(req);
        let script = st.script.clone();
        let response = api_answer(&mut st, &req.method, api, jwt_ok, &body, &script);
        st.seen.push(Seen {
            method: req.method.clone(),
            path: path.clone(),
            status: response.status,
            jwt_ok: Some(jwt_ok),
            body,
        });
        drop(st);
        if response.status == 201 && script.mint_delay_ms > 0 {
            std::thread::sleep(std::time::Duration::from_millis(script.mint_delay_ms));
        }
        return response;
    }
    // git: user x-access-token with a live token.
    let ok = req
        .header("Authorization")
        .and_then(super::http::decode_basic)
        .is_some_and(|(u, p)| u == "x-access-token" && state.lock().unwrap().live(&p));
    if !ok {
        return Response::unauthorized();
    }
    git_http_backend(req, root, cgi_home)
}

fn api_answer(
    st: &mut State,
    method: &str,
    api: &str,
    jwt_ok: bool,
    body: &serde_json::Value,
    script: &Script,
) -> Response {
    if let Some((status, retry)) = script.rate_limited {
        let mut r = json(
            status,
            serde_json::json!({
                "message": "API rate limit exceeded for installation ID 1.",
                "documentation_url": "https://docs.github.com/rest/overview/rate-limits-for-the-rest-api",
            }),
        );
        r.headers.push(("Retry-After".into(), retry.to_string()));
        r.headers.push(("X-RateLimit-Remaining".into(), "0".into()));
        return r;
    }
    if let Some(secs) = script.primary_limit_resets_in {
        let mut r = json(
            403,
            serde_json::json!({
                "message": "API rate limit exceeded for app ID 31337.",
                "documentation_url": "https://docs.github.com/rest/overview/rate-limits-for-the-rest-api",
            }),
        );
        r.headers.push(("X-RateLimit-Limit".into(), "5000".into()));
        r.headers.push(("X-RateLimit-Remaining".into(), "0".into()));
        r.headers
            .push(("X-RateLimit-Reset".into(), (now() + secs).to_string()));
        return r;
    }
    if !jwt_ok {
        return json(
            401,
            serde_json::json!({
                "message": "A JSON web token could not be decoded",
                "documentation_url": "https://docs.github.com/rest",
            }),
        );
    }
    let segments: Vec<&str> = api.split('/').collect();
    let not_found = || {
        json(
            404,
            serde_json::json!({"message": "Not Found", "documentation_url": "https://docs.github.com/rest"}),
        )
    };
    let installation_of = |owner: &str| {
        st.installations
            .iter()
            .find(|(o, _)| o.eq_ignore_ascii_case(owner))
            .map(|(_, id)| *id)
    };
    match (method, segments.as_slice()) {
        ("GET", ["repos", owner, _, "installation"]) | ("GET", ["orgs", owner, "installation"]) => {
            match installation_of(owner) {
                Some(id) => json(
                    200,
                    serde_json::json!({"id": id, "app_id": APP_ID, "account": {"login": owner}}),
                ),
                None => not_found(),
            }
        }
        ("POST", ["app", "installations", id, "access_tokens"]) => {
            let Ok(id) = id.parse::<u64>() else {
                return not_found();
            };
            if !st.installations.iter().any(|(_, i)| *i == id) {
                return not_found();
            }
            st.next += 1;
            let token = format!("ghs_FAKE_{:04}_{id}", st.next);
            let expires_at = now() + script.token_ttl.unwrap_or(3600);
            st.issued.push(Issued {
                token: token.clone(),
                installation: id,
                expires_at,
            });
            let selection = if body.get("repositories").is_some() {
                "selected"
            } else {
                "all"
            };
            json(
                201,
                serde_json::json!({
                    "token": token,
                    "expires_at": iso(expires_at),
                    "permissions": body.get("permissions").cloned().unwrap_or(serde_json::json!({"contents": "write", "metadata": "read"})),
                    "repository_selection": selection,
                }),
            )
        }
        _ => not_found(),
    }
}

impl GitHubAppFake {
    /// Starts the fake with the app installed on `installations` (owner, id).
    pub fn start(env: &TestEnv, installations: &[(&str, u64)]) -> GitHubAppFake {
        let dir = env.root().join("github-app-fake");
        let ca = TestCa::new(&dir, "gocred github app fake CA");
        let tls = ca.server_config(&["127.0.0.1", "localhost"]);
        let keys = AppKeys::generate(&dir.join("keys"), "app");
        let scratch = dir.join("scratch");
        std::fs::create_dir_all(&scratch).unwrap();
        let state = Arc::new(Mutex::new(State {
            script: Script::default(),
            installations: installations
                .iter()
                .map(|(o, i)| (o.to_ascii_lowercase(), *i))
                .collect(),
            seen: Vec::new(),
            issued: Vec::new(),
            public_pem: keys.public_pem.clone(),
            scratch,
            next: 0,
        }));
        let repo_root = dir.join("repos");
        let cgi_home = dir.join("cgi-home");
        std::fs::create_dir_all(&repo_root).unwrap();
        std::fs::create_dir_all(&cgi_home).unwrap();
        let (state2, root2) = (state.clone(), repo_root.clone());
        let handler = Arc::new(move |req: &Request| handle(&state2, req, &root2, &cgi_home));
        let server = HttpsServer::start("127.0.0.1:0", tls, handler);
        GitHubAppFake {
            server,
            state,
            ca_pem: ca.pem.clone(),
            repo_root,
            keys,
        }
    }

    pub fn port(&self) -> u16 {
        self.server.port()
    }

    /// `https://127.0.0.1:PORT`.
    pub fn origin(&self) -> String {
        format!("https://127.0.0.1:{}", self.port())
    }

    pub fn script(&self, change: impl FnOnce(&mut Script)) {
        change(&mut self.state.lock().unwrap().script);
    }

    /// `git config --global http.<origin>.sslCAInfo <ca>`.
    pub fn trust_in_git(&self, env: &TestEnv) {
        env.git_config(
            &format!("http.{}.sslCAInfo", self.origin()),
            self.ca_pem.to_str().unwrap(),
        );
    }

    /// API requests so far.
    pub fn seen(&self) -> Vec<Seen> {
        self.state.lock().unwrap().seen.clone()
    }

    /// Token requests (`POST .../access_tokens`) that were answered 201.
    pub fn mints(&self) -> Vec<Seen> {
        self.seen()
            .into_iter()
            .filter(|s| s.path.ends_with("/access_tokens") && s.status == 201)
            .collect()
    }

    /// The installation an issued token belongs to, if the fake issued it.
    pub fn installation_of(&self, token: &str) -> Option<u64> {
        self.state
            .lock()
            .unwrap()
            .issued
            .iter()
            .find(|i| i.token == token)
            .map(|i| i.installation)
    }

    /// Creates the bare repository `name` (`owner/repo.git`) with one commit on `main`.
    pub fn create_repo(&self, env: &TestEnv, name: &str) {
        super::git_server::create_bare_repo(env, &self.repo_root, name, "");
    }
}
