//! `gocred doctor MODULE|URL [--json]`: why `go get` of a private module fails, in three layers,
//! each check a line with ✓ or ✗ and, for every ✗, the fix:
//!
//! 1. network: proxy (variables and git's `http.proxy`), DNS, TCP, the TLS handshake and the
//!    issuer of the certificate the server shows, and whether git trusts it (`http.sslCAInfo`);
//! 2. Go routing, from `go env -json`: proxy or direct, the public checksum database (a leak of the
//!    module's name), GOINSECURE, GOAUTH;
//! 3. auth: the rule that matches, whether git asks gocred for the URL (git's own helper list,
//!    [`crate::gitconfig`]), the source that answers and its expiry, and one authenticated
//!    `GET <repo>/info/refs?service=git-upload-pack`, sent only to the host the rule matched.
//!
//! Every network step has a short timeout (3 s, or `GOCRED_HTTP_TIMEOUT`). The exit status is 0
//! when every check passed, 1 otherwise. Nothing printed holds a secret.

use super::CommandError;
use super::context::Context;
use crate::goenv::{self, GoEnv};
use crate::net::{Net, Options, probe};
use crate::policy::{Decision, Input, Policy, Rule, ScopeKey, SourceKind, Target, normalize};
use crate::source::Credential;
use crate::source::sources::Sources;
use crate::time::{format_utc, relative};
use std::io::Write;
use std::time::{Duration, Instant};

pub(super) const LONG_ABOUT: &str = "Check network, Go routing and auth for a private module, \
with the fix for each failure.

Three layers, each check a line with a check mark or a cross and, for every failure, the fix. network: the proxy \
(variables and git's `http.proxy`), DNS, TCP, the TLS handshake, the certificate's issuer and \
whether git trusts it (`http.sslCAInfo`). go: from `go env -json`, proxy or direct, the public \
checksum database (a leak of the module's name), GOINSECURE, GOAUTH. auth: the rule that \
matches; `git`, whether git asks gocred for the module's URL (the helpers git runs, in git's \
order, from `credential.helper` and `credential.<url>.helper`; gocred found in git's exec-path \
or on PATH, or at the absolute path the config names; no other helper before it; \
`useHttpPath` where the rule has a path), as `gocred status` says it; the source that answers \
and its expiry; and one authenticated `GET <repo>/info/refs?service=git-upload-pack`, sent \
only to the host the rule matched. Every network step has a short timeout (3 s, or \
`GOCRED_HTTP_TIMEOUT`). Exit status 0 when every check passed, 1 otherwise.

JSON OUTPUT (--json): an object with `schema` (1; a new number only when a field changes \
meaning or goes away), `url` (the repository URL checked), `module`, `ok` (every check passed) \
and `checks`, in order, each with `layer` (network, go or auth), `check` (proxy, dns, tcp, \
tunnel, tls, trust, url, go env, routing, checksum, insecure, goauth, rule, git, credential, \
server), `ok`, `detail` and `fix` (null when ok).";

#[derive(Debug, clap::Args)]
pub struct DoctorArgs {
    /// A module path (git.corp.example/group/mod) or a repository URL
    #[arg(value_name = "MODULE|URL", allow_hyphen_values = true)]
    pub target: String,
    /// Print the checks as JSON
    #[arg(long)]
    pub json: bool,
}

#[derive(Debug)]
struct Check {
    layer: &'static str,
    name: &'static str,
    ok: bool,
    detail: String,
    fix: Option<String>,
}

#[derive(Default)]
struct Report {
    checks: Vec<Check>,
}

impl Report {
    fn pass(&mut self, layer: &'static str, name: &'static str, detail: impl Into<String>) {
        self.checks.push(Check {
            layer,
            name,
            ok: true,
            detail: detail.into(),
            fix: None,
        });
    }

    fn fail(
        &mut self,
        layer: &'static str,
        name: &'static str,
        detail: impl Into<String>,
        fix: impl Into<String>,
    ) {
        self.checks.push(Check {
            layer,
            name,
            ok: false,
            detail: detail.into(),
            fix: Some(fix.into()),
        });
    }
}

/// The repository URL and the module path for a `MODULE|URL` argument, through the one
/// normalization of a target. A path that could reach somewhere else than it seems
/// (`..`, `%2e%2e`, `%2F`, ...) is refused: doctor would probe one place and report on another.
fn parse_target(arg: &str) -> Result<(String, String, Target), CommandError> {
    let bad = |why: &dyn std::fmt::Display| {
        CommandError::user(format!(
            "{arg}: {why}; expected a module path (git.corp.example/group/mod) or an https:// URL"
        ))
    };
    let mut target = normalize(Input::Url(arg)).map_err(|e| bad(&e))?;
    if let Some(repo) = target.path.as_deref().and_then(|p| p.strip_suffix(".git")) {
        let repo = repo.to_owned();
        target = normalize(Input::Attributes {
            protocol: &target.scheme,
            host: &target.host_port(),
            path: Some(&repo),
        })
        .map_err(|e| bad(&e))?;
    }
    if target.scheme != "https" {
        return Err(bad(&"not https"));
    }
    if !target.path_is_clean {
        return Err(bad(
            &"its path has an empty, '.' or '..' segment, or a '?', '#', '%', ';' or '\\' once decoded",
        ));
    }
    let module = match &target.path {
        Some(p) => format!("{}/{p}", target.host_port()),
        None => target.host_port(),
    };
    Ok((target.url(), module, target))
}

pub fn cmd_doctor(ctx: &mut Context, args: DoctorArgs) -> Result<(), CommandError> {
    let (url, module, target) = parse_target(&args.target)?;
    let timeout = (ctx.env)("GOCRED_HTTP_TIMEOUT")
        .and_then(|v| v.trim().parse::<f64>().ok())
        .filter(|s| s.is_finite() && *s > 0.0)
        .map_or(Duration::from_secs(3), Duration::from_secs_f64);
    let options = Options {
        allow_http: false,
        connect_timeout: timeout,
        timeout,
    };
    let mut report = Report::default();
    let policy = ctx.load_policy();
    let network_ok = {
        let env = &*ctx.env;
        let net = Net::new(options, env);
        network(&mut report, &net, &url, &target, timeout)
    };
    go_routing(&mut report, &module, &target);
    match &policy {
        Ok(policy) => auth(&mut report, ctx, policy, options, &url, &target, network_ok),
        Err(e) => report.fail(
            "auth",
            "rule",
            format!("the policy cannot be read: {}", e.message),
            "fix the config (`gocred config check` shows where)",
        ),
    }
    let all_ok = report.checks.iter().all(|c| c.ok);
    let text = if args.json {
        json(&report, &url, &module, all_ok)
    } else {
        human(&report, &url)
    };
    ctx.stdout
        .write_all(text.as_bytes())
        .and_then(|()| ctx.stdout.flush())
        .map_err(|e| CommandError::user(format!("cannot write to stdout: {e}")))?;
    if all_ok {
        Ok(())
    } else {
        let failed = report.checks.iter().filter(|c| !c.ok).count();
        Err(CommandError::user(format!(
            "{failed} check{} failed for {module}",
            if failed == 1 { "" } else { "s" }
        )))
    }
}

fn human(report: &Report, url: &str) -> String {
    let mut out = format!("gocred doctor {url}\n");
    let mut layer = "";
    for c in &report.checks {
        if c.layer != layer {
            layer = c.layer;
            out += &format!("\n{layer}\n");
        }
        out += &format!(
            "  {} {}: {}\n",
            if c.ok { "✓" } else { "✗" },
            c.name,
            c.detail
        );
        if let Some(fix) = &c.fix {
            out += &format!("      fix: {fix}\n");
        }
    }
    out
}

fn json(report: &Report, url: &str, module: &str, ok: bool) -> String {
    let checks: Vec<serde_json::Value> = report
        .checks
        .iter()
        .map(|c| {
            serde_json::json!({
                "layer": c.layer,
                "check": c.name,
                "ok": c.ok,
                "detail": c.detail,
                "fix": c.fix,
            })
        })
        .collect();
    let v =
        serde_json::json!({"schema": 1, "url": url, "module": module, "ok": ok, "checks": checks});
    format!("{v:#}\n")
}

fn ms(d: Duration) -> String {
    format!("{} ms", d.as_millis())
}

/// Layer 1. Returns whether the server can be reached and trusted.
fn network(report: &mut Report, net: &Net, url: &str, target: &Target, timeout: Duration) -> bool {
    const L: &str = "network";
    let origin = target.origin();
    let route = match net.route(url) {
        Ok(r) => r,
        Err(e) => {
            report.fail(
                L,
                "url",
                e.to_string(),
                "give an https:// URL or a module path",
            );
            return false;
        }
    };
    let port = target.port.unwrap_or(443);
    let (dial_host, dial_port) = match &route.proxy {
        Some(proxy) => {
            report.pass(
                L,
                "proxy",
                format!("{proxy} (git's http.proxy for {origin}, else https_proxy / all_proxy; no_proxy does not exempt the host)"),
            );
            let hostport = proxy
                .split_once("://")
                .map_or(proxy.as_str(), |(_, r)| r)
                .rsplit('@')
                .next()
                .unwrap_or_default()
                .trim_end_matches('/');
            let (h, p) = hostport.rsplit_once(':').unwrap_or((hostport, "80"));
            (h.to_owned(), p.parse().unwrap_or(80))
        }
        None => {
            report.pass(
                L,
                "proxy",
                format!("none: a direct connection (no git http.proxy for {origin}, no https_proxy / all_proxy, or no_proxy exempts it)"),
            );
            (target.host.clone(), port)
        }
    };
    let what = if route.proxy.is_some() {
        "the proxy "
    } else {
        ""
    };
    let addrs = match probe::resolve(&dial_host, dial_port, timeout) {
        Ok(a) => {
            let shown: Vec<String> = a.iter().map(|a| a.ip().to_string()).collect();
            report.pass(
                L,
                "dns",
                format!("{what}{dial_host} → {}", shown.join(", ")),
            );
            a
        }
        Err(e) => {
            report.fail(
                L,
                "dns",
                format!("{what}{dial_host} does not resolve ({e})"),
                "check the host name (a typo in the module path?), your DNS or VPN; an internal host may need the company network",
            );
            return false;
        }
    };
    let start = Instant::now();
    let mut stream = match probe::connect(&addrs, timeout) {
        Ok((s, addr)) => {
            report.pass(
                L,
                "tcp",
                format!("connected to {what}{addr} in {}", ms(start.elapsed())),
            );
            s
        }
        Err(e) => {
            report.fail(
                L,
                "tcp",
                format!("cannot connect to {what}{dial_host}:{dial_port}: {e}"),
                "check that the server is up and the port is right; a firewall may need a proxy (git config http.proxy, https_proxy); GOCRED_HTTP_TIMEOUT=SECONDS waits longer",
            );
            return false;
        }
    };
    if route.proxy.is_some()
        && let Err(e) = probe::connect_tunnel(&mut stream, &target.host, port)
    {
        report.fail(
            L,
            "tunnel",
            format!("the proxy did not open a tunnel to {}:{port}: {e}", target.host),
            "check the proxy address and whether it needs credentials (http://user:password@proxy:port)",
        );
        return false;
    }
    let start = Instant::now();
    let chain = match probe::handshake(&mut stream, &target.host) {
        Ok(c) => c,
        Err(e) => {
            report.fail(
                L,
                "tls",
                format!("TLS handshake with {}:{port} failed: {e}", target.host),
                "check that the port serves HTTPS and the server is healthy; GOCRED_HTTP_TIMEOUT=SECONDS waits longer",
            );
            return false;
        }
    };
    let issuer = chain
        .first()
        .and_then(|c| probe::issuer(c))
        .unwrap_or_else(|| "an unreadable issuer".into());
    report.pass(
        L,
        "tls",
        format!(
            "handshake in {}; certificate issued by {issuer}",
            ms(start.elapsed())
        ),
    );
    let trust = match net.trust(url) {
        Ok(t) => t,
        Err(e) => {
            report.fail(L, "trust", e.to_string(), "fix the CA file git names");
            return false;
        }
    };
    let set_ca = format!(
        "get the CA certificate (PEM) of {issuer} from your IT, then `git config --global http.{origin}/.sslCAInfo /path/to/ca.pem` (go needs it too: SSL_CERT_FILE or the system store)"
    );
    let system = probe::verify(&chain, &target.host, &trust.system);
    if system.is_ok() {
        report.pass(
            L,
            "trust",
            format!("{issuer} is among the system roots; git and go trust it"),
        );
        return true;
    }
    match &trust.git_ca {
        Some((path, Ok(ca))) => {
            let mut roots = trust.system.clone();
            roots.extend(ca.iter().cloned());
            match probe::verify(&chain, &target.host, &roots) {
                Ok(()) => {
                    report.pass(
                        L,
                        "trust",
                        format!(
                            "{issuer} is not among the system roots: a company CA or TLS re-signing proxy, trusted through git's http.sslCAInfo ({})",
                            path.display()
                        ),
                    );
                    true
                }
                Err(e) => {
                    report.fail(
                        L,
                        "trust",
                        format!(
                            "{issuer} is neither among the system roots nor in git's http.sslCAInfo ({}): a company's TLS re-signing proxy or private CA that git does not trust ({e})",
                            path.display()
                        ),
                        set_ca,
                    );
                    false
                }
            }
        }
        Some((path, Err(e))) => {
            report.fail(
                L,
                "trust",
                format!(
                    "git's http.sslCAInfo names {}, which cannot be used ({e})",
                    path.display()
                ),
                set_ca,
            );
            false
        }
        None => {
            let why = system.err().unwrap_or_default();
            report.fail(
                L,
                "trust",
                format!(
                    "{issuer} is not among the system roots and git has no http.sslCAInfo for {origin}: a company's TLS re-signing proxy or private CA that git does not trust ({why})"
                ),
                set_ca,
            );
            false
        }
    }
}

/// Layer 2.
fn go_routing(report: &mut Report, module: &str, target: &Target) {
    const L: &str = "go";
    let env = match GoEnv::read_go(
        &|_| None,
        &[
            "GOPROXY",
            "GOPRIVATE",
            "GONOPROXY",
            "GONOSUMDB",
            "GOINSECURE",
            "GOAUTH",
            "GOSUMDB",
            "GOVERSION",
        ],
    ) {
        Ok(env) => env,
        Err(goenv::Error::NotJson(_)) => {
            report.fail(
                L,
                "go env",
                "`go env -json` printed no JSON",
                "check the go installation",
            );
            return;
        }
        Err(goenv::Error::Failed(_)) => {
            report.fail(
                L,
                "go env",
                "`go env -json` failed",
                "run `go env` to see why",
            );
            return;
        }
        Err(goenv::Error::Run(e)) => {
            report.fail(
                L,
                "go env",
                format!("cannot run go ({e})"),
                "install Go, or put it on PATH",
            );
            return;
        }
    };
    let get = |k: &str| env.get(k).to_owned();
    let routing = env.routing(module);
    let private = get("GOPRIVATE");
    let proxy = get("GOPROXY");
    let sumdb = get("GOSUMDB");
    let host_pattern = module.split('/').next().unwrap_or_default().to_owned();
    let add_private = if private.is_empty() {
        format!("`go env -w GOPRIVATE={host_pattern}` (or `gocred setup go --write`)")
    } else {
        format!("`go env -w GOPRIVATE={private},{host_pattern}` (or `gocred setup go --write`)")
    };
    let _ = target;
    // Proxy or direct.
    match routing.direct {
        Some(p) => report.pass(
            L,
            "routing",
            format!("{module} matches GONOPROXY/GOPRIVATE pattern {p}: fetched direct, with git (gocred as its helper)"),
        ),
        None => {
            let first = proxy
                .split([',', '|'])
                .next()
                .unwrap_or_default()
                .trim()
                .to_owned();
            match first.as_str() {
                "direct" => report.pass(L, "routing", "GOPROXY=direct: fetched direct, with git"),
                "off" | "" => report.fail(
                    L,
                    "routing",
                    format!("GOPROXY={proxy}: go will not fetch {module} at all"),
                    add_private.clone(),
                ),
                p if p.contains("proxy.golang.org") => report.fail(
                    L,
                    "routing",
                    format!("{module} goes to the public proxy {p}, which cannot fetch a private module and learns its name"),
                    add_private.clone(),
                ),
                p => report.pass(
                    L,
                    "routing",
                    format!("{module} goes through the module proxy {p} (credentials from GOAUTH or a netrc)"),
                ),
            }
        }
    }
    // The public checksum database.
    if sumdb == "off" {
        report.pass(L, "checksum", "GOSUMDB=off: no checksum lookup");
    } else {
        match routing.no_sumdb {
            Some(p) => report.pass(
                L,
                "checksum",
                format!("{module} matches GONOSUMDB/GOPRIVATE pattern {p}: its checksum is not looked up in {}", if sumdb.is_empty() { "sum.golang.org" } else { &sumdb }),
            ),
            None => report.fail(
                L,
                "checksum",
                format!(
                    "GOPRIVATE{} does not cover {module}: go will look its checksum up in the public sum database ({}), which leaks the module's name and fails",
                    if private.is_empty() { " is empty and" } else { "" },
                    if sumdb.is_empty() { "sum.golang.org" } else { &sumdb }
                ),
                add_private.clone(),
            ),
        }
    }
    match routing.insecure {
        Some(p) => report.fail(
            L,
            "insecure",
            format!("GOINSECURE pattern {p} lets go fetch {module} without TLS checks"),
            format!("remove {p} from GOINSECURE (`go env -w GOINSECURE=...` or `go env -u GOINSECURE`); trust the CA instead (SSL_CERT_FILE)"),
        ),
        None => report.pass(L, "insecure", "GOINSECURE does not cover it"),
    }
    let version = get("GOVERSION");
    let minor = version
        .strip_prefix("go1.")
        .and_then(|v| v.split(|c: char| !c.is_ascii_digit()).next())
        .and_then(|v| v.parse::<u32>().ok());
    let goauth = get("GOAUTH");
    if minor.is_some_and(|m| m < 24) {
        report.pass(
            L,
            "goauth",
            format!("{version} predates GOAUTH: run go through `gocred exec -- go mod download`"),
        );
    } else if goauth.contains("gocred goauth") {
        report.pass(L, "goauth", format!("GOAUTH={goauth}: go asks gocred"));
    } else {
        report.fail(
            L,
            "goauth",
            format!(
                "GOAUTH={goauth}: go's own HTTPS requests (?go-get=1, GOPROXY) do not ask gocred"
            ),
            "`go env -w GOAUTH='gocred goauth'` (or run go through `gocred exec -- go ...`)",
        );
    }
}

/// Layer 3.
fn auth(
    report: &mut Report,
    ctx: &Context,
    policy: &Policy,
    options: Options,
    url: &str,
    target: &Target,
    network_ok: bool,
) {
    const L: &str = "auth";
    let host = match target.port {
        Some(p) => format!("{}:{p}", target.host),
        None => target.host.clone(),
    };
    let Decision::Managed { rule, scope, .. } = policy.decide(target.clone()) else {
        if let Some(denied) = crate::policy::machine::denial(policy, target) {
            report.fail(L, "rule", denied, "ask the administrator of this machine");
            return;
        }
        report.fail(
            L,
            "rule",
            format!("no rule in {} serves {url}", policy.path.display()),
            format!(
                "`gocred login {host} --save` for OAuth, or add to the config:\n{}",
                crate::login::keychain_rule(&target.origin())
                    .lines()
                    .map(|l| format!("        {l}"))
                    .collect::<Vec<_>>()
                    .join("\n")
            ),
        );
        return;
    };
    let names: Vec<&str> = rule.sources.iter().map(|s| s.name()).collect();
    report.pass(
        L,
        "rule",
        format!(
            "{} (line {} of {}): sources {}{}",
            rule.url,
            rule.line,
            policy.file_of(rule).display(),
            names.join(", "),
            rule.store
                .map(|s| format!(", store {}", s.name()))
                .unwrap_or_default()
        ),
    );
    git_side(report, ctx, rule, target);
    let cred = match answer(ctx, policy, rule, &scope) {
        Ok(Some((source, cred))) => {
            let expiry = match cred.password_expiry_utc {
                Some(t) => format!("expires {} ({})", relative(t, ctx.now), format_utc(t)),
                None => "no expiry".into(),
            };
            report.pass(
                L,
                "credential",
                format!("from {source}: user {}, {expiry}", cred.username),
            );
            cred
        }
        Ok(None) => {
            let expired = ctx.sources(policy).expired_at(rule, &scope);
            let fix = if rule.oauth.is_some() {
                format!("`gocred login {host}`")
            } else {
                format!(
                    "create a new token and store it: `printf 'protocol=https\\nhost={host}\\nusername=USER\\npassword=TOKEN\\n' | gocred store` (or let git prompt once with gocred as its helper)"
                )
            };
            match expired {
                Some(t) => report.fail(
                    L,
                    "credential",
                    format!(
                        "the stored token expired {} ({})",
                        relative(t, ctx.now),
                        format_utc(t)
                    ),
                    fix,
                ),
                None => report.fail(
                    L,
                    "credential",
                    format!(
                        "no source ({}) has a credential for {scope}",
                        names.join(", ")
                    ),
                    fix,
                ),
            }
            return;
        }
        Err((kind, e)) => {
            let fix = match kind {
                SourceKind::Keychain => format!(
                    "make the keychain usable for gocred (`gocred status` names the backend: the \
                     Secret Service needs an unlocked default collection, keyutils a session \
                     keyring), or put another source before `keychain` in the rule at line {} of {}",
                    rule.line,
                    policy.file_of(rule).display()
                ),
                SourceKind::File => {
                    "repair the file store the message names (its owner, mode or content), \
                     or move it aside and store the token again"
                        .to_owned()
                }
                SourceKind::OAuth => format!(
                    "`gocred login {host}` for new tokens (or `gocred logout {host}` first if the stored ones are damaged)"
                ),
                SourceKind::Env => format!(
                    "set the variable the rule at line {} of {} names (token_env)",
                    rule.line,
                    policy.file_of(rule).display()
                ),
                SourceKind::Command => format!(
                    "run the `command` of the rule at line {} of {} by hand and make it print                      the token",
                    rule.line,
                    policy.path.display()
                ),
                SourceKind::Ci => "check the CI variables the message names (CI_SERVER_URL and                      CI_JOB_TOKEN, or GITHUB_SERVER_URL and GITHUB_TOKEN)"
                    .to_owned(),
                SourceKind::GitHubApp | SourceKind::Sts => format!(
                    "fix what the message names in [rule.{}] of the rule at line {} of {}",
                    if kind == SourceKind::Sts {
                        "sts"
                    } else {
                        "github_app"
                    },
                    rule.line,
                    policy.file_of(rule).display()
                ),
            };
            report.fail(
                L,
                "credential",
                format!("the {} source: {e}", kind.name()),
                fix,
            );
            return;
        }
    };
    if !network_ok {
        report.fail(
            L,
            "server",
            "not asked: the network checks above failed",
            "fix the network first",
        );
        return;
    }
    // Only to the host the rule matched: `url` is that host.
    let probe_url = format!("{url}/info/refs?service=git-upload-pack");
    let mut header = crate::secret::SecretBytes::default();
    header.0.extend_from_slice(b"Basic ");
    crate::goauth::basic_into(&cred, &mut header);
    let header = crate::secret::Secret::new(String::from_utf8_lossy(&header.0).into_owned());
    let net = Net::new(options, &*ctx.env);
    match net.get(&probe_url, &[("Authorization", header.expose())]) {
        Ok(r) if (200..300).contains(&r.status) => report.pass(
            L,
            "server",
            format!("GET {url}/info/refs: HTTP {}: the server accepts the credential", r.status),
        ),
        Ok(r) if r.status == 401 || r.status == 403 => report.fail(
            L,
            "server",
            format!("GET {url}/info/refs: HTTP {}: the server refuses the credential", r.status),
            "the token was revoked, expired or lacks read access (GitLab: read_repository; GitHub: repo/contents): create a new one and store it (`gocred erase` the old one)",
        ),
        Ok(r) if r.status == 404 => report.fail(
            L,
            "server",
            format!("GET {url}/info/refs: HTTP 404: no repository there"),
            "check the module path: the repository must be at https://<module path> (a module in a subdirectory needs the repository's path)",
        ),
        Ok(r) => report.fail(
            L,
            "server",
            format!("GET {url}/info/refs: HTTP {}", r.status),
            "check the server",
        ),
        Err(e) => report.fail(
            L,
            "server",
            format!("GET {url}/info/refs failed: {e}"),
            "fix the network first",
        ),
    }
}

/// Whether git asks gocred for this URL: its helper list as git resolves it, gocred found,
/// nothing before it, and the path sent where the rule has one.
fn git_side(report: &mut Report, ctx: &Context, rule: &Rule, target: &Target) {
    const L: &str = "auth";
    let config = match crate::gitconfig::read((ctx.env)("PATH").map(Into::into)) {
        Ok(c) => c,
        Err(e) => {
            report.fail(L, "git", e.to_string(), e.fix());
            return;
        }
    };
    let origin = crate::policy::rule_origin(rule);
    let prefix = crate::policy::rule_path_prefix(rule);
    let mut wanted = crate::status::wanted_for_rule(rule, &origin, prefix.as_deref());
    // The module's own URL: git's config may name a deeper path than the rule.
    wanted.url.host = target.host_port();
    wanted.url.path = target.path.clone();
    let side = crate::gitconfig::check(&config, &wanted);
    match side.problems.split_first() {
        None => {
            let first = side.helpers.iter().find(|h| h.gocred);
            let via = first
                .and_then(|h| match &h.program {
                    crate::gitconfig::Program::Found { path, .. } => {
                        Some(format!(" ({})", path.display()))
                    }
                    _ => None,
                })
                .unwrap_or_default();
            report.pass(
                L,
                "git",
                format!(
                    "git asks gocred{via} first for {}{}",
                    side.url,
                    if side.needs_path {
                        ", with the path (useHttpPath)"
                    } else {
                        ""
                    }
                ),
            );
        }
        Some((first, rest)) => {
            let mut detail = first.message.clone();
            let mut fix = first.fix.clone();
            for p in rest {
                detail += &format!("; and {}", p.message);
                if !fix.contains(p.fix.as_str()) {
                    fix += &format!("; and {}", p.fix);
                }
            }
            report.fail(L, "git", detail, fix);
        }
    }
}

/// The first source of `rule` that answers, and its name.
fn answer(
    ctx: &Context,
    policy: &Policy,
    rule: &Rule,
    scope: &ScopeKey,
) -> Result<Option<(&'static str, Credential)>, (SourceKind, String)> {
    // An OAuth source may refresh an expired token over the network: with doctor's short
    // timeout, unless the user set one.
    let env = |name: &str| match (ctx.env)(name) {
        None if name == "GOCRED_HTTP_TIMEOUT" => Some("3".to_owned()),
        v => v,
    };
    Sources::new(policy, &env, ctx.now)
        .resolve_for(rule, scope, None, None)
        .map(|found| found.map(|(kind, cred)| (kind.name(), cred)))
        .map_err(|e| (e.kind(), e.to_string()))
}
