//! Properties checked on generated inputs (proptest), with the real code and no mocks:
//!
//! - default deny: a request whose host is not any rule's host (nor under a wildcard rule) gets
//!   no password from the in-memory helper loop, even when the file store holds an entry under
//!   every key, the request's own included; lookalikes, case, trailing-dot and port variants;
//!   rules of every source kind, the minting ones (`github-app`, `sts`) included: a request
//!   they do not map never reaches their cache or their network;
//! - the same for the fleet sources: `command` programs never run and the CI job token never
//!   goes anywhere but the CI server's origin;
//! - the positive control: case, trailing-dot and `:443` variants of a rule's host get exactly
//!   the credential stored for that host, never another host's;
//! - parse(render(x)) == x for the credential protocol (`Response::encode` → `protocol::decode`),
//!   for the stored record format, and for netrc entries;
//! - the policy in force is the file as it is now: through the real binary, random policies,
//!   requests and edits (same-size in-place edits with the mtime put back, rename swaps,
//!   rewrites, edits that break the file), and `get` answers what `config check`'s reading of
//!   the current file dictates: the credential of the scope its rule picks, nothing, or (for an
//!   invalid file) an error and nothing on stdout;
//! - the fast policy reader and the full `toml` parser read every text (plain policies, and
//!   policies with TOML the fast reader does not know spliced in) to the same policy or report.
//!
//! Case counts are modest so the normal suite stays fast; a failure prints the minimal input,
//! which becomes a named test in `regression.rs`. Failures are not persisted to files.

use gocred::cli::{Command, Context, run};
use gocred::netrc;
use gocred::policy::{self, Decision, ScopeKey, Target};
use gocred::protocol::{self, Response};
use gocred::secret::Secret;
use gocred::source::record::{self, Credential, Record};
use proptest::prelude::*;
use proptest::test_runner::Config;
use std::path::Path;

fn config(cases: u32) -> Config {
    Config {
        cases,
        failure_persistence: None,
        ..Config::default()
    }
}

/// The in-memory helper loop (as `src/cli/tests.rs` drives it): `command` with `stdin` against
/// the policy in `dir`, no environment. Returns stdout and the error message, if any.
fn helper(dir: &Path, command: Command, stdin: &str) -> (String, Option<String>) {
    let mut stdout = Vec::new();
    let mut stderr = Vec::new();
    let result = {
        let mut ctx = Context {
            stdin: Box::new(stdin.as_bytes()),
            stdout: Box::new(&mut stdout),
            stderr: Box::new(&mut stderr),
            config_path: Some(dir.join("config.toml")),
            env: Box::new(|_| None),
            now: 1_800_000_000,
        };
        run(command, &mut ctx)
    };
    (
        String::from_utf8(stdout).unwrap(),
        result.err().map(|e| e.message),
    )
}

// ---------------------------------------------------------------------------------------------
// Policies and hosts

#[derive(Debug, Clone)]
struct GenRule {
    wildcard: bool,
    /// Lower case, no trailing dot.
    host: String,
    port: Option<u16>,
    path: Option<&'static str>,
    /// The rule's source: `file`, or one that mints tokens (`github-app`, `sts`) and finds them
    /// in its file-store cache (the planted entries), its network endpoints unreachable.
    source: &'static str,
}

/// Every source a generated rule may have.
const SOURCES: &[&str] = &["file", "github-app", "sts"];

impl GenRule {
    fn url(&self) -> String {
        let mut url = String::from("https://");
        if self.wildcard {
            url.push_str("*.");
        }
        url.push_str(&self.host);
        if let Some(p) = self.port {
            url.push_str(&format!(":{p}"));
        }
        if let Some(path) = self.path {
            url.push_str(&format!("/{path}/"));
        }
        url
    }

    /// Whether a request for `host` (normalized) could ever be this rule's, on any port or path.
    fn covers_host(&self, host: &str) -> bool {
        if self.wildcard {
            host.strip_suffix(&self.host)
                .and_then(|h| h.strip_suffix('.'))
                .is_some_and(|head| !head.is_empty())
        } else {
            host == self.host
        }
    }
}

fn label() -> impl Strategy<Value = String> {
    prop_oneof![
        "[a-z][a-z0-9]{0,5}",
        "[a-z0-9][a-z0-9-]{0,4}[a-z0-9]",
        Just("git".to_owned()),
        Just("corp".to_owned()),
    ]
}

/// Two or three labels: small alphabets so rules and hosts collide often.
fn domain() -> impl Strategy<Value = String> {
    (
        prop::collection::vec(label(), 1..=2),
        prop::sample::select(vec!["example", "example.com", "com", "corp"]),
    )
        .prop_map(|(labels, tld)| format!("{}.{tld}", labels.join(".")))
}

fn rule() -> impl Strategy<Value = GenRule> {
    (
        any::<bool>(),
        domain(),
        prop::sample::select(vec![None, Some(8443u16), Some(444)]),
        prop::sample::select(vec![None, Some("team"), Some("team/sub")]),
        prop::sample::select(SOURCES),
    )
        .prop_map(|(wildcard, host, port, path, source)| GenRule {
            // `*.uk.com` and friends span organisations and are refused at load.
            wildcard: wildcard && !policy::psl::is_public_suffix(&host),
            host,
            port,
            path,
            source,
        })
}

fn rules() -> impl Strategy<Value = Vec<GenRule>> {
    prop::collection::vec(rule(), 1..=4).prop_map(|mut rules| {
        // Two rules for the same URL are a config error: keep the first.
        let mut seen = std::collections::HashSet::new();
        rules.retain(|r| seen.insert(r.url()));
        rules
    })
}

/// A host derived from a rule's: lookalikes (suffix or prefix glued on, one character changed,
/// a label dropped or added) and plain copies, which the test filters by what the rules cover.
fn near_host(rules: &[GenRule]) -> impl Strategy<Value = String> + use<> {
    let hosts: Vec<String> = rules.iter().map(|r| r.host.clone()).collect();
    (
        prop::sample::select(hosts),
        0..9usize,
        label(),
        any::<prop::sample::Index>(),
    )
        .prop_map(|(host, how, extra, index)| {
            let labels: Vec<&str> = host.split('.').collect();
            match how {
                0 => format!("{host}.evil.com"),
                1 => format!("{extra}{host}"),
                2 => format!("{extra}-{host}"),
                3 => labels[1..].join("."), // the parent (a wildcard's apex)
                4 => format!("{extra}.{host}"),
                5 => {
                    // one character changed, anywhere
                    let mut chars: Vec<char> = host.chars().collect();
                    let i = index.index(chars.len());
                    chars[i] = if chars[i] == 'x' { 'y' } else { 'x' };
                    chars.into_iter().collect()
                }
                6 => format!("{host}x"),
                7 => host.replacen('.', "-", 1),
                _ => host,
            }
        })
}

/// A host as git might send it: any letter's case flipped, maybe a trailing dot, maybe `:443`.
fn decorate(
    host: &str,
    flips: &[bool],
    dot: bool,
    default_port: bool,
    port: Option<u16>,
) -> String {
    let mut out: String = host
        .chars()
        .zip(flips.iter().cycle())
        .map(|(c, &flip)| if flip { c.to_ascii_uppercase() } else { c })
        .collect();
    if dot {
        out.push('.');
    }
    match port {
        Some(p) => out.push_str(&format!(":{p}")),
        None if default_port => out.push_str(":443"),
        None => {}
    }
    out
}

fn policy_text(dir: &Path, rules: &[GenRule]) -> String {
    let store = dir.join("credentials");
    let mut text = format!("[file]\npath = \"{}\"\n", store.display());
    for r in rules {
        let url = r.url();
        text.push_str(&match r.source {
            "file" => {
                format!("\n[[rule]]\nurl = \"{url}\"\nsources = [\"file\"]\nstore = \"file\"\n")
            }
            // Minted tokens cached in the file store as user `u`; a mint would fail (no key,
            // no ID token, an endpoint nothing listens on) and show as an error.
            "github-app" => format!(
                "\n[[rule]]\nurl = \"{url}\"\nsources = [\"github-app\"]\nusername = \"u\"\n\
                 [rule.github_app]\napp_id = 1\ninstallation_id = 1\n\
                 private_key_file = \"/nonexistent/gocred-app.pem\"\n\
                 api_url = \"https://127.0.0.1:1\"\ncache = \"file\"\n"
            ),
            _ => format!(
                "\n[[rule]]\nurl = \"{url}\"\nsources = [\"sts\"]\nusername = \"u\"\n\
                 [rule.sts]\ntoken_endpoint = \"https://127.0.0.1:1/token\"\n\
                 id_token_env = \"GOCRED_TEST_UNSET\"\ncache = \"file\"\n"
            ),
        });
    }
    text
}

fn write_policy(dir: &Path, rules: &[GenRule]) {
    std::fs::write(dir.join("config.toml"), policy_text(dir, rules)).unwrap();
}

/// Plants one credential per scope in the file store (mode 0600), each with its own password.
fn plant(dir: &Path, scopes: &[String]) {
    let entries: Vec<(String, Option<String>)> = scopes.iter().map(|s| (s.clone(), None)).collect();
    plant_entries(dir, &entries);
}

/// One entry per (scope key, path git sent), each with its own password `pw-<index>`.
fn plant_entries(dir: &Path, entries: &[(String, Option<String>)]) {
    let records: Vec<Record> = entries
        .iter()
        .enumerate()
        .map(|(i, (scope, path))| Record {
            scope: ScopeKey(scope.clone()),
            path: path.clone(),
            unknown: Vec::new(),
            cred: Credential {
                username: "u".into(),
                password: Secret::new(format!("pw-{i}")),
                password_expiry_utc: None,
                oauth_refresh_token: None,
            },
        })
        .collect();
    let bytes = record::encode(&records).unwrap();
    gocred::fs::write_private_atomic(&dir.join("credentials"), bytes.as_bytes()).unwrap();
}

/// Every scope key a request for `host` on these ports and paths could be filed under.
fn scopes_for(host: &str, ports: &[Option<u16>]) -> Vec<String> {
    let mut scopes = Vec::new();
    for port in ports {
        let origin = match port {
            Some(p) => format!("https://{host}:{p}"),
            None => format!("https://{host}"),
        };
        for path in ["", "/team", "/team/sub", "/team/sub/repo.git", "/teamwork"] {
            scopes.push(format!("{origin}{path}"));
        }
    }
    scopes
}

proptest! {
    #![proptest_config(config(96))]

    /// The property the whole tool exists for.
    #[test]
    fn a_host_no_rule_names_never_gets_a_password(
        (rules, host) in rules().prop_flat_map(|rules| {
            let near = near_host(&rules);
            (Just(rules), prop_oneof![3 => near, 1 => domain()])
        }),
        flips in prop::collection::vec(any::<bool>(), 1..8),
        dot in any::<bool>(),
        default_port in any::<bool>(),
        port in prop::sample::select(vec![None, Some(8443u16), Some(444)]),
        path in prop::sample::select(vec![None, Some("team"), Some("team/sub/repo.git"), Some("teamwork")]),
    ) {
        prop_assume!(!rules.iter().any(|r| r.covers_host(&host)));
        let sent = decorate(&host, &flips, dot, default_port, port);

        // The policy alone.
        let policy = policy::load_str(Path::new("p.toml"), &policy_text(Path::new("/x"), &rules))
            .unwrap();
        if let Some(target) = Target::new("https", &sent, path) {
            let managed = matches!(policy.decide(target), Decision::Managed { .. });
            prop_assert!(!managed, "{sent} {path:?} was managed by {rules:?}");
        }

        // The whole helper, with a credential under every key, the request's own included.
        let dir = tempfile::tempdir().unwrap();
        write_policy(dir.path(), &rules);
        let mut scopes = scopes_for(&host, &[None, Some(8443), Some(444)]);
        for r in &rules {
            scopes.extend(scopes_for(&r.host, &[r.port]));
        }
        plant(dir.path(), &scopes);
        let mut request = format!("protocol=https\nhost={sent}\n");
        if let Some(path) = path {
            request.push_str(&format!("path={path}\n"));
        }
        let (stdout, error) = helper(dir.path(), Command::Get, &request);
        prop_assert_eq!((stdout.as_str(), error), ("", None), "{}", request);
        // And git's `store` for it keeps nothing.
        let before = std::fs::read(dir.path().join("credentials")).unwrap();
        let (_, error) = helper(dir.path(), Command::Store, &format!("{request}username=u\npassword=new\n"));
        prop_assert_eq!(error, None);
        prop_assert_eq!(std::fs::read(dir.path().join("credentials")).unwrap(), before);
    }

    /// Same host as a rule, but a port no rule for that host has: still nothing.
    #[test]
    fn another_port_of_a_rule_host_never_gets_a_password(
        rules in rules(),
        pick in any::<prop::sample::Index>(),
        port in prop::sample::select(vec![None, Some(8443u16), Some(444), Some(80), Some(8080)]),
    ) {
        let chosen = pick.get(&rules);
        prop_assume!(!chosen.wildcard);
        let host = chosen.host.clone();
        prop_assume!(!rules.iter().any(|r| r.covers_host(&host) && r.port == port));
        let dir = tempfile::tempdir().unwrap();
        write_policy(dir.path(), &rules);
        plant(dir.path(), &scopes_for(&host, &[None, Some(8443), Some(444), Some(80), Some(8080)]));
        let sent = decorate(&host, &[false], false, false, port);
        let (stdout, error) = helper(dir.path(), Command::Get, &format!("protocol=https\nhost={sent}\npath=team/sub/x\n"));
        prop_assert_eq!((stdout.as_str(), error), ("", None), "{}", sent);
        // http on the same host and port never gets the https credential.
        let (stdout, error) = helper(dir.path(), Command::Get, &format!("protocol=http\nhost={host}\n"));
        prop_assert_eq!((stdout.as_str(), error), ("", None));
    }

    /// The positive control: the properties above are not passing because nothing ever matches.
    #[test]
    fn variants_of_a_rule_host_get_exactly_its_own_credential(
        hosts in prop::collection::hash_set(domain(), 1..5),
        pick in any::<prop::sample::Index>(),
        flips in prop::collection::vec(any::<bool>(), 1..8),
        dot in any::<bool>(),
        default_port in any::<bool>(),
        source in prop::sample::select(SOURCES),
    ) {
        let hosts: Vec<String> = hosts.into_iter().collect();
        let rules: Vec<GenRule> = hosts
            .iter()
            .map(|h| GenRule { wildcard: false, host: h.clone(), port: None, path: None, source })
            .collect();
        let dir = tempfile::tempdir().unwrap();
        write_policy(dir.path(), &rules);
        let scopes: Vec<String> = hosts.iter().map(|h| format!("https://{h}")).collect();
        plant(dir.path(), &scopes);
        let i = pick.index(hosts.len());
        let sent = decorate(&hosts[i], &flips, dot, default_port, None);
        let (stdout, error) = helper(dir.path(), Command::Get, &format!("protocol=https\nhost={sent}\n"));
        prop_assert_eq!(error, None);
        prop_assert_eq!(stdout, format!("username=u\npassword=pw-{i}\n"));
    }
}

/// [`helper`] with environment variables (the CI job's).
fn helper_with_env(
    dir: &Path,
    command: Command,
    stdin: &str,
    vars: &[(&str, String)],
) -> (String, Option<String>) {
    let mut stdout = Vec::new();
    let mut stderr = Vec::new();
    let vars: Vec<(String, String)> = vars
        .iter()
        .map(|(k, v)| ((*k).to_owned(), v.clone()))
        .collect();
    let result = {
        let mut ctx = Context {
            stdin: Box::new(stdin.as_bytes()),
            stdout: Box::new(&mut stdout),
            stderr: Box::new(&mut stderr),
            config_path: Some(dir.join("config.toml")),
            env: Box::new(move |name| vars.iter().find(|(k, _)| k == name).map(|(_, v)| v.clone())),
            now: 1_800_000_000,
        };
        run(command, &mut ctx)
    };
    (
        String::from_utf8(stdout).unwrap(),
        result.err().map(|e| e.message),
    )
}

proptest! {
    #![proptest_config(config(64))]

    /// Default deny for the fleet sources: with every rule's source a `command` (which leaves a
    /// mark when it runs) and `[ci] job_token = true` in a GitLab job whose server is one of the
    /// rule hosts, a request for a host no rule names and that is not the CI server gets no
    /// password, and no program runs; nor does the CI host on another port or over http.
    #[test]
    fn a_host_no_rule_names_never_gets_a_command_or_ci_job_token(
        (rules, host, ci_pick) in rules().prop_flat_map(|rules| {
            let near = near_host(&rules);
            (Just(rules), prop_oneof![3 => near, 1 => domain()], any::<prop::sample::Index>())
        }),
        flips in prop::collection::vec(any::<bool>(), 1..8),
        dot in any::<bool>(),
        port in prop::sample::select(vec![None, Some(8443u16), Some(444)]),
        ci_port in prop::sample::select(vec![8443u16, 444]),
    ) {
        let ci_host = ci_pick.get(&rules).host.clone();
        prop_assume!(!rules.iter().any(|r| r.covers_host(&host)) && host != ci_host);
        let dir = tempfile::tempdir().unwrap();
        let mark = dir.path().join("ran");
        let mut text = String::from("[ci]\njob_token = true\n");
        for r in &rules {
            text.push_str(&format!(
                "\n[[rule]]\nurl = \"{}\"\nsources = [\"command\", \"ci\"]\nusername = \"u\"\n\
                 command = [\"/bin/sh\", \"-c\", \"echo >> {}; echo command-token\"]\n",
                r.url(),
                mark.display()
            ));
        }
        std::fs::write(dir.path().join("config.toml"), &text).unwrap();
        let vars = [
            ("GITLAB_CI", "true".to_owned()),
            ("CI_SERVER_URL", format!("https://{ci_host}")),
            ("CI_JOB_TOKEN", "job-token".to_owned()),
        ];
        let sent = decorate(&host, &flips, dot, false, port);
        let mut requests = vec![format!("protocol=https\nhost={sent}\n")];
        // The CI host itself, but not its origin: only a rule for that port or scheme could
        // serve it, and then by its command, never the job token.
        requests.push(format!("protocol=https\nhost={ci_host}:{ci_port}\n"));
        requests.push(format!("protocol=http\nhost={ci_host}\n"));
        for (i, request) in requests.iter().enumerate() {
            let (stdout, error) = helper_with_env(dir.path(), Command::Get, request, &vars);
            prop_assert!(!stdout.contains("job-token"), "{} got the job token", request);
            if i == 0 {
                prop_assert_eq!((stdout.as_str(), error), ("", None), "{}", request);
                prop_assert!(!mark.exists(), "a command ran for {}", request);
            }
        }
        // The positive control: the CI server's own origin gets a credential (its rule's
        // command's, or the job token).
        let (stdout, error) = helper_with_env(
            dir.path(),
            Command::Get,
            &format!("protocol=https\nhost={ci_host}\n"),
            &vars,
        );
        prop_assert_eq!(error, None);
        prop_assert!(
            stdout.contains("password=job-token\n") || stdout.contains("password=command-token\n"),
            "{}", stdout
        );
    }
}

// ---------------------------------------------------------------------------------------------
// Round trips

/// A protocol value: anything but CR, LF and NUL (which encode refuses), `=` included.
fn value() -> impl Strategy<Value = String> {
    prop_oneof![
        "[ -~]{0,12}",
        "[a-z=]{0,6}",
        any::<String>().prop_map(|s| s.replace(['\r', '\n', '\0'], "")),
    ]
}

/// A list element: git reads an empty one as "clear the list", so a list never holds one.
fn element() -> impl Strategy<Value = String> {
    value().prop_filter("non-empty", |s| !s.is_empty())
}

fn response() -> impl Strategy<Value = Response> {
    (
        (
            prop::collection::vec(element(), 0..3),
            prop::option::of(value()),
            prop::option::of(value()),
            prop::option::of(any::<u64>()),
            prop::option::of(value()),
            prop::option::of(value()),
        ),
        (
            prop::option::of(value()),
            prop::option::of(any::<bool>()),
            prop::collection::vec(element(), 0..3),
            prop::option::of(any::<bool>()),
            prop::option::of(any::<bool>()),
        ),
    )
        .prop_map(
            |(
                (capability, username, password, password_expiry_utc, refresh, authtype),
                (credential, ephemeral, state, continue_, quit),
            )| Response {
                capability,
                username,
                password: password.map(Secret::new),
                password_expiry_utc,
                oauth_refresh_token: refresh.map(Secret::new),
                authtype,
                credential: credential.map(Secret::new),
                ephemeral,
                state,
                continue_,
                quit,
            },
        )
}

fn credential() -> impl Strategy<Value = Credential> {
    (
        value(),
        value(),
        prop::option::of(any::<u64>()),
        prop::option::of(value()),
    )
        .prop_map(|(username, password, expiry, refresh)| Credential {
            username,
            password: Secret::new(password),
            password_expiry_utc: expiry,
            oauth_refresh_token: refresh.map(Secret::new),
        })
}

/// A netrc token: mostly plain, sometimes with what render must refuse (space, quote, a leading
/// `#`, control and non-ASCII characters).
fn netrc_value() -> impl Strategy<Value = String> {
    prop_oneof![
        4 => "[a-zA-Z0-9._:@/=#-]{1,10}",
        1 => "[a-z #\"\t\\\\]{0,6}",
        1 => any::<String>(),
        1 => prop::sample::select(vec!["machine", "default", "login", "password", "macdef", "#x", "x#"]).prop_map(str::to_owned),
    ]
}

proptest! {
    #![proptest_config(config(512))]

    #[test]
    fn protocol_decode_of_encode_is_identity(r in response()) {
        let encoded = r.encode().expect("values without CR, LF or NUL encode");
        let back = protocol::decode(encoded.as_bytes()).expect("what gocred writes, it reads");
        prop_assert_eq!(&back.capability, &r.capability);
        prop_assert_eq!(&back.username, &r.username);
        prop_assert_eq!(&back.password, &r.password);
        prop_assert_eq!(back.password_expiry_utc, r.password_expiry_utc);
        prop_assert_eq!(&back.oauth_refresh_token, &r.oauth_refresh_token);
        prop_assert_eq!(&back.authtype, &r.authtype);
        prop_assert_eq!(&back.credential, &r.credential);
        prop_assert_eq!(back.ephemeral, r.ephemeral);
        prop_assert_eq!(&back.state, &r.state);
        prop_assert_eq!(back.continue_, r.continue_);
        prop_assert_eq!(back.quit, r.quit);
        // Followed by git's blank line and more input, read_request stops at the blank line.
        let mut wire = encoded.as_bytes().to_vec();
        wire.extend_from_slice(b"\nusername=after-the-blank-line\n");
        let read = protocol::read_request(&wire[..], protocol::Limits::default()).unwrap();
        prop_assert_eq!(read, back);
    }

    #[test]
    fn protocol_refuses_to_encode_what_would_inject_a_line(
        before in "[a-z]{0,3}",
        bad in prop::sample::select(vec!['\r', '\n', '\0']),
        after in "[a-z=]{0,3}",
    ) {
        let r = Response {
            username: Some(format!("{before}{bad}{after}")),
            ..Response::default()
        };
        prop_assert!(r.encode().is_err());
    }

    #[test]
    fn record_decode_of_encode_is_identity(
        records in prop::collection::vec(
            (value(), credential()).prop_map(|(scope, cred)| Record::new(ScopeKey(scope), None, cred)),
            0..4,
        ),
    ) {
        let encoded = record::encode(&records).expect("values without CR, LF or NUL encode");
        prop_assert_eq!(record::decode(encoded.as_bytes()).unwrap(), records);
    }

    #[test]
    fn netrc_readers_see_what_render_writes_or_render_refuses(
        entries in prop::collection::vec((netrc_value(), netrc_value(), netrc_value()), 1..4),
    ) {
        let mut text = String::new();
        let mut expected = Vec::new();
        for (machine, login, password) in &entries {
            match netrc::render_entry(machine, login, &Secret::new(password.clone())) {
                Ok(line) => {
                    text.push_str(&line);
                    expected.push((machine.clone(), login.clone(), password.clone()));
                }
                Err(_) => {
                    // Refused only for what a reader (curl, Go, Python) could misread.
                    let unreadable = |v: &str| {
                        v.is_empty()
                            || v.starts_with('#')
                            || ["machine", "default", "login", "password", "account", "macdef", "user"]
                                .iter()
                                .any(|k| v.eq_ignore_ascii_case(k))
                            || v.chars().any(|c| {
                                c.is_whitespace() || c.is_control() || c == '"' || c == '\\'
                            })
                    };
                    prop_assert!(
                        unreadable(machine) || unreadable(login) || unreadable(password),
                        "refused a representable entry: {:?}", (machine, login, password)
                    );
                }
            }
        }
        // Go splits on whitespace and reads pairs: every rendered line is exactly six fields.
        for line in text.lines() {
            prop_assert_eq!(line.split_whitespace().count(), 6, "{}", line);
        }
        // The models of Go's and curl's readers see exactly the rendered entries: Go every one
        // (the first of a name wins), curl the first of each name, case-insensitively.
        let go: Vec<(String, String, String)> = netrc::go::entries(text.as_bytes())
            .into_iter()
            .map(|e| (e.machine, e.login, e.password.expose().to_owned()))
            .collect();
        prop_assert_eq!(&go, &expected);
        for (i, (machine, login, password)) in expected.iter().enumerate() {
            if expected[..i].iter().any(|(m, _, _)| m.eq_ignore_ascii_case(machine)) {
                continue;
            }
            let sent = netrc::curl::lookup(text.as_bytes(), machine)
                .sent()
                .map(|(l, p)| (l, p.expose().to_owned()));
            prop_assert_eq!(sent, Some((login.clone(), password.clone())));
        }
    }
}

// ---------------------------------------------------------------------------------------------
// The policy in force is the file as it is now (no cache), through the real binary

/// Request hosts, all of one length; a wildcard rule covers them all.
const LIVE_HOSTS: &[&str] = &[
    "h0.corp.example",
    "h1.corp.example",
    "h2.corp.example",
    "h3.corp.example",
];
/// Every policy is padded with a comment to this size, so any edit can be made in place.
const LIVE_SIZE: usize = 1024;

#[derive(Debug, Clone)]
struct LiveRule {
    /// An index into LIVE_HOSTS, or `None` for `*.corp.example`.
    host: Option<usize>,
    /// `/team/` prefix.
    team: bool,
}

#[derive(Debug, Clone)]
struct LivePolicy {
    rules: Vec<LiveRule>,
    /// Break the file: a rule whose source is unknown (`None`: a valid file, unless two rules
    /// name the same url, which is an error too).
    broken: Option<usize>,
}

impl LivePolicy {
    fn text(&self) -> String {
        let mut text = String::new();
        for (i, r) in self.rules.iter().enumerate() {
            let host = r.host.map_or("*.corp.example", |h| LIVE_HOSTS[h]);
            let path = if r.team { "/team/" } else { "" };
            let source = if self.broken == Some(i) {
                "fil3"
            } else {
                "file"
            };
            text.push_str(&format!(
                "[[rule]]\nurl = \"https://{host}{path}\"\nsources = [\"{source}\"]\nstore = \"file\"\n\n"
            ));
        }
        assert!(text.len() < LIVE_SIZE - 2);
        text.push('#');
        while text.len() < LIVE_SIZE - 1 {
            text.push('-');
        }
        text.push('\n');
        text
    }
}

#[derive(Debug, Clone, Copy)]
enum Edit {
    /// Same size, same inode, the old mtime put back (`cp -p`, `rsync --inplace`, `touch -d`).
    InPlaceKeepMtime,
    /// A new file renamed over the old one, with the old one's mtime.
    RenameSwap,
    /// Truncate and write.
    Rewrite,
}

fn live_policy() -> impl Strategy<Value = LivePolicy> {
    (
        prop::collection::vec(
            (prop::option::of(0..LIVE_HOSTS.len()), any::<bool>())
                .prop_map(|(host, team)| LiveRule { host, team }),
            0..=5,
        ),
        prop::option::weighted(0.2, 0..5usize),
    )
        .prop_map(|(rules, broken)| LivePolicy {
            broken: broken.filter(|&b| b < rules.len()),
            rules,
        })
}

fn live_request() -> impl Strategy<Value = (usize, Option<&'static str>)> {
    (
        0..LIVE_HOSTS.len(),
        prop::sample::select(vec![None, Some("team/repo.git"), Some("other/repo.git")]),
    )
}

fn apply(path: &Path, edit: Edit, text: &str) {
    use std::io::Write;
    let mtime = std::fs::metadata(path).unwrap().modified().unwrap();
    match edit {
        Edit::InPlaceKeepMtime => {
            let mut f = std::fs::OpenOptions::new().write(true).open(path).unwrap();
            f.write_all(text.as_bytes()).unwrap();
            f.set_modified(mtime).unwrap();
        }
        Edit::RenameSwap => {
            let next = path.with_extension("new");
            std::fs::write(&next, text).unwrap();
            std::fs::File::options()
                .write(true)
                .open(&next)
                .unwrap()
                .set_modified(mtime)
                .unwrap();
            std::fs::rename(&next, path).unwrap();
        }
        Edit::Rewrite => std::fs::write(path, text).unwrap(),
    }
}

proptest! {
    #![proptest_config(config(24))]

    #[test]
    fn get_answers_what_config_check_reads_in_the_current_file(
        first in live_policy(),
        edits in prop::collection::vec(
            (
                live_policy(),
                prop::sample::select(vec![Edit::InPlaceKeepMtime, Edit::RenameSwap, Edit::Rewrite]),
            ),
            1..=4,
        ),
        requests in prop::collection::vec(live_request(), 2..=3),
    ) {
        let env = crate::common::TestEnv::new();
        // One credential under every scope a rule could pick, each with its own password: under
        // a host-wide key one without a path and one per path git may send (a request with a
        // path takes only the entry for that path, as git's helpers match), under a path key one.
        let mut entries: Vec<(String, Option<String>)> = Vec::new();
        for host in LIVE_HOSTS {
            for path in [None, Some("team/repo.git"), Some("other/repo.git")] {
                entries.push((format!("https://{host}"), path.map(str::to_owned)));
                if let Some(path) = path {
                    entries.push((format!("https://{host}/{path}"), None));
                }
            }
        }
        let dir = env.file_store_path().parent().unwrap().to_owned();
        std::fs::create_dir_all(&dir).unwrap();
        plant_entries(&dir, &entries);
        let path = env.policy(&first.text());
        let mut states = vec![(first.clone(), None)];
        states.extend(edits.iter().map(|(p, e)| (p.clone(), Some(*e))));
        for (live, edit) in states {
            if let Some(edit) = edit {
                apply(&path, edit, &live.text());
            }
            // What `config check` reads in the file now (the library's reading, and the
            // binary's verdict on it).
            let reading = policy::load(&path);
            let check = env.gocred(&["config", "check"]).run();
            prop_assert_eq!(check.status.success(), reading.is_ok(), "{}", check);
            for (host, req_path) in &requests {
                let host = LIVE_HOSTS[*host];
                let mut stdin = format!("protocol=https\nhost={host}\n");
                if let Some(p) = req_path {
                    stdin.push_str(&format!("path={p}\n"));
                }
                let out = env.gocred(&["get"]).stdin(format!("{stdin}\n")).run();
                match &reading {
                    Err(_) => {
                        prop_assert!(!out.status.success(), "invalid file served: {}", out);
                        prop_assert_eq!(&out.stdout, "", "{}", out);
                    }
                    Ok(p) => {
                        prop_assert!(out.status.success(), "{}", out);
                        let want = match p.decide(Target::new("https", host, *req_path).unwrap()) {
                            Decision::NotManaged => String::new(),
                            Decision::Managed { scope, rule, .. } => {
                                // git's rules: a request with a path takes the entry for that
                                // path; one without takes the newest (last planted) of the key.
                                let fits = |p: &Option<String>| match (&rule.pattern.path, req_path) {
                                    (Some(_), _) | (None, None) => true,
                                    (None, Some(want)) => p.as_deref() == Some(*want),
                                };
                                let i = entries
                                    .iter()
                                    .rposition(|(s, p)| *s == scope.0 && fits(p))
                                    .unwrap();
                                format!("username=u\npassword=pw-{i}\n")
                            }
                        };
                        prop_assert_eq!(&out.stdout, &want, "{:?} {:?}: {}", live, edit, out);
                    }
                }
            }
        }
    }
}

// ---------------------------------------------------------------------------------------------
// The fast policy reader reads what the full parser reads

fn policy_piece() -> impl Strategy<Value = String> {
    let url = prop::sample::select(vec![
        "\"https://a.corp.example\"",
        "'https://*.corp.example/team/'",
        "\"https://b.corp.example:8443\"",
        "\"http://c.corp.example\"",
        "\"https://*.co.uk\"",
        "\"https://a\\u002ecorp.example\"",
        "\"https://a.corp.example\" # the main one",
    ]);
    let sources = prop::sample::select(vec![
        "[\"file\"]",
        "['keychain', \"file\",]",
        "[\n  \"env\", # CI\n  \"file\"\n]",
        "[]",
        "[\"fil3\"]",
        "\"file\"",
        "[\"github-app\"]",
        "[\"sts\"]",
    ]);
    let extra = prop::sample::select(vec![
        "",
        "store = \"file\"\n",
        "store = 'keychain'\n",
        "allow_http = true\n",
        "allow_http = 1\n",
        "username = \"x-access-token\"\ntoken_env = \"TOKEN\"\n",
        "goauth = \"preemptive\"\n",
        "url = \"https://dup.example\"\n",
        "[rule.oauth]\nprovider = \"gitlab\"\nclient_id = \"cid\"\n",
        "oauth = { provider = \"gitlab\" }\n",
        "[rule.github_app]\napp_id = 12\ninstallation_id = 0\nprivate_key_file = \"/k.pem\"\n",
        "[rule.github_app]\napp_id = 31337\nprivate_key_file = '/k.pem'\ncache = \"file\"\n",
        "[rule.sts]\ntoken_endpoint = \"https://sts.example/t\"\naudience = \"a\"\n",
        "allow_http = 10\n",
        "allow_http = 007\n",
        "# a comment\n\n",
        "bogus.key = \"x\"\n",
    ]);
    prop_oneof![
        4 => (url, sources, extra).prop_map(|(u, s, e)| {
            format!("[[rule]]\nurl = {u}\nsources = {s}\n{e}\n")
        }),
        1 => prop::sample::select(vec![
            "[keychain]\nbackend = \"keyutils\"\n".to_owned(),
            "[file]\npath = \"/srv/creds\"\n".to_owned(),
            "[file]\npath = 'relative'\n".to_owned(),
            "[[ rule ]]\nurl = \"https://e.example\"\nsources = [\"file\"]\n".to_owned(),
            "top = true\n".to_owned(),
            "[[rule]]\r\nurl = \"https://f.example\"\r\nsources = [\"file\"]\r\n".to_owned(),
            "\t  # indented comment\n".to_owned(),
        ]),
    ]
}

proptest! {
    #![proptest_config(config(512))]

    #[test]
    fn the_fast_policy_reader_reads_what_toml_reads(
        pieces in prop::collection::vec(policy_piece(), 0..6),
        trailing_newline in any::<bool>(),
    ) {
        let mut text = pieces.concat();
        if !trailing_newline {
            text = text.trim_end_matches('\n').to_owned();
        }
        let path = Path::new("/policy.toml");
        let fast = policy::load_str(path, &text);
        let full = policy::load_str_full(path, &text);
        prop_assert_eq!(format!("{fast:?}"), format!("{full:?}"), "{}", text);
        // What `get` loads (only the rules for the request's host) decides as the whole does.
        for host in ["a.corp.example", "b.corp.example", "x.corp.example", "dup.example", "x.co.uk"] {
            let kept = policy::load_str_keeping(path, &text, Some(host));
            prop_assert_eq!(kept.is_ok(), full.is_ok(), "{} {:?}", host, kept);
            let (Ok(kept), Ok(whole)) = (&kept, &full) else { continue };
            for (scheme, port, path) in [
                ("https", "", None),
                ("https", ":8443", None),
                ("http", "", None),
                ("https", "", Some("team/x.git")),
            ] {
                let target = || Target::new(scheme, &format!("{host}{port}"), path).unwrap();
                let said = |d: Decision<'_>| match d {
                    Decision::NotManaged => None,
                    Decision::Managed { rule, scope, .. } => Some((rule.url.clone(), rule.line, scope)),
                };
                prop_assert_eq!(said(kept.decide(target())), said(whole.decide(target())), "{}", text);
            }
        }
    }
}
