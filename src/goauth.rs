//! What `gocred goauth` answers ([`answer`]): a GOAUTH command for the go command (Go ≥ 1.24,
//! `go help goauth`): `GOAUTH='gocred goauth'`.
//!
//! Go runs it once before its first HTTPS request with no argument (stdin empty), and again after
//! any 4xx answer with the full URL as the last argument and the response head on stdin. The
//! answer is zero or more credential sets, each:
//!
//! ```text
//! https://host[:port]/      one or more URL prefixes the headers are for
//!                           a blank line
//! Authorization: Basic …    header lines
//!                           a blank line
//! ```
//!
//! - No argument: only rules with `goauth = "preemptive"` answer (their credential is sent with
//!   every request to that host, before the server asks).
//! - With a URL: only the rule policy picks for that URL answers, for that URL's host alone (and
//!   only under the rule's path prefix when it has one). A host policy does not allow gets
//!   nothing, and so does plain http. The URL goes through the one normalization of a target:
//!   its query is split off, then its path is decoded and checked, so `%2e%2e` and friends never
//!   reach a path rule. A URL with user-info gets no answer; an argument that starts with `-`
//!   is refused with exit 1 (go never passes one: someone else put it there).
//!
//! The credential is resolved exactly as `get` resolves it (an expired OAuth token is refreshed
//! first). A source that cannot answer leaves a note on stderr and no answer, with exit 0: a
//! failing GOAUTH command stops the whole go command, a missing answer only this request.

use crate::policy::{Decision, HostPattern, Policy, Rule, ScopeKey, Target, TargetError};
use crate::secret::SecretBytes;
use crate::source::Credential;
use crate::source::sources::Sources;

/// The answer to one GOAUTH call for `sources`' policy: with no URL (`target` `None`) the
/// `goauth = "preemptive"` rules' credential sets; with one (already normalized; an `Err` is a
/// URL no rule could name), the set of the rule policy picks for it. Also the notes to show (a
/// source that could not answer, an unset `env` variable).
pub fn answer(
    resolver: &mut Sources<'_>,
    target: Option<Result<Target, TargetError>>,
) -> (SecretBytes, Vec<String>) {
    let policy = resolver.policy();
    let mut out = SecretBytes::default();
    let mut notes = Vec::new();
    match target {
        None => {
            for rule in policy.rules.iter().filter(|r| r.goauth_preemptive) {
                let HostPattern::Exact(host) = &rule.pattern.host else {
                    continue; // config check refuses this
                };
                let machine = crate::policy::machine_name(host, rule.pattern.port);
                let Some(target) = crate::policy::https_target(&machine) else {
                    continue;
                };
                if let Decision::Managed {
                    rule: chosen,
                    scope,
                    target,
                } = policy.decide(target)
                    && std::ptr::eq(chosen, rule)
                {
                    add_set(resolver, rule, &scope, &target, &mut out, &mut notes);
                }
            }
        }
        Some(target) => {
            if let Some((rule, scope, target)) = decide_url(policy, target.ok()) {
                add_set(resolver, rule, &scope, &target, &mut out, &mut notes);
            }
        }
    }
    // An unset `env` variable (a CI job without its token): named, once.
    notes.extend(resolver.missing_notes("go"));
    (out, notes)
}

/// The rule and scope for the URL Go asks about (normalized: its query split off, its path
/// decoded and checked); `None` when policy does not allow it, or it is not https, or it has
/// user-info.
fn decide_url(policy: &Policy, target: Option<Target>) -> Option<(&Rule, ScopeKey, Target)> {
    let target = target.filter(|t| t.scheme == "https")?;
    match policy.decide(target) {
        // Go applies the answer to the rule's whole prefix: none when the machine policy
        // denies part of it.
        Decision::Managed {
            rule,
            scope,
            target,
        } if !policy
            .machine
            .as_ref()
            .is_some_and(|m| m.denies_prefix(rule, &target)) =>
        {
            Some((rule, scope, target))
        }
        Decision::Managed { .. } | Decision::NotManaged => None,
    }
}

/// Appends one credential set for `rule` on `target`'s host (under the rule's path prefix).
fn add_set(
    resolver: &mut Sources,
    rule: &Rule,
    scope: &ScopeKey,
    target: &Target,
    out: &mut SecretBytes,
    notes: &mut Vec<String>,
) {
    let cred = match resolver.resolve(rule, scope, None) {
        Ok(Some(cred)) => cred,
        Ok(None) => return,
        Err(e) => {
            notes.push(format!("{}: no answer: {}", target.origin(), e));
            return;
        }
    };
    if cred.username.contains(':') || cred.username.contains(['\r', '\n', '\0']) {
        notes.push(format!(
            "{}: no answer: the user name cannot go in a Basic header",
            target.origin()
        ));
        return;
    }
    let mut prefix = target.origin();
    prefix.push('/');
    if let Some(path) = &rule.pattern.path {
        prefix.push_str(path);
        prefix.push('/');
    }
    out.0.extend_from_slice(prefix.as_bytes());
    out.0.extend_from_slice(b"\n\nAuthorization: Basic ");
    basic(&cred, out);
    out.0.extend_from_slice(b"\n\n");
}

/// `base64(user:password)`, written straight into the secret buffer.
fn basic(cred: &Credential, out: &mut SecretBytes) {
    basic_into(cred, out);
}

/// `base64(user:password)` appended to `out` (also `gocred doctor`'s one request).
pub fn basic_into(cred: &Credential, out: &mut SecretBytes) {
    let mut plain = SecretBytes::default();
    plain.0.extend_from_slice(cred.username.as_bytes());
    plain.0.push(b':');
    plain.0.extend_from_slice(cred.password.expose().as_bytes());
    base64_into(&plain.0, &mut out.0);
}

fn base64_into(input: &[u8], out: &mut Vec<u8>) {
    const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    for chunk in input.chunks(3) {
        let n = chunk
            .iter()
            .enumerate()
            .fold(0u32, |n, (i, &b)| n | (u32::from(b) << (16 - 8 * i)));
        for i in 0..4 {
            if i <= chunk.len() {
                out.push(ALPHABET[(n >> (18 - 6 * i)) as usize & 63]);
            } else {
                out.push(b'=');
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::base64_into;

    #[test]
    fn base64_matches_rfc_4648_vectors() {
        for (plain, encoded) in [
            ("", ""),
            ("f", "Zg=="),
            ("fo", "Zm8="),
            ("foo", "Zm9v"),
            ("foob", "Zm9vYg=="),
            ("fooba", "Zm9vYmE="),
            ("foobar", "Zm9vYmFy"),
            ("alice:s3cret", "YWxpY2U6czNjcmV0"),
        ] {
            let mut out = Vec::new();
            base64_into(plain.as_bytes(), &mut out);
            assert_eq!(String::from_utf8(out).unwrap(), encoded, "{plain}");
        }
    }
}
