//! Build-time facts for `gocred --version`: the commit the binary was built from, as
//! `GOCRED_COMMIT`.
//!
//! `$GOCRED_BUILD_COMMIT` wins when set (a build from a source tarball, which has no `.git`);
//! else `git rev-parse --short HEAD` when this package is the top of a git work tree; else
//! `unknown`. Cargo reruns this script only when HEAD, the branch it points at or the packed refs
//! change, so an ordinary rebuild does not run git.

use std::path::{Path, PathBuf};
use std::process::Command;

fn main() {
    println!("cargo::rerun-if-changed=build.rs");
    println!("cargo::rerun-if-env-changed=GOCRED_BUILD_COMMIT");
    let commit = std::env::var("GOCRED_BUILD_COMMIT")
        .ok()
        .map(|c| c.trim().to_owned())
        .filter(|c| !c.is_empty())
        .or_else(git_commit)
        .unwrap_or_else(|| "unknown".to_owned());
    println!("cargo::rustc-env=GOCRED_COMMIT={commit}");
}

fn manifest_dir() -> PathBuf {
    PathBuf::from(std::env::var_os("CARGO_MANIFEST_DIR").expect("cargo sets CARGO_MANIFEST_DIR"))
}

/// One line of `git ARGS` run in the package directory, or `None` if git fails or is missing.
fn git(args: &[&str]) -> Option<String> {
    let out = Command::new("git")
        .args(args)
        .current_dir(manifest_dir())
        .output()
        .ok()?;
    let line = String::from_utf8(out.stdout).ok()?.trim().to_owned();
    (out.status.success() && !line.is_empty()).then_some(line)
}

fn git_commit() -> Option<String> {
    // Only this package's own repository: a tarball unpacked inside some other work tree must not
    // report that tree's commit.
    let top = PathBuf::from(git(&["rev-parse", "--show-toplevel"])?);
    if top.canonicalize().ok()? != manifest_dir().canonicalize().ok()? {
        return None;
    }
    let commit = git(&["rev-parse", "--short", "HEAD"])?;

    // git prints these relative to the directory it ran in, unless they are absolute already.
    let git_dir = manifest_dir().join(git(&["rev-parse", "--git-dir"])?);
    let common_dir = manifest_dir().join(git(&["rev-parse", "--git-common-dir"])?);
    watch(&git_dir.join("HEAD"));
    if let Some(branch) = git(&["symbolic-ref", "-q", "HEAD"]) {
        // A commit rewrites the branch's file, or creates it when the ref was packed. A path that
        // does not exist would make cargo rerun this script on every build, so watch the
        // directory the file will appear in instead.
        let loose = common_dir.join(&branch);
        if loose.exists() {
            watch(&loose);
        } else if let Some(parent) = loose.parent().filter(|p| p.exists()) {
            watch(parent);
        }
    }
    let packed = common_dir.join("packed-refs");
    if packed.exists() {
        watch(&packed);
    }
    Some(commit)
}

fn watch(path: &Path) {
    println!("cargo::rerun-if-changed={}", path.display());
}
