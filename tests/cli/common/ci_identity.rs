//! A CI job's identity for the `sts` tests:
//!
//! - [`CiIssuer`]: the real npm `oidc-provider` (tests/support/oidc/ci-issuer.mjs) as the CI's
//!   OIDC issuer, over TLS on 127.0.0.1 (`https://localhost:PORT`). It signs the job's ID token
//!   (RS256, its key published at `/jwks`) with `iss`, `sub`, `aud` and `exp`.
//! - [`StsFake`]: one loopback TLS origin playing three parts. The security token service: `POST
//!   /token` takes an RFC 8693 token exchange and **verifies the subject token against the
//!   issuer's JWKS (RS256 signature through ring, `iss`, `aud`, `exp`) before answering**; a
//!   forged, foreign or expired token gets `400 invalid_grant`. The GitHub Actions runner's ID
//!   token endpoint (`GET /_actions/idtoken?api-version=2.0&audience=AUD` with the runner's
//!   bearer token), which fetches a token for that audience from the issuer (with curl). And a
//!   git smart-HTTP server for user `x-access-token` with a token the STS issued.

use super::TestEnv;
use super::https::{HttpsServer, Request, Response, TestCa, git_http_backend};
use super::oidc::{TestCa as IssuerCa, start_node};
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use std::path::{Path, PathBuf};
use std::process::{Child, Command};
use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

/// The audience the STS expects in ID tokens.
pub const AUDIENCE: &str = "https://sts.gocred-test.example";
/// The runner's bearer token for the ID token endpoint (ACTIONS_ID_TOKEN_REQUEST_TOKEN).
pub const RUNNER_TOKEN: &str = "runner-FAKE-request-token";
pub const EXCHANGE: &str = "urn:ietf:params:oauth:grant-type:token-exchange";

fn now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_secs()
}

pub struct CiIssuer {
    child: Child,
    /// `https://localhost:PORT`.
    pub issuer: String,
    pub ca: IssuerCa,
}

impl CiIssuer {
    /// Starts the issuer with ID tokens living `ttl` seconds.
    pub fn start(env: &TestEnv, ttl: u64) -> CiIssuer {
        let ca = IssuerCa::new(&env.root().join("ci-issuer-tls"));
        let log = env.root().join("ci-issuer.log");
        let (child, info) = start_node(
            env,
            "ci-issuer.mjs",
            &ca,
            &[("ID_TOKEN_TTL", ttl.to_string())],
            &log,
            "the CI issuer",
        );
        CiIssuer {
            child,
            issuer: info["issuer"].as_str().unwrap().to_owned(),
            ca,
        }
    }

    /// A fresh ID token for `audience`, as the CI hands one to a job.
    pub fn id_token(&self, audience: &str) -> String {
        id_token(&self.issuer, &self.ca.ca_pem, audience)
    }

    /// The issuer's signing keys: (kid, n, e).
    pub fn jwks(&self) -> Vec<(String, Vec<u8>, Vec<u8>)> {
        let out = curl(&self.ca.ca_pem, &[&format!("{}/jwks", self.issuer)]);
        let v: serde_json::Value = serde_json::from_str(&out).unwrap();
        v["keys"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|k| k["kty"] == "RSA")
            .map(|k| {
                let b = |f: &str| URL_SAFE_NO_PAD.decode(k[f].as_str().unwrap()).unwrap();
                (k["kid"].as_str().unwrap_or("").to_owned(), b("n"), b("e"))
            })
            .collect()
    }
}

impl Drop for CiIssuer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn curl(ca: &Path, args: &[&str]) -> String {
    let out = Command::new("curl")
        .args(["-sS", "--fail-with-body", "--cacert"])
        .arg(ca)
        .args(args)
        .env_clear()
        .env("PATH", "/usr/local/bin:/usr/bin:/bin")
        .output()
        .expect("curl (scripts/test installs it)");
    assert!(out.status.success(), "curl {args:?}: {out:?}");
    String::from_utf8(out.stdout).unwrap()
}

fn id_token(issuer: &str, ca: &Path, audience: &str) -> String {
    let out = curl(
        ca,
        &[
            "-u",
            "ci-job:ci-job-secret",
            "-d",
            "grant_type=client_credentials",
            "--data-urlencode",
            &format!("resource={audience}"),
            &format!("{issuer}/token"),
        ],
    );
    let v: serde_json::Value = serde_json::from_str(&out).unwrap();
    v["access_token"].as_str().unwrap().to_owned()
}

/// Why the STS refuses `token`, or `None` when it is the issuer's, for `audience`, unexpired.
pub fn verify(
    token: &str,
    issuer: &str,
    audience: &str,
    keys: &[(String, Vec<u8>, Vec<u8>)],
) -> Option<&'static str> {
    let parts: Vec<&str> = token.split('.').collect();
    let [h, p, s] = parts[..] else {
        return Some("not a JWT");
    };
    let decode = |x: &str| URL_SAFE_NO_PAD.decode(x).ok();
    let (Some(h), Some(p), Some(sig)) = (decode(h), decode(p), decode(s)) else {
        return Some("not base64url");
    };
    let (Ok(header), Ok(claims)) = (
        serde_json::from_slice::<serde_json::Value>(&h),
        serde_json::from_slice::<serde_json::Value>(&p),
    ) else {
        return Some("not JSON");
    };
    if header["alg"] != "RS256" {
        return Some("not RS256");
    }
    let input = format!("{}.{}", parts[0], parts[1]);
    let signed = keys.iter().any(|(kid, n, e)| {
        header["kid"].as_str().is_none_or(|k| k == kid)
            && ring::signature::RsaPublicKeyComponents { n, e }
                .verify(
                    &ring::signature::RSA_PKCS1_2048_8192_SHA256,
                    input.as_bytes(),
                    &sig,
                )
                .is_ok()
    });
    if !signed {
        return Some("bad signature");
    }
    if claims["iss"] != issuer {
        return Some("wrong issuer");
    }
    let aud_ok = match &claims["aud"] {
        serde_json::Value::String(a) => a == audience,
        serde_json::Value::Array(list) => list.iter().any(|a| a == audience),
        _ => false,
    };
    if !aud_ok {
        return Some("wrong audience");
    }
    if claims["exp"].as_u64().is_none_or(|exp| exp <= now()) {
        return Some("expired");
    }
    None
}

/// What the STS answers besides the defaults.
#[derive(Debug, Clone)]
pub struct Script {
    /// `expires_in` of issued tokens; `None`: the answer has none.
    pub expires_in: Option<u64>,
    /// Delay before answering an exchange (to make parallel gits overlap).
    pub delay_ms: u64,
}

impl Default for Script {
    fn default() -> Self {
        Script {
            expires_in: Some(3600),
            delay_ms: 0,
        }
    }
}

/// One token exchange as the STS saw it.
#[derive(Debug, Clone)]
pub struct Exchange {
    pub form: Vec<(String, String)>,
    /// `None`: accepted; else why not.
    pub refused: Option<&'static str>,
}

impl Exchange {
    pub fn field(&self, name: &str) -> Option<&str> {
        self.form
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    }
}

struct State {
    script: Script,
    issuer: String,
    issuer_ca: PathBuf,
    keys: Vec<(String, Vec<u8>, Vec<u8>)>,
    exchanges: Vec<Exchange>,
    /// Audiences the runner endpoint was asked for.
    id_token_requests: Vec<Option<String>>,
    issued: Vec<(String, u64)>,
    next: u64,
}

pub struct StsFake {
    server: HttpsServer,
    state: Arc<Mutex<State>>,
    ca_pem: PathBuf,
    repo_root: PathBuf,
}

fn form(body: &[u8]) -> Vec<(String, String)> {
    let text = String::from_utf8_lossy(body);
    text.split('&')
        .filter(|p| !p.is_empty())
        .map(|pair| {
            let (k, v) = pair.split_once('=').unwrap_or((pair, ""));
            (percent_decode(k), percent_decode(v))
        })
        .collect()
}

fn percent_decode(s: &str) -> String {
    let b = s.as_bytes();
    let mut out = Vec::new();
    let mut i = 0;
    while i < b.len() {
        match b[i] {
            b'+' => out.push(b' '),
            b'%' if i + 2 < b.len() => {
                let hex = std::str::from_utf8(&b[i + 1..i + 3]).unwrap_or("");
                out.push(u8::from_str_radix(hex, 16).unwrap_or(b'?'));
                i += 2;
            }
            c => out.push(c),
        }
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

fn json(status: u16, value: serde_json::Value) -> Response {
    Response::new(status, "application/json", value.to_string())
}

fn handle(state: &Mutex<State>, req: &Request, root: &Path, cgi_home: &Path) -> Response {
    match (req.method.as_str(), req.path()) {
        ("POST", "/token") => {
            let form = form(&req.body);
            let get = |k: &str| form.iter().find(|(n, _)| n == k).map(|(_, v)| v.as_str());
            let mut st = state.lock().unwrap();
            let refused = if get("grant_type") != Some(EXCHANGE) {
                Some("wrong grant_type")
            } else if !matches!(
                get("subject_token_type"),
                Some(
                    "urn:ietf:params:oauth:token-type:id_token"
                        | "urn:ietf:params:oauth:token-type:jwt"
                )
            ) {
                Some("wrong subject_token_type")
            } else {
                verify(
                    get("subject_token").unwrap_or(""),
                    &st.issuer,
                    AUDIENCE,
                    &st.keys,
                )
            };
            st.exchanges.push(Exchange {
                form: form.clone(),
                refused,
            });
            if let Some(why) = refused {
                return json(
                    400,
                    serde_json::json!({"error": "invalid_grant", "error_description": why}),
                );
            }
            st.next += 1;
            let token = format!("sts_FAKE_{:04}", st.next);
            let script = st.script.clone();
            let ttl = script.expires_in.unwrap_or(3600);
            st.issued.push((token.clone(), now() + ttl));
            drop(st);
            std::thread::sleep(Duration::from_millis(script.delay_ms));
            let mut answer = serde_json::json!({
                "access_token": token,
                "issued_token_type": "urn:ietf:params:oauth:token-type:access_token",
                "token_type": "Bearer",
            });
            if let Some(s) = script.expires_in {
                answer["expires_in"] = s.into();
            }
            json(200, answer)
        }
        ("GET", "/_actions/idtoken") => {
            let audience = req
                .query()
                .split('&')
                .find_map(|p| p.strip_prefix("audience="))
                .map(percent_decode);
            let mut st = state.lock().unwrap();
            st.id_token_requests.push(audience.clone());
            let authorized = req.header("Authorization") == Some(&format!("Bearer {RUNNER_TOKEN}"));
            if !authorized {
                return json(401, serde_json::json!({"message": "Unauthorized"}));
            }
            let (issuer, ca) = (st.issuer.clone(), st.issuer_ca.clone());
            drop(st);
            let Some(audience) = audience else {
                return json(400, serde_json::json!({"message": "audience missing"}));
            };
            let token = id_token(&issuer, &ca, &audience);
            json(200, serde_json::json!({"count": 1, "value": token}))
        }
        _ => {
            let ok = req
                .header("Authorization")
                .and_then(super::http::decode_basic)
                .is_some_and(|(u, p)| {
                    u == "x-access-token"
                        && state
                            .lock()
                            .unwrap()
                            .issued
                            .iter()
                            .any(|(t, exp)| *t == p && *exp > now())
                });
            if ok {
                git_http_backend(req, root, cgi_home)
            } else {
                Response::unauthorized()
            }
        }
    }
}

impl StsFake {
    pub fn start(env: &TestEnv, issuer: &CiIssuer) -> StsFake {
        let dir = env.root().join("sts-fake");
        let ca = TestCa::new(&dir, "gocred sts fake CA");
        let tls = ca.server_config(&["127.0.0.1", "localhost"]);
        let state = Arc::new(Mutex::new(State {
            script: Script::default(),
            issuer: issuer.issuer.clone(),
            issuer_ca: issuer.ca.ca_pem.clone(),
            keys: issuer.jwks(),
            exchanges: Vec::new(),
            id_token_requests: Vec::new(),
            issued: Vec::new(),
            next: 0,
        }));
        let repo_root = dir.join("repos");
        let cgi_home = dir.join("cgi-home");
        std::fs::create_dir_all(&repo_root).unwrap();
        std::fs::create_dir_all(&cgi_home).unwrap();
        let (state2, root2) = (state.clone(), repo_root.clone());
        let handler = Arc::new(move |req: &Request| handle(&state2, req, &root2, &cgi_home));
        let server = HttpsServer::start("127.0.0.1:0", tls, handler);
        StsFake {
            server,
            state,
            ca_pem: ca.pem.clone(),
            repo_root,
        }
    }

    pub fn port(&self) -> u16 {
        self.server.port()
    }

    pub fn origin(&self) -> String {
        format!("https://127.0.0.1:{}", self.port())
    }

    /// What GitHub Actions puts in ACTIONS_ID_TOKEN_REQUEST_URL.
    pub fn actions_url(&self) -> String {
        format!("{}/_actions/idtoken?api-version=2.0", self.origin())
    }

    pub fn ca_pem(&self) -> &Path {
        &self.ca_pem
    }

    pub fn script(&self, change: impl FnOnce(&mut Script)) {
        change(&mut self.state.lock().unwrap().script);
    }

    pub fn trust_in_git(&self, env: &TestEnv) {
        env.git_config(
            &format!("http.{}.sslCAInfo", self.origin()),
            self.ca_pem.to_str().unwrap(),
        );
    }

    pub fn exchanges(&self) -> Vec<Exchange> {
        self.state.lock().unwrap().exchanges.clone()
    }

    pub fn id_token_requests(&self) -> Vec<Option<String>> {
        self.state.lock().unwrap().id_token_requests.clone()
    }

    /// Whether the STS issued `token`.
    pub fn issued(&self, token: &str) -> bool {
        self.state
            .lock()
            .unwrap()
            .issued
            .iter()
            .any(|(t, _)| t == token)
    }

    /// The issuer's keys the STS trusts.
    pub fn keys(&self) -> Vec<(String, Vec<u8>, Vec<u8>)> {
        self.state.lock().unwrap().keys.clone()
    }

    /// Creates the bare repository `name` with one commit on `main`.
    pub fn create_repo(&self, env: &TestEnv, name: &str) {
        super::git_server::create_bare_repo(env, &self.repo_root, name, "");
    }
}
