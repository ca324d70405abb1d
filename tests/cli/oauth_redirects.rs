//! Issue 9 §3: no HTTP request of gocred's follows a redirect, so a token or device code never
//! travels to another origin (login's device authorization, its polls and its discovery
//! request, a refresh, a revocation); and a proxy sees only `CONNECT` for https, never a
//! request line, a header or a body. Through the real binary, against loopback servers that
//! record everything they receive.

use crate::common::scripted::{Action, Scripted};
use crate::common::{Output, TestEnv};
use std::os::unix::fs::PermissionsExt;
use std::path::Path;
use std::time::{SystemTime, UNIX_EPOCH};

fn now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_secs()
}

fn seed(path: &Path, scope: &str, access: &str, expiry: u64, refresh: &str) {
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    std::fs::write(
        path,
        format!(
            "scope={scope}\nusername=oauth2\npassword={access}\n\
             password_expiry_utc={expiry}\noauth_refresh_token={refresh}\n\n"
        ),
    )
    .unwrap();
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o600)).unwrap();
}

/// An oauth rule for `origin` whose endpoints are `endpoints` (`token_endpoint = ...` lines).
fn rule(origin: &str, endpoints: &str) -> String {
    format!(
        "[[rule]]\nurl = \"{origin}\"\nsources = [\"oauth\"]\nstore = \"file\"\nallow_http = true\n\n\
         [rule.oauth]\nprovider = \"oidc\"\nclient_id = \"gocred-test\"\n{endpoints}"
    )
}

/// Nothing gocred printed holds any of `secrets`.
#[track_caller]
fn assert_quiet_about(out: &Output, secrets: &[&str]) {
    for s in secrets {
        assert!(
            !out.stdout.contains(s) && !out.stderr.contains(s),
            "{s}: {out}"
        );
    }
}

#[test]
fn no_redirect_carries_a_token_to_another_origin() {
    let mut env = TestEnv::new();
    env.set_env("GOCRED_HTTP_TIMEOUT", "5");
    // The other origin answers everything as a real token endpoint would: tempting.
    let elsewhere = Scripted::start(|_| {
        Action::json(
            200,
            r#"{"access_token":"at-elsewhere","refresh_token":"rt-elsewhere","expires_in":3600}"#,
        )
    });
    let server = Scripted::start(|_| Action::json(500, "{}"));
    let origin = server.origin();
    let away = elsewhere.origin();
    let endpoints = format!(
        "device_authorization_endpoint = \"{origin}/device\"\ntoken_endpoint = \"{origin}/token\"\n\
         revocation_endpoint = \"{origin}/revoke\"\n"
    );
    env.policy(&rule(&origin, &endpoints));
    let store = env.file_store_path();
    let login = || env.gocred(&["login", &origin, "--no-browser"]).run();

    // 1. The device authorization request (client id, scopes): 307 and 308 elsewhere.
    for status in [307, 308] {
        let to = format!("{away}/device");
        server.script(move |_| Action::redirect(status, &to));
        server.clear();
        let out = login();
        assert_eq!(out.code(), Some(1), "{out}");
        assert!(out.stderr.contains("redirect"), "{out}");
        assert!(out.stderr.contains("never follows"), "{out}");
        assert_eq!(server.seen().len(), 1, "followed to the same origin");
    }

    // 2. A device code poll: the device code must not travel.
    let to = format!("{away}/token");
    let device = format!(
        r#"{{"device_code":"dc-SECRET","user_code":"WDJB-MJHT","verification_uri":"{origin}/verify","expires_in":30,"interval":1}}"#
    );
    server.script(move |seen| {
        if seen.target == "/device" {
            Action::json(200, &device)
        } else {
            Action::redirect(307, &to)
        }
    });
    server.clear();
    let out = login();
    assert_eq!(out.code(), Some(1), "{out}");
    assert!(out.stderr.contains("never follows"), "{out}");
    assert_quiet_about(&out, &["dc-SECRET"]);
    let seen = server.seen();
    assert_eq!(
        seen.iter().map(|s| s.target.as_str()).collect::<Vec<_>>(),
        ["/device", "/token"]
    );
    assert_eq!(seen[1].field("device_code").as_deref(), Some("dc-SECRET"));
    assert_eq!(env.file_store(), None, "a login stored something");

    // 3. A refresh: the refresh token must not travel, and is kept.
    let scope = origin.clone();
    seed(&store, &scope, "at-SECRET", now() - 10, "rt-SECRET");
    let to = format!("{away}/token");
    server.script(move |_| Action::redirect(308, &to));
    server.clear();
    let out = env
        .gocred(&["get"])
        .stdin(format!(
            "protocol=http\nhost=127.0.0.1:{}\n\n",
            server.port()
        ))
        .run();
    assert_eq!(out.code(), Some(1), "{out}");
    assert_eq!(out.stdout, "");
    assert!(out.stderr.contains("never follows"), "{out}");
    assert_quiet_about(&out, &["rt-SECRET", "at-SECRET"]);
    assert_eq!(server.seen().len(), 1);
    assert!(
        std::fs::read_to_string(&store)
            .unwrap()
            .contains("oauth_refresh_token=rt-SECRET"),
        "a redirected refresh lost the refresh token"
    );

    // 4. A revocation (`gocred logout`): the token must not travel.
    seed(&store, &scope, "at-SECRET", now() + 3600, "rt-SECRET");
    let to = format!("{away}/revoke");
    server.script(move |_| Action::redirect(307, &to));
    server.clear();
    let out = env.gocred(&["logout", &origin]).run();
    assert_quiet_about(&out, &["rt-SECRET", "at-SECRET"]);
    assert!(
        server.seen().iter().all(|s| s.target == "/revoke"),
        "{:?}",
        server.seen()
    );
    assert_eq!(server.seen().len(), 1, "{out}");

    // 5. OIDC discovery (a GET) redirected elsewhere.
    env.policy(&rule(&origin, &format!("issuer = \"{origin}\"\n")));
    let to = format!("{away}/.well-known/openid-configuration");
    server.script(move |_| Action::redirect(302, &to));
    server.clear();
    let out = login();
    assert_eq!(out.code(), Some(1), "{out}");
    assert!(out.stderr.contains("never follows"), "{out}");
    assert_eq!(server.seen().len(), 1);

    // Through all of it, the other origin heard nothing at all.
    assert!(
        elsewhere.seen().is_empty(),
        "a redirect was followed: {:?}",
        elsewhere
            .seen()
            .iter()
            .map(|s| format!("{} {}", s.method, s.target))
            .collect::<Vec<_>>()
    );
}

#[test]
fn proxies_see_only_connect_for_https() {
    let mut env = TestEnv::new();
    env.set_env("GOCRED_HTTP_TIMEOUT", "5");
    // A proxy that records what it is asked and refuses everything.
    let proxy = Scripted::start(|_| Action::json(502, ""));
    env.set_env("https_proxy", proxy.origin());
    let origin = "https://git.corp.example:8443";
    env.policy(&format!(
        "[[rule]]\nurl = \"{origin}\"\nsources = [\"oauth\"]\nstore = \"file\"\n\n\
         [rule.oauth]\nprovider = \"gitlab\"\nclient_id = \"gocred-test\"\n"
    ));
    seed(
        &env.file_store_path(),
        origin,
        "at-SECRET",
        now() - 10,
        "rt-SECRET",
    );
    let out = env
        .gocred(&["get"])
        .stdin("protocol=https\nhost=git.corp.example:8443\n\n")
        .run();
    assert_eq!(out.code(), Some(1), "{out}");
    assert!(out.stderr.contains("will retry"), "{out}");
    let seen = proxy.seen();
    assert_eq!(seen.len(), 1, "{seen:?}");
    assert_eq!(seen[0].method, "CONNECT");
    assert_eq!(seen[0].target, "git.corp.example:8443");
    let raw = String::from_utf8_lossy(&seen[0].raw);
    for secret in ["rt-SECRET", "at-SECRET", "refresh_token", "/oauth/token"] {
        assert!(!raw.contains(secret), "the proxy saw {secret}: {raw}");
    }
}

#[test]
fn doctors_probe_follows_no_redirect_with_the_credential() {
    use crate::common::go::go_toolchain;
    use crate::common::https::{HttpsServer, Request, Response, TestCa};
    use std::sync::Arc;

    let mut env = TestEnv::new();
    let ca = TestCa::new(&env.root().join("ca"), "Redirect Test CA");
    // Another origin (another port), trusted too: it must hear nothing.
    let elsewhere = HttpsServer::start(
        "127.0.0.1:0",
        ca.server_config(&["localhost"]),
        Arc::new(|_: &Request| Response::new(200, "text/plain", "ok")),
    );
    let away = format!("https://localhost:{}/info/refs", elsewhere.port());
    let server = HttpsServer::start(
        "127.0.0.1:0",
        ca.server_config(&["localhost"]),
        Arc::new(move |_: &Request| {
            let mut r = Response::new(307, "text/plain", "");
            r.headers.push(("Location".into(), away.clone()));
            r
        }),
    );
    let host = format!("localhost:{}", server.port());
    env.policy(&format!(
        "[[rule]]\nurl = \"https://{host}\"\nsources = [\"file\"]\nstore = \"file\"\n"
    ));
    env.gocred(&["store"])
        .stdin(format!(
            "protocol=https\nhost={host}\nusername=alice\npassword=doc-SECRET\n\n"
        ))
        .success();
    env.git_config(
        &format!("http.https://{host}/.sslCAInfo"),
        &ca.pem.to_string_lossy(),
    );
    let away_host = format!("localhost:{}", elsewhere.port());
    env.git_config(
        &format!("http.https://{away_host}/.sslCAInfo"),
        &ca.pem.to_string_lossy(),
    );
    env.prepend_path(go_toolchain().0.parent().unwrap().to_owned());
    env.set_env("GOROOT", go_toolchain().1.clone());
    env.set_env("GOTOOLCHAIN", "local");
    env.set_env("GOCRED_HTTP_TIMEOUT", "5");
    let out = env
        .gocred(&["doctor"])
        .arg(format!("{host}/group/mod"))
        .run();
    assert_quiet_about(&out, &["doc-SECRET"]);
    assert!(out.stdout.contains("HTTP 307"), "{out}");
    assert_eq!(server.log().len(), 1, "{:?}", server.log());
    assert!(
        elsewhere.log().is_empty(),
        "doctor followed the redirect: {:?}",
        elsewhere.log()
    );
}
