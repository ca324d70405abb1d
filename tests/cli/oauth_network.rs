//! gocred's OAuth requests travel the way git's would, through the real binary: a live CONNECT
//! proxy from git's `http.proxy` or `http.<url>.proxy` (or `https_proxy`) carries them;
//! `no_proxy` and an empty `http.<url>.proxy` bypass it. TLS trusts git's `http.sslCAInfo` (or
//! `GIT_SSL_CAINFO`) and no more, whatever `http.sslVerify` says, and an untrusted certificate
//! is called a TLS failure that names the fix, not "cannot connect".

use crate::common::connect_proxy::ConnectProxy;
use crate::common::vendor_fake::{Vendor, VendorFake, assert_one_line_failure};
use crate::common::{TestEnv, value_of};

#[test]
fn oauth_requests_go_through_gits_http_proxy_and_no_proxy_or_an_empty_url_proxy_bypass_it() {
    let mut env = TestEnv::new();
    env.set_env("GOCRED_HTTP_TIMEOUT", "5");
    let fake = VendorFake::start(&env, Vendor::GitLab);
    fake.trust_in_git(&env);
    env.policy(&fake.rule("file", ""));
    let proxy = ConnectProxy::start();
    env.git_config("http.proxy", &proxy.url());
    let target = format!("127.0.0.1:{}", fake.port());

    // login: device code, poll, account lookup, each through its own tunnel.
    env.gocred(&["login", &fake.origin(), "--no-browser"])
        .success();
    let tunnels = proxy.tunnels();
    assert!(tunnels.len() >= 3, "{tunnels:?}");
    assert!(tunnels.iter().all(|t| *t == target), "{tunnels:?}");

    // Every get below refreshes (the token is inside the margin).
    env.set_env("GOCRED_OAUTH_REFRESH_MARGIN", "100000");
    let request = format!("protocol=https\nhost={target}\n\n");
    let refresh = |extra: &[(&str, &str)]| {
        let mut cmd = env.gocred(&["get"]).stdin(&request);
        for (k, v) in extra {
            cmd = cmd.env(k, v);
        }
        let out = cmd.success();
        assert!(value_of(&out.stdout, "password").is_some(), "{out}");
    };
    let before = proxy.tunnels().len();
    refresh(&[]);
    assert_eq!(
        proxy.tunnels().len(),
        before + 1,
        "the refresh bypassed http.proxy"
    );
    assert_eq!(fake.refreshes().len(), 1);

    // no_proxy exempts the host, from git's proxy too.
    refresh(&[("no_proxy", "localhost,127.0.0.1")]);
    refresh(&[("NO_PROXY", "127.0.0.1")]);
    assert_eq!(
        proxy.tunnels().len(),
        before + 1,
        "no_proxy was not followed"
    );
    assert_eq!(fake.refreshes().len(), 3);

    // An empty http.<url>.proxy means "no proxy" for that URL, as in git.
    env.git_config(&format!("http.{}.proxy", fake.origin()), "");
    refresh(&[]);
    assert_eq!(
        proxy.tunnels().len(),
        before + 1,
        "an empty http.<url>.proxy was not followed"
    );
    assert_eq!(fake.refreshes().len(), 4);

    // Without git's proxy settings, https_proxy from the environment carries it.
    env.git(&["config", "--global", "--unset-all", "http.proxy"])
        .success();
    env.git(&[
        "config",
        "--global",
        "--unset-all",
        &format!("http.{}.proxy", fake.origin()),
    ])
    .success();
    refresh(&[]);
    assert_eq!(proxy.tunnels().len(), before + 1);
    refresh(&[("https_proxy", &proxy.url())]);
    assert_eq!(
        proxy.tunnels().len(),
        before + 2,
        "https_proxy was not followed"
    );
    // A proxy for this URL alone, http.<url>.proxy.
    env.git_config(&format!("http.{}.proxy", fake.origin()), &proxy.url());
    env.git_config("http.https://other.example.proxy", "http://127.0.0.1:9");
    refresh(&[]);
    assert_eq!(
        proxy.tunnels().len(),
        before + 3,
        "http.<url>.proxy was not followed"
    );
    assert_eq!(fake.refreshes().len(), 7);
}
#[test]
fn an_untrusted_certificate_is_a_tls_failure_naming_sslcainfo_not_cannot_connect() {
    let mut env = TestEnv::new();
    env.set_env("GOCRED_HTTP_TIMEOUT", "5");
    let fake = VendorFake::start(&env, Vendor::GitLab);
    env.policy(&fake.rule("file", ""));
    let out = env.gocred(&["login", &fake.origin(), "--no-browser"]).run();
    let line = assert_one_line_failure(
        &out,
        &format!("127.0.0.1:{}", fake.port()),
        &[
            "TLS failed (invalid peer certificate",
            "git's http.sslCAInfo for this URL",
        ],
    );
    assert!(!line.contains("cannot connect"), "{out}");
}

#[test]
fn tls_trusts_what_git_trusts_and_no_more() {
    let mut env = TestEnv::new();
    env.set_env("GOCRED_HTTP_TIMEOUT", "5");
    let fake = VendorFake::start(&env, Vendor::GitHub);
    env.policy(&fake.rule("file", ""));
    let host = format!("127.0.0.1:{}", fake.port());
    let login = |env: &TestEnv| env.gocred(&["login", &fake.origin(), "--no-browser"]).run();

    // Not trusted: one line naming git's setting; sslVerify = false changes nothing.
    let out = login(&env);
    assert_one_line_failure(&out, &host, &["TLS failed", "http.sslCAInfo"]);
    env.git_config("http.sslVerify", "false");
    let out = login(&env);
    assert_one_line_failure(&out, &host, &["TLS failed", "http.sslCAInfo"]);
    // http.sslCAInfo for another URL does not count.
    env.git_config(
        "http.https://other.example.sslCAInfo",
        fake.ca_pem.to_str().unwrap(),
    );
    let out = login(&env);
    assert_one_line_failure(&out, &host, &["TLS failed"]);
    assert!(
        fake.seen().is_empty(),
        "a request got through: {:?}",
        fake.seen()
    );
    assert_eq!(env.file_store(), None);

    // GIT_SSL_CAINFO, as git reads it.
    env.gocred(&["login", &fake.origin(), "--no-browser"])
        .env("GIT_SSL_CAINFO", &fake.ca_pem)
        .success();
    // git's global http.sslCAInfo.
    env.git_config("http.sslCAInfo", fake.ca_pem.to_str().unwrap());
    // A second login over a valid token must be forced (issue 10).
    env.gocred(&["login", &fake.origin(), "--no-browser", "--force"])
        .success();
    assert_eq!(fake.seen_at("/login/device/code").len(), 2);
}
