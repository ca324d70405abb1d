//! The one HTTP client of gocred. Every request made anywhere in gocred goes through [`Net`].
//!
//! Rules, in the words of issue 4 ("gocred must trust what git trusts, and no more"):
//! - **Timeouts**: a connect timeout and a total timeout (headers and body) on every request,
//!   [`Options::from_env`]: 10 s and 30 s, or `GOCRED_HTTP_TIMEOUT` seconds for both.
//! - **Proxy**: what git would use for that URL: `http.<url>.proxy` / `http.proxy` (asked of git
//!   with `git config -z --get-urlmatch http URL`; an empty value means "no proxy"), else
//!   `https_proxy` / `HTTPS_PROXY` / `all_proxy` / `ALL_PROXY` (`http_proxy` for http URLs,
//!   lower-case only, as curl does); `no_proxy` / `NO_PROXY` exempts hosts in both cases. Only
//!   http:// proxies are supported.
//! - **Trust**: the system's roots (rustls-native-certs: `/etc/ssl/certs`, or `SSL_CERT_FILE` /
//!   `SSL_CERT_DIR`) plus the PEM file git uses for that URL: `GIT_SSL_CAINFO`, else
//!   `http.<url>.sslCAInfo` / `http.sslCAInfo`. `http.sslVerify = false` is never followed.
//! - **https only**, unless the caller's [`Options::allow_http`] says otherwise (a rule's
//!   `allow_http`).
//! - Nothing is set up before the first request: a process that never talks to the network (a
//!   `get` for a denied host, or with a valid token) never reads a certificate or runs git.
//!
//! Redirects are never followed, for any method (`max_redirects(0)`: ureq then returns the 3xx
//! as it is): an OAuth endpoint that redirects is misconfigured, and following one could carry
//! a token, a refresh token or a device code to another origin (issue 9 §3). The OAuth layer
//! turns a 3xx into a one-line error that says so. A proxy only ever sees `CONNECT host:port`:
//! ureq tunnels every request through an http:// proxy, so the request line, headers and body
//! travel inside the tunnel (inside TLS for https). Bodies are capped at 1 MiB.
//! `tests/cli/oauth_redirects.rs` holds both to it through the binary.

pub mod probe;
pub mod tls;

use crate::secret::SecretBytes;
use std::cell::RefCell;
use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;
use ureq::http::Uri;

/// Reads an environment variable (tests pass a closure instead of the process environment).
pub type Env<'e> = &'e dyn Fn(&str) -> Option<String>;

/// The most a response body may hold.
const MAX_BODY: u64 = 1024 * 1024;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Options {
    /// Whether `http://` URLs may be requested at all.
    pub allow_http: bool,
    pub connect_timeout: Duration,
    /// For the whole request: connecting, sending, and reading the answer.
    pub timeout: Duration,
}

impl Options {
    /// 10 s to connect and 30 s in all, or `GOCRED_HTTP_TIMEOUT` seconds for both. An invalid
    /// value is refused before any command runs (`cli::run` calls [`timeout_from_env`]); here
    /// it falls back to the defaults.
    pub fn from_env(env: Env<'_>, allow_http: bool) -> Options {
        let custom = timeout_from_env(env).ok().flatten();
        Options {
            allow_http,
            connect_timeout: custom.unwrap_or(Duration::from_secs(10)),
            timeout: custom.unwrap_or(Duration::from_secs(30)),
        }
    }
}

/// The variable that sets every HTTP timeout.
pub const TIMEOUT_VAR: &str = "GOCRED_HTTP_TIMEOUT";

/// The longest `GOCRED_HTTP_TIMEOUT` accepted: a day.
const MAX_TIMEOUT_SECS: f64 = 86_400.0;

/// `GOCRED_HTTP_TIMEOUT` as a duration: `None` when unset or empty; an error, naming the variable
/// and the accepted form, for anything but a positive number of seconds up to a day (`30`,
/// `2.5`, surrounding blanks allowed). A typo must not silently leave the 30 s default in place.
pub fn timeout_from_env(env: Env<'_>) -> Result<Option<Duration>, InvalidTimeout> {
    let Some(raw) = env(TIMEOUT_VAR) else {
        return Ok(None);
    };
    let value = raw.trim();
    if value.is_empty() {
        return Ok(None);
    }
    let bad = || InvalidTimeout {
        value: crate::redact::sanitize(value).into_owned(),
    };
    let secs: f64 = value
        .parse()
        .ok()
        .filter(|_| value.bytes().all(|b| b.is_ascii_digit() || b == b'.'))
        .ok_or_else(bad)?;
    if !(secs > 0.0 && secs <= MAX_TIMEOUT_SECS) {
        return Err(bad());
    }
    Duration::try_from_secs_f64(secs)
        .map(Some)
        .map_err(|_| bad())
}

/// A `GOCRED_HTTP_TIMEOUT` that is not a number of seconds.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error(
    "GOCRED_HTTP_TIMEOUT={value} is not a timeout: set it to a positive number of seconds up to 86400 (e.g. 30 or 2.5), or unset it for the defaults (10 s to connect, 30 s in all)"
)]
pub struct InvalidTimeout {
    pub value: String,
}

#[derive(Debug, thiserror::Error)]
pub enum NetError {
    #[error("{url}: not an absolute http(s) URL")]
    BadUrl { url: String },
    #[error("{url}: refusing plain http (set `allow_http = true` on the rule if you mean it)")]
    Insecure { url: String },
    #[error(
        "{host}: no answer within {after}; check that the server is up (GOCRED_HTTP_TIMEOUT=SECONDS waits longer)"
    )]
    Timeout { host: String, after: String },
    #[error(
        "{host}: cannot connect ({reason}); check the host and port in the rule's URL, and whether a proxy is needed (git's http.proxy, https_proxy)"
    )]
    Connect { host: String, reason: String },
    #[error(
        "{host}: TLS failed ({reason}); gocred trusts the system roots and git's http.sslCAInfo for this URL"
    )]
    Tls { host: String, reason: String },
    #[error("{host}: the proxy {proxy} failed ({reason})")]
    Proxy {
        host: String,
        proxy: String,
        reason: String,
    },
    #[error("{host}: cannot use the CA file {} ({reason})", path.display())]
    CaFile {
        host: String,
        path: PathBuf,
        reason: String,
    },
    #[error("{host}: the answer is larger than 1 MiB")]
    TooLarge { host: String },
    #[error("{host}: {reason}")]
    Other { host: String, reason: String },
}

/// How requests to one URL travel: for messages and for `gocred doctor`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Route {
    /// `scheme://host[:port]`.
    pub origin: String,
    /// The proxy (without any password), or `None` for a direct connection.
    pub proxy: Option<String>,
    /// The extra PEM file trusted besides the system roots.
    pub ca_file: Option<PathBuf>,
}

/// An answer, whatever its status. The body may hold tokens: it zeroes itself on drop.
pub struct Reply {
    pub status: u16,
    /// The `Content-Type` media type, lower case, without parameters (`application/json`).
    pub content_type: String,
    /// When to retry, in seconds, when the server said (rate limits): `Retry-After`, or
    /// GitHub's `x-ratelimit-reset` once `x-ratelimit-remaining` is 0.
    pub retry_after: Option<u64>,
    pub body: SecretBytes,
}

impl std::fmt::Debug for Reply {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Reply")
            .field("status", &self.status)
            .field("content_type", &self.content_type)
            .field("body", &format_args!("{} bytes", self.body.0.len()))
            .finish()
    }
}

/// The HTTP client: one agent per origin, set up on first use.
pub struct Net<'e> {
    options: Options,
    env: Env<'e>,
    agents: RefCell<HashMap<String, (Route, ureq::Agent)>>,
    /// Parsed once per process, on the first https request.
    system_roots: RefCell<Option<Arc<Vec<ureq::tls::Certificate<'static>>>>>,
}

impl<'e> Net<'e> {
    /// Sets up nothing yet.
    pub fn new(options: Options, env: Env<'e>) -> Self {
        Net {
            options,
            env,
            agents: RefCell::new(HashMap::new()),
            system_roots: RefCell::new(None),
        }
    }

    pub fn options(&self) -> Options {
        self.options
    }

    /// How a request to `url` would travel (asks git, reads no certificate).
    pub fn route(&self, url: &str) -> Result<Route, NetError> {
        let target = Target::parse(url, self.options.allow_http)?;
        Ok(self.plan(&target))
    }

    /// `GET url` with extra `headers`.
    pub fn get(&self, url: &str, headers: &[(&str, &str)]) -> Result<Reply, NetError> {
        let target = Target::parse(url, self.options.allow_http)?;
        let agent = self.agent(&target)?;
        let mut request = agent.get(url);
        for (k, v) in headers {
            request = request.header(*k, *v);
        }
        self.finish(&target, request.call())
    }

    /// `POST url` with an `application/x-www-form-urlencoded` body.
    pub fn post_form(
        &self,
        url: &str,
        headers: &[(&str, &str)],
        form: &[(&str, &str)],
    ) -> Result<Reply, NetError> {
        let target = Target::parse(url, self.options.allow_http)?;
        let agent = self.agent(&target)?;
        let mut request = agent.post(url);
        for (k, v) in headers {
            request = request.header(*k, *v);
        }
        self.finish(&target, request.send_form(form.iter().copied()))
    }

    /// `POST url` with a JSON body.
    pub fn post_json(
        &self,
        url: &str,
        headers: &[(&str, &str)],
        body: &serde_json::Value,
    ) -> Result<Reply, NetError> {
        let target = Target::parse(url, self.options.allow_http)?;
        let agent = self.agent(&target)?;
        let mut request = agent.post(url).header("Content-Type", "application/json");
        for (k, v) in headers {
            request = request.header(*k, *v);
        }
        self.finish(&target, request.send(body.to_string().as_bytes()))
    }

    fn finish(
        &self,
        target: &Target,
        result: Result<ureq::http::Response<ureq::Body>, ureq::Error>,
    ) -> Result<Reply, NetError> {
        let mut response = result.map_err(|e| self.error(target, e))?;
        let status = response.status().as_u16();
        let content_type = response
            .headers()
            .get("content-type")
            .and_then(|v| v.to_str().ok())
            .map(|v| {
                v.split(';')
                    .next()
                    .unwrap_or_default()
                    .trim()
                    .to_ascii_lowercase()
            })
            .unwrap_or_default();
        let header = |name: &str| {
            response
                .headers()
                .get(name)
                .and_then(|v| v.to_str().ok())
                .and_then(|v| v.trim().parse::<u64>().ok())
        };
        // `Retry-After` seconds; else GitHub's primary rate limit (`x-ratelimit-remaining: 0`
        // with the epoch second of `x-ratelimit-reset`), as the seconds until then.
        let retry_after = header("retry-after").or_else(|| {
            (header("x-ratelimit-remaining") == Some(0))
                .then(|| header("x-ratelimit-reset"))
                .flatten()
                .map(|reset| reset.saturating_sub(crate::source::now()))
        });
        let body = response
            .body_mut()
            .with_config()
            .limit(MAX_BODY)
            .read_to_vec()
            .map_err(|e| self.error(target, e))?;
        Ok(Reply {
            status,
            content_type,
            retry_after,
            body: SecretBytes(body),
        })
    }

    fn error(&self, target: &Target, e: ureq::Error) -> NetError {
        let host = target.host_port.clone();
        match e {
            ureq::Error::Timeout(_) => NetError::Timeout {
                host,
                after: seconds(self.options.timeout),
            },
            ureq::Error::HostNotFound => NetError::Connect {
                host,
                reason: "host not found".into(),
            },
            ureq::Error::ConnectionFailed => NetError::Connect {
                host,
                reason: "connection refused or unreachable".into(),
            },
            ureq::Error::Io(io) if io.kind() == std::io::ErrorKind::TimedOut => NetError::Timeout {
                host,
                after: seconds(self.options.timeout),
            },
            // rustls reports a certificate it does not trust through the TLS stream, as I/O.
            ureq::Error::Io(io) => match io.get_ref().and_then(rustls_reason) {
                Some(reason) => NetError::Tls { host, reason },
                None => NetError::Connect {
                    host,
                    reason: io.to_string(),
                },
            },
            ureq::Error::Tls(reason) => NetError::Tls {
                host,
                reason: reason.into(),
            },
            ureq::Error::Rustls(e) => NetError::Tls {
                host,
                reason: tls::words(&e),
            },
            ureq::Error::BodyExceedsLimit(_) => NetError::TooLarge { host },
            ureq::Error::ConnectProxyFailed(reason) => NetError::Proxy {
                host,
                proxy: self.plan(target).proxy.unwrap_or_default(),
                reason,
            },
            ureq::Error::RequireHttpsOnly(_) => NetError::Insecure {
                url: target.origin.clone(),
            },
            other => NetError::Other {
                host,
                reason: other.to_string(),
            },
        }
    }

    /// The agent for `target`'s origin, built on first use.
    fn agent(&self, target: &Target) -> Result<ureq::Agent, NetError> {
        if let Some((_, agent)) = self.agents.borrow().get(&target.origin) {
            return Ok(agent.clone());
        }
        let route = self.plan(target);
        let mut config = ureq::Agent::config_builder()
            .timeout_connect(Some(self.options.connect_timeout))
            .timeout_global(Some(self.options.timeout))
            .http_status_as_error(false)
            .max_redirects(0)
            .https_only(!self.options.allow_http)
            .user_agent(concat!("gocred/", env!("CARGO_PKG_VERSION")));
        if let Some(proxy) = &route.proxy {
            let proxy = ureq::Proxy::new(proxy).map_err(|e| NetError::Proxy {
                host: target.host_port.clone(),
                proxy: redact_proxy(proxy),
                reason: e.to_string(),
            })?;
            config = config.proxy(Some(proxy));
        } else {
            config = config.proxy(None);
        }
        if target.https {
            let mut roots: Vec<ureq::tls::Certificate<'static>> =
                self.system_roots().as_ref().clone();
            if let Some(path) = &route.ca_file {
                roots.extend(read_pem(path).map_err(|reason| NetError::CaFile {
                    host: target.host_port.clone(),
                    path: path.clone(),
                    reason,
                })?);
            }
            if roots.is_empty() {
                return Err(NetError::Tls {
                    host: target.host_port.clone(),
                    reason: "no trusted root certificates: neither the system's nor http.sslCAInfo"
                        .into(),
                });
            }
            config = config.tls_config(
                ureq::tls::TlsConfig::builder()
                    .root_certs(ureq::tls::RootCerts::Specific(Arc::new(roots)))
                    .build(),
            );
        }
        let agent: ureq::Agent = config.build().into();
        // What is displayed must not hold a proxy password.
        let shown = Route {
            proxy: route.proxy.as_deref().map(redact_proxy),
            ..route
        };
        self.agents
            .borrow_mut()
            .insert(target.origin.clone(), (shown, agent.clone()));
        Ok(agent)
    }

    fn system_roots(&self) -> Arc<Vec<ureq::tls::Certificate<'static>>> {
        self.system_roots
            .borrow_mut()
            .get_or_insert_with(|| {
                let found = rustls_native_certs::load_native_certs();
                Arc::new(
                    found
                        .certs
                        .iter()
                        .map(|c| ureq::tls::Certificate::from_der(c.as_ref()).to_owned())
                        .collect(),
                )
            })
            .clone()
    }

    /// Proxy and CA file for `target`, from git's config and the environment.
    fn plan(&self, target: &Target) -> Route {
        if let Some((route, _)) = self.agents.borrow().get(&target.origin) {
            return route.clone();
        }
        let git = git_http_config(&target.origin, self.env);
        let env = |name: &str| (self.env)(name).filter(|v| !v.is_empty());
        let exempt = env("no_proxy")
            .or_else(|| env("NO_PROXY"))
            .is_some_and(|list| no_proxy_matches(&list, &target.host));
        let proxy = match git.proxy {
            _ if exempt => None,
            Some(p) if p.is_empty() => None,
            Some(p) => Some(p),
            None if target.https => env("https_proxy")
                .or_else(|| env("HTTPS_PROXY"))
                .or_else(|| env("all_proxy"))
                .or_else(|| env("ALL_PROXY")),
            None => env("http_proxy")
                .or_else(|| env("all_proxy"))
                .or_else(|| env("ALL_PROXY")),
        }
        .map(|p| {
            if p.contains("://") {
                p
            } else {
                format!("http://{p}")
            }
        });
        let ca_file = env("GIT_SSL_CAINFO")
            .or(git.ca_info)
            .filter(|p| !p.is_empty())
            .map(|p| expand_home(&p, self.env));
        Route {
            origin: target.origin.clone(),
            proxy,
            ca_file,
        }
    }
}

/// The rustls error inside an I/O error, if that is what it is. rustls is not a dependency of
/// its own: its error type is the one `ureq::Error::Rustls` carries.
/// In words ([`tls::words`]): rustls's own `Display` can be `Debug` text.
fn rustls_reason(e: &(dyn std::error::Error + Send + Sync + 'static)) -> Option<String> {
    // Fails to compile if ureq's rustls is not ours: the downcast would then never match.
    let _same_rustls: fn(rustls::Error) -> ureq::Error = ureq::Error::Rustls;
    e.downcast_ref::<rustls::Error>().map(tls::words)
}

/// `30 s`, `0.5 s`.
fn seconds(d: Duration) -> String {
    if d.subsec_millis() == 0 {
        format!("{} s", d.as_secs())
    } else {
        format!("{:.1} s", d.as_secs_f64())
    }
}

/// The parts of a URL this module needs.
struct Target {
    https: bool,
    /// `scheme://host[:port]`, lower case.
    origin: String,
    /// The host alone (no brackets for IPv6, no port), for `no_proxy`.
    host: String,
    /// `host[:port]` for messages.
    host_port: String,
}

impl Target {
    fn parse(url: &str, allow_http: bool) -> Result<Target, NetError> {
        let bad = || NetError::BadUrl {
            url: url.to_owned(),
        };
        let uri: Uri = url.parse().map_err(|_| bad())?;
        let https = match uri.scheme_str() {
            Some("https") => true,
            Some("http") if allow_http => false,
            Some("http") => {
                return Err(NetError::Insecure {
                    url: url.to_owned(),
                });
            }
            _ => return Err(bad()),
        };
        let authority = uri.authority().ok_or_else(bad)?;
        if authority.as_str().contains('@') {
            return Err(bad());
        }
        let host = authority
            .host()
            .trim_start_matches('[')
            .trim_end_matches(']')
            .to_ascii_lowercase();
        if host.is_empty() {
            return Err(bad());
        }
        let host_port = authority.as_str().to_ascii_lowercase();
        Ok(Target {
            https,
            origin: format!("{}://{host_port}", if https { "https" } else { "http" }),
            host,
            host_port,
        })
    }
}

#[derive(Debug, Default, PartialEq, Eq)]
struct GitHttpConfig {
    proxy: Option<String>,
    ca_info: Option<String>,
}

/// `http.proxy` and `http.sslCAInfo` as git resolves them for `url` (its `<url>` subsections
/// included). No git, or a git that fails: nothing.
fn git_http_config(url: &str, env: Env<'_>) -> GitHttpConfig {
    let mut cmd = std::process::Command::new("git");
    // The URL is never read as an option (it starts with the scheme; this says so to git).
    cmd.args(["config", "-z", "--get-urlmatch", "--end-of-options", "http"])
        .arg(format!("{url}/"))
        .stdin(std::process::Stdio::null())
        .stderr(std::process::Stdio::null());
    // git must see the same HOME / config as gocred was given (tests pass their own).
    for var in [
        "HOME",
        "GIT_CONFIG_GLOBAL",
        "GIT_CONFIG_NOSYSTEM",
        "XDG_CONFIG_HOME",
    ] {
        match env(var) {
            Some(v) => cmd.env(var, v),
            None => cmd.env_remove(var),
        };
    }
    let Ok(output) = cmd.output() else {
        return GitHttpConfig::default();
    };
    parse_git_config_z(&output.stdout)
}

fn parse_git_config_z(bytes: &[u8]) -> GitHttpConfig {
    let mut config = GitHttpConfig::default();
    for item in bytes.split(|&b| b == 0) {
        let text = String::from_utf8_lossy(item);
        let (key, value) = text.split_once('\n').unwrap_or((&text, ""));
        match key.to_ascii_lowercase().as_str() {
            "http.proxy" => config.proxy = Some(value.to_owned()),
            "http.sslcainfo" => config.ca_info = Some(value.to_owned()),
            _ => {}
        }
    }
    config
}

/// `no_proxy` as curl reads it: `*`, or comma/space separated host names and domain suffixes
/// (a leading dot optional); IP addresses compare exactly.
fn no_proxy_matches(list: &str, host: &str) -> bool {
    list.split([',', ' '])
        .map(|e| e.trim().trim_start_matches('.').to_ascii_lowercase())
        .filter(|e| !e.is_empty())
        .any(|entry| {
            let entry = entry.trim_start_matches('[').trim_end_matches(']');
            entry == "*"
                || host == entry
                || host
                    .strip_suffix(entry)
                    .is_some_and(|head| head.ends_with('.'))
        })
}

fn expand_home(path: &str, env: Env<'_>) -> PathBuf {
    match (path.strip_prefix("~/"), env("HOME")) {
        (Some(rest), Some(home)) if !home.is_empty() => PathBuf::from(home).join(rest),
        _ => PathBuf::from(path),
    }
}

/// `http://user:password@proxy:3128` → `http://user:***@proxy:3128`.
fn redact_proxy(proxy: &str) -> String {
    let Some((scheme, rest)) = proxy.split_once("://") else {
        return proxy.to_owned();
    };
    match rest.rsplit_once('@') {
        Some((user, host)) => {
            let user = user.split(':').next().unwrap_or_default();
            format!("{scheme}://{user}:***@{host}")
        }
        None => proxy.to_owned(),
    }
}

/// Every certificate in a PEM file.
fn read_pem(path: &std::path::Path) -> Result<Vec<ureq::tls::Certificate<'static>>, String> {
    let bytes = std::fs::read(path).map_err(|e| e.to_string())?;
    let mut certs = Vec::new();
    for item in ureq::tls::parse_pem(&bytes) {
        if let ureq::tls::PemItem::Certificate(c) = item.map_err(|e| e.to_string())? {
            certs.push(c);
        }
    }
    if certs.is_empty() {
        return Err("no PEM certificate in it".into());
    }
    Ok(certs)
}

#[cfg(test)]
mod tests;
