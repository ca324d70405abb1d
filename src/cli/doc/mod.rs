//! The reference text that the clap definition does not hold: the policy file format
//! (gocred-config(5)) and the sections of gocred(1) beyond its options. This is the one source of
//! those man pages. README.md says the same: a test finds each block of every section marked
//! `in_readme` in README.md (whitespace aside), so the two cannot drift apart.
//!
//! The text uses the Markdown that both outputs understand: `code` and **bold** (bold in the
//! man page), and links (their text alone in the man page).
//! `man.rs` renders the pages, completions come from clap_complete, and `tests.rs` fails when the
//! files in man/ and completions/ differ from what the code renders now. Only tests compile this;
//! `scripts/generate-docs` rewrites the files.

mod man;
pub(crate) mod minted;
mod pages;
#[cfg(test)]
mod tests;

pub(crate) use man::pages;

/// A piece of a section.
pub(crate) enum Block {
    /// A sub-heading: `.SS` in the man page, `###` in README.md.
    Heading(&'static str),
    Para(&'static str),
    /// A bulleted list: each item's text and its sub-items.
    List(&'static [Item]),
    /// A `| key | meaning |` table in README.md, a tagged paragraph per key in the man page.
    Keys(&'static [(&'static str, &'static str)]),
    /// A code block shown verbatim, with its Markdown language (`toml`, `sh`).
    Code(&'static str, &'static str),
    /// A paragraph of the man page alone (README.md has its own words there).
    ManOnly(&'static str),
}

pub(crate) struct Item {
    pub(crate) text: &'static str,
    pub(crate) sub: &'static [&'static str],
}

pub(crate) struct Section {
    /// The man page's `.SH` heading.
    pub(crate) heading: &'static str,
    /// Whether README.md has the same text (checked by a test).
    pub(crate) in_readme: bool,
    pub(crate) blocks: &'static [Block],
}

const fn item(text: &'static str) -> Item {
    Item { text, sub: &[] }
}

/// The name line of gocred-config(5).
pub(crate) const CONFIG_NAME: &str = "the gocred credential policy file";

/// The policy file location (README: the first paragraph of "Configuration").
const LOCATION: Block = Block::Para(
    r"The policy is read from `$GOCRED_CONFIG`, or else from `<config dir>/gocred/config.toml`: that is `$XDG_CONFIG_HOME/gocred/config.toml` (normally `~/.config/gocred/config.toml`) on Linux, `~/Library/Application Support/gocred/config.toml` on macOS, and `%APPDATA%\gocred\config.toml` on Windows. `gocred config path` prints the path it uses, and `gocred config check` lists every problem in the file with its line and column. Every command reads the file as it is now: there is no cached copy, so an edit takes effect on the next `get`.",
);

/// When the policy file is read at all (README: "Configuration").
const TRUST: Block = Block::Para(
    r"Like ssh's `StrictModes`, gocred reads the policy only when no one but its owner can change it: the file must be owned by you or root, and neither its group nor others may write it; the same holds for every directory above it (except that a sticky directory such as `/tmp` may be writable by all), on the path as given and on the path its symlinks lead to. It must be a regular file (a symlink to one is fine; a FIFO or a device is refused) of at most 8 MiB, and `$GOCRED_CONFIG` must be an absolute path, since git runs gocred inside whatever repository it works in. Each refusal is one line naming the path and the `chmod` or `chown` that fixes it. A `$GOCRED_CONFIG` that names a file that does not exist is an error for `gocred config check` and `gocred status`, and a one-line note from `get` (which then answers nothing, and exits 0 as for a denied host: git ignores a helper's exit status and asks the next helper).",
);

/// The keys of a `[[rule]]` table, in the order the loader lists them.
pub(crate) const RULE_KEYS: &[(&str, &str)] = &[
    (
        "`url`",
        "`scheme://host[:port][/path/prefix/]`. The scheme is `https`, or `http` with \
         `allow_http = true`. The host may be `*.corp.example`. No user name, query or fragment.",
    ),
    (
        "`sources`",
        "The sources to ask, in order: `keychain`, `file`, `env`, `oauth`, `command`, `ci`, `github-app`, `sts`. The first one that has a credential answers. `oauth` can be combined with `env` only (see [OAuth](#oauth-gocred-login)); `command` runs a secrets manager's CLI and `ci` is the CI job's own token (see [Secrets managers](#secrets-managers-the-command-source) and [CI job tokens](#ci-job-tokens)); `github-app` and `sts` mint short-lived tokens (see [GitHub App and CI identity](#github-app-and-ci-identity)).",
    ),
    (
        "`username`",
        "A fixed user name. The `env` source needs it (`gitlab-ci-token`, `x-access-token`, \
         `oauth2`). The keychain and file sources use it to pick an entry when git does not name \
         a user.",
    ),
    (
        "`token_env`",
        "The environment variable that the `env` source reads. If it is unset or empty, gocred \
         tries the next source; if none answers, `get` prints one line naming the variable and \
         the rule (`gocred: CI_JOB_TOKEN is not set: rule URL (FILE line N) has no token for \
         git`), so a CI log says why git could not read a user name (`--quiet` or \
         `GOCRED_QUIET=1` silences it).",
    ),
    (
        "`store`",
        "Where git's `store` and `erase` go: `keychain` or `file`, and it must be one of \
         `sources`. If it is absent, `store` and `erase` are ignored. In an `oauth` rule it says \
         where the OAuth tokens live instead (the keychain when absent).",
    ),
    (
        "`[rule.oauth]`",
        "The OAuth server of an `oauth` rule: see [OAuth](#oauth-gocred-login).",
    ),
    (
        "`[rule.github_app]`, `[rule.sts]`",
        "The GitHub App of a `github-app` rule, the token exchange of an `sts` rule: see \
         [GitHub App and CI identity](#github-app-and-ci-identity).",
    ),
    (
        "`allow_http`",
        "`false` by default. A credential is never sent over `http://` unless the rule says so.",
    ),
    (
        "`goauth`",
        "`\"on-challenge\"` (default): `gocred goauth` answers for this rule only after the \
         server asked (a 4xx). `\"preemptive\"`: Go's first call, before any request, already \
         gets this host's credential. Only for an https rule with an exact host and no path.",
    ),
    (
        "`command`",
        "The `command` source's program and its arguments, as an array (`[\"pass\", \"show\", \"git/host\"]`): never a shell command line. The program is an absolute path or a bare name looked up on PATH; a relative path is an error.",
    ),
    (
        "`command_timeout`",
        "Seconds the `command` program may run (1 to 600, default 10); then it is killed with its process group.",
    ),
    (
        "`cache`",
        "Whether the `command` source keeps an answer in the keychain: `\"none\"` (default), `\"until-expiry\"` (an answer that says when it expires, until a minute before then) or a number of seconds such as `\"300\"`.",
    ),
];

/// The keys of a rule's `[rule.oauth]` table.
pub(crate) const OAUTH_KEYS: &[(&str, &str)] = &[
    (
        "`provider`",
        "`gitlab`, `github` or `oidc`. Picks the endpoints, the default scopes and user name.",
    ),
    (
        "`client_id`",
        "The application's client id. gocred is a public client: there is no secret.",
    ),
    (
        "`scopes`",
        "What to ask for. Default: `read_repository`, `write_repository` (GitLab), `repo` \
         (GitHub), `openid`, `offline_access` (OIDC).",
    ),
    (
        "`issuer`",
        "`oidc` only: the endpoints come from \
         `<issuer>/.well-known/openid-configuration`.",
    ),
    (
        "`device_authorization_endpoint`, `token_endpoint`, `revocation_endpoint`",
        "Override what is known or discovered. `oidc` without `issuer` needs the first two.",
    ),
];

/// OAuth rules, as README.md shows them.
pub(crate) const EXAMPLE_OAUTH_GITLAB: &str = r#"[[rule]]
url = "https://gitlab.corp.example"
sources = ["oauth"]

[rule.oauth]
provider = "gitlab"
client_id = "0e5c3c1b8d2f4a7e9b6c5d4e3f2a1b0c9d8e7f6a5b4c3d2e1f0a9b8c7d6e5f4a"
scopes = ["read_repository", "write_repository", "openid", "profile"]
"#;

pub(crate) const EXAMPLE_OAUTH_OIDC: &str = r#"[[rule]]
url = "https://git.corp.example"
sources = ["oauth"]
store = "file"

[rule.oauth]
provider = "oidc"
client_id = "gocred"
issuer = "https://sso.corp.example/realms/dev"
"#;

/// The keys outside `[[rule]]`.
pub(crate) const OTHER_KEYS: &[(&str, &str)] = &[
    (
        "`[keychain] backend`",
        "Which keychain the `keychain` source uses: `auto` (the default), `secret-service`, \
         `keyutils`, `macos` or `windows`. On Linux, `auto` picks the Secret Service when a \
         session bus and an unlocked keyring answer quickly, and kernel keyutils otherwise. On \
         macOS and Windows it picks the system's own keychain.",
    ),
    (
        "`[file] path`",
        "Where the `file` store lives: an absolute path, or one that starts with `~/`. The \
         default is `$XDG_DATA_HOME/gocred/credentials` (normally \
         `~/.local/share/gocred/credentials`) on Linux.",
    ),
    (
        "`[ci] job_token`",
        "`true`: in a GitLab CI or GitHub Actions job, the job's own token goes to the CI server's origin, with no rule (see [CI job tokens](#ci-job-tokens)). Default `false`.",
    ),
    (
        "`[agent] socket`",
        "On a remote machine or in a container: the socket of a gocred agent on the \
         workstation (an absolute path, or one that starts with `~/`; `GOCRED_AGENT` overrides \
         it). `get`, `store`, `erase`, `netrc`, `exec`, `goauth` and `status` then ask that \
         agent, and this file's rules are not used for them. See gocred-agent(1).",
    ),
    (
        "`[audit] path`",
        "Turns the audit trail on: one JSON line per decision of `get`, `store`, `erase`, \
         `netrc`, `exec`, `goauth`, `login` and `logout` is appended to this file (absolute, or \
         starting with `~/`; created mode 0600), never a secret. `gocred audit` prints it; \
         gocred-audit(1) has the line format. In the machine policy, `required = true` makes \
         it the log every user's commands write, whatever their own policy says, and `group = \
         \"NAME\"` lets that group (the security team's) read it: the log is then mode 0640 and \
         belongs to the group, and the directories gocred creates for it are 0750 and belong to \
         it too (the ones above must let the group through, e.g. a home directory of mode \
         0751). A user who is not a member cannot give the log to the group: the line is still \
         written, the log stays 0600, and one stderr line says so.",
    ),
    (
        "`[audit] max_size_mib`",
        "Past this size (MiB, 1 to 4096; default 10) the log is renamed to `PATH.1`, replacing \
         the one before.",
    ),
];

/// The example policies, as README.md shows them.
pub(crate) const EXAMPLE_LAPTOP: &str = r#"# Optional: which keychain to use. "auto" (the default) picks the Secret Service when a
# session bus and an unlocked keyring answer quickly, and kernel keyutils otherwise.
# Other values: "secret-service", "keyutils", "macos", "windows".
[keychain]
backend = "auto"

# A self-managed GitLab. You sign in once: git stores what worked in the keychain, and
# erases it when the server rejects it. With a personal access token, GitLab accepts any
# user name; "oauth2" is the convention for OAuth tokens.
[[rule]]
url = "https://gitlab.corp.example"
sources = ["keychain"]
store = "keychain"

# GitHub Enterprise on a non-default port.
[[rule]]
url = "https://github.corp.example:8443"
sources = ["keychain"]
store = "keychain"

# One team's repositories on the GitLab use another account. A path prefix needs
# credential.useHttpPath (see above), and here it beats the host-wide rule because it is
# more specific.
[[rule]]
url = "https://gitlab.corp.example/release-team/"
sources = ["keychain"]
store = "keychain"

# Every mirror under mirror.corp.example (a.mirror.corp.example, b.c.mirror.corp.example, ...).
# Each host gets its own entry: what is stored for one is never returned for another.
[[rule]]
url = "https://*.mirror.corp.example"
sources = ["keychain"]
store = "keychain"
"#;

pub(crate) const EXAMPLE_BUILD_SERVER: &str = r#"# No desktop and no Secret Service: the kernel keyring of the CI user.
[keychain]
backend = "keyutils"

# GitLab CI: the job token, with the user name GitLab expects for it. The env source is
# read-only, so the token is never written anywhere, even when git says it worked.
[[rule]]
url = "https://gitlab.corp.example"
sources = ["env"]
username = "gitlab-ci-token"
token_env = "CI_JOB_TOKEN"

# GitHub Enterprise with a GitHub App installation token in GHE_TOKEN. If it is unset,
# gocred falls back to what an earlier `git` run stored in the file store.
[[rule]]
url = "https://github.corp.example:8443"
sources = ["env", "file"]
username = "x-access-token"
token_env = "GHE_TOKEN"
store = "file"

# Where the file store lives. The default is $XDG_DATA_HOME/gocred/credentials.
[file]
path = "/var/lib/ci/gocred/credentials"
"#;

/// The machine policy example (README: "The machine policy").
pub(crate) const EXAMPLE_MACHINE: &str = r#"# /etc/gocred/policy.toml: root's, mode 0644
[[rule]]
url = "https://gitlab.corp.example"
sources = ["oauth"]
[rule.oauth]
provider = "gitlab"
client_id = "corp-gocred"

[machine]
user_rules = "allow"
deny = ["https://*.internal.example"]

[[machine.restrict]]
url = "https://*.corp.example"
sources = ["keychain", "oauth"]
secret_files = false
[machine.restrict.oauth]
client_id = "corp-gocred"
"#;
pub(crate) const EXAMPLE_COMMAND_PASS: &str = r#"# pass (https://www.passwordstore.org): `pass insert git/gitlab.corp.example`, the token on
# the first line. gpg-agent asks for the passphrase as it would for `pass show`.
[[rule]]
url = "https://gitlab.corp.example"
sources = ["command"]
command = ["pass", "show", "git/gitlab.corp.example"]
username = "oauth2"
"#;
pub(crate) const EXAMPLE_COMMAND_VAULT: &str = r#"# Vault or OpenBao (`bao`): a KV secret's `token` field. VAULT_ADDR and the login
# (VAULT_TOKEN, or the agent) come from the caller's environment.
[[rule]]
url = "https://gitlab.corp.example"
sources = ["command"]
command = ["bao", "kv", "get", "-field=token", "secret/ci/gitlab"]
username = "gitlab-ci-token"
cache = "300"
"#;
pub(crate) const EXAMPLE_COMMAND_1PASSWORD: &str = r#"# 1Password: a service account (OP_SERVICE_ACCOUNT_TOKEN) or the desktop app's CLI.
[[rule]]
url = "https://github.corp.example"
sources = ["command"]
command = ["op", "read", "op://ci/github/token"]
username = "x-access-token"
"#;
pub(crate) const EXAMPLE_COMMAND_AWS: &str = r#"# AWS Secrets Manager: the secret's string is the token; the machine's role signs the call.
[[rule]]
url = "https://gitlab.corp.example"
sources = ["command"]
command = ["aws", "secretsmanager", "get-secret-value", "--secret-id", "ci/gitlab-token",
           "--query", "SecretString", "--output", "text"]
username = "oauth2"
command_timeout = 20
cache = "900"
"#;
pub(crate) const EXAMPLE_COMMAND_GCP: &str = r#"# Google Secret Manager: the latest version of the secret.
[[rule]]
url = "https://gitlab.corp.example"
sources = ["command"]
command = ["gcloud", "secrets", "versions", "access", "latest", "--secret=gitlab-token"]
username = "oauth2"
command_timeout = 20
cache = "900"
"#;
pub(crate) const EXAMPLE_COMMAND_JSON: &str = r#"# Your own program printing JSON ({"token": "...", "username": "...", "expires_at":
# "2026-12-05T15:00:00Z"}), kept until a minute before the token expires. It can serve many
# hosts: it reads GOCRED_HOST.
[[rule]]
url = "https://*.git.corp.example"
sources = ["command"]
command = ["/usr/local/libexec/corp-git-token", "--json"]
cache = "until-expiry"
"#;
pub(crate) const EXAMPLE_CI: &str = r#"# A CI image's whole policy: the job token for the CI server, nothing else.
[ci]
job_token = true
"#;
const EXAMPLE_CI_SH: &str = r#"# .gitlab-ci.yml or a workflow step, with no policy file:
eval "$(gocred setup ci)"
go mod download
"#;
const COMMAND_VARIABLES: &[(&str, &str)] = &[
    (
        "`GOCRED_PROTOCOL`",
        "`https` (or `http` with `allow_http`).",
    ),
    ("`GOCRED_HOST`", "The host, lower case, without a port."),
    (
        "`GOCRED_PORT`",
        "The port, always set (`443` for https when the URL has none).",
    ),
    (
        "`GOCRED_PATH`",
        "The repository path git sent (`credential.useHttpPath`); unset otherwise.",
    ),
    (
        "`GOCRED_USERNAME`",
        "The user name git asked for, else the rule's `username`; unset otherwise.",
    ),
    (
        "`GOCRED_URL`",
        "`scheme://host[:port][/path]` of the request.",
    ),
    ("`GOCRED_RULE`", "The rule's `url` as written."),
];

/// gocred-config(5), after NAME.
pub(crate) const CONFIG_5: &[Section] = &[
    Section {
        heading: "SYNOPSIS",
        in_readme: false,
        blocks: &[Block::Para(
            r"`$GOCRED_CONFIG`, or `~/.config/gocred/config.toml` (Linux), `~/Library/Application Support/gocred/config.toml` (macOS), `%APPDATA%\gocred\config.toml` (Windows)",
        )],
    },
    Section {
        heading: "DESCRIPTION",
        in_readme: false,
        blocks: &[Block::Para(
            "The policy is one TOML file that says which source serves which URL: any number of \
             `[[rule]]` tables, and optional `[keychain]`, `[file]` and `[agent]` tables. Anything the \
             policy does not name is denied: git gets no answer from gocred(1) and asks its next \
             helper or prompts. A missing file is a policy with no rules.",
        )],
    },
    Section {
        heading: "LOCATION",
        in_readme: true,
        blocks: &[LOCATION, TRUST],
    },
    Section {
        heading: "RULE KEYS",
        in_readme: true,
        blocks: &[
            Block::Keys(RULE_KEYS),
            Block::Para(
                "Unknown keys are errors, and so are a source that lacks what it needs, a `store` \
                 that could never be read back and a bad URL. A broken config makes `gocred get` \
                 print one line that names the file and exit with status 1, and nothing goes to \
                 stdout.",
            ),
        ],
    },
    Section {
        heading: "OTHER KEYS",
        in_readme: true,
        blocks: &[Block::Keys(OTHER_KEYS)],
    },
    Section {
        heading: "OAUTH",
        in_readme: true,
        blocks: &[
            Block::Para(
                "A rule with `sources = [\"oauth\"]` and a `[rule.oauth]` table gets its token \
                 from the OAuth 2.0 device flow ([RFC 8628]): you run `gocred login HOST` once, \
                 approve a code in any browser (on your phone, if the machine has none), and from \
                 then on git gets a fresh token with no prompt.",
            ),
            Block::Keys(OAUTH_KEYS),
            Block::Para(
                "Tokens are filed under the request's `scheme://host[:port]` plus the rule's path \
                 prefix: one login per host and rule, whatever repository git asks for. The user \
                 name git sends is the rule's `username`, else `oauth2` (GitLab, and OIDC servers) \
                 or `x-access-token` (GitHub).",
            ),
            Block::Para(
                "Nothing is lost to an outage. A refresh that fails for a passing reason (HTTP \
                 429 or 5xx, `temporarily_unavailable`, `slow_down`, a timeout, a dropped \
                 connection) keeps the refresh token: git gets the current token while it is \
                 still valid, with a one-line note, else nothing, and the next request tries \
                 again. Only the server's explicit refusal of the refresh token (`invalid_grant`, \
                 or GitHub's `bad_refresh_token`) erases it, and only if it is still the one \
                 stored. No OAuth request follows a redirect, and through a proxy gocred only \
                 opens `CONNECT` tunnels.",
            ),
            Block::ManOnly(
                "A self-managed GitLab (its application registered with the device flow and \
                 Confidential off), and an OIDC server whose endpoints are discovered from the \
                 issuer, with the tokens in the file store:",
            ),
            Block::Code("toml", EXAMPLE_OAUTH_GITLAB),
            Block::Code("toml", EXAMPLE_OAUTH_OIDC),
            Block::ManOnly(
                "README.md says how to register gocred with GitLab, GitHub and OIDC servers, and \
                 which proxy and CA certificates the OAuth requests use (those git uses for the \
                 URL).",
            ),
        ],
    },
    Section {
        heading: "SECRETS MANAGERS",
        in_readme: true,
        blocks: &[
            Block::Para(
                "A rule with `sources = [\"command\"]` asks a program for the credential: the secrets manager's own CLI (`pass`, `bao` or `vault`, `op`, `aws`, `gcloud`), so no token lives in gocred's stores or on disk. The program runs only for a request its rule matches, with stdin empty and its stderr shown to the user; its stdout is read into memory that is wiped afterwards, and never echoed.",
            ),
            Block::Para(
                "It gets the request in these variables (its environment is otherwise the caller's):",
            ),
            Block::Keys(COMMAND_VARIABLES),
            Block::Para(
                "Its output is one of: a token on the first line (the rest is ignored, as `pass` keeps notes there); git-credential lines `username=`, `password=`, `password_expiry_utc=`; or a JSON object with `token`, and optionally `username` and `expires_at` (RFC 3339 or Unix seconds). The user name git gets is the rule's `username`, else the program's, else the one git asked for. Anything else is refused, and so is an empty output, more than 64 KiB, a non-zero exit status, or a program still running after `command_timeout`: `get` prints one line naming the rule and the program and why (`command: rule https://h (line 3): `pass` gave no credential: it exited with status 1`), never what it printed, and answers nothing.",
            ),
            Block::Para(
                "With `cache`, an answer is kept in the keychain under the request's `scheme://host[:port]` key, like any stored credential (`gocred status` lists it under the rule), and the program runs again when it is due. Parallel gits that miss together run the program once: the others wait for the same per-key lock the OAuth refresh uses and read what it stored. When git reports that the server refused a cached token (`erase`), it is dropped. git's own `store` is never kept for a `command` or `ci` rule.",
            ),
            Block::Code("toml", EXAMPLE_COMMAND_PASS),
            Block::Code("toml", EXAMPLE_COMMAND_VAULT),
            Block::Code("toml", EXAMPLE_COMMAND_1PASSWORD),
            Block::Code("toml", EXAMPLE_COMMAND_AWS),
            Block::Code("toml", EXAMPLE_COMMAND_GCP),
            Block::Code("toml", EXAMPLE_COMMAND_JSON),
        ],
    },
    Section {
        heading: "CI JOB TOKENS",
        in_readme: true,
        blocks: &[
            Block::Para(
                "In a GitLab CI job (`GITLAB_CI=true`, `CI_SERVER_URL`, `CI_JOB_TOKEN`) or a GitHub Actions job (`GITHUB_ACTIONS=true`, `GITHUB_SERVER_URL`, `GITHUB_TOKEN`), `[ci] job_token = true` serves the job's token as `gitlab-ci-token` or `x-access-token` to exactly the CI server's origin: its scheme, host and port. Not to a subdomain, another port, another host or http, and nothing at all when the variables are absent or inconsistent: a `CI_SERVER_URL` that is not `https://host[:port]`, a `CI_SERVER_HOST`, `CI_SERVER_PORT` or `CI_SERVER_PROTOCOL` that disagrees with it, an empty token, or both systems at once. Then `get` prints one note that says why (`gocred: note: no CI job token is served: GitLab CI: CI_SERVER_URL \"http://...\" is not https...`). GitHub does not put `GITHUB_TOKEN` in the environment by itself: map it in the workflow (`env: GITHUB_TOKEN: ${{ github.token }}`).",
            ),
            Block::Para(
                "It needs no rule: `job_token` stands for a rule for the CI origin whose source is `ci` (a rule you write for exactly that URL comes first). A rule may also list `ci` among its `sources`; the `ci` source still answers only for the CI server's own origin. The token is read from the job's variables on every request and never stored.",
            ),
            Block::Para(
                "`gocred setup ci` does the same with no policy at all: it makes git ask gocred (run with `--ci-job-token`, which is `GOCRED_CI_JOB_TOKEN=1`) and only gocred for the CI origin in the job's global git config, and prints `export` lines for GOPRIVATE and GONOSUMDB (the CI host; on github.com and gitlab.com only the job's namespace, `GITHUB_REPOSITORY_OWNER` or `CI_PROJECT_ROOT_NAMESPACE`) and GOAUTH (`git $HOME`, so go asks git, which asks gocred), each merged into the value go uses now (the job's environment over go's env file, as `go env` reports it; a GOAUTH of `off` is replaced). It writes no secret, and refuses outside a CI job or in one whose variables are inconsistent.",
            ),
            Block::Code("toml", EXAMPLE_CI),
            Block::Code("sh", EXAMPLE_CI_SH),
        ],
    },
    minted::SECTION,
    Section {
        heading: "HOW A REQUEST IS MATCHED",
        in_readme: true,
        blocks: &[Block::List(&[
            item(
                "A rule matches on scheme, host and port, and also on the path prefix when it \
                 has one. Host names compare case-insensitively, and a trailing dot on a name \
                 is ignored. An IP address has one spelling (`127.0.0.1`, `[::1]`) and no \
                 trailing dot: `127.0.0.1.` is a DNS name, never that address, and a rule cannot \
                 name it. `:443` on https (and `:80` on http) is the same as no port. A rule \
                 without a port matches only the default port.",
            ),
            item(
                "`*.corp.example` matches one or more labels under `corp.example`, such as \
                 `git.corp.example` and `a.b.corp.example`. It never matches `corp.example` \
                 itself, nor `corp.example.evil.com`. There is no other wildcard, and a wildcard \
                 needs at least two labels after it. A wildcard whose base is a public suffix \
                 (`*.co.uk`, `*.github.io`, `*.com.au`) is an error: it would span every \
                 organisation under it. gocred checks this against the Public Suffix List \
                 compiled into it; `gocred --version` shows which.",
            ),
            item(
                "A path prefix matches on a `/` boundary: `/team/` matches `team` and \
                 `team/repo.git`, but not `teamwork/repo.git`. The path is checked whole, \
                 percent-decoded: one with an empty, `.` or `..` segment, or with `?`, `#`, `;`, \
                 `\\` or `%` anywhere (`team?/../other`, `team/%2e%2e/other`, `team%2Fx`) never \
                 matches a path-scoped rule, whichever command it reaches (a URL from go loses \
                 its query first). Neither does a request with no path: git sends the path only \
                 when `credential.useHttpPath` is set for the host. A rule's prefix is written \
                 decoded.",
            ),
            item(
                "**When several rules match, the most specific wins.** An exact host beats any \
                 wildcard, a longer wildcard beats a shorter one (`*.eu.corp.example` beats \
                 `*.corp.example`), and then a longer path prefix beats a shorter one. The order \
                 of the rules in the file does not matter. Two rules that match exactly the same \
                 URLs are an error.",
            ),
            item(
                "**Default is deny.** A request that no rule matches gets no output and exit \
                 status 0, so git asks its next helper or prompts. gocred does this without \
                 touching D-Bus or any file other than the config (and the audit log, which \
                 records the refusal, when `[audit]` turns it on).",
            ),
        ])],
    },
    Section {
        heading: "WHAT IS STORED, AND UNDER WHICH KEY",
        in_readme: true,
        blocks: &[
            Block::Para(
                "A stored credential is filed under the exact `scheme://host[:port]` of the \
                 request. For a path-scoped rule the key also holds the request's path. It is \
                 returned only for that exact key, and only for the same user name when git \
                 names one. So a password stored for `a.mirror.corp.example` is never returned \
                 for `b.mirror.corp.example`, and the same goes for another scheme, port or \
                 repository path. Each entry keeps the user name, password, expiry \
                 (`password_expiry_utc`) and OAuth refresh token together, and several users per \
                 host work.",
            ),
            Block::Para(
                "Within that key, entries match the way git's own `credential-store` and \
                 `credential-cache` match them. What git stores comes back exactly as stored: an \
                 empty user name or password is a value (absent and empty differ), and \
                 `password_expiry_utc` and `oauth_refresh_token` are returned as git stored them \
                 (an `oauth` rule's own refresh token never leaves gocred). With \
                 `credential.useHttpPath`, git sends the repository path: an entry stored with a \
                 path answers only that path, or a request without a path, even under a \
                 host-wide rule; a request with a path takes only an entry stored for that very \
                 path (an entry stored without one, by git without `useHttpPath` or by \
                 `import-netrc`, answers requests without a path), as git's own helpers do. \
                 `setup git` and `exec` turn `useHttpPath` on only under the path prefixes of \
                 path-scoped rules, so a host-wide entry keeps answering the rest of the host. \
                 `erase` removes every entry that matches what git gives: all users when it \
                 names none, only the entries holding the password when it gives one, and never \
                 anything outside the rule's key. Fields a newer gocred wrote are kept, byte for \
                 byte, when gocred rewrites an entry or the file.",
            ),
            Block::List(&[
                Item {
                    text: "**keychain**: one keychain item per key, under the service name \
                           `gocred`, plus one `gocred:index` item that lists the keys for \
                           `gocred status`. On Linux this is the Secret Service (GNOME Keyring, \
                           KWallet) or the kernel keyutils. macOS uses the login Keychain and \
                           Windows the Credential Manager.",
                    sub: &[
                        "`auto` decides in each process. A desktop session with an unlocked \
                         keyring uses the Secret Service, and an SSH session without one uses \
                         keyutils. So the same user can end up with entries in both: pin \
                         `backend` if that matters to you.",
                        "gocred never pops up an unlock dialog. A locked keyring is reported in \
                         one line that says how to unlock it.",
                        "Every call to the Secret Service has a deadline (10 seconds): a keyring \
                         that stops answering fails the request in one line instead of holding \
                         git up.",
                        "keyutils entries live in kernel memory, linked to your persistent \
                         keyring. They are gone after a reboot, or after 3 days unused. keyutils \
                         also needs a session keyring: a login shell has one, but a bare \
                         container shell does not (then run the command inside `keyctl session \
                         -`, or use the file store).",
                        "To remove an entry by hand, use `secret-tool clear service gocred \
                         username 'https://host'` or `keyctl purge -s user \
                         'keyring:https://host@gocred'`.",
                    ],
                },
                item(
                    "**file**: a plaintext file with mode 0600, written atomically (temporary \
                     file, fsync, rename) under a lock. gocred refuses to read it if group or \
                     others can read or write it, and tells you the `chmod` that fixes it. It \
                     reads it only as a regular file of yours of at most 16 MiB (never a \
                     symlink, FIFO or device), and refuses its directory, or any directory \
                     above it, when another user owns it or can write to it without the sticky \
                     bit, naming the `chown`/`chmod` that fixes it. Temporary and lock files \
                     are created without following symlinks. Use it only where there is no \
                     keychain.",
                ),
                item(
                    "**env**: read only, never stored. When git reports that an env token \
                     worked, gocred does not copy it anywhere.",
                ),
            ]),
        ],
    },
    Section {
        heading: "MACHINE POLICY",
        in_readme: true,
        blocks: &[
            Block::Heading("The machine policy (for administrators)"),
            Block::Para(
                "An administrator can set what the users of a machine may do in a machine policy, \
                 `/etc/gocred/policy.toml` (`C:\\ProgramData\\gocred\\policy.toml` on Windows). Its \
                 place is fixed when gocred is built: a packager may choose another with the build \
                 variable `GOCRED_MACHINE_POLICY` (`GOCRED_MACHINE_POLICY=/usr/local/etc/gocred.toml \
                 cargo build --release`); no variable, flag or user file moves it or turns it off at \
                 run time. A missing file is no machine policy. gocred reads it only when root owns \
                 it and every directory above it, and no one else can write them; otherwise, or when \
                 it has any problem, every command refuses to run, with one line naming the file and \
                 the fix (`sudo chown root ...`, `sudo chmod go-w ...`): a broken machine policy \
                 never means none.",
            ),
            Block::Para(
                "It has the shape of a user's policy (`[[rule]]`, `[keychain]`, `[file]`: its rules \
                 serve every user, and its `[keychain]` and `[file]` settings win over the user's) \
                 plus a `[machine]` table that only it may have:",
            ),
            Block::Code("toml", EXAMPLE_MACHINE),
            Block::Keys(&[
                (
                    "`user_rules`",
                    "`\"allow\"` (default): the user's rules are used, narrowed as below. \
                     `\"narrow\"`: only user rules inside one of the machine policy's own rules or \
                     `restrict` patterns are used (the user adds no host). `\"none\"`: no user rule \
                     is used. Either says \"every host but the company's\" to the user's rules.",
                ),
                (
                    "`deny`",
                    "URL patterns no user rule may serve. A user rule inside one is not used; a \
                     wider one (`*.corp.example` against `*.internal.corp.example`) serves the rest only.",
                ),
                (
                    "`[[machine.restrict]]` `url`",
                    "The URL pattern the restriction binds: every user rule that could match one \
                     of its URLs.",
                ),
                (
                    "`sources`",
                    "The sources and stores allowed there (`[\"keychain\", \"oauth\"]`: no `file`, \
                     no `env`). A user rule loses the others; one left with none is not used, and so \
                     is an `oauth` rule whose tokens would be kept in `file` where `file` is not \
                     listed (in the keychain they are part of `oauth`). A `store` not listed is \
                     dropped (git's `store` is then ignored), and a `command`, `github-app` or \
                     `sts` rule keeps no cached token in a store not listed.",
                ),
                (
                    "`secret_files`",
                    "`false`: `gocred netrc` (also with `--output`) and `gocred exec` leave these \
                     hosts out, and the `file` store is not used there: their secret is never \
                     written to a file.",
                ),
                (
                    "`[machine.restrict.oauth]`",
                    "`provider`, `client_id`, `issuer`, `device_authorization_endpoint`, \
                     `token_endpoint`, `revocation_endpoint`: the only values a user rule there may \
                     use. One that names another is not used; one that leaves an endpoint out gets \
                     the machine policy's.",
                ),
                (
                    "`[machine.restrict.sts]`",
                    "`token_endpoint`: the only place an `sts` rule there may send the CI job's ID \
                     token; a rule with another is not used.",
                ),
            ]),
            Block::List(&[
                item(
                    "The machine policy's own rules bind the user rules inside them the same way \
                     (sources, OAuth values), and a user rule for exactly the URL of a machine rule \
                     is not used.",
                ),
                item(
                    "A `deny` or `restrict` pattern covers its hosts on every scheme, and on every \
                     port unless it names one; one with a path also covers requests without a path \
                     (git sends the path only with `credential.useHttpPath`).",
                ),
                item(
                    "It is applied where the policy is read, so every command (`get`, `store`, \
                     `erase`, `netrc`, `exec`, `goauth`, `login`, `status`) sees the same narrowed \
                     policy, whichever file `GOCRED_CONFIG` names. `login --save` and `config init` \
                     refuse to write a rule it forbids.",
                ),
                item(
                    "It binds what gocred does, not what a user can do: someone who runs other \
                     programs (their own build of gocred, or gocred in a user namespace of their own \
                     where `/etc/gocred` can be mounted over) can read their own keychain without \
                     it. On Windows the file's owner and permissions are not checked yet: give \
                     `C:\\ProgramData\\gocred` an ACL that only Administrators can write.",
                ),
                item(
                    "`gocred config check` names each user rule it forbids, with the user's file and \
                     line and the machine policy's line, and exits 1; `gocred status` (and `--json`, \
                     `decided_by`) says which layer decided each rule.",
                ),
            ]),
        ],
    },
    Section {
        heading: "EXIT STATUS",
        in_readme: false,
        blocks: &[Block::ManOnly(
            "A policy that cannot be read or has an error (an unknown key, a bad URL, a source \
             that lacks what it needs, a file others can write) makes every command that reads \
             it exit with status 1 and one line on stderr naming the file, the line and the fix; \
             `gocred config check` lists every problem at once. A missing file is a policy with \
             no rules, except that a `$GOCRED_CONFIG` naming a missing file is an error for \
             `gocred config check` and `gocred status`.",
        )],
    },
    Section {
        heading: "ENVIRONMENT",
        in_readme: false,
        blocks: &[Block::Keys(&[
            (
                "`GOCRED_CONFIG`",
                "The policy file to read instead of the default one: an absolute path.",
            ),
            (
                "`XDG_CONFIG_HOME`, `XDG_DATA_HOME`",
                "Where the policy and the default `file` store live on Linux.",
            ),
            (
                "the variable a rule's `token_env` names",
                "The token of the `env` source.",
            ),
        ])],
    },
    Section {
        heading: "FILES",
        in_readme: false,
        blocks: &[Block::Keys(&[
            (
                "`~/.config/gocred/config.toml`",
                "The policy on Linux (see LOCATION for the other systems).",
            ),
            (
                "`~/.local/share/gocred/credentials`",
                "The default `file` store.",
            ),
            (
                "`/etc/gocred/policy.toml`",
                "The machine policy (see MACHINE POLICY).",
            ),
        ])],
    },
    Section {
        heading: "EXAMPLES",
        in_readme: true,
        blocks: &[
            Block::Heading("An example policy: a developer's laptop"),
            Block::Code("toml", EXAMPLE_LAPTOP),
            Block::Heading("An example policy: a build server"),
            Block::Code("toml", EXAMPLE_BUILD_SERVER),
        ],
    },
];

/// gocred(1), after its options and subcommands.
pub(crate) const GOCRED_1: &[Section] = &[
    Section {
        heading: "DESCRIPTION",
        in_readme: false,
        blocks: &[
            Block::Para(
                "gocred is a git credential helper. git runs it with the action `get`, `store` \
                 or `erase` and a request on stdin, as git-credential(1) describes. gocred \
                 answers only for the URLs that its policy names, from the source that the \
                 matching rule names: the OS keychain, an environment variable, a plaintext file \
                 store, or OAuth tokens from `gocred login`. For any other URL it prints nothing, \
                 and git asks its next helper or prompts.",
            ),
            Block::Para(
                "The policy is one TOML file, described in gocred-config(5). `gocred status` \
                 shows every rule and what is stored for it, and never a secret.",
            ),
            Block::Para(
                "The same program is installed twice: as `gocred`, and as \
                 `git-credential-gocred`, the name git runs for `credential.helper = gocred`. \
                 Under the second name it answers git's actions and silently ignores any other.",
            ),
        ],
    },
    Section {
        heading: "THE FIRST DAY",
        in_readme: true,
        blocks: &[
            Block::Para(
                "You have a personal access token (GitLab: Settings > Access tokens, scope \
                 `read_repository` or `write_repository`; GitHub: Settings > Developer settings > \
                 Personal access tokens):",
            ),
            Block::Code(
                "sh",
                "gocred login gitlab.corp.example --with-token --save   # paste the token; it is not shown\n\
                 gocred setup git                                       # git now asks gocred for that host\n\
                 git clone https://gitlab.corp.example/group/repo.git   # no prompt\n",
            ),
            Block::Para(
                "`login --with-token` reads the token from stdin (`gocred login HOST --with-token \
                 < token.txt`) or asks for it at a terminal without echoing it; it is never a \
                 command-line argument. It checks the token with the server first (GitLab `GET \
                 /api/v4/user`, GitHub `GET /user`, GitHub Enterprise `/api/v3/user`; \
                 `--no-verify` skips that, and a host whose name says neither GitLab nor GitHub \
                 needs `--provider gitlab|github` or `--no-verify`), keeps it in the keychain (or \
                 the rule's `store`) with the user name git needs, and prints what git will now \
                 get: host, user and store, never the token. A git-only GitLab token (no \
                 `read_user` or `api` scope) passes the check with user `oauth2`. A token the \
                 server refuses is not stored: one line names the host and the HTTP status. Without `--save`, a host \
                 with no rule gets the rule to add, printed.",
            ),
            Block::Para(
                "Your company registered gocred as an OAuth application instead? Log in with the \
                 device flow (see [OAuth](#oauth-gocred-login)); tokens are then refreshed for \
                 you:",
            ),
            Block::Code(
                "sh",
                "gocred login gitlab.corp.example --provider gitlab --client-id ID --save\n\
                 gocred setup git\n",
            ),
            Block::Para("And to see or undo it:"),
            Block::Code(
                "sh",
                "gocred status                          # every rule, what is stored (never a secret)\n\
                 gocred logout gitlab.corp.example      # forget it here (OAuth tokens are revoked first)\n",
            ),
            Block::Para(
                "`gocred logout HOST` forgets what every store the host's rule names holds \
                 (keychain, file, OAuth tokens), for every user or only `--user NAME`, and says \
                 which users it forgot in which store. With nothing stored it says \"Nothing \
                 stored for HOST\" and exits 0: the host is logged out either way. A second \
                 `gocred login` over a token that is still valid asks first at a terminal, and \
                 without one needs `--force`.",
            ),
            Block::Heading("What `gocred setup git` writes"),
            Block::Para(
                "Only for the hosts the policy names, the empty value first to clear the helpers \
                 git already has for the host, so no other helper answers for it:",
            ),
            Block::Code(
                "sh",
                "git config --global credential.https://gitlab.corp.example.helper ''\n\
                 git config --global --add credential.https://gitlab.corp.example.helper gocred\n",
            ),
            Block::Para(
                "Or, by hand, for every host (gocred still answers only for hosts that the policy \
                 allows):",
            ),
            Block::Code("sh", "git config --global credential.helper gocred\n"),
            Block::Para(
                "A rule with a path prefix (`https://gitlab.corp.example/team/`) only matches \
                 when git sends the repository path, so git must send it under that prefix \
                 (`gocred setup git` writes this):",
            ),
            Block::Code(
                "sh",
                "git config --global credential.https://gitlab.corp.example/team.useHttpPath true\n",
            ),
        ],
    },
    Section {
        heading: "EXIT STATUS",
        in_readme: true,
        blocks: &[Block::Para(
            "Status 0 means success. This includes \"not my host\", which gives no output. Status \
             1 means bad input from git, a broken config or a store that needs fixing, and the \
             reason is printed as one line on stderr with the fix, followed by `Caused by:` and \
             `Hint:` lines where there is more to say. Status 2 means a bad command line, and \
             255 a bug in gocred. Notes (why a host got no credential, what a netrc left out) \
             are lines on stderr that change no status; `--quiet` or `GOCRED_QUIET=1` \
             silences them, never an error. When a rule's `env` source finds its variable \
             unset or empty, `get` says so in one note naming the variable and the rule (file \
             and line), and exits 0 with no answer: git then fails with \"could not read \
             Username\", and the note names the cause. stdout is git's protocol channel, so it carries only the answer, and nothing \
             at all on error. gocred refuses requests that contain CR, LF or NUL in a value, \
             requests with no `protocol`, https and http requests with no `host` (other \
             protocols, such as git's `protocol=cert` password requests, are simply not \
             managed), `url=` values that disagree with `protocol`, `host` or `path`, and \
             over-long input (64 KiB per line, 1 MiB per request). No secret ever appears in a \
             message.",
        )],
    },
    Section {
        heading: "ENVIRONMENT",
        in_readme: false,
        blocks: &[Block::Keys(&[
            (
                "`GOCRED_CONFIG`",
                "The policy file to read instead of the default one: an absolute path, and \
                 a file that exists (see gocred-config(5) for when it is trusted).",
            ),
            (
                "`XDG_CONFIG_HOME`, `XDG_DATA_HOME`, `XDG_RUNTIME_DIR`",
                "Where the policy and the default file store live on Linux (see FILES), and \
                 where `gocred exec` puts its private netrc. Lock files never depend on them.",
            ),
            (
                "the variable a rule's `token_env` names",
                "The token that the `env` source answers with. Unset or empty, `get`, `netrc` \
                 and `exec` print one note naming it and the rules that read it.",
            ),
            (
                "`GOCRED_QUIET`",
                "Set to `1` (anything but empty, `0`, `false` or `no`), notes are not printed, \
                 as with `--quiet`; errors always are. For git alone, `credential.helper = \
                 gocred --quiet` does the same.",
            ),
            (
                "`GOCRED_HTTP_TIMEOUT`",
                "Seconds that an OAuth request may take, both to connect and in all (by \
                 default 10 to connect and 30 in all): a positive number up to 86400, such as \
                 `30` or `2.5`. Any other value is an error for every command, not ignored.",
            ),
            (
                "`GOCRED_AGENT`, `GOCRED_AGENT_LABEL`, `GOCRED_AGENT_TIMEOUT`",
                "On a remote machine or in a container: the socket of a gocred agent to ask \
                 instead of this machine's policy, the label sent with each request, and the \
                 seconds one request may take (see gocred-agent(1)).",
            ),
            (
                "`GOCRED_OAUTH_REFRESH_MARGIN`",
                "Seconds before an OAuth token expires at which `get` refreshes it (60 by \
                 default).",
            ),
            (
                "`https_proxy`, `all_proxy`, `no_proxy` (and upper case), `GIT_SSL_CAINFO`",
                "The proxy and extra CA certificates of OAuth requests when git's own config \
                 (`http.proxy`, `http.sslCAInfo`) names none.",
            ),
        ])],
    },
    Section {
        heading: "FILES",
        in_readme: false,
        blocks: &[Block::Keys(&[
            (
                "`~/.config/gocred/config.toml`",
                "The policy on Linux; gocred-config(5) names the places on other systems.",
            ),
            (
                "`~/.local/share/gocred/credentials`",
                "The default `file` store, used only by rules that name it.",
            ),
            (
                "`/run/user/UID/gocred/keychain.lock`, `/run/user/UID/gocred/oauth-*.lock`",
                "The locks that keep concurrent keychain stores from losing each other's \
                 entries, and let one process at a time refresh an OAuth token. One directory \
                 per user, found from the uid and the passwd database, never from the \
                 environment, so every git of yours shares it: `/run/user/UID/gocred` when \
                 `/run/user/UID` exists (yours, mode 0700), else `.cache/gocred/locks` in the \
                 home directory the passwd database names. A lock directory that is a symlink, \
                 belongs to someone else or that others can write is refused with the command \
                 that fixes it.",
            ),
        ])],
    },
    Section {
        heading: "EXAMPLES",
        in_readme: false,
        blocks: &[Block::Code(
            "sh",
            "gocred login gitlab.corp.example --with-token --save < token.txt\n\
             gocred setup git\n\
             gocred status\n\
             gocred exec -- go mod download\n\
             gocred doctor gitlab.corp.example/group/module\n",
        )],
    },
];
