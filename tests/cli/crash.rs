//! Crash safety, observed from outside: `gocred store`, `gocred erase` and `gocred netrc --output`
//! killed with SIGKILL at random points leave their file with exactly the old or the new content
//! (parsed, never torn or empty), mode 0600, and at most one stale temporary file (the next writer
//! sweeps the ones of dead writers). A full disk (RLIMIT_FSIZE) gives one error line naming the
//! file, a non-zero exit, and the old file intact.
//!
//! Delays are random within how long a whole run takes here (measured first), so kills land
//! before, inside and after the write; the seed is printed, `GOCRED_CRASH_SEED` replays it.

use crate::common::{GOCRED, TestEnv};
use gocred::source::record;
use std::collections::BTreeSet;
use std::io::Write;
use std::os::unix::fs::PermissionsExt;
use std::os::unix::process::CommandExt;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

const POLICY: &str = "[[rule]]\nurl = \"https://*.crash.example\"\nsources = [\"file\"]\nstore = \"file\"\n\n\
    [[rule]]\nurl = \"https://git.crash.example\"\nsources = [\"file\"]\nstore = \"file\"\n";

/// Small, seedable, good enough to spread kill delays.
struct Rng(u64);

impl Rng {
    fn from_env_or_time() -> Rng {
        let seed = std::env::var("GOCRED_CRASH_SEED")
            .ok()
            .and_then(|s| s.parse().ok())
            .unwrap_or_else(|| {
                std::time::SystemTime::now()
                    .duration_since(std::time::UNIX_EPOCH)
                    .unwrap()
                    .as_nanos() as u64
                    | 1
            });
        eprintln!("crash test seed: GOCRED_CRASH_SEED={seed}");
        Rng(seed)
    }

    fn below(&mut self, n: u64) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0 % n.max(1)
    }
}

fn spawn(env: &TestEnv, args: &[&str], stdin: &str) -> Child {
    let mut child = Command::new(GOCRED)
        .args(args)
        .env_clear()
        .envs(env.base_env())
        .current_dir(env.root())
        .stdin(Stdio::piped())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("spawn gocred");
    let mut pipe = child.stdin.take().unwrap();
    pipe.write_all(stdin.as_bytes()).unwrap();
    drop(pipe);
    child
}

/// Runs `args` to completion and returns how long it took.
fn timed_run(env: &TestEnv, args: &[&str], stdin: &str) -> Duration {
    let started = Instant::now();
    let status = spawn(env, args, stdin).wait().unwrap();
    assert!(status.success(), "gocred {args:?} failed");
    started.elapsed()
}

/// Kills `child` with SIGKILL after `delay` (or lets it finish first) and reaps it.
fn kill_after(mut child: Child, delay: Duration) {
    std::thread::sleep(delay);
    let _ = child.kill();
    child.wait().unwrap();
}

/// The entries of the file store, as (scope, user, password), order ignored.
fn entries(path: &Path) -> BTreeSet<(String, String, String)> {
    let bytes = std::fs::read(path).expect("the file store exists");
    assert!(!bytes.is_empty(), "the file store is empty");
    record::decode(&bytes)
        .unwrap_or_else(|e| panic!("torn file store ({e}): {}", String::from_utf8_lossy(&bytes)))
        .into_iter()
        .map(|r| {
            (
                r.scope.0,
                r.cred.username,
                r.cred.password.expose().to_owned(),
            )
        })
        .collect()
}

fn mode(path: &Path) -> u32 {
    std::fs::metadata(path).unwrap().permissions().mode() & 0o777
}

/// Temporary files the atomic writer left beside `path`.
fn temp_files(path: &Path) -> Vec<String> {
    let prefix = format!(".{}.tmp.", path.file_name().unwrap().to_string_lossy());
    std::fs::read_dir(path.parent().unwrap())
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| n.starts_with(&prefix))
        .collect()
}

/// Writes a file store holding the entries `store_request(i)` would store, for each `i`.
fn plant(store: &Path, range: std::ops::Range<usize>) {
    let records: Vec<record::Record> = range
        .map(|i| record::Record {
            scope: gocred::policy::ScopeKey(format!("https://h{i}.crash.example")),
            path: None,
            unknown: Vec::new(),
            cred: record::Credential {
                username: format!("u{i}"),
                password: gocred::secret::Secret::new(format!("SENTINEL{i}z")),
                password_expiry_utc: None,
                oauth_refresh_token: None,
            },
        })
        .collect();
    let bytes = record::encode(&records).unwrap();
    gocred::fs::write_private_atomic(store, bytes.as_bytes()).unwrap();
}

fn store_request(i: usize) -> String {
    format!("protocol=https\nhost=h{i}.crash.example\nusername=u{i}\npassword=SENTINEL{i}z\n")
}

/// The kill window (microseconds), widened when no run finished yet and narrowed when none was
/// cut short, every 10 rounds: the machine may be much busier (or idler) than when measured.
fn adapt(window: u64, round: usize, outcomes: &Outcomes) -> u64 {
    if round == 0 || !round.is_multiple_of(10) {
        window
    } else if outcomes.new == 0 {
        window * 2
    } else if outcomes.old == 0 {
        (window / 2).max(1000)
    } else {
        window
    }
}

#[derive(Default, Debug)]
struct Outcomes {
    old: usize,
    new: usize,
    temp_left: usize,
}

#[test]
fn store_and_erase_killed_at_random_points_leave_the_old_or_the_new_store() {
    let env = TestEnv::new();
    env.policy(POLICY);
    let store = env.file_store_path();
    // A store of some size, so that a write takes a moment.
    plant(&store, 0..150);
    let mut rng = Rng::from_env_or_time();
    let full_run = (0..3)
        .map(|i| {
            timed_run(&env, &["store"], &store_request(1000 + i));
            timed_run(&env, &["erase"], &store_request(1000 + i))
        })
        .max()
        .unwrap();
    let mut window = full_run.as_micros() as u64 * 5 / 4;

    let mut outcomes = Outcomes::default();
    let mut next_host = 2000;
    for round in 0..120 {
        let before = entries(&store);
        let (args, request, after) = if round % 2 == 0 {
            next_host += 1;
            let mut after = before.clone();
            after.insert((
                format!("https://h{next_host}.crash.example"),
                format!("u{next_host}"),
                format!("SENTINEL{next_host}z"),
            ));
            (["store"], store_request(next_host), after)
        } else {
            let victim = before
                .iter()
                .nth(rng.below(before.len() as u64) as usize)
                .unwrap();
            let host = victim.0.trim_start_matches("https://").to_owned();
            let mut after = before.clone();
            after.remove(&victim.clone());
            (
                ["erase"],
                format!(
                    "protocol=https\nhost={host}\nusername={}\npassword={}\n",
                    victim.1, victim.2
                ),
                after,
            )
        };
        window = adapt(window, round, &outcomes);
        let delay = Duration::from_micros(rng.below(window));
        kill_after(spawn(&env, &args, &request), delay);

        let now = entries(&store);
        assert!(
            now == before || now == after,
            "round {round} ({args:?} killed after {delay:?}): neither the old nor the new store"
        );
        if now == before {
            outcomes.old += 1;
        } else {
            outcomes.new += 1;
        }
        assert_eq!(mode(&store), 0o600, "round {round}");
        let temps = temp_files(&store);
        assert!(
            temps.len() <= 1,
            "round {round}: stale temp files pile up: {temps:?}"
        );
        outcomes.temp_left += temps.len();
    }
    eprintln!("{outcomes:?} (a full store+erase run takes {full_run:?})");
    assert!(
        outcomes.old > 0 && outcomes.new > 0,
        "the kills all landed on one side of the write: {outcomes:?}"
    );
    // One clean write sweeps what a killed writer left.
    env.gocred(&["store"]).stdin(store_request(9999)).success();
    assert_eq!(temp_files(&store), Vec::<String>::new());
}

#[test]
fn netrc_output_killed_at_random_points_leaves_the_old_or_the_new_file() {
    let env = TestEnv::new();
    env.policy(POLICY);
    env.gocred(&["store"])
        .stdin("protocol=https\nhost=git.crash.example\nusername=alice\npassword=new-secret\n")
        .success();
    let new = env.gocred(&["netrc"]).success().stdout;
    assert!(new.contains("new-secret"), "{new}");
    let old = "machine git.crash.example login alice password old-secret\n";
    let target = env.root().join("netrc");
    let target_arg = target.to_str().unwrap().to_owned();
    let reset = || {
        let tmp = env.root().join("netrc.reset");
        std::fs::write(&tmp, old).unwrap();
        std::fs::set_permissions(&tmp, std::fs::Permissions::from_mode(0o600)).unwrap();
        std::fs::rename(&tmp, &target).unwrap();
    };
    reset();
    let args = ["netrc", "--output", target_arg.as_str()];
    let full_run = (0..3).map(|_| timed_run(&env, &args, "")).max().unwrap();
    let mut window = full_run.as_micros() as u64 * 5 / 4;
    let mut rng = Rng::from_env_or_time();
    let mut outcomes = Outcomes::default();
    for round in 0..50 {
        reset();
        window = adapt(window, round, &outcomes);
        let delay = Duration::from_micros(rng.below(window));
        kill_after(spawn(&env, &args, ""), delay);
        let now = std::fs::read_to_string(&target).expect("the netrc exists");
        assert!(
            now == old || now == new,
            "round {round} (killed after {delay:?}): torn netrc {now:?}"
        );
        if now == old {
            outcomes.old += 1;
        } else {
            outcomes.new += 1;
        }
        assert_eq!(mode(&target), 0o600, "round {round}");
        let temps = temp_files(&target);
        assert!(
            temps.len() <= 1,
            "round {round}: stale temp files pile up: {temps:?}"
        );
        outcomes.temp_left += temps.len();
    }
    eprintln!("{outcomes:?} (a full netrc --output run takes {full_run:?})");
    assert!(outcomes.old > 0 && outcomes.new > 0, "{outcomes:?}");
    timed_run(&env, &args, "");
    assert_eq!(temp_files(&target), Vec::<String>::new());
}

/// Runs `args` with RLIMIT_FSIZE set to `limit` bytes in the child.
fn run_with_file_size_limit(
    env: &TestEnv,
    args: &[&str],
    stdin: &str,
    limit: u64,
) -> (std::process::ExitStatus, String) {
    let mut command = Command::new(GOCRED);
    command
        .args(args)
        .env_clear()
        .envs(env.base_env())
        .current_dir(env.root())
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    // SAFETY: only setrlimit, which is async-signal-safe, between fork and exec.
    unsafe {
        command.pre_exec(move || {
            let rlimit = libc::rlimit {
                rlim_cur: limit,
                rlim_max: limit,
            };
            if libc::setrlimit(libc::RLIMIT_FSIZE, &rlimit) != 0 {
                return Err(std::io::Error::last_os_error());
            }
            Ok(())
        });
    }
    let mut child = command.spawn().unwrap();
    let mut pipe = child.stdin.take().unwrap();
    pipe.write_all(stdin.as_bytes()).unwrap();
    drop(pipe);
    let out = child.wait_with_output().unwrap();
    (
        out.status,
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

#[test]
fn a_full_disk_gives_one_error_naming_the_file_and_keeps_the_old_one() {
    let env = TestEnv::new();
    env.policy(POLICY);
    let store = env.file_store_path();
    plant(&store, 0..60);
    let old = std::fs::read(&store).unwrap();
    let limit = old.len() as u64; // the new store is one entry larger
    let (status, stderr) = run_with_file_size_limit(&env, &["store"], &store_request(500), limit);
    assert!(
        status.code() == Some(1),
        "expected exit 1, not death by a signal: {status:?} {stderr:?}"
    );
    let lines: Vec<&str> = stderr.lines().collect();
    assert_eq!(lines.len(), 1, "{stderr}");
    assert!(
        lines[0].contains(&store.display().to_string()) && lines[0].contains("too large"),
        "{stderr}"
    );
    assert!(!stderr.contains("SENTINEL"), "{stderr}");
    assert_eq!(
        std::fs::read(&store).unwrap(),
        old,
        "the old store is intact"
    );
    assert_eq!(mode(&store), 0o600);
    assert_eq!(temp_files(&store), Vec::<String>::new());

    // netrc --output likewise.
    let target = env.root().join("netrc");
    std::fs::write(&target, "machine keep login k password k\n").unwrap();
    std::fs::set_permissions(&target, std::fs::Permissions::from_mode(0o600)).unwrap();
    env.policy(&format!(
        "{POLICY}\n[[rule]]\nurl = \"https://h1.crash.example\"\nsources = [\"file\"]\nstore = \"file\"\n"
    ));
    let (status, stderr) = run_with_file_size_limit(
        &env,
        &["netrc", "--output", target.to_str().unwrap()],
        "",
        8,
    );
    assert_eq!(status.code(), Some(1), "{status:?} {stderr:?}");
    // One error (the notes aside), and the OS's reason under it as its cause.
    let errors: Vec<&str> = stderr
        .lines()
        .filter(|l| !l.starts_with("gocred netrc: "))
        .collect();
    assert_eq!(errors.len(), 2, "{stderr}");
    assert!(
        errors[0].starts_with("gocred: ") && errors[0].contains(&target.display().to_string()),
        "{stderr}"
    );
    assert!(
        errors[1].starts_with("Caused by: File too large"),
        "{stderr}"
    );
    assert!(!stderr.contains("SENTINEL"), "{stderr}");
    assert_eq!(
        std::fs::read_to_string(&target).unwrap(),
        "machine keep login k password k\n"
    );
    assert_eq!(temp_files(&target), Vec::<String>::new());
}
