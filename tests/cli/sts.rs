//! The `sts` source through the binary and real git: the CI job's ID token, signed by the real
//! `oidc-provider` as the CI's issuer, exchanged (RFC 8693) at a loopback STS that verifies it
//! against the issuer's JWKS (signature, issuer, audience, expiry) before answering; see
//! `common/ci_identity.rs`. GitHub Actions (the runner's ID token endpoint) and GitLab CI (an
//! `id_tokens` variable).

use crate::common::ci_identity::{AUDIENCE, CiIssuer, EXCHANGE, RUNNER_TOKEN, StsFake, verify};
use crate::common::{Output, TestEnv, value_of};
use std::time::Duration;

struct World {
    env: TestEnv,
    issuer: CiIssuer,
    sts: StsFake,
}

/// An issuer with ID tokens living `ttl` s, an STS trusted through git's config, and a policy
/// for the STS's origin with `extra` lines in `[rule.sts]` (tokens cached in the file store).
fn world(ttl: u64, extra: &str) -> World {
    let mut env = TestEnv::new();
    env.set_env("GOCRED_HTTP_TIMEOUT", "10");
    let issuer = CiIssuer::start(&env, ttl);
    let sts = StsFake::start(&env, &issuer);
    sts.trust_in_git(&env);
    env.policy(&format!(
        "[[rule]]\nurl = \"{}\"\nsources = [\"sts\"]\n\n[rule.sts]\n\
         token_endpoint = \"{}/token\"\ncache = \"file\"\n{extra}",
        sts.origin(),
        sts.origin()
    ));
    World { env, issuer, sts }
}

impl World {
    /// The job runs in GitHub Actions with `permissions: id-token: write`.
    fn in_github_actions(&mut self) {
        let url = self.sts.actions_url();
        self.env
            .set_env("GITHUB_ACTIONS", "true")
            .set_env("ACTIONS_ID_TOKEN_REQUEST_URL", url)
            .set_env("ACTIONS_ID_TOKEN_REQUEST_TOKEN", RUNNER_TOKEN);
    }

    fn get(&self) -> Output {
        self.env
            .gocred(&["get"])
            .stdin(format!(
                "protocol=https\nhost=127.0.0.1:{}\n\n",
                self.sts.port()
            ))
            .run()
    }
}

/// One line on stderr holding each of `says`, and no credential on stdout.
fn assert_refused(out: &Output, says: &[&str]) {
    assert!(
        !out.stdout.contains("password="),
        "a credential came out: {out}"
    );
    let lines = out.stderr_lines();
    assert_eq!(lines.len(), 1, "{out}");
    for s in says {
        assert!(lines[0].contains(s), "{s:?} not in {out}");
    }
}

#[test]
fn github_actions_id_token_is_exchanged_once_and_git_clones_with_the_result() {
    let mut w = world(600, &format!("audience = \"{AUDIENCE}\"\n"));
    w.in_github_actions();
    w.sts.create_repo(&w.env, "acme/tools.git");
    w.env.use_gocred_by_path();
    let out = w
        .env
        .git(&[
            "clone",
            "-q",
            &format!("{}/acme/tools.git", w.sts.origin()),
            "tools",
        ])
        .current_dir(w.env.root())
        .run();
    out.assert_success();
    assert!(w.env.root().join("tools/README").is_file());
    // The runner was asked for an ID token for the rule's audience, with its bearer token; the
    // STS verified that token and exchanged it.
    assert_eq!(w.sts.id_token_requests(), [Some(AUDIENCE.to_owned())]);
    let exchanges = w.sts.exchanges();
    assert_eq!(exchanges.len(), 1, "{exchanges:?}");
    let x = &exchanges[0];
    assert_eq!(x.refused, None);
    assert_eq!(x.field("grant_type"), Some(EXCHANGE));
    assert_eq!(
        x.field("subject_token_type"),
        Some("urn:ietf:params:oauth:token-type:id_token")
    );
    // Served as x-access-token until it expires; a second clone and a get exchange nothing.
    let out = w.get();
    out.assert_success();
    assert_eq!(value_of(&out.stdout, "username"), Some("x-access-token"));
    assert!(w.sts.issued(value_of(&out.stdout, "password").unwrap()));
    assert!(value_of(&out.stdout, "password_expiry_utc").is_some());
    w.env
        .git(&[
            "clone",
            "-q",
            &format!("{}/acme/tools.git", w.sts.origin()),
            "again",
        ])
        .current_dir(w.env.root())
        .run()
        .assert_success();
    assert_eq!(w.sts.exchanges().len(), 1);
    // The ID token itself went nowhere but the token endpoint, and was never stored.
    let store = w.env.file_store().unwrap();
    assert!(!store.contains("eyJ"), "{store}");
}

#[test]
fn gitlab_id_tokens_variable_is_exchanged_with_the_rules_parameters() {
    let mut w = world(
        600,
        "id_token_env = \"STS_ID_TOKEN\"\nsubject_token_type = \"jwt\"\n\
         scope = \"read_repository\"\nexchange_audience = \"gitlab.corp.example\"\n",
    );
    let id_token = w.issuer.id_token(AUDIENCE);
    w.env
        .set_env("GITLAB_CI", "true")
        .set_env("STS_ID_TOKEN", &id_token);
    let out = w.get();
    out.assert_success();
    assert!(w.sts.issued(value_of(&out.stdout, "password").unwrap()));
    let x = &w.sts.exchanges()[0];
    assert_eq!(x.refused, None);
    assert_eq!(x.field("subject_token"), Some(id_token.as_str()));
    assert_eq!(
        x.field("subject_token_type"),
        Some("urn:ietf:params:oauth:token-type:jwt")
    );
    assert_eq!(x.field("scope"), Some("read_repository"));
    assert_eq!(x.field("audience"), Some("gitlab.corp.example"));
    assert!(
        w.sts.id_token_requests().is_empty(),
        "GitHub Actions was asked"
    );
}

#[test]
fn a_forged_or_foreign_id_token_is_refused_by_the_sts_and_git_gets_nothing() {
    let mut w = world(600, "id_token_env = \"STS_ID_TOKEN\"\n");
    // The issuer's token with the payload changed (another repository): the signature no
    // longer matches.
    let real = w.issuer.id_token(AUDIENCE);
    let parts: Vec<&str> = real.split('.').collect();
    let forged = {
        use base64::Engine;
        use base64::engine::general_purpose::URL_SAFE_NO_PAD;
        let mut claims: serde_json::Value =
            serde_json::from_slice(&URL_SAFE_NO_PAD.decode(parts[1]).unwrap()).unwrap();
        claims["repository"] = "evil/repo".into();
        format!(
            "{}.{}.{}",
            parts[0],
            URL_SAFE_NO_PAD.encode(claims.to_string()),
            parts[2]
        )
    };
    w.env.set_env("STS_ID_TOKEN", &forged);
    let out = w.get();
    assert_refused(&out, &["invalid_grant", "bad signature"]);
    // A real token for another audience.
    let foreign = w.issuer.id_token("https://another-service.example");
    w.env.set_env("STS_ID_TOKEN", &foreign);
    let out = w.get();
    assert_refused(&out, &["invalid_grant", "wrong audience"]);
    let refused: Vec<_> = w.sts.exchanges().into_iter().map(|x| x.refused).collect();
    assert_eq!(refused, [Some("bad signature"), Some("wrong audience")]);
    assert!(w.env.file_store().is_none_or(|s| !s.contains("sts_FAKE")));
}

#[test]
fn an_expired_id_token_is_never_sent() {
    let mut w = world(1, "id_token_env = \"STS_ID_TOKEN\"\n");
    let token = w.issuer.id_token(AUDIENCE);
    std::thread::sleep(Duration::from_millis(2100));
    w.env.set_env("STS_ID_TOKEN", &token);
    let out = w.get();
    assert_refused(&out, &["ID token has expired"]);
    assert!(w.sts.exchanges().is_empty());
}

#[test]
fn the_sts_harness_itself_refuses_forged_expired_and_foreign_tokens() {
    // The fake's check, on its own: without it the tests above would prove nothing.
    let w = world(1, "id_token_env = \"X\"\n");
    let keys = w.sts.keys();
    let good = w.issuer.id_token(AUDIENCE);
    assert_eq!(verify(&good, &w.issuer.issuer, AUDIENCE, &keys), None);
    assert_eq!(
        verify(&good, "https://other-issuer.example", AUDIENCE, &keys),
        Some("wrong issuer")
    );
    assert_eq!(
        verify(&good, &w.issuer.issuer, "https://x.example", &keys),
        Some("wrong audience")
    );
    let mut sig_flipped = good.clone();
    let last = sig_flipped.pop().unwrap();
    sig_flipped.push(if last == 'A' { 'B' } else { 'A' });
    assert_ne!(
        verify(&sig_flipped, &w.issuer.issuer, AUDIENCE, &keys),
        None
    );
    std::thread::sleep(Duration::from_millis(2100));
    assert_eq!(
        verify(&good, &w.issuer.issuer, AUDIENCE, &keys),
        Some("expired")
    );
}

#[test]
fn outside_the_ci_nothing_is_sent_and_the_line_names_what_is_missing() {
    let w = world(600, &format!("audience = \"{AUDIENCE}\"\n"));
    let out = w.get();
    assert_refused(&out, &["ACTIONS_ID_TOKEN_REQUEST_URL", "id-token: write"]);
    let w = world(600, "id_token_env = \"STS_ID_TOKEN\"\n");
    let out = w.get();
    assert_refused(&out, &["STS_ID_TOKEN is not set", "id_tokens"]);
    // The runner's endpoint refuses a wrong request token: one line, nothing exchanged.
    let mut w = world(600, &format!("audience = \"{AUDIENCE}\"\n"));
    w.in_github_actions();
    w.env.set_env("ACTIONS_ID_TOKEN_REQUEST_TOKEN", "wrong");
    let out = w.get();
    assert_refused(&out, &["ID token request answered HTTP 401"]);
    assert!(w.sts.exchanges().is_empty());
}

#[test]
fn parallel_gits_share_one_exchange() {
    let mut w = world(600, "id_token_env = \"STS_ID_TOKEN\"\n");
    let token = w.issuer.id_token(AUDIENCE);
    w.env.set_env("STS_ID_TOKEN", &token);
    w.sts.script(|s| s.delay_ms = 500);
    let passwords = crate::common::parallel_gets(&w.env, &format!("127.0.0.1:{}", w.sts.port()), 8);
    assert_eq!(w.sts.exchanges().len(), 1);
    assert!(passwords.iter().all(|p| *p == passwords[0]));
}

#[test]
fn a_token_without_expires_in_serves_one_request_and_is_never_cached() {
    let mut w = world(600, "id_token_env = \"STS_ID_TOKEN\"\n");
    let token = w.issuer.id_token(AUDIENCE);
    w.env.set_env("STS_ID_TOKEN", &token);
    w.sts.script(|s| s.expires_in = None);
    let a = w.get();
    let b = w.get();
    a.assert_success();
    b.assert_success();
    assert_ne!(
        value_of(&a.stdout, "password"),
        value_of(&b.stdout, "password")
    );
    assert_eq!(w.sts.exchanges().len(), 2);
    assert!(w.env.file_store().is_none_or(|s| !s.contains("sts_FAKE")));
}

#[test]
fn config_check_names_each_bad_sts_setting_with_line_and_column() {
    let env = TestEnv::new();
    let path = env.policy(
        "[[rule]]\nurl = \"https://gitlab.corp.example\"\nsources = [\"sts\"]\n\n\
         [rule.sts]\ntoken_endpoint = \"http://sts.corp.example/token\"\n\
         subject_token_type = \"saml\"\nid_token_env = \"NOT A VAR\"\nlifetime = 3\n\n\
         [[rule]]\nurl = \"https://b.corp.example\"\nsources = [\"sts\"]\n\
         [rule.sts]\ntoken_endpoint = \"https://sts.corp.example/token\"\n",
    );
    let out = env.gocred(&["config", "check"]).run();
    out.assert_failure();
    let p = path.display();
    for want in [
        format!("{p}:6:18: `token_endpoint` \"http://sts.corp.example/token\": http:// needs"),
        format!("{p}:7:22: unknown subject_token_type `saml`"),
        format!("{p}:8:16: `id_token_env` \"NOT A VAR\" is not an environment variable name"),
        format!("{p}:9:1: unknown key `lifetime` in [rule.sts]"),
        format!("{p}:14:1: [rule.sts] needs `audience`"),
    ] {
        assert!(out.stderr.contains(&want), "{want}\n{out}");
    }
}

#[test]
fn status_shows_where_the_id_token_comes_from_without_a_secret() {
    let mut w = world(600, "id_token_env = \"STS_ID_TOKEN\"\n");
    let token = w.issuer.id_token(AUDIENCE);
    w.env.set_env("STS_ID_TOKEN", &token);
    let served = value_of(&w.get().stdout, "password").unwrap().to_owned();
    let out = w.env.gocred(&["status"]).run();
    out.assert_success();
    assert!(
        out.stdout.contains(&format!(
            "sts: ID token from $STS_ID_TOKEN (set), exchanged at {}/token, tokens cached in file",
            w.sts.origin()
        )),
        "{out}"
    );
    assert!(out.stdout.contains("as x-access-token, expires"), "{out}");
    for secret in [&token, &served] {
        assert!(!out.stdout.contains(secret.as_str()) && !out.stderr.contains(secret.as_str()));
    }
}

#[test]
fn a_host_the_policy_does_not_map_never_asks_the_ci_or_the_sts() {
    let mut w = world(600, &format!("audience = \"{AUDIENCE}\"\n"));
    w.in_github_actions();
    for host in ["localhost", "127.0.0.1", "127.0.0.1:1"] {
        let out = w
            .env
            .gocred(&["get"])
            .stdin(format!("protocol=https\nhost={host}\n\n"))
            .run();
        out.assert_success();
        assert_eq!(out.stdout, "", "{host}: {out}");
    }
    assert!(w.sts.id_token_requests().is_empty());
    assert!(w.sts.exchanges().is_empty());
}

/// Not an assertion on speed (the machine is shared): the numbers for the closing note.
#[test]
fn cached_hit_and_exchange_timings() {
    let mut w = world(600, "id_token_env = \"STS_ID_TOKEN\"\n");
    let token = w.issuer.id_token(AUDIENCE);
    w.env.set_env("STS_ID_TOKEN", &token);
    let time = |n: usize, fresh: bool| {
        let mut all = Vec::new();
        for _ in 0..n {
            if fresh {
                let _ = std::fs::remove_file(w.env.file_store_path());
            }
            let start = std::time::Instant::now();
            w.get().assert_success();
            all.push(start.elapsed());
        }
        all.sort();
        all[n / 2]
    };
    let miss = time(5, true);
    let hit = time(9, false);
    eprintln!("sts get: exchange (miss) median {miss:?}, cached hit median {hit:?}");
    assert!(
        hit < miss,
        "a cached hit ({hit:?}) is slower than an exchange ({miss:?})"
    );
}
