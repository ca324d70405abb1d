//! Reading what an OAuth endpoint answered: JSON (RFC 6749 §5.1), or the form encoding GitHub
//! falls back to without `Accept: application/json`, with errors possibly inside an HTTP 200.
//! Anything else (an HTML login page from a proxy, a 502 page) is described, never shown: a body
//! may hold a token.

use super::{Endpoint, OAuthError};
use crate::net::Reply;
use crate::secret::Secret;

/// The fields of an answer. String values only: numbers are kept as their decimal text.
pub(super) struct Fields {
    pairs: Vec<(String, Secret)>,
}

impl Fields {
    /// The value of `key`, which may be a secret: callers that show it must know it is not.
    pub(super) fn secret(&self, key: &str) -> Option<Secret> {
        self.pairs
            .iter()
            .find(|(k, _)| k == key)
            .map(|(_, v)| v.clone())
            .filter(|v| !v.is_empty())
    }

    /// A value that is never secret (codes, URLs, numbers, user names).
    pub(super) fn text(&self, key: &str) -> Option<String> {
        self.secret(key).map(|s| s.expose().to_owned())
    }

    pub(super) fn number(&self, key: &str) -> Option<u64> {
        let text = self.text(key)?;
        let text = text.trim();
        text.parse::<u64>().ok().or_else(|| {
            text.parse::<f64>()
                .ok()
                .filter(|f| *f >= 0.0)
                .map(|f| f as u64)
        })
    }
}

/// Parses `reply` from `endpoint` into fields, or into the OAuth error it carries. A reply
/// without an `error` field and with a non-2xx status is an error too.
pub(super) fn parse(endpoint: &Endpoint, reply: &Reply) -> Result<Fields, OAuthError> {
    if (300..400).contains(&reply.status) {
        // Never followed (crate::net): a token or device code must not travel to wherever a
        // server, or someone between, points it.
        return Err(OAuthError::BadAnswer {
            what: endpoint.what,
            host: endpoint.host(),
            status: reply.status,
            reason: "a redirect, which gocred never follows; name the endpoint's final URL in \
                     [rule.oauth]"
                .into(),
        });
    }
    let fields = decode(reply).map_err(|reason| OAuthError::BadAnswer {
        what: endpoint.what,
        host: endpoint.host(),
        status: reply.status,
        reason,
    })?;
    if let Some(code) = fields.text("error") {
        return Err(OAuthError::Server {
            what: endpoint.what,
            host: endpoint.host(),
            status: reply.status,
            code: one_line(&code, 80),
            description: fields
                .text("error_description")
                .map(|d| one_line(&d, 200))
                .filter(|d| !d.is_empty()),
        });
    }
    if !(200..300).contains(&reply.status) {
        return Err(OAuthError::BadAnswer {
            what: endpoint.what,
            host: endpoint.host(),
            status: reply.status,
            reason: "an error without an OAuth error code".into(),
        });
    }
    Ok(fields)
}

/// A number field of `reply`, whether it is an answer or an error (`interval` of `slow_down`).
pub(super) fn number_in(reply: &Reply, key: &str) -> Option<u64> {
    decode(reply).ok()?.number(key)
}

fn decode(reply: &Reply) -> Result<Fields, String> {
    let body = &reply.body.0;
    let text = std::str::from_utf8(body).map_err(|_| "a body that is not UTF-8".to_owned())?;
    let trimmed = text.trim_start();
    if trimmed.starts_with('{') {
        return json(trimmed);
    }
    if reply.content_type.contains("json") {
        return Err(describe(reply, text));
    }
    let form_like = !trimmed.is_empty()
        && !trimmed.starts_with('<')
        && trimmed.split('&').all(|kv| {
            kv.split_once('=').is_some_and(|(k, _)| {
                !k.is_empty()
                    && k.bytes()
                        .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-')
            })
        });
    if reply.content_type == "application/x-www-form-urlencoded" || form_like {
        return form(trimmed.trim_end()).ok_or_else(|| describe(reply, text));
    }
    Err(describe(reply, text))
}

/// What a body that is neither JSON nor a form looks like, without quoting it.
fn describe(reply: &Reply, text: &str) -> String {
    let lower = text
        .trim_start()
        .get(..200)
        .unwrap_or(text)
        .to_ascii_lowercase();
    let kind = if lower.starts_with("<!doctype html") || lower.starts_with("<html") {
        "an HTML page".to_owned()
    } else if text.trim().is_empty() {
        "an empty body".to_owned()
    } else if reply.content_type.is_empty() {
        "a body that is neither JSON nor a form".to_owned()
    } else {
        format!("{} that is not valid JSON", reply.content_type)
    };
    format!("{kind} instead of an OAuth answer (is this the right URL, or a proxy's page?)")
}

fn json(text: &str) -> Result<Fields, String> {
    let value: serde_json::Value =
        serde_json::from_str(text).map_err(|_| "JSON that does not parse".to_owned())?;
    let serde_json::Value::Object(map) = value else {
        return Err("JSON that is not an object".into());
    };
    let mut pairs = Vec::new();
    for (key, value) in map {
        let value = match value {
            serde_json::Value::String(s) => s,
            serde_json::Value::Number(n) => n.to_string(),
            serde_json::Value::Bool(b) => b.to_string(),
            _ => continue,
        };
        pairs.push((key, Secret::new(value)));
    }
    Ok(Fields { pairs })
}

fn form(text: &str) -> Option<Fields> {
    let mut pairs = Vec::new();
    for kv in text.split('&').filter(|kv| !kv.is_empty()) {
        let (k, v) = kv.split_once('=')?;
        pairs.push((percent_decode(k)?, Secret::new(percent_decode(v)?)));
    }
    Some(Fields { pairs })
}

fn percent_decode(s: &str) -> Option<String> {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'+' => out.push(b' '),
            b'%' => {
                let hex = std::str::from_utf8(bytes.get(i + 1..i + 3)?).ok()?;
                out.push(u8::from_str_radix(hex, 16).ok()?);
                i += 2;
            }
            b => out.push(b),
        }
        i += 1;
    }
    String::from_utf8(out).ok()
}

/// Control characters become spaces, runs of spaces one, and at most `max` characters remain.
pub(super) fn one_line(text: &str, max: usize) -> String {
    let cleaned: String = text
        .chars()
        .map(|c| if c.is_control() { ' ' } else { c })
        .collect();
    let mut words = cleaned.split_whitespace().collect::<Vec<_>>().join(" ");
    if words.chars().count() > max {
        words = words.chars().take(max).collect::<String>() + "…";
    }
    words
}
