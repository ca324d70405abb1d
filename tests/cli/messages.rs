//! Issue 10, "Messages": one error model (a kind that picks the exit code, `Caused by:` and
//! `Hint:` lines), no Rust Debug text, a repeated problem said once, a non-UTF-8 config named by
//! line, an invalid `GOCRED_HTTP_TIMEOUT` refused, and a hint when `gocred get` reads a terminal.

use crate::common::GOCRED;
use crate::common::TestEnv;
use crate::common::http::{HttpServer, Response};
use std::sync::Arc;

#[test]
fn messages_invalid_http_timeout_is_an_error_naming_the_variable_and_the_form() {
    let env = TestEnv::new();
    env.policy("[[rule]]\nurl = \"https://h.example\"\nsources = [\"file\"]\nstore = \"file\"\n");
    for (value, command) in [
        ("30s", &["get"][..]),
        ("0", &["status"]),
        ("-5", &["netrc"]),
        ("1e400", &["config", "check"]),
    ] {
        let out = env
            .gocred(command)
            .env("GOCRED_HTTP_TIMEOUT", value)
            .stdin("protocol=https\nhost=h.example\n\n")
            .run();
        out.assert_code(1);
        assert_eq!(out.stdout, "", "{out}");
        assert_eq!(
            out.stderr,
            format!(
                "gocred: GOCRED_HTTP_TIMEOUT={value} is not a timeout: set it to a positive \
                 number of seconds up to 86400 (e.g. 30 or 2.5), or unset it for the defaults \
                 (10 s to connect, 30 s in all)\n"
            ),
            "{command:?}"
        );
    }
    // --quiet never silences it.
    let out = env
        .gocred(&["--quiet", "status"])
        .env("GOCRED_HTTP_TIMEOUT", "soon")
        .run();
    out.assert_code(1);
    assert!(
        out.stderr
            .contains("GOCRED_HTTP_TIMEOUT=soon is not a timeout"),
        "{out}"
    );
    // A valid one is accepted.
    env.gocred(&["status"])
        .env("GOCRED_HTTP_TIMEOUT", " 2.5 ")
        .success();
}

#[test]
fn messages_non_utf8_config_names_the_line() {
    let env = TestEnv::new();
    let path = env.policy("");
    std::fs::write(
        &path,
        b"# ok\n[[rule]]\nurl = \"https://h.example\" # caf\xe9\nsources = [\"file\"]\n",
    )
    .unwrap();
    for command in [&["config", "check"][..], &["get"], &["status"]] {
        let out = env
            .gocred(command)
            .stdin("protocol=https\nhost=h.example\n\n")
            .run();
        out.assert_code(1);
        assert_eq!(out.stdout, "", "{out}");
        assert!(
            out.stderr.contains(&format!(
                "{}: line 3, column 32: not UTF-8 text (byte 0xe9); save the file as UTF-8",
                path.display()
            )),
            "{command:?}: {out}"
        );
    }
}

#[test]
fn messages_a_ca_certificate_served_as_the_servers_own_is_said_in_words_not_debug_text() {
    // A server whose certificate is a CA's (rustls: `Other(OtherError(CaUsedAsEndEntity))`).
    use rcgen::{BasicConstraints, CertificateParams, IsCa, KeyPair};
    let env = TestEnv::new();
    let key = KeyPair::generate().unwrap();
    let mut params = CertificateParams::new(vec!["127.0.0.1".to_owned()]).unwrap();
    params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    let cert = params.self_signed(&key).unwrap();
    let pem = env.write_file("ca-as-leaf.pem", &cert.pem());
    let tls = rustls::ServerConfig::builder_with_provider(Arc::new(
        rustls::crypto::ring::default_provider(),
    ))
    .with_safe_default_protocol_versions()
    .unwrap()
    .with_no_client_auth()
    .with_single_cert(
        vec![cert.der().clone()],
        rustls::pki_types::PrivateKeyDer::Pkcs8(key.serialize_der().into()),
    )
    .unwrap();
    let server = HttpServer::start(
        "127.0.0.1:0",
        Some(Arc::new(tls)),
        Arc::new(|_: &crate::common::http::Request| Response::not_found()),
    );
    let origin = format!("https://127.0.0.1:{}", server.port());
    env.git_config("http.sslCAInfo", pem.to_str().unwrap());
    env.policy(&format!(
        "[[rule]]\nurl = \"{origin}\"\nsources = [\"oauth\"]\nstore = \"file\"\n\n\
         [rule.oauth]\nprovider = \"gitlab\"\nclient_id = \"gocred-test\"\n"
    ));
    let out = env
        .gocred(&["login", &origin, "--no-browser"])
        .env("GOCRED_HTTP_TIMEOUT", "5")
        .run();
    out.assert_code(1);
    assert!(
        out.stderr
            .contains("TLS failed (the server's certificate is a CA certificate, not a server's"),
        "{out}"
    );
    for debug in ["OtherError", "CaUsedAsEndEntity", "Other(", "{ "] {
        assert!(!out.stderr.contains(debug), "Debug text {debug:?}: {out}");
    }
}

#[test]
fn messages_an_unavailable_keychain_is_said_once_not_under_each_rule() {
    // No DBUS_SESSION_BUS_ADDRESS in the test environment: the Secret Service cannot work.
    let env = TestEnv::new();
    let rules: String = ["a", "b", "c"]
        .iter()
        .map(|h| {
            format!(
                "[[rule]]\nurl = \"https://{h}.corp.example\"\nsources = [\"keychain\"]\n\
                 store = \"keychain\"\n\n"
            )
        })
        .collect();
    env.policy(&format!(
        "[keychain]\nbackend = \"secret-service\"\n\n{rules}"
    ));
    for (command, who) in [(&["netrc"][..], "netrc"), (&["exec", "--", "true"], "exec")] {
        let out = env.gocred(command).run();
        out.assert_success();
        assert_eq!(out.stdout, "", "{out}");
        let lines = out.stderr_lines();
        assert_eq!(lines.len(), 1, "said once: {out}");
        assert!(
            lines[0].starts_with(&format!(
                "gocred {who}: 3 rules left out (https://a.corp.example, \
                 https://b.corp.example, https://c.corp.example): keychain"
            )),
            "{out}"
        );
    }
    // status: the reason once, up top; each rule points at it.
    let out = env.gocred(&["status"]).run();
    assert_eq!(
        out.stdout
            .matches("keychain: unavailable: keychain")
            .count(),
        1,
        "{out}"
    );
    assert_eq!(
        out.stdout
            .matches("  keychain: unavailable (see above)")
            .count(),
        3,
        "{out}"
    );
}

#[test]
fn messages_get_at_a_terminal_hints_that_it_reads_gits_protocol_and_still_works() {
    let env = TestEnv::new();
    env.policy("[[rule]]\nurl = \"https://h.example\"\nsources = [\"file\"]\nstore = \"file\"\n");
    env.gocred(&["store"])
        .stdin("protocol=https\nhost=h.example\nusername=alice\npassword=pw-SENTINEL\n\n")
        .success();
    // gocred get with a pseudo-terminal as stdin, as when a person types it.
    let at_a_tty = r#"
import os, pty, subprocess, sys
master, slave = pty.openpty()
p = subprocess.Popen(sys.argv[1:], stdin=slave, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
os.close(slave)
os.write(master, b"protocol=https\nhost=h.example\n\n")
out, err = p.communicate(timeout=20)
sys.stdout.write(out.decode())
sys.stderr.write(err.decode())
sys.exit(p.returncode)
"#;
    let out = env
        .command("python3")
        .args(["-c", at_a_tty])
        .arg(GOCRED)
        .arg("get")
        .run();
    out.assert_success();
    assert_eq!(
        out.stdout, "username=alice\npassword=pw-SENTINEL\n",
        "it still answers: {out}"
    );
    let lines = out.stderr_lines();
    assert_eq!(lines.len(), 1, "{out}");
    assert!(
        lines[0].starts_with("gocred: `gocred get` reads git's credential request on stdin"),
        "{out}"
    );
    // Quiet: no hint. Not a terminal (git's pipe): no hint either.
    let out = env
        .command("python3")
        .args(["-c", at_a_tty])
        .arg(GOCRED)
        .args(["--quiet", "get"])
        .run();
    out.assert_success();
    assert_eq!(out.stderr, "", "{out}");
    let out = env
        .gocred(&["get"])
        .stdin("protocol=https\nhost=h.example\n\n")
        .success();
    assert_eq!(out.stderr, "");
}

/// Every `{:?}`-style format in gocred's own code (tests, `Debug` impls, asserts and panics
/// aside): Debug text of a value reaching a person looks like `Other(OtherError(..))`.
#[test]
fn messages_no_debug_formatting_in_what_gocred_prints() {
    fn walk(dir: &std::path::Path, out: &mut Vec<std::path::PathBuf>) {
        for entry in std::fs::read_dir(dir).unwrap().flatten() {
            let path = entry.path();
            if path.is_dir() {
                walk(&path, out);
            } else if path.extension().is_some_and(|e| e == "rs") {
                out.push(path);
            }
        }
    }
    let mut files = Vec::new();
    walk(
        &std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("src"),
        &mut files,
    );
    let mut found = Vec::new();
    for file in files {
        if file.file_name().is_some_and(|n| n == "tests.rs") {
            continue;
        }
        let text = std::fs::read_to_string(&file).unwrap();
        for (i, line) in text.lines().enumerate() {
            if line.trim_start().starts_with("#[cfg(test)]") {
                break; // the unit tests at the bottom of the file
            }
            let debug_format = line.contains(":?}") || line.contains(":#?}");
            let allowed = [
                "assert",
                "panic!",
                "unreachable!",
                "write!(f",
                "debug_struct",
                "identifier_words(", // Debug text put into words
            ]
            .iter()
            .any(|a| line.contains(a))
                || line.trim_start().starts_with("//");
            if debug_format && !allowed {
                found.push(format!("{}:{}: {}", file.display(), i + 1, line.trim()));
            }
        }
    }
    assert!(
        found.is_empty(),
        "Debug formatting in messages (put the value in words):\n{}",
        found.join("\n")
    );
}
