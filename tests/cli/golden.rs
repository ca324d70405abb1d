//! Golden files: `tests/golden/<name>.in` is what git writes to the helper, `<name>.out` the
//! exact stdout gocred must answer with. Optional companions:
//!
//! - `<name>.policy.toml`: the policy (else there is no config file);
//! - `<name>.store`: the file store before the run (written mode 0600);
//! - `<name>.env`: `KEY=VALUE` lines added to the environment;
//! - `<name>.args`: the command line (default `get`);
//! - `<name>.err`: the exact stderr (default: empty), `$ROOT` standing for the test directory;
//! - `<name>.code`: the exit code (default 0);
//! - `<name>.store.after`: the exact file store after the run (`<absent>` if there must be none).
//!
//! `GOCRED_BLESS=1 cargo test golden` rewrites `.out` and `.err` from what gocred printed; review
//! the diff before committing it.

use crate::common::TestEnv;
use std::path::{Path, PathBuf};

fn golden_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/golden")
}

fn companion(dir: &Path, name: &str, ext: &str) -> Option<String> {
    std::fs::read_to_string(dir.join(format!("{name}.{ext}"))).ok()
}

/// Runs one case; returns a description of every mismatch.
fn run_case(dir: &Path, name: &str, bless: bool) -> Vec<String> {
    let mut env = TestEnv::new();
    let input = std::fs::read(dir.join(format!("{name}.in"))).unwrap();
    if let Some(policy) = companion(dir, name, "policy.toml") {
        env.policy(&policy);
    }
    if let Some(store) = companion(dir, name, "store") {
        let path = env.file_store_path();
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(&path, store).unwrap();
        crate::common::set_mode(&path, 0o600);
    }
    for line in companion(dir, name, "env").unwrap_or_default().lines() {
        if let Some((k, v)) = line.split_once('=') {
            env.set_env(k, v);
        }
    }
    let args = companion(dir, name, "args").unwrap_or_else(|| "get".into());
    let args: Vec<&str> = args.split_whitespace().collect();
    let out = env.gocred(&args).stdin(&input).run();
    let root = env.root().display().to_string();
    let stderr = out.stderr.replace(&root, "$ROOT");

    let mut problems = Vec::new();
    let expected_out = companion(dir, name, "out").unwrap_or_default();
    if out.stdout != expected_out {
        problems.push(format!(
            "{name}: stdout\n  expected {expected_out:?}\n  got      {:?}",
            out.stdout
        ));
    }
    let expected_err = companion(dir, name, "err").unwrap_or_default();
    if stderr != expected_err {
        problems.push(format!(
            "{name}: stderr\n  expected {expected_err:?}\n  got      {stderr:?}"
        ));
    }
    let code: i32 = companion(dir, name, "code").map_or(0, |c| c.trim().parse().unwrap());
    if out.code() != Some(code) {
        problems.push(format!(
            "{name}: exit code {:?}, expected {code}",
            out.code()
        ));
    }
    if let Some(after) = companion(dir, name, "store.after") {
        let actual = env.file_store().unwrap_or_else(|| "<absent>\n".into());
        if actual != after {
            problems.push(format!(
                "{name}: file store afterwards\n  expected {after:?}\n  got      {actual:?}"
            ));
        }
    }
    if bless {
        std::fs::write(dir.join(format!("{name}.out")), &out.stdout).unwrap();
        let err_path = dir.join(format!("{name}.err"));
        if stderr.is_empty() {
            let _ = std::fs::remove_file(err_path);
        } else {
            std::fs::write(err_path, &stderr).unwrap();
        }
    }
    problems
}

fn case_names(dir: &Path) -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(dir)
        .expect("tests/golden exists")
        .filter_map(|e| {
            let name = e.unwrap().file_name().into_string().unwrap();
            name.strip_suffix(".in").map(str::to_owned)
        })
        .collect();
    names.sort();
    names
}

#[test]
fn golden_requests_get_exactly_the_golden_answers() {
    let dir = golden_dir();
    let bless = std::env::var_os("GOCRED_BLESS").is_some_and(|v| v == "1");
    let names = case_names(&dir);
    assert!(names.len() >= 20, "golden cases went missing: {names:?}");
    // Every companion file belongs to a case: a typo in a name must not silently skip a check.
    for entry in std::fs::read_dir(&dir).unwrap() {
        let file = entry.unwrap().file_name().into_string().unwrap();
        assert!(
            names.iter().any(|n| {
                file.strip_prefix(n.as_str()).is_some_and(|ext| {
                    [
                        ".in",
                        ".out",
                        ".err",
                        ".code",
                        ".env",
                        ".args",
                        ".store",
                        ".store.after",
                        ".policy.toml",
                    ]
                    .contains(&ext)
                })
            }),
            "{file} belongs to no golden case"
        );
        if let Some(name) = file.strip_suffix(".in") {
            assert!(
                dir.join(format!("{name}.out")).exists(),
                "{name} has no .out (an empty answer needs an empty file)"
            );
        }
    }
    let problems: Vec<String> = std::thread::scope(|s| {
        let handles: Vec<_> = names
            .iter()
            .map(|n| s.spawn(|| run_case(&dir, n, bless)))
            .collect();
        handles
            .into_iter()
            .flat_map(|h| h.join().unwrap())
            .collect()
    });
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}
