//! The CI job gocred runs in, read from the variables the CI system sets, and what `[ci]
//! job_token = true` (or `GOCRED_CI_JOB_TOKEN=1`, which `gocred setup ci` hands to git's helper)
//! makes of it: one implicit rule that serves the job's own token to exactly the CI server's
//! origin (scheme, host, port), and nothing anywhere else.
//!
//! - GitLab CI (<https://docs.gitlab.com/ci/variables/predefined_variables/>): `GITLAB_CI=true`,
//!   `CI_SERVER_URL` (`https://gitlab.example.com[:port]`), `CI_JOB_TOKEN`; user name
//!   `gitlab-ci-token`. `CI_SERVER_HOST`, `CI_SERVER_PORT` and `CI_SERVER_PROTOCOL`, when set,
//!   must agree with `CI_SERVER_URL`.
//! - GitHub Actions (<https://docs.github.com/actions/reference/variables-reference>):
//!   `GITHUB_ACTIONS=true`, `GITHUB_SERVER_URL` (`https://github.com`, or the GHES origin) and
//!   `GITHUB_TOKEN` (which the workflow must map: `env: GITHUB_TOKEN: ${{ github.token }}`);
//!   user name `x-access-token`.
//!
//! The server URL must be https with a host and nothing else (no user, path, query or
//! fragment); both systems at once, a missing or empty variable, or values that disagree make
//! the job [`Detected::Inconsistent`]: no token is served, and the reason names the variable.

use crate::policy::{Input, Policy, Rule, SourceKind, Target, UrlPattern, normalize};
use crate::secret::Secret;
use crate::setup::shell_quote as sh_quote;

/// The variable that turns the job token on without a policy (`gocred setup ci` puts it in the
/// helper's command line as `--ci-job-token`, which sets it for that process).
pub const ENABLE_VAR: &str = "GOCRED_CI_JOB_TOKEN";

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum System {
    GitLab,
    GitHub,
}

impl System {
    pub fn name(self) -> &'static str {
        match self {
            System::GitLab => "GitLab CI",
            System::GitHub => "GitHub Actions",
        }
    }

    /// The user name git sends with the job token.
    pub fn username(self) -> &'static str {
        match self {
            System::GitLab => "gitlab-ci-token",
            System::GitHub => "x-access-token",
        }
    }

    /// The variable holding the token.
    pub fn token_var(self) -> &'static str {
        match self {
            System::GitLab => "CI_JOB_TOKEN",
            System::GitHub => "GITHUB_TOKEN",
        }
    }

    fn url_var(self) -> &'static str {
        match self {
            System::GitLab => "CI_SERVER_URL",
            System::GitHub => "GITHUB_SERVER_URL",
        }
    }
}

/// The CI server of this job.
#[derive(Debug, Clone)]
pub struct Server {
    pub system: System,
    /// The server's normalized origin: scheme, host and (non-default) port.
    pub target: Target,
    /// The job's token; never empty.
    pub token: Secret,
    /// The namespace whose modules are private on a shared host (github.com, gitlab.com):
    /// `GITHUB_REPOSITORY_OWNER`, `CI_PROJECT_ROOT_NAMESPACE`.
    pub namespace: Option<String>,
}

impl Server {
    pub fn origin(&self) -> String {
        self.target.origin()
    }
}

#[derive(Debug, Clone)]
pub enum Detected {
    /// Not in a CI job gocred knows.
    None,
    Server(Server),
    /// In a CI job whose variables cannot be trusted to name the server: why, in one line.
    Inconsistent(String),
}

fn truthy(value: Option<String>) -> bool {
    value.is_some_and(|v| {
        let v = v.trim().to_ascii_lowercase();
        !matches!(v.as_str(), "" | "0" | "false" | "no")
    })
}

/// Reads the CI variables through `env`.
pub fn detect(env: &dyn Fn(&str) -> Option<String>) -> Detected {
    let gitlab = env("GITLAB_CI").is_some_and(|v| v == "true");
    let github = env("GITHUB_ACTIONS").is_some_and(|v| v == "true");
    let system = match (gitlab, github) {
        (false, false) => return Detected::None,
        (true, true) => {
            return Detected::Inconsistent(
                "both GITLAB_CI and GITHUB_ACTIONS are true: gocred cannot tell which server \
                 the job token is for"
                    .into(),
            );
        }
        (true, false) => System::GitLab,
        (false, true) => System::GitHub,
    };
    match server(system, env) {
        Ok(server) => Detected::Server(server),
        Err(why) => Detected::Inconsistent(format!("{}: {why}", system.name())),
    }
}

fn server(system: System, env: &dyn Fn(&str) -> Option<String>) -> Result<Server, String> {
    let url_var = system.url_var();
    let url = env(url_var)
        .filter(|u| !u.is_empty())
        .ok_or_else(|| format!("{url_var} is not set"))?;
    let shown = crate::redact::shown(&url).to_string();
    let (scheme, rest) = url
        .split_once("://")
        .ok_or_else(|| format!("{url_var} \"{shown}\" is not a URL"))?;
    if !scheme.eq_ignore_ascii_case("https") {
        return Err(format!(
            "{url_var} \"{shown}\" is not https: the job token is never sent in clear text"
        ));
    }
    let authority = rest.strip_suffix('/').unwrap_or(rest);
    if authority.is_empty() || authority.contains(['/', '?', '#', '@', '\\']) {
        return Err(format!(
            "{url_var} \"{shown}\" is not an origin (https://host[:port] and nothing else)"
        ));
    }
    let target = normalize(Input::Url(&format!("https://{authority}")))
        .map_err(|e| format!("{url_var} \"{shown}\": {e}"))?;
    if target.path.is_some() {
        return Err(format!("{url_var} \"{shown}\" has a path"));
    }
    if system == System::GitLab {
        if let Some(host) = env("CI_SERVER_HOST").filter(|h| !h.is_empty())
            && !host
                .trim_end_matches('.')
                .eq_ignore_ascii_case(&target.host)
        {
            return Err(format!(
                "CI_SERVER_HOST \"{}\" is not the host of CI_SERVER_URL \"{shown}\"",
                crate::redact::shown(&host)
            ));
        }
        if let Some(port) = env("CI_SERVER_PORT").filter(|p| !p.is_empty())
            && port.parse::<u16>().ok() != Some(target.port.unwrap_or(443))
        {
            return Err(format!(
                "CI_SERVER_PORT \"{}\" is not the port of CI_SERVER_URL \"{shown}\"",
                crate::redact::shown(&port)
            ));
        }
        if let Some(protocol) = env("CI_SERVER_PROTOCOL").filter(|p| !p.is_empty())
            && protocol != "https"
        {
            return Err(format!(
                "CI_SERVER_PROTOCOL is \"{}\", not https",
                crate::redact::shown(&protocol)
            ));
        }
    }
    let token_var = system.token_var();
    let token = env(token_var)
        .map(Secret::new)
        .filter(|t| !t.is_empty())
        .ok_or_else(|| match system {
            System::GitLab => format!("{token_var} is not set"),
            System::GitHub => format!(
                "{token_var} is not set (map it in the workflow: `env: GITHUB_TOKEN: ${{{{ \
                 github.token }}}}`)"
            ),
        })?;
    if token.expose().chars().any(char::is_control) {
        return Err(format!(
            "{token_var} holds a line break or control character"
        ));
    }
    let namespace = match system {
        System::GitLab => env("CI_PROJECT_ROOT_NAMESPACE"),
        System::GitHub => env("GITHUB_REPOSITORY_OWNER"),
    }
    .filter(|n| {
        !n.is_empty()
            && n.bytes()
                .all(|b| b.is_ascii_alphanumeric() || b"-_.".contains(&b))
    });
    Ok(Server {
        system,
        target,
        token,
        namespace,
    })
}

/// Whether the job token is turned on: `[ci] job_token = true` in `policy`, or
/// [`ENABLE_VAR`] set.
pub fn enabled(policy: &Policy, env: &dyn Fn(&str) -> Option<String>) -> bool {
    policy.ci_job_token.is_some() || truthy(env(ENABLE_VAR))
}

/// The rule `[ci] job_token = true` stands for in this job: `url` the CI server's origin,
/// source `ci`, the system's user name. `None` when the job token is off or the job is not a
/// consistent CI job (then `note` says why, for a job where it is on).
pub fn job_rule(
    policy: &Policy,
    env: &dyn Fn(&str) -> Option<String>,
) -> Result<Option<Rule>, String> {
    if !enabled(policy, env) {
        return Ok(None);
    }
    let server = match detect(env) {
        Detected::None => return Ok(None),
        Detected::Inconsistent(why) => {
            return Err(format!("no CI job token is served: {why}"));
        }
        Detected::Server(server) => server,
    };
    let url = server.origin();
    let pattern = UrlPattern::parse(&url).map_err(|e| format!("the CI server {url}: {e}"))?;
    Ok(Some(Rule {
        url,
        pattern,
        sources: vec![SourceKind::Ci],
        username: Some(server.system.username().to_owned()),
        token_env: None,
        store: None,
        allow_http: false,
        oauth: None,
        goauth_preemptive: true,
        command: None,
        github_app: None,
        sts: None,
        line: policy.ci_job_token.unwrap_or(0),
        machine: Default::default(),
    }))
}

/// Adds the job rule to `policy` (after its own rules: a rule written for exactly the CI
/// origin keeps it). The reason it could not, when the job token is on, is returned for a
/// note.
pub fn add_job_rule(policy: &mut Policy, env: &dyn Fn(&str) -> Option<String>) -> Option<String> {
    match job_rule(policy, env) {
        Ok(Some(rule)) => {
            if !policy.rules.iter().any(|r| r.pattern == rule.pattern) {
                policy.rules.push(rule);
            }
            None
        }
        Ok(None) => None,
        Err(why) => Some(why),
    }
}

/// What `gocred setup ci` sets up for this job: the CI origin (for git's helper) and the Go
/// module path pattern that is private (GOPRIVATE, GONOSUMDB).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Plan {
    pub origin: String,
    pub go_pattern: String,
}

/// The setup for `server`: on the shared hosts (github.com, gitlab.com) only the job's own
/// namespace is private (their public modules keep the proxy and checksum database); on a
/// company's own server, the whole host.
pub fn plan(server: &Server) -> Plan {
    let host = server.target.host.as_str();
    let shared = matches!(host, "github.com" | "gitlab.com");
    let go_pattern = match (&server.namespace, shared) {
        (Some(ns), true) => format!("{host}/{ns}"),
        _ => host.to_owned(),
    };
    Plan {
        origin: server.origin(),
        go_pattern,
    }
}

/// What `status` says of the `ci` source in this environment: where the token comes from, or
/// why there is none. Never the token.
pub fn describe(env: &dyn Fn(&str) -> Option<String>) -> String {
    match detect(env) {
        Detected::None => {
            "not in a CI job (neither GITLAB_CI nor GITHUB_ACTIONS is true): no job token".into()
        }
        Detected::Inconsistent(why) => format!("no job token is served: {why}"),
        Detected::Server(s) => format!(
            "{} job token ({}) as {} for {} only",
            s.system.name(),
            s.system.token_var(),
            s.system.username(),
            s.origin()
        ),
    }
}

/// What `gocred setup ci` did (or, with `dry_run`, would do): the `git config` commands and
/// the `export` lines for the job's shell.
#[derive(Debug, Default)]
pub struct SetupReport {
    pub commands: Vec<String>,
    pub exports: String,
}

/// `a,b` + `c` → `a,b,c`, `c` once.
fn merge(existing: &str, ours: &str, separator: char) -> String {
    let mut items: Vec<&str> = existing
        .split(separator)
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .collect();
    if !items.contains(&ours) {
        items.push(ours);
    }
    items.join(&separator.to_string())
}

/// `gocred setup ci`: in a consistent CI job, makes git ask gocred (`helper`, run with
/// `--ci-job-token`) and only gocred for the CI server's origin, in the global git config, and
/// returns the `export` lines that keep the server's modules private for go (GOPRIVATE,
/// GONOSUMDB, each merged into what the job already has) and let go ask git for them (GOAUTH
/// gets `git $HOME`: go runs `git credential fill`, which asks gocred). No token is written
/// anywhere: the helper reads it from the job's variables on every request.
pub fn setup(
    env: &dyn Fn(&str) -> Option<String>,
    helper: &str,
    dry_run: bool,
) -> Result<SetupReport, String> {
    let server = match detect(env) {
        Detected::Server(server) => server,
        Detected::Inconsistent(why) => return Err(format!("setup ci: {why}")),
        Detected::None => {
            return Err(
                "setup ci: this is not a GitLab CI or GitHub Actions job (neither \
                        GITLAB_CI nor GITHUB_ACTIONS is true)"
                    .into(),
            );
        }
    };
    let plan = plan(&server);
    // What go uses now: the job's environment over go's env file (`go env -w`), so that what
    // the job (or its image) already keeps private stays private once our exports override it.
    // Asked before git's config is touched: a go that cannot tell changes nothing.
    let go = crate::goenv::GoEnv::read(env, &["GOPRIVATE", "GONOSUMDB", "GOAUTH"])
        .map_err(|e| format!("setup ci: {e}"))?;
    let exports = go_exports(&go, &plan.go_pattern, &env("HOME").unwrap_or_default());
    let key = format!("credential.{}.helper", plan.origin);
    let value = format!("{helper} --ci-job-token");
    let mut report = SetupReport::default();
    let steps: [&[&str]; 3] = [
        &["--unset-all", &key],
        &["--add", &key, ""],
        &["--add", &key, &value],
    ];
    for (i, args) in steps.iter().enumerate() {
        let line = format!(
            "git config --global {}",
            args.iter()
                .map(|a| sh_quote(a))
                .collect::<Vec<_>>()
                .join(" ")
        );
        if !dry_run {
            let out = std::process::Command::new("git")
                .args(["config", "--global"])
                .args(*args)
                .output()
                .map_err(|e| format!("setup ci: cannot run git: {e}"))?;
            // --unset-all of a key that is not there exits 5: nothing to undo.
            let fine = out.status.success() || (i == 0 && out.status.code() == Some(5));
            if !fine {
                return Err(format!(
                    "setup ci: `{line}` failed: {}",
                    crate::redact::shown(String::from_utf8_lossy(&out.stderr).trim())
                ));
            }
        }
        report.commands.push(line);
    }
    report.exports = exports;
    Ok(report)
}

/// The `export` lines of `setup ci`: GOPRIVATE and GONOSUMDB with the CI server's `pattern`
/// merged into the values go uses now, and GOAUTH with `git HOME` after what go uses now
/// (`netrc`, go's default, when nothing is set); `off` is replaced (go refuses `off` combined
/// with anything, and the job asked for go to authenticate to its server). No GOAUTH line for a
/// HOME go could not parse back (empty, or with the `;` that separates GOAUTH's commands).
fn go_exports(go: &crate::goenv::GoEnv, pattern: &str, home: &str) -> String {
    let goprivate = merge(go.get("GOPRIVATE"), pattern, ',');
    // GONOSUMDB defaults to GOPRIVATE (`go env` reports it so; without go, the environment
    // holds only what was set).
    let nosumdb_base = match go.get("GONOSUMDB") {
        "" => go.get("GOPRIVATE"),
        set => set,
    };
    let gonosumdb = merge(nosumdb_base, pattern, ',');
    let mut exports = format!(
        "export GOPRIVATE={}\nexport GONOSUMDB={}\n",
        sh_quote(&goprivate),
        sh_quote(&gonosumdb)
    );
    if !home.is_empty() && !home.contains(';') {
        let ours = format!("git {home}");
        let goauth = match go.get("GOAUTH").trim() {
            "" => merge("netrc", &ours, ';'),
            "off" => ours,
            set => merge(set, &ours, ';'),
        };
        exports += &format!("export GOAUTH={}\n", sh_quote(&goauth));
    }
    exports
}

#[cfg(test)]
mod tests {
    use super::*;

    fn env<'a>(vars: &'a [(&'a str, &'a str)]) -> impl Fn(&str) -> Option<String> + 'a {
        move |name| {
            vars.iter()
                .find(|(k, _)| *k == name)
                .map(|(_, v)| (*v).to_owned())
        }
    }

    fn why(vars: &[(&str, &str)]) -> String {
        match detect(&env(vars)) {
            Detected::Inconsistent(why) => why,
            other => panic!("not refused: {other:?}"),
        }
    }

    #[test]
    fn gitlab_and_github_variables_name_their_server_origin() {
        let gl = [
            ("GITLAB_CI", "true"),
            ("CI_SERVER_URL", "https://GitLab.Corp.Example:8443"),
            ("CI_SERVER_HOST", "gitlab.corp.example"),
            ("CI_SERVER_PORT", "8443"),
            ("CI_SERVER_PROTOCOL", "https"),
            ("CI_JOB_TOKEN", "job-FAKE"),
        ];
        let Detected::Server(s) = detect(&env(&gl)) else {
            panic!()
        };
        assert_eq!(s.origin(), "https://gitlab.corp.example:8443");
        assert_eq!(s.system.username(), "gitlab-ci-token");
        let gh = [
            ("GITHUB_ACTIONS", "true"),
            ("GITHUB_SERVER_URL", "https://github.com"),
            ("GITHUB_TOKEN", "ghs_FAKE"),
            ("GITHUB_REPOSITORY_OWNER", "octo-org"),
        ];
        let Detected::Server(s) = detect(&env(&gh)) else {
            panic!()
        };
        assert_eq!(s.origin(), "https://github.com");
        assert_eq!(plan(&s).go_pattern, "github.com/octo-org");
        assert!(matches!(detect(&env(&[("CI", "true")])), Detected::None));
    }

    #[test]
    fn inconsistent_ci_variables_serve_nothing_and_say_why() {
        let base = |url: &'static str| {
            vec![
                ("GITLAB_CI", "true"),
                ("CI_SERVER_URL", url),
                ("CI_JOB_TOKEN", "job-FAKE"),
            ]
        };
        assert!(why(&base("http://gitlab.corp.example")).contains("not https"));
        assert!(why(&base("https://gitlab.corp.example/sub")).contains("not an origin"));
        assert!(why(&base("https://u:p@gitlab.corp.example")).contains("not an origin"));
        assert!(why(&base("gitlab.corp.example")).contains("not a URL"));
        let mut other_host = base("https://gitlab.corp.example");
        other_host.push(("CI_SERVER_HOST", "evil.example"));
        assert!(why(&other_host).contains("CI_SERVER_HOST"));
        let mut other_port = base("https://gitlab.corp.example");
        other_port.push(("CI_SERVER_PORT", "8443"));
        assert!(why(&other_port).contains("CI_SERVER_PORT"));
        assert!(why(&[("GITLAB_CI", "true"), ("CI_JOB_TOKEN", "t")]).contains("CI_SERVER_URL"));
        assert!(
            why(&[
                ("GITLAB_CI", "true"),
                ("CI_SERVER_URL", "https://gitlab.corp.example")
            ])
            .contains("CI_JOB_TOKEN is not set")
        );
        assert!(
            why(&[
                ("GITHUB_ACTIONS", "true"),
                ("GITHUB_SERVER_URL", "https://github.com")
            ])
            .contains("github.token")
        );
        let mut both = base("https://gitlab.corp.example");
        both.push(("GITHUB_ACTIONS", "true"));
        assert!(why(&both).contains("both"));
    }

    #[test]
    fn config_check_names_a_bad_ci_setting_with_its_position() {
        let path = std::path::Path::new("/c.toml");
        let report = crate::policy::load_str(path, "# ci\n[ci]\njob_token = \"yes\"\n")
            .unwrap_err()
            .report();
        assert_eq!(report, "/c.toml:3:13: `job_token` must be true or false");
        let report = crate::policy::load_str(path, "[ci]\njob_tokens = true\n")
            .unwrap_err()
            .report();
        assert!(
            report.starts_with("/c.toml:2:1: unknown key `job_tokens` in [ci]"),
            "{report}"
        );
        let policy = crate::policy::load_str(path, "\n[ci]\njob_token = true\n").unwrap();
        assert_eq!(policy.ci_job_token, Some(2));
        let off = crate::policy::load_str(path, "[ci]\njob_token = false\n").unwrap();
        assert_eq!(off.ci_job_token, None);
    }

    #[test]
    fn setup_keeps_what_go_env_w_made_private_and_adds_the_ci_host() {
        use crate::goenv::GoEnv;
        // `go env -w GOPRIVATE=...` (go's env file), nothing in the job's environment.
        let go = GoEnv::simulated(&[], &[("GOPRIVATE", "old.example/*")]);
        assert_eq!(
            go_exports(&go, "git.corp.example", "/home/ci"),
            "export GOPRIVATE='old.example/*,git.corp.example'\n\
             export GONOSUMDB='old.example/*,git.corp.example'\n\
             export GOAUTH='netrc;git /home/ci'\n"
        );
        // The environment over the file, an explicit GONOSUMDB and GOAUTH kept, in order.
        let go = GoEnv::simulated(
            &[("GOPRIVATE", "env.example"), ("GOAUTH", "netrc;git /repo")],
            &[("GOPRIVATE", "file.example"), ("GONOSUMDB", "sum.example")],
        );
        assert_eq!(
            go_exports(&go, "git.corp.example", "/h"),
            "export GOPRIVATE=env.example,git.corp.example\n\
             export GONOSUMDB=sum.example,git.corp.example\n\
             export GOAUTH='netrc;git /repo;git /h'\n"
        );
        // go refuses `off` combined with anything: ours replaces it.
        let off = GoEnv::simulated(&[("GOAUTH", "off")], &[]);
        assert!(go_exports(&off, "h.example", "/h").ends_with("export GOAUTH='git /h'\n"));
        // A HOME go would split: no GOAUTH line.
        assert!(!go_exports(&GoEnv::default(), "h.example", "/a;b").contains("GOAUTH"));
    }

    #[test]
    fn setup_merges_the_ci_host_into_the_jobs_go_variables() {
        assert_eq!(
            merge("a.example, b.example", "c.example", ','),
            "a.example,b.example,c.example"
        );
        assert_eq!(merge("c.example", "c.example", ','), "c.example");
        assert_eq!(merge("", "c.example", ','), "c.example");
        assert_eq!(sh_quote("netrc;git /home/x"), "'netrc;git /home/x'");
        assert_eq!(sh_quote("it's"), "'it'\\''s'");
        assert_eq!(sh_quote("git.corp.example,*.x"), "'git.corp.example,*.x'");
    }
}
