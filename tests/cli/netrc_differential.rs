//! Every netrc gocred writes, and every netrc it imports, read by the real readers: curl and git
//! (libcurl), go, and Python's `netrc`, against loopback hosts that log what each one receives
//! (`common::netrc_world`). Needs root (a private network namespace), curl and python3.
//!
//! - `gocred netrc`: every reader sees exactly the entries gocred meant, and no other host
//!   gets anything (curl and git: `machine HOST` for every port of HOST, as libcurl matches
//!   without the port; go: `host[:port]` exactly; Python: the whole file).
//! - `gocred import-netrc`: for a corpus of netrc files (hand-written cases, files made from a
//!   fixed seed of the words the readers treat differently, and the fuzzer's
//!   `fuzz/corpus/netrc`), gocred's models of libcurl and go (`gocred::netrc::{curl, go}`) agree
//!   with the real curl, git and go for every host, and every host gocred imports gets exactly
//!   what git sends it.

use crate::common::netrc_world::{NetrcWorld, Sent, UNREACHED, python};
use crate::netrc::{ADVERSARIAL, PORTS_POLICY, adversarial_setup, ports_setup};
use gocred::netrc::{curl, go, import};
use std::collections::BTreeMap;
use std::path::Path;

fn pair(login: &str, password: &str) -> Option<(String, String)> {
    Some((login.to_owned(), password.to_owned()))
}

/// The hosts of [`PORTS_POLICY`] with an exact name.
const PORTS_HOSTS: &[&str] = &[
    "solo.corp.example",
    "ports.corp.example",
    "clear.corp.example",
    "team.corp.example",
    "w.mirror.corp.example",
];
const OTHER: &str = "other.example";

#[test]
fn generated_netrc_reads_the_same_in_curl_git_go_and_python() {
    let mut names: Vec<String> = ADVERSARIAL.iter().map(|(h, _, _)| h.to_string()).collect();
    names.extend(PORTS_HOSTS.iter().map(|h| h.to_string()));
    names.push(OTHER.into());
    let world = NetrcWorld::new(&names);
    let env = &world.env;
    adversarial_setup(env, PORTS_POLICY);
    ports_setup(env);
    let out = env.gocred(&["netrc"]).success();
    let solo = env
        .gocred(&["get"])
        .stdin("protocol=https\nhost=solo.corp.example\n")
        .success()
        .stdout;
    let solo_user = solo
        .lines()
        .next()
        .unwrap()
        .strip_prefix("username=")
        .unwrap();
    let solo_pass = solo
        .lines()
        .nth(1)
        .unwrap()
        .strip_prefix("password=")
        .unwrap();
    // What gocred means to write: the clean adversarial entries, the uncontested host, and
    // the port entry. Everything else was left out with a note.
    let meant: BTreeMap<String, (String, String)> = [
        ("ok.corp.example", "alice", "ok-SENTINEL-0"),
        ("q.corp.example", "o'brien", "q'SENTINEL-16,=;$()"),
        ("solo.corp.example", solo_user, solo_pass),
        ("ports.corp.example:8443", "p8443", "ports-SENTINEL-3"),
    ]
    .into_iter()
    .map(|(m, l, p)| (m.to_owned(), (l.to_owned(), p.to_owned())))
    .collect();
    let netrc = env.write_file("generated.netrc", &out.stdout);
    assert_eq!(out.stdout.lines().count(), meant.len(), "{out}");
    // `gocred exec` hands go the same netrc (what the readers below read is what it writes).
    let exec = env
        .gocred(&["exec", "--", "sh", "-c", "cat \"$NETRC\""])
        .success();
    assert_eq!(exec.stdout, out.stdout, "{exec}");

    // Python reads the whole file: exactly these entries.
    assert_eq!(python(env, &netrc).unwrap(), meant, "python: {out}");

    let probes: Vec<String> = names
        .iter()
        .flat_map(|h| [h.clone(), format!("{h}:8443")])
        .collect();
    // libcurl matches `machine` without the port: a bare entry answers every port of its host
    // (which is why gocred leaves a host out when policy names another port of it), and a
    // `host:port` entry answers nothing.
    let curl_meant: Sent = probes
        .iter()
        .map(|p| {
            let host = p.split(':').next().unwrap();
            (p.clone(), meant.get(host).cloned())
        })
        .collect();
    assert_eq!(world.curl(&netrc, &probes), curl_meant, "curl: {out}");
    assert_eq!(
        world.git("git", &netrc, &probes),
        curl_meant,
        "git 2.47: {out}"
    );
    // Debian's git 2.39 links the same libcurl: it reads the file the same way.
    assert_eq!(
        world.git("/usr/bin/git", &netrc, &probes),
        curl_meant,
        "git 2.39: {out}"
    );
    // go matches `host[:port]` exactly.
    let go_meant: Sent = probes
        .iter()
        .map(|p| (p.clone(), meant.get(p).cloned()))
        .collect();
    assert_eq!(world.go(&netrc, &probes), go_meant, "go: {out}");
}

/// Hand-written netrc files for the import differential: each class of the issue.
const CASES: &[(&str, &[u8])] = &[
    (
        "first-entry-and-aliases",
        b"machine ONE.corp.example login first password one-1\n\
          machine one.corp.example login second password one-2\n\
          machine two.corp.example:443 login x password two-3\n\
          machine two.corp.example login y password two-4\n\
          machine three.corp.example. login a password three-5\n\
          machine three.corp.example login b password three-6\n\
          machine four.corp.example login a password four-7\n\
          machine four.corp.example login b password four-8\n\
          machine six.corp.example login a password six-10\n\
          machine six.corp.example:8443 login b password six-11\n\
          machine seven.corp.example login a password seven-12\n\
          machine seven.corp.example:8443 login a password seven-12\n",
    ),
    (
        "half-entries",
        b"machine a.corp.example login u1\nmachine a.corp.example login u2 password p2\n\
          machine b.corp.example login u\nmachine c.corp.example password p\n\
          machine d.corp.example\nmachine e.corp.example login v password w\n",
    ),
    (
        "comments",
        b"# machine a.corp.example login no password no\n\
          machine a.corp.example login u password #p\n\
          machine b.corp.example login v password w # trailing\n\
          machine c.corp.example login u #c password p\n\
          machine d.corp.example login u password p#x\n",
    ),
    (
        "nul-lines",
        b"machine a.corp.example login u password p\n\0x\n\
          machine b.corp.example login v password w\n\
          machine c.corp.example login c password c\0tail\n\
          machine d.corp.example login d password d\n\
          machine e.corp.example login e password e\n",
    ),
    (
        "macros",
        b"machine a.corp.example login u\nmacdef m\npassword p\n\n\
          machine b.corp.example login v password w\n\
          macdef x\nmachine c.corp.example login u password p\n  \n\
          machine d.corp.example login v password w\n\n\
          macdef y \nmachine e.corp.example login u password p\n",
    ),
    (
        "quotes",
        b"machine a.corp.example login \"u s\" password \"p\\\"q\"\n\
          machine b.corp.example login \"u\"Xpassword p\n\
          machine c.corp.example login c password \"c\n\
          machine d.corp.example login d password d\n",
    ),
    (
        "crlf-and-spaces",
        b"machine a.corp.example login u password p\r\n\
          machine\r\nb.corp.example login u password p\r\n\
          machine c.corp.example login\r\nu password p\r\n\
          machine d.corp.example \nlogin u password p \n\
          machine e.corp.example\tlogin\tu\tpassword\tp\x0bq\n",
    ),
    (
        "default",
        b"machine a.corp.example login u\ndefault login d password dp\n\
          machine b.corp.example login v password w\n",
    ),
    (
        "keyword-case-and-values",
        b"MACHINE a.corp.example LOGIN u PASSWORD p\n\
          machine b.corp.example login machine password login\n\
          machine c.corp.example login u password p password q\n\
          machine d.corp.example password p login u\n",
    ),
];

/// `count` netrc files made of the words and separators the readers treat differently, from a
/// fixed seed (the same files every run).
fn generated_cases(count: usize) -> Vec<(String, Vec<u8>)> {
    const WORDS: &[&str] = &[
        "machine",
        "MACHINE",
        "Machine",
        "default",
        "login",
        "LOGIN",
        "password",
        "Password",
        "macdef",
        "account",
        "a.corp.example",
        "b.corp.example",
        "A.CORP.EXAMPLE",
        "a.corp.example.",
        "a.corp.example:8443",
        "b.corp.example:443",
        "u",
        "v",
        "p1",
        "p2",
        "#",
        "#c",
        "\"q w\"",
        "\"x",
        "\"\"",
        "x\\y",
        "\"a\"b",
    ];
    const SEPARATORS: &[&str] = &[
        " ", " ", " ", "\t", "\n", "\n", "\r\n", "\n\n", " \n", "\0", "\u{b}",
    ];
    let mut state: u64 = 0x9e37_79b9_7f4a_7c15;
    let mut next = |n: usize| {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        (state % n as u64) as usize
    };
    (0..count)
        .map(|i| {
            let mut text = String::new();
            for _ in 0..8 + next(16) {
                text += WORDS[next(WORDS.len())];
                text += SEPARATORS[next(SEPARATORS.len())];
            }
            (format!("generated-{i}"), text.into_bytes())
        })
        .collect()
}

/// A host name a hosts file and a certificate can carry.
fn probe_name(name: &str) -> Option<String> {
    let name = name.to_ascii_lowercase();
    let ok = !name.is_empty()
        && name.len() <= 100
        && name != "localhost"
        && name.split('.').all(|l| {
            !l.is_empty()
                && l.len() <= 63
                && !l.starts_with('-')
                && !l.ends_with('-')
                && l.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-')
        })
        // A last label like a TLD: `a.0xe` or `h.1` is no name a resolver looks up.
        && name
            .rsplit('.')
            .next()
            .is_some_and(|tld| tld.bytes().all(|b| b.is_ascii_alphabetic()));
    ok.then_some(name)
}

/// The `host[:port]` names to ask about one file: what the models name, each on its own port
/// and 8443, and a host it never names.
fn probes(data: &[u8]) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    let mut names: Vec<String> = curl::machine_names(data)
        .into_iter()
        .map(|(_, n)| n)
        .collect();
    names.extend(go::entries(data).into_iter().map(|e| e.machine));
    names.push(OTHER.into());
    for name in names {
        let host = match name.rsplit_once(':') {
            Some((h, "8443")) => h,
            Some(_) => continue,
            None => name.as_str(),
        };
        let Some(host) = probe_name(host) else {
            continue;
        };
        for p in [host.clone(), format!("{host}:8443")] {
            if !out.contains(&p) {
                out.push(p);
            }
        }
    }
    out
}

fn lossy(sent: Option<(String, gocred::secret::Secret)>) -> Option<(String, String)> {
    sent.map(|(l, p)| (l, p.expose().to_owned()))
}

#[test]
fn import_netrc_differential_against_curl_git_and_go() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let mut corpus: Vec<(String, Vec<u8>)> = CASES
        .iter()
        .map(|(n, d)| (n.to_string(), d.to_vec()))
        .collect();
    corpus.extend(generated_cases(40));
    for dir in ["fuzz/corpus/netrc", "tests/fixtures/fuzz/netrc"] {
        let Ok(entries) = std::fs::read_dir(root.join(dir)) else {
            continue;
        };
        let mut files: Vec<_> = entries.flatten().map(|e| e.path()).collect();
        files.sort();
        for f in files {
            corpus.push((
                format!("{dir}/{}", f.file_name().unwrap().to_string_lossy()),
                std::fs::read(&f).unwrap(),
            ));
        }
    }
    let mut names: Vec<String> = Vec::new();
    for (_, data) in &corpus {
        for p in probes(data) {
            let host = p.split(':').next().unwrap().to_owned();
            if !names.contains(&host) {
                names.push(host);
            }
        }
    }
    let world = NetrcWorld::new(&names);
    let netrc = world.env.root().join("corpus.netrc");

    let mut failures: Vec<String> = Vec::new();
    let (mut hosts_checked, mut imported) = (0, 0);
    for (name, data) in &corpus {
        let probes = probes(data);
        std::fs::write(&netrc, data).unwrap();
        let real_curl = world.curl(&netrc, &probes);
        let real_git = world.git("git", &netrc, &probes);
        let real_go = world.go(&netrc, &probes);
        // Debian's git 2.39 links the same libcurl: the hand-written cases check it reads alike.
        if !name.contains('/')
            && !name.starts_with("generated-")
            && world.git("/usr/bin/git", &netrc, &probes) != real_git
        {
            failures.push(format!(
                "{name}: git 2.39 and git 2.47 send different credentials"
            ));
        }
        let go_entries = go::entries(data);
        for p in &probes {
            hosts_checked += 1;
            let host = p.split(':').next().unwrap();
            // A file libcurl refuses fails the transfer: no request reaches the host.
            let model_curl = match curl::lookup(data, host) {
                curl::Lookup::Refused { .. } => Some((UNREACHED.to_owned(), String::new())),
                found => lossy(found.sent()),
            };
            let model_go = go::lookup(&go_entries, p)
                .map(|e| (e.login.clone(), e.password.expose().to_owned()));
            for (reader, real, model) in [
                ("curl", &real_curl[p], &model_curl),
                ("git", &real_git[p], &model_curl),
                ("go", &real_go[p], &model_go),
            ] {
                if real != model {
                    failures.push(format!(
                        "{name}: {p}: {reader} sent {real:?}, gocred's model of it says {model:?}"
                    ));
                }
            }
        }
        // What gocred imports is what git sends, or nothing (with a note).
        if std::str::from_utf8(data).is_err() {
            continue; // import-netrc refuses the whole file
        }
        for pick in import::plan(data).picks {
            if let import::Outcome::Import {
                login, password, ..
            } = &pick.outcome
            {
                if !probes.contains(&pick.name) {
                    continue;
                }
                imported += 1;
                let want = pair(login, password.expose());
                match real_git.get(&pick.name) {
                    Some(got) if *got == want => {}
                    got => failures.push(format!(
                        "{name}: {}: gocred imports {want:?}, git sends {got:?}",
                        pick.name
                    )),
                }
            }
        }
    }
    assert!(
        failures.is_empty(),
        "{} disagreements over {} files, {hosts_checked} hosts, {imported} imports:\n{}",
        failures.len(),
        corpus.len(),
        failures.join("\n")
    );
    eprintln!(
        "netrc differential: {} files, {hosts_checked} hosts, {imported} imports: curl, git and go agree with gocred",
        corpus.len()
    );
}
