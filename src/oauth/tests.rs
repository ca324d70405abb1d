//! Parsing what token endpoints answer: JSON, GitHub's forms, errors in any status, and bodies
//! that are not OAuth at all. No secret may reach a message.

use super::answer::{one_line, parse};
use super::*;
use crate::net::Reply;
use crate::secret::SecretBytes;

fn reply(status: u16, content_type: &str, body: &str) -> Reply {
    Reply {
        status,
        content_type: content_type.into(),
        retry_after: None,
        body: SecretBytes(body.as_bytes().to_vec()),
    }
}

fn token_endpoint() -> Endpoint {
    Endpoint::new("https://gitlab.corp.example/oauth/token", "token refresh")
}

fn tokens(r: &Reply) -> Result<TokenSet, OAuthError> {
    let e = token_endpoint();
    token_set(&e, parse(&e, r)?, 1_000)
}

#[test]
fn json_and_form_answers_give_the_same_tokens() {
    for r in [
        reply(
            200,
            "application/json",
            r#"{"access_token":"SENTINEL-at","refresh_token":"SENTINEL-rt","expires_in":7200,"token_type":"bearer"}"#,
        ),
        reply(
            200,
            "application/x-www-form-urlencoded",
            "access_token=SENTINEL-at&refresh_token=SENTINEL-rt&expires_in=7200&token_type=bearer",
        ),
        // GitHub's answer without Accept: application/json, with a text/plain type.
        reply(
            200,
            "text/plain",
            "access_token=SENTINEL-at&expires_in=7200&refresh_token=SENTINEL-rt&scope=repo&token_type=bearer",
        ),
    ] {
        let t = tokens(&r).unwrap();
        assert_eq!(t.access_token.expose(), "SENTINEL-at");
        assert_eq!(t.refresh_token.unwrap().expose(), "SENTINEL-rt");
        assert_eq!(t.expires_at, Some(8_200));
    }
}

#[test]
fn a_token_without_lifetime_has_no_expiry_and_no_refresh_token_is_none() {
    let t = tokens(&reply(
        200,
        "application/json",
        r#"{"access_token":"a b%"}"#,
    ))
    .unwrap();
    assert_eq!(t.expires_at, None);
    assert!(t.refresh_token.is_none());
    let t = tokens(&reply(
        200,
        "application/json",
        r#"{"access_token":"x","expires_in":"60"}"#,
    ))
    .unwrap();
    assert_eq!(t.expires_at, Some(1_060));
    let t = tokens(&reply(
        200,
        "application/json",
        r#"{"access_token":"x","expires_in":0}"#,
    ))
    .unwrap();
    assert_eq!(t.expires_at, None);
}

#[test]
fn errors_are_found_in_any_status_and_shown_in_one_line_without_tokens() {
    let cases = [
        (
            400,
            "application/json",
            r#"{"error":"invalid_grant","error_description":"The refresh token\nis revoked"}"#,
            "gitlab.corp.example refused the token refresh: invalid_grant (The refresh token is revoked)",
        ),
        // GitHub: errors in HTTP 200, form-encoded.
        (
            200,
            "application/x-www-form-urlencoded",
            "error=bad_refresh_token&error_description=The+refresh+token+passed+is+incorrect+or+expired.&error_uri=https%3A%2F%2Fdocs",
            "gitlab.corp.example refused the token refresh: bad_refresh_token (The refresh token passed is incorrect or expired.)",
        ),
        (
            401,
            "application/json",
            r#"{"error":"invalid_client"}"#,
            "refused the token refresh: invalid_client; check `client_id`",
        ),
        (
            502,
            "text/html",
            "<!DOCTYPE html><html><body>Bad gateway SENTINEL</body></html>",
            "answered the token refresh with HTTP 502 and an HTML page",
        ),
        (
            200,
            "text/html",
            "<html>login SENTINEL</html>",
            "HTTP 200 and an HTML page",
        ),
        (
            200,
            "application/json",
            "{not json SENTINEL",
            "JSON that does not parse",
        ),
        (
            200,
            "application/json",
            "[1,2]",
            "application/json that is not valid JSON",
        ),
        (200, "", "[1,2]", "neither JSON nor a form"),
        (500, "", "", "an empty body"),
        (
            200,
            "application/json",
            r#"{"token_type":"bearer"}"#,
            "no access_token",
        ),
    ];
    for (status, ct, body, expected) in cases {
        let e = tokens(&reply(status, ct, body)).unwrap_err().to_string();
        assert!(e.contains(expected), "{e:?} lacks {expected:?}");
        assert!(!e.contains("SENTINEL") && !e.contains('\n'), "{e}");
    }
}

#[test]
fn refusals_are_told_apart_from_outages() {
    let e = |status, code: &str| OAuthError::Server {
        what: "token refresh",
        host: "h".into(),
        status,
        code: code.into(),
        description: None,
    };
    assert!(e(400, "invalid_grant").is_refusal());
    assert!(e(200, "bad_refresh_token").is_refusal());
    assert!(!e(503, "invalid_grant").is_refusal());
    assert!(!e(400, "temporarily_unavailable").is_refusal());
    assert!(!e(400, "server_error").is_refusal());
    // Only invalid_grant (and GitHub's bad_refresh_token) is a refusal of the token itself.
    for transient_or_not_the_tokens_fault in [
        "slow_down",
        "invalid_client",
        "unauthorized_client",
        "invalid_request",
        "access_denied",
        "rate_limited",
    ] {
        assert!(!e(400, transient_or_not_the_tokens_fault).is_refusal());
    }
    assert!(!e(429, "invalid_grant").is_refusal());
}

#[test]
fn one_line_strips_control_characters_and_bounds_length() {
    assert_eq!(one_line("a\r\n\tb\x1b[31m", 100), "a b [31m");
    assert_eq!(one_line(&"x".repeat(300), 5), "xxxxx…");
}

#[test]
fn known_provider_endpoints() {
    let net = crate::net::Net::new(crate::net::Options::from_env(&|_| None, false), &|_| None);
    let config = |provider| crate::policy::OAuthConfig {
        provider,
        client_id: "id".into(),
        scopes: None,
        issuer: None,
        device_authorization_endpoint: None,
        token_endpoint: None,
        revocation_endpoint: None,
        store: crate::policy::SourceKind::Keychain,
    };
    let gl = Client::new(
        &net,
        &config(OAuthProvider::GitLab),
        "https://gl.example:8443",
    )
    .unwrap();
    assert_eq!(
        gl.endpoints.device_authorization.url,
        "https://gl.example:8443/oauth/authorize_device"
    );
    assert_eq!(
        gl.endpoints.token.url,
        "https://gl.example:8443/oauth/token"
    );
    assert_eq!(
        gl.endpoints.revocation.unwrap().url,
        "https://gl.example:8443/oauth/revoke"
    );
    let gh = Client::new(&net, &config(OAuthProvider::GitHub), "https://github.com").unwrap();
    assert_eq!(
        gh.endpoints.device_authorization.url,
        "https://github.com/login/device/code"
    );
    assert_eq!(
        gh.endpoints.token.url,
        "https://github.com/login/oauth/access_token"
    );
    assert_eq!(
        gh.endpoints.account.unwrap().url,
        "https://api.github.com/user"
    );
    assert!(gh.endpoints.revocation.is_none());
    let ghe = Client::new(&net, &config(OAuthProvider::GitHub), "https://ghe.example").unwrap();
    assert_eq!(
        ghe.endpoints.account.unwrap().url,
        "https://ghe.example/api/v3/user"
    );
    let mut oidc = config(OAuthProvider::Oidc);
    oidc.device_authorization_endpoint = Some("https://idp.example/device".into());
    oidc.token_endpoint = Some("https://idp.example/token".into());
    let o = Client::new(&net, &oidc, "https://git.example").unwrap();
    assert_eq!(o.endpoints.refresh.url, "https://idp.example/token");
    assert_eq!(default_username(OAuthProvider::GitLab), "oauth2");
    assert_eq!(default_username(OAuthProvider::GitHub), "x-access-token");
}

/// A loopback HTTP server answering one connection after the other with the next of `bodies`
/// (HTTP 200, as GitHub sends its errors), then stopping.
fn serve_in_turn(bodies: Vec<&'static str>) -> (u16, std::thread::JoinHandle<()>) {
    use std::io::{Read, Write};
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    let server = std::thread::spawn(move || {
        for body in bodies {
            let (mut conn, _) = listener.accept().unwrap();
            let mut request = Vec::new();
            let mut buf = [0; 4096];
            // Head and the short form body arrive together or close behind.
            while let Ok(n) = conn.read(&mut buf) {
                request.extend_from_slice(&buf[..n]);
                let text = String::from_utf8_lossy(&request);
                if let Some((head, rest)) = text.split_once("\r\n\r\n") {
                    let len = head
                        .lines()
                        .find_map(|l| {
                            l.to_ascii_lowercase()
                                .strip_prefix("content-length:")
                                .map(|v| v.trim().parse::<usize>().unwrap())
                        })
                        .unwrap_or(0);
                    if rest.len() >= len {
                        break;
                    }
                }
                if n == 0 {
                    break;
                }
            }
            let kind = if body.starts_with('{') {
                "application/json"
            } else {
                "application/x-www-form-urlencoded"
            };
            let _ = write!(
                conn,
                "HTTP/1.1 200 OK\r\nContent-Type: {kind}\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
                body.len()
            );
        }
    });
    (port, server)
}

#[test]
fn slow_down_obeys_a_longer_interval_the_server_names() {
    let (port, server) = serve_in_turn(vec![
        r#"{"error":"slow_down","interval":12}"#, // longer than 1 + 5: GitHub's word counts
        r#"{"error":"slow_down","interval":3}"#,  // shorter than 12 + 5: 5 s more
        "error=slow_down&interval=30",            // GitHub's form answer: 30 > 17 + 5
        r#"{"error":"slow_down"}"#,               // none named: 5 s more (RFC 8628)
    ]);
    let env = |n: &str| match n {
        "GIT_CONFIG_NOSYSTEM" => Some("1".to_owned()),
        "GIT_CONFIG_GLOBAL" => Some("/nonexistent".to_owned()),
        _ => None,
    };
    let net = crate::net::Net::new(crate::net::Options::from_env(&env, true), &env);
    let config = crate::policy::OAuthConfig {
        provider: OAuthProvider::Oidc,
        client_id: "id".into(),
        scopes: None,
        issuer: None,
        device_authorization_endpoint: Some(format!("http://127.0.0.1:{port}/device")),
        token_endpoint: Some(format!("http://127.0.0.1:{port}/token")),
        revocation_endpoint: None,
        store: crate::policy::SourceKind::File,
    };
    let client = Client::new(&net, &config, &format!("http://127.0.0.1:{port}")).unwrap();
    let mut device = DeviceAuthorization {
        device_code: Secret::from("device-code"),
        user_code: "WDJB-MJHT".into(),
        verification_uri: "https://idp.example/device".into(),
        verification_uri_complete: None,
        expires_in: std::time::Duration::from_secs(900),
        interval: std::time::Duration::from_secs(1),
    };
    for expected in [12, 17, 30, 35] {
        let poll = client.poll_device(&mut device, 0).unwrap();
        assert!(matches!(poll, Poll::SlowDown), "{poll:?}");
        assert_eq!(device.interval.as_secs(), expected);
    }
    server.join().unwrap();
}
