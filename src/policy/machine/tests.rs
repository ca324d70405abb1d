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
