//! OAuth through the real binary: `gocred login` against the real `oidc-provider` over TLS
//! (trusted through git's `http.sslCAInfo`), git cloning and fetching past token expiry, 64
//! concurrent fills sharing one refresh, revocation, and vendor quirks from a small fake server.

use crate::common::git_server::GitServer;
use crate::common::oidc::{CLIENT_ID, OidcServer, gocred_login};
use crate::common::{TestEnv, value_of};
use std::sync::Arc;
use std::time::Duration;

/// An oauth rule for the git server, tokens in the file store (so the test can look at them).
fn oidc_rule(origin: &str, issuer: &str) -> String {
    format!(
        "[[rule]]\nurl = \"{origin}\"\nsources = [\"oauth\"]\nstore = \"file\"\nallow_http = true\n\n\
         [rule.oauth]\nprovider = \"oidc\"\nclient_id = \"{CLIENT_ID}\"\nissuer = \"{issuer}\"\n"
    )
}

/// An askpass that records any prompt: git must never need one here.
fn no_prompt(env: &TestEnv) -> std::path::PathBuf {
    let log = env.root().join("askpass.log");
    env.script(
        "askpass",
        &format!("echo \"$1\" >> '{}'\nexit 1", log.display()),
    )
}

fn prompts(env: &TestEnv) -> String {
    std::fs::read_to_string(env.root().join("askpass.log")).unwrap_or_default()
}

struct Setup {
    env: TestEnv,
    oidc: Arc<OidcServer>,
    git: GitServer,
}

/// An OAuth server (access tokens living `ttl` s), a git server accepting its tokens, an oauth
/// rule for the git server, git trusting the OAuth server's CA and using gocred.
fn setup(ttl: u64, margin: u64) -> Setup {
    let mut env = TestEnv::new();
    env.set_env("GOCRED_OAUTH_REFRESH_MARGIN", margin.to_string());
    env.set_env("GOCRED_HTTP_TIMEOUT", "10");
    let oidc = Arc::new(OidcServer::start(&env, ttl));
    oidc.trust_in_git(&env);
    let git = GitServer::start(&env);
    git.set_checker(oidc.checker());
    git.create_repo(&env, "group/repo.git");
    env.policy(&oidc_rule(&git.origin(), &oidc.issuer));
    env.use_gocred_by_path();
    Setup { env, oidc, git }
}

/// `gocred login` for the git server's origin, approved as `alice`.
fn login(s: &Setup) -> crate::common::oidc::LoginOutput {
    let oidc = s.oidc.clone();
    let out = gocred_login(&s.env, &[&s.git.origin(), "--no-browser"], |p, _| {
        let uri = p.complete.clone().unwrap_or(p.verification_uri.clone());
        oidc.approve(&uri, &p.user_code, "alice");
    });
    assert!(
        out.status.success(),
        "{out:?}\nOAuth server log:\n{}",
        std::fs::read_to_string(&s.oidc.log).unwrap_or_default()
    );
    out
}

/// The stored access token (the file store is plaintext in tests).
fn stored_token(env: &TestEnv) -> Option<String> {
    value_of(&env.file_store()?, "password").map(str::to_owned)
}

#[test]
fn login_without_a_browser_then_git_clones_and_keeps_fetching_past_expiry_with_no_prompt() {
    let s = setup(8, 2);
    let out = login(&s);
    // What the user saw: the URL, the code, a QR code, and why no browser opened.
    assert!(
        out.stderr.contains(&format!("{}/device", s.oidc.issuer)),
        "{out:?}"
    );
    assert!(out.stderr.contains(&out.user_code));
    assert!(
        out.stderr.contains('▀') || out.stderr.contains('▄'),
        "no QR code: {out:?}"
    );
    assert!(
        out.stderr.contains("Not opening a browser: --no-browser."),
        "{out:?}"
    );
    assert!(
        out.stdout
            .contains(&format!("Logged in to {} as alice", s.git.origin())),
        "{out:?}"
    );
    let store = s.env.file_store().unwrap();
    assert!(store.contains("username=oauth2\n"), "{store}");
    assert!(store.contains("oauth_refresh_token="), "{store}");
    let first = stored_token(&s.env).unwrap();
    assert_eq!(s.oidc.check(&first).as_deref(), Some("alice"));
    assert!(!out.stdout.contains(&first) && !out.stderr.contains(&first));

    // git clone with the token, no prompt.
    let url = s.git.url("127.0.0.1", "group/repo.git");
    s.env
        .git(&["clone", "-q", &url, "work"])
        .env("GIT_ASKPASS", no_prompt(&s.env))
        .success();
    assert_eq!(prompts(&s.env), "");
    assert!(
        s.git
            .credentials_seen()
            .iter()
            .all(|(u, p)| u == "oauth2" && *p == first)
    );
    assert_eq!(s.oidc.refresh_requests(), 0);

    // Past expiry the old token is dead at the server; fetch goes through a refresh.
    std::thread::sleep(Duration::from_secs(9));
    assert_eq!(
        s.oidc.check(&first),
        None,
        "the first token should have expired"
    );
    s.git.clear_log();
    s.env
        .git(&["fetch", "-q", "origin"])
        .current_dir(s.env.root().join("work"))
        .env("GIT_ASKPASS", no_prompt(&s.env))
        .success();
    assert_eq!(prompts(&s.env), "");
    assert_eq!(s.oidc.refresh_requests(), 1);
    let second = stored_token(&s.env).unwrap();
    assert_ne!(second, first);
    let seen = s.git.credentials_seen();
    assert!(
        !seen.is_empty() && seen.iter().all(|(_, p)| *p == second),
        "{seen:?}"
    );
}

#[test]
fn sixty_four_concurrent_fills_on_an_expired_token_share_one_refresh() {
    let s = setup(3, 0);
    login(&s);
    let first = stored_token(&s.env).unwrap();
    std::thread::sleep(Duration::from_secs(4));
    let env = Arc::new(s.env);
    let url = s.git.url("127.0.0.1", "group/repo.git");
    let fills: Vec<_> = (0..64)
        .map(|_| {
            let (env, url) = (env.clone(), url.clone());
            std::thread::spawn(move || env.credential_fill(&url))
        })
        .collect();
    let outputs: Vec<_> = fills.into_iter().map(|t| t.join().unwrap()).collect();
    let second = stored_token(&env).unwrap();
    assert_ne!(second, first);
    for out in &outputs {
        out.assert_success();
        assert_eq!(value_of(&out.stdout, "username"), Some("oauth2"), "{out}");
        assert_eq!(
            value_of(&out.stdout, "password"),
            Some(second.as_str()),
            "{out}"
        );
    }
    assert_eq!(s.oidc.refresh_requests(), 1, "{}", s.oidc.stats());
    assert_eq!(s.oidc.check(&second).as_deref(), Some("alice"));
}

#[test]
fn a_refused_refresh_erases_the_dead_token_and_says_to_log_in_again_with_stdout_empty() {
    let s = setup(3, 0);
    login(&s);
    let store = s.env.file_store().unwrap();
    let refresh = value_of(&store, "oauth_refresh_token").unwrap().to_owned();
    s.oidc.revoke_grant(&refresh);
    std::thread::sleep(Duration::from_secs(4));
    let out = s
        .env
        .gocred(&["get"])
        .stdin(format!(
            "protocol=http\nhost=127.0.0.1:{}\n\n",
            s.git.port()
        ))
        .run();
    out.assert_code(1);
    assert_eq!(out.stdout, "");
    assert_eq!(out.stderr_lines().len(), 1, "{out}");
    assert!(out.stderr.contains("invalid_grant"), "{out}");
    assert!(
        out.stderr
            .contains(&format!("run `gocred login {}`", s.git.origin())),
        "{out}"
    );
    assert!(!out.stderr.contains(&refresh));
    assert!(
        !s.env
            .file_store()
            .unwrap_or_default()
            .contains("username=oauth2"),
        "the dead token is still stored"
    );
    assert_eq!(s.oidc.refresh_requests(), 1);
    // With nothing stored, get says so and still never starts a login.
    let again = s
        .env
        .gocred(&["get"])
        .stdin(format!(
            "protocol=http\nhost=127.0.0.1:{}\n\n",
            s.git.port()
        ))
        .run();
    again.assert_code(1);
    assert_eq!(again.stdout, "");
    assert!(again.stderr.contains("no token for"), "{again}");
}

#[test]
fn logout_revokes_at_the_server_and_erases_here_and_status_shows_the_account_before() {
    let s = setup(60, 0);
    login(&s);
    let token = stored_token(&s.env).unwrap();
    let status = s.env.gocred(&["status"]).success();
    assert!(
        status
            .stdout
            .contains(&format!("stored: {} as oauth2, expires", s.git.origin()))
            && status.stdout.contains("refresh token held"),
        "{status}"
    );
    assert!(
        status.stdout.contains("oauth: oidc, client id gocred-test"),
        "{status}"
    );
    assert!(!status.stdout.contains(&token));
    let out = s.env.gocred(&["logout", &s.git.origin()]).success();
    assert!(
        out.stdout.contains("revoked at the server and erased here"),
        "{out}"
    );
    assert_eq!(s.oidc.check(&token), None);
    assert!(s.oidc.stats()["revocations"].as_u64().unwrap() >= 1);
    assert!(
        !s.env
            .file_store()
            .unwrap_or_default()
            .contains("username=oauth2")
    );
    let out = s.env.gocred(&["logout", &s.git.origin()]).success();
    assert!(out.stdout.contains("Nothing stored for"), "{out}");
}

#[test]
fn login_for_a_host_without_a_rule_explains_it_then_save_adds_it_and_ctrl_c_stores_nothing() {
    let env = TestEnv::new();
    let oidc = OidcServer::start(&env, 60);
    oidc.trust_in_git(&env);
    let before = "# my rules\n[[rule]]\nurl = \"https://other.example\"\nsources = [\"file\"]\n";
    env.policy(before);
    let host = "git.corp.example";
    let out = env.gocred(&["login", host]).run();
    out.assert_code(1);
    assert!(
        out.stderr
            .contains("[[rule]]\nurl = \"https://git.corp.example\"\nsources = [\"oauth\"]"),
        "{out}"
    );
    assert!(out.stderr.contains("CLIENT-ID"), "{out}");
    assert_eq!(std::fs::read_to_string(env.policy_path()).unwrap(), before);

    let issuer = oidc.issuer.clone();
    let args = [
        host,
        "--save",
        "--provider",
        "oidc",
        "--client-id",
        CLIENT_ID,
        "--issuer",
        &issuer,
        "--no-browser",
    ];
    let out = gocred_login(&env, &args, |_, pid| {
        let killed = std::process::Command::new("kill")
            .args(["-INT", &pid.to_string()])
            .status()
            .unwrap();
        assert!(killed.success());
    });
    assert!(!out.status.success(), "{out:?}");
    let after = std::fs::read_to_string(env.policy_path()).unwrap();
    assert!(after.starts_with(before), "{after}");
    assert!(
        after.contains(&format!(
            "[rule.oauth]\nprovider = \"oidc\"\nclient_id = \"{CLIENT_ID}\"\nissuer = \"{issuer}\"\n"
        )),
        "{after}"
    );
    assert!(out.stdout.contains("Added to"), "{out:?}");
    env.gocred(&["config", "check"]).success();
    // Interrupted before approval: nothing anywhere.
    assert_eq!(env.file_store(), None);
    let status = env.gocred(&["status"]).run();
    assert!(!status.stdout.contains("stored:"), "{status}");
}
