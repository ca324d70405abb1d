//! What every command needs from the outside world, gathered in one place so that the helper loop
//! can run over in-memory buffers in tests.

use super::CommandError;
use crate::paths;
use crate::policy::target::default_port;
use crate::policy::{self, Decision, Policy, SourceKind, Target};
use crate::protocol::{Limits, Request, read_request};
use crate::source::sources::{self, Sources};
use crate::source::{Store, oauth::OAuthSource};
use std::io::{BufRead, Write};
use std::path::PathBuf;

/// The variable that silences notes (as `--quiet` does).
pub const QUIET_VAR: &str = "GOCRED_QUIET";

/// Reads an environment variable; a function so tests need not touch the process environment.
pub type EnvLookup<'io> = Box<dyn Fn(&str) -> Option<String> + 'io>;

pub struct Context<'io> {
    pub stdin: Box<dyn BufRead + 'io>,
    pub stdout: Box<dyn Write + 'io>,
    pub stderr: Box<dyn Write + 'io>,
    /// `None` when neither `$GOCRED_CONFIG` nor a home directory says where the policy is.
    pub config_path: Option<PathBuf>,
    pub env: EnvLookup<'io>,
    pub now: u64,
}

impl Context<'static> {
    pub fn from_process() -> Self {
        Context {
            stdin: Box::new(std::io::stdin().lock()),
            stdout: Box::new(std::io::stdout().lock()),
            stderr: Box::new(std::io::stderr()),
            config_path: paths::config_file(),
            env: Box::new(|name| std::env::var(name).ok()),
            now: crate::source::now(),
        }
    }
}

impl Context<'_> {
    /// Routes stderr (and stdout when `stdout_too`) through [`crate::redact::Filtered`].
    pub fn filter_output(&mut self, stdout_too: bool) {
        let stderr = std::mem::replace(&mut self.stderr, Box::new(std::io::sink()));
        self.stderr = Box::new(crate::redact::Filtered::new(stderr));
        if stdout_too {
            let stdout = std::mem::replace(&mut self.stdout, Box::new(std::io::sink()));
            self.stdout = Box::new(crate::redact::Filtered::new(stdout));
        }
    }

    /// Whether notes are silenced: `--quiet`, or `GOCRED_QUIET` set to anything but empty, `0`,
    /// `false` or `no`. Errors are never silenced.
    pub fn quiet(&self) -> bool {
        (self.env)(QUIET_VAR).is_some_and(|v| {
            let v = v.trim().to_ascii_lowercase();
            !matches!(v.as_str(), "" | "0" | "false" | "no")
        })
    }

    /// Prints one note (`gocred: TEXT`, or `gocred CMD: TEXT` with a `who`) on stderr, unless
    /// [`Context::quiet`]. A note says why something did not happen; the command goes on.
    pub fn note(&mut self, who: Option<&str>, text: &str) {
        if self.quiet() {
            return;
        }
        let _ = match who {
            Some(who) => writeln!(self.stderr, "gocred {who}: {text}"),
            None => writeln!(self.stderr, "gocred: {text}"),
        };
    }

    /// Where the policy is read from; refused when relative (git runs helpers inside whatever
    /// repository it works in, so a relative `GOCRED_CONFIG` would name a file of that repository).
    pub fn config_path(&self) -> Result<&PathBuf, CommandError> {
        let path = self.config_path.as_ref().ok_or_else(|| {
            CommandError::config("cannot tell where the config lives: set GOCRED_CONFIG or HOME")
        })?;
        if !path.is_absolute() {
            return Err(policy::ConfigError::Relative { path: path.clone() }.into());
        }
        Ok(path)
    }

    /// The policy as the file is now (read and checked whole on every call: there is no cache).
    /// A missing file is an empty policy; see [`Context::missing_named_config`].
    pub fn load_policy(&self) -> Result<Policy, CommandError> {
        let policy =
            policy::load_extended(self.config_path()?, None, &mut |p| self.add_ci_job_rule(p))?;
        crate::audit::current(|a| a.configure(policy.audit.as_ref()));
        Ok(policy)
    }

    /// The CI job token's implicit rule ([`crate::ci::add_job_rule`]), or the note that says
    /// why a job that turned it on gets none. Added before the machine policy judges the
    /// user's rules, so it can deny or narrow the job token like any user rule.
    fn add_ci_job_rule(&self, policy: &mut Policy) {
        if let Some(why) = crate::ci::add_job_rule(policy, &*self.env)
            && !self.quiet()
        {
            eprintln!("{}", crate::redact::shown(&format!("gocred: note: {why}")));
        }
    }

    /// [`Context::load_policy`] for a request to `host` only (`get`): the file read and checked
    /// whole, keeping only the rules that could match `host` ([`policy::load_for_host`]).
    pub fn load_policy_for_host(&self, host: Option<&str>) -> Result<Policy, CommandError> {
        let policy = policy::load_extended(self.config_path()?, Some(host), &mut |p| {
            self.add_ci_job_rule(p)
        })?;
        crate::audit::current(|a| a.configure(policy.audit.as_ref()));
        Ok(policy)
    }

    /// When `$GOCRED_CONFIG` names a file that `policy` found missing: the one line that says
    /// so. A typo there must not pass for a policy that denies everything on purpose.
    pub fn missing_named_config(&self, policy: &Policy) -> Option<String> {
        let named = (self.env)("GOCRED_CONFIG").is_some_and(|v| !v.is_empty());
        (named && !policy.exists).then(|| {
            format!(
                "the gocred config {} named by GOCRED_CONFIG does not exist: create it, or \
                 correct GOCRED_CONFIG",
                policy.path.display()
            )
        })
    }

    /// Reads git's request and checks it names a protocol and a host. A protocol no rule can
    /// name needs no host: git asks for a client certificate's password with `protocol=cert`
    /// and an empty `host`, and such a request is simply not managed.
    pub fn read_request(&mut self) -> Result<Request, CommandError> {
        let request = read_request(&mut self.stdin, Limits::default())?;
        let unmanageable = request
            .protocol
            .as_deref()
            .is_some_and(|p| !p.is_empty() && default_port(&p.to_ascii_lowercase()).is_none());
        if !unmanageable {
            request.require_target()?;
        }
        Ok(request)
    }

    /// The credential sources of `policy`, as this command's environment sees them.
    pub fn sources<'c>(&'c self, policy: &'c Policy) -> Sources<'c> {
        Sources::new(policy, &*self.env, self.now)
    }

    /// The store named by `kind` (keychain or file). Creating one touches neither D-Bus nor disk.
    pub fn store(&self, policy: &Policy, kind: SourceKind) -> Result<Box<dyn Store>, CommandError> {
        Ok(sources::store(policy, kind)?)
    }

    /// The `oauth` source, which also keeps and rejects tokens (login, logout, erase).
    pub fn oauth(&self, policy: &Policy) -> OAuthSource<'_> {
        sources::oauth(policy, &*self.env)
    }
}

impl Context<'_> {
    /// Where the `github-app` and `sts` sources cache what they mint.
    pub fn mint_stores(&self, policy: &Policy) -> crate::source::mint::Stores<'_> {
        sources::mint_stores(policy, &*self.env)
    }
}

/// The policy decision for a request; `NotManaged` also for requests no rule could ever match.
pub fn decide<'p>(policy: &'p Policy, request: &Request) -> Decision<'p> {
    // No protocol or host (read_request let it through), or one no rule names: not managed.
    match Target::from_request(request) {
        Some(target) => {
            let shown = crate::audit::current(|a| a.enabled()).then(|| target.url());
            let decision = policy.decide(target);
            if let Some(shown) = shown {
                crate::audit::record_decision(&shown, &decision, policy);
            }
            decision
        }
        None => Decision::NotManaged,
    }
}
