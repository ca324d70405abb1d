//! What every fuzz input is checked against. Shared by the libFuzzer targets (`fuzz_targets/`)
//! and by the normal suite, which replays the kept corpora and crash inputs through these same
//! functions (`tests/cli/fuzz_corpus.rs`). Each function panics when a property fails; a plain
//! `Err` from the code under test is a fine answer to bad input.
#![allow(dead_code)]

use gocred::netrc;
use gocred::policy::{self, HostPattern, Target, UrlPattern};
use gocred::protocol::{self, Limits, Response};
use std::path::Path;

/// Input words that look like values (six or more characters with a digit): an error message
/// must never repeat one, since any value may be a password. Fixed message text has no such
/// word, and line numbers in small inputs are shorter.
fn value_like_words(text: &str) -> Vec<&str> {
    text.split(|c: char| c.is_whitespace() || "=`'\"".contains(c))
        .filter(|w| w.len() >= 6 && w.bytes().any(|b| b.is_ascii_digit()))
        .collect()
}

fn assert_no_value_in(message: &str, input: &str) {
    for word in value_like_words(input) {
        assert!(
            !message.contains(word),
            "an error message repeats input {word:?}: {message}"
        );
    }
}

/// The git credential protocol decoder.
///
/// - `read_request` (line-by-line, with limits) and `decode` (one buffer) agree on every input
///   the limits allow;
/// - what decodes re-encodes (as a helper's answer) and decodes back to the same values;
/// - an error names a line or a key, never a value.
pub fn protocol(data: &[u8]) {
    let decoded = protocol::decode(data);
    let read = protocol::read_request(data, Limits::default());
    match (&decoded, &read) {
        (Ok(a), Ok(b)) => assert_eq!(a, b, "decode and read_request disagree"),
        (Err(_), Err(_)) => {}
        _ => panic!(
            "decode and read_request disagree on acceptance: {:?} vs {:?}",
            decoded.as_ref().err(),
            read.as_ref().err()
        ),
    }
    let text = String::from_utf8_lossy(data);
    let request = match decoded {
        Ok(r) => r,
        Err(e) => return assert_no_value_in(&e.to_string(), &text),
    };
    let _ = format!("{request:?}");
    let response = Response {
        capability: request.capability.clone(),
        username: request.username.clone(),
        password: request.password.clone(),
        password_expiry_utc: request.password_expiry_utc,
        oauth_refresh_token: request.oauth_refresh_token.clone(),
        authtype: request.authtype.clone(),
        credential: request.credential.clone(),
        ephemeral: request.ephemeral,
        state: request.state.clone(),
        continue_: request.continue_,
        quit: request.quit,
    };
    let encoded = response
        .encode()
        .expect("a decoded value holds no CR, LF or NUL, so it encodes");
    let back = protocol::decode(encoded.as_bytes()).expect("what gocred writes, it reads");
    assert_eq!(back.capability, request.capability);
    assert_eq!(back.username, request.username);
    assert_eq!(back.password, request.password);
    assert_eq!(back.password_expiry_utc, request.password_expiry_utc);
    assert_eq!(back.oauth_refresh_token, request.oauth_refresh_token);
    assert_eq!(back.authtype, request.authtype);
    assert_eq!(back.credential, request.credential);
    assert_eq!(back.ephemeral, request.ephemeral);
    assert_eq!(back.state, request.state);
    assert_eq!(back.continue_, request.continue_);
    assert_eq!(back.quit, request.quit);
}

/// A rule URL, then a request's protocol, host and path, one per line.
///
/// - a match means same scheme and port, and the host is the rule's, or strictly under the
///   wildcard's suffix on a label boundary;
/// - the answer does not change with the host's letter case or one trailing dot;
/// - a parsed pattern, written back as a URL, parses to itself.
pub fn url_matcher(data: &[u8]) {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let mut parts = text.splitn(4, '\n');
    let (url, proto, host) = (
        parts.next().unwrap_or(""),
        parts.next().unwrap_or(""),
        parts.next().unwrap_or(""),
    );
    let path = parts.next();
    let Ok(pattern) = UrlPattern::parse(url) else {
        return;
    };
    let written = {
        let mut s = format!("{}://", pattern.scheme);
        match &pattern.host {
            HostPattern::Exact(h) => s.push_str(h),
            HostPattern::Wildcard(suffix) => s.push_str(&format!("*.{suffix}")),
        }
        if let Some(p) = pattern.port {
            s.push_str(&format!(":{p}"));
        }
        if let Some(p) = &pattern.path {
            s.push_str(&format!("/{p}/"));
        }
        s
    };
    assert_eq!(
        UrlPattern::parse(&written).as_ref(),
        Ok(&pattern),
        "{written}"
    );
    let Some(target) = Target::new(proto, host, path) else {
        return;
    };
    let matched = pattern.matches(&target);
    if matched.is_some() {
        assert_eq!(target.scheme, pattern.scheme);
        assert_eq!(target.port, pattern.port);
        match &pattern.host {
            HostPattern::Exact(h) => assert_eq!(&target.host, h),
            HostPattern::Wildcard(suffix) => {
                let head = target
                    .host
                    .strip_suffix(suffix.as_str())
                    .and_then(|h| h.strip_suffix('.'));
                assert!(head.is_some_and(|h| !h.is_empty()), "{}", target.host);
            }
        }
        if let Some(prefix) = &pattern.path {
            let p = target
                .path
                .as_deref()
                .expect("a path-scoped match has a path");
            assert!(target.path_is_clean);
            assert!(p == prefix || p.starts_with(&format!("{prefix}/")), "{p}");
        }
    }
    let (name, port) = match host.rfind(':') {
        Some(i) if !host.starts_with('[') || host[..i].ends_with(']') => (&host[..i], &host[i..]),
        _ => (host, ""),
    };
    let mut variants = vec![host.to_ascii_uppercase(), host.to_ascii_lowercase()];
    // One trailing dot: DNS names only (an IP literal takes none: `[::1].` is no host, and
    // `127.0.0.1.` is a DNS name, not the address; a name ending in a number is an IPv4 address).
    let last = name.rsplit('.').next().unwrap_or(name);
    let numeric = last.bytes().all(|b| b.is_ascii_digit())
        || last.get(..2).is_some_and(|x| x.eq_ignore_ascii_case("0x"))
            && last[2..].bytes().all(|b| b.is_ascii_hexdigit());
    if !name.ends_with('.') && !name.starts_with('[') && !numeric {
        variants.push(format!("{name}.{port}"));
    }
    for variant in variants {
        let again = Target::new(proto, &variant, path);
        assert_eq!(
            again.as_ref().map(|t| pattern.matches(t).is_some()),
            Some(matched.is_some()),
            "{host:?} and {variant:?} are decided differently"
        );
    }
}

/// The parts of each `url = "scheme://..."` line of `text` that may hold a token: a user name or
/// password before `@`, a query or fragment; only those that look like a value (eight or more
/// characters with a digit), which no fixed message text does.
fn url_secrets(text: &str) -> Vec<&str> {
    let mut found = Vec::new();
    for line in text.lines() {
        let Some(value) = line
            .trim_start()
            .strip_prefix("url")
            .map(str::trim_start)
            .and_then(|l| l.strip_prefix('='))
            .map(str::trim)
            .and_then(|v| v.strip_prefix('"'))
            .and_then(|v| v.strip_suffix('"'))
        else {
            continue;
        };
        let Some((_, url)) = value.split_once("://") else {
            continue;
        };
        let authority = &url[..url.find('/').unwrap_or(url.len())];
        if let Some(at) = authority.rfind('@') {
            found.push(&authority[..at]);
        }
        if let Some(q) = url.find(['?', '#']) {
            found.push(&url[q + 1..]);
        }
    }
    found.retain(|s| s.len() >= 8 && s.bytes().any(|b| b.is_ascii_digit()));
    found
}

/// The TOML policy loader.
///
/// - an error lists at least one problem, each at a line and column inside the file, and never
///   repeats a url's user name, password, query or fragment;
/// - a loaded policy decides every rule's own URL as managed by a rule;
/// - the fast reader (`load_str`) and the full `toml` parser (`load_str_full`) read every file
///   to the same policy, or to the same report.
pub fn policy_load(data: &[u8]) {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let loaded = policy::load_str(Path::new("fuzz.toml"), text);
    let full = policy::load_str_full(Path::new("fuzz.toml"), text);
    assert_eq!(
        format!("{loaded:?}"),
        format!("{full:?}"),
        "fast and full readers differ"
    );
    match loaded {
        Err(policy::ConfigError::Invalid { diagnostics, .. }) => {
            assert!(!diagnostics.is_empty());
            let lines = text.split('\n').count();
            let secrets = url_secrets(text);
            for d in &diagnostics {
                for secret in &secrets {
                    assert!(!d.message.contains(secret), "{d:?} repeats {secret:?}");
                }
                assert!(d.line >= 1 && d.line <= lines, "{d:?} in {lines} lines");
                assert!(d.column >= 1);
                assert!(!d.message.contains('\n'), "{d:?}");
            }
        }
        Err(e) => panic!("load_str never does I/O: {e}"),
        Ok(policy) => {
            for rule in &policy.rules {
                let p = &rule.pattern;
                let host = match &p.host {
                    HostPattern::Exact(h) => h.clone(),
                    HostPattern::Wildcard(suffix) => format!("x.{suffix}"),
                };
                let host = match p.port {
                    Some(port) => format!("{host}:{port}"),
                    None => host,
                };
                let target = Target::new(&p.scheme, &host, p.path.as_deref())
                    .unwrap_or_else(|| panic!("rule {} names an unmatchable target", rule.url));
                let managed = matches!(policy.decide(target), policy::Decision::Managed { .. });
                assert!(
                    managed || (p.scheme == "http" && !rule.allow_http),
                    "rule {} does not manage its own URL",
                    rule.url
                );
            }
        }
    }
}

/// The netrc readers (gocred's models of libcurl and go), the import plan and the renderer.
///
/// - nothing panics on any bytes;
/// - every host the plan imports gets exactly what the libcurl model sends it, never empty;
/// - no note of the plan repeats a password either reader finds;
/// - every entry go reads that render accepts renders to a line both models read back exactly.
pub fn netrc(data: &[u8]) {
    let go_entries = netrc::go::entries(data);
    let names = netrc::curl::machine_names(data);
    let mut passwords: Vec<String> = go_entries
        .iter()
        .map(|e| e.password.expose().to_owned())
        .collect();
    for (_, name) in &names {
        if let Some((_, p)) = netrc::curl::lookup(data, name).sent() {
            passwords.push(p.expose().to_owned());
        }
    }
    // A password that is also a host name, a line number or a word of a note's fixed text
    // (`machine`, ...) may show up as one: only value-like ones (with a digit) are looked for.
    passwords.retain(|p| {
        p.len() >= 6
            && p.bytes().any(|b| b.is_ascii_digit())
            && !p.bytes().all(|b| b.is_ascii_digit())
            && !names
                .iter()
                .map(|(_, n)| n)
                .chain(go_entries.iter().map(|e| &e.machine))
                .any(|n| n.to_ascii_lowercase().contains(&p.to_ascii_lowercase()))
    });
    let plan = netrc::import::plan(data);
    let mut messages: Vec<String> = plan.notes.clone();
    messages.extend(plan.left_behind.iter().cloned());
    for pick in &plan.picks {
        match &pick.outcome {
            netrc::import::Outcome::Import {
                login,
                password,
                go_differs,
            } => {
                assert!(!login.is_empty() && !password.is_empty());
                let sent = netrc::curl::lookup(data, &pick.target.host).sent();
                let (l, p) = sent.expect("an import is what libcurl sends");
                assert_eq!((&l, &p), (login, password), "{}", pick.name);
                messages.extend(go_differs.iter().cloned());
            }
            netrc::import::Outcome::Refuse(why) => messages.push(why.clone()),
        }
    }
    for m in &messages {
        for p in &passwords {
            assert!(!m.contains(p.as_str()), "a note repeats a password: {m}");
        }
    }
    for e in &go_entries {
        let Ok(line) = netrc::render_entry(&e.machine, &e.login, &e.password) else {
            continue;
        };
        let back = netrc::go::entries(line.as_bytes());
        assert_eq!(back.len(), 1, "{line:?}");
        assert_eq!(
            (&back[0].machine, &back[0].login, &back[0].password),
            (&e.machine, &e.login, &e.password)
        );
        if !e.machine.contains(':') {
            let (l, p) = netrc::curl::lookup(line.as_bytes(), &e.machine)
                .sent()
                .expect("libcurl reads what render writes");
            assert_eq!((&l, &p), (&e.login, &e.password), "{line:?}");
        }
        assert_eq!(line.split_whitespace().count(), 6, "{line:?}");
    }
}

/// Percent-decodes `s` until nothing changes (any number of encoding levels, `%2F` included):
/// the most any server could ever make of a path.
fn decode_fully(s: &str) -> Vec<u8> {
    let mut bytes = s.as_bytes().to_vec();
    loop {
        let mut out = Vec::with_capacity(bytes.len());
        let mut i = 0;
        while i < bytes.len() {
            let hex = |b: u8| (b as char).to_digit(16);
            if bytes[i] == b'%'
                && i + 2 < bytes.len()
                && let (Some(h), Some(l)) = (hex(bytes[i + 1]), hex(bytes[i + 2]))
            {
                out.push((h * 16 + l) as u8);
                i += 3;
            } else {
                out.push(bytes[i]);
                i += 1;
            }
        }
        if out == bytes {
            return out;
        }
        bytes = out;
    }
}

/// Whether `path`, decoded fully and read with `\` and `;` as separators too, still has no
/// `.`/`..` segment and lies under `prefix` on a `/` boundary.
fn really_under(path: &[u8], prefix: &str) -> bool {
    let segments: Vec<&[u8]> = path
        .split(|&b| b == b'/' || b == b'\\' || b == b';')
        .collect();
    let no_dots = segments
        .iter()
        .all(|s| !s.is_empty() && *s != b"." && *s != b"..");
    let rest = path.strip_prefix(prefix.as_bytes());
    no_dots && rest.is_some_and(|r| r.is_empty() || r.starts_with(b"/"))
}

/// Checks one target [`policy::normalize`] made, whatever the input.
fn check_target(t: &Target) {
    assert!(t.scheme == "https" || t.scheme == "http", "{t:?}");
    // The host: a DNS name, an IPv4 address as four numbers, or a bracketed IPv6 address.
    if let Some(inner) = t.host.strip_prefix('[') {
        let inner = inner.strip_suffix(']').expect("a bracketed host closes");
        let addr: std::net::Ipv6Addr = inner.parse().expect("an IPv6 literal parses");
        assert_eq!(addr.to_string(), inner, "IPv6 in canonical form");
    } else {
        assert!(!t.host.is_empty() && !t.host.ends_with('.'), "{t:?}");
        assert!(
            !t.host
                .contains(['@', '/', '#', '?', ':', '%', '\\', '[', ']', ' ']),
            "{t:?}"
        );
        assert!(
            t.host
                .split('.')
                .all(|l| !l.is_empty() && !l.starts_with('-')),
            "{t:?}"
        );
        let last = t.host.rsplit('.').next().unwrap();
        if last.bytes().all(|b| b.is_ascii_digit()) {
            assert!(t.host.parse::<std::net::Ipv4Addr>().is_ok(), "{t:?}");
        }
        assert_eq!(t.host, t.host.to_ascii_lowercase());
    }
    assert_ne!(t.port, Some(0));
    assert_ne!(
        t.port,
        Some(if t.scheme == "https" { 443 } else { 80 }),
        "{t:?}"
    );
    if let Some(p) = &t.path {
        assert!(
            !p.is_empty() && !p.starts_with('/') && !p.ends_with('/'),
            "{t:?}"
        );
        let clean = p.split('/').all(|s| {
            !s.is_empty()
                && s.trim() != "."
                && s.trim() != ".."
                && !s.chars().any(|c| c.is_control() || "?#%;\\".contains(c))
        });
        // Never clean when a plain reading finds a problem (the code may find more).
        assert!(!t.path_is_clean || clean, "{t:?}");
    } else {
        assert!(t.path_is_clean);
    }
    // Idempotent, through git's attributes and through the URL gocred would send.
    let again = policy::normalize(policy::Input::Attributes {
        protocol: &t.scheme,
        host: &t.host_port(),
        path: t.path.as_deref(),
    });
    assert_eq!(again.as_ref(), Ok(t), "attributes of {t:?}");
    let url = t.url();
    assert_eq!(
        policy::normalize(policy::Input::Url(&url)).as_ref(),
        Ok(t),
        "{url}"
    );
    assert!(url.starts_with(&format!("{}/", t.origin())) || url == t.origin());
}

/// A rule URL; a URL or module path (as from argv or go); a request's protocol, host, path and
/// username; one per line. Both inputs go through the one normalization of a target.
///
/// - every target is well-formed (see `check_target`: a host holds no `@ / # ? : %` outside
///   IPv6 brackets, an IP literal has one spelling and no trailing dot), and normalizing it
///   again (as git attributes, or as the URL gocred would send) gives it back;
/// - a target that matches a path rule has a clean path under the rule's prefix on a `/`
///   boundary, even read by a server that decodes any number of times and splits on `\`/`;`;
///   and the policy's scope key for it is the origin and that path;
/// - a URL with user-info or starting with `-` is no target; a request's username never
///   changes the target.
pub fn normalize(data: &[u8]) {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let mut lines = text.split('\n');
    let mut next = || lines.next().unwrap_or("");
    let (rule, url, protocol, host, path, username) =
        (next(), next(), next(), next(), next(), next());
    let path = (!path.is_empty()).then_some(path);
    let from_url = policy::normalize(policy::Input::Url(url));
    let from_attributes = policy::normalize(policy::Input::Attributes {
        protocol,
        host,
        path,
    });

    // The URL: what came before the host, or an option, is never a target.
    let after_scheme = match url.split_once("://") {
        Some((scheme, rest))
            if scheme.starts_with(|c: char| c.is_ascii_alphabetic())
                && scheme
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || "+-.".contains(c)) =>
        {
            rest
        }
        _ => url, // a module path or host: https
    };
    let authority = &after_scheme[..after_scheme
        .find(['/', '?', '#'])
        .unwrap_or(after_scheme.len())];
    if url.starts_with('-') {
        assert_eq!(from_url, Err(policy::TargetError::OptionLike));
    }
    if authority.contains('@') || authority.contains('%') {
        assert!(from_url.is_err(), "{url:?}: {from_url:?}");
    }
    // The attributes: an IP literal with a trailing dot is no host.
    let name = match host.rfind(':') {
        Some(i) if !host.starts_with('[') || host[..i].ends_with(']') => &host[..i],
        _ => host,
    };
    if let Some(bare) = name.strip_suffix('.')
        && (bare.starts_with('[') || bare.parse::<std::net::Ipv4Addr>().is_ok())
    {
        assert!(from_attributes.is_err(), "{host:?}: {from_attributes:?}");
    }
    // The username plays no part.
    let mut request = format!("protocol={protocol}\nhost={host}\nusername={username}\n");
    if let Some(p) = path {
        request += &format!("path={p}\n");
    }
    if let Ok(req) = protocol::decode(request.as_bytes()) {
        assert_eq!(Target::from_request(&req), from_attributes.clone().ok());
    }

    let pattern = UrlPattern::parse(rule).ok();
    let escaped = rule.replace('\\', "\\\\").replace('"', "\\\"");
    let http = rule
        .get(..7)
        .is_some_and(|s| s.eq_ignore_ascii_case("http://"));
    let policy = policy::load_str(
        Path::new("fuzz.toml"),
        &format!(
            "[[rule]]\nurl = \"{escaped}\"\nsources = [\"file\"]\nstore = \"file\"\nallow_http = {http}\n"
        ),
    )
    .ok();
    for (raw_path, target) in [
        (
            after_scheme
                .split_once('?')
                .map_or(after_scheme, |(b, _)| b)
                .get(authority.len()..)
                .unwrap_or(""),
            from_url,
        ),
        (path.unwrap_or(""), from_attributes),
    ] {
        let Ok(target) = target else {
            continue;
        };
        check_target(&target);
        let Some(pattern) = &pattern else {
            continue;
        };
        if let (Some(prefix), Some(_)) = (&pattern.path, pattern.matches(&target)) {
            let p = target.path.as_deref().expect("a path rule matched a path");
            assert!(target.path_is_clean, "{target:?}");
            assert!(p == prefix || p.starts_with(&format!("{prefix}/")), "{p}");
            let raw = raw_path.trim_matches('/');
            assert!(
                really_under(&decode_fully(raw), prefix),
                "{raw:?} under {prefix:?}"
            );
        }
        if let Some(policy) = &policy
            && let policy::Decision::Managed { scope, rule, .. } = policy.decide(target.clone())
        {
            let mut key = target.origin();
            if rule.pattern.path.is_some() {
                key = format!("{key}/{}", target.path.as_deref().unwrap());
            }
            assert_eq!(scope.as_str(), key);
        }
    }
}
