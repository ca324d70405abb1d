//! The network layer, once for go and once for git: they read different settings.
//!
//! - **Proxy.** go (`net/http`'s `ProxyFromEnvironment`): `HTTPS_PROXY`, else `https_proxy`;
//!   `NO_PROXY`, else `no_proxy`, exempts a host; `ALL_PROXY` is not read. git (libcurl):
//!   `http.<url>.proxy` / `http.proxy` (an empty value: no proxy), else `https_proxy`,
//!   `HTTPS_PROXY`, `all_proxy`, `ALL_PROXY`; `no_proxy` / `NO_PROXY` exempts a host. A proxy
//!   that accepts no connection is dead ("unset it or fix it"); one that refuses the `CONNECT`
//!   (an egress proxy's 403) must be bypassed for the host.
//! - **Trust.** go: `SSL_CERT_FILE` (else the system bundle) plus `SSL_CERT_DIR` (else the
//!   system directories), as Go 1.27 reads them on Linux. git: `GIT_SSL_CAINFO`, else
//!   `http.<url>.sslCAInfo`, besides its TLS library's default bundle; it does not read
//!   `SSL_CERT_FILE`. The server's chain is probed once per route and judged against each
//!   client's roots, so "trusted by git only" is a failure for go, and the reverse.
//!
//! The module's host is checked for both (go asks it `?go-get=1`, git clones from it); a
//! company module proxy in `GOPROXY` for go alone. The public proxy is routing's business.

use super::routing::GoEnv;
use super::{Inputs, Layer, Report, Subject, ms, sh_quote};
use crate::net::probe;
use std::path::{Path, PathBuf};
use std::time::Instant;

const L: Layer = Layer::Network;

/// Where a proxy setting comes from.
#[derive(Debug, Clone, PartialEq, Eq)]
enum From {
    /// Environment variables holding this same value (the one read first, first).
    Env(Vec<&'static str>),
    /// git's `http.proxy` (or `http.<url>.proxy`).
    Git,
}

#[derive(Debug, Clone, PartialEq, Eq)]
struct ProxyUse {
    url: String,
    from: From,
}

impl ProxyUse {
    fn shown(&self) -> String {
        let value = crate::redact::shown(&self.url).to_string();
        match &self.from {
            From::Env(vars) => format!("{}={value}", vars[0]),
            From::Git => format!("git's http.proxy {value}"),
        }
    }

    /// `host`, `port` of the proxy.
    fn address(&self) -> (String, u16) {
        let rest = self
            .url
            .split_once("://")
            .map_or(self.url.as_str(), |(_, r)| r);
        let hostport = rest
            .rsplit('@')
            .next()
            .unwrap_or_default()
            .split('/')
            .next()
            .unwrap_or_default();
        if let Some(v6) = hostport.strip_prefix('[') {
            let (h, p) = v6.split_once(']').unwrap_or((v6, ""));
            return (
                h.to_owned(),
                p.trim_start_matches(':').parse().unwrap_or(80),
            );
        }
        match hostport.rsplit_once(':') {
            Some((h, p)) => (h.to_owned(), p.parse().unwrap_or(80)),
            None => (hostport.to_owned(), 80),
        }
    }
}

/// The first of `vars` that is set, with every other of them holding the same value.
fn env_proxy(inputs: &Inputs<'_>, vars: &[&'static str]) -> Option<ProxyUse> {
    let (first, url) = vars.iter().find_map(|v| inputs.var(v).map(|u| (*v, u)))?;
    let same: Vec<&'static str> = std::iter::once(first)
        .chain(
            vars.iter()
                .copied()
                .filter(|v| *v != first && inputs.var(v).as_deref() == Some(url.as_str())),
        )
        .collect();
    Some(ProxyUse {
        url,
        from: From::Env(same),
    })
}

/// The proxy go uses for `host`.
fn go_proxy(inputs: &Inputs<'_>, host: &str) -> Option<ProxyUse> {
    let exempt = inputs
        .var("NO_PROXY")
        .or_else(|| inputs.var("no_proxy"))
        .is_some_and(|list| probe::no_proxy(&list, host));
    if exempt {
        return None;
    }
    env_proxy(inputs, &["HTTPS_PROXY", "https_proxy"])
}

/// The proxy git uses for `origin`.
fn git_proxy(inputs: &Inputs<'_>, origin: &str, host: &str) -> Option<ProxyUse> {
    let exempt = inputs
        .var("no_proxy")
        .or_else(|| inputs.var("NO_PROXY"))
        .is_some_and(|list| probe::no_proxy(&list, host));
    let (configured, _) = probe::git_http(origin, inputs.env);
    match configured {
        _ if exempt => None,
        Some(p) if p.is_empty() => None,
        Some(p) => Some(ProxyUse {
            url: p,
            from: From::Git,
        }),
        None => env_proxy(
            inputs,
            &["https_proxy", "HTTPS_PROXY", "all_proxy", "ALL_PROXY"],
        ),
    }
}

/// Every certificate (DER) of the PEM files named, and of every file in the directories.
fn roots_from(files: &[PathBuf], dirs: &[PathBuf]) -> Vec<Vec<u8>> {
    let mut roots = Vec::new();
    for f in files {
        roots.extend(probe::pem_file(f).unwrap_or_default());
    }
    for d in dirs {
        let Ok(entries) = std::fs::read_dir(d) else {
            continue;
        };
        for e in entries.flatten() {
            let p = e.path();
            if p.is_file() {
                roots.extend(probe::pem_file(&p).unwrap_or_default());
            }
        }
    }
    roots
}

/// The bundle files go (and the system) try, first existing one used.
const SYSTEM_FILES: &[&str] = &[
    "/etc/ssl/certs/ca-certificates.crt",
    "/etc/pki/tls/certs/ca-bundle.crt",
    "/etc/ssl/ca-bundle.pem",
    "/etc/pki/tls/cacert.pem",
    "/etc/pki/ca-trust/extracted/pem/tls-ca-bundle.pem",
    "/etc/ssl/cert.pem",
];

fn system_file() -> Vec<PathBuf> {
    SYSTEM_FILES
        .iter()
        .map(PathBuf::from)
        .find(|p| p.is_file())
        .into_iter()
        .collect()
}

/// go's roots and how to say where they come from.
fn go_trust(inputs: &Inputs<'_>) -> (Vec<Vec<u8>>, String) {
    let file = inputs.var("SSL_CERT_FILE");
    let dirs = inputs.var("SSL_CERT_DIR");
    let files = match &file {
        Some(f) => vec![PathBuf::from(f)],
        None => system_file(),
    };
    let dir_list: Vec<PathBuf> = match &dirs {
        Some(d) => d
            .split(':')
            .filter(|s| !s.is_empty())
            .map(PathBuf::from)
            .collect(),
        None => vec!["/etc/ssl/certs".into(), "/etc/pki/tls/certs".into()],
    };
    let said = match (&file, &dirs) {
        (None, None) => "the system pool".to_owned(),
        (Some(f), None) => format!("SSL_CERT_FILE={f} and the system directories"),
        (None, Some(d)) => format!("the system bundle and SSL_CERT_DIR={d}"),
        (Some(f), Some(d)) => format!("SSL_CERT_FILE={f} and SSL_CERT_DIR={d}"),
    };
    (roots_from(&files, &dir_list), said)
}

/// git's CA file for `origin`: (`GIT_SSL_CAINFO`, `http.sslCAInfo`).
fn git_ca(inputs: &Inputs<'_>, origin: &str) -> (Option<String>, Option<String>) {
    let (_, configured) = probe::git_http(origin, inputs.env);
    let home = inputs.var("HOME");
    let expand = |p: String| match (p.strip_prefix("~/"), &home) {
        (Some(rest), Some(h)) => format!("{h}/{rest}"),
        _ => p,
    };
    (
        inputs.var("GIT_SSL_CAINFO").map(expand),
        configured.filter(|p| !p.is_empty()).map(expand),
    )
}

fn git_trust(ca: &(Option<String>, Option<String>)) -> (Vec<Vec<u8>>, String) {
    let mut roots = roots_from(&system_file(), &[]);
    let said = match ca {
        (Some(env), _) => {
            roots.extend(probe::pem_file(Path::new(env)).unwrap_or_default());
            format!("GIT_SSL_CAINFO={env} (it overrides http.sslCAInfo) and the system bundle")
        }
        (None, Some(file)) => {
            roots.extend(probe::pem_file(Path::new(file)).unwrap_or_default());
            format!("http.sslCAInfo={file} and the system bundle")
        }
        (None, None) => {
            "the system bundle (no http.sslCAInfo; git does not read SSL_CERT_FILE)".to_owned()
        }
    };
    (roots, said)
}

/// A PEM file that makes `chain` valid for `host`, when one of `candidates` does.
fn working_ca(chain: &[Vec<u8>], host: &str, candidates: &[Option<String>]) -> Option<String> {
    candidates.iter().flatten().find_map(|f| {
        let roots = probe::pem_file(Path::new(f)).ok()?;
        probe::verify(chain, host, &roots)
            .is_ok()
            .then(|| f.clone())
    })
}

/// How one route to `host:port` went: the chain, or the failed check.
enum Reach {
    Chain(Vec<Vec<u8>>),
    Failed,
}

/// Proxy, DNS, TCP, tunnel and handshake for one client; each a check under `who`.
fn reach(
    report: &mut Report,
    inputs: &Inputs<'_>,
    who: &str,
    proxy: Option<&ProxyUse>,
    host: &str,
    port: u16,
    bypass_fix: impl Fn(&ProxyUse) -> String,
) -> Reach {
    let timeout = inputs.timeout;
    let id = |what: &str| format!("network.{who}.{what}");
    let (dial_host, dial_port) = match proxy {
        Some(p) => p.address(),
        None => (host.to_owned(), port),
    };
    let addrs = match probe::resolve(&dial_host, dial_port, timeout) {
        Ok(a) => a,
        Err(e) => {
            match proxy {
                Some(p) => report.fail(
                    L,
                    id("proxy"),
                    format!(
                        "{who} uses the proxy {}, whose host {dial_host} does not resolve ({e}): the proxy is dead",
                        p.shown()
                    ),
                    bypass_fix(p),
                ),
                None => report.fail_unknown(
                    L,
                    id("dns"),
                    format!(
                        "{host} does not resolve ({e}): a typo in the module path, or a host only the company network or VPN knows"
                    ),
                ),
            }
            return Reach::Failed;
        }
    };
    let start = Instant::now();
    let mut stream = match probe::connect(&addrs, timeout) {
        Ok((s, _)) => s,
        Err(e) => {
            match proxy {
                Some(p) => report.fail(
                    L,
                    id("proxy"),
                    format!(
                        "{who} uses the proxy {}, and nothing answers at {dial_host}:{dial_port} ({e}): the proxy is dead",
                        p.shown()
                    ),
                    bypass_fix(p),
                ),
                None => report.fail_unknown(
                    L,
                    id("tcp"),
                    format!(
                        "cannot connect to {host}:{port} ({e}): the server is down, the port is wrong, or only a proxy gets there"
                    ),
                ),
            }
            return Reach::Failed;
        }
    };
    let connected = ms(start.elapsed());
    if let Some(p) = proxy {
        if let Err(e) = probe::connect_tunnel(&mut stream, host, port) {
            let refused = e.starts_with("CONNECT refused");
            let detail = format!(
                "{who} uses the proxy {}, which does not let it through to {host}:{port} ({e}){}",
                p.shown(),
                if refused {
                    ": an egress proxy for the internet; the company host must bypass it"
                } else {
                    ""
                }
            );
            if refused {
                report.fail(L, id("proxy"), detail, bypass_fix(p));
            } else {
                report.fail_unknown(L, id("proxy"), detail);
            }
            return Reach::Failed;
        }
        report.pass(
            L,
            id("proxy"),
            format!("{who} goes through {} to {host}:{port}", p.shown()),
        );
    } else {
        report.pass(
            L,
            id("proxy"),
            format!("{who} connects to {host}:{port} directly, in {connected}"),
        );
    }
    match probe::handshake(&mut stream, host) {
        Ok(chain) => Reach::Chain(chain),
        Err(e) => {
            report.fail_unknown(
                L,
                id("tls"),
                format!(
                    "the TLS handshake with {host}:{port} failed: {e} (GOCRED_HTTP_TIMEOUT=SECONDS waits longer)"
                ),
            );
            Reach::Failed
        }
    }
}

/// The fix that takes go past a proxy for `host`.
fn go_bypass(inputs: &Inputs<'_>, host: &str, p: &ProxyUse, dead: bool) -> String {
    let From::Env(vars) = &p.from else {
        return String::new();
    };
    if dead {
        // Every variable go would fall back to with the same dead value goes too.
        return format!(
            "`unset {}` (or point it at a live proxy)",
            vars.iter()
                .filter(|v| matches!(**v, "HTTPS_PROXY" | "https_proxy"))
                .copied()
                .collect::<Vec<_>>()
                .join(" ")
        );
    }
    no_proxy_fix(inputs, host)
}

/// `export NO_PROXY=... no_proxy=...` with `host` added to each (go reads the first, curl the
/// second first).
fn no_proxy_fix(inputs: &Inputs<'_>, host: &str) -> String {
    let add = |v: &str| match inputs.var(v) {
        Some(list) => format!("{list},{host}"),
        None => host.to_owned(),
    };
    format!(
        "`export NO_PROXY={} no_proxy={}` (the host must bypass the proxy)",
        sh_quote(&add("NO_PROXY")),
        sh_quote(&add("no_proxy"))
    )
}

fn git_bypass(inputs: &Inputs<'_>, origin: &str, host: &str, p: &ProxyUse, dead: bool) -> String {
    match &p.from {
        From::Git => format!(
            "`git config --global http.{origin}/.proxy \"\"` (git then connects directly{})",
            if dead {
                "; or fix the proxy setting"
            } else {
                ""
            }
        ),
        From::Env(vars) if dead => {
            format!("`unset {}` (or point it at a live proxy)", vars.join(" "))
        }
        From::Env(_) => no_proxy_fix(inputs, host),
    }
}

/// Whether the proxy at `p` is dead (accepts no connection).
fn dead(p: &ProxyUse, inputs: &Inputs<'_>) -> bool {
    let (h, port) = p.address();
    probe::resolve(&h, port, inputs.timeout)
        .and_then(|a| probe::connect(&a, inputs.timeout))
        .is_err()
}

/// Layer 1. Returns whether git (and gocred, which trusts what git trusts) can reach the
/// module's host.
pub fn check(report: &mut Report, subject: &Subject, inputs: &Inputs<'_>, go: &GoEnv) -> bool {
    let target = &subject.target;
    let host = target.host.clone();
    let port = target.port.unwrap_or(443);
    let origin = target.origin();

    // go, to the module's host.
    let gp = go_proxy(inputs, &host);
    let (go_roots, go_said) = go_trust(inputs);
    let ca = git_ca(inputs, &origin);
    let go_chain = match reach(report, inputs, "go", gp.as_ref(), &host, port, |p| {
        go_bypass(inputs, &host, p, dead(p, inputs))
    }) {
        Reach::Chain(c) => Some(c),
        Reach::Failed => None,
    };
    if let Some(chain) = &go_chain {
        let issuer = issuer_of(chain);
        match verify(chain, &host, &go_roots) {
            Ok(()) => report.pass(
                L,
                "network.go.trust",
                format!("go trusts {host}'s certificate (issued by {issuer}) through {go_said}"),
            ),
            Err(e) => {
                let detail = format!(
                    "go does not trust {host}'s certificate, issued by {issuer} (a company CA or TLS re-signing proxy): go reads {go_said} ({e})"
                );
                match working_ca(chain, &host, &[ca.0.clone(), ca.1.clone()]) {
                    Some(file) => report.fail(
                        L,
                        "network.go.trust",
                        format!("{detail}; git trusts it through {file}"),
                        format!("`export SSL_CERT_FILE={}`", sh_quote(&file)),
                    ),
                    None => report.fail(
                        L,
                        "network.go.trust",
                        detail,
                        format!(
                            "get the CA certificate (PEM) of {issuer} from your IT, then `export SSL_CERT_FILE=/path/to/ca.pem`"
                        ),
                    ),
                }
            }
        }
    }

    // git, to the module's host (go clones with git when it fetches direct).
    let gitp = git_proxy(inputs, &origin, &host);
    let same_route = gp == gitp && go_chain.is_some();
    let git_chain = if same_route {
        report.pass(
            L,
            "network.git.proxy",
            match &gitp {
                Some(p) => format!("git goes through {} as go does", p.shown()),
                None => format!("git connects to {host}:{port} directly, as go does"),
            },
        );
        go_chain.clone()
    } else {
        match reach(report, inputs, "git", gitp.as_ref(), &host, port, |p| {
            git_bypass(inputs, &origin, &host, p, dead(p, inputs))
        }) {
            Reach::Chain(c) => Some(c),
            Reach::Failed => None,
        }
    };
    let Some(chain) = git_chain else {
        return false;
    };
    let (git_roots, git_said) = git_trust(&ca);
    let issuer = issuer_of(&chain);
    let git_ok = match verify(&chain, &host, &git_roots) {
        Ok(()) => {
            report.pass(
                L,
                "network.git.trust",
                format!("git trusts {host}'s certificate (issued by {issuer}) through {git_said}"),
            );
            true
        }
        Err(e) => {
            let detail = format!(
                "git does not trust {host}'s certificate, issued by {issuer} (a company CA or TLS re-signing proxy): git reads {git_said} ({e})"
            );
            let go_file = inputs.var("SSL_CERT_FILE");
            let config_works = working_ca(&chain, &host, std::slice::from_ref(&ca.1));
            let fix = match (&ca.0, config_works, working_ca(&chain, &host, &[go_file])) {
                (Some(_), Some(_), _) => "`unset GIT_SSL_CAINFO`".to_owned(),
                (Some(_), None, Some(file)) => {
                    format!("`export GIT_SSL_CAINFO={}`", sh_quote(&file))
                }
                (None, _, Some(file)) => format!(
                    "`git config --global http.{origin}/.sslCAInfo {}`",
                    sh_quote(&file)
                ),
                _ => format!(
                    "get the CA certificate (PEM) of {issuer} from your IT, then `git config --global http.{origin}/.sslCAInfo /path/to/ca.pem`"
                ),
            };
            report.fail(L, "network.git.trust", detail, fix);
            false
        }
    };

    // go, to each company module proxy it uses for the module.
    for proxy_url in go.proxies(&subject.module) {
        let Ok(t) = crate::policy::normalize(crate::policy::Input::Url(&proxy_url)) else {
            continue;
        };
        if t.scheme != "https" || t.host == "proxy.golang.org" {
            continue; // routing says what is wrong with these
        }
        let phost = t.host.clone();
        let pport = t.port.unwrap_or(443);
        let gp = go_proxy(inputs, &phost);
        if gp.is_none() {
            // A GOPROXY hop nothing answers at: go stops there (after `,`; `|` goes on).
            let reached = probe::resolve(&phost, pport, inputs.timeout)
                .and_then(|a| probe::connect(&a, inputs.timeout));
            if let Err(e) = reached {
                let rest = without_hop(go.get("GOPROXY"), &proxy_url);
                report.fail(
                    L,
                    "network.go.goproxy",
                    format!(
                        "GOPROXY={} names {proxy_url}, and nothing answers there ({e}): the hop is dead",
                        go.get("GOPROXY")
                    ),
                    format!(
                        "`{}` (or fix the hop's address)",
                        if rest.is_empty() {
                            go.unset("GOPROXY")
                        } else {
                            go.set("GOPROXY", &rest)
                        }
                    ),
                );
                continue;
            }
        }
        if let Reach::Chain(chain) = reach(report, inputs, "go", gp.as_ref(), &phost, pport, |p| {
            go_bypass(inputs, &phost, p, dead(p, inputs))
        }) {
            let issuer = issuer_of(&chain);
            match verify(&chain, &phost, &go_roots) {
                Ok(()) => report.pass(
                    L,
                    "network.go.trust",
                    format!("go trusts the module proxy {phost} (issued by {issuer})"),
                ),
                Err(e) => report.fail(
                    L,
                    "network.go.trust",
                    format!(
                        "go does not trust the module proxy {phost}'s certificate, issued by {issuer}: go reads {go_said} ({e})"
                    ),
                    match working_ca(&chain, &phost, &[ca.0.clone(), ca.1.clone()]) {
                        Some(file) => format!("`export SSL_CERT_FILE={}`", sh_quote(&file)),
                        None => format!(
                            "get the CA certificate (PEM) of {issuer} from your IT, then `export SSL_CERT_FILE=/path/to/ca.pem`"
                        ),
                    },
                ),
            }
        }
    }
    git_ok
}

/// `list` (GOPROXY: hops separated by `,` or `|`) without `hop` and the separator after it.
fn without_hop(list: &str, hop: &str) -> String {
    let mut out = String::new();
    let mut rest = list;
    loop {
        let (item, sep, next) = match rest.find([',', '|']) {
            Some(i) => (&rest[..i], &rest[i..=i], &rest[i + 1..]),
            None => (rest, "", ""),
        };
        if item.trim() != hop {
            out += item;
            out += sep;
        }
        if next.is_empty() && sep.is_empty() {
            break;
        }
        rest = next;
    }
    out.trim_end_matches([',', '|']).to_owned()
}

/// [`probe::verify`], in words about the client judged, not about gocred.
fn verify(chain: &[Vec<u8>], host: &str, roots: &[Vec<u8>]) -> Result<(), String> {
    probe::verify(chain, host, roots)
        .map_err(|e| e.replace("a CA gocred does not trust", "a CA these roots do not hold"))
}

fn issuer_of(chain: &[Vec<u8>]) -> String {
    chain
        .first()
        .and_then(|c| probe::issuer(c))
        .unwrap_or_else(|| "an unreadable issuer".into())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_dead_goproxy_hop_is_dropped_with_its_separator() {
        let list = "https://a.example,https://b.example|direct";
        assert_eq!(
            without_hop(list, "https://a.example"),
            "https://b.example|direct"
        );
        assert_eq!(
            without_hop(list, "https://b.example"),
            "https://a.example,direct"
        );
        assert_eq!(without_hop("https://a.example", "https://a.example"), "");
    }

    #[test]
    fn a_proxy_address_is_read_as_curl_and_go_read_it() {
        let p = |url: &str| {
            ProxyUse {
                url: url.into(),
                from: From::Git,
            }
            .address()
        };
        assert_eq!(
            p("http://user:pw@proxy.example:3128"),
            ("proxy.example".into(), 3128)
        );
        assert_eq!(p("proxy.example"), ("proxy.example".into(), 80));
        assert_eq!(p("http://[::1]:8080/"), ("::1".into(), 8080));
        // The password never reaches a message.
        let shown = ProxyUse {
            url: "http://user:s3cret-FAKE@proxy.example:3128".into(),
            from: From::Env(vec!["HTTPS_PROXY"]),
        }
        .shown();
        assert!(!shown.contains("s3cret-FAKE"), "{shown}");
        assert!(shown.starts_with("HTTPS_PROXY="), "{shown}");
    }
}
