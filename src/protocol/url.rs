//! `url=` expansion, as git's `credential_from_url` does it: `proto://[user[:pass]@]host[:port][/path]`,
//! a `?` or `#` also ends the host, components are percent-decoded, the path loses its leading and
//! trailing slashes.

use super::line::{ProtocolError, forbidden_char};
use crate::secret::Secret;

#[derive(Debug, Default)]
pub struct UrlParts {
    pub protocol: String,
    pub host: String,
    pub path: Option<String>,
    pub username: Option<String>,
    pub password: Option<Secret>,
}

fn bad(reason: &str) -> ProtocolError {
    ProtocolError::BadUrl {
        reason: reason.to_owned(),
    }
}

/// Percent-decodes like git's `url_decode_mem`: invalid escapes stay as they are.
fn decode(part: &str, what: &'static str) -> Result<String, ProtocolError> {
    let bytes = part.as_bytes();
    let hex = |b: u8| (b as char).to_digit(16);
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%'
            && i + 2 < bytes.len()
            && let (Some(h), Some(l)) = (hex(bytes[i + 1]), hex(bytes[i + 2]))
        {
            out.push((h * 16 + l) as u8);
            i += 3;
            continue;
        }
        out.push(bytes[i]);
        i += 1;
    }
    let s = String::from_utf8(out).map_err(|_| bad(&format!("its {what} is not valid UTF-8")))?;
    if let Some(c) = forbidden_char(&s) {
        return Err(bad(&format!("its {what} contains a {c}")));
    }
    Ok(s)
}

pub fn parse_url(url: &str) -> Result<UrlParts, ProtocolError> {
    let (proto, rest) = url
        .split_once("://")
        .ok_or_else(|| bad("it has no scheme (expected scheme://host/...)"))?;
    if proto.is_empty() {
        return Err(bad("it has no scheme (expected scheme://host/...)"));
    }
    let end = rest.find(['/', '?', '#']).unwrap_or(rest.len());
    let (authority, tail) = rest.split_at(end);
    // git takes the first '@' (and the first ':' before it) as the end of the user info.
    let (userinfo, host) = match authority.find('@') {
        Some(at) => (Some(&authority[..at]), &authority[at + 1..]),
        None => (None, authority),
    };
    let mut parts = UrlParts {
        protocol: proto.to_owned(),
        host: decode(host, "host")?,
        ..Default::default()
    };
    if let Some(info) = userinfo {
        match info.split_once(':') {
            Some((user, pass)) => {
                parts.username = Some(decode(user, "username")?);
                parts.password = Some(Secret::new(decode(pass, "password")?));
            }
            None => parts.username = Some(decode(info, "username")?),
        }
    }
    let path = tail.trim_start_matches('/');
    if !path.is_empty() {
        let decoded = decode(path, "path")?;
        let trimmed = decoded.trim_end_matches('/');
        // git keeps a lone "/" only when the path was all slashes, which the trim above already removed.
        parts.path = Some(if trimmed.is_empty() {
            decoded[..1].to_owned()
        } else {
            trimmed.to_owned()
        });
    }
    Ok(parts)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn expands_every_part_like_git() {
        let p = parse_url("https://alice:s%40cret@Git.Example.com:8443/group/repo.git/").unwrap();
        assert_eq!(p.protocol, "https");
        assert_eq!(p.host, "Git.Example.com:8443");
        assert_eq!(p.path.as_deref(), Some("group/repo.git"));
        assert_eq!(p.username.as_deref(), Some("alice"));
        assert_eq!(p.password.unwrap().expose(), "s@cret");
    }

    #[test]
    fn query_and_fragment_end_the_host() {
        let p = parse_url("https://h.example?go-get=1").unwrap();
        assert_eq!(p.host, "h.example");
        assert_eq!(p.path.as_deref(), Some("?go-get=1"));
        let p = parse_url("https://h.example/a/b?go-get=1").unwrap();
        assert_eq!(p.path.as_deref(), Some("a/b?go-get=1"));
    }

    #[test]
    fn no_path_and_user_only() {
        let p = parse_url("https://bob@h.example").unwrap();
        assert_eq!(p.username.as_deref(), Some("bob"));
        assert!(p.password.is_none());
        assert!(p.path.is_none());
        assert!(parse_url("https://h.example///").unwrap().path.is_none());
    }

    #[test]
    fn invalid_escapes_stay_literal() {
        assert_eq!(
            parse_url("https://h/a%zz%4").unwrap().path.as_deref(),
            Some("a%zz%4")
        );
    }

    #[test]
    fn refuses_missing_scheme_and_encoded_newlines() {
        assert!(matches!(
            parse_url("h.example/path"),
            Err(ProtocolError::BadUrl { .. })
        ));
        assert!(matches!(
            parse_url("://h.example"),
            Err(ProtocolError::BadUrl { .. })
        ));
        assert!(matches!(
            parse_url("https://h%0a.example/"),
            Err(ProtocolError::BadUrl { .. })
        ));
        assert!(matches!(
            parse_url("https://h/x%0d%0ahost=evil"),
            Err(ProtocolError::BadUrl { .. })
        ));
        assert!(matches!(
            parse_url("https://u%00:p@h/"),
            Err(ProtocolError::BadUrl { .. })
        ));
    }
}
