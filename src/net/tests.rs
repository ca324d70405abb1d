//! The parts of the client that decide things without a network: URLs, git's config, proxies.

use super::*;
use std::io::{Read, Write};

#[test]
fn git_config_z_output_is_read() {
    let c = parse_git_config_z(b"http.proxy\n\0http.sslcainfo\n~/ca.pem\0http.version\nHTTP/2\0");
    assert_eq!(c.proxy.as_deref(), Some(""));
    assert_eq!(c.ca_info.as_deref(), Some("~/ca.pem"));
    assert_eq!(parse_git_config_z(b""), GitHttpConfig::default());
}

#[test]
fn no_proxy_as_curl_reads_it() {
    for (list, host, yes) in [
        ("*", "a.example", true),
        ("corp.example", "git.corp.example", true),
        (".corp.example", "git.corp.example", true),
        ("corp.example", "corp.example", true),
        ("corp.example", "evilcorp.example", false),
        ("localhost, 127.0.0.1", "127.0.0.1", true),
        ("127.0.0.1", "127.0.0.10", false),
        ("", "a", false),
    ] {
        assert_eq!(no_proxy_matches(list, host), yes, "{list} {host}");
    }
}

#[test]
fn urls_are_checked_and_http_needs_allow_http() {
    assert!(matches!(
        Target::parse("http://a.example/x", false),
        Err(NetError::Insecure { .. })
    ));
    assert!(Target::parse("http://a.example/x", true).is_ok());
    assert!(matches!(
        Target::parse("ftp://a.example", true),
        Err(NetError::BadUrl { .. })
    ));
    assert!(Target::parse("https://u:p@a.example", true).is_err());
    let t = Target::parse("https://A.Example:8443/oauth/token", false).unwrap();
    assert_eq!(t.origin, "https://a.example:8443");
    assert_eq!(t.host, "a.example");
    let t = Target::parse("https://[::1]:9/x", false).unwrap();
    assert_eq!(t.host, "::1");
}

#[test]
fn proxy_comes_from_the_environment_with_no_proxy_and_never_shows_a_password() {
    let vars = |name: &str| match name {
        "https_proxy" => Some("user:SENTINEL@proxy.example:3128".to_owned()),
        "no_proxy" => Some("internal.example".to_owned()),
        "GIT_CONFIG_GLOBAL" => Some("/nonexistent/gitconfig".to_owned()),
        "GIT_CONFIG_NOSYSTEM" => Some("1".to_owned()),
        _ => None,
    };
    let net = Net::new(Options::from_env(&vars, false), &vars);
    let r = net.route("https://a.example/x").unwrap();
    assert_eq!(
        r.proxy.as_deref(),
        Some("http://user:SENTINEL@proxy.example:3128")
    );
    assert_eq!(
        redact_proxy(r.proxy.as_deref().unwrap()),
        "http://user:***@proxy.example:3128"
    );
    assert_eq!(
        net.route("https://git.internal.example/").unwrap().proxy,
        None
    );
}

#[test]
fn timeouts_default_and_can_be_shortened() {
    let o = Options::from_env(&|_| None, false);
    assert_eq!((o.connect_timeout.as_secs(), o.timeout.as_secs()), (10, 30));
    let o = Options::from_env(
        &|n| (n == "GOCRED_HTTP_TIMEOUT").then(|| "0.5".into()),
        true,
    );
    assert_eq!(o.timeout, Duration::from_millis(500));
    assert!(o.allow_http);
}

#[test]
fn an_invalid_timeout_is_an_error_naming_the_variable_and_the_form() {
    let with = |v: &'static str| move |n: &str| (n == "GOCRED_HTTP_TIMEOUT").then(|| v.to_owned());
    assert_eq!(
        timeout_from_env(&with(" 2.5 ")),
        Ok(Some(Duration::from_millis(2500)))
    );
    assert_eq!(timeout_from_env(&with("")), Ok(None));
    assert_eq!(timeout_from_env(&|_| None), Ok(None));
    for bad in [
        "30s", "0", "-1", "NaN", "inf", "1e9", "86401", "1e3", "+5", "ten",
    ] {
        let e = timeout_from_env(&with(bad)).unwrap_err();
        assert!(
            e.to_string().starts_with("GOCRED_HTTP_TIMEOUT="),
            "{bad}: {e}"
        );
        assert!(
            e.to_string().contains("positive number of seconds"),
            "{bad}: {e}"
        );
    }
    // The defaults stay where the value is refused (cli::run refuses it first).
    let o = Options::from_env(&with("30s"), false);
    assert_eq!(o.timeout, Duration::from_secs(30));
}

#[test]
fn a_server_that_never_answers_times_out_in_one_line() {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    let holder = std::thread::spawn(move || {
        let (mut conn, _) = listener.accept().unwrap();
        let mut buf = [0; 1024];
        let _ = conn.read(&mut buf);
        std::thread::sleep(Duration::from_secs(2));
        let _ = conn.write_all(b"HTTP/1.1 200 OK\r\n\r\n");
    });
    let env = |n: &str| match n {
        "GOCRED_HTTP_TIMEOUT" => Some("0.5".to_owned()),
        "GIT_CONFIG_NOSYSTEM" => Some("1".to_owned()),
        "GIT_CONFIG_GLOBAL" => Some("/nonexistent".to_owned()),
        _ => None,
    };
    let net = Net::new(Options::from_env(&env, true), &env);
    let started = std::time::Instant::now();
    let e = net
        .post_form(
            &format!("http://127.0.0.1:{port}/token"),
            &[],
            &[("a", "b")],
        )
        .unwrap_err();
    assert!(started.elapsed() < Duration::from_secs(2), "{e}");
    assert!(matches!(e, NetError::Timeout { .. }), "{e:?}");
    assert_eq!(
        e.to_string(),
        format!(
            "127.0.0.1:{port}: no answer within 0.5 s; check that the server is up \
             (GOCRED_HTTP_TIMEOUT=SECONDS waits longer)"
        )
    );
    holder.join().unwrap();
}

#[test]
fn connect_and_timeout_errors_name_the_fix_not_only_the_host() {
    let port = {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        listener.local_addr().unwrap().port()
    }; // closed again: connection refused
    let env = |n: &str| match n {
        "GIT_CONFIG_NOSYSTEM" => Some("1".to_owned()),
        "GIT_CONFIG_GLOBAL" => Some("/nonexistent".to_owned()),
        _ => None,
    };
    let net = Net::new(Options::from_env(&env, true), &env);
    let e = net
        .post_form(&format!("http://127.0.0.1:{port}/token"), &[], &[])
        .unwrap_err();
    assert!(matches!(e, NetError::Connect { .. }), "{e:?}");
    let text = e.to_string();
    assert!(
        text.starts_with(&format!("127.0.0.1:{port}: cannot connect (")),
        "{text}"
    );
    assert!(text.ends_with("; check the host and port in the rule's URL, and whether a proxy is needed (git's http.proxy, https_proxy)"), "{text}");
    let timeout = NetError::Timeout {
        host: "h.example".into(),
        after: "30 s".into(),
    };
    assert!(timeout.to_string().contains("GOCRED_HTTP_TIMEOUT=SECONDS"));
}

#[test]
fn no_request_follows_a_redirect_whatever_its_method() {
    // Another origin that records whether anyone came.
    let elsewhere = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    elsewhere.set_nonblocking(true).unwrap();
    let away = elsewhere.local_addr().unwrap().port();
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    let server = std::thread::spawn(move || {
        for status in [307, 308, 302] {
            let (mut conn, _) = listener.accept().unwrap();
            let mut buf = [0; 4096];
            let _ = conn.read(&mut buf);
            let _ = conn.write_all(
                format!(
                    "HTTP/1.1 {status} Moved\r\nLocation: http://127.0.0.1:{away}/x\r\n\
                     Content-Length: 0\r\nConnection: close\r\n\r\n"
                )
                .as_bytes(),
            );
        }
    });
    let env = |n: &str| match n {
        "GIT_CONFIG_NOSYSTEM" => Some("1".to_owned()),
        "GIT_CONFIG_GLOBAL" => Some("/nonexistent".to_owned()),
        _ => None,
    };
    let net = Net::new(Options::from_env(&env, true), &env);
    let url = format!("http://127.0.0.1:{port}/token");
    let r = net
        .post_form(&url, &[], &[("device_code", "dc-SECRET")])
        .unwrap();
    assert_eq!(r.status, 307);
    let r = net
        .post_form(&url, &[], &[("refresh_token", "rt-SECRET")])
        .unwrap();
    assert_eq!(r.status, 308);
    // doctor's probe: a GET with the credential in Authorization.
    let r = net
        .get(&url, &[("Authorization", "Basic dTpTRUNSRVQ=")])
        .unwrap();
    assert_eq!(r.status, 302);
    server.join().unwrap();
    assert!(
        matches!(elsewhere.accept(), Err(e) if e.kind() == std::io::ErrorKind::WouldBlock),
        "a redirect was followed"
    );
}
