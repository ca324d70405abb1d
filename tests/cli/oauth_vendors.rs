//! `gocred login` and refresh against vendors' documented quirks that the real `oidc-provider`
//! never shows, reproduced by the fake in `common/vendor_fake.rs` (TLS with a test CA that
//! gocred trusts through git's `http.<url>.sslCAInfo`): GitHub's form-encoded answers and its
//! errors inside HTTP 200, `slow_down` with a new `interval`, GitLab's device endpoints with
//! JSON errors in HTTP 400, its `/api/v4/user`, refresh tokens that rotate or stay.

use crate::common::vendor_fake::{
    Answer, CLIENT_ID, Refresh, Vendor, VendorFake, assert_one_line_failure,
};
use crate::common::{TestEnv, value_of};
use std::collections::VecDeque;
use std::time::Duration;

/// A test env whose policy has an oauth rule (file store) for a fresh `vendor` fake.
fn setup(vendor: Vendor, oauth_extra: &str) -> (TestEnv, VendorFake) {
    let mut env = TestEnv::new();
    env.set_env("GOCRED_HTTP_TIMEOUT", "5");
    let fake = VendorFake::start(&env, vendor);
    fake.trust_in_git(&env);
    env.policy(&fake.rule("file", oauth_extra));
    (env, fake)
}

fn login(env: &TestEnv, fake: &VendorFake) -> crate::common::Output {
    env.gocred(&["login", &fake.origin(), "--no-browser"]).run()
}

fn get(env: &TestEnv, fake: &VendorFake) -> crate::common::Output {
    env.gocred(&["get"])
        .stdin(format!(
            "protocol=https\nhost=127.0.0.1:{}\n\n",
            fake.port()
        ))
        .run()
}

fn stored(env: &TestEnv, key: &str) -> Option<String> {
    value_of(&env.file_store()?, key).map(str::to_owned)
}

/// Seconds between two requests the fake saw.
fn gap(a: &crate::common::vendor_fake::Seen, b: &crate::common::vendor_fake::Seen) -> f64 {
    b.at.duration_since(a.at).as_secs_f64()
}

#[test]
fn github_login_asks_for_json_polls_at_the_interval_and_slow_down_waits_the_new_interval() {
    let (env, fake) = setup(Vendor::GitHub, "");
    // interval 1 s; then slow_down naming 7 s (more than the RFC's 1 + 5: GitHub's word counts).
    fake.script(|s| {
        s.polls = VecDeque::from([Answer::Pending, Answer::SlowDown(Some(7)), Answer::Approve]);
    });
    let out = login(&env, &fake);
    out.assert_success();
    let device = fake.seen_at("/login/device/code");
    let polls = fake.polls();
    assert_eq!((device.len(), polls.len()), (1, 3), "{:?}", fake.seen());
    for r in device.iter().chain(&polls) {
        assert_eq!(r.accept.as_deref(), Some("application/json"), "{r:?}");
        assert_eq!(r.field("client_id"), Some(CLIENT_ID));
    }
    assert_eq!(device[0].field("scope"), Some("repo"));
    assert!(
        gap(&device[0], &polls[0]) >= 1.0,
        "polled before the interval"
    );
    assert!(
        gap(&polls[0], &polls[1]) >= 1.0,
        "polled before the interval"
    );
    let waited = gap(&polls[1], &polls[2]);
    // 7 s, not the RFC's 1 + 5 = 6 s: the interval the server named wins. (Sleeps never end
    // early; the upper bound only catches a runaway wait, loose enough for a loaded machine.)
    assert!(
        waited >= 6.95,
        "slow_down named 7 s, gocred waited {waited:.2} s"
    );
    assert!(waited < 20.0, "gocred waited {waited:.2} s after slow_down");
    assert!(
        out.stdout
            .contains(&format!("Logged in to {} as alice", fake.origin())),
        "{out}"
    );
    assert_eq!(stored(&env, "username").as_deref(), Some("x-access-token"));
    let token = stored(&env, "password").unwrap();
    assert!(fake.accepts(&token));
    assert!(stored(&env, "oauth_refresh_token").is_some());
    assert!(!out.stdout.contains(&token) && !out.stderr.contains(&token));
    // The account came from GHE's API on the same host, asked with the new token.
    let user = fake.seen_at("/api/v3/user");
    assert_eq!(user.len(), 1);
    assert_eq!(
        user[0].authorization.as_deref(),
        Some(format!("Bearer {token}").as_str())
    );
}

#[test]
fn github_form_encoded_answers_log_in_and_refresh_all_the_same() {
    let (mut env, fake) = setup(Vendor::GitHub, "");
    fake.script(|s| {
        s.form_always = true;
        s.polls = VecDeque::from([Answer::Pending, Answer::Approve]);
    });
    let out = login(&env, &fake);
    out.assert_success();
    assert!(out.stdout.contains("as alice"), "{out}");
    let first = stored(&env, "password").unwrap();
    let first_refresh = stored(&env, "oauth_refresh_token").unwrap();
    assert!(fake.accepts(&first));
    assert!(fake.refresh_token_live(&first_refresh));
    // A refresh answered form-encoded too (GitHub App tokens rotate both).
    env.set_env("GOCRED_OAUTH_REFRESH_MARGIN", "100000");
    let out = get(&env, &fake);
    out.assert_success();
    assert_eq!(fake.refreshes().len(), 1);
    let second = stored(&env, "password").unwrap();
    assert_ne!(second, first);
    assert_eq!(value_of(&out.stdout, "password"), Some(second.as_str()));
    let second_refresh = stored(&env, "oauth_refresh_token").unwrap();
    assert_ne!(second_refresh, first_refresh);
    assert!(fake.refresh_token_live(&second_refresh));
}

/// One failing login: the fake scripted by `script`, the rule's client id `client_id`.
struct Case {
    vendor: Vendor,
    client_id: &'static str,
    device: Option<Answer>,
    polls: Vec<Answer>,
    says: &'static [&'static str],
}

#[test]
fn every_refusal_ends_login_with_one_clear_line_nonzero_and_nothing_stored() {
    use Answer::*;
    let cases = vec![
        // GitHub: errors in HTTP 200 bodies.
        Case {
            vendor: Vendor::GitHub,
            client_id: CLIENT_ID,
            device: None,
            polls: vec![Pending, Error("expired_token")],
            says: &["the code expired", "run `gocred login"],
        },
        Case {
            vendor: Vendor::GitHub,
            client_id: CLIENT_ID,
            device: None,
            polls: vec![Error("access_denied")],
            says: &["denied in the browser", "nothing was stored"],
        },
        Case {
            vendor: Vendor::GitHub,
            client_id: "Iv1.wrong",
            device: None,
            polls: vec![],
            says: &[
                "incorrect_client_credentials",
                "check `client_id` in [rule.oauth]",
            ],
        },
        Case {
            vendor: Vendor::GitHub,
            client_id: CLIENT_ID,
            device: None,
            polls: vec![Error("incorrect_client_credentials")],
            says: &[
                "incorrect_client_credentials",
                "check `client_id` in [rule.oauth]",
            ],
        },
        Case {
            vendor: Vendor::GitHub,
            client_id: CLIENT_ID,
            device: Some(Error("device_flow_disabled")),
            polls: vec![],
            says: &["device_flow_disabled", "enable the device flow"],
        },
        // GitLab: RFC 8628 errors with HTTP 400 (401 for the client).
        Case {
            vendor: Vendor::GitLab,
            client_id: CLIENT_ID,
            device: None,
            polls: vec![Pending, Error("access_denied")],
            says: &["denied in the browser", "nothing was stored"],
        },
        Case {
            vendor: Vendor::GitLab,
            client_id: CLIENT_ID,
            device: None,
            polls: vec![Error("expired_token")],
            says: &["the code expired", "run `gocred login"],
        },
        Case {
            vendor: Vendor::GitLab,
            client_id: "wrong-application-id",
            device: None,
            polls: vec![],
            says: &["invalid_client", "check `client_id` in [rule.oauth]"],
        },
    ];
    let runs: Vec<_> = cases
        .into_iter()
        .map(|case| {
            std::thread::spawn(move || {
                let env = TestEnv::new();
                let fake = VendorFake::start(&env, case.vendor);
                fake.trust_in_git(&env);
                env.policy(&fake.rule("file", "").replace(CLIENT_ID, case.client_id));
                fake.script(|s| {
                    s.device = case.device.clone();
                    if !case.polls.is_empty() {
                        s.polls = case.polls.clone().into();
                    }
                });
                let out = login(&env, &fake);
                let what = format!("{:?} {:?} {:?}", case.vendor, case.device, case.polls);
                let host = format!("127.0.0.1:{}", fake.port());
                let line = assert_one_line_failure(&out, &host, case.says).to_owned();
                assert!(line.starts_with("gocred: login to "), "{what}: {out}");
                assert!(
                    !env.file_store().unwrap_or_default().contains("password="),
                    "{what}: a token was stored"
                );
                let status = env.gocred(&["status"]).run();
                assert!(!status.stdout.contains("stored:"), "{what}: {status}");
                line
            })
        })
        .collect();
    for run in runs {
        run.join().unwrap();
    }
}

#[test]
fn gitlab_login_slows_down_by_five_seconds_names_the_account_and_refresh_rotates_or_keeps() {
    let (mut env, fake) = setup(Vendor::GitLab, "");
    // No interval in the answer to slow_down: RFC 8628 says 5 s more.
    fake.script(|s| {
        s.polls = VecDeque::from([Answer::Pending, Answer::SlowDown(None), Answer::Approve]);
    });
    let out = login(&env, &fake);
    out.assert_success();
    let device = fake.seen_at("/oauth/authorize_device");
    let polls = fake.polls();
    assert_eq!((device.len(), polls.len()), (1, 3), "{:?}", fake.seen());
    assert_eq!(
        device[0].field("scope"),
        Some("read_repository write_repository")
    );
    assert!(gap(&device[0], &polls[0]) >= 1.0);
    let waited = gap(&polls[1], &polls[2]);
    assert!(
        (5.95..20.0).contains(&waited),
        "waited {waited:.2} s after slow_down"
    );
    // The complete URL (GitLab sends one) is shown for the QR code.
    assert!(
        out.stderr.contains("/oauth/device?user_code=WDJB-MJHT"),
        "{out}"
    );
    assert!(
        out.stdout
            .contains(&format!("Logged in to {} as alice", fake.origin())),
        "{out}"
    );
    assert_eq!(fake.seen_at("/api/v4/user").len(), 1);
    assert_eq!(stored(&env, "username").as_deref(), Some("oauth2"));
    let first = stored(&env, "password").unwrap();
    let first_refresh = stored(&env, "oauth_refresh_token").unwrap();

    // Every get refreshes from now on (the token is inside the margin).
    env.set_env("GOCRED_OAUTH_REFRESH_MARGIN", "100000");
    // A refresh that rotates: both tokens new, the old ones dead at the server.
    let out = get(&env, &fake);
    out.assert_success();
    let second = stored(&env, "password").unwrap();
    let second_refresh = stored(&env, "oauth_refresh_token").unwrap();
    assert_ne!(second, first);
    assert_ne!(second_refresh, first_refresh);
    assert!(!fake.accepts(&first) && fake.accepts(&second));
    assert_eq!(value_of(&out.stdout, "password"), Some(second.as_str()));
    assert!(
        value_of(&out.stdout, "password_expiry_utc").is_some(),
        "{out}"
    );
    assert_eq!(value_of(&out.stdout, "oauth_refresh_token"), None, "{out}");
    let refreshes = fake.refreshes();
    assert_eq!(refreshes.len(), 1);
    assert_eq!(
        refreshes[0].field("refresh_token"),
        Some(first_refresh.as_str())
    );

    // A refresh that sends no refresh token: gocred keeps the one it has, which still works.
    fake.script(|s| s.refresh = Refresh::KeepOld);
    let out = get(&env, &fake);
    out.assert_success();
    let third = stored(&env, "password").unwrap();
    assert_ne!(third, second);
    assert_eq!(
        stored(&env, "oauth_refresh_token").as_deref(),
        Some(second_refresh.as_str())
    );
    let out = get(&env, &fake);
    out.assert_success();
    assert_eq!(fake.refreshes().len(), 3);
    assert_eq!(
        fake.refreshes()[2].field("refresh_token"),
        Some(second_refresh.as_str())
    );

    // logout revokes (RFC 7009 at /oauth/revoke) and erases.
    let current = stored(&env, "password").unwrap();
    let out = env.gocred(&["logout", &fake.origin()]).success();
    assert!(
        out.stdout.contains("revoked at the server and erased here"),
        "{out}"
    );
    assert!(!fake.accepts(&current));
    assert!(!fake.refresh_token_live(&second_refresh));
    assert_eq!(stored(&env, "password"), None);
}

#[test]
fn a_browser_opens_only_with_a_display_and_not_over_ssh_or_with_no_browser() {
    let (mut env, fake) = setup(Vendor::GitLab, "");
    let log = env.root().join("xdg-open.log");
    let bin = env.root().join("fakebin");
    std::fs::create_dir_all(&bin).unwrap();
    env.script(
        "fakebin/xdg-open",
        &format!("echo \"$1\" >> '{}'", log.display()),
    );
    env.prepend_path(&bin);
    // Each login is denied at the first poll: only what happens before matters here.
    fake.script(|s| s.polls = VecDeque::from([Answer::Error("access_denied")]));
    let opened = || std::fs::read_to_string(&log).unwrap_or_default();
    let run = |extra: &[(&str, &str)], flag: Option<&str>| {
        let mut cmd = env.gocred(&["login", &fake.origin()]);
        if let Some(f) = flag {
            cmd = cmd.arg(f);
        }
        for (k, v) in extra {
            cmd = cmd.env(k, v);
        }
        let out = cmd.run();
        out.assert_code(1);
        out
    };
    let out = run(&[], None);
    assert!(
        out.stderr.contains("Not opening a browser: no display."),
        "{out}"
    );
    let out = run(
        &[
            ("DISPLAY", ":0"),
            ("SSH_CONNECTION", "10.0.0.1 22 10.0.0.2 22"),
        ],
        None,
    );
    assert!(
        out.stderr
            .contains("Not opening a browser: this is an SSH session."),
        "{out}"
    );
    let out = run(&[("WAYLAND_DISPLAY", "wayland-0")], Some("--no-browser"));
    assert!(
        out.stderr.contains("Not opening a browser: --no-browser."),
        "{out}"
    );
    std::thread::sleep(Duration::from_millis(200));
    assert_eq!(opened(), "", "a browser was opened where none can be shown");
    let out = run(&[("DISPLAY", ":0")], None);
    assert!(
        out.stderr.contains("Opened it in your browser (xdg-open)."),
        "{out}"
    );
    assert_eq!(
        opened().trim(),
        format!("{}/oauth/device?user_code=WDJB-MJHT", fake.origin())
    );
}
