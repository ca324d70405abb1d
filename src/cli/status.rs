//! `gocred status [--json]`: the report of [`crate::status`]; on a fresh machine, what to do
//! next.

use super::CommandError;
use super::context::Context;
use crate::status::{self, Status};
use std::io::Write;

#[derive(Debug, clap::Args)]
pub struct StatusArgs {
    /// Print the status as one JSON object (schema 1; see JSON OUTPUT below)
    #[arg(long)]
    pub json: bool,
}

pub(super) const LONG_ABOUT: &str =
    "Show every rule, its sources and what is stored (never a secret), \
and whether git asks gocred for it.

For each rule, `git asks gocred: yes` means git runs gocred first for the rule's URL \
(`https://host` or `https://host/prefix`) and, for a rule with a path, sends the path \
(`credential.useHttpPath`). Otherwise the line says `no`, why, and the fix: `gocred setup git`, \
or the config entry that undoes what it writes. gocred reads git's config through `git config` \
(from the current directory, so a repository's own config counts) and resolves \
`credential.helper` and `credential.<url>.helper` in git's order: every matching entry, in config \
order; an empty value empties the list so far; a `<url>` matches by scheme, host (`*.` matches \
one label), port and path prefix. For a wildcard rule (`https://*.corp.example`) that is the \
config every host under it gets; `gocred doctor` checks one host's own. A bare helper name `gocred` runs `git-credential-gocred` from \
git's exec-path or PATH; a helper before gocred answers first whenever it has a credential.

JSON OUTPUT (--json): an object with `schema` (1; a new number only when a field changes \
meaning or goes away), `policy` (`path`, `exists`), `git` (`error`: why git's config could not be \
read, or null) and `rules`, one per rule in file order, each with: `url` (as written), `line`, \
`sources` (names), `username` (or null), `store` (or null), `token_env` (`{\"name\", \
\"set\"}` or null), `oauth` (`{\"provider\", \"client_id\", \"store\"}` or null), `command` (what runs, its \
timeout and cache; only in a `command` rule), `ci` (where the CI job token comes from, or why there \
is none; only in a rule with the `ci` source), \
`github_app` (`app_id`, `installation_id`, `private_key_from`, `private_key` (its state: present, \
missing, ...), `api_url`, `repositories`, `permissions`, `cache`; or null), `sts` \
(`token_endpoint`, `audience`, `id_token_env`, `id_token` (where it comes from, and whether it is \
there), `cache`; or null), `stored` \
(entries: `scope`, `username`, `expires` (Unix seconds or null), `expired`, \
`refresh_token`, `location`, `problem` (or null)), `store_errors` (`{\"store\", \
\"error\"}`), and `git`: `asks_gocred` (bool), `url` (what git's config was matched \
against), `use_http_path` (bool), `needs_path` (bool), `helpers` (what git runs, in order: \
`value`, `key`, `scope`, `origin`, `program` (the path found, or null), `found`, `gocred`) and \
`problems` (`code`, `message`, `fix`; codes: git_config_unreadable, git_stops, no_helper, \
no_gocred, gocred_not_found, gocred_arguments, helper_before_gocred, no_use_http_path). \
`orphans` lists stored entries no rule serves (same fields as `stored`). `machine` is the \
machine policy (null when there is none): `path`, `user_rules`, `deny`, `refused` (user rules it \
forbids: `url`, `line`, `machine_line`, `why`) and `narrowed` (`url`, `line`, `machine_line`, \
`what`); each rule's `decided_by` says which layer decided it: `layer` (`machine` or `user`), \
`path` and `line` of that file, `narrowed_by` (machine policy lines), `secret_files` (false: \
netrc and exec leave it out). `audit` is the audit log (null when it is off): `path`, \
`declared_in` (`path` and `line` of the `[audit]` table that decided it), `required` (the \
machine policy's) and `group` (who else may read it, or null).";

pub fn cmd_status(ctx: &mut Context, args: StatusArgs) -> Result<(), CommandError> {
    let policy = ctx.load_policy()?;
    if let Some(missing) = ctx.missing_named_config(&policy) {
        return Err(CommandError::user(missing));
    }
    let (text, json) = if policy.rules.is_empty() {
        let (text, json) = status::fresh(&policy);
        match policy.ci_job_token {
            // `[ci] job_token = true` outside a consistent CI job: no rule, and the reason.
            Some(line) => (
                format!(
                    "gocred policy: {} ([ci] job_token on line {line}, no rules)\n  ci: {}\n",
                    policy.path.display(),
                    crate::ci::describe(&*ctx.env)
                ),
                json,
            ),
            None => (text, json),
        }
    } else {
        Status::collect(&policy, &*ctx.env, ctx.now)?.render()
    };
    let out = if args.json {
        format!("{json:#}\n")
    } else {
        text
    };
    ctx.stdout
        .write_all(out.as_bytes())
        .map_err(|e| CommandError::user(format!("cannot write to stdout: {e}")))
}
