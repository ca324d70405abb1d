use super::*;

fn entry(key: &str, value: Option<&str>) -> Entry {
    Entry {
        scope: "global".into(),
        origin: "file:/home/u/.gitconfig".into(),
        key: key.into(),
        value: value.map(str::to_owned),
    }
}

fn url(host: &str, path: Option<&str>) -> CredentialUrl {
    CredentialUrl {
        protocol: "https".into(),
        host: host.into(),
        path: path.map(str::to_owned),
    }
}

fn helpers(entries: &[Entry], u: &CredentialUrl) -> Vec<String> {
    resolve_entries(entries, u)
        .helpers
        .iter()
        .map(|&i| entries[i].value.clone().unwrap())
        .collect()
}

#[test]
fn git_config_helper_chain_follows_config_order_and_resets_as_credential_c() {
    let entries = [
        entry("credential.helper", Some("store")),
        entry("credential.https://h.example/team.helper", Some("")),
        entry("credential.https://h.example/team.helper", Some("gocred")),
        entry("credential.https://H.EXAMPLE:443.helper", Some("cache")),
        entry("credential.https://*.example.helper", Some("wild")),
        entry("credential.https://h.example:8443.helper", Some("port")),
        entry(
            "credential.https://h.example/teamx.helper",
            Some("not-a-prefix"),
        ),
        entry("credential.h.example.helper", Some("partial-host")),
        entry("credential.https://user@h.example.helper", Some("user")),
        entry("credential./team/repo.helper", Some("partial-path")),
    ];
    assert_eq!(
        helpers(&entries, &url("h.example", Some("team/repo"))),
        ["gocred", "cache", "wild", "partial-host", "partial-path"]
    );
    assert_eq!(
        helpers(&entries, &url("h.example", None)),
        ["store", "cache", "wild", "partial-host"]
    );
    assert_eq!(
        helpers(&entries, &url("h.example:8443", None)),
        ["store", "port"]
    );
    // A wildcard rule's host: only what applies to every host under it.
    assert_eq!(
        helpers(&entries, &url("*.example", None)),
        ["store", "wild"]
    );
}

#[test]
fn git_config_a_value_less_entry_that_matches_stops_git() {
    let entries = [
        entry("credential.helper", Some("store")),
        entry("credential.https://other.example.usehttppath", None),
        entry("credential.usehttppath", Some("maybe")),
    ];
    let r = resolve_entries(&entries[..2], &url("h.example", None));
    assert_eq!((r.helpers.len(), r.fatal), (1, None));
    let r = resolve_entries(&entries, &url("h.example", None));
    assert_eq!(r.fatal, Some(2));
}

#[test]
fn git_config_normalizes_urls_as_urlmatch() {
    let n = normalize("HTTPS://Host.Example:0443/a/./b/../c%7e%2F?q", false).unwrap();
    assert_eq!(
        (n.host.as_str(), n.port.as_deref(), n.rest.as_str()),
        ("host.example", None, "/a/c~%2F?q")
    );
    assert!(normalize("https://h.example:0", false).is_none());
    assert!(normalize("https://h.example/../x", false).is_none());
    assert!(normalize("h.example", false).is_none());
    assert!(normalize("https://*.example", false).is_none());
    assert!(normalize("https://*.example", true).is_some());
    assert!(match_path("/team/repo", "/team"));
    assert!(match_path("/team", "/team/"));
    assert!(!match_path("/teamx", "/team"));
}

#[test]
fn git_config_sh_words_see_through_plain_words_only() {
    assert_eq!(
        sh_words("'/opt/my tools/gocred'").unwrap(),
        ["/opt/my tools/gocred"]
    );
    assert_eq!(sh_words(r#""/a b"\ c d"#).unwrap(), ["/a b c", "d"]);
    for opaque in [
        "f() { x; }; f",
        "x $(y)",
        "a; b",
        "A=1 gocred",
        "~/gocred",
        "x*",
    ] {
        assert_eq!(sh_words(opaque), None, "{opaque}");
    }
}

#[test]
fn git_config_parses_nul_separated_entries() {
    let out = b"global\0file:/g\0credential.helper\nstore\0command\0command line:\0credential.usehttppath\0";
    let e = parse(out);
    assert_eq!(e.len(), 2);
    assert_eq!(e[0].value.as_deref(), Some("store"));
    assert_eq!(
        (e[1].scope.as_str(), e[1].value.as_deref()),
        ("command", None)
    );
}
