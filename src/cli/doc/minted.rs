//! gocred-config(5) and README.md on the sources that mint short-lived tokens on the machine:
//! `github-app` and `sts` (issue 12).

use super::{Block, Section};

/// The keys of a rule's `[rule.github_app]` table.
pub(crate) const GITHUB_APP_KEYS: &[(&str, &str)] = &[
    (
        "`app_id`",
        "The App ID from the app's settings page (an integer).",
    ),
    (
        "`private_key_file`",
        "The app's private key: the PEM file GitHub gave you (`RSA PRIVATE KEY`, or PKCS#8), an \
         absolute path or one starting with `~/`. It must be a regular file owned by you (or \
         root) that nobody else may read (`chmod 600`). A private key written into the policy \
         itself is an error, whatever the key is called.",
    ),
    (
        "`private_key_command`",
        "Instead of `private_key_file`: a program and its arguments (an array, never a shell \
         string) that prints the PEM, such as a secrets manager's or a keychain's own CLI \
         (`[\"op\", \"read\", \"op://ci/github-app/private-key\"]`, `[\"secret-tool\", \
         \"lookup\", \"service\", \"github-app\"]`). It runs in `/` with an empty stdin, its \
         stderr reaches you, and what it prints is never shown; a non-zero exit, more than 64 \
         KiB or more than 10 s (then its process group is killed) is refused with one line.",
    ),
    (
        "`installation_id`",
        "The installation to mint tokens for. Without it, gocred asks GitHub: `GET \
         /repos/{owner}/{repo}/installation` for the repository git asks about (git sends its \
         path only with `credential.useHttpPath`, which `gocred setup git` turns on for such a \
         rule's host), else `GET /orgs/{org}/installation` for the \
         first segment of the rule's path prefix.",
    ),
    (
        "`api_url`",
        "The REST API root. Default: `https://api.github.com` for `github.com`, \
         `https://HOST[:PORT]/api/v3` for GitHub Enterprise Server. A rule for a wildcard url \
         needs it: the app's JWT, which can mint tokens for every installation, goes to this \
         one API and never to whichever host git asks about.",
    ),
    (
        "`repositories`",
        "Narrow each token to these repositories (names without the owner).",
    ),
    (
        "`permissions`",
        "Narrow each token to these permissions, each `NAME:LEVEL` (`\"contents:read\"`, \
         `\"metadata:read\"`); levels are `read`, `write` and `admin`.",
    ),
    (
        "`cache`",
        "Where the token is kept until it is due: `keychain` (the default), `file` (the file \
         store) or `none` (mint for every request).",
    ),
];

/// The keys of a rule's `[rule.sts]` table.
pub(crate) const STS_KEYS: &[(&str, &str)] = &[
    (
        "`token_endpoint`",
        "The security token service's RFC 8693 endpoint: an https URL without user name, \
         password or fragment.",
    ),
    (
        "`audience`",
        "GitHub Actions: the audience of the ID token gocred asks the runner for (the one the \
         STS expects).",
    ),
    (
        "`id_token_env`",
        "GitLab CI (or any CI that hands the ID token over in a variable): the variable an \
         `id_tokens:` entry of the job defines. When it is set, GitHub Actions is not asked.",
    ),
    (
        "`subject_token_type`",
        "`id_token` (the default: `urn:ietf:params:oauth:token-type:id_token`) or `jwt` \
         (`urn:ietf:params:oauth:token-type:jwt`), as the STS wants it.",
    ),
    (
        "`exchange_audience`, `resource`, `scope`",
        "Sent as RFC 8693's `audience`, `resource` and `scope` when set.",
    ),
    (
        "`cache`",
        "Where the token is kept until it expires: `keychain` (the default), `file` or `none`.",
    ),
];

pub(crate) const EXAMPLE_GITHUB_APP: &str = r#"# github.com: every repository of the organisations the app is installed on. git sends
# the repository's path (credential.useHttpPath), and gocred finds the installation from it.
[[rule]]
url = "https://github.com"
sources = ["github-app"]

[rule.github_app]
app_id = 123456
private_key_file = "~/.config/gocred/ci-app.private-key.pem"
permissions = ["contents:read", "metadata:read"]
# A build machine with no keychain keeps the tokens in gocred's 0600 file store.
cache = "file"

# GitHub Enterprise Server: one installation, tokens narrowed to two repositories.
[[rule]]
url = "https://ghe.corp.example/platform/"
sources = ["github-app"]

[rule.github_app]
app_id = 42
installation_id = 7
private_key_file = "/etc/gocred/platform-app.pem"
repositories = ["tools", "deploy"]
"#;

pub(crate) const EXAMPLE_STS: &str = r#"# GitHub Actions (the job has `permissions: id-token: write`): the job's ID token for
# audience "octo-sts.corp.example" is exchanged for a token to github.com.
[[rule]]
url = "https://github.com/acme/"
sources = ["sts"]

[rule.sts]
token_endpoint = "https://octo-sts.corp.example/token"
audience = "octo-sts.corp.example"
scope = "acme/tools"

# GitLab CI: the job declares
#   id_tokens:
#     STS_ID_TOKEN:
#       aud: https://sts.corp.example
# and the company's STS trades it for a token of its GitLab.
[[rule]]
url = "https://gitlab.corp.example"
sources = ["sts"]
username = "oauth2"

[rule.sts]
token_endpoint = "https://sts.corp.example/oauth/token"
id_token_env = "STS_ID_TOKEN"
cache = "none"
"#;

pub(crate) const SECTION: Section = Section {
    heading: "GITHUB APP AND CI IDENTITY",
    in_readme: true,
    blocks: &[
        Block::Para(
            "Two sources mint short-lived tokens on the machine, so that no build machine keeps \
             a long-lived one. Each serves only the URLs its rule maps, as every source does.",
        ),
        Block::Heading("github-app: installation tokens from a GitHub App"),
        Block::Para(
            "A rule with `sources = [\"github-app\"]` and a `[rule.github_app]` table signs a \
             JWT with the app's private key (RS256; issued 60 seconds in the past, valid 9 \
             minutes), asks GitHub for an installation access token (`POST \
             /app/installations/{id}/access_tokens`, narrowed to the rule's `repositories` and \
             `permissions`), and serves it with the user name `x-access-token` (or the rule's \
             `username`). The token is cached until five minutes before its `expires_at`; \
             parallel gits wait for one mint. GitHub's refusals come back as one line: a bad \
             JWT (401: wrong `app_id` or key), an app not installed there (404), a rate limit \
             (403 or 429, with when to retry: `Retry-After` or `x-ratelimit-reset`), repositories or permissions beyond the \
             installation's (422).",
        ),
        Block::Keys(GITHUB_APP_KEYS),
        Block::Code("toml", EXAMPLE_GITHUB_APP),
        Block::Heading("sts: the CI job's identity exchanged for a token"),
        Block::Para(
            "A rule with `sources = [\"sts\"]` and a `[rule.sts]` table takes the CI job's OIDC \
             ID token (GitHub Actions: asked of the runner with `ACTIONS_ID_TOKEN_REQUEST_URL` \
             and `ACTIONS_ID_TOKEN_REQUEST_TOKEN` for the rule's `audience`; GitLab CI: the \
             variable named by `id_token_env`) and exchanges it at the rule's `token_endpoint` \
             (RFC 8693: `grant_type=urn:ietf:params:oauth:grant-type:token-exchange`, \
             `subject_token`, `subject_token_type`). The ID token goes to that endpoint and \
             nowhere else. The answer's `access_token` is served (as `x-access-token`, or the \
             rule's `username`) until a minute before `expires_in` runs out, cached, with one \
             exchange across parallel gits; an answer without `expires_in` serves that one \
             request. Outside the CI, or with an expired ID token, nothing is sent and `get` \
             says which variable is missing.",
        ),
        Block::Keys(STS_KEYS),
        Block::Code("toml", EXAMPLE_STS),
        Block::Para(
            "A cached token that git reports as rejected (its `erase` after a 401, when GitHub \
             or the STS revoked it) leaves the cache at once, and the next request mints a new \
             one. While a due token still works, a mint that fails (GitHub or the STS \
             unreachable, a rate limit) serves it with a one-line note, and the next request \
             tries again.",
        ),
        Block::Para(
            "`gocred status` shows each such rule's settings and state (the key file present and \
             private, where the ID token comes from, where tokens are cached) and the cached \
             token's expiry, never a secret.",
        ),
    ],
};
