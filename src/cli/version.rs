//! `gocred --version`: the version from Cargo.toml, the commit it was built from (`build.rs`),
//! the keychain backends compiled in and the Public Suffix List that wildcard rules are checked
//! against. `-V` and the man pages show only the version, so the generated files do not change
//! with every commit.

use std::sync::LazyLock;

/// What `gocred --version` prints after `gocred `.
pub(crate) fn long() -> &'static str {
    static LONG: LazyLock<String> = LazyLock::new(|| {
        let backends = match crate::source::keychain::COMPILED_IN {
            [] => "none (use the file store)".to_owned(),
            names => names.join(", "),
        };
        format!(
            "{}\ncommit {}\nkeychain backends: {backends}\npublic suffix list: {}",
            env!("CARGO_PKG_VERSION"),
            env!("GOCRED_COMMIT"),
            crate::policy::psl::LIST_VERSION,
        )
    });
    &LONG
}
