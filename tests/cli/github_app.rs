//! The `github-app` source through the binary and real git, against the fake GitHub Enterprise
//! API of `common/github_app_fake.rs`, which verifies each JWT's RS256 signature with the app's
//! public key through openssl (a key pair openssl makes per test): a wrong key is GitHub's 401.

use crate::common::github_app_fake::{APP_ID, AppKeys, GitHubAppFake};
use crate::common::{Output, TestEnv, value_of};
use std::time::{Duration, Instant};

/// A test env trusting a fresh fake with the app installed on `acme` (installation 7) and
/// `other` (8), and a policy with `extra` lines in `[rule.github_app]` (tokens cached in the
/// file store).
fn setup(extra: &str) -> (TestEnv, GitHubAppFake) {
    let mut env = TestEnv::new();
    env.set_env("GOCRED_HTTP_TIMEOUT", "10");
    let fake = GitHubAppFake::start(&env, &[("acme", 7), ("other", 8)]);
    fake.trust_in_git(&env);
    env.policy(&rule(
        &fake,
        &fake.keys.private_pem.display().to_string(),
        extra,
    ));
    (env, fake)
}

fn rule(fake: &GitHubAppFake, key: &str, extra: &str) -> String {
    format!(
        "[[rule]]\nurl = \"{}\"\nsources = [\"github-app\"]\n\n[rule.github_app]\n\
         app_id = {APP_ID}\nprivate_key_file = \"{key}\"\ncache = \"file\"\n{extra}",
        fake.origin()
    )
}

/// `gocred get` for `path` on the fake's host (git's request with `credential.useHttpPath`).
fn get(env: &TestEnv, fake: &GitHubAppFake, path: Option<&str>) -> Output {
    let path = path.map(|p| format!("path={p}\n")).unwrap_or_default();
    env.gocred(&["get"])
        .stdin(format!(
            "protocol=https\nhost=127.0.0.1:{}\n{path}\n",
            fake.port()
        ))
        .run()
}

fn clone(env: &TestEnv, fake: &GitHubAppFake, repo: &str, dest: &str) -> Output {
    env.git(&["clone", "-q", &format!("{}/{repo}", fake.origin()), dest])
        .current_dir(env.root())
        .run()
}

#[test]
fn github_app_token_clones_with_real_git_and_is_minted_once_then_cached() {
    let (env, fake) = setup("");
    fake.create_repo(&env, "acme/tools.git");
    // setup git turns useHttpPath on for the host: the installation is found from the path.
    let setup = env.gocred(&["setup", "git"]).run();
    setup.assert_success();
    assert_eq!(
        env.git(&[
            "config",
            "--global",
            "--get",
            &format!("credential.{}.useHttpPath", fake.origin())
        ])
        .run()
        .stdout
        .trim(),
        "true",
        "{setup}"
    );
    let status = env.gocred(&["status", "--json"]).run();
    let v: serde_json::Value = serde_json::from_str(&status.stdout).unwrap();
    let git = &v["rules"][0]["git"];
    assert_eq!(
        (&git["asks_gocred"], &git["needs_path"]),
        (&true.into(), &true.into()),
        "{status}"
    );
    let out = clone(&env, &fake, "acme/tools.git", "first");
    out.assert_success();
    assert!(env.root().join("first/README").is_file());
    // The installation was found from the repository, then one token minted for it; both
    // requests carried a JWT that openssl verified with the app's public key.
    let seen = fake.seen();
    assert_eq!(
        seen.iter()
            .map(|s| (s.method.as_str(), s.path.as_str(), s.status))
            .collect::<Vec<_>>(),
        [
            ("GET", "/api/v3/repos/acme/tools/installation", 200),
            ("POST", "/api/v3/app/installations/7/access_tokens", 201),
        ]
    );
    assert!(seen.iter().all(|s| s.jwt_ok == Some(true)), "{seen:?}");
    // Served as x-access-token; cached with its expiry in the file store.
    let out = get(&env, &fake, Some("acme/tools.git"));
    out.assert_success();
    assert_eq!(value_of(&out.stdout, "username"), Some("x-access-token"));
    let token = value_of(&out.stdout, "password").unwrap().to_owned();
    assert_eq!(fake.installation_of(&token), Some(7));
    let store = env.file_store().unwrap();
    assert!(
        store.contains(&token) && store.contains("installation/acme"),
        "{store}"
    );
    let expiry: u64 = value_of(&out.stdout, "password_expiry_utc")
        .unwrap()
        .parse()
        .unwrap();
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs();
    assert!(expiry > now + 3000, "{out}");
    // A second clone and more gets: no new request to the API.
    clone(&env, &fake, "acme/tools.git", "second").assert_success();
    get(&env, &fake, Some("acme/tools.git")).assert_success();
    assert_eq!(fake.seen().len(), 2, "{:?}", fake.seen());
    // Another owner's repository: its own installation and token, never acme's.
    let out = get(&env, &fake, Some("other/lib.git"));
    out.assert_success();
    let other = value_of(&out.stdout, "password").unwrap();
    assert_ne!(other, token);
    assert_eq!(fake.installation_of(other), Some(8));
    assert_eq!(fake.mints().len(), 2);
}

#[test]
fn a_token_due_within_five_minutes_is_minted_again_and_a_fixed_installation_skips_the_lookup() {
    let (env, fake) = setup("installation_id = 7\n");
    // GitHub's tokens live an hour; these are due in 299 s: inside the five-minute margin.
    fake.script(|s| s.token_ttl = Some(299));
    let first = get(&env, &fake, None);
    first.assert_success();
    let second = get(&env, &fake, None);
    second.assert_success();
    assert_ne!(
        value_of(&first.stdout, "password"),
        value_of(&second.stdout, "password")
    );
    assert_eq!(fake.mints().len(), 2);
    // Outside the margin: cached.
    fake.script(|s| s.token_ttl = Some(400));
    let third = get(&env, &fake, None);
    let fourth = get(&env, &fake, None);
    assert_eq!(
        value_of(&third.stdout, "password"),
        value_of(&fourth.stdout, "password")
    );
    assert_eq!(fake.mints().len(), 3);
    assert!(
        fake.seen()
            .iter()
            .all(|s| !s.path.ends_with("/installation")),
        "installation_id is set: no lookup ({:?})",
        fake.seen()
    );
}

#[test]
fn parallel_gits_share_one_mint() {
    let (env, fake) = setup("installation_id = 7\n");
    fake.script(|s| s.mint_delay_ms = 500);
    let passwords = crate::common::parallel_gets(&env, &format!("127.0.0.1:{}", fake.port()), 8);
    assert_eq!(fake.mints().len(), 1, "{:?}", fake.seen());
    assert!(passwords.iter().all(|p| *p == passwords[0]));
}

#[test]
fn narrowed_tokens_ask_for_the_rules_repositories_and_permissions() {
    let (env, fake) = setup(
        "installation_id = 7\nrepositories = [\"tools\", \"deploy\"]\n\
         permissions = [\"contents:read\", \"metadata:read\"]\n",
    );
    get(&env, &fake, None).assert_success();
    let mint = &fake.mints()[0];
    assert_eq!(
        mint.body,
        serde_json::json!({
            "repositories": ["tools", "deploy"],
            "permissions": {"contents": "read", "metadata": "read"},
        })
    );
}

/// One line on stderr naming what failed, and nothing git could take for an answer.
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
fn a_wrong_private_key_gets_githubs_401_and_a_line_naming_the_key() {
    let (env, fake) = setup("installation_id = 7\n");
    let wrong = AppKeys::generate(&env.root().join("wrong"), "other-app");
    env.policy(&rule(
        &fake,
        &wrong.private_pem.display().to_string(),
        "installation_id = 7\n",
    ));
    let out = get(&env, &fake, None);
    assert_refused(&out, &["JWT", "private_key_file", "app_id"]);
    let seen = fake.seen();
    assert_eq!(seen.len(), 1);
    assert_eq!((seen[0].status, seen[0].jwt_ok), (401, Some(false)));
    assert!(fake.mints().is_empty());
    assert!(env.file_store().is_none_or(|s| !s.contains("ghs_")));
}

#[test]
fn an_app_not_installed_on_the_owner_is_githubs_404_and_no_token() {
    let (env, fake) = setup("");
    let out = get(&env, &fake, Some("stranger/repo.git"));
    assert_refused(&out, &["stranger/repo", "not found", &APP_ID.to_string()]);
    let out = get(&env, &fake, None);
    assert_refused(&out, &["installation_id", "useHttpPath"]);
    let (env, fake) = setup("installation_id = 99\n");
    let out = get(&env, &fake, None);
    assert_refused(&out, &["installation 99", "not found"]);
    assert!(fake.mints().is_empty());
}

#[test]
fn rate_limits_say_when_to_retry_and_mint_nothing() {
    for status in [403, 429] {
        let (env, fake) = setup("installation_id = 7\n");
        fake.script(|s| s.rate_limited = Some((status, 42)));
        let out = get(&env, &fake, None);
        assert_refused(&out, &["rate", "retry after 42 s"]);
        // Once GitHub answers again, the next request gets a token.
        fake.script(|s| s.rate_limited = None);
        let out = get(&env, &fake, None);
        out.assert_success();
        assert!(value_of(&out.stdout, "password").is_some(), "{out}");
    }
}

#[test]
fn githubs_primary_rate_limit_says_when_it_resets() {
    let (env, fake) = setup("installation_id = 7\n");
    fake.script(|s| s.primary_limit_resets_in = Some(600));
    let out = get(&env, &fake, None);
    assert_refused(
        &out,
        &[
            "rate-limits the app",
            "API rate limit exceeded",
            "retry after",
        ],
    );
    let secs: u64 = out
        .stderr
        .split("retry after ")
        .nth(1)
        .and_then(|rest| rest.split(' ').next())
        .and_then(|n| n.parse().ok())
        .unwrap_or_else(|| panic!("{out}"));
    assert!((590..=600).contains(&secs), "{out}");
}

#[test]
fn a_private_key_others_can_read_is_refused_before_any_request() {
    let (env, fake) = setup("installation_id = 7\n");
    crate::common::set_mode(&fake.keys.private_pem, 0o644);
    let out = get(&env, &fake, None);
    assert_refused(
        &out,
        &["chmod 600", &fake.keys.private_pem.display().to_string()],
    );
    assert!(fake.seen().is_empty());
    // A symlink to the key is not followed.
    crate::common::set_mode(&fake.keys.private_pem, 0o600);
    let link = env.root().join("link.pem");
    std::os::unix::fs::symlink(&fake.keys.private_pem, &link).unwrap();
    env.policy(&rule(
        &fake,
        &link.display().to_string(),
        "installation_id = 7\n",
    ));
    let out = get(&env, &fake, None);
    assert_refused(&out, &["symbolic link"]);
    assert!(fake.seen().is_empty());
}

#[test]
fn a_host_the_policy_does_not_map_never_reaches_the_api() {
    let (env, fake) = setup("installation_id = 7\n");
    for host in ["localhost", "127.0.0.1", "127.0.0.1:1"] {
        let out = env
            .gocred(&["get"])
            .stdin(format!("protocol=https\nhost={host}\n\n"))
            .run();
        out.assert_success();
        assert_eq!(out.stdout, "", "{host}: {out}");
    }
    // http on the same host and port: another origin.
    let out = env
        .gocred(&["get"])
        .stdin(format!("protocol=http\nhost=127.0.0.1:{}\n\n", fake.port()))
        .run();
    assert_eq!(out.stdout, "", "{out}");
    assert!(fake.seen().is_empty(), "{:?}", fake.seen());
}

#[test]
fn config_check_refuses_an_inline_private_key_and_names_each_bad_setting_with_line_and_column() {
    let env = TestEnv::new();
    let path = env.policy(
        "[[rule]]\nurl = \"https://github.com\"\nsources = [\"github-app\"]\n\n\
         [rule.github_app]\napp_id = \"twelve\"\n\
         private_key = \"-----BEGIN RSA PRIVATE KEY-----\\nMIIEFAKE\\n-----END RSA PRIVATE KEY-----\"\n\
         permissions = [\"contents=read\"]\ncache = \"memory\"\n\
         api_url = \"http://api.corp.example\"\n",
    );
    let out = env.gocred(&["config", "check"]).run();
    out.assert_failure();
    let p = path.display();
    for want in [
        format!("{p}:6:10: `app_id` must be a positive integer"),
        format!("{p}:7:1: a private key is never written into the policy"),
        format!("{p}:8:16: permission \"contents=read\" must be NAME:LEVEL"),
        format!("{p}:9:9: unknown cache `memory`"),
        format!("{p}:10:11: `api_url` \"http://api.corp.example\": http:// needs"),
    ] {
        assert!(out.stderr.contains(&want), "{want}\n{out}");
    }
    assert!(
        !out.stderr.contains("MIIEFAKE") && !out.stdout.contains("MIIEFAKE"),
        "{out}"
    );
    // The table without its source, and the source without its table.
    env.policy(
        "[[rule]]\nurl = \"https://a.example\"\nsources = [\"github-app\"]\n\n\
         [[rule]]\nurl = \"https://b.example\"\nsources = [\"keychain\"]\n\
         [rule.github_app]\napp_id = 1\nprivate_key_file = \"/k.pem\"\n",
    );
    let out = env.gocred(&["config", "check"]).run();
    out.assert_failure();
    assert!(
        out.stderr
            .contains(":3:11: source `github-app` needs a [rule.github_app] table"),
        "{out}"
    );
    assert!(
        out.stderr
            .contains(":8:1: [rule.github_app] is set but `github-app` is not in `sources`"),
        "{out}"
    );
}

#[test]
fn status_shows_the_app_and_its_cached_token_without_a_secret() {
    let (env, fake) = setup("installation_id = 7\n");
    let token = value_of(&get(&env, &fake, None).stdout, "password")
        .unwrap()
        .to_owned();
    let out = env.gocred(&["status"]).run();
    out.assert_success();
    assert!(
        out.stdout.contains(&format!(
            "github-app: app {APP_ID}, installation 7, key {} (present), tokens cached in file",
            fake.keys.private_pem.display()
        )),
        "{out}"
    );
    assert!(out.stdout.contains("as x-access-token, expires"), "{out}");
    assert!(!out.stdout.contains(&token) && !out.stderr.contains(&token));
    let json = env.gocred(&["status", "--json"]).run();
    json.assert_success();
    let v: serde_json::Value = serde_json::from_str(&json.stdout).unwrap();
    assert_eq!(v["rules"][0]["github_app"]["installation_id"], 7);
    assert_eq!(v["rules"][0]["github_app"]["private_key"], "present");
    assert!(!json.stdout.contains(&token));
}

/// Not an assertion on speed (the machine is shared): the numbers for the closing note.
#[test]
fn cached_hit_and_mint_timings() {
    let (env, fake) = setup("installation_id = 7\n");
    let time = |n: usize, fresh: bool| {
        let mut all = Vec::new();
        for _ in 0..n {
            if fresh {
                let _ = std::fs::remove_file(env.file_store_path());
            }
            let start = Instant::now();
            get(&env, &fake, None).assert_success();
            all.push(start.elapsed());
        }
        all.sort();
        all[n / 2]
    };
    let miss: Duration = time(5, true);
    let hit: Duration = time(9, false);
    eprintln!("github-app get: mint (miss) median {miss:?}, cached hit median {hit:?}");
    assert!(
        hit < miss,
        "a cached hit ({hit:?}) is slower than a mint ({miss:?})"
    );
}

#[test]
fn a_token_git_rejects_leaves_the_cache_and_the_next_get_mints_anew() {
    let (env, fake) = setup("installation_id = 7\n");
    env.use_gocred_by_path();
    let first = value_of(&get(&env, &fake, None).stdout, "password")
        .unwrap()
        .to_owned();
    // Another password rejected: the cached token stays.
    env.credential_reject(&fake.origin(), "x-access-token", "ghs_FAKE_other")
        .assert_success();
    let again = get(&env, &fake, None);
    assert_eq!(value_of(&again.stdout, "password"), Some(first.as_str()));
    assert_eq!(fake.mints().len(), 1);
    // The cached token rejected (a 401 after GitHub revoked it): gone, and the next get mints.
    env.credential_reject(&fake.origin(), "x-access-token", &first)
        .assert_success();
    assert!(!env.file_store().unwrap_or_default().contains(&first));
    let next = get(&env, &fake, None);
    let second = value_of(&next.stdout, "password").unwrap();
    assert_ne!(second, first);
    assert_eq!(fake.mints().len(), 2);
}

#[test]
fn by_default_the_token_is_cached_in_the_keychain() {
    use crate::common::keyring::{keyutils_lookup, keyutils_purge, require_session_keyring};
    let _turn = crate::keychain::keyutils_turn();
    require_session_keyring();
    let mut env = TestEnv::new();
    env.set_env("GOCRED_HTTP_TIMEOUT", "10");
    let fake = GitHubAppFake::start(&env, &[("acme", 7)]);
    fake.trust_in_git(&env);
    keyutils_purge(&env, &fake.origin());
    // No `cache`: the keychain.
    env.policy(&format!(
        "[keychain]\nbackend = \"keyutils\"\n\n[[rule]]\nurl = \"{}\"\nsources = [\"github-app\"]\n\n\
         [rule.github_app]\napp_id = {APP_ID}\ninstallation_id = 7\nprivate_key_file = \"{}\"\n",
        fake.origin(),
        fake.keys.private_pem.display()
    ));
    let out = get(&env, &fake, None);
    out.assert_success();
    let token = value_of(&out.stdout, "password").unwrap().to_owned();
    let entry = keyutils_lookup(&env, &fake.origin()).expect("nothing cached in keyutils");
    assert!(
        entry.contains(&token) && entry.contains("x-access-token"),
        "{entry}"
    );
    assert_eq!(env.file_store(), None);
    let again = get(&env, &fake, None);
    assert_eq!(value_of(&again.stdout, "password"), Some(token.as_str()));
    assert_eq!(fake.mints().len(), 1);
    keyutils_purge(&env, &fake.origin());
}

#[test]
fn a_due_token_still_serves_while_github_cannot_mint() {
    let (env, fake) = setup("installation_id = 7\n");
    // Due (under five minutes left) but valid for a while yet.
    fake.script(|s| s.token_ttl = Some(200));
    let first = value_of(&get(&env, &fake, None).stdout, "password")
        .unwrap()
        .to_owned();
    fake.script(|s| s.rate_limited = Some((429, 30)));
    let out = get(&env, &fake, None);
    out.assert_success();
    assert_eq!(value_of(&out.stdout, "password"), Some(first.as_str()));
    let lines = out.stderr_lines();
    assert_eq!(lines.len(), 1, "{out}");
    assert!(
        lines[0].contains("retry after 30 s") && lines[0].contains("using the cached token"),
        "{out}"
    );
    fake.script(|s| s.rate_limited = None);
    let out = get(&env, &fake, None);
    assert_ne!(value_of(&out.stdout, "password"), Some(first.as_str()));
    assert_eq!(fake.mints().len(), 2);
}

#[test]
fn the_private_key_can_come_from_a_program_and_a_failing_one_is_one_line() {
    let (env, fake) = setup("");
    // A secrets manager's CLI, stood in for by `cat` of the key (argv, no shell).
    env.policy(&format!(
        "[[rule]]\nurl = \"{}\"\nsources = [\"github-app\"]\n\n[rule.github_app]\n\
         app_id = {APP_ID}\ninstallation_id = 7\ncache = \"none\"\n\
         private_key_command = [\"cat\", \"{}\"]\n",
        fake.origin(),
        fake.keys.private_pem.display()
    ));
    let out = get(&env, &fake, None);
    out.assert_success();
    assert!(
        fake.installation_of(value_of(&out.stdout, "password").unwrap())
            .is_some()
    );
    assert!(fake.seen().iter().all(|s| s.jwt_ok == Some(true)));
    // One that fails: its own stderr passes through, then one line naming it; no request.
    let vault = env.script(
        "fake-vault",
        "#!/bin/sh\necho 'fake-vault: permission denied' >&2\necho 'PARTIAL-SECRET'\nexit 3\n",
    );
    env.policy(&format!(
        "[[rule]]\nurl = \"{}\"\nsources = [\"github-app\"]\n\n[rule.github_app]\n\
         app_id = {APP_ID}\ninstallation_id = 7\ncache = \"none\"\n\
         private_key_command = [\"{}\", \"kv\", \"get\"]\n",
        fake.origin(),
        vault.display()
    ));
    let before = fake.seen().len();
    let out = get(&env, &fake, None);
    assert!(!out.stdout.contains("password="), "{out}");
    assert!(
        out.stderr.contains("fake-vault: permission denied"),
        "{out}"
    );
    assert!(
        out.stderr.contains(&format!(
            "private_key_command `{}`: it exited with status 3",
            vault.display()
        )),
        "{out}"
    );
    assert!(!out.stderr.contains("PARTIAL-SECRET"), "{out}");
    assert_eq!(fake.seen().len(), before);
}

#[test]
fn config_check_wants_exactly_one_key_source_and_a_program_not_a_relative_path() {
    let env = TestEnv::new();
    let path = env.policy(
        "[[rule]]\nurl = \"https://github.com\"\nsources = [\"github-app\"]\n\
         [rule.github_app]\napp_id = 1\nprivate_key_file = \"/k.pem\"\n\
         private_key_command = [\"op\", \"read\", \"op://x\"]\n\n\
         [[rule]]\nurl = \"https://ghe.corp.example\"\nsources = [\"github-app\"]\n\
         [rule.github_app]\napp_id = 1\nprivate_key_command = [\"./print-key\"]\n\n\
         [[rule]]\nurl = \"https://ghe2.corp.example\"\nsources = [\"github-app\"]\n\
         [rule.github_app]\napp_id = 1\n\n\
         [[rule]]\nurl = \"https://*.ghe.corp.example\"\nsources = [\"github-app\"]\n\
         [rule.github_app]\napp_id = 1\nprivate_key_file = \"/k.pem\"\n",
    );
    let out = env.gocred(&["config", "check"]).run();
    out.assert_failure();
    let p = path.display();
    for want in [
        format!("{p}:7:23: `private_key_file` and `private_key_command` are both set"),
        format!("{p}:14:23: `private_key_command` must be a non-empty array"),
        format!("{p}:19:1: [rule.github_app] has no `private_key_file` or `private_key_command`"),
        format!("{p}:25:1: a `github-app` rule for a wildcard url would send the app's JWT"),
    ] {
        assert!(out.stderr.contains(&want), "{want}\n{out}");
    }
}
