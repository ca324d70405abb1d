//! The fuzz targets' inputs, replayed in the normal suite: every file of `fuzz/corpus/<target>/`
//! (the kept, minimized corpora) and `tests/fixtures/fuzz/<target>/` (inputs that once found a
//! bug) goes through the same checks the fuzzers run (`fuzz/checks.rs`), without building
//! libFuzzer. Long runs: `scripts/fuzz`.

#[path = "../../fuzz/checks.rs"]
mod checks;

use std::path::Path;

fn replay(target: &str, check: fn(&[u8])) {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let mut count = 0;
    for dir in [
        root.join("fuzz/corpus").join(target),
        root.join("tests/fixtures/fuzz").join(target),
    ] {
        let Ok(entries) = std::fs::read_dir(&dir) else {
            continue;
        };
        for entry in entries {
            let path = entry.unwrap().path();
            let data = std::fs::read(&path).unwrap();
            let result = std::panic::catch_unwind(|| check(&data));
            assert!(
                result.is_ok(),
                "{target}: {} fails its check",
                path.display()
            );
            count += 1;
        }
    }
    assert!(count > 0, "no inputs for {target}");
}

#[test]
fn protocol_corpus() {
    replay("protocol", checks::protocol);
}

#[test]
fn url_matcher_corpus() {
    replay("url_matcher", checks::url_matcher);
}

#[test]
fn policy_load_corpus() {
    replay("policy_load", checks::policy_load);
}

#[test]
fn netrc_corpus() {
    replay("netrc", checks::netrc);
}

#[test]
fn normalize_corpus() {
    replay("normalize", checks::normalize);
}
