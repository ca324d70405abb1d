//! What `gocred login` needs besides the OAuth client ([`crate::oauth`]) and the stores: the
//! rule to suggest for a host no rule serves ([`oauth_rule`], [`token_rule`]), the vendor a
//! host name says it runs, whether and how to open a browser, and the QR code of a URL.

use crate::policy::{OAuthProvider, Target};
use std::time::Duration;

pub struct Suggestion {
    pub text: String,
    /// Some value had to be left for the user to fill in.
    pub placeholders: bool,
}

/// The vendor a host name says it runs (github.com, github.*, gitlab.com, gitlab.*), if any.
pub fn guess_provider(host: &str) -> Option<OAuthProvider> {
    if host == "github.com" || host.starts_with("github.") {
        Some(OAuthProvider::GitHub)
    } else if host == "gitlab.com" || host.starts_with("gitlab.") {
        Some(OAuthProvider::GitLab)
    } else {
        None
    }
}

/// What `login --provider/--client-id/--issuer/--scope` said, for a rule it suggests.
#[derive(Debug, Clone, Copy, Default)]
pub struct Asked<'a> {
    pub provider: Option<&'a str>,
    pub client_id: Option<&'a str>,
    pub issuer: Option<&'a str>,
    pub scopes: &'a [String],
}

/// The URL of a rule for `target`: its origin, and its path as a prefix when it has one.
fn rule_url(target: &Target) -> String {
    let mut url = target.origin();
    if let Some(p) = target.path.as_deref().filter(|p| !p.is_empty()) {
        url = format!("{url}/{p}/");
    }
    url
}

/// The rule that would let `login` (the device flow) work for `target`, from what was `asked`
/// and the host name; what neither says is left in capitals for the user to fill in.
pub fn oauth_rule(target: &Target, asked: Asked<'_>) -> Suggestion {
    let host = &target.host;
    let provider = asked
        .provider
        .and_then(OAuthProvider::parse)
        .or_else(|| guess_provider(host));
    let mut placeholders = false;
    let mut fill = |v: Option<String>, placeholder: &str| {
        v.unwrap_or_else(|| {
            placeholders = true;
            placeholder.to_owned()
        })
    };
    let provider_name = fill(
        provider.map(|p| p.name().to_owned()),
        "gitlab OR github OR oidc",
    );
    let client_id = fill(asked.client_id.map(str::to_owned), "CLIENT-ID");
    let url = rule_url(target);
    let mut text = format!("[[rule]]\nurl = \"{url}\"\nsources = [\"oauth\"]\n");
    if target.scheme == "http" {
        text += "allow_http = true\n";
    }
    text +=
        &format!("\n[rule.oauth]\nprovider = \"{provider_name}\"\nclient_id = \"{client_id}\"\n");
    if provider == Some(OAuthProvider::Oidc) || asked.issuer.is_some() {
        let issuer = fill(asked.issuer.map(str::to_owned), "https://ISSUER");
        text += &format!("issuer = \"{issuer}\"\n");
    }
    if !asked.scopes.is_empty() {
        let quoted: Vec<String> = asked.scopes.iter().map(|s| format!("\"{s}\"")).collect();
        text += &format!("scopes = [{}]\n", quoted.join(", "));
    }
    Suggestion { text, placeholders }
}

/// A rule for `url` that reads the keychain and keeps what git stores there.
pub fn keychain_rule(url: &str) -> String {
    format!("[[rule]]\nurl = \"{url}\"\nsources = [\"keychain\"]\nstore = \"keychain\"\n")
}

/// The rule that lets `login --with-token` work for `target`: a keychain rule on the host
/// (with `user` as its fixed user name, when given).
pub fn token_rule(target: &Target, user: Option<&str>) -> Suggestion {
    let mut text = keychain_rule(&rule_url(target));
    if let Some(user) = user {
        text += &format!("username = \"{user}\"\n");
    }
    if target.scheme == "http" {
        text += "allow_http = true\n";
    }
    Suggestion {
        text,
        placeholders: false,
    }
}

/// Why no browser may be opened here, or `None` when one can.
/// `no_browser`: the user said `--no-browser`.
pub fn browser_blocker(
    no_browser: bool,
    env: &dyn Fn(&str) -> Option<String>,
) -> Option<&'static str> {
    let set = |name: &str| env(name).is_some_and(|v| !v.is_empty());
    if no_browser {
        return Some("--no-browser");
    }
    if set("SSH_CONNECTION") || set("SSH_TTY") || set("SSH_CLIENT") {
        return Some("this is an SSH session");
    }
    if cfg!(any(target_os = "macos", target_os = "windows")) {
        return None;
    }
    if !set("DISPLAY") && !set("WAYLAND_DISPLAY") {
        return Some("no display");
    }
    None
}

pub enum Opened {
    /// The opener ran and said it worked.
    Yes(&'static str),
    /// The opener is still running after a short wait: it may yet open one.
    Running(&'static str),
    Failed(String),
}

/// Runs the platform's URL opener and waits a little for its verdict: a browser is said to be
/// open only when the opener said so (exit 0).
pub fn open_browser(url: &str) -> Opened {
    let (program, mut cmd) = if cfg!(target_os = "macos") {
        ("open", std::process::Command::new("open"))
    } else if cfg!(target_os = "windows") {
        let mut c = std::process::Command::new("rundll32");
        c.arg("url.dll,FileProtocolHandler");
        ("rundll32", c)
    } else {
        ("xdg-open", std::process::Command::new("xdg-open"))
    };
    let child = cmd
        .arg(url)
        .stdin(std::process::Stdio::null())
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn();
    let mut child = match child {
        Ok(c) => c,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            return Opened::Failed(format!("no {program} on PATH"));
        }
        Err(e) => return Opened::Failed(format!("cannot run {program}: {e}")),
    };
    let deadline = std::time::Instant::now() + Duration::from_secs(3);
    loop {
        match child.try_wait() {
            Ok(Some(status)) if status.success() => return Opened::Yes(program),
            Ok(Some(status)) => {
                return Opened::Failed(match status.code() {
                    Some(code) => format!("{program} exited with status {code}"),
                    None => format!("{program} was killed"),
                });
            }
            Ok(None) if std::time::Instant::now() < deadline => {
                std::thread::sleep(Duration::from_millis(20));
            }
            // Left running (a browser started in the foreground); reaped by no one, harmless.
            Ok(None) => return Opened::Running(program),
            Err(e) => return Opened::Failed(format!("{program}: {e}")),
        }
    }
}

/// `url` as a QR code in half-block characters (two modules per character cell).
pub fn qr(url: &str) -> String {
    match qrcode::QrCode::new(url.as_bytes()) {
        Ok(code) => {
            let text = code
                .render::<qrcode::render::unicode::Dense1x2>()
                .dark_color(qrcode::render::unicode::Dense1x2::Light)
                .light_color(qrcode::render::unicode::Dense1x2::Dark)
                .quiet_zone(true)
                .build();
            text + "\n"
        }
        Err(_) => String::new(),
    }
}
