//! `gocred login HOST|URL`: the OAuth 2.0 device flow (RFC 8628) for the rule that serves the
//! host, ending with the tokens in the rule's store.
//!
//! It shows the verification URL, the user code, a QR code of the complete URL and a countdown
//! (on a terminal), and opens a browser only where one can be shown: a display (`DISPLAY`,
//! `WAYLAND_DISPLAY`, or macOS / Windows), not over SSH, not with `--no-browser`. Everything for
//! the human goes to stderr; stdout gets only the result (and the rule `--save` wrote).
//!
//! Nothing is written before the server hands over the tokens, and then once, atomically, so an
//! interrupt (Ctrl-C) at any point leaves the store as it was. A host with no rule gets the
//! rule to add, or `--save` adds it to the config (atomic, existing content kept) and prints it.

use super::CommandError;
use super::context::Context;
use crate::login;
use crate::net::{Net, Options};
use crate::oauth::{Client, default_scopes};
use crate::policy::{self, Decision, Target};
use crate::source::Credential;
use crate::source::oauth::{is_fresh, origin, token_scope, username};
use crate::time::{format_utc, relative};
use clap::Args;
use std::io::{IsTerminal, Read, Write};
use std::time::Duration;

/// The DESCRIPTION of `gocred help login` and gocred-login(1).
pub(super) const LONG_ABOUT: &str =
    "Log in to a host, so that git gets its credential from gocred: with a personal \
access token (--with-token), or with the OAuth 2.0 device flow of the host's `oauth` rule.

--with-token reads the token from stdin, or asks for it at a terminal without showing it; it is \
never an argument. Unless --no-verify, it is checked first with the vendor's user API (GitLab \
`GET /api/v4/user` with `PRIVATE-TOKEN`; GitHub `GET https://api.github.com/user`, GitHub \
Enterprise `GET https://HOST/api/v3/user`, with `Authorization: Bearer`). The vendor is the \
rule's [rule.oauth] provider, else --provider, else the host's name (github.com, github.*, \
gitlab.com, gitlab.*); for any other host say --provider or --no-verify. A GitLab token with \
no scope for the API (read_repository or write_repository only) passes: GitLab answers it \
`403 insufficient_scope`, which only a token it knows gets. A token the server \
refuses is not stored: one line names the host and the HTTP status, exit 1. The token goes to \
the rule's store (keychain or file) under the user name git needs: the rule's `username`, else \
--user, else the account the server named, else `oauth2` (GitLab) or `x-access-token` (GitHub). \
It then says what git will get: host, user and store, never the token.

The device flow says which server it contacts and whom it waits for, shows the URL, the code \
and a QR code, and says a browser was opened only when the opener (xdg-open, open) reported \
success. Ctrl-C before the tokens arrive prints \"cancelled, nothing changed\" (exit 130). A \
host whose stored token is still valid is not logged in again without a yes at a terminal or \
--force; without a terminal the login is refused with that hint (exit 1).

A host with no rule gets the rule to add (keychain for --with-token, oauth for the device \
flow); --save adds it to the config, keeping what is there.";

#[derive(Debug, Args)]
#[command(after_long_help = "Examples:
  gocred login gitlab.corp.example --with-token --save
  gocred login ghe.corp.example --with-token --provider github < token.txt
  gocred login gitlab.corp.example
  gocred login https://ghe.corp.example:8443 --force")]
pub struct LoginArgs {
    /// The host or URL to log in to: gitlab.corp.example, https://ghe.corp.example:8443
    #[arg(value_name = "HOST|URL")]
    pub target: String,
    /// Who runs the server: the OAuth endpoints of a new rule, the API that checks --with-token
    #[arg(long, value_parser = ["gitlab", "github", "oidc"])]
    pub provider: Option<String>,
    /// The OAuth application's client id (for a host that has no rule yet)
    #[arg(long = "client-id", value_name = "ID")]
    pub client_id: Option<String>,
    /// The OIDC issuer whose discovery document names the endpoints (provider oidc)
    #[arg(long, value_name = "URL")]
    pub issuer: Option<String>,
    /// A scope to ask for instead of the rule's (repeat for several)
    #[arg(long = "scope", value_name = "S", num_args = 1..)]
    pub scope: Vec<String>,
    /// Never open a browser; only show the URL, the code and the QR code
    #[arg(long)]
    pub no_browser: bool,
    /// Add the missing rule to the config file, then log in
    #[arg(long)]
    pub save: bool,
    /// Keep a personal access token instead: read from stdin, or asked for (not shown) at a
    /// terminal; never an argument
    #[arg(long)]
    pub with_token: bool,
    /// With --with-token: store the token without checking it with the server first
    #[arg(long, requires = "with_token")]
    pub no_verify: bool,
    /// With --with-token: the user name git sends with the token (the rule's `username` wins)
    #[arg(long, value_name = "NAME", requires = "with_token")]
    pub user: Option<String>,
    /// Replace a token that is stored and still valid without asking
    #[arg(long)]
    pub force: bool,
}

pub fn cmd_login(ctx: &mut Context, args: LoginArgs) -> Result<(), CommandError> {
    if args.with_token {
        return super::login_token::cmd_login_token(ctx, &args);
    }
    let target = parse_target(&args.target)?;
    let mut policy = ctx.load_policy()?;
    interrupt::cancel_on_interrupt(false);
    if matches!(policy.decide(target.clone()), Decision::NotManaged) {
        // No rule to suggest for a URL the machine policy denies to the user's rules.
        if let Some(denied) = crate::policy::machine::denial(&policy, &target) {
            return Err(CommandError::user(format!("not logging in: {denied}")));
        }
        let asked = login::Asked {
            provider: args.provider.as_deref(),
            client_id: args.client_id.as_deref(),
            issuer: args.issuer.as_deref(),
            scopes: &args.scope,
        };
        let rule = login::oauth_rule(&target, asked);
        policy = offer_rule(ctx, &policy, &target, &args, rule, true)?;
        interrupt::cancel_on_interrupt(true);
    }
    let Decision::Managed { rule, scope, .. } = policy.decide(target.clone()) else {
        return Err(CommandError::user("BUG: the saved rule does not match"));
    };
    let Some(config) = &rule.oauth else {
        return Err(CommandError::user(format!(
            "the rule for {} (line {} of {}) has no `oauth` source: add \"oauth\" to its \
             `sources` and a [rule.oauth] table with `provider` and `client_id` (see `gocred login \
             {} --save` on a host without a rule for an example)",
            rule.url,
            rule.line,
            policy.file_of(rule).display(),
            args.target
        )));
    };
    if let Some(p) = &args.provider
        && p != config.provider.name()
    {
        return Err(CommandError::user(format!(
            "--provider {p} disagrees with the rule for {} (provider = \"{}\"); edit the config instead",
            rule.url,
            config.provider.name()
        )));
    }
    if let Some(id) = &args.client_id
        && *id != config.client_id
    {
        return Err(CommandError::user(format!(
            "--client-id disagrees with the rule for {} (client_id = \"{}\"); edit the config instead",
            rule.url, config.client_id
        )));
    }
    let scopes: Vec<String> = if !args.scope.is_empty() {
        args.scope.clone()
    } else if let Some(s) = &config.scopes {
        s.clone()
    } else {
        default_scopes(config.provider)
            .iter()
            .map(|s| (*s).to_owned())
            .collect()
    };
    let key = token_scope(rule, &scope);
    let user = username(rule, config);
    let oauth = ctx.oauth(&policy);
    let store = oauth.store(config)?;
    let stored = oauth.read(&*store, rule, &key, &user)?;
    let env = &*ctx.env;
    let net = Net::new(Options::from_env(env, rule.allow_http), env);
    let fail = |e: &dyn std::fmt::Display| CommandError::user(format!("login to {key}: {e}"));
    let client = Client::new(&net, config, origin(&key)).map_err(|e| fail(&e))?;

    // A token that is stored, not expired, and (where the server can say) still accepted.
    if let Some(old) = stored.filter(|c| is_fresh(c, crate::source::now(), 0)) {
        let account = client.account(&old.password);
        if client.endpoints.account.is_none() || account.is_some() {
            let who = account.map(|a| format!(" as {a}")).unwrap_or_default();
            let until = old
                .password_expiry_utc
                .map(|t| format!(" until {}", format_utc(t)))
                .unwrap_or_default();
            let _ = writeln!(
                ctx.stderr,
                "Already logged in to {key}{who}: the token in {} is valid{until}.",
                store.location()
            );
            if !args.force {
                let asked = std::io::stdin().is_terminal() && std::io::stderr().is_terminal();
                if !asked {
                    return Err(CommandError::user(format!(
                        "already logged in to {key}; to replace the token run `gocred login {} \
                         --force` (or `gocred logout {}` first)",
                        args.target, args.target
                    )));
                }
                if !confirm(
                    &mut ctx.stdin,
                    &mut ctx.stderr,
                    "Log in again and replace it? [y/N] ",
                )? {
                    return Err(CommandError::user(format!(
                        "not logged in again: the token stored for {key} is unchanged"
                    )));
                }
            }
        }
    }

    let _ = writeln!(
        ctx.stderr,
        "Contacting {} for a device code ...",
        client.endpoints.device_authorization.url
    );
    let _ = ctx.stderr.flush();
    let mut device = client.start_device(&scopes).map_err(|e| fail(&e))?;

    let complete = device.verification_uri_complete.clone();
    let mut text = format!(
        "To log in to {key}, open\n\n    {}\n\nand enter the code\n\n    {}\n",
        device.verification_uri, device.user_code
    );
    if let Some(url) = &complete {
        text += &format!("\nor scan this code, which opens\n    {url}\n\n");
        text += &login::qr(url);
    }
    let _ = writeln!(ctx.stderr, "{text}");
    let browser_url = complete.as_deref().unwrap_or(&device.verification_uri);
    let said = match login::browser_blocker(args.no_browser, env) {
        None => match login::open_browser(browser_url) {
            login::Opened::Yes(program) => format!("Opened it in your browser ({program})."),
            login::Opened::Running(program) => {
                format!("Asked {program} to open it in your browser (it has not finished yet).")
            }
            login::Opened::Failed(why) => {
                format!("Could not open a browser ({why}): open the URL yourself.")
            }
        },
        Some(why) => format!("Not opening a browser: {why}."),
    };
    let _ = writeln!(ctx.stderr, "{said}");
    let poll_host = client.endpoints.token.host();
    let live = std::io::stderr().is_terminal();
    if !live {
        let secs = device.expires_in.as_secs();
        let _ = writeln!(
            ctx.stderr,
            "Waiting for approval from {poll_host} (asking every {} s; the code expires in {}:{:02}) ...",
            device.interval.as_secs(),
            secs / 60,
            secs % 60
        );
    }
    let _ = ctx.stderr.flush();

    let mut last_shown = u64::MAX;
    let stderr = &mut ctx.stderr;
    let mut tick = |left: Duration| {
        let secs = left.as_secs();
        if live && secs != last_shown {
            last_shown = secs;
            let _ = write!(
                stderr,
                "\rWaiting for approval from {poll_host}; the code expires in {}:{:02} ",
                secs / 60,
                secs % 60
            );
            let _ = stderr.flush();
        }
    };
    let tokens = client.wait_for_approval(&mut device, &crate::source::now, &mut tick);
    if live {
        let _ = writeln!(ctx.stderr);
    }
    let tokens = tokens.map_err(|e| fail(&e))?;

    let account = client.account(&tokens.access_token);
    let expiry = tokens.expires_at;
    let has_refresh = tokens.refresh_token.is_some();
    // From here on the login is kept: an interrupt waits until the store has it.
    interrupt::defer();
    store.store(
        &key,
        Credential {
            username: user.clone(),
            password: tokens.access_token,
            password_expiry_utc: expiry,
            oauth_refresh_token: tokens.refresh_token,
        },
    )?;
    let who = account.map(|a| format!(" as {a}")).unwrap_or_default();
    let when = match expiry {
        Some(t) => format!(
            "expires {} ({}){}",
            format_utc(t),
            relative(t, crate::source::now()),
            if has_refresh {
                ", refreshed automatically"
            } else {
                ", no refresh token: log in again then"
            }
        ),
        None => "no expiry".to_owned(),
    };
    writeln!(
        ctx.stdout,
        "Logged in to {key}{who}. git gets user {user} and the token from {} ({when}).",
        store.location()
    )
    .map_err(stdout_error)
}

/// For a host no rule serves: prints `rule` with how to add it, or with `--save` (and nothing
/// left to fill in) adds it to the config, says so on stdout and returns the new policy.
pub(super) fn offer_rule(
    ctx: &mut Context,
    policy: &policy::Policy,
    target: &Target,
    args: &LoginArgs,
    rule: login::Suggestion,
    oauth: bool,
) -> Result<policy::Policy, CommandError> {
    if !args.save || rule.placeholders {
        let _ = writeln!(
            ctx.stderr,
            "No rule in {} serves {}. Add this one{}:\n\n{}",
            policy.path.display(),
            target.origin(),
            if rule.placeholders {
                " (fill in what is in capitals)"
            } else {
                ", or run the same command with --save"
            },
            rule.text
        );
        return Err(CommandError::user(format!(
            "no rule for {}: add the rule above to {}, then run `gocred login {}{}` again",
            target.origin(),
            policy.path.display(),
            args.target,
            if oauth { "" } else { " --with-token" }
        )));
    }
    let new = save_rule(ctx, policy, &rule.text, target)?;
    writeln!(
        ctx.stdout,
        "Added to {}:\n\n{}",
        new.path.display(),
        rule.text
    )
    .map_err(stdout_error)?;
    Ok(new)
}

/// Asks `question` on stderr and reads the answer from stdin: whether it was yes.
pub(super) fn confirm(
    stdin: &mut dyn std::io::BufRead,
    stderr: &mut dyn Write,
    question: &str,
) -> Result<bool, CommandError> {
    let _ = write!(stderr, "{question}");
    let _ = stderr.flush();
    let mut answer = String::new();
    std::io::BufRead::read_line(&mut stdin.take(256), &mut answer)
        .map_err(|e| CommandError::user(format!("cannot read the answer from stdin: {e}")))?;
    Ok(matches!(
        answer.trim().to_ascii_lowercase().as_str(),
        "y" | "yes"
    ))
}

pub(super) fn stdout_error(e: std::io::Error) -> CommandError {
    CommandError::user(format!("cannot write to stdout: {e}"))
}

/// `HOST`, `HOST:PORT` or a URL, as a request target (the one normalization of a target).
pub(super) fn parse_target(arg: &str) -> Result<Target, CommandError> {
    policy::normalize(policy::Input::Url(arg)).map_err(|e| {
        CommandError::user(format!(
            "`{arg}`: {e}; expected an https (or http) host or URL, e.g. gitlab.corp.example"
        ))
    })
}

/// Appends `rule` to the config file (atomically, after checking the result loads and serves
/// `target`), and returns the new policy.
fn save_rule(
    ctx: &Context,
    policy: &policy::Policy,
    rule: &str,
    target: &Target,
) -> Result<policy::Policy, CommandError> {
    let _ = policy;
    save_rules(ctx, rule, std::slice::from_ref(target))
}

/// Appends `rules` (TOML text) to the config file, atomically, after checking that the result
/// loads and serves every one of `targets`; returns the new policy. Also `import-netrc --save`.
/// The one policy-file edit ([`crate::policy::edit::append_rules`]): the file is read as the
/// loader reads it (a regular file only, trusted, capped), its bytes kept, and written under a lock.
pub(super) fn save_rules(
    ctx: &Context,
    rule: &str,
    targets: &[Target],
) -> Result<policy::Policy, CommandError> {
    let path = ctx.config_path()?.clone();
    crate::policy::edit::append_rules(&path, rule, targets)
        .map_err(|e| CommandError::user(e.to_string()))
}

/// Ctrl-C (SIGINT) during a login: before anything is kept, it ends gocred at once with
/// "cancelled, nothing changed" (the terminal's echo restored if the token prompt had turned it
/// off); once the store is being written ([`defer`]) it waits, so a login is never half kept.
#[cfg(unix)]
pub(super) mod interrupt {
    use std::cell::UnsafeCell;
    use std::sync::atomic::{AtomicBool, AtomicU8, Ordering};

    /// 0: not installed; 1: cancel (nothing changed); 2: cancel (the rule --save added stays);
    /// 3: deferred.
    static MODE: AtomicU8 = AtomicU8::new(0);
    static HAVE_TERMINAL: AtomicBool = AtomicBool::new(false);

    struct Saved(UnsafeCell<libc::termios>);
    // SAFETY: written only while HAVE_TERMINAL is false (no reader), read by the handler only
    // while it is true.
    unsafe impl Sync for Saved {}
    // SAFETY: an all-zero termios is a valid value of this plain C struct.
    static SAVED: Saved = Saved(UnsafeCell::new(unsafe { std::mem::zeroed() }));

    const NOTHING: &[u8] = b"\ngocred: cancelled, nothing changed\n";
    const RULE_KEPT: &[u8] =
        b"\ngocred: cancelled: no token was stored (the rule added by --save stays)\n";

    /// Async-signal-safe: atomics, tcsetattr, write and _exit only.
    extern "C" fn on_sigint(_: libc::c_int) {
        if HAVE_TERMINAL.load(Ordering::SeqCst) {
            // SAFETY: SAVED holds a termios read from fd 0 (HAVE_TERMINAL says so).
            unsafe { libc::tcsetattr(0, libc::TCSANOW, SAVED.0.get()) };
        }
        let text = match MODE.load(Ordering::SeqCst) {
            1 => NOTHING,
            2 => RULE_KEPT,
            _ => return,
        };
        // SAFETY: write and _exit are async-signal-safe; `text` is a static buffer.
        unsafe {
            libc::write(2, text.as_ptr().cast(), text.len());
            libc::_exit(130);
        }
    }

    /// From now on Ctrl-C cancels; `rule_saved`: the config was already changed by --save.
    pub fn cancel_on_interrupt(rule_saved: bool) {
        let before = MODE.swap(if rule_saved { 2 } else { 1 }, Ordering::SeqCst);
        if before == 0 {
            // SAFETY: a zeroed sigaction is valid; the handler is async-signal-safe.
            unsafe {
                let mut action: libc::sigaction = std::mem::zeroed();
                action.sa_sigaction = on_sigint as *const () as usize;
                action.sa_flags = libc::SA_RESTART;
                libc::sigemptyset(&mut action.sa_mask);
                libc::sigaction(libc::SIGINT, &action, std::ptr::null_mut());
            }
        }
    }

    /// From now on Ctrl-C is ignored: the credential is being kept.
    pub fn defer() {
        MODE.store(3, Ordering::SeqCst);
    }

    pub fn remember_terminal(saved: libc::termios) {
        HAVE_TERMINAL.store(false, Ordering::SeqCst);
        // SAFETY: HAVE_TERMINAL is false, so the handler does not read SAVED meanwhile.
        unsafe { *SAVED.0.get() = saved };
        HAVE_TERMINAL.store(true, Ordering::SeqCst);
    }

    pub fn forget_terminal() {
        HAVE_TERMINAL.store(false, Ordering::SeqCst);
    }
}

#[cfg(not(unix))]
pub(super) mod interrupt {
    pub fn cancel_on_interrupt(_rule_saved: bool) {}
    pub fn defer() {}
}
