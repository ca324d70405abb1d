//! One normalization of a target for every command (issue 9, §2 and §3): whatever door a
//! request comes through (git's attributes to `get`, a URL from go to `goauth`, a host to
//! `netrc --host` / `exec --host`, a module path to `doctor`, a host to `login`), a path that
//! could reach somewhere else never matches a path rule, an IP literal with a trailing dot is
//! not that address, a user name never moves a host or key, and an option is never taken for a
//! URL. Each class is driven through the real binary, for every command it applies to.

use crate::common::{Output, TestEnv, value_of};
use std::net::TcpListener;

/// A loopback port nothing listens on (bound, then released): doctor's network checks fail
/// fast there, and its policy checks still run.
fn closed_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// A rule for `url` that answers from the environment (no store, nothing to set up).
fn env_rule(url: &str, user: &str, var: &str) -> String {
    format!(
        "[[rule]]\nurl = \"{url}\"\nsources = [\"env\"]\nusername = \"{user}\"\ntoken_env = \"{var}\"\n\n"
    )
}

/// Only a path rule on git.corp.example (and the same on a closed loopback port for doctor).
fn path_rule_env() -> (TestEnv, u16) {
    let port = closed_port();
    let mut env = TestEnv::new();
    env.policy(&format!(
        "{}{}",
        env_rule(
            "https://git.corp.example/group/",
            "group-user",
            "GROUP_TOKEN"
        ),
        env_rule(
            &format!("https://127.0.0.1:{port}/group/"),
            "group-user",
            "GROUP_TOKEN"
        ),
    ));
    env.set_env("GROUP_TOKEN", "group-token");
    env.set_env("GOCRED_HTTP_TIMEOUT", "1");
    (env, port)
}

fn get(env: &TestEnv, request: &str) -> Output {
    env.gocred(&["get"]).stdin(request).success()
}

fn goauth(env: &TestEnv, url: &str) -> Output {
    env.gocred(&["goauth"])
        .arg(url)
        .stdin("HTTP/1.1 401 Unauthorized\n\n")
        .success()
}

/// A refusal: exit 1, nothing on stdout, one line on stderr.
#[track_caller]
fn assert_refused(out: &Output) {
    out.assert_code(1);
    assert_eq!(out.stdout, "", "{out}");
    assert_eq!(out.stderr_lines().len(), 1, "{out}");
}

/// `netrc --host ARG` and `exec --host ARG -- CMD` both refuse `arg` before anything runs.
#[track_caller]
fn assert_host_arg_refused(env: &TestEnv, arg: &str) {
    let host = format!("--host={arg}");
    let out = env.gocred(&["netrc", &host]).run();
    assert_refused(&out);
    let out = env
        .gocred(&["exec", &host, "--", "sh", "-c", "echo ran"])
        .run();
    assert_refused(&out);
}

/// The check line `name` of doctor's human report.
fn doctor_line(out: &Output, name: &str) -> String {
    out.stdout
        .lines()
        .find(|l| {
            let t = l.trim_start();
            t.starts_with(&format!("✓ {name}:")) || t.starts_with(&format!("✗ {name}:"))
        })
        .unwrap_or_else(|| panic!("no {name} check: {out}"))
        .trim()
        .to_owned()
}

#[test]
fn encoded_dot_segments_never_match_a_path_rule() {
    let (env, port) = path_rule_env();
    // Controls: the rule answers its own paths, so every "nothing" below can fail.
    let out = get(
        &env,
        "protocol=https\nhost=git.corp.example\npath=group/x.git\n",
    );
    assert_eq!(
        value_of(&out.stdout, "username"),
        Some("group-user"),
        "{out}"
    );
    let out = goauth(&env, "https://git.corp.example/group/mod?go-get=1");
    assert!(
        out.stdout
            .starts_with("https://git.corp.example/group/\n\n"),
        "{out}"
    );

    // get: git's path attribute (git has decoded the URL once already) and the url attribute.
    for path in [
        "group/../other/x.git",
        "group/./../other/x.git",
        "group/%2e%2e/other/x.git",
        "group/%2E%2E/other/x.git",
        "group/.%2e/other/x.git",
        "group%2F..%2Fother/x.git",
        "group/%252e%252e/other/x.git",
        "group/..;/other/x.git",
        "group\\..\\other/x.git",
        "group/\u{ff0e}\u{ff0e}/other/x.git",
        "group//x.git",
    ] {
        let out = get(
            &env,
            &format!("protocol=https\nhost=git.corp.example\npath={path}\n"),
        );
        assert_eq!(out.stdout, "", "path={path}: {out}");
    }
    for url in [
        "https://git.corp.example/group/%2e%2e/other/x.git",
        "https://git.corp.example/group/%2E./other/x.git",
        "https://git.corp.example/group%2F..%2Fother/x.git",
        "https://git.corp.example/group/%25%32%65%25%32%65/other/x.git",
    ] {
        let out = get(&env, &format!("url={url}\n"));
        assert_eq!(out.stdout, "", "url={url}: {out}");
    }

    // goauth: the full URL go passes (query and all).
    for url in [
        "https://git.corp.example/group/../other/mod?go-get=1",
        "https://git.corp.example/group/%2e%2e/other/mod?go-get=1",
        "https://git.corp.example/group/%2E%2e/other/mod",
        "https://git.corp.example/group%2F..%2Fother/mod",
        "https://git.corp.example/group%2fmod",
        "https://git.corp.example/group/%252e%252e/other/mod",
        "https://git.corp.example/group/..%3B/other/mod",
        "https://git.corp.example/group/%5C..%5Cother/mod",
    ] {
        let out = goauth(&env, url);
        assert_eq!(out.stdout, "", "{url}: {out}");
    }

    // netrc --host / exec --host: a host argument with a path (clean or not) is refused.
    assert_host_arg_refused(&env, "git.corp.example/group/%2e%2e/other");
    assert_host_arg_refused(&env, "https://git.corp.example/group/../other/");

    // doctor: it would probe one path and report on the rule of another, so it refuses.
    for module in [
        format!("127.0.0.1:{port}/group/%2e%2e/other/mod"),
        format!("127.0.0.1:{port}/group/../other/mod"),
        format!("https://127.0.0.1:{port}/group%2F..%2Fother/mod"),
        format!("127.0.0.1:{port}/group/%252e%252e/other/mod"),
    ] {
        let out = env.gocred(&["doctor"]).arg(&module).run();
        assert_refused(&out);
    }
    // Control: the clean module path is served by the path rule.
    let out = env
        .gocred(&["doctor"])
        .arg(format!("127.0.0.1:{port}/group/mod"))
        .run();
    out.assert_code(1); // nothing listens there
    assert!(
        doctor_line(&out, "auth.rule")
            .starts_with(&format!("✓ auth.rule: https://127.0.0.1:{port}/group/")),
        "{out}"
    );
}

#[test]
fn query_and_fragment_markers_in_git_path_never_match_a_path_rule() {
    let (env, port) = path_rule_env();
    // get: git's path holds whatever followed the host, a query or fragment included; it cannot
    // be cut there (git sends `group?/../other/x.git/info/refs` to the server as it is).
    for path in [
        "group?/../other/x.git",
        "group#/../other",
        "group/x.git?go-get=1",
        "group/x.git#frag",
        "group%3F/../other/x.git",
        "group%23/../other/x.git",
    ] {
        let out = get(
            &env,
            &format!("protocol=https\nhost=git.corp.example\npath={path}\n"),
        );
        assert_eq!(out.stdout, "", "path={path}: {out}");
    }
    for url in [
        "https://git.corp.example/group?/../other/x.git",
        "https://git.corp.example/group#/../other/x.git",
        "https://git.corp.example/group%3F/../other/x.git",
        "https://git.corp.example/group%23/../other/x.git",
    ] {
        let out = get(&env, &format!("url={url}\n"));
        assert_eq!(out.stdout, "", "url={url}: {out}");
    }

    // goauth: go's URL loses its real query first (the path a server reads), then the rest is
    // checked: an encoded `?` or `#`, or a fragment, leaves the path unclean.
    for url in [
        "https://git.corp.example/group%3F/../other/mod",
        "https://git.corp.example/group%3f/../other/mod?go-get=1",
        "https://git.corp.example/group%23/../other/mod",
        "https://git.corp.example/group#/../other/mod",
        "https://git.corp.example/group/mod#x?go-get=1",
    ] {
        let out = goauth(&env, url);
        assert_eq!(out.stdout, "", "{url}: {out}");
    }
    // A real query is not part of the path: go's own URLs are answered for the rule's prefix.
    for url in [
        "https://git.corp.example/group/mod?go-get=1",
        "https://git.corp.example/group?go-get=1",
        "https://git.corp.example/group?/../other",
    ] {
        let out = goauth(&env, url);
        assert!(
            out.stdout
                .starts_with("https://git.corp.example/group/\n\n"),
            "{url}: {out}"
        );
    }

    // doctor: an encoded marker in the module path is refused.
    for module in [
        format!("127.0.0.1:{port}/group%3F/../other/mod"),
        format!("127.0.0.1:{port}/group%23/../other/mod"),
        format!("https://127.0.0.1:{port}/group#/../other/mod"),
    ] {
        let out = env.gocred(&["doctor"]).arg(&module).run();
        assert_refused(&out);
    }
}

#[test]
fn ip_literal_with_trailing_dot_is_not_the_address() {
    let port = closed_port();
    let mut env = TestEnv::new();
    env.policy(&format!(
        "{}{}",
        env_rule(&format!("https://127.0.0.1:{port}"), "v4-user", "V4_TOKEN"),
        env_rule(&format!("https://[::1]:{port}"), "v6-user", "V6_TOKEN"),
    ));
    env.set_env("V4_TOKEN", "v4-token");
    env.set_env("V6_TOKEN", "v6-token");
    env.set_env("GOCRED_HTTP_TIMEOUT", "1");
    let v4 = format!("127.0.0.1:{port}");
    let v6 = format!("[::1]:{port}");

    // Controls: each address is served.
    for (host, user) in [(&v4, "v4-user"), (&v6, "v6-user")] {
        let out = get(&env, &format!("protocol=https\nhost={host}\n"));
        assert_eq!(value_of(&out.stdout, "username"), Some(user), "{out}");
        let out = goauth(&env, &format!("https://{host}/mod?go-get=1"));
        assert!(
            out.stdout.starts_with(&format!("https://{host}/\n")),
            "{out}"
        );
        let out = env.gocred(&["netrc", "--host", host]).success();
        assert!(out.stdout.starts_with(&format!("machine {host} ")), "{out}");
    }

    // `127.0.0.1.` is a DNS name a resolver looks up; `[::1].` is no host at all. Other
    // spellings of the address are not it either.
    let others = [
        format!("127.0.0.1.:{port}"),
        format!("[::1].:{port}"),
        format!("127.1:{port}"),
        format!("0x7f.0.0.1:{port}"),
        format!("0177.0.0.1:{port}"),
        format!("2130706433:{port}"),
        format!("[::ffff:127.0.0.1]:{port}"),
    ];
    for host in &others {
        let out = get(&env, &format!("protocol=https\nhost={host}\n"));
        assert_eq!(out.stdout, "", "{host}: {out}");
        let out = get(&env, &format!("url=https://{host}/group/x.git\n"));
        assert_eq!(out.stdout, "", "{host}: {out}");
        let out = goauth(&env, &format!("https://{host}/mod?go-get=1"));
        assert_eq!(out.stdout, "", "{host}: {out}");
        if !host.starts_with("[::ffff") {
            assert_host_arg_refused(&env, host);
            let out = env.gocred(&["doctor"]).arg(format!("{host}/mod")).run();
            assert_refused(&out);
        }
    }
    // The IPv4-mapped form is a valid host of its own: no rule names it.
    let out = env
        .gocred(&["netrc", "--host", &format!("[::ffff:127.0.0.1]:{port}")])
        .success();
    assert_eq!(out.stdout, "", "{out}");

    // A rule cannot name `127.0.0.1.` either: it is refused, with the spelling to use.
    let bad = TestEnv::new();
    bad.policy(&env_rule("https://127.0.0.1.", "u", "T"));
    let out = bad.gocred(&["config", "check"]).run();
    out.assert_code(1);
    assert!(out.stderr.contains("write '127.0.0.1'"), "{out}");
}

#[test]
fn username_with_url_delimiters_never_changes_host_or_key() {
    let env = TestEnv::new();
    env.policy(
        "[[rule]]\nurl = \"https://git.corp.example\"\nsources = [\"file\"]\nstore = \"file\"\n",
    );
    // Stored through git's attributes, then through git's url= (encoded user-info).
    let user = "alice@evil.example/x#y:z?w";
    env.gocred(&["store"])
        .stdin(format!(
            "protocol=https\nhost=git.corp.example\nusername={user}\npassword=pw-1\n"
        ))
        .success();
    env.gocred(&["store"])
        .stdin("url=https://bob%40evil.example%2F%3F%23:pw-2@git.corp.example/\n")
        .success();
    // Neither user-info spelling names another host: git's first `@` ends it, and the host
    // that follows is not one.
    for request in [
        "url=https://mallory@evil.example:443@git.corp.example/\nusername=mallory\npassword=pw-3\n",
        "url=https://mallory@evil.example/@git.corp.example/\nusername=mallory\npassword=pw-3\n",
    ] {
        env.gocred(&["store"]).stdin(request).run();
    }
    let store = env.file_store().unwrap();
    assert!(!store.contains("pw-3"), "{store}");

    // get: each user is read back under git.corp.example only.
    for (who, password) in [(user, "pw-1"), ("bob@evil.example/?#", "pw-2")] {
        let out = get(
            &env,
            &format!("protocol=https\nhost=git.corp.example\nusername={who}\n"),
        );
        assert_eq!(value_of(&out.stdout, "password"), Some(password), "{out}");
        for host in ["evil.example", "evil.example:443"] {
            let out = get(
                &env,
                &format!("protocol=https\nhost={host}\nusername={who}\n"),
            );
            assert_eq!(out.stdout, "", "{out}");
        }
    }
    // The keys are the origin, whoever the users are.
    let out = env.gocred(&["status"]).success();
    assert!(out.stdout.contains("https://git.corp.example"), "{out}");
    assert!(!out.stdout.contains("https://evil.example"), "{out}");
    assert!(!out.stdout.contains("://alice"), "{out}");

    // goauth and login: a URL with user-info is refused (goauth answers nothing), whatever the
    // user name holds.
    for url in [
        "https://alice@evil.example@git.corp.example/mod",
        "https://evil.example%2F@git.corp.example/mod",
        "https://git.corp.example%2F@evil.example/mod",
        "https://git.corp.example:443@evil.example/mod",
    ] {
        let out = goauth(&env, url);
        assert_eq!(out.stdout, "", "{url}: {out}");
        let out = env.gocred(&["login", "--no-browser"]).arg(url).run();
        assert_refused(&out);
        assert!(out.stderr.contains("leave the user name out"), "{out}");
        let out = env.gocred(&["doctor"]).arg(url).run();
        assert_refused(&out);
        assert_host_arg_refused(&env, url);
    }

    // goauth's answer and the netrc entry name the rule's host, with the user name as data.
    let env = TestEnv::new();
    env.policy(
        "[[rule]]\nurl = \"https://git.corp.example\"\nsources = [\"file\"]\nstore = \"file\"\n",
    );
    let user = "carol@evil.example/x?y";
    env.gocred(&["store"])
        .stdin(format!(
            "protocol=https\nhost=git.corp.example\nusername={user}\npassword=pw-4\n"
        ))
        .success();
    let out = goauth(&env, "https://git.corp.example/mod?go-get=1");
    assert!(
        out.stdout
            .starts_with("https://git.corp.example/\n\nAuthorization: Basic "),
        "{out}"
    );
    assert_eq!(out.stdout.lines().count(), 4, "{out}");
    let out = env
        .gocred(&["netrc", "--host", "git.corp.example"])
        .success();
    assert_eq!(
        out.stdout,
        format!("machine git.corp.example login {user} password pw-4\n"),
        "{out}"
    );
    let out = env
        .gocred(&["exec", "--host", "git.corp.example", "--"])
        .args(["sh", "-c", "cat \"$NETRC\""])
        .success();
    assert_eq!(
        out.stdout,
        format!("machine git.corp.example login {user} password pw-4\n"),
        "{out}"
    );
}

#[test]
fn goauth_and_doctor_refuse_option_like_arguments() {
    let mut env = TestEnv::new();
    let port = closed_port();
    env.policy(&env_rule(
        &format!("https://127.0.0.1:{port}"),
        "u",
        "TOKEN",
    ));
    env.set_env("TOKEN", "t");
    env.set_env("GOCRED_HTTP_TIMEOUT", "1");
    // git and go that log what they are given: neither may be run with the argument.
    let log = env.root().join("argv.log");
    let bin = env.root().join("fakebin");
    for tool in ["git", "go"] {
        let path = env.script(
            &format!("fakebin/{tool}"),
            &format!(
                "for a in \"$@\"; do printf '{tool} %s\\n' \"$a\" >> '{}'; done\nexit 1",
                log.display()
            ),
        );
        assert!(path.starts_with(&bin));
    }
    env.prepend_path(&bin);

    // `--help` is help, unless it comes after `--`.
    for arg in [
        "-x",
        "--help",
        "-",
        "--upload-pack=touch /tmp/pwned",
        "-oProxyCommand=x",
    ] {
        let bare = arg != "--help";
        for args in [vec!["goauth", arg], vec!["goauth", "--", arg]] {
            if args.len() == 2 && !bare {
                continue;
            }
            let out = env.gocred(&args).stdin("HTTP/1.1 401\n\n").run();
            assert_refused(&out);
            assert!(out.stderr.contains("not an option"), "{out}");
        }
        for args in [
            vec!["doctor", arg],
            vec!["doctor", "--", arg],
            vec!["doctor", "--json", arg],
        ] {
            if !args.contains(&"--") && !bare {
                continue;
            }
            let out = env.gocred(&args).run();
            assert_refused(&out);
            assert!(out.stderr.contains("not an option"), "{out}");
        }
        assert_host_arg_refused(&env, arg);
    }
    assert!(
        !log.exists(),
        "git or go ran: {:?}",
        std::fs::read_to_string(&log)
    );

    // A real module path runs both, and what came from the user is never in an option's place:
    // git gets `--end-of-options` first, go gets only fixed variable names.
    let module = format!("127.0.0.1:{port}/group/mod");
    let out = env.gocred(&["doctor", &module]).run();
    out.assert_code(1);
    let argv = std::fs::read_to_string(&log).unwrap();
    let git: Vec<&str> = argv
        .lines()
        .filter_map(|l| l.strip_prefix("git "))
        .collect();
    let go: Vec<&str> = argv.lines().filter_map(|l| l.strip_prefix("go ")).collect();
    let url = git
        .iter()
        .position(|a| a.contains("127.0.0.1"))
        .expect("git saw the URL");
    let end = git
        .iter()
        .position(|a| *a == "--end-of-options")
        .expect("--end-of-options");
    assert!(end < url, "{argv}");
    assert!(
        !go.is_empty() && go.iter().all(|a| !a.contains("127.0.0.1")),
        "{argv}"
    );
}
