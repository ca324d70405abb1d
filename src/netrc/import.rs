//! Which credential a netrc gives each host, as git would use it: the plan of
//! `gocred import-netrc`.
//!
//! git reads `~/.netrc` through libcurl ([`super::curl`]), which matches `machine` names without
//! the port and ASCII case-insensitively. gocred serves one credential for a host and its aliases
//! (letter case, one trailing dot, the default port), so a host is imported only when git would
//! send the same complete credential for every spelling of it, and:
//! - for `host:port`, only when git's entry (that of `machine host`, since libcurl ignores the
//!   port) is also the one go uses for `machine host:port`: otherwise git and go disagree about
//!   that port, and nothing is imported for it;
//! - never from the `default` entry (it would answer every host), never with an empty user name
//!   or password;
//! - where go ([`super::go`]) would use another entry or none, git's is imported and the note
//!   says so.
//!
//! Every other host named in the file gets a note saying why nothing is imported. Notes name
//! hosts and lines, never a login or password.

use super::{curl, go};
use crate::policy::Target;
use crate::secret::Secret;

/// What to do for one host the file names.
#[derive(Debug)]
pub struct Pick {
    /// The https target (normalized host, port unless default).
    pub target: Target,
    /// `host[:port]`, for messages.
    pub name: String,
    /// The line of the entry git uses, else where the host is first named.
    pub line: usize,
    pub outcome: Outcome,
}

#[derive(Debug)]
pub enum Outcome {
    Import {
        login: String,
        password: Secret,
        /// Set when go would send something else: why.
        go_differs: Option<String>,
    },
    /// Nothing imported, and why.
    Refuse(String),
}

/// The whole file's plan.
#[derive(Debug, Default)]
pub struct Plan {
    pub picks: Vec<Pick>,
    /// Notes about the file that concern no single host.
    pub notes: Vec<String>,
    /// What the file holds that an import does not carry over (a reason to keep it).
    pub left_behind: Vec<String>,
}

/// A name no DNS host has: what libcurl finds for it is the `default` entry, if any.
const NO_HOST: &str = "gocred-no-such-host.invalid";

fn same(a: &Option<(String, Secret)>, b: &Option<(String, Secret)>) -> bool {
    match (a, b) {
        (None, None) => true,
        (Some((l1, p1)), Some((l2, p2))) => l1 == l2 && p1 == p2,
        _ => false,
    }
}

fn describe(lookup: &curl::Lookup) -> String {
    match lookup {
        curl::Lookup::Match {
            line,
            default: true,
            ..
        } => format!("the `default` entry (line {line})"),
        curl::Lookup::Match { line, .. } => format!("the entry of line {line}"),
        curl::Lookup::NoMatch => "no entry".into(),
        curl::Lookup::Refused { line } => format!("nothing (it refuses the file at line {line})"),
    }
}

/// The plan for a netrc's bytes.
pub fn plan(data: &[u8]) -> Plan {
    let mut plan = Plan::default();
    let go_entries = go::entries(data);

    let fallback = curl::lookup(data, NO_HOST);
    if let curl::Lookup::Match { line, .. } = fallback {
        plan.notes.push(format!(
            "line {line}: the `default` entry is not imported: git would send it to every host, gocred serves named hosts only"
        ));
        plan.left_behind
            .push(format!("the `default` entry (line {line})"));
    }
    if data
        .split(|b| b.is_ascii_whitespace())
        .any(|w| w.eq_ignore_ascii_case(b"macdef"))
    {
        plan.left_behind.push("a macro (`macdef`)".into());
    }

    // Every name either reader compares with a host, in file order.
    let mut names: Vec<(usize, String)> = curl::machine_names(data);
    names.extend(go_entries.iter().map(|e| (e.line, e.machine.clone())));
    names.sort_by_key(|(line, _)| *line);
    let mut targets: Vec<(Target, usize)> = Vec::new();
    for (line, name) in names {
        let Some(target) = Target::new("https", &name, None) else {
            let note = format!("line {line}: a `machine` name that is not a host name (skipped)");
            if !plan.notes.contains(&note) {
                plan.notes.push(note);
                plan.left_behind.push(format!("line {line}"));
            }
            continue;
        };
        if !targets.iter().any(|(t, _)| *t == target) {
            targets.push((target, line));
        }
    }

    for (target, first_line) in targets {
        let host = target.host.clone();
        let name = match target.port {
            Some(p) => format!("{host}:{p}"),
            None => host.clone(),
        };
        let refuse = |why: String, line: usize| Pick {
            target: target.clone(),
            name: name.clone(),
            line,
            outcome: Outcome::Refuse(why),
        };
        // The spellings git may send that gocred serves as this host.
        let mut spellings = vec![host.clone()];
        let dotted = format!("{host}.");
        if Target::new("https", &dotted, None).is_some_and(|t| t.host == host) {
            spellings.push(dotted);
        }
        let lookups: Vec<curl::Lookup> = spellings.iter().map(|s| curl::lookup(data, s)).collect();
        if let curl::Lookup::Refused { line } = lookups[0] {
            plan.picks.push(refuse(
                format!("git's libcurl refuses this file at line {line} (a quote not closed on its line) before it finds {host}: git sends nothing, and its fetch fails"),
                first_line,
            ));
            continue;
        }
        let sent = lookups[0].sent();
        // An alias matters where the file names it (not through `default`): then git must
        // send the same for it as for the host.
        if let Some((i, other)) = lookups.iter().enumerate().skip(1).find(|(_, l)| {
            matches!(l, curl::Lookup::Match { default: false, .. })
                && l.sent().is_some()
                && !same(&l.sent(), &sent)
        }) {
            plan.picks.push(refuse(
                format!(
                    "git's libcurl uses {} for {host} but {} for {}: gocred serves both as one host",
                    describe(&lookups[0]),
                    describe(other),
                    spellings[i]
                ),
                first_line,
            ));
            continue;
        }
        let Some((login, password)) = sent else {
            let why = if target.port.is_some() {
                format!(
                    "git's libcurl matches `machine` names without the port and finds no entry for {host}: git sends nothing to {name} from this file"
                )
            } else {
                format!(
                    "git's libcurl uses no entry of this file for {host} (`machine {host}:443`, an entry in a macro, a comment or a dropped line, or one without login and password are never used)"
                )
            };
            plan.picks.push(refuse(why, first_line));
            continue;
        };
        let line = lookups[0].line().unwrap_or(first_line);
        if matches!(lookups[0], curl::Lookup::Match { default: true, .. }) {
            plan.picks.push(refuse(
                format!("git's libcurl uses the `default` entry (line {line}) for {host}, which gocred does not import"),
                first_line,
            ));
            continue;
        }
        if login.is_empty() || password.is_empty() {
            plan.picks.push(refuse(
                format!(
                    "git would send an empty {} for {host} (the entry of line {line} as libcurl reads it)",
                    if login.is_empty() { "user name" } else { "password" }
                ),
                line,
            ));
            continue;
        }
        let go_pick = go::lookup(&go_entries, &name);
        let go_same = go_pick.is_some_and(|e| e.login == login && e.password == password);
        if target.port.is_some() && !go_same {
            plan.picks.push(refuse(
                format!(
                    "git's libcurl matches `machine` names without the port, so for {name} git sends the entry of line {line} (`machine {host}`), and go {}",
                    go_pick.map_or("no entry".to_owned(), |e| format!("the entry of line {}", e.line))
                ),
                line,
            ));
            continue;
        }
        let go_differs = (!go_same).then(|| {
            format!(
                "go would use {} for {name} (it compares names exactly and reads (keyword, value) pairs per line); imported as git uses it",
                go_pick.map_or("no entry".to_owned(), |e| format!("the entry of line {}", e.line))
            )
        });
        plan.picks.push(Pick {
            target,
            name,
            line,
            outcome: Outcome::Import {
                login,
                password,
                go_differs,
            },
        });
    }
    for pick in &plan.picks {
        if matches!(pick.outcome, Outcome::Refuse(_)) {
            plan.left_behind
                .push(format!("{} (line {})", pick.name, pick.line));
        }
    }
    plan
}

#[cfg(test)]
mod tests {
    use super::*;

    fn outcome(data: &str, name: &str) -> Result<(String, String), String> {
        let plan = plan(data.as_bytes());
        let pick = plan
            .picks
            .iter()
            .find(|p| p.name == name)
            .unwrap_or_else(|| panic!("no pick for {name}: {plan:?}"));
        match &pick.outcome {
            Outcome::Import {
                login, password, ..
            } => Ok((login.clone(), password.expose().to_owned())),
            Outcome::Refuse(why) => Err(why.clone()),
        }
    }

    #[test]
    fn first_entry_wins_for_a_host_and_its_aliases() {
        let data = "machine Git.Corp.Example login u1 password p1\n\
                    machine git.corp.example login u2 password p2\n\
                    machine git.corp.example:443 login u3 password p3\n";
        assert_eq!(
            outcome(data, "git.corp.example"),
            Ok(("u1".into(), "p1".into()))
        );
        assert_eq!(plan(data.as_bytes()).picks.len(), 1);
        // A trailing-dot entry first: git uses it for `h.` but not for `h`: refused.
        let data = "machine h.example. login a password 1\nmachine h.example login b password 2\n";
        assert!(
            outcome(data, "h.example")
                .unwrap_err()
                .contains("gocred serves both")
        );
        // Only `:443`: no reader uses it.
        let data = "machine h.example:443 login a password 1\n";
        assert!(
            outcome(data, "h.example")
                .unwrap_err()
                .contains("uses no entry")
        );
    }

    #[test]
    fn ports_need_git_and_go_to_agree() {
        let data = "machine h.example:8443 login a password 1\n";
        assert!(
            outcome(data, "h.example:8443")
                .unwrap_err()
                .contains("without the port")
        );
        let data =
            "machine h.example login a password 1\nmachine h.example:8443 login a password 1\n";
        assert_eq!(
            outcome(data, "h.example:8443"),
            Ok(("a".into(), "1".into()))
        );
        let data =
            "machine h.example login a password 1\nmachine h.example:8443 login b password 2\n";
        assert!(
            outcome(data, "h.example:8443")
                .unwrap_err()
                .contains("go the entry of line 2")
        );
        assert_eq!(outcome(data, "h.example"), Ok(("a".into(), "1".into())));
    }

    #[test]
    fn curl_line_rules_decide() {
        // `#` starts a comment even where a value is expected: git sends `machine` as password.
        let data = "machine a.example login u password #p\nmachine b.example login v password w\n";
        assert_eq!(
            outcome(data, "a.example"),
            Ok(("u".into(), "machine".into()))
        );
        assert!(matches!(
            plan(data.as_bytes())
                .picks
                .iter()
                .find(|p| p.name == "a.example")
                .unwrap()
                .outcome,
            Outcome::Import {
                go_differs: Some(_),
                ..
            }
        ));
        let data =
            "machine a.example login u password p\0x\nmachine b.example login v password w\n";
        assert!(outcome(data, "a.example").is_err());
        assert!(outcome(data, "b.example").is_err());
        let data = "default login d password dp\n";
        let p = plan(data.as_bytes());
        assert!(p.picks.is_empty() && p.notes[0].contains("`default`"));
        let data = "machine a.example login u\ndefault login d password dp\n";
        assert!(
            outcome(data, "a.example")
                .unwrap_err()
                .contains("`default` entry")
        );
        let data = "machine a.example login u password \"p\n";
        assert!(
            outcome(data, "a.example")
                .unwrap_err()
                .contains("refuses this file")
        );
        let data = "machine a.example login u\n";
        assert!(
            outcome(data, "a.example")
                .unwrap_err()
                .contains("empty password")
        );
    }
}
