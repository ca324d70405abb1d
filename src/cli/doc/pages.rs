//! What each subcommand's page says beyond its clap definition: more DESCRIPTION where the
//! clap text is one line, and the EXIT STATUS, ENVIRONMENT, FILES and EXAMPLES that every page
//! holds (a test checks each page for them). A subcommand whose `after_long_help` starts with
//! `Examples:` takes its EXAMPLES from there, and its entry here has none.

use super::Block;

pub(crate) struct SubPage {
    /// The page's name: `gocred-config-check`.
    pub(crate) name: &'static str,
    /// Paragraphs after clap's description.
    pub(crate) description: &'static [Block],
    pub(crate) exit_status: &'static str,
    /// Rows after the ones every page has (`GOCRED_CONFIG`, `GOCRED_QUIET`).
    pub(crate) environment: &'static [(&'static str, &'static str)],
    /// Rows after the policy file, which every page has.
    pub(crate) files: &'static [(&'static str, &'static str)],
    /// Shell lines, or empty when `after_long_help` has them.
    pub(crate) examples: &'static str,
}

/// Every page's first rows of ENVIRONMENT.
pub(crate) const COMMON_ENVIRONMENT: &[(&str, &str)] = &[
    (
        "`GOCRED_CONFIG`",
        "The policy file to read instead of the default one (an absolute path).",
    ),
    (
        "`GOCRED_QUIET`",
        "Set to `1`, notes are not printed, as with `--quiet`; errors always are.",
    ),
];

/// Every page's first row of FILES.
pub(crate) const COMMON_FILES: &[(&str, &str)] = &[(
    "`~/.config/gocred/config.toml`",
    "The policy on Linux (`$XDG_CONFIG_HOME/gocred/config.toml`); gocred-config(5) describes it \
     and names the places on other systems.",
)];

const HELPER_EXIT: &str = "0 when the request was answered, and also when the policy does not \
    manage the URL (nothing is printed, and git asks its next helper). 1 for a request git should \
    not have sent (CR, LF or NUL in a value, no `protocol`, no `host`, over-long input), a broken \
    policy or a store that needs fixing, with one line on stderr that says the fix; stdout then \
    stays empty. 2 for a bad command line. git ignores a helper's status, so the stderr line is \
    what a person sees.";

const REPORT_EXIT: &str = "0 on success. 1 when the policy is broken or a store cannot be read, \
    with one line on stderr naming the file or host and the fix. 2 for a bad command line.";

const HELPER_ENV: &[(&str, &str)] = &[(
    "the variable a rule's `token_env` names",
    "The token of the `env` source. Unset or empty, `get` prints one note naming it and the rule.",
)];

const STORE_FILES: &[(&str, &str)] = &[(
    "`~/.local/share/gocred/credentials`",
    "The default `file` store (`$XDG_DATA_HOME/gocred/credentials`, or the policy's `[file] \
     path`), used only by rules that name it.",
)];

const OAUTH_ENV: &[(&str, &str)] = &[
    (
        "`GOCRED_HTTP_TIMEOUT`",
        "Seconds an OAuth or token-check request may take (10 to connect, 30 in all by default).",
    ),
    (
        "`https_proxy`, `no_proxy`, `GIT_SSL_CAINFO`",
        "The proxy and CA certificates of those requests when git's config names none.",
    ),
];

pub(crate) const SUBCOMMAND_PAGES: &[SubPage] = &[
    SubPage {
        name: "gocred-get",
        description: &[Block::Para(
            "git runs `gocred get` with a request on stdin (`protocol`, `host`, and `path` with \
             `credential.useHttpPath`). gocred finds the most specific rule of the policy that \
             matches the URL and asks its sources in order; the first that has a credential \
             answers with `username=` and `password=` lines on stdout. A URL that no rule names \
             gets no output at all.",
        )],
        exit_status: HELPER_EXIT,
        environment: HELPER_ENV,
        files: STORE_FILES,
        examples: "printf 'protocol=https\\nhost=gitlab.corp.example\\n\\n' | gocred get\n\
                   git config --global credential.https://gitlab.corp.example.helper gocred\n",
    },
    SubPage {
        name: "gocred-store",
        description: &[Block::Para(
            "git runs `gocred store` after a credential worked. gocred keeps it in the store \
             that the matching rule's `store` key names (`keychain` or `file`), under the \
             rule's key; a rule without `store`, or a URL no rule names, stores nothing. The \
             `env` source is never written.",
        )],
        exit_status: HELPER_EXIT,
        environment: &[],
        files: STORE_FILES,
        examples: "printf 'protocol=https\\nhost=gitlab.corp.example\\nusername=oauth2\\npassword=TOKEN\\n\\n' | gocred store\n",
    },
    SubPage {
        name: "gocred-erase",
        description: &[Block::Para(
            "git runs `gocred erase` after the server refused a credential. gocred removes every \
             entry of the rule's `store` that matches what git gives: every user when git names \
             none, and only the entry holding the password when git gives one. Nothing outside \
             the rule's key is touched.",
        )],
        exit_status: HELPER_EXIT,
        environment: &[],
        files: STORE_FILES,
        examples: "printf 'protocol=https\\nhost=gitlab.corp.example\\nusername=oauth2\\n\\n' | gocred erase\n",
    },
    SubPage {
        name: "gocred-status",
        description: &[],
        exit_status: REPORT_EXIT,
        environment: &[],
        files: STORE_FILES,
        examples: "gocred status\nGOCRED_CONFIG=/etc/gocred/ci.toml gocred status\n",
    },
    SubPage {
        name: "gocred-config-check",
        description: &[Block::Para(
            "Reads the policy as every command does (with the same ownership and mode checks) \
             and prints every problem, each with its file, line and column, or one line saying \
             the file is valid and how many rules it has.",
        )],
        exit_status: "0 when the policy is valid. 1 when it has a problem, or when \
                      `$GOCRED_CONFIG` names a file that does not exist. 2 for a bad command \
                      line.",
        environment: &[],
        files: &[],
        examples: "gocred config check\nGOCRED_CONFIG=$PWD/new.toml gocred config check\n",
    },
    SubPage {
        name: "gocred-config-init",
        description: &[],
        exit_status: "0 when the policy was written and loads. 1 when a file is already there \
                      (without `--force`), HOST is not a host name, or the file cannot be \
                      written safely, with one line on stderr that names it. 2 for a bad \
                      command line.",
        environment: &[],
        files: &[(
            "`<config path>.bak`",
            "The file that was there, kept by `--force` before it replaces it.",
        )],
        examples: "gocred config init gitlab.corp.example
\
                   gocred config init gitlab.corp.example --source env --token-env CI_JOB_TOKEN --username gitlab-ci-token
",
    },
    SubPage {
        name: "gocred-config-path",
        description: &[Block::Para(
            "Prints the path of the policy file that every command reads: `$GOCRED_CONFIG` when \
             it is set, else the default for this system. It does not read the file.",
        )],
        exit_status: "0 on success, 2 for a bad command line.",
        environment: &[],
        files: &[],
        examples: "gocred config path\n\"$EDITOR\" \"$(gocred config path)\"\n",
    },
    SubPage {
        name: "gocred-netrc",
        description: &[Block::Para(
            "Asks the sources of every rule with an exact https host (or only the `--host` \
             ones) as `get` would, and prints one `machine HOST login USER password SECRET` \
             entry per host that has a credential, for the go command and curl. Hosts with no \
             credential, wildcard rules and path-scoped rules are left out, each with a note on \
             stderr. `--output` writes the file with mode 0600, atomically, never through a \
             symlink.",
        )],
        exit_status: "0 when the netrc was written, even with hosts left out (each left out \
                      host is a note on stderr). 1 for a broken policy, a store that cannot be \
                      read, or an `--output` file that cannot be written safely. 2 for a bad \
                      command line.",
        environment: HELPER_ENV,
        files: STORE_FILES,
        examples: "gocred netrc --output ~/.netrc\ngocred netrc --host gitlab.corp.example > \"$XDG_RUNTIME_DIR/netrc\"\n",
    },
    SubPage {
        name: "gocred-exec",
        description: &[Block::Para(
            "Writes a netrc with the credentials of the policy's hosts into a private directory \
             (mode 0700, under `$XDG_RUNTIME_DIR` when it is set), points `NETRC` at it, makes \
             gocred git's credential helper for those hosts through `GIT_CONFIG_*` variables, \
             runs the command, and removes the directory when the command ends.",
        )],
        exit_status: "The command's own exit status. 1 when gocred could not prepare its \
                      environment (a broken policy, a store that cannot be read) or the \
                      command cannot be started, with one line on stderr. 2 for a bad command \
                      line.",
        environment: HELPER_ENV,
        files: &[(
            "`$XDG_RUNTIME_DIR/gocred/exec-*`",
            "The private netrc while the command runs (under gocred's cache directory when the \
             variable is unset).",
        )],
        examples: "gocred exec -- go mod download\ngocred exec --host gitlab.corp.example -- git fetch\n",
    },
    SubPage {
        name: "gocred-login",
        description: &[],
        exit_status: "0 when the token or the OAuth login was stored. 1 when the server refused \
                      the token, the device flow was denied or timed out, or the store failed, \
                      with one line on stderr naming the host. 2 for a bad command line.",
        environment: OAUTH_ENV,
        files: STORE_FILES,
        examples: "",
    },
    SubPage {
        name: "gocred-logout",
        description: &[],
        exit_status: "0 when the host is logged out, also when nothing was stored for it. 1 \
                      when the host has no rule or a store failed. 2 for a bad command line.",
        environment: OAUTH_ENV,
        files: STORE_FILES,
        examples: "",
    },
    SubPage {
        name: "gocred-goauth",
        description: &[Block::Para(
            "The go command runs `gocred goauth` with no argument before its first request, and \
             with the URL and the server's response after a 4xx. gocred prints, for each host \
             that policy allows, the URL and an `Authorization` header, as `go help goauth` \
             describes, and nothing for other hosts.",
        )],
        exit_status: "0, also when no host gets a header. 1 for a broken policy or a store that \
                      cannot be read. 2 for a bad command line.",
        environment: HELPER_ENV,
        files: STORE_FILES,
        examples: "GOAUTH='gocred goauth' go mod download\ngo env -w GOAUTH='gocred goauth'\n",
    },
    SubPage {
        name: "gocred-setup",
        description: &[Block::Para(
            "`gocred setup git` configures git's credential helpers for the policy's hosts, \
             `gocred setup go` prints the Go settings that keep them private, and `gocred \
             setup ci` does both for a CI job's own server.",
        )],
        exit_status: REPORT_EXIT,
        environment: &[],
        files: &[],
        examples: "gocred setup git\neval \"$(gocred setup go)\"\n",
    },
    SubPage {
        name: "gocred-setup-git",
        description: &[],
        exit_status: "0 when git's config was written. 1 for a broken policy or when `git \
                      config` failed, with one line on stderr. 2 for a bad command line.",
        environment: &[],
        files: &[(
            "`~/.gitconfig`",
            "Where `git config --global` writes the helper settings.",
        )],
        examples: "gocred setup git\ngit config --global --get-regexp '^credential\\.'\n",
    },
    SubPage {
        name: "gocred-setup-go",
        description: &[],
        exit_status: "0 when the settings were printed. 1 for a broken policy or when `go env` \
                      failed. 2 for a bad command line.",
        environment: &[(
            "`GOPRIVATE`, `GONOSUMDB`, `GONOPROXY`",
            "The values the printed lines extend, as `go env` reports them.",
        )],
        files: &[],
        examples: "eval \"$(gocred setup go)\"\n",
    },
    SubPage {
        name: "gocred-setup-ci",
        description: &[Block::Para(
            "The CI server's origin is the one `CI_SERVER_URL` (GitLab) or `GITHUB_SERVER_URL` \
             (GitHub) names; git's helper for it then serves `CI_JOB_TOKEN` as \
             `gitlab-ci-token`, or `GITHUB_TOKEN` as `x-access-token`, read from the job's \
             variables on every request, to that origin alone (scheme, host and port). The \
             same as `[ci] job_token = true` in a policy; gocred-config(5), CI JOB TOKENS.",
        )],
        exit_status: "0 when git's config was written and the lines printed. 1 outside a CI \
                      job, in one whose variables are inconsistent, or when `git config` \
                      failed, with one line on stderr. 2 for a bad command line.",
        environment: &[
            (
                "`GITLAB_CI`, `CI_SERVER_URL`, `CI_SERVER_HOST`, `CI_SERVER_PORT`, \
                 `CI_SERVER_PROTOCOL`, `CI_JOB_TOKEN`, `CI_PROJECT_ROOT_NAMESPACE`",
                "GitLab CI's variables: the server, the token, the namespace (on gitlab.com).",
            ),
            (
                "`GITHUB_ACTIONS`, `GITHUB_SERVER_URL`, `GITHUB_TOKEN`, \
                 `GITHUB_REPOSITORY_OWNER`",
                "GitHub Actions' variables (`GITHUB_TOKEN` mapped in by the workflow).",
            ),
            (
                "`GOPRIVATE`, `GONOSUMDB`, `GOAUTH`",
                "The values the printed lines extend.",
            ),
        ],
        files: &[(
            "`~/.gitconfig`",
            "Where `git config --global` writes the helper for the CI origin.",
        )],
        examples: "eval \"$(gocred setup ci)\"\ngo mod download\n",
    },
    SubPage {
        name: "gocred-import-netrc",
        description: &[Block::Para(
            "Reads a netrc (FILE, else `$NETRC`, else `~/.netrc`) the way git's libcurl \
             does and stores each entry whose host the policy maps to a `keychain` or `file` \
             store, in that store. Entries for hosts the policy does not name are reported and \
             left alone (the rules to add are printed); `--save` adds them to the policy, and \
             `--remove` deletes the file once every entry in it was stored.",
        )],
        exit_status: "0 when every entry the policy allows was imported (entries for other \
                      hosts are notes). 1 when the file cannot be read safely, the policy is \
                      broken or a store failed. 2 for a bad command line.",
        environment: &[(
            "`NETRC`",
            "The file read when no FILE is given, else `~/.netrc`.",
        )],
        files: &[("`~/.netrc`", "The file read by default.")],
        examples: "gocred import-netrc\ngocred import-netrc ~/.netrc.old --save\n",
    },
    SubPage {
        name: "gocred-doctor",
        description: &[],
        exit_status: "0 when every check passed. 1 when one failed; each failure is printed \
                      with its fix. 2 for a bad command line.",
        environment: &[
            (
                "`GOPROXY`, `GOPRIVATE`, `GONOPROXY`, `GONOSUMDB`, `GOSUMDB`, `GOFLAGS`, `GOINSECURE`, `GOAUTH`",
                "What the routing checks read, as `go env` reports them (an `export` fix for one the \
                 environment sets, `go env -w` otherwise).",
            ),
            (
                "`HTTPS_PROXY`, `https_proxy`, `NO_PROXY`, `no_proxy`, `all_proxy`",
                "The proxy go uses (`HTTPS_PROXY`, else `https_proxy`) and git uses (`http.proxy`, \
                 else `https_proxy`, `HTTPS_PROXY`, `all_proxy`), and the hosts exempt from it.",
            ),
            (
                "`SSL_CERT_FILE`, `SSL_CERT_DIR`, `GIT_SSL_CAINFO`",
                "go's trust (else the system pool) and git's (else `http.sslCAInfo`, and its default \
                 bundle), judged separately.",
            ),
            (
                "`NETRC`",
                "The netrc go reads (else `~/.netrc`), checked for drift and exposure.",
            ),
            (
                "`GOCRED_HTTP_TIMEOUT`",
                "Seconds each network step may take (3 by default).",
            ),
        ],
        files: &[(
            "`~/.netrc`",
            "Read by go and by git's libcurl: a token that differs from gocred's is named by line, \
             a file group or others can read is a hazard.",
        )],
        examples: "gocred doctor gitlab.corp.example/group/module\ngocred doctor --json https://gitlab.corp.example/group/module.git\n",
    },
    SubPage {
        name: "gocred-agent",
        description: &[
            Block::Para(
                "A remote (an SSH host, a dev container) asks the agent over the socket; its \
                 gocred needs `GOCRED_AGENT=PATH` (or `[agent] socket` in its config) and \
                 nothing else: no policy, no token, no keychain. The agent decides every \
                 request with this machine's policy AND its --allow list, and prints one line \
                 per request on its stderr: the remote's label, what was asked, what happened \
                 (never a secret).",
            ),
            Block::Para(
                "What a remote can get: the credential of a URL that an --allow entry covers \
                 (same scheme, host and port; under its path for a URL prefix) and that the \
                 policy maps to one; a netrc entry only for a host allowed whole; a GOAUTH \
                 answer only when its URL prefixes are allowed whole. What it cannot get: any \
                 other host, the policy, the stores, an OAuth refresh token, or anything after \
                 the agent stops. Whoever can connect to the socket on the remote (its user, and \
                 root there) can ask for what the list allows while it is forwarded: give each \
                 remote the shortest --allow list that works, and --confirm where root there is \
                 not yours.",
            ),
            Block::Para(
                "The wire protocol is versioned (`gocred-agent/1`): one length-prefixed frame of \
                 at most 64 KiB each way per connection, refused by its version's name when it \
                 is another. The agent gives a peer 10 s to send its request and to take the \
                 answer and a source 20 s to answer, serves 64 requests at once, and keeps serving whatever a peer sends; \
                 the remote gives the whole exchange 30 s (GOCRED_AGENT_TIMEOUT). An agent that \
                 cannot be reached is one line on the remote's stderr naming the socket, and a \
                 miss: git prompts, go gets no credential.",
            ),
        ],
        exit_status: "The agent runs until it is stopped (SIGINT, SIGTERM, SIGHUP: it removes \
                      its socket, exit 128 + the signal). 1 when it cannot start: \
                      an --allow entry that is no host or URL, a broken policy, a policy with \
                      an `[agent]` table, another agent on the socket, a directory that is not \
                      private, --confirm without a terminal. 2 for a bad command line. On the \
                      remote, forwarded commands exit as they do locally, and an unreachable \
                      agent is a miss (0).",
        environment: &[
            (
                "`GOCRED_AGENT`",
                "On the remote: the forwarded socket; set, gocred asks the agent for `get`, \
                 `store`, `erase`, `netrc`, `exec`, `goauth` and `status`.",
            ),
            (
                "`GOCRED_AGENT_LABEL`",
                "On the remote: the label sent with each request (default: the host name, a \
                 container's id).",
            ),
            (
                "`GOCRED_AGENT_TIMEOUT`",
                "On the remote: seconds one request may take, connect to answer (1 to 600, \
                 default 30).",
            ),
        ],
        files: &[(
            "`$XDG_RUNTIME_DIR/gocred/agent/socket`",
            "The default socket (mode 0600) in its directory (mode 0700); under gocred's cache \
             directory when the variable is unset.",
        )],
        examples: "gocred agent --allow gitlab.corp.example --allow https://github.corp.example/team/ &\n\
                   gocred ssh devbox\n\
                   gocred agent --print-devcontainer\n\
                   GOCRED_AGENT=/run/gocred-agent/socket gocred status\n",
    },
    SubPage {
        name: "gocred-ssh",
        description: &[Block::Para(
            "Runs `ssh -R /tmp/gocred-agent-RANDOM.sock:SOCKET -o ExitOnForwardFailure=yes \
             [SSH_OPTION...] HOST 'env GOCRED_AGENT=/tmp/gocred-agent-RANDOM.sock sh -c ...'`: the \
             agent's socket forwarded to a fresh path of 128 random bits on the remote, and \
             `GOCRED_AGENT` set there by the remote command itself (no `AcceptEnv` needed). \
             Without a COMMAND after `--` the remote runs your login shell; the remote socket \
             is removed when it ends. sshd creates the socket with its `StreamLocalBindMask` \
             (0177: mode 0600). The server must allow the forward: `AllowStreamLocalForwarding` \
             `yes` or `remote` (the default), and `AllowTcpForwarding` not `no` or `local` \
             (OpenSSH then refuses every remote forward).",
        )],
        exit_status: "ssh's own exit status (255 when ssh or the forward failed). 1 when no \
                      agent listens on the socket, with the command that starts one. 2 for a \
                      bad command line.",
        environment: &[],
        files: &[(
            "`$XDG_RUNTIME_DIR/gocred/agent/socket`",
            "The agent's socket forwarded by default (`--socket` names another).",
        )],
        examples: "gocred ssh devbox\ngocred ssh me@devbox -p 2222 -- git clone https://gitlab.corp.example/group/repo.git\n",
    },
    SubPage {
        name: "gocred-why",
        description: &[
            Block::Para(
                "The argument is a URL (`https://gitlab.corp.example/group/repo.git`), a module \
                 path (`gitlab.corp.example/group/mod`, taken as https), or the name of a git \
                 remote of the repository in the current directory (`origin`; an ssh remote is \
                 refused: git asks no credential helper over ssh). It is normalized as every \
                 host argument. Without `--probe` nothing leaves the machine: the keychain and \
                 the file store are read, an `oauth` token is judged from its store (an expired \
                 one is reported, not refreshed), and no server is contacted. With `--probe` \
                 the sources are asked exactly as `get` asks them (an `oauth` token near its \
                 expiry is refreshed).",
            ),
            Block::Para(
                "It says: every rule that matches and the one that wins (the most specific: an \
                 exact host beats a wildcard, a longer wildcard a shorter one, then the longer \
                 path prefix), or why none does (no rule for the host, or a rule for it that \
                 wants another scheme, port or path); what the machine policy allows; each \
                 source of the winning rule in order with its state (`present`, `expired`, \
                 `missing variable`, `not found`, `locked`, `unavailable`, `error`, or \
                 `not asked` after one answered), its user name and expiry, never a secret; \
                 what `get`, `store`, `erase`, `netrc` and `goauth` would do; which credential \
                 helpers git runs for the URL, in order, and whether gocred answers first (as \
                 `gocred status` and `doctor` read git's config); and what go does with the \
                 module (GOPROXY/GONOPROXY routing, the GONOSUMDB checksum lookup, GOAUTH).",
            ),
            Block::Para(
                "`--json` (schema 1): `{\"schema\": 1, \"input\", \"as\": {\"kind\": \
                 \"url\"|\"module\"|\"remote\", \"remote\"?}, \"url\", \"module\", \"policy\", \
                 \"rules\": [{\"url\", \"file\", \"line\", \"specificity\", \"wins\"}], \
                 \"decision\": {\"managed\": true, \"rule\": {\"url\", \"file\", \"line\"}, \
                 \"scope\"} or {\"managed\": false, \"why\"}, \"machine_policy\", \"sources\": \
                 [{\"source\", \"state\", \"detail\", \"username\", \"expires\"}], \
                 \"commands\": {\"get\", \"store\", \"erase\", \"netrc\", \"goauth\"}, \
                 \"git\": {\"url\", \"helpers\": [{\"value\", \"from\", \"program\", \"gocred\"}], \
                 \"use_http_path\", \"asks_gocred\", \"problems\": [{\"code\", \"message\", \
                 \"fix\"}], \"error\"}, \"go\": {\"module\", \"routing\", \"checksum\", \
                 \"goauth\", \"error\"} or null}`. `expires` is RFC 3339 UTC or null.",
            ),
        ],
        exit_status: "0 when explained, whatever the explanation says. 1 when the policy is \
                      broken or the argument is no URL, module path or https remote. 2 for a \
                      bad command line.",
        environment: &[
            (
                "the variable a rule's `token_env` names",
                "Whether it is set decides the `env` source's state; its value is never shown.",
            ),
            (
                "`GOPROXY`, `GOPRIVATE`, `GONOPROXY`, `GONOSUMDB`, `GOAUTH`",
                "What the go part reads, as `go env` reports them.",
            ),
        ],
        files: STORE_FILES,
        examples: "gocred why https://gitlab.corp.example/group/repo.git\n\
                   gocred why gitlab.corp.example/group/mod --json\n\
                   gocred why origin\n",
    },
    SubPage {
        name: "gocred-audit",
        description: &[
            Block::Para(
                "The policy's `[audit]` table (`path`, `max_size_mib`) turns the log on. Each \
                 decision is one JSON line, appended with `O_APPEND` in one `write()` (lines of \
                 concurrent gits never interleave) to a regular file opened without following \
                 symlinks, mode 0600. Past `max_size_mib` the file becomes `PATH.1` (under \
                 `PATH.lock`); `gocred audit` reads `PATH.1` and then `PATH`. A log that cannot \
                 be written (full disk, read-only, not a regular file) never changes an answer: \
                 the command does what it would have done, and prints one line on stderr \
                 (`gocred: cannot write the audit log PATH: ...`).",
            ),
            Block::Para(
                "Line format (schema 1): `v` (1); `time` (UTC, RFC 3339 with milliseconds); \
                 `command` (`get`, `store`, `erase`, `netrc`, `exec`, `goauth`, `login`, \
                 `logout`); `target` (the normalized URL, or `scheme://host[:port]` of a netrc \
                 entry); `rule` (`{\"url\", \"file\", \"line\"}` of the rule that decided, or \
                 `null`: no rule, the request is not managed); `sources` (each source asked, in \
                 order: `{\"source\", \"result\", \"detail\"}` with result `found`, \
                 `not found`, `missing variable`, `unavailable` or `error`, and detail the \
                 reason, never a secret); `answered_by` and `username` (when a source \
                 answered); `outcome` (`answered`, `no credential`, `not managed`, \
                 `stored in STORE`, `erased N from STORE`, `ignored`, `logged in`, \
                 `logged out`, or `error: MESSAGE`); `pid`; `ppid` and `parent` (the parent's \
                 command name); `caller` (`git`, `go`, `go via git` or `unknown`, from the \
                 process names above gocred, looking through the `sh` git runs a helper with); \
                 `ancestry` (up to four `{\"pid\", \"comm\"}`, parent first); `remote` \
                 (only for a request a `gocred agent` answered: the label the remote sent, \
                 its host name or container id). Never a \
                 password, token, part of one, or anything of the request but its target.",
            ),
        ],
        exit_status: "0 on success, also when nothing matches. 1 when the policy has no \
                      `[audit]` table or the log cannot be read. 2 for a bad command line \
                      (an unreadable `--since`, `--until` or `--host`).",
        environment: &[],
        files: &[(
            "the `[audit] path` of the policy, and `PATH.1`",
            "The log, and the one it rotated to.",
        )],
        examples: "gocred audit --host gitlab.corp.example --since 1d
\
                   gocred audit --since 2026-12-01 --until 2026-12-02 --json | jq .outcome
",
    },
    SubPage {
        name: "gocred-completions",
        description: &[Block::Para(
            "Prints the completion script for SHELL on stdout. The scripts complete \
             subcommands and options, the hosts of the policy after `login`, `logout`, \
             `doctor` and `--host` (they run the hidden `gocred __complete hosts`, which prints \
             each rule's host and nothing when the policy cannot be read), files after \
             `import-netrc`, and commands after `exec --`.",
        )],
        exit_status: "0 on success, 2 for an unknown shell.",
        environment: &[],
        files: &[
            (
                "`/usr/share/bash-completion/completions/gocred`",
                "Where bash-completion loads the bash script from, the first time `gocred` is \
                 completed (`~/.local/share/bash-completion/completions/gocred` for one user).",
            ),
            (
                "`/usr/share/fish/vendor_completions.d/gocred.fish`",
                "Where fish finds its script (`~/.config/fish/completions/gocred.fish` for one \
                 user).",
            ),
            (
                "`/usr/share/zsh/vendor-completions/_gocred`",
                "Where zsh finds its script on Debian (`site-functions` elsewhere; a directory \
                 of your `fpath` for one user).",
            ),
        ],
        examples: "",
    },
];
