//! The harness itself: commands really start from a cleared, per-test environment.

use crate::common::TestEnv;

#[test]
fn commands_see_only_the_test_environment() {
    let mut env = TestEnv::new();
    env.set_env("EXTRA_FOR_TEST", "yes");
    let out = env.command("env").success();
    let mut names: Vec<&str> = out
        .stdout
        .lines()
        .filter_map(|l| l.split_once('=').map(|(k, _)| k))
        .collect();
    names.sort_unstable();
    assert_eq!(
        names,
        [
            "EXTRA_FOR_TEST",
            "GIT_CONFIG_GLOBAL",
            "GIT_CONFIG_NOSYSTEM",
            "GOCRED_CONFIG",
            "HOME",
            "LANG",
            "PATH",
            "XDG_CACHE_HOME",
            "XDG_CONFIG_HOME",
            "XDG_DATA_HOME",
            "XDG_RUNTIME_DIR",
        ]
    );
    let home = env.home().to_str().unwrap();
    assert!(out.stdout.contains(&format!("HOME={home}\n")));
    assert!(out.stdout.contains("PATH=/usr/local/bin:"));
}

#[test]
fn every_test_gets_its_own_private_home() {
    let a = TestEnv::new();
    let b = TestEnv::new();
    assert_ne!(a.home(), b.home());
    for dir in [a.runtime_dir(), a.home().to_owned()] {
        let mode = std::os::unix::fs::PermissionsExt::mode(
            &std::fs::metadata(&dir).unwrap().permissions(),
        );
        assert_eq!(mode & 0o777, 0o700, "{}", dir.display());
    }
    // git sees only the test's global config and the 2.47 build first on PATH.
    let out = a
        .git(&["config", "--show-origin", "--get", "user.email"])
        .success();
    assert!(
        out.stdout.contains(a.git_config_global().to_str().unwrap()),
        "{out}"
    );
    let version = a.git(&["--version"]).success();
    assert!(version.stdout.starts_with("git version 2.4"), "{version}");
}

#[test]
fn gocred_reads_the_policy_the_test_wrote() {
    let env = TestEnv::new();
    let out = env.gocred(&["config", "path"]).success();
    assert_eq!(out.stdout.trim_end(), env.policy_path().to_str().unwrap());
}
