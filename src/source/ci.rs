//! The `ci` source: the CI job's own token ([`crate::ci`]), for exactly the CI server's origin.
//!
//! It checks the origin itself, whatever rule asks: a request whose scheme, host or port is not
//! the one `CI_SERVER_URL` / `GITHUB_SERVER_URL` names (another host, a subdomain, another
//! port, http) gets nothing, and so does every request in a job whose variables are absent or
//! inconsistent. Read-only, never stored.

use super::{Credential, Query, Source, SourceError};
use crate::ci::{Detected, detect};

pub struct CiSource<'e> {
    env: &'e dyn Fn(&str) -> Option<String>,
}

impl<'e> CiSource<'e> {
    pub fn new(env: &'e dyn Fn(&str) -> Option<String>) -> Self {
        CiSource { env }
    }
}

/// `scheme://host[:port]` of a scope key.
fn origin(scope: &str) -> &str {
    let start = scope.find("://").map_or(0, |i| i + 3);
    scope[start..]
        .find('/')
        .map_or(scope, |j| &scope[..start + j])
}

impl Source for CiSource<'_> {
    fn name(&self) -> &'static str {
        "ci"
    }

    fn get(&self, query: &Query<'_>) -> Result<Option<Credential>, SourceError> {
        let server = match detect(self.env) {
            Detected::None => return Ok(None),
            Detected::Inconsistent(why) => {
                return Err(SourceError::Unavailable(format!(
                    "ci: no job token is served: {why}"
                )));
            }
            Detected::Server(server) => server,
        };
        if origin(query.scope.as_str()) != server.origin() {
            return Ok(None);
        }
        let user = server.system.username();
        if query.username.is_some_and(|asked| asked != user) {
            return Ok(None);
        }
        Ok(Some(Credential {
            username: user.to_owned(),
            password: server.token,
            password_expiry_utc: None,
            oauth_refresh_token: None,
        }))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::policy::ScopeKey;

    #[test]
    fn the_job_token_goes_to_the_ci_origin_alone() {
        let vars = [
            ("GITLAB_CI", "true"),
            ("CI_SERVER_URL", "https://gitlab.corp.example"),
            ("CI_JOB_TOKEN", "job-FAKE"),
        ];
        let env = |name: &str| {
            vars.iter()
                .find(|(k, _)| *k == name)
                .map(|(_, v)| (*v).to_owned())
        };
        let policy = crate::policy::load_str(
            std::path::Path::new("/c.toml"),
            "[[rule]]\nurl = \"https://*.corp.example\"\nsources = [\"ci\"]\n",
        )
        .unwrap();
        let source = CiSource::new(&env);
        let ask = |scope: &str| {
            let scope = ScopeKey(scope.into());
            source
                .get(&Query {
                    scope: &scope,
                    rule: &policy.rules[0],
                    path: None,
                    username: None,
                    now: 0,
                })
                .unwrap()
                .map(|c| (c.username, c.password.expose().to_owned()))
        };
        assert_eq!(
            ask("https://gitlab.corp.example/group/repo.git"),
            Some(("gitlab-ci-token".into(), "job-FAKE".into()))
        );
        for other in [
            "https://sub.gitlab.corp.example",
            "https://gitlab.corp.example:8443",
            "http://gitlab.corp.example",
            "https://other.corp.example",
            "https://gitlab.corp.example.evil.com",
        ] {
            assert_eq!(ask(other), None, "{other}");
        }
    }
}
