//! Wildcards cannot span organisations: `*.co.uk`, `*.github.io` or `*.com.au` would hand one
//! credential to every company registered under that suffix. A wildcard's base must not be a
//! public suffix, by the Public Suffix List (ICANN and private sections) that the `psl` crate
//! compiles in: no network, no file read at run time.
//!
//! The crate carries no date of its own; its version says which list it holds (its publisher
//! releases a new version for every change of the list), and `gocred --version` shows it.

/// The `psl` crate this binary was built with (checked against Cargo.lock by a unit test, so a
/// `cargo update` that changes the list cannot leave `--version` behind).
pub const LIST_VERSION: &str = "psl 2.1.247";

/// Whether `base` (a normalized host: lower case, ASCII, no trailing dot) is itself a public
/// suffix, so that `*.base` would match hosts of unrelated registrants.
pub fn is_public_suffix(base: &str) -> bool {
    psl::suffix(base.as_bytes()).is_some_and(|s| s.as_bytes() == base.as_bytes())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn public_suffixes_from_both_sections_are_recognized() {
        for base in [
            "co.uk",
            "com.au",
            "github.io",
            "gitlab.io",
            "uk.com",
            "com",
            // `*.ck`: every name under ck is a suffix, except `www.ck`.
            "foo.ck",
        ] {
            assert!(is_public_suffix(base), "{base}");
        }
    }

    #[test]
    fn an_organisations_own_domain_is_not_a_public_suffix() {
        for base in [
            "corp.example",
            "example.co.uk",
            "corp.github.io",
            "gitlab.corp.com.au",
            "www.ck",
            "git.internal",
        ] {
            assert!(!is_public_suffix(base), "{base}");
        }
    }

    #[test]
    fn list_version_matches_cargo_lock() {
        let lock = include_str!("../../Cargo.lock");
        let version = lock
            .split("[[package]]")
            .find(|p| p.contains("\nname = \"psl\"\n"))
            .and_then(|p| p.lines().find_map(|l| l.strip_prefix("version = ")))
            .expect("psl in Cargo.lock")
            .trim_matches('"');
        assert_eq!(LIST_VERSION, format!("psl {version}"));
    }
}
