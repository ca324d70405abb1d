//! `gocred doctor MODULE|URL [--json] [--verbose]`: arguments, then [`crate::doctor::run`].

use super::CommandError;
use super::context::Context;
use crate::doctor::{self, Inputs};
use std::io::Write;
use std::time::Duration;

pub(super) const LONG_ABOUT: &str =
    "Check network, Go routing, auth and git's wiring for a private \
module: the layer that fails first, and the fix that works.

Four layers, in order. network: for go and for git separately (they read different settings): the \
proxy each uses (go: HTTPS_PROXY, https_proxy, NO_PROXY; git: http.proxy, then https_proxy, \
HTTPS_PROXY, all_proxy, no_proxy), whether it is alive and lets the host through, the TLS \
handshake, and whether each client's own trust accepts the certificate (go: SSL_CERT_FILE, \
SSL_CERT_DIR, the system pool; git: GIT_SSL_CAINFO, http.sslCAInfo, its default bundle). \
routing: from `go env`: GOFLAGS remnants (-mod=vendor, -insecure), proxy or direct (GOPROXY, \
GONOPROXY, GOPRIVATE, GOPROXY=off), the public checksum database (GONOSUMDB, GOSUMDB), GOINSECURE, \
GOAUTH. auth: the rule (under a machine policy, with the layer that decided it), the credential and its expiry, one authenticated `GET \
<repo>/info/refs?service=git-upload-pack` sent only to the host the rule matched (a 404 there \
with a 401 without the credential: the token cannot read the project), go's `?go-get=1` \
discovery request (a GitLab subgroup answers it with its parent's path unless the credential \
comes with it: `goauth = \"preemptive\"`), and `~/.netrc` (a token that differs from gocred's, \
by file and line; a file group or others can read). git: whether git asks gocred for the \
module's URL (the helpers git runs, in git's order; gocred found; no other helper before it; \
`useHttpPath` where the rule has a path).

The first failing check is the one to act on: doctor prints it first, with its fix. A fix in \
backquotes is a command to run as printed (TOKEN, USER and /path/to/... stand for what only \
you know; what follows an \"or\" is an alternative); a failure whose fix doctor cannot vouch for says so. A healthy set-up prints one line \
(--verbose lists every check). Every network step has a short timeout (3 s, or \
GOCRED_HTTP_TIMEOUT). Nothing printed holds a secret.

JSON OUTPUT (--json): an object with `schema` (2; a new number only when a field changes \
meaning or goes away), `url` (the repository URL checked), `module`, `healthy` (no check \
failed), `first_failure` (null, or the `layer`, `check` and `fix` of the check to act on) and \
`checks`, in order, each with `layer` (network, routing, auth or git), `check` (its id: \
network.go.proxy, network.go.dns, network.go.tcp, network.go.tls, network.go.trust, the same \
under network.git, network.go.goproxy (a dead GOPROXY hop), routing.go_env, routing.goflags, routing.proxy, routing.checksum, \
routing.insecure, routing.goauth, auth.rule, auth.netrc, auth.credential, auth.server, \
auth.discovery, auth.goproxy (a company GOPROXY's credential), git.helper), `status` (pass, fail, or skip when an earlier failure makes it \
meaningless), `detail` and `fix` (null unless it failed; null for a failure whose fix doctor \
does not know).";

#[derive(Debug, clap::Args)]
pub struct DoctorArgs {
    /// A module path (git.corp.example/group/mod) or a repository URL
    #[arg(value_name = "MODULE|URL", allow_hyphen_values = true)]
    pub target: String,
    /// Print the checks as JSON
    #[arg(long)]
    pub json: bool,
    /// List every check, also when all passed
    #[arg(long, short = 'v')]
    pub verbose: bool,
}

pub fn cmd_doctor(ctx: &mut Context, args: DoctorArgs) -> Result<(), CommandError> {
    let subject = doctor::parse_subject(&args.target).map_err(CommandError::user)?;
    let timeout = crate::net::timeout_from_env(&*ctx.env)
        .ok()
        .flatten()
        .unwrap_or(Duration::from_secs(3));
    let report = {
        let inputs = Inputs {
            env: &*ctx.env,
            now: ctx.now,
            policy: ctx.load_policy().map_err(|e| e.message),
            timeout,
        };
        doctor::run(&subject, &inputs)
    };
    let text = if args.json {
        report.json()
    } else {
        report.human(args.verbose)
    };
    ctx.stdout
        .write_all(text.as_bytes())
        .and_then(|()| ctx.stdout.flush())
        .map_err(|e| CommandError::user(format!("cannot write to stdout: {e}")))?;
    match report.first_failure() {
        None => Ok(()),
        Some(first) => Err(CommandError::user(format!(
            "{} check{} failed for {}; act on the first: {}",
            report.failures(),
            if report.failures() == 1 { "" } else { "s" },
            subject.module,
            first.id
        ))),
    }
}
