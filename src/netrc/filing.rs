//! Where `gocred import-netrc` files each entry of a netrc under a policy ([`file`]), and
//! whether what it stored reads back as `get` would answer it ([`unverified`]).

use super::import::{Outcome, Plan};
use crate::login::keychain_rule;
use crate::policy::{Decision, Policy, SourceKind, Target};
use crate::secret::Secret;
use crate::source::sources::Sources;

/// One entry to import.
pub struct Item {
    pub machine: String,
    pub line: usize,
    pub target: Target,
    pub username: String,
    pub password: Secret,
    /// The store it goes to.
    pub store: SourceKind,
    /// `Some(rule text)` when no rule serves the machine yet.
    pub new_rule: Option<String>,
    pub stored: bool,
}

/// Every entry of `plan` with where it goes under `policy`.
pub struct Filing {
    pub items: Vec<Item>,
    /// One line per entry not imported (and the plan's own notes), saying why.
    pub notes: Vec<String>,
    /// What keeps the file under `--remove` (its content would be lost).
    pub keep: Vec<String>,
    /// The rules to add for hosts no rule serves: one per origin, in file order.
    pub rules: Vec<String>,
}

/// Files each entry of `plan` under the rule `policy` picks for `https://<host>` (its `store`);
/// a host no rule serves goes to the keychain under a new exact-host rule. An `oauth` rule's
/// host and a rule with no `store` are left out, with a note.
pub fn file(plan: Plan, policy: &Policy) -> Filing {
    let mut notes: Vec<String> = plan.notes;
    // What keeps the file under --remove (its content would be lost).
    let mut keep: Vec<String> = plan.left_behind;
    let mut items: Vec<Item> = Vec::new();
    for pick in plan.picks {
        let machine = pick.name;
        let (username, password) = match pick.outcome {
            Outcome::Refuse(why) => {
                notes.push(format!(
                    "line {}: {machine}: not imported: {why}",
                    pick.line
                ));
                continue;
            }
            Outcome::Import {
                login,
                password,
                go_differs,
            } => {
                if let Some(why) = go_differs {
                    notes.push(format!("line {}: {machine}: {why}", pick.line));
                }
                (login, password)
            }
        };
        let target = pick.target;
        let (store, new_rule) = match policy.decide(target.clone()) {
            Decision::NotManaged => (SourceKind::Keychain, Some(keychain_rule(&target.origin()))),
            Decision::Managed { rule, .. } => {
                if rule.oauth.is_some() {
                    notes.push(format!(
                        "line {}: {machine}: skipped: its rule {} (line {}) gets OAuth tokens from `gocred login {machine}`",
                        pick.line, rule.url, rule.line
                    ));
                    keep.push(format!("{machine} (line {})", pick.line));
                    continue;
                }
                let Some(store) = rule.store else {
                    notes.push(format!(
                        "line {}: {machine}: not imported: its rule {} (line {} of {}) names no `store`; add `store = \"keychain\"` (or \"file\") to it",
                        pick.line,
                        rule.url,
                        rule.line,
                        policy.path.display()
                    ));
                    keep.push(format!("{machine} (line {})", pick.line));
                    continue;
                };
                (store, None)
            }
        };
        items.push(Item {
            machine,
            line: pick.line,
            target,
            username,
            password,
            store,
            new_rule,
            stored: false,
        });
    }

    // New rules: one per origin, in file order.
    let mut rules: Vec<String> = Vec::new();
    for it in &items {
        if let Some(r) = &it.new_rule
            && !rules.contains(r)
        {
            rules.push(r.clone());
        }
    }
    Filing {
        items,
        notes,
        keep,
        rules,
    }
}

/// The entries of `items` that do not read back through `sources` (the policy on disk) as
/// stored, exactly as `get` answers a request without a user name (what git and go send):
/// `machine (why)` each.
pub fn unverified(sources: &mut Sources<'_>, items: &[Item]) -> Vec<String> {
    let on_disk = sources.policy();
    let mut unverified: Vec<String> = Vec::new();
    for it in items {
        let why = match on_disk.decide(it.target.clone()) {
            Decision::NotManaged => Some(
                "no rule in the config serves it (add the rule above, or use --save)".to_owned(),
            ),
            Decision::Managed { rule, scope, .. } => match sources.resolve(rule, &scope, None) {
                Ok(Some(c)) if c.username == it.username && c.password == it.password => None,
                Ok(Some(_)) => Some(format!(
                    "its rule {} answers with another credential (an earlier source)",
                    rule.url
                )),
                Ok(None) => Some(match &rule.username {
                    Some(u) if *u != it.username => format!(
                        "its rule {} asks for user {u}, the file has another",
                        rule.url
                    ),
                    _ => "not found when read back".to_owned(),
                }),
                Err(e) => Some(format!("cannot read it back: {e}")),
            },
        };
        if let Some(why) = why {
            unverified.push(format!("{} ({why})", it.machine));
        }
    }
    unverified
}
