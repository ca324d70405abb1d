//! One test per attribute and per rejection of git-credential(1).

use super::*;
use crate::secret::Secret;

fn req(input: &str) -> Request {
    decode(input.as_bytes()).expect("decodes")
}

fn err(input: &[u8]) -> ProtocolError {
    decode(input).expect_err("must be refused")
}

fn read(input: &[u8], limits: Limits) -> Result<Request, ProtocolError> {
    read_request(input, limits)
}

#[test]
fn protocol_host_path_username_password() {
    let r = req(
        "protocol=https\nhost=gitlab.corp.example:8443\npath=group/repo.git\nusername=alice\npassword=s=cret\n",
    );
    assert_eq!(r.protocol.as_deref(), Some("https"));
    assert_eq!(r.host.as_deref(), Some("gitlab.corp.example:8443"));
    assert_eq!(r.path.as_deref(), Some("group/repo.git"));
    assert_eq!(r.username.as_deref(), Some("alice"));
    assert_eq!(
        r.password.as_ref().map(Secret::expose),
        Some("s=cret"),
        "only the first '=' splits"
    );
}

#[test]
fn password_expiry_utc_and_oauth_refresh_token() {
    let r = req("password_expiry_utc=1764000000\noauth_refresh_token=rt-1\n");
    assert_eq!(r.password_expiry_utc, Some(1_764_000_000));
    assert_eq!(
        r.oauth_refresh_token.as_ref().map(Secret::expose),
        Some("rt-1")
    );
    assert!(matches!(
        err(b"password_expiry_utc=soon\n"),
        ProtocolError::NotATimestamp { .. }
    ));
    assert_eq!(req("password_expiry_utc=\n").password_expiry_utc, None);
}

#[test]
fn url_is_expanded_into_its_parts() {
    let r = req("url=https://bob:pw@h.example:8443/a/b.git\n");
    assert_eq!(r.protocol.as_deref(), Some("https"));
    assert_eq!(r.host.as_deref(), Some("h.example:8443"));
    assert_eq!(r.path.as_deref(), Some("a/b.git"));
    assert_eq!(r.username.as_deref(), Some("bob"));
    assert_eq!(r.password.as_ref().map(Secret::expose), Some("pw"));
}

#[test]
fn url_agreeing_with_explicit_fields_is_accepted() {
    let r = req("protocol=https\nhost=H.example\npath=a/b\nurl=https://h.example/a/b\n");
    assert_eq!(r.host.as_deref(), Some("H.example"));
    let r = req("protocol=https\nhost=h.example\nurl=https://h.example/x\n");
    assert_eq!(
        r.path.as_deref(),
        Some("x"),
        "a path only the url names is taken from it"
    );
}

#[test]
fn url_disagreeing_with_protocol_host_path_or_username_is_refused() {
    for (input, key) in [
        ("protocol=http\nurl=https://h.example/\n", "protocol"),
        ("host=evil.example\nurl=https://h.example/\n", "host"),
        ("url=https://h.example/\nhost=h.example:8443\n", "host"),
        ("path=a/b\nurl=https://h.example/a/c\n", "path"),
        ("username=alice\nurl=https://bob@h.example/\n", "username"),
    ] {
        match err(input.as_bytes()) {
            ProtocolError::UrlConflict { key: k } => assert_eq!(k, key, "{input:?}"),
            other => panic!("{input:?}: {other}"),
        }
    }
    assert!(matches!(
        err(b"url=not-a-url\n"),
        ProtocolError::BadUrl { .. }
    ));
}

#[test]
fn wwwauth_capability_and_state_are_lists_cleared_by_an_empty_value() {
    let r = req(concat!(
        "wwwauth[]=Basic realm=\"x\"\nwwwauth[]=Bearer\n",
        "capability[]=authtype\ncapability[]=\ncapability[]=state\n",
        "state[]=a\nstate[]=b\n"
    ));
    assert_eq!(r.wwwauth, ["Basic realm=\"x\"", "Bearer"]);
    assert_eq!(r.capability, ["state"]);
    assert!(r.has_capability("state") && !r.has_capability("authtype"));
    assert_eq!(r.state, ["a", "b"]);
}

#[test]
fn authtype_credential_ephemeral_continue_quit() {
    let r = req("authtype=Bearer\ncredential=tok\nephemeral=true\ncontinue=1\nquit=0\n");
    assert_eq!(r.authtype.as_deref(), Some("Bearer"));
    assert_eq!(r.credential.as_ref().map(Secret::expose), Some("tok"));
    assert_eq!(
        (r.ephemeral, r.continue_, r.quit),
        (Some(true), Some(true), Some(false))
    );
    assert!(matches!(
        err(b"quit=maybe\n"),
        ProtocolError::NotABool { .. }
    ));
}

#[test]
fn unknown_keys_are_ignored_and_later_values_win() {
    let r = req("frobnicate=1\nhost=a\nhost=b\nx-future[]=y\n");
    assert_eq!(r.host.as_deref(), Some("b"));
    assert_eq!(
        r,
        Request {
            host: Some("b".into()),
            ..Request::default()
        }
    );
}

#[test]
fn a_blank_line_or_eof_ends_the_request() {
    let r = read(b"host=a\n\nhost=b\n", Limits::default()).unwrap();
    assert_eq!(r.host.as_deref(), Some("a"));
    let r = read(b"host=a", Limits::default()).unwrap();
    assert_eq!(r.host.as_deref(), Some("a"), "EOF without a final newline");
    assert_eq!(read(b"", Limits::default()).unwrap(), Request::default());
}

#[test]
fn cr_lf_and_nul_in_values_are_refused() {
    for input in [
        &b"host=a\rb\n"[..],
        b"host=a\r\n",
        b"password=a\0b\n",
        b"url=https://h/%0a\n",
    ] {
        let e = decode(input).unwrap_err();
        assert!(
            matches!(
                e,
                ProtocolError::ForbiddenChar { .. } | ProtocolError::BadUrl { .. }
            ),
            "{input:?}: {e}"
        );
    }
    assert!(matches!(
        err(b"ho\rst=a\n"),
        ProtocolError::ForbiddenCharInLine { .. }
    ));
}

#[test]
fn lines_without_equals_and_non_utf8_are_refused() {
    assert!(matches!(
        err(b"host=a\njunk\n"),
        ProtocolError::NoEquals { line: 2 }
    ));
    assert!(matches!(
        err(b"host=\xff\n"),
        ProtocolError::NotUtf8 { line: 1 }
    ));
}

#[test]
fn line_length_and_request_size_are_bounded() {
    let limits = Limits {
        max_line: 16,
        max_request: 40,
    };
    assert!(
        read(b"host=0123456789a\n", limits).is_ok(),
        "exactly 16 bytes"
    );
    assert!(matches!(
        read(b"host=0123456789ab\n", limits),
        Err(ProtocolError::LineTooLong { line: 1, max: 16 })
    ));
    let big = b"host=0123456789\nhost=0123456789\nhost=0123456789\n";
    assert!(matches!(
        read(big, limits),
        Err(ProtocolError::RequestTooLarge { max: 40 })
    ));
    // An endless line is refused without reading all of it.
    let endless = std::io::repeat(b'a').take(1 << 30);
    let limits = Limits::default();
    assert!(matches!(
        read_request(std::io::BufReader::new(endless), limits),
        Err(ProtocolError::LineTooLong { .. })
    ));
}

use std::io::Read as _;

#[test]
fn requests_without_protocol_or_host_are_refused() {
    assert!(matches!(
        req("host=a\n").require_target(),
        Err(ProtocolError::Missing { key: "protocol" })
    ));
    assert!(matches!(
        req("protocol=https\n").require_target(),
        Err(ProtocolError::Missing { key: "host" })
    ));
    assert!(matches!(
        req("protocol=https\nhost=\n").require_target(),
        Err(ProtocolError::Missing { key: "host" })
    ));
    assert_eq!(
        req("protocol=https\nhost=a\n").require_target().unwrap(),
        ("https", "a")
    );
}

#[test]
fn errors_never_carry_values() {
    let sentinel = "SENTINEL-7f3a";
    for input in [
        format!("password={sentinel}\r\n"),
        format!("{sentinel}\n"),
        format!("url=https://u:{sentinel}@h/\nhost=other\n"),
        format!("quit={sentinel}\n"),
    ] {
        let e = decode(input.as_bytes()).unwrap_err();
        assert!(
            !e.to_string().contains(sentinel) && !format!("{e:?}").contains(sentinel),
            "{e}"
        );
    }
    let r = req(&format!(
        "password={sentinel}\noauth_refresh_token={sentinel}\ncredential={sentinel}\nurl=https://u:{sentinel}@h/\n"
    ));
    assert!(!format!("{r:?}").contains(sentinel));
}

#[test]
fn response_writes_only_what_is_set_in_git_order() {
    let resp = Response {
        username: Some("alice".into()),
        password: Some(Secret::from("pw")),
        password_expiry_utc: Some(1_764_000_000),
        ..Response::default()
    };
    let mut out = Vec::new();
    resp.write_to(&mut out).unwrap();
    assert_eq!(
        String::from_utf8(out).unwrap(),
        "username=alice\npassword=pw\npassword_expiry_utc=1764000000\n"
    );

    let resp = Response {
        capability: vec!["authtype".into()],
        authtype: Some("Bearer".into()),
        credential: Some(Secret::from("tok")),
        ephemeral: Some(true),
        state: vec!["gocred:x".into()],
        continue_: Some(false),
        quit: Some(true),
        oauth_refresh_token: Some(Secret::from("rt")),
        ..Response::default()
    };
    let mut out = Vec::new();
    resp.write_to(&mut out).unwrap();
    assert_eq!(
        String::from_utf8(out).unwrap(),
        "capability[]=authtype\nauthtype=Bearer\ncredential=tok\noauth_refresh_token=rt\nephemeral=true\nstate[]=gocred:x\ncontinue=false\nquit=true\n"
    );
}

#[test]
fn response_refuses_injected_lines_and_writes_nothing() {
    let resp = Response {
        username: Some("alice".into()),
        password: Some(Secret::from("pw\nhost=evil.example")),
        ..Response::default()
    };
    let mut out = Vec::new();
    assert!(matches!(
        resp.write_to(&mut out),
        Err(ProtocolError::ForbiddenChar { .. })
    ));
    assert!(out.is_empty());
}

#[test]
fn decode_of_an_encoded_response_round_trips() {
    let resp = Response {
        username: Some("u".into()),
        password: Some(Secret::from("p=q")),
        password_expiry_utc: Some(5),
        oauth_refresh_token: Some(Secret::from("r")),
        ..Response::default()
    };
    let r = decode(resp.encode().unwrap().as_bytes()).unwrap();
    assert_eq!(r.username.as_deref(), Some("u"));
    assert_eq!(r.password.as_ref().map(Secret::expose), Some("p=q"));
    assert_eq!(r.password_expiry_utc, Some(5));
    assert_eq!(
        r.oauth_refresh_token.as_ref().map(Secret::expose),
        Some("r")
    );
}
