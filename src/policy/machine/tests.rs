use super::*;
use crate::policy::{Decision, Input, SourceKind, load_str, normalize};

fn machine(toml: &str) -> Machine {
    parse(Path::new("/etc/gocred/policy.toml"), toml).unwrap_or_else(|e| panic!("{}", e.report()))
}

fn effective(machine_toml: &str, user_toml: &str) -> Policy {
    let user = load_str(Path::new("/home/u/.config/gocred/config.toml"), user_toml).unwrap();
    apply(user, &machine(machine_toml))
}

fn served_by<'p>(policy: &'p Policy, url: &str) -> Option<&'p Rule> {
    match policy.decide(normalize(Input::Url(url)).unwrap()) {
        Decision::Managed { rule, .. } => Some(rule),
        Decision::NotManaged => None,
    }
}

const KEYCHAIN: &str = "sources = [\"keychain\"]\nstore = \"keychain\"\n";

#[test]
fn machine_deny_refuses_contained_user_rules_and_hides_denied_hosts_from_wider_ones() {
    let user = format!(
        "[[rule]]\nurl = \"https://git.internal.example\"\n{KEYCHAIN}\n\
         [[rule]]\nurl = \"https://*.example.org\"\n{KEYCHAIN}\n\
         [[rule]]\nurl = \"https://git.internal.example:8443\"\n{KEYCHAIN}"
    );
    let p = effective(
        "[machine]\ndeny = [\"https://*.internal.example\", \"https://secret.example.org\"]\n",
        &user,
    );
    let m = p.machine.as_ref().unwrap();
    // Every port: an explicit port does not slip past a deny without one.
    assert_eq!(
        m.refused.iter().map(|r| r.line).collect::<Vec<_>>(),
        [1, 11]
    );
    assert!(m.refused.iter().all(|r| r.machine_line == 2), "{m:?}");
    assert!(served_by(&p, "https://git.internal.example/x.git").is_none());
    assert!(served_by(&p, "https://secret.example.org/x.git").is_none());
    assert!(served_by(&p, "http://secret.example.org/x.git").is_none());
    assert_eq!(
        served_by(&p, "https://ok.example.org/x.git").unwrap().line,
        6
    );
    assert!(
        m.narrowed
            .iter()
            .any(|n| n.line == 6 && n.what.contains("secret.example.org"))
    );
}

#[test]
fn machine_restrict_narrows_sources_and_refuses_what_it_cannot_narrow() {
    let p = effective(
        "[machine]\n[[machine.restrict]]\nurl = \"https://*.corp.example\"\nsources = [\"keychain\", \"oauth\"]\nsecret_files = false\n",
        "[[rule]]\nurl = \"https://a.corp.example\"\nsources = [\"file\"]\nstore = \"file\"\n\
         [[rule]]\nurl = \"https://b.corp.example\"\nsources = [\"keychain\", \"file\"]\nstore = \"file\"\n\
         [[rule]]\nurl = \"https://c.corp.example\"\nsources = [\"oauth\"]\nstore = \"file\"\n[rule.oauth]\nprovider = \"gitlab\"\nclient_id = \"x\"\n\
         [[rule]]\nurl = \"https://elsewhere.example\"\nsources = [\"file\"]\nstore = \"file\"\n",
    );
    let m = p.machine.as_ref().unwrap();
    let refused: Vec<_> = m.refused.iter().map(|r| (r.line, r.machine_line)).collect();
    assert_eq!(refused, [(1, 2), (9, 2)], "{m:?}");
    let b = served_by(&p, "https://b.corp.example/r.git").unwrap();
    assert_eq!(b.sources, [SourceKind::Keychain]);
    assert_eq!(b.store, None);
    assert_eq!(b.machine.no_secret_files, Some(2));
    let other = served_by(&p, "https://elsewhere.example/r.git").unwrap();
    assert_eq!(other.sources, [SourceKind::File]);
    assert_eq!(other.machine, Mark::default());
}

#[test]
fn machine_oauth_pins_refuse_another_endpoint_and_fill_what_is_left_out() {
    let m = "[machine]\n[[machine.restrict]]\nurl = \"https://gitlab.corp.example\"\n\
             [machine.restrict.oauth]\nclient_id = \"corp-app\"\ntoken_endpoint = \"https://gitlab.corp.example/oauth/token\"\n";
    let rule = |extra: &str| {
        format!(
            "[[rule]]\nurl = \"https://gitlab.corp.example\"\nsources = [\"oauth\"]\n[rule.oauth]\nprovider = \"gitlab\"\n{extra}"
        )
    };
    let p = effective(
        m,
        &rule("client_id = \"corp-app\"\ntoken_endpoint = \"https://evil.example/token\"\n"),
    );
    let why = &p.machine.as_ref().unwrap().refused[0].why;
    assert!(why.contains("token_endpoint"), "{why}");
    assert!(served_by(&p, "https://gitlab.corp.example/").is_none());

    let p = effective(m, &rule("client_id = \"mine\"\n"));
    assert!(
        p.machine.as_ref().unwrap().refused[0]
            .why
            .contains("client_id")
    );

    let p = effective(m, &rule("client_id = \"corp-app\"\n"));
    let r = served_by(&p, "https://gitlab.corp.example/").unwrap();
    assert_eq!(
        r.oauth.as_ref().unwrap().token_endpoint.as_deref(),
        Some("https://gitlab.corp.example/oauth/token")
    );
}

#[test]
fn machine_user_rules_none_and_narrow_keep_the_user_from_adding_hosts() {
    let own = "[[rule]]\nurl = \"https://*.corp.example\"\nsources = [\"keychain\"]\nstore = \"keychain\"\n";
    let user = format!(
        "[[rule]]\nurl = \"https://git.corp.example/team/\"\n{KEYCHAIN}\n\
         [[rule]]\nurl = \"https://github.com\"\n{KEYCHAIN}\n\
         [[rule]]\nurl = \"https://*.corp.example\"\n{KEYCHAIN}"
    );
    let p = effective(&format!("{own}[machine]\nuser_rules = \"narrow\"\n"), &user);
    let m = p.machine.as_ref().unwrap();
    let refused: Vec<_> = m.refused.iter().map(|r| (r.line, r.machine_line)).collect();
    // github.com is not the machine's to give; the duplicate of its own rule is its own.
    assert_eq!(refused, [(6, 6), (11, 1)], "{m:?}");
    assert_eq!(p.rules.len(), 2);
    assert!(p.rules[0].machine.is_machine_rule());
    assert_eq!(
        served_by(&p, "https://git.corp.example/team/x")
            .unwrap()
            .line,
        1
    );
    assert_eq!(
        served_by(&p, "https://x.corp.example/")
            .unwrap()
            .machine
            .layer(),
        "machine"
    );
    assert!(served_by(&p, "https://github.com/").is_none());

    let p = effective(&format!("{own}[machine]\nuser_rules = \"none\"\n"), &user);
    assert_eq!(p.machine.as_ref().unwrap().refused.len(), 3);
    assert_eq!(p.rules.len(), 1);
}

#[test]
fn machine_own_rule_binds_user_rules_inside_it() {
    let own = "[[rule]]\nurl = \"https://gitlab.corp.example\"\nsources = [\"oauth\"]\n[rule.oauth]\nprovider = \"gitlab\"\nclient_id = \"corp\"\n";
    let p = effective(
        own,
        "[[rule]]\nurl = \"https://gitlab.corp.example/me/\"\nsources = [\"file\"]\nstore = \"file\"\n",
    );
    assert_eq!(p.machine.as_ref().unwrap().refused[0].machine_line, 1);
    assert_eq!(
        served_by(&p, "https://gitlab.corp.example/me/x")
            .unwrap()
            .line,
        1
    );
}

#[test]
fn machine_policy_problems_are_reported_with_lines() {
    let e = parse(
        Path::new("/etc/gocred/policy.toml"),
        "[machine]\nuser_rules = \"some\"\ndeny = [\"ftp://x\"]\nwiden = true\n[[machine.restrict]]\nsources = [\"keychain\"]\n",
    )
    .unwrap_err();
    let report = e.report();
    for line in [":2:", ":3:", ":4:", ":5:"] {
        assert!(report.contains(line), "{report}");
    }
    let e = parse(
        Path::new("/etc/gocred/policy.toml"),
        "[machine]\n\n[ci]\njob_token = true\n",
    )
    .unwrap_err();
    assert!(e.report().contains("policy.toml:3:"), "{}", e.report());
    // The user's policy may not say what only the machine policy may.
    let e = load_str(Path::new("/c.toml"), "[machine]\nuser_rules = \"allow\"\n").unwrap_err();
    assert!(
        e.report().contains("unknown key `machine`"),
        "{}",
        e.report()
    );
}

#[test]
fn machine_restrict_with_a_path_also_covers_requests_without_one() {
    let p = effective(
        "[machine]\ndeny = [\"https://git.example/secret/\"]\n",
        &format!("[[rule]]\nurl = \"https://git.example\"\n{KEYCHAIN}"),
    );
    assert!(served_by(&p, "https://git.example/secret/x.git").is_none());
    assert!(served_by(&p, "https://git.example").is_none());
    assert!(served_by(&p, "https://git.example/open/x.git").is_some());
}

#[test]
fn machine_secret_files_false_also_rules_out_the_file_store() {
    let p = effective(
        "[machine]\n[[machine.restrict]]\nurl = \"https://git.example\"\nsecret_files = false\n",
        "[[rule]]\nurl = \"https://git.example\"\nsources = [\"file\"]\nstore = \"file\"\n\n\
         [[rule]]\nurl = \"https://git.example/team/\"\nsources = [\"keychain\", \"file\"]\nstore = \"file\"\n",
    );
    let m = p.machine.as_ref().unwrap();
    assert_eq!(m.refused.iter().map(|r| r.line).collect::<Vec<_>>(), [1]);
    let team = served_by(&p, "https://git.example/team/x").unwrap();
    assert_eq!(
        (team.sources.as_slice(), team.store),
        (&[SourceKind::Keychain][..], None)
    );
}

#[test]
fn machine_deny_of_a_path_withholds_answers_for_the_whole_prefix() {
    let p = effective(
        "[machine]\ndeny = [\"https://git.example/secret/\"]\n",
        &format!(
            "[[rule]]\nurl = \"https://git.example\"\n{KEYCHAIN}\n\
             [[rule]]\nurl = \"https://git.example/open/\"\n{KEYCHAIN}"
        ),
    );
    let m = p.machine.as_ref().unwrap();
    let target = normalize(Input::Url("https://git.example/open/x")).unwrap();
    let (host_wide, open) = (&p.rules[0], &p.rules[1]);
    // Go would use the host-wide rule's answer for /secret/ too; the /open/ one's never.
    assert!(m.denies_prefix(host_wide, &target));
    assert!(!m.denies_prefix(open, &target));
}

/// Every pattern of a small universe: exact and wildcard hosts nested in each other, the
/// default port and another, no path and nested paths.
fn universe() -> Vec<String> {
    let mut out = Vec::new();
    for host in [
        "a.corp.example",
        "b.x.corp.example",
        "corp.example",
        "other.example",
        "*.corp.example",
        "*.x.corp.example",
    ] {
        for port in ["", ":8443"] {
            for path in ["", "/team/", "/team/secret/", "/open/"] {
                out.push(format!("https://{host}{port}{path}"));
            }
        }
    }
    out
}

fn targets() -> Vec<Target> {
    let mut out = Vec::new();
    for host in [
        "a.corp.example",
        "b.x.corp.example",
        "corp.example",
        "other.example",
    ] {
        for port in ["", ":8443"] {
            for path in ["", "/team/x", "/team/secret/x", "/open/x", "/teamx"] {
                out.push(normalize(Input::Url(&format!("https://{host}{port}{path}"))).unwrap());
            }
        }
    }
    out
}

#[test]
fn machine_restrictions_bind_every_user_rule_that_can_serve_a_url_they_cover() {
    let targets = targets();
    let patterns = universe();
    let (mut restricted, mut prefixes) = (0, 0);
    for (scope, deny) in patterns.iter().flat_map(|s| [(s, true), (s, false)]) {
        let m = machine(&if deny {
            format!("[machine]\ndeny = [\"{scope}\"]\n")
        } else {
            format!(
                "[machine]\n[[machine.restrict]]\nurl = \"{scope}\"\nsources = [\"keychain\"]\n"
            )
        });
        let restrict = m.restrictions.first().map(|r| &r.scope);
        for url in &patterns {
            let user = load_str(
                Path::new("/u.toml"),
                &format!("[[rule]]\nurl = \"{url}\"\nsources = [\"keychain\", \"file\"]\n"),
            )
            .unwrap();
            let p = apply(user, &m);
            let applied = p.machine.as_ref().unwrap();
            for t in &targets {
                let Decision::Managed { rule, .. } = p.decide(t.clone()) else {
                    continue;
                };
                // Denied: never served by the user's rule.
                assert!(!applied.denies(t), "{url} served {t:?} under deny {scope}");
                // Restricted: served only as the restriction allows.
                if let Some(restrict) = restrict
                    && restrict.covers(t)
                {
                    assert_eq!(
                        rule.sources,
                        [SourceKind::Keychain],
                        "{url} / {scope} / {t:?}"
                    );
                    restricted += 1;
                }
                // An answer for the rule's whole prefix (GOAUTH) reaches no denied URL unless
                // denies_prefix says so.
                if deny && !applied.denies_prefix(rule, t) {
                    prefixes += 1;
                    for t2 in targets.iter().filter(|t2| {
                        t2.host == t.host
                            && t2.port == t.port
                            && rule.pattern.path.as_deref().is_none_or(|prefix| {
                                t2.path.as_deref().is_some_and(|p| path_under(p, prefix))
                            })
                    }) {
                        assert!(!applied.denies(t2), "{url} / {scope}: {t:?} reaches {t2:?}");
                    }
                }
            }
        }
    }
    // The universe exercises each property (the counts only show it is not empty).
    assert!(
        restricted > 500 && prefixes > 1000,
        "{restricted} {prefixes}"
    );
}

#[test]
fn machine_restrict_names_every_source_kind() {
    // A new source kind does not compile here until ALL_SOURCES lists it.
    let index = |k: SourceKind| match k {
        SourceKind::Keychain => 0,
        SourceKind::File => 1,
        SourceKind::Env => 2,
        SourceKind::OAuth => 3,
        SourceKind::Command => 4,
        SourceKind::Ci => 5,
        SourceKind::GitHubApp => 6,
        SourceKind::Sts => 7,
    };
    for (i, k) in ALL_SOURCES.iter().enumerate() {
        assert_eq!(index(*k), i);
    }
}

#[test]
fn machine_restrict_without_keychain_keeps_a_command_from_caching_there() {
    let p = effective(
        "[machine]\n[[machine.restrict]]\nurl = \"https://vault.example\"\nsources = [\"command\"]\n",
        "[[rule]]\nurl = \"https://vault.example\"\nsources = [\"command\"]\n\
         command = [\"/usr/bin/pass\", \"show\", \"git\"]\ncache = \"until-expiry\"\n",
    );
    let rule = served_by(&p, "https://vault.example/").unwrap();
    assert_eq!(
        rule.command.as_ref().unwrap().cache,
        crate::source::command::Cache::None
    );
}

#[test]
fn machine_dropped_source_takes_its_settings_with_it() {
    let p = effective(
        "[machine]\n[[machine.restrict]]\nurl = \"https://git.example\"\nsources = [\"env\"]\n",
        "[[rule]]\nurl = \"https://git.example\"\nsources = [\"env\", \"oauth\"]\n\
         token_env = \"T\"\nusername = \"u\"\n[rule.oauth]\nprovider = \"gitlab\"\nclient_id = \"x\"\n",
    );
    let rule = served_by(&p, "https://git.example/").unwrap();
    assert_eq!(rule.sources, [SourceKind::Env]);
    assert!(
        rule.oauth.is_none(),
        "login must not find an oauth table here"
    );
    assert_eq!(rule.token_env.as_deref(), Some("T"));
}

#[test]
fn machine_oauth_alone_allows_its_tokens_in_the_keychain_not_in_a_file() {
    let m =
        "[machine]\n[[machine.restrict]]\nurl = \"https://gl.example\"\nsources = [\"oauth\"]\n";
    let rule = |store: &str| {
        format!(
            "[[rule]]\nurl = \"https://gl.example\"\nsources = [\"oauth\"]\n{store}[rule.oauth]\nprovider = \"gitlab\"\nclient_id = \"x\"\n"
        )
    };
    let p = effective(m, &rule(""));
    assert!(served_by(&p, "https://gl.example/").is_some());
    let p = effective(m, &rule("store = \"file\"\n"));
    assert!(served_by(&p, "https://gl.example/").is_none());
}

#[test]
fn machine_restrict_keeps_minted_tokens_out_of_a_store_it_does_not_allow() {
    let p = effective(
        "[machine]\n[[machine.restrict]]\nurl = \"https://github.com\"\nsources = [\"sts\"]\n",
        "[[rule]]\nurl = \"https://github.com/acme/\"\nsources = [\"sts\"]\n\n[rule.sts]\n\
         token_endpoint = \"https://octo-sts.corp.example/token\"\naudience = \"octo-sts.corp.example\"\n",
    );
    let rule = served_by(&p, "https://github.com/acme/tools").unwrap();
    assert_eq!(
        rule.sts.as_ref().unwrap().cache,
        crate::policy::MintCache::None
    );
}

#[test]
fn machine_sts_pin_refuses_an_id_token_sent_elsewhere() {
    let m = "[machine]\n[[machine.restrict]]\nurl = \"https://github.com\"\n\
             [machine.restrict.sts]\ntoken_endpoint = \"https://octo-sts.corp.example/token\"\n";
    let rule = |endpoint: &str| {
        format!(
            "[[rule]]\nurl = \"https://github.com/acme/\"\nsources = [\"sts\"]\n\n[rule.sts]\n\
             token_endpoint = \"{endpoint}\"\naudience = \"a\"\n"
        )
    };
    let p = effective(m, &rule("https://collector.evil.example/token"));
    assert!(served_by(&p, "https://github.com/acme/x").is_none());
    assert!(
        p.machine.as_ref().unwrap().refused[0]
            .why
            .contains("token_endpoint")
    );
    let p = effective(m, &rule("https://octo-sts.corp.example/token"));
    assert!(served_by(&p, "https://github.com/acme/x").is_some());
}

#[test]
fn machine_keychain_and_file_settings_win_over_the_users() {
    let user = format!(
        "[keychain]\nbackend = \"keyutils\"\n[file]\npath = \"/tmp/mine\"\n\n[[rule]]\nurl = \"https://git.example\"\n{KEYCHAIN}"
    );
    let p = effective(
        "[keychain]\nbackend = \"secret-service\"\n[file]\npath = \"/var/lib/gocred/creds\"\n",
        &user,
    );
    assert_eq!(
        p.keychain_backend,
        crate::policy::KeychainBackend::SecretService
    );
    assert_eq!(
        p.file_path.as_deref(),
        Some(Path::new("/var/lib/gocred/creds"))
    );
    // Unset in the machine policy: the user's stand.
    let p = effective("[machine]\n", &user);
    assert_eq!(p.keychain_backend, crate::policy::KeychainBackend::Keyutils);
    assert_eq!(p.file_path.as_deref(), Some(Path::new("/tmp/mine")));
}
