//! `gocred login HOST --with-token`: keep a personal access token for a rule with a store.
//!
//! The token comes from stdin, or from a prompt that does not echo when stdin is a terminal:
//! never from argv (every user of the machine can read a process's arguments). It is checked
//! against the vendor's documented user endpoint ([`crate::oauth::verify`]) unless
//! `--no-verify`, and stored under the rule's scope key with the user name git needs: the
//! rule's `username`, else `--user`, else the account the server named, else the vendor's
//! convention (GitLab `oauth2`, GitHub `x-access-token`). A token that fails the check is not
//! stored, and the error names the host and the HTTP status. The token is never printed, put in
//! a child's environment or passed to another program.

use super::CommandError;
use super::context::Context;
use super::login::{LoginArgs, interrupt, offer_rule, parse_target, stdout_error};
use crate::login::{self, guess_provider};
use crate::net::{Net, Options};
use crate::oauth::verify::{Verified, user_endpoint, verify};
use crate::policy::{Decision, OAuthProvider, SourceKind};
use crate::secret::{Secret, SecretBytes};
use crate::source::oauth::origin;
use crate::source::{Credential, Query};
use std::io::{BufRead, IsTerminal, Read, Write};

/// More than any vendor's token (GitHub's fine-grained ones are 93 characters).
const MAX_TOKEN: u64 = 4096;

pub(super) fn cmd_login_token(ctx: &mut Context, args: &LoginArgs) -> Result<(), CommandError> {
    let target = parse_target(&args.target)?;
    interrupt::cancel_on_interrupt(false);
    let mut policy = ctx.load_policy()?;
    if matches!(policy.decide(target.clone()), Decision::NotManaged) {
        // No rule to suggest for a URL the machine policy denies to the user's rules.
        if let Some(denied) = crate::policy::machine::denial(&policy, &target) {
            return Err(CommandError::user(format!("not logging in: {denied}")));
        }
        // What would fail after --save wrote the rule fails before it.
        let known = args.provider.is_some() || guess_provider(&target.host).is_some();
        if args.save && !known && (!args.no_verify || args.user.is_none()) {
            return Err(CommandError::user(format!(
                "not saving a rule for {}: gocred cannot tell whether it runs GitLab or GitHub; \
                 add --provider gitlab (or github), or --no-verify --user NAME",
                target.origin()
            )));
        }
        let rule = login::token_rule(&target, args.user.as_deref());
        policy = offer_rule(ctx, &policy, &target, args, rule, false)?;
        interrupt::cancel_on_interrupt(true);
    }
    let Decision::Managed { rule, scope, .. } = policy.decide(target.clone()) else {
        return Err(CommandError::user("BUG: the saved rule does not match"));
    };
    let kind = match rule.store {
        Some(kind @ (SourceKind::Keychain | SourceKind::File)) if rule.sources.contains(&kind) => {
            kind
        }
        _ => {
            let oauth = if rule.oauth.is_some() {
                format!(
                    ", or log in with OAuth instead: `gocred login {}` without --with-token",
                    args.target
                )
            } else {
                String::new()
            };
            return Err(CommandError::user(format!(
                "the rule for {} (line {} of {}) has no store git reads a token from: add \
                 \"keychain\" (or \"file\") to its `sources` and `store = \"keychain\"`{oauth}",
                rule.url,
                rule.line,
                policy.file_of(rule).display()
            )));
        }
    };
    if let (Some(fixed), Some(user)) = (&rule.username, &args.user)
        && fixed != user
    {
        return Err(CommandError::user(format!(
            "--user {user} disagrees with the rule for {} (username = \"{fixed}\"); edit the \
             config instead",
            rule.url
        )));
    }
    let provider = rule
        .oauth
        .as_ref()
        .map(|o| o.provider)
        .or_else(|| args.provider.as_deref().and_then(OAuthProvider::parse))
        .or_else(|| guess_provider(&target.host));
    let origin = origin(&scope).to_owned();
    let check = if args.no_verify {
        None
    } else {
        match provider.and_then(|p| user_endpoint(p, &origin).map(|url| (p, url))) {
            Some(found) => Some(found),
            None => {
                return Err(CommandError::user(format!(
                    "cannot check a token for {origin}: gocred knows the user API of GitLab and \
                     GitHub only; say which one the host runs with --provider gitlab (or \
                     github), or store the token unchecked with --no-verify"
                )));
            }
        }
    };
    let store = ctx.store(&policy, kind)?;
    let existing = store.get(&Query {
        scope: &scope,
        rule,
        path: None,
        username: rule.username.as_deref().or(args.user.as_deref()),
        now: ctx.now,
    })?;
    let at_terminal = std::io::stdin().is_terminal();
    if let Some(old) = &existing
        && at_terminal
        && !args.force
        && std::io::stderr().is_terminal()
    {
        let question = format!(
            "A token for {scope} (user {}) is already in {}. Replace it? [y/N] ",
            old.username,
            store.location()
        );
        if !super::login::confirm(&mut ctx.stdin, &mut ctx.stderr, &question)? {
            return Err(CommandError::user(format!(
                "not replaced: the token stored for {scope} is unchanged"
            )));
        }
    }
    let token = read_token(ctx, &origin, at_terminal)?;

    let mut account = None;
    let mut scope_note = "";
    if let Some((provider, url)) = &check {
        let _ = writeln!(ctx.stderr, "Checking the token with {url} ...");
        let _ = ctx.stderr.flush();
        let env = &*ctx.env;
        let net = Net::new(Options::from_env(env, rule.allow_http), env);
        match verify(&net, *provider, url, &token).map_err(|e| {
            CommandError::user(format!("login to {origin}: {e}; nothing was stored"))
        })? {
            Verified::Account(name) => account = name,
            Verified::NoApiScope => {
                scope_note = " GitLab knows the token, but without the read_user or api scope \
                              it does not say whose it is.";
            }
        }
    }
    let user = rule
        .username
        .clone()
        .or_else(|| args.user.clone())
        .or_else(|| account.clone())
        .or_else(|| provider.map(|p| crate::oauth::default_username(p).to_owned()))
        .ok_or_else(|| {
            CommandError::user(format!(
                "which user name should git send to {origin} with the token? Give it with \
                 --user NAME (or `username` in the rule); nothing was stored"
            ))
        })?;
    interrupt::defer();
    store.store(
        &scope,
        Credential {
            username: user.clone(),
            password: token,
            password_expiry_utc: None,
            oauth_refresh_token: None,
        },
    )?;
    let who = account.map(|a| format!(" as {a}")).unwrap_or_default();
    let checked = if check.is_some() {
        ""
    } else {
        " The token was not checked (--no-verify)."
    };
    let replaced = if existing.is_some() {
        " It replaces the token stored before."
    } else {
        ""
    };
    writeln!(
        ctx.stdout,
        "Logged in to {scope}{who}. git gets user {user} and the token from {}.{replaced}{checked}{scope_note}",
        store.location()
    )
    .map_err(stdout_error)
}

/// The token: one line from stdin, or typed at a prompt that does not echo.
fn read_token(ctx: &mut Context, origin: &str, at_terminal: bool) -> Result<Secret, CommandError> {
    let mut raw = SecretBytes(Vec::new());
    let read = if at_terminal {
        let _ = write!(
            ctx.stderr,
            "Paste the token for {origin} (it is not shown) and press Enter: "
        );
        let _ = ctx.stderr.flush();
        // Never read a token that the terminal would show.
        let Some(echo_off) = tty::EchoOff::new() else {
            let _ = writeln!(ctx.stderr);
            return Err(CommandError::user(
                "cannot turn the terminal's echo off to read the token unseen: pipe it in \
                 instead (`gocred login HOST --with-token < FILE`); nothing was stored",
            ));
        };
        let read = (&mut ctx.stdin)
            .take(MAX_TOKEN + 1)
            .read_until(b'\n', &mut raw.0);
        drop(echo_off);
        let _ = writeln!(ctx.stderr);
        read
    } else {
        (&mut ctx.stdin).take(MAX_TOKEN + 1).read_to_end(&mut raw.0)
    };
    read.map_err(|e| CommandError::user(format!("cannot read the token from stdin: {e}")))?;
    let from = if at_terminal {
        "at the prompt"
    } else {
        "on stdin"
    };
    if raw.0.len() as u64 > MAX_TOKEN {
        return Err(CommandError::user(format!(
            "the token {from} is longer than {MAX_TOKEN} bytes: give only the token; nothing \
             was stored"
        )));
    }
    let Ok(text) = std::str::from_utf8(&raw.0) else {
        return Err(CommandError::user(format!(
            "the token {from} is not UTF-8 text; nothing was stored"
        )));
    };
    let token = text.trim_matches(|c: char| c.is_ascii_whitespace());
    if token.is_empty() {
        return Err(CommandError::user(if at_terminal {
            "no token was typed; nothing was stored".to_owned()
        } else {
            "no token on stdin: pipe it in (`gocred login HOST --with-token < FILE`), or run \
             at a terminal to be asked for it; nothing was stored"
                .to_owned()
        }));
    }
    if token.chars().any(|c| c.is_whitespace() || c.is_control()) {
        return Err(CommandError::user(format!(
            "the text {from} is more than one token (it holds a space or a line break): give \
             exactly the token; nothing was stored"
        )));
    }
    Ok(Secret::new(token.to_owned()))
}

/// Turning the terminal's echo off while the token is typed (and back on, also on Ctrl-C:
/// [`interrupt`] restores what is saved here).
#[cfg(unix)]
mod tty {
    use super::interrupt;

    pub struct EchoOff {
        saved: libc::termios,
    }

    impl EchoOff {
        pub fn new() -> Option<EchoOff> {
            // SAFETY: a zeroed termios is a valid out-parameter; fd 0 is ours.
            let mut saved: libc::termios = unsafe { std::mem::zeroed() };
            // SAFETY: tcgetattr writes into `saved`, which lives for the call.
            if unsafe { libc::tcgetattr(0, &mut saved) } != 0 {
                return None;
            }
            interrupt::remember_terminal(saved);
            let mut quiet = saved;
            quiet.c_lflag &= !(libc::ECHO | libc::ECHONL);
            quiet.c_lflag |= libc::ICANON;
            // SAFETY: `quiet` is a termios read from this very terminal, with echo cleared.
            if unsafe { libc::tcsetattr(0, libc::TCSANOW, &quiet) } != 0 {
                interrupt::forget_terminal();
                return None;
            }
            Some(EchoOff { saved })
        }
    }

    impl Drop for EchoOff {
        fn drop(&mut self) {
            // SAFETY: restores the settings read from this terminal in `new`.
            unsafe { libc::tcsetattr(0, libc::TCSANOW, &self.saved) };
            interrupt::forget_terminal();
        }
    }
}

#[cfg(not(unix))]
mod tty {
    pub struct EchoOff;
    impl EchoOff {
        pub fn new() -> Option<EchoOff> {
            None
        }
    }
}
