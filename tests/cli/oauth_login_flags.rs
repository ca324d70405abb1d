//! What issue 4 promises of `gocred login` / `logout` that the other OAuth tests leave out:
//! `--scope` replaces the rule's scopes and flags that disagree with the rule are refused, a
//! terminal gets a live countdown, GitHub's logout says where to revoke, and an `oidc` rule with
//! explicit endpoints needs no discovery.

use crate::common::vendor_fake::{Answer, CLIENT_ID, Vendor, VendorFake};
use crate::common::{GOCRED, TestEnv};
use std::collections::VecDeque;

fn setup(vendor: Vendor, oauth_extra: &str) -> (TestEnv, VendorFake) {
    let mut env = TestEnv::new();
    env.set_env("GOCRED_HTTP_TIMEOUT", "5");
    let fake = VendorFake::start(&env, vendor);
    fake.trust_in_git(&env);
    env.policy(&fake.rule("file", oauth_extra));
    (env, fake)
}

#[test]
fn scope_flags_replace_the_rules_scopes_and_flags_that_disagree_with_the_rule_are_refused() {
    let (env, fake) = setup(Vendor::GitLab, "scopes = [\"api\"]\n");
    // Only the device request matters: the user denies at once.
    fake.script(|s| s.polls = VecDeque::from([Answer::Error("access_denied")]));
    let origin = fake.origin();
    env.gocred(&["login", &origin, "--no-browser"])
        .run()
        .assert_code(1);
    env.gocred(&[
        "login",
        &origin,
        "--no-browser",
        "--scope",
        "read_repository",
        "--scope",
        "openid",
    ])
    .run()
    .assert_code(1);
    let scopes: Vec<_> = fake
        .seen_at("/oauth/authorize_device")
        .iter()
        .map(|r| r.field("scope").unwrap_or_default().to_owned())
        .collect();
    assert_eq!(scopes, ["api", "read_repository openid"]);

    for (flag, value, says) in [
        (
            "--provider",
            "github",
            "--provider github disagrees with the rule",
        ),
        (
            "--client-id",
            "someone-else",
            "--client-id disagrees with the rule",
        ),
    ] {
        let out = env.gocred(&["login", &origin, flag, value]).run();
        out.assert_code(1);
        assert_eq!(out.stdout, "");
        assert_eq!(out.stderr_lines().len(), 1, "{out}");
        assert!(out.stderr.contains(says), "{out}");
        assert!(out.stderr.contains("edit the config instead"), "{out}");
    }
    assert_eq!(fake.seen_at("/oauth/authorize_device").len(), 2);
    assert_eq!(env.file_store(), None);
}

#[test]
fn a_terminal_shows_a_live_countdown_to_the_codes_expiry() {
    let (env, fake) = setup(Vendor::GitLab, "");
    fake.script(|s| s.polls = VecDeque::from([Answer::Pending, Answer::Approve]));
    // `script` gives gocred a terminal for stdout and stderr, and copies both to its stdout.
    let command = format!("{GOCRED} login {} --no-browser", fake.origin());
    let out = env
        .command("script")
        .args(["-q", "-e", "-c", &command, "/dev/null"])
        .run();
    out.assert_success();
    // 900 s to begin with: 15:00, then 14:59 a second later…
    assert!(
        out.stdout.contains(&format!(
            "\rWaiting for approval from 127.0.0.1:{}; the code expires in 14:59",
            fake.port()
        )),
        "{out}"
    );
    assert!(out.stdout.contains("Logged in to"), "{out}");
}

#[test]
fn github_logout_erases_here_and_says_where_to_revoke() {
    let (env, fake) = setup(Vendor::GitHub, "");
    env.gocred(&["login", &fake.origin(), "--no-browser"])
        .success();
    let store = env.file_store().unwrap();
    let token = crate::common::value_of(&store, "password")
        .unwrap()
        .to_owned();
    let out = env.gocred(&["logout", &fake.origin()]).success();
    assert!(
        out.stdout.contains(&format!(
            "GitHub offers this client no revocation: revoke the app under {}/settings/applications",
            fake.origin()
        )),
        "{out}"
    );
    assert!(!env.file_store().unwrap_or_default().contains("password="));
    // Nothing was sent to revoke it: GitHub would need the client secret.
    assert!(fake.accepts(&token));
}

#[test]
fn an_oidc_rule_with_explicit_endpoints_logs_in_without_discovery() {
    let (env, fake) = setup(Vendor::GitLab, "");
    let origin = fake.origin();
    env.policy(&format!(
        "[[rule]]\nurl = \"{origin}\"\nsources = [\"oauth\"]\nstore = \"file\"\n\n\
         [rule.oauth]\nprovider = \"oidc\"\nclient_id = \"{CLIENT_ID}\"\n\
         device_authorization_endpoint = \"{origin}/oauth/authorize_device\"\n\
         token_endpoint = \"{origin}/oauth/token\"\n"
    ));
    let out = env.gocred(&["login", &origin, "--no-browser"]).success();
    // No userinfo endpoint without discovery: no account name.
    assert!(
        out.stdout
            .contains(&format!("Logged in to {origin}. git gets user oauth2")),
        "{out}"
    );
    let paths: Vec<_> = fake.seen().iter().map(|r| r.path.clone()).collect();
    assert_eq!(paths, ["/oauth/authorize_device", "/oauth/token"]);
    assert_eq!(
        fake.seen_at("/oauth/authorize_device")[0].field("scope"),
        Some("openid offline_access")
    );
}
