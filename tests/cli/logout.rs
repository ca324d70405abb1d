//! `gocred logout HOST [--user NAME]` (issue 10, "Getting a credential in, and out"): forgets
//! what is stored for the host in every store its rule names (keychain, file, OAuth tokens,
//! revoked as before), per user or all, says what it forgot without a secret, and exits 0 with
//! "Nothing stored for" when there was nothing.

use crate::common::keyring::{Login, SecretService};
use crate::common::vendor_fake::{Vendor, VendorFake};
use crate::common::{TestEnv, value_of};

const ORIGIN: &str = "https://git.corp.example";

fn approve(env: &TestEnv, user: &str, password: &str) {
    env.gocred(&["store"])
        .stdin(format!(
            "protocol=https\nhost=git.corp.example\nusername={user}\npassword={password}\n\n"
        ))
        .success();
}

#[test]
fn logout_forgets_file_store_entries_per_user_then_all_and_says_whose_never_what() {
    let env = TestEnv::new();
    env.policy(&format!(
        "[[rule]]\nurl = \"{ORIGIN}\"\nsources = [\"file\"]\nstore = \"file\"\n"
    ));
    env.gocred(&[
        "login",
        "git.corp.example",
        "--with-token",
        "--no-verify",
        "--user",
        "alice",
    ])
    .stdin("glpat-FAKE-alice-secret\n")
    .success();
    approve(&env, "bob", "bob-secret");
    let store = env.file_store_path();

    let out = env
        .gocred(&["logout", "git.corp.example", "--user", "alice"])
        .success();
    assert_eq!(
        out.stdout,
        format!(
            "Forgot 1 entry of user alice for {ORIGIN} in file {}.\n",
            store.display()
        )
    );
    let left = env.file_store().unwrap();
    assert!(!left.contains("glpat-FAKE-alice-secret") && left.contains("bob-secret"));

    let out = env
        .gocred(&["logout", &format!("{ORIGIN}/group/repo.git")])
        .success();
    assert_eq!(
        out.stdout,
        format!(
            "Forgot 1 entry of user bob for {ORIGIN} in file {}.\n",
            store.display()
        )
    );
    assert!(!env.file_store().unwrap_or_default().contains("password="));

    // Nothing left: said, and not an error (logging out twice is fine).
    let out = env.gocred(&["logout", "git.corp.example"]).success();
    assert_eq!(
        out.stdout,
        format!("Nothing stored for {ORIGIN}: nothing to forget.\n")
    );
    assert_eq!(out.stderr, "");
}

#[test]
fn logout_of_a_host_no_rule_serves_is_an_error_naming_it() {
    let env = TestEnv::new();
    env.policy(&format!(
        "[[rule]]\nurl = \"{ORIGIN}\"\nsources = [\"file\"]\nstore = \"file\"\n"
    ));
    let out = env.gocred(&["logout", "git.typo.example"]).run();
    out.assert_code(1);
    assert_eq!(out.stdout, "");
    assert!(out.stderr.contains("no rule in"), "{out}");
    assert!(out.stderr.contains("https://git.typo.example"), "{out}");
}

#[test]
fn logout_forgets_a_with_token_login_in_the_secret_service() {
    let mut env = TestEnv::new();
    let service = SecretService::start(&mut env, Login::Unlocked);
    env.policy(&format!(
        "[keychain]\nbackend = \"secret-service\"\n\n[[rule]]\nurl = \"{ORIGIN}\"\n\
         sources = [\"keychain\"]\nstore = \"keychain\"\nusername = \"oauth2\"\n"
    ));
    env.gocred(&["login", "git.corp.example", "--with-token", "--no-verify"])
        .stdin("glpat-FAKE-in-keychain")
        .success();
    assert!(
        service
            .lookup(&env, ORIGIN)
            .unwrap()
            .contains("glpat-FAKE-in-keychain")
    );
    let out = env.gocred(&["logout", "git.corp.example"]).success();
    assert!(
        out.stdout.starts_with(&format!(
            "Forgot 1 entry of user oauth2 for {ORIGIN} in Secret Service"
        )),
        "{out}"
    );
    assert_eq!(service.lookup(&env, ORIGIN), None);
}

#[test]
fn logout_user_leaves_an_oauth_login_of_another_user_and_without_it_revokes() {
    let mut env = TestEnv::new();
    env.set_env("GOCRED_HTTP_TIMEOUT", "5");
    let fake = VendorFake::start(&env, Vendor::GitLab);
    fake.trust_in_git(&env);
    env.policy(&fake.rule("file", ""));
    let origin = fake.origin();
    env.gocred(&["login", &origin, "--no-browser"]).success();
    let token = value_of(&env.file_store().unwrap(), "password")
        .unwrap()
        .to_owned();
    let out = env
        .gocred(&["logout", &origin, "--user", "someone-else"])
        .success();
    assert_eq!(
        out.stdout,
        format!("Nothing stored for {origin} for user someone-else: nothing to forget.\n")
    );
    assert!(fake.accepts(&token));
    let out = env
        .gocred(&["logout", &origin, "--user", "oauth2"])
        .success();
    assert_eq!(
        out.stdout,
        format!(
            "Logged out of {origin}: the OAuth token of user oauth2 was revoked at the server \
             and erased here.\n"
        )
    );
    assert!(!fake.accepts(&token));
    assert!(!env.file_store().unwrap_or_default().contains(&token));
}
