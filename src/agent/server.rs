//! The agent: a Unix socket on the workstation that answers forwarded requests.
//!
//! - The socket lives in a directory of its own (0700) and is itself 0600: only this user (and
//!   root) can connect, on the workstation, and through `ssh -R` only the remote user it was
//!   forwarded to (sshd binds it with `StreamLocalBindMask`, 0177 by default).
//! - Every request is decided twice: the target must be covered by the `--allow` list
//!   ([`super::allowed`]), and then the workstation's policy answers it exactly as a local
//!   gocred would ([`Runner`] runs the same command in-process). A remote never gets more than
//!   both grant; a netrc names only hosts allowed whole, a GOAUTH answer only URL prefixes the
//!   allow-list covers whole.
//! - `store` is refused unless the agent was started read-write; `erase` only marks the
//!   credential rejected for this agent's lifetime (a later `get` that would answer it answers
//!   nothing, so git prompts) unless erasing was allowed.
//! - With `--confirm`, the first answer for each host asks on the workstation's terminal.
//! - Each connection carries one request with a deadline for reading it and for writing the
//!   answer; at most [`MAX_CONNECTIONS`] are served at once, the rest wait in the listen queue.
//!   Nothing a peer sends (oversized, truncated, wrong version, silence) stops the agent.

use super::wire::{Deadline, Message, WireError, read_frame, write_frame};
use super::{Allow, allowed, clean_label};
use crate::policy::{Decision, HostPattern, Input, Policy, Target, normalize};
use crate::protocol::{LineWriter, ProtocolError, Request, decode};
use crate::secret::SecretBytes;
use std::collections::HashSet;
use std::io::Write;
use std::os::unix::net::{UnixListener, UnixStream};
use std::path::PathBuf;
use std::sync::{Arc, Condvar, Mutex};
use std::time::Duration;

/// How long a peer has to send its request, and to take the answer.
pub const IO_TIMEOUT: Duration = Duration::from_secs(10);
/// How many requests are served at once.
pub const MAX_CONNECTIONS: usize = 64;
/// How long one forwarded command may run on the workstation (a keychain or a secrets manager
/// that hangs): then the remote gets an error, and the slot is free for the next request.
pub const HANDLER_TIMEOUT: Duration = Duration::from_secs(20);
/// How long `--confirm` waits for an answer at the terminal (then: no).
const CONFIRM_TIMEOUT: Duration = Duration::from_secs(20);

/// What a command run in-process gave.
pub struct Ran {
    pub ok: bool,
    pub stdout: SecretBytes,
    pub stderr: String,
}

/// Runs gocred's own commands for the agent (the workstation's policy and sources).
pub trait Runner: Send + Sync {
    /// `gocred ARGS` with `stdin`.
    fn run(&self, args: &[&str], stdin: &[u8]) -> Ran;
    /// The workstation's policy as it is now.
    fn policy(&self) -> Result<Policy, String>;
}

pub struct Settings {
    pub socket: PathBuf,
    pub allow: Vec<Allow>,
    pub read_write: bool,
    pub allow_erase: bool,
    /// The terminal to ask on (`--confirm`), opened read-write.
    pub confirm: Option<std::fs::File>,
}

/// A credential a remote said was rejected: its origin, user name and password digest.
#[derive(PartialEq, Eq, Hash)]
struct Rejected {
    origin: String,
    username: String,
    digest: [u8; 32],
}

pub struct Agent {
    settings: Settings,
    runner: Arc<dyn Runner>,
    rejected: Mutex<HashSet<Rejected>>,
    /// Hosts the person at the terminal allowed this session (`--confirm`).
    confirmed: Mutex<HashSet<String>>,
    /// One terminal prompt at a time.
    asking: Mutex<()>,
    log: Mutex<Box<dyn Write + Send>>,
}

/// The outcome of one request, for the remote and for the agent's own line.
struct Answer {
    message: Message,
    /// What the agent's log says happened.
    summary: String,
}

impl Answer {
    fn ok(body: SecretBytes, summary: impl Into<String>) -> Self {
        let mut message = Message::new();
        message.fields.push(("status".into(), "ok".into()));
        message.body = body;
        Answer {
            message,
            summary: summary.into(),
        }
    }

    fn refused(note: &str, summary: impl Into<String>) -> Self {
        let mut message = Message::new();
        message.fields.push(("status".into(), "refused".into()));
        let _ = message.push("note", note);
        Answer {
            message,
            summary: summary.into(),
        }
    }

    fn error(note: &str) -> Self {
        let mut message = Message::new();
        message.fields.push(("status".into(), "error".into()));
        let _ = message.push("note", note);
        Answer {
            message,
            summary: format!("error: {note}"),
        }
    }
}

impl Agent {
    pub fn new(settings: Settings, runner: Box<dyn Runner>, log: Box<dyn Write + Send>) -> Self {
        Agent {
            settings,
            runner: Arc::from(runner),
            rejected: Mutex::new(HashSet::new()),
            confirmed: Mutex::new(HashSet::new()),
            asking: Mutex::new(()),
            log: Mutex::new(log),
        }
    }

    /// One line on the agent's stderr (outside data sanitized and redacted).
    fn say(&self, label: &str, text: &str) {
        if let Ok(mut log) = self.log.lock() {
            let _ = writeln!(
                log,
                "gocred agent: [{label}] {}",
                crate::redact::shown(text)
            );
        }
    }

    /// Serves `listener` until the process ends: each connection on a thread of its own, at
    /// most [`MAX_CONNECTIONS`] at once.
    pub fn serve(self: Arc<Self>, listener: UnixListener) {
        let slots = Arc::new((Mutex::new(0usize), Condvar::new()));
        for stream in listener.incoming() {
            let Ok(stream) = stream else {
                // EMFILE and friends: wait a little rather than spin.
                std::thread::sleep(Duration::from_millis(50));
                continue;
            };
            {
                let (count, freed) = &*slots;
                let mut n = count.lock().unwrap_or_else(|p| p.into_inner());
                while *n >= MAX_CONNECTIONS {
                    n = freed.wait(n).unwrap_or_else(|p| p.into_inner());
                }
                *n += 1;
            }
            let agent = Arc::clone(&self);
            let slots2 = Arc::clone(&slots);
            let spawned = std::thread::Builder::new()
                .name("gocred-agent-conn".into())
                .spawn(move || {
                    agent.connection(stream);
                    let (count, freed) = &*slots2;
                    *count.lock().unwrap_or_else(|p| p.into_inner()) -= 1;
                    freed.notify_one();
                });
            if spawned.is_err() {
                let (count, _) = &*slots;
                *count.lock().unwrap_or_else(|p| p.into_inner()) -= 1;
            }
        }
    }

    /// One connection: one request, one answer.
    pub fn connection(&self, mut stream: UnixStream) {
        let payload = match read_frame(&mut stream, Deadline::after(IO_TIMEOUT)) {
            Ok(p) => p,
            Err(WireError::Closed) => return,
            Err(e) => {
                self.say("?", &format!("bad request: {e}"));
                // Answer what can be answered (a wrong length or version); a peer that
                // went away or never finished gets nothing.
                if matches!(e, WireError::Oversized(_)) {
                    self.reply(&mut stream, "?", Answer::error(&e.to_string()));
                }
                return;
            }
        };
        let request = match Message::decode(&payload.0) {
            Ok(m) => m,
            Err(e) => {
                self.say("?", &format!("bad request: {e}"));
                self.reply(&mut stream, "?", Answer::error(&e.to_string()));
                return;
            }
        };
        drop(payload);
        let label = clean_label(request.get("label").unwrap_or_default());
        let op = request.get("op").unwrap_or_default().to_owned();
        let answer = match op.as_str() {
            "hello" => self.hello(),
            "get" | "store" | "erase" => self.git(&op, &request, &label),
            "netrc" => self.netrc(&request, &label),
            "goauth" => self.goauth(&request, &label),
            _ => Answer::error(&format!(
                "unknown request \"{}\"",
                crate::redact::clean(&op.chars().take(32).collect::<String>())
            )),
        };
        self.say(&label, &format!("{op}: {}", answer.summary));
        self.reply(&mut stream, &label, answer);
    }

    fn reply(&self, stream: &mut UnixStream, label: &str, answer: Answer) {
        let sent = answer
            .message
            .encode()
            .and_then(|p| write_frame(stream, &p.0, Deadline::after(IO_TIMEOUT)));
        if let Err(e) = sent {
            self.say(label, &format!("answer not delivered: {e}"));
        }
    }

    /// What a remote may ask for: the allow-list, what store and erase do, and the URLs for
    /// which git on the remote should ask gocred (`gocred exec`, `gocred status`).
    fn hello(&self) -> Answer {
        let mut answer = Answer::ok(SecretBytes::default(), "told what it may ask for");
        let m = &mut answer.message;
        let s = &self.settings;
        for a in &s.allow {
            let _ = m.push("allow", &a.shown());
        }
        let _ = m.push("store", if s.read_write { "yes" } else { "no" });
        let _ = m.push("erase", if s.allow_erase { "yes" } else { "session" });
        let _ = m.push("confirm", if s.confirm.is_some() { "yes" } else { "no" });
        let mut origins: Vec<String> = Vec::new();
        let mut prefixes: Vec<String> = Vec::new();
        for a in &s.allow {
            if !origins.contains(&a.origin()) {
                origins.push(a.origin());
            }
            if a.path.is_some() {
                prefixes.push(a.shown().trim_end_matches('/').to_owned());
            }
        }
        // A path-scoped rule under an allowed origin: git must send the path for it to match.
        if let Ok(policy) = self.runner.policy() {
            for rule in &policy.rules {
                let (HostPattern::Exact(host), Some(path)) =
                    (&rule.pattern.host, &rule.pattern.path)
                else {
                    continue;
                };
                let origin = match rule.pattern.port {
                    Some(p) => format!("{}://{host}:{p}", rule.pattern.scheme),
                    None => format!("{}://{host}", rule.pattern.scheme),
                };
                let prefix = format!("{origin}/{}", path.trim_matches('/'));
                if origins.contains(&origin) && !prefixes.contains(&prefix) {
                    prefixes.push(prefix);
                }
            }
        }
        for o in origins {
            let _ = m.push("origin", &o);
        }
        for p in prefixes {
            let _ = m.push("usehttppath", &p);
        }
        answer
    }

    /// `get`, `store`, `erase`: git's request, decided by the allow-list, then by policy.
    fn git(&self, op: &str, request: &Message, label: &str) -> Answer {
        let parsed = match decode(&request.body.0) {
            Ok(r) => r,
            Err(e) => return Answer::error(&format!("cannot read git's request: {e}")),
        };
        let Some(target) = Target::from_request(&parsed) else {
            return Answer::ok(SecretBytes::default(), "not a target any rule could name");
        };
        let shown = shown_target(&target);
        if !allowed(&self.settings.allow, &target) {
            return Answer::refused(
                &format!("{shown} is not on the agent's --allow list"),
                format!("{shown}: refused (not on --allow)"),
            );
        }
        // What the workstation's own git would send: the path only under a path-scoped rule
        // (the remote sends one wherever a path-scoped --allow entry needs it), and only the
        // attributes gocred reads.
        let keep_path = self.runner.policy().is_ok_and(|policy| {
            matches!(
                policy.decide(target.clone()),
                Decision::Managed { rule, .. } if rule.pattern.path.is_some()
            )
        });
        let body = match rebuild(&parsed, &target, keep_path) {
            Ok(body) => body,
            Err(e) => return Answer::error(&format!("cannot pass git's request on: {e}")),
        };
        let request = Message {
            fields: Vec::new(),
            body,
        };
        match op {
            "store" if !self.settings.read_write => {
                Answer::refused("", format!("{shown}: store refused (read-only agent)"))
            }
            "erase" if !self.settings.allow_erase => {
                let (Some(username), Some(password)) = (&parsed.username, &parsed.password) else {
                    return Answer::ok(SecretBytes::default(), format!("{shown}: nothing to mark"));
                };
                // Marked only when it is what `get` answers here: a remote cannot fill the
                // agent's memory with made-up credentials.
                let mut probe = parsed.clone();
                probe.password = None;
                let answered = rebuild(&probe, &target, keep_path).is_ok_and(|body| {
                    let ran = self.run(&["get"], &body.0, label);
                    decode(&ran.stdout.0).is_ok_and(|a| {
                        a.username.as_deref() == Some(username.as_str())
                            && a.password.as_ref().map(|p| p.expose()) == Some(password.expose())
                    })
                });
                if !answered {
                    return Answer::ok(
                        SecretBytes::default(),
                        format!("{shown}: nothing to mark (not what this agent answers)"),
                    );
                }
                let entry = Rejected {
                    origin: target.origin(),
                    username: username.clone(),
                    digest: digest(password.expose().as_bytes()),
                };
                if let Ok(mut set) = self.rejected.lock() {
                    set.insert(entry);
                }
                Answer::ok(
                    SecretBytes::default(),
                    format!("{shown}: marked rejected for this session"),
                )
            }
            "get" => {
                let ran = self.run(&["get"], &request.body.0, label);
                if ran.stdout.0.is_empty() {
                    return Answer::ok(ran.stdout, format!("{shown}: no credential"));
                }
                if let Ok(answer) = decode(&ran.stdout.0)
                    && let (Some(u), Some(p)) = (&answer.username, &answer.password)
                {
                    let entry = Rejected {
                        origin: target.origin(),
                        username: u.clone(),
                        digest: digest(p.expose().as_bytes()),
                    };
                    if self.rejected.lock().is_ok_and(|set| set.contains(&entry)) {
                        return Answer::ok(
                            SecretBytes::default(),
                            format!("{shown}: nothing (rejected earlier this session)"),
                        );
                    }
                }
                if !self.confirm(&target.host, label) {
                    return Answer::refused(
                        &format!("{} was not confirmed at the workstation", target.host),
                        format!("{shown}: not confirmed"),
                    );
                }
                Answer::ok(ran.stdout, format!("{shown}: answered"))
            }
            _ => {
                let ran = self.run(&[op], &request.body.0, label);
                Answer::ok(SecretBytes::default(), format!("{shown}: {op} done"))
                    .with_failure(ran.ok)
            }
        }
    }

    /// A netrc with only the hosts the allow-list names whole (a netrc entry covers the whole
    /// host), and only those the remote asked for when it named any.
    fn netrc(&self, request: &Message, label: &str) -> Answer {
        let asked: Vec<String> = request
            .all("host")
            .map(|h| h.trim().to_ascii_lowercase())
            .collect();
        let mut machines: Vec<String> = Vec::new();
        for a in &self.settings.allow {
            if a.scheme != "https" || a.path.is_some() {
                continue;
            }
            let m = a.machine();
            if (asked.is_empty() || asked.contains(&m)) && !machines.contains(&m) {
                machines.push(m);
            }
        }
        machines.retain(|m| self.confirm(m.split(':').next().unwrap_or(m), label));
        if machines.is_empty() {
            // Never `gocred netrc` without --host: that would be every host policy allows.
            return Answer::ok(SecretBytes::default(), "no host allowed whole: empty netrc");
        }
        let mut args = vec!["netrc"];
        for m in &machines {
            args.push("--host");
            args.push(m);
        }
        let ran = self.run(&args, b"", label);
        Answer::ok(ran.stdout, format!("netrc for {}", machines.join(", ")))
    }

    /// GOAUTH's answer, keeping only the credential sets whose every URL prefix the allow-list
    /// covers whole.
    fn goauth(&self, request: &Message, label: &str) -> Answer {
        let url = request.get("url");
        if let Some(url) = url {
            let target = normalize(Input::Url(url));
            match &target {
                Ok(t) if allowed(&self.settings.allow, t) => {}
                _ => {
                    return Answer::refused(
                        "the URL is not on the agent's --allow list",
                        "refused (not on --allow)",
                    );
                }
            }
        }
        let mut args = vec!["goauth"];
        if let Some(url) = url {
            args.push(url);
        }
        let ran = self.run(&args, b"", label);
        let mut kept = SecretBytes::default();
        let mut shown: Vec<String> = Vec::new();
        for set in goauth_sets(&ran.stdout.0) {
            let allowed_whole = !set.prefixes.is_empty()
                && set
                    .prefixes
                    .iter()
                    .all(|p| self.settings.allow.iter().any(|a| a.covers_prefix(p)));
            let host = set
                .prefixes
                .first()
                .and_then(|p| normalize(Input::Url(p)).ok())
                .map(|t| t.host);
            if allowed_whole && host.is_some_and(|h| self.confirm(&h, label)) {
                kept.0.extend_from_slice(set.bytes);
                shown.extend(set.prefixes.iter().cloned());
            }
        }
        let summary = if shown.is_empty() {
            "no answer".to_owned()
        } else {
            format!("answered for {}", shown.join(", "))
        };
        Answer::ok(kept, summary)
    }

    /// Runs a command in-process; its notes go to the agent's own stderr, never to the remote
    /// (they name the workstation's files and variables).
    fn run(&self, args: &[&str], stdin: &[u8], label: &str) -> Ran {
        let runner = Arc::clone(&self.runner);
        let owned: Vec<String> = args.iter().map(|a| (*a).to_owned()).collect();
        let input = SecretBytes(stdin.to_vec());
        let (tx, rx) = std::sync::mpsc::channel();
        let spawned = std::thread::Builder::new()
            .name("gocred-agent-run".into())
            .spawn(move || {
                let args: Vec<&str> = owned.iter().map(String::as_str).collect();
                let _ = tx.send(runner.run(&args, &input.0));
            });
        let ran = match spawned.map(|_| rx.recv_timeout(HANDLER_TIMEOUT)) {
            Ok(Ok(ran)) => ran,
            Ok(Err(_)) => Ran {
                ok: false,
                stdout: SecretBytes::default(),
                stderr: format!(
                    "gocred {}: no result within {} s: answered nothing",
                    args.first().copied().unwrap_or_default(),
                    HANDLER_TIMEOUT.as_secs()
                ),
            },
            Err(e) => Ran {
                ok: false,
                stdout: SecretBytes::default(),
                stderr: format!("cannot start a thread: {e}"),
            },
        };
        for line in ran.stderr.lines().filter(|l| !l.trim().is_empty()) {
            self.say(label, line);
        }
        ran
    }

    /// `--confirm`: whether the person at the workstation lets `host` be answered (asked once
    /// per host per session; no answer within [`CONFIRM_TIMEOUT`] is a no). Without
    /// `--confirm`: yes.
    fn confirm(&self, host: &str, label: &str) -> bool {
        let Some(tty) = &self.settings.confirm else {
            return true;
        };
        let confirmed = || self.confirmed.lock().is_ok_and(|set| set.contains(host));
        if confirmed() {
            return true; // no need to wait for another host's question
        }
        let _turn = self.asking.lock().unwrap_or_else(|p| p.into_inner());
        if confirmed() {
            return true; // said yes while this request waited
        }
        let yes = ask(
            tty,
            &format!("gocred agent: {label} asks for a credential for {host}. Answer? [y/N] "),
        );
        if yes && let Ok(mut set) = self.confirmed.lock() {
            set.insert(host.to_owned());
        }
        yes
    }
}

impl Answer {
    /// Marks a forwarded `store`/`erase` that failed on the workstation as an error for the
    /// agent's log (the remote only learns it did not happen).
    fn with_failure(mut self, ok: bool) -> Self {
        if !ok {
            self.summary.push_str(" (failed: see above)");
        }
        self
    }
}

/// Writes `question` to the terminal and waits up to [`CONFIRM_TIMEOUT`] for a line; `y` or
/// `yes` is yes.
fn ask(tty: &std::fs::File, question: &str) -> bool {
    use std::io::Read;
    use std::os::fd::AsRawFd;
    let mut out = tty;
    if out
        .write_all(question.as_bytes())
        .and_then(|()| out.flush())
        .is_err()
    {
        return false;
    }
    let deadline = std::time::Instant::now() + CONFIRM_TIMEOUT;
    let mut line = Vec::new();
    loop {
        let left = deadline.saturating_duration_since(std::time::Instant::now());
        if left.is_zero() {
            let _ = out.write_all(b"\n(no answer: refused)\n");
            return false;
        }
        let mut pfd = libc::pollfd {
            fd: tty.as_raw_fd(),
            events: libc::POLLIN,
            revents: 0,
        };
        let ms = libc::c_int::try_from(left.as_millis()).unwrap_or(libc::c_int::MAX);
        // SAFETY: one valid pollfd for a descriptor this File owns, for the length of the call.
        let ready = unsafe { libc::poll(&mut pfd, 1, ms) };
        if ready <= 0 {
            continue;
        }
        let mut byte = [0u8; 1];
        let mut input = tty;
        match input.read(&mut byte) {
            Ok(1) if byte[0] == b'\n' => break,
            Ok(1) => {
                if line.len() < 16 {
                    line.push(byte[0]);
                }
            }
            _ => return false,
        }
    }
    let answer = String::from_utf8_lossy(&line).trim().to_ascii_lowercase();
    matches!(answer.as_str(), "y" | "yes")
}

/// git's request as the workstation's gocred gets it: the normalized target, the path when
/// `keep_path`, and the credential attributes.
fn rebuild(r: &Request, target: &Target, keep_path: bool) -> Result<SecretBytes, ProtocolError> {
    let mut w = LineWriter::new();
    w.field("protocol", &target.scheme)?;
    match target.port {
        Some(p) => w.field("host", &format!("{}:{p}", target.host))?,
        None => w.field("host", &target.host)?,
    };
    if keep_path {
        w.opt("path", target.path.as_deref())?;
    }
    w.opt("username", r.username.as_deref())?;
    w.opt("password", r.password.as_ref().map(|p| p.expose()))?;
    w.opt(
        "password_expiry_utc",
        r.password_expiry_utc.map(|t| t.to_string()).as_deref(),
    )?;
    w.opt(
        "oauth_refresh_token",
        r.oauth_refresh_token.as_ref().map(|p| p.expose()),
    )?;
    if let Some(e) = r.ephemeral {
        w.field("ephemeral", if e { "true" } else { "false" })?;
    }
    w.blank_line();
    Ok(SecretBytes(w.as_bytes().to_vec()))
}

fn digest(bytes: &[u8]) -> [u8; 32] {
    use sha2::Digest;
    sha2::Sha256::digest(bytes).into()
}

/// `https://host[:port][/path]` of a target, as the agent's log shows it.
fn shown_target(target: &Target) -> String {
    match &target.path {
        Some(p) => format!("{}/{p}", target.origin()),
        None => target.origin(),
    }
}

/// One credential set of a GOAUTH answer: its URL prefixes and its bytes (prefixes, blank line,
/// headers, blank line).
struct GoauthSet<'b> {
    prefixes: Vec<String>,
    bytes: &'b [u8],
}

/// Splits a GOAUTH answer (as `gocred goauth` writes it) into its credential sets.
fn goauth_sets(out: &[u8]) -> Vec<GoauthSet<'_>> {
    let mut sets = Vec::new();
    let mut start = 0;
    while start < out.len() {
        let Some(end_prefixes) = find(out, start, b"\n\n") else {
            break;
        };
        let Some(end_headers) = find(out, end_prefixes + 2, b"\n\n") else {
            break;
        };
        let prefixes = String::from_utf8_lossy(&out[start..end_prefixes])
            .lines()
            .map(str::to_owned)
            .collect();
        sets.push(GoauthSet {
            prefixes,
            bytes: &out[start..end_headers + 2],
        });
        start = end_headers + 2;
    }
    sets
}

fn find(hay: &[u8], from: usize, needle: &[u8]) -> Option<usize> {
    hay.get(from..)?
        .windows(needle.len())
        .position(|w| w == needle)
        .map(|i| i + from)
}

#[cfg(test)]
mod tests {
    #[test]
    fn goauth_answers_split_into_their_sets() {
        let out = b"https://a.example/\n\nAuthorization: Basic YQ==\n\nhttps://b.example/x/\nhttps://b.example/y/\n\nAuthorization: Basic Yg==\n\n";
        let sets = super::goauth_sets(out);
        assert_eq!(sets.len(), 2);
        assert_eq!(sets[0].prefixes, ["https://a.example/"]);
        assert_eq!(
            sets[1].prefixes,
            ["https://b.example/x/", "https://b.example/y/"]
        );
        assert!(sets[1].bytes.ends_with(b"Yg==\n\n"));
    }
}
